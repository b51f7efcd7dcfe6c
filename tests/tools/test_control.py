"""unison_agent.tools.control: weightless control maps (Canny, gray, scribble) and ready-map detection.

Pictures are drawn here with NumPy and Pillow, or with the ``media`` fixture from conftest.py.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest
from PIL import Image, ImageDraw

from unison_agent.media import Look, classify_look
from unison_agent.spec import ControlType
from unison_agent.tools.control import (
    LOOK_FOR,
    WEIGHTLESS,
    as_control_map,
    canny,
    extract,
    gray,
    is_grey,
    is_ready_map,
    scribble,
)

RECT = (40, 30, 119, 89)  # left, top, right, bottom (inclusive) of the drawn rectangle


def _open(path: str) -> Image.Image:
    with Image.open(path) as im:
        return im.convert("RGB")


def _rectangle(size: tuple[int, int] = (160, 120)) -> Image.Image:
    img = Image.new("RGB", size, "black")
    ImageDraw.Draw(img).rectangle(RECT, fill=(220, 180, 40))
    return img


def _white(img: Image.Image) -> np.ndarray:
    a = np.asarray(img)
    assert img.mode == "RGB"
    assert set(np.unique(a).tolist()) <= {0, 255}, "a binary map"
    assert (a[..., 0] == a[..., 1]).all() and (a[..., 1] == a[..., 2]).all(), "white on black, no colour"
    return a[..., 0] == 255


def _widths_across_left_side(on: np.ndarray) -> np.ndarray:
    """Per row along the rectangle's left side (away from its corners), how many pixels are on near that side."""
    left, top, _, bottom = RECT
    return on[top + 8 : bottom - 8, left - 8 : left + 8].sum(axis=1)


# ---------------------------------------------------------------------------------------------- canny


def test_canny_finds_the_outline_of_a_rectangle_and_nothing_in_flat_areas() -> None:
    edges = canny(_rectangle())
    assert edges.size == (160, 120)
    on = _white(edges)
    left, top, right, bottom = RECT
    inside = np.zeros_like(on)
    inside[top : bottom + 1, left : right + 1] = True
    near = np.zeros_like(on)
    near[top - 2 : bottom + 3, left - 2 : right + 3] = True
    near[top + 2 : bottom - 1, left + 2 : right - 1] = False
    assert on.any()
    assert not (on & ~near).any(), "edges only along the border, none in the flat inside or outside"
    # Every row crosses the left and right sides, every column the top and bottom sides.
    assert on[top + 2 : bottom - 1, left - 2 : left + 3].any(axis=1).all()
    assert on[top + 2 : bottom - 1, right - 2 : right + 3].any(axis=1).all()
    assert on[top - 2 : top + 3, left + 2 : right - 1].any(axis=0).all()
    assert on[bottom - 2 : bottom + 3, left + 2 : right - 1].any(axis=0).all()


def test_canny_edges_are_one_pixel_thin() -> None:
    widths = _widths_across_left_side(_white(canny(_rectangle())))
    assert np.count_nonzero(widths == 1) >= 0.9 * widths.size


