"""Backends: the only place that imports torch, diffusers or transformers.

This module itself imports none of them. It holds the registry (a backend is chosen by a short name in the
profile and its module is imported only when first used), each backend's options model, the requests the
tool layer hands to a backend, and :class:`ModelPool`, which loads each model once per process and shares it
between tasks: one Wan2.1-VACE pipeline serves all nine generation tasks.

Backend modules:
    wan_vace.py   diffusers WanVACEPipeline: every generation task
    qwen_vl.py    transformers Qwen2.5-VL (any AutoModelForImageTextToText): understanding
    depth.py      transformers depth estimation: depth control maps from ordinary pictures
    pose.py       transformers ViTPose: pose skeleton maps from ordinary pictures
    flow.py       torchvision RAFT: optical-flow control maps from ordinary clips
    tiny.py       builds the tiny random-weight models of the ``tiny`` profile
    torch_env.py  device and dtype choice
"""

from __future__ import annotations

import importlib
import importlib.util
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field

from unison_agent.tools.errors import MissingDependencyError

if TYPE_CHECKING:
    from PIL import Image

    from unison_agent.tools.profiles import ModelEntry, Profile

__all__ = [
    "BACKENDS",
    "BackendInfo",
    "DepthOptions",
    "ExtractorBackend",
    "FlowOptions",
    "GenerationBackend",
    "GenerationRequest",
    "ModelPool",
    "PoseOptions",
    "QwenVLOptions",
    "StepCallback",
    "UnderstandingBackend",
    "UnderstandingRequest",
    "VaceOptions",
    "VideoClip",
]

INSTALL_GEN = "pip install 'unison-agent[gen]'"


# ------------------------------------------------------------------------------------------------ options
class VaceOptions(BaseModel):
    """Options of the ``wan-vace`` backend; the spec's own steps/guidance/negative prompt win over these."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    steps: int = Field(default=50, ge=1, le=500)
    guidance_scale: float = Field(default=5.0, ge=0, le=50)
    flow_shift: float = Field(default=3.0, gt=0, description="UniPC flow shift: 3 for 480p, 5 for 720p (Wan's advice)")
    negative_prompt: str = ""
    conditioning_scale: float = Field(default=1.0, ge=0, le=4, description="strength of VACE's conditioning")


class QwenVLOptions(BaseModel):
    """Options of the ``qwen-vl`` backend."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    max_new_tokens: int = Field(default=512, ge=1, le=8192)
    video_max_frames: int = Field(default=32, ge=2, le=768)
    video_fps: float = Field(default=2.0, gt=0, le=30, description="frames per second sampled from a video")
    max_pixels: int | None = Field(
        default=None, ge=3136, description="per image/frame cap (processor default if unset)"
    )


class DepthOptions(BaseModel):
    """Options of the ``depth`` extractor backend (none yet; the model decides)."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class PoseOptions(BaseModel):
    """Options of the ``pose`` extractor backend."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    min_score: float = Field(
        default=0.3, ge=0, description="keypoints whose score (heatmap peak, about 0..1) is below this are not drawn"
    )


class FlowOptions(BaseModel):
    """Options of the ``flow`` extractor backend."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    num_flow_updates: int | None = Field(
        default=None,
        ge=1,
        le=32,
        description="RAFT refinement iterations (more: finer, slower); unset: the model's config.json, else 12",
    )
    max_side: int | None = Field(
        default=None,
        ge=128,
        le=8192,
        description="run RAFT with the longer side at most this (faster on a CPU); unset: at the frame size, as VACE",
    )


@dataclass(frozen=True)
class BackendInfo:
    """How to build a backend: its family, where its class lives, its options, the packages it needs."""

    family: Literal["generation", "understanding", "extractor"]
    target: str  # "module:Class", imported on first use
    options: type[BaseModel]
    needs: tuple[str, ...] = ("torch", "diffusers", "transformers")

    def load_class(self) -> Any:
        missing = [name for name in self.needs if importlib.util.find_spec(name) is None]
        if missing:
            raise MissingDependencyError(f"this backend needs {', '.join(missing)}: {INSTALL_GEN}")
        module, _, cls = self.target.partition(":")
        return getattr(importlib.import_module(module), cls)


BACKENDS: dict[str, BackendInfo] = {
    "wan-vace": BackendInfo("generation", "unison_agent.tools.backends.wan_vace:WanVACEBackend", VaceOptions),
    "qwen-vl": BackendInfo(
        "understanding",
        "unison_agent.tools.backends.qwen_vl:QwenVLBackend",
        QwenVLOptions,
        ("torch", "torchvision", "transformers"),
    ),
    "depth": BackendInfo(
        "extractor", "unison_agent.tools.backends.depth:DepthBackend", DepthOptions, ("torch", "transformers")
    ),
    "pose": BackendInfo(
        "extractor", "unison_agent.tools.backends.pose:PoseBackend", PoseOptions, ("torch", "transformers")
    ),
    "flow": BackendInfo(
        "extractor", "unison_agent.tools.backends.flow:FlowBackend", FlowOptions, ("torch", "torchvision")
    ),
}


# ------------------------------------------------------------------------------------------------ requests
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
        """Frames as a uint8 array ``(frames, height, width, 3)``."""
        ...


class UnderstandingBackend(Protocol):
    def answer(self, request: UnderstandingRequest) -> str: ...


class ExtractorBackend(Protocol):
    def extract(self, frames: list[Image.Image]) -> list[Image.Image]: ...


# ------------------------------------------------------------------------------------------------ the pool
class ModelPool:
    """Loads each model once and hands the same instance to every task that uses it.

    Keyed by backend, model id, options and placement, so the nine generation tasks of one profile share one
    pipeline. Thread-safe: two threads asking for the same model wait for one load. ``loads`` records every
    real load (``"backend:model"``), which the benchmark reports.
    """

    def __init__(self) -> None:
        self._loaded: dict[tuple[str, ...], Any] = {}
        self._lock = threading.Lock()
        self.loads: list[str] = []

    def get(self, key_name: str, entry: ModelEntry, profile: Profile) -> Any:
        """The loaded backend for ``entry`` (loading it on first use).

        Raises :class:`MissingDependencyError` when torch & co. are not installed and
        :class:`ModelUnavailableError` when the model cannot be found or loaded.
        """
        import json

        key = (
            entry.backend,
            entry.model,
            json.dumps(entry.options, sort_keys=True),
            profile.device,
            profile.dtype,
            profile.offload,
        )
        with self._lock:
            if key not in self._loaded:
                cls = BACKENDS[entry.backend].load_class()
                self._loaded[key] = cls.load(
                    entry.model,
                    options=entry.parsed_options(),
                    device=profile.device,
                    dtype=profile.dtype,
                    offload=profile.offload,
                    profile_key=key_name,
                )
                self.loads.append(f"{entry.backend}:{entry.model}")
            return self._loaded[key]

    def for_task(self, task: Any, profile: Profile) -> Any:
        """The loaded backend that serves ``task`` in ``profile``."""
        key_name, entry = profile.model_for(task)
        return self.get(key_name, entry, profile)

    def clear(self) -> None:
        """Forget every loaded model (their memory is freed once no one else holds them)."""
        with self._lock:
            self._loaded.clear()
