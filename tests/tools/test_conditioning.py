"""Each conditioning input really reaches VACE.

With random tiny weights, conditioning moves decoded pixels by ~1e-6, so these tests compare the final
*latents* (``output_type="latent"``) of two runs with the same seed that differ in one input only.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest
import torch
from PIL import Image

from unison_agent.spec import ControlType, Input, Media, Role, Task, TaskSpec
from unison_agent.tools import ModelPool, ModelUnavailableError, Profile
from unison_agent.tools.backends import GenerationRequest
from unison_agent.tools.generation import Conditions, build_conditions, snap_spec

W, H = 96, 64


def _spec(task: Task, inputs: list[tuple[str, Media, Role]], **kw: object) -> TaskSpec:
    return TaskSpec(
        task=task,
        prompt=kw.pop("prompt", "a red fox"),  # type: ignore[arg-type]
        inputs=[Input(path=p, media=m, role=r) for p, m, r in inputs],
        width=W,
        height=H,
        **kw,  # type: ignore[arg-type]
    )


@pytest.fixture(scope="module")
def latents(pool: ModelPool, tiny: Profile) -> Callable[..., torch.Tensor]:
    backend = pool.for_task(Task.TEXT_TO_VIDEO, tiny)

    def extractor_for(ctype: ControlType):  # type: ignore[no-untyped-def]
        name = tiny.extractors.get(ctype)
        return None if name is None else pool.get(name, tiny.models[name], tiny)

    def run(spec: TaskSpec) -> torch.Tensor:
        spec, _ = snap_spec(spec, backend)
        cond = build_conditions(spec, backend, extractor_for=extractor_for)
        request = GenerationRequest(
            prompt=spec.prompt,
            width=W,
            height=H,
            num_frames=cond.num_frames,
            seed=0,
            steps=2,
            guidance_scale=5.0,
            video=cond.video,
            mask=cond.mask,
            references=cond.references,
        )
        out: torch.Tensor = backend.generate(request, output_type="latent")
        return out

    return run


def _differ(a: torch.Tensor, b: torch.Tensor) -> bool:
    return a.shape != b.shape or float((a - b).abs().max()) > 1e-4


def _conditions(spec: TaskSpec, pool: ModelPool, tiny: Profile) -> Conditions:
    backend = pool.for_task(spec.task, tiny)
    return build_conditions(snap_spec(spec, backend)[0], backend)


def test_same_seed_same_inputs_give_identical_latents(latents: Callable[..., torch.Tensor]) -> None:
    spec = _spec(Task.TEXT_TO_IMAGE, [])
    assert not _differ(latents(spec), latents(spec))


def test_prompt_is_used(latents: Callable[..., torch.Tensor]) -> None:
    a = latents(_spec(Task.TEXT_TO_IMAGE, [], prompt="a red fox"))
    assert _differ(a, latents(_spec(Task.TEXT_TO_IMAGE, [], prompt="a stone castle")))


def test_edit_source_is_used(latents: Callable[..., torch.Tensor], media: Callable[..., str]) -> None:
    mask = media("mask.png", "mask")
    runs = [
        latents(_spec(Task.IMAGE_EDITING, [(src, Media.IMAGE, Role.SOURCE), (mask, Media.IMAGE, Role.MASK)]))
        for src in (media("a.png", "photo"), media("b.png", "depth"))
    ]
    assert _differ(*runs)


def test_edit_mask_is_used_and_no_mask_regenerates_the_whole_frame(
    latents: Callable[..., torch.Tensor], media: Callable[..., str], pool: ModelPool, tiny: Profile
) -> None:
    src = (media("a.png", "photo"), Media.IMAGE, Role.SOURCE)
    mask = (media("mask.png", "mask"), Media.IMAGE, Role.MASK)
    with_mask = _spec(Task.IMAGE_EDITING, [src, mask])
    without = _spec(Task.IMAGE_EDITING, [src])
    assert _differ(latents(with_mask), latents(without))
    cond = _conditions(without, pool, tiny)
    assert cond.mask is not None and cond.mask[0].getextrema() == (255, 255)
    assert any("whole frame is regenerated" in n for n in cond.notes)


def test_mask_white_means_regenerate_and_black_means_keep(
    media: Callable[..., str], pool: ModelPool, tiny: Profile, tmp_path, latents: Callable[..., torch.Tensor]
) -> None:
    # Left half white (edit), right half black (keep); a different size from the output, and grey-ish values.
    mask_img = Image.new("L", (300, 200), 20)
    mask_img.paste(230, (0, 0, 150, 200))
    mask_path = str(tmp_path / "half.png")
    mask_img.save(mask_path)
    src = (media("a.png", "photo", size=(300, 200)), Media.IMAGE, Role.SOURCE)
    cond = _conditions(_spec(Task.IMAGE_EDITING, [src, (mask_path, Media.IMAGE, Role.MASK)]), pool, tiny)
    assert cond.mask is not None and cond.video is not None
    m = cond.mask[0]
    assert m.size == (W, H) and m.mode == "L"
    assert m.getpixel((5, H // 2)) == 255 and m.getpixel((W - 5, H // 2)) == 0
    assert set(np.unique(np.asarray(m)).tolist()) == {0, 255}
    # The inverted mask edits the other half, and the model sees the difference.
    inverted = Image.eval(mask_img, lambda v: 255 - v)
    inv_path = str(tmp_path / "inverted.png")
    inverted.save(inv_path)
    a = latents(_spec(Task.IMAGE_EDITING, [src, (mask_path, Media.IMAGE, Role.MASK)]))
    b = latents(_spec(Task.IMAGE_EDITING, [src, (inv_path, Media.IMAGE, Role.MASK)]))
    assert _differ(a, b)


@pytest.mark.slow
def test_an_image_mask_is_applied_to_every_frame_of_a_video_edit(
    media: Callable[..., str], pool: ModelPool, tiny: Profile
) -> None:
    spec = _spec(
        Task.VIDEO_EDITING,
        [
            (media("clip.mp4", "photo", frames=16, fps=16), Media.VIDEO, Role.SOURCE),
            (media("m.png", "mask"), Media.IMAGE, Role.MASK),
        ],
        num_frames=9,
    )
    cond = _conditions(spec, pool, tiny)
    assert cond.video is not None and cond.mask is not None
    assert len(cond.video) == len(cond.mask) == 9
    assert all(m.tobytes() == cond.mask[0].tobytes() for m in cond.mask)
    assert all(f.size == (W, H) for f in cond.video)


@pytest.mark.slow
def test_a_mask_video_gives_one_mask_per_frame(
    media: Callable[..., str], pool: ModelPool, tiny: Profile, latents: Callable[..., torch.Tensor]
) -> None:
    src = (media("clip.mp4", "photo", frames=16, fps=16), Media.VIDEO, Role.SOURCE)
    moving = (media("masks.mp4", "depth", frames=16, fps=16), Media.VIDEO, Role.MASK)
    still = (media("m.png", "mask"), Media.IMAGE, Role.MASK)
    cond = _conditions(_spec(Task.VIDEO_EDITING, [src, moving], num_frames=9), pool, tiny)
    assert cond.mask is not None and len(cond.mask) == 9
    assert len({m.tobytes() for m in cond.mask}) > 1  # the mask moves with the clip
    assert _differ(
        latents(_spec(Task.VIDEO_EDITING, [src, moving], num_frames=9)),
        latents(_spec(Task.VIDEO_EDITING, [src, still], num_frames=9)),
    )


@pytest.mark.slow
def test_every_reference_is_used(latents: Callable[..., torch.Tensor], media: Callable[..., str]) -> None:
    a, b = media("dog.png", "photo"), media("hat.png", "scribble")
    one = latents(_spec(Task.IMAGE_REFERENCE, [(a, Media.IMAGE, Role.REFERENCE)]))
    other = latents(_spec(Task.IMAGE_REFERENCE, [(b, Media.IMAGE, Role.REFERENCE)]))
    both = latents(_spec(Task.IMAGE_REFERENCE, [(a, Media.IMAGE, Role.REFERENCE), (b, Media.IMAGE, Role.REFERENCE)]))
    assert _differ(one, other)
    # VACE puts each reference in a latent frame of its own, in front of the output's frames.
    assert both.shape[2] == one.shape[2] + 1
    assert _differ(both[:, :, 1:], one)


@pytest.mark.slow
def test_first_last_and_both_frames_are_kept_where_asked(
    media: Callable[..., str], pool: ModelPool, tiny: Profile, latents: Callable[..., torch.Tensor]
) -> None:
    first = (media("start.png", "photo"), Media.IMAGE, Role.FIRST_FRAME)
    last = (media("end.png", "depth"), Media.IMAGE, Role.LAST_FRAME)
    specs = {
        "first": _spec(Task.IMAGE_TO_VIDEO, [first], num_frames=9),
        "last": _spec(Task.IMAGE_TO_VIDEO, [last], num_frames=9),
        "both": _spec(Task.IMAGE_TO_VIDEO, [first, last], num_frames=9),
    }
    kept = {}
    for name, spec in specs.items():
        cond = _conditions(spec, pool, tiny)
        assert cond.mask is not None and len(cond.mask) == 9
        kept[name] = [i for i, m in enumerate(cond.mask) if m.getextrema() == (0, 0)]
    assert kept == {"first": [0], "last": [8], "both": [0, 8]}
    runs = {name: latents(spec) for name, spec in specs.items()}
    assert _differ(runs["first"], runs["last"])
    assert _differ(runs["first"], runs["both"])
    assert _differ(runs["last"], runs["both"])


def test_a_ready_control_map_is_used_as_attached(
    media: Callable[..., str], pool: ModelPool, tiny: Profile, latents: Callable[..., torch.Tensor]
) -> None:
    pose = media("pose.png", "pose")
    cond = _conditions(
        _spec(Task.IMAGE_CONTROL, [(pose, Media.IMAGE, Role.CONTROL)], control_type=ControlType.POSE), pool, tiny
    )
    assert not any("extracted" in n for n in cond.notes)
    a = latents(_spec(Task.IMAGE_CONTROL, [(pose, Media.IMAGE, Role.CONTROL)]))
    b = latents(_spec(Task.IMAGE_CONTROL, [(media("depth.png", "depth"), Media.IMAGE, Role.CONTROL)]))
    assert _differ(a, b)


@pytest.mark.slow
def test_canny_gray_and_scribble_are_extracted_from_an_ordinary_clip(
    media: Callable[..., str], pool: ModelPool, tiny: Profile
) -> None:
    clip = (media("clip.mp4", "photo", frames=16, fps=16), Media.VIDEO, Role.CONTROL)
    for ctype in (ControlType.CANNY, ControlType.GRAY, ControlType.SCRIBBLE):
        cond = _conditions(_spec(Task.VIDEO_CONTROL, [clip], num_frames=5, control_type=ctype), pool, tiny)
        assert cond.video is not None and len(cond.video) == 5
        assert any(f"{ctype.value} map extracted" in n for n in cond.notes)
        if ctype is ControlType.GRAY:
            r, g, b = cond.video[0].split()
            assert r.tobytes() == g.tobytes() == b.tobytes()


def test_depth_is_extracted_with_the_profiles_depth_model(
    media: Callable[..., str], pool: ModelPool, tiny: Profile
) -> None:
    photo = (media("room.png", "photo"), Media.IMAGE, Role.CONTROL)
    backend = pool.for_task(Task.IMAGE_CONTROL, tiny)
    spec = snap_spec(_spec(Task.IMAGE_CONTROL, [photo], control_type=ControlType.DEPTH), backend)[0]
    name = tiny.extractors[ControlType.DEPTH]
    cond = build_conditions(spec, backend, extractor_for=lambda _c: pool.get(name, tiny.models[name], tiny))
    assert cond.video is not None and cond.video[0].size == (W, H)
    assert any("depth map extracted" in n for n in cond.notes)


def test_a_model_backed_map_without_an_extractor_names_what_is_missing(
    media: Callable[..., str], pool: ModelPool, tiny: Profile
) -> None:
    photo = (media("dancer.png", "photo"), Media.IMAGE, Role.CONTROL)
    with pytest.raises(ModelUnavailableError, match=r"no pose extractor: attach a ready pose map, or name a model"):
        _conditions(_spec(Task.IMAGE_CONTROL, [photo], control_type=ControlType.POSE), pool, tiny)


@pytest.mark.slow
def test_flow_is_extracted_from_an_ordinary_clip_with_the_profiles_flow_model(
    media: Callable[..., str], pool: ModelPool, tiny: Profile
) -> None:
    clip = (media("walk.mp4", "photo", frames=16, fps=16), Media.VIDEO, Role.CONTROL)
    backend = pool.for_task(Task.VIDEO_CONTROL, tiny)
    spec = snap_spec(_spec(Task.VIDEO_CONTROL, [clip], num_frames=5, control_type=ControlType.FLOW), backend)[0]
    name = tiny.extractors[ControlType.FLOW]
    cond = build_conditions(spec, backend, extractor_for=lambda _c: pool.get(name, tiny.models[name], tiny))
    assert cond.video is not None and len(cond.video) == 5 and cond.video[0].size == (W, H)
    assert any("flow map extracted from the video" in n for n in cond.notes)
