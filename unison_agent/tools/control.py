"""Control signals that need no model weights: Canny edges, grey-scale frames and scribbles.

VACE follows a control map frame by frame. A user either attaches a ready map (a skeleton video, a depth map,
an edge map, a scribble) or an ordinary photo or clip to extract one from. :func:`is_ready_map` tells the two
apart from the attachment's :class:`~unison_agent.media.Look`; :func:`as_control_map` normalises a ready map the
way VACE expects it; :func:`extract` makes one from ordinary frames for the types in :data:`WEIGHTLESS`.
Pose, depth and flow need networks and are extracted elsewhere.

Everything here is NumPy and Pillow only, so that it runs (and is tested) without torch, SciPy or OpenCV.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
from PIL import Image, ImageFilter, ImageOps

from unison_agent.media import Look
from unison_agent.spec import ControlType

__all__ = [
    "LOOK_FOR",
    "WEIGHTLESS",
    "as_control_map",
    "canny",
    "extract",
    "gray",
    "is_grey",
    "is_ready_map",
    "scribble",
]

LOOK_FOR: dict[ControlType, Look] = {
    ControlType.POSE: Look.POSE,
    ControlType.DEPTH: Look.DEPTH,
    ControlType.CANNY: Look.EDGE,
    ControlType.SCRIBBLE: Look.SCRIBBLE,
}
"""The :class:`Look` a ready-made map of each control type has. Flow, gray and layout have no look of their own."""

WEIGHTLESS: frozenset[ControlType] = frozenset({ControlType.CANNY, ControlType.GRAY, ControlType.SCRIBBLE})
"""Control types :func:`extract` can make from ordinary frames, without a model."""

_CONTROL_LOOKS = frozenset(LOOK_FOR.values())

_BLUR = 1.0  # Gaussian sigma before Canny: enough to silence JPEG and sensor noise, little enough to keep detail
_TAN_22_5 = math.tan(math.pi / 8)  # bounds of the four quantised gradient directions
_GREY_THUMB = 64  # is_grey looks at a thumbnail this many pixels on its long side
_GREY_CHROMA = 20  # a pixel whose channels differ by more than this is coloured (JPEG/4:2:0 chroma noise is less)

_SCRIBBLE_WORK = 1280  # scribbles are traced on a copy no longer than this (wider frames are reduced first)
_SCRIBBLE_FLOOR = 40.0  # the least gradient (Sobel scale) that may start a stroke: below it is shading, not a contour
_SCRIBBLE_PERCENTILE = 90  # strokes start at the strongest 10 % of gradients: the main contours, not texture


# ---------------------------------------------------------------------------------------------- ready maps


def is_ready_map(control_type: ControlType | None, look: Look, *, is_grey: bool = False) -> bool:
    """Say whether an attachment can be the control signal as it is, without extraction.

    ``look`` is the attachment's :class:`Look` (from :func:`unison_agent.media.probe`) and ``is_grey`` whether
    its pixels are grey-scale (:func:`is_grey`). Returns True when:

    - ``control_type`` is None (not said) and the file looks like any control map (pose, depth, edge, scribble);
      a photo or a mask is not one, and the caller picks a default type to extract or gives up;
    - ``control_type`` is gray and the file is already grey-scale;
    - otherwise, the look is the one a map of ``control_type`` has (:data:`LOOK_FOR`). Flow and layout maps
      have no recognisable look, so they are never ready. Raises nothing.
    """
    if control_type is None:
        return look in _CONTROL_LOOKS
    if control_type == ControlType.GRAY:
        return is_grey
    return LOOK_FOR.get(ControlType(control_type)) == look


def is_grey(image: Image.Image) -> bool:
    """Return True when the picture is grey-scale: its channels are (nearly) equal in (nearly) every pixel.

    Measured on a thumbnail of about 64 pixels, where averaging hides JPEG and 4:2:0 chroma noise. Images in a
    single-channel mode are grey by construction. The image is not modified. Raises nothing for any mode.
    """
    if image.mode in ("1", "L", "LA", "La", "I", "F") or image.mode.startswith("I;"):
        return True
    if image.width == 0 or image.height == 0:
        return True
    factor = max(1, max(image.size) // _GREY_THUMB)
    a = np.asarray(_rgb(image).reduce(factor), dtype=np.int16)
    chroma = a.max(axis=2) - a.min(axis=2)
    return bool(np.count_nonzero(chroma > _GREY_CHROMA) <= 0.01 * chroma.size)


def as_control_map(image: Image.Image, look: Look) -> Image.Image:
    """Return a ready-made map as VACE wants it: a new RGB image of the same size.

    A user's scribble (:attr:`Look.SCRIBBLE`: dark strokes on white) is inverted to white strokes on black, the
    way VACE's scribble annotator draws them. Every other look (edge, pose, depth, or a grey photo used as a
    gray control) passes through as RGB. Transparent pixels are laid on black behind light strokes and on white
    behind dark ones, so a stroke-only PNG keeps its strokes. Raises nothing.
    """
    rgb = _rgb(image)
    if look == Look.SCRIBBLE:
        return ImageOps.invert(rgb)
    return rgb.copy() if rgb is image else rgb


# ---------------------------------------------------------------------------------------------- extractors


def canny(image: Image.Image, *, low: float = 100, high: float = 200) -> Image.Image:
    """Return the Canny edge map of ``image``: an RGB image of the same size, white one-pixel edges on black.

    The picture is turned to grey, blurred (Gaussian, sigma 1), differentiated with 3x3 Sobel kernels, thinned
    by non-maximum suppression along the gradient direction (quantised to 0, 45, 90 and 135 degrees), then
    thresholded with hysteresis: pixels whose gradient magnitude (sqrt(gx² + gy²), on OpenCV's Sobel scale) is
    above ``high`` are edges, and those above ``low`` are edges when connected (8-neighbour) to one.
    Raises ValueError when ``low`` is negative or above ``high``.
    """
    if low < 0 or low > high:
        raise ValueError(f"canny thresholds must satisfy 0 <= low <= high, got low={low}, high={high}")
    rgb = _rgb(image)
    if rgb.width == 0 or rgb.height == 0:
        return Image.new("RGB", rgb.size)
    grey = np.asarray(rgb.convert("L").filter(ImageFilter.GaussianBlur(_BLUR)), dtype=np.float32)
    gx, gy, mag = _sobel(grey)
    thin = _non_maximum(gx, gy, mag) & (mag > low)
    return _white_on_black(_hysteresis(thin, mag > high))


def gray(image: Image.Image) -> Image.Image:
    """Return the luminance of ``image`` (ITU-R 601 weights) repeated in three channels: an RGB image, same size.

    This is VACE's colourisation control: the model keeps the light and shade and chooses the colours.
    Raises nothing.
    """
    return _rgb(image).convert("L").convert("RGB")


def scribble(image: Image.Image) -> Image.Image:
    """Return a sketch of ``image``: thick, simplified contours as white strokes on black, RGB, same size.

    The main contours are traced by Canny on a strongly blurred copy (sigma grows with the picture, about 3 at
    832 pixels), with thresholds that follow the picture's own contrast (the strongest 10 % of gradients start a
    stroke, half that continues one) and strokes shorter than about 1/48 of the long side dropped; the lines are
    then widened to about 3 pixels. Pictures longer than 1280 pixels are traced at a reduced size, so their
    strokes are proportionally wider. A flat picture gives an all-black map. Raises nothing.
    """
    rgb = _rgb(image)
    w, h = rgb.size
    if w == 0 or h == 0:
        return Image.new("RGB", rgb.size)
    factor = max(1, math.ceil(max(w, h) / _SCRIBBLE_WORK))
    small = rgb.reduce(factor) if factor > 1 else rgb
    long_side = max(small.size)
    # A blur that grows with the picture keeps only shapes, not texture, whatever the resolution.
    grey = small.convert("L").filter(ImageFilter.GaussianBlur(max(2.0, long_side / 280)))
    gx, gy, mag = _sobel(np.asarray(grey, dtype=np.float32))
    high = max(_SCRIBBLE_FLOOR, float(np.percentile(mag[::2, ::2], _SCRIBBLE_PERCENTILE)))
    thin = _non_maximum(gx, gy, mag) & (mag > high / 2)
    lines = _hysteresis(thin, mag > high, min_size=max(8, long_side // 48))
    strokes = Image.fromarray(lines.astype(np.uint8) * 255).filter(ImageFilter.MaxFilter(3))
    if factor > 1:
        # Bilinear then a mid threshold keeps the widened strokes smooth instead of blocky.
        strokes = strokes.resize((w, h), Image.Resampling.BILINEAR).point(lambda v: 255 if v >= 128 else 0)
    return strokes.convert("RGB")


_EXTRACTORS: dict[ControlType, Callable[[Image.Image], Image.Image]] = {
    ControlType.CANNY: canny,
    ControlType.GRAY: gray,
    ControlType.SCRIBBLE: scribble,
}


def extract(control_type: ControlType, frames: list[Image.Image]) -> list[Image.Image]:
    """Make the ``control_type`` map of every frame: a list of RGB images, one per frame, each of its frame's size.

    Only the types in :data:`WEIGHTLESS` (canny, gray, scribble) are made here. Raises ValueError naming the type
    for any other (pose, depth, flow, layout need a model-backed extractor, which the caller routes to), and for
    a string that is not a control type.
    """
    kind = ControlType(control_type)
    extractor = _EXTRACTORS.get(kind)
    if extractor is None:
        raise ValueError(f"control_type {kind.value} needs a model-backed extractor")
    if kind is ControlType.CANNY and frames:
        # Fixed thresholds (100/200) find nothing in a soft or dim picture; take them from the clip's own
        # contrast instead, once for the whole clip so that an edge means the same thing in every frame.
        low, high = canny_thresholds(frames[0])
        return [canny(frame, low=low, high=high) for frame in frames]
    return [extractor(frame) for frame in frames]


def canny_thresholds(image: Image.Image) -> tuple[float, float]:
    """Canny thresholds that follow ``image``'s contrast: ``high`` is the 90th percentile of the blurred
    gradient magnitude (at least 40, at most 200: a sharp picture keeps the usual 100/200), ``low`` half of it."""
    grey = np.asarray(_rgb(image).convert("L").filter(ImageFilter.GaussianBlur(_BLUR)), dtype=np.float32)
    if grey.size == 0:
        return 100.0, 200.0
    _gx, _gy, mag = _sobel(grey)
    high = min(200.0, max(_SCRIBBLE_FLOOR, float(np.percentile(mag, 90))))
    return high / 2, high


# ---------------------------------------------------------------------------------------------- internals


def _rgb(image: Image.Image) -> Image.Image:
    """``image`` as RGB (the same object when it already is). Transparency is flattened onto black when the
    visible pixels are light and onto white when they are dark; 16-bit and float images are stretched to 0-255."""
    if image.mode == "RGB":
        return image
    if image.mode in ("I", "F") or image.mode.startswith("I;"):
        # 16-bit depth maps are common; Pillow's own conversion would clip them to white.
        a = np.asarray(image, dtype=np.float64)
        lo, hi = (float(a.min()), float(a.max())) if a.size else (0.0, 0.0)
        scaled = (a - lo) * (255.0 / (hi - lo)) if hi > lo else np.zeros_like(a)
        return Image.fromarray(scaled.round().astype(np.uint8)).convert("RGB")
    if image.mode in ("RGBA", "RGBa", "LA", "La", "PA") or (image.mode == "P" and "transparency" in image.info):
        a = np.asarray(image.convert("RGBA"), dtype=np.float32)
        alpha = a[..., 3:] / 255.0
        colour = a[..., :3]
        visible = alpha[..., 0] > 0.5
        light = bool(visible.any()) and float(colour[visible].mean()) > 127
        out = colour * alpha + (0.0 if light else 255.0) * (1.0 - alpha)
        return Image.fromarray(out.round().astype(np.uint8))
    return image.convert("RGB")


def _sobel(grey: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """3x3 Sobel derivatives (x to the right, y downwards) and their magnitude, float32; borders replicated."""
    p = np.pad(grey, 1, mode="edge")
    # Separable: smooth across, difference along (each kernel is [1, 2, 1] x [-1, 0, 1]).
    smooth_y = p[:-2] + 2 * p[1:-1] + p[2:]
    gx = smooth_y[:, 2:] - smooth_y[:, :-2]
    diff_y = p[2:] - p[:-2]
    gy = diff_y[:, :-2] + 2 * diff_y[:, 1:-1] + diff_y[:, 2:]
    return gx, gy, np.sqrt(gx * gx + gy * gy)


def _non_maximum(gx: np.ndarray, gy: np.ndarray, mag: np.ndarray) -> np.ndarray:
    """True where the magnitude is a local maximum across the edge, i.e. along the quantised gradient direction.

    Ties go to one side only (strictly greater than the left/upper neighbour, at least the right/lower one, as
    OpenCV does), so a symmetric ridge two pixels wide still gives a one-pixel line.
    """
    p = np.pad(mag, 1)
    ax, ay = np.abs(gx), np.abs(gy)
    horizontal = ay <= _TAN_22_5 * ax  # the gradient points left/right: the edge runs up/down
    vertical = ax <= _TAN_22_5 * ay
    falling = (gx > 0) == (gy > 0)  # gradient towards down-right (or up-left) in image coordinates
    along_x = (mag > p[1:-1, :-2]) & (mag >= p[1:-1, 2:])
    along_y = (mag > p[:-2, 1:-1]) & (mag >= p[2:, 1:-1])
    along_falling = (mag > p[:-2, :-2]) & (mag > p[2:, 2:])
    along_rising = (mag > p[:-2, 2:]) & (mag > p[2:, :-2])
    diagonal = np.where(falling, along_falling, along_rising)
    return np.where(horizontal, along_x, np.where(vertical, along_y, diagonal))


_NEIGHBOURS = ((-1, -1), (-1, 0), (-1, 1), (0, -1), (0, 1), (1, -1), (1, 0), (1, 1))


def _hysteresis(candidates: np.ndarray, strong: np.ndarray, min_size: int = 1) -> np.ndarray:
    """The ``candidates`` pixels whose 8-connected component (among candidates) holds a ``strong`` candidate
    and has at least ``min_size`` pixels.

    Components are labelled on the candidate pixels only (a few percent of the frame) by min-label propagation
    with hooking and pointer jumping: each round, every pixel takes the least label among its neighbours, the
    root of its old label takes it too, and labels then jump to their roots. A long chain is labelled in a few
    rounds, where dilating the strong pixels step by step would take one round per pixel of its length.
    """
    h, w = candidates.shape
    ys, xs = np.nonzero(candidates)
    m = ys.size
    keep = np.zeros((h, w), dtype=bool)
    if m == 0:
        return keep
    index = np.full((h + 2, w + 2), -1, dtype=np.int64)
    ys1, xs1 = ys + 1, xs + 1
    own = np.arange(m, dtype=np.int64)
    index[ys1, xs1] = own
    neighbours = []
    for dy, dx in _NEIGHBOURS:
        n = index[ys1 + dy, xs1 + dx]
        present = n >= 0
        if present.any():
            neighbours.append(np.where(present, n, own))
    label = own
    while True:
        least = label
        for n in neighbours:
            least = np.minimum(least, label[n])
        new = least.copy()
        np.minimum.at(new, label, least)  # hook: every label is a root here, so this merges whole trees
        while True:
            jumped = new[new]
            if np.array_equal(jumped, new):
                break
            new = jumped
        if np.array_equal(new, label):
            break
        label = new
    good = np.zeros(m, dtype=bool)
    good[label[strong[ys, xs]]] = True
    if min_size > 1:
        good &= np.bincount(label, minlength=m) >= min_size
    keep[ys, xs] = good[label]
    return keep


def _white_on_black(edges: np.ndarray) -> Image.Image:
    """An RGB image, white where ``edges`` is True and black elsewhere."""
    return Image.fromarray(edges.astype(np.uint8) * 255).convert("RGB")
