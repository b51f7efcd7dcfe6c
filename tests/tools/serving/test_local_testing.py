"""The ``ray`` executor end to end, in Ray Serve's local testing mode: the profile's deployments (a replica per
model entry behind the gateway) run as plain objects in this process, with their arguments pickled as on a
cluster, so the whole path (payload, gateway, replica, streamed progress, reply, outputs placed at the caller) is
exercised without starting Ray. Each result is compared with the :class:`LocalExecutor`'s for the same spec."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from pathlib import Path
from threading import Event
from typing import Any

import numpy as np
import pytest
from PIL import Image

from unison_agent.errors import MediaError, UnreadableInputError
from unison_agent.spec import ControlType, Input, Media, Role, Task, TaskSpec
from unison_agent.tools import ModelPool, Profile, RunCancelled
from unison_agent.tools.executors import LocalExecutor
from unison_agent.tools.frames import read_video
from unison_agent.tools.outputs import read_metadata
from unison_agent.tools.results import ProgressEvent, RunResult
from unison_agent.tools.serving import deployments
from unison_agent.tools.serving.client import RayExecutor

# Slow: building the application loads five models (about 6 s), and its replicas leave threads in the test
# process, which `make test-fast` (pytest-xdist) would share with tests that fork worker processes.
pytestmark = pytest.mark.slow

W, H, FRAMES = 64, 64, 5
DEADLINE_S = 300.0  # a hung run fails the test instead of the session; tiny runs take well under a second
HOLD_S = 60.0  # how long a replica held at its first step waits for a cancel that arrives within milliseconds


@pytest.fixture(scope="module")
def ray_executor(tiny: Profile) -> RayExecutor:
    """One application for the module: building it loads the tiny profile's five models (about 5 s)."""
    return RayExecutor(tiny, local_testing=True)


@pytest.fixture(scope="module")
def local(tiny: Profile, pool: ModelPool) -> LocalExecutor:
    return LocalExecutor(tiny, pool)


def _within(work: Callable[[], RunResult]) -> RunResult:
    """``work()`` in a daemon thread, waited for at most ``DEADLINE_S``: its result, or what it raised."""
    done: list[RunResult] = []
    failed: list[BaseException] = []

    def target() -> None:
        try:
            done.append(work())
        except BaseException as e:
            failed.append(e)

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join(DEADLINE_S)
    if thread.is_alive():
        pytest.fail(f"the run did not end within {DEADLINE_S:.0f} s")
    if failed:
        raise failed[0]
    return done[0]


def _run(
    executor: LocalExecutor | RayExecutor,
    spec: TaskSpec,
    out_dir: Path,
    events: list[ProgressEvent] | None = None,
    cancel: Event | None = None,
    on_progress: Callable[[ProgressEvent], None] | None = None,
) -> RunResult:
    def emit(event: ProgressEvent) -> None:
        if events is not None:
            events.append(event)
        if on_progress is not None:
            on_progress(event)

    return _within(lambda: executor.run(spec, out_dir=out_dir, on_progress=emit, cancel=cancel))


def _spec(task: Task, inputs: list[tuple[str, Media, Role]] | None = None, **fields: Any) -> TaskSpec:
    made = task.output_media
    frames = None if made is None else {Media.VIDEO: FRAMES, Media.IMAGE: 1}[made]
    return TaskSpec(
        task=task,
        prompt=fields.pop("prompt", "a red fox in the snow"),
        inputs=[Input(path=p, media=m, role=r) for p, m, r in inputs or []],
        width=W,
        height=H,
        num_frames=frames,
        seed=fields.pop("seed", 11),
        **fields,
    )


def _pixels(path: str) -> np.ndarray:
    with Image.open(path) as image:
        return np.asarray(image.convert("RGB"))


def _frames(path: str) -> np.ndarray:
    clip = read_video(path, fps=16)
    return np.stack([np.asarray(f) for f in clip.frames])


