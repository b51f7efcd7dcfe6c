"""Depth control maps from ordinary pictures and clips, with a transformers depth-estimation model."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from PIL import Image

from unison_agent.tools.backends import DepthOptions, Offload
from unison_agent.tools.backends.torch_env import load_or_explain, resolve_device


class DepthBackend:
    """A loaded depth model (Depth Anything V2 by default). Build it with :meth:`load`."""

    def __init__(self, model: Any, processor: Any, device: torch.device) -> None:
        self.model = model
        self.processor = processor
        self.device = device

    @classmethod
    def load(
        cls, model: str, *, options: DepthOptions, device: str, dtype: str, offload: Offload, profile_key: str = ""
    ) -> DepthBackend:
        from transformers import AutoImageProcessor, AutoModelForDepthEstimation

        dev = resolve_device(device)

        def _load(path: str) -> tuple[Any, Any]:
            return AutoModelForDepthEstimation.from_pretrained(path).to(dev).eval(), AutoImageProcessor.from_pretrained(
                path
            )

        net, processor = load_or_explain(model, "depth", _load)
        return cls(net, processor, dev)

    def extract(self, frames: list[Image.Image]) -> list[Image.Image]:
        """Grey-scale depth maps (near = bright) as RGB, one per frame, each the size of its frame.

        One normalisation for the whole clip, so brightness means the same depth in every frame.
        """
        maps = []
        for frame in frames:
            inputs = self.processor(images=frame.convert("RGB"), return_tensors="pt").to(self.device)
            with torch.inference_mode():
                out = self.model(**inputs)
            post = self.processor.post_process_depth_estimation(out, target_sizes=[(frame.height, frame.width)])
            maps.append(post[0]["predicted_depth"].float().cpu().numpy())
        lo = min(float(m.min()) for m in maps)
        hi = max(float(m.max()) for m in maps)
        scale = 255.0 / (hi - lo) if hi > lo else 0.0
        return [Image.fromarray(((m - lo) * scale).astype(np.uint8)).convert("RGB") for m in maps]
