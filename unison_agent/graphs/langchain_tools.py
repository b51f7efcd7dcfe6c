"""The tools as LangChain ``StructuredTool``s, for tool-calling agents (``langchain.agents.create_agent``...).

Built from the same request models as every other front door (``tools.requests``): ``unison_run`` takes the
person's words and attachments and goes through the session graph (planner, follow-up references, clarifying
questions); one tool per task takes typed fields. Results are small JSON objects with artifact ids and paths,
never pixels, so an agent's context stays small.
"""

from __future__ import annotations

from typing import Any

from langchain_core.runnables import RunnableConfig
from langchain_core.tools import StructuredTool
from langgraph.checkpoint.memory import InMemorySaver
from pydantic import BaseModel, ValidationError

from unison_agent.errors import RunCancelled, UnisonError
from unison_agent.graphs.session import UnisonContext, build_graph, new_request
from unison_agent.sessions.runner import run_task_request
from unison_agent.spec import Task, explain
from unison_agent.tools.requests import TASK_REQUESTS, RunRequest, tool_description

__all__ = ["build_langchain_tools"]


def build_langchain_tools(context: UnisonContext, session: str | None = None) -> list[StructuredTool]:
    """``unison_run`` plus one tool per task, all working in one session of ``context``'s workspace.

    Tool errors (a bad file, a missing input, a model that cannot load) come back as the tool's result
    (``{"error": "<one line>"}``), so the agent can tell the person; they never raise into the agent loop.
    Arguments that do not fit a tool's schema are checked by LangChain before the tool runs: they come back as
    one line of text, ``field: problem; ...`` (a ToolMessage with status "error" in an agent). The typed tools
    run through :func:`~unison_agent.sessions.runner.run_task_request`, as the MCP server's do.
    """
    store = context.open_store()
    sid = session or store.new_session(title="langchain tools")
    graph = build_graph(InMemorySaver())
    config: RunnableConfig = {"configurable": {"thread_id": sid}}

    def describe(ids: list[str]) -> list[dict[str, Any]]:
        out = []
        for aid in ids:
            a = store.get(aid)
            out.append({"id": a.id, "path": a.path, "media": a.media.value, "width": a.width, "height": a.height})
            out[-1]["num_frames"] = a.num_frames
        return out

    def unison_run(request: str, attachments: list[str] | None = None) -> dict[str, Any]:
        value = new_request(request, attachments or [])
        value["session"] = sid
        state = graph.invoke(value, config, context=context)
        if "__interrupt__" in state:
            return {"question": state["__interrupt__"][0].value["question"]}
        if state.get("error"):
            return {"error": state["error"]}
        return {"task": state["spec"]["task"], "text": state.get("text"), "outputs": describe(state["outputs"])}

    tools = [
        StructuredTool.from_function(
            func=unison_run,
            name="unison_run",
            description=RunRequest.__doc__ or "",
            args_schema=RunRequest,
            handle_validation_error=_explained,
        )
    ]

    def make(task: Task, model: type[BaseModel]) -> StructuredTool:
        def call(**fields: Any) -> dict[str, Any]:
            try:
                result = run_task_request(context, sid, task, fields)
            except (UnisonError, RunCancelled) as e:
                return {"error": str(e)}
            return {"task": task.value, "text": result["text"], "outputs": describe(result["outputs"])}

        return StructuredTool.from_function(
            func=call,
            name=task.value,
            description=tool_description(task),
            args_schema=model,
            handle_validation_error=_explained,
        )

    tools += [make(task, model) for task, model in TASK_REQUESTS.items()]
    return tools


def _explained(error: Exception) -> str:
    """Arguments refused by a tool's schema, in one line: ``field: problem; field: problem``."""
    return explain(error).replace("\n", "; ") if isinstance(error, ValidationError) else str(error)
