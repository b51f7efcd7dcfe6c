"""The ``ray`` executor: a front door's side of the cluster (connect, deploy a profile, run specs, report status).

    executor = RayExecutor(load_profile("tiny"))            # the cluster of this machine, or a new one
    executor = RayExecutor(profile, address="10.0.0.5:6379")  # a head's GCS address
    result = executor.run(spec, out_dir="out", on_progress=print, cancel=event)

Connecting: with no address, the cluster this machine belongs to (``ray start``, or ``$RAY_ADDRESS``), else a new
one started inside this process (it ends with the process). The profile's application is deployed unless it
is already running (a second front door on the same cluster shares the replicas, and their loaded models).

A replica that dies mid-run (its process killed, its node gone) fails the run with
:class:`~unison_agent.errors.ExecutorError`: nothing is retried, because a run that killed a replica (out of host
memory, a driver fault) would likely kill the next one too, and a generation is minutes of GPU time; nothing
half-written reaches the caller's folder, since outputs are written only from a complete reply. Serve starts a
replacement replica, and the next request waits for it.
"""

from __future__ import annotations

import contextlib
import logging
import signal
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from threading import Event
from typing import Any, cast

import ray  # the package's __init__ has set Ray's environment defaults by now
from ray import serve
from ray.exceptions import RayActorError
from ray.serve.exceptions import RayServeException, RequestCancelledError
from ray.serve.handle import DeploymentHandle, DeploymentResponseGenerator

from unison_agent.errors import ExecutorError, RunCancelled, one_line
from unison_agent.spec import TaskSpec
from unison_agent.tools.profiles import Profile
from unison_agent.tools.results import Progress, RunResult
from unison_agent.tools.run import check_startable
from unison_agent.tools.serving.deployments import (
    GATEWAY,
    app_name,
    build_app,
    deployment_options,
    served_models,
)
from unison_agent.tools.serving.settings import ExecutorChoice
from unison_agent.tools.serving.wire import RunReply, decode_error, pack_request, place_outputs

__all__ = [
    "AppReport",
    "RayExecutor",
    "cluster_report",
    "cluster_summary",
    "connect",
    "ensure_deployed",
    "undeploy",
]

_POLL_S = 0.25


def connect(address: str | None = None, *, start: bool = True, serve_too: bool = True) -> bool:
    """Connect this process to a Ray cluster (once; later calls only make sure of Serve) and start Serve there.

    ``address`` None: the cluster this machine is part of (or ``$RAY_ADDRESS``), else (with ``start``) a new local
    one, which lives as long as this process. ``serve_too``: start Serve on the cluster unless it runs (no HTTP
    proxy: front doors call handles). Returns True when this call started a new cluster. Raises
    :class:`ExecutorError` when the address cannot be reached, or no cluster runs here and ``start`` is False."""
    started = False
    if not ray.is_initialized():
        with _own_signal_handlers():
            started = _init(address, start)
    logging.getLogger("ray.serve").setLevel(logging.WARNING)  # Serve's INFO lines are not the user's business
    if serve_too:
        serve.start(proxy_location="Disabled")  # handles only: no HTTP proxy, no port 8000 to clash over
    return started


