"""What each cache of the wan-vace backend skips at its default settings, and how far it moves the result.

Runs the tiny profile (random weights) on the CPU, 64x64, 8 steps, CFG 5, for a text-to-video request and an
image_editing request (a photo, the left half masked), once without a cache and once per cache, and prints per
cache: main-block passes run / skipped of the total, self-attention passes run, VACE block passes, seconds, and
max|latent diff| and relative difference (|diff| / |no cache|) against the run without a cache.

Random weights make the skip counts differ from a real model's (the blocks' residuals change differently from
step to step): they show that each hook engages, not the speed-up on Wan-VACE-1.3B.

    python scripts/bench_caches.py
"""

from __future__ import annotations

import os
import time
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import torch
from PIL import Image

from unison_agent.spec import Task
from unison_agent.tools import ModelPool, load_profile
from unison_agent.tools.backends import GenerationRequest
from unison_agent.tools.backends.caches import (
    PassCounter,
    apply_cache,
    cache_settings,
    calibrate_mag,
    remove_cache,
)

SIZE, STEPS = 64, 8
CACHES = ("first_block", "taylorseer", "pyramid_attention", "mag")


def requests() -> dict[str, GenerationRequest]:
    """A text-to-video request and an image_editing one (VACE's inputs built as the tool layer builds them)."""
    y, x = torch.meshgrid(torch.arange(SIZE), torch.arange(SIZE), indexing="ij")
    photo = torch.stack([x * 4, y * 4, 255 - x * 2], -1).clamp(0, 255).to(torch.uint8).numpy()
    mask = Image.new("L", (SIZE, SIZE), 0)
    mask.paste(255, (0, 0, SIZE // 2, SIZE))
    common: dict[str, Any] = {"width": SIZE, "height": SIZE, "seed": 0, "steps": STEPS, "guidance_scale": 5.0}
    return {
        "text_to_video 64x64x5": GenerationRequest(prompt="a red fox", num_frames=5, task=Task.TEXT_TO_VIDEO, **common),
        "image_editing 64x64": GenerationRequest(
            prompt="a purple sky",
            num_frames=1,
            video=[Image.fromarray(photo)],
            mask=[mask],
            task=Task.IMAGE_EDITING,
            **common,
        ),
    }


def main() -> None:
    torch.set_num_threads(min(2, torch.get_num_threads()))
    backend: Any = ModelPool().generation(Task.TEXT_TO_VIDEO, load_profile("tiny"))
    pipe = backend.pipe
    ratios = calibrate_mag(backend, requests()["text_to_video 64x64x5"])
    print(f"tiny profile, CPU, {STEPS} steps, CFG 5; mag_ratios calibrated on the t2v request: {ratios}")
    header = f"{'request':<22} {'cache':<18} {'blocks run':>10} {'skipped':>13} {'self-attn':>9} {'vace':>5}"
    header += f" {'seconds':>7} {'max|diff|':>9} {'rel diff':>8}"
    print(header)
    print("-" * len(header))
    for label, request in requests().items():
        base: torch.Tensor | None = None
        for cache in ("none", *CACHES):
            settings = cache_settings(cache, {"mag_ratios": ratios} if cache == "mag" else {})
            apply_cache(pipe, cache, settings, "bench")
            try:
                with PassCounter(pipe) as counts:
                    start = time.perf_counter()
                    lat = backend.generate(request, output_type="latent")
                    seconds = time.perf_counter() - start
            finally:
                remove_cache(pipe)
            if base is None:
                base = lat
            diff = (lat - base).float()
            share = counts.blocks_skipped / counts.blocks_total
            skipped = f"{counts.blocks_skipped}/{counts.blocks_total} ({share:.0%})"
            print(
                f"{label:<22} {cache:<18} {counts.blocks:>10} {skipped:>13} {counts.self_attention:>9} "
                f"{counts.vace_blocks:>5} {seconds:>7.2f} {float(diff.abs().max()):>9.3g} "
                f"{float(diff.norm() / base.float().norm()):>8.3g}"
            )
    print("faster: refused at load (WanVACEPipeline runs CFG's two passes as separate calls; see caches.FASTER_REASON)")


if __name__ == "__main__":
    main()
