"""Video length: seconds, frames and fps, as digits or words; images have one frame."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from unison_agent.planning import PlanningError, plan
from unison_agent.spec import LIMITS, Task, TaskSpec, frames_for_duration


@pytest.mark.parametrize(
    ("text", "frames", "fps", "seconds"),
    [
        ("a video of waves at the beach, 3 seconds", 49, 16, 3.0),
        ("a 6-second clip of waves at the beach", 97, 16, 6.0),
        ("video of waves at the beach, four seconds long", 65, 16, 4.0),
        ("waves at the beach, video, two and a half seconds", 41, 16, 2.5),
        ("a clip of waves at the beach, 10 s at 24 fps", 241, 24, 10.0),
        ("video: waves at the beach. twelve fps, 2 secs", 25, 12, 2.0),
        ("waves at the beach as a video, 65 frames", 65, 16, 4.0),
        ("video of waves at the beach, 49 frames at 8fps", 49, 8, 6.0),
        ("a video of waves at the beach", 81, 16, 5.0),
        ("video of waves at the beach, frame rate 30, 1 second", 31, 30, 1.0),
    ],
)
def test_durations_frames_and_fps_follow_the_contract(text: str, frames: int, fps: int, seconds: float) -> None:
    spec = plan(text)
    assert spec.task.value == "text_to_video"
    assert (spec.num_frames, spec.fps) == (frames, fps)
    assert spec.duration_s == pytest.approx(seconds, abs=0.01)


def test_a_duration_alone_makes_the_request_a_video() -> None:
    spec = plan("rain falling on a tin roof, 3 seconds")
    assert spec.task.value == "text_to_video"
    assert spec.num_frames == 49


def test_images_have_one_frame_and_no_fps() -> None:
    spec = plan("a picture of rain falling on a tin roof")
    assert (spec.num_frames, spec.fps, spec.duration_s) == (1, None, None)


def test_a_clip_longer_than_the_model_can_make_is_refused_with_the_limit() -> None:
    with pytest.raises(ValueError, match="1025 frames"):
        plan("a video of a sunrise, 60 seconds at 30 fps")


@pytest.mark.parametrize(
    ("text", "limit"),
    [
        ("make a 90 second video of a cat", "1441 frames; at most 1025"),
        ("a cat running, 2 minutes", "1921 frames; at most 1025"),
        ("a cat running, 70 seconds at 8 fps", "duration_s: must be 0..64, got 70"),
    ],
)
def test_a_duration_past_the_limit_is_refused_not_read_as_content(text: str, limit: str) -> None:
    # Past the limit the words are still a duration: no silent 5 s clip, no picture instead of a video.
    with pytest.raises(ValueError, match=limit):
        plan(text)


def test_a_decade_is_content_not_a_duration() -> None:
    spec = plan("a 1970s muscle car")
    assert (spec.task.value, spec.prompt) == ("text_to_image", "a 1970s muscle car")
    for text in ("a menu cover in a retro 60s style", "a woman in her 40s reading", "un hombre en sus 50s", "80s vibe"):
        spec = plan(text)
        assert (spec.task.value, spec.duration_s) == ("text_to_image", None), text
    for text in ("a 30s clip of a cat", "a 60s clip of rain", "make it 20s, a cat napping"):
        assert plan(text).duration_s in (30, 60, 20), text  # "Ns" on its own is seconds


def test_seconds_inside_a_question_stay_in_the_question() -> None:
    spec = plan("How many frames does a 3 second clip at 12 fps have?")
    assert spec.task.value == "text_understanding"
    assert "3 second" in spec.prompt and "12 fps" in spec.prompt


@pytest.mark.parametrize(
    ("text", "frames", "fps"),
    [
        ("a video of waves at 1 fps", 6, 1),
        ("a video of waves at 2 fps", 11, 2),
        ("a video of waves 1FPS", 6, 1),
        ("a video of waves at 8 fps", 41, 8),
        ("a video of waves at 30 fps", 151, 30),
    ],
)
def test_an_fps_alone_keeps_the_default_five_seconds(text: str, frames: int, fps: int) -> None:
    spec = plan(text)
    assert (spec.task.value, spec.num_frames, spec.fps) == ("text_to_video", frames, fps)
    assert spec.duration_s == pytest.approx(5.0)


def test_frames_alone_keep_the_default_fps() -> None:
    spec = plan("a video of waves, 33 frames")
    assert (spec.num_frames, spec.fps, spec.duration_s) == (33, 16, 2.0)


def test_the_contract_fills_a_lone_fps_with_the_default_length() -> None:
    # Model planners (LLM, Unison) that give only an fps get the same 5 s the rules give.
    spec = TaskSpec(task=Task.TEXT_TO_VIDEO, prompt="waves", fps=2)
    assert (spec.num_frames, spec.duration_s) == (11, 5.0)


@pytest.mark.parametrize(
    ("text", "frames", "fps"),
    [
        ("a video of waves, 2.5 seconds at 5 fps", 14, 5),
        ("a video of waves, 0.3 seconds at 7 fps", 3, 7),
        ("a video of waves, 3.3 seconds at 3 fps", 11, 3),
        ("a video of waves, 1.1 seconds at 1 fps", 2, 1),
        ("a video of waves, 1.5 seconds at 1 fps", 3, 1),
        ("a video of waves, 0.7 seconds at 15 fps", 12, 15),
        ("a video of waves, 2.25 seconds at 2 fps", 6, 2),
    ],
)
def test_a_duration_that_does_not_divide_evenly_rounds_to_the_nearest_frame(text: str, frames: int, fps: int) -> None:
    spec = plan(text)
    assert (spec.task.value, spec.num_frames, spec.fps) == ("text_to_video", frames, fps)
    assert spec.duration_s is not None
    assert abs((frames - 1) / fps - spec.duration_s) <= 0.5 / fps + 1e-9


@pytest.mark.slow
@settings(max_examples=150, deadline=None)
@given(
    tenths=st.integers(1, 640),
    fps=st.integers(1, 60),
)
def test_any_duration_and_fps_in_range_plan_a_valid_clip_within_half_a_frame(tenths: int, fps: int) -> None:
    seconds = tenths / 10
    text = f"a video of waves, {seconds:g} seconds at {fps} fps"
    if frames_for_duration(seconds, fps) > LIMITS["num_frames"][1]:
        with pytest.raises(PlanningError, match="at most 1025 frames"):
            plan(text)
        return
    if seconds * fps < 0.5:
        with pytest.raises(PlanningError, match="less than one frame"):
            plan(text)
        return
    spec = plan(text)
    assert spec.num_frames is not None and spec.fps == fps
    assert TaskSpec.model_validate(spec.model_dump()) == spec
    assert abs((spec.num_frames - 1) / fps - seconds) <= 0.5 / fps + 1e-9
