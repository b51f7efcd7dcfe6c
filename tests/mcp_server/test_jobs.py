"""Long work: jobs that outlive the call (and the server), cancellation of any call, the server's line (one
generation at a time, each waiting call told its place) and the time left of a running one.

Every wait has a deadline. No test races the machine: a generation that must still be running when the test acts
is held at a step (the ``held`` fixture) until the server has cancelled a call or the test lets it go.
"""

from __future__ import annotations

import itertools
import re
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import anyio
import anyio.to_thread
import pytest
from mcp import ClientSession
from mcp.shared.exceptions import McpError
from mcp.shared.memory import create_connected_server_and_client_session
from mcp.types import CancelledNotification, CancelledNotificationParams, ClientNotification

from unison_agent.mcp_server.jobs import JobStore
from unison_agent.mcp_server.server import create_server
from unison_agent.mcp_server.worker import Runs
from unison_agent.sessions import ArtifactStore
from unison_agent.tools.backends.wan_vace import WanVACEBackend

DEADLINE = 120  # seconds: generous, for a slow shared machine; a test that needs it has failed anyway
HOLD_S = 30  # how long a held generation waits for its release before it goes on by itself


def _server(tmp_path: Path, **kwargs: Any) -> Any:
    return create_server(workspace=tmp_path / "ws", profile="tiny", roots=[tmp_path], **kwargs)


@dataclass
class Held:
    """Generation number ``generation`` (from 1) of the test stops after its step ``step`` (that step reported)
    until ``release`` is set: by the test, or by the server cancelling a call (Runs.cancel or Runs.stop)."""

    generation: int = 1
    step: int = 1
    reached: threading.Event = field(default_factory=threading.Event)
    release: threading.Event = field(default_factory=threading.Event)
    generations: list[int] = field(default_factory=list)


@pytest.fixture
def held(monkeypatch: pytest.MonkeyPatch) -> Held:
    hold = Held()
    real = WanVACEBackend.generate

    def generate(self: WanVACEBackend, request: Any, *, on_step: Callable[[int, int], None], **kwargs: Any) -> Any:
        hold.generations.append(len(hold.generations) + 1)
        number = len(hold.generations)

        def step(done: int, total: int) -> None:
            on_step(done, total)  # the run's own: stops a cancelled run, reports the step
            if number == hold.generation and done == hold.step:
                hold.reached.set()
                hold.release.wait(HOLD_S)

        return real(self, request, on_step=step, **kwargs)

    monkeypatch.setattr(WanVACEBackend, "generate", generate)
    cancel, stop = Runs.cancel, Runs.stop

    def cancelled(self: Runs, event: threading.Event) -> None:
        cancel(self, event)
        hold.release.set()

    def stopped(self: Runs) -> None:
        stop(self)
        hold.release.set()

    monkeypatch.setattr(Runs, "cancel", cancelled)
    monkeypatch.setattr(Runs, "stop", stopped)
    return hold


async def _until(condition: Callable[[], bool]) -> None:
    """Wait (polling, as a client would) until ``condition()``; the caller's deadline bounds it."""
    while not condition():
        await anyio.sleep(0.02)


async def _status(client: ClientSession, job: str) -> dict[str, Any]:
    result = (await client.call_tool("job_status", {"job": job})).structuredContent
    assert result is not None
    return result


async def _finished(client: ClientSession, job: str) -> dict[str, Any]:
    """Poll job_status until the job is over (under the caller's deadline); returns its last status."""
    while (status := await _status(client, job))["status"] in ("queued", "running"):
        await anyio.sleep(0.05)  # a client polling job_status, as one with a 60 s tool timeout would
    return status


async def _start(client: ClientSession, request: str) -> str:
    started = (await client.call_tool("start_job", {"request": request})).structuredContent
    assert started is not None and started["status"] == "queued"
    return str(started["job"])


def _left_behind(tmp_path: Path) -> list[Path]:
    ws = tmp_path / "ws"
    return [*(ws / "files").iterdir(), *ws.glob(".run-*")]


