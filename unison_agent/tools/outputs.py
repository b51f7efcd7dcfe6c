"""Results written to disk: PNG pictures and H.264 MP4 clips, each carrying the metadata that made it.

Writes are atomic: a file is written under a temporary name in its destination folder and moved into place
with ``os.replace``, so a reader (or a crash, or a cancelled run) never sees half a file, and a failed write
leaves nothing behind. A PNG keeps its metadata as JSON in an ``iTXt`` chunk named ``unison``; an MP4 has it
in a JSON sidecar of the same name (``clip.mp4`` -> ``clip.json``), written atomically with the clip.
"""

from __future__ import annotations

import contextlib
import dataclasses
import enum
import json
import os
import re
import secrets
import unicodedata
import warnings
from collections.abc import Iterator
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import numpy as np
from av.video.reformatter import ColorRange, Colorspace
from PIL import Image, PngImagePlugin

__all__ = [
    "METADATA_KEY",
    "read_metadata",
    "resample",
    "slug",
    "unique_path",
    "write_encoded",
    "write_mp4",
    "write_png",
]

METADATA_KEY = "unison"
"""The PNG ``iTXt`` keyword under which the metadata JSON is stored."""

_MAX_STEM = 48
_MAX_SLUG = 32  # leaves room in a 48-character stem for "-" and a 10-digit seed
_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


# ---------------------------------------------------------------------------------------------- names


def slug(text: str, words: int = 5) -> str:
    """The first ``words`` words of ``text`` in lower case, ASCII, joined by "-".

    ``"A red fox, in the snow!"`` gives ``"a-red-fox-in-the"``. Accents are dropped (``"Café"`` -> ``"cafe"``),
    apostrophes join (``"don't"`` -> ``"dont"``), and the result is cut at a word boundary to at most 32
    characters. Returns ``""`` when ``text`` has no letters or digits (non-Latin scripts included).
    """
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii").lower()
    found = re.findall(r"[a-z0-9]+", re.sub(r"['`]", "", ascii_text))[: max(0, words)]
    out = ""
    for word in found:
        joined = f"{out}-{word}" if out else word
        if len(joined) > _MAX_SLUG:
            return out or word[:_MAX_SLUG]
        out = joined
    return out


def _stem(stem: str) -> str:
    ascii_stem = unicodedata.normalize("NFKD", stem).encode("ascii", "ignore").decode("ascii").lower()
    cleaned = re.sub(r"-{2,}", "-", re.sub(r"[^a-z0-9-]+", "-", ascii_stem)).strip("-")
    return cleaned[:_MAX_STEM].rstrip("-") or "output"


def unique_path(out_dir: Path, stem: str, suffix: str) -> Path:
    """A path in ``out_dir`` named ``stem + suffix`` that is not taken, numbering ``stem-2``, ``stem-3``... if it is.

    A name is taken when the file or its JSON sidecar exists. ``stem`` is reduced to ``[a-z0-9-]`` (accents
    dropped, other characters become "-") and at most 48 characters; an empty result becomes ``"output"``.
    ``suffix`` gets a leading dot if it lacks one. Nothing is created, so two writers racing for the same
    name can still collide: callers write one output at a time.
    """
    base = _stem(stem)
    suffix = suffix.lower() if suffix.startswith(".") else f".{suffix.lower()}"
    out_dir = Path(out_dir)
    n = 1
    while True:
        candidate = out_dir / (f"{base}{suffix}" if n == 1 else f"{base}-{n}{suffix}")
        if not (candidate.exists() or candidate.with_suffix(".json").exists()):
            return candidate
        n += 1


# ---------------------------------------------------------------------------------------------- writing


