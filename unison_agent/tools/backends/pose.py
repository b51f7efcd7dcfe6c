"""Pose control maps from ordinary pictures and clips: ViTPose keypoints drawn as an OpenPose skeleton.

VACE was trained on pose maps made by its DWPose annotator: the 18 OpenPose body points, limbs as filled
ellipses at 60 % brightness, joints as full-colour dots, on black, drawn on a canvas whose short side is 1024
pixels and then resized to the frame. :func:`draw_skeleton` draws the same way. ViTPose predicts the 17 COCO
keypoints; OpenPose's neck, which COCO lacks, is the midpoint of the shoulders.

Limitation: ViTPose is top-down. It finds the keypoints of *one* person inside a box that a person detector
would give, and there is no detector here, so the whole frame is that box. The map is right for one person who
roughly fills the picture; with several people, or a small figure in a wide scene, the skeleton is a guess.

The image processor's crop and heatmap decoding need SciPy, which this project does not depend on, so both are
redone here with the same arithmetic: the crop with Pillow (the processor's affine map), the decoding in NumPy
(argmax refined by DARK). The processor still rescales and normalises the crops, from its saved config.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from PIL import Image, ImageDraw

from unison_agent.tools.backends import Offload, PoseOptions
from unison_agent.tools.backends.torch_env import load_or_explain, resolve_device, resolve_dtype

__all__ = ["COCO_KEYPOINTS", "PoseBackend", "PoseOptions", "build_tiny", "draw_skeleton"]


COCO_KEYPOINTS = (
    "nose",
    "left_eye",
    "right_eye",
    "left_ear",
    "right_ear",
    "left_shoulder",
    "right_shoulder",
    "left_elbow",
    "right_elbow",
    "left_wrist",
    "right_wrist",
    "left_hip",
    "right_hip",
    "left_knee",
    "right_knee",
    "left_ankle",
    "right_ankle",
)
"""The 17 keypoints ViTPose predicts, in its (COCO's) order: the rows of :func:`draw_skeleton`'s keypoints."""

# OpenPose's 18 body points as indices into COCO's 17; None is the neck, made from the two shoulders.
_OPENPOSE_FROM_COCO: tuple[int | None, ...] = (0, None, 6, 8, 10, 5, 7, 9, 12, 14, 16, 11, 13, 15, 2, 1, 4, 3)
_SHOULDERS = (5, 6)
# OpenPose's limbs (pairs of its points) in its drawing order; limb i and point i share colour i.
_LIMBS = (
    (1, 2),
    (1, 5),
    (2, 3),
    (3, 4),
    (5, 6),
    (6, 7),
    (1, 8),
    (8, 9),
    (9, 10),
    (1, 11),
    (11, 12),
    (12, 13),
    (1, 0),
    (0, 14),
    (14, 16),
    (0, 15),
    (15, 17),
)
_COLOURS = (
    (255, 0, 0),
    (255, 85, 0),
    (255, 170, 0),
    (255, 255, 0),
    (170, 255, 0),
    (85, 255, 0),
    (0, 255, 0),
    (0, 255, 85),
    (0, 255, 170),
    (0, 255, 255),
    (0, 170, 255),
    (0, 85, 255),
    (0, 0, 255),
    (85, 0, 255),
    (170, 0, 255),
    (255, 0, 255),
    (255, 0, 170),
    (255, 0, 85),
)
# VACE's annotator draws at this short side with 4-pixel half-widths and dot radii, then resizes to the frame:
# drawing the same way keeps strokes as thick, relative to the frame, as in VACE's training maps.
_CANVAS_SHORT_SIDE = 1024
_STICK = 4
_DIM = [int(v * 0.6) for v in range(256)]  # OpenPose's limb brightness, as a lookup table for Image.point
_BOX_PADDING = 1.25  # ViTPose's crop: the person box grown by a quarter, as in training
_BATCH = 16  # frames per forward pass: a clip's frames share one call, memory stays small


class PoseBackend:
    """A loaded ViTPose model (``usyd-community/vitpose-base-simple`` by default). Build it with :meth:`load`."""

    def __init__(self, model: Any, processor: Any, device: torch.device, dtype: torch.dtype, min_score: float) -> None:
        self.model = model
        self.processor = processor
        self.device = device
        self.dtype = dtype
        self.min_score = min_score
        size = processor.size
        self.input_size = (int(size["width"]), int(size["height"]))

    @classmethod
    def load(
        cls, model: str, *, options: PoseOptions, device: str, dtype: str, offload: Offload, profile_key: str = ""
    ) -> PoseBackend:
        """Load the model and its image processor. ``offload`` is ignored: ViTPose-B is ~350 MB.

        Raises ModelUnavailableError when the folder or id holds no ViTPose model with the 17 COCO keypoints.
        """
        from transformers import AutoConfig, AutoImageProcessor, VitPoseForPoseEstimation

        dev = resolve_device(device)
        dt = resolve_dtype(dtype, dev)

        def _load(path: str) -> tuple[Any, Any]:
            # Checked first: from_pretrained would build a random-weight ViTPose out of another model's folder.
            config: Any = AutoConfig.from_pretrained(path)
            if config.model_type != "vitpose":
                raise ValueError(f"it holds a {config.model_type!r} model, not ViTPose ('vitpose')")
            if config.num_labels < len(COCO_KEYPOINTS):
                raise ValueError(f"it predicts {config.num_labels} keypoints, not the 17 COCO body keypoints")
            net: Any = VitPoseForPoseEstimation.from_pretrained(path)
            return net.to(dev, dt).eval(), AutoImageProcessor.from_pretrained(path)

        net, processor = load_or_explain(model, "pose", _load)
        return cls(net, processor, dev, dt, options.min_score)

    def extract(self, frames: list[Image.Image]) -> list[Image.Image]:
        """OpenPose-style skeleton maps (RGB, black background), one per frame, each the size of its frame.

        Each frame is taken as one person's box (see the module's note); a frame with no keypoint scoring at
        least ``min_score`` gives an all-black map.
        """
        maps: list[Image.Image] = []
        for start in range(0, len(frames), _BATCH):
            chunk = [frame.convert("RGB") for frame in frames[start : start + _BATCH]]
            boxes = [_whole_frame_box(frame.size, self.input_size) for frame in chunk]
            crops = [_crop(frame, box, self.input_size) for frame, box in zip(chunk, boxes, strict=True)]
            coco_boxes = [[[0.0, 0.0, float(f.width), float(f.height)]] for f in chunk]
            inputs = self.processor(images=crops, boxes=coco_boxes, do_affine_transform=False, return_tensors="pt")
            pixels = inputs["pixel_values"].to(self.device, self.dtype)
            kwargs: dict[str, Any] = {}
            if getattr(self.model.config.backbone_config, "num_experts", 1) > 1:
                # ViTPose+ has one expert head per training data set; index 0 is COCO's.
                kwargs["dataset_index"] = torch.zeros(len(chunk), dtype=torch.long, device=self.device)
            with torch.inference_mode():
                heatmaps = self.model(pixel_values=pixels, **kwargs).heatmaps
            heat = heatmaps[:, : len(COCO_KEYPOINTS)].float().cpu().numpy()
            points, scores = _decode(heat, boxes)
            maps.extend(
                draw_skeleton(frame.size, [(p, s)], min_score=self.min_score)
                for frame, p, s in zip(chunk, points, scores, strict=True)
            )
        return maps


def draw_skeleton(
    size: tuple[int, int], people: Sequence[tuple[np.ndarray, np.ndarray]], *, min_score: float = 0.3
) -> Image.Image:
    """An OpenPose-style skeleton map of ``size`` (width, height): an RGB image, black where nothing is drawn.

    ``people`` holds one ``(keypoints, scores)`` pair per person: keypoints a (17, 2) array of x, y pixel
    positions in the frame, in :data:`COCO_KEYPOINTS` order; scores (17,). A keypoint scoring below
    ``min_score`` is left out with its limbs; points outside the frame are clipped.
    """
    width, height = size
    k = _CANVAS_SHORT_SIDE / min(width, height)
    # VACE's annotator rounds its canvas to multiples of 64; the resize below undoes the small stretch.
    cw, ch = max(64, round(width * k / 64) * 64), max(64, round(height * k / 64) * 64)
    scale = np.array([cw / width, ch / height])
    skeletons = [_openpose_points(np.asarray(p, dtype=np.float64) * scale, np.asarray(s), min_score) for p, s in people]
    if not any(p is not None for pts in skeletons for p in pts):
        return Image.new("RGB", size)  # nobody to draw: skip the large canvas

    canvas = Image.new("RGB", (cw, ch))
    draw = ImageDraw.Draw(canvas)
    for pts in skeletons:
        for limb, (a, b) in enumerate(_LIMBS):
            pa, pb = pts[a], pts[b]
            if pa is not None and pb is not None:
                draw.polygon(_limb_outline(pa, pb, _STICK), fill=_COLOURS[limb])
    # Limbs are dimmed (OpenPose's 0.6 blend) before the joints go on top at full colour.
    canvas = canvas.point(_DIM * 3)
    draw = ImageDraw.Draw(canvas)
    for pts in skeletons:
        for p, colour in zip(pts, _COLOURS, strict=True):
            if p is not None:
                x, y = int(p[0]), int(p[1])
                draw.ellipse((x - _STICK, y - _STICK, x + _STICK, y + _STICK), fill=colour)
    if (cw, ch) == (width, height):
        return canvas
    # Area averaging when shrinking, as VACE's annotator does (cv2.INTER_AREA): thin strokes fade, not vanish.
    shrinking = width * height < cw * ch
    return canvas.resize((width, height), Image.Resampling.BOX if shrinking else Image.Resampling.LANCZOS)


def build_tiny(path: Path) -> None:
    """Save a tiny random-weight ViTPose (17 COCO heatmaps, 64x48 input) and its image processor into ``path``.

    Deterministic under the caller's ``torch.manual_seed``; builds in well under a second.
    """
    from transformers import VitPoseBackboneConfig, VitPoseConfig, VitPoseForPoseEstimation, VitPoseImageProcessor

    # Passed as dicts: these kwargs are consumed by the configs' __post_init__, which their typed signatures omit.
    backbone_args: dict[str, Any] = {
        "image_size": [64, 48],
        "patch_size": [16, 16],
        "hidden_size": 32,
        "num_hidden_layers": 2,
        "num_attention_heads": 2,
        "mlp_ratio": 2,
        "out_indices": [2],  # the last layer feeds the heatmap head, as in the real model
    }
    labels: dict[str, Any] = {
        "id2label": dict(enumerate(COCO_KEYPOINTS)),
        "label2id": {name: i for i, name in enumerate(COCO_KEYPOINTS)},
    }
    config = VitPoseConfig(backbone_config=VitPoseBackboneConfig(**backbone_args), **labels)
    VitPoseForPoseEstimation(config).save_pretrained(path)
    VitPoseImageProcessor(size={"height": 64, "width": 48}).save_pretrained(path)


# ------------------------------------------------------------------------------------------------ helpers
def _whole_frame_box(frame: tuple[int, int], input_size: tuple[int, int]) -> tuple[float, float, float, float]:
    """ViTPose's crop of a whole-frame person box: centre x, y and width, height in frame pixels.

    As the processor's ``box_to_center_and_scale``: the box is widened to the model's aspect ratio, then padded.
    """
    w, h = frame
    aspect = input_size[0] / input_size[1]
    bw, bh = (float(w), w / aspect) if w > aspect * h else (h * aspect, float(h))
    return w / 2, h / 2, bw * _BOX_PADDING, bh * _BOX_PADDING


def _crop(frame: Image.Image, box: tuple[float, float, float, float], input_size: tuple[int, int]) -> Image.Image:
    """The model input: ``box`` of ``frame`` warped to ``input_size``, black outside the frame.

    The processor's (and mmpose's) "unbiased" warp maps the box's edges to pixel centres 0 and size - 1.
    """
    cx, cy, bw, bh = box
    ax, ay = bw / (input_size[0] - 1), bh / (input_size[1] - 1)
    bx, by = cx - bw / 2, cy - bh / 2
    # Pillow maps output pixel centres (x + 0.5) to input positions whose pixel centres are at i + 0.5, while
    # the matrix above works on pixel indices: shift by half a pixel on both sides.
    data = (ax, 0.0, bx + 0.5 - 0.5 * ax, 0.0, ay, by + 0.5 - 0.5 * ay)
    return frame.transform(input_size, Image.Transform.AFFINE, data, Image.Resampling.BILINEAR)


def _decode(heat: np.ndarray, boxes: list[tuple[float, float, float, float]]) -> tuple[np.ndarray, np.ndarray]:
    """Keypoints (n, k, 2) in frame pixels and their scores (n, k) from heatmaps (n, k, h, w).

    The processor's decoding, without SciPy: the argmax refined by DARK (Zhang et al., CVPR 2020), which fits a
    Gaussian to the log of the smoothed heatmap around the peak; a heatmap pixel spans ~20 frame pixels at 480p.
    """
    n, k, h, w = heat.shape
    flat = heat.reshape(n, k, h * w)
    scores = flat.max(axis=2)
    ys, xs = np.divmod(flat.argmax(axis=2), w)
    logs = np.pad(np.log(np.clip(_blur(heat), 0.001, 50)), ((0, 0), (0, 0), (1, 1), (1, 1)), mode="edge")
    ii, kk = np.indices((n, k))

    def at(dy: int, dx: int) -> np.ndarray:
        return logs[ii, kk, ys + 1 + dy, xs + 1 + dx]

    centre = at(0, 0)
    gx, gy = 0.5 * (at(0, 1) - at(0, -1)), 0.5 * (at(1, 0) - at(-1, 0))
    eps = float(np.finfo(np.float32).eps)  # as the processor: keeps a flat peak's Hessian invertible
    hxx = at(0, 1) - 2 * centre + at(0, -1) + eps
    hyy = at(1, 0) - 2 * centre + at(-1, 0) + eps
    hxy = 0.5 * (at(1, 1) - at(0, 1) - at(1, 0) + 2 * centre - at(0, -1) - at(-1, 0) + at(-1, -1))
    det = hxx * hyy - hxy * hxy
    with np.errstate(divide="ignore", invalid="ignore"):
        step_x = (hyy * gx - hxy * gy) / det
        step_y = (hxx * gy - hxy * gx) / det
    # The true peak is within a pixel of the argmax; a larger step (a saddle, untrained weights) is noise.
    x = xs - np.clip(np.nan_to_num(step_x, nan=0.0, posinf=0.0, neginf=0.0), -1, 1)
    y = ys - np.clip(np.nan_to_num(step_y, nan=0.0, posinf=0.0, neginf=0.0), -1, 1)
    b = np.asarray(boxes, dtype=np.float64)[:, None, :]  # (n, 1, 4): cx, cy, bw, bh
    # The unbiased warp in reverse: heatmap pixels 0 and size - 1 are the box's edges.
    px = x * b[..., 2] / max(w - 1, 1) + b[..., 0] - b[..., 2] / 2
    py = y * b[..., 3] / max(h - 1, 1) + b[..., 1] - b[..., 3] / 2
    return np.stack([px, py], axis=-1), scores


def _blur(heat: np.ndarray, sigma: float = 0.8, radius: int = 5) -> np.ndarray:
    """Gaussian smoothing of the last two axes, as SciPy's ``gaussian_filter`` (mirrored edges) in the processor."""
    taps = np.exp(-0.5 * (np.arange(-radius, radius + 1) / sigma) ** 2)
    taps /= taps.sum()
    h, w = heat.shape[-2:]
    padded = np.pad(heat.astype(np.float64), ((0, 0), (0, 0), (radius, radius), (radius, radius)), mode="symmetric")
    rows = sum(t * padded[:, :, i : i + h, :] for i, t in enumerate(taps))
    return np.asarray(sum(t * rows[:, :, :, i : i + w] for i, t in enumerate(taps)))


