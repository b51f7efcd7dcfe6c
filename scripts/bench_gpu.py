"""GPU time and memory of the generation profiles, measured on the real architectures with random weights.

    python scripts/bench_gpu.py                 # one CUDA GPU, full size (under 8 minutes on an H100/H200)
    python scripts/bench_gpu.py --smoke         # CPU, the scaled-down ``:smoke`` models (under a minute)
    python scripts/bench_gpu.py --json out.json # the figures as JSON too

In one process, each of three specs -- text_to_video 832x480x81, image_editing 1280x720 (a masked picture),
image_to_video 832x480x49 (from a first frame) -- runs with each built-in profile ``default``, ``fast`` and
``lowvram``, turned into random weights by :func:`unison_agent.tools.random_weights.random_weights_profile`
(Wan2.1-VACE-1.3B with UMT5-XXL and the Wan VAE at full size, built on the device, no download), through the real
tool layer: ``unison_agent.tools.run(spec, profile=..., pool=ModelPool(), out_dir=...)``. Every profile runs the
same number of steps (``--steps``), the same seed and the same inputs; a profile missing from this checkout is
reported as such and its cells are skipped.

Per cell the table shows:
- load s: building the model (first spec of a profile only) plus the one-off compile warm-up of ``compile =
  "regional"`` (the first step's time beyond a steady step: inductor compiles once per size);
- run s: the rest of the run's wall time: preparing the inputs, denoising, decoding, writing the file;
- s/step: steady denoising seconds per step (both CFG passes), from the progress events of stage ``denoise``,
  first step excluded (it holds the warm-up); the GPU is synchronised at each step before its time is read;
- peak GiB: ``torch.cuda.max_memory_allocated`` over the cell (reset before each; the load counts for the
  first spec of a profile); "n/a" on a CPU;
- speedup: default's run s / this profile's run s, and the same for s/step, for the same spec.
Each profile's pool is freed (``clear``, ``gc``, ``torch.cuda.empty_cache``) before the next, so peaks are the
profile's own. A cell that fails (out of memory, say) shows its error and the benchmark goes on. Cells that would
start after ``--max-minutes`` are skipped, so a slow GPU still prints a table in time.

Random weights cost what real weights cost: the same layers, shapes and kernels. Only what depends on the weights'
values differs, above all how often a step cache finds two steps alike: cache speedups measured here are those of
random weights, not of the real model (the table says so).

--steps default (12): an estimate, not yet measured here. Wan2.1 1.3B with VACE's 15 extra blocks at 832x480x81
(32,760 tokens) takes about 1.5-3 s per step with CFG on an H100/H200 in bf16; 832x480x49 about 60 % of that and
1280x720x1 about 0.3 s. For the three profiles together that is ~12 s per step of all nine cells, so 12 steps is
~150 s of denoising, leaving ~5 minutes for the loads (the 5.7B text encoder is built on the CPU for lowvram's
offloading), three compile warm-ups, VAE encodes and decodes and writing the files.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import json
import os
import platform
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

# Offline before anything from Hugging Face is imported: nothing here is downloaded.
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"
os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")

from PIL import Image, ImageDraw

from unison_agent.errors import one_line
from unison_agent.spec import Input, Media, Role, Task, TaskSpec
from unison_agent.tools import ModelPool, Profile, ProfileError, ProgressEvent, load_profile, run
from unison_agent.tools.random_weights import random_weights_profile

PROFILES = ("default", "fast", "lowvram")
FPS = 16
SEED = 7
PROMPT = "a red fox runs through the snow at dawn, cinematic lighting"
CAVEAT = (
    "caveat: random weights: the compute (layers, shapes, kernels) is the real model's, but how often a step "
    "cache finds two steps alike depends on the weights, so cache speedups here are not those of real weights"
)


@dataclass(frozen=True)
class Case:
    """One benchmarked spec: its label, task, size and the attachments it needs."""

    label: str
    task: Task
    width: int
    height: int
    frames: int  # 1 for a picture


FULL = (
    Case("t2v", Task.TEXT_TO_VIDEO, 832, 480, 81),
    Case("image_editing", Task.IMAGE_EDITING, 1280, 720, 1),
    Case("i2v", Task.IMAGE_TO_VIDEO, 832, 480, 49),
)
SMOKE = (
    Case("t2v", Task.TEXT_TO_VIDEO, 64, 64, 9),
    Case("image_editing", Task.IMAGE_EDITING, 64, 64, 1),
    Case("i2v", Task.IMAGE_TO_VIDEO, 64, 64, 5),
)


@dataclass
class Cell:
    """The figures of one spec x profile (``error`` set, figures None, when it failed or was skipped)."""

    spec: str
    profile: str
    load_s: float | None = None
    run_s: float | None = None
    s_per_step: float | None = None
    peak_gib: float | None = None
    speedup_run: float | None = None
    speedup_step: float | None = None
    error: str | None = None
    notes: list[str] = field(default_factory=list)


def main(argv: list[str] | None = None) -> int:
    args = _parse(argv)
    import torch

    if args.smoke:
        device = "cpu"
    elif torch.cuda.is_available():
        device = "cuda"
    else:
        print("bench_gpu: no CUDA GPU here; run with --smoke for the scaled-down CPU version", file=sys.stderr)
        return 2
    cases = SMOKE if args.smoke else FULL
    steps = args.steps if args.steps is not None else (2 if args.smoke else 12)
    header = _header(torch, device, steps, args.smoke)
    print(header, flush=True)
    if args.smoke:
        print("smoke: compile = 'regional' is switched off (inductor takes minutes on a CPU); all else as on a GPU")
    deadline = time.monotonic() + args.max_minutes * 60
    cells: list[Cell] = []
    with tempfile.TemporaryDirectory(prefix="bench-gpu-") as tmp:
        inputs = _attachments(Path(tmp) / "inputs", cases)
        for name in PROFILES:
            profile = _profile(name, device=device, smoke=args.smoke)
            if isinstance(profile, str):
                print(f"profile {name}: {profile}; its cells are skipped", flush=True)
                cells += [Cell(c.label, name, error=profile) for c in cases]
                continue
            pool = ModelPool()
            for case in cases:
                if time.monotonic() > deadline:
                    cells.append(Cell(case.label, name, error=f"skipped: past --max-minutes {args.max_minutes:g}"))
                    continue
                spec = _spec(case, inputs[case.label], steps)
                cell = _measure(case, spec, profile, pool, Path(tmp) / "out" / name, torch, device)
                cells.append(cell)
                _speedups(cells)  # default ran first: each later profile's row shows its speedup at once
                print(f"  {_row(cell, case)}", flush=True)
            # Free this profile's models before the next, so that each peak is the profile's own.
            pool.clear()
            del pool
            gc.collect()
            if device == "cuda":
                torch.cuda.empty_cache()
    _speedups(cells)
    print()
    print(header)
    print(_table(cells, cases))
    print(CAVEAT)
    if args.json:
        payload = {**_facts(torch, device, steps, args.smoke), "caveat": CAVEAT, "cells": [asdict(c) for c in cells]}
        Path(args.json).write_text(json.dumps(payload, indent=2) + "\n", encoding="utf-8")
    return 0


def _parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--smoke", action="store_true", help="the scaled-down models on the CPU, tiny sizes")
    parser.add_argument("--steps", type=int, default=None, help="denoising steps, the same for every profile")
    parser.add_argument("--max-minutes", type=float, default=8.0, help="cells that would start later are skipped")
    parser.add_argument("--json", metavar="PATH", help="also write the figures to this JSON file")
    args = parser.parse_args(argv)
    if args.steps is not None and args.steps < 2:
        parser.error("--steps must be at least 2 (the first step holds the warm-up and is not timed as a step)")
    return args


def _profile(name: str, *, device: str, smoke: bool) -> Profile | str:
    """The built-in profile ``name`` with random weights on ``device``, or why it cannot be had."""
    try:
        base = load_profile(name)
    except ProfileError as e:
        return f"not available in this checkout ({one_line(e, 160)})"
    profile = random_weights_profile(base, smoke=smoke)
    if not smoke:
        return profile.model_copy(update={"device": device})
    # Inductor needs minutes to compile on a CPU (three sizes, cache hooks): the smoke run keeps every other lever
    # and runs the blocks uncompiled; the GPU run compiles.
    data = profile.model_dump()
    for entry in data["models"].values():
        if entry["options"].get("compile", "none") != "none":
            entry["options"]["compile"] = "none"
    return Profile.model_validate({**data, "device": device})


def _attachments(folder: Path, cases: tuple[Case, ...]) -> dict[str, list[Input]]:
    """The attachments of each case, drawn at its output size: a picture and a mask (white = regenerate) for the
    edit, a first frame for image_to_video, nothing for text_to_video."""
    folder.mkdir(parents=True)
    out: dict[str, list[Input]] = {}
    for case in cases:
        size = (case.width, case.height)
        if case.task is Task.IMAGE_EDITING:
            source, mask = folder / f"{case.label}-source.png", folder / f"{case.label}-mask.png"
            _picture(size).save(source)
            black = Image.new("L", size, 0)
            ImageDraw.Draw(black).rectangle((size[0] // 4, size[1] // 4, size[0] * 3 // 4, size[1] * 3 // 4), 255)
            black.save(mask)
            out[case.label] = [
                Input(path=str(source), media=Media.IMAGE, role=Role.SOURCE),
                Input(path=str(mask), media=Media.IMAGE, role=Role.MASK),
            ]
        elif case.task is Task.IMAGE_TO_VIDEO:
            first = folder / f"{case.label}-first.png"
            _picture(size).save(first)
            out[case.label] = [Input(path=str(first), media=Media.IMAGE, role=Role.FIRST_FRAME)]
        else:
            out[case.label] = []
    return out


def _picture(size: tuple[int, int]) -> Image.Image:
    """A picture with some structure (sky, ground, a sun), so the VAE encodes something like a photo."""
    w, h = size
    img = Image.new("RGB", size, (90, 140, 210))
    draw = ImageDraw.Draw(img)
    draw.rectangle((0, h * 2 // 3, w, h), fill=(70, 120, 60))
    draw.ellipse((w // 8, h // 8, w // 8 + h // 4, h // 8 + h // 4), fill=(250, 220, 90))
    return img


def _spec(case: Case, inputs: list[Input], steps: int) -> TaskSpec:
    frames: dict[str, Any] = {} if case.frames == 1 else {"num_frames": case.frames, "fps": FPS}
    return TaskSpec(
        task=case.task,
        prompt=PROMPT,
        inputs=inputs,
        width=case.width,
        height=case.height,
        seed=SEED,
        steps=steps,
        **frames,
    )


def _measure(case: Case, spec: TaskSpec, profile: Profile, pool: ModelPool, out: Path, torch: Any, device: str) -> Cell:
    """Run ``spec`` once and time it from its progress events (see the module docstring for what is measured)."""
    cell = Cell(case.label, profile.name.removesuffix("+random"))
    marks: list[tuple[float, ProgressEvent]] = []
    cuda = device == "cuda"

    def on_progress(event: ProgressEvent) -> None:
        if cuda and event.stage in ("denoise", "compile"):
            torch.cuda.synchronize()  # kernels are queued asynchronously: a step is over when the GPU is done
        marks.append((time.perf_counter(), event))

    out.mkdir(parents=True, exist_ok=True)
    if cuda:
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
    start = time.perf_counter()
    try:
        result = run(spec, profile=profile, pool=pool, out_dir=out, on_progress=on_progress)
    except Exception as e:  # whatever one cell meets (out of memory, a lever that fails) is that cell's result
        cell.error = f"{type(e).__name__}: {one_line(e, 160)}"
        gc.collect()  # the failed run's tensors, before the next cell measures its own peak
        if cuda:
            torch.cuda.empty_cache()
        return cell
    finally:
        if cuda:
            torch.cuda.synchronize()
            cell.peak_gib = torch.cuda.max_memory_allocated() / 2**30
    wall = time.perf_counter() - start
    cell.notes = list(result.notes)
    load = _span(marks, "load")
    steps = [t for t, e in marks if e.stage == "denoise"]
    if len(steps) >= 2:
        cell.s_per_step = (steps[-1] - steps[0]) / (len(steps) - 1)
    compile_s = _span(marks, "compile")
    warmup = max(compile_s - (cell.s_per_step or 0.0), 0.0) if compile_s else 0.0
    cell.load_s = load + warmup
    cell.run_s = wall - cell.load_s
    return cell


def _span(marks: list[tuple[float, ProgressEvent]], stage: str) -> float:
    """Seconds from the first ``stage`` event that starts (done 0) to the first that ends (done == total) after it:
    the generation model's load, or the compile warm-up."""
    begin = next((t for t, e in marks if e.stage == stage and e.done == 0), None)
    if begin is None:
        return 0.0
    end = next((t for t, e in marks if e.stage == stage and e.done == e.total and t >= begin), begin)
    return end - begin


