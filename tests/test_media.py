"""unison_agent.media: what an attachment is, from its content; and what its pixels look like.

Every fixture is drawn here (PIL, NumPy, PyAV) into ``tmp_path``; one test also runs the planner dev set's own
attachment synthesiser when the team's ``shared/planning/score.py`` sits beside the checkout (or under
``$UNISON_SHARED``), and skips it otherwise.
"""

from __future__ import annotations

import importlib.util
import io
import math
import os
import struct
import zlib
from collections.abc import Callable
from pathlib import Path

import av
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image, ImageDraw, ImageFilter

from unison_agent.media import (
    IMAGE_EXTENSIONS,
    MAX_PIXELS,
    VIDEO_EXTENSIONS,
    Look,
    MediaError,
    MediaInfo,
    classify_look,
    probe,
)
from unison_agent.spec import Media

ROOT = Path(__file__).resolve().parents[1]
SCORE_PY = Path(os.environ.get("UNISON_SHARED", ROOT.parent / "shared")) / "planning" / "score.py"

# ---------------------------------------------------------------------------------------------- drawing


def noisy_photo(w: int = 640, h: int = 480, seed: int = 1) -> Image.Image:
    """Sky over hills with a sun and a rock, camera grain, slight blur."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:h, 0:w].astype(np.float32)
    sky = np.stack([90 + 80 * y / h, 140 + 60 * y / h, 220 - 40 * y / h], -1)
    ground = np.stack([60 + 0 * x, 110 + 30 * np.sin(x / 23), 40 + 0 * x], -1)
    img = np.where((y > h * 0.55 + 20 * np.sin(x / 50))[..., None], ground, sky)
    img += rng.normal(0, 14, img.shape)
    im = Image.fromarray(img.clip(0, 255).astype(np.uint8))
    d = ImageDraw.Draw(im)
    d.ellipse([w * 0.6, h * 0.1, w * 0.75, h * 0.3], fill=(250, 230, 120))
    d.polygon([(w * 0.1, h * 0.7), (w * 0.3, h * 0.35), (w * 0.45, h * 0.7)], fill=(110, 90, 80))
    return im.filter(ImageFilter.GaussianBlur(0.7))


def grey_photo(w: int = 640, h: int = 480, noise: float = 9, seed: int = 2) -> Image.Image:
    """A black-and-white photo: shading, a textured object and grain. Smooth at thumbnail size, not up close."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:h, 0:w].astype(np.float32)
    base = 60 + 120 * (x / w) + 30 * np.sin(y / 17) * np.cos(x / 29)
    box = (slice(int(h * 0.3), int(h * 0.8)), slice(int(w * 0.2), int(w * 0.45)))
    base[box] = 200 + 20 * np.sin(x[box] / 3)
    base += rng.normal(0, noise, base.shape)
    return Image.fromarray(base.clip(0, 255).astype(np.uint8), "L")


def product_shot(color: tuple[int, int, int] = (200, 25, 35), w: int = 600, h: int = 600) -> Image.Image:
    """A bottle on a white table with a soft shadow."""
    im = Image.new("RGB", (w, h), (250, 250, 250))
    d = ImageDraw.Draw(im)
    d.ellipse([w * 0.25, h * 0.8, w * 0.75, h * 0.88], fill=(215, 215, 215))
    d.rounded_rectangle([w * 0.35, h * 0.2, w * 0.65, h * 0.84], 30, fill=color)
    d.rectangle([w * 0.45, h * 0.1, w * 0.55, h * 0.2], fill=(40, 40, 40))
    return im.filter(ImageFilter.GaussianBlur(1.2))


def dark_object_shot(w: int = 500, h: int = 500) -> Image.Image:
    """A shaded black shoe-like shape on white: black and white, but with shading, so not an inverted mask."""
    y, x = np.mgrid[0:h, 0:w].astype(np.float32)
    img = np.full((h, w), 245.0) - 10 * y / h
    inside = ((x - w / 2) / (w * 0.3)) ** 2 + ((y - h / 2) / (h * 0.18)) ** 2 < 1
    img[inside] = 30 + 50 * ((x[inside] - w * 0.2) / (w * 0.6)) + 15 * np.sin(x[inside] / 5)
    img += np.random.default_rng(4).normal(0, 3, img.shape)
    return Image.fromarray(img.clip(0, 255).astype(np.uint8)).convert("RGB")


def night_photo(w: int = 640, h: int = 480, seed: int = 3) -> Image.Image:
    """Mostly dark and noisy, with a row of street lights and a lit doorway."""
    rng = np.random.default_rng(seed)
    img = rng.normal(18, 10, (h, w, 3))
    img[..., 2] += 10
    im = Image.fromarray(img.clip(0, 255).astype(np.uint8))
    d = ImageDraw.Draw(im)
    for i in range(7):
        cx, cy = 60 + i * 85, 150 + (i % 3) * 40
        d.ellipse([cx - 6, cy - 6, cx + 6, cy + 6], fill=(255, 200, 90))
    d.rectangle([300, 300, 360, 420], fill=(60, 50, 40))
    return im.filter(ImageFilter.GaussianBlur(0.8))


