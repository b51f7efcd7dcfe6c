"""`unison session run|list|show|undo`: scripted sessions in one process, and resuming after a kill."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from unison_agent.cli import main
from unison_agent.sessions import ArtifactStore

SIX_STEPS = """\
- request: "a cabin in the woods, 128x96"
- request: "make it winter, 128x96"
- request: "now make it 9:16"
- undo: true
- request: "animate it, 1 second, 128x96"
- request: "what is in it?"
"""


@pytest.mark.slow
def test_six_step_script_prints_the_lineage_and_sizes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    script = tmp_path / "six.yaml"
    script.write_text(SIX_STEPS)
    ws = tmp_path / "ws"
    code = main(["session", "run", str(script), "--profile", "tiny", "-w", str(ws), "--json", "-q"])
    out, err = capsys.readouterr()
    assert code == 0, err
    report = json.loads(out)
    gen, winter, tall, undo, anim, asked = report["steps"]
    assert [s.get("spec", {}).get("task") for s in (gen, winter, tall, anim, asked)] == [
        "text_to_image",
        "image_editing",
        "image_editing",
        "image_to_video",
        "video_understanding",
    ]
    assert winter["parents"] == [gen["outputs"][0]["id"]]
    assert tall["parents"] == [winter["outputs"][0]["id"]]
    assert (tall["outputs"][0]["width"], tall["outputs"][0]["height"]) == (480, 848)
    assert undo == {"undo": True, "undone": "now make it 9:16"}
    assert anim["parents"] == [winter["outputs"][0]["id"]]  # the 9:16 version was undone
    assert {k: anim["outputs"][0][k] for k in ("media", "width", "height", "num_frames")} == {
        "media": "video",
        "width": 128,
        "height": 96,
        "num_frames": 17,
    }
    assert asked["parents"] == [anim["outputs"][0]["id"]] and isinstance(asked["text"], str)

    assert main(["session", "show", report["session"], "-w", str(ws)]) == 0
    shown = capsys.readouterr().out
    assert "make it winter" in shown and "now make it 9:16" not in shown  # history is the current branch
    assert main(["session", "list", "-w", str(ws), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)[0]["id"] == report["session"]
    assert main(["session", "undo", report["session"], "-w", str(ws)]) == 0
    assert "undid: what is in it?" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("- request: 'a cat'\n  undo: true\n", "step 1: a step is either"),
        ("- colour: red\n", "step 1"),
        ("- request: 'edit this'\n  attach: [nope.png]\n", "attachment nope.png does not exist"),
        ("just words", "expected a list of steps"),
        ("- request: [unclosed\n", "not valid YAML"),
    ],
)
def test_bad_scripts_exit_2_naming_the_step(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str, message: str
) -> None:
    script = tmp_path / "bad.yaml"
    script.write_text(text)
    code = main(["session", "run", str(script), "--profile", "tiny", "-w", str(tmp_path / "ws")])
    assert code == 2 and message in capsys.readouterr().err


def test_a_step_missing_its_input_stops_the_script_with_exit_1(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    script = tmp_path / "s.yaml"
    script.write_text("- request: 'edit my photo with the mask, 128x96'\n- request: 'a dog, 128x96'\n")
    code = main(["session", "run", str(script), "--profile", "tiny", "-w", str(tmp_path / "ws"), "--json", "-q"])
    report = json.loads(capsys.readouterr().out)
    assert code == 1 and len(report["steps"]) == 1 and "add `attach: [file]`" in report["steps"][0]["error"]


@pytest.mark.slow
def test_a_run_killed_mid_step_resumes_with_nothing_lost_and_nothing_half_written(tmp_path: Path) -> None:
    script = tmp_path / "long.yaml"
    script.write_text(
        "- request: 'a lighthouse, 128x96'\n"
        "- request: 'a storm over the sea, 128x128, 1 second, 20 steps'\n"
        "- request: 'make it night, 128x96'\n"
    )
    ws = tmp_path / "ws"
    cmd = [sys.executable, "-m", "unison_agent.cli", "session", "run", str(script), "-p", "tiny", "-w", str(ws)]
    with subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) as proc:
        assert proc.stderr is not None and proc.stdout is not None
        for line in proc.stderr:  # progress lines: kill once the second step is denoising
            if line.strip().startswith("denoise") and "/20" in line:
                break
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=60)
        first_out = proc.stdout.read()
    assert "1. a lighthouse" in first_out and "2. a storm" not in first_out

    store = ArtifactStore(ws)  # reopening sweeps what the killed step left
    [info] = store.sessions()
    assert [s.request for s in store.history(info.id)] == ["a lighthouse, 128x96"]
    kept = {a.id for a in store.artifacts(info.id)}
    assert {p.name.split(".")[0] for p in store.files.iterdir()} == kept  # no orphan files
    assert not list(ws.glob(".run-*"))

    done = subprocess.run([*cmd, "--session", info.id, "--json", "-q"], capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["session"] == info.id
    assert [s["request"] for s in report["steps"]] == [
        "a lighthouse, 128x96",
        "a storm over the sea, 128x128, 1 second, 20 steps",
        "make it night, 128x96",
    ]
    assert [s.request for s in store.history(info.id)] == [s["request"] for s in report["steps"]]


# Runs `unison ARGS...` with ArtifactStore.<method> wrapped so that the process kills itself (SIGKILL: no
# cleanup, no finally) right after the <nth> call has committed its transaction.
_DIE_AFTER_COMMIT = textwrap.dedent(
    """
    import os, sys
    from unison_agent.cli import main
    from unison_agent.sessions import ArtifactStore

    method, nth = sys.argv[1], int(sys.argv[2])
    real = getattr(ArtifactStore, method)
    calls = []

    def then_die(self, *args, **kwargs):
        done = real(self, *args, **kwargs)
        calls.append(done)
        if len(calls) == nth:
            os.kill(os.getpid(), 9)
        return done

    setattr(ArtifactStore, method, then_die)
    sys.exit(main(sys.argv[3:]))
    """
)


def _killed_after_commit(method: str, nth: int, script: Path, ws: Path) -> str:
    """Runs ``script`` in a child that dies right after the ``nth`` ``ArtifactStore.<method>`` commit; returns
    the session id."""
    args = ["session", "run", str(script), "-p", "tiny", "-w", str(ws), "-q"]
    child = subprocess.run(
        [sys.executable, "-c", _DIE_AFTER_COMMIT, method, str(nth), *args], capture_output=True, text=True, timeout=600
    )
    assert child.returncode == -signal.SIGKILL, child.stderr
    [info] = ArtifactStore(ws).sessions()
    return info.id


def _resume(script: Path, ws: Path, sid: str, capsys: pytest.CaptureFixture[str]) -> dict:
    code = main(["session", "run", str(script), "-p", "tiny", "-w", str(ws), "--session", sid, "--json", "-q"])
    out, err = capsys.readouterr()
    assert code == 0, err
    report: dict = json.loads(out)
    return report


@pytest.mark.slow
def test_a_step_killed_right_after_its_commit_is_not_run_again_on_resume(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    script = tmp_path / "three.yaml"
    requests = ["a lighthouse, 64x64, 2 steps", "a cabin in the woods, 64x64, 2 steps", "make it night, 64x64, 2 steps"]
    script.write_text("".join(f"- request: '{r}'\n" for r in requests))
    ws = tmp_path / "ws"
    sid = _killed_after_commit("record_step", 2, script, ws)
    store = ArtifactStore(ws)
    [cabin] = store.history(sid)[1].outputs

    report = _resume(script, ws, sid, capsys)
    assert [s["request"] for s in report["steps"]] == requests
    assert [o["id"] for o in report["steps"][1]["outputs"]] == [cabin]  # rebuilt from the store, not made again
    assert report["steps"][2]["parents"] == [cabin]
    assert [s.request for s in store.history(sid)] == requests
    assert len(store.artifacts(sid)) == 3
    assert not (ws / "scripts").exists()  # progress lives in the database only


@pytest.mark.slow
def test_an_undo_killed_right_after_its_commit_is_not_undone_twice_on_resume(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    script = tmp_path / "undo.yaml"
    script.write_text(
        "- request: 'a lighthouse, 64x64, 2 steps'\n"
        "- request: 'a cabin in the woods, 64x64, 2 steps'\n"
        "- undo: true\n"
        "- request: 'make it night, 64x64, 2 steps'\n"
    )
    ws = tmp_path / "ws"
    sid = _killed_after_commit("undo", 1, script, ws)
    store = ArtifactStore(ws)
    [lighthouse] = store.history(sid)[0].outputs

    report = _resume(script, ws, sid, capsys)
    assert report["steps"][2] == {"undo": True, "undone": "a cabin in the woods, 64x64, 2 steps"}
    assert report["steps"][3]["parents"] == [lighthouse]  # "it" is the lighthouse: one undo, not two
    assert [s.request for s in store.history(sid)] == ["a lighthouse, 64x64, 2 steps", "make it night, 64x64, 2 steps"]


def test_a_session_of_an_older_version_resumes_from_its_progress_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    script = tmp_path / "two.yaml"
    script.write_text("- request: 'a lighthouse, 64x64, 2 steps'\n- request: 'a cabin in the woods, 64x64, 2 steps'\n")
    ws = tmp_path / "ws"
    store = ArtifactStore(ws)
    sid = store.new_session("script two.yaml")
    first = {"request": "a lighthouse, 64x64, 2 steps", "spec": None, "outputs": [], "parents": [], "text": None}
    first |= {"notes": [], "error": None}
    (ws / "scripts").mkdir()
    (ws / "scripts" / f"{sid}.json").write_text(json.dumps({"steps": [first]}))

    report = _resume(script, ws, sid, capsys)
    assert report["steps"][0] == first
    assert [s.request for s in store.history(sid)] == ["a cabin in the woods, 64x64, 2 steps"]


_LISTER = textwrap.dedent(
    """
    import contextlib, io, sys, time
    from pathlib import Path
    from unison_agent.cli import main

    ws, stop = sys.argv[1], Path(sys.argv[2])
    deadline = time.monotonic() + 600
    lists = 0
    while not stop.exists() and time.monotonic() < deadline:
        with contextlib.redirect_stdout(io.StringIO()):
            code = main(["session", "list", "-w", ws, "--json"])
        if code != 0:
            sys.exit(code)
        lists += 1
    print(lists)
    """
)


@pytest.mark.slow
def test_a_script_finishes_every_step_while_another_process_lists_sessions_in_a_loop(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    script = tmp_path / "busy.yaml"
    script.write_text(
        "- request: 'a video of waves, 64x64, 9 frames, 2 steps'\n"
        "- request: 'a cabin in the woods, 64x64, 2 steps'\n"
        "- request: 'make it night, 64x64, 2 steps'\n"
        "- request: 'animate it, 64x64, 9 frames, 2 steps'\n"
    )
    ws = tmp_path / "ws"
    ArtifactStore(ws)
    stop = tmp_path / "stop"
    lister = subprocess.Popen(
        [sys.executable, "-c", _LISTER, str(ws), str(stop)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        # The script runs here (its models stay loaded for the other tests); the lister is another process.
        code = main(["session", "run", str(script), "-p", "tiny", "-w", str(ws), "--json", "-q"])
    finally:
        stop.touch()
        lists, lister_err = lister.communicate(timeout=120)
    out, err = capsys.readouterr()
    assert code == 0, err
    assert lister.returncode == 0 and int(lists) > 0, lister_err
    report = json.loads(out)
    assert len(report["steps"]) == 4 and not any(s["error"] for s in report["steps"])
    store = ArtifactStore(ws)
    made = [o["id"] for s in report["steps"] for o in s["outputs"]]
    assert len(made) == 4 and all(Path(store.get(aid).path).is_file() for aid in made)
    assert {p.name.split(".")[0] for p in store.files.iterdir()} == set(made)  # no orphan files
    assert not list(ws.glob(".run-*"))
