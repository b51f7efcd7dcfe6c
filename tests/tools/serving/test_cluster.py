"""The ``ray`` executor on a real local Ray cluster, started by this module: the CLI and the MCP server join it by
its GCS address (``--executor ray://HOST:PORT``) in their own processes and give, pixel for pixel, what a local run
gives; progress streams in order; a cancelled run and a run whose replica is killed leave no file, and the next
run succeeds; ``unison serve status`` sees the replicas running.

One cluster serves the whole module (starting it and loading the replicas is most of its time): a copy of the
tiny profile without extractors, so only the VACE and Qwen-VL replicas load, each on a quarter of a CPU. The
cluster is started with explicit resources and never looked up with ``address="auto"``: other clusters may run
on the same machine."""

from __future__ import annotations

import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from threading import Event
from typing import Any

import anyio
import numpy as np
import pytest
import ray
import tomli_w
import tomllib
from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client
from mcp.types import CallToolResult, ResourceLink
from PIL import Image

import unison_agent.tools
from unison_agent.errors import ExecutorError
from unison_agent.planning import plan
from unison_agent.spec import Task, TaskSpec
from unison_agent.tools import ModelPool, Profile, RunCancelled, load_profile
from unison_agent.tools.executors import LocalExecutor
from unison_agent.tools.frames import read_video
from unison_agent.tools.results import ProgressEvent, RunResult
from unison_agent.tools.serving.client import RayExecutor, undeploy
from unison_agent.tools.serving.deployments import app_name

pytestmark = pytest.mark.slow

DEADLINE_S = 300.0  # one run, one command or one MCP session; tiny runs take seconds, so only a hang reaches it
REPLACED_S = 240.0  # a killed replica's replacement: a new worker process that loads its model (10-40 s here)
W = H = 64


@dataclass(frozen=True)
class Cluster:
    """The module's cluster: its GCS address, the profile deployed on it (and its file) and an executor on it."""

    gcs: str
    profile: Profile
    profile_path: Path
    app: str
    executor: RayExecutor

    @property
    def joined(self) -> list[str]:
        """The options that make a front door run this profile on this cluster."""
        return ["--profile", str(self.profile_path), "--executor", f"ray://{self.gcs}"]


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    """A new Ray cluster in this process with the profile's application running on it; on teardown (also when a
    test failed, or when deploying failed) the application is removed and the cluster stops."""
    folder = tmp_path_factory.mktemp("cluster")
    tiny = tomllib.loads((Path(unison_agent.tools.__file__).parent / "profiles" / "tiny.toml").read_text("utf-8"))
    extractors = set(tiny.pop("extractors", {}).values())
    models = {key: entry for key, entry in tiny["models"].items() if key not in extractors}
    data = {**tiny, "models": models, "ray": {"deployments": {key: {"num_cpus": 0.25} for key in models}}}
    path = folder / "tiny-cluster.toml"
    path.write_text(tomli_w.dumps(data), encoding="utf-8")
    profile = load_profile(path)
    app = app_name(profile)
    # address="local": always a new cluster, even where $RAY_ADDRESS or `ray start` names another one.
    ray.init(address="local", num_cpus=2, num_gpus=0, include_dashboard=False, log_to_driver=False)
    try:
        gcs = ray.get_runtime_context().gcs_address
        executor = RayExecutor(profile)  # joins the cluster this process started, deploys, waits for the replicas
        yield Cluster(gcs, profile, path, app, executor)
    finally:
        undeploy(app, stop_cluster=True)
    assert not ray.is_initialized()


@pytest.fixture(scope="module")
def local(cluster: Cluster, pool: ModelPool) -> LocalExecutor:
    return LocalExecutor(cluster.profile, pool)


# ------------------------------------------------------------------------------------------------------- helpers


def _within(work: Callable[[], RunResult], deadline_s: float = DEADLINE_S) -> RunResult:
    """``work()`` in a daemon thread, waited for at most ``deadline_s``: its result, or what it raised."""
    done: list[RunResult] = []
    failed: list[BaseException] = []

    def target() -> None:
        try:
            done.append(work())
        except BaseException as e:
            failed.append(e)

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join(deadline_s)
    if thread.is_alive():
        pytest.fail(f"the run did not end within {deadline_s:.0f} s")
    if failed:
        raise failed[0]
    return done[0]


