"""The ``tiny`` profile's models (``tiny:<name>`` ids, used by the profiles, the tests and the demo): the real
classes with tiny configs and random weights, built locally.

No model hub is needed: each model is built from a config, with a tokenizer trained in-process by
``tokenizers``, saved with ``save_pretrained`` into the cache, and then loaded by the backends through the same
``from_pretrained`` path a real model takes. Builds are deterministic (fixed seeds, fixed corpus) and atomic (a
temporary folder renamed into place), so parallel first uses cannot leave a half-written model behind.

The cache lives in ``$UNISON_CACHE`` (default ``~/.cache/unison-agent``), under ``tiny/<name>-v<N>``.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from unison_agent.errors import ModelUnavailableError

__all__ = ["PREFIX", "TINY_MODELS", "cache_dir", "ensure_tiny", "qwen_vl_tokenizer", "resolve", "umt5_tokenizer"]

PREFIX = "tiny:"  # a model id that names one of TINY_MODELS, e.g. tiny:wan-vace

_VERSION = 1  # bump when a config below changes, so stale caches are not reused
_CORPUS = [
    "a red fox runs through the snow at dawn",
    "a cat sleeps on a sofa next to a window",
    "make it winter and add falling snow",
    "what is in this picture and what colour is it",
    "describe the video and count the people",
    "the quick brown fox jumps over the lazy dog",
    "a portrait of a woman in a garden, oil painting",
    "turn the sky purple and keep the house",
]


def cache_dir() -> Path:
    """Root of the local model cache (``$UNISON_CACHE`` or ``~/.cache/unison-agent``)."""
    env = os.environ.get("UNISON_CACHE")
    if env:
        return Path(env).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "unison-agent"


def resolve(model: str) -> str:
    """The folder to load for ``model``: a ``tiny:<name>`` id is built into the cache on first use (see
    :func:`ensure_tiny`); any other id or path is returned as it is. Every loader of a model id calls this first
    (the model pool, the planner models), so that the backends never need to know the ``tiny`` profile."""
    if model.startswith(PREFIX):
        return str(ensure_tiny(model.removeprefix(PREFIX)))
    return model


def ensure_tiny(name: str) -> Path:
    """The folder of tiny model ``name``, building it on first use. Raises ModelUnavailableError for an
    unknown name."""
    if name not in TINY_MODELS:
        raise ModelUnavailableError(f"unknown tiny model {name!r}; known: {', '.join(sorted(TINY_MODELS))}")
    target = cache_dir() / "tiny" / f"{name}-v{_VERSION}"
    if (target / ".complete").exists():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{name}-", dir=target.parent))
    try:
        import torch

        from unison_agent.tools.backends.torch_env import quiet_loading

        with torch.random.fork_rng(devices=[]), quiet_loading():
            torch.manual_seed(0)
            TINY_MODELS[name](tmp)
        (tmp / ".complete").write_text("built by unison_agent.tools.tiny\n")
        try:
            tmp.rename(target)
        except OSError:  # another process finished first; its copy is identical
            if not (target / ".complete").exists():
                shutil.rmtree(target, ignore_errors=True)
                tmp.rename(target)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return target


def umt5_tokenizer() -> Any:
    """A T5-style (Unigram, metaspace) tokenizer, as UMT5's is, trained here on a few sentences: 256 ids, ``<pad>``
    = 0, ``</s>`` = 1 (appended to every text), prompts padded up to 512 tokens as Wan's pipeline asks."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.Unigram())
    tok.pre_tokenizer = pre_tokenizers.Metaspace()
    tok.decoder = decoders.Metaspace()
    tok.train_from_iterator(
        _CORPUS * 4,
        trainers.UnigramTrainer(
            vocab_size=256, special_tokens=["<pad>", "</s>", "<unk>"], unk_token="<unk>", show_progress=False
        ),
    )
    tok.post_processor = processors.TemplateProcessing(single="$A </s>", special_tokens=[("</s>", 1)])
    return PreTrainedTokenizerFast(
        tokenizer_object=tok, pad_token="<pad>", eos_token="</s>", unk_token="<unk>", model_max_length=512
    )


