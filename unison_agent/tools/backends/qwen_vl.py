"""Understanding through transformers: Qwen2.5-VL (or any ``AutoModelForImageTextToText`` with a chat template).

Video frames arrive already sampled (PyAV, in the tool layer) together with their real timing, which is passed
on as ``VideoMetadata`` so the model's temporal positions match the clip, not an assumed 2 fps.
"""

from __future__ import annotations

from typing import Any

import torch

from unison_agent.tools.backends import QwenVLOptions, UnderstandingRequest
from unison_agent.tools.backends.torch_env import load_or_explain, resolve_device, resolve_dtype


class QwenVLBackend:
    """A loaded vision-language model and its processor. Build it with :meth:`load`."""

    def __init__(self, model: Any, processor: Any, options: QwenVLOptions, device: torch.device) -> None:
        self.model = model
        self.processor = processor
        self.options = options
        self.device = device

    @classmethod
    def load(
        cls, model: str, *, options: QwenVLOptions, device: str, dtype: str, offload: str, profile_key: str = ""
    ) -> QwenVLBackend:
        from transformers import AutoModelForImageTextToText, AutoProcessor

        dev = resolve_device(device)
        dt = resolve_dtype(dtype, dev)

        def _load(path: str) -> tuple[Any, Any]:
            kwargs: dict[str, Any] = {}
            if options.max_pixels is not None:
                kwargs["max_pixels"] = options.max_pixels
            processor = AutoProcessor.from_pretrained(path, **kwargs)
            vlm: Any
            if offload != "none" and dev.type != "cpu":
                vlm = AutoModelForImageTextToText.from_pretrained(path, dtype=dt, device_map="auto")
            else:
                vlm = AutoModelForImageTextToText.from_pretrained(path, dtype=dt)
                vlm = vlm.to(dev)
            return vlm.eval(), processor

        vlm, processor = load_or_explain(model, "qwen-vl", _load)
        return cls(vlm, processor, options, dev)

    def answer(self, request: UnderstandingRequest) -> str:
        """The model's answer to ``request`` (greedy decoding, so the same question gets the same answer)."""
        from transformers.video_utils import VideoMetadata

        content: list[dict[str, Any]] = [{"type": "image"} for _ in request.images]
        content += [{"type": "video"} for _ in request.videos]
        content.append({"type": "text", "text": request.prompt})
        text = self.processor.apply_chat_template(
            [{"role": "user", "content": content}], add_generation_prompt=True, tokenize=False
        )
        kwargs: dict[str, Any] = {}
        if request.images:
            kwargs["images"] = request.images
        if request.videos:
            kwargs["videos"] = [clip.frames for clip in request.videos]
            kwargs["video_metadata"] = [
                VideoMetadata(
                    total_num_frames=clip.total_frames,
                    fps=clip.source_fps,
                    frames_indices=clip.indices,
                    width=clip.frames[0].width,
                    height=clip.frames[0].height,
                )
                for clip in request.videos
            ]
            kwargs["do_sample_frames"] = False  # already sampled, with their real timing
            kwargs["cap_pixels_per_frame"] = True  # the reference (qwen-vl-utils) per-frame pixel cap
        inputs = self.processor(text=[text], return_tensors="pt", **kwargs).to(self.device)
        with torch.inference_mode():
            out = self.model.generate(**inputs, max_new_tokens=request.max_new_tokens, do_sample=False)
        new_tokens = out[:, inputs["input_ids"].shape[1] :]
        return str(self.processor.batch_decode(new_tokens, skip_special_tokens=True)[0]).strip()
