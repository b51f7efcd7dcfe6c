"""What the tool layer hands a backend and what it gets back: the request types and the backend protocols.

Plain data (PIL images, no tensors) and ``Protocol`` s, so that the tool layer is typed without importing torch.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from PIL import Image

    from unison_agent.spec import Task

__all__ = [
    "Backend",
    "ExtractorBackend",
    "GenerationBackend",
    "GenerationRequest",
    "StepCallback",
    "UnderstandingBackend",
    "UnderstandingRequest",
    "VideoClip",
]

StepCallback = Callable[[int, int], None]
"""Called after each denoising step with ``(steps_done, steps_total)``; may raise to stop the run."""


@dataclass
class GenerationRequest:
    """Everything one VACE call needs, already resized to the output size (PIL images, no tensors).

    ``video``/``mask`` are VACE's conditioning frames (``num_frames`` each, or ``None`` for pure text
    generation); mask white = generate, black = keep. ``references`` are whole pictures VACE carries into the
    output (identity, subject, style).
    """

    prompt: str
    width: int
    height: int
    num_frames: int
    seed: int
    steps: int
    guidance_scale: float
    negative_prompt: str = ""
    video: list[Image.Image] | None = None
    mask: list[Image.Image] | None = None
    references: list[Image.Image] = field(default_factory=list)
    conditioning_scale: float = 1.0
    task: Task | None = None  # what the request is for: a lever that would spoil this task's conditioning is not used


@dataclass(frozen=True)
class VideoClip:
    """Frames sampled from a clip, with the facts a VLM needs to place them in time."""

    frames: list[Image.Image]
    source_fps: float
    indices: list[int]
    total_frames: int


@dataclass
class UnderstandingRequest:
    """A question with its pictures and clips, in the order they were attached."""

    prompt: str
    images: list[Image.Image] = field(default_factory=list)
    videos: list[VideoClip] = field(default_factory=list)
    max_new_tokens: int = 512


class GenerationBackend(Protocol):
    #: output height/width must be multiples of this; frame counts must be ``frame_step * k + 1``
    size_multiple: int
    frame_step: int
    fps: int  # the frame rate the model was trained to produce

    def generate(self, request: GenerationRequest, *, on_step: StepCallback | None = None) -> Any:
        """Frames as a uint8 array ``(frames, height, width, 3)``; raises
        :class:`~unison_agent.errors.DeviceMemoryError` when the device runs out of memory."""
        ...

    def warms_up(self, request: GenerationRequest) -> bool:
        """Whether this request first compiles something (a one-off cost the front doors show as a stage)."""
        ...

    def lower_memory(self, stage: str) -> str | None:
        """After a :class:`~unison_agent.errors.DeviceMemoryError` in ``stage``: switch on a memory lever not yet
        on and say which, or None when none is left."""
        ...


class UnderstandingBackend(Protocol):
    def answer(self, request: UnderstandingRequest) -> str: ...


class ExtractorBackend(Protocol):
    def extract(self, frames: list[Image.Image]) -> list[Image.Image]: ...


Backend = GenerationBackend | UnderstandingBackend | ExtractorBackend
"""Any loaded backend, as the model pool hands it out (its family says which)."""
