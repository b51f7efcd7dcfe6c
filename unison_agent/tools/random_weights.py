"""Full-size models with random weights: ``random:<arch>`` model ids, built on the target device, no download.

``random:wan2.1-vace-1.3b`` is Wan2.1-VACE-1.3B as diffusers ships it (``Wan-AI/Wan2.1-VACE-1.3B-diffusers``:
``WanVACETransformer3DModel`` with its 15 VACE blocks, the UMT5-XXL text encoder, the Wan 2.1 VAE, UniPC), and
``random:qwen2.5-vl-3b`` is ``Qwen/Qwen2.5-VL-3B-Instruct``, each from its public config written out below, with
random weights. GPU time and memory measured with them are those of the real models, since the compute does not
depend on the values of the weights; only what depends on the values differs (how often a cache hook finds two
steps alike, what the model answers). ``random:<arch>:smoke`` is the same classes and the same layer pattern
scaled down, so that a CPU runs it in seconds (the benchmark's smoke run and the tests use it).

No real tokenizer can be downloaded either, so each model gets a tokenizer trained in-process, as the ``tiny``
models do (:mod:`unison_agent.tools.tiny`), whose ids all lie inside the real vocabulary. For Wan this changes no
compute: its pipeline pads every prompt to 512 tokens, so the text encoder always runs on 512 tokens. For
Qwen2.5-VL the vision tokens are counted by a processor with the real defaults (pixel bounds, patch 14, merge 2,
temporal patch 2); only the text part of a prompt splits into a few more tokens than the real tokenizer makes.

Every tensor is created directly on the target device in its final dtype (torch's default device and dtype are
set while the modules are constructed, and restored afterwards, also on error), so the 5.7B-parameter UMT5-XXL
encoder never exists in float32 on the CPU, and the modules' own initialisers run on the device (fast on a GPU).
As with real weights loaded by ``from_pretrained``, the VAE is float32 and the modules the libraries keep in
float32 (diffusers' ``_keep_in_fp32_modules``, transformers' for float16) are float32; everything else is in the
asked dtype. Builds are seeded, so two builds of one id on one device are equal.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import torch

from unison_agent.errors import ModelUnavailableError
from unison_agent.tools.backends import BACKENDS
from unison_agent.tools.profiles import Profile
from unison_agent.tools.tiny import PREFIX as TINY_PREFIX
from unison_agent.tools.tiny import TINY_MODELS, qwen_vl_tokenizer, umt5_tokenizer

__all__ = [
    "PREFIX",
    "RANDOM_MODELS",
    "SMOKE",
    "build_qwen_vl",
    "build_wan_vace",
    "is_random",
    "needs_gpu",
    "parse",
    "random_weights_profile",
]

PREFIX = "random:"  # a model id that names one of RANDOM_MODELS, e.g. random:wan2.1-vace-1.3b
SMOKE = ":smoke"  # suffix of the scaled-down variant, e.g. random:wan2.1-vace-1.3b:smoke

# --------------------------------------------------------------------------------------------- Wan2.1-VACE-1.3B
# transformer/config.json of Wan-AI/Wan2.1-VACE-1.3B-diffusers, as diffusers' scripts/convert_wan_to_diffusers.py
# writes it (model_type "Wan-VACE-1.3B"); rope_max_seq_len is the class default the conversion keeps. The same
# numbers are in Wan's own config (wan/configs/wan_t2v_1_3B.py: dim 1536 = 12 heads x 128, ffn 8960, 30 layers) and
# in VACE's (vace_layers every other block, vace_in_dim 96 = 16 latent + 16 inactive + 64 mask channels).
WAN_VACE_TRANSFORMER: dict[str, Any] = {
    "patch_size": (1, 2, 2),
    "num_attention_heads": 12,
    "attention_head_dim": 128,
    "in_channels": 16,
    "out_channels": 16,
    "text_dim": 4096,
    "freq_dim": 256,
    "ffn_dim": 8960,
    "num_layers": 30,
    "cross_attn_norm": True,
    "qk_norm": "rms_norm_across_heads",
    "eps": 1e-6,
    "image_dim": None,
    "added_kv_proj_dim": None,
    "rope_max_seq_len": 1024,
    "pos_embed_seq_len": None,
    "vace_layers": [0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28],
    "vace_in_channels": 96,
}
# text_encoder/config.json: google/umt5-xxl's (the conversion script loads it with from_pretrained), encoder only.
UMT5_XXL: dict[str, Any] = {
    "vocab_size": 256384,
    "d_model": 4096,
    "d_kv": 64,
    "d_ff": 10240,
    "num_layers": 24,
    "num_heads": 64,
    "relative_attention_num_buckets": 32,
    "relative_attention_max_distance": 128,
    "feed_forward_proj": "gated-gelu",
    "layer_norm_epsilon": 1e-6,
    "dropout_rate": 0.1,
    "tie_word_embeddings": False,
    "pad_token_id": 0,
    "eos_token_id": 1,
    "decoder_start_token_id": 0,
}
# vae/config.json: the conversion script builds AutoencoderKLWan() with its defaults (latents_mean/std included),
# written out here so that a change of diffusers' defaults cannot change the benchmark silently.
WAN_VAE: dict[str, Any] = {
    "base_dim": 96,
    "z_dim": 16,
    "dim_mult": [1, 2, 4, 4],
    "num_res_blocks": 2,
    "attn_scales": [],
    "temperal_downsample": [False, True, True],
    "dropout": 0.0,
}
# scheduler/scheduler_config.json: UniPC on flow sigmas, flow shift 3 (the conversion script's, for 480p).
WAN_SCHEDULER: dict[str, Any] = {
    "prediction_type": "flow_prediction",
    "use_flow_sigmas": True,
    "num_train_timesteps": 1000,
    "flow_shift": 3.0,
}
# :smoke -- the same classes, 4 blocks with VACE on every other one (as 30 with 15), tiny widths.
WAN_VACE_TRANSFORMER_SMOKE = {
    **WAN_VACE_TRANSFORMER,
    "num_attention_heads": 2,
    "attention_head_dim": 16,
    "text_dim": 32,
    "ffn_dim": 64,
    "num_layers": 4,
    "vace_layers": [0, 2],
}
UMT5_SMOKE = {**UMT5_XXL, "d_model": 32, "d_kv": 8, "d_ff": 64, "num_layers": 2, "num_heads": 4}
WAN_VAE_SMOKE = {**WAN_VAE, "base_dim": 4, "dim_mult": [1, 1, 1, 1], "num_res_blocks": 1}

# ------------------------------------------------------------------------------------------ Qwen2.5-VL-3B-Instruct
# config.json of Qwen/Qwen2.5-VL-3B-Instruct (its published copy; the token ids are left out: they come from the
# tokenizer built here). The old "rope_scaling": {"type": "mrope", "mrope_section": [16, 24, 24]} is what
# transformers 5 reads as rope_parameters; tie_word_embeddings is true (the 3B shares embedding and LM head).
QWEN_VL_TEXT: dict[str, Any] = {
    "vocab_size": 151936,
    "hidden_size": 2048,
    "intermediate_size": 11008,
    "num_hidden_layers": 36,
    "num_attention_heads": 16,
    "num_key_value_heads": 2,
    "hidden_act": "silu",
    "max_position_embeddings": 128000,
    "max_window_layers": 70,
    "rms_norm_eps": 1e-6,
    "sliding_window": 32768,
    "use_sliding_window": False,
    "attention_dropout": 0.0,
    "initializer_range": 0.02,
    "rope_parameters": {"rope_type": "default", "mrope_section": [16, 24, 24], "rope_theta": 1000000.0},
}
QWEN_VL_VISION: dict[str, Any] = {
    "depth": 32,
    "hidden_act": "silu",
    "hidden_size": 1280,
    "intermediate_size": 3420,
    "num_heads": 16,
    "in_chans": 3,
    "out_hidden_size": 2048,
    "patch_size": 14,
    "spatial_merge_size": 2,
    "window_size": 112,
    "fullatt_block_indexes": [7, 15, 23, 31],
    "tokens_per_second": 2,
    "temporal_patch_size": 2,
}
# preprocessor_config.json of Qwen/Qwen2.5-VL-3B-Instruct: min_pixels 56 x 56, max_pixels 12845056 (16384 patches of
# 28 x 28), patch 14, merge 2, temporal patch 2 (the mean/std are the processors' CLIP defaults). The repository has
# no video_preprocessor_config.json, so transformers loads its video processor from this file too.
QWEN_VL_PIXELS: dict[str, Any] = {
    "min_pixels": 3136,
    "max_pixels": 12845056,
    "patch_size": 14,
    "merge_size": 2,
    "temporal_patch_size": 2,
}
# :smoke -- the same classes, 2 text layers, 4 vision blocks with full attention every other one (as every 8th).
QWEN_VL_TEXT_SMOKE = {
    **QWEN_VL_TEXT,
    "hidden_size": 32,
    "intermediate_size": 64,
    "num_hidden_layers": 2,
    "num_attention_heads": 4,
    "num_key_value_heads": 2,
    "rope_parameters": {"rope_type": "default", "mrope_section": [1, 1, 2], "rope_theta": 1000000.0},
}
QWEN_VL_VISION_SMOKE = {
    **QWEN_VL_VISION,
    "depth": 4,
    "hidden_size": 32,
    "intermediate_size": 64,
    "num_heads": 4,
    "out_hidden_size": 32,
    "fullatt_block_indexes": [1, 3],
}


def is_random(model: str) -> bool:
    """Whether ``model`` is a ``random:`` id (one of :data:`RANDOM_MODELS`, full size or ``:smoke``)."""
    return model.startswith(PREFIX)


def parse(model: str) -> tuple[str, bool]:
    """``(arch, smoke)`` of a ``random:<arch>[:smoke]`` id. Raises ModelUnavailableError for any other id."""
    name = model.removeprefix(PREFIX)
    smoke = name.endswith(SMOKE)
    arch = name.removesuffix(SMOKE)
    if not is_random(model) or arch not in RANDOM_MODELS:
        known = ", ".join(f"{PREFIX}{a}" for a in sorted(RANDOM_MODELS))
        raise ModelUnavailableError(
            f"unknown random-weight model {model!r}; known: {known} (each also as <id>{SMOKE}, scaled down for a CPU)"
        )
    return arch, smoke


def needs_gpu(model_id: str, run_device: torch.device) -> None:
    """Refuse a full-size ``random:`` model that would run on a CPU: the 5.7B-parameter text encoder alone takes
    23 GB in float32 (a CPU's default dtype) and a step at 832x480x81 takes many minutes there. Raises
    ModelUnavailableError saying what to use instead; a ``:smoke`` model passes."""
    arch, smoke = parse(model_id)
    if not smoke and run_device.type not in ("cuda", "mps"):
        raise ModelUnavailableError(
            f"{model_id} is the full-size model with random weights, for measuring a GPU, and this run is on the "
            f"{run_device.type.upper()}; use {PREFIX}{arch}{SMOKE} (scaled down) or --profile tiny here"
        )


def build_wan_vace(model_id: str, *, device: torch.device, dtype: torch.dtype) -> Any:
    """A ``WanVACEPipeline`` with random weights for ``random:wan2.1-vace-1.3b[:smoke]``: VAE in float32, the rest
    in ``dtype`` (diffusers' float32 modules in float32), every tensor created on ``device``. Raises
    ModelUnavailableError when ``model_id`` is not a Wan-VACE ``random:`` id."""
    from diffusers import AutoencoderKLWan, UniPCMultistepScheduler, WanVACEPipeline, WanVACETransformer3DModel
    from transformers import UMT5Config, UMT5EncoderModel

    smoke = _expect(model_id, "wan2.1-vace-1.3b")
    tokenizer = umt5_tokenizer()
    with _seeded(device):
        with _creating(device, dtype):
            encoder_config = UMT5Config(**(UMT5_SMOKE if smoke else UMT5_XXL))
            text_encoder = UMT5EncoderModel(encoder_config).eval()
            transformer: Any = WanVACETransformer3DModel(
                **(WAN_VACE_TRANSFORMER_SMOKE if smoke else WAN_VACE_TRANSFORMER)
            )
        with _creating(device, torch.float32):
            vae: Any = AutoencoderKLWan(**(WAN_VAE_SMOKE if smoke else WAN_VAE))
    _keep_in_fp32(transformer, transformer._keep_in_fp32_modules or [])
    _keep_in_fp32(text_encoder, _transformers_fp32_modules(text_encoder, dtype))
    scheduler = UniPCMultistepScheduler(**WAN_SCHEDULER)
    return WanVACEPipeline(
        tokenizer=tokenizer,
        text_encoder=text_encoder,
        vae=vae.eval(),
        scheduler=scheduler,
        transformer=transformer.eval(),
    )


def build_qwen_vl(model_id: str, *, device: torch.device, dtype: torch.dtype) -> tuple[Any, Any]:
    """``(model, processor)`` with random weights for ``random:qwen2.5-vl-3b[:smoke]``: a
    ``Qwen2_5_VLForConditionalGeneration`` in ``dtype`` with every tensor created on ``device``, and a
    ``Qwen2_5_VLProcessor`` with the real image/video processor defaults. Raises ModelUnavailableError when
    ``model_id`` is not a Qwen2.5-VL ``random:`` id."""
    from transformers import Qwen2_5_VLConfig, Qwen2_5_VLForConditionalGeneration
    from transformers.models.qwen2_5_vl import Qwen2_5_VLProcessor
    from transformers.models.qwen2_vl import Qwen2VLImageProcessor
    from transformers.models.qwen2_vl.video_processing_qwen2_vl import Qwen2VLVideoProcessor

    smoke = _expect(model_id, "qwen2.5-vl-3b")
    tokenizer = qwen_vl_tokenizer()
    names = ("<|endoftext|>", "<|im_end|>", "<|image_pad|>", "<|video_pad|>", "<|vision_start|>", "<|vision_end|>")
    ids = {t: int(tokenizer.convert_tokens_to_ids(t)) for t in names}
    text = QWEN_VL_TEXT_SMOKE if smoke else QWEN_VL_TEXT
    config = Qwen2_5_VLConfig(
        text_config={
            **text,
            "bos_token_id": ids["<|endoftext|>"],
            "eos_token_id": ids["<|im_end|>"],
            "pad_token_id": ids["<|endoftext|>"],
        },
        vision_config=QWEN_VL_VISION_SMOKE if smoke else QWEN_VL_VISION,
        image_token_id=ids["<|image_pad|>"],
        video_token_id=ids["<|video_pad|>"],
        vision_start_token_id=ids["<|vision_start|>"],
        vision_end_token_id=ids["<|vision_end|>"],
        tie_word_embeddings=True,
    )
    with _seeded(device), _creating(device, dtype):
        model = Qwen2_5_VLForConditionalGeneration(config)
    _keep_in_fp32(model, _transformers_fp32_modules(model, dtype))
    model.generation_config.pad_token_id = ids["<|endoftext|>"]
    processor = Qwen2_5_VLProcessor(
        image_processor=Qwen2VLImageProcessor(**QWEN_VL_PIXELS),
        tokenizer=tokenizer,
        video_processor=Qwen2VLVideoProcessor(**QWEN_VL_PIXELS),
        chat_template=tokenizer.chat_template,
    )
    return model.eval(), processor


RANDOM_MODELS: dict[str, Callable[..., Any]] = {
    "wan2.1-vace-1.3b": build_wan_vace,
    "qwen2.5-vl-3b": build_qwen_vl,
}
# The architecture that stands in for each backend's models in random_weights_profile.
_ARCH_OF_BACKEND = {"wan-vace": "wan2.1-vace-1.3b", "qwen-vl": "qwen2.5-vl-3b"}


def random_weights_profile(profile: Profile, *, smoke: bool = False) -> Profile:
    """``profile`` with each model replaced by random weights: every ``wan-vace`` and ``qwen-vl`` entry by its
    full-size ``random:`` architecture (``smoke``: the ``:smoke`` variant), every extractor by its ``tiny:`` model;
    device, dtype, offload, levers and options stay as they are. Named ``<name>+random``. Raises
    ModelUnavailableError for a backend that has neither."""
    models: dict[str, Any] = {}
    for key, entry in profile.models.items():
        arch = _ARCH_OF_BACKEND.get(entry.backend)
        if arch is not None:
            model = f"{PREFIX}{arch}{SMOKE if smoke else ''}"
        elif BACKENDS[entry.backend].family == "extractor" and entry.backend in TINY_MODELS:
            model = f"{TINY_PREFIX}{entry.backend}"
        else:
            raise ModelUnavailableError(
                f"models.{key}: no random-weight model for backend {entry.backend!r}; "
                f"known: {', '.join(sorted(_ARCH_OF_BACKEND))} and the extractors"
            )
        models[key] = {**entry.model_dump(), "model": model}
    data = profile.model_dump()
    data.update(name=f"{profile.name}+random", models=models)
    return Profile.model_validate(data)


def _expect(model_id: str, arch: str) -> bool:
    found, smoke = parse(model_id)
    if found != arch:
        raise ModelUnavailableError(f"{model_id!r} is not a {PREFIX}{arch} model (it names {found!r})")
    return smoke


@contextmanager
def _seeded(device: torch.device) -> Iterator[None]:
    """Seed 0 for the build, without disturbing the caller's random state (CPU, and ``device``'s if it is CUDA)."""
    devices = [device] if device.type == "cuda" else []
    with torch.random.fork_rng(devices=devices):
        torch.manual_seed(0)
        yield


@contextmanager
def _creating(device: torch.device, dtype: torch.dtype) -> Iterator[None]:
    """Modules constructed inside are created on ``device`` in ``dtype`` and initialised there. Torch's default
    dtype is process-wide, so models are built one at a time (the model pool's loader thread does)."""
    previous = torch.get_default_dtype()
    torch.set_default_dtype(dtype)
    try:
        with torch.device(device):
            yield
    finally:
        torch.set_default_dtype(previous)


def _keep_in_fp32(model: torch.nn.Module, names: list[str] | set[str]) -> None:
    """Cast to float32 the parameters inside modules named ``names``, as the loaders do with real weights (a
    name matches one component of the dotted parameter name, as in diffusers' ``load_model_dict_into_meta``)."""
    if not names:
        return
    for name, param in model.named_parameters():
        if param.is_floating_point() and any(part in names for part in name.split(".")):
            param.data = param.data.to(torch.float32)


def _transformers_fp32_modules(model: Any, dtype: torch.dtype) -> set[str]:
    """The modules transformers' ``from_pretrained`` keeps in float32 for ``dtype`` (``_get_dtype_plan``):
    ``_keep_in_fp32_modules`` under float16 only, ``_keep_in_fp32_modules_strict`` under float16 and bfloat16."""
    names: set[str] = set()
    if dtype == torch.float16:
        names |= set(getattr(model, "_keep_in_fp32_modules", None) or ())
    if dtype in (torch.float16, torch.bfloat16):
        names |= set(getattr(model, "_keep_in_fp32_modules_strict", None) or ())
    return names
