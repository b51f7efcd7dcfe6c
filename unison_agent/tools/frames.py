"""Attachments read as Pillow frames, ready to condition a model: pictures, video frames sampled in time, masks.

Everything here decides *what pixels* a model sees; nothing imports torch. Every reader first asks
:func:`unison_agent.media.probe` what the file is (so a wrong kind, a corrupt file or a decompression bomb is
refused before any decoding), and turns every problem into an :class:`~unison_agent.tools.errors.InputError`
whose message names the file.

Conventions:

* Pictures come back ``"RGB"`` with the EXIF orientation applied; transparency is flattened onto **white**
  (a cut-out product or logo on a transparent background reads as the same object on white paper). Pass
  ``keep_alpha=True`` to :func:`open_image` to keep it, which is what a mask needs (see :func:`binarise`).
* Video frames are taken by timestamp: frame ``i`` of a clip sampled at ``fps`` is the frame on screen at time
  ``i / fps`` from the clip's first frame. Rotated phone clips are turned upright, as players show them.
* :func:`fit` scales to cover and crops the centre, so a source, its mask and its control map of the same
  aspect ratio stay aligned pixel for pixel after each is fitted to the output size.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Iterator
from dataclasses import dataclass

import av
import numpy as np
from av.video.reformatter import VideoReformatter
from PIL import Image, ImageOps

from unison_agent.media import MediaError, MediaInfo, probe
from unison_agent.spec import Media
from unison_agent.tools.errors import InputError, UnreadableInputError

__all__ = [
    "VideoFrames",
    "binarise",
    "fit",
    "open_image",
    "read_video",
    "read_video_for_understanding",
]

# A frame stamped a little after a sampling time still counts as shown at that time, because containers round
# timestamps: WebM to whole milliseconds, so frame 2 of a 30 fps clip is stamped 0.067 s, after the exact 2/30 s.
# "A little" is one tick of the stream's time base, at least 1 ms, and never more than a quarter of a frame.
_PTS_SLACK_S = 0.001
_PTS_SLACK_FRAMES = 0.25


@dataclass(frozen=True)
class VideoFrames:
    """Frames taken from a clip, with what a caller needs to place them in time."""

    frames: list[Image.Image]  # "RGB" (or "L" for masks), already fitted if a size was asked
    source_fps: float  # the clip's own (average) frame rate
    indices: list[int]  # index in the source clip of each returned frame (0 = first frame)
    total_frames: int  # frames in the source clip


# ---------------------------------------------------------------------------------------------- pictures


def open_image(path: str | os.PathLike[str], *, keep_alpha: bool = False) -> Image.Image:
    """The picture at ``path``, fully decoded, upright (EXIF orientation applied).

    Returns an ``"RGB"`` image; transparent pixels are flattened onto white. With ``keep_alpha=True`` an
    image that has transparency comes back ``"RGBA"`` instead (for masks: :func:`binarise` puts transparent
    pixels on black, i.e. "keep"). 16-bit grey pictures (depth maps) are scaled down to 8 bits by their
    maximum when it exceeds 255. An animated picture gives its first frame.

    Raises :class:`InputError` naming the file when it is missing, not an image (a video included), corrupt,
    truncated, or too large (the pixel limit is :data:`unison_agent.media.MAX_PIXELS`, checked by ``probe``).
    """
    info = _probe(path, Media.IMAGE)
    p = os.fspath(path)
    with warnings.catch_warnings():
        # Pillow warns about large images (DecompressionBombWarning; probe has already refused real bombs),
        # odd EXIF and palette transparency: none may escape to callers that treat warnings as errors.
        warnings.simplefilter("ignore")
        try:
            with Image.open(p) as im:
                im.load()
                try:
                    upright = ImageOps.exif_transpose(im)
                except Exception:  # malformed EXIF: show the picture as stored rather than refuse it
                    upright = im
                return _to_rgb(upright, keep_alpha)
        except Exception as err:  # Pillow raises OSError, ValueError, SyntaxError, struct.error ... on bad data
            raise UnreadableInputError(_say(info.path, f"corrupt or truncated image ({_why(err)})")) from None


def _to_rgb(im: Image.Image, keep_alpha: bool) -> Image.Image:
    """``im`` as "RGB", or "RGBA" when ``keep_alpha`` and it has transparency; alpha otherwise goes onto white."""
    if im.mode in ("I;16", "I;16L", "I;16B", "I;16N", "I", "F"):
        values = np.asarray(im, dtype=np.float32)
        top = float(values.max()) if values.size else 0.0
        if top > 255:  # same scaling as media's look measurement, so the tool sees what the planner saw
            values = values * (255.0 / top)
        im = Image.fromarray(np.clip(values, 0, 255).round().astype(np.uint8), "L")
    has_alpha = im.mode in ("RGBA", "LA", "PA", "La", "RGBa") or (im.mode == "P" and "transparency" in im.info)
    has_alpha = has_alpha or (im.mode in ("RGB", "L") and "transparency" in im.info)  # tRNS colour key
    if not has_alpha:
        return im.convert("RGB") if im.mode != "RGB" else im.copy()
    rgba = im.convert("RGBA")
    if keep_alpha:
        return rgba
    white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
    return Image.alpha_composite(white, rgba).convert("RGB")


def fit(
    image: Image.Image, width: int, height: int, *, resample: Image.Resampling = Image.Resampling.BICUBIC
) -> Image.Image:
    """``image`` scaled to cover ``width`` x ``height`` and cropped to it around its centre.

    Returns a new image of exactly that size, in the same mode (modes "1" and "P" are resampled nearest, as
    Pillow always does). Images of the same aspect ratio are cut at the same relative place, so a mask fitted
    like its source stays aligned with it; binarise a mask *after* fitting it, since resampling softens edges.
    Raises ``ValueError`` when ``width`` or ``height`` is not positive.
    """
    if width <= 0 or height <= 0:
        raise ValueError(f"fit: size must be positive, got {width}x{height}")
    w, h = image.size
    if (w, h) == (width, height):
        return image.copy()
    # The crop box is computed in source pixels, as floats, and resampled in one step: no rounding of an
    # intermediate size, so two inputs of the same aspect ratio but different sizes are cut identically.
    if w * height > width * h:  # wider than the target: keep the full height, cut the sides
        crop = h * width / height
        box = ((w - crop) / 2, 0.0, (w + crop) / 2, float(h))
    else:  # taller (or the same shape): keep the full width, cut top and bottom
        crop = w * height / width
        box = (0.0, (h - crop) / 2, float(w), (h + crop) / 2)
    return image.resize((width, height), resample, box=box)


def binarise(mask: Image.Image, threshold: int = 128) -> Image.Image:
    """``mask`` as a mode "L" image holding only 0 and 255: 255 (white) = regenerate, 0 (black) = keep.

    A pixel is white when its luminance (ITU-R 601), after flattening any transparency onto black, is at
    least ``threshold``: a transparent pixel is "keep", an opaque white stroke is "regenerate". 16-bit masks
    are scaled to 8 bits by their maximum first. Raises ``ValueError`` unless ``1 <= threshold <= 255``.
    """
    if not 1 <= threshold <= 255:
        raise ValueError(f"binarise: threshold must be within 1..255, got {threshold}")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # palette-transparency notices on convert()
        plain = mask.mode in ("L", "1") and "transparency" not in mask.info
        im = mask if plain else _to_rgb(mask, keep_alpha=True)
        if im.mode == "RGBA":
            grey = np.asarray(im.convert("L"), dtype=np.uint16)
            alpha = np.asarray(im.getchannel("A"), dtype=np.uint16)
            lum = Image.fromarray(((grey * alpha + 127) // 255).astype(np.uint8), "L")
        else:
            lum = im.convert("L")
    return lum.point([0] * threshold + [255] * (256 - threshold))


# ---------------------------------------------------------------------------------------------- videos


def read_video(
    path: str | os.PathLike[str],
    *,
    fps: float,
    max_frames: int | None = None,
    width: int | None = None,
    height: int | None = None,
    mode: str = "RGB",
) -> VideoFrames:
    """The clip at ``path`` sampled at ``fps`` frames per second from its first frame.

    Frame ``i`` is the source frame on screen at time ``i / fps``: the latest frame whose timestamp is at
    or before it (timestamps are read from the file, so variable-frame-rate clips are timed right; a frame
    stamped up to one time-base tick, at least 1 ms, late still counts, as containers round timestamps). Sampling
    faster than the clip repeats frames; slower skips them. Sampling stops at the clip's end (the last
    frame's timestamp plus its duration) or after ``max_frames`` frames, and decoding stops there too.
    With ``width`` and ``height`` each frame is :func:`fit` to that size. ``mode`` is "RGB", or "L" for
    mask clips (then :func:`binarise` them after fitting).

    Returns :class:`VideoFrames`; ``total_frames`` is the number of frames decoded when the whole clip was
    decoded, otherwise the container's count (or probe's estimate from duration x fps).
    Raises :class:`InputError` naming the file when it is missing, not a video (a still image included),
    corrupt, or has no decodable frame; ``ValueError`` for a bad argument.
    """
    if not fps > 0:
        raise ValueError(f"read_video: fps must be positive, got {fps}")
    if max_frames is not None and max_frames < 1:
        raise ValueError(f"read_video: max_frames must be at least 1, got {max_frames}")
    size = _size(width, height)
    if mode not in ("RGB", "L"):
        raise ValueError(f'read_video: mode must be "RGB" or "L", got {mode!r}')
    info = _probe(path, Media.VIDEO)
    source_fps = info.fps or fps
    convert = _Converter(mode, size)

    frames: list[Image.Image] = []
    indices: list[int] = []
    decoded = 0
    held: tuple[av.VideoFrame, int] | None = None  # the latest frame at or before the next sampling time
    last_time = last_duration = 0.0
    finished = False

    def due() -> float:  # the time of the next frame to return
        return len(frames) / fps

    def full() -> bool:
        return max_frames is not None and len(frames) >= max_frames

    with _VideoFile(info) as clip:
        slack = min(max(clip.tick, _PTS_SLACK_S), _PTS_SLACK_FRAMES / max(fps, source_fps))
        for frame, t, duration in clip.frames(source_fps):
            decoded += 1
            # Every sampling time before this frame's shows the frame held from before.
            while held is not None and t > due() + slack and not full():
                frames.append(convert(held[0]))
                indices.append(held[1])
            if full():
                break
            held = (frame, decoded - 1)
            last_time, last_duration = t, duration
        else:
            finished = True
            # The clip's end: the last frame stays on screen for its duration.
            while held is not None and due() < last_time + last_duration - slack and not full():
                frames.append(convert(held[0]))
                indices.append(held[1])
        if held is None:
            raise UnreadableInputError(_say(info.path, "corrupt video: no frame could be decoded"))
        if not frames:  # a single frame with no duration: it is still the clip's frame at time 0
            frames.append(convert(held[0]))
            indices.append(held[1])
        total = decoded if finished else clip.counted or info.num_frames
    return VideoFrames(frames, float(source_fps), indices, max(total, indices[-1] + 1))


def read_video_for_understanding(
    path: str | os.PathLike[str], *, max_frames: int, target_fps: float = 2.0
) -> VideoFrames:
    """Frames spread over the whole clip at ``path``, for a vision-language model to watch.

    The clip is sampled at ``min(target_fps, its own fps)``: ``round(duration x rate)`` frames (at least 1,
    at most ``max_frames`` and the clip's length), evenly spaced by index from the first frame to the last
    (one frame: the middle one). Frames keep the clip's size, upright. ``indices``, ``total_frames`` and
    ``source_fps`` are the real ones, so the sampled rate is ``len(indices) / total_frames * source_fps``.

    The whole clip is decoded (only the picked frames are converted to pictures), since only that tells its
    true length. When the container does not count its frames they are counted from its packets first; if
    decoding finds a different count the frames are picked again with the true one (a second decoding pass).
    Raises :class:`InputError` naming the file (missing, not a video, corrupt, no frame); ``ValueError`` when
    ``max_frames < 1`` or ``target_fps <= 0``.
    """
    if max_frames < 1:
        raise ValueError(f"read_video_for_understanding: max_frames must be at least 1, got {max_frames}")
    if not target_fps > 0:
        raise ValueError(f"read_video_for_understanding: target_fps must be positive, got {target_fps}")
    info = _probe(path, Media.VIDEO)
    convert = _Converter("RGB", None)
    with _VideoFile(info) as clip:
        total = clip.counted or clip.count_packets() or info.num_frames
    source_fps = info.fps or float(total) / (info.duration_s or 1.0)
    for _ in range(2):
        wanted = _spread(total, min(max_frames, max(1, round(total / source_fps * min(target_fps, source_fps)))))
        picked: list[Image.Image] = []
        decoded = 0
        with _VideoFile(info) as clip:
            want = iter(wanted)
            next_index = next(want, None)
            for frame, _t, _d in clip.frames(source_fps):
                if decoded == next_index:
                    picked.append(convert(frame))
                    next_index = next(want, None)
                decoded += 1
                # Decode on past the last wanted frame: only the whole clip tells its true length.
        if decoded == 0:
            raise UnreadableInputError(_say(info.path, "corrupt video: no frame could be decoded"))
        if decoded == total:
            return VideoFrames(picked, float(source_fps), wanted, total)
        total = decoded  # the container's count was wrong: pick again over the frames that really exist
    # Two passes gave different counts: the decoder is not deterministic on this file, keep what the last gave.
    kept = [i for i in wanted if i < decoded]  # pragma: no cover - needs a decoder that changes its mind
    return VideoFrames(picked[: len(kept)], float(source_fps), kept, decoded)  # pragma: no cover


def _spread(total: int, n: int) -> list[int]:
    """``n`` distinct frame indices evenly spaced from 0 to ``total - 1`` (the middle one when ``n`` is 1)."""
    n = min(n, total)
    if n <= 1:
        return [total // 2] if total > 0 else []
    # A step of at least 1 between consecutive values keeps them distinct after rounding.
    return [int(v) for v in np.linspace(0, total - 1, n).round()]


# ---------------------------------------------------------------------------------------------- helpers


def _probe(path: str | os.PathLike[str], wanted: Media) -> MediaInfo:
    """``probe(path)``, with its errors and a wrong kind of medium turned into :class:`InputError`."""
    try:
        info = probe(path)
    except MediaError as err:
        raise UnreadableInputError(str(err)) from None
    if info.media != wanted:
        what = "a video" if info.media == Media.VIDEO else "an image"
        raise InputError(_say(info.path, f"is {what}, but {_article(wanted)} is needed here"))
    return info


def _article(media: Media) -> str:
    return "a video" if media == Media.VIDEO else "an image"


def _say(path: str, problem: str) -> str:
    """One line naming the file, as :class:`unison_agent.media.MediaError` words it."""
    name = os.path.basename(path.rstrip("/\\")) or path
    return " ".join(f"{name}: {problem}".split())


def _why(err: BaseException) -> str:
    text = str(err).strip() or type(err).__name__
    return text if len(text) <= 120 else text[:117] + "..."


def _size(width: int | None, height: int | None) -> tuple[int, int] | None:
    if width is None and height is None:
        return None
    if width is None or height is None or width <= 0 or height <= 0:
        raise ValueError(f"read_video: give both width and height, positive, or neither (got {width}x{height})")
    return width, height


class _Converter:
    """Turns decoded frames into upright Pillow images of one mode, fitted to one size if asked."""

    def __init__(self, mode: str, size: tuple[int, int] | None) -> None:
        self.format = "gray" if mode == "L" else "rgb24"
        self.mode = mode
        self.size = size
        # One swscale context reused for the whole clip: VideoFrame.to_image builds a new one on every call.
        self.reformatter = VideoReformatter()

    def __call__(self, frame: av.VideoFrame) -> Image.Image:
        array = self.reformatter.reformat(frame, format=self.format).to_ndarray()
        image = Image.fromarray(array, self.mode)
        image = _upright(image, frame)
        return fit(image, *self.size) if self.size is not None else image


def _upright(image: Image.Image, frame: av.VideoFrame) -> Image.Image:
    """``image`` turned as the clip's display matrix says (phones store portrait clips sideways)."""
    try:
        rotation = int(frame.rotation or 0) % 360  # degrees counter-clockwise, as Pillow counts them
    except Exception:  # pragma: no cover - malformed side data: show the frame as stored
        return image
    turn = {
        90: Image.Transpose.ROTATE_90,
        180: Image.Transpose.ROTATE_180,
        270: Image.Transpose.ROTATE_270,
    }.get(round(rotation / 90) * 90 % 360)
    return image.transpose(turn) if turn is not None else image


class _DecodeError(Exception):
    """PyAV failed while demuxing or decoding; ``str`` is the reason."""


class _VideoFile:
    """An open clip: its first video stream, decoded sequentially with timestamps, errors as InputError."""

    def __init__(self, info: MediaInfo) -> None:
        self.path = info.path
        try:
            self.container = av.open(info.path, mode="r", metadata_errors="ignore")
            streams = [
                s for s in self.container.streams.video if not s.disposition & av.stream.Disposition.attached_pic
            ]
        except Exception as err:  # av.FFmpegError and friends; probe passed, so the file changed or is odd
            raise UnreadableInputError(_say(info.path, f"corrupt or unreadable video ({_why(err)})")) from None
        if not streams:
            self.container.close()
            raise UnreadableInputError(_say(info.path, "no video stream"))
        self.stream = streams[0]
        self.stream.thread_type = "AUTO"  # frame and slice threads: several times faster on long clips
        self.counted = int(self.stream.frames or 0)  # the container's frame count, 0 when it does not say
        self.tick = float(self.stream.time_base) if self.stream.time_base else 0.0  # seconds per timestamp unit

    def __enter__(self) -> _VideoFile:
        return self

    def __exit__(self, *exc: object) -> None:
        self.container.close()

    def count_packets(self) -> int:
        """Frames in the clip counted from its packets (demuxing only, no decoding); 0 when that fails.
        The container is read to its end: open the clip again to decode it."""
        try:
            return sum(1 for packet in self.container.demux(self.stream) if packet.size)
        except Exception:
            return 0

    def frames(self, default_fps: float) -> Iterator[tuple[av.VideoFrame, float, float]]:
        """``(frame, time, duration)`` for each frame in display order; time in seconds from the first frame.

        A frame without a timestamp is placed one frame interval (at ``default_fps``) after the one before.
        Raises :class:`InputError` when decoding fails.
        """
        stream = self.stream
        tb = float(stream.time_base) if stream.time_base else 0.0
        step = 1.0 / default_fps
        origin: float | None = None
        previous = -step
        decoded = self._decode()
        while True:
            try:
                frame = next(decoded)
            except StopIteration:
                return
            except _DecodeError as err:
                raise UnreadableInputError(_say(self.path, f"corrupt video, decoding failed ({err})")) from None
            ftb = float(frame.time_base) if frame.time_base else tb
            if frame.pts is not None and ftb:
                stamp = frame.pts * ftb
                if origin is None:
                    origin = stamp
                t = stamp - origin
                if t < previous:  # out-of-order or reset timestamps: keep time moving forward
                    t = previous + step
            else:
                t = previous + step
            duration = frame.duration * ftb if frame.duration and ftb else step
            previous = t
            yield frame, t, duration

    def _decode(self) -> Iterator[av.VideoFrame]:
        try:
            yield from self.container.decode(self.stream)
        except Exception as err:  # av.FFmpegError (InvalidDataError ...), and OSError on a vanished file
            raise _DecodeError(_why(err)) from None
