"""A lower fps than the model's: generated at the model's fps over the asked length, then resampled down, and the
written file (MP4, sidecar, reported output) says the asked fps and frame count."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from unison_agent.media import probe
from unison_agent.planning import plan
from unison_agent.spec import Input, Media, Role, Task, TaskSpec
from unison_agent.tools import ModelPool, Profile, run
from unison_agent.tools.generation import snap_spec
from unison_agent.tools.outputs import read_metadata, resample


def _numbered(n: int) -> np.ndarray:
    """``n`` frames of 2x2 pixels whose value is their index: which frames were kept reads off the pixels."""
    return np.arange(n, dtype=np.uint8)[:, None, None, None].repeat(2, 1).repeat(2, 2).repeat(3, 3)


@pytest.mark.parametrize(
    ("count", "fps", "to_fps", "kept"),
    [
        (81, 16, 2, [0, 8, 16, 24, 32, 40, 48, 56, 64, 72, 80]),
        (45, 16, 5, [0, 3, 6, 9, 12, 16, 19, 22, 25, 28, 32, 35, 38, 41]),
        (5, 16, 1, [0]),
        (17, 16, 16, list(range(17))),
    ],
)
def test_resampling_keeps_the_frame_on_screen_at_each_output_time(
    count: int, fps: int, to_fps: int, kept: list[int]
) -> None:
    # Output frame i is the generated frame on screen at time i / to_fps: the latest one at or before it.
    out = resample(_numbered(count), fps, to_fps)
    assert out[:, 0, 0, 0].tolist() == kept


def test_resampling_stops_at_the_asked_frame_count() -> None:
    assert resample(_numbered(45), 16, 5, max_frames=10)[:, 0, 0, 0].tolist() == [0, 3, 6, 9, 12, 16, 19, 22, 25, 28]


@pytest.mark.parametrize(("fps", "to_fps"), [(16, 24), (16, 0), (0, 2)])
def test_resampling_up_or_to_no_rate_is_refused(fps: int, to_fps: int) -> None:
    with pytest.raises(ValueError, match="resample"):
        resample(_numbered(5), fps, to_fps)


def test_a_low_fps_request_is_generated_over_five_seconds_not_hundreds_of_frames(
    pool: ModelPool, tiny: Profile
) -> None:
    # "at 2 fps" plans 11 frames (5 s); the model makes 81 frames at 16 fps for those 5 s, never 641.
    spec = plan("a video of waves at 2 fps")
    backend = pool.for_task(Task.TEXT_TO_VIDEO, tiny)
    snapped, _notes = snap_spec(spec, backend)
    assert (snapped.num_frames, snapped.fps) == (81, 16)


@pytest.mark.slow
@pytest.mark.parametrize(
    ("fps", "frames", "seconds", "generated"),
    [(2, 5, 2.0, 33), (5, 14, 2.5, 45)],
    ids=["2fps-2s", "5fps-2.5s"],
)
def test_a_lower_fps_is_written_at_that_fps_with_the_asked_frames_and_a_note(
    fps: int, frames: int, seconds: float, generated: int, tmp_path: Path, pool: ModelPool, tiny: Profile
) -> None:
    spec = TaskSpec(
        task=Task.TEXT_TO_VIDEO,
        prompt="waves",
        width=64,
        height=64,
        fps=fps,
        num_frames=frames,
        duration_s=seconds,
        steps=1,
        seed=3,
    )
    result = run(spec, profile=tiny, pool=pool, out_dir=tmp_path)
    [out] = result.outputs
    info = probe(out.path)
    assert (info.fps, info.num_frames) == (fps, frames)
    assert (out.fps, out.num_frames) == (fps, frames)
    assert (result.spec.fps, result.spec.num_frames, result.spec.duration_s) == (fps, frames, seconds)
    sidecar = read_metadata(Path(out.path))["spec"]
    assert (sidecar["fps"], sidecar["num_frames"], sidecar["duration_s"]) == (fps, frames, seconds)
    notes = " | ".join(result.notes)
    assert f"{fps} fps asked" in notes and f"at 16 fps ({generated} frames)" in notes
    assert f"kept {frames} frames at {fps} fps" in notes


def test_a_shorter_source_clip_keeps_the_frames_it_covers_at_the_asked_fps(
    media: Callable[..., str], tmp_path: Path, pool: ModelPool, tiny: Profile
) -> None:
    # 1 s of source at 16 fps: an edit asked for 3 s at 4 fps can keep 5 frames (0 .. 1 s), and says so.
    clip = media("clip.mp4", "photo", size=(64, 64), frames=17, fps=16)
    spec = TaskSpec(
        task=Task.VIDEO_EDITING,
        prompt="make it night",
        inputs=[Input(path=clip, media=Media.VIDEO, role=Role.SOURCE)],
        width=64,
        height=64,
        fps=4,
        duration_s=3,
        steps=1,
        seed=3,
    )
    result = run(spec, profile=tiny, pool=pool, out_dir=tmp_path)
    [out] = result.outputs
    info = probe(out.path)
    assert (info.fps, info.num_frames) == (4, 5) == (out.fps, out.num_frames)
    assert (result.spec.num_frames, result.spec.duration_s) == (5, 1.0)
    assert "kept 5 frames at 4 fps" in " | ".join(result.notes)
