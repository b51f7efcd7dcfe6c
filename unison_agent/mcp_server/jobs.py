"""Jobs: runs that outlive the call that started them (``start_job``), for clients whose tool calls time out
before a video is made. Polled with ``job_status``, fetched with ``job_result``, stopped with ``cancel_job``,
listed with ``list_jobs``.

Jobs are rows of the ``jobs`` table in the workspace's database (``unison.db``, beside the artifact store's
tables), so they outlive the server: a finished job's result is fetched after a restart (its files are the
store's artifacts), and a job that was queued or running when its server died is reported as failed, never as
running. Who runs a job is known by its owner: each MCP session that serves jobs holds an OS lock (``flock``) on
``.jobs-<owner>.lock`` in the workspace while it lives, and finishes every job of its own before it lets go
(each stops at its next step: see :class:`~unison_agent.mcp_server.worker.Runs`). A queued or running job whose
owner's lock is free was left by a server that was killed: the next start, in any process, fails it. Finished
jobs older than the time to live are deleted at every start and every listing.

The live part of a job (its place in line, its step and time left) is its
:class:`~unison_agent.mcp_server.worker.Ticket` in the server's line; the row records where it ended.
"""

from __future__ import annotations

import json
import os
import sqlite3
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from contextlib import AbstractContextManager, suppress
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal, Protocol

import anyio
from anyio.abc import TaskGroup
from mcp.server.fastmcp import Context, FastMCP
from mcp.types import CallToolResult, ToolAnnotations
from pydantic import BaseModel, ConfigDict, Field

from unison_agent.errors import RunCancelled
from unison_agent.mcp_server.results import RunResult
from unison_agent.mcp_server.worker import Runs, Ticket, Working, in_worker
from unison_agent.sessions import StoreError
from unison_agent.sessions.runner import UnisonContext
from unison_agent.sessions.store import connect
from unison_agent.tools.requests import Attachments, RequestText

if sys.platform != "win32":
    import fcntl

if TYPE_CHECKING:
    from mcp.server.session import ServerSession
    from starlette.requests import Request

    JobContext = Context[ServerSession, Any, Request]
else:  # FastMCP finds the context parameter by its class, which a parameterised alias is not
    JobContext = Context

__all__ = ["DEFAULT_JOB_TTL_S", "JobFacts", "JobHost", "JobRecord", "JobStatus", "JobStore", "register_job_tools"]

DEFAULT_JOB_TTL_S = 7 * 24 * 3600.0
JobStatus = Literal["queued", "running", "done", "failed", "cancelled"]
_UNFINISHED = ("queued", "running")
_STOPPED_QUEUED = "the server stopped before this job started; start it again"
_STOPPED_RUNNING = "the server stopped while this job ran; start it again"
# Without flock (Windows) an owner's lock cannot be asked; its jobs are taken as abandoned after this long.
_UNLOCKED_STALE_S = 24 * 3600
_SCHEMA = """
CREATE TABLE IF NOT EXISTS jobs (
    id TEXT PRIMARY KEY, session TEXT NOT NULL REFERENCES sessions(id), owner TEXT NOT NULL, request TEXT NOT NULL,
    attachments TEXT NOT NULL, status TEXT NOT NULL, step INTEGER NOT NULL, steps INTEGER NOT NULL,
    created REAL NOT NULL, started REAL, finished REAL, error TEXT, result TEXT
);
CREATE INDEX IF NOT EXISTS jobs_by_created ON jobs(created);
"""


