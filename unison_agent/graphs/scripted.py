"""Scripted sessions: a YAML list of steps run through the session graph in one process.

    - request: "a cabin in the woods"
    - request: "make it winter"
    - request: "use this as the style"
      attach: [style.png]          # paths relative to the script's folder
    - undo: true

Each step is marked done in the workspace database in the same transaction that records it (the step and its
outputs, or the undo), before the next starts. A run that is killed mid-step leaves nothing of that step behind,
and one killed just after a step's commit has that step marked; run the same script again with ``session=<id>``
and it carries on from the first unfinished step, so every step runs exactly once. (Workspaces of older
versions kept this progress in ``scripts/<session>.json``; it is still read when the database has no marks.)
"""

from __future__ import annotations

import dataclasses
import json
import os
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml
from langgraph.checkpoint.sqlite import SqliteSaver
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError, model_validator

from unison_agent.errors import SessionError
from unison_agent.graphs.session import build_graph, run_request
from unison_agent.sessions import ArtifactStore, Step, StoreError
from unison_agent.sessions.runner import Resources, UnisonContext

__all__ = ["ScriptError", "ScriptStep", "load_script", "run_script", "step_result"]


class ScriptError(SessionError):
    """A script that cannot be read or has a malformed step; the message names the step."""


class ScriptStep(BaseModel):
    """One step: a request (with optional attachments) or an undo."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    request: str | None = Field(default=None, min_length=1)
    attach: list[str] = Field(default_factory=list)
    undo: bool = False

    @model_validator(mode="after")
    def _one_kind(self) -> ScriptStep:
        if (self.request is None) == (not self.undo):
            raise ValueError('a step is either `request: "..."` (with optional `attach: [files]`) or `undo: true`')
        if self.undo and self.attach:
            raise ValueError("an undo step takes no attachments")
        return self


def load_script(path: str | os.PathLike[str]) -> list[ScriptStep]:
    """The steps of a script file, attachments made absolute (relative to the script's folder).

    Raises :class:`ScriptError` for an unreadable file, bad YAML, a step of the wrong shape, or a missing file.
    """
    script = Path(path)
    try:
        data = yaml.safe_load(script.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as e:
        raise ScriptError(f"{script}: cannot read ({e.__class__.__name__}: {e})") from None
    except yaml.YAMLError as e:
        raise ScriptError(f"{script}: not valid YAML ({' '.join(str(e).split())})") from None
    if not isinstance(data, list) or not data:
        raise ScriptError(f'{script}: expected a list of steps (- request: "..." or - undo: true)')
    try:
        steps = TypeAdapter(list[ScriptStep]).validate_python(data)
    except ValidationError as e:
        first = e.errors()[0]
        where = f"step {int(first['loc'][0]) + 1}" if first["loc"] else "script"
        raise ScriptError(f"{script}: {where}: {first['msg'].removeprefix('Value error, ')}") from None
    resolved = []
    for n, step in enumerate(steps, 1):
        files = []
        for a in step.attach:
            p = (script.parent / a).resolve() if not a.startswith("@") else None
            if p is not None and not p.exists():
                raise ScriptError(f"{script}: step {n}: attachment {a} does not exist (looked at {p})")
            files.append(str(p) if p is not None else a)
        resolved.append(step.model_copy(update={"attach": files}))
    return resolved


def step_result(store: ArtifactStore, state: dict[str, Any]) -> dict[str, Any]:
    """A graph run's result as the JSON a script run prints for the step."""
    outputs = []
    for aid in state.get("outputs", []):
        a = store.get(aid)
        outputs.append(
            {
                "id": a.id,
                "path": a.path,
                "media": a.media.value,
                "width": a.width,
                "height": a.height,
                "num_frames": a.num_frames,
            }
        )
    return {
        "request": state.get("request"),
        "spec": state.get("spec"),
        "outputs": outputs,
        "parents": list(state.get("inputs", [])),
        "text": state.get("text"),
        "notes": list(state.get("notes") or []),
        "error": state.get("error"),
    }


def run_script(
    path: str | os.PathLike[str],
    *,
    workspace: str | os.PathLike[str],
    profile: str,
    planner: str = "embedded",
    executor: str | None = None,
    resources: Resources | None = None,
    session: str | None = None,
    on_step: Callable[[int, dict[str, Any]], None] | None = None,
    on_progress: Callable[[dict[str, Any]], None] | None = None,
) -> dict[str, Any]:
    """Run a script; returns ``{"session": id, "steps": [...]}``. With ``session`` given, steps already done in
    that session (by an earlier run of the same script) are not run again.

    ``planner``: who plans each step (``embedded``, ``llm:<provider>:<model>``, ... see
    :mod:`unison_agent.planners`); ``executor``: where specs run (``local``, ``ray``, ``ray://HOST:PORT``; None: the
    profile's own); ``resources``: where its model and the tools' models are kept (a new
    :class:`~unison_agent.sessions.runner.Resources` when not given).

    Raises :class:`ScriptError` for a bad script or an unknown session; a step that fails (a missing input, an
    unusable file) is reported in its result with ``error`` and stops the script.
    """
    steps = load_script(path)
    store = ArtifactStore(workspace)
    if session is None:
        session = store.new_session(title=f"script {Path(path).name}")
        done: list[dict[str, Any]] = []
    else:
        try:
            store.session(session)
        except StoreError as e:
            raise ScriptError(str(e)) from None
        done = _done(store, session)
    ctx = UnisonContext(
        workspace=str(store.workspace),
        profile=profile,
        planner=planner,
        executor=executor,
        store=store,
        resources=resources,
    )
    results = list(done)
    with sqlite3.connect(store.workspace / "checkpoints.db", check_same_thread=False) as conn:
        graph = build_graph(SqliteSaver(conn))
        for n, step in enumerate(steps[len(done) :], len(done) + 1):
            if step.undo:
                undone = store.undo(session, mark=n)
                result: dict[str, Any] = {"undo": True, "undone": None if undone is None else undone.request}
            else:
                assert step.request is not None
                # The step's record_step marks script step n done in its own transaction.
                marked = dataclasses.replace(ctx, script_step=n)
                state = run_request(graph, marked, session, step.request, step.attach, on_progress)
                if "__interrupt__" in state or (state.get("spec", {}) and state["spec"].get("missing")):
                    missing = ", ".join((state.get("spec") or {}).get("missing", []))
                    state = {**state, "error": f"step {n} needs a {missing}: add `attach: [file]` to the step"}
                result = step_result(store, state)
            results.append(result)
            if on_step is not None:
                on_step(n, result)
            if result.get("error"):
                break
    return {"session": session, "steps": results}


def _done(store: ArtifactStore, session: str) -> list[dict[str, Any]]:
    """The results of the script steps already done in ``session``, rebuilt from what the store recorded: the
    steps marked done, numbered from 1 without a gap (a legacy progress file fills numbers before the marks)."""
    by_number: dict[int, dict[str, Any]] = dict(enumerate(_legacy_progress(store, session), 1))
    for mark in store.script_marks(session):
        if mark.undo:
            undone = None if mark.step is None else store.step(mark.step).request
            by_number[mark.number] = {"undo": True, "undone": undone}
        else:
            assert mark.step is not None
            by_number[mark.number] = _rebuilt(store, store.step(mark.step))
    done: list[dict[str, Any]] = []
    while len(done) + 1 in by_number:
        done.append(by_number[len(done) + 1])
    return done


def _rebuilt(store: ArtifactStore, step: Step) -> dict[str, Any]:
    # The planner's and the tool's notes are not stored with a step: a rebuilt result has none.
    state = {"request": step.request, "spec": step.spec, "outputs": step.outputs, "inputs": step.inputs}
    return step_result(store, {**state, "text": step.text, "notes": [], "error": None})


def _legacy_progress(store: ArtifactStore, session: str) -> list[dict[str, Any]]:
    path = store.workspace / "scripts" / f"{session}.json"
    if not path.exists():
        return []
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        raise ScriptError(f"{path}: cannot read this session's progress ({e.__class__.__name__}: {e})") from None
    done: list[dict[str, Any]] = []
    for result in data.get("steps", []):
        if result.get("error"):  # older versions wrote the failed step too: it is not done, it runs again
            break
        done.append(result)
    return done
