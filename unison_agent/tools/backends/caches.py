"""diffusers' cache hooks as a lever of the ``wan-vace`` backend: which caches exist, their settings, switching them
on at load, and the tasks on which a cache is not used because it breaks VACE's conditioning.

A cache skips transformer work on steps where it predicts the result barely changes (first_block and mag: all
blocks but the first; taylorseer: attention and feed-forward outputs extrapolated from earlier steps;
pyramid_attention: self-attention reused from an earlier call). Every hook is diffusers' own
(``transformer.enable_cache``); this module chooses settings that fit Wan-VACE, resets the hooks at the start of
every pipeline run (diffusers resets them only at the end of a run that finishes, so a cancelled run would leak
its state into the next one) and fits MagCache's ratios to the run's step count.

What each cache does to VACE's conditioning was measured by ``tests/tools/test_cache_levers.py`` on the tiny
profile; :data:`REFUSALS` holds the verdicts and :func:`refusal` serves them to the backend, which then runs that
request without the cache (:func:`cache_suspended`) and says so in the output's notes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from types import TracebackType
from typing import TYPE_CHECKING, Any, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from unison_agent.errors import ModelUnavailableError, one_line
from unison_agent.spec import Task

if TYPE_CHECKING:
    from unison_agent.tools.backends.protocols import GenerationRequest

__all__ = [
    "CACHES",
    "REFUSALS",
    "CacheName",
    "FasterSettings",
    "FirstBlockSettings",
    "MagSettings",
    "PassCounter",
    "PyramidAttentionSettings",
    "TaylorSeerSettings",
    "applied_cache",
    "apply_cache",
    "cache_settings",
    "cache_suspended",
    "calibrate_mag",
    "refusal",
    "remove_cache",
]

CacheName = Literal["none", "first_block", "taylorseer", "pyramid_attention", "mag", "faster"]
CACHES: tuple[str, ...] = get_args(CacheName)

_FROZEN = ConfigDict(extra="forbid", frozen=True)


class FirstBlockSettings(BaseModel):
    """First Block Cache: when block 0's residual changed less than ``threshold`` since the last full pass, the
    other blocks are skipped and their last residual reused."""

    model_config = _FROZEN

    # 0.10 for Wan: 0.05 (diffusers' generic default) never fired in 20 steps of Wan 2.2 while 0.10 gave 1.85x
    # with no visible artefacts (utensils/mold#939); Comfy-WaveSpeed ships 0.09 for Wan.
    threshold: float = Field(
        default=0.1,
        gt=0,
        le=1,
        description="relative mean change of block 0's residual below which the remaining blocks are skipped "
        "(higher: more skipped, faster, further from the uncached result)",
    )


class TaylorSeerSettings(BaseModel):
    """TaylorSeer: the self-attention, cross-attention and feed-forward outputs of every main block are computed
    on some steps and extrapolated (Taylor series over steps) on the others."""

    model_config = _FROZEN

    # diffusers' defaults, the paper's N=5, O=1 setting (arXiv 2503.06923); TaylorSeer caches every DiT block of
    # Wan2.1 (Shenyi-Z/TaylorSeer#6). We hook attn1/attn2/ffn of each block, not the block, so that VACE's
    # hints, added to the residual stream between blocks, are never extrapolated.
    cache_interval: int = Field(
        default=5, ge=1, le=50, description="after a computed step, this many steps minus one are extrapolated"
    )
    disable_cache_before_step: int = Field(
        default=3, ge=1, le=500, description="steps computed in full at the start (they seed the series)"
    )
    disable_cache_after_step: int | None = Field(
        default=None, ge=1, le=500, description="from this step on everything is computed again (unset: never)"
    )
    max_order: int = Field(default=1, ge=0, le=4, description="order of the Taylor series (1: linear extrapolation)")


class PyramidAttentionSettings(BaseModel):
    """Pyramid Attention Broadcast: self-attention outputs are reused from an earlier call within a timestep
    range."""

    model_config = _FROZEN

    # diffusers' documented values for video DiTs (docs/source/en/optimization/cache.md: skip range 2, timesteps
    # (100, 800)); PAB's paper broadcasts cross-attention most often, but Wan's cross-attention is cheap at video
    # lengths, so it is off unless asked for.
    spatial_attention_block_skip_range: int = Field(
        default=2, ge=2, le=20, description="self-attention is computed once every this many calls, else reused"
    )
    cross_attention_block_skip_range: int | None = Field(
        default=None, ge=2, le=20, description="cross-attention likewise (unset: always computed)"
    )
    timestep_skip_range: tuple[int, int] = Field(
        default=(100, 800), description="reuse only while the timestep (0-1000) lies strictly inside this range"
    )


class MagSettings(BaseModel):
    """MagCache: skips all blocks but the first while the accumulated error predicted from calibrated magnitude
    ratios stays below ``threshold``. ``mag_ratios`` come from ``unison calibrate`` (one per step)."""

    model_config = _FROZEN

    mag_ratios: list[float] = Field(
        min_length=2,
        description="per-step ratio of the blocks' residual magnitude to the previous step's, from `unison calibrate`"
        " on this model; a run with another step count uses them resampled (nearest) to its steps",
    )
    # MagCache's values for Wan2.1 (Zehong-Ma/MagCache; sglang's WanMagCacheParams, sgl-project/sglang#18498).
    threshold: float = Field(
        default=0.12, gt=0, le=1, description="accumulated error allowed before the blocks are computed again"
    )
    max_skip_steps: int = Field(default=4, ge=1, le=50, description="most steps skipped in a row (K in the paper)")
    retention_ratio: float = Field(
        default=0.2, ge=0, lt=1, description="fraction of the first steps that are never skipped"
    )


class FasterSettings(BaseModel):
    """FasterCache takes no settings here: it cannot run on Wan-VACE (see :func:`apply_cache`)."""

    model_config = _FROZEN


_SETTINGS: dict[str, type[BaseModel]] = {
    "first_block": FirstBlockSettings,
    "taylorseer": TaylorSeerSettings,
    "pyramid_attention": PyramidAttentionSettings,
    "mag": MagSettings,
    "faster": FasterSettings,
}

# diffusers' FasterCache hooks split each batch into its unconditional and conditional halves (chunk(2)), which
# assumes the pipeline batches both passes; WanVACEPipeline runs them as two calls of batch 1, hence the
# IndexError. With is_guidance_distilled=True the split is skipped, but each layer's cache then alternates between
# the conditional and unconditional calls and blends the two (one state per layer, not per pass).
FASTER_REASON = (
    "FasterCache splits each batch into unconditional and conditional halves, but WanVACEPipeline runs the two "
    "passes as separate calls of batch 1 (IndexError in diffusers' hook), and without that split its per-layer "
    "cache would blend the two passes"
)


def cache_settings(cache: str, settings: dict[str, Any]) -> BaseModel | None:
    """The validated settings of ``cache`` (its settings model, every unset field at its documented default);
    ``None`` for ``"none"``.

    Raises ``ValueError`` with one line naming the unknown cache, the unknown key or the bad value, and what is
    allowed."""
    if cache not in CACHES:
        raise ValueError(f"unknown cache {cache!r}; allowed: {', '.join(CACHES)}")
    if cache == "none":
        if settings:
            raise ValueError(f"cache 'none' takes no cache_settings, got {', '.join(sorted(settings))}")
        return None
    model = _SETTINGS[cache]
    allowed = ", ".join(model.model_fields) or "none"
    try:
        return model.model_validate(settings)
    except ValidationError as e:
        problems = []
        for err in e.errors():
            key = ".".join(str(p) for p in err["loc"]) or "cache_settings"
            if err["type"] == "extra_forbidden":
                problems.append(f"unknown key {key!r}")
            elif err["type"] == "missing":
                problems.append(f"{key} is required")
            else:
                problems.append(f"{key}: {err['msg']} (got {err.get('input')!r})")
        raise ValueError(
            one_line(f"cache_settings of {cache!r}: {'; '.join(problems)}; allowed keys: {allowed}")
        ) from None


# ------------------------------------------------------------------------------------------------ refusals
@dataclass(frozen=True)
class Refusal:
    """A cache that breaks a task's conditioning: what it breaks and the measurement that showed it."""

    breaks: str
    measured: str


