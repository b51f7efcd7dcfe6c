"""Through the session graph, a request for a file that did not come stops at clarify and asks for it, before
any model runs."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest.importorskip("langgraph")

from langgraph.checkpoint.memory import InMemorySaver

from unison_agent.graphs.session import UnisonContext, build_graph, new_request


@pytest.mark.parametrize("text", ["animate this", "make this photo move"])
def test_animating_nothing_stops_at_clarify_asking_for_a_first_frame(tmp_path: Path, text: str) -> None:
    graph = build_graph(InMemorySaver())
    ctx = UnisonContext(workspace=str(tmp_path / "ws"), profile="tiny")
    # Stopping before the tool nodes turns a plan that would run a model (the defect) into a failed assertion
    # here instead of a generation.
    out = graph.invoke(
        new_request(text),
        {"configurable": {"thread_id": "t"}},
        context=ctx,
        interrupt_before=["understand", "generate"],
    )
    [question] = out["__interrupt__"]
    assert question.value["missing"] == ["first_frame"]
    assert "first_frame" in question.value["question"]
    assert out["spec"]["task"] == "image_to_video" and out["outputs"] == []