class JobRecord(BaseModel):
    """A job as its row records it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str
    session: str
    owner: str = Field(description="the server session that runs it (whose lock says it is alive)")
    request: str
    attachments: list[str]
    status: JobStatus
    step: int
    steps: int
    created: float
    started: float | None
    finished: float | None
    error: str | None
    result: dict[str, Any] | None = Field(description="a done job's run: spec, output ids, text, notes")


class JobFacts(BaseModel):
    """Where a job is (what ``start_job``, ``job_status``, ``cancel_job`` and ``list_jobs`` return)."""

    job: str = Field(description="the job's id: pass it to job_status, job_result and cancel_job")
    status: JobStatus = Field(description="queued, running, done, failed or cancelled")
    request: str = Field(description="the request as given")
    step: int = Field(description="denoising steps done (over all outputs)")
    steps: int = Field(description="denoising steps in all (0 until the first step)")
    queue_position: int | None = Field(
        default=None, description="while queued in this server: its place in line (1: next); null otherwise"
    )
    eta_s: float | None = Field(
        default=None, description="while running: about how many seconds are left; null when not known yet"
    )
    error: str | None = Field(default=None, description="why it failed; null otherwise")
    created: float = Field(description="when it was started (seconds since the epoch)")
    finished: float | None = Field(default=None, description="when it ended (seconds since the epoch)")


class JobStore:
    """The jobs of the workspace ``workspace`` (whose artifact store made the database), owned by one server
    session while it lives: construct it when the session starts and :meth:`close` it when it ends.

    ``ttl_s``: finished jobs older than this are deleted (by :meth:`expire`). Raises ValueError for a time to
    live that is not positive."""

    def __init__(self, workspace: str | os.PathLike[str], *, ttl_s: float = DEFAULT_JOB_TTL_S) -> None:
        if not ttl_s > 0:
            raise ValueError(f"the jobs' time to live must be a positive number of seconds, not {ttl_s}")
        self.workspace = Path(workspace).expanduser().resolve()
        self.ttl_s = ttl_s
        self._db_path = self.workspace / "unison.db"  # the ArtifactStore's database
        with self._connect() as db:
            db.executescript(_SCHEMA)
        self.owner, self._lock_fd = self._hold_lock()

    # ---------------------------------------------------------------------------------------- plumbing
    def _connect(self) -> AbstractContextManager[sqlite3.Connection]:
        return connect(self._db_path)  # as the artifact store opens the same database

    def _lock_path(self, owner: str) -> Path:
        return self.workspace / f".jobs-{owner}.lock"

    def _hold_lock(self) -> tuple[str, int | None]:
        """A new owner id and the lock that says it is alive. The file is locked before it gets its name, so that
        nobody finds it unlocked while its owner lives."""
        fd, pending = tempfile.mkstemp(dir=self.workspace, prefix=".jobs-pending-")
        owner = Path(pending).name.removeprefix(".jobs-pending-")
        if sys.platform != "win32":
            fcntl.flock(fd, fcntl.LOCK_EX)
        os.replace(pending, self._lock_path(owner))
        return owner, fd

    def close(self) -> None:
        """Let go of the owner's lock (call it once every job of this owner has finished)."""
        if self._lock_fd is not None:
            self._lock_path(self.owner).unlink(missing_ok=True)
            os.close(self._lock_fd)
            self._lock_fd = None

    def _alive(self, owner: str, created: float, now: float) -> bool:
        """Whether ``owner`` (a server session) still lives: its lock is held."""
        if owner == self.owner:
            return self._lock_fd is not None
        lock = self._lock_path(owner)
        if sys.platform == "win32":
            return lock.exists() and now - created < _UNLOCKED_STALE_S
        try:
            fd = os.open(lock, os.O_RDONLY)
        except FileNotFoundError:
            return False
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        finally:
            os.close(fd)  # closing it lets go of the lock just taken, if it was
        return False

    # ---------------------------------------------------------------------------------------- jobs
    def add(self, session: str, request: str, attachments: list[str]) -> JobRecord:
        """A new queued job of this owner; returns it."""
        with self._connect() as db:
            while True:
                jid = "j" + os.urandom(4).hex()
                try:
                    db.execute(
                        "INSERT INTO jobs (id, session, owner, request, attachments, status, step, steps, created) "
                        "VALUES (?, ?, ?, ?, ?, 'queued', 0, 0, ?)",
                        (jid, session, self.owner, request, json.dumps(attachments), time.time()),
                    )
                    break
                except sqlite3.IntegrityError:  # the id was taken (about one in four billion)
                    continue
        return self.get(jid)

    def start(self, jid: str) -> None:
        """Mark job ``jid`` running (its turn in the worker has come)."""
        with self._connect() as db:
            db.execute("UPDATE jobs SET status = 'running', started = ? WHERE id = ?", (time.time(), jid))

    def finish(
        self,
        jid: str,
        status: JobStatus,
        *,
        step: int,
        steps: int,
        error: str | None = None,
        result: dict[str, Any] | None = None,
    ) -> None:
        """Record how job ``jid`` ended."""
        with self._connect() as db:
            db.execute(
                "UPDATE jobs SET status = ?, step = ?, steps = ?, finished = ?, error = ?, result = ? WHERE id = ?",
                (status, step, steps, time.time(), error, None if result is None else json.dumps(result), jid),
            )

    def get(self, jid: str) -> JobRecord:
        """Job ``jid``; raises StoreError naming the newest jobs when there is none."""
        with self._connect() as db:
            row = db.execute("SELECT * FROM jobs WHERE id = ?", (jid,)).fetchone()
        if row is None:
            known = ", ".join(j.id for j in self.list(limit=5)) or "none"
            raise StoreError(f"no job {jid!r} in {self.workspace} (expired, or never started); newest: {known}")
        return _record(row)

    def list(self, *, status: JobStatus | None = None, limit: int = 20) -> list[JobRecord]:
        """The newest ``limit`` jobs of the workspace (only those with ``status``, if given), newest first."""
        query, args = "SELECT * FROM jobs", []
        if status is not None:
            query, args = query + " WHERE status = ?", [status]
        with self._connect() as db:
            rows = db.execute(f"{query} ORDER BY created DESC, rowid DESC LIMIT ?", (*args, limit)).fetchall()
        return [_record(r) for r in rows]

    def expire(self) -> int:
        """Delete the jobs that finished more than the time to live ago; returns how many."""
        with self._connect() as db:
            return db.execute("DELETE FROM jobs WHERE finished < ?", (time.time() - self.ttl_s,)).rowcount

    def fail_abandoned(self) -> int:
        """Mark failed every queued or running job whose owner is gone (a server killed mid-run), and remove the
        locks of owners that are gone; returns how many jobs were failed."""
        now = time.time()
        with self._connect() as db:
            rows = db.execute("SELECT id, owner, status, created FROM jobs WHERE status IN ('queued', 'running')")
            dead = [r for r in rows.fetchall() if not self._alive(r["owner"], r["created"], now)]
            for r in dead:
                why = _STOPPED_QUEUED if r["status"] == "queued" else _STOPPED_RUNNING
                db.execute(
                    "UPDATE jobs SET status = 'failed', finished = ?, error = ? WHERE id = ? AND status = ?",
                    (now, why, r["id"], r["status"]),
                )
        self._sweep_locks(now)
        return len(dead)

    def _sweep_locks(self, now: float) -> None:
        for path in self.workspace.glob(".jobs-*"):
            with suppress(OSError):  # gone meanwhile, or not ours to touch: leave it
                if path.name.startswith(".jobs-pending-"):  # its owner died before naming it
                    if now - path.stat().st_mtime > _UNLOCKED_STALE_S:
                        path.unlink(missing_ok=True)
                elif path.suffix == ".lock" and sys.platform != "win32":
                    owner = path.name.removeprefix(".jobs-").removesuffix(".lock")
                    if not self._alive(owner, now, now):
                        path.unlink(missing_ok=True)


