"""Meta settings stated in a request: size, presets, orientation, ratio, duration, frames, fps, seed, steps,
guidance, number of outputs and the negative prompt, each with the span it occupies so that it can be cut
out of a generation prompt.

Everything here works on :class:`~unison_agent.planning.text.Norm` text (lower case, typos of the planner's
vocabulary repaired); spans are in normalised coordinates and mapped back with ``Norm.span``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from unison_agent.planning.text import NUMBER_RE, Norm, parse_number
from unison_agent.spec import LIMITS, PRESETS

__all__ = ["Meta", "clean_prompt", "extract_meta"]

Span = tuple[int, int]


@dataclass
class Meta:
    """What a request says about its output. ``None`` means not stated."""

    width: int | None = None
    height: int | None = None
    preset: str | None = None
    orientation: str | None = None  # landscape | portrait | square
    ratio: tuple[float, float] | None = None
    seconds: float | None = None
    frames: int | None = None
    fps: int | None = None
    seed: int | None = None
    steps: int | None = None
    guidance: float | None = None
    num_outputs: int | None = None
    negative_prompt: str | None = None
    spans: list[Span] = field(default_factory=list)
    video_hint: bool = False  # seconds, frames or fps were stated: the output moves
    # Settings stated with a value the contract cannot hold, as "2000 frames: num_frames must be 1..1025", in the
    # order they appear: a generation request that has any is refused, never planned without them.
    out_of_range: list[str] = field(default_factory=list)

    def add(self, m: re.Match[str], group: int = 0) -> None:
        self.spans.append((m.start(group), m.end(group)))


N = NUMBER_RE
_B = r"(?<![\w.])"  # left word boundary that also refuses a decimal point ("v1.5 seconds")
_E = r"(?![\w])"

_SIZE = re.compile(
    rf"(?:\b(?:at|in|to|output|resolution|size|res|dimensions?|of)\s*[:=]?\s*)?{_B}(\d{{2,5}})\s*(?:px)?\s*(?:x|\*|by)\s*"
    rf"(\d{{2,5}})\s*(?:px|pixels)?{_E}(?:\s*(?:resolution|px|pixels))?"
)
_WIDTH_HEIGHT = re.compile(
    r"\bwidth\s*(?:of|=|:)?\s*(\d{2,5})(?:\s*px)?\s*(?:,|and|x)?\s*(?:a\s+)?height\s*(?:of|=|:)?\s*(\d{2,5})(?:\s*px)?"
    r"|\bheight\s*(?:of|=|:)?\s*(\d{2,5})(?:\s*px)?\s*(?:,|and|x)?\s*(?:a\s+)?width\s*(?:of|=|:)?\s*(\d{2,5})"
    r"(?:\s*px)?"
)
_PRESET = re.compile(
    rf"(?:\b(?:at|in|to|output)\s+)?{_B}({'|'.join(p[:-1] for p in PRESETS)})\s*p{_E}|\bfull[\s-]?hd\b"
)
_RATIO = re.compile(
    r"(?:(?:--ar|--aspect|\b(?:aspect(?:[\s_]*ratio)?|ratio|in|at|to|format))\s*(?:of|=|:)?\s*)?(?<![\d:.])(\d{1,2}(?:\.\d+)?)\s*:\s*(\d{1,2})"
    r"(?![\d]|:\d)(?:\s*(?:aspect(?:\s*ratio)?|ratio|format|frame))?"
)
_ORIENT_WORDS = r"orientation|mode|format|layout|aspect(?:\s+ratio)?|ratio|crop"
_ORIENT_MEDIA = r"video|clip|image|picture|pic|photo|frame|shot|format"
# The medium after "vertical" ("a vertical video") is kept in the prompt: only the orientation is cut.
_ORIENT = re.compile(
    r"(?:\b(?:make\s+it|in|as)\s+)?\b(vertical|portrait|horizontal|landscape|square|widescreen|ultra[\s-]?wide)"
    rf"\b(?:\s+(?:{_ORIENT_WORDS})\b|(?=\s+(?:{_ORIENT_MEDIA})\b))?"
)
_SECONDS = re.compile(
    rf"(?:\b(?:for|of|about|around|lasting|duration|length|long)\s*[:=]?\s*)?{_B}({N})\s*(?:-\s*)?"
    r"(seconds?|secs?|s|minutes?|mins?|segundos?|secondes?|sekunden?)(?:\s+long)?(?![\w])"
)
# Tried only where a run of spaces or digits begins (the guards): from every position of a long run, the run
# would be rescanned each time (quadratic in its length).
_SECONDS_ZH = re.compile(r"(?:时长|长度|(?<!\s))\s*(?<!\d)(\d+(?:\.\d+)?)\s*秒(?:钟)?")
_FRAMES = re.compile(
    rf"(?:(?:num_frames|frames)\s*[:=]\s*[-−]?(\d+))|{_B}({N})\s*(?:-\s*)?(?:total\s+)?frames?{_E}|(?<!\d)(\d+)\s*帧"
)
_FPS = re.compile(
    rf"(?:\bat\s+|@\s*)?{_B}({N})\s*(?:-\s*)?(?:fps|frames?\s*(?:per|a|/)\s*(?:second|sec|s)|frame\s*rate|帧每秒)(?![\w])"
    rf"|\b(?:fps|frame\s*rate|framerate)\s*(?:of|=|:|at)?\s*[-−]?({N})"
)
_SEED = re.compile(rf"\b(?:random\s+)?seed\s*(?:number|value|of|is|=|:|#)?\s*[-−]?({N})(?![\w])")
_STEPS = re.compile(
    rf"(?<![=:] )(?<![=:]){_B}({N})\s*(?:inference\s+|sampling\s+|denoising\s+|diffusion\s+)?steps?\b"
    rf"|\b(?:num_inference_steps|(?:inference\s+|sampling\s+|denoising\s+)?steps)\s*(?:of|=|:)?\s*[-−]?(\d+)\b"
)
_GUIDANCE = re.compile(
    r"\b(?:guidance(?:[\s_]+scale)?|cfg(?:[\s_]+scale)?|cfg)\s*(?:of|=|:|at)?\s*[-−]?(\d+(?:\.\d+)?)"
    r"|(?<![\w.=:])(?<![=:] )(\d+(?:\.\d+)?)\s*(?:guidance(?:\s+scale)?|cfg)\b"
)
_OUTPUT_NOUNS = (
    r"options?|variations?|versions?|variants?|alternatives?|outputs?|images?|imgs?|pics?|pictures?|photos?|"
    r"videos?|vids?|clips?|takes?|samples?|results?|candidates?|renders?|generations?|shots?|designs?|"
    r"illustrations?|drawings?|logos?|wallpapers?|posters?"
)
_OUTPUTS = re.compile(
    rf"(?<!these )(?<!those )(?<!the )(?<!both )(?<!my )(?<!of )(?<!our )(?<!your )(?<!\d )"
    rf"{_B}({N})\s+(?:different\s+|more\s+|distinct\s+|alternative\s+|separate\s+|unique\s+)?"
    rf"(?:{_OUTPUT_NOUNS})\b(?:\s+(?:please|pls|plz))?"
)
_OUTPUTS_KEY = re.compile(r"(?:--|\b)(?:n|num_outputs|num_images|batch_size|batch|samples)\s*[:=]\s*[-−]?(\d+)\b")
_OUTPUTS_BARE = re.compile(
    rf"\b(?:give me|gimme|make me|generate|send me|i want|i need|i'd like)\s+({N})(?:\s+(?:please|pls|plz))?"
    rf"\s*(?=[.,!;]|$)|(?<![\w])({N}|a few|a couple)\s+of\s+(?:them|those|these)\b"
)
_NEGATIVE = re.compile(
    r"(?:--|\b)(?:negative[\s_-]*prompt|neg(?:ative)?[\s_-]*prompt|negative|negatives|neg)\s*[:=]\s*(.*?)\s*(?=\n|$)"
    r"|\bavoid\s*:\s*(.*?)\s*(?=\n|$)"
)


def _num(s: str | None) -> float | None:
    return None if s is None else parse_number(s)


def _in_range(name: str, value: float | None) -> bool:
    if value is None:
        return False
    lo, hi = LIMITS[name]
    return lo <= value <= hi


_MINUS = "-−"
# Words before a setting that are not part of it, left out when a refusal quotes the setting ("at 0 fps").
_LEAD = re.compile(
    r"^(?:(?:at|for|of|about|around|lasting|duration|length|long|in|to|output|resolution|size|res|dimensions?)\b"
    r"|@)\s*[:=]?\s*",
    re.I,
)
# A length unit after "WxH": the size of a thing in the picture ("a 120x80 cm rug"), not of the picture.
_LENGTH_UNIT = re.compile(r"\s*(?:mm|cm|m|km|inch(?:es)?|ft|feet|foot|yards?|(?:milli|centi|kilo)?met(?:er|re)s?)\b")
# Nouns that make a number a count of outputs ("100 variations"); "50 photos", "40 candidates" or "20 generations"
# may be what one picture shows, and so may a count after "with" ("a menu with 20 options").
_COUNT_NOUN = re.compile(r"\b(?:options?|variations?|versions?|variants?|alternatives?|outputs?|renders?)\b")
_HAS_BEFORE = re.compile(r"\b(?:with|has|have|having|showing|shows)\s+$")
_STEPS_WORD = re.compile(r"\b(?:inference|sampling|denoising|diffusion)\b")


def _signed(t: str, m: re.Match[str], group: int) -> tuple[float | None, int]:
    """The number in ``group`` of ``m`` with its sign, and where it starts (at its minus sign, if any).

    A minus counts when it is written against the number and does not join it to a word or to another number:
    "seed -1", ", -3 seconds"; not "T-3 seconds" or "3 - 5 seconds" (a range)."""
    start = m.start(group)
    value = _num(m.group(group))
    if value is None or start == 0 or t[start - 1] not in _MINUS:
        return value, start
    before = t[: start - 1]
    if before[-1:].isalnum() or before.rstrip()[-1:].isdigit():
        return value, start
    return -value, start - 1


def _fmt(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else f"{x:g}"


def _sides(w: int, h: int) -> str:
    """Which sides of ``w`` x ``h`` are out of range: "width", "height" or "width and height"."""
    bad = [name for name, v in (("width", w), ("height", h)) if not _in_range(name, v)]
    return " and ".join(bad)


def extract_meta(norm: Norm) -> Meta:
    """Find every meta setting in ``norm``. A setting stated with a value outside the contract's range ("2000
    frames", "seed -1") is listed in ``Meta.out_of_range`` with the allowed range, and its words are cut like any
    setting's; numbers that are content ("2000 cats", "a temple with 1000 steps") are left alone."""
    t = norm.text
    meta = Meta()
    taken: list[Span] = []
    refused: list[tuple[int, str]] = []

    def free(m: re.Match[str]) -> bool:
        return all(m.end() <= a or m.start() >= b for a, b in taken)

    def take(m: re.Match[str]) -> None:
        taken.append((m.start(), m.end()))
        meta.add(m)

    def refuse(m: re.Match[str], start: int, name: str, what: str = "", whole: bool = False) -> None:
        # ``start`` is where the number's minus sign is, when it stands before the match ("-3 seconds").
        a = min(m.start(), start)
        lo, hi = LIMITS[name]
        phrase = _LEAD.sub("", norm.original[slice(*norm.span(a, m.end()))].strip())
        number = "a whole number " if whole else ""
        refused.append((a, f"{phrase}: {what or name} must be {number}{_fmt(lo)}..{_fmt(hi)}"))
        taken.append((a, m.end()))
        meta.spans.append((a, m.end()))

    for m in _WIDTH_HEIGHT.finditer(t):
        if not free(m):
            continue
        w, h = (m.group(1), m.group(2)) if m.group(1) else (m.group(4), m.group(3))
        if _in_range("width", int(w)) and _in_range("height", int(h)):
            meta.width, meta.height = int(w), int(h)
            take(m)
        else:
            refuse(m, m.start(), "width", _sides(int(w), int(h)))
    for m in _SIZE.finditer(t):
        if not free(m) or _LENGTH_UNIT.match(t, m.end()):
            continue  # "a 120x80 cm rug" is the size of a thing, not of the picture
        w, h = int(m.group(1)), int(m.group(2))
        if _in_range("width", w) and _in_range("height", h):
            meta.width, meta.height = w, h
            take(m)
        elif 0 < w < 64 and 0 < h < 64 and w / h <= 4 and h / w <= 4:  # "16x9" is a ratio
            meta.ratio = (float(w), float(h))
            take(m)
        else:
            refuse(m, m.start(), "width", _sides(w, h))
    for m in _RATIO.finditer(t):
        if not free(m):
            continue
        a, b = float(m.group(1)), float(m.group(2))
        if a >= 1 and b >= 1 and 0.2 <= a / b <= 5:
            meta.ratio = (a, b)
            take(m)
    for m in _PRESET.finditer(t):
        if not free(m):
            continue
        meta.preset = f"{m.group(1)}p" if m.group(1) else "1080p"
        take(m)
    _orientation(norm, meta, free, take)

    for m in _FPS.finditer(t):
        if not free(m):
            continue
        v, start = _signed(t, m, 1 if m.group(1) else 2)
        if v is not None and _in_range("fps", v):
            meta.fps = round(v)
            take(m)
        elif v is not None:
            refuse(m, start, "fps")
    for m in _FRAMES.finditer(t):
        if not free(m):
            continue
        fv, start = _signed(t, m, 1 if m.group(1) else 2 if m.group(2) else 3)
        if fv is None or fv != int(fv):
            continue
        if 5 <= fv <= LIMITS["num_frames"][1]:
            meta.frames = int(fv)
            take(m)
        elif not _in_range("num_frames", fv):
            refuse(m, start, "num_frames")
        # 1 to 4 frames is not a clip: "a comic strip with 3 frames" is content.
    for pattern in (_SECONDS, _SECONDS_ZH):
        for m in pattern.finditer(t):
            if not free(m):
                continue
            v, start = _signed(t, m, 1)
            unit = m.group(2) if pattern is _SECONDS else "s"
            if v is None:
                continue
            if unit.startswith("m"):
                v *= 60
            if unit == "s" and not re.match(r"\d", m.group(1)):
                continue  # "five s" is not a duration; "5s" is
            # A duration longer than can be made, in words ("a 90 second video"), is still a duration: the planner
            # refuses it with the limit instead of making 5 s. A bare "s" past the limit is a decade ("1970s").
            if 0 < v <= (LIMITS["duration_s"][1] if unit == "s" else 3600):
                meta.seconds = v
                take(m)
            elif v < 0:
                refuse(m, start, "duration_s")
    for m in _SEED.finditer(t):
        v, start = _signed(t, m, 1)
        if not free(m) or v is None:
            continue
        if v == int(v) and _in_range("seed", v):
            meta.seed = int(v)
            take(m)
        else:
            refuse(m, start, "seed", whole=v != int(v))
    for m in _GUIDANCE.finditer(t):
        v, start = _signed(t, m, 1 if m.group(1) else 2)
        if not free(m) or v is None:
            continue
        if _in_range("guidance_scale", v):
            meta.guidance = v
            take(m)
        else:
            refuse(m, start, "guidance_scale")
    for m in _STEPS.finditer(t):
        v, start = _signed(t, m, 1 if m.group(1) else 2)
        if not free(m) or v is None:
            continue
        if v == int(v) and _in_range("steps", v) and v >= 2:
            meta.steps = int(v)
            take(m)
        elif not (v == int(v) and _in_range("steps", v)) and (m.group(2) or _STEPS_WORD.search(m.group(0))):
            # "steps 100000", "1000 inference steps"; a bare "1000 steps" may be a staircase and stays content.
            refuse(m, start, "steps", whole=v != int(v))
    for m in _OUTPUTS.finditer(t):
        v, start = _signed(t, m, 1)
        if not free(m) or v is None or v != int(v):
            continue
        if 2 <= v <= LIMITS["num_outputs"][1]:
            meta.num_outputs = int(v)
            take(m)
        elif (
            not _in_range("num_outputs", v)
            and _COUNT_NOUN.search(m.group(0))
            and not _HAS_BEFORE.search(t, max(0, start - 16), start)
        ):
            # "100 variations" asks for outputs; "50 photos" or "20 posters" may be what one picture shows.
            refuse(m, start, "num_outputs")
    for m in _OUTPUTS_KEY.finditer(t):
        v, start = _signed(t, m, 1)
        if not free(m) or v is None:
            continue
        if _in_range("num_outputs", v):
            meta.num_outputs = int(v) if v > 1 else meta.num_outputs
            take(m)
        else:
            refuse(m, start, "num_outputs")
    for m in _OUTPUTS_BARE.finditer(t):
        word = m.group(1) or m.group(2)
        v = {"a few": 3.0, "a couple": 2.0}.get(word) or _num(word)
        if not free(m) or meta.num_outputs is not None or v is None or v != int(v):
            continue
        if 2 <= v <= LIMITS["num_outputs"][1]:
            meta.num_outputs = int(v)
            take(m)
        elif v > LIMITS["num_outputs"][1]:
            refuse(m, m.start(), "num_outputs")
    _negative(norm, meta, taken)
    meta.out_of_range = [message for _, message in sorted(refused)]
    meta.video_hint = any(x is not None for x in (meta.seconds, meta.frames, meta.fps))
    return meta