# ------------------------------------------------------------------------------------------------ jobs
@pytest.mark.slow
def test_a_job_returns_at_once_and_its_result_is_fetched_later(tmp_path: Path) -> None:
    async def go() -> tuple[Any, dict[str, Any], Any]:
        async with create_connected_server_and_client_session(_server(tmp_path)) as client:
            with anyio.fail_after(DEADLINE):
                job = await _start(client, "a video of rain, 128x96, 1 second")
                early = await client.call_tool("job_result", {"job": job})
                return early, await _finished(client, job), await client.call_tool("job_result", {"job": job})

    early, status, result = anyio.run(go)
    assert early.isError and "ask again" in early.content[0].text
    assert status["status"] == "done" and status["steps"] == 4 and status["finished"] is not None
    assert result.structuredContent["outputs"][0]["num_frames"] == 17


@pytest.mark.slow
def test_a_cancelled_job_stops_at_its_next_step_and_leaves_no_output(tmp_path: Path, held: Held) -> None:
    async def go() -> tuple[dict[str, Any], dict[str, Any], Any]:
        async with create_connected_server_and_client_session(_server(tmp_path)) as client:
            with anyio.fail_after(DEADLINE):
                job = await _start(client, "a video of a storm, 64x64, 1 second, 40 steps")
                await _until(held.reached.is_set)
                running = await _status(client, job)
                await client.call_tool("cancel_job", {"job": job})
                status = await _finished(client, job)
                again = await client.call_tool("cancel_job", {"job": job})  # idempotent
                return running, status, again

    running, status, again = anyio.run(go)
    assert running["status"] == "running" and running["step"] == 1 and running["steps"] == 40
    assert status["status"] == "cancelled" and status["step"] == 1
    assert not again.isError and again.structuredContent["status"] == "cancelled"
    assert _left_behind(tmp_path) == []


def test_a_job_that_fails_unexpectedly_is_failed_and_the_server_goes_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import unison_agent.mcp_server.server as server_module

    real = server_module._run_graph

    def broken(state: Any, request: str, *args: Any) -> dict[str, Any]:
        if "broken" in request:
            raise RuntimeError("a bug in the graph")
        return real(state, request, *args)

    monkeypatch.setattr(server_module, "_run_graph", broken)

    async def go() -> tuple[dict[str, Any], Any, Any]:
        async with create_connected_server_and_client_session(_server(tmp_path)) as client:
            with anyio.fail_after(DEADLINE):
                status = await _finished(client, await _start(client, "a broken picture, 64x64"))
                result = await client.call_tool("job_result", {"job": status["job"]})
                after = await client.call_tool("plan", {"request": "a red fox, 64x64"})  # the server still answers
                return status, result, after

    status, result, after = anyio.run(go)
    assert status["status"] == "failed"
    assert status["error"].startswith("the job failed unexpectedly (RuntimeError: a bug in the graph); this is a bug")
    assert result.isError and "a bug in the graph" in result.content[0].text
    assert not after.isError and after.structuredContent["task"] == "text_to_image"


@pytest.mark.slow
def test_a_running_job_is_stopped_when_its_session_ends_and_records_nothing(tmp_path: Path, held: Held) -> None:
    seen: list[dict[str, Any]] = []

    async def go() -> None:
        async with create_connected_server_and_client_session(_server(tmp_path)) as client:
            with anyio.fail_after(DEADLINE):
                job = await _start(client, "a video of a storm, 64x64, 4 seconds, 300 steps")
                queued = await _start(client, "a picture of a cat, 64x64")
                await _until(held.reached.is_set)
                seen.extend([await _status(client, job), await _status(client, queued)])
        # Leaving the session ends it: the running job stops at its next step, the queued one never starts.

    anyio.run(go)
    assert seen[0]["status"] == "running" and seen[1]["status"] == "queued" and seen[1]["queue_position"] == 1
    assert _left_behind(tmp_path) == []


