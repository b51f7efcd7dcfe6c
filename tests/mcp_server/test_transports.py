"""`unison mcp` over stdio and streamable HTTP, with the SDK's own clients."""

from __future__ import annotations

import json
import os
import re
import selectors
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest
from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client
from mcp.client.streamable_http import streamable_http_client


@pytest.mark.slow
def test_stdio_run_makes_an_image_and_a_video_with_progress(tmp_path: Path) -> None:
    params = StdioServerParameters(
        command=sys.executable,
        args=["-m", "unison_agent.cli", "mcp", "--profile", "tiny", "--workspace", str(tmp_path / "ws")],
        env=dict(os.environ),
        cwd=str(tmp_path),
    )

    async def go() -> tuple[Any, Any, list]:
        progress: list = []

        async def on_progress(done: float, total: float | None, message: str | None) -> None:
            progress.append((done, total))

        async with stdio_client(params) as (read, write), ClientSession(read, write) as client:
            await client.initialize()
            image = await client.call_tool(
                "run", {"request": "a red fox, 128x96, 2 steps"}, progress_callback=on_progress
            )
            video = await client.call_tool(
                "run", {"request": "a video of waves, 128x96, 1 second, 2 steps"}, progress_callback=on_progress
            )
        return image, video, progress

    image, video, progress = anyio.run(go)
    assert image.structuredContent["outputs"][0]["media"] == "image"
    assert video.structuredContent["outputs"][0]["media"] == "video"
    assert progress == [(1, 2), (2, 2), (1, 2), (2, 2)]


@pytest.mark.slow
def test_http_needs_the_token_refuses_foreign_hosts_and_serves_the_tools(tmp_path: Path) -> None:
    # Port 0: the system picks a free port and the server prints the one it listens on.
    cmd = [sys.executable, "-m", "unison_agent.cli", "mcp", "--http", "--port", "0", "--profile", "tiny"]
    cmd += ["--workspace", str(tmp_path / "ws"), "--token", " s3cret\n"]  # pasted with spaces: stripped
    with subprocess.Popen(cmd, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True) as srv:
        try:
            assert srv.stderr is not None
            ports: list[int] = []
            listening = threading.Event()

            def read() -> None:  # the server's log, read aside (and drained) so that the wait has a deadline
                assert srv.stderr is not None
                for line in srv.stderr:
                    if found := re.search(r"Uvicorn running on http://127\.0\.0\.1:(\d+)", line):
                        ports.append(int(found.group(1)))
                        listening.set()

            threading.Thread(target=read, daemon=True).start()
            assert listening.wait(timeout=120), "the server never said where it listens"
            port = ports[0]
            assert port != 0
            url = f"http://127.0.0.1:{port}/mcp"
            assert httpx.post(url, json={}).status_code == 401
            foreign = httpx.post(
                url,
                json={"jsonrpc": "2.0", "id": 1, "method": "ping"},
                headers={
                    "Authorization": "Bearer s3cret",
                    "Host": "evil.example",
                    "Accept": "application/json, text/event-stream",
                },
            )
            assert foreign.status_code in (403, 421)

            async def go() -> list[str]:
                async with (
                    httpx.AsyncClient(headers={"Authorization": "Bearer s3cret"}) as http,
                    streamable_http_client(url, http_client=http) as (read, write, _),
                    ClientSession(read, write) as c,
                ):
                    await c.initialize()
                    return [t.name for t in (await c.list_tools()).tools]

            assert "run" in anyio.run(go)
        finally:
            srv.terminate()
            srv.wait(timeout=30)


def test_serving_beyond_this_machine_without_a_token_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    from unison_agent.cli import main

    assert main(["mcp", "--http", "--host", "0.0.0.0", "--profile", "tiny"]) == 2
    assert "without --token" in capsys.readouterr().err


