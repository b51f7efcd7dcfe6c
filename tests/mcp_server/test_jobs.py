"""Long work: jobs that outlive the call, cancellation, and one generation at a time under concurrent calls."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import anyio
import pytest
from mcp.shared.memory import create_connected_server_and_client_session

from unison_agent.mcp_server.server import create_server
from unison_agent.tools.backends.wan_vace import WanVACEBackend


def _server(tmp_path: Path) -> Any:
    return create_server(workspace=tmp_path / "ws", profile="tiny", roots=[tmp_path])


def test_a_job_returns_at_once_and_its_result_is_fetched_later(tmp_path: Path) -> None:
    async def go() -> tuple[dict, dict, Any]:
        async with create_connected_server_and_client_session(_server(tmp_path)) as client:
            started = (
                await client.call_tool("start_job", {"request": "a video of rain, 128x96, 1 second"})
            ).structuredContent
            early = await client.call_tool("job_result", {"job": started["job"]})
            assert early.isError and "ask again" in early.content[0].text
            status: dict = {}
            while status.get("status") not in ("done", "failed"):
                await anyio.sleep(0.05)  # a client polling job_status, as one with a 60 s tool timeout would
                status = (await client.call_tool("job_status", {"job": started["job"]})).structuredContent
            return started, status, await client.call_tool("job_result", {"job": started["job"]})

    started, status, result = anyio.run(go)
    assert started["status"] == "queued" and status["status"] == "done" and status["steps"] == 4
    assert result.structuredContent["outputs"][0]["num_frames"] == 17


def test_a_cancelled_job_stops_and_leaves_no_output(tmp_path: Path) -> None:
    async def go() -> dict:
        async with create_connected_server_and_client_session(_server(tmp_path)) as client:
            job = (
                await client.call_tool("start_job", {"request": "a video of a storm, 128x96, 2 seconds, 40 steps"})
            ).structuredContent
            status: dict = {"status": "queued"}
            while status["status"] == "queued" or status["step"] < 1:
                await anyio.sleep(0.05)
                status = (await client.call_tool("job_status", {"job": job["job"]})).structuredContent
            await client.call_tool("cancel_job", {"job": job["job"]})
            while status["status"] in ("queued", "running"):
                await anyio.sleep(0.05)
                status = (await client.call_tool("job_status", {"job": job["job"]})).structuredContent
            return status

    status = anyio.run(go)
    assert status["status"] == "cancelled" and status["step"] < 40
    assert not any((tmp_path / "ws" / "files").iterdir())


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

            async with anyio.create_task_group() as tg:
                for i in range(8):
                    tg.start_soon(one, i)
        return results

    results = anyio.run(go)
    assert all(r is not None and not r.isError for r in results)
    assert len({r.structuredContent["outputs"][0]["id"] for r in results}) == 8
    assert most[0] == 1


def test_a_running_job_is_cancelled_when_its_session_ends_and_records_nothing(tmp_path: Path) -> None:
    seen: list[dict] = []

    async def go() -> None:
        async with create_connected_server_and_client_session(_server(tmp_path)) as client:
            job = (
                await client.call_tool("start_job", {"request": "a video of a storm, 64x64, 4 seconds, 500 steps"})
            ).structuredContent
            queued = (await client.call_tool("start_job", {"request": "a picture of a cat, 64x64"})).structuredContent
            status: dict = {"status": "queued", "step": 0}
            while status["status"] == "queued" or status["step"] < 1:
                await anyio.sleep(0.05)
                status = (await client.call_tool("job_status", {"job": job["job"]})).structuredContent
            seen.extend([status, queued])
        # Leaving the session ends it: the running job stops at its next step, the queued one never starts.

    anyio.run(go)
    assert seen[0]["status"] == "running" and seen[1]["status"] == "queued"
    assert not any((tmp_path / "ws" / "files").iterdir())
    assert not list((tmp_path / "ws").glob(".run-*"))


def test_a_job_that_fails_unexpectedly_is_failed_and_the_server_goes_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import unison_agent.mcp_server.server as server_module

    real = server_module._run_graph

    def broken(state: Any, request: str, *args: Any) -> dict:
        if "broken" in request:
            raise RuntimeError("a bug in the graph")
        return real(state, request, *args)

    monkeypatch.setattr(server_module, "_run_graph", broken)

    async def go() -> tuple[dict, Any, Any]:
        async with create_connected_server_and_client_session(_server(tmp_path)) as client:
            job = (await client.call_tool("start_job", {"request": "a broken picture, 64x64"})).structuredContent
            status: dict = {"status": "queued"}
            with anyio.fail_after(120):
                while status["status"] in ("queued", "running"):
                    await anyio.sleep(0.05)
                    status = (await client.call_tool("job_status", {"job": job["job"]})).structuredContent
            result = await client.call_tool("job_result", {"job": job["job"]})
            after = await client.call_tool("plan", {"request": "a red fox, 64x64"})  # the server still answers
            return status, result, after

    status, result, after = anyio.run(go)
    assert status["status"] == "failed"
    assert status["error"].startswith("the job failed unexpectedly (RuntimeError: a bug in the graph); this is a bug")
    assert result.isError and "a bug in the graph" in result.content[0].text
    assert not after.isError and after.structuredContent["task"] == "text_to_image"