# ------------------------------------------------------------------------------------------------ restarts
@pytest.mark.slow
def test_jobs_outlive_their_server_done_ones_with_their_result_stopped_ones_as_failed(
    tmp_path: Path, held: Held
) -> None:
    held.generation = 2  # the first job is made; the second is running when its server stops

    async def first_server() -> tuple[str, str, str]:
        async with create_connected_server_and_client_session(_server(tmp_path)) as client:
            with anyio.fail_after(DEADLINE):
                done = await _start(client, "a picture of a cat, 64x64, 2 steps")
                assert (await _finished(client, done))["status"] == "done"
                running = await _start(client, "a video of a storm, 64x64, 1 second, 40 steps")
                queued = await _start(client, "a picture of a dog, 64x64")
                await _until(held.reached.is_set)
                return done, running, queued

    async def second_server(jobs: tuple[str, str, str]) -> tuple[list[dict[str, Any]], Any, Any, Any]:
        async with create_connected_server_and_client_session(_server(tmp_path)) as client:
            with anyio.fail_after(DEADLINE):
                statuses = [await _status(client, job) for job in jobs]
                result = await client.call_tool("job_result", {"job": jobs[0]})
                listed = await client.call_tool("list_jobs", {})
                failed = await client.call_tool("list_jobs", {"status": "failed", "limit": 1})
                return statuses, result, listed, failed

    jobs = anyio.run(first_server)
    (done, running, queued), result, listed, failed = anyio.run(second_server, jobs)
    assert done["status"] == "done"
    assert running["status"] == "failed" and running["error"] == "the server stopped while this job ran; start it again"
    assert queued["status"] == "failed" and queued["error"].startswith("the server stopped before this job started")
    assert not result.isError and result.structuredContent["outputs"][0]["width"] == 64
    assert [j["job"] for j in listed.structuredContent["result"]] == [jobs[2], jobs[1], jobs[0]]
    assert [j["job"] for j in failed.structuredContent["result"]] == [jobs[2]]
    kept = [p.name for p in _left_behind(tmp_path)]
    assert len(kept) == 1 and kept[0].startswith(result.structuredContent["outputs"][0]["id"])


_KILLED_SERVER = """
import os, sys
from unison_agent.mcp_server.jobs import JobStore
from unison_agent.sessions import ArtifactStore

store = ArtifactStore(sys.argv[1])
jobs = JobStore(sys.argv[1])
job = jobs.add(store.new_session("mcp"), "a video of rain", [])
jobs.start(job.id)
print(job.id, flush=True)
sys.stdin.read()  # running, until killed
"""


@pytest.mark.slow
def test_a_job_left_running_by_a_killed_server_is_failed_at_the_next_start_never_running(tmp_path: Path) -> None:
    with subprocess.Popen(
        [sys.executable, "-c", _KILLED_SERVER, str(tmp_path / "ws")],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    ) as child:
        try:
            assert child.stdout is not None
            job = child.stdout.readline().strip()  # empty if the child failed (it printed why on stderr)
        finally:
            child.kill()  # SIGKILL: no cleanup runs, as when a server is killed or the machine stops
            child.wait(timeout=DEADLINE)
    assert job

    async def go() -> tuple[dict[str, Any], Any]:
        async with create_connected_server_and_client_session(_server(tmp_path)) as client:
            with anyio.fail_after(DEADLINE):
                return await _status(client, job), await client.call_tool("list_jobs", {"status": "running"})

    status, running = anyio.run(go)
    assert status["status"] == "failed" and status["error"] == "the server stopped while this job ran; start it again"
    assert running.structuredContent["result"] == []
    assert not list((tmp_path / "ws").glob(".jobs-*"))  # the dead server's lock is swept with it


def test_a_job_of_a_server_still_alive_is_not_failed_by_another_server_starting(tmp_path: Path) -> None:
    store = ArtifactStore(tmp_path / "ws")
    other = JobStore(tmp_path / "ws")  # another server, alive, on the same workspace
    job = other.add(store.new_session("mcp"), "a video of rain", [])
    other.start(job.id)

    async def go() -> tuple[dict[str, Any], Any]:
        async with create_connected_server_and_client_session(_server(tmp_path)) as client:
            with anyio.fail_after(DEADLINE):
                return await _status(client, job.id), await client.call_tool("cancel_job", {"job": job.id})

    try:
        status, cancel = anyio.run(go)
    finally:
        other.close()
    assert status["status"] == "running"
    assert cancel.isError and "runs in another server on this workspace; cancel it there" in cancel.content[0].text


