"""The VACE backend's memory and speed levers (profile options): each loads and runs on the tiny profile, changes
nothing the output is conditioned on, and a value that cannot be used is refused with what is allowed."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
import torch

from unison_agent.errors import ModelUnavailableError, ProfileError
from unison_agent.spec import Task
from unison_agent.tools import ModelPool, Profile, load_profile
from unison_agent.tools.backends import GenerationRequest
from unison_agent.tools.backends.options import ATTENTION_BACKENDS

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
