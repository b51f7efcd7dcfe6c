"""Wan2.1-VACE through diffusers' ``WanVACEPipeline``: one loaded pipeline serves all nine generation tasks.

The tool layer has already turned each task into VACE's three inputs (conditioning frames, masks, reference
pictures) at the exact output size; this backend only places the model, seeds it and runs it.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from unison_agent.errors import ModelUnavailableError, one_line
from unison_agent.tools.backends import GenerationRequest, StepCallback, VaceOptions
from unison_agent.tools.backends.torch_env import load_or_explain, resolve_device, resolve_dtype


class WanVACEBackend:
    """A loaded WanVACEPipeline. Build it with :meth:`load`."""

    fps = 16  # Wan is trained on 16 fps clips

    def __init__(self, pipe: Any, options: VaceOptions, device: torch.device) -> None:
        self.pipe = pipe
        self.options = options
        self.device = device
        patch = pipe.transformer.config.patch_size[1]
        #: pipeline constraints: sides divisible by VAE stride x patch size; frames = 4k + 1
        self.size_multiple = int(pipe.vae_scale_factor_spatial * patch)
        self.frame_step = int(pipe.vae_scale_factor_temporal)

    @classmethod
    def load(
        cls, model: str, *, options: VaceOptions, device: str, dtype: str, offload: str, profile_key: str = ""
    ) -> WanVACEBackend:
        """Load the pipeline (VAE in float32, as Wan advises; the rest in ``dtype``) and place it."""
        from diffusers import AutoencoderKLWan, UniPCMultistepScheduler, WanVACEPipeline

        dev = resolve_device(device)
        dt = resolve_dtype(dtype, dev)

        def _load(path: str) -> Any:
            vae = AutoencoderKLWan.from_pretrained(path, subfolder="vae", dtype=torch.float32)
            return WanVACEPipeline.from_pretrained(path, vae=vae, dtype=dt)

        pipe = load_or_explain(model, "wan-vace", _load)
        pipe.scheduler = UniPCMultistepScheduler.from_config(pipe.scheduler.config, flow_shift=options.flow_shift)
        pipe.set_progress_bar_config(disable=True)  # the front doors draw their own progress
        _pad_masks_per_reference(pipe)
        _apply_levers(pipe, options, f"models.{profile_key}" if profile_key else "wan-vace")
        if offload == "model" and dev.type != "cpu":
            pipe.enable_model_cpu_offload(device=dev)
        elif offload == "sequential" and dev.type != "cpu":
            pipe.enable_sequential_cpu_offload(device=dev)
        else:
            pipe.to(dev)
        return cls(pipe, options, dev)

    def pipeline_kwargs(self, request: GenerationRequest) -> dict[str, Any]:
        """The exact keyword arguments given to the pipeline for ``request`` (the benchmark reuses them)."""
        return {
            "prompt": request.prompt,
            "negative_prompt": request.negative_prompt,
            "video": request.video,
            "mask": request.mask,
            "reference_images": request.references or None,
            "conditioning_scale": request.conditioning_scale,
            "height": request.height,
            "width": request.width,
            "num_frames": request.num_frames,
            "num_inference_steps": request.steps,
            "guidance_scale": request.guidance_scale,
            # A CPU generator gives the same starting noise on every device, so a seed means the same thing.
            "generator": torch.Generator("cpu").manual_seed(request.seed),
        }

    def generate(
        self, request: GenerationRequest, *, on_step: StepCallback | None = None, output_type: str = "np"
    ) -> Any:
        """Run VACE. Returns uint8 frames ``(num_frames, height, width, 3)``; with ``output_type="latent"`` the
        final latents as a tensor (tests compare those). Exceptions raised by ``on_step`` stop the run."""
        kwargs = self.pipeline_kwargs(request)

        def step_end(pipe: Any, i: int, t: Any, tensors: dict[str, Any]) -> dict[str, Any]:
            if on_step is not None:
                on_step(i + 1, request.steps)
            return tensors

        with torch.inference_mode():
            out = self.pipe(**kwargs, output_type=output_type, callback_on_step_end=step_end).frames
        if output_type == "latent":
            return out
        return to_uint8(out[0])


def to_uint8(frames: np.ndarray) -> np.ndarray:
    """Pipeline frames in [0, 1] (float) to uint8, rounded."""
    return (np.clip(frames, 0.0, 1.0) * 255.0).round().astype(np.uint8)


def _pad_masks_per_reference(pipe: Any) -> None:
    """Work around a diffusers bug (0.35 - 0.42 at least): ``prepare_masks`` pads the mask with one zero frame
    per reference by slicing the mask's own frames, so an image (one latent frame) with two or more references
    gets too little padding and the pipeline fails on a shape mismatch. Pad with as many frames as references."""
    original = pipe.prepare_masks

    def prepare_masks(mask: Any, reference_images: Any = None, generator: Any = None) -> Any:
        out = original(mask, [[] for _ in range(mask.shape[0])], generator)  # no padding from diffusers
        n_refs = len(reference_images[0]) if reference_images else 0
        if n_refs:
            pad = out.new_zeros(out.shape[0], out.shape[1], n_refs, *out.shape[3:])
            out = torch.cat([pad, out], dim=2)
        return out

    pipe.prepare_masks = prepare_masks


def _apply_levers(pipe: Any, options: VaceOptions, where: str) -> None:
    """The profile's memory and speed levers (options of the entry ``where``), each diffusers' own. An attention
    backend that cannot run here (its package missing, no CUDA GPU) is refused now, at load, with diffusers'
    reason, not at the first request."""
    if options.vae_tiling:
        pipe.vae.enable_tiling()
    if options.vae_slicing:
        pipe.vae.enable_slicing()
    if options.attention_backend != "native":
        try:
            pipe.transformer.set_attention_backend(options.attention_backend)
        except (ImportError, RuntimeError, ValueError) as e:
            raise ModelUnavailableError(
                f"{where}: attention_backend {options.attention_backend!r} cannot be used here ({one_line(e, 200)}); "
                "use 'native' (works everywhere) or install what it needs"
            ) from None