def test_finished_jobs_older_than_their_time_to_live_are_deleted(tmp_path: Path) -> None:
    store = ArtifactStore(tmp_path / "ws")
    jobs = JobStore(tmp_path / "ws")
    session = store.new_session("mcp")
    old, recent, running = (jobs.add(session, f"job {i}", []) for i in range(3))
    jobs.finish(old.id, "done", step=2, steps=2, result={})
    jobs.finish(recent.id, "failed", step=0, steps=0, error="no")
    jobs.start(running.id)
    with sqlite3.connect(tmp_path / "ws" / "unison.db") as db:  # finished eight days ago
        db.execute("UPDATE jobs SET finished = ? WHERE id = ?", (time.time() - 8 * 24 * 3600, old.id))
    jobs.close()  # the running job's server is gone too: failed now, finished now

    async def go() -> Any:
        async with create_connected_server_and_client_session(_server(tmp_path, job_ttl_s=7 * 24 * 3600)) as client:
            with anyio.fail_after(DEADLINE):
                return await client.call_tool("list_jobs", {})

    listed = anyio.run(go)
    assert [(j["job"], j["status"]) for j in listed.structuredContent["result"]] == [
        (running.id, "failed"),
        (recent.id, "failed"),
    ]
    with pytest.raises(ValueError, match="time to live must be a positive number of seconds, not 0"):
        _server(tmp_path, job_ttl_s=0)


# ------------------------------------------------------------------------------------------------ cancellation
@pytest.mark.slow
@pytest.mark.parametrize(
    ("tool", "arguments"),
    [
        ("run", {"request": "a video of a storm, 64x64, 1 second, 40 steps"}),
        ("text_to_video", {"prompt": "a storm", "width": 64, "height": 64, "duration_s": 1, "steps": 40}),
    ],
)
def test_a_call_the_client_cancels_stops_its_generation_at_the_next_step_and_leaves_nothing(
    tool: str, arguments: dict[str, Any], tmp_path: Path, held: Held
) -> None:
    server = _server(tmp_path)
    told: list[str] = []

    async def go() -> tuple[Any, Any]:
        async with create_connected_server_and_client_session(server) as client:
            with anyio.fail_after(DEADLINE):

                async def call() -> None:
                    async def progress(value: float, total: float | None, message: str | None) -> None:
                        told.append(message or "")

                    try:
                        await client.call_tool(tool, arguments, progress_callback=progress)
                    except McpError as e:  # the server's answer to a cancelled request
                        assert "cancelled" in str(e)

                async with anyio.create_task_group() as tg:
                    tg.start_soon(call)
                    await _until(held.reached.is_set)
                    # The step's progress notice travels on its own; the cancel must not overtake it (once a
                    # request is cancelled, the client drops its progress).
                    await _until(lambda: "step 1 of 40" in told)
                    # The call in flight is the session's newest request (the SDK numbers requests in order).
                    request_id = client._request_id - 1
                    params = CancelledNotificationParams(requestId=request_id, reason="the person changed their mind")
                    await client.send_notification(ClientNotification(CancelledNotification(params=params)))
                # The server's call waits for its worker thread; so does the test, before it looks at the files.
                await anyio.to_thread.run_sync(server.working.wait_idle, abandon_on_cancel=True)
                return (
                    await client.call_tool("list_artifacts", {}),
                    await client.call_tool("history", {}),
                )

    artifacts, history = anyio.run(go)
    assert "step 1 of 40" in told
    assert held.generations == [1]
    assert _left_behind(tmp_path) == []
    assert artifacts.structuredContent["result"] == [] and history.structuredContent["result"] == []


# ------------------------------------------------------------------------------------------------ the line
def _eta(message: str) -> float | None:
    found = re.search(r"about (\d+) s left|less than a second left", message)
    return None if found is None else float(found.group(1) or 0)