@contextlib.contextmanager
def _own_signal_handlers() -> Iterator[None]:
    """Keep this process's SIGTERM and SIGINT handlers across ``ray.init``: Ray installs its own in the driver, which
    exits at once with code 1 (measured with Ray 2.60), where the front doors cancel the run (stopping the
    replica's work) and exit 130."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    kept = {signum: signal.getsignal(signum) for signum in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield
    finally:
        for signum, handler in kept.items():
            if handler is not None:
                signal.signal(signum, handler)


def _init(address: str | None, start: bool) -> bool:
    """``ray.init`` for :func:`connect`; True when it started a new cluster."""
    common: dict[str, Any] = {"log_to_driver": False, "logging_level": logging.WARNING}
    if address is not None:
        try:
            ray.init(address=address, **common)
        except Exception as e:  # ConnectionError, an authentication error, a malformed address...
            raise ExecutorError(
                f"cannot reach the Ray cluster at {address}: {one_line(e, 300)}; start it there with "
                "`ray start --head`, or check the address"
            ) from None
        return False
    try:
        ray.init(address="auto", **common)
        return False
    except ConnectionError:  # no cluster on this machine
        if not start:
            raise ExecutorError(
                "no Ray cluster is running on this machine; start one with `ray start --head`, or give the address "
                "of one"
            ) from None
    ray.init(include_dashboard=False, **common)
    return True


def undeploy(app: str, *, stop_cluster: bool = False) -> None:
    """Remove application ``app`` from the connected cluster (its replicas stop and free their models); with
    ``stop_cluster``, also stop Serve and leave Ray (for a cluster this process started). Errors of a cluster
    that is already gone are ignored."""
    with contextlib.suppress(Exception):
        serve.delete(app)
    if stop_cluster:
        with contextlib.suppress(Exception):
            serve.shutdown()
        ray.shutdown()


def ensure_deployed(profile: Profile, report: Callable[[str], None] | None = None) -> DeploymentHandle[Any]:
    """The gateway of ``profile``'s application, deploying it first unless it is running (or deploying, then
    waited for). ``report`` is told each change of the replicas while it waits.

    Raises :class:`ExecutorError` when a replica asks for GPUs the cluster does not have, when the deployment
    fails (a model that cannot be loaded: the message says which and why), or when it is not running within
    ``[ray] deploy_timeout_s``."""
    app = app_name(profile)
    current = serve.status().applications.get(app)
    if current is None or current.status in ("DEPLOY_FAILED", "DELETING"):
        gpus = float(ray.cluster_resources().get("GPU", 0.0))
        for key in served_models(profile):
            wanted = deployment_options(profile, key, gpus)["ray_actor_options"].get("num_gpus", 0.0)
            if wanted > 0 and gpus <= 0:
                raise ExecutorError(
                    f"profile {profile.name}: each {key!r} replica asks for {wanted:g} GPU but the Ray cluster has "
                    f'none; set [ray.deployments.{key}] num_gpus = 0 (or "auto"), or add a node with a GPU'
                )
        target = serve.RunTarget(target=build_app(profile, gpus), name=app, route_prefix=None)
        serve.run_many([target], wait_for_ingress_deployment_creation=False, wait_for_applications_running=False)
    _wait_running(app, profile.ray.deploy_timeout_s, report or (lambda _line: None))
    return serve.get_app_handle(app)


def _wait_running(app: str, timeout_s: float, report: Callable[[str], None]) -> None:
    deadline = time.monotonic() + timeout_s
    told = ""
    while True:
        status = serve.status().applications.get(app)
        if status is not None and status.status == "RUNNING":
            return
        if status is not None and status.status == "DEPLOY_FAILED":
            raise ExecutorError(f"deploying {app} failed: {_why(status)}")
        line = _summary(status) if status is not None else "starting"
        if line != told:
            report(f"deploying {app}: {line}")
            told = line
        if time.monotonic() > deadline:
            raise ExecutorError(
                f"{app} was not running after {timeout_s:g} s ({line}); a replica may be waiting for resources the "
                f"cluster lacks (it has {_resources()}) or still loading its model: raise [ray] deploy_timeout_s, "
                "or see `unison serve status`"
            )
        time.sleep(_POLL_S)


def _why(status: Any) -> str:
    """The last line of each failed deployment's message (the replica's exception), else the app's own."""
    lines = []
    for name, deployment in status.deployments.items():
        if deployment.status in ("DEPLOY_FAILED", "UNHEALTHY") and deployment.message:
            last = [line for line in deployment.message.splitlines() if line.strip()]
            lines.append(f"{name}: {one_line(last[-1] if last else deployment.message, 400)}")
    return "; ".join(lines) or one_line(status.message or "no reason given", 400)


def _summary(status: Any) -> str:
    parts = []
    for name, deployment in status.deployments.items():
        if name == GATEWAY:
            continue
        states = deployment.replica_states or {}
        running = states.get("RUNNING", 0)
        total = sum(states.values())
        parts.append(f"{name} {running}/{total or '?'} replicas running")
    return ", ".join(parts) or "starting"


def cluster_summary() -> str:
    """Where the connected cluster is and what it has: ``192.0.2.2:6379: 2 nodes, 16 CPU, 4 GPU``."""
    nodes = sum(1 for node in ray.nodes() if node.get("Alive"))
    return f"{ray.get_runtime_context().gcs_address}: {nodes} node{'s' if nodes != 1 else ''}, {_resources()}"


def _resources() -> str:
    have = ray.cluster_resources()
    return ", ".join(f"{have.get(k, 0):g} {k}" for k in ("CPU", "GPU"))


