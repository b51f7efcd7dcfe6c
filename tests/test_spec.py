"""The TaskSpec contract: defaults, arithmetic, and validation messages that say what is allowed."""

from __future__ import annotations

import json

import pytest
from pydantic import ValidationError

from unison_agent.spec import (
    Role,
    Task,
    TaskSpec,
    duration_for_frames,
    explain,
    frames_for_duration,
    json_schema,
    size_for_aspect,
    size_for_preset,
)


def test_generation_defaults_follow_the_contract() -> None:
    video = TaskSpec(task="text_to_video")
    assert (video.width, video.height, video.num_frames, video.fps, video.duration_s) == (832, 480, 81, 16, 5.0)
    image = TaskSpec(task="text_to_image")
    assert (image.num_frames, image.fps, image.duration_s) == (1, None, None)
    assert image.num_outputs == 1


@pytest.mark.parametrize(
    ("seconds", "fps", "frames"), [(5, 16, 81), (3, 16, 49), (10, 24, 241), (2, 12, 25), (2.5, 16, 41)]
)
def test_seconds_to_frames(seconds: float, fps: int, frames: int) -> None:
    assert frames_for_duration(seconds, fps) == frames
    assert duration_for_frames(frames, fps) == pytest.approx(seconds)


def test_a_duration_alone_fills_the_frames() -> None:
    assert TaskSpec(task="text_to_video", duration_s=3).num_frames == 49


@pytest.mark.parametrize(
    ("preset", "orientation", "size"),
    [("480p", "landscape", (832, 480)), ("720p", "portrait", (720, 1280)), ("1080p", "square", (1080, 1080))],
)
def test_presets(preset: str, orientation: str, size: tuple[int, int]) -> None:
    assert size_for_preset(preset, orientation) == size


def test_unknown_preset_names_the_known_ones() -> None:
    with pytest.raises(ValueError, match="known: 360p, 480p"):
        size_for_preset("999p")


@pytest.mark.parametrize(("w", "h"), [(16, 9), (9, 16), (4, 3), (1, 1), (21, 9), (2, 3), (3, 2), (2.35, 1)])
def test_ratios_keep_the_default_area_in_multiples_of_16(w: float, h: float) -> None:
    width, height = size_for_aspect(w, h)
    assert width % 16 == 0 and height % 16 == 0
    assert abs(width / height / (w / h) - 1) <= 0.01
    assert abs(width * height / (832 * 480) - 1) <= 0.15


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"task": "text_to_image", "width": 5000, "height": 480}, "width: must be 64..4096, got 5000"),
        ({"task": "text_to_video", "num_frames": 2000}, "num_frames: must be 1..1025, got 2000"),
        ({"task": "text_to_video", "fps": 0}, "fps: must be 1..60, got 0"),
        ({"task": "text_to_image", "num_outputs": 17}, "num_outputs: must be 1..16, got 17"),
        ({"task": "text_to_image", "seed": -1}, "seed: must be 0..4294967295, got -1"),
        ({"task": "paint"}, "is not one of 'text_understanding'"),
        ({"task": "text_to_image", "num_frames": 5}, "num_frames must be 1"),
        ({"task": "text_to_video", "num_frames": 49, "fps": 8, "duration_s": 3}, "(num_frames - 1) / fps"),
        ({"task": "text_understanding", "width": 512, "height": 512}, "generation only"),
        ({"task": "image_editing"}, "needs a source attachment"),
        ({"task": "image_to_video"}, "needs a first_frame or a last_frame"),
        (
            {"task": "image_editing", "inputs": [{"path": "a.mp4", "media": "video", "role": "source"}]},
            "needs the source to be an image",
        ),
        (
            {
                "task": "image_editing",
                "inputs": [{"path": "a.png", "media": "image", "role": "context"}],
                "missing": ["source"],
            },
            "role context is not used by image_editing; allowed: mask, reference, source",
        ),
        ({"task": "image_control", "control_type": "flow", "missing": ["control"]}, "needs a video"),
        ({"task": "text_to_image", "control_type": "pose"}, "control_type applies to image_control"),
        ({"task": "text_to_image", "colour": "red"}, "Extra inputs are not permitted"),
    ],
)
def test_nonsense_is_rejected_with_what_is_allowed(fields: dict, message: str) -> None:
    with pytest.raises(ValidationError) as info:
        TaskSpec(**fields)
    assert message in explain(info.value)


def test_missing_roles_make_an_incomplete_spec_valid_but_not_ready() -> None:
    spec = TaskSpec(task="image_editing", missing=["source"])
    assert not spec.ready
    assert spec.missing == [Role.SOURCE]


def test_json_round_trip_and_schema() -> None:
    spec = TaskSpec(
        task=Task.IMAGE_TO_VIDEO,
        prompt="waves",
        inputs=[{"path": "a.png", "media": "image", "role": "first_frame"}],
        duration_s=2,
        fps=12,
    )
    again = TaskSpec.model_validate_json(json.dumps(spec.to_json_dict()))
    assert again == spec
    schema = json.loads(json_schema())
    assert schema["properties"]["width"]["maximum"] == 4096
    assert "image_control" in json.dumps(schema)
