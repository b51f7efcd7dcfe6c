"""Generation: the nine generation tasks, each turned into VACE's three inputs and run on one backend.

VACE takes conditioning frames, a mask per frame (white = generate, black = keep) and reference pictures. Each
task family builds those from the spec's attachments, at exactly the output size and frame count:

    text_to_image / text_to_video   nothing: VACE starts from an empty canvas
    image_editing / video_editing   the source, and the user's mask (binarised; an image mask on every frame),
                                    or an all-white mask: the whole frame regenerated, guided by the source
    image_reference / video_reference   the reference pictures, one or several
    image_to_video                  the first and/or last frame kept, grey frames generated between
    image_control / video_control   a control map: ready as attached, or extracted from an ordinary picture/clip

Before that the spec is snapped to what the model accepts (sides multiples of 16, 4k+1 frames, the model's
frame rate) and every change is reported in ``notes``. A video asked at a lower fps than the model's is made at
the model's fps over the asked length and resampled down before it is written, so the file plays at the asked
fps with the asked frames. Outputs are written whole or not at all.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from threading import Event
from typing import Any

from PIL import Image

import unison_agent.tools.control as control
from unison_agent import __version__
from unison_agent.errors import DeviceMemoryError, InputError, ModelUnavailableError, RunCancelled
from unison_agent.media import Look, probe
from unison_agent.spec import ControlType, Media, Role, Task, TaskSpec, duration_for_frames
from unison_agent.tools.backends import ExtractorBackend, GenerationBackend, GenerationRequest, VaceOptions
from unison_agent.tools.backends.caches import refusal
from unison_agent.tools.frames import binarise, fit, open_image, read_video
from unison_agent.tools.outputs import resample, slug, unique_path, write_mp4, write_png
from unison_agent.tools.results import Artifact, Progress, ProgressEvent, RunResult, renamed_inputs

__all__ = ["Conditions", "build_conditions", "generate", "snap_spec"]

GREY = (128, 128, 128)  # VACE's "nothing here yet" colour (0 in [-1, 1])
ExtractorLookup = Callable[[ControlType], ExtractorBackend | None]


@dataclass
class Conditions:
    """VACE's inputs for one spec. ``num_frames`` may be lower than asked when a clip is shorter."""

    num_frames: int
    video: list[Image.Image] | None = None
    mask: list[Image.Image] | None = None
    references: list[Image.Image] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


# ------------------------------------------------------------------------------------------------ snapping
def _nearest_multiple(value: int, multiple: int) -> int:
    return max(multiple, int(value / multiple + 0.5) * multiple)