def _build_wan_vace(path: Path) -> None:
    from diffusers import AutoencoderKLWan, UniPCMultistepScheduler, WanVACEPipeline, WanVACETransformer3DModel
    from transformers import UMT5Config, UMT5EncoderModel

    tokenizer = umt5_tokenizer()
    text_encoder = UMT5EncoderModel(
        UMT5Config(
            vocab_size=len(tokenizer),
            d_model=32,
            d_kv=8,
            d_ff=64,
            num_layers=2,
            num_heads=4,
            relative_attention_num_buckets=8,
            pad_token_id=0,
            eos_token_id=1,
            decoder_start_token_id=0,
        )
    )
    vae = AutoencoderKLWan(
        base_dim=3, z_dim=16, dim_mult=[1, 1, 1, 1], num_res_blocks=1, temperal_downsample=[False, True, True]
    )
    transformer = WanVACETransformer3DModel(
        patch_size=(1, 2, 2),
        num_attention_heads=2,
        attention_head_dim=12,
        in_channels=16,
        out_channels=16,
        text_dim=32,
        freq_dim=256,
        ffn_dim=32,
        num_layers=3,
        cross_attn_norm=True,
        qk_norm="rms_norm_across_heads",
        rope_max_seq_len=1024,  # as the real model: enough rotary positions for 4096-px sides
        vace_layers=[0, 2],
        vace_in_channels=96,
    )
    scheduler = UniPCMultistepScheduler(prediction_type="flow_prediction", use_flow_sigmas=True, flow_shift=3.0)
    pipe: Any = WanVACEPipeline(
        tokenizer=tokenizer, text_encoder=text_encoder, vae=vae, scheduler=scheduler, transformer=transformer
    )
    pipe.save_pretrained(path)


