"""Understanding through transformers: Qwen2.5-VL (or any ``AutoModelForImageTextToText`` with a chat template).

Video frames arrive already sampled (PyAV, in the tool layer) together with their real timing, which is passed
on as ``VideoMetadata`` so the model's temporal positions match the clip, not an assumed 2 fps.
"""

from __future__ import annotations

from typing import Any

import torch

from unison_agent.tools.backends import Offload, QwenVLOptions, UnderstandingRequest
from unison_agent.tools.backends.torch_env import apply_group_offload, load_or_explain, resolve_device, resolve_dtype


class QwenVLBackend:
    """A loaded vision-language model and its processor. Build it with :meth:`load`."""

    def __init__(self, model: Any, processor: Any, options: QwenVLOptions, device: torch.device) -> None:
        self.model = model
        self.processor = processor
        self.options = options
        self.device = device

    @classmethod
    def load(
        cls, model: str, *, options: QwenVLOptions, device: str, dtype: str, offload: Offload, profile_key: str = ""
    ) -> QwenVLBackend:
        """Load the model and its processor and place them as ``offload`` says (``model``/``sequential``:
        transformers' ``device_map="auto"``; ``group``: diffusers' group offloading of its blocks). A
        ``random:<arch>`` model is built at its real size with random weights (see
        :mod:`unison_agent.tools.random_weights`)."""
        from transformers import AutoModelForImageTextToText, AutoProcessor

        dev = resolve_device(device)
        dt = resolve_dtype(dtype, dev)
        if model.startswith("random:"):
            from unison_agent.tools.random_weights import build_qwen_vl, needs_gpu

            needs_gpu(model, dev)
            # offloaded weights wait on the CPU (model/sequential here place the random model whole, as none)
            on = dev if offload.mode == "none" else torch.device("cpu")
            vlm, processor = build_qwen_vl(model, device=on, dtype=dt)
            return cls(_place(vlm.eval(), offload, dev), processor, options, dev)

        def _load(path: str) -> tuple[Any, Any]:
            kwargs: dict[str, Any] = {}
            if options.max_pixels is not None:
                kwargs["max_pixels"] = options.max_pixels
            processor = AutoProcessor.from_pretrained(path, **kwargs)
            vlm: Any
            if offload.mode in ("model", "sequential") and dev.type != "cpu":
                vlm = AutoModelForImageTextToText.from_pretrained(path, dtype=dt, device_map="auto")
                return vlm.eval(), processor
            vlm = AutoModelForImageTextToText.from_pretrained(path, dtype=dt)
            return _place(vlm.eval(), offload, dev), processor

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


def _place(vlm: Any, offload: Offload, dev: torch.device) -> Any:
    """``vlm`` on ``dev``; with group offloading, its weights wait on the CPU and each group of blocks comes to
    ``dev`` as it runs (diffusers' hooks, which work on any torch module)."""
    if offload.mode != "group":
        return vlm.to(dev)
    apply_group_offload(vlm, offload, dev)
    return vlm