def _speedups(cells: list[Cell]) -> None:
    base = {c.spec: c for c in cells if c.profile == "default" and c.error is None}
    for cell in cells:
        ref = base.get(cell.spec)
        if ref is None or cell.error is not None:
            continue
        if ref.run_s and cell.run_s:
            cell.speedup_run = ref.run_s / cell.run_s
        if ref.s_per_step and cell.s_per_step:
            cell.speedup_step = ref.s_per_step / cell.s_per_step


def _facts(torch: Any, device: str, steps: int, smoke: bool) -> dict[str, Any]:
    import diffusers

    gpu = torch.cuda.get_device_name(0) if device == "cuda" else f"CPU ({platform.processor() or platform.machine()})"
    return {
        "device": gpu,
        "torch": torch.__version__,
        "diffusers": diffusers.__version__,
        "date": dt.date.today().isoformat(),
        "steps": steps,
        "smoke": smoke,
    }


def _header(torch: Any, device: str, steps: int, smoke: bool) -> str:
    f = _facts(torch, device, steps, smoke)
    kind = "smoke: scaled-down :smoke models" if smoke else "full size, random weights"
    return (
        f"bench_gpu ({kind}) | {f['device']} | torch {f['torch']} | diffusers {f['diffusers']} | {f['date']} | "
        f"{steps} steps, seed {SEED}"
    )


