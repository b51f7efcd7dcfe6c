"""The session graph: follow-ups find their input in the session, missing inputs interrupt, state persists."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypedDict

import pytest
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.checkpoint.sqlite import SqliteSaver
from langgraph.graph import END, START, StateGraph
from langgraph.types import Command

from unison_agent.graphs.session import UnisonContext, build_graph, new_request
from unison_agent.sessions import ArtifactStore


@pytest.fixture
def ctx(tmp_path: Path) -> UnisonContext:
    return UnisonContext(workspace=str(tmp_path / "ws"), profile="tiny")


def _invoke(graph: Any, ctx: UnisonContext, thread: str, value: Any) -> dict[str, Any]:
    out: dict[str, Any] = graph.invoke(value, {"configurable": {"thread_id": thread}}, context=ctx)
    return out


@pytest.mark.slow
def test_six_steps_generate_edit_reshape_undo_animate_describe_keep_the_lineage(ctx: UnisonContext) -> None:
    graph = build_graph(InMemorySaver())
    store = ctx.open_store()
    sid = store.new_session()
    first = _invoke(graph, ctx, sid, {**new_request("a cabin in the woods, 128x96"), "session": sid})
    assert first["spec"]["task"] == "text_to_image" and len(first["outputs"]) == 1
    edit = _invoke(graph, ctx, sid, new_request("make it winter, 128x96"))
    assert edit["spec"]["task"] == "image_editing" and edit["inputs"] == first["outputs"]
    wide = _invoke(graph, ctx, sid, new_request("now make it 9:16"))
    assert wide["inputs"] == edit["outputs"]
    assert (wide["spec"]["width"], wide["spec"]["height"]) == (480, 848)
    assert store.undo(sid) is not None  # undo the 9:16 version
    anim = _invoke(graph, ctx, sid, new_request("animate it, 1 second, 128x96"))
    assert anim["spec"]["task"] == "image_to_video" and anim["inputs"] == edit["outputs"]
    clip = store.get(anim["outputs"][0])
    assert (clip.media.value, clip.num_frames, clip.parents) == ("video", 17, edit["outputs"])
    described = _invoke(graph, ctx, sid, new_request("what is in it?"))
    assert described["spec"]["task"] == "video_understanding" and described["inputs"] == anim["outputs"]
    assert isinstance(described["text"], str) and described["outputs"] == []
    history = store.history(sid)
    assert [s.request for s in history] == [
        "a cabin in the woods, 128x96",
        "make it winter, 128x96",
        "animate it, 1 second, 128x96",
        "what is in it?",
    ]


@pytest.mark.slow
def test_missing_input_interrupts_and_resumes_with_the_persons_file(
    ctx: UnisonContext, media: Callable[..., str]
) -> None:
    graph = build_graph(InMemorySaver())
    out = _invoke(graph, ctx, "t1", new_request("edit my photo using the mask: make the sky purple, 128x96"))
    [question] = out["__interrupt__"]
    assert "needs" in question.value["question"] and set(question.value["missing"]) >= {"source"}
    photo, mask = media("photo.png", "photo", size=(128, 96)), media("mask.png", "mask", size=(128, 96))
    done = _invoke(graph, ctx, "t1", Command(resume={"attachments": [photo, mask]}))
    assert done["spec"]["task"] == "image_editing" and len(done["outputs"]) == 1
    store = ctx.open_store()
    assert [store.get(i).name for i in done["inputs"]] == ["photo.png", "mask.png"]


@pytest.mark.slow
def test_a_session_survives_a_restart_with_the_sqlite_checkpointer(ctx: UnisonContext, tmp_path: Path) -> None:
    db = tmp_path / "checkpoints.db"
    with sqlite3.connect(db, check_same_thread=False) as conn:
        first = _invoke(build_graph(SqliteSaver(conn)), ctx, "keep", new_request("a lighthouse, 128x96"))
    # A new process would open everything again: a new connection, a new store, a new graph.
    ctx2 = UnisonContext(workspace=ctx.workspace, profile="tiny")
    with sqlite3.connect(db, check_same_thread=False) as conn:
        graph = build_graph(SqliteSaver(conn))
        state = graph.get_state({"configurable": {"thread_id": "keep"}}).values
        assert state["session"] == first["session"] and state["outputs"] == first["outputs"]
        again = _invoke(graph, ctx2, "keep", new_request("make it stormy, 128x96"))
    assert again["inputs"] == first["outputs"]
    assert ArtifactStore(ctx.workspace).get(again["outputs"][0]).parents == first["outputs"]


def test_progress_is_streamed_per_denoising_step(ctx: UnisonContext) -> None:
    graph = build_graph(InMemorySaver())
    events = [
        chunk
        for chunk in graph.stream(
            new_request("a fox, 128x96, 3 steps"),
            {"configurable": {"thread_id": "s"}},
            context=ctx,
            stream_mode="custom",
        )
    ]
    assert [e["done"] for e in events if e["stage"] == "denoise"] == [1, 2, 3]


class _Outer(TypedDict, total=False):
    ask: str
    answer: str


def test_the_graph_works_as_a_subgraph_of_another_graph(ctx: UnisonContext) -> None:
    inner = build_graph()

    def call(state: _Outer) -> dict[str, str]:
        result = inner.invoke(new_request(state["ask"]), context=ctx)
        return {"answer": result["reply"]}

    outer = StateGraph(_Outer)
    outer.add_node("unison", call)
    outer.add_edge(START, "unison")
    outer.add_edge("unison", END)
    result = outer.compile().invoke({"ask": "a red kite in the sky, 128x96"})
    assert result["answer"].startswith("Done (text_to_image): @")


def test_a_follow_up_that_refers_to_nothing_asks_for_it(ctx: UnisonContext) -> None:
    graph = build_graph(InMemorySaver())
    out = _invoke(graph, ctx, "empty", new_request("animate it, 1 second"))
    [question] = out["__interrupt__"]
    assert question.value["missing"] == ["first_frame"]


def test_questions_and_generation_take_different_routes(ctx: UnisonContext) -> None:
    graph = build_graph(InMemorySaver())
    config = {"configurable": {"thread_id": "r"}}
    nodes = [
        next(iter(u)) for u in graph.stream(new_request("a fox, 128x96"), config, context=ctx, stream_mode="updates")
    ]
    assert nodes == ["plan", "generate", "respond"]
    nodes = [
        next(iter(u)) for u in graph.stream(new_request("what is in it?"), config, context=ctx, stream_mode="updates")
    ]
    assert nodes == ["plan", "understand", "respond"]


def test_a_run_that_cannot_write_its_file_ends_the_request_with_an_error_not_a_crash(
    ctx: UnisonContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    import unison_agent.tools.executors as executors_module  # where the local executor finds run()

    def full_disk(*args: Any, **kwargs: Any) -> Any:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(executors_module, "run", full_disk)
    out = _invoke(build_graph(InMemorySaver()), ctx, "t1", new_request("a cabin in the woods, 64x64"))
    assert out["error"] == "the run could not read or write a file (OSError: [Errno 28] No space left on device)"
    assert out["reply"].startswith("Sorry, that did not work") and out["outputs"] == []
