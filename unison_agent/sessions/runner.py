"""Running a request of a session: the context a host gives (:class:`UnisonContext`), what it keeps between
requests (:class:`Resources`: model pools and planners), and :func:`run_and_store`, which runs a spec and
records its outputs and step in the artifact store.

The graph (``graphs/session.py``), the LangChain tools, the MCP server and scripted sessions all run specs
through :func:`run_and_store`, so a run is recorded the same way whichever door it came through. The typed
task tools (one per task, MCP and LangChain alike) go through :func:`run_task_request`, which turns a task's
request fields into that spec.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from unison_agent.errors import PlanningError
from unison_agent.media import probe
from unison_agent.planners.choice import Planners, choice_from
from unison_agent.planning import Planned, plan
from unison_agent.planning.base import plan_detailed
from unison_agent.sessions.store import ArtifactRecord, ArtifactStore
from unison_agent.spec import Media, Task, TaskSpec, explain
from unison_agent.tools import ModelPool, load_profile
from unison_agent.tools.executors import Executor, LocalExecutor, open_executor
from unison_agent.tools.profiles import Profile
from unison_agent.tools.requests import TASK_REQUESTS, spec_from_request
from unison_agent.tools.results import Progress
from unison_agent.tools.serving.settings import parse_executor

__all__ = ["Resources", "UnisonContext", "run_and_store", "run_task_request"]


class Resources:
    """What a host keeps between requests: one model pool per profile, the cluster executors it has opened and
    the planners it has made.

    A graph (:func:`~unison_agent.graphs.session.build_graph`), the MCP server and a CLI command each own one,
    so models load once for all their requests and are freed with their owner; nothing is kept in module
    globals. Thread-safe."""

    def __init__(self, planners: Planners | None = None) -> None:
        self.planners = planners or Planners()
        self._pools: dict[str, ModelPool] = {}
        self._executors: dict[tuple[str, str], Executor] = {}
        self._lock = threading.Lock()
        self._opening = threading.Lock()  # one cluster connection and deployment at a time

    def pool(self, profile: str) -> ModelPool:
        """The model pool of ``profile`` (made on first use)."""
        with self._lock:
            return self._pools.setdefault(profile, ModelPool())

    def executor(self, choice: str, profile: Profile) -> Executor:
        """The cluster executor ``choice`` (``ray``, ``ray://...``) for ``profile``, opened on first use (connecting
        and deploying take seconds to minutes) and kept for every later run. Raises what
        :func:`~unison_agent.tools.executors.open_executor` raises."""
        key = (choice, profile.model_dump_json())
        with self._opening:
            with self._lock:
                if key in self._executors:
                    return self._executors[key]
            opened = open_executor(choice, profile)
            with self._lock:
                return self._executors.setdefault(key, opened)


@dataclass
class UnisonContext:
    """What a session run needs from its host (LangGraph's ``context_schema`` of the session graph).

    ``store``, ``pool`` and ``resources`` may be passed in by an embedding program; a context that arrives as
    JSON (``langgraph dev``) has none, and the graph fills ``resources`` with its own, so that loaded models
    outlive one run."""

    workspace: str = "unison_workspace"
    profile: str = "default"
    planner: str = "embedded"  # embedded | llm:<provider>:<model> | hybrid:<provider>:<model> | unison:<path>
    executor: str | None = None  # local | ray | ray://HOST:PORT; None: the profile's own (local)
    store: ArtifactStore | None = field(default=None, repr=False)
    pool: ModelPool | None = field(default=None, repr=False)
    cancel: threading.Event | None = field(default=None, repr=False)  # set it to stop a run between steps
    # Set by a script runner to the number of the script step being run: the step's record is marked done in the
    # same transaction, so a resumed script never runs it again (see graphs.scripted).
    script_step: int | None = None
    resources: Resources | None = field(default=None, repr=False)

    def open_store(self) -> ArtifactStore:
        """The context's artifact store (opened on first use)."""
        if self.store is None:
            self.store = ArtifactStore(self.workspace)
        return self.store

    def shared(self) -> Resources:
        """The resources this context draws pools and planners from (made on first use when none was given)."""
        if self.resources is None:
            self.resources = Resources()
        return self.resources

    def plan(self, request: str, attachments: list[str]) -> Planned:
        """Plan with the context's planner (a model planner is loaded once per :class:`Resources` and shared).

        Raises :class:`~unison_agent.errors.UnisonError` subclasses: a malformed planner choice, a planner model
        that cannot be had, a request the contract cannot express, an unusable attachment."""
        choice = choice_from(self.planner)
        if choice.kind == "embedded":
            return Planned(plan(request, attachments), "embedded")
        return plan_detailed(self.shared().planners.get(choice), request, attachments)

    def model_pool(self) -> ModelPool:
        """The context's model pool: the one given, else the shared one of its profile."""
        if self.pool is None:
            self.pool = self.shared().pool(self.profile)
        return self.pool

    def open_executor(self) -> Executor:
        """Where the context's runs go: its ``executor`` (else its profile's), with its model pool when local.

        Raises :class:`~unison_agent.errors.ProfileError` (unknown profile or executor),
        :class:`~unison_agent.errors.MissingDependencyError` (no Ray) or
        :class:`~unison_agent.errors.ExecutorError` (the cluster cannot be reached or deployed to)."""
        profile = load_profile(self.profile)
        choice = self.executor if self.executor is not None else profile.executor
        if parse_executor(choice).kind == "local":
            return LocalExecutor(profile, self.model_pool())
        return self.shared().executor(choice, profile)


def run_and_store(
    ctx: UnisonContext,
    session: str,
    request: str,
    spec: TaskSpec,
    inputs: list[str],
    on_progress: Progress | None = None,
) -> dict[str, Any]:
    """Run ``spec`` with the context's executor (local: its profile and pool), move its outputs into the store with
    ``inputs`` as their parents, record the step (marked as script step ``ctx.script_step`` when that is set), and
    return ``{"spec", "outputs" (ids), "text", "notes"}``.

    Raises ToolError, ProfileError, MediaError or StoreError; a failed run records nothing and leaves no files.
    """
    store = ctx.open_store()
    executor = ctx.open_executor()
    # The scratch folder is this process's while it runs: other processes opening the store leave it alone.
    with store.scratch() as tmp:
        result = executor.run(spec, out_dir=tmp, on_progress=on_progress, cancel=ctx.cancel)
        outputs = [
            store.add_output(
                session,
                o.path,
                media=o.media,
                width=o.width,
                height=o.height,
                num_frames=o.num_frames,
                fps=o.fps,
                seed=o.seed,
                spec=result.spec.model_copy(update={"seed": o.seed}).to_json_dict(),
                parents=list(inputs),
            ).id
            for o in result.outputs
        ]
    store.record_step(
        session,
        request,
        spec=result.spec.to_json_dict(),
        inputs=list(inputs),
        outputs=outputs,
        text=result.text,
        mark=ctx.script_step,
    )
    return {"spec": result.spec.to_json_dict(), "outputs": outputs, "text": result.text, "notes": result.notes}


def run_task_request(
    ctx: UnisonContext,
    session: str,
    task: Task,
    fields: Mapping[str, Any],
    *,
    check_ref: Callable[[str], str] | None = None,
    on_progress: Progress | None = None,
) -> dict[str, Any]:
    """Run one typed request of ``task`` (its fields as in ``TASK_REQUESTS[task]``; a None value counts as not
    given) in ``session``, and return what :func:`run_and_store` returns.

    Each file field holds a path or an earlier output's ``@id``. A path goes through ``check_ref`` first (a server
    refuses paths outside its folders there by raising; it returns the path to read), and is copied into the
    store only once the whole request is known to be valid, so a refused request stores nothing. The spec runs
    on the stored copies, which become the parents of the outputs. The step is recorded as
    ``"<task>: <fields as JSON>"``.

    Raises :class:`~unison_agent.errors.PlanningError` (one line, ``field: problem; ...``) for fields that do not
    fit the task, and the :class:`~unison_agent.errors.UnisonError` of a refused path, an unusable file, an
    unknown ``@id`` or a failed run; :class:`~unison_agent.errors.RunCancelled` when ``ctx.cancel`` stops it.
    """
    store = ctx.open_store()
    readable: dict[str, str] = {}  # each path as given -> the path to read
    known: dict[str, ArtifactRecord] = {}  # each @id as given -> its artifact

    def media_of(ref: str) -> Media:
        if ref.startswith("@"):
            known[ref] = known.get(ref) or store.get(ref)
            return known[ref].media
        if ref not in readable:
            readable[ref] = check_ref(ref) if check_ref is not None else ref
        return probe(readable[ref]).media

    try:
        request = TASK_REQUESTS[task].model_validate({k: v for k, v in fields.items() if v is not None})
        spec = spec_from_request(task, request, media_of)
    except ValidationError as e:
        raise PlanningError(explain(e).replace("\n", "; ")) from None
    refs = dict.fromkeys(i.path for i in spec.inputs)  # in the spec's order, each once
    records = {ref: known[ref] if ref in known else store.add_input(session, readable[ref]) for ref in refs}
    spec = spec.model_copy(
        update={"inputs": [i.model_copy(update={"path": records[i.path].path}) for i in spec.inputs]}
    )
    inputs = [records[ref].id for ref in refs]
    return run_and_store(ctx, session, f"{task.value}: {request.model_dump_json()}", spec, inputs, on_progress)