def _files(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def _same_result(ray_result: RunResult, local_result: RunResult) -> None:
    """The two results agree on everything but where their files are and how long they took."""
    assert ray_result.spec == local_result.spec
    assert ray_result.notes == local_result.notes
    assert ray_result.text == local_result.text
    assert [a.model_copy(update={"path": ""}) for a in ray_result.outputs] == [
        a.model_copy(update={"path": ""}) for a in local_result.outputs
    ]


# ---------------------------------------------------------------------------------------------- same output


def test_text_to_image_through_ray_gives_the_same_pixels_as_a_local_run(
    ray_executor: RayExecutor, local: LocalExecutor, tmp_path: Path
) -> None:
    spec = _spec(Task.TEXT_TO_IMAGE)
    served = _run(ray_executor, spec, tmp_path / "ray")
    here = _run(local, spec, tmp_path / "local")
    _same_result(served, here)
    (image,) = served.outputs
    assert Path(image.path).parent == tmp_path / "ray"
    assert Path(image.path).name == Path(here.outputs[0].path).name == "a-red-fox-in-the-11.png"
    assert np.array_equal(_pixels(image.path), _pixels(here.outputs[0].path))
    assert read_metadata(Path(image.path)) == read_metadata(Path(here.outputs[0].path))


def test_the_pixel_comparison_tells_two_seeds_apart(ray_executor: RayExecutor, tmp_path: Path) -> None:
    first = _run(ray_executor, _spec(Task.TEXT_TO_IMAGE, seed=11), tmp_path / "a")
    other = _run(ray_executor, _spec(Task.TEXT_TO_IMAGE, seed=12), tmp_path / "b")
    assert not np.array_equal(_pixels(first.outputs[0].path), _pixels(other.outputs[0].path))


def test_text_to_video_through_ray_gives_the_same_frames_and_sidecar_as_a_local_run(
    ray_executor: RayExecutor, local: LocalExecutor, tmp_path: Path
) -> None:
    spec = _spec(Task.TEXT_TO_VIDEO)
    served = _run(ray_executor, spec, tmp_path / "ray")
    here = _run(local, spec, tmp_path / "local")
    _same_result(served, here)
    (clip,) = served.outputs
    assert (clip.num_frames, clip.fps) == (FRAMES, 16)
    assert _files(tmp_path / "ray") == ["a-red-fox-in-the-11.json", "a-red-fox-in-the-11.mp4"]
    frames = _frames(clip.path)
    assert frames.shape == (FRAMES, H, W, 3)
    assert np.array_equal(frames, _frames(here.outputs[0].path))
    sidecar = Path(clip.path).with_suffix(".json").read_text(encoding="utf-8")
    assert sidecar == Path(here.outputs[0].path).with_suffix(".json").read_text(encoding="utf-8")
    assert json.loads(sidecar)["seed"] == 11


def test_the_frame_comparison_tells_two_seeds_apart(ray_executor: RayExecutor, tmp_path: Path) -> None:
    first = _run(ray_executor, _spec(Task.TEXT_TO_VIDEO, seed=11), tmp_path / "a")
    other = _run(ray_executor, _spec(Task.TEXT_TO_VIDEO, seed=12), tmp_path / "b")
    assert not np.array_equal(_frames(first.outputs[0].path), _frames(other.outputs[0].path))


def test_several_outputs_all_come_back_into_the_callers_folder(ray_executor: RayExecutor, tmp_path: Path) -> None:
    result = _run(ray_executor, _spec(Task.TEXT_TO_IMAGE, num_outputs=2), tmp_path)
    assert [Path(a.path).name for a in result.outputs] == ["a-red-fox-in-the-11.png", "a-red-fox-in-the-12.png"]
    assert [a.seed for a in result.outputs] == [11, 12]
    assert _files(tmp_path) == ["a-red-fox-in-the-11.png", "a-red-fox-in-the-12.png"]


# ---------------------------------------------------------------------------------------------- attachments


def test_an_edit_names_the_callers_attachment_never_the_replicas_copy(
    ray_executor: RayExecutor, local: LocalExecutor, media: Callable[..., str], tmp_path: Path
) -> None:
    photo = media("holiday/IMG_1.jpg", size=(W, H))
    mask = media("holiday/mask.png", "mask", size=(W, H))
    spec = _spec(Task.IMAGE_EDITING, [(photo, Media.IMAGE, Role.SOURCE), (mask, Media.IMAGE, Role.MASK)])
    served = _run(ray_executor, spec, tmp_path / "out")
    here = _run(local, spec, tmp_path / "local")
    _same_result(served, here)
    assert [i.path for i in served.spec.inputs] == [photo, mask]
    (image,) = served.outputs
    assert Path(image.path).parent == tmp_path / "out"
    metadata = read_metadata(Path(image.path))
    assert [i["path"] for i in metadata["spec"]["inputs"]] == [photo, mask]
    assert "unison-replica-" not in json.dumps(metadata), "the replica's scratch folder is not named"
    assert metadata == read_metadata(Path(here.outputs[0].path))
    assert np.array_equal(_pixels(image.path), _pixels(here.outputs[0].path))


def test_image_to_video_names_the_callers_first_frame(
    ray_executor: RayExecutor, media: Callable[..., str], tmp_path: Path
) -> None:
    first = media("first.png", size=(W, H))
    out = tmp_path / "out"
    served = _run(ray_executor, _spec(Task.IMAGE_TO_VIDEO, [(first, Media.IMAGE, Role.FIRST_FRAME)]), out)
    assert [i.path for i in served.spec.inputs] == [first]
    (clip,) = served.outputs
    sidecar = read_metadata(Path(clip.path))
    assert [i["path"] for i in sidecar["spec"]["inputs"]] == [first]
    assert _files(out) == [Path(clip.path).with_suffix(".json").name, Path(clip.path).name]


@pytest.mark.parametrize(
    ("task", "control", "name"),
    [(Task.VIDEO_CONTROL, ControlType.DEPTH, "dance.mp4"), (Task.IMAGE_CONTROL, ControlType.POSE, "me.png")],
)
def test_a_control_map_made_by_an_extractor_replica_gives_the_local_runs_output(
    ray_executor: RayExecutor,
    local: LocalExecutor,
    media: Callable[..., str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    task: Task,
    control: ControlType,
    name: str,
) -> None:
    source = media(name, "photo", size=(W, H), frames=FRAMES, fps=16)  # a photo, not a ready map: it is extracted
    kind = Media.VIDEO if task is Task.VIDEO_CONTROL else Media.IMAGE
    spec = _spec(task, [(source, kind, Role.CONTROL)], control_type=control)
    calls: list[int] = []
    extract = deployments._RemoteExtractor.extract

    def counted(self: deployments._RemoteExtractor, frames: list[Any]) -> list[Any]:
        calls.append(len(frames))
        return extract(self, frames)

    monkeypatch.setattr(deployments._RemoteExtractor, "extract", counted)
    events: list[ProgressEvent] = []
    served = _run(ray_executor, spec, tmp_path / "ray", events)
    assert sum(calls) == served.outputs[0].num_frames, "the generation replica asked the extractor deployment"
    assert any(e.message == f"{control.value} extractor: tiny:{control.value}" for e in events)
    here = _run(local, spec, tmp_path / "local")
    _same_result(served, here)
    read = _frames if kind is Media.VIDEO else _pixels
    assert np.array_equal(read(served.outputs[0].path), read(here.outputs[0].path))


# ---------------------------------------------------------------------------------------------- progress


def test_progress_arrives_in_order_as_the_run_goes(
    ray_executor: RayExecutor, local: LocalExecutor, tmp_path: Path
) -> None:
    events: list[ProgressEvent] = []
    seen_files: list[list[str]] = []
    spec = _spec(Task.TEXT_TO_VIDEO)
    _run(ray_executor, spec, tmp_path / "ray", events, on_progress=lambda _e: seen_files.append(_files(tmp_path)))
    steps = [(e.stage, e.done, e.total) for e in events]
    assert steps == [
        ("load", 0, 1),
        ("load", 1, 1),
        ("prepare", 0, 1),
        ("prepare", 1, 1),
        ("denoise", 1, 4),
        ("denoise", 2, 4),
        ("denoise", 3, 4),
        ("denoise", 4, 4),
        ("decode", 0, 1),
        ("write", 0, 1),
        ("write", 1, 1),
    ]
    assert events[0].message == "wan-vace: tiny:wan-vace"
    assert seen_files == [[]] * len(events), "every event came while the run was going, before any file"
    local_events: list[ProgressEvent] = []
    _run(local, spec, tmp_path / "local", local_events)
    assert events == local_events


def test_understanding_through_ray_answers_in_text_as_a_local_run_does(
    ray_executor: RayExecutor, local: LocalExecutor, media: Callable[..., str], tmp_path: Path
) -> None:
    photo = media("street.jpg", size=(W, H))
    spec = TaskSpec(
        task=Task.IMAGE_UNDERSTANDING,
        prompt="what is in this picture?",
        inputs=[Input(path=photo, media=Media.IMAGE, role=Role.CONTEXT)],
    )
    events: list[ProgressEvent] = []
    served = _run(ray_executor, spec, tmp_path / "ray", events)
    assert isinstance(served.text, str) and served.text
    assert served.outputs == []
    assert [i.path for i in served.spec.inputs] == [photo]
    assert [e.stage for e in events][:2] == ["load", "load"]
    assert events[0].message == "qwen-vl: tiny:qwen-vl"
    assert _files(tmp_path / "ray") == []
    _same_result(served, _run(local, spec, tmp_path / "local"))


# ---------------------------------------------------------------------------------------------- cancel


class ReplicaRuns:
    """What the replicas' :func:`run` calls did: ``outcomes`` holds ``"finished"`` or the class name of what each
    raised; ``ended`` is set when one returns. With ``hold_at_first_step`` a run waits, after its first denoising
    step, until its cancel event is set (``reached`` says whether it was): the cancel then deterministically
    arrives mid-run, however slow the machine."""

    def __init__(self) -> None:
        self.outcomes: list[str] = []
        self.reached: list[bool] = []
        self.ended = Event()
        self.hold_at_first_step = False

    def wrap(self, real: Callable[..., RunResult]) -> Callable[..., RunResult]:
        def observed(
            spec: TaskSpec, *, on_progress: Callable[[ProgressEvent], None], cancel: Event, **kw: Any
        ) -> RunResult:
            def progress(event: ProgressEvent) -> None:
                on_progress(event)
                if self.hold_at_first_step and event.stage == "denoise" and event.done == 1:
                    self.reached.append(cancel.wait(HOLD_S))

            try:
                result = real(spec, on_progress=progress, cancel=cancel, **kw)
            except BaseException as e:
                self.outcomes.append(type(e).__name__)
                raise
            finally:
                self.ended.set()
            self.outcomes.append("finished")
            return result

        return observed


@pytest.fixture
def replica_runs(monkeypatch: pytest.MonkeyPatch) -> ReplicaRuns:
    runs = ReplicaRuns()
    monkeypatch.setattr(deployments, "run", runs.wrap(deployments.run))
    return runs


def test_a_run_cancelled_at_its_first_step_stops_the_replica_leaves_no_file_and_the_next_run_succeeds(
    ray_executor: RayExecutor, replica_runs: ReplicaRuns, tmp_path: Path
) -> None:
    cancel = Event()
    events: list[ProgressEvent] = []

    def cancel_at_first_step(event: ProgressEvent) -> None:
        if event.stage == "denoise" and event.done == 1:
            cancel.set()

    out = tmp_path / "out"
    replica_runs.hold_at_first_step = True
    with pytest.raises(RunCancelled):
        _run(ray_executor, _spec(Task.TEXT_TO_VIDEO), out, events, cancel, cancel_at_first_step)
    assert replica_runs.ended.wait(DEADLINE_S), "the replica's run ended"
    assert replica_runs.reached == [True], "the cancel reached the replica"
    assert replica_runs.outcomes == ["RunCancelled"], "the replica stopped at its next step"
    assert [(e.stage, e.done) for e in events][-1] == ("denoise", 1)
    assert _files(out) == []

    replica_runs.hold_at_first_step = False
    again = _run(ray_executor, _spec(Task.TEXT_TO_VIDEO), out)
    assert replica_runs.outcomes == ["RunCancelled", "finished"]
    assert _files(out) == ["a-red-fox-in-the-11.json", "a-red-fox-in-the-11.mp4"]
    assert again.outputs[0].num_frames == FRAMES


def test_a_run_cancelled_before_it_is_sent_does_not_run(
    ray_executor: RayExecutor, replica_runs: ReplicaRuns, tmp_path: Path
) -> None:
    cancel = Event()
    cancel.set()
    events: list[ProgressEvent] = []
    with pytest.raises(RunCancelled, match="before it was sent"):
        _run(ray_executor, _spec(Task.TEXT_TO_IMAGE), tmp_path / "out", events, cancel)
    assert replica_runs.outcomes == []
    assert events == []
    assert _files(tmp_path / "out") == []


# ---------------------------------------------------------------------------------------------- errors


def test_a_missing_attachment_fails_at_the_caller_before_anything_is_sent(
    ray_executor: RayExecutor, replica_runs: ReplicaRuns, tmp_path: Path
) -> None:
    events: list[ProgressEvent] = []
    spec = _spec(Task.IMAGE_EDITING, [(str(tmp_path / "gone.png"), Media.IMAGE, Role.SOURCE)])
    with pytest.raises(UnreadableInputError, match=r"^gone\.png: cannot be read"):
        _run(ray_executor, spec, tmp_path / "out", events)
    assert replica_runs.outcomes == [], "the replica never saw it"
    assert events == []


@pytest.fixture
def corrupt(tmp_path: Path) -> str:
    """``x.png``: a PNG signature, then garbage."""
    path = tmp_path / "x.png"
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + b"not really a picture" * 20)
    return str(path)


def test_an_error_on_the_replica_arrives_as_the_class_a_local_run_raises(
    ray_executor: RayExecutor, local: LocalExecutor, corrupt: str, tmp_path: Path
) -> None:
    spec = _spec(Task.IMAGE_EDITING, [(corrupt, Media.IMAGE, Role.SOURCE)])
    with pytest.raises(Exception) as here:
        _run(local, spec, tmp_path / "local")
    with pytest.raises(Exception) as served:
        _run(ray_executor, spec, tmp_path / "ray")
    assert type(served.value) is type(here.value)
    assert isinstance(served.value, MediaError) and isinstance(here.value, MediaError)
    assert served.value.path == here.value.path == corrupt, "the caller's path, not the replica's copy"
    message = str(served.value)
    assert message == str(here.value)
    assert message.startswith("x.png: ") and "\n" not in message
    assert "unison-replica-" not in message
    assert _files(tmp_path / "ray") == []


def test_the_same_seed_gives_the_same_latents_through_ray_as_locally(
    ray_executor: RayExecutor, local: LocalExecutor, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import torch

    from unison_agent.tools.backends.wan_vace import WanVACEBackend

    latents: list[torch.Tensor] = []
    original = WanVACEBackend.generate

    def recording(self: WanVACEBackend, request: Any, **kwargs: Any) -> Any:
        # The final latents of the same request, then the run itself (both executors' replicas live in this
        # process in Serve's testing mode, so this records what each executor's model computed).
        latents.append(original(self, request, output_type="latent").detach().clone())
        return original(self, request, **kwargs)

    monkeypatch.setattr(WanVACEBackend, "generate", recording)
    spec = _spec(Task.TEXT_TO_VIDEO, seed=21)
    _run(local, spec, tmp_path / "local")
    _run(ray_executor, spec, tmp_path / "ray")
    _run(ray_executor, spec.model_copy(update={"seed": 22}), tmp_path / "other")
    here, there, other = latents
    assert torch.equal(here, there)
    assert not torch.allclose(here, other), "another seed gives other latents: the comparison can fail"


def test_on_a_shared_disk_the_replica_reads_the_callers_files_and_nothing_is_sent(
    ray_executor: RayExecutor, local: LocalExecutor, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, media: Any
) -> None:
    from unison_agent.tools.serving import client, wire

    sent: list[Any] = []

    def packing(spec: TaskSpec, files: Any = "bytes") -> Any:
        payload = wire.pack_request(spec, files)
        sent.append(payload)
        return payload

    shared = ray_executor.profile.model_copy(
        update={"ray": ray_executor.profile.ray.model_copy(update={"files": "shared"})}
    )
    monkeypatch.setattr(ray_executor, "profile", shared)
    monkeypatch.setattr(client, "pack_request", packing)
    photo = media("shared/IMG_2.jpg", size=(W, H))
    spec = _spec(Task.IMAGE_TO_VIDEO, [(photo, Media.IMAGE, Role.FIRST_FRAME)], seed=5)
    served = _run(ray_executor, spec, tmp_path / "ray")
    made = _run(local, spec, tmp_path / "local")
    assert [p.files for p in sent] == [None]  # the path went, not the bytes
    assert [i.path for i in served.spec.inputs] == [photo]
    assert np.array_equal(_frames(served.outputs[0].path), _frames(made.outputs[0].path))
