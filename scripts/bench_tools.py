"""`make bench`: what the tool layer costs on top of diffusers, and how often models are loaded. Prints figures;
asserts nothing.

1. Overhead. For a few representative specs on the ``tiny`` profile (random-weight models, offline), each repeat
   times two legs side by side, alternating which goes first:

   - tool: ``unison_agent.tools.run(spec, ...)``, the whole tool layer: the readiness check, the pool look-up,
     snapping, reading and probing the attachments, building VACE's inputs, the pipeline, writing the PNG
     (metadata chunk) or the MP4 (H.264 + JSON sidecar), atomically;
   - direct: the same pipeline object, called as a diffusers user would (``pipe(**kwargs, output_type="np")``),
     with exactly the inputs the tool hands it (``WanVACEBackend.pipeline_kwargs`` of the same
     ``GenerationRequest``: same prompt, size, frames, seed, steps, guidance, conditioning frames, masks and
     references), then saved the plain way: ``PIL.Image.save`` for a picture, ``diffusers.utils.export_to_video``
     for a clip (or, when imageio is not installed, which that function needs, PyAV's libx264 with its defaults).

   The direct leg builds its inputs (``build_conditions``: reading the attachments, fitting, masks) just before
   its timer starts, and that preparation is timed too, so two comparisons are printed: against the bare call
   ("direct", inputs handed over ready) and against "direct + prep" (a user who also has to read and prepare
   the files, done with the same code the tool uses). Each spec is run once untimed first (one-off costs), and
   that run checks that both legs gave the pipeline the same request and got the same frames. Medians are
   reported; the target is a tool/direct ratio of at most 1.05 (overhead <= 5 %). On a busy machine the pipeline
   time itself varies by more than that between calls, so a breakdown follows: the tool's time outside the
   pipeline minus the direct leg's save, as a share of the pipeline time, which that noise does not reach.

2. Loads. A fresh ``ModelPool`` runs all nine generation tasks in a row through ``run()`` at a small size; the
   pool's ``loads`` list says how many models were really loaded (one Wan-VACE pipeline serves all nine; a
   control from a ready map needs no extractor). The wall time of the sequence and of its first (loading) call
   are printed.
"""

from __future__ import annotations

import argparse
import importlib.util
import math
import os
import platform
import shutil
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, ImageDraw

# Offline before anything from Hugging Face is imported; tiny models are built into $UNISON_CACHE on first use.
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"
os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")

FPS = 16
SEED = 7
STEPS = 4
VIDEO_SIDE, FRAMES = 256, 13  # the video specs: 256x256, 13 frames (about 3 s of pipeline on 2 CPU threads)
IMAGE_SIDE = 512  # the image spec: large enough that its pipeline call takes about a second
PROMPT = "a red fox runs through the snow at dawn"


