"""`make bench`: what the ray executor costs per request on top of the local one, and what a second replica of the
generation model buys. Prints figures; asserts nothing.

Starts its own Ray cluster inside this process (2 CPUs, no GPU, no dashboard), so it never touches a cluster
someone else runs on this machine, and runs the ``tiny`` profile (random weights, offline) with every model
entry's replica asking for a quarter of a CPU, so that all five fit beside Serve's own actors.

1. Overhead per request. The same specs (text_to_image 64x64, text_to_video 64x64 of 2 s, image_understanding of
   a small PNG; fixed seeds) run ``--runs`` times each, after one untimed warm-up, through a
   :class:`LocalExecutor` (this process, torch on 1 thread) and through a :class:`RayExecutor`, alternating
   which goes first. The ray leg adds: the spec and the attachment's bytes sent to the gateway, the hop to the
   model's replica, each progress event streamed back, the outputs encoded on the replica and written here.
   Medians are printed, with the overhead (ray - local) in ms and in %, and whether the warm-up runs of both
   legs gave the same pixels / text (same seed, same weights, same thread count: they should).
2. Throughput, 1 vs 2 replicas of the generation model: ``--requests`` text_to_video requests submitted at once
   from as many threads through one RayExecutor; wall time -> requests per minute, first with one replica of
   it, then (the first application deleted) with ``min_replicas = max_replicas = 2``.
3. The time each variant took to deploy (``ensure_deployed``), and the versions, CPU count and date.

    python scripts/bench_ray.py                 # --runs 5 --requests 8
    python scripts/bench_ray.py --quick         # --runs 2 --requests 4 (what `make bench` runs)
"""

from __future__ import annotations

import argparse
import datetime
import logging
import os
import platform
import shutil
import signal
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from pathlib import Path
from types import FrameType
from typing import Any, cast

# Before Ray, torch or anything from Hugging Face is imported: the cluster started below (and so its replicas)
# inherits this environment. No usage report; tiny models are built into $UNISON_CACHE on first use, offline.
os.environ["RAY_USAGE_STATS_ENABLED"] = "0"
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"
os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")

import numpy as np
from PIL import Image

# Ray's environment defaults, set by this package before Ray is first imported (Ray reads them once): without
# them a Ray that finds ~/.ray/auth_token starts a cluster its own driver cannot authenticate to.
import unison_agent.tools.serving  # noqa: F401

SEED = 7
SIDE = 64
CLIP_S = 2.0
PROMPT = "a red fox runs through the snow at dawn"
QUESTION = "What is in this picture?"
CPUS_PER_REPLICA = 0.25  # 5 model entries (+ a second generation replica) fit in 2 CPUs
RUN_TIMEOUT_S = 300.0  # one run, or one throughput round, on the tiny models takes seconds; this only ends a hang
APP_ONE, APP_TWO, APP_PROBE = "bench-ray-1", "bench-ray-2", "bench-ray-probe"


# ------------------------------------------------------------------------------------------------ set-up
def bench_profile(base: Any, app: str, generation_replicas: int) -> Any:
    """``base`` (a Profile) with every model entry's replica asking for :data:`CPUS_PER_REPLICA` CPUs,
    ``generation_replicas`` fixed replicas of the generation model, and the Serve application name ``app``."""
    from unison_agent.spec import Task
    from unison_agent.tools.serving.deployments import served_models

    generation, _entry = base.model_for(Task.TEXT_TO_VIDEO)
    deployments = {}
    for key in served_models(base):
        update: dict[str, Any] = {"num_cpus": CPUS_PER_REPLICA}
        if key == generation:
            update.update(min_replicas=generation_replicas, max_replicas=generation_replicas)
        deployments[key] = base.ray.deployment(key).model_copy(update=update)
    return base.model_copy(update={"ray": base.ray.model_copy(update={"app": app, "deployments": deployments})})


def make_specs(folder: Path) -> dict[str, Any]:
    """The three specs of the overhead table, by label (a small photo-like PNG written into ``folder``)."""
    from unison_agent.spec import Input, Media, Role, Task, TaskSpec

    folder.mkdir(parents=True, exist_ok=True)
    y, x = np.mgrid[0:SIDE, 0:SIDE]
    pixels = np.stack([60 + 3 * x, 80 + 2 * y, 220 - 2 * x], -1) + np.random.default_rng(0).normal(
        0, 10, (SIDE, SIDE, 3)
    )
    photo = folder / "photo.png"
    Image.fromarray(pixels.clip(0, 255).astype("uint8")).save(photo)
    common: dict[str, Any] = {"width": SIDE, "height": SIDE, "seed": SEED}
    t2i = TaskSpec(task=Task.TEXT_TO_IMAGE, prompt=PROMPT, **common)
    t2v = TaskSpec(task=Task.TEXT_TO_VIDEO, prompt=PROMPT, duration_s=CLIP_S, **common)
    look = Input(path=str(photo), media=Media.IMAGE, role=Role.CONTEXT)
    understand = TaskSpec(task=Task.IMAGE_UNDERSTANDING, prompt=QUESTION, inputs=[look])  # greedy: no seed
    return {
        f"text_to_image {SIDE}x{SIDE}": t2i,
        f"text_to_video {SIDE}x{SIDE}x{t2v.num_frames}": t2v,
        f"image_understanding {SIDE}x{SIDE}": understand,
    }