# Filled from tests/tools/test_cache_levers.py (tiny profile, 64x64, 5 frames, 8 steps, CFG 5, cache at its
# defaults): the conditioning effect d = lat(A) - lat(B) of one input, with the cache against without. A cache
# keeps an input when cos(d_cache, d_none) >= 0.9 and |d_cache| / |d_none| lies in [0.5, 2]. Every runnable cache
# kept every kind measured (edit mask for image and video editing, reference, first/last frame, control map,
# prompt), so no task is refused today; a verdict measured on a real model that breaks one belongs here.
REFUSALS: dict[tuple[str, Task], Refusal] = {}


def refusal(cache: str, task: Task) -> str | None:
    """``None`` when ``cache`` keeps ``task``'s conditioning; otherwise the one-line note for the output saying
    that the cache is not used for this task, why, and what was measured."""
    found = REFUSALS.get((cache, task))
    if found is None:
        return None
    return f"cache {cache} is not used for {task.value}: it {found.breaks} (measured: {found.measured})"


# ------------------------------------------------------------------------------------------------ applying
@dataclass
class _Applied:
    """What :func:`apply_cache` switched on, so that it can be switched off and on again."""

    cache: str
    settings: BaseModel
    where: str
    config: Any
    handle: Any  # the transformer's forward pre-hook that starts each run afresh
    ratios: Any = None  # MagCache: the calibrated ratios as given, resampled per run from these