# ------------------------------------------------------------------------------------------------ inputs
def draw_photo(w: int, h: int, seed: int = 0) -> Image.Image:
    """A photo-like picture: colour gradients, sensor-like noise and a few rectangles."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:h, 0:w]
    base = np.stack([60 + 120 * x / w, 80 + 100 * y / h, 200 - 90 * x / w], -1) + rng.normal(0, 12, (h, w, 3))
    img = Image.fromarray(base.clip(0, 255).astype("uint8"))
    d = ImageDraw.Draw(img)
    for _ in range(5):
        x0, y0 = int(rng.integers(0, w - 30)), int(rng.integers(0, h - 30))
        box = [x0, y0, x0 + int(rng.integers(15, w // 3)), y0 + int(rng.integers(15, h // 3))]
        d.rectangle(box, fill=tuple(int(c) for c in rng.integers(0, 255, 3)))
    return img


def draw_mask(w: int, h: int) -> Image.Image:
    """White (edit) rectangle in the middle, black (keep) elsewhere."""
    img = Image.new("L", (w, h), 0)
    ImageDraw.Draw(img).rectangle([w // 3, h // 5, 2 * w // 3, 4 * h // 5], fill=255)
    return img


def draw_skeleton(w: int, h: int, t: float = 0.0) -> Image.Image:
    """An OpenPose-like stick figure: saturated limbs of several hues on black, swaying with ``t``."""
    img = Image.new("RGB", (w, h), "black")
    d = ImageDraw.Draw(img)
    cx, cy, s = w / 2 + math.sin(t) * w / 10, h / 2, h / 4
    pts = [
        (cx, cy - s),
        (cx, cy - s * 0.5),
        (cx, cy + s * 0.5),
        (cx - s * 0.7, cy),
        (cx + s * 0.7, cy - s * 0.3),
        (cx - s * 0.5, cy + s * 1.3),
        (cx + s * 0.5, cy + s * 1.3),
    ]
    colours = [(255, 0, 0), (255, 200, 0), (0, 220, 0), (0, 160, 255), (180, 0, 255), (255, 0, 140)]
    for i, (a, b) in enumerate([(0, 1), (1, 2), (1, 3), (1, 4), (2, 5), (2, 6)]):
        d.line([pts[a], pts[b]], fill=colours[i], width=max(3, w // 80))
    return img


def write_clip(path: Path, frames: list[Image.Image], fps: int) -> Path:
    import av

    with av.open(str(path), "w") as out:
        stream = out.add_stream("libx264", rate=fps)
        stream.width, stream.height, stream.pix_fmt = frames[0].width, frames[0].height, "yuv420p"
        for img in frames:
            out.mux(stream.encode(av.VideoFrame.from_image(img.convert("RGB"))))
        out.mux(stream.encode())
    return path


@dataclass
class Files:
    photo: str
    mask: str
    pose_png: str
    photo_clip: str
    pose_clip: str


def make_files(folder: Path, image: tuple[int, int], clip: tuple[int, int], frames: int) -> Files:
    """Pictures at ``image`` size (a photo, a mask, a pose map) and ``frames``-frame clips at ``clip`` size."""
    folder.mkdir(parents=True, exist_ok=True)
    draw_photo(*image).save(folder / "photo.png")
    draw_mask(*image).save(folder / "mask.png")
    draw_skeleton(*image).save(folder / "pose.png")
    write_clip(folder / "clip.mp4", [draw_photo(*clip, seed=i) for i in range(frames)], FPS)
    write_clip(folder / "pose.mp4", [draw_skeleton(*clip, i / 3) for i in range(frames)], FPS)
    return Files(*(str(folder / n) for n in ("photo.png", "mask.png", "pose.png", "clip.mp4", "pose.mp4")))


# ------------------------------------------------------------------------------------------------ specs
def make_spec(task: str, files: Files, w: int, h: int, frames: int, steps: int, prompt: str = PROMPT) -> Any:
    from unison_agent.spec import ControlType, Input, Media, Role, Task, TaskSpec

    t = Task(task)

    def att(path: str, role: Role) -> Input:
        return Input(path=path, media=Media.VIDEO if path.endswith(".mp4") else Media.IMAGE, role=role)

    inputs = {
        Task.TEXT_TO_IMAGE: [],
        Task.TEXT_TO_VIDEO: [],
        Task.IMAGE_EDITING: [att(files.photo, Role.SOURCE), att(files.mask, Role.MASK)],
        Task.VIDEO_EDITING: [att(files.photo_clip, Role.SOURCE), att(files.mask, Role.MASK)],
        Task.IMAGE_REFERENCE: [att(files.photo, Role.REFERENCE)],
        Task.VIDEO_REFERENCE: [att(files.photo, Role.REFERENCE)],
        Task.IMAGE_TO_VIDEO: [att(files.photo, Role.FIRST_FRAME)],
        Task.VIDEO_CONTROL: [att(files.pose_clip, Role.CONTROL)],
        Task.IMAGE_CONTROL: [att(files.pose_png, Role.CONTROL)],
    }[t]
    extra: dict[str, Any] = {}
    if t.output_media is Media.VIDEO:
        extra.update(num_frames=frames, fps=FPS)
    if t in (Task.IMAGE_CONTROL, Task.VIDEO_CONTROL):
        extra["control_type"] = ControlType.POSE
    return TaskSpec(task=t, prompt=prompt, inputs=inputs, width=w, height=h, steps=steps, seed=SEED, **extra)


def label(spec: Any) -> str:
    size = f"{spec.width}x{spec.height}"
    return f"{spec.task.value} {size}" + (f"x{spec.num_frames}" if spec.task.output_media.value == "video" else "")


# ------------------------------------------------------------------------------------------------ the two legs
def _save_video_plain(frames: np.ndarray, path: Path, fps: int) -> None:
    """What ``export_to_video`` does, through PyAV with libx264's defaults (for when imageio is missing)."""
    import av

    video = (frames * 255).astype(np.uint8)  # export_to_video's conversion
    with av.open(str(path), "w") as out:
        stream = out.add_stream("libx264", rate=fps)
        stream.width, stream.height, stream.pix_fmt = video.shape[2], video.shape[1], "yuv420p"
        for array in video:
            out.mux(stream.encode(av.VideoFrame.from_ndarray(array, format="rgb24")))
        out.mux(stream.encode())


