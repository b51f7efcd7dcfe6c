"""The model pool: each model loaded once per pool and shared by every task that uses it.

One Wan2.1-VACE pipeline serves all nine generation tasks of a profile. A host owns its pool (a graph, the MCP
server, a CLI command; see :class:`unison_agent.sessions.runner.Resources`): there is no process-wide pool.
"""

from __future__ import annotations

import json
import threading
from typing import TYPE_CHECKING, cast

from unison_agent.errors import ProfileError
from unison_agent.spec import Task
from unison_agent.tools.backends import BACKENDS, Backend, ExtractorBackend, GenerationBackend, UnderstandingBackend
from unison_agent.tools.tiny import resolve

if TYPE_CHECKING:
    from unison_agent.tools.profiles import ModelEntry, Profile

__all__ = ["ModelPool"]


class ModelPool:
    """Loads each model once and hands the same instance to every task that uses it.

    Keyed by backend, model id, options and placement, so the nine generation tasks of one profile share one
    pipeline. Thread-safe: two threads asking for the same model wait for one load. ``loads`` records every
    real load (``"backend:model"``), which the benchmark reports.
    """

    def __init__(self) -> None:
        self._loaded: dict[tuple[str, ...], Backend] = {}
        self._lock = threading.Lock()
        self.loads: list[str] = []

    def get(self, key_name: str, entry: ModelEntry, profile: Profile) -> Backend:
        """The loaded backend for ``entry`` (loading it on first use; a ``tiny:<name>`` model is built first).

        Raises :class:`MissingDependencyError` when torch & co. are not installed and
        :class:`ModelUnavailableError` when the model cannot be found or loaded.
        """
        key = (
            entry.backend,
            entry.model,
            json.dumps(entry.options, sort_keys=True),
            profile.device,
            profile.dtype,
            profile.offload.model_dump_json(),
        )
        with self._lock:
            if key not in self._loaded:
                cls = BACKENDS[entry.backend].load_class()
                self._loaded[key] = cls.load(
                    resolve(entry.model),
                    options=entry.parsed_options(),
                    device=profile.device,
                    dtype=profile.dtype,
                    offload=profile.offload,
                    profile_key=key_name,
                )
                self.loads.append(f"{entry.backend}:{entry.model}")
            return self._loaded[key]

    def for_task(self, task: Task, profile: Profile) -> Backend:
        """The loaded backend that serves ``task`` in ``profile``."""
        key_name, entry = profile.model_for(task)
        return self.get(key_name, entry, profile)

    def generation(self, task: Task, profile: Profile) -> GenerationBackend:
        """The generation backend of ``task`` in ``profile``; raises :class:`ProfileError` when the profile maps
        the task to a backend of another family."""
        return cast(GenerationBackend, self._of_family(task, profile, "generation"))

    def understanding(self, task: Task, profile: Profile) -> UnderstandingBackend:
        """The understanding backend of ``task`` in ``profile`` (see :meth:`generation`)."""
        return cast(UnderstandingBackend, self._of_family(task, profile, "understanding"))

    def extractor(self, name: str, profile: Profile) -> ExtractorBackend:
        """The control-map extractor that ``profile`` names ``name``; raises :class:`ProfileError` when that
        entry is not an extractor."""
        entry = profile.models[name]
        family = BACKENDS[entry.backend].family
        if family != "extractor":
            raise ProfileError(f"profile {profile.name}: model {name!r} ({entry.backend}) is a {family} backend")
        return cast(ExtractorBackend, self.get(name, entry, profile))

    def _of_family(self, task: Task, profile: Profile, family: str) -> Backend:
        key_name, entry = profile.model_for(task)
        have = BACKENDS[entry.backend].family
        if have != family:
            raise ProfileError(
                f"profile {profile.name}: {task.value} needs a {family} backend, but {key_name!r} is {entry.backend}"
            )
        return self.get(key_name, entry, profile)

    def clear(self) -> None:
        """Forget every loaded model (their memory is freed once no one else holds them)."""
        with self._lock:
            self._loaded.clear()