class _ThreadProbe:
    """A Serve replica that only reports how many threads torch and OpenMP get in it (deployed with the
    generation model's actor options, so it is placed and set up as that model's replicas are)."""

    def __init__(self) -> None:
        import torch  # here, as a model replica imports it: in __init__, after Ray has set the worker's environment

        self.found = {"torch": torch.get_num_threads(), "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS")}

    def threads(self) -> dict[str, Any]:
        return self.found


def replica_threads(profile: Any) -> dict[str, Any]:
    """``{"torch": n, "OMP_NUM_THREADS": value}`` inside a probe replica with the generation model's actor
    options (the probe application is deleted again)."""
    from ray import serve
    from ray.serve.deployment import Deployment

    from unison_agent.spec import Task
    from unison_agent.tools.serving.deployments import deployment_options

    key, _entry = profile.model_for(Task.TEXT_TO_VIDEO)
    options = deployment_options(profile, key, 0.0)["ray_actor_options"]
    probe = cast(Deployment, serve.deployment(_ThreadProbe)).options(name="probe", ray_actor_options=options)
    try:
        handle = serve.run(probe.bind(), name=APP_PROBE, route_prefix=None)
        found: dict[str, Any] = handle.threads.remote().result(timeout_s=RUN_TIMEOUT_S)
    finally:
        serve.delete(APP_PROBE)
    return found


# ------------------------------------------------------------------------------------------------ running
def run_once(executor: Any, spec: Any, out: Path, cancel: threading.Event) -> tuple[float, Any]:
    """``(ms, RunResult)`` of one run of ``spec`` into ``out``. Raises TimeoutError past :data:`RUN_TIMEOUT_S`
    (the run is cancelled), else whatever the run raised."""
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="bench-run") as pool:
        start = time.perf_counter()
        future = pool.submit(executor.run, spec, out_dir=out, cancel=cancel)
        try:
            result = future.result(timeout=RUN_TIMEOUT_S)
        except FutureTimeout:
            cancel.set()  # the run stops at its next step, so the pool's shutdown does not wait for it to finish
            raise TimeoutError(f"{spec.task.value} on {executor.name} took over {RUN_TIMEOUT_S:g} s") from None
        except BaseException:  # Ctrl-C: the same, instead of waiting for the run
            cancel.set()
            raise
        return (time.perf_counter() - start) * 1000, result


def fingerprint(result: Any) -> list[Any]:
    """What a run produced, comparable across runs: its text, or every output's decoded pixels."""
    import av

    if result.text is not None:
        return [result.text]
    found: list[Any] = []
    for artifact in result.outputs:
        if artifact.media.value == "image":
            with Image.open(artifact.path) as img:
                found.append(np.asarray(img.convert("RGB")))
        else:
            with av.open(artifact.path) as clip:
                found += [frame.to_ndarray(format="rgb24") for frame in clip.decode(video=0)]
    return found


def same_output(a: Any, b: Any) -> bool:
    """Whether two runs gave the same text, or bit-identical pixels."""
    fa, fb = fingerprint(a), fingerprint(b)
    return len(fa) == len(fb) and all(
        x == y if isinstance(x, str) else isinstance(y, np.ndarray) and np.array_equal(x, y)
        for x, y in zip(fa, fb, strict=True)
    )


def overhead(
    local: Any, remote: Any, specs: dict[str, Any], runs: int, out: Path, cancel: threading.Event
) -> list[tuple[str, float, float, bool]]:
    """Per spec: ``(label, local median ms, ray median ms, same output)``."""
    rows = []
    for n, (label, spec) in enumerate(specs.items()):
        folder = out / f"overhead-{n}"
        _ms, local_first = run_once(local, spec, folder / "local-warm", cancel)
        _ms, ray_first = run_once(remote, spec, folder / "ray-warm", cancel)
        times: dict[str, list[float]] = {"local": [], "ray": []}
        for i in range(runs):
            legs = (("local", local), ("ray", remote))
            for leg, executor in legs if i % 2 == 0 else legs[::-1]:  # alternate which leg goes first
                ms, _result = run_once(executor, spec, folder / f"{leg}-{i}", cancel)
                times[leg].append(ms)
        rows.append(
            (
                label,
                statistics.median(times["local"]),
                statistics.median(times["ray"]),
                same_output(local_first, ray_first),
            )
        )
    return rows