def applied_cache(pipe: Any) -> str:
    """The name of the cache switched on on ``pipe`` by :func:`apply_cache` (``"none"`` if none)."""
    applied: _Applied | None = getattr(pipe, "_unison_cache", None)
    return "none" if applied is None else applied.cache


def apply_cache(pipe: Any, cache: str, settings: BaseModel | None, where: str) -> None:
    """Switch ``cache`` on on ``pipe.transformer`` with ``settings`` (from :func:`cache_settings`); ``"none"``
    does nothing. Also resets the hooks' state at the start of every pipeline run.

    Raises ``ModelUnavailableError`` naming ``where`` for a cache that cannot run on this pipeline (faster), and
    ``ValueError`` if a cache is already on or ``settings`` do not belong to ``cache``."""
    if cache == "none":
        return
    if cache not in _SETTINGS:
        raise ValueError(f"unknown cache {cache!r}; allowed: {', '.join(CACHES)}")
    if cache == "faster":
        raise ModelUnavailableError(
            f"{where}: cache 'faster' cannot be used with Wan-VACE: {FASTER_REASON}; "
            "use 'first_block', 'mag' or 'taylorseer' instead"
        )
    if getattr(pipe, "_unison_cache", None) is not None:
        raise ValueError(f"{where}: a cache is already on ({applied_cache(pipe)}); remove it first")
    if settings is None:
        settings = _SETTINGS[cache]()
    if not isinstance(settings, _SETTINGS[cache]):
        raise ValueError(f"{where}: settings {type(settings).__name__} do not belong to cache {cache!r}")
    config, ratios = _config(pipe, cache, settings)
    transformer = pipe.transformer
    transformer.enable_cache(config)
    applied = _Applied(cache, settings, where, config, None, ratios)
    applied.handle = transformer.register_forward_pre_hook(_run_start_reset(pipe, applied))
    pipe._unison_cache = applied


def remove_cache(pipe: Any) -> None:
    """Switch off whatever :func:`apply_cache` switched on on ``pipe`` (nothing if none)."""
    applied: _Applied | None = getattr(pipe, "_unison_cache", None)
    if applied is None:
        return
    applied.handle.remove()
    pipe.transformer.disable_cache()
    pipe._unison_cache = None


@contextmanager
def cache_suspended(pipe: Any) -> Iterator[None]:
    """Run the ``with`` body without ``pipe``'s cache: switched off on entry and on again with the same settings
    on exit, also when the body raises. Without a cache it does nothing."""
    applied: _Applied | None = getattr(pipe, "_unison_cache", None)
    if applied is None:
        yield
        return
    remove_cache(pipe)
    try:
        yield
    finally:
        apply_cache(pipe, applied.cache, applied.settings, applied.where)


