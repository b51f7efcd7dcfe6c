"""The Ray Serve application of a profile: one deployment per model entry, behind one gateway.

Each :class:`ModelReplica` loads its model once, when the replica starts, and keeps it: the generation model
(VACE) and the understanding model (Qwen-VL) run whole specs (:func:`unison_agent.tools.run` on the replica,
on copies of the attachments sent as bytes), streaming progress events back; an extractor (depth, pose, flow)
makes control maps for the generation replicas, which call it through a handle. The :class:`Gateway` is the
application's ingress, a thin async router (no model, no CPU reserved): front doors call
``gateway.run(model key, payload)`` and read the stream. Cancelling that call reaches the replica (Serve
propagates it to the call the gateway made), which stops the run at its next step.

Why async generators around a worker thread: a cancelled call raises ``CancelledError`` at the generator's next
``await``, where a plain generator would run to its end unnoticed (measured with Ray 2.60); the run itself is
blocking torch code, so it runs in a thread that a cancel event stops at the next denoising step.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import tempfile
import threading
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any, cast

from ray import serve
from ray.serve.deployment import Application, Deployment
from ray.serve.handle import DeploymentHandle, DeploymentResponseGenerator

from unison_agent.errors import RunCancelled
from unison_agent.tools.backends import BACKENDS, ExtractorBackend
from unison_agent.tools.pool import ModelPool
from unison_agent.tools.profiles import Profile
from unison_agent.tools.run import run
from unison_agent.tools.serving.wire import RunPayload, encode_error, pack_result, unpack_request

__all__ = ["GATEWAY", "Gateway", "ModelReplica", "app_name", "build_app", "deployment_options", "served_models"]

GATEWAY = "unison-gateway"
"""The name of every profile application's ingress deployment."""

logger = logging.getLogger(__name__)


def app_name(profile: Profile) -> str:
    """The Serve application of ``profile``: its ``[ray] app`` name, else ``unison-<profile>-<digest>``, the digest
    taken from everything the replicas load (so a changed profile never answers with models of the old one)."""
    if profile.ray.app:
        return profile.ray.app
    loaded = profile.model_dump_json(include={"device", "dtype", "offload", "models", "tasks", "extractors", "ray"})
    digest = hashlib.sha256(loaded.encode()).hexdigest()[:8]
    stem = "".join(c if c.isalnum() or c in "-_." else "-" for c in profile.name)[:40] or "profile"
    return f"unison-{stem}-{digest}"


def served_models(profile: Profile) -> dict[str, str]:
    """``{model key: family}`` of every model entry the profile uses (by a task or as an extractor), in order."""
    keys = [*dict.fromkeys(profile.tasks.values()), *dict.fromkeys(profile.extractors.values())]
    return {key: BACKENDS[profile.models[key].backend].family for key in dict.fromkeys(keys)}


def deployment_options(profile: Profile, key: str, cluster_gpus: float) -> dict[str, Any]:
    """Serve's options for model entry ``key``: its ``[ray.deployments.<key>]`` settings, with ``num_gpus = "auto"``
    resolved against the ``cluster_gpus`` the cluster has (see :class:`DeploymentSettings`)."""
    settings = profile.ray.deployment(key)
    family = served_models(profile)[key]
    num_gpus = settings.num_gpus
    if num_gpus == "auto":
        if cluster_gpus <= 0:
            num_gpus = 0.0
        else:
            single = cluster_gpus < 2
            num_gpus = {"generation": 0.5 if single else 1.0, "understanding": 0.25 if single else 0.5}.get(family, 0.1)
    max_ongoing = settings.max_ongoing_requests or (4 if family == "extractor" else 1)
    options: dict[str, Any] = {
        "name": key,
        "max_ongoing_requests": max_ongoing,
        # num_gpus only when some: Ray hides every GPU from a replica that asks for none (CUDA_VISIBLE_DEVICES="")
        "ray_actor_options": {"num_cpus": settings.num_cpus, **({"num_gpus": float(num_gpus)} if num_gpus else {})},
        # A model load takes minutes on a real GPU; Serve's default (20 s) would report a healthy load as failing.
        "health_check_timeout_s": 120,
        "graceful_shutdown_timeout_s": 30,
        "logging_config": {"enable_access_log": False},
    }
    if settings.max_replicas > settings.min_replicas:
        options["autoscaling_config"] = {
            "min_replicas": settings.min_replicas,
            "max_replicas": settings.max_replicas,
            "target_ongoing_requests": settings.target_ongoing_requests,
        }
    else:
        options["num_replicas"] = settings.min_replicas
    return options