def _run(
    executor: RayExecutor | LocalExecutor,
    spec: TaskSpec,
    out_dir: Path,
    on_progress: Callable[[ProgressEvent], None] | None = None,
    cancel: Event | None = None,
    deadline_s: float = DEADLINE_S,
) -> RunResult:
    return _within(lambda: executor.run(spec, out_dir=out_dir, on_progress=on_progress, cancel=cancel), deadline_s)


def _video(steps: int | None = None) -> TaskSpec:
    return TaskSpec(
        task=Task.TEXT_TO_VIDEO, prompt="waves on a beach", width=W, height=H, num_frames=5, seed=3, steps=steps
    )


def _unison(*argv: str) -> subprocess.CompletedProcess[str]:
    """``unison ARGV`` in its own process (this process's environment: offline, the tiny models' cache)."""
    return subprocess.run(
        [sys.executable, "-m", "unison_agent.cli", *argv], capture_output=True, text=True, timeout=DEADLINE_S
    )


def _pixels(path: str | Path) -> np.ndarray:
    with Image.open(path) as image:
        return np.asarray(image.convert("RGB"))


def _frames(path: str | Path) -> np.ndarray:
    return np.stack([np.asarray(f) for f in read_video(path, fps=16).frames])


def _files(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def _replica(app: str, key: str) -> Any:
    """The actor of model ``key``'s (one) running replica in application ``app``, found without the dashboard."""
    names = [
        d
        for d in ray.util.list_named_actors(all_namespaces=True)
        if "SERVE_REPLICA" in d["name"] and f"{app}#{key}#" in d["name"]
    ]
    assert len(names) == 1, f"expected one {key} replica of {app}, found {names}"
    return ray.get_actor(names[0]["name"], namespace=names[0]["namespace"])


# ------------------------------------------------------------------------------------------------------ front doors


@pytest.mark.parametrize(
    ("request_text", "media"),
    [
        ("a red fox in the snow, 64x64, seed 7", "image"),
        ("a video of waves on a beach, 64x64, 1 second, seed 3", "video"),
    ],
)
def test_unison_run_on_the_cluster_writes_what_a_local_run_makes(
    cluster: Cluster, local: LocalExecutor, tmp_path: Path, request_text: str, media: str
) -> None:
    out = tmp_path / "out"
    proc = _unison("run", request_text, *cluster.joined, "--out", str(out), "--json")
    assert proc.returncode == 0, proc.stderr
    answer = json.loads(proc.stdout)
    (output,) = answer["outputs"]
    assert output["media"] == media
    served = Path(output["path"])
    assert served.parent == out and served.is_file()
    spec = plan(request_text)  # as the CLI plans it (the embedded planner)
    local_result = _run(local, spec, tmp_path / "local")
    assert answer["spec"] == local_result.spec.to_json_dict()
    here = local_result.outputs[0]
    assert served.name == Path(here.path).name
    if media == "image":
        assert np.array_equal(_pixels(served), _pixels(here.path))
    else:
        frames = _frames(served)
        assert frames.shape == (spec.num_frames, H, W, 3)
        assert np.array_equal(frames, _frames(here.path))


def test_the_mcp_server_on_the_cluster_makes_an_image_and_a_video_with_progress(
    cluster: Cluster, tmp_path: Path
) -> None:
    workspace = tmp_path / "ws"
    params = StdioServerParameters(
        command=sys.executable,
        args=["-m", "unison_agent.cli", "mcp", *cluster.joined, "--workspace", str(workspace)],
        env=dict(os.environ),
        cwd=str(tmp_path),
    )
    messages: list[str] = []

    async def go() -> tuple[CallToolResult, CallToolResult]:
        async def on_progress(progress: float, total: float | None, message: str | None) -> None:
            messages.append(message or "")

        with anyio.fail_after(DEADLINE_S):
            async with stdio_client(params) as (read, write), ClientSession(read, write) as client:
                await client.initialize()
                image = await client.call_tool(
                    "text_to_image",
                    {"prompt": "a red fox in the snow", "width": W, "height": H, "seed": 7},
                    progress_callback=on_progress,
                )
                video = await client.call_tool(
                    "text_to_video",
                    {"prompt": "waves on a beach", "width": W, "height": H, "num_frames": 5, "seed": 3},
                    progress_callback=on_progress,
                )
        return image, video

    image, video = anyio.run(go)
    for result, media in ((image, "image"), (video, "video")):
        assert not result.isError, result.content
        assert result.structuredContent is not None
        (output,) = result.structuredContent["outputs"]
        assert output["media"] == media
        path = Path(output["path"])
        assert path.is_file() and path.is_relative_to(workspace)
        links = [c for c in result.content if isinstance(c, ResourceLink)]
        assert [link.name for link in links] == [path.name]
    assert any("step" in m for m in messages), messages


def test_a_scripted_session_on_the_cluster_stores_each_step_with_its_outputs(cluster: Cluster, tmp_path: Path) -> None:
    script = tmp_path / "two.yaml"
    script.write_text(f"- request: 'a lighthouse at dusk, {W}x{H}, seed 2'\n- request: 'make it night, {W}x{H}'\n")
    ws = tmp_path / "ws"
    done = _unison("session", "run", str(script), *cluster.joined, "-w", str(ws), "--json", "-q")
    assert done.returncode == 0, done.stderr[-2000:]
    steps = json.loads(done.stdout)["steps"]
    assert [s["spec"]["task"] for s in steps] == ["text_to_image", "image_editing"]
    made, edited = (s["outputs"] for s in steps)
    assert len(made) == len(edited) == 1
    assert Path(edited[0]["path"]).parent == ws / "files" and Path(edited[0]["path"]).is_file()
    # the edit ran on the stored first output (by its path in the workspace), not on a replica's copy
    assert [i["path"] for i in steps[1]["spec"]["inputs"]] == [made[0]["path"]]


# `unison ARGV` with SIGTERM at its default, as for a command typed in a terminal (a test runner may ignore it). Set
# by the child's first lines, not in a preexec_fn: this process holds Ray's threads, and a fork that runs Python
# code before exec can deadlock then.
AS_FROM_A_TERMINAL = (
    "import signal, sys; signal.signal(signal.SIGTERM, signal.SIG_DFL); "
    "from unison_agent.cli import main; sys.exit(main(sys.argv[1:]))"
)


def test_sigterm_stops_a_cli_run_on_the_cluster_with_exit_130_nothing_written_and_the_replica_freed(
    cluster: Cluster, tmp_path: Path
) -> None:
    out_dir = tmp_path / "out"
    # Minutes of denoising if nothing stopped it (256x256, 49 frames, 250 steps), so the next run can only end
    # within its deadline if the replica's run was cancelled.
    request = ["run", "waves on a beach, 256x256, 3 seconds, 250 steps", *cluster.joined, "--out", str(out_dir)]
    lines: queue.Queue[str] = queue.Queue()
    with subprocess.Popen(
        [sys.executable, "-c", AS_FROM_A_TERMINAL, *request],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    ) as proc:
        stderr = proc.stderr
        assert stderr is not None

        def pump() -> None:
            for line in stderr:
                lines.put(line)

        reader = threading.Thread(target=pump, daemon=True)
        reader.start()
        seen: list[str] = []
        try:
            deadline = time.monotonic() + DEADLINE_S
            while not any(line.startswith("denoise") for line in seen):
                try:
                    seen.append(lines.get(timeout=max(0.0, deadline - time.monotonic())))
                except queue.Empty:
                    pytest.fail(f"no denoising began before the deadline; stderr: {''.join(seen)}")
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=120)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait(timeout=30)
        reader.join(timeout=30)
    err = "".join(seen) + "".join(lines.queue)
    assert proc.returncode == 130, err
    assert "unison run: cancelled; nothing was written" in err and "Traceback" not in err
    assert _files(out_dir) == []
    after = _run(cluster.executor, _video(), tmp_path / "next", deadline_s=120)
    assert len(after.outputs) == 1


