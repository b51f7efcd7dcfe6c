"""The ``cache`` lever of the wan-vace backend (diffusers' cache hooks): settings, switching on and off, skip
counts, reproducibility across runs, MagCache calibration, and, above all, that a cache keeps VACE's
conditioning: with a cache, an input still moves the result the way it does without one.

The conditioning effect of an input is ``d = lat(A) - lat(B)``: the final latents of two runs with the same seed
that differ in that input only (mask vs inverted mask, reference X vs Y, first vs last frame, control map X vs Y,
prompt X vs Y). A cache keeps it when ``cos(d_cache, d_none) >= 0.9`` and ``|d_cache| / |d_none|`` lies in
``[0.5, 2]``. Why these bounds: without a cache, equal settings give bit-identical latents (noise floor 0), and
the same input change made from another seed (1 instead of 0) gives an effect whose cosine with seed 0's is 0.66
(prompt) and 0.91 (edit mask), at a norm ratio of 1.02-1.05. A cache that keeps d within cosine 0.9 of its direction
and a factor 2 of its size thus changes the effect less than a new seed does; one that drops, inverts or inflates an
input falls outside. Measured on the caches at their defaults: every cosine >= 0.9 (prompt: 0.985-0.999).

Runs: tiny profile, 64x64, 8 steps, CFG 5 (16 transformer calls), enough for every cache to skip at its defaults.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import torch
from PIL import Image

from unison_agent.errors import ModelUnavailableError
from unison_agent.spec import Input, Media, Role, Task, TaskSpec
from unison_agent.tools import ModelPool, Profile, load_profile
from unison_agent.tools.backends import GenerationRequest
from unison_agent.tools.backends.caches import (
    CACHES,
    REFUSALS,
    FirstBlockSettings,
    PassCounter,
    Refusal,
    applied_cache,
    apply_cache,
    cache_settings,
    cache_suspended,
    calibrate_mag,
    refusal,
    remove_cache,
)
from unison_agent.tools.generation import build_conditions, snap_spec

W = H = 64
STEPS = 8
RUNNABLE = ("first_block", "taylorseer", "pyramid_attention", "mag")


# ------------------------------------------------------------------------------------------------ fixtures
@pytest.fixture(scope="module")
def backend(pool: ModelPool, tiny: Profile) -> Any:
    return pool.generation(Task.TEXT_TO_VIDEO, tiny)


@pytest.fixture(autouse=True)
def _no_cache_left(request: pytest.FixtureRequest) -> Iterator[None]:
    """The pooled pipeline is shared with other test files: whatever a test switches on is switched off. (Tests
    that never touch the pipeline do not load it.)"""
    yield
    if "backend" in request.fixturenames:
        remove_cache(request.getfixturevalue("backend").pipe)


def _request(prompt: str = "a red fox", *, steps: int = STEPS, seed: int = 0, frames: int = 5) -> GenerationRequest:
    return GenerationRequest(
        prompt=prompt, width=W, height=H, num_frames=frames, seed=seed, steps=steps, guidance_scale=5.0
    )


def _latents(backend: Any, request: GenerationRequest, **kw: Any) -> torch.Tensor:
    out: torch.Tensor = backend.generate(request, output_type="latent", **kw)
    return out


@pytest.fixture(scope="module")
def mag_ratios(backend: Any) -> list[float]:
    return calibrate_mag(backend, _request())


def _settings(cache: str, mag_ratios: list[float]) -> Any:
    return cache_settings(cache, {"mag_ratios": mag_ratios} if cache == "mag" else {})


# ------------------------------------------------------------------------------------------------ conditioning kinds
def _spec(task: Task, inputs: list[tuple[str, Media, Role]], prompt: str = "a red fox", **kw: Any) -> TaskSpec:
    return TaskSpec(
        task=task,
        prompt=prompt,
        inputs=[Input(path=p, media=m, role=r) for p, m, r in inputs],
        width=W,
        height=H,
        **kw,
    )


@pytest.fixture(scope="module")
def kinds(
    _drawn: Callable[[str, str, tuple[int, int], int, int], Path], tmp_path_factory: pytest.TempPathFactory
) -> dict[str, tuple[TaskSpec, TaskSpec]]:
    """Each kind of conditioning as two specs that differ in that input only."""

    def drawn(suffix: str, look: str, frames: int = 12) -> str:
        return str(_drawn(suffix, look, (160, 120), frames, 16))

    folder = tmp_path_factory.mktemp("cache-levers")
    mask = Image.new("L", (160, 120), 0)
    mask.paste(255, (0, 0, 80, 120))  # left half: regenerate
    mask_a, mask_b = str(folder / "left.png"), str(folder / "right.png")
    mask.save(mask_a)
    Image.eval(mask, lambda v: 255 - v).save(mask_b)
    photo, clip = drawn(".png", "photo"), drawn(".mp4", "photo", 16)
    src = (photo, Media.IMAGE, Role.SOURCE)
    vsrc = (clip, Media.VIDEO, Role.SOURCE)
    return {
        "edit mask (image_editing)": (
            _spec(Task.IMAGE_EDITING, [src, (mask_a, Media.IMAGE, Role.MASK)]),
            _spec(Task.IMAGE_EDITING, [src, (mask_b, Media.IMAGE, Role.MASK)]),
        ),
        "edit mask (video_editing)": (
            _spec(Task.VIDEO_EDITING, [vsrc, (mask_a, Media.IMAGE, Role.MASK)], num_frames=5),
            _spec(Task.VIDEO_EDITING, [vsrc, (mask_b, Media.IMAGE, Role.MASK)], num_frames=5),
        ),
        "reference (image_reference)": (
            _spec(Task.IMAGE_REFERENCE, [(photo, Media.IMAGE, Role.REFERENCE)]),
            _spec(Task.IMAGE_REFERENCE, [(drawn(".png", "scribble"), Media.IMAGE, Role.REFERENCE)]),
        ),
        "first/last frame (image_to_video)": (
            _spec(Task.IMAGE_TO_VIDEO, [(photo, Media.IMAGE, Role.FIRST_FRAME)], num_frames=5),
            _spec(Task.IMAGE_TO_VIDEO, [(photo, Media.IMAGE, Role.LAST_FRAME)], num_frames=5),
        ),
        "control map (image_control)": (
            _spec(Task.IMAGE_CONTROL, [(drawn(".png", "pose"), Media.IMAGE, Role.CONTROL)]),
            _spec(Task.IMAGE_CONTROL, [(drawn(".png", "depth"), Media.IMAGE, Role.CONTROL)]),
        ),
        "prompt (text_to_video)": (
            _spec(Task.TEXT_TO_VIDEO, [], prompt="a red fox", num_frames=5),
            _spec(Task.TEXT_TO_VIDEO, [], prompt="a stone castle", num_frames=5),
        ),
    }


def _spec_request(spec: TaskSpec, backend: Any, seed: int = 0) -> GenerationRequest:
    spec, _ = snap_spec(spec, backend)
    cond = build_conditions(spec, backend)
    return GenerationRequest(
        prompt=spec.prompt,
        width=W,
        height=H,
        num_frames=cond.num_frames,
        seed=seed,
        steps=STEPS,
        guidance_scale=5.0,
        video=cond.video,
        mask=cond.mask,
        references=cond.references,
        task=spec.task,
    )


@pytest.fixture(scope="module")
def effect(
    backend: Any, kinds: dict[str, tuple[TaskSpec, TaskSpec]], mag_ratios: list[float]
) -> Callable[[str, str], torch.Tensor]:
    """``effect(cache, kind)``: d = lat(A) - lat(B) with that cache at its defaults ("none": without), memoised."""
    memo: dict[tuple[str, str], torch.Tensor] = {}

    def measure(cache: str, kind: str) -> torch.Tensor:
        if (cache, kind) not in memo:
            a, b = (_spec_request(s, backend) for s in kinds[kind])
            apply_cache(backend.pipe, cache, _settings(cache, mag_ratios) if cache != "none" else None, "test")
            try:
                memo[cache, kind] = _latents(backend, a) - _latents(backend, b)
            finally:
                remove_cache(backend.pipe)
        return memo[cache, kind]

    return measure


def _kept(d_cache: torch.Tensor, d_none: torch.Tensor) -> tuple[bool, float, float]:
    cos = float(torch.nn.functional.cosine_similarity(d_cache.flatten(), d_none.flatten(), dim=0))
    ratio = float(d_cache.norm() / d_none.norm())
    return cos >= 0.9 and 0.5 <= ratio <= 2.0, cos, ratio


KINDS = [
    "edit mask (image_editing)",
    "edit mask (video_editing)",
    "reference (image_reference)",
    "first/last frame (image_to_video)",
    "control map (image_control)",
    "prompt (text_to_video)",
]


# ------------------------------------------------------------------------------------------------ conditioning
@pytest.mark.slow  # two runs per cache and kind (about 1 s each pair)
@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("cache", RUNNABLE)
def test_each_cache_keeps_each_conditioning_effect_unless_it_is_refused_for_that_task(
    cache: str, kind: str, effect: Callable[[str, str], torch.Tensor], kinds: dict[str, tuple[TaskSpec, TaskSpec]]
) -> None:
    d_none = effect("none", kind)
    assert float(d_none.abs().max()) > 1e-3  # the input matters without a cache: there is an effect to keep
    kept, cos, ratio = _kept(effect(cache, kind), d_none)
    task = kinds[kind][0].task
    if refusal(cache, task) is None:
        assert kept, f"{cache} changes the {kind} effect: cos {cos:.3f}, norm ratio {ratio:.3f}"
    else:  # the refusal is warranted: the measure fails with this cache
        assert not kept, f"{cache} is refused for {task.value} but keeps its {kind} effect: cos {cos:.3f}, {ratio:.3f}"


def test_a_refusal_is_one_line_naming_the_cache_the_task_and_what_was_measured(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert REFUSALS == {}  # on the tiny profile every cache kept every kind of conditioning (test above)
    assert refusal("first_block", Task.IMAGE_EDITING) is None
    monkeypatch.setitem(
        REFUSALS, ("first_block", Task.IMAGE_EDITING), Refusal("drops the edit mask", "cos 0.12, norm ratio 0.3")
    )
    assert refusal("first_block", Task.IMAGE_EDITING) == (
        "cache first_block is not used for image_editing: it drops the edit mask (measured: cos 0.12, norm ratio 0.3)"
    )


@pytest.mark.slow  # three runs
@pytest.mark.parametrize("cache", RUNNABLE)
def test_a_suspended_cache_runs_exactly_as_no_cache_and_comes_back_afterwards(
    cache: str, backend: Any, mag_ratios: list[float]
) -> None:
    plain = _latents(backend, _request())
    apply_cache(backend.pipe, cache, _settings(cache, mag_ratios), "test")
    with cache_suspended(backend.pipe):
        assert applied_cache(backend.pipe) == "none"
        assert torch.equal(_latents(backend, _request()), plain)
    assert applied_cache(backend.pipe) == cache
    with PassCounter(backend.pipe) as counts:
        _latents(backend, _request())
    assert counts.blocks_skipped > 0 or counts.self_attention < counts.blocks_total


def test_a_suspended_cache_comes_back_when_the_run_fails(backend: Any) -> None:
    apply_cache(backend.pipe, "first_block", None, "test")
    with pytest.raises(RuntimeError, match="boom"), cache_suspended(backend.pipe):
        raise RuntimeError("boom")
    assert applied_cache(backend.pipe) == "first_block"


# ------------------------------------------------------------------------------------------------ skips and seeds
@pytest.mark.slow  # one run per cache
def test_every_cache_skips_transformer_work_at_its_defaults_and_never_touches_the_vace_blocks(
    backend: Any, mag_ratios: list[float]
) -> None:
    with PassCounter(backend.pipe) as plain:
        _latents(backend, _request())
    assert plain.calls == 2 * STEPS  # conditional and unconditional pass per step
    assert plain.blocks == plain.self_attention == plain.cross_attention == plain.blocks_total
    for cache in RUNNABLE:
        apply_cache(backend.pipe, cache, _settings(cache, mag_ratios), "test")
        try:
            with PassCounter(backend.pipe) as counts:
                _latents(backend, _request())
        finally:
            remove_cache(backend.pipe)
        assert counts.calls == plain.calls
        assert counts.vace_blocks == plain.vace_blocks  # the conditioning branch always runs
        skipped = counts.blocks_skipped + plain.self_attention - counts.self_attention
        assert skipped > 0, f"{cache} skipped nothing in {STEPS} steps at its defaults"


@pytest.mark.slow  # four runs per cache
@pytest.mark.parametrize("cache", RUNNABLE)
def test_a_seed_reproduces_with_a_cache_twice_in_a_row_after_another_request_and_after_a_cancelled_run(
    cache: str, backend: Any, mag_ratios: list[float]
) -> None:
    apply_cache(backend.pipe, cache, _settings(cache, mag_ratios), "test")
    first = _latents(backend, _request())
    assert torch.equal(_latents(backend, _request()), first)
    _latents(backend, _request("a stone castle", seed=7))
    assert torch.equal(_latents(backend, _request()), first)

    def cancel(done: int, total: int) -> None:
        if done == 5:
            raise KeyboardInterrupt  # a cancelled job stops the run from the step callback

    with pytest.raises(KeyboardInterrupt):
        _latents(backend, _request("a stone castle", seed=7), on_step=cancel)
    assert torch.equal(_latents(backend, _request()), first)


# ------------------------------------------------------------------------------------------------ settings
def test_each_cache_has_settings_with_described_defaults_and_none_has_none() -> None:
    assert cache_settings("none", {}) is None
    for cache in CACHES[1:]:
        model = type(cache_settings(cache, {"mag_ratios": [1.0, 1.0]} if cache == "mag" else {}))
        assert model.model_config.get("extra") == "forbid" and model.model_config.get("frozen")
        assert all(field.description for field in model.model_fields.values())
    assert cache_settings("first_block", {}) == FirstBlockSettings(threshold=0.1)


@pytest.mark.parametrize(
    ("cache", "settings", "message"),
    [
        ("lightning", {}, r"unknown cache 'lightning'; allowed: none, first_block, taylorseer, pyramid_attention"),
        ("none", {"threshold": 0.1}, r"cache 'none' takes no cache_settings, got threshold"),
        ("first_block", {"treshold": 0.1}, r"unknown key 'treshold'; allowed keys: threshold"),
        ("first_block", {"threshold": 0}, r"threshold: Input should be greater than 0 \(got 0\)"),
        ("mag", {}, r"mag_ratios is required; allowed keys: mag_ratios, threshold, max_skip_steps"),
        ("taylorseer", {"cache_interval": "often"}, r"cache_interval: Input should be a valid integer"),
    ],
)
def test_bad_cache_settings_are_refused_in_one_line_saying_what_is_allowed(
    cache: str, settings: dict[str, Any], message: str
) -> None:
    with pytest.raises(ValueError, match=message) as refused:
        cache_settings(cache, settings)
    assert "\n" not in str(refused.value)


# ------------------------------------------------------------------------------------------------ faster, taylorseer
def test_faster_cache_is_refused_at_load_naming_the_entry_the_reason_and_what_to_use(backend: Any) -> None:
    with pytest.raises(ModelUnavailableError, match=r"^models\.vace: cache 'faster' cannot be used") as refused:
        apply_cache(backend.pipe, "faster", cache_settings("faster", {}), "models.vace")
    assert "separate calls of batch 1" in str(refused.value) and "use 'first_block'" in str(refused.value)
    assert applied_cache(backend.pipe) == "none"


def test_faster_cache_as_diffusers_applies_it_fails_on_wan_vace_as_the_refusal_says(backend: Any) -> None:
    from diffusers.hooks import FasterCacheConfig

    pipe = backend.pipe
    pipe.transformer.enable_cache(
        FasterCacheConfig(current_timestep_callback=lambda: pipe.current_timestep, tensor_format="BCFHW")
    )
    try:
        with pytest.raises(IndexError):
            _latents(backend, _request(steps=2))
    finally:
        pipe.transformer.disable_cache()


def test_taylorseer_with_diffusers_default_patterns_would_cache_nothing_on_wan(backend: Any) -> None:
    from diffusers.hooks import TaylorSeerCacheConfig

    pipe = backend.pipe
    pipe.transformer.enable_cache(TaylorSeerCacheConfig())
    try:
        with PassCounter(pipe) as counts:
            _latents(backend, _request())
    finally:
        pipe.transformer.disable_cache()
    assert counts.blocks_skipped == 0 and counts.self_attention == counts.blocks_total


# ------------------------------------------------------------------------------------------------ mag
def test_mag_calibration_returns_one_ratio_per_step_and_leaves_no_cache_on(
    backend: Any, mag_ratios: list[float]
) -> None:
    assert len(mag_ratios) == STEPS and mag_ratios[0] == 1.0
    assert all(0.5 < r < 2 for r in mag_ratios)
    assert applied_cache(backend.pipe) == "none" and not backend.pipe.transformer.is_cache_enabled


def test_mag_ratios_calibrated_for_8_steps_serve_a_6_step_run_resampled(backend: Any, mag_ratios: list[float]) -> None:
    apply_cache(backend.pipe, "mag", cache_settings("mag", {"mag_ratios": mag_ratios}), "test")
    with PassCounter(backend.pipe) as counts:
        first = _latents(backend, _request(steps=6))
    assert counts.calls == 12 and counts.blocks_skipped > 0
    assert torch.equal(_latents(backend, _request(steps=6)), first)


@pytest.mark.slow  # a subprocess that loads the tiny models, then a run of the written profile
def test_unison_calibrate_writes_a_profile_that_loads_and_runs_with_mag(
    tmp_path: Path, offline_tiny_cache: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from unison_agent.cli import main

    out = tmp_path / "fast-tiny.toml"
    args = ["calibrate", "--profile", "tiny", "--out", str(out), "--steps", "6", "--size", "64x64", "--frames", "5"]
    assert main(args) == 0, capsys.readouterr().err
    assert f"wrote {out}: models.vace cache = mag, 6 ratios" in capsys.readouterr().out
    profile = load_profile(str(out))
    options = profile.models["vace"].options
    assert options["cache"] == "mag" and len(options["cache_settings"]["mag_ratios"]) == 6
    assert profile.models["vl"] == load_profile("tiny").models["vl"]  # the rest of the profile is copied
    backend = ModelPool().generation(Task.TEXT_TO_VIDEO, profile)
    assert applied_cache(backend.pipe) == "mag"
    assert backend.generate(_request(steps=6)).shape == (5, H, W, 3)
    assert main(args) == 2
    refused = capsys.readouterr().err
    assert "already exists" in refused and "--force" in refused


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--out", "{tmp}/missing/mag.toml"], "folder {tmp}/missing does not exist"),
        (["--out", "{tmp}/mag.toml", "--size", "832"], "--size '832' is not WxH"),
        (["--out", "{tmp}/mag.toml", "--profile", "fastest"], "unknown profile 'fastest'"),
    ],
)
def test_unison_calibrate_refuses_bad_arguments_before_loading_a_model(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    from unison_agent.cli import main

    code = main(["calibrate", "--profile", "tiny", *(a.format(tmp=tmp_path) for a in args)])
    err = capsys.readouterr().err
    assert code != 0 and message.format(tmp=tmp_path) in err and "\n" not in err.strip()
    assert list(tmp_path.iterdir()) == []
