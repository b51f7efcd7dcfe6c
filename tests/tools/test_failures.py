"""Bad inputs and interrupted runs: a clear one-line error, a non-zero exit, and no partial files."""

from __future__ import annotations

import struct
import threading
import zlib
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from unison_agent.cli import main
from unison_agent.spec import Input, Media, Role, Task, TaskSpec
from unison_agent.tools import InputError, ModelPool, ModelUnavailableError, Profile, RunCancelled, load_profile, run
from unison_agent.tools import generation as generation_module
from unison_agent.tools.outputs import read_metadata


def _cli(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    code = main(args)
    _out, err = capsys.readouterr()
    return code, err


def _huge_png(path: Path, w: int = 20000, h: int = 20000) -> str:
    # A real PNG header claiming 20000x20000: it must be refused from the header, before any decoding.
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)
    idat = zlib.compress(b"\x00" * (w * 3 + 1))  # one row; enough for a header read
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b""))
    return str(path)


def _corrupt_png(folder: Path) -> str:
    path = folder / "photo.png"
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 64)
    return str(path)


def _text_file(folder: Path) -> str:
    path = folder / "notes.png"
    path.write_text("this is a shopping list")
    return str(path)


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (_corrupt_png, "photo.png"),
        (_text_file, "notes.png"),
        (lambda d: _huge_png(d / "huge.png"), "huge.png"),
    ],
    ids=["corrupt-image", "not-media", "20000x20000"],
)
def test_unusable_attachment_exits_2_naming_the_file_and_writes_nothing(
    make: Callable[[Path], str], message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    src = tmp_path / "in"
    src.mkdir()
    path = make(src)
    out = tmp_path / "out"
    code, err = _cli(["run", "make the sky purple", "--attach", path, "--profile", "tiny", "--out", str(out)], capsys)
    assert code == 2
    assert message in err and err.count("\n") == 1
    assert not out.exists()


def test_unknown_profile_exits_2_listing_the_known_ones(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, err = _cli(["run", "a red fox", "--profile", "turbo", "--out", str(tmp_path / "o")], capsys)
    assert code == 2 and "unknown profile 'turbo'; known: default, fast, lowvram, bench, tiny" in err


def test_a_missing_attachment_is_asked_for_not_invented(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, err = _cli(
        ["run", "edit this photo using the mask", "--profile", "tiny", "--out", str(tmp_path / "o")], capsys
    )
    assert code == 1 and "attach it with --attach FILE" in err
    assert not (tmp_path / "o").exists()


def test_mask_video_shorter_than_the_source_is_refused_with_both_lengths(
    media: Callable[..., str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    clip = media("clip.mp4", "photo", size=(96, 64), frames=24, fps=16)
    mask = media("mask.mp4", "mask", size=(96, 64), frames=6, fps=16)
    out = tmp_path / "out"
    code, err = _cli(
        [
            "run",
            "remove the car from this video, 96x64, 17 frames",
            "-a",
            clip,
            "-a",
            mask,
            "-p",
            "tiny",
            "-o",
            str(out),
        ],
        capsys,
    )
    assert code == 1, err
    assert "mask.mp4" in err and "6 frames" in err and "as long as its source" in err
    assert not out.exists() or not any(out.iterdir())


def test_an_all_black_mask_is_refused(
    media: Callable[..., str], tmp_path: Path, pool: ModelPool, tiny: Profile
) -> None:
    black = tmp_path / "black.png"
    Image.new("L", (96, 64), 0).save(black)
    spec = TaskSpec(
        task=Task.IMAGE_EDITING,
        prompt="x",
        inputs=[
            Input(path=media("a.png"), media=Media.IMAGE, role=Role.SOURCE),
            Input(path=str(black), media=Media.IMAGE, role=Role.MASK),
        ],
        width=96,
        height=64,
    )
    with pytest.raises(InputError, match="all black"):
        run(spec, profile=tiny, pool=pool, out_dir=tmp_path / "out")


def _profile_with_model(tmp_path: Path, model: str) -> str:
    text = (Path(__file__).parents[2] / "unison_agent/tools/profiles/tiny.toml").read_text()
    path = tmp_path / "broken.toml"
    path.write_text(text.replace('model = "tiny:wan-vace"', f'model = "{model}"'))
    return str(path)


def test_a_model_folder_that_does_not_exist_says_how_to_fix_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    profile = _profile_with_model(tmp_path, str(tmp_path / "no-such-model"))
    code, err = _cli(["run", "a red fox", "--profile", profile, "--out", str(tmp_path / "o"), "-q"], capsys)
    assert code == 1
    assert "could not be loaded" in err and "no-such-model" in err and "--profile tiny" in err
    assert err.count("\n") == 1


def test_a_hub_model_while_offline_says_how_to_fix_it(tmp_path: Path, tiny: Profile) -> None:
    profile = load_profile(_profile_with_model(tmp_path, "Wan-AI/Wan2.1-VACE-1.3B-diffusers"))
    spec = TaskSpec(task=Task.TEXT_TO_IMAGE, prompt="a fox", width=96, height=64)
    with pytest.raises(ModelUnavailableError, match=r"hf download Wan-AI/Wan2.1-VACE-1.3B-diffusers"):
        run(spec, profile=profile, pool=ModelPool(), out_dir=tmp_path / "out")


def test_cancelling_during_denoising_stops_the_run_and_leaves_no_files(
    tmp_path: Path, pool: ModelPool, tiny: Profile
) -> None:
    cancel = threading.Event()
    steps = []

    def progress(event) -> None:  # type: ignore[no-untyped-def]
        if event.stage == "denoise":
            steps.append(event.done)
            cancel.set()  # as a user pressing "stop" after the first step

    spec = TaskSpec(task=Task.TEXT_TO_VIDEO, prompt="a fox", width=96, height=64, num_frames=5, steps=4)
    with pytest.raises(RunCancelled, match="step 2/4"):
        run(spec, profile=tiny, pool=pool, out_dir=tmp_path / "out", on_progress=progress, cancel=cancel)
    assert steps == [1]
    assert not any((tmp_path / "out").iterdir())


def test_a_failure_on_the_second_output_removes_the_first(
    tmp_path: Path, pool: ModelPool, tiny: Profile, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = []
    real = generation_module.write_png

    def flaky(path, image, metadata):  # type: ignore[no-untyped-def]
        calls.append(path)
        if len(calls) == 2:
            raise OSError("disk full")
        return real(path, image, metadata)

    monkeypatch.setattr(generation_module, "write_png", flaky)
    spec = TaskSpec(task=Task.TEXT_TO_IMAGE, prompt="a fox", width=96, height=64, num_outputs=2, steps=1)
    with pytest.raises(OSError, match="disk full"):
        run(spec, profile=tiny, pool=pool, out_dir=tmp_path / "out")
    assert calls and not any((tmp_path / "out").iterdir())


def test_same_seed_gives_the_same_picture_and_a_chosen_seed_is_recorded_and_repeatable(
    tmp_path: Path, pool: ModelPool, tiny: Profile
) -> None:
    base = TaskSpec(task=Task.TEXT_TO_IMAGE, prompt="a fox", width=96, height=64, steps=2)
    first = run(base, profile=tiny, pool=pool, out_dir=tmp_path / "a")
    seed = first.spec.seed
    assert seed is not None and any(f"chose {seed}" in n for n in first.notes)
    assert read_metadata(Path(first.outputs[0].path))["seed"] == seed
    again = run(base.model_copy(update={"seed": seed}), profile=tiny, pool=pool, out_dir=tmp_path / "b")
    pixels = [np.asarray(Image.open(r.outputs[0].path)) for r in (first, again)]
    assert np.array_equal(*pixels)


@pytest.mark.slow
def test_several_outputs_get_consecutive_seeds(tmp_path: Path, pool: ModelPool, tiny: Profile) -> None:
    spec = TaskSpec(task=Task.TEXT_TO_IMAGE, prompt="a fox", width=96, height=64, num_outputs=3, seed=10, steps=1)
    result = run(spec, profile=tiny, pool=pool, out_dir=tmp_path)
    assert [o.seed for o in result.outputs] == [10, 11, 12]
    assert len({o.path for o in result.outputs}) == 3


def test_sizes_frames_and_fps_are_snapped_and_every_change_is_reported(
    tmp_path: Path, pool: ModelPool, tiny: Profile
) -> None:
    spec = TaskSpec(task=Task.TEXT_TO_VIDEO, prompt="a fox", width=100, height=70, num_frames=8, fps=24, steps=1)
    result = run(spec, profile=tiny, pool=pool, out_dir=tmp_path)
    out = result.outputs[0]
    assert (out.width, out.height, out.fps) == (96, 64, 16)
    assert (out.num_frames - 1) % 4 == 0
    notes = " | ".join(result.notes)
    assert "100x70 snapped to 96x64" in notes and "24 fps asked" in notes and "snapped to" in notes
    assert result.spec.duration_s == pytest.approx((out.num_frames - 1) / 16, abs=1e-3)


def test_progress_reports_every_denoising_step_in_order(tmp_path: Path, pool: ModelPool, tiny: Profile) -> None:
    events = []
    spec = TaskSpec(task=Task.TEXT_TO_IMAGE, prompt="a fox", width=96, height=64, steps=3, seed=1)
    run(spec, profile=tiny, pool=pool, out_dir=tmp_path, on_progress=events.append)
    stages = [e.stage for e in events]
    assert stages.index("load") < stages.index("prepare") < stages.index("denoise") < stages.index("write")
    assert [e.done for e in events if e.stage == "denoise"] == [1, 2, 3]


def test_a_clip_too_short_to_make_a_video_is_refused(
    media: Callable[..., str], tmp_path: Path, pool: ModelPool, tiny: Profile
) -> None:
    clip = media("blink.mp4", "photo", size=(96, 64), frames=2, fps=16)
    spec = TaskSpec(
        task=Task.VIDEO_EDITING,
        prompt="make it night",
        inputs=[Input(path=clip, media=Media.VIDEO, role=Role.SOURCE)],
        width=96,
        height=64,
        num_frames=17,
    )
    with pytest.raises(InputError, match=r"blink.mp4: the source video gives only 2 frame\(s\).*at least 5"):
        run(spec, profile=tiny, pool=pool, out_dir=tmp_path / "out")
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())