def test_canny_keeps_a_weak_edge_connected_to_a_strong_one_and_drops_an_isolated_weak_one() -> None:
    # Two bright bands on black, running top to bottom. Band A fades from 255 to 50 down its top half and stays
    # at 50: its sides are strong edges at the top and weak ones (gradient ~130, between 100 and 200) below,
    # connected to the strong part. Band B is 50 all the way down: weak sides that touch nothing strong.
    h, w = 120, 200
    a = np.zeros((h, w))
    a[:, 30:70] = np.concatenate([np.linspace(255, 50, h // 2), np.full(h - h // 2, 50.0)])[:, None]
    a[:, 130:170] = 50
    img = Image.fromarray(a.round().astype(np.uint8))

    on = _white(canny(img))
    band_a_side = on[:, 27:33].any(axis=1)
    assert band_a_side.all(), "the weak lower half of band A's side survives through its strong upper half"
    assert not on[:, 100:].any(), "band B's isolated weak sides are dropped"
    # They were weak, not absent: with a lower high threshold they become edges.
    assert _white(canny(img, high=120))[:, 127:133].any(axis=1).all()


def test_canny_on_a_photo_is_classified_as_an_edge_map(media: Callable[..., str]) -> None:
    photo = _open(media("photo.png", "photo", size=(640, 480)))
    # The fixture's rectangles may differ little in brightness from its background (below the thresholds):
    # add shapes of clear contrast, as a real subject has.
    draw = ImageDraw.Draw(photo)
    draw.ellipse([200, 120, 420, 380], fill=(245, 240, 230))
    draw.rectangle([460, 60, 600, 200], fill=(20, 30, 25))
    edges = canny(photo)
    assert edges.size == photo.size
    assert _white(edges).any()
    assert classify_look(edges) == Look.EDGE


def test_canny_refuses_thresholds_in_the_wrong_order() -> None:
    with pytest.raises(ValueError, match="low <= high"):
        canny(_rectangle(), low=200, high=100)


# ---------------------------------------------------------------------------------------------- gray


def test_gray_gives_equal_channels_and_keeps_the_luminance_order() -> None:
    colours = [(0, 0, 255), (255, 0, 0), (0, 255, 0), (255, 255, 255)]  # luminance 29 < 76 < 150 < 255
    img = Image.new("RGB", (40, 10))
    draw = ImageDraw.Draw(img)
    for i, c in enumerate(colours):
        draw.rectangle([10 * i, 0, 10 * i + 9, 9], fill=c)
    out = gray(img)
    a = np.asarray(out)
    assert out.mode == "RGB" and out.size == img.size
    assert (a[..., 0] == a[..., 1]).all() and (a[..., 1] == a[..., 2]).all()
    levels = [int(a[5, 10 * i + 5, 0]) for i in range(len(colours))]
    assert levels == sorted(levels) and len(set(levels)) == len(levels)
    assert is_grey(out)


# ---------------------------------------------------------------------------------------------- scribble


def test_scribble_draws_white_strokes_on_black_thicker_than_canny() -> None:
    img = _rectangle()
    out = scribble(img)
    assert out.size == img.size
    on = _white(out)
    assert np.count_nonzero(on) < 0.35 * on.size, "mostly black background"
    strokes = _widths_across_left_side(on)
    edges = _widths_across_left_side(_white(canny(img)))
    assert np.median(strokes) >= 2
    assert np.median(strokes) > np.median(edges)


def test_scribble_of_a_photo_is_not_empty(media: Callable[..., str]) -> None:
    photo = _open(media("photo.jpg", "photo", size=(640, 480)))
    on = _white(scribble(photo))
    assert 0.002 * on.size < np.count_nonzero(on) < 0.35 * on.size


def test_scribble_of_a_flat_picture_is_black() -> None:
    assert not _white(scribble(Image.new("RGB", (64, 48), (90, 120, 200)))).any()


# ---------------------------------------------------------------------------------------------- ready maps


def test_as_control_map_inverts_a_user_scribble_to_white_on_black(media: Callable[..., str]) -> None:
    drawn = _open(media("sketch.png", "scribble", size=(320, 240)))
    out = as_control_map(drawn, Look.SCRIBBLE)
    assert out.mode == "RGB" and out.size == drawn.size
    assert (np.asarray(out) == 255 - np.asarray(drawn)).all()
    assert np.asarray(out).mean() < 64, "black background"


def test_as_control_map_lays_transparent_dark_strokes_on_white_before_inverting() -> None:
    strokes = Image.new("RGBA", (64, 48), (0, 0, 0, 0))
    ImageDraw.Draw(strokes).line([(5, 5), (60, 40)], fill=(0, 0, 0, 255), width=3)
    a = np.asarray(as_control_map(strokes, Look.SCRIBBLE))
    assert a[0, 63].tolist() == [0, 0, 0], "transparent background ends up black"
    assert a[5, 5].tolist() == [255, 255, 255], "the strokes end up white"


def test_as_control_map_passes_an_edge_map_through_as_rgb(media: Callable[..., str]) -> None:
    edges = _open(media("edges.png", "edge", size=(320, 240)))
    out = as_control_map(edges.convert("L"), Look.EDGE)
    assert out.mode == "RGB"
    assert (np.asarray(out) == np.asarray(edges)).all()
    assert as_control_map(edges, Look.EDGE) is not edges, "a new image, never the caller's"


@pytest.mark.parametrize(
    ("control_type", "look", "grey", "ready"),
    [
        (ControlType.CANNY, Look.PHOTO, False, False),
        (ControlType.CANNY, Look.EDGE, True, True),
        (ControlType.CANNY, Look.SCRIBBLE, False, False),
        (ControlType.SCRIBBLE, Look.SCRIBBLE, True, True),
        (ControlType.POSE, Look.POSE, False, True),
        (ControlType.DEPTH, Look.DEPTH, True, True),
        (ControlType.DEPTH, Look.PHOTO, False, False),
        (None, Look.POSE, False, True),
        (None, Look.EDGE, True, True),
        (None, Look.PHOTO, False, False),
        (None, Look.MASK, True, False),
        (ControlType.GRAY, Look.PHOTO, True, True),
        (ControlType.GRAY, Look.PHOTO, False, False),
        (ControlType.FLOW, Look.PHOTO, False, False),
        (ControlType.LAYOUT, Look.EDGE, True, False),
    ],
)
def test_is_ready_map_says_when_an_attachment_is_already_the_control_signal(
    control_type: ControlType | None, look: Look, grey: bool, ready: bool
) -> None:
    assert is_ready_map(control_type, look, is_grey=grey) is ready


def test_is_grey_tells_a_grey_photo_from_a_colour_one(media: Callable[..., str]) -> None:
    photo = _open(media("photo.jpg", "photo", size=(320, 240)))
    assert not is_grey(photo)
    assert is_grey(photo.convert("L"))
    assert is_grey(photo.convert("L").convert("RGB"))


def test_look_for_names_the_look_of_each_recognisable_map_and_weightless_the_extractable_types() -> None:
    assert LOOK_FOR[ControlType.CANNY] == Look.EDGE and LOOK_FOR[ControlType.SCRIBBLE] == Look.SCRIBBLE
    assert LOOK_FOR[ControlType.POSE] == Look.POSE and LOOK_FOR[ControlType.DEPTH] == Look.DEPTH
    assert {ControlType.CANNY, ControlType.GRAY, ControlType.SCRIBBLE} == WEIGHTLESS


# ---------------------------------------------------------------------------------------------- extract


@pytest.mark.parametrize("control_type", [ControlType.CANNY, ControlType.GRAY, ControlType.SCRIBBLE])
def test_extract_keeps_the_number_and_size_of_frames(control_type: ControlType) -> None:
    frames = [_rectangle((96, 64)).rotate(angle) for angle in (0, 10, 20)]
    maps = extract(control_type, frames)
    assert len(maps) == len(frames)
    assert all(m.size == (96, 64) and m.mode == "RGB" for m in maps)


@pytest.mark.parametrize("control_type", [ControlType.POSE, ControlType.DEPTH, ControlType.FLOW, ControlType.LAYOUT])
def test_extract_refuses_types_that_need_a_model(control_type: ControlType) -> None:
    with pytest.raises(ValueError, match=f"control_type {control_type.value} needs a model-backed extractor"):
        extract(control_type, [_rectangle()])


def test_extracted_canny_finds_edges_in_a_low_contrast_picture_where_fixed_thresholds_find_none() -> None:
    soft = Image.new("L", (160, 120), 110)
    ImageDraw.Draw(soft).rectangle([40, 30, 120, 90], fill=150)  # a faint box: gradient well below 200
    soft = soft.convert("RGB")
    assert not np.asarray(canny(soft)).any()
    [edges] = extract(ControlType.CANNY, [soft])
    assert np.asarray(edges)[:, :, 0].sum() > 0