def write_png(path: Path, image: np.ndarray | Image.Image, metadata: dict[str, Any]) -> Path:
    """Write ``image`` to ``path`` as a PNG whose ``iTXt`` chunk ``"unison"`` holds ``metadata`` as JSON.

    ``image`` is a uint8 array of shape (H, W, 3) (or (H, W) grey, or (H, W, 4) with alpha), or a Pillow image
    (saved in its own mode when PNG has it, else converted to RGB). The folder is created if needed. The
    write is atomic: on any error the temporary file is removed and ``path`` is left as it was.
    Returns ``path``. Raises ``ValueError`` for an array of the wrong type or shape, ``TypeError`` for
    metadata that cannot be written as JSON, ``OSError`` when the file cannot be written.
    """
    path = Path(path)
    picture = _as_image(image)
    info = PngImagePlugin.PngInfo()
    info.add_itxt(METADATA_KEY, _to_json(metadata))
    with _staged(path) as staged:
        picture.save(staged.tmp, format="PNG", pnginfo=info)
        staged.publish()
    return path


def write_mp4(path: Path, frames: np.ndarray, fps: int, metadata: dict[str, Any], *, crf: int = 18) -> Path:
    """Write ``frames`` to ``path`` as an H.264 (libx264, yuv420p) MP4 that plays at ``fps``, and ``metadata``
    to its JSON sidecar ``path.with_suffix(".json")``.

    ``frames`` is a uint8 array of shape (T, H, W, 3), T >= 1, with H and W even (4:2:0 chroma needs it;
    callers snap sizes to multiples of 16). Frame ``i`` is stamped ``i / fps`` (time base ``1/fps``), and the
    colours are converted and tagged as BT.709 limited range, as players assume for video. ``crf`` is x264's
    constant quality (0 lossless .. 51 worst; 18 looks lossless). The file is "faststart" (index first), so
    it plays while downloading. The folder is created if needed.

    Both files are written atomically: on any error neither is left behind (nor any temporary file).
    Returns ``path``. Raises ``ValueError`` for frames of the wrong type or shape, an odd width or height, a
    non-positive ``fps`` or a ``crf`` outside 0..51, before anything is written; ``TypeError`` for metadata
    that cannot be written as JSON; ``OSError`` or PyAV's errors when writing fails.
    """
    path = Path(path)
    video = np.asarray(frames)
    if video.dtype != np.uint8 or video.ndim != 4 or video.shape[-1] != 3 or video.shape[0] < 1:
        raise ValueError(f"write_mp4: frames must be a uint8 array (T, H, W, 3), got {video.dtype} {video.shape}")
    _, height, width, _ = video.shape
    if width % 2 or height % 2 or width < 2 or height < 2:
        raise ValueError(f"write_mp4: width and height must be even for yuv420p, got {width}x{height}")
    if isinstance(fps, bool) or int(fps) != fps or fps <= 0:
        raise ValueError(f"write_mp4: fps must be a positive whole number, got {fps}")
    if not 0 <= crf <= 51:
        raise ValueError(f"write_mp4: crf must be within 0..51, got {crf}")
    sidecar_text = _to_json(metadata, indent=2) + "\n"
    sidecar = path.with_suffix(".json")
    if sidecar == path:
        raise ValueError(f"write_mp4: {path.name} would be its own sidecar; give it a .mp4 name")

    # Both temporary files are complete before either is moved into place. The sidecar goes first, so that
    # a clip is never seen without its metadata; if moving the clip then fails, the sidecar is taken back.
    with _staged(sidecar) as side, _staged(path) as clip:
        side.tmp.write_text(sidecar_text, encoding="utf-8")
        _encode_h264(clip.tmp, video, int(fps), crf)
        side.publish()
        try:
            clip.publish()
        except BaseException:
            with contextlib.suppress(OSError):
                sidecar.unlink()
            raise
    return path


