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

from unison_agent.errors import UnisonError
from unison_agent.graphs.session import UnisonContext, build_graph, new_request, run_and_store
from unison_agent.spec import Media, Task, explain
from unison_agent.tools.requests import TASK_REQUESTS, RunRequest, spec_from_request, tool_description

__all__ = ["build_langchain_tools"]


def build_langchain_tools(context: UnisonContext, session: str | None = None) -> list[StructuredTool]:
    """``unison_run`` plus one tool per task, all working in one session of ``context``'s workspace.

    Tool errors (a bad file, a missing input, a model that cannot load) come back as the tool's result text, so
    the agent can tell the person; they never raise into the agent loop.
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
            func=unison_run, name="unison_run", description=RunRequest.__doc__ or "", args_schema=RunRequest
        )
    ]

    def make(task: Task, model: type[BaseModel]) -> StructuredTool:
        def call(**fields: Any) -> dict[str, Any]:
            try:
                request = model.model_validate(fields)
                records: dict[str, Any] = {}

                def media_of(ref: str) -> Media:
                    record = store.get(ref) if ref.startswith("@") else store.add_input(sid, ref)
                    records[ref] = record
                    return record.media

                spec = spec_from_request(task, request, media_of)
                spec = spec.model_copy(
                    update={"inputs": [i.model_copy(update={"path": records[i.path].path}) for i in spec.inputs]}
                )
                ids = [records[ref].id for ref in records]
                result = run_and_store(context, sid, f"{task.value}: {request.model_dump_json()}", spec, ids)
            except ValidationError as e:
                return {"error": explain(e)}
            except UnisonError as e:
                return {"error": str(e)}
            return {"task": task.value, "text": result["text"], "outputs": describe(result["outputs"])}

        return StructuredTool.from_function(
            func=call, name=task.value, description=tool_description(task), args_schema=model
        )

    tools += [make(task, model) for task, model in TASK_REQUESTS.items()]
    return tools
