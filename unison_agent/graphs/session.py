"""The session graph: plan -> clarify (interrupt) -> route by task -> understand | generate -> respond.

One run of the graph is one request of a session. State carries artifact ids and the spec, never pixels: files
live in the :class:`~unison_agent.sessions.ArtifactStore` under the workspace. A request with no attachment that
refers to an earlier output ("now make it 9:16", "animate it", "what is in it?") takes that artifact as its
input; one whose inputs are missing stops at ``clarify`` with ``interrupt()`` and resumes with the person's
answer (``Command(resume={"attachments": [...]})`` or a text naming files or ``@ids``).

Dependencies arrive through the runtime context (:class:`~unison_agent.sessions.runner.UnisonContext`): the
workspace, the profile, the planner, and optionally an already-open store, model pool or
:class:`~unison_agent.sessions.runner.Resources`; a context without resources (one sent as JSON by
``langgraph dev``) uses the graph's own, so models load once per graph, not once per run. Progress of the tool
runs is streamed with ``get_stream_writer()`` (``stream_mode="custom"``).

    graph = build_graph(checkpointer=SqliteSaver(...))
    graph.invoke({"request": "a cabin in the woods"}, {"configurable": {"thread_id": session_id}},
                 context=UnisonContext(workspace="ws", profile="tiny"))
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, Literal, TypedDict

from langchain_core.runnables import RunnableConfig
from langgraph.config import get_stream_writer
from langgraph.graph import END, START, StateGraph
from langgraph.graph.state import CompiledStateGraph
from langgraph.runtime import Runtime
from langgraph.types import Checkpointer, Command, interrupt

from unison_agent.errors import RunCancelled, UnisonError
from unison_agent.planning import Attachment, plan
from unison_agent.sessions import ArtifactRecord, ArtifactStore, find_references, resolve
from unison_agent.sessions.runner import Resources, UnisonContext, run_and_store
from unison_agent.spec import Media, Task, TaskSpec
from unison_agent.tools.results import ProgressEvent

__all__ = [
    "Resources",
    "SessionGraph",
    "SessionState",
    "UnisonContext",
    "build_graph",
    "graph",
    "new_request",
    "resume_request",
    "run_and_store",
    "run_request",
]


class SessionState(TypedDict, total=False):
    """One request's state. Artifact ids, never pixels."""

    session: str  # the artifact store's session id (also a good thread id)
    request: str
    attachments: list[str]  # paths or @ids given with the request (or the clarification)
    inputs: list[str]  # artifact ids the spec uses
    spec: dict[str, Any] | None
    outputs: list[str]  # artifact ids made
    text: str | None  # the answer of an understanding task
    notes: list[str]
    error: str | None
    reply: str


def new_request(text: str, attachments: list[str] | tuple[str, ...] = ()) -> SessionState:
    """The graph input for one request. Every per-request key is reset, so nothing of the previous request on
    the same thread (its attachments, outputs, answer or error) leaks into this one."""
    return {
        "request": text,
        "attachments": list(attachments),
        "inputs": [],
        "spec": None,
        "outputs": [],
        "text": None,
        "notes": [],
        "error": None,
        "reply": "",
    }


_ID_OR_PATH = re.compile(r"@[a-z0-9]{6}\b|\S+\.(?:png|jpe?g|webp|gif|bmp|tiff?|mp4|mov|webm|mkv|avi)\b", re.I)


def _store_inputs(store: ArtifactStore, sid: str, refs: list[str]) -> list[ArtifactRecord]:
    records = []
    for ref in refs:
        records.append(store.get(ref) if ref.startswith("@") else store.add_input(sid, ref))
    return records