def _size(case: Case) -> str:
    return f"{case.width}x{case.height}" + (f"x{case.frames}" if case.frames > 1 else "")


def _row(cell: Cell, case: Case) -> str:
    spec = f"{case.label} {_size(case)}"
    if cell.error is not None:
        return f"{spec:<24} {cell.profile:<8} {cell.error}"

    def num(x: float | None, fmt: str) -> str:
        return "n/a" if x is None else format(x, fmt)

    speedup = f"{num(cell.speedup_run, '.2f')} / {num(cell.speedup_step, '.2f')}"
    row = (
        f"{spec:<24} {cell.profile:<8} {num(cell.load_s, '8.1f'):>8} {num(cell.run_s, '7.1f'):>7} "
        f"{num(cell.s_per_step, '7.3f'):>7} {num(cell.peak_gib, '8.2f'):>8}  {speedup}"
    )
    if cell.notes:
        row += "  (" + "; ".join(cell.notes) + ")"
    return row


def _table(cells: list[Cell], cases: tuple[Case, ...]) -> str:
    by_label = {c.label: c for c in cases}
    head = f"{'spec':<24} {'profile':<8} {'load s':>8} {'run s':>7} {'s/step':>7} {'peak GiB':>8}"
    lines = [f"{head}  speedup (x default) run / step"]
    for case in cases:  # grouped by spec, so each profile sits under its default
        lines += [_row(c, by_label[c.spec]) for c in cells if c.spec == case.label]
    return "\n".join(lines)


if __name__ == "__main__":
    raise SystemExit(main())
