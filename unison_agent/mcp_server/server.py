"""The MCP server: the planner-driven tools for desktop assistants, on the official ``mcp`` SDK (FastMCP).

Tools: ``plan`` (request -> TaskSpec), ``run`` (request -> answer or files, the automatic path), one typed tool
per task (from the shared request models), and session tools (``list_artifacts``, ``history``, ``undo``).
Artifacts are resources (``artifact://{id}``): a picture comes back as a small inline preview plus a link to
the full file, a video as its first frame (a small poster) plus a link. Structured content carries the spec and
the output facts (:mod:`~unison_agent.mcp_server.results`, each tool's ``outputSchema``); every tool carries
annotations (read-only or not; none destructive; closed world). A person's mistake is reported alike by every
tool: a result with ``isError`` and one line saying what is wrong. A request that misses a file asks the person
for it (MCP elicitation) when the client can ask.

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
from mcp.types import (
    CallToolResult,
    ClientCapabilities,
    ElicitationCapability,
    ImageContent,
    ResourceLink,
    TextContent,
    ToolAnnotations,
)
from PIL import Image
from pydantic import AnyUrl, BaseModel, Field, ValidationError

from unison_agent.errors import UnisonError
from unison_agent.graphs.session import build_graph, resume_request, run_request
from unison_agent.mcp_server.guard import FileGuard
from unison_agent.mcp_server.jobs import DEFAULT_JOB_TTL_S, JobStore, register_job_tools
from unison_agent.mcp_server.results import (
    ArtifactFacts,
    RunResult,
    StepFacts,
    UndoResult,
    output_facts,
)
from unison_agent.mcp_server.worker import Runs, Ticket, Working, in_worker
from unison_agent.media import probe
from unison_agent.sessions import ArtifactStore, StoreError
from unison_agent.sessions.runner import Resources, UnisonContext, run_task_request
from unison_agent.spec import Media, Task, TaskSpec, explain
from unison_agent.tools import RunCancelled, load_profile
from unison_agent.tools.frames import read_video
from unison_agent.tools.requests import (
    TASK_REQUESTS,
    Attachments,
    RequestText,
    file_fields,
    missing_files,
    tool_description,
)
from unison_agent.tools.serving.settings import parse_executor

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
        """A final state of the graph as ``run`` returns it (raises as :func:`_graph_result` does)."""
        return _graph_result(self, final)


def create_server(
    *,
    workspace: str | Path,
    profile: str = "default",
    planner: str = "embedded",
    executor: str | None = None,
    roots: list[str | Path] | None = None,
    host: str = "127.0.0.1",
    port: int = 8000,
    job_ttl_s: float = DEFAULT_JOB_TTL_S,
) -> FastMCP:
    """The server. ``roots`` are the folders files may be read from (default: the workspace and the current
    directory); outputs are written only into the workspace. ``planner``: who plans (``embedded``,
    ``llm:<provider>:<model>``, ``hybrid:<provider>:<model>``, ``unison:<path>``; see ``unison_agent.planners``).
    ``executor``: where specs run (``local``: the server's worker thread, one run at a time; ``ray``, ``ray://HOST:PORT``:
    the profile's Ray Serve deployment, up to its ``[ray] concurrency`` runs at once; None: the profile's own).
    ``job_ttl_s``: finished jobs older than this are deleted (at every start and every ``list_jobs``).

    Raises ValueError for a ``job_ttl_s`` that is not positive."""
    if not job_ttl_s > 0:
        raise ValueError(f"the jobs' time to live must be a positive number of seconds, not {job_ttl_s}")
    workspace = Path(workspace).expanduser().resolve()
    allowed = [workspace, Path.cwd()] if roots is None else [*roots, workspace]
    slots = _slots(profile, executor)

    @asynccontextmanager
    async def lifespan(app: FastMCP) -> AsyncIterator[ServerState]:
        assert isinstance(app, _UnisonMCP)  # the server built below (the SDK's type says FastMCP)
        store = ArtifactStore(workspace)
        ctx = UnisonContext(
            workspace=str(workspace),
            profile=profile,
            planner=planner,
            executor=executor,
            store=store,
            resources=Resources(),
        )
        if planner != "embedded":
            # Hosts give a server seconds to answer `initialize`; a model planner takes longer to load, so it
            # loads beside the session and the first plan waits for it (a load that fails is reported then).
            threading.Thread(target=_warm_planner, args=(ctx,), name="planner-load", daemon=True).start()
        if slots > 1:
            # Joining a cluster and deploying the profile take seconds to minutes: begun now, beside the session,
            # so the first run waits for less (or for nothing); a failure is said again by every run.
            threading.Thread(target=_warm_executor, args=(ctx,), name="executor-open", daemon=True).start()
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
    mcp.working = Working(slots=slots)
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


def _slots(profile: str, executor: str | None) -> int:
    """Runs the server hands its executor at once: 1 locally (one model, one run), the profile's ``[ray]
    concurrency`` on a cluster (its replicas and Serve's queue share them out). Raises ProfileError."""
    loaded = load_profile(profile)
    choice = parse_executor(executor if executor is not None else loaded.executor)
    return 1 if choice.kind == "local" else loaded.ray.concurrency


class _UnisonMCP(FastMCP):
    """FastMCP whose ``artifact://`` reads carry each file's own MIME type (a FastMCP template has one MIME type
    for every URI it matches, and artifacts are PNGs, MP4s and more), whose refused tool arguments are told in
    one line per problem (``request: String should have at most 10000 characters``), and whose stdio transport
    stops every run when the client goes away."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.signalled = False  # serving over stdio ended because of SIGTERM or SIGHUP
        self.live_runs: set[Runs] = set()  # one per session being served (the lifespan adds and removes it)
        # The runs of every session in worker threads; create_server sets as many slots as its executor takes.
        self.working = Working(slots=1)

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
        """As FastMCP, after asking the person (elicitation, when the client offers it) for each file a typed
        tool requires and the call left out.

        Every tool reports a person's mistake the same way: it raises, and this raises FastMCP's ToolError with
        the one-line message (the client gets a result with ``isError`` and that text): a validation failure as
        ``field: problem``, a :class:`UnisonError`, a cancellation or a tool's own ToolError as its message,
        without the tool name FastMCP puts before it. Anything else is a bug and keeps FastMCP's wording."""
        arguments = await _with_asked_files(self.get_context(), name, arguments)
        try:
            return await super().call_tool(name, arguments)
        except FastMCPToolError as e:
            cause = e.__cause__
            if isinstance(cause, ValidationError):  # the arguments did not fit the tool's input schema
                raise FastMCPToolError(_explained(cause)) from None
            if isinstance(cause, (UnisonError, RunCancelled, FastMCPToolError)):
                raise FastMCPToolError(str(cause)) from None
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


def _result(state: ServerState, done: RunResult) -> CallToolResult:
    """A run's tool result: a one-line summary (or the answer), then for each output a small PNG (a picture's
    preview, a video's first frame as its poster) beside a link to the full file; ``done`` as structured
    content."""
    content: list[Any] = []
    for out in done.outputs:
        mime = mimetypes.guess_type(out.path)[0] or "application/octet-stream"
        content.append(ImageContent(type="image", data=_preview(out.path, out.media), mimeType="image/png"))
        content.append(
            ResourceLink(type="resource_link", uri=out.uri, name=Path(out.path).name, mimeType=mime)  # type: ignore[arg-type]
        )
    made = ", ".join(f"@{o.id} ({o.media.value} {o.width}x{o.height})" for o in done.outputs)
    summary = done.text if done.text is not None else f"{done.task.value}: {made}"
    return CallToolResult(
        content=[TextContent(type="text", text=summary), *content], structuredContent=done.model_dump(mode="json")
    )


def _done(state: ServerState, task: str, run: dict[str, Any]) -> RunResult:
    """What a run returned (``run_and_store``'s dict, or the graph's final state) as a :class:`RunResult`."""
    return RunResult(
        task=Task(task),
        text=run.get("text"),
        outputs=[output_facts(state.store.get(aid)) for aid in run.get("outputs", [])],
        spec=run["spec"],
        notes=run.get("notes") or [],
    )


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
    """A final state of the graph as ``run`` returns it. Raises FastMCP's ToolError, saying what to do, when the
    request still misses an input or failed."""
    if missing := _missing(final):
        need = ", ".join(missing)
        raise FastMCPToolError(f"this request needs a {need}: attach the file (absolute path) or name an output (@id)")
    if final.get("error"):
        raise FastMCPToolError(final["error"])
    return _result(state, _done(state, final["spec"]["task"], final))


def _missing(final: dict[str, Any]) -> list[str]:
    """The roles a final state of the graph still misses (it stopped to ask for them)."""
    if "__interrupt__" in final:
        return [str(role) for role in final["__interrupt__"][0].value["missing"]]
    return [str(role) for role in (final.get("spec") or {}).get("missing", [])]


def _preview(path: str, media: Media) -> str:
    """A small PNG (longer side at most PREVIEW_SIDE), base64: the picture, or a video's first frame."""
    if media is Media.VIDEO:
        picture = read_video(path, fps=1.0, max_frames=1).frames[0]  # frame 0, whatever the sampling rate
    else:
        with Image.open(path) as opened:
            opened.thumbnail((PREVIEW_SIDE, PREVIEW_SIDE))
            picture = opened.convert("RGB")
    picture.thumbnail((PREVIEW_SIDE, PREVIEW_SIDE))
    buf = io.BytesIO()
    picture.save(buf, format="PNG")
    return base64.b64encode(buf.getvalue()).decode("ascii")


# --------------------------------------------------------------------------- asking for a missing file

ASKS = 3  # an answer that cannot be used is asked again, twice at most


class _FileAnswer(BaseModel):
    """The form a person fills in when a request misses a file (MCP elicitation)."""

    file: str = Field(
        description="the absolute path of the file (a picture or a video, in an allowed folder) or an earlier "
        "output's @id"
    )


def _can_ask(ctx: ToolContext) -> bool:
    """Whether the client declared the elicitation capability (it can put a question to the person)."""
    wanted = ClientCapabilities(elicitation=ElicitationCapability())
    return ctx.request_context.session.check_client_capability(wanted)


def _usable(state: ServerState, ref: str) -> str:
    """``ref`` as ``_checked`` makes it, once known to be an artifact or a readable picture or video; raises the
    UnisonError that says why not."""
    [checked] = _checked(state, [ref])
    if not checked.startswith("@"):
        probe(checked)  # a file that is not media is refused now, while the person can still give another
    return checked


async def _ask_for_file(ctx: ToolContext, state: ServerState, task: str, role: str) -> str | None:
    """Ask the person for the ``role`` file ``task`` needs; returns the usable answer (see :func:`_usable`), or
    None when the person declines or cancels. Raises FastMCP's ToolError after ASKS answers that cannot be used,
    saying why the last one could not."""
    folders = ", ".join(str(root) for root in state.guard.roots)
    question = f"{task} needs a {role}: give the absolute path of the file (in {folders}) or an earlier output's @id"
    refused: UnisonError | None = None
    for _ in range(ASKS):
        told = question if refused is None else f"That file cannot be used ({refused}). {question}"
        answer = await ctx.elicit(told, schema=_FileAnswer)
        if answer.action != "accept":
            return None
        try:
            return await anyio.to_thread.run_sync(_usable, state, answer.data.file.strip())
        except UnisonError as e:
            refused = e
    raise FastMCPToolError(f"no usable {role} was given in {ASKS} answers; the last: {refused}")


async def _with_asked_files(ctx: ToolContext, name: str, arguments: dict[str, Any]) -> dict[str, Any]:
    """The arguments of a call to tool ``name``, with each file a typed task tool needs and the call left out
    (see :func:`~unison_agent.tools.requests.missing_files`) asked of the person, when the client can ask; other
    calls' arguments unchanged. A person who declines leaves the arguments as they were: the tool then says what
    is missing, as to a client that cannot ask."""
    task = {t.value: t for t in Task}.get(name)
    if task is None or not (needed := missing_files(task, arguments)) or not _can_ask(ctx):
        return arguments
    filled = dict(arguments)
    for field_name in needed:
        role, several = file_fields(task)[field_name]
        answer = await _ask_for_file(ctx, _state(ctx), task.value, role.value)
        if answer is None:
            return arguments
        filled[field_name] = [answer] if several else answer
    return filled


def _warm_planner(ctx: UnisonContext) -> None:
    try:
        ctx.shared().planners.get(ctx.planner)
    except UnisonError as e:  # said again, as a tool error, by every call that needs the planner
        print(f"unison mcp: planner {ctx.planner} could not be loaded: {e}", file=sys.stderr, flush=True)


def _warm_executor(ctx: UnisonContext) -> None:
    try:
        ctx.open_executor()
    except UnisonError as e:  # said again, as a tool error, by every run
        print(
            f"unison mcp: the {ctx.executor or 'profile'} executor could not be opened: {e}",
            file=sys.stderr,
            flush=True,
        )


def _explained(error: ValidationError) -> str:
    """A validation failure in one line: ``field: problem; field: problem``."""
    return explain(error).replace("\n", "; ")


def _reads(title: str) -> ToolAnnotations:
    """The hints of a tool that only reads: it changes nothing, so calling it again is harmless."""
    return ToolAnnotations(title=title, readOnlyHint=True, openWorldHint=False)


def _changes(title: str, *, idempotent: bool = False) -> ToolAnnotations:
    """The hints of a tool that changes the session. None is destructive: runs add files and steps, and undo moves
    the session back a step; nothing stored is deleted or overwritten (undone steps and their files stay, listed
    by ``list_artifacts``). Runs are not idempotent: each call makes new files, with a new seed unless one is
    given. Closed world: local models and local files only."""
    return ToolAnnotations(
        title=title, readOnlyHint=False, destructiveHint=False, idempotentHint=idempotent, openWorldHint=False
    )


def _register(mcp: FastMCP) -> None:
    @mcp.tool(
        name="plan",
        description="Plan a request without running it: the TaskSpec a run would execute.",
        annotations=_reads("Plan a request"),
        structured_output=True,
    )
    async def plan(request: RequestText, ctx: ToolContext, attachments: Attachments = None) -> TaskSpec:
        state = _state(ctx)
        paths = [state.store.get(r).path if r.startswith("@") else r for r in _checked(state, attachments or [])]
        # A model planner takes seconds: off the event loop, like generation.
        planned = await anyio.to_thread.run_sync(lambda: state.unison.plan(request, paths))
        if planned.worth_telling:
            await ctx.info("; ".join(planned.account()))
        return planned.spec

    @mcp.tool(
        name="run",
        description="Do what the person asked, from their own words and attachments (absolute paths or @ids): "
        "answer, or make/edit pictures and videos. Follow-ups ('make it brighter') use earlier outputs. A request "
        "that misses a file asks the person for it when the client can ask.",
        annotations=_changes("Do what the person asked"),
        structured_output=True,
    )
    async def run(
        request: RequestText, ctx: ToolContext, attachments: Attachments = None
    ) -> Annotated[CallToolResult, RunResult]:
        state = _state(ctx)
        refs = _checked(state, attachments or [])
        final = await _in_worker(ctx, lambda unison, progress: _run_graph(state, request, refs, unison, progress))
        # The graph stopped to ask for a missing input: ask the person (each answer is checked as an attachment
        # is) and resume it, a few rounds at most (an answer can make the planner see another need).
        for _ in range(ASKS):
            missing = _missing(final)
            if not missing or not _can_ask(ctx):
                break
            task = (final.get("spec") or {}).get("task", "this request")
            given = [await _ask_for_file(ctx, state, task, role) for role in missing]
            answers = [ref for ref in given if ref is not None]
            if len(answers) < len(given):
                break  # declined: say what is missing, as to a client that cannot ask

            def resume(
                unison: UnisonContext, progress: Callable[[dict[str, Any]], None], answers: list[str] = answers
            ) -> dict[str, Any]:
                return resume_request(state.graph, unison, state.session, answers, progress)

            final = await _in_worker(ctx, resume)
        return _graph_result(state, final)

    register_job_tools(mcp, _state)

    for task, model in TASK_REQUESTS.items():
        mcp.add_tool(
            _task_tool(task, model),
            name=task.value,
            description=tool_description(task),
            annotations=_changes(task.value.replace("_", " ").capitalize()),
            structured_output=True,
        )

    @mcp.tool(
        name="list_artifacts",
        description="Every input and output of this server's session, oldest first.",
        annotations=_reads("List artifacts"),
        structured_output=True,
    )
    async def list_artifacts(ctx: ToolContext) -> list[ArtifactFacts]:
        state = _state(ctx)
        return [ArtifactFacts.model_validate(a.model_dump()) for a in state.store.artifacts(state.session)]

    @mcp.tool(
        name="history",
        description="The steps of this session's current branch, oldest first.",
        annotations=_reads("Session history"),
        structured_output=True,
    )
    async def history(ctx: ToolContext) -> list[StepFacts]:
        state = _state(ctx)
        return [StepFacts.model_validate(s.model_dump()) for s in state.store.history(state.session)]

    @mcp.tool(
        name="undo",
        description="Undo the last step: follow-ups then refer to the step before it. Nothing is deleted.",
        annotations=_changes("Undo the last step"),
        structured_output=True,
    )
    async def undo(ctx: ToolContext) -> UndoResult:
        state = _state(ctx)
        step = state.store.undo(state.session)
        return UndoResult(undone=None if step is None else step.request)


def _task_tool(task: Task, model: type[BaseModel]) -> Callable[..., Any]:
    """An async tool function whose flat signature is ``model``'s fields (plus the MCP context); it runs
    :func:`~unison_agent.sessions.runner.run_task_request` in the worker, every path through the file guard."""

    async def call(ctx: ToolContext, **fields: Any) -> CallToolResult:
        state = _state(ctx)
        # Paths refused before the call queues behind other runs; the worker checks each again as it reads it.
        _checked(state, [ref for name in file_fields(task) for ref in _refs(fields.get(name))])

        def work(unison: UnisonContext, progress: Callable[[dict[str, Any]], None]) -> dict[str, Any]:
            return run_task_request(
                unison,
                state.session,
                task,
                fields,
                check_ref=lambda ref: _checked(state, [ref])[0],
                on_progress=_adapt(progress),
            )

        return _result(state, _done(state, task.value, await _in_worker(ctx, work)))

    returns = Annotated[CallToolResult, RunResult]
    params = [inspect.Parameter("ctx", inspect.Parameter.KEYWORD_ONLY, annotation=ToolContext)]
    for name, info in model.model_fields.items():
        default = inspect.Parameter.empty if info.is_required() else info.get_default(call_default_factory=True)
        # The field's bounds and description go into the tool's input schema, where a host's model reads them.
        annotation: Any = Annotated[info.rebuild_annotation(), Field(description=info.description)]
        params.append(inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=default, annotation=annotation))
    call.__signature__ = inspect.Signature(params, return_annotation=returns)  # type: ignore[attr-defined]
    call.__annotations__ = {p.name: p.annotation for p in params} | {"return": returns}
    call.__name__ = task.value
    return call


def _refs(value: str | list[str] | None) -> list[str]:
    """A file field's value as a list of references (none, one, or the list given)."""
    if value is None:
        return []
    return [value] if isinstance(value, str) else list(value)


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
