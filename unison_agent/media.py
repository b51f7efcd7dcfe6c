"""What an attachment is, read from its content: image or video, size, length, and what its pixels look like.

The planner calls :func:`probe` on every attachment, so probing must be cheap (a few milliseconds) and must
never fail with anything but :class:`MediaError`. Image versus video is decided from the file's first bytes
and by opening it (Pillow for images, PyAV for videos), not from its name: a PNG renamed ``.mp4`` is an image.

The look (:class:`Look`) tells a control map (pose skeleton, depth map, edge map, scribble) or a binary mask
from an ordinary picture. It is measured on a thumbnail of about 160 pixels, which keeps it fast and makes
it blind to JPEG noise, and it asks for several agreeing signs before it leaves :attr:`Look.PHOTO`.
"""

from __future__ import annotations

import math
import os
import stat
import threading
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum

import av
import numpy as np
from av.video.reformatter import VideoReformatter

# Importing the plugins registers exactly the image formats we accept, so Image.open never has to import
# all of Pillow's forty plugins (tens of milliseconds on the first call).
from PIL import (  # noqa: F401
    BmpImagePlugin,
    GifImagePlugin,
    Image,
    JpegImagePlugin,
    PngImagePlugin,
    TiffImagePlugin,
    WebPImagePlugin,
)

from unison_agent.errors import MediaError
from unison_agent.spec import Media

try:  # Pillow >= 11.2 reads AVIF when it was built with libavif.
    from PIL import AvifImagePlugin  # type: ignore[attr-defined,unused-ignore]

    _HAS_AVIF = bool(AvifImagePlugin.SUPPORTED)
except (ImportError, AttributeError):  # pragma: no cover - depends on the Pillow build
    _HAS_AVIF = False

__all__ = [
    "IMAGE_EXTENSIONS",
    "MAX_PIXELS",
    "VIDEO_EXTENSIONS",
    "Look",
    "MediaError",
    "MediaInfo",
    "classify_look",
    "probe",
]

IMAGE_EXTENSIONS: frozenset[str] = frozenset(
    {".png", ".jpg", ".jpeg", ".jpe", ".jfif", ".webp", ".gif", ".bmp", ".tif", ".tiff"}
    | ({".avif"} if _HAS_AVIF else set())
)
VIDEO_EXTENSIONS: frozenset[str] = frozenset(
    {".mp4", ".m4v", ".mov", ".qt", ".webm", ".mkv", ".avi", ".mpg", ".mpeg", ".ts", ".m2ts", ".mts", ".wmv"}
    | {".flv", ".3gp", ".ogv"}
)

MAX_PIXELS = 16384 * 16384
"""Images with more pixels than this are refused (a decompression bomb, or nothing a model could use).
Pillow's own bomb guard (2 x ``Image.MAX_IMAGE_PIXELS``, about 179 million by default) applies too."""

LOOK_MAX_PIXELS = 64_000_000
"""Above this, an image that cannot be decoded at reduced scale (everything but JPEG) is not decoded to
measure its look: it is reported as :attr:`Look.PHOTO`, since control maps and masks are made at model sizes."""

THUMB = 160
"""The look is measured on a thumbnail whose long side is about this many pixels (up to twice as many)."""

_FINE = 640  # long side at which a JPEG is decoded again to look for grain (mask and depth candidates only)
_MAX_PACKETS = 256  # packets read while waiting for a video's first frame before calling it corrupt
_MAX_SEEK_FRAMES = 48  # frames decoded from the keyframe before the middle of a clip that starts blank

_ACCEPTED = f"accepted images: {' '.join(sorted(IMAGE_EXTENSIONS))}; videos: {' '.join(sorted(VIDEO_EXTENSIONS))}"


class Look(str, Enum):
    """What the pixels show."""

    PHOTO = "photo"  # an ordinary picture or clip: anything not below
    MASK = "mask"  # binary: (nearly) only black and white, white = the region to edit
    POSE = "pose"  # OpenPose-style skeleton: thin saturated coloured limbs on a black background
    DEPTH = "depth"  # grey-scale, smooth gradients, no texture (near = bright)
    EDGE = "edge"  # Canny-style: thin white lines on a black background
    SCRIBBLE = "scribble"  # hand-drawn dark strokes on a white background


_CONTROL_LOOKS = frozenset({Look.POSE, Look.DEPTH, Look.EDGE, Look.SCRIBBLE})


