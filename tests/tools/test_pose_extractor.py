"""The pose extractor: a tiny random-weight ViTPose loaded through ``from_pretrained``, and the skeleton drawing.

Random weights put keypoints anywhere, so the model tests check shapes, the black background and the score
threshold; where the limbs go and what colour they are is checked on hand-made keypoints.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image, ImageDraw

from unison_agent.media import Look, classify_look
from unison_agent.tools import ModelUnavailableError
from unison_agent.tools.backends import Offload, PoseOptions
from unison_agent.tools.backends.pose import COCO_KEYPOINTS, PoseBackend, build_tiny, draw_skeleton


@pytest.fixture(scope="module")
def tiny_pose(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("tiny-pose")
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        build_tiny(path)
    return path


def _load(path: Path, **options: float) -> PoseBackend:
    return PoseBackend.load(str(path), options=PoseOptions(**options), device="cpu", dtype="auto", offload=Offload())


def _frames() -> list[Image.Image]:
    rng = np.random.default_rng(0)
    y, x = np.mgrid[0:64, 0:96]
    gradient = Image.fromarray(np.stack([x * 2, y * 3, 255 - x * 2], -1).astype(np.uint8))
    noise = Image.fromarray(rng.integers(0, 256, (120, 72, 3), dtype=np.uint8))
    shapes = Image.new("RGBA", (80, 80), (30, 120, 40, 255))  # not RGB: the extractor converts it
    ImageDraw.Draw(shapes).ellipse((20, 10, 60, 70), fill=(240, 200, 180, 255))
    return [gradient, noise, shapes]


# A person standing, facing the camera, in an 832x480 frame: their right side is on the picture's left.
_STANDING = {
    "nose": (416, 80),
    "left_eye": (426, 70),
    "right_eye": (406, 70),
    "left_ear": (438, 76),
    "right_ear": (394, 76),
    "left_shoulder": (456, 140),
    "right_shoulder": (376, 140),
    "left_elbow": (476, 200),
    "right_elbow": (356, 200),
    "left_wrist": (486, 260),
    "right_wrist": (346, 260),
    "left_hip": (440, 260),
    "right_hip": (392, 260),
    "left_knee": (444, 350),
    "right_knee": (388, 350),
    "left_ankle": (448, 440),
    "right_ankle": (384, 440),
}
_KEYPOINTS = np.array([_STANDING[name] for name in COCO_KEYPOINTS], dtype=np.float64)
_NECK = (_KEYPOINTS[5] + _KEYPOINTS[6]) / 2


def _limb_middle(a: str, b: str) -> tuple[int, int]:
    pa = _NECK if a == "neck" else _KEYPOINTS[COCO_KEYPOINTS.index(a)]
    pb = _NECK if b == "neck" else _KEYPOINTS[COCO_KEYPOINTS.index(b)]
    x, y = (pa + pb) / 2
    return round(x), round(y)


def test_tiny_model_builds_the_same_weights_from_the_same_seed(tiny_pose: Path, tmp_path: Path) -> None:
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        build_tiny(tmp_path)
    assert (tmp_path / "model.safetensors").read_bytes() == (tiny_pose / "model.safetensors").read_bytes()


def test_extract_gives_one_rgb_map_per_frame_at_its_size_on_black(tiny_pose: Path) -> None:
    frames = _frames()
    maps = _load(tiny_pose, min_score=0.0).extract(frames)
    assert len(maps) == 3
    for frame, pose_map in zip(frames, maps, strict=True):
        assert pose_map.mode == "RGB" and pose_map.size == frame.size
        lit = np.asarray(pose_map).max(axis=2) > 0
        assert lit.any()  # random weights still give keypoints, and min_score 0 draws them all
        assert lit.mean() < 0.5  # a skeleton, not a picture: most of the map stays black


def test_keypoints_scoring_below_min_score_are_not_drawn(tiny_pose: Path) -> None:
    maps = _load(tiny_pose, min_score=1.5).extract(_frames())
    assert [m.getextrema() for m in maps] == [((0, 0), (0, 0), (0, 0))] * 3


def test_skeleton_limbs_are_drawn_in_openpose_colours_where_the_keypoints_are() -> None:
    image = draw_skeleton((832, 480), [(_KEYPOINTS, np.ones(17))])
    a = np.asarray(image).astype(int)
    assert image.mode == "RGB" and image.size == (832, 480)
    # OpenPose's limb colours, dimmed to 60 %: red neck-right shoulder, yellow right
    # forearm, green neck-right hip, blue neck-nose...
    expected = {
        ("neck", "right_shoulder"): (153, 0, 0),
        ("neck", "left_shoulder"): (153, 51, 0),
        ("right_elbow", "right_wrist"): (153, 153, 0),
        ("left_elbow", "left_wrist"): (51, 153, 0),
        ("neck", "right_hip"): (0, 153, 0),
        ("right_knee", "right_ankle"): (0, 153, 102),
        ("left_knee", "left_ankle"): (0, 51, 153),
        ("neck", "nose"): (0, 0, 153),
        ("right_eye", "right_ear"): (102, 0, 153),
    }
    for (p, q), colour in expected.items():
        x, y = _limb_middle(p, q)
        assert np.abs(a[y, x] - colour).max() <= 12, (p, q, a[y, x].tolist())
    # Joints at full colour on top: the nose is red, the right ankle (OpenPose point 10) sky blue.
    assert np.abs(a[80, 416] - (255, 0, 0)).max() <= 12
    assert np.abs(a[440, 384] - (0, 170, 255)).max() <= 12
    # Black away from the figure, and thin strokes about 4 pixels wide at 480p (VACE's 8 px at 1024).
    assert a[:40].max() == 0 and a[:, :300].max() == 0 and a[:, 560:].max() == 0
    row = a[300, :, :].max(axis=1) > 0  # crosses the two thighs
    assert 4 <= row.sum() <= 14


def test_a_drawn_skeleton_is_recognised_as_a_pose_map() -> None:
    for size in ((832, 480), (480, 832), (1280, 720)):
        scale = np.array(size) / (832, 480)
        assert classify_look(draw_skeleton(size, [(_KEYPOINTS * scale, np.ones(17))])) is Look.POSE


def test_a_low_scoring_keypoint_is_left_out_with_its_limbs() -> None:
    scores = np.ones(17)
    scores[COCO_KEYPOINTS.index("right_wrist")] = 0.2
    a = np.asarray(draw_skeleton((832, 480), [(_KEYPOINTS, scores)], min_score=0.3))
    x, y = _limb_middle("right_elbow", "right_wrist")
    assert a[y, x].max() == 0 and a[260, 346].max() == 0
    x, y = _limb_middle("left_elbow", "left_wrist")
    assert a[y, x].max() > 0
    # The neck needs both shoulders: without one, the limbs from the neck are gone too.
    scores = np.ones(17)
    scores[COCO_KEYPOINTS.index("left_shoulder")] = 0.0
    a = np.asarray(draw_skeleton((832, 480), [(_KEYPOINTS, scores)]))
    x, y = _limb_middle("neck", "nose")
    assert a[y, x].max() == 0


@pytest.mark.parametrize("kind", ["empty", "other-model"])
def test_a_folder_without_a_vitpose_model_raises_model_unavailable_naming_it(tmp_path: Path, kind: str) -> None:
    folder = tmp_path / "not-a-pose-model"
    folder.mkdir()
    if kind == "other-model":
        from transformers import BertConfig

        BertConfig(hidden_size=8, num_hidden_layers=1, num_attention_heads=1, intermediate_size=8).save_pretrained(
            folder
        )
    with pytest.raises(ModelUnavailableError) as err:
        _load(folder)
    assert str(folder) in str(err.value) and "(pose)" in str(err.value)
    if kind == "other-model":
        assert "not ViTPose" in str(err.value)
