"""`make demo`: run a handful of varied requests the way a new user would, on the offline tiny profile.

It draws a few attachments (a photo, a mask, a pose skeleton, a sketch, a short clip) into demo_out/inputs,
then runs the real command line, `unison run "..." --attach ... --profile tiny`, for each request: the planner
picks the task and roles, the tools run Wan2.1-VACE / Qwen2.5-VL, and the files land in demo_out/outputs.
The tiny profile's models have random weights (built locally on first use, no download), so the pictures are
noise and the answers gibberish: the demo shows the whole path working, offline, on a CPU. On a GPU machine,
`--profile default` runs the same requests on the real models.
"""

from __future__ import annotations

import math
import shutil
import subprocess
import sys
import time
from pathlib import Path

import av
import numpy as np
from PIL import Image, ImageDraw

OUT = Path("demo_out") / "inputs"
RESULTS = Path("demo_out") / "outputs"


def photo(w: int = 640, h: int = 480, seed: int = 0) -> Image.Image:
    rng = np.random.default_rng(seed)
    y = np.mgrid[0:h, 0:w][0]
    sky = np.stack([90 + 80 * y / h, 140 + 60 * y / h, 230 - 40 * y / h], -1)
    img = Image.fromarray((sky + rng.normal(0, 6, (h, w, 3))).clip(0, 255).astype("uint8"))
    d = ImageDraw.Draw(img)
    d.rectangle([0, int(h * 0.7), w, h], fill=(70, 120, 60))
    d.ellipse([int(w * 0.35), int(h * 0.35), int(w * 0.65), int(h * 0.8)], fill=(150, 90, 40))
    return img


def make_inputs() -> dict[str, Path]:
    OUT.mkdir(parents=True, exist_ok=True)
    files = {}
    files["photo"] = OUT / "IMG_0042.jpg"
    photo().save(files["photo"], quality=90)
    mask = Image.new("L", (640, 480), 0)
    ImageDraw.Draw(mask).ellipse([224, 168, 416, 384], fill=255)
    files["mask"] = OUT / "m.png"
    mask.save(files["mask"])
    pose = Image.new("RGB", (512, 640), "black")
    d = ImageDraw.Draw(pose)
    pts = {
        "head": (256, 120),
        "neck": (256, 190),
        "hip": (256, 380),
        "lh": (150, 260),
        "rh": (362, 250),
        "lf": (190, 560),
        "rf": (322, 560),
    }
    for i, (a, b) in enumerate(
        [("head", "neck"), ("neck", "hip"), ("neck", "lh"), ("neck", "rh"), ("hip", "lf"), ("hip", "rf")]
    ):
        d.line(
            [pts[a], pts[b]],
            fill=[(255, 0, 0), (255, 170, 0), (0, 255, 0), (0, 170, 255), (170, 0, 255), (255, 0, 170)][i],
            width=8,
        )
    files["pose"] = OUT / "pose.png"
    pose.save(files["pose"])
    sketch = Image.new("RGB", (640, 480), "white")
    d = ImageDraw.Draw(sketch)
    d.polygon([(160, 300), (320, 150), (480, 300)], outline="black", width=5)
    d.rectangle([190, 300, 450, 440], outline="black", width=5)
    files["sketch"] = OUT / "doodle.png"
    sketch.save(files["sketch"])
    files["clip"] = OUT / "VID_0007.mp4"
    with av.open(str(files["clip"]), "w") as out:
        stream = out.add_stream("libx264", rate=16)
        stream.width, stream.height, stream.pix_fmt = 320, 192, "yuv420p"
        for i in range(32):
            frame = photo(320, 192, seed=i).rotate(math.sin(i / 5) * 8)
            out.mux(stream.encode(av.VideoFrame.from_image(frame)))
        out.mux(stream.encode())
    return files


def main() -> int:
    f = make_inputs()
    # Small sizes keep the CPU run short; every request states its own, as a user could.
    requests: list[tuple[str, list[Path]]] = [
        ("a red fox in the snow at dawn, 256x144, two variations", []),
        ("a 1 second vertical video of a paper boat drifting down a rain gutter, 144x256, seed 7", []),
        ("what is in this picture?", [f["photo"]]),
        (
            "first file is the mask, second is my photo: put a small wooden cabin there, 256x192",
            [f["mask"], f["photo"]],
        ),
        ("animate this photo, 1 second, 256x192", [f["photo"]]),
        ("generate a chef in a busy kitchen in exactly this pose, 192x240", [f["pose"]]),
        ("turn my doodle into a realistic photo of a cottage, 256x192", [f["sketch"]]),
        ("make this clip look like it was shot at night, 256x160", [f["clip"]]),
        ("a neon city at night following the edges of this clip, 1 second, 256x160", [f["clip"]]),
        ("what happens in this video?", [f["clip"]]),
    ]
    unison = shutil.which("unison") or str(Path(sys.executable).with_name("unison"))
    failures = 0
    for text, atts in requests:
        argv = [unison, "run", text, "--profile", "tiny", "--out", str(RESULTS), "--quiet"]
        for a in atts:
            argv += ["--attach", str(a)]
        shown = " ".join(f"--attach {a.name}" for a in atts)
        print(f"$ unison run {text!r} {shown} --profile tiny".rstrip())
        t0 = time.perf_counter()
        proc = subprocess.run(argv, capture_output=True, text=True)
        failures += proc.returncode != 0
        print((proc.stdout or proc.stderr).rstrip().replace(str(OUT) + "/", ""))
        print(f"({time.perf_counter() - t0:.1f} s)\n")
    print(f"Attachments are in {OUT}/, results in {RESULTS}/.")
    print(
        "The tiny profile's models have random weights: the pictures and videos are noise and the answers are "
        "gibberish. The demo shows the whole path (planning, roles, sizes, lengths, files), not the quality."
    )
    print("Add --json to any command for the spec and outputs as JSON; --profile default uses the real models.")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
