"""Every one of the 12 tasks, end to end: `unison run ... --profile tiny --json` plans, runs and reports."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import av
import pytest
from PIL import Image

from unison_agent.cli import main
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