_QWEN_SPECIALS = [
    "<|endoftext|>",
    "<|im_start|>",
    "<|im_end|>",
    "<|vision_start|>",
    "<|vision_end|>",
    "<|image_pad|>",
    "<|video_pad|>",
]
# Qwen2.5-VL's chat layout (system/user/assistant turns, vision placeholders), reduced to what we send.
_QWEN_TEMPLATE = (
    "{% for message in messages %}<|im_start|>{{ message['role'] }}\n"
    "{% if message['content'] is string %}{{ message['content'] }}{% else %}{% for c in message['content'] %}"
    "{% if c['type'] == 'image' %}<|vision_start|><|image_pad|><|vision_end|>"
    "{% elif c['type'] == 'video' %}<|vision_start|><|video_pad|><|vision_end|>"
    "{% elif c['type'] == 'text' %}{{ c['text'] }}{% endif %}{% endfor %}{% endif %}<|im_end|>\n{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)


def _bpe_tokenizer(specials: list[str], chat_template: str) -> Any:
    """A byte-level BPE tokenizer trained here on a few sentences (any text still encodes, byte by byte), with
    ``<|im_end|>`` ending a turn and a chat template."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    tok.train_from_iterator(
        _CORPUS * 4,
        trainers.BpeTrainer(
            vocab_size=400,
            special_tokens=specials,
            initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
            show_progress=False,  # its bar writes blank lines to stdout, which is the MCP stdio channel
        ),
    )
    return PreTrainedTokenizerFast(
        tokenizer_object=tok, eos_token="<|im_end|>", pad_token="<|endoftext|>", chat_template=chat_template
    )


# A plain chat layout (system/user/assistant turns), for the tiny chat model the `transformers` planner runs.
_CHAT_TEMPLATE = (
    "{% for message in messages %}<|im_start|>{{ message['role'] }}\n{{ message['content'] }}<|im_end|>\n"
    "{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)


def _build_chat_lm(path: Path) -> None:
    """A tiny Llama chat model: ``llm:transformers:tiny:chat-lm`` runs the local provider offline."""
    from transformers import LlamaConfig, LlamaForCausalLM

    specials = _QWEN_SPECIALS[:3]  # <|endoftext|> <|im_start|> <|im_end|>
    tokenizer = _bpe_tokenizer(specials, _CHAT_TEMPLATE)
    ids = {s: int(tokenizer.convert_tokens_to_ids(s)) for s in specials}
    config = LlamaConfig(
        vocab_size=len(tokenizer),
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=8192,
        bos_token_id=ids["<|endoftext|>"],
        eos_token_id=ids["<|im_end|>"],
        pad_token_id=ids["<|endoftext|>"],
    )
    LlamaForCausalLM(config).save_pretrained(path)
    tokenizer.save_pretrained(path)


def qwen_vl_tokenizer() -> Any:
    """A byte-level BPE tokenizer with Qwen2.5-VL's special tokens (turns, vision placeholders) and its chat layout
    (``chat_template``), trained here on a few sentences; the ids of its tokens are below 500."""
    return _bpe_tokenizer(_QWEN_SPECIALS, _QWEN_TEMPLATE)


def _build_qwen_vl(path: Path, extra_special_tokens: tuple[str, ...] = ()) -> None:
    from transformers import Qwen2_5_VLConfig, Qwen2_5_VLForConditionalGeneration
    from transformers.models.qwen2_5_vl import Qwen2_5_VLProcessor
    from transformers.models.qwen2_vl import Qwen2VLImageProcessor
    from transformers.models.qwen2_vl.video_processing_qwen2_vl import Qwen2VLVideoProcessor

    tokenizer = qwen_vl_tokenizer()
    if extra_special_tokens:  # before the config reads len(tokenizer), so the embeddings have their rows
        tokenizer.add_special_tokens({"extra_special_tokens": list(extra_special_tokens)})
    ids = {s: int(tokenizer.convert_tokens_to_ids(s)) for s in _QWEN_SPECIALS}
    config = Qwen2_5_VLConfig(
        text_config={
            "vocab_size": len(tokenizer),
            "hidden_size": 32,
            "intermediate_size": 64,
            "num_hidden_layers": 2,
            "num_attention_heads": 4,
            "num_key_value_heads": 2,
            "max_position_embeddings": 8192,
            "rope_parameters": {"rope_type": "default", "mrope_section": [1, 1, 2], "rope_theta": 10000.0},
            "bos_token_id": ids["<|endoftext|>"],
            "eos_token_id": ids["<|im_end|>"],
            "pad_token_id": ids["<|endoftext|>"],
        },
        vision_config={
            "depth": 2,
            "hidden_size": 32,
            "intermediate_size": 64,
            "num_heads": 4,
            "out_hidden_size": 32,
            "fullatt_block_indexes": [1],
            "window_size": 112,
            "patch_size": 14,
            "spatial_merge_size": 2,
            "temporal_patch_size": 2,
        },
        image_token_id=ids["<|image_pad|>"],
        video_token_id=ids["<|video_pad|>"],
        vision_start_token_id=ids["<|vision_start|>"],
        vision_end_token_id=ids["<|vision_end|>"],
    )
    Qwen2_5_VLForConditionalGeneration(config).save_pretrained(path)
    # Few pixels per picture keep the tiny model's sequences short (the real processor allows ~12.8 MP).
    pixels = {"min_pixels": 28 * 28 * 4, "max_pixels": 28 * 28 * 16}
    processor = Qwen2_5_VLProcessor(
        image_processor=Qwen2VLImageProcessor(**pixels),
        tokenizer=tokenizer,
        video_processor=Qwen2VLVideoProcessor(**pixels),
        chat_template=_QWEN_TEMPLATE,
    )
    processor.save_pretrained(path)


def _build_unison_planner(path: Path) -> None:
    """The tiny Qwen2.5-VL with Unison's special tokens registered, as Unison's LoRA merge registers them."""
    from unison_agent.planning.signal_tokens import SPECIAL_TOKENS

    _build_qwen_vl(path, SPECIAL_TOKENS)


def _build_depth(path: Path) -> None:
    from transformers import DepthAnythingConfig, DepthAnythingForDepthEstimation, Dinov2Config, DPTImageProcessor

    backbone_args: dict[str, Any] = {
        "hidden_size": 32,
        "num_hidden_layers": 4,
        "num_attention_heads": 2,
        "intermediate_size": 64,
        "patch_size": 14,
        "out_features": ["stage1", "stage2", "stage3", "stage4"],
        "reshape_hidden_states": False,
    }
    backbone = Dinov2Config(**backbone_args)
    config = DepthAnythingConfig(
        backbone_config=backbone,
        reassemble_hidden_size=32,
        neck_hidden_sizes=[8, 16, 32, 32],
        fusion_hidden_size=16,
        head_hidden_size=8,
        patch_size=14,
        depth_estimation_type="relative",
    )
    DepthAnythingForDepthEstimation(config).save_pretrained(path)
    DPTImageProcessor(
        size={"height": 70, "width": 70},
        keep_aspect_ratio=True,
        ensure_multiple_of=14,
        image_mean=[0.485, 0.456, 0.406],
        image_std=[0.229, 0.224, 0.225],
    ).save_pretrained(path)


def _build_pose(path: Path) -> None:
    from unison_agent.tools.backends.pose import build_tiny

    build_tiny(path)


def _build_flow(path: Path) -> None:
    from unison_agent.tools.backends.flow import build_tiny

    build_tiny(path)


TINY_MODELS: dict[str, Callable[[Path], None]] = {
    "wan-vace": _build_wan_vace,
    "qwen-vl": _build_qwen_vl,
    "unison-planner": _build_unison_planner,
    "chat-lm": _build_chat_lm,
    "depth": _build_depth,
    "pose": _build_pose,
    "flow": _build_flow,
}
