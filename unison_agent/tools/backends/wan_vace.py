"""Wan2.1-VACE through diffusers' ``WanVACEPipeline``: one loaded pipeline serves all nine generation tasks.

The tool layer has already turned each task into VACE's three inputs (conditioning frames, masks, reference
pictures) at the exact output size; this backend only places the model, seeds it and runs it.
"""

from __future__ import annotations

from contextlib import nullcontext
from typing import Any

import numpy as np
import torch

from unison_agent.errors import DeviceMemoryError, ModelUnavailableError, ToolError, one_line
from unison_agent.tools.backends import GenerationRequest, Offload, StepCallback, VaceOptions
from unison_agent.tools.backends.caches import apply_cache, cache_suspended, refusal
from unison_agent.tools.backends.torch_env import apply_group_offload, load_or_explain, resolve_device, resolve_dtype

_CPU = torch.device("cpu")


class WanVACEBackend:
    """A loaded WanVACEPipeline. Build it with :meth:`load`."""

    fps = 16  # Wan is trained on 16 fps clips

    def __init__(self, pipe: Any, options: VaceOptions, device: torch.device, offload: Offload | None = None) -> None:
        self.pipe = pipe
        self.options = options
        self.device = device
        patch = pipe.transformer.config.patch_size[1]
        #: pipeline constraints: sides divisible by VAE stride x patch size; frames = 4k + 1
        self.size_multiple = int(pipe.vae_scale_factor_spatial * patch)
        self.frame_step = int(pipe.vae_scale_factor_temporal)
        self.offload = offload or Offload()
        #: (height, width, frames) already run since load: with ``compile = "regional"`` a new size compiles first
        self.sizes_run: set[tuple[int, int, int]] = set()
        self._steps_ok: set[int] = set()  # step counts the sampler was checked to run (see _check_steps)

    @classmethod
    def load(
        cls, model: str, *, options: VaceOptions, device: str, dtype: str, offload: Offload, profile_key: str = ""
    ) -> WanVACEBackend:
        """Load the pipeline (VAE in float32, as Wan advises; the rest in ``dtype``), apply the profile's levers
        and place it. A ``random:<arch>`` model is built at its real size with random weights, directly on the
        device (:mod:`unison_agent.tools.random_weights`), for benchmarks that need no download."""
        from diffusers import AutoencoderKLWan, UniPCMultistepScheduler, WanVACEPipeline

        dev = resolve_device(device)
        dt = resolve_dtype(dtype, dev)
        where = f"models.{profile_key}" if profile_key else "wan-vace"

        def _load(path: str) -> Any:
            vae = AutoencoderKLWan.from_pretrained(path, subfolder="vae", dtype=torch.float32)
            return WanVACEPipeline.from_pretrained(path, vae=vae, dtype=dt)

        if model.startswith("random:"):
            from unison_agent.tools.random_weights import build_wan_vace, needs_gpu

            needs_gpu(model, dev)
            # built where it will run: moving a 5.7B text encoder there afterwards would first need it on the CPU
            pipe = build_wan_vace(model, device=dev if offload.mode == "none" else _CPU, dtype=dt)
        else:
            pipe = load_or_explain(model, "wan-vace", _load)
        pipe.scheduler = UniPCMultistepScheduler.from_config(pipe.scheduler.config, flow_shift=options.flow_shift)
        pipe.set_progress_bar_config(disable=True)  # the front doors draw their own progress
        _pad_masks_per_reference(pipe)
        _apply_levers(pipe, options, where)
        _place(pipe, offload, dev)
        return cls(pipe, options, dev, offload)

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

    def warms_up(self, request: GenerationRequest) -> bool:
        """Whether running ``request`` first compiles the transformer (``compile = "regional"``: once per size)."""
        return self.options.compile == "regional" and _size(request) not in self.sizes_run

    def generate(
        self, request: GenerationRequest, *, on_step: StepCallback | None = None, output_type: str = "np"
    ) -> Any:
        """Run VACE. Returns uint8 frames ``(num_frames, height, width, 3)``; with ``output_type="latent"`` the
        final latents as a tensor (tests compare those). Exceptions raised by ``on_step`` stop the run.

        Raises :class:`DeviceMemoryError` when the device runs out of memory (its ``stage`` says whether while
        denoising or decoding; see :meth:`lower_memory`), with the memory the failed run held given back."""
        self._check_steps(request.steps)
        kwargs = self.pipeline_kwargs(request)
        denoised = False

        def step_end(pipe: Any, i: int, t: Any, tensors: dict[str, Any]) -> dict[str, Any]:
            nonlocal denoised
            denoised = i + 1 == request.steps
            if on_step is not None:
                on_step(i + 1, request.steps)
            return tensors

        refused = refusal(self.options.cache, request.task) if request.task is not None else None
        try:
            with torch.inference_mode(), cache_suspended(self.pipe) if refused else nullcontext():
                out = self.pipe(**kwargs, output_type=output_type, callback_on_step_end=step_end).frames
        except torch.OutOfMemoryError as e:
            del e  # its traceback holds the failed run's tensors
            if self.device.type == "cuda":
                torch.cuda.empty_cache()
            stage = "decode" if denoised else "denoise"
            raise DeviceMemoryError(
                f"out of {self.device.type.upper()} memory while {'decoding' if denoised else 'denoising'} "
                f"{request.width}x{request.height}x{request.num_frames}",
                stage=stage,
            ) from None
        self.sizes_run.add(_size(request))
        if output_type == "latent":
            return out
        return to_uint8(out[0])

    def _check_steps(self, steps: int) -> None:
        """Refuse a step count the sampler cannot run, before any work. UniPC looks its place up by timestep value,
        and with many steps (from 340 at flow shift 3) rounding gives two steps the same timestep: diffusers then
        fails at the last step (``assert self.this_order > 0``). Raises :class:`ToolError` naming the most that
        work."""
        if steps in self._steps_ok:
            return
        distinct = _distinct_timesteps(self.pipe.scheduler)
        if not distinct(steps):
            most = next(n for n in range(steps - 1, 0, -1) if distinct(n))
            shift = getattr(self.pipe.scheduler.config, "flow_shift", None)
            raise ToolError(
                f"{steps} steps is more than this sampler can run (UniPC, flow shift {shift}: two steps would share a "
                f"timestep); ask for at most {most} steps"
            )
        self._steps_ok.add(steps)

    def lower_memory(self, stage: str) -> str | None:
        """Switch on the memory lever that most helps a run that ran out of memory in ``stage`` (``denoise``:
        group offloading of the models; ``decode``: VAE tiling), or the other one when that is already on.
        Returns what was switched on, or None when both already are."""
        order = ["tiling", "group"] if stage == "decode" else ["group", "tiling"]
        for lever in order:
            if lever == "group" and self.offload.mode != "group":
                if self.offload.mode != "none":  # model/sequential offload hooks and group hooks do not mix
                    self.pipe.remove_all_hooks()
                self.offload = Offload(mode="group")
                _group_offload(self.pipe, self.offload, self.device)
                return "group offloading (blocks moved to the GPU as they run)"
            if lever == "tiling" and not self.pipe.vae.use_tiling:
                self.pipe.vae.enable_tiling()
                return "VAE tiling (the video decoded in tiles)"
        return None


