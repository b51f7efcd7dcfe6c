"""The artifact store keeps every input and output with lineage, and a history with undo, redo and branches."""

from __future__ import annotations

import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from unison_agent.sessions import ArtifactRecord, ArtifactStore, ScriptMark, StoreError, resolve
from unison_agent.spec import Media


def _output(
    store: ArtifactStore,
    sid: str,
    media: Callable[..., str],
    name: str,
    parents: tuple[str, ...] = (),
    look: str = "photo",
) -> ArtifactRecord:
    path = media(name, look, size=(96, 64))
    fresh = Path(path).with_name("out-" + Path(path).name)
    shutil.copyfile(path, fresh)
    is_video = fresh.suffix == ".mp4"
    return store.add_output(
        sid,
        fresh,
        media=Media.VIDEO if is_video else Media.IMAGE,
        width=96,
        height=64,
        num_frames=12 if is_video else 1,
        fps=8 if is_video else None,
        seed=1,
        spec={"task": "text_to_image"},
        parents=list(parents),
    )


def test_inputs_are_copied_and_outputs_moved_with_their_facts(tmp_path: Path, media: Callable[..., str]) -> None:
    store = ArtifactStore(tmp_path / "ws")
    sid = store.new_session("cabin")
    src = media("IMG_1.jpg", "photo", size=(120, 80))
    rec = store.add_input(sid, src)
    assert Path(src).exists() and Path(rec.path).exists() and Path(rec.path).parent == store.files
    assert (rec.media, rec.width, rec.height, rec.name, rec.origin) == (Media.IMAGE, 120, 80, "IMG_1.jpg", "input")
    out = _output(store, sid, media, "a.png", parents=(rec.id,))
    assert out.parents == [rec.id] and out.origin == "output"
    assert store.get("@" + out.id) == out


def test_everything_survives_reopening_the_workspace(tmp_path: Path, media: Callable[..., str]) -> None:
    store = ArtifactStore(tmp_path / "ws")
    sid = store.new_session()
    out = _output(store, sid, media, "a.png")
    store.record_step(sid, "a cabin", spec={"task": "text_to_image"}, inputs=[], outputs=[out.id])
    again = ArtifactStore(tmp_path / "ws")
    assert again.get(out.id) == out
    assert [s.request for s in again.history(sid)] == ["a cabin"]


def test_undo_redo_and_a_new_step_after_undo_starts_a_branch(tmp_path: Path, media: Callable[..., str]) -> None:
    store = ArtifactStore(tmp_path / "ws")
    sid = store.new_session()
    ids = []
    for name in ("a", "b", "c"):
        out = _output(store, sid, media, f"{name}.png")
        ids.append(out.id)
        store.record_step(sid, name, spec=None, inputs=[], outputs=[out.id])
    assert store.undo(sid).request == "c"
    assert [s.request for s in store.history(sid)] == ["a", "b"]
    assert store.redo(sid).request == "c"
    store.undo(sid)
    store.undo(sid)
    d = _output(store, sid, media, "d.png")
    store.record_step(sid, "d", spec=None, inputs=[], outputs=[d.id])
    assert [s.request for s in store.history(sid)] == ["a", "d"]
    assert store.get(ids[2]).id == ids[2]  # the undone branch is kept, reachable by id
    assert store.redo(sid) is None


def test_unknown_session_and_artifact_are_named(tmp_path: Path) -> None:
    store = ArtifactStore(tmp_path / "ws")
    with pytest.raises(StoreError, match="no session 'nope'"):
        store.session("nope")
    with pytest.raises(StoreError, match="no artifact @zzzzzz"):
        store.get("zzzzzz")


def test_files_of_a_step_killed_before_it_was_recorded_are_swept_on_open(tmp_path: Path) -> None:
    store = ArtifactStore(tmp_path / "ws")
    (store.files / ".abcdef.png.tmp").write_bytes(b"half")
    (store.files / "qqqqqq.png").write_bytes(b"orphan")
    ArtifactStore(tmp_path / "ws")
    assert list(store.files.iterdir()) == []


def test_a_file_being_added_is_not_swept_by_an_open_before_its_row_is_committed(
    tmp_path: Path, media: Callable[..., str], monkeypatch: pytest.MonkeyPatch
) -> None:
    store = ArtifactStore(tmp_path / "ws")
    sid = store.new_session()
    real_replace = os.replace

    def replace_then_open(src: str | os.PathLike[str], dst: str | os.PathLike[str]) -> None:
        real_replace(src, dst)
        if Path(dst).parent == store.files and not Path(dst).name.startswith("."):
            # The file is in files/, its row not committed yet: another client opens the workspace now.
            ArtifactStore(tmp_path / "ws")

    monkeypatch.setattr(os, "replace", replace_then_open)
    added = _output(store, sid, media, "a.png")
    monkeypatch.undo()
    assert Path(added.path).is_file()
    ArtifactStore(tmp_path / "ws")  # with nothing being written, nothing of it is an orphan either
    assert Path(added.path).is_file()


def _run_child(code: str, ws: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", code, str(ws)], capture_output=True, text=True, timeout=120, check=False
    )


