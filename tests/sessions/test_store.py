"""The artifact store keeps every input and output with lineage, and a history with undo, redo and branches."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from unison_agent.sessions import ArtifactRecord, ArtifactStore, StoreError, resolve
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