def _negative(norm: Norm, meta: Meta, taken: list[Span]) -> None:
    """The negative prompt runs from its label to the end of the line, a new sentence, or the next meta
    phrase ("negative prompt: blurry. A castle..." keeps "A castle" in the prompt)."""
    t = norm.text
    for m in _NEGATIVE.finditer(t):
        group = 1 if m.group(1) is not None else 2
        start, end = m.start(group), m.end(group)
        for a, _b in sorted(taken):
            if start <= a < end:
                end = a
                break
        a0, b0 = norm.span(start, end)
        cut = re.search(r"[.;!?]\s+(?=[A-Z\"'])", norm.original[a0:b0])
        if cut:  # a new sentence starts: the negative prompt ended before it
            end = next(i for i in range(start, end) if norm.index[i] >= a0 + cut.start())
            a0, b0 = norm.span(start, end)
        value = norm.original[a0:b0].strip().rstrip(".,;:").strip()
        if not value:
            continue
        meta.negative_prompt = value if meta.negative_prompt is None else f"{meta.negative_prompt}, {value}"
        # Cut the label and the value only, so that whatever follows stays in the prompt.
        meta.spans.append((m.start(), end))
        taken.append((m.start(), end))


_NOT_ORIENTATION = re.compile(r"times square|town square|square (?:meters?|metres?|feet|foot|root|miles?|km)")