def screenshot(w: int = 800, h: int = 500) -> Image.Image:
    """Flat colour areas: a header bar, a side panel, text-like lines, a button."""
    im = Image.new("RGB", (w, h), (255, 255, 255))
    d = ImageDraw.Draw(im)
    d.rectangle([0, 0, w, 48], fill=(36, 99, 235))
    d.rectangle([0, 48, 180, h], fill=(243, 244, 246))
    for i in range(12):
        y = 70 + i * 30
        d.rectangle([200, y, 200 + 300 + (i * 37) % 250, y + 10], fill=(30, 30, 30))
    d.rounded_rectangle([620, 420, 760, 470], 8, fill=(16, 185, 129))
    d.rectangle([20, 80, 160, 200], fill=(251, 191, 36))
    return im


def dark_mode_code(w: int = 800, h: int = 500, seed: int = 9) -> Image.Image:
    """An editor screenshot: coloured tokens on the usual #1e1e1e background."""
    rng = np.random.default_rng(seed)
    im = Image.new("RGB", (w, h), (30, 30, 30))
    d = ImageDraw.Draw(im)
    colours = [(255, 100, 100), (120, 220, 120), (100, 160, 255), (240, 200, 80), (200, 120, 255)]
    for i in range(20):
        x = 20
        for _ in range(int(rng.integers(2, 6))):
            n = int(rng.integers(5, 20))
            d.text((x, 10 + i * 24), "x" * n, fill=colours[int(rng.integers(0, 5))])
            x += 6 * n + 10
    return im


def starfield(w: int = 640, h: int = 480, seed: int = 8) -> Image.Image:
    """White dots on black: bright specks, but no lines."""
    rng = np.random.default_rng(seed)
    a = np.zeros((h, w), np.uint8)
    a[rng.integers(0, h, 400), rng.integers(0, w, 400)] = rng.integers(120, 255, 400)
    return Image.fromarray(a).convert("RGB")


def blob_mask(w: int = 512, h: int = 512, antialias: bool = False, seed: int = 5) -> Image.Image:
    """An irregular polygon plus a small rectangle, white on black; drawn 4x and shrunk when anti-aliased."""
    s = 4 if antialias else 1
    im = Image.new("L", (w * s, h * s), 0)
    d = ImageDraw.Draw(im)
    rng = np.random.default_rng(seed)
    pts = []
    for i in range(9):
        a = 2 * math.pi * i / 9
        r = (0.2 + 0.15 * rng.random()) * w * s
        pts.append((w * s / 2 + r * math.cos(a), h * s / 2 + r * math.sin(a)))
    d.polygon(pts, fill=255)
    d.rectangle([int(0.05 * w * s), int(0.05 * h * s), int(0.2 * w * s), int(0.15 * h * s)], fill=255)
    return im.resize((w, h), Image.Resampling.LANCZOS) if antialias else im


def small_white_mask(w: int = 640, h: int = 480, share: float = 0.01) -> Image.Image:
    im = Image.new("L", (w, h), 0)
    s = int(math.sqrt(share * w * h))
    ImageDraw.Draw(im).ellipse([w * 0.6, h * 0.3, w * 0.6 + s, h * 0.3 + s], fill=255)
    return im


def outpaint_mask(w: int = 832, h: int = 480) -> Image.Image:
    """White border (to be filled in), black centre (kept)."""
    im = Image.new("L", (w, h), 255)
    ImageDraw.Draw(im).rectangle([w * 0.2, h * 0.15, w * 0.8, h * 0.85], fill=0)
    return im


def brushed_mask_rgba(w: int = 512, h: int = 512) -> Image.Image:
    """What a web inpainting canvas exports: white brush strokes on a transparent layer."""
    im = Image.new("RGBA", (w, h), (0, 0, 0, 0))
    ImageDraw.Draw(im).line([(100, 100), (300, 250), (400, 120)], fill=(255, 255, 255, 255), width=60)
    return im


_POSE_COLOURS = [
    (255, 0, 0), (255, 85, 0), (255, 170, 0), (255, 255, 0), (170, 255, 0), (85, 255, 0), (0, 255, 0),
    (0, 255, 85), (0, 255, 170), (0, 255, 255), (0, 170, 255), (0, 85, 255), (0, 0, 255), (85, 0, 255),
    (170, 0, 255), (255, 0, 255), (255, 0, 170), (255, 0, 85),
]  # fmt: skip
_LIMBS = [(1, 2), (1, 5), (2, 3), (3, 4), (5, 6), (6, 7), (1, 8), (8, 9), (9, 10), (1, 11), (11, 12), (12, 13),
          (1, 0), (0, 14), (14, 16), (0, 15), (15, 17)]  # fmt: skip


