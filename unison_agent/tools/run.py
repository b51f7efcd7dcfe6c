"""``run()``: one spec in, one result out, with the backend the profile names for its task."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from threading import Event

from unison_agent.errors import InputError, RunCancelled
from unison_agent.spec import ControlType, TaskSpec
from unison_agent.tools.backends import ExtractorBackend, QwenVLOptions, VaceOptions
from unison_agent.tools.generation import generate
from unison_agent.tools.pool import ModelPool
from unison_agent.tools.profiles import Profile
from unison_agent.tools.results import Progress, ProgressEvent, RunResult, renamed_inputs
from unison_agent.tools.understanding import understand

__all__ = ["check_startable", "run"]


def check_startable(spec: TaskSpec, cancel: Event | None, when: str) -> None:
    """Raise :class:`InputError` when ``spec`` still misses an attachment, :class:`RunCancelled` ("cancelled
    ``when``") when ``cancel`` is already set: what every executor checks before any work."""
    if not spec.ready:
        needs = ", ".join(r.value for r in spec.missing)
        raise InputError(f"{spec.task.value} still needs: {needs}; attach the file(s) and run again")
    if cancel is not None and cancel.is_set():
        raise RunCancelled(f"cancelled {when}")


def run(
    spec: TaskSpec,
    *,
    profile: Profile,
    pool: ModelPool,
    out_dir: str | Path,
    on_progress: Progress | None = None,
    cancel: Event | None = None,
    input_names: Mapping[str, str] | None = None,
) -> RunResult:
    """Run ``spec`` with the models of ``profile`` (loaded once per ``pool``), writing files into ``out_dir``.

    ``input_names`` maps attachment paths to the names the result and the files' metadata give them (a Ray
    replica runs on copies of the caller's files and records the caller's paths).

    Raises :class:`InputError` when the spec still misses an attachment or one is unusable,
    :class:`ModelUnavailableError` / :class:`MissingDependencyError` when a model cannot be loaded, and
    :class:`RunCancelled` when ``cancel`` is set; a failed run leaves no files behind.
    """
    check_startable(spec, cancel, "before the model was loaded")
    emit = on_progress or (lambda _e: None)
    _key, entry = profile.model_for(spec.task)
    emit(ProgressEvent("load", 0, 1, message=f"{entry.backend}: {entry.model}"))
    options = entry.parsed_options()
    if spec.task.is_understanding:
        understanding = pool.understanding(spec.task, profile)
        emit(ProgressEvent("load", 1, 1))
        assert isinstance(options, QwenVLOptions)
        answered = understand(spec, understanding, options=options, on_progress=on_progress, cancel=cancel)
        return answered.model_copy(update={"spec": renamed_inputs(answered.spec, input_names or {})})
    backend = pool.generation(spec.task, profile)
    emit(ProgressEvent("load", 1, 1))

    def extractor_for(ctype: ControlType) -> ExtractorBackend | None:
        name = profile.extractors.get(ctype)
        if name is None:
            return None
        emit(ProgressEvent("load", 0, 1, message=f"{ctype.value} extractor: {profile.models[name].model}"))
        extractor = pool.extractor(name, profile)
        emit(ProgressEvent("load", 1, 1))
        return extractor

    assert isinstance(options, VaceOptions)
    return generate(
        spec,
        backend,
        Path(out_dir),
        options=options,
        model_label=f"{entry.backend}:{entry.model}",
        extractor_for=extractor_for,
        profile_name=profile.name,
        on_progress=on_progress,
        cancel=cancel,
        input_names=input_names,
    )
