"""The MCP server: the planner-driven tools for desktop assistants, on the official ``mcp`` SDK (FastMCP).

Tools: ``plan`` (request -> TaskSpec), ``run`` (request -> answer or files, the automatic path), one typed tool
per task (from the shared request models), and session tools (``list_artifacts``, ``history``, ``undo``).
Artifacts are resources (``artifact://{id}``): a picture comes back as a small inline preview plus a link to
the full file; a video only as a link. Structured content carries the spec and the output facts.

Generation runs in a worker thread, one at a time in the order the calls came, never on the event loop (see
:mod:`~unison_agent.mcp_server.worker`): a waiting call is told its place in line, a running one its step and
the time left, as MCP progress notifications. A call the client cancels stops at its next step and leaves
nothing behind. Jobs (``start_job`` and the tools around it, :mod:`~unison_agent.mcp_server.jobs`) live in the
workspace's database. Files are read only through :class:`~unison_agent.mcp_server.guard.FileGuard`.
"""

from __future__ import annotations

import base64
import contextlib
import dataclasses
import inspect
import io
import mimetypes
import os
import signal
import sys
import threading
from collections.abc import AsyncIterator, Callable, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, cast

import anyio
import anyio.from_thread
import anyio.to_thread
from langgraph.checkpoint.memory import InMemorySaver
from mcp.server.fastmcp import Context, FastMCP
from mcp.server.fastmcp.exceptions import ResourceError
from mcp.server.fastmcp.exceptions import ToolError as FastMCPToolError
from mcp.server.lowlevel.helper_types import ReadResourceContents
from mcp.server.stdio import stdio_server
from mcp.types import CallToolResult, ImageContent, ResourceLink, TextContent
from PIL import Image
from pydantic import AnyUrl, BaseModel, Field, ValidationError

from unison_agent.errors import UnisonError
from unison_agent.graphs.session import build_graph, run_request
from unison_agent.mcp_server.guard import AccessError, FileGuard
from unison_agent.mcp_server.jobs import DEFAULT_JOB_TTL_S, JobStore, register_job_tools
from unison_agent.mcp_server.worker import Runs, Ticket, Working, in_worker
from unison_agent.media import MediaError
from unison_agent.sessions import ArtifactStore, StoreError
from unison_agent.sessions.runner import Resources, UnisonContext, run_and_store
from unison_agent.spec import Media, Task, explain
from unison_agent.tools import RunCancelled, ToolError
from unison_agent.tools.requests import TASK_REQUESTS, RequestText, spec_from_request, tool_description

__all__ = ["ServerState", "create_server"]

if TYPE_CHECKING:
    from anyio.abc import TaskGroup
    from mcp.server.session import ServerSession
    from starlette.requests import Request

    ToolContext = Context[ServerSession, "ServerState", Request]
else:  # FastMCP finds the context parameter by its class, which a parameterised alias is not
    ToolContext = Context

PREVIEW_SIDE = 256  # inline previews stay small: hosts pass tool results to their model
ARTIFACT_URI = "artifact://{aid}"


@dataclass
class ServerState:
    """What every tool call shares: the store, this server's session, the models, the file guard, the queue."""

    store: ArtifactStore
    session: str
    unison: UnisonContext
    guard: FileGuard
    graph: Any
    jobs: JobStore  # the workspace's, owned by this session while it lives
    task_group: TaskGroup  # runs jobs past the tool call that started them
    runs: Runs  # this session's
    working: Working  # the server's line

    def check(self, attachments: list[str]) -> list[str]:
        """The attachments made safe to read (see :func:`_checked`)."""
        return _checked(self, attachments)

    def run_graph(
        self, request: str, refs: list[str], unison: UnisonContext, progress: Callable[[dict[str, Any]], None]
    ) -> dict[str, Any]:
        """One request through the session graph (in the worker thread); returns its final state."""
        return _run_graph(self, request, refs, unison, progress)

    def present(self, final: dict[str, Any]) -> CallToolResult:
        """A final state of the graph as ``run`` returns it."""
        return _graph_result(self, final)