@dataclass(frozen=True)
class MediaInfo:
    """The facts about one attachment. Width and height are as displayed (EXIF or video rotation applied)."""

    path: str
    media: Media
    width: int
    height: int
    num_frames: int  # 1 for an image; for a video the container's count, or duration x fps when it has none
    fps: float | None  # None for an image
    duration_s: float | None  # None for an image
    look: Look

    @property
    def is_control_map(self) -> bool:
        """True when the pixels look like a ready-made control map (pose, depth, edges or scribble)."""
        return self.look in _CONTROL_LOOKS

    @property
    def orientation(self) -> str:
        """``"landscape"``, ``"portrait"`` or ``"square"``."""
        if self.width == self.height:
            return "square"
        return "landscape" if self.width > self.height else "portrait"


# ---------------------------------------------------------------------------------------------- probing


def probe(path: str | os.PathLike[str]) -> MediaInfo:
    """Read what the file at ``path`` is: medium, size, length (videos) and look.

    Returns a :class:`MediaInfo`. Raises :class:`MediaError` (and nothing else) when the path is missing,
    not a regular file, empty, unreadable, neither an image nor a video, corrupt, or too large.
    Only the header and one frame (a thumbnail of it where the format allows) are decoded.
    """
    p = os.fspath(path)
    try:
        st = os.stat(p)
    except FileNotFoundError:
        raise MediaError(p, "no such file") from None
    except (OSError, ValueError) as err:  # permission, name too long, embedded NUL ...
        raise MediaError(p, f"cannot read ({_why(err)})") from None
    if stat.S_ISDIR(st.st_mode):
        raise MediaError(p, "is a directory, not a file")
    if not stat.S_ISREG(st.st_mode):  # a FIFO or a device would block or never end
        raise MediaError(p, "not a regular file")
    if st.st_size == 0:
        raise MediaError(p, "empty file (0 bytes)")
    # The planner, the graph and the tools may each ask about the same attachment: answer again from memory
    # while the file is unchanged (same size, modification time and inode).
    key = (p, st.st_size, st.st_mtime_ns, st.st_ino)
    with _CACHE_LOCK:
        cached = _CACHE.get(key)
    if cached is not None:
        return cached
    info = _probe_file(p)
    with _CACHE_LOCK:
        if len(_CACHE) >= _CACHE_SIZE:
            del _CACHE[next(iter(_CACHE))]  # the oldest entry
        _CACHE[key] = info
    return info


_CACHE: dict[tuple[str, int, int, int], MediaInfo] = {}
_CACHE_SIZE = 256
_CACHE_LOCK = threading.Lock()


def _probe_file(p: str) -> MediaInfo:
    try:
        with open(p, "rb") as f:
            head = f.read(512)
    except OSError as err:
        raise MediaError(p, f"cannot read ({_why(err)})") from None

    kind, fmt = _sniff(head)
    if kind == "image":
        return _probe_image(p, fmt)
    if kind == "video" or (kind is None and os.path.splitext(p)[1].lower() in VIDEO_EXTENSIONS):
        # Unknown first bytes get one try with PyAV when the name says video (exotic containers); never for
        # other names, because FFmpeg would happily render a .txt file as an "ansi" video.
        return _probe_video(p, fmt)
    if kind == "audio":
        raise MediaError(p, f"an audio file ({fmt}), not an image or a video ({_ACCEPTED})")
    raise MediaError(p, f"not an image or a video ({_ACCEPTED})")


