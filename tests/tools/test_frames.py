"""Reading attachments as frames: pictures upright and flattened, masks binary, clips sampled by timestamp."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest
from PIL import Image, ImageDraw

from unison_agent.tools.errors import InputError
from unison_agent.tools.frames import binarise, fit, open_image, read_video, read_video_for_understanding

MakeMedia = Callable[..., str]


def _level(k: int) -> int:
    """The grey level that source frame ``k`` of a clip from :func:`_clip` is painted with."""
    return 20 + 25 * k


def _which(frame: Image.Image) -> int:
    """Which source frame of a :func:`_clip` clip ``frame`` shows, read from its grey level."""
    value = int(np.asarray(frame.convert("L"), dtype=np.int32).mean())
    return round((value - 20) / 25)


def _clip(
    path: Path,
    stamps_ms: Sequence[int],
    size: tuple[int, int] = (64, 48),
    rotation: int = 0,
    picture: Callable[[int], np.ndarray] | None = None,
) -> str:
    """An H.264 MP4 whose frame ``k`` is shown at ``stamps_ms[k]`` milliseconds and painted :func:`_level` (k).

    The last frame lasts as long as the one before it (the muxer would otherwise guess 1/30 s)."""
    w, h = size
    ends = [*stamps_ms[1:], stamps_ms[-1] + (stamps_ms[-1] - stamps_ms[-2] if len(stamps_ms) > 1 else 33)]
    lasts = {ms: end - ms for ms, end in zip(stamps_ms, ends, strict=True)}
    with av.open(str(path), "w") as out:
        stream = out.add_stream("libx264", rate=30)
        stream.width, stream.height, stream.pix_fmt = w, h, "yuv420p"
        stream.time_base = stream.codec_context.time_base = Fraction(1, 1000)
        if rotation:
            stream.set_display_rotation(rotation)

        def mux(packets: list[av.Packet]) -> None:
            for packet in packets:
                if packet.pts is not None:
                    packet.duration = lasts[packet.pts]
                out.mux(packet)

        for k, ms in enumerate(stamps_ms):
            pixels = picture(k) if picture else np.full((h, w, 3), _level(k), np.uint8)
            frame = av.VideoFrame.from_ndarray(pixels, format="rgb24")
            frame.pts, frame.time_base = ms, Fraction(1, 1000)
            mux(stream.encode(frame))
        mux(stream.encode())
    return str(path)


# ---------------------------------------------------------------------------------------------- fit


def test_fit_gives_exact_size_and_keeps_the_centre() -> None:
    img = Image.new("RGB", (300, 100), "red")  # red sides, blue centre square
    ImageDraw.Draw(img).rectangle([100, 0, 199, 99], fill="blue")
    out = fit(img, 64, 64)
    assert out.size == (64, 64) and out.mode == "RGB"
    a = np.asarray(out)
    assert (a[..., 2] > 200).all() and (a[..., 0] < 40).all()  # only the centre square is left


def test_fit_crops_top_and_bottom_of_a_tall_picture_and_keeps_mode() -> None:
    img = Image.new("L", (100, 300), 0)
    ImageDraw.Draw(img).rectangle([0, 90, 99, 209], fill=255)  # a little more than the middle third
    out = fit(img, 48, 48)
    assert out.size == (48, 48) and out.mode == "L"
    assert np.asarray(out).min() >= 250


def test_fitted_mask_stays_aligned_with_its_source_of_another_size() -> None:
    source = Image.new("L", (400, 200), 0)
    ImageDraw.Draw(source).rectangle([200, 50, 299, 149], fill=255)
    mask = source.resize((200, 100), Image.Resampling.NEAREST)  # same aspect ratio, half the size
    a = np.asarray(binarise(fit(source, 80, 64)))
    b = np.asarray(binarise(fit(mask, 80, 64, resample=Image.Resampling.NEAREST)))
    assert (a != b).mean() < 0.02  # only edge pixels may differ


def test_fit_refuses_a_non_positive_size() -> None:
    with pytest.raises(ValueError):
        fit(Image.new("RGB", (8, 8)), 0, 8)


# ---------------------------------------------------------------------------------------------- binarise


def test_binarise_makes_white_regenerate_and_black_keep() -> None:
    ramp = Image.fromarray(np.tile(np.arange(256, dtype=np.uint8), (4, 1)), "L")
    out = binarise(ramp)
    a = np.asarray(out)
    assert out.mode == "L" and set(np.unique(a)) == {0, 255}
    assert (a[:, :128] == 0).all() and (a[:, 128:] == 255).all()
    assert (np.asarray(binarise(ramp, threshold=200))[:, 199:201] == [0, 255]).all()


def test_binarise_puts_transparent_pixels_on_black() -> None:
    rgba = np.zeros((4, 4, 4), np.uint8)
    rgba[..., :3] = 255  # white everywhere ...
    rgba[:, :2, 3] = 255  # ... but opaque only on the left
    a = np.asarray(binarise(Image.fromarray(rgba, "RGBA")))
    assert (a[:, :2] == 255).all() and (a[:, 2:] == 0).all()


def test_binarise_reads_colour_masks_by_luminance() -> None:
    img = Image.new("RGB", (2, 1))
    img.putpixel((0, 0), (255, 255, 0))  # yellow: bright
    img.putpixel((1, 0), (0, 0, 255))  # blue: dark
    assert list(np.asarray(binarise(img))[0]) == [255, 0]


# ---------------------------------------------------------------------------------------------- open_image


def test_open_image_flattens_transparency_onto_white(tmp_path: Path) -> None:
    rgba = np.zeros((8, 8, 4), np.uint8)
    rgba[:4, :, 3] = 255  # top half opaque black, bottom half transparent
    Image.fromarray(rgba, "RGBA").save(tmp_path / "cutout.png")
    img = open_image(tmp_path / "cutout.png")
    a = np.asarray(img)
    assert img.mode == "RGB" and (a[:4] == 0).all() and (a[4:] == 255).all()
    kept = open_image(tmp_path / "cutout.png", keep_alpha=True)
    assert kept.mode == "RGBA" and (np.asarray(binarise(kept)) == 0).all()


def test_open_image_applies_exif_orientation(tmp_path: Path) -> None:
    exif = Image.Exif()
    exif[0x0112] = 6  # stored sideways: shown turned 90 degrees clockwise
    Image.new("RGB", (80, 40), "green").save(tmp_path / "phone.jpg", exif=exif)
    assert open_image(tmp_path / "phone.jpg").size == (40, 80)


def test_open_image_never_lets_pillow_bomb_warning_escape(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    Image.new("RGB", (64, 64)).save(tmp_path / "big.png")
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 3000)  # 4096 pixels: over Pillow's limit, under twice it
    assert open_image(tmp_path / "big.png").size == (64, 64)  # warnings are errors in this test run


def test_open_image_refuses_a_video_naming_the_file(media: MakeMedia) -> None:
    with pytest.raises(InputError, match=r"clip\.mp4.*image is needed"):
        open_image(media("clip.mp4", size=(64, 48), frames=2))


def test_open_image_refuses_a_text_file_naming_it(tmp_path: Path) -> None:
    (tmp_path / "notes.png").write_text("not a picture at all\n" * 20)
    with pytest.raises(InputError, match=r"notes\.png"):
        open_image(tmp_path / "notes.png")


def test_open_image_refuses_a_missing_file(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"gone\.png.*no such file"):
        open_image(tmp_path / "gone.png")


# ---------------------------------------------------------------------------------------------- read_video


def test_video_at_its_own_fps_gives_every_frame(media: MakeMedia) -> None:
    clip = read_video(media("clip.mp4", size=(96, 64), frames=12, fps=8), fps=8)
    assert clip.indices == list(range(12))
    assert clip.total_frames == 12 and clip.source_fps == 8.0
    assert all(f.mode == "RGB" and f.size == (96, 64) for f in clip.frames)


def test_video_sampled_at_half_fps_takes_every_other_frame(tmp_path: Path) -> None:
    clip = read_video(_clip(tmp_path / "c.mp4", [k * 125 for k in range(8)]), fps=4)
    assert clip.indices == [0, 2, 4, 6]
    assert [_which(f) for f in clip.frames] == clip.indices  # the pixels are those frames', not just the indices


def test_video_sampled_at_lower_fps_takes_frames_by_timestamp(tmp_path: Path) -> None:
    thirty = [round(k * 1000 / 30) for k in range(30)]  # one second at 30 fps, ms-rounded stamps
    clip = read_video(
        _clip(tmp_path / "c30.mp4", thirty, picture=lambda k: np.full((48, 64, 3), k * 8, np.uint8)), fps=16
    )
    assert clip.indices == [i * 30 // 16 for i in range(16)]
    assert clip.total_frames == 30


def test_variable_frame_rate_clip_is_sampled_by_its_timestamps(tmp_path: Path) -> None:
    clip = read_video(_clip(tmp_path / "vfr.mp4", [0, 100, 150, 400, 500, 520]), fps=10)
    # t = 0.0 0.1 0.2 0.3 0.4 0.5: the frame on screen at each; the one at 0.52 s is not yet shown at 0.5 s.
    assert clip.indices == [0, 1, 2, 2, 3, 4]
    assert [_which(f) for f in clip.frames] == [0, 1, 2, 2, 3, 4]


def test_video_sampled_faster_than_its_fps_repeats_frames_until_its_end(tmp_path: Path) -> None:
    clip = read_video(_clip(tmp_path / "c.mp4", [0, 250, 500, 750]), fps=8)  # 4 frames at 4 fps: one second
    assert clip.indices == [0, 0, 1, 1, 2, 2, 3, 3]


def test_video_sampling_stops_at_max_frames(media: MakeMedia) -> None:
    clip = read_video(media("clip.mp4", size=(64, 48), frames=12, fps=8), fps=8, max_frames=5)
    assert clip.indices == [0, 1, 2, 3, 4] and len(clip.frames) == 5
    assert clip.total_frames == 12  # from the container: decoding stopped early


def test_video_frames_are_fitted_to_the_asked_size_and_mode(media: MakeMedia) -> None:
    clip = read_video(media("mask.mp4", "mask", size=(160, 96), frames=3, fps=8), fps=8, width=48, height=48, mode="L")
    assert [f.size for f in clip.frames] == [(48, 48)] * 3
    assert all(f.mode == "L" for f in clip.frames)
    centre = np.asarray(binarise(clip.frames[0]))[24, 24]
    assert centre == 255  # the mask's white rectangle is in the middle and survives the centre crop


def test_webm_without_a_frame_count_is_sampled_by_millisecond_timestamps(media: MakeMedia) -> None:
    clip = read_video(media("clip.webm", size=(64, 48), frames=10, fps=30), fps=30)
    assert clip.indices == list(range(10)) and clip.total_frames == 10


def test_rotated_phone_clip_is_turned_upright(tmp_path: Path) -> None:
    def left_white(_k: int) -> np.ndarray:
        a = np.zeros((32, 64, 3), np.uint8)
        a[:, :32] = 255
        return a

    path = _clip(tmp_path / "rot.mp4", [0, 125], size=(64, 32), rotation=-90, picture=left_white)
    clip = read_video(path, fps=8)
    a = np.asarray(clip.frames[0].convert("L"))
    assert clip.frames[0].size == (32, 64)  # portrait, as shown
    assert a[:28].min() > 200 and a[36:].max() < 50  # turned clockwise: the stored left side is now on top


def test_corrupt_video_is_refused_naming_the_file(media: MakeMedia, tmp_path: Path) -> None:
    good = Path(media("clip.mp4", size=(64, 48), frames=4))
    broken = tmp_path / "broken.mp4"
    broken.write_bytes(good.read_bytes()[:48] + b"\x00garbage" * 64)
    with pytest.raises(InputError, match=r"broken\.mp4"):
        read_video(broken, fps=8)


def test_image_given_as_video_is_refused_naming_the_file(media: MakeMedia) -> None:
    with pytest.raises(InputError, match=r"still\.png.*video is needed"):
        read_video(media("still.png", size=(64, 48)), fps=8)


def test_text_file_given_as_video_is_refused_naming_the_file(tmp_path: Path) -> None:
    (tmp_path / "readme.mp4").write_text("hello\n" * 100)
    with pytest.raises(InputError, match=r"readme\.mp4"):
        read_video(tmp_path / "readme.mp4", fps=8)
    with pytest.raises(InputError, match=r"readme\.mp4"):
        read_video_for_understanding(tmp_path / "readme.mp4", max_frames=4)


def test_bad_sampling_arguments_are_refused(media: MakeMedia) -> None:
    path = media("clip.mp4", size=(64, 48), frames=2)
    with pytest.raises(ValueError):
        read_video(path, fps=0)
    with pytest.raises(ValueError):
        read_video(path, fps=8, width=64)


# ---------------------------------------------------------------------------------------------- understanding


def test_understanding_frames_spread_over_the_whole_clip(media: MakeMedia) -> None:
    clip = read_video_for_understanding(media("clip.mp4", size=(64, 48), frames=24, fps=8), max_frames=32)
    assert clip.indices == [0, 5, 9, 14, 18, 23]  # 3 s at 2 fps: 6 frames, first to last
    assert clip.total_frames == 24 and clip.source_fps == 8.0
    assert len(clip.frames) == len(clip.indices)
    assert clip.indices[0] == 0 and clip.indices[-1] == clip.total_frames - 1


def test_understanding_frames_are_capped_at_max_frames_and_evenly_spaced(media: MakeMedia) -> None:
    clip = read_video_for_understanding(media("clip.mp4", size=(64, 48), frames=24, fps=8), max_frames=3, target_fps=8)
    assert clip.indices == [0, 12, 23] and len(clip.frames) == 3
    assert len(clip.indices) / clip.total_frames * clip.source_fps == pytest.approx(1.0)  # the real sampled rate


def test_understanding_never_samples_faster_than_the_clip(tmp_path: Path) -> None:
    clip = read_video_for_understanding(_clip(tmp_path / "c.mp4", [0, 500, 1000, 1500]), max_frames=16, target_fps=8)
    assert clip.indices == [0, 1, 2, 3]
    assert [_which(f) for f in clip.frames] == [0, 1, 2, 3]


def test_understanding_counts_frames_when_the_container_does_not(media: MakeMedia) -> None:
    clip = read_video_for_understanding(media("clip.webm", size=(64, 48), frames=9, fps=6), max_frames=2)
    assert clip.total_frames == 9 and clip.indices == [0, 8]
