"""`unison run` end to end on the tiny profile: every one of the 12 tasks plans, runs and reports; the plan is shown
before the run; bad text, an unusable --out or a corrupt attachment stop it with one line before any file is
written; SIGTERM and SIGHUP cancel it like Ctrl-C, leaving no files."""

from __future__ import annotations

import json
import queue
import signal
import struct
import subprocess
import sys
import threading
import time
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import av
import pytest
from PIL import Image

import unison_agent.tools
import unison_agent.tools.executors
from unison_agent.cli import main
from unison_agent.spec import MAX_REQUEST_CHARS
from unison_agent.tools.outputs import read_metadata

# (request, attachments as (name, look), task, media, width, height, frames)
CASES = [
    ("What is the capital of France?", [], "text_understanding", None, 0, 0, 0),
    ("What is in this picture?", [("photo.png", "photo")], "image_understanding", None, 0, 0, 0),
    ("What happens in this video?", [("clip.mp4", "photo")], "video_understanding", None, 0, 0, 0),
    ("a red fox in the snow, 96x64", [], "text_to_image", "image", 96, 64, 1),
    ("a video of a red fox running in the snow, 96x64, 5 frames", [], "text_to_video", "video", 96, 64, 5),
    ("make the sky purple, 96x64", [("photo.png", "photo"), ("mask.png", "mask")], "image_editing", "image", 96, 64, 1),
    (
        "replace the dog with a cat in this video, 96x64, 5 frames",
        [("clip.mp4", "photo"), ("mask.png", "mask")],
        "video_editing",
        "video",
        96,
        64,
        5,
    ),
    ("a picture of this dog on a beach, 96x64", [("dog.png", "photo")], "image_reference", "image", 96, 64, 1),
    (
        "a video of this dog running on a beach, 64x96, 9 frames",
        [("dog.png", "photo")],
        "video_reference",
        "video",
        64,
        96,
        9,
    ),
    ("animate this photo, 96x64, 5 frames", [("photo.png", "photo")], "image_to_video", "video", 96, 64, 5),
    (
        "a robot dancing, following the moves in this pose video, 96x64, 5 frames",
        [("pose.mp4", "pose")],
        "video_control",
        "video",
        96,
        64,
        5,
    ),
    ("a castle following this depth map, 96x64", [("depth.png", "depth")], "image_control", "image", 96, 64, 1),
]


def _run_json(args: list[str], capsys: pytest.CaptureFixture[str]) -> dict:
    code = main(args)
    out, err = capsys.readouterr()
    assert code == 0, err
    return json.loads(out)


@pytest.mark.parametrize("case", CASES, ids=[c[2] for c in CASES])
def test_every_task_runs_on_the_tiny_profile_with_the_asked_kind_size_and_frames(
    case: tuple, media: Callable[..., str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text, attachments, task, kind, width, height, frames = case
    files = [media(name, look, size=(96, 72), frames=12, fps=8) for name, look in attachments]
    out_dir = tmp_path / "out"
    args = ["run", text, "--profile", "tiny", "--out", str(out_dir), "--json", "--quiet"]
    for f in files:
        args += ["--attach", f]
    result = _run_json(args, capsys)
    assert result["spec"]["task"] == task
    if kind is None:
        assert isinstance(result["text"], str)
        assert "outputs" not in result
        assert not out_dir.exists() or not any(out_dir.iterdir())
        return
    [output] = result["outputs"]
    assert (output["media"], output["width"], output["height"], output["num_frames"]) == (kind, width, height, frames)
    path = Path(output["path"])
    assert path.parent == out_dir and path.exists()
    meta = read_metadata(path)
    assert meta["seed"] == output["seed"] and meta["spec"]["task"] == task
    if kind == "image":
        with Image.open(path) as im:
            assert im.size == (width, height)
    else:
        assert output["fps"] == 16
        with av.open(str(path)) as container:
            stream = container.streams.video[0]
            assert (stream.codec_context.width, stream.codec_context.height) == (width, height)
            assert float(stream.average_rate) == 16
            assert sum(1 for _ in container.decode(stream)) == frames


def test_run_prints_paths_and_notes_without_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["run", "a red fox in the snow, 100x70, seed 5", "--profile", "tiny", "--out", str(tmp_path), "-q"])
    out, _err = capsys.readouterr()
    assert code == 0
    assert "note      size 100x70 snapped to 96x64" in out
    assert out.strip().endswith("(image 96x64, seed 5)")
    assert out.startswith("task      text_to_image")


@pytest.mark.slow
def test_the_installed_command_runs_in_a_fresh_process(tmp_path: Path) -> None:
    # Once through a real process: the console script, profile files shipped as package data, progress on stderr.
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "unison_agent.cli",
            "run",
            "a lighthouse at dusk, 96x64, 5 frames, video",
            "--profile",
            "tiny",
            "--out",
            str(tmp_path),
            "--json",
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)
    assert result["outputs"][0]["num_frames"] == 5
    assert "denoise" in proc.stderr