@pytest.mark.slow
def test_a_live_runs_scratch_folder_survives_an_open_in_another_process(tmp_path: Path) -> None:
    store = ArtifactStore(tmp_path / "ws")
    with store.scratch() as folder:
        (folder / "clip.mp4.part").write_bytes(b"frames so far")
        opened = _run_child(
            "import sys; from unison_agent.sessions import ArtifactStore; ArtifactStore(sys.argv[1])", store.workspace
        )
        assert opened.returncode == 0, opened.stderr
        assert (folder / "clip.mp4.part").read_bytes() == b"frames so far"
    assert not folder.exists() and not list(store.workspace.glob(".run-*"))  # the owner cleans up after itself


def test_the_scratch_folder_of_a_run_killed_with_sigkill_is_swept_on_the_next_open(tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    ArtifactStore(ws)
    code = (
        "import os, sys\n"
        "from unison_agent.sessions import ArtifactStore\n"
        "scratch = ArtifactStore(sys.argv[1]).scratch()\n"
        "folder = scratch.__enter__()\n"
        "(folder / 'clip.mp4.part').write_bytes(b'half')\n"
        "os.kill(os.getpid(), 9)\n"
    )
    killed = _run_child(code, ws)
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    assert len([p for p in ws.glob(".run-*") if p.is_dir()]) == 1  # what the killed run left
    ArtifactStore(ws)
    assert not list(ws.glob(".run-*"))


def test_a_scratch_folder_without_a_lock_is_swept_only_when_a_day_old(tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    ArtifactStore(ws)
    young, old = ws / ".run-young123", ws / ".run-old12345"  # as older versions left them: no lock file
    for folder in (young, old):
        folder.mkdir()
        (folder / "a.png").write_bytes(b"x")
    two_days_ago = time.time() - 2 * 24 * 3600
    os.utime(old, (two_days_ago, two_days_ago))
    ArtifactStore(ws)
    assert young.is_dir() and not old.exists()


def test_script_marks_are_written_with_the_step_or_undo_and_a_step_is_marked_once(tmp_path: Path) -> None:
    store = ArtifactStore(tmp_path / "ws")
    sid = store.new_session()
    first = store.record_step(sid, "a cabin", spec=None, inputs=[], outputs=[], mark=1)
    store.record_step(sid, "a dog", spec=None, inputs=[], outputs=[], mark=2)
    undone = store.undo(sid, mark=3)
    assert undone is not None
    with pytest.raises(StoreError, match=r"script step 2 of session \w+ is already done"):
        store.record_step(sid, "a dog", spec=None, inputs=[], outputs=[], mark=2)
    with pytest.raises(StoreError, match=r"script step 3 of session \w+ is already done"):
        store.undo(sid, mark=3)
    assert [s.request for s in store.history(sid)] == ["a cabin"]  # the refused step and undo left nothing
    assert store.script_marks(sid) == [
        ScriptMark(number=1, undo=False, step=first.id),
        ScriptMark(number=2, undo=False, step=undone.id),
        ScriptMark(number=3, undo=True, step=undone.id),
    ]
    store.undo(sid)
    assert store.undo(sid, mark=4) is None
    assert store.script_marks(sid)[-1] == ScriptMark(number=4, undo=True, step=None)


def test_a_workspace_of_an_older_version_gains_the_script_marks_table_on_open(tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    ws.mkdir()
    with sqlite3.connect(ws / "unison.db") as db:  # the schema before script marks
        db.executescript(
            "CREATE TABLE sessions (id TEXT PRIMARY KEY, created REAL NOT NULL, head INTEGER, title TEXT NOT NULL "
            "DEFAULT ''); CREATE TABLE steps (id INTEGER PRIMARY KEY AUTOINCREMENT, session TEXT NOT NULL, parent "
            "INTEGER, created REAL NOT NULL, request TEXT NOT NULL, spec TEXT, text TEXT, inputs TEXT NOT NULL, "
            "outputs TEXT NOT NULL); INSERT INTO sessions VALUES ('sold1234', 0, NULL, 'old');"
        )
    store = ArtifactStore(ws)
    assert store.script_marks("sold1234") == []
    store.record_step("sold1234", "a cabin", spec=None, inputs=[], outputs=[], mark=1)
    assert [m.number for m in store.script_marks("sold1234")] == [1]


def test_references_resolve_on_the_current_branch(tmp_path: Path, media: Callable[..., str]) -> None:
    store = ArtifactStore(tmp_path / "ws")
    sid = store.new_session()
    first = _output(store, sid, media, "a.png")
    store.record_step(sid, "a cabin", spec=None, inputs=[], outputs=[first.id])
    v1, v2 = _output(store, sid, media, "b.png"), _output(store, sid, media, "c.png")
    store.record_step(sid, "two variations", spec=None, inputs=[], outputs=[v1.id, v2.id])
    clip = _output(store, sid, media, "d.mp4")
    store.record_step(sid, "animate it", spec=None, inputs=[v2.id], outputs=[clip.id])

    def ids(text: str) -> list[str]:
        return [r.id for r in resolve(store, sid, text)]

    assert ids("now make it brighter") == [clip.id]
    assert ids("make the last image warmer") == [v2.id]
    assert ids("use the previous image") == [v1.id]
    assert ids("image 1 but at night") == [first.id]
    assert ids(f"combine @{first.id} with video 1") == [first.id, clip.id]
    assert ids("a new picture of a lake") == []
    with pytest.raises(StoreError, match="no image 9"):
        resolve(store, sid, "image 9")
    store.undo(sid)
    assert ids("animate it") == [v2.id]  # the undone clip is not "it"
    assert ids("the second one, wider") == [v2.id]
    assert ids("the first one") == [v1.id]
