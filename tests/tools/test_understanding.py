"""Understanding: pictures and clips reach the VLM in order, clips sampled over their length with real timing."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from unison_agent.spec import Input, Media, Role, Task, TaskSpec
from unison_agent.tools import ModelPool, Profile, run
from unison_agent.tools.backends import QwenVLOptions, UnderstandingRequest
from unison_agent.tools.understanding import understand


class _Recorder:
    def __init__(self) -> None:
        self.requests: list[UnderstandingRequest] = []

    def answer(self, request: UnderstandingRequest) -> str:
        self.requests.append(request)
        return "a recorded answer"


def _spec(task: Task, inputs: list[tuple[str, Media]], prompt: str = "what is this?") -> TaskSpec:
    return TaskSpec(task=task, prompt=prompt, inputs=[Input(path=p, media=m, role=Role.CONTEXT) for p, m in inputs])


def test_a_clip_is_sampled_over_its_whole_length_at_the_asked_rate(media: Callable[..., str]) -> None:
    clip = media("clip.mp4", "photo", size=(96, 64), frames=48, fps=24)  # 2 s
    backend = _Recorder()
    result = understand(
        _spec(Task.VIDEO_UNDERSTANDING, [(clip, Media.VIDEO)]),
        backend,
        options=QwenVLOptions(video_fps=2.0, video_max_frames=32),
    )
    assert result.text == "a recorded answer"
    [video] = backend.requests[0].videos
    assert video.source_fps == pytest.approx(24)
    assert video.total_frames == 48
    assert len(video.frames) == 4 and video.indices[0] == 0 and video.indices[-1] == 47
    # The sampled rate a VLM derives from these facts is the real one: 4 frames over 48 at 24 fps = 2 fps.
    assert len(video.indices) / video.total_frames * video.source_fps == pytest.approx(2.0)


def test_long_clips_are_capped_at_video_max_frames(media: Callable[..., str]) -> None:
    clip = media("long.mp4", "photo", size=(64, 64), frames=80, fps=8)  # 10 s
    backend = _Recorder()
    understand(
        _spec(Task.VIDEO_UNDERSTANDING, [(clip, Media.VIDEO)]), backend, options=QwenVLOptions(video_max_frames=6)
    )
    assert len(backend.requests[0].videos[0].frames) == 6


def test_pictures_beside_a_clip_and_an_empty_question_are_handled(media: Callable[..., str]) -> None:
    backend = _Recorder()
    spec = _spec(
        Task.VIDEO_UNDERSTANDING,
        [(media("a.png"), Media.IMAGE), (media("c.mp4", "photo", frames=8), Media.VIDEO)],
        prompt="",
    )
    understand(spec, backend)
    request = backend.requests[0]
    assert len(request.images) == 1 and len(request.videos) == 1
    assert request.prompt  # a default question, never an empty one


def test_the_real_processor_gets_the_clips_true_timing(
    media: Callable[..., str], pool: ModelPool, tiny: Profile, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    backend = pool.for_task(Task.VIDEO_UNDERSTANDING, tiny)
    seen: dict[str, Any] = {}
    processor = backend.processor
    real_call = type(processor).__call__

    def spy(self: Any, *args: Any, **kwargs: Any) -> Any:
        out = real_call(self, *args, **kwargs)
        seen.update(out)
        return out

    monkeypatch.setattr(type(processor), "__call__", spy)
    clip = media("clip.mp4", "photo", size=(96, 64), frames=48, fps=24)
    result = run(_spec(Task.VIDEO_UNDERSTANDING, [(clip, Media.VIDEO)]), profile=tiny, pool=pool, out_dir=tmp_path)
    assert isinstance(result.text, str)
    # Qwen2.5-VL spaces video tokens in time by temporal_patch_size / fps: 2 / 2 fps = 1 s per grid step.
    assert float(seen["second_per_grid_ts"][0]) == pytest.approx(1.0)