@dataclass
class AppReport:
    """One unison application on the cluster, as ``unison serve status`` prints it."""

    name: str
    status: str
    deployments: dict[str, dict[str, int]] = field(default_factory=dict)  # name -> {replica state: count}
    message: str = ""


def cluster_report() -> list[AppReport]:
    """Every unison application (one with our gateway) on the connected cluster, with its replicas' states; empty
    when Serve does not run there."""
    reports = []
    try:
        applications = serve.status().applications
    except RayServeException:  # no Serve instance on this cluster
        return []
    for name, status in applications.items():
        if GATEWAY not in status.deployments:
            continue
        deployments = {
            d: {str(k): n for k, n in (s.replica_states or {}).items()}
            for d, s in status.deployments.items()
            if d != GATEWAY
        }
        message = _why(status) if status.status in ("DEPLOY_FAILED", "UNHEALTHY") else ""
        reports.append(AppReport(name, str(getattr(status.status, "value", status.status)), deployments, message))
    return reports


class RayExecutor:
    """Runs specs on the Ray Serve application of ``profile`` (see the module docstring).

    ``local_testing``: Serve's in-process testing mode (no cluster: the deployments are plain objects in this
    process); for unit tests. ``report`` is told the deployment's progress while it comes up."""

    def __init__(
        self,
        profile: Profile,
        address: str | None = None,
        *,
        local_testing: bool = False,
        report: Callable[[str], None] | None = None,
    ) -> None:
        self.profile = profile
        self.name = str(ExecutorChoice("ray", address))
        self.concurrency = profile.ray.concurrency
        self.app = app_name(profile)
        if local_testing:
            logging.getLogger("ray.serve").setLevel(logging.WARNING)
            self.handle = serve.run(build_app(profile), name=self.app, route_prefix=None, _local_testing_mode=True)
        else:
            connect(address)
            self.handle = ensure_deployed(profile, report)

    def run(
        self,
        spec: TaskSpec,
        *,
        out_dir: str | Path,
        on_progress: Progress | None = None,
        cancel: Event | None = None,
    ) -> RunResult:
        """Run ``spec`` on the cluster and write its outputs into ``out_dir`` (see :class:`Executor`)."""
        check_startable(spec, cancel, "before it was sent to the cluster")
        emit = on_progress or (lambda _e: None)
        key, _entry = self.profile.model_for(spec.task)
        payload = pack_request(spec, self.profile.ray.files)
        response = cast(DeploymentResponseGenerator[Any], self.handle.options(stream=True).run.remote(key, payload))
        finished = threading.Event()
        watcher = threading.Thread(
            target=_cancel_when_set, args=(cancel, finished, response), name="ray-cancel", daemon=True
        )
        if cancel is not None:
            watcher.start()
        reply: RunReply | None = None
        try:
            for kind, value in response:
                if kind == "progress":
                    emit(value)
                elif kind == "result":
                    reply = value
                else:
                    raise decode_error(value)
        except RequestCancelledError:
            raise RunCancelled("cancelled; the replica stopped at its next step") from None
        except RayActorError as e:
            raise ExecutorError(
                f"the Ray replica running {key!r} ({self.app}) died during the run ({_death(e)}); nothing was "
                "written. Serve is starting a new replica: run it again (it waits for the replica)"
            ) from None
        except BaseException:  # Ctrl-C, or an error of ours: stop the replica's work, which nobody will read
            response.cancel()
            raise
        finally:
            finished.set()
            if watcher.is_alive():
                watcher.join(timeout=5)
        if cancel is not None and cancel.is_set():
            raise RunCancelled("cancelled")
        if reply is None:
            raise ExecutorError(f"the cluster ended the run on {key!r} without an answer; nothing was written")
        return place_outputs(reply, out_dir)


def _cancel_when_set(cancel: Event | None, finished: threading.Event, response: Any) -> None:
    """Cancel ``response`` as soon as ``cancel`` is set, unless the run finishes first (checked 10 times a second)."""
    while cancel is not None and not finished.is_set():
        if cancel.wait(0.1):
            if not finished.is_set():
                response.cancel()
            return


def _death(error: RayActorError) -> str:
    text = str(error)
    for reason in ("killed by `ray.kill`", "out of memory", "node", "worker process has died"):
        if reason in text:
            return f"its process ended: {reason}"
    return one_line(text, 200)