def classify_look(image: Image.Image) -> Look:
    """Say what a picture shows (any Pillow image, any mode or size; a video frame too). Returns a :class:`Look`.

    The image is not modified. It is measured on a thumbnail of about :data:`THUMB` pixels.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # e.g. Pillow's palette-transparency notice on convert()
        array = _thumbnail(image)
        return _classify(array, max(image.size) / max(array.shape[:2]), lambda: _grey_rows(image))


def _why(err: BaseException) -> str:
    text = str(err).strip() or type(err).__name__
    return text if len(text) <= 120 else text[:117] + "..."


def _sniff(head: bytes) -> tuple[str | None, str]:
    """(kind, format) from the first bytes: kind is "image", "video", "audio" or None when unknown."""
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image", "PNG"
    if head.startswith(b"\xff\xd8\xff"):
        return "image", "JPEG"
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return "image", "GIF"
    if head[:4] in (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+"):
        return "image", "TIFF"
    if head.startswith(b"BM") and len(head) >= 26:
        return "image", "BMP"
    if head[:4] == b"RIFF":
        riff = head[8:12]
        if riff == b"WEBP":
            return "image", "WEBP"
        if riff == b"AVI ":
            return "video", "AVI"
        if riff == b"WAVE":
            return "audio", "WAV"
        return None, ""
    box = head[4:8]
    if box == b"ftyp":
        brand = head[8:12]
        if brand in (b"avif", b"avis"):
            return ("image", "AVIF") if _HAS_AVIF else (None, "")
        if brand in (b"heic", b"heix", b"heim", b"heis", b"mif1", b"msf1"):
            return None, ""  # HEIC/HEIF: Pillow cannot read it without a plugin
        if brand in (b"M4A ", b"M4B ", b"M4P "):
            return "audio", "M4A"
        return "video", "MP4"  # isom, mp41, mp42, qt, 3gp4, M4V, dash ...: PyAV decides
    if box in (b"moov", b"mdat", b"wide", b"free", b"skip", b"pnot"):
        return "video", "MOV"  # QuickTime files that start without an ftyp box
    if head.startswith(b"\x1a\x45\xdf\xa3"):
        return "video", "MKV"  # Matroska / WebM (EBML)
    if head.startswith((b"OggS", b"FLV", b"\x30\x26\xb2\x75\x8e\x66\xcf\x11", b"\x00\x00\x01\xba")):
        return "video", "OTHER"  # Ogg, FLV, ASF/WMV, MPEG-PS: PyAV decides whether there is a video stream
    if len(head) > 376 and head[0] == head[188] == head[376] == 0x47:
        return "video", "TS"  # MPEG transport stream sync bytes
    for magic, audio in ((b"ID3", "MP3"), (b"fLaC", "FLAC"), (b"#!AMR", "AMR"), (b"MThd", "MIDI")):
        if head.startswith(magic):
            return "audio", audio
    if len(head) > 1 and head[0] == 0xFF and head[1] & 0xF0 == 0xF0:
        return "audio", "MP3 or AAC"  # MPEG audio frame sync (JPEG's 0xFFD8 was matched above)
    return None, ""


# ---------------------------------------------------------------------------------------------- images


def _probe_image(p: str, fmt: str) -> MediaInfo:
    with warnings.catch_warnings():
        # Pillow warns about large images (DecompressionBombWarning), odd EXIF, palette transparency ...;
        # callers that treat warnings as errors must still get a MediaInfo or a MediaError.
        warnings.simplefilter("ignore")
        try:
            im = Image.open(p, formats=[fmt])
        except Image.DecompressionBombError:
            raise MediaError(p, f"image too large (more than {_pixel_limit():,} pixels)") from None
        except Exception as err:  # Pillow raises many types on bad headers
            raise MediaError(p, f"corrupt or unreadable image ({_why(err)})") from None
        with im:
            width, height = im.size
            if width <= 0 or height <= 0:
                raise MediaError(p, f"corrupt image (size {width}x{height})")
            if width * height > MAX_PIXELS:
                raise MediaError(p, f"image too large ({width}x{height}; at most {MAX_PIXELS:,} pixels)")
            try:
                look = _image_look(im, p, fmt, width, height)
                turned = _exif_turned(im)
            except Exception as err:
                raise MediaError(p, f"corrupt or truncated image ({_why(err)})") from None
    if turned:
        width, height = height, width
    return MediaInfo(p, Media.IMAGE, width, height, 1, None, None, look)


def _pixel_limit() -> int:
    pil = Image.MAX_IMAGE_PIXELS
    return min(MAX_PIXELS, 2 * pil) if pil else MAX_PIXELS


def _image_look(im: Image.Image, p: str, fmt: str, width: int, height: int) -> Look:
    long_side = max(width, height)
    fine: Callable[[], np.ndarray]
    if fmt == "JPEG":
        # Let libjpeg decode at 1/2, 1/4 or 1/8 scale: for a 640x480 photo that halves the cost; for a
        # 4000x3000 one it saves the colour conversion and the memory, though Huffman decoding stays full-size.
        _draft(im, THUMB)

        def fine() -> np.ndarray:  # only for mask and depth candidates: decode again at (nearly) full size
            with Image.open(p, formats=[fmt]) as again:
                _draft(again, _FINE)
                return _grey_rows(again)

    elif width * height > LOOK_MAX_PIXELS:
        return Look.PHOTO  # see LOOK_MAX_PIXELS: decoding would take seconds
    else:

        def fine() -> np.ndarray:
            return _grey_rows(im)

    im.load()  # decode now, so that a truncated file raises here
    array = _thumbnail(im)
    return _classify(array, long_side / max(array.shape[:2]), fine)


def _draft(im: Image.Image, long_side: int) -> None:
    """Ask a JPEG to decode at the smallest of 1/1..1/8 scale whose long side is still ``long_side`` or more."""
    width, height = im.size
    scale = min(1.0, long_side / max(width, height))
    im.draft(None, (max(1, math.ceil(width * scale)), max(1, math.ceil(height * scale))))


def _exif_turned(im: Image.Image) -> bool:
    """True when the EXIF orientation says the picture is shown turned by 90 degrees (phone photos)."""
    if im.format not in ("JPEG", "MPO", "TIFF", "WEBP") and "exif" not in im.info:
        return False  # Pillow would decode a whole PNG just to look for an EXIF chunk
    return im.getexif().get(0x0112, 1) in (5, 6, 7, 8)


def _thumbnail(im: Image.Image) -> np.ndarray:
    """A small uint8 array, (h, w) for grey or (h, w, 3) for colour, long side THUMB..2*THUMB (box filtered)."""
    w, h = im.size
    return _pixels(im, max(1, min(max(w, h) // THUMB, min(w, h) // 4)))


def _grey_rows(im: Image.Image) -> np.ndarray:
    """Every 7th row of ``im`` at full width, as grey levels: enough to see grain, at 1/7 of the cost.

    Not every 8th: JPEG codes 8x8 blocks, and rows at one phase of the block grid are smoother than others.
    """
    w, h = im.size
    rows = _pixels(im.resize((w, max(1, h // 7)), Image.Resampling.NEAREST), 1)
    return _luma(rows) if rows.ndim == 3 else rows


def _pixels(im: Image.Image, factor: int) -> np.ndarray:
    """``im`` shrunk ``factor`` times (box filter) as uint8, (h, w) for grey or (h, w, 3), alpha flattened."""
    mode = im.mode
    if mode in ("I;16", "I;16L", "I;16B", "I;16N", "I", "F"):  # 16-bit depth maps and the like
        values = np.asarray(im, dtype=np.float32)
        top = float(values.max()) if values.size else 0.0
        values = values * (255.0 / top) if top > 255 else values
        im = Image.fromarray(np.clip(values, 0, 255).astype(np.uint8), "L")
    elif mode == "1":
        im = im.convert("L")
    elif mode == "P" or mode == "PA":
        im = im.convert("RGBA" if (mode == "PA" or "transparency" in im.info) else "RGB")
    elif mode in ("La", "RGBa"):
        im = im.convert("LA" if mode == "La" else "RGBA")
    elif mode not in ("L", "LA", "RGB", "RGBA"):
        im = im.convert("RGB")  # CMYK, YCbCr, LAB, HSV
    if factor > 1:
        im = im.reduce(factor)  # box filter: thin lines fade but stay, noise averages out
    a = np.asarray(im)
    if a.ndim == 3 and a.shape[2] in (2, 4):
        a = _flatten_alpha(a)
    return a


def _flatten_alpha(a: np.ndarray) -> np.ndarray:
    """Put transparent pixels on black when the visible strokes are light, on white when they are dark."""
    alpha = a[..., -1:].astype(np.float32) / 255.0
    colour = a[..., :-1].astype(np.float32)
    visible = alpha[..., 0] > 0.5
    light = float(colour[visible].mean()) > 127 if visible.any() else False
    out = colour * alpha + (0.0 if light else 255.0) * (1.0 - alpha)
    out = out.round().astype(np.uint8)
    return out[..., 0] if out.shape[2] == 1 else out


# ---------------------------------------------------------------------------------------------- videos


def _probe_video(p: str, fmt: str) -> MediaInfo:
    # MP4 and QuickTime headers describe the streams fully, so FFmpeg need not decode a frame while opening
    # (it would, to learn the pixel format): that halves the cost of opening. Other containers may need it.
    options = {"skip_frame": "all"} if fmt in ("MP4", "MOV") else {}
    try:
        container = av.open(p, mode="r", options=options, metadata_errors="ignore")
    except Exception as err:  # av.FFmpegError and friends
        raise MediaError(p, f"corrupt or unreadable video ({_why(err)})") from None
    with container:
        kind = container.format.name
        if kind == "tty" or kind.startswith("image2") or kind.endswith("_pipe"):
            raise MediaError(p, f"not an image or a video ({_ACCEPTED})")  # FFmpeg's text and still-image readers
        streams = [s for s in container.streams.video if not s.disposition & av.stream.Disposition.attached_pic]
        if not streams:  # cover art in a music file is a video stream too: it does not count
            what = "audio only, no video stream" if container.streams.audio else "no video stream"
            raise MediaError(p, f"{what} ({_ACCEPTED})")
        stream = streams[0]
        rate = stream.average_rate or stream.guessed_rate or stream.base_rate
        fps = float(rate) if rate and rate > 0 else None
        duration: float | None = None
        if stream.duration and stream.time_base:
            duration = float(stream.duration * stream.time_base)
        elif container.duration and container.duration > 0:  # WebM/Matroska give it for the whole file only
            duration = container.duration / av.time_base
        try:
            frame = _first_frame(container, stream)
        except Exception as err:
            raise MediaError(p, f"corrupt video, the first frame does not decode ({_why(err)})") from None
        if frame is None:
            raise MediaError(p, "corrupt or truncated video (no frame could be decoded)")
        width, height = frame.width, frame.height
        look = _frame_look(frame)
        if look is None:  # the first frame is blank (a fade-in): judge a frame from the middle instead
            look = _middle_look(container, stream, duration) or Look.PHOTO
        turned = abs(int(frame.rotation or 0)) % 180 == 90  # a phone clip shot upright is stored sideways
    frames = int(stream.frames or 0)
    if frames <= 0:  # WebM and some MPEG files do not count frames: estimate, never decode them all
        frames = max(1, round(duration * fps)) if duration and fps else 1
    if duration is None and fps:
        duration = frames / fps
    if turned:
        width, height = height, width
    return MediaInfo(p, Media.VIDEO, width, height, frames, fps, duration, look)


def _first_frame(container: av.container.InputContainer, stream: av.VideoStream) -> av.VideoFrame | None:
    """The first frame that decodes, or None.

    Decoders that reorder frames (H.264 with B-frames holds two back) would need two more frames decoded
    before they give out the first one. Draining the decoder right after the first keyframe gets it at the
    cost of one frame. If draining yields nothing (a keyframe split over packets), decode again from the start.
    """
    frame, drained = _decode_first(container, stream, drain=True)
    if frame is None and drained:
        container.seek(0)  # also flushes the drained decoder
        frame, _ = _decode_first(container, stream, drain=False)
    return frame


def _decode_first(
    container: av.container.InputContainer, stream: av.VideoStream, drain: bool
) -> tuple[av.VideoFrame | None, bool]:
    for n, packet in enumerate(container.demux(stream)):
        for frame in packet.decode():  # the last, empty packet at the end of the file flushes the decoder
            return frame, False
        if drain and packet.is_keyframe and packet.size:
            for frame in stream.codec_context.decode(None):
                return frame, True
            return None, True
        if n >= _MAX_PACKETS:
            break
    return None, False


def _frame_look(frame: av.VideoFrame) -> Look | None:
    """The look of one decoded frame, or None when the frame is (nearly) one flat colour."""
    w, h = frame.width, frame.height
    factor = max(1, min(max(w, h) // THUMB, min(w, h) // 4))
    # swscale's area filter shrinks and converts in one step, without building a full-size RGB image.
    small = _reformatter("thumbnail").reformat(
        frame, width=max(1, w // factor), height=max(1, h // factor), format="rgb24", interpolation="AREA"
    )
    a = small.to_ndarray()
    if int(a.max()) - int(a.min()) < 16:
        return None

    def fine() -> np.ndarray:
        return _reformatter("grey").reformat(frame, format="gray").to_ndarray()[3::7]

    return _classify(a, max(w, h) / max(a.shape[:2]), fine)


_local = threading.local()


def _reformatter(purpose: str) -> VideoReformatter:
    """This thread's frame converter for ``purpose``. ``frame.reformat`` would build a new swscale context for
    every new frame, which costs 1-4 ms (colour tables, filters); one kept per thread and purpose is reused
    for as long as the sizes and formats repeat."""
    kept: dict[str, VideoReformatter] | None = getattr(_local, "reformatters", None)
    if kept is None:
        kept = _local.reformatters = {}
    if purpose not in kept:
        kept[purpose] = VideoReformatter()
    return kept[purpose]


def _middle_look(container: av.container.InputContainer, stream: av.VideoStream, duration: float | None) -> Look | None:
    """The look of the frame halfway through, or None. Seeking lands on the keyframe before it (for a short
    clip, often the first frame again), so frames are decoded from there up to the middle, at most a few dozen."""
    if not duration or not stream.time_base:
        return None
    middle = (stream.start_time or 0) + int(duration / 2 / stream.time_base)
    try:
        container.seek(middle, stream=stream)
        for n, frame in enumerate(container.decode(stream)):
            if (frame.pts is not None and frame.pts >= middle) or n >= _MAX_SEEK_FRAMES:
                return _frame_look(frame)
    except Exception:  # a clip that cannot seek keeps the first frame's answer
        return None
    return None


# ---------------------------------------------------------------------------------------------- the look


def _classify(a: np.ndarray, reduced_by: float, fine: Callable[[], np.ndarray]) -> Look:
    """Look of a thumbnail ``a`` (uint8, grey or RGB) that was shrunk ``reduced_by`` times from the original.

    ``fine`` gives grey rows of the original at (nearly) full size; it is called only for a mask or depth
    candidate, to tell a clean mask or a smooth depth map from a photo whose grain the thumbnail averaged away.
    """
    h, w = a.shape[:2]
    if h < 4 or w < 4:
        return Look.PHOTO  # too few pixels to tell lines from blobs
    n = h * w
    # Small integer types and count_nonzero throughout: this runs on every attachment, and must take well
    # under a millisecond.
    if a.ndim == 3:
        r, g, b = a[..., 0], a[..., 1], a[..., 2]
        mx = np.maximum(np.maximum(r, g), b)
        chroma = mx - np.minimum(np.minimum(r, g), b)
        grey = _luma(a)
        greyscale = np.count_nonzero(chroma > 48) < 0.01 * n  # JPEG and 4:2:0 video leave grey pixels grey enough
    else:
        grey = mx = a
        chroma = np.zeros_like(a)
        greyscale = True

    # Shrinking averages a 1-pixel line into a faint one (255 / factor): the "on" threshold follows it down.
    line_t = int(min(40.0, max(12.0, 128.0 / reduced_by)))

    # Light lines on black: an edge map (grey) or a pose skeleton (saturated, several hues).
    if np.count_nonzero(mx <= min(16, line_t - 4)) >= 0.6 * n:
        on = mx >= line_t
        on_n = np.count_nonzero(on)
        if 0.002 * n <= on_n <= 0.35 * n and _is_linework(on):
            saturated = on & (chroma > mx >> 1)  # chroma / max > 0.5: the colour survives dimming by the thumbnail
            sat_share = np.count_nonzero(saturated) / on_n
            if sat_share < 0.1 and greyscale:
                return Look.EDGE
            if sat_share >= 0.35 and _hues(a, saturated) >= 3:
                return Look.POSE

    if not greyscale:
        return Look.PHOTO

    # Dark lines on white: a scribble or sketch.
    if np.count_nonzero(grey >= 255 - min(16, line_t - 4)) >= 0.6 * n:
        ink = grey <= 255 - line_t
        ink_n = np.count_nonzero(ink)
        if 0.002 * n <= ink_n <= 0.35 * n and _is_linework(ink):
            return Look.SCRIBBLE

    # A binary mask: only near-black and near-white, with in-between values only along the border.
    # Its black and white are pure (a dark photo's "black" is 20 or so), and it has no grain at full size.
    lo, hi = grey <= 60, grey >= 195
    lo_n, hi_n = np.count_nonzero(lo), np.count_nonzero(hi)
    if (
        lo_n + hi_n >= 0.9 * n
        and lo_n >= 0.001 * n
        and hi_n >= 0.001 * n
        and np.count_nonzero(grey <= 12) >= 0.5 * lo_n
        and np.count_nonzero(grey >= 243) >= 0.5 * hi_n
    ):
        solid = grey >= 128
        border = _dilate(_dilate(_dilate(solid) & ~_erode(solid)))  # the outline, widened for anti-aliasing
        stray = ~(lo | hi | border)  # grey levels away from any outline: shading, so not a mask
        if np.count_nonzero(stray) <= 0.01 * n and not _grainy(fine()):
            return Look.MASK

    # A depth map: many grey levels in smooth ramps, no fine texture (photos have grain and detail).
    levels = int(np.count_nonzero(np.bincount(grey.ravel(), minlength=256)))
    if levels >= 32 and np.count_nonzero((grey > 40) & (grey < 215)) >= 0.2 * n:
        g16 = grey.astype(np.int16)
        d2x = np.abs(g16[:, 2:] + g16[:, :-2] - 2 * g16[:, 1:-1])
        d2y = np.abs(g16[2:, :] + g16[:-2, :] - 2 * g16[1:-1, :])
        textured = (np.count_nonzero(d2x > 6) / d2x.size + np.count_nonzero(d2y > 6) / d2y.size) / 2
        if textured <= 0.1 and not _grainy(fine()):
            return Look.DEPTH
    return Look.PHOTO


def _luma(rgb: np.ndarray) -> np.ndarray:
    """Grey levels (ITU-R 601 weights, in 1/256) of a uint8 RGB array, as uint16: 255 * 256 still fits."""
    c = rgb.astype(np.uint16)
    return (c[..., 0] * 77 + c[..., 1] * 150 + c[..., 2] * 29) >> 8


def _grainy(rows: np.ndarray) -> bool:
    """True when full-size grey rows carry pixel-level grain or texture, as photos do and depth maps do not.

    Depth maps are upsampled network outputs: a second difference above 4 levels appears only along object
    borders (a few % of pixels). Camera grain of 3-4 levels still shows after JPEG compression (>= 12 %).
    """
    if rows.shape[1] < 3:
        return False
    r = rows.astype(np.int16)
    d2 = np.abs(r[:, 2:] + r[:, :-2] - 2 * r[:, 1:-1])
    return np.count_nonzero(d2 > 4) >= 0.12 * d2.size


def _is_linework(s: np.ndarray) -> bool:
    """True when the pixels in ``s`` form thin connected strokes rather than filled areas or scattered dots."""
    count = np.count_nonzero(s)
    core = np.count_nonzero(_erode(_erode(s)))  # strokes up to ~4 px wide vanish after two erosions, blobs don't
    if core > 0.25 * count:
        return False
    near = np.zeros_like(s)  # has one of its 8 neighbours in s: lines are chains, noise and stars are lone dots
    near[1:, :] |= s[:-1, :]
    near[:-1, :] |= s[1:, :]
    near[:, 1:] |= s[:, :-1]
    near[:, :-1] |= s[:, 1:]
    near[1:, 1:] |= s[:-1, :-1]
    near[1:, :-1] |= s[:-1, 1:]
    near[:-1, 1:] |= s[1:, :-1]
    near[:-1, :-1] |= s[1:, 1:]
    return bool(np.count_nonzero(s & near) >= 0.75 * count)


def _erode(s: np.ndarray) -> np.ndarray:
    """4-neighbour erosion of a boolean array; pixels beyond the border count as equal to their neighbour."""
    out = s.copy()
    out[1:, :] &= s[:-1, :]
    out[:-1, :] &= s[1:, :]
    out[:, 1:] &= s[:, :-1]
    out[:, :-1] &= s[:, 1:]
    return out


def _dilate(s: np.ndarray) -> np.ndarray:
    """4-neighbour dilation of a boolean array."""
    out = s.copy()
    out[1:, :] |= s[:-1, :]
    out[:-1, :] |= s[1:, :]
    out[:, 1:] |= s[:, :-1]
    out[:, :-1] |= s[:, 1:]
    return out


def _hues(a: np.ndarray, where: np.ndarray) -> int:
    """How many of 12 hue sectors hold at least 5 % of the ``where`` pixels (OpenPose uses many colours)."""
    px = a[where].astype(np.float32)
    if px.shape[0] == 0:
        return 0
    r, g, b = px[:, 0], px[:, 1], px[:, 2]
    hue = np.arctan2(math.sqrt(3) * (g - b), 2 * r - g - b)  # radians, -pi..pi
    sectors = ((hue + math.pi) / (2 * math.pi) * 12).astype(np.int32) % 12
    counts = np.bincount(sectors, minlength=12)
    return int((counts >= 0.05 * px.shape[0]).sum())