def _openpose_points(coco: np.ndarray, scores: np.ndarray, min_score: float) -> list[tuple[float, float] | None]:
    """The 18 OpenPose points from 17 COCO keypoints; None for a point scored below ``min_score``."""
    seen = [bool(s >= min_score) and bool(np.isfinite(p).all()) for p, s in zip(coco, scores, strict=True)]
    points: list[tuple[float, float] | None] = []
    for index in _OPENPOSE_FROM_COCO:
        if index is None:
            left, right = _SHOULDERS
            neck = (coco[left] + coco[right]) / 2
            points.append((float(neck[0]), float(neck[1])) if seen[left] and seen[right] else None)
        else:
            points.append((float(coco[index][0]), float(coco[index][1])) if seen[index] else None)
    return points


def _limb_outline(a: tuple[float, float], b: tuple[float, float], half_width: float) -> list[tuple[float, float]]:
    """A limb as OpenPose draws it: an ellipse from ``a`` to ``b``, ``half_width`` thick on each side."""
    mx, my = (a[0] + b[0]) / 2, (a[1] + b[1]) / 2
    half_length = math.hypot(b[0] - a[0], b[1] - a[1]) / 2
    angle = math.atan2(b[1] - a[1], b[0] - a[0])
    ca, sa = math.cos(angle), math.sin(angle)
    outline = []
    for step in range(36):
        t = math.radians(step * 10)
        u, v = half_length * math.cos(t), half_width * math.sin(t)
        outline.append((mx + u * ca - v * sa, my + u * sa + v * ca))
    return outline
