"""The ``prepare_masks`` patch in ``wan_vace.py``: diffusers pads VACE's latent mask with one zero frame per
reference by slicing the mask's own latent frames, so an image (one latent frame) with two references gets one
frame of padding instead of two. These tests call diffusers' method and the patched one on the tiny pipeline's
real geometry (mask tensors only: no denoising), and the first one fails the day diffusers fixes the bug."""

from __future__ import annotations

from typing import Any

import pytest
import torch

from unison_agent.spec import Task
from unison_agent.tools import ModelPool, Profile
from unison_agent.tools.backends.wan_vace import WanVACEBackend

SIDE = 32  # two latent pixels per side on the tiny model (VAE stride 8 x patch 2 = 16)


@pytest.fixture(scope="module")
def pipe(pool: ModelPool, tiny: Profile) -> Any:
    """The tiny profile's VACE pipeline as the backend loaded it (so with the patch on the instance)."""
    backend = pool.generation(Task.IMAGE_REFERENCE, tiny)
    assert isinstance(backend, WanVACEBackend)
    return backend.pipe


@pytest.fixture(scope="module")
def diffusers_prepare_masks() -> Any:
    """diffusers' own ``WanVACEPipeline.prepare_masks`` (the class's function, not the patched instance's);
    imported here so that collecting the tests does not import diffusers."""
    from diffusers import WanVACEPipeline

    return WanVACEPipeline.prepare_masks


def _mask(frames: int) -> torch.Tensor:
    """A preprocessed VACE mask as the pipeline hands it to ``prepare_masks``: (batch, 3, frames, H, W), ones
    (generate everywhere) so that padding frames (zeros) are told apart from mask frames."""
    return torch.ones(1, 3, frames, SIDE, SIDE)


def _references(n: int) -> list[list[torch.Tensor]]:
    """``n`` preprocessed reference pictures for a batch of one, as ``preprocess_conditions`` returns them."""
    return [[torch.zeros(3, SIDE, SIDE) for _ in range(n)]]


def _latent_frames(pipe: Any, frames: int) -> int:
    return (frames + pipe.vae_scale_factor_temporal - 1) // pipe.vae_scale_factor_temporal


def test_diffusers_prepare_masks_still_pads_an_image_with_two_references_too_little(
    pipe: Any, diffusers_prepare_masks: Any
) -> None:
    refs = 2
    out = diffusers_prepare_masks(pipe, _mask(1), _references(refs))
    wanted = refs + _latent_frames(pipe, 1)
    if out.shape[2] == wanted:
        pytest.fail(
            "diffusers fixed prepare_masks (an image with two references gets one padding frame per reference): "
            "remove the patch in wan_vace.py (_pad_masks_per_reference) and this test"
        )
    assert out.shape[2] < wanted  # the bug as we know it: too few padding frames, a shape mismatch later


def test_patched_prepare_masks_pads_one_zero_frame_per_reference_before_the_mask(pipe: Any) -> None:
    for refs in (1, 2, 3):
        out = pipe.prepare_masks(_mask(1), _references(refs))
        assert out.shape[2] == refs + _latent_frames(pipe, 1)
        assert torch.all(out[:, :, :refs] == 0), "padding frames must be zeros (keep the references)"
        assert torch.all(out[:, :, refs:] == 1), "the mask's own frames follow the padding unchanged"


@pytest.mark.parametrize(("frames", "refs"), [(1, 0), (9, 0), (9, 1), (9, 2)])
def test_patched_prepare_masks_matches_diffusers_where_diffusers_pads_enough(
    pipe: Any, diffusers_prepare_masks: Any, frames: int, refs: int
) -> None:
    # nine frames are three latent frames: diffusers' slice holds up to three references correctly
    mask, references = _mask(frames), _references(refs)
    assert torch.equal(pipe.prepare_masks(mask, references), diffusers_prepare_masks(pipe, mask, references))