def _config(pipe: Any, cache: str, settings: BaseModel) -> tuple[Any, Any]:
    """diffusers' config object for ``cache`` (and, for mag, the ratios as a tensor)."""
    import torch
    from diffusers.hooks import (
        FirstBlockCacheConfig,
        MagCacheConfig,
        PyramidAttentionBroadcastConfig,
        TaylorSeerCacheConfig,
    )

    if isinstance(settings, FirstBlockSettings):
        return FirstBlockCacheConfig(threshold=settings.threshold), None
    if isinstance(settings, TaylorSeerSettings):
        return (
            TaylorSeerCacheConfig(
                cache_interval=settings.cache_interval,
                disable_cache_before_step=settings.disable_cache_before_step,
                disable_cache_after_step=settings.disable_cache_after_step,
                max_order=settings.max_order,
                # The factors in the model's own precision: bfloat16 (diffusers' default) would round a float32
                # model's outputs on every extrapolated step.
                taylor_factors_dtype=pipe.transformer.dtype,
                # diffusers' default patterns ("^blocks.*attn", fullmatch) match no module of Wan, whose attention
                # layers are named attn1/attn2: nothing would be cached at all.
                cache_identifiers=[r"blocks\.\d+\.(attn1|attn2|ffn)"],
            ),
            None,
        )
    if isinstance(settings, PyramidAttentionSettings):
        return (
            PyramidAttentionBroadcastConfig(
                spatial_attention_block_skip_range=settings.spatial_attention_block_skip_range,
                spatial_attention_timestep_skip_range=settings.timestep_skip_range,
                cross_attention_block_skip_range=settings.cross_attention_block_skip_range,
                cross_attention_timestep_skip_range=settings.timestep_skip_range,
                # Only the main blocks: diffusers' identifiers ("blocks", searched) also match vace_blocks.*,
                # whose attention carries the conditioning.
                spatial_attention_block_identifiers=(r"^blocks\.",),
                cross_attention_block_identifiers=(r"^blocks\.",),
                current_timestep_callback=lambda: _timestep(pipe),
            ),
            None,
        )
    if isinstance(settings, MagSettings):
        ratios = torch.tensor(settings.mag_ratios, dtype=torch.float32)
        config = MagCacheConfig(
            threshold=settings.threshold,
            max_skip_steps=settings.max_skip_steps,
            retention_ratio=settings.retention_ratio,
            num_inference_steps=len(ratios),
            mag_ratios=ratios.clone(),
        )
        return config, ratios
    raise ValueError(f"no diffusers config for {type(settings).__name__}")  # pragma: no cover - _SETTINGS is closed


def _timestep(pipe: Any) -> int:
    """The timestep of the step being denoised (PAB's callback); outside a run, one PAB never skips at."""
    t = pipe.current_timestep
    return -1 if t is None else int(t)


def _run_start_reset(pipe: Any, applied: _Applied) -> Callable[..., None]:
    """A forward pre-hook for the transformer that, on the first call of each pipeline run (the scheduler holds
    a new timestep schedule), resets every cache hook and, for MagCache, fits the ratios to the run's steps.

    diffusers resets the hooks only at the end of a run that completes (``maybe_free_model_hooks``): a run
    stopped by an exception (a cancelled job) leaves its residuals and counters for the next run, which then
    skips on stale state."""
    from diffusers.hooks.hooks import _set_cache_context

    seen: list[Any] = [None]

    def reset_at_run_start(module: Any, args: Any) -> None:
        schedule = pipe.scheduler.timesteps
        if schedule is seen[0]:
            return
        seen[0] = schedule
        # Resetting also clears the hooks' cache context ("cond"/"uncond"), which the pipeline has already set
        # for this call: put it back.
        context = _cache_context(module)
        module._reset_stateful_cache()
        if context is not None:
            _set_cache_context(module, context)
        if applied.ratios is not None and schedule is not None:
            _fit_mag_ratios(applied, len(schedule))

    return reset_at_run_start


def _cache_context(module: Any) -> Any:
    """The cache context (a diffusers ``CacheContext``) the pipeline set on ``module``'s stateful hooks, if any."""
    from diffusers.hooks.hooks import HookRegistry, StateManager

    registry = HookRegistry.check_if_exists_or_initialize(module)
    for child in (registry, *registry._get_child_registries()):
        for hook in child.hooks.values():
            for attr in vars(hook).values():
                if isinstance(attr, StateManager) and attr._context is not None:
                    return attr._context
    return None


def _fit_mag_ratios(applied: _Applied, steps: int) -> None:
    """Point MagCache's config (shared by reference with its hooks) at ``steps`` steps, the ratios resampled."""
    from diffusers.hooks.mag_cache import nearest_interp

    config = applied.config
    if config.calibrate or config.num_inference_steps == steps:
        return
    config.num_inference_steps = steps
    config.mag_ratios = nearest_interp(applied.ratios, steps) if len(applied.ratios) != steps else applied.ratios