def write_encoded(path: Path, data: bytes, sidecar: bytes | None = None) -> Path:
    """Write an already encoded file (a PNG or MP4 made elsewhere, e.g. on a Ray replica) to ``path``, and
    ``sidecar`` (a clip's JSON metadata) beside it as ``path.with_suffix(".json")``, atomically as the writers above
    do: on any error neither is left behind, and a clip is never seen without its sidecar. Returns ``path``."""
    path = Path(path)
    if sidecar is None:
        with _staged(path) as staged:
            staged.tmp.write_bytes(data)
            staged.publish()
        return path
    side_path = path.with_suffix(".json")
    if side_path == path:
        raise ValueError(f"write_encoded: {path.name} would be its own sidecar")
    with _staged(side_path) as side, _staged(path) as main:
        side.tmp.write_bytes(sidecar)
        main.tmp.write_bytes(data)
        side.publish()
        try:
            main.publish()
        except BaseException:
            with contextlib.suppress(OSError):
                side_path.unlink()
            raise
    return path


def resample(frames: np.ndarray, fps: int, to_fps: int, *, max_frames: int | None = None) -> np.ndarray:
    """``frames`` made at ``fps``, sampled down to ``to_fps`` over the same span of time.

    Output frame ``i`` is the input frame on screen at time ``i / to_fps``: input frame ``i * fps // to_fps``
    (the latest one at or before that time, as :func:`unison_agent.tools.frames.read_video` samples clips).
    Output frames run while their time is within the input's span, ``(T - 1) / fps``, and stop after
    ``max_frames``. Returns an array of the same kind and dtype, shape ``(n, H, W, C)``.
    Raises ``ValueError`` when ``to_fps`` is above ``fps`` (that would repeat frames), or either is not positive.
    """
    if fps <= 0:
        raise ValueError(f"resample: fps must be positive, got {fps}")
    if not 0 < to_fps <= fps:
        raise ValueError(f"resample: to_fps must be within 1..{fps} (fps {fps}), got {to_fps}")
    total = int(frames.shape[0])
    count = (total - 1) * to_fps // fps + 1 if total else 0
    if max_frames is not None:
        count = min(count, max_frames)
    # Whole numbers throughout: a float time (i / to_fps * fps) could land a hair before a frame and pick the one
    # before it.
    return frames[[i * fps // to_fps for i in range(count)]]


def _encode_h264(target: Path, video: np.ndarray, fps: int, crf: int) -> None:
    _, height, width, _ = video.shape
    rate = Fraction(fps, 1)
    with av.open(str(target), mode="w", format="mp4", options={"movflags": "+faststart"}) as out:
        stream = out.add_stream("libx264", rate=rate, options={"crf": str(crf)})
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        stream.time_base = 1 / rate
        cc = stream.codec_context
        # Tag the colours the way they are converted below: untagged H.264 is read as BT.601 by some players
        # and BT.709 by others, which shifts hues.
        cc.colorspace, cc.color_primaries, cc.color_trc, cc.color_range = 1, 1, 1, 1  # BT.709, limited range
        for i, array in enumerate(video):
            frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(array), format="rgb24")
            frame = frame.reformat(format="yuv420p", dst_colorspace=Colorspace.ITU709, dst_color_range=ColorRange.MPEG)
            frame.pts, frame.time_base = i, 1 / rate
            out.mux(stream.encode(frame))
        out.mux(stream.encode())  # flush the frames the encoder holds back


# ---------------------------------------------------------------------------------------------- reading


def read_metadata(path: Path) -> dict[str, Any]:
    """The metadata written with the file at ``path``: a PNG's ``unison`` chunk, else the JSON sidecar.

    Returns the dict. Raises ``ValueError`` when the file has neither (or its metadata is not a JSON object),
    ``OSError`` when the PNG cannot be read.
    """
    path = Path(path)
    text: str | None = None
    with open(path, "rb") as f:
        is_png = f.read(8) == _PNG_SIGNATURE
    if is_png:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # DecompressionBombWarning for a large picture: only chunks are read
            with Image.open(path, formats=["PNG"]) as im:
                found = im.info.get(METADATA_KEY)  # chunks before the pixels, where write_png puts it
                if found is None and isinstance(im, PngImagePlugin.PngImageFile):
                    found = im.text.get(METADATA_KEY)  # chunks after the pixels (reads to the end)
        text = str(found) if found is not None else None
    sidecar = path.with_suffix(".json")
    if text is None and sidecar != path and sidecar.is_file():
        text = sidecar.read_text(encoding="utf-8")
    if text is None:
        raise ValueError(f"{path.name}: no unison metadata (no PNG chunk, no {sidecar.name} sidecar)")
    try:
        data = json.loads(text)
    except json.JSONDecodeError as err:
        raise ValueError(f"{path.name}: unreadable metadata ({err})") from None
    if not isinstance(data, dict):
        raise ValueError(f"{path.name}: metadata is not a JSON object")
    return data


# ---------------------------------------------------------------------------------------------- helpers


def _as_image(image: np.ndarray | Image.Image) -> Image.Image:
    if isinstance(image, Image.Image):
        if image.mode in ("1", "L", "LA", "P", "RGB", "RGBA", "I;16"):
            return image
        return image.convert("RGBA" if "A" in image.getbands() else "RGB")
    array = np.asarray(image)
    if array.dtype != np.uint8:
        raise ValueError(f"write_png: the array must be uint8, got {array.dtype}")
    if array.ndim == 3 and array.shape[2] in (3, 4):
        return Image.fromarray(np.ascontiguousarray(array), "RGB" if array.shape[2] == 3 else "RGBA")
    if array.ndim == 2:
        return Image.fromarray(np.ascontiguousarray(array), "L")
    raise ValueError(f"write_png: the array must be (H, W, 3), (H, W, 4) or (H, W), got {array.shape}")


def _to_json(metadata: dict[str, Any], indent: int | None = None) -> str:
    """``metadata`` as JSON. Paths, enums, dataclasses, pydantic models and numpy values are converted;
    anything else that JSON lacks raises ``TypeError``."""
    if not isinstance(metadata, dict):
        raise TypeError(f"metadata must be a dict, got {type(metadata).__name__}")
    return json.dumps(metadata, ensure_ascii=False, indent=indent, default=_jsonable, allow_nan=False)


def _jsonable(value: Any) -> Any:
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, (set, frozenset)):
        return sorted(value, key=str)
    if isinstance(value, (np.generic, np.ndarray)):
        return value.tolist()
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.asdict(value)
    dump = getattr(value, "model_dump", None)  # pydantic models
    if callable(dump):
        return dump(mode="json")
    raise TypeError(f"metadata value of type {type(value).__name__} cannot be written as JSON")