def video_saver() -> tuple[str, Any]:
    """The plain way a diffusers user saves a clip here, and its name for the report."""
    if importlib.util.find_spec("imageio") and importlib.util.find_spec("imageio_ffmpeg"):
        from diffusers.utils import export_to_video

        return "diffusers.utils.export_to_video", lambda f, p, fps: export_to_video(list(f), str(p), fps=fps)
    return "PyAV libx264 defaults (export_to_video needs imageio + imageio-ffmpeg, not installed)", _save_video_plain


def request_for(spec: Any, backend: Any, options: Any) -> Any:
    """The GenerationRequest ``generate()`` builds for a snapped, single-output ``spec`` (same values, same code
    for the inputs)."""
    from unison_agent.tools.backends import GenerationRequest
    from unison_agent.tools.generation import build_conditions

    cond = build_conditions(spec, backend)
    return GenerationRequest(
        prompt=spec.prompt,
        negative_prompt=spec.negative_prompt if spec.negative_prompt is not None else options.negative_prompt,
        width=spec.width,
        height=spec.height,
        num_frames=cond.num_frames,
        seed=spec.seed,
        steps=spec.steps or options.steps,
        guidance_scale=spec.guidance_scale if spec.guidance_scale is not None else options.guidance_scale,
        video=cond.video,
        mask=cond.mask,
        references=cond.references,
        conditioning_scale=options.conditioning_scale,
    )


@dataclass
class Timing:
    total: float  # the leg's figure: tool = the whole run(); direct = pipeline + save (prep not included)
    before: float  # tool: run() up to the pipeline; direct: building the inputs (outside `total`)
    model: float  # the pipeline call itself
    after: float  # tool: uint8 + writing the file; direct: saving the file


class _Spy:
    """Wraps ``backend.generate`` to time the pipeline inside run() (costs a microsecond), and, when asked,
    to keep the request and frames for the same-inputs check."""

    def __init__(self, backend: Any) -> None:
        self.backend, self.inner = backend, backend.generate
        self.start = self.end = 0.0
        self.keep = False
        self.request: Any = None
        self.frames: Any = None

    def __call__(self, request: Any, **kw: Any) -> Any:
        self.start = time.perf_counter()
        frames = self.inner(request, **kw)
        self.end = time.perf_counter()
        if self.keep:
            self.request, self.frames = request, frames
        return frames

    def __enter__(self) -> _Spy:
        self.backend.generate = self
        return self

    def __exit__(self, *_: object) -> None:
        del self.backend.generate  # the class's method again


def tool_leg(spec: Any, profile: Any, pool: Any, out: Path, spy: _Spy) -> Timing:
    from unison_agent.tools import run

    t0 = time.perf_counter()
    run(spec, profile=profile, pool=pool, out_dir=out)
    t1 = time.perf_counter()
    return Timing(t1 - t0, spy.start - t0, spy.end - spy.start, t1 - spy.end)


def direct_leg(spec: Any, backend: Any, options: Any, out: Path, save_video: Any) -> tuple[Timing, Any, Any]:
    from unison_agent.tools.backends.wan_vace import to_uint8

    t0 = time.perf_counter()
    request = request_for(spec, backend, options)
    t1 = time.perf_counter()
    frames = backend.pipe(**backend.pipeline_kwargs(request), output_type="np").frames[0]
    t2 = time.perf_counter()
    out.mkdir(parents=True, exist_ok=True)
    if spec.task.output_media.value == "image":
        Image.fromarray(to_uint8(frames[0])).save(out / "out.png")
    else:
        save_video(frames, out / "out.mp4", FPS)
    t3 = time.perf_counter()
    return Timing(t3 - t1, t1 - t0, t2 - t1, t3 - t2), request, frames


# ------------------------------------------------------------------------------------------------ report
def pct(ratio: float) -> str:
    return f"{(ratio - 1) * 100:+.1f} %"