def plan_node(state: SessionState, runtime: Runtime[UnisonContext]) -> dict[str, Any]:
    """Plan the request: attached files (or @ids) first, else what the words point at in the session."""
    store = runtime.context.open_store()
    sid = state.get("session") or store.new_session(title=state.get("request", "")[:60])
    request = state.get("request", "")
    try:
        records = _store_inputs(store, sid, state.get("attachments") or [])
        if not records:
            records = resolve(store, sid, request)
        notes: list[str] = []
        if not records and find_references(request):
            spec = _ask_for_referent(request)
        else:
            planned = runtime.context.plan(request, [r.path for r in records])
            spec = planned.spec
            if planned.worth_telling:
                notes = planned.account()
    except UnisonError as e:
        return {"session": sid, "error": str(e), "spec": None, "inputs": [], "outputs": [], "text": None}
    by_path = {r.path: r.id for r in records}
    inputs = [by_path[i.path] for i in spec.inputs if i.path in by_path]
    # Reset what the previous request on this thread left, for clients that send only {"request": ...}.
    return {
        "session": sid,
        "spec": spec.to_json_dict(),
        "inputs": inputs,
        "outputs": [],
        "text": None,
        "notes": notes,
        "error": None,
    }


def _ask_for_referent(request: str) -> TaskSpec:
    """ "animate it" with nothing before it: plan as if the picture were there, then list its role as missing,
    so the graph asks for it instead of inventing a new picture from the words alone."""
    stand_in = Attachment(path="<earlier output>", media=Media.IMAGE, look="photo", width=832, height=480)
    guess = plan(request, [stand_in])
    if not guess.inputs:
        return plan(request, [])
    missing = [*guess.missing, *(i.role for i in guess.inputs if i.role not in guess.missing)]
    return guess.model_validate({**guess.model_dump(), "inputs": [], "missing": missing})


def clarify_node(state: SessionState) -> dict[str, Any]:
    """Ask for what is missing and wait (``interrupt``); the answer's files or @ids join the attachments."""
    spec = TaskSpec.model_validate(state["spec"])
    need = ", ".join(r.value for r in spec.missing)
    answer = interrupt(
        {
            "question": f"{spec.task.value} needs a {need}: attach the file (a path) or name an earlier output (@id)",
            "missing": [r.value for r in spec.missing],
            "session": state["session"],
        }
    )
    if isinstance(answer, dict):
        given = [str(a) for a in answer.get("attachments", [])]
    else:
        given = _ID_OR_PATH.findall(str(answer))
    kept = [f"@{i}" for i in state.get("inputs", [])]
    return {"attachments": kept + given}


def tool_node(state: SessionState, runtime: Runtime[UnisonContext]) -> dict[str, Any]:
    """Run the spec with the profile's models; store its outputs with their lineage and record the step."""
    writer = get_stream_writer()

    def progress(event: ProgressEvent) -> None:
        writer({"stage": event.stage, "done": event.done, "total": event.total, "output": event.output})

    spec = TaskSpec.model_validate(state["spec"])
    try:
        done = run_and_store(
            runtime.context, state["session"], state.get("request", ""), spec, list(state.get("inputs", [])), progress
        )
        return {**done, "notes": [*(state.get("notes") or []), *done["notes"]]}  # the planner's notes first
    except (UnisonError, RunCancelled) as e:
        return {"error": str(e), "outputs": []}
    except OSError as e:  # the machine's, not the request's: a full disk, a file removed under the run
        return {"error": f"the run could not read or write a file ({e.__class__.__name__}: {e})", "outputs": []}


def respond_node(state: SessionState) -> dict[str, Any]:
    """A one-paragraph reply for chat front ends. The request's attachments are spent: cleared for the next."""
    if state.get("error"):
        return {"reply": f"Sorry, that did not work: {state['error']}", "attachments": []}
    if state.get("text") is not None:
        return {"reply": str(state["text"]), "attachments": []}
    ids = ", ".join(f"@{i}" for i in state.get("outputs", []))
    task = (state.get("spec") or {}).get("task", "")
    return {"reply": f"Done ({task}): {ids}", "attachments": []}