def _orientation(
    norm: Norm, meta: Meta, free: Callable[[re.Match[str]], bool], take: Callable[[re.Match[str]], None]
) -> None:
    t = norm.text
    for m in _ORIENT.finditer(t):
        if not free(m):
            continue
        word = m.group(1).replace(" ", "").replace("-", "")
        after = t[m.end(1) : m.end(1) + 12]
        before = t[max(0, m.start(1) - 8) : m.start(1)]
        medium = re.match(rf"\s+({_ORIENT_MEDIA})\b", after)
        tail_word = m.group(0)[m.end(1) - m.start(0) :].strip() or (medium.group(1) if medium else "")
        if (word == "square" and _NOT_ORIENTATION.match(t, max(0, m.start(1) - 6))) or "times " in before:
            continue
        # "portrait" and "landscape" are also subjects ("an oil painting portrait of ..."): only an explicit
        # orientation word, a neighbouring preset, or a bare list item counts.
        standalone = re.match(r"\s*(?:[,.;:)!]|$|\d{3,4}p|\s*-)", after) is not None
        near_preset = re.search(r"\d{3,4}\s*p", t[max(0, m.start() - 12) : m.end() + 12]) is not None
        explicit = tail_word.split(" ")[0] in ("orientation", "mode", "format", "layout", "aspect", "ratio", "crop")
        if word in ("portrait", "landscape"):
            listed = standalone and re.search(r"(?:^|[,.;:(\n-])\s*(?:in\s+|a\s+)?$", t[: m.start(1)]) is not None
            if not (explicit or near_preset or listed or tail_word in ("video", "clip")):
                continue
        elif word in ("vertical", "horizontal", "square") and not (explicit or standalone or near_preset or tail_word):
            continue
        meta.orientation = {
            "vertical": "portrait",
            "horizontal": "landscape",
            "widescreen": "landscape",
            "ultrawide": "landscape",
        }.get(word, word)
        if word == "widescreen" and meta.ratio is None:
            meta.ratio = (16.0, 9.0)
        if word == "ultrawide" and meta.ratio is None:
            meta.ratio = (21.0, 9.0)
        take(m)