def overhead(args: argparse.Namespace, out: Path) -> None:
    from unison_agent.spec import Task
    from unison_agent.tools import ModelPool, load_profile
    from unison_agent.tools.backends.wan_vace import to_uint8

    w = h = VIDEO_SIDE
    files = make_files(out / "inputs", (IMAGE_SIDE, IMAGE_SIDE), (w, h), FRAMES)
    profile = load_profile("tiny")
    specs = [
        make_spec("text_to_video", files, w, h, FRAMES, STEPS),
        make_spec("image_editing", files, IMAGE_SIDE, IMAGE_SIDE, 1, STEPS, "make it winter and add falling snow"),
        make_spec("image_to_video", files, w, h, FRAMES, STEPS),
        make_spec("video_control", files, w, h, FRAMES, STEPS),
    ]
    pool = ModelPool()
    t0 = time.perf_counter()
    backend = pool.for_task(Task.TEXT_TO_VIDEO, profile)
    load_s = time.perf_counter() - t0
    _, entry = profile.model_for(Task.TEXT_TO_VIDEO)
    options = entry.parsed_options()
    saver_name, save_video = video_saver()
    print(f"model load (tiny wan-vace, shared by both legs): {load_s:.2f} s")
    print(f"direct leg saves clips with: {saver_name}")
    print(f"steps {STEPS}, seed {SEED}, {args.repeats} timed repeats per spec after one untimed run, medians\n")
    med = statistics.median

    print(
        f"{'spec':<27}{'tool s':>8}{'direct s':>10}{'ratio':>7}{'paired':>8}{'overhead':>10}  "
        f"{'d+prep s':>9}{'ratio':>7}{'overhead':>10}  same in/out"
    )
    rule = "-" * 110
    print(rule)
    rows: list[tuple[str, list[Timing], list[Timing]]] = []
    for spec in specs:
        name = spec.task.value
        with _Spy(backend) as spy:
            # Untimed first run of each leg; it also checks that both legs fed the pipeline the same request.
            spy.keep = True
            tool_leg(spec, profile, pool, out / "tool" / name / "warm", spy)
            _, request, direct_frames = direct_leg(spec, backend, options, out / "direct" / name / "warm", save_video)
            same = spy.request == request and np.array_equal(spy.frames, to_uint8(direct_frames))
            spy.keep, spy.request, spy.frames = False, None, None
            tools: list[Timing] = []
            directs: list[Timing] = []
            for i in range(args.repeats):
                for leg in ("tool", "direct") if i % 2 == 0 else ("direct", "tool"):
                    folder = out / leg / name / str(i)
                    if leg == "tool":
                        tools.append(tool_leg(spec, profile, pool, folder, spy))
                    else:
                        directs.append(direct_leg(spec, backend, options, folder, save_video)[0])
        rows.append((label(spec), tools, directs))
        tool_s, direct_s = med(t.total for t in tools), med(d.total for d in directs)
        with_prep = med(d.total + d.before for d in directs)
        paired = med(t.total / d.total for t, d in zip(tools, directs, strict=True))
        print(
            f"{label(spec):<27}{tool_s:>8.3f}{direct_s:>10.3f}{tool_s / direct_s:>7.3f}{paired:>8.3f}"
            f"{pct(tool_s / direct_s):>10}  {with_prep:>9.3f}{tool_s / with_prep:>7.3f}{pct(tool_s / with_prep):>10}  "
            f"{'yes' if same else 'NO'}",
            flush=True,
        )

    tool_sum = sum(med(t.total for t in ts) for _, ts, _ in rows)
    direct_sum = sum(med(d.total for d in ds) for _, _, ds in rows)
    prep_sum = sum(med(d.total + d.before for d in ds) for _, _, ds in rows)
    geo = math.exp(
        statistics.fmean(math.log(med(t.total for t in ts) / med(d.total for d in ds)) for _, ts, ds in rows)
    )
    print(rule)
    print(
        f"{'overall (sum of medians)':<27}{tool_sum:>8.3f}{direct_sum:>10.3f}{tool_sum / direct_sum:>7.3f}{'':>8}"
        f"{pct(tool_sum / direct_sum):>10}  {prep_sum:>9.3f}{tool_sum / prep_sum:>7.3f}{pct(tool_sum / prep_sum):>10}"
    )
    print(f"{'overall (geometric mean)':<27}{'':>18}{geo:>7.3f}{'':>8}{pct(geo):>10}")
    print("ratio = median tool / median direct; paired = median of tool/direct within each repeat (the two legs ran")
    print("back to back, so slow drifts in machine load cancel); d+prep = direct plus building its inputs")

    print("\nwhere the time goes (medians, ms)")
    print(
        f"  {'':<27}{'tool: before':>13}{'pipeline':>10}{'write':>8}   {'direct: prep':>13}{'pipeline':>10}{'save':>8}"
    )
    extra_sum = model_sum = 0.0
    for name, tools, directs in rows:
        t = [med(getattr(x, f) for x in tools) for f in ("before", "model", "after")]
        d = [med(getattr(x, f) for x in directs) for f in ("before", "model", "after")]
        print(
            f"  {name:<27}{t[0] * 1e3:>13.1f}{t[1] * 1e3:>10.1f}{t[2] * 1e3:>8.1f}   "
            f"{d[0] * 1e3:>13.1f}{d[1] * 1e3:>10.1f}{d[2] * 1e3:>8.1f}"
        )
        extra_sum += t[0] + t[2] - d[2]
        model_sum += d[1]
    print(
        f"  tool time outside the pipeline, minus the direct save: {extra_sum * 1e3:.0f} ms over {len(rows)} specs = "
        f"{extra_sum / model_sum * 100:.1f} % of the pipeline time (this figure ignores pipeline-time noise)"
    )
    ratio = tool_sum / direct_sum
    print(f"\ntarget tool/direct <= 1.05 (overhead <= 5 %): {'met' if ratio <= 1.05 else 'NOT met'} ({pct(ratio)})")