# ------------------------------------------------------------------------------------------------ counting
class PassCounter:
    """Counts, while active (``with PassCounter(pipe) as counts:``), the work the transformer really did during
    pipeline calls: ``calls`` (transformer forwards), ``blocks`` (main blocks whose feed-forward ran),
    ``self_attention`` / ``cross_attention`` (main blocks' attention layers computed) and ``vace_blocks``.

    It hooks a leaf layer inside each counted module (the last linear layer of a feed-forward, the query
    projection of an attention), because cache hooks replace a module's ``forward`` and the module's own
    forward hooks still fire when it is skipped."""

    def __init__(self, pipe: Any) -> None:
        self._transformer = pipe.transformer
        self._handles: list[Any] = []
        self.calls = self.blocks = self.self_attention = self.cross_attention = self.vace_blocks = 0
        self.num_blocks = len(self._transformer.blocks)
        self.num_vace_blocks = len(getattr(self._transformer, "vace_blocks", ()))

    @property
    def blocks_total(self) -> int:
        """Main-block computations an uncached run would do for the calls counted."""
        return self.calls * self.num_blocks

    @property
    def blocks_skipped(self) -> int:
        """Main-block feed-forwards that a cache skipped."""
        return self.blocks_total - self.blocks

    def _counter(self, field: str) -> Callable[..., None]:
        def count(module: Any, args: Any) -> None:
            setattr(self, field, getattr(self, field) + 1)

        return count

    def __enter__(self) -> PassCounter:
        t = self._transformer
        hook = self._handles.append
        hook(t.register_forward_pre_hook(self._counter("calls")))
        for block in t.blocks:
            hook(block.ffn.net[-1].register_forward_pre_hook(self._counter("blocks")))
            hook(block.attn1.to_q.register_forward_pre_hook(self._counter("self_attention")))
            hook(block.attn2.to_q.register_forward_pre_hook(self._counter("cross_attention")))
        for block in getattr(t, "vace_blocks", ()):
            hook(block.ffn.net[-1].register_forward_pre_hook(self._counter("vace_blocks")))
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        for handle in self._handles:
            handle.remove()
        self._handles.clear()


# ------------------------------------------------------------------------------------------------ calibration
def calibrate_mag(backend: Any, request: GenerationRequest) -> list[float]:
    """Run ``request`` once on ``backend`` (a loaded ``WanVACEBackend``) with MagCache in calibration mode and
    return the per-step magnitude ratios of the conditional pass (``request.steps`` values, the first 1.0).

    The backend's own cache is suspended meanwhile and restored after. Raises ``ValueError`` for fewer than two
    steps and ``RuntimeError`` if the run reported fewer ratios than steps."""
    from diffusers.hooks import HookRegistry, MagCacheConfig
    from diffusers.hooks.mag_cache import _MAG_CACHE_BLOCK_HOOK

    if request.steps < 2:
        raise ValueError(f"MagCache calibration needs at least 2 steps, got {request.steps}")
    pipe = backend.pipe
    transformer = pipe.transformer
    ratios: dict[str, list[float]] = {}
    with cache_suspended(pipe):
        transformer.enable_cache(MagCacheConfig(calibrate=True, num_inference_steps=request.steps))
        try:
            tail: Any = HookRegistry.check_if_exists_or_initialize(transformer.blocks[-1]).get_hook(
                _MAG_CACHE_BLOCK_HOOK
            )
            measure = tail._perform_calibration_step

            # The hook prints its ratios and clears them at the last step; copy each one as it is measured.
            def keep(state: Any, residual: Any) -> None:
                measure(state, residual)
                ratios[tail.state_manager.context.name] = list(state.calibration_ratios)

            tail._perform_calibration_step = keep
            transformer._reset_stateful_cache()
            _quietly(lambda: backend.generate(request, output_type="latent"))
        finally:
            transformer.disable_cache()
    found = ratios.get("cond", [])
    if len(found) != request.steps:
        raise RuntimeError(f"MagCache calibration measured {len(found)} ratios for {request.steps} steps")
    return [round(float(r), 5) for r in found]


def _quietly(run: Callable[[], Any]) -> Any:
    """``run()`` with stdout swallowed: diffusers' calibration prints its ratios, which we return instead."""
    import contextlib
    import io

    with contextlib.redirect_stdout(io.StringIO()):
        return run()