def throughput(executor: Any, spec: Any, requests: int, out: Path, cancel: threading.Event) -> tuple[float, float]:
    """``(wall s, median latency s)`` of ``requests`` runs of ``spec`` submitted at once from as many threads.
    Raises TimeoutError when they are not all done within :data:`RUN_TIMEOUT_S` (the rest are cancelled)."""

    def one(i: int) -> float:
        start = time.perf_counter()
        executor.run(spec, out_dir=out / f"request-{i}", cancel=cancel)
        return time.perf_counter() - start

    with ThreadPoolExecutor(max_workers=requests, thread_name_prefix="bench-request") as pool:
        start = time.perf_counter()
        futures = [pool.submit(one, i) for i in range(requests)]
        deadline = start + RUN_TIMEOUT_S
        latencies = []
        try:
            for future in futures:
                latencies.append(future.result(timeout=max(0.0, deadline - time.perf_counter())))
        except FutureTimeout:
            cancel.set()
            raise TimeoutError(f"{requests} concurrent requests were not done within {RUN_TIMEOUT_S:g} s") from None
        except BaseException:  # one failed (or Ctrl-C): stop the others instead of waiting for them
            cancel.set()
            raise
        return time.perf_counter() - start, statistics.median(latencies)


def deploy(profile: Any, say: Callable[[str], None]) -> tuple[Any, float]:
    """``(RayExecutor, seconds ensure_deployed took)`` for ``profile`` on the connected cluster."""
    from unison_agent.tools.serving.client import RayExecutor, ensure_deployed

    start = time.perf_counter()
    ensure_deployed(profile, report=lambda line: say(f"  {line}"))
    seconds = time.perf_counter() - start
    return RayExecutor(profile), seconds  # the application runs now: the executor only takes its handle


# ------------------------------------------------------------------------------------------------ main
def _sigterm(_signum: int, _frame: FrameType | None) -> None:
    raise KeyboardInterrupt  # so that `kill` (as well as Ctrl-C) goes through the clean-up below


