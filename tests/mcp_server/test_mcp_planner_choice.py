"""The MCP server with a model planner (``create_server(planner=...)``), through an in-memory client session: the
``plan`` tool returns the model's spec and tells the client who planned it in a log message. The model is a
scripted chat model placed in the process's planner cache."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import anyio
import pytest
from mcp.shared.memory import create_connected_server_and_client_session
from mcp.types import LoggingMessageNotificationParams

from unison_agent.mcp_server.server import create_server

NAME = "llm:fake:scripted"  # what the `scripted_planner` fixture (tests/conftest.py) makes a scripted model
Seed = Callable[..., Any]  # the fixture: seed(*replies) -> the scripted chat model


def _call(
    tmp_path: Path, planner: str, name: str, args: dict[str, Any]
) -> tuple[Any, list[LoggingMessageNotificationParams]]:
    server = create_server(workspace=tmp_path / "ws", profile="tiny", planner=planner, roots=[tmp_path / "in"])
    logs: list[LoggingMessageNotificationParams] = []

    async def on_log(params: LoggingMessageNotificationParams) -> None:
        logs.append(params)

    async def go() -> Any:
        async with create_connected_server_and_client_session(server, logging_callback=on_log) as client:
            return await client.call_tool(name, args)

    return anyio.run(go), logs


def test_plan_returns_the_models_spec_and_logs_who_planned_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, scripted_planner: Seed
) -> None:
    # The rules would make a picture; the model's vertical video proves the model planned it.
    reply = {"task": "text_to_video", "prompt": "a cat on a sofa", "roles": {}, "missing": [], "width": 480}
    model = scripted_planner(json.dumps(reply | {"height": 832}))
    result, logs = _call(tmp_path, NAME, "plan", {"request": "a cat on a sofa"})
    assert not result.isError, result.content
    spec = result.structuredContent
    assert (spec["task"], spec["prompt"], spec["width"], spec["height"]) == (
        "text_to_video",
        "a cat on a sofa",
        480,
        832,
    )
    assert len(model.calls) == 1
    assert [(m.level, m.data) for m in logs] == [("info", f"planned by {NAME}")]


def test_plan_logs_the_fallback_and_why_when_the_model_fails(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, scripted_planner: Seed
) -> None:
    scripted_planner(RuntimeError("provider down"))
    result, logs = _call(tmp_path, NAME, "plan", {"request": "a cat on a sofa"})
    assert not result.isError, result.content
    assert result.structuredContent["task"] == "text_to_image"
    [log] = logs
    assert log.level == "info"
    assert log.data.startswith("planned by embedded")
    assert "the model failed (RuntimeError: provider down); used the embedded planner's plan" in log.data


def test_the_embedded_planner_logs_nothing(tmp_path: Path) -> None:
    result, logs = _call(tmp_path, "embedded", "plan", {"request": "a cat on a sofa"})
    assert result.structuredContent["task"] == "text_to_image"
    assert logs == []


def test_a_bad_choice_is_a_tool_error_not_a_crash(tmp_path: Path) -> None:
    result, _ = _call(tmp_path, "bogus", "plan", {"request": "a cat on a sofa"})
    assert result.isError
    assert "unknown planner 'bogus'" in result.content[0].text


def test_a_planner_that_cannot_load_does_not_stop_the_server_and_each_plan_says_why(tmp_path: Path) -> None:
    # The model loads beside the session (hosts time out `initialize`); a failed load is a tool error per call.
    result, _ = _call(tmp_path, f"unison:{tmp_path / 'no-checkpoint'}", "plan", {"request": "a cat on a sofa"})
    assert result.isError
    text = result.content[0].text
    assert "could not be loaded" in text and "--planner embedded" in text