def _frames_down(n: int, step: int) -> int:
    """The largest ``step * k + 1`` not above ``n`` (at least 1)."""
    return max(1, (n - 1) // step * step + 1)


def snap_spec(spec: TaskSpec, backend: GenerationBackend) -> tuple[TaskSpec, list[str]]:
    """The spec adjusted to what ``backend`` accepts, and one note per change (never silent).

    Sides go to the nearest multiple of ``backend.size_multiple``; a video is made at the model's frame rate
    (keeping the asked duration) with the nearest ``frame_step * k + 1`` frames. Below the model's frame rate
    the count is rounded *up* instead, so that every asked frame exists to be kept when :func:`generate`
    resamples the clip to the asked fps; that change is noted by :func:`generate`, which knows what it kept.
    """
    notes: list[str] = []
    changes: dict[str, Any] = {}
    assert spec.width is not None and spec.height is not None
    m = backend.size_multiple
    w, h = _nearest_multiple(spec.width, m), _nearest_multiple(spec.height, m)
    if (w, h) != (spec.width, spec.height):
        notes.append(f"size {spec.width}x{spec.height} snapped to {w}x{h} (the model needs multiples of {m})")
        changes.update(width=w, height=h)
    if spec.task.output_media is Media.VIDEO:
        assert spec.num_frames is not None and spec.fps is not None
        frames, fps = spec.num_frames, spec.fps
        step = backend.frame_step
        if fps < backend.fps:
            # The asked frame i is the model's frame i * model_fps // fps (outputs.resample): make up to the last.
            needed = (frames - 1) * backend.fps // fps + 1
            frames, fps = -(-(needed - 1) // step) * step + 1, backend.fps
        elif fps != backend.fps:
            seconds = duration_for_frames(frames, fps)
            frames = int(seconds * backend.fps + 0.5) + 1
            notes.append(
                f"{fps} fps asked; the model makes {backend.fps} fps, so {seconds:g} s is {frames} frames at "
                f"{backend.fps} fps"
            )
            fps = backend.fps
        if (frames - 1) % step:
            snapped = max(step + 1, int((frames - 1) / step + 0.5) * step + 1)
            notes.append(f"{frames} frames snapped to {snapped} (the model makes {step}k+1 frames)")
            frames = snapped
        if (frames, fps) != (spec.num_frames, spec.fps):
            changes.update(num_frames=frames, fps=fps, duration_s=round(duration_for_frames(frames, fps), 4))
    if not changes:
        return spec, notes
    return spec.model_validate({**spec.model_dump(), **changes}), notes


# ------------------------------------------------------------------------------------------------ task families
def _one(spec: TaskSpec, role: Role) -> str | None:
    found = spec.inputs_with(role)
    return found[0].path if found else None


def _images(paths: list[str]) -> list[Image.Image]:
    return [open_image(p) for p in paths]


def _clip(path: str, spec: TaskSpec, fps: int, what: str, mode: str = "RGB") -> list[Image.Image]:
    assert spec.width is not None and spec.height is not None and spec.num_frames is not None
    clip = read_video(path, fps=fps, max_frames=spec.num_frames, width=spec.width, height=spec.height, mode=mode)
    if not clip.frames:
        raise InputError(f"{path}: the {what} has no frames")
    return clip.frames


def _shorten(cond: Conditions, available: int, step: int, what: str, path: str) -> None:
    """Cut the frame count to what a shorter clip provides (as a valid 4k+1 count) and say so."""
    if available >= cond.num_frames:
        return
    n = _frames_down(available, step)
    if n < step + 1:
        raise InputError(
            f"{path}: the {what} gives only {available} frame(s) at the output frame rate; a video needs at least "
            f"{step + 1}"
        )
    cond.notes.append(
        f"{Path(path).name}: the {what} gives {available} frames; making {n} frames instead of {cond.num_frames}"
    )
    cond.num_frames = n


def _frames(path: str, media: Media, spec: TaskSpec, ctx: _Context, cond: Conditions, what: str) -> list[Image.Image]:
    """The attachment at the output size: one frame for a picture; for a clip, frames at the output fps, with the
    output shortened (and the change noted) when the clip is shorter than asked."""
    if media is Media.IMAGE:
        return [fit(open_image(path), ctx.width, ctx.height)]
    frames = _clip(path, spec, ctx.fps, what)
    _shorten(cond, len(frames), ctx.frame_step, what, path)
    return frames[: cond.num_frames]


def _text_to_x(spec: TaskSpec, ctx: _Context) -> Conditions:
    return Conditions(num_frames=ctx.num_frames)


def _reference(spec: TaskSpec, ctx: _Context) -> Conditions:
    refs = _images([i.path for i in spec.inputs_with(Role.REFERENCE)])
    return Conditions(num_frames=ctx.num_frames, references=refs)


def _editing(spec: TaskSpec, ctx: _Context) -> Conditions:
    source = _one(spec, Role.SOURCE)
    assert source is not None
    cond = Conditions(num_frames=ctx.num_frames, references=_images([i.path for i in spec.inputs_with(Role.REFERENCE)]))
    frames = _frames(source, probe(source).media, spec, ctx, cond, "source video")
    mask_path = _one(spec, Role.MASK)
    if mask_path is None:
        # No mask: every pixel is regenerated, and the source steers the result as VACE's reactive content.
        masks = [Image.new("L", (ctx.width, ctx.height), 255)] * len(frames)
        cond.notes.append("no mask attached: the whole frame is regenerated, guided by the source")
    elif probe(mask_path).media is Media.IMAGE:
        masks = [
            binarise(
                fit(open_image(mask_path, keep_alpha=True), ctx.width, ctx.height, resample=Image.Resampling.NEAREST)
            )
        ]
        masks *= len(frames)
    else:
        masks = [binarise(m) for m in _clip(mask_path, spec, ctx.fps, "mask video", mode="L")]
        if len(masks) < len(frames):
            raise InputError(
                f"{mask_path}: the mask video gives {len(masks)} frames at {ctx.fps} fps but the source gives "
                f"{len(frames)}; a mask video must be as long as its source (or attach one mask image for all frames)"
            )
        masks = masks[: len(frames)]
    if not any(m.getextrema()[1] for m in masks):
        raise InputError(f"{mask_path}: the mask is all black, so nothing would change (white marks what to edit)")
    cond.video, cond.mask = frames, masks
    return cond


def _image_to_video(spec: TaskSpec, ctx: _Context) -> Conditions:
    first, last = _one(spec, Role.FIRST_FRAME), _one(spec, Role.LAST_FRAME)
    n = ctx.num_frames
    grey = Image.new("RGB", (ctx.width, ctx.height), GREY)
    white = Image.new("L", (ctx.width, ctx.height), 255)
    black = Image.new("L", (ctx.width, ctx.height), 0)
    video, mask = [grey] * n, [white] * n
    if first is not None:
        video[0], mask[0] = fit(open_image(first), ctx.width, ctx.height), black
    if last is not None:
        video[-1], mask[-1] = fit(open_image(last), ctx.width, ctx.height), black
    return Conditions(num_frames=n, video=video, mask=mask)


def _control(spec: TaskSpec, ctx: _Context) -> Conditions:
    path = _one(spec, Role.CONTROL)
    assert path is not None
    cond = Conditions(num_frames=ctx.num_frames, references=_images([i.path for i in spec.inputs_with(Role.REFERENCE)]))
    info = probe(path)
    frames = _frames(path, info.media, spec, ctx, cond, "control video")
    ctype = spec.control_type
    # A layout (boxes or shapes per object) has no look we can recognise and no extractor: it is used as given.
    if ctype is ControlType.LAYOUT or control.is_ready_map(ctype, info.look, is_grey=control.is_grey(frames[0])):
        maps = [control.as_control_map(f, info.look) for f in frames]
    else:
        if ctype is None:
            # A plain picture with no stated signal: edges keep its layout and need no model.
            ctype = ControlType.CANNY
            cond.notes.append(
                f"{Path(path).name} is not a control map and no control type was given: using its canny edges"
            )
        maps = _extract(ctype, frames, path, info.look, ctx)
        cond.notes.append(f"{Path(path).name}: {ctype.value} map extracted from the {info.media.value}")
    cond.video = maps
    cond.mask = [Image.new("L", (ctx.width, ctx.height), 255)] * len(maps)
    return cond


def _extract(ctype: ControlType, frames: list[Image.Image], path: str, look: Look, ctx: _Context) -> list[Image.Image]:
    if ctype in control.WEIGHTLESS:
        return control.extract(ctype, frames)
    extractor = ctx.extractor_for(ctype)
    if extractor is None:
        raise ModelUnavailableError(
            f"{path} looks like a {look.value}, not a {ctype.value} map, and profile {ctx.profile_name!r} has no "
            f"{ctype.value} extractor: attach a ready {ctype.value} map, or name a model under [extractors] "
            f"{ctype.value} in the profile"
        )
    return [im.resize((ctx.width, ctx.height)) for im in extractor.extract(frames)]


@dataclass
class _Context:
    width: int
    height: int
    num_frames: int
    fps: int
    frame_step: int
    profile_name: str
    extractor_for: ExtractorLookup


_FAMILIES: dict[Task, Callable[[TaskSpec, _Context], Conditions]] = {
    Task.TEXT_TO_IMAGE: _text_to_x,
    Task.TEXT_TO_VIDEO: _text_to_x,
    Task.IMAGE_EDITING: _editing,
    Task.VIDEO_EDITING: _editing,
    Task.IMAGE_REFERENCE: _reference,
    Task.VIDEO_REFERENCE: _reference,
    Task.IMAGE_TO_VIDEO: _image_to_video,
    Task.IMAGE_CONTROL: _control,
    Task.VIDEO_CONTROL: _control,
}


def build_conditions(
    spec: TaskSpec,
    backend: GenerationBackend,
    *,
    extractor_for: ExtractorLookup = lambda _ctype: None,
    profile_name: str = "",
) -> Conditions:
    """VACE's inputs for a snapped ``spec``. Raises :class:`InputError` for unusable attachments and
    :class:`ModelUnavailableError` when a control map needs an extractor the profile does not have."""
    assert spec.width is not None and spec.height is not None and spec.num_frames is not None
    ctx = _Context(
        width=spec.width,
        height=spec.height,
        num_frames=spec.num_frames,
        fps=spec.fps or backend.fps,
        frame_step=backend.frame_step,
        profile_name=profile_name,
        extractor_for=extractor_for,
    )
    return _FAMILIES[spec.task](spec, ctx)


# ------------------------------------------------------------------------------------------------ the executor
def generate(
    spec: TaskSpec,
    backend: GenerationBackend,
    out_dir: Path,
    *,
    options: VaceOptions | None = None,
    model_label: str = "",
    extractor_for: ExtractorLookup = lambda _ctype: None,
    profile_name: str = "",
    on_progress: Progress | None = None,
    cancel: Event | None = None,
    input_names: Mapping[str, str] | None = None,
) -> RunResult:
    """Run a generation spec and write its outputs into ``out_dir`` (PNG for images, MP4 + JSON sidecar for
    videos; the spec and seed are stored with each). Returns the result with the spec as run.

    Raises :class:`InputError`, :class:`ModelUnavailableError`, or :class:`RunCancelled`; on any failure the
    files this call wrote are removed, so nothing half-done is left in ``out_dir``.
    """
    t0 = time.perf_counter()
    opts = options or VaceOptions()
    emit = on_progress or (lambda _e: None)
    run_spec, notes = snap_spec(spec, backend)
    emit(ProgressEvent("prepare", 0, 1, message="reading attachments"))
    cond = build_conditions(run_spec, backend, extractor_for=extractor_for, profile_name=profile_name)
    notes += cond.notes
    if cond.num_frames != run_spec.num_frames:
        assert run_spec.fps is not None
        run_spec = run_spec.model_validate(
            {
                **run_spec.model_dump(),
                "num_frames": cond.num_frames,
                "duration_s": round(duration_for_frames(cond.num_frames, run_spec.fps), 4),
            }
        )
    if run_spec.seed is None:
        run_spec = run_spec.model_copy(update={"seed": secrets.randbelow(2**32)})
        notes.append(f"no seed given: chose {run_spec.seed} (pass 'seed {run_spec.seed}' to repeat)")
    assert run_spec.seed is not None and run_spec.width is not None and run_spec.height is not None
    emit(ProgressEvent("prepare", 1, 1))

    # The spec as run says every sampling setting, so an output's metadata is enough to make it again.
    run_spec = run_spec.model_copy(
        update={
            "steps": run_spec.steps or opts.steps,
            "guidance_scale": opts.guidance_scale if run_spec.guidance_scale is None else run_spec.guidance_scale,
            "negative_prompt": opts.negative_prompt if run_spec.negative_prompt is None else run_spec.negative_prompt,
        }
    )
    assert run_spec.steps is not None and run_spec.guidance_scale is not None and run_spec.seed is not None
    assert run_spec.width is not None and run_spec.height is not None
    # A lower fps than the model's: the files hold the asked frames at the asked fps, kept from the model's.
    out_spec, made_fps = run_spec, None
    if spec.fps is not None and run_spec.fps is not None and spec.fps < run_spec.fps:
        out_spec, made_fps = _resampled(spec, run_spec, notes), run_spec.fps
    out_spec = renamed_inputs(out_spec, input_names or {})  # the names the caller knows its attachments by
    steps = run_spec.steps
    n_out = run_spec.num_outputs
    refused = refusal(opts.cache, run_spec.task)  # the backend runs this task without the cache; say so
    if refused is not None:
        notes.append(refused)
    out_dir.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    outputs: list[Artifact] = []
    try:
        for k in range(n_out):
            seed = (run_spec.seed + k) % 2**32
            request = GenerationRequest(
                prompt=run_spec.prompt,
                negative_prompt=run_spec.negative_prompt or "",
                width=run_spec.width,
                height=run_spec.height,
                num_frames=cond.num_frames,
                seed=seed,
                steps=steps,
                guidance_scale=run_spec.guidance_scale,
                video=cond.video,
                mask=cond.mask,
                references=cond.references,
                conditioning_scale=opts.conditioning_scale,
                task=run_spec.task,
            )

            def on_step(done: int, total: int, _k: int = k) -> None:
                if cancel is not None and cancel.is_set():
                    raise RunCancelled(f"cancelled at step {done}/{total}")
                emit(ProgressEvent("denoise", done, total, _k + 1, n_out))
                if done == total:  # the VAE decodes next, inside the pipeline: say so, it takes a while
                    emit(ProgressEvent("decode", 0, 1, _k + 1, n_out))

            if cancel is not None and cancel.is_set():
                raise RunCancelled("cancelled before generation started")
            frames = _generate(backend, request, on_step, emit, notes, profile_name, k + 1, n_out)
            if made_fps is not None:
                assert out_spec.fps is not None
                frames = resample(frames, made_fps, out_spec.fps, max_frames=out_spec.num_frames)
            emit(ProgressEvent("write", 0, 1, k + 1, n_out))
            outputs.append(_write(frames, out_spec, seed, k, notes, out_dir, model_label, written))
            emit(ProgressEvent("write", 1, 1, k + 1, n_out))
    except BaseException:
        for path in written:
            path.unlink(missing_ok=True)
            path.with_suffix(".json").unlink(missing_ok=True)
        raise
    return RunResult(spec=out_spec, outputs=outputs, notes=notes, seconds=time.perf_counter() - t0)


def _generate(
    backend: GenerationBackend,
    request: GenerationRequest,
    on_step: Callable[[int, int], None],
    emit: Progress,
    notes: list[str],
    profile_name: str,
    output: int,
    outputs: int,
) -> Any:
    """One generation, with its one-off compile shown as a stage, and one retry with a memory lever switched on
    when the device runs out of memory (recorded in ``notes``). A second failure names the ``lowvram`` profile
    and the size that failed."""
    size = f"{request.width}x{request.height}x{request.num_frames}"
    step = on_step
    if backend.warms_up(request):
        emit(ProgressEvent("compile", 0, 1, output, outputs, message=f"compiling the model for {size} (once)"))

        def step(done: int, total: int) -> None:
            if done == 1:  # the first step ran the compiled code, so compiling is over
                emit(ProgressEvent("compile", 1, 1, output, outputs))
            on_step(done, total)

    try:
        return backend.generate(request, on_step=step)
    except DeviceMemoryError as first:
        lever = backend.lower_memory(first.stage)
        if lever is None:
            raise DeviceMemoryError(_out_of_memory(str(first), profile_name, retried=False)) from None
        notes.append(f"{first}: ran again with {lever}")
        emit(ProgressEvent("prepare", 0, 1, output, outputs, message=f"out of memory: running again with {lever}"))
        try:
            return backend.generate(request, on_step=on_step)
        except DeviceMemoryError as second:
            raise DeviceMemoryError(_out_of_memory(str(second), profile_name, retried=True)) from None


def _out_of_memory(what: str, profile_name: str, *, retried: bool) -> str:
    tried = ", also after switching on a memory lever," if retried else ""
    if profile_name.partition("+")[0] == "lowvram":  # lowvram itself, or lowvram+random (the GPU benchmark)
        fix = "ask for a smaller size or fewer frames"
    else:
        fix = "use --profile lowvram (group offloading and VAE tiling), or ask for a smaller size or fewer frames"
    return f"{what}{tried}: it does not fit on this device; {fix}; nothing was written"


def _resampled(asked: TaskSpec, made: TaskSpec, notes: list[str]) -> TaskSpec:
    """The spec of the files written when the clip ``made`` at the model's fps is resampled to ``asked.fps``: the
    asked frames that ``made`` covers (all of them unless an attached clip was shorter), and a note saying so.

    Raises :class:`InputError` when fewer than two frames remain (a very short attached clip at a low fps)."""
    assert asked.fps is not None and asked.num_frames is not None
    assert made.fps is not None and made.num_frames is not None
    kept = min((made.num_frames - 1) * asked.fps // made.fps + 1, asked.num_frames)
    made_s = duration_for_frames(made.num_frames, made.fps)
    if kept < 2:
        raise InputError(
            f"the attachments give {made_s:g} s of video, less than two frames at {asked.fps} fps; a clip at "
            f"{asked.fps} fps needs at least {duration_for_frames(2, asked.fps):g} s"
        )
    notes.append(
        f"{asked.fps} fps asked; generated {made_s:g} s at {made.fps} fps ({made.num_frames} frames) and kept "
        f"{kept} frames at {asked.fps} fps"
    )
    # All the asked frames kept: the asked duration stands (it may differ from theirs by under half a frame).
    same = kept == asked.num_frames and asked.duration_s is not None
    duration = asked.duration_s if same else round(duration_for_frames(kept, asked.fps), 4)
    return made.model_validate({**made.model_dump(), "fps": asked.fps, "num_frames": kept, "duration_s": duration})


def _write(
    frames: Any,
    spec: TaskSpec,
    seed: int,
    index: int,
    notes: list[str],
    out_dir: Path,
    model_label: str,
    written: list[Path],
) -> Artifact:
    n, h, w = int(frames.shape[0]), int(frames.shape[1]), int(frames.shape[2])
    metadata = {
        "generator": f"unison-agent {__version__}",
        "model": model_label,
        "spec": spec.model_copy(update={"seed": seed}).to_json_dict(),
        "seed": seed,
        "output_index": index,
        "notes": notes,
    }
    stem = slug(spec.prompt) or spec.task.value
    if spec.task.output_media is Media.IMAGE:
        path = unique_path(out_dir, f"{stem}-{seed}", ".png")
        written.append(path)
        write_png(path, frames[0], metadata)
        return Artifact(path=str(path), media=Media.IMAGE, width=w, height=h, num_frames=1, fps=None, seed=seed)
    assert spec.fps is not None
    path = unique_path(out_dir, f"{stem}-{seed}", ".mp4")
    written.append(path)
    write_mp4(path, frames, spec.fps, metadata)
    return Artifact(path=str(path), media=Media.VIDEO, width=w, height=h, num_frames=n, fps=spec.fps, seed=seed)