def bench(runs: int, requests: int, out: Path, cancel: threading.Event) -> None:
    import ray
    import torch
    from ray import serve

    from unison_agent.tools import load_profile
    from unison_agent.tools.executors import LocalExecutor
    from unison_agent.tools.serving.client import cluster_summary, connect

    torch.set_num_threads(1)
    print("ray executor vs local executor (tiny profile: random weights, offline, CPU)")
    print(
        f"ray {ray.__version__}, torch {torch.__version__}, python {platform.python_version()}; "
        f"cpu count {os.cpu_count()}; {datetime.datetime.now().astimezone().isoformat(timespec='seconds')}"
    )
    if hasattr(os, "getloadavg"):
        load = os.getloadavg()[0]
        busy = "  (busy: other processes share the CPU; timings will be noisy)" if load > 0.5 else ""
        print(f"load average before the bench: {load:.2f}{busy}")

    specs = make_specs(out / "inputs")
    tiny = load_profile("tiny")
    one = bench_profile(tiny, APP_ONE, 1)
    two = bench_profile(tiny, APP_TWO, 2)

    start = time.perf_counter()
    ray.init(num_cpus=2, num_gpus=0, include_dashboard=False, log_to_driver=False, logging_level=logging.WARNING)
    connect()  # the cluster above (already initialised): starts Serve on it, without an HTTP proxy
    print(
        f"cluster (started in this process): {cluster_summary()}; Ray + Serve up in {time.perf_counter() - start:.1f} s"
    )

    threads = replica_threads(one)
    print(f"\ndeploying {APP_ONE}: every model entry {CPUS_PER_REPLICA:g} CPU per replica, 1 replica each")
    remote, seconds = deploy(one, print)
    deploy_s = {APP_ONE: seconds}
    print(f"  ensure_deployed: {seconds:.1f} s")
    local = LocalExecutor(tiny)

    print(f"\n1. overhead per request: {runs} timed runs per spec and executor after one warm-up each, medians")
    rows = overhead(local, remote, specs, runs, out, cancel)
    header = f"{'spec':<30} {'local ms':>9} {'ray ms':>9} {'overhead ms':>12} {'overhead':>9}  same output"
    print(header)
    print("-" * len(header))
    for label, local_ms, ray_ms, same in rows:
        extra = ray_ms - local_ms
        print(
            f"{label:<30} {local_ms:>9.0f} {ray_ms:>9.0f} {extra:>12.0f} {extra / local_ms:>9.1%}  "
            f"{'yes' if same else 'NO'}"
        )
    fair = threads["torch"] == torch.get_num_threads()
    print(
        f"caveat: torch threads, local leg {torch.get_num_threads()} (torch.set_num_threads(1)); in a replica "
        f"{threads['torch']} (measured in a probe replica with the generation model's actor options, "
        f"num_cpus={CPUS_PER_REPLICA:g}: Ray sets OMP_NUM_THREADS to max(floor(num_cpus), 1) in a worker whose "
        f"environment does not set it, here OMP_NUM_THREADS={threads['OMP_NUM_THREADS']})"
        + ("" if fair else "; the thread counts differ, so the overhead column also holds that difference")
    )

    t2v = next(spec for label, spec in specs.items() if label.startswith("text_to_video"))
    print(f"\n2. throughput: {requests} text_to_video {SIDE}x{SIDE}x{t2v.num_frames} requests at once, one RayExecutor")
    figures = []
    for replicas, profile in ((1, one), (2, two)):
        if replicas == 2:
            start = time.perf_counter()
            serve.delete(APP_ONE)  # waits until its replicas are gone, so their CPUs are free for the next one
            print(
                f"\ndeleted {APP_ONE} in {time.perf_counter() - start:.1f} s; deploying {APP_TWO}: "
                f"2 replicas of the generation model, 1 of each other model entry"
            )
            remote, seconds = deploy(profile, print)
            deploy_s[APP_TWO] = seconds
            print(f"  ensure_deployed: {seconds:.1f} s")
        # One untimed round of as many requests as replicas, so each replica has run once (its first call's costs)
        throughput(remote, t2v, replicas, out / f"warm-{replicas}", cancel)
        wall, latency = throughput(remote, t2v, requests, out / f"throughput-{replicas}", cancel)
        figures.append(requests / wall * 60)
        print(
            f"  {replicas} replica{'s' if replicas > 1 else ' '}: wall {wall:6.2f} s, {figures[-1]:6.1f} requests/min, "
            f"median latency {latency:.2f} s"
        )
    print(f"  2 replicas / 1 replica: {figures[1] / figures[0]:.2f}x")
    print(
        f"caveat: this machine has {os.cpu_count()} CPU cores, shared by both replicas, this process and Ray's own; "
        "each replica runs torch on 1 thread, so the figure shows that the executor spreads requests over the "
        "replicas, not how generation scales with GPUs; on a machine others share, the two rounds (a minute apart) "
        "meet different loads, so the ratio can even land above 2"
    )
    print("\ndeploy times (ensure_deployed): " + ", ".join(f"{app} {s:.1f} s" for app, s in deploy_s.items()))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=None, help="timed runs per spec and executor (default 5)")
    ap.add_argument("--requests", type=int, default=None, help="concurrent requests per throughput round (default 8)")
    ap.add_argument("--quick", action="store_true", help="--runs 2 --requests 4 unless given (for `make bench`)")
    ap.add_argument("--out", default=None, help="keep the files here (default: a temporary folder, removed)")
    args = ap.parse_args()
    runs = args.runs if args.runs is not None else (2 if args.quick else 5)
    requests = args.requests if args.requests is not None else (4 if args.quick else 8)
    if runs < 1 or requests < 1:
        ap.error("--runs and --requests must be at least 1")

    signal.signal(signal.SIGTERM, _sigterm)
    out = Path(args.out) if args.out else Path(tempfile.mkdtemp(prefix="bench-ray-"))
    cancel = threading.Event()  # set on the way out: runs still going stop at their next step
    t0 = time.perf_counter()
    try:
        bench(runs, requests, out, cancel)
    finally:
        cancel.set()
        shut_down()
        if not args.out:
            shutil.rmtree(out, ignore_errors=True)
    print(f"\nbench wall {time.perf_counter() - t0:.1f} s")
    return 0


def shut_down() -> None:
    """Serve, then the cluster this process started (nothing when Ray never started)."""
    import ray
    from ray import serve

    if not ray.is_initialized():
        return
    print("\nshutting down Serve and Ray (lines from the raylet that a ServeController task failed, its actor killed")
    print("by `ray.kill`, are Serve's own shutdown, not a fault)", flush=True)
    try:
        serve.shutdown()
    finally:
        ray.shutdown()


if __name__ == "__main__":
    sys.exit(main())
