"""Unison's signal tokens: a codec between a :class:`~unison_agent.spec.TaskSpec` and the token string that
Unison's LoRA-tuned Qwen2.5-VL planner writes for a request (Zhao et al., arXiv 2512.07747).

Where the format comes from (public repository ``ali-vilab/Unison``):

- ``merge_lora.yaml`` registers the special tokens with the tokenizer (``add_special_tokens``):
  ``<CFI> <CFV> <BORES> <EORES> <BONF> <EONF> <BOFIDX> <EOFIDX> <REF> <CTRL> <BOEDIT> <EOEDIT>`` plus the two
  request placeholders ``<IMGPAD> <VIDPAD>``. :data:`SPECIAL_TOKENS` keeps that order.
- ``inference.py`` is the stage-two parser, the ground truth for what the tokens mean:

  * the request names each attachment inline as ``###path###``; before planning, each is replaced by
    ``<IMGPAD>`` (.png/.jpg/.jpeg) or ``<VIDPAD>`` (.mp4/.avi/.mov), and the paths are kept in order of
    appearance. Every index in the tokens is a **0-based** position in that list, i.e. in the attachments;
  * ``<CFI>`` = make an image (one frame), ``<CFV>`` = make a video (81 frames unless told). A planner output
    with neither is an understanding request: stage one answers in text and no signal token is written;
  * ``<BORES>w,h<EORES>``: output width and height, comma separated (default 832x480 when absent);
  * ``<BONF>n<EONF>``: the video has ``n + 1`` frames (81 frames is ``<BONF>80<EONF>``);
  * ``<BOEDIT>m,s<EOEDIT>``: editing, ``m`` = index of the mask, ``s`` = index of the source (mask first);
  * ``<REF>``: reference generation; ``<CTRL>``: control (a flag each, no payload);
  * ``<BOFIDX>...<EOFIDX>``: image-to-video; the payload says whether the image is the first or the last frame.

- ``run.sh`` holds example requests for ten of the twelve tasks (none for image control or video
  understanding), e.g. an image-editing request that names the source first and the mask second.

The string the planner emits carries no prompt in Unison: stage two conditions on the user's own request text.

Conventions this module had to choose (Unison's code leaves them open; documented here so both directions agree)
--------------------------------------------------------------------------------------------------------------
1. **Token order.** Unison's parser looks tokens up anywhere, so order is free. :func:`encode` writes the task
   token, then ``RES``, ``NF`` (videos), then ``FIDX``, ``EDIT``, ``REF``, ``CTRL`` (the order the parser reads
   them in), with no separators; :func:`decode` accepts any order, whitespace and text around the tokens.
2. **RES and NF are always written** for generation (the TaskSpec always has a size, and a frame count for
   videos). Without them, :func:`decode` leaves the fields to the TaskSpec defaults, which are Unison's own
   defaults (832x480, 81 frames).
3. **FIDX payload.** Unison's parser compares the payload against a literal to choose first vs last frame
   (the comparison in ``inference.py`` has a typo and always picks the last frame) and uses the first
   attachment. Here the payload is a comma-separated list of *frame positions*, one per attachment in
   attachment order: ``0`` = that image is the first frame, ``N-1`` (the last frame index, ``N`` = number of
   frames) = it is the last frame. :func:`decode` also accepts ``-1`` for the last frame. First and last frame
   together: ``<BOFIDX>0,80<EOFIDX>`` (attachment 0 first, attachment 1 last) or ``<BOFIDX>80,0<EOFIDX>``.
4. **EDIT without a mask** (instruction editing, which the TaskSpec allows): a single index,
   ``<BOEDIT>s<EOEDIT>``, is the source. Two indices are always ``mask,source`` as in Unison.
   Video editing uses the same payload (Unison's parser ignores it for videos and segments the salient object).
5. **REF and CTRL are flags.** Every attachment not claimed by ``EDIT`` gets role ``reference`` when ``<REF>``
   is present (several references are fine; editing + ``<REF>`` = editing with reference pictures, the only
   combination of two task tokens allowed). ``<CTRL>`` gives its single attachment role ``control``.
   Unison's code always takes the first attachment for both.
6. **Image control** is ``<CFI>...<CTRL>`` (the token exists; Unison's image branch does not act on it).
7. **Missing attachments.** ``<REF>`` or ``<CTRL>`` with no attachment to take the role puts ``reference`` /
   ``control`` into ``missing``; :func:`encode` writes the flag for a spec that lists them as missing.
   A spec whose edit source or image-to-video frames are missing cannot be written (the tokens need their
   indices): :func:`encode` raises :class:`SignalTokenError`.
8. **Text around the tokens.** ``<|im_end|>`` / ``<|endoftext|>`` are dropped. For a generation request, the
   remaining text (pieces joined by one space) becomes the prompt when ``decode(..., prompt="")``. For an
   understanding request the whole string is Unison's *answer*, so it is never used as the prompt.
9. **Understanding.** No signal token: ``text_understanding`` without attachments, ``image_understanding`` /
   ``video_understanding`` by the attachments' medium, every attachment playing ``context``.

Examples (one per task family; attachments in brackets, in order)
-----------------------------------------------------------------
- understanding (text / image / video): ``""`` (no signal token)
- text_to_image 1024x1024: ``<CFI><BORES>1024,1024<EORES>``
- text_to_video 832x480, 81 frames: ``<CFV><BORES>832,480<EORES><BONF>80<EONF>``
- image_editing [photo.png, mask.png]: ``<CFI><BORES>832,480<EORES><BOEDIT>1,0<EOEDIT>``;
  without a mask ``<BOEDIT>0<EOEDIT>``; with a reference [photo, mask, ref] ``...<BOEDIT>1,0<EOEDIT><REF>``
- video_editing [mask.png, clip.mp4], 49 frames: ``<CFV><BORES>832,480<EORES><BONF>48<EONF><BOEDIT>0,1<EOEDIT>``
- image_reference [face.png, hat.png]: ``<CFI><BORES>832,480<EORES><REF>``
- video_reference [face.png]: ``<CFV><BORES>832,480<EORES><BONF>80<EONF><REF>``
- image_to_video [start.png], first frame: ``<CFV><BORES>832,480<EORES><BONF>80<EONF><BOFIDX>0<EOFIDX>``;
  last frame ``<BOFIDX>80<EOFIDX>``; [end.png, start.png] both ``<BOFIDX>80,0<EOFIDX>``
- video_control [pose.mp4]: ``<CFV><BORES>832,480<EORES><BONF>80<EONF><CTRL>``
- image_control [depth.png]: ``<CFI><BORES>1024,768<EORES><CTRL>``

What is lossy
-------------
The format carries :data:`CARRIED_FIELDS` (task, each attachment's role by position, width, height,
num_frames) and, derived from those, duration_s at the default 16 fps. It carries **no** prompt, fps, seed,
num_outputs, steps, guidance_scale, negative_prompt or control_type, and of ``missing`` only ``reference`` /
``control`` (see 7). Attachment paths and media come from the caller's attachment list, not the tokens.
Round trips ``decode(encode(spec), attachments_of(spec))`` are exact on those fields; pass the rest as
``prompt=`` and keyword defaults to get the whole spec back.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from unison_agent.errors import PlanningError, one_line
from unison_agent.spec import Input, Media, Role, Task, TaskSpec, explain

__all__ = [
    "BOEDIT",
    "BOFIDX",
    "BONF",
    "BORES",
    "CARRIED_FIELDS",
    "CFI",
    "CFV",
    "CTRL",
    "EOEDIT",
    "EOFIDX",
    "EONF",
    "EORES",
    "IMGPAD",
    "PAD_TOKENS",
    "REF",
    "SIGNAL_TOKENS",
    "SPECIAL_TOKENS",
    "VIDPAD",
    "AttachmentLike",
    "SignalTokenError",
    "SignalTokens",
    "attachments_of",
    "decode",
    "encode",
    "parse",
]

# ------------------------------------------------------------------------------------------------ spellings
CFI = "<CFI>"  # create an image
CFV = "<CFV>"  # create a video
BORES = "<BORES>"  # resolution: <BORES>width,height<EORES>
EORES = "<EORES>"
BONF = "<BONF>"  # number of frames: <BONF>n<EONF> means n + 1 frames
EONF = "<EONF>"
BOFIDX = "<BOFIDX>"  # frame index (image-to-video): <BOFIDX>p0,p1<EOFIDX>, one frame position per attachment
EOFIDX = "<EOFIDX>"
REF = "<REF>"  # reference generation
CTRL = "<CTRL>"  # control
BOEDIT = "<BOEDIT>"  # editing: <BOEDIT>mask_index,source_index<EOEDIT> (or <BOEDIT>source_index<EOEDIT>)
EOEDIT = "<EOEDIT>"
IMGPAD = "<IMGPAD>"  # placeholders Unison puts into the *request* where an image / a video is attached
VIDPAD = "<VIDPAD>"

SIGNAL_TOKENS: tuple[str, ...] = (CFI, CFV, BORES, EORES, BONF, EONF, BOFIDX, EOFIDX, REF, CTRL, BOEDIT, EOEDIT)
"""The tokens a planner output may contain, in the order Unison registers them."""
PAD_TOKENS: tuple[str, ...] = (IMGPAD, VIDPAD)
"""Request-side placeholders for attachments; never part of a planner output."""
SPECIAL_TOKENS: tuple[str, ...] = SIGNAL_TOKENS + PAD_TOKENS
"""Every token Unison adds to the tokenizer (``merge_lora.yaml``), in its order: register these as special."""

CARRIED_FIELDS: tuple[str, ...] = ("task", "inputs", "width", "height", "num_frames")
"""TaskSpec fields the token string determines (given the attachments' paths and media)."""

AttachmentLike = tuple[str, Media | str] | Input
"""An attachment for :func:`decode`: ``(path, media)`` or an :class:`Input` (its role is ignored)."""

_PAIRS = {BORES: EORES, BONF: EONF, BOFIDX: EOFIDX, BOEDIT: EOEDIT}
_CLOSERS = {close: open_ for open_, close in _PAIRS.items()}
_SHAPES = {BORES: "width,height", BONF: "n", BOFIDX: "position[,position]", BOEDIT: "mask_index,source_index"}
_TOKEN_RE = re.compile("|".join(re.escape(t) for t in SPECIAL_TOKENS))
_CHAT_MARKERS = ("<|im_end|>", "<|endoftext|>")
_UINT_RE = re.compile(r"\d+")
_INT_RE = re.compile(r"-?\d+")
_RES_SPLIT_RE = re.compile(r"[,xX×]")
_EXCLUSIVE = (BOFIDX, BOEDIT, REF, CTRL)  # one task each; only BOEDIT + REF may meet


class SignalTokenError(PlanningError):
    """A token string that is malformed, contradictory, or does not fit the attachments (one-line message)."""


# ------------------------------------------------------------------------------------------------ tokens
@dataclass(frozen=True)
class SignalTokens:
    """A parsed token string, before attachments are known. Construction checks that the tokens agree.

    ``media``: ``IMAGE`` for ``<CFI>``, ``VIDEO`` for ``<CFV>``, ``None`` for no signal token (understanding).
    ``size``: ``(width, height)`` from ``RES``. ``nf``: the ``NF`` payload (``nf + 1`` frames).
    ``frame_positions``: the ``FIDX`` payload, one frame position per attachment. ``edit``: ``(mask, source)``
    attachment indices, ``mask`` ``None`` when the payload names only the source. ``ref`` / ``ctrl``: the flags.
    ``text``: whatever surrounds the tokens (see the module notes).
    """

    media: Media | None = None
    size: tuple[int, int] | None = None
    nf: int | None = None
    frame_positions: tuple[int, ...] | None = None
    edit: tuple[int | None, int] | None = None
    ref: bool = False
    ctrl: bool = False
    text: str = ""

    def __post_init__(self) -> None:
        present = self._present()
        if self.media is None:
            if present:
                raise SignalTokenError(
                    f"{present[0]} has no task token: expected <CFI> (make an image) or <CFV> (make a video) "
                    "with it; understanding requests carry no signal token at all"
                )
            return
        if self.media is Media.IMAGE:
            if self.frame_positions is not None:
                raise SignalTokenError(
                    "<BOFIDX> (first/last frame) applies to videos: expected <CFV>, not <CFI>, for image_to_video"
                )
            if self.nf not in (None, 0):
                raise SignalTokenError(
                    f"<BONF>{self.nf}<EONF> asks for {self.nf + 1} frames but <CFI> makes one image: "
                    "expected <CFV> for a video, or no <BONF> for an image"
                )
        exclusive = [t for t in present if t in _EXCLUSIVE]
        if len(exclusive) > 1 and set(exclusive) != {BOEDIT, REF}:
            a, b = next((x, y) for i, x in enumerate(exclusive) for y in exclusive[i + 1 :] if {x, y} != {BOEDIT, REF})
            raise SignalTokenError(
                f"{a} and {b} contradict each other: expected one of <BOFIDX>, <BOEDIT>, <REF>, <CTRL> "
                "(only <BOEDIT> may come with <REF>, for editing with reference pictures)"
            )
        if self.size is not None and (len(self.size) != 2 or min(self.size) <= 0):
            raise SignalTokenError(f"<BORES> needs a positive width and height, got {self.size}")
        if self.nf is not None and self.nf < 0:
            raise SignalTokenError(f"<BONF> needs n >= 0 (n + 1 frames), got {self.nf}")
        if self.edit is not None:
            mask, source = self.edit
            if source < 0 or (mask is not None and mask < 0):
                raise SignalTokenError(f"<BOEDIT> indices are 0-based attachment positions, got {self.edit}")
            if mask == source:
                raise SignalTokenError(
                    f"<BOEDIT>{mask},{source}<EOEDIT> makes attachment {source} both mask and source: "
                    "expected two different indices (mask first, then source)"
                )
        if self.frame_positions is not None:
            self._check_frame_positions()

    def _present(self) -> list[str]:
        """The payload and flag tokens present, in writing order."""
        found = [
            (BORES, self.size is not None),
            (BONF, self.nf is not None),
            (BOFIDX, self.frame_positions is not None),
            (BOEDIT, self.edit is not None),
            (REF, self.ref),
            (CTRL, self.ctrl),
        ]
        return [tok for tok, on in found if on]

    def _check_frame_positions(self) -> None:
        fp = self.frame_positions or ()
        shown = f"<BOFIDX>{','.join(map(str, fp))}<EOFIDX>"
        if not fp:
            raise SignalTokenError("<BOFIDX><EOFIDX> is empty: expected a frame position per attached image")
        if any(p < -1 for p in fp):
            raise SignalTokenError(f"{shown}: frame positions are 0, the last index, or -1; got {min(fp)}")
        if fp.count(0) > 1:
            raise SignalTokenError(f"{shown} makes two images the first frame: expected at most one 0")
        lasts = [p for p in fp if p != 0]
        if len(lasts) > 1:
            raise SignalTokenError(f"{shown} makes two images the last frame: expected at most one last position")
        if lasts and self.nf is not None and lasts[0] not in (-1, self.nf):
            raise SignalTokenError(
                f"{shown}: frame {lasts[0]} is neither the first (0) nor the last ({self.nf} of {self.nf + 1}, "
                "or -1); expected 0 for a first frame and the last index for a last frame"
            )

    @property
    def num_frames(self) -> int | None:
        """Frames the tokens ask for: ``nf + 1`` (``None`` when there is no ``<BONF>``)."""
        return None if self.nf is None else self.nf + 1

    @property
    def task(self) -> Task | None:
        """The generation task the tokens name; ``None`` for understanding (which one depends on the media)."""
        if self.media is None:
            return None
        image = self.media is Media.IMAGE
        if self.edit is not None:
            return Task.IMAGE_EDITING if image else Task.VIDEO_EDITING
        if self.frame_positions is not None:
            return Task.IMAGE_TO_VIDEO
        if self.ctrl:
            return Task.IMAGE_CONTROL if image else Task.VIDEO_CONTROL
        if self.ref:
            return Task.IMAGE_REFERENCE if image else Task.VIDEO_REFERENCE
        return Task.TEXT_TO_IMAGE if image else Task.TEXT_TO_VIDEO

    def render(self) -> str:
        """The canonical token string (no text): task token, RES, NF, FIDX, EDIT, REF, CTRL."""
        if self.media is None:
            return ""
        parts = [CFI if self.media is Media.IMAGE else CFV]
        if self.size is not None:
            parts.append(f"{BORES}{self.size[0]},{self.size[1]}{EORES}")
        if self.nf is not None:
            parts.append(f"{BONF}{self.nf}{EONF}")
        if self.frame_positions is not None:
            parts.append(f"{BOFIDX}{','.join(map(str, self.frame_positions))}{EOFIDX}")
        if self.edit is not None:
            mask, source = self.edit
            parts.append(f"{BOEDIT}{source if mask is None else f'{mask},{source}'}{EOEDIT}")
        if self.ref:
            parts.append(REF)
        if self.ctrl:
            parts.append(CTRL)
        return "".join(parts)

    @classmethod
    def from_spec(cls, spec: TaskSpec) -> SignalTokens:
        """The tokens for ``spec``; raises :class:`SignalTokenError` when a needed index is missing."""
        task = spec.task
        media = task.output_media
        if media is None:
            return cls()
        at = {role: [i for i, item in enumerate(spec.inputs) if item.role is role] for role in Role}
        size = (spec.width, spec.height) if spec.width is not None and spec.height is not None else None
        nf = spec.num_frames - 1 if media is Media.VIDEO and spec.num_frames is not None else None
        kw: dict[str, Any] = {"media": media, "size": size, "nf": nf}
        if task in (Task.IMAGE_EDITING, Task.VIDEO_EDITING):
            if not at[Role.SOURCE]:
                raise SignalTokenError(
                    f"{task.value} with no attached source cannot be encoded: <BOEDIT> needs the source's index"
                )
            kw["edit"] = (at[Role.MASK][0] if at[Role.MASK] else None, at[Role.SOURCE][0])
            kw["ref"] = bool(at[Role.REFERENCE]) or Role.REFERENCE in spec.missing
        elif task is Task.IMAGE_TO_VIDEO:
            if not spec.inputs:
                raise SignalTokenError(
                    "image_to_video with no attached frame cannot be encoded: <BOFIDX> needs one position per image"
                )
            last = (spec.num_frames or 2) - 1
            kw["frame_positions"] = tuple(0 if item.role is Role.FIRST_FRAME else last for item in spec.inputs)
        elif task in (Task.IMAGE_REFERENCE, Task.VIDEO_REFERENCE):
            kw["ref"] = True
        elif task in (Task.IMAGE_CONTROL, Task.VIDEO_CONTROL):
            kw["ctrl"] = True
        return cls(**kw)


# ------------------------------------------------------------------------------------------------ parsing
def _ints(payload: str, token: str, allow_negative: bool = False) -> tuple[int, ...]:
    pattern = _INT_RE if allow_negative else _UINT_RE
    splitter = _RES_SPLIT_RE if token == BORES else re.compile(",")
    parts = [p.strip() for p in splitter.split(payload)]
    if not all(pattern.fullmatch(p) for p in parts):
        raise SignalTokenError(_payload_hint(payload, token))
    return tuple(int(p) for p in parts)


def _payload_hint(payload: str, token: str) -> str:
    close = _PAIRS[token]
    given = f"{token}{payload.strip()}{close}"
    if token == BORES:
        return f"{given}: expected {token}width,height{close} with two whole numbers, e.g. {token}832,480{close}"
    if token == BONF:
        return f"{given}: expected {token}n{close} with one whole number n >= 0 (n + 1 frames), e.g. {token}80{close}"
    if token == BOEDIT:
        return (
            f"{given}: expected {token}mask_index,source_index{close} or {token}source_index{close}, "
            f"0-based attachment indices, e.g. {token}1,0{close}"
        )
    return (
        f"{given}: expected {token}position[,position]{close}, one frame position per attachment "
        f"(0 = first frame, the last frame index or -1 = last frame), e.g. {token}0{close}"
    )


def parse(text: str) -> SignalTokens:
    """Parse a planner output into :class:`SignalTokens`; raises :class:`SignalTokenError` if malformed.

    Whitespace anywhere, text around and between the tokens, and ``<|im_end|>`` are tolerated; the text is
    kept in ``.text``. Tokens may come in any order; each may appear once.
    """
    if not isinstance(text, str):
        raise TypeError(f"parse() needs a str, got {type(text).__name__}")
    s = text
    for marker in _CHAT_MARKERS:
        s = s.replace(marker, " ")
    matches = list(_TOKEN_RE.finditer(s))
    pieces: list[str] = []
    seen: set[str] = set()
    payloads: dict[str, str] = {}
    pos = i = 0
    while i < len(matches):
        m = matches[i]
        tok = m.group()
        pieces.append(s[pos : m.start()])
        if tok in PAD_TOKENS:
            raise SignalTokenError(
                f"{tok} is the request's placeholder for an attachment, not a signal token: expected only "
                f"{', '.join(SIGNAL_TOKENS)} in a planner output"
            )
        if tok in _CLOSERS:
            opener = _CLOSERS[tok]
            raise SignalTokenError(f"{tok} has no opening {opener}: expected {opener}{_SHAPES[opener]}{tok}")
        if tok in seen:
            raise SignalTokenError(f"{tok} appears twice: expected each signal token at most once")
        seen.add(tok)
        if tok in _PAIRS:
            close = _PAIRS[tok]
            nxt = matches[i + 1] if i + 1 < len(matches) else None
            if nxt is None or nxt.group() != close:
                found = "the end of the text" if nxt is None else nxt.group()
                raise SignalTokenError(
                    f"{tok} is not closed (found {found} first): expected {tok}{_SHAPES[tok]}{close}"
                )
            payloads[tok] = s[m.end() : nxt.start()]
            pos, i = nxt.end(), i + 2
        else:
            pos, i = m.end(), i + 1
    pieces.append(s[pos:])
    if CFI in seen and CFV in seen:
        raise SignalTokenError(
            "<CFI> and <CFV> contradict each other: expected <CFI> for an image or <CFV> for a video"
        )

    size = nf = frame_positions = edit = None
    if BORES in payloads:
        values = _ints(payloads[BORES], BORES)
        if len(values) != 2:
            raise SignalTokenError(_payload_hint(payloads[BORES], BORES))
        size = (values[0], values[1])
    if BONF in payloads:
        values = _ints(payloads[BONF], BONF)
        if len(values) != 1:
            raise SignalTokenError(_payload_hint(payloads[BONF], BONF))
        nf = values[0]
    if BOFIDX in payloads:
        if not payloads[BOFIDX].strip():
            raise SignalTokenError(_payload_hint(payloads[BOFIDX], BOFIDX))
        frame_positions = _ints(payloads[BOFIDX], BOFIDX, allow_negative=True)
    if BOEDIT in payloads:
        values = _ints(payloads[BOEDIT], BOEDIT)
        if len(values) not in (1, 2):
            raise SignalTokenError(_payload_hint(payloads[BOEDIT], BOEDIT))
        edit = (None, values[0]) if len(values) == 1 else (values[0], values[1])
    media = Media.IMAGE if CFI in seen else Media.VIDEO if CFV in seen else None
    return SignalTokens(
        media=media,
        size=size,
        nf=nf,
        frame_positions=frame_positions,
        edit=edit,
        ref=REF in seen,
        ctrl=CTRL in seen,
        text=" ".join(p.strip() for p in pieces if p.strip()),
    )


# ------------------------------------------------------------------------------------------------ codec
def encode(spec: TaskSpec) -> str:
    """The signal-token string Unison's planner would write for ``spec`` (``""`` for understanding tasks).

    Attachments are referred to by their 0-based index in ``spec.inputs``. Raises :class:`SignalTokenError`
    for an editing spec without an attached source or an image_to_video spec without an attached frame.
    """
    return SignalTokens.from_spec(spec).render()


def attachments_of(spec: TaskSpec) -> list[tuple[str, Media]]:
    """``(path, media)`` of each of ``spec``'s inputs, in order: the attachment list :func:`decode` needs."""
    return [(item.path, item.media) for item in spec.inputs]


_OVERRIDABLE = frozenset(TaskSpec.model_fields) - {"task", "inputs", "prompt"}
_GENERATION_ONLY = frozenset({"width", "height", "seed", "num_outputs", "steps", "guidance_scale", "negative_prompt"})
_VIDEO_ONLY = frozenset({"num_frames", "fps", "duration_s"})


def _applies(name: str, task: Task) -> bool:
    if name == "missing":
        return True
    if task.is_understanding:
        return False
    if name == "control_type":
        return task in (Task.IMAGE_CONTROL, Task.VIDEO_CONTROL)
    if name in _VIDEO_ONLY:
        return task.output_media is Media.VIDEO
    return name in _GENERATION_ONLY


def _attachment(item: Any, index: int) -> tuple[str, Media]:
    if isinstance(item, Input):
        return item.path, item.media
    if isinstance(item, (tuple, list)) and len(item) == 2:
        path, media = item
    elif hasattr(item, "path") and hasattr(item, "media"):
        path, media = item.path, item.media
    else:
        raise TypeError(f"attachment {index}: expected (path, media) or an Input, got {item!r}")
    try:
        return str(path), Media(media)
    except ValueError:
        raise ValueError(f"attachment {index} ({path}): media must be 'image' or 'video', got {media!r}") from None


def _spec(data: dict[str, Any], tokens: str) -> TaskSpec:
    try:
        return TaskSpec(**data)
    except ValidationError as err:
        problems = "; ".join(line for line in explain(err).splitlines() if line)
        raise SignalTokenError(f"{one_line(tokens, 120)!r} gives no valid TaskSpec: {problems}") from err


def decode(
    tokens: str,
    attachments: Sequence[AttachmentLike],
    prompt: str = "",
    **defaults: Any,
) -> TaskSpec:
    """Parse a planner output into a validated :class:`TaskSpec` for these attachments.

    ``attachments``: the request's files in order (``(path, media)`` pairs or :class:`Input` objects); the
    tokens' indices point into this list and give each attachment its role. ``prompt``: the TaskSpec prompt;
    when empty, a generation request takes the text around the tokens. ``defaults``: values for fields the
    tokens do not carry (``fps=24``, ``seed=7``, ``control_type="pose"``, ``missing=[...]``, or width/height/
    num_frames when the tokens lack RES/NF); the tokens win where they carry a field, and a default that does
    not apply to the decoded task (fps on an image, seed on a text answer) is ignored, as is ``None``.

    Raises :class:`SignalTokenError` for a malformed or contradictory string, an index outside the
    attachments, an attachment left without a role, or tokens that give no valid TaskSpec; ``TypeError``
    for an unknown default.
    """
    unknown = sorted(set(defaults) - _OVERRIDABLE)
    if unknown:
        raise TypeError(
            f"decode() got unknown field default(s) {', '.join(unknown)}; allowed: {', '.join(sorted(_OVERRIDABLE))}"
        )
    sig = parse(tokens)
    atts = [_attachment(item, i) for i, item in enumerate(attachments)]
    n = len(atts)

    if sig.media is None:
        medias = {media for _, media in atts}
        if len(medias) > 1:
            raise SignalTokenError(
                f"{one_line(tokens, 120)!r} has no signal token, so it answers an understanding request, which takes "
                "attachments of one medium: expected only images or only videos, got both"
            )
        task = (
            Task.TEXT_UNDERSTANDING
            if not atts
            else Task.IMAGE_UNDERSTANDING
            if medias == {Media.IMAGE}
            else Task.VIDEO_UNDERSTANDING
        )
        roles: list[Role | None] = [Role.CONTEXT] * n
        data: dict[str, Any] = {"task": task, "prompt": prompt}
    else:
        named = sig.task
        assert named is not None  # media is set, so the tokens name a generation task
        task = named
        data = {"task": task, "prompt": prompt or sig.text}
        carried: set[str] = set()
        if sig.size is not None:
            data["width"], data["height"] = sig.size
            carried |= {"width", "height"}
        if sig.media is Media.VIDEO and sig.num_frames is not None:
            data["num_frames"] = sig.num_frames
            carried |= {"num_frames", "duration_s"}
        for name, value in defaults.items():
            if value is not None and name != "missing" and name not in carried and _applies(name, task):
                data[name] = value
        roles = _roles(sig, atts, task, tokens, data)

    inputs = [{"path": path, "media": media, "role": role} for (path, media), role in zip(atts, roles, strict=True)]
    played = {role for role in roles if role is not None}
    missing: list[Role] = [Role(r) for r in (defaults.get("missing") or [])]
    derived = [role for role in task.required_roles if role not in played]
    if sig.ref and Role.REFERENCE not in played:
        derived.append(Role.REFERENCE)
    for role in derived:
        if role not in missing:
            missing.append(role)
    data["inputs"] = inputs
    if missing:
        data["missing"] = missing
    return _spec(data, tokens)


def _last_frame(data: dict[str, Any], tokens: str) -> int:
    """The last frame index the decoded video will have (NF, or the contract's defaults / the caller's)."""
    fields: dict[str, Any] = {k: data[k] for k in ("width", "height", "num_frames", "fps", "duration_s") if k in data}
    probe = _spec({"task": Task.TEXT_TO_VIDEO, **fields}, tokens)
    return (probe.num_frames or 2) - 1


def _roles(
    sig: SignalTokens, atts: list[tuple[str, Media]], task: Task, tokens: str, data: dict[str, Any]
) -> list[Role | None]:
    n = len(atts)
    roles: list[Role | None] = [None] * n

    def claim(index: int, role: Role, where: str) -> None:
        if index >= n:
            have = f"0..{n - 1}" if n else "none: nothing is attached"
            raise SignalTokenError(
                f"{where}: index {index} points outside the attachments; expected a 0-based index into the "
                f"{n} attachment(s) ({have})"
            )
        roles[index] = role

    if sig.edit is not None:
        mask, source = sig.edit
        shown = f"{BOEDIT}{source if mask is None else f'{mask},{source}'}{EOEDIT}"
        claim(source, Role.SOURCE, shown)
        if mask is not None:
            claim(mask, Role.MASK, shown)
    if sig.frame_positions is not None:
        fp = sig.frame_positions
        shown = f"{BOFIDX}{','.join(map(str, fp))}{EOFIDX}"
        if len(fp) > n:
            raise SignalTokenError(
                f"{shown} gives {len(fp)} frame position(s) for {n} attachment(s): expected one per attached image"
            )
        last = _last_frame(data, tokens)
        for index, position in enumerate(fp):
            if position == 0:
                claim(index, Role.FIRST_FRAME, shown)
            elif position in (-1, last):
                claim(index, Role.LAST_FRAME, shown)
            else:
                raise SignalTokenError(
                    f"{shown}: frame {position} is neither the first (0) nor the last ({last} of {last + 1}, or -1)"
                    "; expected 0 for a first frame and the last index for a last frame"
                )
    if sig.ctrl:
        if n > 1:
            raise SignalTokenError(
                f"<CTRL> takes one attachment (the control map or control video), got {n}: expected one file"
            )
        roles = [Role.CONTROL] * n
    if sig.ref:
        roles = [Role.REFERENCE if role is None else role for role in roles]
    for index, role in enumerate(roles):
        if role is None:
            path = atts[index][0]
            if task in (Task.IMAGE_EDITING, Task.VIDEO_EDITING):
                why = "<BOEDIT> names only the mask and the source; expected <REF> if the others are references"
            elif task is Task.IMAGE_TO_VIDEO:
                why = f"<BOFIDX> gives {len(sig.frame_positions or ())} position(s); expected one per attachment"
            else:
                opts = "<BOEDIT>, <REF>, <CTRL>" + (" or <BOFIDX>" if sig.media is Media.VIDEO else "")
                why = f"{task.value} takes no attachments; expected {opts} to give it a role"
            raise SignalTokenError(f"attachment {index} ({path}) has no role: {why}")
    return roles