def _after_plan(state: SessionState) -> Literal["clarify", "understand", "generate", "respond"]:
    """Route by task: a missing input first asks; then questions go to the VLM, the rest to VACE."""
    spec = state.get("spec")
    if state.get("error") or not spec:
        return "respond"
    if spec.get("missing"):
        return "clarify"
    return "understand" if Task(spec["task"]).is_understanding else "generate"


SessionGraph = CompiledStateGraph[SessionState, UnisonContext, SessionState, SessionState]
"""The compiled session graph: state in and out :class:`SessionState`, context :class:`UnisonContext`."""


def build_graph(checkpointer: Checkpointer = None, resources: Resources | None = None) -> SessionGraph:
    """The compiled session graph. Pass a checkpointer (e.g. ``SqliteSaver``) for sessions that survive a
    restart and for ``interrupt()``; ``langgraph dev`` supplies its own.

    ``resources``: the model pools and planners of this graph's runs that bring none in their context (made
    here when not given); a context's own ``resources``, ``pool`` or ``store`` win."""
    shared = resources or Resources()

    def bound(runtime: Runtime[UnisonContext]) -> Runtime[UnisonContext]:
        if runtime.context.resources is None:
            runtime.context.resources = shared
        return runtime

    def plan_step(state: SessionState, runtime: Runtime[UnisonContext]) -> dict[str, Any]:
        return plan_node(state, bound(runtime))

    def tool_step(state: SessionState, runtime: Runtime[UnisonContext]) -> dict[str, Any]:
        return tool_node(state, bound(runtime))

    builder = StateGraph(SessionState, context_schema=UnisonContext)
    builder.add_node("plan", plan_step)
    builder.add_node("clarify", clarify_node)
    # Two nodes, one tool function: the task family decides which backend the profile loads.
    builder.add_node("understand", tool_step)
    builder.add_node("generate", tool_step)
    builder.add_node("respond", respond_node)
    builder.add_edge(START, "plan")
    builder.add_conditional_edges("plan", _after_plan, ["clarify", "understand", "generate", "respond"])
    builder.add_edge("clarify", "plan")
    builder.add_edge("understand", "respond")
    builder.add_edge("generate", "respond")
    builder.add_edge("respond", END)
    return builder.compile(checkpointer=checkpointer)


def run_request(
    graph: SessionGraph,
    context: UnisonContext,
    session: str,
    request: str,
    attachments: list[str] | tuple[str, ...] = (),
    on_progress: Callable[[dict[str, Any]], None] | None = None,
) -> dict[str, Any]:
    """One request through ``graph`` on thread ``session``; returns the final state (with ``__interrupt__``
    when it stopped to ask). Progress events go to ``on_progress`` as they are streamed."""
    value = new_request(request, attachments)
    value["session"] = session
    return _streamed(graph, value, context, session, on_progress)


def resume_request(
    graph: SessionGraph,
    context: UnisonContext,
    session: str,
    attachments: list[str],
    on_progress: Callable[[dict[str, Any]], None] | None = None,
) -> dict[str, Any]:
    """Answer the question a request of thread ``session`` stopped at (see :func:`run_request`) with
    ``attachments`` (paths or @ids) and run it on; returns the final state, as :func:`run_request` does."""
    return _streamed(graph, Command(resume={"attachments": attachments}), context, session, on_progress)


def _streamed(
    graph: SessionGraph,
    value: SessionState | Command[Any],
    context: UnisonContext,
    session: str,
    on_progress: Callable[[dict[str, Any]], None] | None,
) -> dict[str, Any]:
    config: RunnableConfig = {"configurable": {"thread_id": session}}
    final: dict[str, Any] = {}
    for mode, chunk in graph.stream(value, config, context=context, stream_mode=["custom", "values"]):
        if not isinstance(chunk, dict):
            continue  # both modes carry dicts here: the progress events and the state
        if mode == "custom":
            if on_progress is not None:
                on_progress(chunk)
        else:
            final = chunk
    return final


# What `langgraph dev` / LangGraph Platform serve (see langgraph.json); they supply the checkpointer.
graph = build_graph()
