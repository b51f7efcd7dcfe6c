"""The VACE backend's memory and speed levers (profile options): each loads and runs on the tiny profile, changes
nothing the output is conditioned on, and a value that cannot be used is refused with what is allowed."""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from pathlib import Path
from typing import Any, cast

import pytest
import torch

from unison_agent.errors import DeviceMemoryError, ModelUnavailableError, ProfileError
from unison_agent.spec import Input, Media, Role, Task, TaskSpec
from unison_agent.tools import ModelPool, Profile, load_profile, run
from unison_agent.tools.backends import GenerationRequest, Offload, caches
from unison_agent.tools.backends.options import ATTENTION_BACKENDS
from unison_agent.tools.backends.wan_vace import WanVACEBackend
from unison_agent.tools.generation import generate
from unison_agent.tools.results import ProgressEvent

TINY = Path(__file__).parents[2] / "unison_agent/tools/profiles/tiny.toml"


def _profile(tmp_path: Path, extra: str) -> Profile:
    text = TINY.read_text()
    old = "options = { steps = 4, guidance_scale = 5.0, flow_shift = 3.0 }"
    assert old in text
    path = tmp_path / "levers.toml"
    path.write_text(text.replace(old, old[:-2] + f", {extra} }}"))
    return load_profile(str(path))


def _request() -> GenerationRequest:
    return GenerationRequest(prompt="a red fox", width=64, height=64, num_frames=5, seed=3, steps=2, guidance_scale=5.0)


@pytest.mark.slow  # loads a second tiny pipeline
def test_vae_tiling_and_slicing_are_switched_on_and_leave_the_latents_as_they_were(
    tmp_path: Path, pool: ModelPool, tiny: Profile
) -> None:
    plain = pool.generation(Task.TEXT_TO_VIDEO, tiny)
    levered = ModelPool().generation(Task.TEXT_TO_VIDEO, _profile(tmp_path, "vae_tiling = true, vae_slicing = true"))
    vae = levered.pipe.vae  # type: ignore[attr-defined]
    assert vae.use_tiling and vae.use_slicing
    assert not plain.pipe.vae.use_tiling  # type: ignore[attr-defined]
    same = torch.equal(
        plain.generate(_request(), output_type="latent"), levered.generate(_request(), output_type="latent")
    )
    assert same
    frames = levered.generate(_request())
    assert frames.shape == (5, 64, 64, 3) and frames.dtype.name == "uint8"


def test_an_unknown_attention_backend_is_refused_with_the_allowed_ones(tmp_path: Path) -> None:
    with pytest.raises(ProfileError) as refused:
        _profile(tmp_path, 'attention_backend = "flash_hub"')
    message = str(refused.value)
    assert "attention_backend" in message and all(f"'{name}'" in message for name in ATTENTION_BACKENDS)


@pytest.mark.slow  # loads a second tiny pipeline
@pytest.mark.skipif(
    torch.cuda.is_available() and importlib.util.find_spec("flash_attn") is not None, reason="flash-attn would work"
)
def test_an_attention_backend_that_cannot_run_here_is_refused_at_load_saying_why(tmp_path: Path) -> None:
    profile = _profile(tmp_path, 'attention_backend = "flash"')
    with pytest.raises(ModelUnavailableError, match=r"attention_backend 'flash' cannot be used here .*use 'native'"):
        ModelPool().generation(Task.TEXT_TO_VIDEO, profile)


@pytest.mark.slow  # loads a second tiny pipeline
def test_the_native_attention_backend_named_explicitly_runs(tmp_path: Path) -> None:
    backend = ModelPool().generation(Task.TEXT_TO_VIDEO, _profile(tmp_path, 'attention_backend = "native"'))
    assert backend.generate(_request()).shape == (5, 64, 64, 3)


def _offloaded(tmp_path: Path, offload: str) -> Profile:
    profile = load_profile(TINY)
    return profile.model_copy(update={"offload": Offload.model_validate({"mode": offload})})


