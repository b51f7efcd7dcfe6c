"""The session graph with a model planner (``UnisonContext.planner``): the model's plan is run and the notes say
who planned it; a failing model gives the embedded plan, noted as a fallback; a bad choice is a clear error in
the state, not a crash. The model is a scripted chat model placed in the process's planner cache."""

from __future__ import annotations

import importlib.util
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from langgraph.checkpoint.memory import InMemorySaver

from unison_agent.graphs.session import Resources, UnisonContext, build_graph, new_request
from unison_agent.planning.llm import LLMPlanner

NAME = "llm:fake:scripted"  # what the `scripted_planner` fixture (tests/conftest.py) makes a scripted model
Seed = Callable[..., Any]  # the fixture: seed(*replies) -> the scripted chat model


def _ask(tmp_path: Path, planner: str, request: str) -> tuple[dict[str, Any], UnisonContext]:
    ctx = UnisonContext(workspace=str(tmp_path / "ws"), profile="tiny", planner=planner)
    sid = ctx.open_store().new_session()
    graph = build_graph(InMemorySaver())
    final = graph.invoke({**new_request(request), "session": sid}, {"configurable": {"thread_id": sid}}, context=ctx)
    return final, ctx


def test_the_models_plan_is_run_and_the_notes_start_with_who_planned_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, scripted_planner: Seed
) -> None:
    # The rules would make this 832x480 with the profile's steps; the model's small, seeded picture proves it planned.
    reply = {"task": "text_to_image", "prompt": "a red fox", "roles": {}, "missing": []}
    model = scripted_planner(json.dumps(reply | {"width": 96, "height": 64, "steps": 2, "seed": 5}))
    final, ctx = _ask(tmp_path, NAME, "a red fox in the snow")
    assert final["error"] is None, final["error"]
    assert len(model.calls) == 1 and "a red fox in the snow" in model.calls[0][-1][1]
    spec = final["spec"]
    assert (spec["task"], spec["prompt"], spec["width"], spec["height"], spec["steps"]) == (
        "text_to_image",
        "a red fox",
        96,
        64,
        2,
    )
    [out] = final["outputs"]
    art = ctx.open_store().get(out)
    assert (art.width, art.height, art.seed) == (96, 64, 5)
    assert final["notes"][0] == f"planned by {NAME}"
    assert final["reply"] == f"Done (text_to_image): @{out}"
    [step] = ctx.open_store().history(final["session"])
    assert step.request == "a red fox in the snow" and step.outputs == [out]


def test_a_failing_model_gives_the_embedded_plan_and_a_fallback_note(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, scripted_planner: Seed
) -> None:
    model = scripted_planner(RuntimeError("provider down"))
    final, _ = _ask(tmp_path, NAME, "a red fox in the snow, 96x64, 2 steps")
    assert final["error"] is None, final["error"]
    assert len(model.calls) == 1
    spec = final["spec"]
    assert (spec["task"], spec["prompt"], spec["width"], spec["height"], spec["steps"]) == (
        "text_to_image",
        "a red fox in the snow",
        96,
        64,
        2,
    )
    assert len(final["outputs"]) == 1
    notes = final["notes"]
    assert notes[0] == "planned by embedded (fallback)"
    assert notes[1] == "the model failed (RuntimeError: provider down); used the embedded planner's plan"


def test_the_planner_notes_stay_ahead_of_the_runs_notes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, scripted_planner: Seed
) -> None:
    # The model's answer needs two repairs (each noted); the run adds its own note (no seed: it chose one).
    reply = {"task": "Text To Image", "prompt": "a red fox", "size": "96x64", "steps": 1, "roles": {}, "missing": []}
    scripted_planner(json.dumps(reply))
    final, _ = _ask(tmp_path, NAME, "a red fox in the snow")
    assert final["error"] is None, final["error"]
    assert (final["spec"]["width"], final["spec"]["height"]) == (96, 64)
    notes = final["notes"]
    assert notes[:3] == [
        f"planned by {NAME}",
        "read size '96x64' as width and height",
        "read task 'Text To Image' as text_to_image",
    ]
    assert len(notes) == 4 and notes[3].startswith("no seed given: chose ")


@pytest.mark.parametrize(
    ("choice", "message"),
    [
        ("bogus", "unknown planner 'bogus'; expected embedded | llm:<provider>:<model>"),
        ("llm:openai", "give a provider and a model, llm:<provider>:<model>"),
        ("unison:", "give the checkpoint folder, unison:<path>"),
    ],
)
def test_a_bad_choice_is_an_error_in_the_state(tmp_path: Path, choice: str, message: str) -> None:
    final, ctx = _ask(tmp_path, choice, "a red fox in the snow")
    assert message in final["error"]
    assert final["spec"] is None and final["outputs"] == []
    assert final["reply"].startswith("Sorry, that did not work: ") and message in final["reply"]
    assert ctx.open_store().history(final["session"]) == []
    assert ctx.resources is not None and choice not in ctx.resources.planners


@pytest.mark.skipif(
    importlib.util.find_spec("langchain_openai") is not None or importlib.util.find_spec("langchain") is None,
    reason="needs langchain without langchain-openai",
)
def test_a_provider_whose_package_is_missing_is_an_error_in_the_state(tmp_path: Path) -> None:
    final, _ = _ask(tmp_path, "llm:openai:gpt-4o-mini", "a red fox in the snow")
    assert "pip install langchain-openai" in final["error"]
    assert final["spec"] is None and final["outputs"] == []


def test_the_same_choice_is_loaded_once_and_shared_by_contexts_with_the_same_resources(
    tmp_path: Path, scripted_chat: type[Any]
) -> None:
    reply = {"task": "text_understanding", "prompt": "why is the sky blue?", "roles": {}, "missing": []}
    planner = LLMPlanner(scripted_chat(json.dumps(reply), json.dumps(reply)), name=NAME)
    shared = Resources()
    shared.planners.put(NAME, planner)
    a = UnisonContext(workspace=str(tmp_path / "a"), planner=NAME, resources=shared).plan("why is the sky blue?", [])
    b = UnisonContext(workspace=str(tmp_path / "b"), planner=f" LLM:Fake:{NAME.split(':')[2]} ", resources=shared).plan(
        "why is the sky blue?", []
    )
    assert shared.planners.get(NAME) is planner
    assert (a.planner, b.planner) == (NAME, NAME) and a.spec == b.spec


def test_a_graph_keeps_its_planners_and_pools_across_runs_whose_context_brings_none(
    tmp_path: Path, scripted_planner: Seed
) -> None:
    """As under ``langgraph dev``, where each run's context arrives as JSON: the graph's own resources serve
    every run, so a model planner is made once per graph (here: one scripted model answers both runs)."""
    reply = {"task": "text_understanding", "prompt": "why is the sky blue?", "roles": {}, "missing": []}
    model = scripted_planner(json.dumps(reply), json.dumps(reply))
    shared = Resources()
    graph = build_graph(InMemorySaver(), resources=shared)
    for n in range(2):
        ctx = UnisonContext(workspace=str(tmp_path / "ws"), profile="tiny", planner=NAME)
        sid = ctx.open_store().new_session()
        value = new_request("why is the sky blue?")
        value["session"] = sid
        final = graph.invoke(value, {"configurable": {"thread_id": f"t{n}"}}, context=ctx)
        assert final["spec"]["task"] == "text_understanding" and ctx.resources is shared
    assert len(model.calls) == 2 and NAME in shared.planners
