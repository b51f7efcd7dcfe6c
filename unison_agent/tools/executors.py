"""The executor seam: everything that runs a spec goes through an :class:`Executor`.

Two kinds: ``local`` (:class:`LocalExecutor`: this process loads the models into a
:class:`~unison_agent.tools.pool.ModelPool` and runs in the caller's thread; the default) and ``ray``
(:class:`~unison_agent.tools.serving.client.RayExecutor`: Ray Serve deployments of the profile's models, on one
machine's GPUs or many machines'). Both take the same spec and give the same :class:`RunResult`, with the files
written into the caller's ``out_dir``; the same seed gives the same output through either.

    executor = open_executor("ray", load_profile("tiny"))
    result = executor.run(spec, out_dir="out", on_progress=print)
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from threading import Event
from typing import Protocol

from unison_agent.errors import MissingDependencyError
from unison_agent.spec import TaskSpec
from unison_agent.tools.pool import ModelPool
from unison_agent.tools.profiles import Profile
from unison_agent.tools.results import Progress, RunResult
from unison_agent.tools.run import run
from unison_agent.tools.serving.settings import parse_executor

__all__ = ["Executor", "LocalExecutor", "open_executor"]


class Executor(Protocol):
    """Runs specs of one profile. ``name`` says where (``local``, ``ray``, ``ray://...``); ``concurrency`` is how
    many runs a front door should hand it at once (1 locally: one model, one run at a time)."""

    name: str
    concurrency: int
    profile: Profile

    def run(
        self,
        spec: TaskSpec,
        *,
        out_dir: str | Path,
        on_progress: Progress | None = None,
        cancel: Event | None = None,
    ) -> RunResult:
        """Run ``spec`` and write its files into ``out_dir``, as :func:`unison_agent.tools.run` does (same errors;
        :class:`~unison_agent.errors.ExecutorError` when a cluster fails under the run). ``cancel`` stops it at
        its next step, with :class:`~unison_agent.errors.RunCancelled`; nothing half-written is left."""
        ...


class LocalExecutor:
    """Runs in this process, with models loaded once into ``pool`` (a new one when not given)."""

    name = "local"
    concurrency = 1

    def __init__(self, profile: Profile, pool: ModelPool | None = None) -> None:
        self.profile = profile
        self.pool = pool if pool is not None else ModelPool()

    def run(
        self,
        spec: TaskSpec,
        *,
        out_dir: str | Path,
        on_progress: Progress | None = None,
        cancel: Event | None = None,
    ) -> RunResult:
        return run(spec, profile=self.profile, pool=self.pool, out_dir=out_dir, on_progress=on_progress, cancel=cancel)


def open_executor(
    choice: str | None,
    profile: Profile,
    *,
    pool: ModelPool | None = None,
    report: Callable[[str], None] | None = None,
) -> Executor:
    """The executor ``choice`` names (``local``, ``ray``, ``ray://HOST:PORT``; None: the
    profile's own ``executor``) for ``profile``. ``pool`` is the local executor's model pool; ``report`` is told
    how a cluster deployment comes up (one line per change).

    ``ray`` connects to the cluster (starting one on this machine when there is none and no address was given)
    and deploys the profile's models there unless they already are. Raises
    :class:`~unison_agent.errors.ProfileError` for an unknown executor, :class:`MissingDependencyError` when Ray
    is not installed, :class:`~unison_agent.errors.ExecutorError` when the cluster cannot be reached or the
    deployment does not come up."""
    parsed = parse_executor(choice if choice is not None else profile.executor)
    if parsed.kind == "local":
        return LocalExecutor(profile, pool)
    try:
        from unison_agent.tools.serving.client import RayExecutor
    except ImportError as e:  # ray itself, or one of its parts, is missing
        raise MissingDependencyError(
            f"the ray executor needs Ray Serve, which cannot be imported here ({e.name or e}): pip install "
            "'unison-agent[ray]'"
        ) from None
    return RayExecutor(profile, address=parsed.address, report=report)
