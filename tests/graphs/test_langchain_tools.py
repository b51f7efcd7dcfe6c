"""The LangChain tools: built from the shared request models, usable directly and by a tool-calling agent."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from langchain.agents import create_agent
from langchain_core.messages import AIMessage, ToolMessage

from unison_agent.graphs.langchain_tools import build_langchain_tools
from unison_agent.graphs.session import UnisonContext
from unison_agent.spec import Task
from unison_agent.tools.requests import TASK_REQUESTS, RunRequest


def _context(tmp_path: Path) -> UnisonContext:
    return UnisonContext(workspace=str(tmp_path / "ws"), profile="tiny")


def test_tools_expose_the_shared_request_models_names_and_fields(tmp_path: Path) -> None:
    tools = {t.name: t for t in build_langchain_tools(_context(tmp_path))}
    assert set(tools) == {"unison_run"} | {t.value for t in Task}
    assert tools["unison_run"].args_schema is RunRequest
    for task, model in TASK_REQUESTS.items():
        assert tools[task.value].args_schema is model
    edit_fields = set(TASK_REQUESTS[Task.IMAGE_EDITING].model_fields)
    assert {"prompt", "source", "mask", "references", "width", "height", "seed"} <= edit_fields
    assert set(TASK_REQUESTS[Task.IMAGE_TO_VIDEO].model_fields) >= {"first_frame", "last_frame", "num_frames", "fps"}


def test_every_tool_argument_says_what_it_holds(tmp_path: Path) -> None:
    for tool in build_langchain_tools(_context(tmp_path)):
        schema = tool.tool_call_schema.model_json_schema()  # what a chat model is shown
        for field, spec in schema["properties"].items():
            assert spec.get("description"), f"{tool.name}.{field} has no description"
    edit = TASK_REQUESTS[Task.IMAGE_EDITING].model_json_schema()["properties"]
    assert "absolute file path" in edit["source"]["description"] and "@id" in edit["mask"]["description"]


def test_a_typed_tool_refuses_fields_that_do_not_fit_in_one_line(tmp_path: Path) -> None:
    context = _context(tmp_path)
    sid = context.open_store().new_session()
    tools = {t.name: t for t in build_langchain_tools(context, sid)}
    refused = tools["text_to_image"].invoke({"prompt": "a kite", "width": 128})
    assert "width and height must both be given" in refused["error"] and "\n" not in refused["error"]
    too_big = tools["text_to_image"].invoke({"prompt": "a kite", "width": 99999, "height": 64})
    assert too_big == "width: Input should be less than or equal to 4096"  # checked by LangChain, told in one line
    assert context.open_store().history(sid) == []


@pytest.mark.slow
def test_typed_tools_chain_through_artifact_ids(tmp_path: Path) -> None:
    tools = {t.name: t for t in build_langchain_tools(_context(tmp_path))}
    made = tools["text_to_image"].invoke({"prompt": "a red fox", "width": 128, "height": 96, "steps": 1, "seed": 3})
    [picture] = made["outputs"]
    assert (picture["media"], picture["width"], picture["height"]) == ("image", 128, 96)
    clip = tools["image_to_video"].invoke(
        {"prompt": "the fox runs", "first_frame": "@" + picture["id"], "width": 128, "height": 96, "num_frames": 5}
    )
    assert clip["outputs"][0]["media"] == "video" and clip["outputs"][0]["num_frames"] == 5
    refused = tools["image_editing"].invoke({"prompt": "x", "source": str(tmp_path / "missing.png")})
    assert "missing.png" in refused["error"]


@pytest.mark.slow
def test_an_agent_driven_by_a_scripted_chat_model_uses_the_tools(
    tmp_path: Path, media: Callable[..., str], agent_chat_model: Callable[..., Any]
) -> None:
    photo = media("cabin.png", "photo", size=(128, 96))
    script: Iterator[AIMessage] = iter(
        [
            AIMessage(
                content="",
                tool_calls=[
                    {
                        "name": "unison_run",
                        "args": {"request": "make it winter, 128x96", "attachments": [photo]},
                        "id": "c1",
                    }
                ],
            ),
            AIMessage(
                content="", tool_calls=[{"name": "unison_run", "args": {"request": "what is in it?"}, "id": "c2"}]
            ),
            AIMessage(content="Here is your winter cabin."),
        ]
    )
    agent = create_agent(model=agent_chat_model(script), tools=build_langchain_tools(_context(tmp_path)))
    result = agent.invoke({"messages": [{"role": "user", "content": "make my cabin wintry, then describe it"}]})
    tool_results = [json.loads(m.content) for m in result["messages"] if isinstance(m, ToolMessage)]
    edit, question = tool_results
    assert edit["task"] == "image_editing" and edit["outputs"][0]["width"] == 128
    assert question["task"] == "image_understanding" and isinstance(question["text"], str)
    assert result["messages"][-1].content == "Here is your winter cabin."