@pytest.fixture
def no_serving(monkeypatch: pytest.MonkeyPatch) -> None:
    """A check that lets a bad setting through fails the test instead of serving until the test run is killed."""

    def served(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("the server was started")

    monkeypatch.setattr("unison_agent.mcp_server.http.serve_http", served)


@pytest.mark.usefixtures("no_serving")
@pytest.mark.parametrize("port", ["99999", "-1", "65536", "eighty"])
def test_a_port_outside_0_to_65535_is_refused_in_one_line(port: str, capsys: pytest.CaptureFixture[str]) -> None:
    from unison_agent.cli import main

    with pytest.raises(SystemExit) as exited:
        main(["mcp", "--http", "--port", port, "--profile", "tiny"])
    err = capsys.readouterr().err
    assert exited.value.code == 2
    assert "--port" in err and "1..65535" in err and "0 for any free port" in err and err.count("\n") == 1


@pytest.mark.usefixtures("no_serving")
@pytest.mark.parametrize("token", ["", "   ", "\t\n"])
@pytest.mark.parametrize("host", ["0.0.0.0", "127.0.0.1"])
def test_an_empty_or_blank_token_is_refused(host: str, token: str, capsys: pytest.CaptureFixture[str]) -> None:
    from unison_agent.cli import main

    assert main(["mcp", "--http", "--host", host, "--token", token, "--profile", "tiny"]) == 2
    err = capsys.readouterr().err
    assert "token is empty" in err and err.count("\n") == 1


@pytest.mark.usefixtures("no_serving")
def test_a_blank_token_from_the_environment_is_refused_too(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from unison_agent.cli import main

    monkeypatch.setenv("UNISON_MCP_TOKEN", "  ")
    assert main(["mcp", "--http", "--host", "0.0.0.0", "--profile", "tiny"]) == 2
    assert "token is empty" in capsys.readouterr().err


def test_a_token_with_surrounding_spaces_is_stripped() -> None:
    from unison_agent.mcp_server.http import BearerToken

    assert BearerToken(None, "  s3cret\n").expected == b"Bearer s3cret"


def _messages(proc: subprocess.Popen[bytes], deadline: float) -> Iterator[dict[str, Any]]:
    """The server's JSON-RPC messages as they arrive, until ``deadline`` (a ``time.monotonic()`` value)."""
    assert proc.stdout is not None
    buffer = b""
    with selectors.DefaultSelector() as selector:
        selector.register(proc.stdout, selectors.EVENT_READ)
        while (left := deadline - time.monotonic()) > 0 and selector.select(timeout=left):
            chunk = os.read(proc.stdout.fileno(), 65536)
            if not chunk:
                return
            *lines, buffer = (buffer + chunk).split(b"\n")
            yield from (json.loads(line) for line in lines if line.strip())


@pytest.mark.slow
@pytest.mark.parametrize(
    ("how", "exit_code", "said"),
    [("client-killed", 0, ""), ("SIGTERM", 130, "unison mcp: stopped\n")],
    ids=["client-killed", "SIGTERM"],
)
def test_the_stdio_server_stops_its_run_and_exits_when_its_client_goes_away_or_it_is_told_to_stop(
    tmp_path: Path, how: str, exit_code: int, said: str
) -> None:
    ws = tmp_path / "ws"
    cmd = [sys.executable, "-m", "unison_agent.cli", "mcp", "--profile", "tiny", "--workspace", str(ws)]
    log = (tmp_path / "stderr.txt").open("wb")
    proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log, cwd=tmp_path)
    try:
        assert proc.stdin is not None and proc.stdout is not None

        def send(message: dict[str, Any]) -> None:
            assert proc.stdin is not None
            proc.stdin.write(json.dumps({"jsonrpc": "2.0", **message}).encode() + b"\n")
            proc.stdin.flush()

        client = {"name": "test", "version": "0"}
        send(
            {
                "id": 1,
                "method": "initialize",
                "params": {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": client},
            }
        )
        send({"method": "notifications/initialized"})
        # Minutes of denoising on the tiny model: far longer than the deadline below.
        request = "a video of a storm, 64x64, 4 seconds, 300 steps"
        send(
            {
                "id": 2,
                "method": "tools/call",
                "params": {"name": "run", "arguments": {"request": request}, "_meta": {"progressToken": "p"}},
            }
        )
        progress = next(
            (m for m in _messages(proc, time.monotonic() + 180) if m.get("method") == "notifications/progress"), None
        )
        assert progress is not None, (tmp_path / "stderr.txt").read_text()
        if how == "SIGTERM":
            proc.send_signal(signal.SIGTERM)
        # The client is gone (killed, or it went away after stopping the server): its ends of both pipes close.
        proc.stdin.close()
        proc.stdout.close()
        code = proc.wait(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        log.close()
    stderr = (tmp_path / "stderr.txt").read_text()
    assert code == exit_code and stderr == said, stderr
    assert not any((ws / "files").iterdir()), "the abandoned run recorded an output"
    assert not list(ws.glob(".run-*")) and not list(ws.rglob("*.part"))