def openpose(w: int = 512, h: int = 768, people: int = 2, alpha: float = 0.6) -> Image.Image:
    """OpenPose body rendering: 18 keypoints, limbs at 60 % over black, joints as coloured dots."""
    im = Image.new("RGB", (w, h))
    d = ImageDraw.Draw(im)
    for p in range(people):
        cx, u = w * (p + 1) / (people + 1), h / 8
        kp = [(cx, 1.2 * u), (cx, 2 * u), (cx - u * 0.7, 2 * u), (cx - u, 3 * u), (cx - u * 0.9, 4 * u),
              (cx + u * 0.7, 2 * u), (cx + u * 1.1, 2.9 * u), (cx + u * 1.4, 3.6 * u), (cx - u * 0.4, 4.3 * u),
              (cx - u * 0.5, 5.6 * u), (cx - u * 0.5, 6.9 * u), (cx + u * 0.4, 4.3 * u), (cx + u * 0.6, 5.6 * u),
              (cx + u * 0.8, 6.9 * u), (cx - 0.15 * u, 1.05 * u), (cx + 0.15 * u, 1.05 * u),
              (cx - 0.3 * u, 1.15 * u), (cx + 0.3 * u, 1.15 * u)]  # fmt: skip
        for i, (a, b) in enumerate(_LIMBS):
            colour = tuple(round(c * alpha) for c in _POSE_COLOURS[i])
            d.line([kp[a], kp[b]], fill=colour, width=max(2, w // 128))
        for i, (x, y) in enumerate(kp):
            d.ellipse([x - 4, y - 4, x + 4, y + 4], fill=_POSE_COLOURS[i])
    return im


def depth_scene(w: int = 640, h: int = 480) -> np.ndarray:
    """Floor gradient, two spheres and a box, near = bright, sharp steps at object borders; float 0..255."""
    y, x = np.mgrid[0:h, 0:w].astype(np.float32)
    d = 40 + 120 * (y / h) ** 1.5
    for cx, cy, r, near in [(0.3, 0.55, 0.18, 200), (0.72, 0.45, 0.12, 150)]:
        rr = ((x - cx * w) ** 2 + (y - cy * h) ** 2) / (r * w) ** 2
        d = np.where(rr < 1, near + 50 * np.sqrt(np.clip(1 - rr, 0, 1)), d)
    box = (x > 0.45 * w) & (x < 0.6 * w) & (y > 0.7 * h)
    return np.where(box, 120 + 30 * (x - 0.45 * w) / (0.15 * w), d)


def depth_image(w: int = 640, h: int = 480) -> Image.Image:
    return Image.fromarray(depth_scene(w, h).clip(0, 255).astype(np.uint8), "L")


def canny_like(w: int = 768, h: int = 512, seed: int = 6) -> Image.Image:
    """1-pixel white lines wherever a flat-shaded scene of random shapes changes grey level."""
    rng = np.random.default_rng(seed)
    im = Image.new("L", (w, h), 90)
    d = ImageDraw.Draw(im)
    for _ in range(14):
        x0, y0 = int(rng.integers(0, w - 60)), int(rng.integers(0, h - 60))
        x1, y1 = x0 + int(rng.integers(30, 260)), y0 + int(rng.integers(30, 200))
        fill, shape = int(rng.integers(0, 255)), int(rng.integers(0, 3))
        if shape == 0:
            d.ellipse([x0, y0, x1, y1], fill=fill)
        elif shape == 1:
            d.rectangle([x0, y0, x1, y1], fill=fill)
        else:
            d.polygon([(x0, y1), ((x0 + x1) / 2, y0), (x1, y1)], fill=fill)
    a = np.asarray(im, np.int16)
    e = np.zeros(a.shape, bool)
    e[:, 1:] |= np.abs(np.diff(a, axis=1)) > 20
    e[1:, :] |= np.abs(np.diff(a, axis=0)) > 20
    return Image.fromarray(np.where(e, 255, 0).astype(np.uint8))


def scribble(w: int = 512, h: int = 512, width: int = 3, ink: int = 0, strokes: int = 5, seed: int = 7) -> Image.Image:
    """Wandering pen strokes on white paper."""
    rng = np.random.default_rng(seed)
    im = Image.new("L", (w, h), 255)
    d = ImageDraw.Draw(im)
    for _ in range(strokes):
        x, y = rng.uniform(0.1, 0.9) * w, rng.uniform(0.1, 0.9) * h
        pts, ang = [(x, y)], rng.uniform(0, 2 * math.pi)
        for _ in range(30):
            ang += rng.normal(0, 0.35)
            x = float(np.clip(x + math.cos(ang) * w / 40, 0, w - 1))
            y = float(np.clip(y + math.sin(ang) * h / 40, 0, h - 1))
            pts.append((x, y))
        d.line(pts, fill=ink, width=width, joint="curve")
    return im


def scribble_rgba() -> Image.Image:
    """A sketch app's export: black strokes on a transparent layer."""
    lines = scribble(width=4)
    rgba = Image.new("RGBA", lines.size, (0, 0, 0, 0))
    rgba.putalpha(Image.eval(lines, lambda v: 255 - v))
    return rgba


def jpeg(im: Image.Image, quality: int = 75) -> Image.Image:
    buf = io.BytesIO()
    im.convert("RGB").save(buf, "JPEG", quality=quality)
    buf.seek(0)
    out = Image.open(buf)
    out.load()
    return out


def write_video(
    path: Path, frames: list[Image.Image], fps: int, codec: str = "libx264", rotate: int | None = None
) -> Path:
    fmt = {".mov": "mov", ".webm": "webm", ".mkv": "matroska", ".avi": "avi"}.get(path.suffix.lower(), "mp4")
    with av.open(str(path), mode="w", format=fmt) as out:
        stream = out.add_stream(codec, rate=fps)
        stream.width, stream.height, stream.pix_fmt = frames[0].width, frames[0].height, "yuv420p"
        if rotate is not None:
            stream.set_display_rotation(rotate)
        for im in frames:
            out.mux(stream.encode(av.VideoFrame.from_image(im.convert("RGB"))))
        out.mux(stream.encode())
    return path


def write_audio(path: Path, fmt: str, codec: str) -> Path:
    with av.open(str(path), mode="w", format=fmt) as out:
        stream = out.add_stream(codec, rate=16000)
        stream.layout = "mono"
        for i in range(8):
            wave = (np.sin(np.arange(1024) / 5.0) * 0.3).astype(np.float32)[None, :]
            if codec == "pcm_s16le":
                frame = av.AudioFrame.from_ndarray((wave * 32767).astype(np.int16), format="s16", layout="mono")
            else:
                frame = av.AudioFrame.from_ndarray(wave, format="fltp", layout="mono")
            frame.sample_rate, frame.pts = 16000, i * 1024
            out.mux(stream.encode(frame))
        out.mux(stream.encode(None))
    return path


def clip_frames(n: int = 12, w: int = 160, h: int = 96) -> list[Image.Image]:
    return [noisy_photo(w, h, seed=i).rotate(i * 3) for i in range(n)]


def png_header(width: int, height: int) -> bytes:
    """A PNG that declares a size and holds no pixels: what a decompression bomb's header looks like."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
        + chunk(b"IEND", b"")
    )


# ---------------------------------------------------------------------------------------------- looks

LOOK_CASES: list[tuple[str, Callable[[], Image.Image], Look]] = [
    # Ordinary pictures must stay PHOTO, however black-and-white, dark, flat or white they are.
    ("noisy colour photo", noisy_photo, Look.PHOTO),
    ("grainy black-and-white photo", grey_photo, Look.PHOTO),
    ("grainy black-and-white photo as JPEG", lambda: jpeg(grey_photo(), 60), Look.PHOTO),
    ("b/w photo with faint grain", lambda: grey_photo(noise=4), Look.PHOTO),
    ("red bottle on white", product_shot, Look.PHOTO),
    ("near-black bottle on white", lambda: product_shot((25, 25, 28)), Look.PHOTO),
    ("shaded black object on white", dark_object_shot, Look.PHOTO),
    ("night street", night_photo, Look.PHOTO),
    ("night street as JPEG", lambda: jpeg(night_photo(), 70), Look.PHOTO),
    ("app screenshot", screenshot, Look.PHOTO),
    ("dark-mode code screenshot", dark_mode_code, Look.PHOTO),
    ("star field", starfield, Look.PHOTO),
    ("all white", lambda: Image.new("RGB", (64, 64), "white"), Look.PHOTO),
    ("all black", lambda: Image.new("L", (640, 480), 0), Look.PHOTO),
    ("one pixel", lambda: Image.new("RGB", (1, 1), "red"), Look.PHOTO),
    ("3000x20 strip", lambda: noisy_photo(3000, 20), Look.PHOTO),
    ("20x3000 strip", lambda: noisy_photo(20, 3000), Look.PHOTO),
    # Masks: hard, anti-aliased, compressed, feathered, tiny or inverted regions, any image mode.
    ("polygon mask", blob_mask, Look.MASK),
    ("anti-aliased mask", lambda: blob_mask(antialias=True), Look.MASK),
    ("anti-aliased mask as JPEG q30", lambda: jpeg(blob_mask(antialias=True), 30), Look.MASK),
    ("feathered mask", lambda: blob_mask().filter(ImageFilter.GaussianBlur(3)), Look.MASK),
    ("mask with a 1 % region", small_white_mask, Look.MASK),
    ("mask with a 0.2 % region", lambda: small_white_mask(share=0.002), Look.MASK),
    ("outpainting mask (white border)", outpaint_mask, Look.MASK),
    ("1-bit mask", lambda: blob_mask().convert("1"), Look.MASK),
    ("palette mask", lambda: blob_mask().convert("P"), Look.MASK),
    ("RGB mask", lambda: blob_mask(300, 200).convert("RGB"), Look.MASK),
    ("white strokes on a transparent layer", brushed_mask_rgba, Look.MASK),
    # Pose skeletons at several sizes and people counts.
    ("two-person OpenPose", openpose, Look.POSE),
    ("OpenPose as JPEG", lambda: jpeg(openpose(), 70), Look.POSE),
    ("one-person square OpenPose", lambda: openpose(768, 768, people=1), Look.POSE),
    ("three people at 1080p", lambda: openpose(1920, 1080, people=3), Look.POSE),
    ("small 256x256 skeleton", lambda: openpose(256, 256, people=1), Look.POSE),
    # Depth maps: 8-bit, compressed, 16-bit, large, RGB.
    ("depth map", depth_image, Look.DEPTH),
    ("depth map as JPEG", lambda: jpeg(depth_image(), 70), Look.DEPTH),
    ("16-bit depth map", lambda: Image.fromarray((depth_scene() * 257).astype(np.uint16)), Look.DEPTH),
    ("1080p depth map", lambda: depth_image(1920, 1080), Look.DEPTH),
    ("depth map stored as RGB", lambda: depth_image(400, 300).convert("RGB"), Look.DEPTH),
    # Edge maps: 1-pixel lines at several sizes, compressed, thickened, soft grey.
    ("canny edges", canny_like, Look.EDGE),
    ("canny edges as JPEG", lambda: jpeg(canny_like(), 80), Look.EDGE),
    ("1080p canny edges (lines fade in the thumbnail)", lambda: canny_like(1920, 1080), Look.EDGE),
    ("3-pixel edges", lambda: canny_like(512, 512).filter(ImageFilter.MaxFilter(3)), Look.EDGE),
    ("soft grey edges", lambda: Image.eval(canny_like(), lambda v: v * 160 // 255), Look.EDGE),
    # Scribbles: pen widths from 1 to 9 pixels, grey pencil, compressed, transparent layer.
    ("pen scribble", scribble, Look.SCRIBBLE),
    ("1-pixel pen on a large page", lambda: scribble(1024, 768, width=1), Look.SCRIBBLE),
    ("thick marker", lambda: scribble(width=9), Look.SCRIBBLE),
    ("grey pencil as JPEG", lambda: jpeg(scribble(ink=70), 70), Look.SCRIBBLE),
    ("scribble as JPEG q50", lambda: jpeg(scribble(1024, 1024, width=2), 50), Look.SCRIBBLE),
    ("black strokes on a transparent layer", scribble_rgba, Look.SCRIBBLE),
]


@pytest.mark.parametrize(("make", "look"), [(m, k) for _, m, k in LOOK_CASES], ids=[n for n, _, _ in LOOK_CASES])
def test_classify_look_tells_each_kind_of_picture_apart(make: Callable[[], Image.Image], look: Look) -> None:
    assert classify_look(make()) is look


def test_classify_look_leaves_the_image_unchanged() -> None:
    im = jpeg(openpose(), 80)
    before = im.tobytes()
    classify_look(im)
    assert im.size == (512, 768) and im.tobytes() == before


@pytest.mark.parametrize(
    ("suffix", "make", "look"),
    [
        (".png", blob_mask, Look.MASK),
        (".jpg", lambda: blob_mask(antialias=True), Look.MASK),
        (".webp", blob_mask, Look.MASK),
        (".jpg", grey_photo, Look.PHOTO),
        (".png", grey_photo, Look.PHOTO),
        (".jpg", depth_image, Look.DEPTH),
        (".webp", depth_image, Look.DEPTH),
        (".jpg", canny_like, Look.EDGE),
        (".jpg", openpose, Look.POSE),
        (".jpg", scribble, Look.SCRIBBLE),
        (".gif", scribble, Look.SCRIBBLE),
        (".bmp", openpose, Look.POSE),
        (".tiff", depth_image, Look.DEPTH),
        (".png", scribble_rgba, Look.SCRIBBLE),
        (".png", brushed_mask_rgba, Look.MASK),
    ],
)
def test_probe_reads_the_look_of_saved_files(
    tmp_path: Path, suffix: str, make: Callable[[], Image.Image], look: Look
) -> None:
    im = make()
    path = tmp_path / f"IMG_0042{suffix}"
    (im.convert("RGB") if suffix in (".jpg", ".bmp") else im).save(path)
    info = probe(path)
    assert (info.media, info.look, info.width, info.height) == (Media.IMAGE, look, im.width, im.height)


def test_probe_reads_a_16_bit_depth_png(tmp_path: Path) -> None:
    path = tmp_path / "depth16.png"
    Image.fromarray((depth_scene() * 257).astype(np.uint16)).save(path)
    info = probe(path)
    assert info.look is Look.DEPTH and info.is_control_map


def test_probe_reads_a_large_jpeg_photo_at_reduced_scale(tmp_path: Path) -> None:
    path = tmp_path / "DSC_0001.jpg"
    big = noisy_photo(400, 300).resize((4000, 3000), Image.Resampling.BILINEAR)
    big.save(path, quality=85)
    info = probe(path)
    assert (info.width, info.height, info.look, info.orientation) == (4000, 3000, Look.PHOTO, "landscape")


@pytest.mark.slow
def test_dev_set_attachments_are_classified_as_their_content(tmp_path: Path) -> None:
    if not SCORE_PY.is_file():
        pytest.skip(f"{SCORE_PY} (the planner dev set's attachment synthesiser) is not present")
    spec = importlib.util.spec_from_file_location("planning_score", SCORE_PY)
    assert spec is not None and spec.loader is not None
    score = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(score)
    want = {
        "photo": Look.PHOTO, "portrait": Look.PHOTO, "object": Look.PHOTO, "mask": Look.MASK,
        "pose_image": Look.POSE, "depth_map": Look.DEPTH, "edge_map": Look.EDGE, "scribble": Look.SCRIBBLE,
        "video": Look.PHOTO, "pose_video": Look.POSE, "depth_video": Look.DEPTH, "edge_video": Look.EDGE,
    }  # fmt: skip
    got = {}
    for content in want:
        videos = content == "video" or content.endswith("_video")
        for ext in (".mp4", ".mov", ".webm") if videos else (".png", ".jpg", ".webp"):
            info = probe(score.synthesise({"name": f"{content}_file{ext}", "content": content}, tmp_path))
            got[f"{content}{ext}"] = (info.media, info.look)
            assert info.media is (Media.VIDEO if videos else Media.IMAGE)
            if videos:
                assert (info.width, info.height, info.num_frames, info.fps) == (320, 192, 16, 8.0)
    wrong = {k: v[1].value for k, v in got.items() if v[1] is not want[k.rsplit(".", 1)[0]]}
    assert wrong == {}
    assert len(got) == 8 * 3 + 4 * 3


# ---------------------------------------------------------------------------------------------- media facts


def test_png_renamed_mp4_is_still_an_image(tmp_path: Path) -> None:
    path = tmp_path / "clip.mp4"
    blob_mask(320, 240).save(path, format="PNG")
    info = probe(path)
    assert (info.media, info.num_frames, info.fps, info.duration_s, info.look) == (
        Media.IMAGE,
        1,
        None,
        None,
        Look.MASK,
    )


def test_mp4_renamed_jpg_is_still_a_video(tmp_path: Path) -> None:
    path = write_video(tmp_path / "real.mp4", clip_frames(), fps=8).rename(tmp_path / "photo.jpg")
    info = probe(path)
    assert (info.media, info.num_frames, info.fps) == (Media.VIDEO, 12, 8.0)


def test_webm_named_png_and_jpeg_named_webp_follow_their_content(tmp_path: Path) -> None:
    webm = write_video(tmp_path / "a.webm", clip_frames(4), fps=8, codec="libvpx-vp9").rename(tmp_path / "a.png")
    jpg = tmp_path / "b.webp"
    noisy_photo(200, 100).save(jpg, format="JPEG")
    assert probe(webm).media is Media.VIDEO
    assert (probe(jpg).media, probe(jpg).width) == (Media.IMAGE, 200)


def test_twelve_frame_clip_at_8_fps_lasts_one_and_a_half_seconds(tmp_path: Path) -> None:
    info = probe(write_video(tmp_path / "VID_0091.mp4", clip_frames(12), fps=8))
    assert info == MediaInfo(str(tmp_path / "VID_0091.mp4"), Media.VIDEO, 160, 96, 12, 8.0, 1.5, Look.PHOTO)
    assert not info.is_control_map and info.orientation == "landscape"


def test_24_fps_clip_reports_its_rate_frames_and_duration(tmp_path: Path) -> None:
    info = probe(write_video(tmp_path / "dance.MOV", clip_frames(30), fps=24))
    assert (info.media, info.num_frames, info.fps) == (Media.VIDEO, 30, 24.0)
    assert info.duration_s == pytest.approx(1.25, abs=0.01)


def test_webm_frame_count_is_estimated_from_duration(tmp_path: Path) -> None:
    info = probe(write_video(tmp_path / "clip.webm", clip_frames(12), fps=8, codec="libvpx-vp9"))
    assert (info.num_frames, info.fps) == (12, 8.0)
    assert info.duration_s == pytest.approx(1.5, abs=0.01)


def test_control_videos_are_recognised_from_their_first_frame(tmp_path: Path) -> None:
    pose = probe(write_video(tmp_path / "pose.mp4", [openpose(256, 384)] * 4, fps=16))
    edges = probe(write_video(tmp_path / "edges.mov", [canny_like(320, 192, seed=s) for s in range(4)], fps=16))
    depth = probe(write_video(tmp_path / "depth.mkv", [depth_image(320, 192)] * 4, fps=16))
    assert (pose.look, edges.look, depth.look) == (Look.POSE, Look.EDGE, Look.DEPTH)
    assert pose.orientation == "portrait" and pose.is_control_map


def test_video_that_fades_in_from_black_is_judged_by_a_later_frame(tmp_path: Path) -> None:
    frames = [Image.new("RGB", (256, 384))] * 3 + [openpose(256, 384)] * 9
    info = probe(write_video(tmp_path / "fade.mp4", frames, fps=8))
    assert info.look is Look.POSE


def test_phone_clip_shot_upright_is_portrait(tmp_path: Path) -> None:
    info = probe(write_video(tmp_path / "upright.mp4", clip_frames(4), fps=30, rotate=90))
    assert (info.width, info.height, info.orientation) == (96, 160, "portrait")


def test_phone_photo_with_exif_rotation_is_portrait(tmp_path: Path) -> None:
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 degrees clockwise to display
    path = tmp_path / "IMG_1234.JPG"
    noisy_photo(640, 480).save(path, exif=exif)
    info = probe(path)
    assert (info.width, info.height, info.orientation) == (480, 640, "portrait")


def test_animated_gif_is_an_image_read_from_its_first_frame(tmp_path: Path) -> None:
    path = tmp_path / "anim.gif"
    frames = [openpose(256, 256, people=1), noisy_photo(256, 256)]
    frames[0].save(path, save_all=True, append_images=frames[1:], duration=100)
    info = probe(path)
    assert (info.media, info.num_frames, info.look, info.orientation) == (Media.IMAGE, 1, Look.POSE, "square")


@pytest.mark.parametrize(("w", "h"), [(1, 1), (3000, 20), (20, 3000), (5, 5)])
def test_tiny_and_extreme_sizes_probe_as_photos(tmp_path: Path, w: int, h: int) -> None:
    path = tmp_path / "odd.png"
    noisy_photo(w, h).save(path)
    info = probe(path)
    assert (info.width, info.height, info.look) == (w, h, Look.PHOTO)


def test_probe_accepts_path_objects_and_keeps_the_path_as_given(tmp_path: Path) -> None:
    path = tmp_path / "mask.png"
    blob_mask(64, 64).save(path)
    assert probe(path).path == str(path) == probe(str(path)).path


def test_probing_again_answers_from_memory_until_the_file_changes(tmp_path: Path) -> None:
    path = tmp_path / "upload.png"
    blob_mask(64, 64).save(path)
    first = probe(path)
    assert probe(path) is first and first.look is Look.MASK
    noisy_photo(100, 80).save(path)  # same name, new content (and size on disk)
    assert (probe(path).width, probe(path).look) == (100, Look.PHOTO)


def test_accepted_extensions_cover_the_common_formats() -> None:
    assert {".png", ".jpg", ".jpeg", ".webp", ".gif", ".bmp", ".tif", ".tiff"} <= IMAGE_EXTENSIONS
    assert {".mp4", ".mov", ".webm", ".mkv", ".avi"} <= VIDEO_EXTENSIONS
    assert all(e == e.lower() and e.startswith(".") for e in IMAGE_EXTENSIONS | VIDEO_EXTENSIONS)
    assert not IMAGE_EXTENSIONS & VIDEO_EXTENSIONS


# ---------------------------------------------------------------------------------------------- errors


def _error(path: Path | str) -> MediaError:
    with pytest.raises(MediaError) as caught:
        probe(path)
    message = str(caught.value)
    assert "\n" not in message and message.startswith(Path(path).name + ": ")
    assert caught.value.path == str(path)
    return caught.value


def test_missing_file_is_reported_as_missing(tmp_path: Path) -> None:
    assert str(_error(tmp_path / "x.png")) == "x.png: no such file"


def test_empty_file_is_reported_as_empty(tmp_path: Path) -> None:
    (tmp_path / "clip.mp4").write_bytes(b"")
    assert str(_error(tmp_path / "clip.mp4")) == "clip.mp4: empty file (0 bytes)"


def test_directory_is_not_a_file(tmp_path: Path) -> None:
    (tmp_path / "frames.mp4").mkdir()
    assert "directory" in str(_error(tmp_path / "frames.mp4"))


def test_text_file_is_neither_and_the_message_lists_accepted_kinds(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("remember to buy milk\n" * 20)
    message = str(_error(tmp_path / "notes.txt"))
    assert message.startswith("notes.txt: not an image or a video (accepted images: ")
    assert ".png" in message and ".jpg" in message and ".mp4" in message and ".mov" in message


def test_text_file_named_like_a_video_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "clip.mp4").write_text("not really a video\n" * 50)
    assert "video" in str(_error(tmp_path / "clip.mp4"))


def test_truncated_png_is_corrupt(tmp_path: Path) -> None:
    full = tmp_path / "full.png"
    noisy_photo(320, 240).save(full)
    data = full.read_bytes()
    (tmp_path / "broken.png").write_bytes(data[: len(data) // 2])
    assert "corrupt or truncated image" in str(_error(tmp_path / "broken.png"))


def test_truncated_jpeg_is_corrupt(tmp_path: Path) -> None:
    full = tmp_path / "full.jpg"
    noisy_photo(320, 240).save(full)
    (tmp_path / "broken.jpg").write_bytes(full.read_bytes()[:1500])
    assert "corrupt" in str(_error(tmp_path / "broken.jpg"))


def test_png_cut_inside_its_header_is_corrupt(tmp_path: Path) -> None:
    (tmp_path / "stub.png").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIH")
    assert "corrupt" in str(_error(tmp_path / "stub.png"))


def test_truncated_mp4_is_corrupt(tmp_path: Path) -> None:
    full = write_video(tmp_path / "full.mp4", clip_frames(8), fps=8).read_bytes()
    (tmp_path / "cut.mp4").write_bytes(full[: len(full) // 2])  # the index (moov) sits at the end
    assert "corrupt" in str(_error(tmp_path / "cut.mp4"))


def test_mp4_whose_frames_are_missing_is_corrupt(tmp_path: Path) -> None:
    path = tmp_path / "fast.mp4"
    with av.open(str(path), mode="w", format="mp4", options={"movflags": "faststart"}) as out:
        stream = out.add_stream("libx264", rate=8)
        stream.width, stream.height, stream.pix_fmt = 160, 96, "yuv420p"
        for im in clip_frames(8):
            out.mux(stream.encode(av.VideoFrame.from_image(im)))
        out.mux(stream.encode())
    data = path.read_bytes()
    mdat = data.index(b"mdat")
    (tmp_path / "nodata.mp4").write_bytes(data[: mdat + 40])  # header and index intact, pictures gone
    assert "corrupt" in str(_error(tmp_path / "nodata.mp4"))


def test_audio_only_mp4_has_no_video_stream(tmp_path: Path) -> None:
    path = write_audio(tmp_path / "voice.mp4", "mp4", "aac")
    assert "audio only, no video stream" in str(_error(path))


def test_wav_file_is_audio_not_video(tmp_path: Path) -> None:
    path = write_audio(tmp_path / "voice.wav", "wav", "pcm_s16le")
    message = str(_error(path))
    assert "audio file" in message and "accepted images" in message


def test_image_with_huge_declared_size_is_refused_without_decoding(tmp_path: Path) -> None:
    (tmp_path / "bomb.png").write_bytes(png_header(100_000, 100_000))
    assert "too large" in str(_error(tmp_path / "bomb.png"))
    (tmp_path / "bomb2.png").write_bytes(png_header(20_000, 20_000))
    assert "too large" in str(_error(tmp_path / "bomb2.png"))
    assert MAX_PIXELS < 20_000 * 20_000


def test_large_image_raises_no_pillow_warning(tmp_path: Path) -> None:
    # 100 megapixels is past Pillow's DecompressionBombWarning threshold (89 M); warnings are errors here.
    (tmp_path / "big.png").write_bytes(png_header(10_000, 10_000))
    info = probe(tmp_path / "big.png")
    assert (info.width, info.height, info.look) == (10_000, 10_000, Look.PHOTO)


_MAGIC = [b"", b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff\xe0", b"GIF89a", b"RIFF\x00\x00\x00\x00WEBP", b"BM",
          b"II*\x00", b"\x00\x00\x00\x18ftypisom", b"\x1a\x45\xdf\xa3", b"RIFF\x00\x00\x00\x00AVI ", b"OggS",
          b"ID3"]  # fmt: skip
_SUFFIXES = sorted(IMAGE_EXTENSIONS | VIDEO_EXTENSIONS | {".txt", ""})


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(magic=st.sampled_from(_MAGIC), body=st.binary(min_size=0, max_size=600), suffix=st.sampled_from(_SUFFIXES))
def test_random_bytes_give_media_info_or_media_error_only(
    tmp_path_factory: pytest.TempPathFactory, magic: bytes, body: bytes, suffix: str
) -> None:
    path = tmp_path_factory.mktemp("fuzz") / f"attachment{suffix}"
    path.write_bytes(magic + body)
    try:
        info = probe(path)
    except MediaError as err:
        assert str(err).startswith(path.name + ":") and "\n" not in str(err)
    else:
        assert info.width > 0 and info.height > 0 and info.num_frames >= 1


@pytest.fixture(scope="module")
def valid_files(tmp_path_factory: pytest.TempPathFactory) -> list[bytes]:
    folder = tmp_path_factory.mktemp("valid")
    files = []
    for suffix in (".png", ".jpg", ".webp", ".gif", ".tiff"):
        openpose(128, 96, people=1).save(folder / f"pose{suffix}")
        files.append((folder / f"pose{suffix}").read_bytes())
    for suffix, codec in ((".mp4", "libx264"), (".webm", "libvpx-vp9")):
        files.append(write_video(folder / f"clip{suffix}", clip_frames(4, 64, 48), fps=8, codec=codec).read_bytes())
    return files


@pytest.mark.slow
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    which=st.integers(0, 6),
    keep=st.floats(0.0, 1.0),
    flips=st.lists(st.tuples(st.floats(0.0, 1.0, exclude_max=True), st.integers(0, 255)), max_size=12),
    suffix=st.sampled_from(_SUFFIXES),
)
def test_damaged_real_files_give_media_info_or_media_error_only(
    tmp_path_factory: pytest.TempPathFactory,
    valid_files: list[bytes],
    which: int,
    keep: float,
    flips: list[tuple[float, int]],
    suffix: str,
) -> None:
    data = bytearray(valid_files[which])
    for where, value in flips:
        data[int(where * len(data))] = value
    data = data[: max(1, int(keep * len(data)))]
    path = tmp_path_factory.mktemp("damaged") / f"file{suffix}"
    path.write_bytes(bytes(data))
    try:
        info = probe(path)
    except MediaError as err:
        assert str(err).startswith(path.name + ":") and "\n" not in str(err)
    else:
        assert info.width > 0 and info.height > 0 and info.num_frames >= 1
