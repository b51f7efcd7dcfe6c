"""Sizes: explicit pixels, presets with orientation, ratios, and the 832x480 default."""

from __future__ import annotations

import pytest

from unison_agent.planning import PlanningError, plan


@pytest.mark.parametrize(
    ("text", "size"),
    [
        ("a lighthouse at dusk, 768x432", (768, 432)),
        ("a lighthouse at dusk at 1280 x 720 px", (1280, 720)),
        ("a lighthouse at dusk, 640 by 640", (640, 640)),
        ("a lighthouse at dusk; width 960 and height 544", (960, 544)),
        ("a lighthouse at dusk, height 1024, width 576", (576, 1024)),
        ("a lighthouse at dusk in 720p", (1280, 720)),
        ("a lighthouse at dusk, 1080p, vertical", (1080, 1920)),
        ("vertical 720p: a lighthouse at dusk", (720, 1280)),
        ("a lighthouse at dusk. 480p square", (480, 480)),
        ("a lighthouse at dusk, portrait orientation, 720p", (720, 1280)),
        ("a lighthouse at dusk", (832, 480)),
    ],
)
def test_stated_sizes_are_kept_exactly(text: str, size: tuple[int, int]) -> None:
    spec = plan(text)
    assert (spec.width, spec.height) == size


@pytest.mark.parametrize(
    ("text", "ratio"),
    [
        ("a lighthouse at dusk, 16:9", 16 / 9),
        ("a lighthouse at dusk in 9:16", 9 / 16),
        ("a lighthouse at dusk, aspect ratio 4:3", 4 / 3),
        ("a lighthouse at dusk (2:3)", 2 / 3),
        ("a lighthouse at dusk, 21:9 cinematic", 21 / 9),
        ("a lighthouse at dusk, widescreen", 16 / 9),
        ("a square picture of a lighthouse at dusk", 1.0),
        ("a vertical video of a lighthouse at dusk", 9 / 16),
        ("a lighthouse at dusk, square please", 1.0),
        ("a lighthouse at dusk - vertical pls", 9 / 16),
    ],
)
def test_a_ratio_alone_keeps_the_default_area(text: str, ratio: float) -> None:
    spec = plan(text)
    assert spec.width and spec.height
    assert abs(spec.width / spec.height / ratio - 1) <= 0.03
    assert 0.8 <= spec.width * spec.height / (832 * 480) <= 1.2
    assert spec.width % 16 == 0 and spec.height % 16 == 0


@pytest.mark.parametrize(
    "text",
    [
        "Times Square at night, neon signs",
        "An oil painting portrait of a sea captain",
        "a landscape painting of rolling hills",
        "a 4k wallpaper of a mountain lake",
    ],
)
def test_words_that_look_like_sizes_but_are_content_change_nothing(text: str) -> None:
    spec = plan(text)
    assert (spec.width, spec.height) == (832, 480)
    first_word = text.split()[0].lower()
    assert first_word in spec.prompt.lower()


def test_an_edit_with_no_size_keeps_the_shape_of_its_source(media) -> None:
    spec = plan("make the sky pink", [media("tall.png", size=(480, 720))])
    assert spec.task.value == "image_editing"
    assert abs(spec.width / spec.height - 480 / 720) <= 0.03


def test_sizes_outside_the_contract_are_refused_with_the_range() -> None:
    with pytest.raises(PlanningError, match=r"^20000x20: width and height must be 64\.\.4096$"):
        plan("a banner 20000x20 of a rocket")
