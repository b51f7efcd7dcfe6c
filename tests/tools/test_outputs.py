"""Writing results: PNG and MP4 files that carry their metadata, written atomically under names never taken."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import av
import numpy as np
import pytest
from PIL import Image

from unison_agent.tools import outputs
from unison_agent.tools.outputs import read_metadata, slug, unique_path, write_mp4, write_png

META: dict[str, Any] = {"seed": 7, "prompt": "a red fox in the snow", "notes": ["é", "ünïcode"], "path": Path("x")}


def _picture(h: int = 48, w: int = 64) -> np.ndarray:
    y, x = np.mgrid[0:h, 0:w]
    return np.stack([x * 255 // w, y * 255 // h, np.full_like(x, 90)], -1).astype(np.uint8)


def _clip(t: int = 6, h: int = 48, w: int = 64) -> np.ndarray:
    return np.stack([np.roll(_picture(h, w), 8 * i, axis=1) for i in range(t)])


# ---------------------------------------------------------------------------------------------- names


def test_slug_keeps_the_first_words_in_lower_case() -> None:
    assert slug("A red fox, in the snow!") == "a-red-fox-in-the"
    assert slug("Café au lait", words=2) == "cafe-au"
    assert slug("Don't panic") == "dont-panic"
    assert slug("!!! ???") == ""


def test_slug_is_cut_at_a_word_boundary() -> None:
    out = slug("extraordinarily incomprehensible circumlocutions everywhere")
    assert out == "extraordinarily-incomprehensible" and len(out) <= 32


def test_unique_path_numbers_names_already_taken(tmp_path: Path) -> None:
    first = unique_path(tmp_path, "fox", ".png")
    assert first == tmp_path / "fox.png"
    first.write_bytes(b"x")
    assert unique_path(tmp_path, "fox", ".png") == tmp_path / "fox-2.png"
    (tmp_path / "fox-2.png").write_bytes(b"x")
    assert unique_path(tmp_path, "fox", ".png") == tmp_path / "fox-3.png"


def test_unique_path_counts_a_sidecar_as_taking_the_name(tmp_path: Path) -> None:
    (tmp_path / "clip.json").write_text("{}")
    assert unique_path(tmp_path, "clip", ".mp4") == tmp_path / "clip-2.mp4"


def test_unique_path_sanitises_the_stem(tmp_path: Path) -> None:
    assert unique_path(tmp_path, "Héllo, World / ..", "png").name == "hello-world.png"
    assert unique_path(tmp_path, "", ".png").name == "output.png"
    assert unique_path(tmp_path, "???", ".mp4").name == "output.mp4"
    long = unique_path(tmp_path, "x" * 100, ".png")
    assert long.name == "x" * 48 + ".png"


# ---------------------------------------------------------------------------------------------- PNG


def test_png_round_trips_pixels_and_metadata(tmp_path: Path) -> None:
    pixels = _picture()
    path = write_png(tmp_path / "fox.png", pixels, META)
    assert path == tmp_path / "fox.png"
    with Image.open(path) as im:
        assert im.mode == "RGB"
        assert np.array_equal(np.asarray(im), pixels)
    assert read_metadata(path) == {**META, "path": "x"}
    assert os.listdir(tmp_path) == ["fox.png"]  # no temporary file left


def test_png_accepts_a_pillow_image_and_creates_the_folder(tmp_path: Path) -> None:
    path = write_png(tmp_path / "sub" / "grey.png", Image.new("L", (5, 3), 77), {"k": 1})
    with Image.open(path) as im:
        assert im.size == (5, 3) and im.getpixel((0, 0)) == 77
    assert read_metadata(path) == {"k": 1}


def test_png_refuses_arrays_that_are_not_uint8_pictures(tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        write_png(tmp_path / "f.png", np.zeros((4, 4, 3), np.float32), {})
    with pytest.raises(ValueError):
        write_png(tmp_path / "f.png", np.zeros((2, 4, 4, 3), np.uint8), {})
    assert os.listdir(tmp_path) == []


def test_png_write_that_fails_to_move_leaves_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(src: object, dst: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(outputs.os, "replace", refuse)
    with pytest.raises(OSError, match="disk full"):
        write_png(tmp_path / "fox.png", _picture(), META)
    assert os.listdir(tmp_path) == []


def test_png_failing_encoder_keeps_the_old_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "fox.png").write_bytes(b"old")

    def broken_save(self: Image.Image, fp: Any, *args: Any, **kwargs: Any) -> None:
        Path(fp).write_bytes(b"half a png")
        raise OSError("encoder failed")

    monkeypatch.setattr(Image.Image, "save", broken_save)
    with pytest.raises(OSError, match="encoder failed"):
        write_png(tmp_path / "fox.png", _picture(), META)
    assert os.listdir(tmp_path) == ["fox.png"]
    assert (tmp_path / "fox.png").read_bytes() == b"old"


def test_png_metadata_that_is_not_json_is_refused_before_writing(tmp_path: Path) -> None:
    with pytest.raises(TypeError):
        write_png(tmp_path / "fox.png", _picture(), {"x": object()})
    assert os.listdir(tmp_path) == []


# ---------------------------------------------------------------------------------------------- MP4


def test_mp4_round_trips_frames_fps_size_and_sidecar(tmp_path: Path) -> None:
    frames = _clip(t=6, h=48, w=64)
    path = write_mp4(tmp_path / "fox.mp4", frames, 16, META)
    assert sorted(os.listdir(tmp_path)) == ["fox.json", "fox.mp4"]
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        assert stream.average_rate == 16
        assert stream.codec_context.name == "h264" and stream.codec_context.pix_fmt == "yuv420p"
        decoded = [f.to_ndarray(format="rgb24") for f in container.decode(stream)]
    assert len(decoded) == 6 and decoded[0].shape == (48, 64, 3)
    error = np.abs(np.stack(decoded).astype(np.int16) - frames.astype(np.int16)).mean()
    assert error < 4  # lossy, but the same pictures in the same order and colours
    assert read_metadata(path) == {**META, "path": "x"}


def test_mp4_with_odd_size_is_refused_and_nothing_is_written(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="even"):
        write_mp4(tmp_path / "odd.mp4", np.zeros((2, 47, 64, 3), np.uint8), 16, META)
    with pytest.raises(ValueError):
        write_mp4(tmp_path / "bad.mp4", np.zeros((2, 48, 64), np.uint8), 16, META)
    with pytest.raises(ValueError):
        write_mp4(tmp_path / "bad.mp4", _clip(t=2), 0, META)
    assert os.listdir(tmp_path) == []


def test_mp4_that_fails_to_move_leaves_neither_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    real_replace = os.replace
    calls: list[str] = []

    def second_fails(src: str, dst: str) -> None:
        calls.append(str(dst))
        if len(calls) == 2:  # the sidecar has been moved into place; the clip cannot be
            raise OSError("disk full")
        real_replace(src, dst)

    monkeypatch.setattr(outputs.os, "replace", second_fails)
    with pytest.raises(OSError, match="disk full"):
        write_mp4(tmp_path / "fox.mp4", _clip(t=2), 16, META)
    assert calls == [str(tmp_path / "fox.json"), str(tmp_path / "fox.mp4")]
    assert os.listdir(tmp_path) == []


def test_mp4_that_fails_while_encoding_leaves_neither_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken_encoder(target: Path, *args: Any) -> None:
        Path(target).write_bytes(b"half an mp4")
        raise RuntimeError("encoder failed")

    monkeypatch.setattr(outputs, "_encode_h264", broken_encoder)
    with pytest.raises(RuntimeError, match="encoder failed"):
        write_mp4(tmp_path / "fox.mp4", _clip(t=2), 16, META)
    assert os.listdir(tmp_path) == []


def test_read_metadata_without_any_is_an_error(tmp_path: Path) -> None:
    Image.new("RGB", (4, 4)).save(tmp_path / "plain.png")
    with pytest.raises(ValueError, match=r"plain\.png"):
        read_metadata(tmp_path / "plain.png")
    (tmp_path / "clip.mp4").write_bytes(b"\x00\x00\x00\x18ftypmp42")
    with pytest.raises(ValueError, match=r"clip\.mp4"):
        read_metadata(tmp_path / "clip.mp4")