def create_server(
    *,
    workspace: str | Path,
    profile: str = "default",
    planner: str = "embedded",
    roots: list[str | Path] | None = None,
    host: str = "127.0.0.1",
    port: int = 8000,
    job_ttl_s: float = DEFAULT_JOB_TTL_S,
) -> FastMCP:
    """The server. ``roots`` are the folders files may be read from (default: the workspace and the current
    directory); outputs are written only into the workspace. ``planner``: who plans (``embedded``,
    ``llm:<provider>:<model>``, ``hybrid:<provider>:<model>``, ``unison:<path>``; see ``unison_agent.planners``).
    ``job_ttl_s``: finished jobs older than this are deleted (at every start and every ``list_jobs``).

    Raises ValueError for a ``job_ttl_s`` that is not positive."""
    if not job_ttl_s > 0:
        raise ValueError(f"the jobs' time to live must be a positive number of seconds, not {job_ttl_s}")
    workspace = Path(workspace).expanduser().resolve()
    allowed = [workspace, Path.cwd()] if roots is None else [*roots, workspace]

    @asynccontextmanager
    async def lifespan(app: FastMCP) -> AsyncIterator[ServerState]:
        assert isinstance(app, _UnisonMCP)  # the server built below (the SDK's type says FastMCP)
        store = ArtifactStore(workspace)
        ctx = UnisonContext(
            workspace=str(workspace), profile=profile, planner=planner, store=store, resources=Resources()
        )
        if planner != "embedded":
            # Hosts give a server seconds to answer `initialize`; a model planner takes longer to load, so it
            # loads beside the session and the first plan waits for it (a load that fails is reported then).
            threading.Thread(target=_warm_planner, args=(ctx,), name="planner-load", daemon=True).start()
        jobs = JobStore(workspace, ttl_s=job_ttl_s)
        jobs.fail_abandoned()  # the jobs a killed server left queued or running
        jobs.expire()
        runs = Runs(wake=app.working.wake)
        app.live_runs.add(runs)
        try:
            async with anyio.create_task_group() as tg:
                try:
                    yield ServerState(
                        store=store,
                        session=store.new_session(title="mcp"),
                        unison=ctx,
                        guard=FileGuard.create(list(allowed)),
                        graph=build_graph(InMemorySaver()),
                        jobs=jobs,
                        task_group=tg,
                        runs=runs,
                        working=app.working,
                    )
                finally:
                    # Session over: every run stops at its next step, so the task group below waits for one
                    # step of the worker, not for whole generations nobody will receive; each job records how
                    # it ended before the session lets go of its jobs.
                    runs.stop()
                    tg.cancel_scope.cancel()
        finally:
            app.live_runs.discard(runs)
            jobs.close()

    mcp = _UnisonMCP(
        "unison-agent",
        instructions=(
            "Answer questions about pictures and videos and make or edit them. Use `run` with the person's own "
            "words and attached file paths (absolute) or earlier outputs (@id); the planner picks the task."
        ),
        lifespan=lifespan,
        host=host,
        port=port,
        log_level="WARNING",  # the SDK logs every request at INFO, on the stderr a stdio host shows
    )
    _register(mcp)

    @mcp.resource(
        ARTIFACT_URI,
        name="artifact",
        description="A stored input or output (its file, as bytes), by id.",
        mime_type="application/octet-stream",  # what the template covers; each read names its file's own type
    )
    def artifact(aid: str, ctx: ToolContext) -> bytes:
        return _artifact_file(_state(ctx).store, aid)[0]

    return mcp


