"""Prompt cleaning: meta phrases go, content (numbers included) stays; optional settings are read."""

from __future__ import annotations

import pytest

from unison_agent.planning import plan


@pytest.mark.parametrize(
    ("text", "kept", "gone"),
    [
        (
            "twelve red apples in a wooden bowl, 1024x1024, seed 3",
            ["twelve red apples", "wooden bowl"],
            ["1024", "seed"],
        ),
        ("a 1970s muscle car on route 66, 16:9, 30 steps", ["1970s", "route 66"], ["16:9", "steps"]),
        (
            "portrait of a knight shot on a 50mm lens, cfg 4.5, 3 variations",
            ["50mm lens", "knight"],
            ["cfg", "variations"],
        ),
        ("make a video of the year 2049 skyline, 4 seconds, 24fps", ["2049 skyline"], ["4 seconds", "24fps"]),
        (
            "Please generate: a hedgehog reading a newspaper. Square, seed=77",
            ["hedgehog", "newspaper"],
            ["square", "seed", "77"],
        ),
    ],
)
def test_meta_phrases_are_cut_and_content_numbers_stay(text: str, kept: list[str], gone: list[str]) -> None:
    prompt = plan(text).prompt.lower()
    for word in kept:
        assert word.lower() in prompt
    for word in gone:
        assert word.lower() not in prompt


@pytest.mark.parametrize(
    ("text", "field", "value"),
    [
        ("a koi pond, seed nineteen", "seed", 19),
        ("a koi pond, seed 0", "seed", 0),
        ("a koi pond, random seed: 4242", "seed", 4242),
        ("a koi pond, 25 inference steps", "steps", 25),
        ("a koi pond, steps=40", "steps", 40),
        ("a koi pond, guidance scale 5.5", "guidance_scale", 5.5),
        ("a koi pond, cfg 3", "guidance_scale", 3.0),
        ("give me three pictures of a koi pond", "num_outputs", 3),
        ("a koi pond, a couple of versions", "num_outputs", 2),
        ("a koi pond, 4 variations please", "num_outputs", 4),
    ],
)
def test_optional_settings_are_read_from_digits_and_words(text: str, field: str, value: float) -> None:
    assert getattr(plan(text), field) == value


@pytest.mark.parametrize(
    "settings",
    [
        "steps 40 guidance 7.5 seed 42",
        "guidance 7.5 steps 40 seed 42",
        "seed 42 steps 40 guidance 7.5",
        "seed 42 guidance 7.5 steps 40",
        "steps 40 cfg 7.5 seed 42",
        "seed 42, 40 steps, 7.5 guidance",
    ],
)
def test_settings_listed_one_after_another_each_keep_their_own_value(settings: str) -> None:
    # A number after a label is that label's, not the next setting's ("steps 40 guidance": 40 is the steps').
    spec = plan(f"an ancient temple overgrown with vines, {settings}")
    assert (spec.steps, spec.guidance_scale, spec.seed) == (40, 7.5, 42)
    assert spec.prompt == "an ancient temple overgrown with vines"


def test_counts_that_belong_to_the_picture_are_not_the_number_of_outputs() -> None:
    spec = plan("three dogs and two cats playing in the snow")
    assert spec.num_outputs == 1
    assert "three dogs" in spec.prompt


def test_the_negative_prompt_is_split_off() -> None:
    spec = plan("a castle on a hill at sunset\nnegative prompt: blurry, low quality, watermark")
    assert spec.negative_prompt == "blurry, low quality, watermark"
    assert "blurry" not in spec.prompt and "negative" not in spec.prompt.lower()
    assert "castle on a hill" in spec.prompt


def test_a_request_wrapper_is_dropped_from_the_prompt() -> None:
    assert plan("Can you make me a picture? A fox asleep under a maple tree.").prompt.startswith("A fox asleep")


def test_quoted_text_inside_the_prompt_is_kept_verbatim() -> None:
    spec = plan("a neon sign that says 'OPEN 24 HOURS', 4:3")
    assert "'OPEN 24 HOURS'" in spec.prompt


def test_understanding_keeps_the_question_whole() -> None:
    text = "Is 1920x1080 the same aspect ratio as 1280x720? answer briefly"
    spec = plan(text)
    assert spec.task.value == "text_understanding"
    assert spec.prompt == text