def build_app(profile: Profile, cluster_gpus: float = 0.0) -> Application:
    """The application for ``profile``: a :class:`ModelReplica` deployment per model entry it uses (extractors
    bound into the generation replicas that call them) behind the :class:`Gateway`."""
    profile_json = profile.model_dump_json()
    models = served_models(profile)
    extractors = {
        key: _MODEL.options(**deployment_options(profile, key, cluster_gpus)).bind(profile_json, key, {})
        for key, family in models.items()
        if family == "extractor"
    }
    by_name = {name: extractors[key] for name, key in ((c.value, k) for c, k in profile.extractors.items())}
    bound: dict[str, Application] = dict(extractors)
    for key, family in models.items():
        if family != "extractor":
            uses = by_name if family == "generation" else {}
            options = deployment_options(profile, key, cluster_gpus)
            bound[key] = _MODEL.options(**options).bind(profile_json, key, uses)
    gateway = _GATEWAY.options(
        name=GATEWAY,
        max_ongoing_requests=1000,  # it only forwards; the model replicas' own limits queue the work
        ray_actor_options={"num_cpus": 0},
        logging_config={"enable_access_log": False},
    )
    return gateway.bind(bound, app_name(profile))


class _RemoteExtractor:
    """An extractor deployment, as the generation code expects an extractor backend (called from its thread)."""

    def __init__(self, handle: DeploymentHandle[Any]) -> None:
        self.handle = handle

    def extract(self, frames: list[Any]) -> list[Any]:
        result: list[Any] = self.handle.extract.remote(frames).result()
        return result


class _ReplicaPool(ModelPool):
    """The replica's own model, plus the extractor deployments it was bound to (by control-map type)."""

    def __init__(self, extractors: dict[str, DeploymentHandle[Any]]) -> None:
        super().__init__()
        self.remote = extractors

    def extractor(self, name: str, profile: Profile) -> ExtractorBackend:
        for ctype, key in profile.extractors.items():
            if key == name and ctype.value in self.remote:
                return _RemoteExtractor(self.remote[ctype.value])
        return super().extractor(name, profile)


class ModelReplica:
    """One model entry of a profile, loaded when the replica starts."""

    def __init__(self, profile_json: str, key: str, extractors: dict[str, DeploymentHandle[Any]]) -> None:
        self.profile = Profile.model_validate_json(profile_json)
        self.key = key
        self.pool = _ReplicaPool(extractors)
        self.model = self.pool.get(key, self.profile.models[key], self.profile)

    async def run(self, payload: RunPayload) -> AsyncIterator[tuple[str, Any]]:
        """Run one spec on this replica's model: yields ``("progress", ProgressEvent)`` items, then one
        ``("result", RunReply)`` or ``("error", encoded error)``. A cancelled call stops the run at its next step
        and returns once the run's thread has let go of the model."""
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[tuple[str, Any]] = asyncio.Queue()
        cancel = threading.Event()

        def put(item: tuple[str, Any]) -> None:
            loop.call_soon_threadsafe(queue.put_nowait, item)

        def work() -> None:
            names: dict[str, str] = {}  # {copy here: caller's path}, for an error that names an attachment
            try:
                with tempfile.TemporaryDirectory(prefix="unison-replica-") as tmp:
                    spec, names = unpack_request(payload, Path(tmp) / "inputs")
                    result = run(
                        spec,
                        profile=self.profile,
                        pool=self.pool,
                        out_dir=Path(tmp) / "outputs",
                        on_progress=lambda event: put(("progress", event)),
                        cancel=cancel,
                        input_names=names,
                    )
                    put(("result", pack_result(result)))
            except BaseException as e:  # ours arrive as the same class; anything else is a defect, logged here
                if not isinstance(e, RunCancelled) and type(e).__module__ != "unison_agent.errors":
                    logger.exception("run on %s failed", self.key)
                put(("error", encode_error(e, names)))

        thread = asyncio.ensure_future(asyncio.to_thread(work))
        try:
            while True:
                item = await queue.get()
                yield item
                if item[0] != "progress":
                    break
        finally:
            if not thread.done():  # cancelled (or the caller went away): stop at the next step, then let go
                cancel.set()
                await asyncio.shield(thread)

    async def extract(self, frames: list[Any]) -> list[Any]:
        """Control maps for ``frames`` (an extractor replica)."""
        extracted: list[Any] = await asyncio.to_thread(self.model.extract, frames)  # type: ignore[union-attr]
        return extracted


class Gateway:
    """The application's ingress: forwards each run to the replica of its model and streams the answer back."""

    def __init__(self, models: dict[str, DeploymentHandle[Any]], app: str) -> None:
        self.models = models
        self.app = app

    async def run(self, key: str, payload: RunPayload) -> AsyncIterator[tuple[str, Any]]:
        """Stream model ``key``'s answer to ``payload`` (see :meth:`ModelReplica.run`)."""
        stream = cast(DeploymentResponseGenerator[Any], self.models[key].options(stream=True).run.remote(payload))
        finished = False
        try:
            async for item in stream:
                yield item
            finished = True
        finally:
            # Cancelled, or the caller stopped reading: cancel the replica's call too. A cluster passes a cancel on to
            # the calls a cancelled request made, but Serve's local testing mode does not (measured with Ray 2.60),
            # and a replica left running would hold its model for a run nobody reads.
            if not finished:
                stream.cancel()


# The deployments (the classes above stay plain classes: tests and type checkers see them as written).
_MODEL = cast(Deployment, serve.deployment(ModelReplica))
_GATEWAY = cast(Deployment, serve.deployment(Gateway))