def _record(row: sqlite3.Row) -> JobRecord:
    return JobRecord(
        id=row["id"],
        session=row["session"],
        owner=row["owner"],
        request=row["request"],
        attachments=json.loads(row["attachments"]),
        status=row["status"],
        step=row["step"],
        steps=row["steps"],
        created=row["created"],
        started=row["started"],
        finished=row["finished"],
        error=row["error"],
        result=None if row["result"] is None else json.loads(row["result"]),
    )


class JobHost(Protocol):
    """What the job tools use of one MCP session's state (the server's ``ServerState``)."""

    jobs: JobStore
    session: str
    unison: UnisonContext
    runs: Runs
    working: Working
    task_group: TaskGroup  # runs jobs past the tool call that started them

    def check(self, attachments: list[str]) -> list[str]:
        """The attachments made safe to read (raises for one that is not)."""
        ...

    def run_graph(
        self, request: str, refs: list[str], unison: UnisonContext, progress: Callable[[dict[str, Any]], None]
    ) -> dict[str, Any]:
        """One request through the session graph (in the worker thread); returns its final state."""
        ...

    def present(self, final: dict[str, Any]) -> CallToolResult:
        """A final state as ``run`` returns it; raises (FastMCP's ToolError, saying why) when the run made
        nothing, and the job is failed with that message."""
        ...


