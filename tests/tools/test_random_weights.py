"""``random:`` models: the real architectures at full size from their public configs, random weights, built on
the target device in the asked dtype. Full size is built on the ``meta`` device (no memory, no compute) and
counted against the public configs by formula; the ``:smoke`` variants are built on the CPU and run."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import torch
from PIL import Image
from torch.utils._python_dispatch import TorchDispatchMode

from unison_agent.spec import Task
from unison_agent.tools import ModelUnavailableError, load_profile
from unison_agent.tools.random_weights import (
    QWEN_VL_TEXT,
    QWEN_VL_VISION,
    UMT5_XXL,
    WAN_VACE_TRANSFORMER,
    build_qwen_vl,
    build_wan_vace,
    parse,
    random_weights_profile,
)

META = torch.device("meta")
CPU = torch.device("cpu")


class _NewTensors(TorchDispatchMode):
    """Records ``(dtype, numel)`` of every tensor an op allocates (views and in-place ops allocate nothing)."""

    def __init__(self) -> None:
        super().__init__()
        self.made: list[tuple[torch.dtype, int]] = []

    def __torch_dispatch__(self, func: Any, types: Any, args: Any = (), kwargs: Any = None) -> Any:
        out = func(*args, **(kwargs or {}))
        if not func.is_view and not func._schema.name.endswith("_"):
            for t in out if isinstance(out, (tuple, list)) else [out]:
                if isinstance(t, torch.Tensor):
                    self.made.append((t.dtype, t.numel()))
        return out


def _count(module: torch.nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


@pytest.fixture(scope="module")
def wan_full() -> Iterator[tuple[Any, _NewTensors]]:
    with _NewTensors() as made:
        pipe = build_wan_vace("random:wan2.1-vace-1.3b", device=META, dtype=torch.bfloat16)
    yield pipe, made


@pytest.mark.slow  # the full-size build on meta (shared by the module) takes ~5-10 s
def test_umt5_xxl_encoder_has_the_parameters_of_its_public_config(wan_full: tuple[Any, _NewTensors]) -> None:
    c = UMT5_XXL
    d, inner = c["d_model"], c["num_heads"] * c["d_kv"]
    per_layer = (
        4 * d * inner  # q, k, v, o (no biases in T5)
        + c["relative_attention_num_buckets"] * c["num_heads"]  # UMT5: a relative position bias in every layer
        + 2 * d  # two RMS norms
        + 3 * d * c["d_ff"]  # gated-gelu: wi_0, wi_1, wo
    )
    expected = c["vocab_size"] * d + c["num_layers"] * per_layer + d  # embeddings, layers, final norm
    assert expected == 5_680_910_336
    assert _count(wan_full[0].text_encoder) == expected


@pytest.mark.slow  # the full-size build on meta (shared by the module) takes ~5-10 s
def test_wan_vace_transformer_has_the_parameters_of_its_public_config(wan_full: tuple[Any, _NewTensors]) -> None:
    c = WAN_VACE_TRANSFORMER
    dim, ffn = c["num_attention_heads"] * c["attention_head_dim"], c["ffn_dim"]
    patch = c["patch_size"][0] * c["patch_size"][1] * c["patch_size"][2]
    linear = dim * dim + dim
    block = (
        8 * linear  # self- and cross-attention: q, k, v, out
        + 4 * dim  # RMS norms of q and k in both attentions
        + 2 * dim  # the cross-attention norm (cross_attn_norm: affine)
        + dim * ffn
        + ffn
        + ffn * dim
        + dim  # feed-forward
        + 6 * dim  # scale_shift_table
    )
    vace_blocks = len(c["vace_layers"]) * (block + linear) + linear  # each has proj_out, the first also proj_in
    embeddings = (
        c["in_channels"] * patch * dim
        + dim  # patch_embedding
        + c["vace_in_channels"] * patch * dim
        + dim  # vace_patch_embedding
        + c["freq_dim"] * dim
        + dim
        + linear  # time_embedder
        + dim * 6 * dim
        + 6 * dim  # time_proj
        + c["text_dim"] * dim
        + dim
        + linear  # text_embedder
    )
    head = dim * c["out_channels"] * patch + c["out_channels"] * patch + 2 * dim  # proj_out, scale_shift_table
    expected = embeddings + c["num_layers"] * block + vace_blocks + head
    assert _count(wan_full[0].transformer) == expected


@pytest.mark.slow  # the full-size build on meta (shared by the module) takes ~5-10 s
def test_full_wan_vace_has_the_real_vace_block_pattern(wan_full: tuple[Any, _NewTensors]) -> None:
    transformer = wan_full[0].transformer
    assert transformer.config.vace_layers == list(range(0, 30, 2))
    assert len(transformer.blocks) == 30
    assert len(transformer.vace_blocks) == 15
    assert transformer.config.vace_in_channels == 96
    assert wan_full[0].tokenizer.model_max_length == 512  # prompts padded to 512 tokens: the real encoder compute


@pytest.mark.slow  # the full-size build on meta (shared by the module) takes ~5-10 s
def test_full_wan_vace_is_built_in_the_asked_dtype_and_never_in_float32_first(
    wan_full: tuple[Any, _NewTensors],
) -> None:
    pipe, made = wan_full
    assert {p.dtype for p in pipe.text_encoder.parameters()} == {torch.bfloat16}
    assert {p.dtype for p in pipe.vae.parameters()} == {torch.float32}  # as the backend loads real weights
    keep = set(pipe.transformer._keep_in_fp32_modules)
    for name, param in pipe.transformer.named_parameters():
        in_fp32_module = bool(keep & set(name.split(".")))
        assert param.dtype == (torch.float32 if in_fp32_module else torch.bfloat16), name
    # Nothing big was ever allocated in float32: a UMT5 layer's smallest matrix has 16.7M elements, a Wan block's
    # feed-forward 13.8M; the largest float32 tensors are the VAE's convolutions (4.0M) and the kept modules (2.4M).
    largest_fp32 = max(n for dtype, n in made.made if dtype == torch.float32)
    assert largest_fp32 <= 4_000_000
    assert all(p.device.type == "meta" for p in pipe.transformer.parameters())


@pytest.mark.slow
def test_qwen_vl_3b_has_the_parameters_of_its_public_config_in_bfloat16() -> None:
    with _NewTensors() as made:
        model, processor = build_qwen_vl("random:qwen2.5-vl-3b", device=META, dtype=torch.bfloat16)
    t, v = QWEN_VL_TEXT, QWEN_VL_VISION
    h, i = t["hidden_size"], t["intermediate_size"]
    kv = t["num_key_value_heads"] * h // t["num_attention_heads"]
    text_layer = h * h + h + 2 * (h * kv + kv) + h * h + 3 * h * i + 2 * h  # q, k, v (biased), o, mlp, norms
    text = t["vocab_size"] * h + t["num_hidden_layers"] * text_layer + h  # lm_head tied to the embeddings
    hv, iv = v["hidden_size"], v["intermediate_size"]
    vision_block = 2 * hv + 3 * hv * hv + 3 * hv + hv * hv + hv + 2 * (hv * iv + iv) + iv * hv + hv
    merged = hv * v["spatial_merge_size"] ** 2
    merger = hv + merged * merged + merged + merged * v["out_hidden_size"] + v["out_hidden_size"]
    patch = 3 * v["temporal_patch_size"] * v["patch_size"] ** 2 * hv
    expected = text + patch + v["depth"] * vision_block + merger
    assert expected == 3_754_622_976
    assert _count(model) == expected
    assert {p.dtype for p in model.parameters()} == {torch.bfloat16}
    assert max(n for dtype, n in made.made if dtype == torch.float32) < 1_000_000  # rotary tables only
    assert model.config.vision_config.fullatt_block_indexes == [7, 15, 23, 31]
    assert model.model.language_model.embed_tokens.weight.shape == (151936, 2048)
    # The processor's real defaults decide how many vision tokens a picture makes.
    for proc in (processor.image_processor, processor.video_processor):
        assert (proc.size["shortest_edge"], proc.size["longest_edge"]) == (3136, 12845056)
        assert (proc.patch_size, proc.merge_size, proc.temporal_patch_size) == (14, 2, 2)
    ids = processor.tokenizer("a red fox", add_special_tokens=True)["input_ids"]
    assert max(ids) < t["vocab_size"] and model.config.image_token_id < t["vocab_size"]


@pytest.mark.slow  # builds the smoke pipeline (about a second)
def test_smoke_wan_vace_generates_a_clip_on_the_cpu() -> None:
    pipe = build_wan_vace("random:wan2.1-vace-1.3b:smoke", device=CPU, dtype=torch.float32)
    pipe.set_progress_bar_config(disable=True)
    assert pipe.transformer.config.vace_layers == [0, 2]  # every other block, as at full size
    frames = pipe(
        prompt="a red fox",
        height=48,
        width=64,
        num_frames=5,
        num_inference_steps=2,
        generator=torch.Generator("cpu").manual_seed(0),
        output_type="np",
    ).frames
    assert frames.shape == (1, 5, 48, 64, 3)


def test_smoke_qwen_vl_answers_about_a_picture_on_the_cpu() -> None:
    model, processor = build_qwen_vl("random:qwen2.5-vl-3b:smoke", device=CPU, dtype=torch.float32)
    text = processor.apply_chat_template(
        [{"role": "user", "content": [{"type": "image"}, {"type": "text", "text": "what is this?"}]}],
        add_generation_prompt=True,
        tokenize=False,
    )
    inputs = processor(text=[text], images=[Image.new("RGB", (64, 48), (200, 10, 10))], return_tensors="pt")
    assert inputs["image_grid_thw"].tolist() == [[1, 4, 4]]  # raised to min_pixels (56 x 56), 14-px patches
    with torch.inference_mode():
        out = model.generate(**inputs, max_new_tokens=3, do_sample=False)
    assert out.shape[1] == inputs["input_ids"].shape[1] + 3


@pytest.mark.slow  # builds the smoke pipeline (about a second)
def test_two_builds_are_equal_and_leave_the_callers_random_state_alone() -> None:
    torch.manual_seed(123)
    before = torch.random.get_rng_state()
    a = build_wan_vace("random:wan2.1-vace-1.3b:smoke", device=CPU, dtype=torch.float32).transformer.state_dict()
    b = build_wan_vace("random:wan2.1-vace-1.3b:smoke", device=CPU, dtype=torch.float32).transformer.state_dict()
    assert torch.equal(torch.random.get_rng_state(), before)
    assert a.keys() == b.keys()
    assert all(torch.equal(a[k], b[k]) for k in a)


def test_a_failed_build_restores_the_default_dtype_and_device(monkeypatch: pytest.MonkeyPatch) -> None:
    import transformers

    def broken(config: Any) -> Any:
        assert torch.get_default_dtype() == torch.bfloat16  # inside the build: the asked dtype
        raise RuntimeError("out of memory")

    monkeypatch.setattr(transformers, "UMT5EncoderModel", broken)
    with pytest.raises(RuntimeError, match="out of memory"):
        build_wan_vace("random:wan2.1-vace-1.3b", device=META, dtype=torch.bfloat16)
    assert torch.get_default_dtype() == torch.float32
    assert torch.empty(1).device.type == "cpu"


def test_an_unknown_architecture_is_refused_with_the_known_ones() -> None:
    with pytest.raises(ModelUnavailableError, match=r"'random:wan-14b'.*known: random:qwen2\.5-vl-3b, random:wan2"):
        parse("random:wan-14b")
    with pytest.raises(ModelUnavailableError, match=r"is not a random:wan2\.1-vace-1\.3b model"):
        build_wan_vace("random:qwen2.5-vl-3b", device=META, dtype=torch.bfloat16)
    assert parse("random:qwen2.5-vl-3b:smoke") == ("qwen2.5-vl-3b", True)


@pytest.mark.parametrize("smoke", [False, True])
def test_random_weights_profile_keeps_the_profile_and_swaps_only_the_models(smoke: bool) -> None:
    default = load_profile("default")
    profile = random_weights_profile(default, smoke=smoke)
    suffix = ":smoke" if smoke else ""
    assert profile.name == "default+random"
    assert profile.models["vace"].model == f"random:wan2.1-vace-1.3b{suffix}"
    assert profile.models["vl"].model == f"random:qwen2.5-vl-3b{suffix}"
    assert {k: profile.models[k].model for k in ("depth", "pose", "flow")} == {
        "depth": "tiny:depth",
        "pose": "tiny:pose",
        "flow": "tiny:flow",
    }
    for key, entry in default.models.items():
        assert (profile.models[key].backend, profile.models[key].options) == (entry.backend, entry.options)
    assert (profile.device, profile.dtype, profile.offload, profile.tasks, profile.extractors) == (
        default.device,
        default.dtype,
        default.offload,
        default.tasks,
        default.extractors,
    )


@pytest.mark.skipif(torch.cuda.is_available(), reason="a CUDA GPU would run it")
@pytest.mark.parametrize("task", [Task.TEXT_TO_VIDEO, Task.IMAGE_UNDERSTANDING])
def test_a_full_size_random_model_is_refused_on_a_cpu_before_anything_is_built(task: Task) -> None:
    from unison_agent.tools import ModelPool

    pool = ModelPool()
    with pytest.raises(ModelUnavailableError, match=r"full-size model with random .*for measuring a GPU.*:smoke"):
        pool.for_task(task, load_profile("bench").model_copy(update={"device": "cpu"}))
    assert pool.loads == []