@pytest.mark.slow  # loads a second tiny pipeline
def test_group_offloading_installs_its_hooks_on_every_model_and_leaves_the_latents_as_they_were(
    tmp_path: Path, pool: ModelPool, tiny: Profile
) -> None:
    from diffusers.hooks import HookRegistry

    plain = pool.generation(Task.TEXT_TO_VIDEO, tiny)
    grouped = ModelPool().generation(Task.TEXT_TO_VIDEO, _offloaded(tmp_path, "group"))
    pipe = grouped.pipe  # type: ignore[attr-defined]
    for part in (pipe.transformer, pipe.text_encoder, pipe.vae):
        registry = HookRegistry.check_if_exists_or_initialize(part)
        hooks = [registry] + [
            HookRegistry.check_if_exists_or_initialize(m) for m in part.modules() if hasattr(m, "_diffusers_hook")
        ]
        assert any("group_offloading" in str(list(r.hooks)) for r in hooks), type(part).__name__
    assert torch.equal(
        plain.generate(_request(), output_type="latent"), grouped.generate(_request(), output_type="latent")
    )


def test_understanding_runs_with_group_offloading(tmp_path: Path, pool: ModelPool, tiny: Profile) -> None:
    from unison_agent.tools.backends import UnderstandingRequest

    request = UnderstandingRequest(prompt="what is this?", max_new_tokens=6)
    plain = pool.understanding(Task.TEXT_UNDERSTANDING, tiny)
    grouped = ModelPool().understanding(Task.TEXT_UNDERSTANDING, _offloaded(tmp_path, "group"))
    assert grouped.answer(request) == plain.answer(request)


