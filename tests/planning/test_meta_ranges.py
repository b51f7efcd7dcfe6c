"""Numbers out of range: a setting the contract cannot hold is refused with the allowed range, never dropped and
left in the prompt; a number that is content ("2000 cats", "a 1970s car") is not a setting and is kept."""

from __future__ import annotations

import pytest

from unison_agent.cli import main
from unison_agent.planning import PlanningError, plan


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("a video of a cat, 2000 frames", "2000 frames: num_frames must be 1..1025"),
        ("a cat on a sofa, 8192x8192", "8192x8192: width and height must be 64..4096"),
        ("a cat on a sofa, seed -1", "seed -1: seed must be 0..4294967295"),
        ("a video of a cat at 0 fps", "0 fps: fps must be 1..60"),
        ("a cat on a sofa, 100 outputs", "100 outputs: num_outputs must be 1..16"),
        ("a cat on a sofa, steps 100000", "steps 100000: steps must be 1..500"),
        ("a cat on a sofa, guidance -5", "guidance -5: guidance_scale must be 0..50"),
        ("a video of a cat, -3 seconds", "-3 seconds: duration_s must be 0..64"),
    ],
)
def test_a_setting_out_of_range_is_refused_with_the_allowed_range(text: str, message: str) -> None:
    with pytest.raises(PlanningError) as caught:
        plan(text)
    assert str(caught.value) == message


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("a cat video at 120 fps", "120 fps: fps must be 1..60"),
        ("a cat video, fps: -2", "fps: -2: fps must be 1..60"),
        ("a cat, width 8000 and height 600", "width 8000 and height 600: width must be 64..4096"),
        ("a cat, 100x5000 resolution", "100x5000 resolution: height must be 64..4096"),
        ("a cat, seed 99999999999", "seed 99999999999: seed must be 0..4294967295"),
        ("a cat, seed 1.5", "seed 1.5: seed must be a whole number 0..4294967295"),
        ("a cat, cfg 60", "cfg 60: guidance_scale must be 0..50"),
        ("a cat, 1000 inference steps", "1000 inference steps: steps must be 1..500"),
        ("a cat, num_inference_steps=0", "num_inference_steps=0: steps must be 1..500"),
        ("a cat, n=40", "n=40: num_outputs must be 1..16"),
        ("a cat, 30 variations", "30 variations: num_outputs must be 1..16"),
        ("a cat, num_frames: 5000", "num_frames: 5000: num_frames must be 1..1025"),
        ("a cat, 00x00", "00x00: width and height must be 64..4096"),
    ],
)
def test_other_spellings_out_of_range_are_refused_too(text: str, message: str) -> None:
    with pytest.raises(PlanningError) as caught:
        plan(text)
    assert str(caught.value) == message


def test_every_setting_out_of_range_is_named_in_one_message() -> None:
    with pytest.raises(PlanningError, match=r"^seed -1: seed must be .*; 0 fps: fps must be 1\.\.60$"):
        plan("a video of a cat, seed -1, 0 fps")


@pytest.mark.parametrize(
    ("text", "kept"),
    [
        ("a 1970s muscle car", "1970s"),
        ("a 1000 year old tree in the fog", "1000 year old"),
        ("100 people dancing in the rain", "100 people"),
        ("2000 cats in a field", "2000 cats"),
        ("4 kids playing football", "4 kids"),
        ("a 3000 m mountain at sunrise", "3000 m mountain"),
        ("a temple staircase with 1000 steps", "1000 steps"),
        ("a wall covered with 50 photos", "50 photos"),
        ("a 5000x3000 mm canvas on an easel", "5000x3000 mm"),
        ("a comic strip with 3 frames", "3 frames"),
        ("a menu board with 20 options", "20 options"),
        ("an election poster showing 40 candidates", "40 candidates"),
        ("a family portrait, 20 generations", "20 generations"),
    ],
)
def test_numbers_that_are_content_still_plan_and_stay_in_the_prompt(text: str, kept: str) -> None:
    spec = plan(text)
    assert kept in spec.prompt


@pytest.mark.parametrize(
    ("text", "seconds"), [("a countdown clock showing T-3 seconds", 3.0), ("a clip of rain, 3-5 seconds", 5.0)]
)
def test_a_hyphen_after_a_word_or_a_number_is_not_a_minus_sign(text: str, seconds: float) -> None:
    assert plan(text).duration_s == seconds


def test_a_question_about_a_setting_is_answered_not_refused() -> None:
    spec = plan("what does seed -1 mean in stable diffusion?")
    assert spec.task.value == "text_understanding" and "seed -1" in spec.prompt


def test_the_cli_exits_1_with_the_range(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["plan", "a cat, seed -1"]) == 1
    err = capsys.readouterr().err
    assert "seed -1: seed must be 0..4294967295" in err and err.count("\n") == 1