def _facts(record: JobRecord, working: Working) -> JobFacts:
    """What a client is told about ``record``, with its live progress while it is in ``working``'s line."""
    live = working.ticket_of(record.id) if record.status in _UNFINISHED else None
    out = JobFacts(
        job=record.id,
        status=record.status,
        request=record.request,
        step=record.step,
        steps=record.steps,
        error=record.error,
        created=record.created,
        finished=record.finished,
    )
    if live is None:
        return out
    place = working.place(live)
    return out.model_copy(
        update={
            "status": "running" if live.running else record.status,
            "step": live.step,
            "steps": live.steps,
            "queue_position": None if place is None else place[0],
            "eta_s": live.eta_s if live.running else None,
        }
    )


async def _run_job(host: JobHost, record: JobRecord, ticket: Ticket) -> None:
    """Run job ``record`` in the worker in its turn, and record how it ended, however it ended."""

    def work(progress: Callable[[dict[str, Any]], None]) -> dict[str, Any]:
        host.jobs.start(record.id)
        return host.run_graph(record.request, record.attachments, replace(host.unison, cancel=ticket.cancel), progress)

    status: JobStatus
    error: str | None = None
    result: dict[str, Any] | None = None
    # Shielded: the session ending stops the job through its cancel event (Runs.stop) at its next step, and the
    # job is recorded as it ended, not dropped with the task.
    with anyio.CancelScope(shield=True):
        try:
            final: dict[str, Any] | None = await in_worker(work, ticket=ticket, working=host.working, runs=host.runs)
        except RunCancelled:  # before its turn came
            final = None
        except Exception as e:
            # A job runs in the server's own task group, where an exception would end the whole server (every
            # client's session with it). One job's unexpected failure is that job's failure, told in its status.
            traceback.print_exc(file=sys.stderr)
            why = f"the job failed unexpectedly ({e.__class__.__name__}: {e})"
            final = {"error": f"{why}; this is a bug, please report it with the server's log"}
        shown, failure = None, None
        if final is not None:
            try:
                shown = host.present(final)
            except Exception as e:  # the run made nothing; the message says why
                failure = str(e)
        if final is not None and shown is not None and not shown.isError:
            status, result = "done", {k: final[k] for k in ("spec", "outputs", "text", "notes") if k in final}
        elif ticket.cancel.is_set() and host.runs.stopped and final is None:
            status, error = "failed", _STOPPED_QUEUED
        elif ticket.cancel.is_set() and host.runs.stopped:
            status, error = "failed", _STOPPED_RUNNING
        elif ticket.cancel.is_set():
            status = "cancelled"
        else:
            shown_text = [] if shown is None else [c.text for c in shown.content if c.type == "text"]
            status, error = "failed", failure or "; ".join(shown_text) or "the run made nothing"
        try:
            host.jobs.finish(record.id, status, step=ticket.step, steps=ticket.steps, error=error, result=result)
        except sqlite3.Error as e:  # the next start of a server fails it (its owner is gone by then)
            print(f"unison mcp: job {record.id} ended {status} but could not be recorded: {e}", file=sys.stderr)