def _size(request: GenerationRequest) -> tuple[int, int, int]:
    return request.height, request.width, request.num_frames


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
    # the cache's hooks go on before compiling, so that the compiled blocks are the hooked ones
    apply_cache(pipe, options.cache, options.parsed_cache_settings(), where)
    if options.compile == "regional":
        # Each repeated block (Wan's 30 and VACE's 15 share two classes) is compiled once, on its first call. Not
        # fullgraph: cache and group-offload hooks wrap the blocks and break the graph, which dynamo then allows.
        pipe.transformer.compile_repeated_blocks(fullgraph=False)
    if options.attention_backend != "native":
        try:
            pipe.transformer.set_attention_backend(options.attention_backend)
        except (ImportError, RuntimeError, ValueError) as e:
            raise ModelUnavailableError(
                f"{where}: attention_backend {options.attention_backend!r} cannot be used here ({one_line(e, 200)}); "
                "use 'native' (works everywhere) or install what it needs"
            ) from None


def _place(pipe: Any, offload: Offload, dev: torch.device) -> None:
    """Put the pipeline on ``dev``, or install the offload hooks that bring each part there when it runs.

    ``model`` and ``sequential`` need a GPU to offload from (on a CPU they place the model as ``none``). Group
    offloading is installed on a CPU too, where its hooks move nothing, so the profile runs the same code there."""
    if offload.mode == "group":
        _group_offload(pipe, offload, dev)
    elif offload.mode == "model" and dev.type != "cpu":
        pipe.enable_model_cpu_offload(device=dev)
    elif offload.mode == "sequential" and dev.type != "cpu":
        pipe.enable_sequential_cpu_offload(device=dev)
    else:
        pipe.to(dev)


def _group_offload(pipe: Any, offload: Offload, dev: torch.device) -> None:
    """Group offloading of every model of the pipeline (as ``pipe.enable_group_offload``, but with the text
    encoder's blocks as groups: see :func:`apply_group_offload`)."""
    for component in pipe.components.values():
        if isinstance(component, torch.nn.Module):
            apply_group_offload(component, offload, dev)


def _distinct_timesteps(scheduler: Any) -> Any:
    """``distinct(n)``: whether ``n`` steps of (a fresh copy of) ``scheduler`` fall on ``n`` different timesteps."""
    fresh = type(scheduler).from_config(scheduler.config)

    def distinct(n: int) -> bool:
        fresh.set_timesteps(n)
        return len(set(fresh.timesteps.tolist())) == len(fresh.timesteps)

    return distinct