# ------------------------------------------------------------------------------------------------ cleaning
# Words that carry no content of their own: a clause made only of them (once its meta is cut) is dropped.
_FILLER = frozenset(
    """
    a an the me my us our you u ya can could would will please pls plz kindly make create generate gen draw
    render produce give get do want need i i'd id im i'm like to for of in at with and as it its this that these
    those one ones some keep keeping output outputs result results final image images picture pictures pic pics
    photo video videos clip clips vid vids short quick new just also now then so here here's is are be size
    resolution format aspect ratio length duration long total use using generation version versions mode hey
    hi hello ok okay thanks thank something art artwork illustration set same exactly only around about
    approximately approx roughly each every per whole full both but or by should shall must let lets let's
    go please. thx ty mp4 png jpg jpeg gif still variations variation options option style
    """.split()
)
_DELIM = r"[,.;:!?\n()\[\]{}|]+|\s[-–—]+(?=\s)|-{2,}|[–—]"
_CLAUSE = re.compile(rf"(?:(?!{_DELIM}).)+|(?:{_DELIM})", re.S)


def _is_filler(text: str) -> bool:
    words = re.findall(r"[^\W\d_]+(?:'[^\W\d_]+)?|\d+", text.lower())
    return all(w in _FILLER for w in words)


def clean_prompt(original: str, spans: list[Span], drop_lead: bool = True) -> str:
    """``original`` with ``spans`` (original coordinates) cut out, clauses left empty of content dropped,
    and a leading request wrapper ("make me a picture:", "generate:") removed."""
    keep = [True] * len(original)
    for a, b in spans:
        for i in range(max(a, 0), min(b, len(original))):
            keep[i] = False
    # pieces: [kept text, is delimiter, lost a span]
    pieces: list[list] = []
    for m in _CLAUSE.finditer(original):
        a, b = m.span()
        seg = "".join(original[i] for i in range(a, b) if keep[i])
        pieces.append([seg, re.search(r"\w", m.group(0)) is None, not all(keep[a:b])])
    # A clause that lost its meta and kept only filler words goes entirely ("keep it at 24 fps").
    for p in pieces:
        if not p[1] and p[2] and _is_filler(p[0]):
            p[0] = ""
    if drop_lead:
        # A leading wrapper: the clauses up to the first ':' '?' or dash, if they hold only request words and
        # content follows ("Can you make me a picture? Three cats ...", "generate: ...").
        for i, (seg, is_delim, _lost) in enumerate(pieces):
            if not is_delim:
                continue
            if re.search(r"[:?\-–—]", seg) or (i > 0 and not "".join(p[0] for p in pieces[:i]).strip()):
                head, rest = pieces[: i + 1], pieces[i + 1 :]
                if all(p[1] or _is_filler(p[0]) for p in head) and any(not p[1] and not _is_filler(p[0]) for p in rest):
                    for p in head:
                        p[0] = ""
                break
            if not _is_filler("".join(p[0] for p in pieces[:i] if not p[1])):
                break
    out = "".join(p[0] for p in pieces)
    # Punctuation left dangling by the cuts: ", ," -> ",", leading separators, empty brackets.
    out = re.sub(r"\(\s*\)|\[\s*\]", "", out)
    out = re.sub(r"[ \t]+", " ", out)
    out = re.sub(r" +([,.;:!?])", r"\1", out)
    out = re.sub(r"([,;:])(?:\s*[,;:\-])+", r"\1", out)
    out = re.sub(r"([.!?])(?:\s*[,;:\-])+", r"\1", out)
    out = re.sub(r"(?<!\.)\.\.(?!\.)", ".", out)
    # An article orphaned by a cut ("make a 3 second video of" -> "make a of") goes too.
    out = re.sub(r"\b(?:a|an)\s+(?=(?:of|for|at|in|with|and|to)\b|[,.;:!?]|$)", "", out, flags=re.I)
    out = re.sub(r"\s*\n\s*", "\n", out)
    return out.strip(" \t\n,;:.!?-–—|，、；：")