class _Staged:
    """A temporary file beside ``path`` that becomes ``path`` when published, and is removed otherwise."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.done = False
        path.parent.mkdir(parents=True, exist_ok=True)
        while True:
            # Not tempfile.mkstemp: it creates the file 0600, and os.replace would keep that mode. os.open
            # with 0666 lets the umask decide, as for any file the user writes.
            tmp = path.parent / f".{path.name}.{secrets.token_hex(4)}.part"
            try:
                os.close(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))
            except FileExistsError:  # pragma: no cover - 32 random bits met an existing name
                continue
            self.tmp = tmp
            return

    def publish(self) -> None:
        """Move the finished temporary file onto ``path`` (replacing any file there)."""
        with contextlib.suppress(OSError):  # the bytes reach the disk before the name points at them
            fd = os.open(self.tmp, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
        os.replace(self.tmp, self.path)
        self.done = True

    def discard(self) -> None:
        if not self.done:
            with contextlib.suppress(OSError):
                os.unlink(self.tmp)


@contextlib.contextmanager
def _staged(path: Path) -> Iterator[_Staged]:
    """A :class:`_Staged` file for ``path``; whatever happens in the block, no temporary file is left."""
    staged = _Staged(path)
    try:
        yield staged
    finally:
        staged.discard()