def test_serve_status_lists_the_application_with_its_replicas_running(cluster: Cluster) -> None:
    proc = _unison("serve", "status", "--address", cluster.gcs, "--json")
    assert proc.returncode == 0, proc.stderr
    status = json.loads(proc.stdout)
    assert status["cluster"].startswith(cluster.gcs)
    (app,) = [a for a in status["apps"] if a["name"] == cluster.app]
    assert app["status"] == "RUNNING"
    assert app["deployments"] == {"vace": {"RUNNING": 1}, "vl": {"RUNNING": 1}}


# ---------------------------------------------------------------------------------------------------- the executor


def test_progress_comes_stage_by_stage_with_every_denoising_step_in_order(cluster: Cluster, tmp_path: Path) -> None:
    events: list[ProgressEvent] = []
    result = _run(cluster.executor, _video(), tmp_path / "out", events.append)
    stages = [e.stage for e in events]
    assert list(dict.fromkeys(stages)) == ["load", "prepare", "denoise", "decode", "write"]
    steps = cluster.profile.models["vace"].options["steps"]
    assert [e.done for e in events if e.stage == "denoise"] == list(range(1, steps + 1))
    assert {e.total for e in events if e.stage == "denoise"} == {steps}
    assert _files(tmp_path / "out") == sorted([Path(result.outputs[0].path).name, "waves-on-a-beach-3.json"])