# ------------------------------------------------------------------------------------------ bad input, early
def test_a_request_longer_than_the_limit_exits_2_naming_the_limit_before_any_work(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = "a red fox " * (MAX_REQUEST_CHARS // 10) + "!"
    code = main(["run", text, "--profile", "tiny", "--out", str(tmp_path / "out"), "-q"])
    out, err = capsys.readouterr()
    assert code == 2 and out == ""
    assert err.startswith("unison run: error: ") and len(err.strip().splitlines()) == 1
    assert f"{MAX_REQUEST_CHARS:,}" in err and f"{len(text):,}" in err
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("where", ["file", "under-a-file", "proc"])
def test_an_out_that_cannot_be_a_folder_exits_2_with_one_line_before_any_work(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, where: str
) -> None:
    if where == "proc" and not Path("/proc/self").is_dir():
        pytest.skip("no /proc here")
    file = tmp_path / "taken.png"
    file.write_bytes(b"keep me")
    out_dir = {"file": file, "under-a-file": file / "sub", "proc": Path("/proc/unison-out")}[where]

    def no_run(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("the run started")

    monkeypatch.setattr(unison_agent.tools.executors, "run", no_run)  # the local executor's run
    code = main(["run", "a red fox in the snow, 96x64", "--profile", "tiny", "--out", str(out_dir), "-q"])
    out, err = capsys.readouterr()
    assert code == 2 and out == ""
    assert err.startswith(f"unison run: error: --out {out_dir}: ") and len(err.strip().splitlines()) == 1
    assert file.read_bytes() == b"keep me" and sorted(p.name for p in tmp_path.iterdir()) == ["taken.png"]


def _truncated_png(path: Path) -> str:
    # A header that probes fine (the planner reads only the header of a picture this large) and pixel data that
    # ends half way: the run finds out when it decodes the whole picture.
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    width, height = 8192, 7813  # just over media.LOOK_MAX_PIXELS
    idat = zlib.compress(b"\x00" * ((width + 1) * height), 1)
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat[: len(idat) // 2]))
    return str(path)


def test_an_attachment_found_corrupt_at_run_time_exits_2_like_plan_and_writes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    photo = _truncated_png(tmp_path / "photo.png")
    request = ["make the sky purple, 96x64", "--attach", photo]
    assert main(["plan", *request]) == 0  # the planner accepts it: only the header is read
    capsys.readouterr()
    out_dir = tmp_path / "out"
    code = main(["run", *request, "--profile", "tiny", "--out", str(out_dir), "-q"])
    _out, err = capsys.readouterr()
    assert code == 2, err
    assert err.startswith("unison run: error: photo.png: corrupt or truncated image") and err.count("\n") == 1
    assert not out_dir.exists()


# ------------------------------------------------------------------------------------------ what is shown when
def test_the_plan_is_printed_before_the_run_starts_and_the_result_after_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    real = unison_agent.tools.executors.run
    seen_at_start: list[str] = []

    def run_and_look(*args: Any, **kwargs: Any) -> Any:
        seen_at_start.append(capsys.readouterr().out)
        return real(*args, **kwargs)

    monkeypatch.setattr(unison_agent.tools.executors, "run", run_and_look)
    code = main(["run", "a red fox in the snow, 100x70, seed 5", "--profile", "tiny", "--out", str(tmp_path), "-q"])
    after = capsys.readouterr().out
    assert code == 0
    assert seen_at_start == [
        "task      text_to_image\nprompt    a red fox in the snow\noutput    image 100x70\nseed      5\n"
    ]
    assert after.startswith("note      size 100x70 snapped to 96x64")
    assert after.strip().endswith("(image 96x64, seed 5)") and "task " not in after


def test_with_json_the_only_output_is_one_json_object(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["run", "a red fox in the snow, 96x64", "--profile", "tiny", "--out", str(tmp_path), "--json"])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert json.loads(out)["outputs"][0]["width"] == 96


# ------------------------------------------------------------------------------------------ SIGTERM, SIGHUP
# Runs `unison run` in a process of its own that stops at a chosen moment until a signal comes: at the write
# stage after the clip is encoded into its temporary `.part` file, or in the progress callback of a stage. It
# says "HOLD" on stderr when it is there, so the test sends the signal at that moment and never races the run.
_HOLDING_RUN = r"""
import signal
import sys

# SIGHUP and SIGTERM at their defaults, as for a command typed in a terminal: a test run started under `nohup`
# ignores SIGHUP, and children inherit that. Done here, not in a preexec_fn: the test process holds threads
# (Serve's testing-mode replicas among them), and a fork that runs Python code before exec can deadlock then.
signal.signal(signal.SIGHUP, signal.SIG_DFL)
signal.signal(signal.SIGTERM, signal.SIG_DFL)
from unison_agent import cli
from unison_agent.tools import outputs

where = sys.argv[1]

def hold():
    print("HOLD " + where, file=sys.stderr, flush=True)
    sys.stdin.read()  # returns only if the test closes stdin (then the run goes on and the test fails)

if where == "write":
    encode = outputs._encode_h264

    def encode_and_hold(*args, **kwargs):
        encode(*args, **kwargs)
        hold()

    outputs._encode_h264 = encode_and_hold
else:
    show = cli._ProgressLine.__call__

    def show_and_hold(self, event):
        show(self, event)
        if event.stage == where:
            hold()

    cli._ProgressLine.__call__ = show_and_hold
sys.exit(cli.main(sys.argv[2:]))
"""


def _wait_for(lines: queue.Queue[str], marker: str, deadline: float) -> list[str]:
    seen: list[str] = []
    while True:
        try:
            line = lines.get(timeout=max(0.0, deadline - time.monotonic()))
        except queue.Empty:
            raise AssertionError(f"no {marker!r} on stderr before the deadline; saw {seen}") from None
        seen.append(line)
        if line.startswith(marker):
            return seen


@pytest.mark.slow
@pytest.mark.parametrize(
    ("where", "sig"),
    [("write", signal.SIGTERM), ("denoise", signal.SIGHUP)],
    ids=["sigterm-while-writing", "sighup-while-denoising"],
)
def test_a_signal_cancels_a_run_like_ctrl_c_exit_130_and_no_files_left(
    tmp_path: Path, where: str, sig: signal.Signals
) -> None:
    out_dir = tmp_path / "out"
    out_dir.mkdir()  # an existing folder must stay, empty
    request = ["run", "a lighthouse at dusk, video, 64x64, 5 frames", "--profile", "tiny", "--out", str(out_dir)]
    lines: queue.Queue[str] = queue.Queue()
    seen: list[str] = []
    with subprocess.Popen(
        [sys.executable, "-c", _HOLDING_RUN, where, *request],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    ) as proc:
        stderr, stdout = proc.stderr, proc.stdout
        assert stderr is not None and stdout is not None

        def pump() -> None:
            for line in stderr:
                lines.put(line)

        reader = threading.Thread(target=pump, daemon=True)
        reader.start()
        try:
            seen = _wait_for(lines, f"HOLD {where}", time.monotonic() + 240)
            if where == "write":
                assert [p.name for p in out_dir.iterdir() if p.name.endswith(".part")], "not holding mid-write"
            proc.send_signal(sig)
            proc.wait(timeout=120)  # stdout holds a few lines only: the pipe cannot fill up and block the process
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait(timeout=30)
        reader.join(timeout=30)
        out = stdout.read()
    err = "".join(seen) + "".join(lines.queue)
    assert proc.returncode == 130, err
    assert "unison run: cancelled; nothing was written" in err and "Traceback" not in err
    assert out.startswith("task      text_to_video")  # the plan was shown before the run began
    assert list(out_dir.iterdir()) == []