@pytest.mark.slow
def test_a_waiting_call_is_told_its_place_and_a_running_one_a_time_left_that_shrinks(
    tmp_path: Path, held: Held
) -> None:
    server = _server(tmp_path)
    ticks = itertools.count()
    server.working.clock = lambda: float(next(ticks))  # read once per step: every step takes one second
    first: list[tuple[float, float | None, str]] = []
    second: list[tuple[float, float | None, str]] = []

    async def go() -> None:
        async with create_connected_server_and_client_session(server) as client:

            async def call(request: str, seen: list[tuple[float, float | None, str]]) -> None:
                async def progress(value: float, total: float | None, message: str | None) -> None:
                    seen.append((value, total, message or ""))

                result = await client.call_tool("run", {"request": request}, progress_callback=progress)
                assert not result.isError, result.content

            with anyio.fail_after(DEADLINE):
                async with anyio.create_task_group() as tg:
                    tg.start_soon(call, "a picture of a red fox, 64x64, 6 steps", first)
                    await _until(held.reached.is_set)
                    tg.start_soon(call, "a picture of a blue fox, 64x64, 2 steps", second)
                    await _until(lambda: any(m.startswith("queued") for *_, m in second))
                    held.release.set()

    anyio.run(go)
    assert [m for *_, m in first[:2]] == ["step 1 of 6", "step 2 of 6, about 4 s left"]
    etas = [_eta(m) for *_, m in first[1:]]
    assert etas == [4, 3, 2, 1, 0]  # this run's own rate from its second step on
    assert second[0] == (0, None, "queued: position 1 of 1")
    # Its first step has no rate of its own yet: the last one measured for the profile (1 s per step).
    assert second[1][2] == "step 1 of 2, about 1 s left"
    values = [v for v, *_ in second]
    assert values == sorted(set(values))  # MCP: the progress value grows with every notification


@pytest.mark.slow
def test_a_queued_job_is_told_its_place_and_a_running_one_its_time_left(tmp_path: Path, held: Held) -> None:
    held.step = 2  # the running job has measured a step: it knows its rate
    server = _server(tmp_path)
    ticks = itertools.count()
    server.working.clock = lambda: float(next(ticks))

    async def go() -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
        async with create_connected_server_and_client_session(server) as client:
            with anyio.fail_after(DEADLINE):
                running = await _start(client, "a picture of a red fox, 64x64, 5 steps")
                queued = await _start(client, "a picture of a blue fox, 64x64, 2 steps")
                await _until(held.reached.is_set)
                seen = await _status(client, running), await _status(client, queued)
                held.release.set()
                return *seen, await _finished(client, queued)

    running, queued, later = anyio.run(go)
    assert running["status"] == "running" and running["step"] == 2 and running["eta_s"] == 3
    assert running["queue_position"] is None
    assert queued["status"] == "queued" and queued["queue_position"] == 1 and queued["eta_s"] is None
    assert later["status"] == "done" and later["queue_position"] is None


@pytest.mark.slow
def test_eight_concurrent_calls_all_finish_one_generation_at_a_time(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    lock = threading.Lock()
    running = [0]
    most = [0]
    real = WanVACEBackend.generate

    def counted(self: WanVACEBackend, *args: Any, **kwargs: Any) -> Any:
        with lock:
            running[0] += 1
            most[0] = max(most[0], running[0])
        try:
            return real(self, *args, **kwargs)
        finally:
            with lock:
                running[0] -= 1

    monkeypatch.setattr(WanVACEBackend, "generate", counted)

    async def go() -> list[Any]:
        results: list[Any] = [None] * 8
        async with create_connected_server_and_client_session(_server(tmp_path)) as client:

            async def one(i: int) -> None:
                results[i] = await client.call_tool("run", {"request": f"a picture of {i} apples, 128x96, 2 steps"})

            with anyio.fail_after(DEADLINE):
                async with anyio.create_task_group() as tg:
                    for i in range(8):
                        tg.start_soon(one, i)
        return results

    results = anyio.run(go)
    assert all(r is not None and not r.isError for r in results)
    assert len({r.structuredContent["outputs"][0]["id"] for r in results}) == 8
    assert most[0] == 1


def test_unison_mcp_gives_the_server_the_jobs_time_to_live_in_hours(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import unison_agent.mcp_server.server as server_module
    from unison_agent.cli import main

    given: dict[str, Any] = {}

    class Served:
        signalled = False

        def run(self, transport: str) -> None:
            given["transport"] = transport

    def create(**kwargs: Any) -> Served:
        given.update(kwargs)
        return Served()

    monkeypatch.setattr(server_module, "create_server", create)
    workspace = str(tmp_path / "ws")
    assert main(["mcp", "--profile", "tiny", "--workspace", workspace, "--job-ttl", "1.5"]) == 0
    assert given["job_ttl_s"] == 5400 and given["transport"] == "stdio"
    with pytest.raises(SystemExit):
        main(["mcp", "--workspace", workspace, "--job-ttl", "-2"])
    assert "'-2' is not a time to live: give a positive number of hours" in capsys.readouterr().err