def loads(out: Path) -> None:
    from unison_agent.tools import ModelPool, load_profile, run

    w, h, frames, steps = 96, 64, 5, 2
    files = make_files(out / "inputs-small", (w, h), (w, h), frames)
    profile = load_profile("tiny")
    tasks = [
        "text_to_image",
        "text_to_video",
        "image_editing",
        "video_editing",
        "image_reference",
        "video_reference",
        "image_to_video",
        "video_control",
        "image_control",
    ]
    pool = ModelPool()
    times: list[float] = []
    notes: list[str] = []
    t0 = time.perf_counter()
    for task in tasks:
        t = time.perf_counter()
        result = run(make_spec(task, files, w, h, frames, steps), profile=profile, pool=pool, out_dir=out / "seq")
        times.append(time.perf_counter() - t)
        notes += [f"{task}: {n}" for n in result.notes]
    total = time.perf_counter() - t0
    print(f"\nloads across the nine generation tasks ({w}x{h}, {frames} frames, {steps} steps, fresh ModelPool)")
    print(f"  models loaded: {len(pool.loads)}  {pool.loads}")
    print(
        f"  sequence wall {total:.2f} s; first call (with the load) {times[0]:.2f} s; "
        f"the other eight {sum(times[1:]):.2f} s (a warm load: part 1 already imported diffusers and read the files)"
    )
    print("  per task (s): " + ", ".join(f"{t} {s:.2f}" for t, s in zip(tasks, times, strict=True)))
    for n in notes:
        print(f"  note  {n}")
    if not notes:
        print("  run notes: none (nothing snapped; both control maps were used as attached, no extractor needed)")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=5, help="timed repeats per spec and leg (default 5)")
    ap.add_argument("--threads", type=int, default=None, help="torch CPU threads (default: torch's own choice)")
    ap.add_argument("--out", default=None, help="keep the files here (default: a temporary folder, removed)")
    args = ap.parse_args()
    if args.repeats < 1:
        ap.error("--repeats must be at least 1")

    import diffusers
    import torch

    from unison_agent.tools.backends.torch_env import resolve_device

    if args.threads:
        torch.set_num_threads(args.threads)
    diffusers.utils.logging.disable_progress_bar()
    print("tool layer vs diffusers WanVACEPipeline called directly (tiny profile: random weights, offline)")
    print(
        f"torch {torch.__version__}, diffusers {diffusers.__version__}, python {platform.python_version()}; "
        f"device {resolve_device('auto')}; threads {torch.get_num_threads()} (cpu count {os.cpu_count()})"
    )
    if hasattr(os, "getloadavg"):
        load = os.getloadavg()[0]
        busy = "  (busy: other processes share the CPU; timings will be noisy)" if load > 0.5 else ""
        print(f"load average before the bench: {load:.2f}{busy}")
    out = Path(args.out) if args.out else Path(tempfile.mkdtemp(prefix="bench-tools-"))
    t0 = time.perf_counter()
    try:
        overhead(args, out)
        loads(out)
    finally:
        if not args.out:
            shutil.rmtree(out, ignore_errors=True)
    print(f"\nbench wall {time.perf_counter() - t0:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
