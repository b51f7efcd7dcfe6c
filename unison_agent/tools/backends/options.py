"""Each backend's options: the ``options`` table of a profile's model entry, validated by these models."""

from __future__ import annotations

from typing import Any, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, model_validator

from unison_agent.tools.backends.caches import CacheName, cache_settings

__all__ = [
    "ATTENTION_BACKENDS",
    "DepthOptions",
    "FlowOptions",
    "Offload",
    "PoseOptions",
    "QwenVLOptions",
    "VaceOptions",
]

# diffusers' attention backends that run from an installed package (no kernel downloaded from the hub at run
# time): native is PyTorch's scaled_dot_product_attention; flash/flash_varlen need flash-attn, sage/sage_varlen
# sageattention, xformers xformers (all CUDA); flex is PyTorch's flex_attention.
AttentionBackend = Literal["native", "flash", "flash_varlen", "flex", "sage", "sage_varlen", "xformers"]
ATTENTION_BACKENDS: tuple[str, ...] = get_args(AttentionBackend)


class Offload(BaseModel):
    """Where a profile's weights wait while not computing (the profile's ``offload`` key: a mode name, or a table
    with ``mode`` and the group settings). Off a GPU there is nothing to offload to, and every mode places the
    model as ``none`` does, except ``group``, which installs its hooks on the CPU too (they then move nothing)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    mode: Literal["none", "model", "sequential", "group"] = Field(
        default="none",
        description="none: all on the device; model: whole models moved to the GPU in turn; sequential: layer by "
        "layer (least memory, slowest); group: groups of blocks moved just before they run (diffusers' group "
        "offloading; close to sequential's memory at a fraction of its cost, best with CUDA streams)",
    )
    level: Literal["block", "leaf"] = Field(
        default="block",
        description="group mode: move groups of transformer blocks (block) or every leaf layer on its own (leaf: "
        "least memory; with streams, about as fast as block)",
    )
    blocks_per_group: int = Field(default=1, ge=1, le=64, description="group mode, block level: blocks per group")
    use_stream: bool = Field(
        default=True,
        description="group mode: prefetch the next group on a CUDA stream while this one computes (CUDA only; "
        "needs pinned CPU memory about the size of the model)",
    )


class VaceOptions(BaseModel):
    """Options of the ``wan-vace`` backend; the spec's own steps/guidance/negative prompt win over these."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    steps: int = Field(default=50, ge=1, le=500)
    guidance_scale: float = Field(default=5.0, ge=0, le=50)
    flow_shift: float = Field(default=3.0, gt=0, description="UniPC flow shift: 3 for 480p, 5 for 720p (Wan's advice)")
    negative_prompt: str = ""
    conditioning_scale: float = Field(default=1.0, ge=0, le=4, description="strength of VACE's conditioning")
    # Memory and speed levers (diffusers' own). None changes what is conditioned on or the latents made.
    vae_tiling: bool = Field(
        default=False,
        description="decode the VAE in overlapping tiles: much less memory at 720p and above, a little slower",
    )
    vae_slicing: bool = Field(
        default=False, description="decode several outputs of one request one at a time: less peak memory"
    )
    attention_backend: AttentionBackend = Field(
        default="native",
        description="the transformer's attention kernel (diffusers' set_attention_backend); all but native and flex "
        "need their package and a CUDA GPU, checked when the model loads",
    )
    cache: CacheName = Field(
        default="none",
        description="reuse transformer work across denoising steps (diffusers' cache hooks): first_block, "
        "taylorseer, pyramid_attention, mag (needs mag_ratios: `unison calibrate`), faster; a cache that would "
        "spoil a task's conditioning is not used for that task (the output's notes say so)",
    )
    cache_settings: dict[str, Any] = Field(
        default_factory=dict, description="the chosen cache's own settings (see the README's levers table)"
    )
    compile: Literal["none", "regional"] = Field(
        default="none",
        description="regional: torch.compile each repeated transformer block once (diffusers' "
        "compile_repeated_blocks): faster steps after a one-off compile on the first run of each size",
    )

    @model_validator(mode="after")
    def _cache_settings_fit(self) -> VaceOptions:
        cache_settings(self.cache, self.cache_settings)  # raises ValueError naming the key and what is allowed
        return self

    def parsed_cache_settings(self) -> BaseModel | None:
        """The cache's settings as its own model (defaults filled), or None without a cache."""
        return cache_settings(self.cache, self.cache_settings)


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
