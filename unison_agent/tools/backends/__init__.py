"""Backends: the only place that imports torch, diffusers or transformers.

This module itself imports none of them. It holds the registry: a backend is chosen by a short name in the
profile, and its module is imported only when first used. ``options.py`` holds each backend's options model,
``protocols.py`` the requests the tool layer hands to a backend and the backend protocols; the model pool that
loads each model once is :mod:`unison_agent.tools.pool`.

Backend modules:
    wan_vace.py   diffusers WanVACEPipeline: every generation task
    qwen_vl.py    transformers Qwen2.5-VL (any AutoModelForImageTextToText): understanding
    depth.py      transformers depth estimation: depth control maps from ordinary pictures
    pose.py       transformers ViTPose: pose skeleton maps from ordinary pictures
    flow.py       torchvision RAFT: optical-flow control maps from ordinary clips
    torch_env.py  device and dtype choice
"""

from __future__ import annotations

import importlib
import importlib.util
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel

from unison_agent.errors import MissingDependencyError
from unison_agent.tools.backends.options import (
    DepthOptions,
    FlowOptions,
    Offload,
    PoseOptions,
    QwenVLOptions,
    VaceOptions,
)
from unison_agent.tools.backends.protocols import (
    Backend,
    ExtractorBackend,
    GenerationBackend,
    GenerationRequest,
    StepCallback,
    UnderstandingBackend,
    UnderstandingRequest,
    VideoClip,
)

__all__ = [
    "BACKENDS",
    "Backend",
    "BackendInfo",
    "DepthOptions",
    "ExtractorBackend",
    "FlowOptions",
    "GenerationBackend",
    "GenerationRequest",
    "Offload",
    "PoseOptions",
    "QwenVLOptions",
    "StepCallback",
    "UnderstandingBackend",
    "UnderstandingRequest",
    "VaceOptions",
    "VideoClip",
]

INSTALL_GEN = "pip install 'unison-agent[gen]'"


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
