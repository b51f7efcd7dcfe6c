"""Real clients beyond the SDK: the official MCP Inspector CLI (npm), and a LangGraph agent that reaches the
tools through langchain-mcp-adapters."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import anyio
import pytest
from langchain.agents import create_agent
from langchain_core.messages import AIMessage, ToolMessage
from langchain_mcp_adapters.client import MultiServerMCPClient

INSPECTOR = "@modelcontextprotocol/inspector@2.12.0"


def _server_args(tmp_path: Path) -> list[str]:
    return ["-m", "unison_agent.cli", "mcp", "--profile", "tiny", "--workspace", str(tmp_path / "ws")]


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("npx") is None, reason="needs Node.js (npx) for the Inspector CLI")
def test_the_mcp_inspector_cli_lists_and_calls_the_tools(tmp_path: Path) -> None:
    base = ["npx", "--yes", INSPECTOR, "--cli", sys.executable, *_server_args(tmp_path)]
    listed = subprocess.run([*base, "--method", "tools/list"], capture_output=True, text=True, timeout=300)
    assert listed.returncode == 0, listed.stderr
    tools = {t["name"]: t for t in json.loads(listed.stdout)["tools"]}
    assert {"plan", "run", "start_job", "image_editing", "undo"} <= set(tools)
    for name, tool in tools.items():  # what a host sees: hints and result schemas on every tool
        assert tool["annotations"]["openWorldHint"] is False and "readOnlyHint" in tool["annotations"], name
        assert tool["outputSchema"]["type"] == "object", name
    assert tools["plan"]["annotations"]["readOnlyHint"] and not tools["run"]["annotations"]["readOnlyHint"]
    assert "outputs" in tools["run"]["outputSchema"]["properties"]
    called = subprocess.run(
        [*base, "--method", "tools/call", "--tool-name", "run", "--tool-arg", "request=a red fox, 128x96, 2 steps"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert called.returncode == 0, called.stderr
    result = json.loads(called.stdout)
    assert result["structuredContent"]["outputs"][0]["media"] == "image"
    assert [c["type"] for c in result["content"]] == ["text", "image", "resource_link"]


@pytest.mark.slow
def test_a_langgraph_agent_uses_the_tools_through_langchain_mcp_adapters(
    tmp_path: Path, agent_chat_model: Callable[..., Any]
) -> None:
    client = MultiServerMCPClient(
        {
            "unison": {
                "transport": "stdio",
                "command": sys.executable,
                "args": _server_args(tmp_path),
                "env": dict(os.environ),
            }
        }
    )

    async def go() -> dict[str, Any]:
        tools = await client.get_tools()
        script = iter(
            [
                AIMessage(
                    content="",
                    tool_calls=[{"name": "run", "args": {"request": "a lighthouse, 128x96, 2 steps"}, "id": "1"}],
                ),
                AIMessage(content="Made it."),
            ]
        )
        agent = create_agent(model=agent_chat_model(script), tools=tools)
        return await agent.ainvoke({"messages": [{"role": "user", "content": "draw a lighthouse"}]})

    result = anyio.run(go)
    [tool_message] = [m for m in result["messages"] if isinstance(m, ToolMessage)]
    assert tool_message.status != "error"
    assert "artifact://" in json.dumps(tool_message.content, default=str) or tool_message.artifact
    assert result["messages"][-1].content == "Made it."
