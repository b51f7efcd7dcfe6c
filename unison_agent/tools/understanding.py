"""Understanding: text, image and video questions answered by a vision-language backend."""

from __future__ import annotations

import time
from threading import Event

from unison_agent.media import probe
from unison_agent.spec import Media, Role, TaskSpec
from unison_agent.tools.backends import QwenVLOptions, UnderstandingBackend, UnderstandingRequest, VideoClip
from unison_agent.tools.errors import RunCancelled
from unison_agent.tools.frames import open_image, read_video_for_understanding
from unison_agent.tools.results import Progress, ProgressEvent, RunResult

__all__ = ["understand"]

DEFAULT_QUESTION = "Describe this in detail."


def understand(
    spec: TaskSpec,
    backend: UnderstandingBackend,
    *,
    options: QwenVLOptions | None = None,
    on_progress: Progress | None = None,
    cancel: Event | None = None,
) -> RunResult:
    """Answer an understanding spec. Pictures and clips are passed in attachment order; clips are sampled over
    their whole length (``video_fps``, at most ``video_max_frames``) with their real timing.

    Raises :class:`InputError` for an unreadable attachment and :class:`RunCancelled` if cancelled first.
    """
    t0 = time.perf_counter()
    opts = options or QwenVLOptions()
    emit = on_progress or (lambda _e: None)
    emit(ProgressEvent("prepare", 0, 1, message="reading attachments"))
    request = UnderstandingRequest(prompt=spec.prompt or DEFAULT_QUESTION, max_new_tokens=opts.max_new_tokens)
    for item in spec.inputs_with(Role.CONTEXT):
        if probe(item.path).media is Media.IMAGE:
            request.images.append(open_image(item.path))
        else:
            clip = read_video_for_understanding(item.path, max_frames=opts.video_max_frames, target_fps=opts.video_fps)
            request.videos.append(VideoClip(clip.frames, clip.source_fps, clip.indices, clip.total_frames))
    emit(ProgressEvent("prepare", 1, 1))
    if cancel is not None and cancel.is_set():
        raise RunCancelled("cancelled before the model was asked")
    emit(ProgressEvent("answer", 0, 1))
    text = backend.answer(request)
    emit(ProgressEvent("answer", 1, 1))
    return RunResult(spec=spec, text=text, seconds=time.perf_counter() - t0)