JobId = Annotated[str, Field(description="the job's id, as start_job or list_jobs gave it")]
"""A job id as a tool parameter."""


def register_job_tools(mcp: FastMCP, host: Callable[[JobContext], JobHost]) -> None:
    """Add ``start_job``, ``job_status``, ``job_result``, ``cancel_job`` and ``list_jobs`` to ``mcp``; ``host``
    gives a call's session state."""

    @mcp.tool(
        name="start_job",
        description="Like `run`, but returns a job id at once; poll `job_status`, then `job_result`. For long "
        "videos when the client's tool timeout is short.",
        annotations=ToolAnnotations(
            title="Start a job", readOnlyHint=False, destructiveHint=False, idempotentHint=False, openWorldHint=False
        ),
    )
    async def start_job(request: RequestText, ctx: JobContext, attachments: Attachments = None) -> JobFacts:
        state = host(ctx)
        refs = state.check(attachments or [])  # refusals are reported now, not when the job runs
        record = state.jobs.add(state.session, request, refs)
        ticket = Ticket(profile=state.unison.profile, job=record.id)
        state.working.enter(ticket)  # in line from now, in the order jobs were started
        state.task_group.start_soon(_run_job, state, record, ticket)
        return _facts(record, state.working)

    @mcp.tool(
        name="job_status",
        description="Where a job is: queued (its place in line), running (step n of N, seconds left), done, "
        "failed (why), cancelled.",
        annotations=ToolAnnotations(title="Job status", readOnlyHint=True, openWorldHint=False),
    )
    async def job_status(job: JobId, ctx: JobContext) -> JobFacts:
        state = host(ctx)
        return _facts(state.jobs.get(job), state.working)

    @mcp.tool(
        name="job_result",
        description="The result of a finished job (as `run` returns it), also after the server restarted.",
        annotations=ToolAnnotations(title="Job result", readOnlyHint=True, openWorldHint=False),
    )
    async def job_result(job: JobId, ctx: JobContext) -> Annotated[CallToolResult, RunResult]:
        state = host(ctx)
        found = state.jobs.get(job)
        if found.status == "done" and found.result is not None:
            return state.present(found.result)
        if found.status in _UNFINISHED:
            raise StoreError(f"job {job} is {found.status}; ask again when job_status says done")
        if found.status == "cancelled":
            raise StoreError(f"job {job} was cancelled; it kept nothing")
        raise StoreError(f"job {job} failed: {found.error}")

    @mcp.tool(
        name="cancel_job",
        description="Stop a job: a queued job never starts, a running one stops at its next step and keeps nothing.",
        annotations=ToolAnnotations(
            title="Cancel a job", readOnlyHint=False, destructiveHint=True, idempotentHint=True, openWorldHint=False
        ),
    )
    async def cancel_job(job: JobId, ctx: JobContext) -> JobFacts:
        state = host(ctx)
        ticket = state.working.ticket_of(job)
        if ticket is not None:
            state.runs.cancel(ticket.cancel)
            return _facts(state.jobs.get(job), state.working)
        found = state.jobs.get(job)
        if found.status in _UNFINISHED and state.jobs.fail_abandoned():
            found = state.jobs.get(job)
        if found.status in _UNFINISHED:
            raise StoreError(f"job {job} runs in another server on this workspace; cancel it there")
        return _facts(found, state.working)  # already over: cancelling it again changes nothing

    @mcp.tool(
        name="list_jobs",
        description="The jobs of this workspace, newest first (optionally only those with one status).",
        annotations=ToolAnnotations(title="List jobs", readOnlyHint=True, openWorldHint=False),
    )
    async def list_jobs(
        ctx: JobContext,
        status: Annotated[JobStatus | None, Field(description="only jobs with this status")] = None,
        limit: Annotated[int, Field(ge=1, le=500, description="at most this many jobs")] = 20,
    ) -> list[JobFacts]:
        state = host(ctx)
        state.jobs.expire()
        return [_facts(r, state.working) for r in state.jobs.list(status=status, limit=limit)]