class _UnisonMCP(FastMCP):
    """FastMCP whose ``artifact://`` reads carry each file's own MIME type (a FastMCP template has one MIME type
    for every URI it matches, and artifacts are PNGs, MP4s and more), whose refused tool arguments are told in
    one line per problem (``request: String should have at most 10000 characters``), and whose stdio transport
    stops every run when the client goes away."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.signalled = False  # serving over stdio ended because of SIGTERM or SIGHUP
        self.live_runs: set[Runs] = set()  # one per session being served (the lifespan adds and removes it)
        self.working = Working()  # the runs of every session in worker threads

    def run(self, *args: Any, **kwargs: Any) -> None:
        """As FastMCP's ``run``; when it ends, however it ends (Ctrl-C, SIGTERM: the event loop does not wait
        for worker threads), every run is stopped and waited for, so each removes what it was writing."""
        try:
            super().run(*args, **kwargs)
        finally:
            self.stop_runs()
            self.working.wait_idle()

    async def run_stdio_async(self) -> None:
        """Serve over stdin/stdout until stdin ends. When the client goes away (end of stdin, or a broken pipe on
        stdout: it quit or was killed), every run is cancelled at once; the SDK would otherwise finish the tool
        calls in flight, i.e. keep generating for minutes for nobody, before the process could exit."""
        client = _StdioClient(on_gone=self.stop_runs)
        # stdio_server only iterates stdin and calls write/flush on stdout, which _StdioClient provides.
        stdin, stdout = cast(Any, client.lines()), cast(Any, client)
        async with (
            stdio_server(stdin=stdin, stdout=stdout) as (read_stream, write_stream),
            anyio.create_task_group() as tg,
        ):
            tg.start_soon(self._stop_runs_when_cancelled)
            tg.start_soon(self._stop_on_signals, tg.cancel_scope)
            await self._mcp_server.run(read_stream, write_stream, self._mcp_server.create_initialization_options())
            tg.cancel_scope.cancel()

    async def _stop_on_signals(self, scope: anyio.CancelScope) -> None:
        """SIGTERM and SIGHUP end serving as Ctrl-C does: every run stops at its next step and the server's tasks
        are cancelled. Received by the event loop, not by a handler raising KeyboardInterrupt wherever the main
        thread happens to be (inside the loop's own machinery that leaves a traceback). A signal that is ignored
        (``nohup`` ignores SIGHUP) stays ignored. Sets ``signalled``, so the CLI exits 130."""
        wanted = [getattr(signal, name, None) for name in ("SIGTERM", "SIGHUP")]
        signals = [s for s in wanted if s is not None and signal.getsignal(s) is not signal.SIG_IGN]
        if sys.platform == "win32" or not signals:  # no loop signal handlers there
            await anyio.sleep_forever()
        with anyio.open_signal_receiver(*signals) as received:
            async for _ in received:
                self.signalled = True
                self.stop_runs()
                scope.cancel()
                return

    async def _stop_runs_when_cancelled(self) -> None:
        """Wait; once cancelled, stop every run. Ctrl-C, SIGTERM and SIGHUP (the CLI raises KeyboardInterrupt for
        them) cancel every task, but a task waiting for the worker thread cannot be cancelled until the thread
        returns: this one is, and its stop makes the thread return at its next step."""
        try:
            await anyio.sleep_forever()
        finally:
            self.stop_runs()

    def stop_runs(self) -> None:
        """Cancel the runs of every session this server is serving (see :class:`Runs`)."""
        for runs in list(self.live_runs):
            runs.stop()

    async def call_tool(self, name: str, arguments: dict[str, Any]) -> Any:
        """As FastMCP; raises FastMCP's ToolError, with a validation failure said as ``field: problem``."""
        try:
            return await super().call_tool(name, arguments)
        except FastMCPToolError as e:
            if isinstance(e.__cause__, ValidationError):  # the arguments did not fit the tool's input schema
                raise FastMCPToolError(_explained(e.__cause__)) from None
            raise

    async def read_resource(self, uri: AnyUrl | str) -> Iterable[ReadResourceContents]:
        """The artifact's bytes with its MIME type; other URIs as FastMCP reads them. Raises ResourceError for an
        unknown artifact (the client gets the message)."""
        text = str(uri)
        if not text.startswith("artifact://"):
            return await super().read_resource(uri)
        state: ServerState = self.get_context().request_context.lifespan_context
        try:
            data, mime = await anyio.to_thread.run_sync(_artifact_file, state.store, text.removeprefix("artifact://"))
        except (StoreError, OSError) as e:
            raise ResourceError(str(e)) from None
        return [ReadResourceContents(content=data, mime_type=mime)]


class _StdioClient:
    """The process's stdin and stdout as the stdio transport's ends, watched for the client going away: ``on_gone``
    runs once, at the end of stdin or at the first broken pipe on stdout; after a broken pipe writes are dropped."""

    def __init__(self, on_gone: Callable[[], None]) -> None:
        # UTF-8 whatever the platform's default, as the SDK's own stdio transport wraps them.
        self._stdin = anyio.wrap_file(io.TextIOWrapper(sys.stdin.buffer, encoding="utf-8", errors="replace"))
        self._stdout = anyio.wrap_file(io.TextIOWrapper(sys.stdout.buffer, encoding="utf-8"))
        self._on_gone = on_gone
        self._gone = False
        self._broken = False

    async def lines(self) -> AsyncIterator[str]:
        async for line in self._stdin:
            yield line
        self._went()  # the client closed its end: the MCP way to shut a stdio server down

    async def write(self, text: str) -> None:
        if not self._broken:
            try:
                await self._stdout.write(text)
            except BrokenPipeError:
                self._pipe_broke()

    async def flush(self) -> None:
        if not self._broken:
            try:
                await self._stdout.flush()
            except BrokenPipeError:
                self._pipe_broke()

    def _pipe_broke(self) -> None:
        self._broken = True
        # What is still buffered can never be written: point stdout at /dev/null so that the flush at exit does
        # not print a BrokenPipeError (the advice of Python's documentation on SIGPIPE).
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
        self._went()

    def _went(self) -> None:
        if not self._gone:
            self._gone = True
            self._on_gone()


def _artifact_file(store: ArtifactStore, aid: str) -> tuple[bytes, str]:
    """The bytes and MIME type of artifact ``aid``'s file; raises StoreError when there is no such artifact."""
    path = Path(store.get(aid).path)
    return path.read_bytes(), mimetypes.guess_type(path.name)[0] or "application/octet-stream"


def _state(ctx: ToolContext) -> ServerState:
    state: ServerState = ctx.request_context.lifespan_context
    return state


def _checked(state: ServerState, refs: list[str]) -> list[str]:
    """Attachments made safe: ``@id``s must exist; paths must pass the guard (their real path is used)."""
    out = []
    for ref in refs:
        if ref.startswith("@"):
            state.store.get(ref)
            out.append(ref)
        else:
            out.append(str(state.guard.readable(ref)))
    return out


async def _in_worker(ctx: ToolContext, work: Callable[[UnisonContext, Callable[[dict[str, Any]], None]], Any]) -> Any:
    """Run ``work(unison, progress)`` in the worker thread, after every earlier call (one generation at a time),
    telling the client its place in line while it waits and its step and time left while it runs.

    ``unison`` carries the call's own cancel event, set when the client cancels the call or the session ends:
    the run stops at its next step, and this returns only once the worker thread has stopped (see
    :func:`~unison_agent.mcp_server.worker.in_worker`). Returns what ``work`` returns."""
    state = _state(ctx)
    ticket = Ticket(profile=state.unison.profile)
    unison = dataclasses.replace(state.unison, cancel=ticket.cancel)

    def report(progress: float, total: float | None, message: str) -> None:
        # The event loop has finished (anyio's RunFinishedError is a RuntimeError) or the session is closed:
        # nobody is left to tell. Not a reason to abandon the run midway; its cancel event, set by then, stops
        # it at its next step, cleanly.
        with contextlib.suppress(RuntimeError, anyio.ClosedResourceError, anyio.BrokenResourceError):
            anyio.from_thread.run(ctx.report_progress, progress, total, message)

    return await in_worker(
        lambda progress: work(unison, progress), ticket=ticket, working=state.working, runs=state.runs, report=report
    )


def _result(
    state: ServerState, task: str, outputs: list[str], text: str | None, extra: dict[str, Any]
) -> CallToolResult:
    content: list[Any] = []
    facts = []
    for aid in outputs:
        a = state.store.get(aid)
        facts.append(
            {
                "id": a.id,
                "uri": f"artifact://{a.id}",
                "path": a.path,
                "media": a.media.value,
                "width": a.width,
                "height": a.height,
                "num_frames": a.num_frames,
                "fps": a.fps,
                "seed": a.seed,
            }
        )
        mime = mimetypes.guess_type(a.path)[0] or "application/octet-stream"
        if a.media is Media.IMAGE:
            content.append(ImageContent(type="image", data=_preview(a.path), mimeType="image/png"))
        content.append(
            ResourceLink(type="resource_link", uri=f"artifact://{a.id}", name=Path(a.path).name, mimeType=mime)  # type: ignore[arg-type]
        )
    summary = (
        text
        if text is not None
        else f"{task}: " + ", ".join(f"@{f['id']} ({f['media']} {f['width']}x{f['height']})" for f in facts)
    )
    content.insert(0, TextContent(type="text", text=summary))
    return CallToolResult(content=content, structuredContent={"task": task, "text": text, "outputs": facts, **extra})


def _run_graph(
    state: ServerState,
    request: str,
    refs: list[str],
    unison: UnisonContext,
    progress: Callable[[dict[str, Any]], None],
) -> dict[str, Any]:
    """One request through the session graph (in the worker thread); returns its final state."""
    return run_request(state.graph, unison, state.session, request, refs, progress)


def _graph_result(state: ServerState, final: dict[str, Any]) -> CallToolResult:
    if "__interrupt__" in final or (final.get("spec") or {}).get("missing"):
        missing = ", ".join((final.get("spec") or {}).get("missing", []))
        return _error(f"this request needs a {missing}: attach the file (absolute path) or name an output (@id)")
    if final.get("error"):
        return _error(final["error"])
    return _result(state, final["spec"]["task"], final["outputs"], final.get("text"), {"spec": final["spec"]})


def _preview(path: str) -> str:
    with Image.open(path) as im:
        im.thumbnail((PREVIEW_SIDE, PREVIEW_SIDE))
        buf = io.BytesIO()
        im.convert("RGB").save(buf, format="PNG")
    return base64.b64encode(buf.getvalue()).decode("ascii")


def _warm_planner(ctx: UnisonContext) -> None:
    try:
        ctx.shared().planners.get(ctx.planner)
    except UnisonError as e:  # said again, as a tool error, by every call that needs the planner
        print(f"unison mcp: planner {ctx.planner} could not be loaded: {e}", file=sys.stderr, flush=True)


def _explained(error: ValidationError) -> str:
    """A validation failure in one line: ``field: problem; field: problem``."""
    return explain(error).replace("\n", "; ")


def _error(message: str) -> CallToolResult:
    return CallToolResult(content=[TextContent(type="text", text=message)], isError=True)


_REFUSALS = (AccessError, StoreError, MediaError, ToolError, ValidationError, ValueError)


def _register(mcp: FastMCP) -> None:
    @mcp.tool(name="plan", description="Plan a request without running it: the TaskSpec a run would execute.")
    async def plan(request: RequestText, ctx: ToolContext, attachments: list[str] | None = None) -> dict[str, Any]:
        state = _state(ctx)
        paths = [state.store.get(r).path if r.startswith("@") else r for r in _checked(state, attachments or [])]
        # A model planner takes seconds: off the event loop, like generation.
        planned = await anyio.to_thread.run_sync(lambda: state.unison.plan(request, paths))
        if planned.worth_telling:
            await ctx.info("; ".join(planned.account()))
        return planned.spec.to_json_dict()

    @mcp.tool(
        name="run",
        description="Do what the person asked, from their own words and attachments (absolute paths or @ids): "
        "answer, or make/edit pictures and videos. Follow-ups ('make it brighter') use earlier outputs.",
    )
    async def run(request: RequestText, ctx: ToolContext, attachments: list[str] | None = None) -> CallToolResult:
        state = _state(ctx)
        try:
            refs = _checked(state, attachments or [])
        except _REFUSALS as e:
            return _error(str(e))

        final = await _in_worker(ctx, lambda unison, progress: _run_graph(state, request, refs, unison, progress))
        return _graph_result(state, final)

    register_job_tools(mcp, _state)

    for task, model in TASK_REQUESTS.items():
        mcp.add_tool(_task_tool(task, model), name=task.value, description=tool_description(task))

    @mcp.tool(name="list_artifacts", description="Every input and output of this server's session, oldest first.")
    async def list_artifacts(ctx: ToolContext) -> list[dict[str, Any]]:
        state = _state(ctx)
        return [a.model_dump(mode="json", exclude={"spec"}) for a in state.store.artifacts(state.session)]

    @mcp.tool(name="history", description="The steps of this session's current branch, oldest first.")
    async def history(ctx: ToolContext) -> list[dict[str, Any]]:
        state = _state(ctx)
        return [s.model_dump(exclude={"spec"}) for s in state.store.history(state.session)]

    @mcp.tool(name="undo", description="Undo the last step: follow-ups then refer to the step before it.")
    async def undo(ctx: ToolContext) -> dict[str, Any]:
        state = _state(ctx)
        step = state.store.undo(state.session)
        return {"undone": None if step is None else step.request}


def _task_tool(task: Task, model: type[BaseModel]) -> Callable[..., Any]:
    """An async tool function whose flat signature is ``model``'s fields (plus the MCP context)."""

    async def call(ctx: ToolContext, **fields: Any) -> CallToolResult:
        state = _state(ctx)
        try:
            request = model.model_validate({k: v for k, v in fields.items() if v is not None})
            records: dict[str, Any] = {}

            def media_of(ref: str) -> Media:
                checked = _checked(state, [ref])[0]
                record = (
                    state.store.get(checked)
                    if checked.startswith("@")
                    else state.store.add_input(state.session, checked)
                )
                records[ref] = record
                return record.media

            spec = spec_from_request(task, request, media_of)
        except ValidationError as e:
            return _error(_explained(e))
        except _REFUSALS as e:
            return _error(str(e))
        spec = spec.model_copy(
            update={"inputs": [i.model_copy(update={"path": records[i.path].path}) for i in spec.inputs]}
        )
        ids = [r.id for r in records.values()]

        def work(unison: UnisonContext, progress: Callable[[dict[str, Any]], None]) -> dict[str, Any]:
            return run_and_store(
                unison, state.session, f"{task.value}: {request.model_dump_json()}", spec, ids, _adapt(progress)
            )

        try:
            result = await _in_worker(ctx, work)
        except (*_REFUSALS, RunCancelled) as e:
            return _error(str(e))
        return _result(state, task.value, result["outputs"], result["text"], {"spec": result["spec"]})

    params = [inspect.Parameter("ctx", inspect.Parameter.KEYWORD_ONLY, annotation=ToolContext)]
    for name, info in model.model_fields.items():
        default = inspect.Parameter.empty if info.is_required() else info.get_default(call_default_factory=True)
        # The field's bounds and description go into the tool's input schema, where a host's model reads them.
        annotation: Any = Annotated[info.rebuild_annotation(), Field(description=info.description)]
        params.append(inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=default, annotation=annotation))
    call.__signature__ = inspect.Signature(params, return_annotation=CallToolResult)  # type: ignore[attr-defined]
    call.__annotations__ = {p.name: p.annotation for p in params} | {"return": CallToolResult}
    call.__name__ = task.value
    return call


def _adapt(progress: Callable[[dict[str, Any]], None]) -> Callable[[Any], None]:
    """tools.run's ProgressEvent -> the dict the worker's progress callback takes."""

    def on_event(event: Any) -> None:
        progress(
            {
                "stage": event.stage,
                "done": event.done,
                "total": event.total,
                "output": event.output,
                "outputs": event.outputs,
            }
        )

    return on_event
