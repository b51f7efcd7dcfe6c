"""Scripted sessions: a YAML list of steps run through the session graph in one process.

    - request: "a cabin in the woods"
    - request: "make it winter"
    - request: "use this as the style"
      attach: [style.png]          # paths relative to the script's folder
    - undo: true

Each finished step is recorded (in the artifact store, and in a progress file under the workspace) before the
next starts. A run that is killed mid-step leaves nothing of that step behind; run the same script again with
``session=<id>`` and it carries on from the first unfinished step.
"""

from __future__ import annotations

import json
import os
import sqlite3
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml
from langgraph.checkpoint.sqlite import SqliteSaver
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError, model_validator

from unison_agent.graphs.session import UnisonContext, build_graph, run_request
from unison_agent.sessions import ArtifactStore

__all__ = ["ScriptError", "ScriptStep", "load_script", "run_script", "step_result"]


class ScriptError(ValueError):
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
    session: str | None = None,
    on_step: Callable[[int, dict[str, Any]], None] | None = None,
    on_progress: Callable[[dict[str, Any]], None] | None = None,
) -> dict[str, Any]:
    """Run a script; returns ``{"session": id, "steps": [...]}``. With ``session`` given, steps already done in
    that session (by an earlier run of the same script) are not run again.

    ``planner``: who plans each step (``embedded``, ``llm:<provider>:<model>``, ... see ``tools.planners``).

    Raises :class:`ScriptError` for a bad script or an unknown session; a step that fails (a missing input, an
    unusable file) is reported in its result with ``error`` and stops the script.
    """
    steps = load_script(path)
    store = ArtifactStore(workspace)
    progress_dir = store.workspace / "scripts"
    progress_dir.mkdir(exist_ok=True)
    if session is None:
        session = store.new_session(title=f"script {Path(path).name}")
        done: list[dict[str, Any]] = []
    else:
        try:
            store.session(session)
        except ValueError as e:
            raise ScriptError(str(e)) from None
        done = _read_progress(progress_dir / f"{session}.json")
    ctx = UnisonContext(workspace=str(store.workspace), profile=profile, planner=planner, store=store)
    results = list(done)
    with sqlite3.connect(store.workspace / "checkpoints.db", check_same_thread=False) as conn:
        graph = build_graph(SqliteSaver(conn))
        for n, step in enumerate(steps[len(done) :], len(done) + 1):
            if step.undo:
                undone = store.undo(session)
                result: dict[str, Any] = {"undo": True, "undone": None if undone is None else undone.request}
            else:
                assert step.request is not None
                state = run_request(graph, ctx, session, step.request, step.attach, on_progress)
                if "__interrupt__" in state or (state.get("spec", {}) and state["spec"].get("missing")):
                    missing = ", ".join((state.get("spec") or {}).get("missing", []))
                    state = {**state, "error": f"step {n} needs a {missing}: add `attach: [file]` to the step"}
                result = step_result(store, state)
            results.append(result)
            _write_progress(progress_dir / f"{session}.json", results)
            if on_step is not None:
                on_step(n, result)
            if result.get("error"):
                break
    return {"session": session, "steps": results}


def _read_progress(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    data = json.loads(path.read_text(encoding="utf-8"))
    return list(data.get("steps", []))


def _write_progress(path: Path, steps: list[dict[str, Any]]) -> None:
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump({"steps": steps}, f)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