def test_a_run_cancelled_at_its_first_step_writes_nothing_and_the_next_run_succeeds(
    cluster: Cluster, tmp_path: Path
) -> None:
    cancel = Event()
    seen: list[tuple[str, int]] = []

    def cancel_at_first_step(event: ProgressEvent) -> None:
        seen.append((event.stage, event.done))
        if event.stage == "denoise" and event.done == 1:
            cancel.set()

    out = tmp_path / "out"
    # Enough steps that the cancel (a tenth of a second after the first step at most) finds the replica still
    # denoising: the cluster's cancellation stops it, not the caller's check once a finished run's reply is in.
    with pytest.raises(RunCancelled, match="the replica stopped at its next step"):
        _run(cluster.executor, _video(steps=250), out, cancel_at_first_step, cancel)
    assert ("denoise", 1) in seen
    assert _files(out) == []
    again = _run(cluster.executor, _video(), out)
    assert _files(out) == ["waves-on-a-beach-3.json", "waves-on-a-beach-3.mp4"]
    assert again.outputs[0].num_frames == 5


def test_a_run_whose_replica_is_killed_fails_naming_it_writes_nothing_and_the_next_run_succeeds(
    cluster: Cluster, tmp_path: Path
) -> None:
    # Enough steps that the run is still denoising when the kill (milliseconds after its first step) lands.
    spec = _video(steps=250)
    denoising = Event()
    out = tmp_path / "out"
    failed: list[BaseException] = []

    def on_progress(event: ProgressEvent) -> None:
        if event.stage == "denoise":
            denoising.set()

    def work() -> None:
        try:
            cluster.executor.run(spec, out_dir=out, on_progress=on_progress)
        except BaseException as e:
            failed.append(e)

    runner = threading.Thread(target=work, daemon=True)
    runner.start()
    assert denoising.wait(DEADLINE_S), "the run never reached its first denoising step"
    ray.kill(_replica(cluster.app, "vace"), no_restart=False)
    runner.join(DEADLINE_S)
    assert not runner.is_alive(), f"the run did not end within {DEADLINE_S:.0f} s of its replica's death"
    assert len(failed) == 1 and isinstance(failed[0], ExecutorError), failed
    message = str(failed[0])
    assert "'vace'" in message and "died" in message and "nothing was written" in message
    assert "\n" not in message
    assert _files(out) == []
    again = _run(cluster.executor, _video(), out, deadline_s=REPLACED_S)
    assert _files(out) == ["waves-on-a-beach-3.json", "waves-on-a-beach-3.mp4"]
    assert again.outputs[0].num_frames == 5
