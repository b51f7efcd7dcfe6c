"""The artifact store: every input and output of a session, with a stable short id, its file, media facts, the
spec that made it and its parents; and the session's history as a tree of steps, for undo, redo and branches.

Everything lives under one workspace folder: ``unison.db`` (SQLite, WAL, one transaction per change) and
``files/`` (the artifacts' files, named by id). A step is recorded in one transaction after its files are in
place, so a process killed mid-step leaves either the whole step or none of it; what an unrecorded step left is
swept on a later open, and only what is provably abandoned: a file in ``files/`` with no committed row (checked
under the database's write lock, which every writer of ``files/`` holds), and a run's scratch folder
(:meth:`ArtifactStore.scratch`) whose owner no longer holds its lock. Many processes may open one workspace at
once (a server, ``unison session list``, a script run): an open never touches another process's live run.

A script run marks each of its steps done in the same transaction as the step (``mark=`` of
:meth:`~ArtifactStore.record_step` and :meth:`~ArtifactStore.undo`), so a resumed script runs each step once.

History is a tree: each step's parent is the head when it was made. Undo moves the head to the parent, redo
to the newest child; a new step after an undo starts a branch, and the undone steps stay reachable by id.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import sqlite3
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, suppress
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from unison_agent.errors import SessionError
from unison_agent.media import probe
from unison_agent.spec import Media

if sys.platform != "win32":
    import fcntl

__all__ = ["ArtifactRecord", "ArtifactStore", "ScriptMark", "SessionInfo", "Step", "StoreError"]

# A scratch folder with no lock to ask (one made by an older version, or any on a platform without flock) is
# abandoned only when it is older than any run takes.
_UNLOCKED_STALE_S = 24 * 3600

_ALPHABET = "abcdefghijkmnpqrstuvwxyz23456789"  # no 0/o, 1/l: ids are read and typed by people
_SCHEMA = """
CREATE TABLE IF NOT EXISTS sessions (
    id TEXT PRIMARY KEY, created REAL NOT NULL, head INTEGER, title TEXT NOT NULL DEFAULT ''
);
CREATE TABLE IF NOT EXISTS steps (
    id INTEGER PRIMARY KEY AUTOINCREMENT, session TEXT NOT NULL REFERENCES sessions(id), parent INTEGER,
    created REAL NOT NULL, request TEXT NOT NULL, spec TEXT, text TEXT, inputs TEXT NOT NULL, outputs TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS artifacts (
    id TEXT PRIMARY KEY, session TEXT NOT NULL REFERENCES sessions(id), origin TEXT NOT NULL, file TEXT NOT NULL,
    name TEXT NOT NULL, media TEXT NOT NULL, width INTEGER NOT NULL, height INTEGER NOT NULL,
    num_frames INTEGER NOT NULL, fps REAL, seed INTEGER, spec TEXT, parents TEXT NOT NULL, created REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS artifacts_by_session ON artifacts(session, created);
CREATE INDEX IF NOT EXISTS steps_by_session ON steps(session, id);
CREATE TABLE IF NOT EXISTS script_marks (
    session TEXT NOT NULL REFERENCES sessions(id), number INTEGER NOT NULL, undo INTEGER NOT NULL,
    step INTEGER REFERENCES steps(id), PRIMARY KEY (session, number)
);
"""


@contextmanager
def connect(db_path: Path, *, wait: float = 30) -> Iterator[sqlite3.Connection]:
    """A connection to the workspace database ``db_path`` as every user of it opens one: WAL, foreign keys on,
    autocommit (transactions are explicit), rows by name, waiting up to ``wait`` seconds for another writer.
    Closed when the block ends."""
    db = sqlite3.connect(db_path, timeout=wait, isolation_level=None)
    try:
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA foreign_keys=ON")
        db.row_factory = sqlite3.Row
        yield db
    finally:
        db.close()


class StoreError(SessionError):
    """A session, step or artifact that does not exist, or a file that cannot be stored."""


class ArtifactRecord(BaseModel):
    """One stored input or output."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str
    session: str
    origin: Literal["input", "output"]
    path: str = Field(description="absolute path of the stored file")
    name: str = Field(description="the file's original name (inputs) or its output name")
    media: Media
    width: int
    height: int
    num_frames: int
    fps: float | None = None
    seed: int | None = None
    spec: dict[str, Any] | None = Field(default=None, description="the spec that made it (outputs)")
    parents: list[str] = Field(default_factory=list, description="ids of the artifacts it was made from")
    created: float


class Step(BaseModel):
    """One request of a session and what it produced."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: int
    session: str
    parent: int | None
    request: str
    spec: dict[str, Any] | None
    text: str | None
    inputs: list[str]
    outputs: list[str]
    created: float


class ScriptMark(BaseModel):
    """A script step done in a session, written in the same transaction as what it did."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    number: int = Field(description="the step's number in the script, from 1")
    undo: bool = Field(description="True for an undo step")
    step: int | None = Field(description="the step it recorded, or (undo) the step it undid; None: nothing to undo")


class SessionInfo(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str
    created: float
    head: int | None
    title: str
    steps: int


class ArtifactStore:
    """Artifacts and session histories under ``workspace`` (created if needed)."""

    def __init__(self, workspace: str | os.PathLike[str]) -> None:
        self.workspace = Path(workspace).expanduser().resolve()
        self.files = self.workspace / "files"
        self.files.mkdir(parents=True, exist_ok=True)
        self._db_path = self.workspace / "unison.db"
        with self._connect() as db:
            db.executescript(_SCHEMA)
        self._sweep()

    # ---------------------------------------------------------------------------------------- plumbing
    def _connect(self, *, wait: float = 30) -> AbstractContextManager[sqlite3.Connection]:
        return connect(self._db_path, wait=wait)

    @contextmanager
    def _transaction(self, *, wait: float = 30) -> Iterator[sqlite3.Connection]:
        """A write transaction (``BEGIN IMMEDIATE``: the workspace's one writer lock). Raises
        ``sqlite3.OperationalError`` when another writer holds the lock for longer than ``wait`` seconds."""
        with self._connect(wait=wait) as db:
            db.execute("BEGIN IMMEDIATE")
            try:
                yield db
            except BaseException:
                db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")

    @contextmanager
    def scratch(self) -> Iterator[Path]:
        """A new, empty folder under the workspace for one run's files, owned by this process until the block
        ends (then it is removed with whatever is left in it). While the owner lives, no open of the store (in any
        process) sweeps it; once the owner is gone, killed included, the next open does.

        Ownership is an OS lock (``flock``) on ``<folder>.lock``, which dies with its process. The lock file is
        locked before it gets that name, so a sweep never finds it unlocked while its owner lives. Without flock
        (Windows) there is no lock file, and the folder is swept only once it is older than any run takes.
        """
        if sys.platform == "win32":
            folder = Path(tempfile.mkdtemp(dir=self.workspace, prefix=".run-"))
            try:
                yield folder
            finally:
                shutil.rmtree(folder, ignore_errors=True)
            return
        lock_fd, pending = tempfile.mkstemp(dir=self.workspace, prefix=".run-lock-")
        named: Path | None = None
        folder = None
        try:
            fcntl.flock(lock_fd, fcntl.LOCK_EX)
            folder = Path(tempfile.mkdtemp(dir=self.workspace, prefix=".run-"))
            named = folder.with_name(folder.name + ".lock")
            os.replace(pending, named)
            yield folder
        finally:
            if folder is not None:
                shutil.rmtree(folder, ignore_errors=True)  # the folder first: a lone lock file is swept at once
            if named is not None:
                named.unlink(missing_ok=True)
            else:
                Path(pending).unlink(missing_ok=True)
            os.close(lock_fd)

    def _sweep(self) -> None:
        """Remove what killed runs left, and nothing a live run still uses (see the module docstring)."""
        self._sweep_files()
        self._sweep_scratch()

    def _sweep_files(self) -> None:
        # A look without the lock first: opens are frequent, orphans rare, and most opens then take no lock.
        with self._connect() as db:
            if not self._orphans(db):
                return
        try:
            # Every writer of files/ (_add) moves a file in and inserts its row under this lock, so a file
            # without a row seen while holding it is an orphan. A busy writer: sweep at a later open, not wait.
            with self._transaction(wait=0) as db:
                for path in self._orphans(db):
                    with suppress(OSError):
                        path.unlink(missing_ok=True)
        except sqlite3.OperationalError:
            return

    def _orphans(self, db: sqlite3.Connection) -> list[Path]:
        known = {row["id"] for row in db.execute("SELECT id FROM artifacts")}
        # "<id>.png" and its "<id>.json" sidecar belong to artifact <id>; ".<id>.png.tmp" to no one yet.
        return [p for p in self.files.iterdir() if p.name.startswith(".") or p.name.split(".", 1)[0] not in known]

    def _sweep_scratch(self) -> None:
        now = time.time()
        for path in self.workspace.glob(".run-*"):
            try:
                if path.name.startswith(".run-lock-"):  # a lock file not yet named: its run never started
                    if now - path.stat().st_mtime > _UNLOCKED_STALE_S:
                        path.unlink(missing_ok=True)
                elif path.name.endswith(".lock") and sys.platform != "win32":
                    self._sweep_locked(path, path.with_name(path.name.removesuffix(".lock")))
                elif (
                    # No lock: an older version's folder, or one a scratch() is naming this instant.
                    path.is_dir()
                    and not path.with_name(path.name + ".lock").exists()
                    and now - path.stat().st_mtime > _UNLOCKED_STALE_S
                ):
                    shutil.rmtree(path, ignore_errors=True)
            except OSError:  # gone meanwhile (its owner or another sweep), or not ours to touch: leave it
                continue

    def _sweep_locked(self, lock: Path, folder: Path) -> None:
        fd = os.open(lock, os.O_RDONLY)
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                return  # its run is alive
            if os.fstat(fd).st_ino != lock.stat().st_ino:
                return  # another sweep removed this one and a new run took the name
            shutil.rmtree(folder, ignore_errors=True)
            lock.unlink(missing_ok=True)
        finally:
            os.close(fd)

    def _new_id(self, db: sqlite3.Connection) -> str:
        while True:
            candidate = "".join(secrets.choice(_ALPHABET) for _ in range(6))
            if db.execute("SELECT 1 FROM artifacts WHERE id = ?", (candidate,)).fetchone() is None:
                return candidate

    # ---------------------------------------------------------------------------------------- sessions
    def new_session(self, title: str = "") -> str:
        """Start a session; returns its id."""
        with self._transaction() as db:
            while True:
                sid = "s" + "".join(secrets.choice(_ALPHABET) for _ in range(7))
                if db.execute("SELECT 1 FROM sessions WHERE id = ?", (sid,)).fetchone() is None:
                    break
            db.execute(
                "INSERT INTO sessions (id, created, head, title) VALUES (?, ?, NULL, ?)", (sid, time.time(), title)
            )
        return sid

    def sessions(self) -> list[SessionInfo]:
        """All sessions, newest first."""
        with self._connect() as db:
            rows = db.execute(
                "SELECT s.*, (SELECT COUNT(*) FROM steps WHERE session = s.id) AS n FROM sessions s "
                "ORDER BY created DESC"
            ).fetchall()
        return [
            SessionInfo(id=r["id"], created=r["created"], head=r["head"], title=r["title"], steps=r["n"]) for r in rows
        ]

    def session(self, sid: str) -> SessionInfo:
        """One session; raises StoreError naming the known sessions when it does not exist."""
        for info in self.sessions():
            if info.id == sid:
                return info
        known = ", ".join(s.id for s in self.sessions()[:10]) or "none yet"
        raise StoreError(f"no session {sid!r} in {self.workspace}; known: {known}")

    # ---------------------------------------------------------------------------------------- artifacts
    def add_input(self, sid: str, path: str | os.PathLike[str]) -> ArtifactRecord:
        """Copy an attachment into the store (probed first: a file that is not media raises MediaError)."""
        self.session(sid)
        info = probe(path)
        return self._add(sid, "input", Path(path), info.media, info.width, info.height, info.num_frames, info.fps)

    def add_output(
        self,
        sid: str,
        path: str | os.PathLike[str],
        *,
        media: Media,
        width: int,
        height: int,
        num_frames: int,
        fps: float | None,
        seed: int | None,
        spec: dict[str, Any],
        parents: list[str],
    ) -> ArtifactRecord:
        """Move a tool's output file (and its JSON sidecar, if any) into the store."""
        self.session(sid)
        return self._add(
            sid, "output", Path(path), media, width, height, num_frames, fps, seed, spec, parents, move=True
        )

    def _add(
        self,
        sid: str,
        origin: Literal["input", "output"],
        src: Path,
        media: Media,
        width: int,
        height: int,
        num_frames: int,
        fps: float | None,
        seed: int | None = None,
        spec: dict[str, Any] | None = None,
        parents: list[str] | None = None,
        *,
        move: bool = False,
    ) -> ArtifactRecord:
        with self._transaction() as db:
            aid = self._new_id(db)
            file = f"{aid}{src.suffix.lower()}"
            tmp = self.files / f".{file}.tmp"
            try:
                if move:
                    shutil.move(str(src), tmp)
                    sidecar = src.with_suffix(".json")
                    if sidecar.exists():
                        shutil.move(str(sidecar), self.files / f"{aid}.json")
                else:
                    shutil.copyfile(src, tmp)
                os.replace(tmp, self.files / file)
            except OSError as e:
                tmp.unlink(missing_ok=True)
                raise StoreError(f"{src}: cannot store ({e.__class__.__name__}: {e})") from None
            created = time.time()
            db.execute(
                "INSERT INTO artifacts VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    aid, sid, origin, file, src.name, media.value, width, height, num_frames, fps, seed,
                    None if spec is None else json.dumps(spec), json.dumps(parents or []), created,
                ),
            )  # fmt: skip
        return self.get(aid)

    def get(self, aid: str) -> ArtifactRecord:
        """The artifact ``aid`` (a leading ``@`` is accepted); raises StoreError when there is none."""
        aid = aid.removeprefix("@")
        with self._connect() as db:
            row = db.execute("SELECT * FROM artifacts WHERE id = ?", (aid,)).fetchone()
        if row is None:
            raise StoreError(f"no artifact @{aid} in {self.workspace}")
        return self._record(row)

    def _record(self, row: sqlite3.Row) -> ArtifactRecord:
        return ArtifactRecord(
            id=row["id"],
            session=row["session"],
            origin=row["origin"],
            path=str(self.files / row["file"]),
            name=row["name"],
            media=Media(row["media"]),
            width=row["width"],
            height=row["height"],
            num_frames=row["num_frames"],
            fps=row["fps"],
            seed=row["seed"],
            spec=None if row["spec"] is None else json.loads(row["spec"]),
            parents=json.loads(row["parents"]),
            created=row["created"],
        )

    def artifacts(self, sid: str) -> list[ArtifactRecord]:
        """Every artifact of a session, oldest first."""
        with self._connect() as db:
            rows = db.execute("SELECT * FROM artifacts WHERE session = ? ORDER BY created, rowid", (sid,)).fetchall()
        return [self._record(r) for r in rows]

    # ---------------------------------------------------------------------------------------- history
    def record_step(
        self,
        sid: str,
        request: str,
        *,
        spec: dict[str, Any] | None,
        inputs: list[str],
        outputs: list[str],
        text: str | None = None,
        mark: int | None = None,
    ) -> Step:
        """Append a step after the current head and make it the head (a branch if the head had children).

        ``mark``: the number of the script step this is; it is marked done in the same transaction (see
        :meth:`script_marks`). Raises StoreError for an unknown session or a script step already marked done.
        """
        with self._transaction() as db:
            row = db.execute("SELECT head FROM sessions WHERE id = ?", (sid,)).fetchone()
            if row is None:
                raise StoreError(f"no session {sid!r}")
            cur = db.execute(
                "INSERT INTO steps (session, parent, created, request, spec, text, inputs, outputs) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    sid, row["head"], time.time(), request, None if spec is None else json.dumps(spec), text,
                    json.dumps(inputs), json.dumps(outputs),
                ),
            )  # fmt: skip
            db.execute("UPDATE sessions SET head = ? WHERE id = ?", (cur.lastrowid, sid))
            step_id = cur.lastrowid
            if mark is not None:
                _mark(db, sid, mark, undo=False, step=step_id)
        assert step_id is not None
        return self.step(step_id)

    def step(self, step_id: int) -> Step:
        with self._connect() as db:
            row = db.execute("SELECT * FROM steps WHERE id = ?", (step_id,)).fetchone()
        if row is None:
            raise StoreError(f"no step {step_id}")
        return _step(row)

    def history(self, sid: str) -> list[Step]:
        """The steps from the first to the head (the current branch), oldest first."""
        head = self.session(sid).head
        with self._connect() as db:
            rows = {r["id"]: r for r in db.execute("SELECT * FROM steps WHERE session = ?", (sid,))}
        chain = []
        while head is not None:
            chain.append(_step(rows[head]))
            head = rows[head]["parent"]
        return chain[::-1]

    def undo(self, sid: str, *, mark: int | None = None) -> Step | None:
        """Move the head back one step; returns the step undone, or None when there is nothing to undo.

        ``mark``: the number of the script step this is; it is marked done in the same transaction (see
        :meth:`script_marks`). Raises StoreError for an unknown session or a script step already marked done.
        """
        with self._transaction() as db:
            head = db.execute("SELECT head FROM sessions WHERE id = ?", (sid,)).fetchone()
            if head is None:
                raise StoreError(f"no session {sid!r}")
            row = None
            if head["head"] is not None:
                row = db.execute("SELECT * FROM steps WHERE id = ?", (head["head"],)).fetchone()
                db.execute("UPDATE sessions SET head = ? WHERE id = ?", (row["parent"], sid))
            if mark is not None:
                _mark(db, sid, mark, undo=True, step=None if row is None else row["id"])
        return None if row is None else _step(row)

    def redo(self, sid: str) -> Step | None:
        """Move the head forward to its newest child; returns that step, or None when there is nothing to redo."""
        with self._transaction() as db:
            head = db.execute("SELECT head FROM sessions WHERE id = ?", (sid,)).fetchone()
            if head is None:
                raise StoreError(f"no session {sid!r}")
            row = db.execute(
                "SELECT * FROM steps WHERE session = ? AND parent IS ? ORDER BY id DESC LIMIT 1", (sid, head["head"])
            ).fetchone()
            if row is None:
                return None
            db.execute("UPDATE sessions SET head = ? WHERE id = ?", (row["id"], sid))
        return _step(row)

    def script_marks(self, sid: str) -> list[ScriptMark]:
        """The script steps marked done in session ``sid`` (by ``mark=`` of :meth:`record_step` and :meth:`undo`),
        by number."""
        with self._connect() as db:
            rows = db.execute("SELECT * FROM script_marks WHERE session = ? ORDER BY number", (sid,)).fetchall()
        return [ScriptMark(number=r["number"], undo=bool(r["undo"]), step=r["step"]) for r in rows]

    def visible(self, sid: str) -> list[ArtifactRecord]:
        """Artifacts on the current branch (inputs and outputs of its steps), in the order they appeared."""
        ids: list[str] = []
        for step in self.history(sid):
            ids += [i for i in step.inputs + step.outputs if i not in ids]
        return [self.get(i) for i in ids]


def _mark(db: sqlite3.Connection, sid: str, number: int, *, undo: bool, step: int | None) -> None:
    try:
        db.execute("INSERT INTO script_marks VALUES (?, ?, ?, ?)", (sid, number, int(undo), step))
    except sqlite3.IntegrityError:
        # Two runs of one script on one session at once: the step is done once, the other run's is rolled back.
        raise StoreError(f"script step {number} of session {sid} is already done (is it running twice?)") from None


def _step(row: sqlite3.Row) -> Step:
    return Step(
        id=row["id"],
        session=row["session"],
        parent=row["parent"],
        request=row["request"],
        spec=None if row["spec"] is None else json.loads(row["spec"]),
        text=row["text"],
        inputs=json.loads(row["inputs"]),
        outputs=json.loads(row["outputs"]),
        created=row["created"],
    )