@pytest.mark.slow  # loads and traces a second tiny pipeline
def test_regional_compile_compiles_each_repeated_block_and_shows_its_warm_up_once_per_size(
    tmp_path: Path, pool: ModelPool, tiny: Profile, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Inductor's C++ compile takes minutes on a CPU: trace with dynamo (the part that meets the hooks) and run the
    # traced graphs eagerly. The GPU benchmark runs the real thing.
    compiled: list[str] = []
    original = torch.nn.Module.compile

    def compile_traced(module: torch.nn.Module, *args: object, **kwargs: object) -> None:
        compiled.append(type(module).__name__)
        original(module, *args, **{**kwargs, "backend": "aot_eager"})

    monkeypatch.setattr(torch.nn.Module, "compile", compile_traced)
    profile = _profile(tmp_path, 'compile = "regional"')
    pool2 = ModelPool()
    backend = cast(WanVACEBackend, pool2.generation(Task.TEXT_TO_VIDEO, profile))
    blocks = backend.pipe.transformer
    assert compiled.count("WanVACETransformerBlock") == len(blocks.vace_blocks)
    assert compiled.count("WanTransformerBlock") == len(blocks.blocks)

    events: list[ProgressEvent] = []
    spec = _spec()
    for out in ("a", "b"):
        run(spec, profile=profile, pool=pool2, out_dir=tmp_path / out, on_progress=events.append)
    stages = [(e.stage, e.done) for e in events if e.stage in ("compile", "denoise")]
    # compiling is shown on the first run of a size, closed by its first step; the second run goes straight on
    assert stages == [("compile", 0), ("compile", 1), ("denoise", 1), ("denoise", 2), ("denoise", 1), ("denoise", 2)]
    assert "64x64x5" in next(e.message for e in events if e.stage == "compile")
    plain = cast(WanVACEBackend, pool.generation(Task.TEXT_TO_VIDEO, tiny)).generate(_request(), output_type="latent")
    torch.testing.assert_close(backend.generate(_request(), output_type="latent"), plain, atol=1e-4, rtol=1e-4)


class _OutOfMemoryPipe:
    """The tiny pipeline, except that its first ``fail`` calls run out of memory in ``stage``."""

    def __init__(self, pipe: Any, fail: int, stage: str) -> None:
        self._pipe, self.fail, self.stage = pipe, fail, stage

    def __getattr__(self, name: str) -> Any:
        return getattr(self._pipe, name)

    def __call__(self, **kwargs: Any) -> Any:
        if self.fail:
            self.fail -= 1
            steps = kwargs["num_inference_steps"] if self.stage == "decode" else 1
            for i in range(steps):  # the steps that ran before memory ran out
                kwargs["callback_on_step_end"](self._pipe, i, 0, {})
            raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")
        return self._pipe(**kwargs)


def _spec(task: Task = Task.TEXT_TO_VIDEO, inputs: list[Input] | None = None) -> TaskSpec:
    return TaskSpec(
        task=task, prompt="a red fox", inputs=inputs or [], width=64, height=64, num_frames=5, seed=3, steps=2
    )


@pytest.mark.slow  # loads a second tiny pipeline
@pytest.mark.parametrize(
    ("stage", "lever", "first", "second"),
    [("denoise", "group offloading", "group", "tiling"), ("decode", "VAE tiling", "tiling", "group")],
)
def test_running_out_of_memory_runs_again_once_with_the_lever_for_where_it_happened(
    tmp_path: Path, stage: str, lever: str, first: str, second: str
) -> None:
    backend = cast(WanVACEBackend, ModelPool().generation(Task.TEXT_TO_VIDEO, load_profile(TINY)))
    real = backend.pipe
    backend.pipe = _OutOfMemoryPipe(real, fail=1, stage=stage)
    events: list[ProgressEvent] = []
    result = generate(_spec(), backend, tmp_path / "out", on_progress=events.append)
    assert len(result.outputs) == 1 and Path(result.outputs[0].path).exists()
    note = next(n for n in result.notes if "ran again with" in n)
    what = "denoising" if stage == "denoise" else "decoding"
    assert note.startswith(f"out of CPU memory while {what} 64x64x5: ran again with {lever}")
    assert any("out of memory: running again" in e.message for e in events)
    assert (backend.offload.mode == "group") == (first == "group")
    assert real.vae.use_tiling == (first == "tiling")
    # a second lever is left for the next run that runs out; after it, nothing is
    assert backend.lower_memory(stage) is not None
    assert backend.offload.mode == "group" and real.vae.use_tiling
    assert backend.lower_memory(stage) is None


@pytest.mark.slow  # loads a second tiny pipeline
def test_running_out_of_memory_twice_names_the_lowvram_profile_and_the_size_and_writes_nothing(
    tmp_path: Path,
) -> None:
    backend = cast(WanVACEBackend, ModelPool().generation(Task.TEXT_TO_VIDEO, load_profile(TINY)))
    backend.pipe = _OutOfMemoryPipe(backend.pipe, fail=2, stage="denoise")
    out = tmp_path / "out"
    with pytest.raises(DeviceMemoryError) as failed:
        generate(_spec(), backend, out)
    message = str(failed.value)
    assert "64x64x5" in message and "--profile lowvram" in message and "also after switching on" in message
    assert "nothing was written" in message and "\n" not in message
    assert not out.exists() or not any(out.iterdir())
    # the lowvram profile itself is not suggested to someone already using it
    backend.pipe.fail = 2
    with pytest.raises(DeviceMemoryError) as again:
        generate(_spec(), backend, out, profile_name="lowvram")
    assert "lowvram" not in str(again.value) and "smaller size or fewer frames" in str(again.value)


@pytest.mark.slow  # loads a second tiny pipeline
def test_a_cache_refused_for_a_task_is_left_off_for_that_task_only_and_the_output_says_so(
    tmp_path: Path, pool: ModelPool, tiny: Profile, monkeypatch: pytest.MonkeyPatch, media: Callable[..., str]
) -> None:
    monkeypatch.setitem(
        caches.REFUSALS, ("first_block", Task.IMAGE_TO_VIDEO), caches.Refusal("drops the first frame", "cos 0.1")
    )
    cached = cast(
        WanVACEBackend, ModelPool().generation(Task.TEXT_TO_VIDEO, _profile(tmp_path, 'cache = "first_block"'))
    )
    plain = cast(WanVACEBackend, pool.generation(Task.TEXT_TO_VIDEO, tiny))

    def latents(backend: WanVACEBackend, task: Task) -> torch.Tensor:
        request = GenerationRequest(
            prompt="a red fox", width=64, height=64, num_frames=5, seed=3, steps=8, guidance_scale=5.0, task=task
        )
        return cast(torch.Tensor, backend.generate(request, output_type="latent"))

    # refused for image_to_video: exactly the uncached run; text_to_video keeps the cache (it skips steps here)
    assert torch.equal(latents(cached, Task.IMAGE_TO_VIDEO), latents(plain, Task.IMAGE_TO_VIDEO))
    assert not torch.equal(latents(cached, Task.TEXT_TO_VIDEO), latents(plain, Task.TEXT_TO_VIDEO))
    options = cached.options
    first = Input(path=media("start.png", "photo"), media=Media.IMAGE, role=Role.FIRST_FRAME)
    refused = generate(_spec(Task.IMAGE_TO_VIDEO, inputs=[first]), cached, tmp_path, options=options)
    kept = generate(_spec(), cached, tmp_path, options=options)
    note = "cache first_block is not used for image_to_video: it drops the first frame (measured: cos 0.1)"
    assert note in refused.notes
    assert not any("cache" in note for note in kept.notes)


def _tiny_on(base: str, tmp_path: Path) -> Profile:
    """Profile ``base`` (its levers, offload and options) with the tiny profile's models."""
    path = tmp_path / f"tiny-{base}.toml"
    tiny = load_profile(TINY)
    models = "".join(f'[models.{key}]\nmodel = "{entry.model}"\n' for key, entry in tiny.models.items())
    path.write_text(
        f'base = "{base}"\n{models}[models.vace.options]\nsteps = 2\n[models.flow.options]\nmax_side = 256\n'
    )
    return load_profile(path)


@pytest.mark.slow  # loads two more tiny pipelines
def test_the_fast_and_lowvram_profiles_load_and_run_with_the_tiny_models(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    original = torch.nn.Module.compile  # inductor takes minutes on a CPU: trace with dynamo, run eagerly

    def traced(module: torch.nn.Module, *args: object, **kwargs: object) -> None:
        original(module, *args, **{**kwargs, "backend": "aot_eager"})

    monkeypatch.setattr(torch.nn.Module, "compile", traced)
    for base in ("fast", "lowvram"):
        profile = _tiny_on(base, tmp_path)
        pool = ModelPool()
        result = run(_spec(), profile=profile, pool=pool, out_dir=tmp_path / base)
        assert len(result.outputs) == 1 and Path(result.outputs[0].path).stat().st_size > 0
        backend = cast(WanVACEBackend, pool.generation(Task.TEXT_TO_VIDEO, profile))
        if base == "fast":
            assert caches.applied_cache(backend.pipe) == "first_block" and backend.options.compile == "regional"
        else:
            assert backend.offload.mode == "group" and backend.pipe.vae.use_tiling
        answer = run(
            TaskSpec(task=Task.TEXT_UNDERSTANDING, prompt="what is a fox?"),
            profile=profile,
            pool=pool,
            out_dir=tmp_path,
        )
        assert answer.text is not None


def _groups(module: torch.nn.Module) -> list[set[int]]:
    """The parameter sets of the group-offloading groups installed on ``module`` and its submodules."""
    found: dict[int, Any] = {}
    for part in module.modules():
        registry = getattr(part, "_diffusers_hook", None)
        hook = None if registry is None else registry.get_hook("group_offloading")
        if hook is not None and hook.group is not None:
            found[id(hook.group)] = hook.group
    return [
        {id(p) for m in group.modules for p in m.parameters()} | {id(p) for p in group.parameters or []}
        for group in found.values()
    ]


@pytest.mark.slow  # loads a second tiny pipeline and VLM
def test_group_offloading_brings_each_block_of_every_model_on_its_own_not_a_whole_model(tmp_path: Path) -> None:
    # diffusers' block level groups only a model's direct ModuleLists: UMT5's blocks (inside `encoder`) and
    # Qwen-VL's (inside `model.language_model` and `model.visual`) would come to the GPU as one group.
    profile = _offloaded(tmp_path, "group")
    pool = ModelPool()
    pipe = cast(WanVACEBackend, pool.generation(Task.TEXT_TO_VIDEO, profile)).pipe
    vlm = cast(Any, pool.understanding(Task.TEXT_UNDERSTANDING, profile)).model
    for model, blocks in (
        (pipe.text_encoder, pipe.text_encoder.encoder.block),
        (pipe.transformer, pipe.transformer.blocks),
        (vlm, vlm.model.language_model.layers),
        (vlm, vlm.model.visual.blocks),
    ):
        groups = _groups(model)
        for block in blocks:  # every block is a group of its own
            assert {id(p) for p in block.parameters()} in groups, type(model).__name__
        everything = {id(p) for p in model.parameters()}
        assert all(group != everything for group in groups)  # no group holds the whole model
        assert set().union(*groups) == everything  # and every weight is in some group
