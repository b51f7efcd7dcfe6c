"""The embedded planner: rules and lexicons, no model weights, no network, no torch; about a millisecond a
request once the attachments are probed.

How a request becomes a TaskSpec:

1. the text is normalised (``text.py``) and its meta settings found with their spans (``meta.py``);
2. every attachment is probed for what it *is* (``media.probe``: image or video, mask, pose, depth...);
3. the text is scored against the cue lexicons (``cues.py``): asking vs making, editing vs a new picture
   of the same subject, first/last frame, control signals; and it is searched for files it talks about
   ("my mask", "the video I sent") so that a request that needs a file it did not attach is still planned,
   with the file listed in ``missing``;
4. the task follows from the scores *and* the attachments; each attachment gets its role from what the
   text says about it (by file name, by "first/second", by "the mask"), from what it looks like, and only
   last from its position;
5. sizes and lengths follow the contract (``spec.py``), and the prompt is the request minus its meta.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from pydantic import ValidationError

from unison_agent.planning.cues import CUES, MEDIA_NOUN_IMAGE, MEDIA_NOUN_VIDEO, MOTION, OUT_IMAGE, OUT_VIDEO, score
from unison_agent.planning.meta import Meta, clean_prompt, extract_meta
from unison_agent.planning.text import Norm, normalise
from unison_agent.spec import (
    DEFAULT_DURATION_S,
    DEFAULT_FPS,
    LIMITS,
    MAX_REQUEST_CHARS,
    ControlType,
    Input,
    Media,
    Role,
    Task,
    TaskSpec,
    duration_for_frames,
    explain,
    frames_for_duration,
    media_for,
    size_for_aspect,
    size_for_preset,
)

__all__ = ["Attachment", "EmbeddedPlanner", "PlanningError", "check_request_length"]


class PlanningError(ValueError):
    """A request the contract cannot express (two source videos for one edit, 90 s of video...): the
    message says what is wrong and what would work."""


def check_request_length(text: str) -> None:
    """Raise :class:`PlanningError` when ``text`` is longer than ``spec.MAX_REQUEST_CHARS``; return nothing.

    Every planning entry point calls it before any other work, so that no planner's time or memory depends on
    how much text a caller sends."""
    if len(text) > MAX_REQUEST_CHARS:
        raise PlanningError(f"the request is {len(text):,} characters; the limit is {MAX_REQUEST_CHARS:,}: shorten it")


@dataclass(frozen=True)
class Attachment:
    """An attachment as the planner sees it: its path and the facts probed from its content.

    It carries the same facts as ``media.MediaInfo`` but lives here so that planning a text-only request
    never imports numpy, Pillow or PyAV (start-up time); ``Attachment.probe`` fills it from ``media.probe``,
    and callers that already know the facts (a session's artifact store) can build one without a file."""

    path: str
    media: Media
    look: str  # media.Look value: photo, mask, pose, depth, edge, scribble
    width: int = 0
    height: int = 0
    num_frames: int = 1
    fps: float | None = None
    duration_s: float | None = None

    @property
    def name(self) -> str:
        return os.path.basename(self.path).lower()

    @property
    def stem(self) -> str:
        return Path(self.name).stem

    @classmethod
    def probe(cls, path: str | os.PathLike[str]) -> Attachment:
        """Probe ``path`` (raises ``media.MediaError`` for a file that is not usable media)."""
        from unison_agent.media import probe  # numpy/PIL/PyAV only when there is something to look at

        info = probe(path)
        return cls(
            str(path), info.media, info.look.value, info.width, info.height, info.num_frames, info.fps, info.duration_s
        )


_CONTROL_LOOKS = {
    "pose": ControlType.POSE,
    "depth": ControlType.DEPTH,
    "edge": ControlType.CANNY,
    "scribble": ControlType.SCRIBBLE,
}
# Words naming a control signal, in the order they are tried. Compiled once.
_CONTROL_WORDS: list[tuple[ControlType, re.Pattern[str]]] = [
    (
        ControlType.FLOW,
        re.compile(
            r"\boptical[\s-]*flow\b|\bflow (?:of|from|map|video)\b|\b(?:motion|movement)"
            r" (?:of|from|in) (?:this|the|my|that|it)\b|\bcop(?:y|ies|ying) the motion\b"
        ),
    ),
    (
        ControlType.GRAY,
        re.compile(
            r"\bgr[ae]y[\s-]*scale\b|\bgr[ae]y (?:version|control|video)\b"
            r"|\bblack[- ]and[- ]white version\b"
        ),
    ),
    (ControlType.LAYOUT, re.compile(r"\blayout\b|\bbounding[\s-]*box\w*\b|\bbbox\w*\b")),
    (
        ControlType.POSE,
        re.compile(
            r"\bpose[sd]?\b|\bskeletons?\b|\bopenpose\b|\bstick[- ]figures?\b|\bkeypoints?\b"
            r"|\b(?:dance )?moves\b|\bdance moves\b|\bchoreograph\w*\b"
        ),
    ),
    (ControlType.DEPTH, re.compile(r"\bdepth\b|\bdepthmap\b|\bz-?depth\b")),
    (ControlType.CANNY, re.compile(r"\bcanny\b|\bedges?\b|\bedge[\s-]*map\b|\boutlines?\b|\bcontours?\b")),
    (
        ControlType.SCRIBBLE,
        re.compile(
            r"\bscribbles?\b|\bsketch\w*\b|\bdoodles?\b|\bdrawing\b|\bdrew\b"
            r"|\bline[\s-]*art\b|\blineart\b"
        ),
    ),
]
_SEQUENCE = re.compile(
    r"\b(?:then|while (?:the|a|an|he|she|it|they|his|her)|gradually|suddenly|begins? to|"
    r"starts? to|as (?:the|it|he|she|they) \w+s|eventually|little by little|over time|"
    r"step by step)\b"
)
_FRAME_ROLE_WORDS = re.compile(r"\bas the (?:first|last|start|end|opening|closing|final) (?:frame|image|shot)\b")
_NOT_IMAGE = re.compile(
    r"\bnot (?:a |an )?(?:still |single )?(?:image|picture|photo|pic|still)\b|\bno (?:still|stills)\b"
)
# "what plant is this?" with nothing attached: the question is about a picture that did not come. Read as a
# question ending on "this" whose sentence holds a question word, so that each sentence is scanned once (a
# pattern spanning both rescans the sentence from every question word: quadratic).
_DEICTIC_END = re.compile(r"\b(?:this|these)(?: one| thing| stuff)?(?: is| are)?\s*\?")
_QUESTION_WORD = re.compile(r"\b(?:what|who|which|where|how old|how much|is|are)\b")


def _deictic_question(text: str) -> bool:
    """Whether ``text`` asks a question about "this"/"these" ("what plant is this?")."""
    sentence_start = 0
    for m in _DEICTIC_END.finditer(text):
        # The sentence began after the last stop before "this"; the previous match ended one ("?").
        start = max(sentence_start - 1, *(text.rfind(p, sentence_start, m.start()) for p in ".?!")) + 1
        if _QUESTION_WORD.search(text, start, m.start()):
            return True
        sentence_start = m.end()
    return False


_PROGRESSIVE = re.compile(r"\b(?:is|are)\s+(?:\w+ly\s+)?\w{3,}ing\b")
_QUOTED = re.compile(r"(?<![\w])'[^'\n]{3,}?'(?![\w])|\"[^\"\n]{2,}?\"|「[^」]*」|“[^”]*”")
_DEICTIC_BEFORE = re.compile(
    r"(?:\b(?:this|that|these|those|my|our|your|his|her|their|attached|uploaded|same|original|source|input|no|"
    r"not|exact|old|the attached|the uploaded|first|second|third|other|1st|2nd|3rd)\s+(?:\w+\s+){0,2}"
    r"|\bthe\s+(?:\w+\s+){0,1}"
    r"|\b(?:here's|here is|here are|heres|attached is|i took|i have)\s+(?:a|an|the|my|some|two)?\s*(?:\w+\s+){0,1})$"
)
_OUTPUT_SUBJECT = re.compile(
    r"\s+(?:unfolds|begins|captures|shows|opens|starts|features|depicts|ends|should|"
    r"must|needs|will)\b"
)
_INPUT_REF = re.compile(
    rf"\b(?:this|that|these|those|my|our|his|her|their|your|the attached|attached|the uploaded|uploaded|the)"
    rf"\s+(?:[\w'-]+\s+){{0,2}}?(?P<noun>{MEDIA_NOUN_IMAGE}|{MEDIA_NOUN_VIDEO}|masks?|sketch(?:es)?|scribbles?|"
    rf"doodles?|depth maps?|depth videos?|depth pass|pose videos?|pose skeletons?|skeletons?|pose|edge maps?|"
    rf"edge videos?|keyframes?|frames)\b"
)
_POSSESSIVES = frozenset({"my", "our", "his", "her", "their", "your"})
_OUTPUT_NOUNS = frozenset(
    "poster posters logo logos wallpaper wallpapers icon icons illustration "
    "illustrations artwork artworks painting paintings portrait portraits render renders still stills animation "
    "animations movie movies film films reel reels tiktok tiktoks gif gifs".split()
)
_SUBJECT_REF = re.compile(
    r"\bthis (?:exact |same )?(?:[\w-]+ )?(?P<noun>product|logo|mascot|character|person|guy|girl|boy|man|woman|"
    r"lady|kid|toy|figurine|figure|face|plush|mug|sneaker|bottle|singer|dog|cat|pet|car|item|object|outfit|"
    r"design)\b(?!\s*:)"
)
_ATTACHED_WORD = re.compile(
    r"\(attached\)|\battached\b|\bi (?:sent|uploaded|attached|made|took|drew|shot|"
    r"recorded|filmed)\b|\bi'm sending\b|\bi am sending\b|\bin the attachment\b"
)
# "edit this", "animate it", "bring it to life": a request that opens by changing or animating what it calls only
# "this" or "it" is about a file (_Request._opens_on_a_pronoun); with none attached, that file is missing.
_OPENING = re.compile(r"^\W*(?:(?:please|pls|plz|kindly|just|now|can you|could you|would you)\W+)*")
_EDIT_THIS = re.compile(r"(?:edit|fix|retouch|touch up|change|modify|improve|enhance)\b")
_POINTING = r"\b(?:this|it|these|them)\b"
_POINTED_AT = re.compile(rf"\s+{_POINTING}")
_ORDINALS = {"first": 0, "1st": 0, "second": 1, "2nd": 1, "third": 2, "3rd": 2, "fourth": 3, "4th": 3}
_ORDINAL_ROLE = re.compile(
    r"\b(?P<ord>first|1st|second|2nd|third|3rd|fourth|4th|last)\s+(?:file|image|one|attachment|pic|photo|"
    r"picture|upload|video|clip)?\s*(?:is|=|:|-|will be|should be|are)\s+(?:the\s+|my\s+|a\s+|an\s+)?"
    r"(?P<what>mask|source|photo|picture|image|original|reference|ref|style|face|video|clip|control|"
    r"first frame|last frame|start|end)\b"
)
_FIRST_WORDS = re.compile(r"\b(?:first|start|starts|starting|begin|begins|beginning|opening|initial)\b")
_LAST_WORDS = re.compile(r"\b(?:last|end|ending|ends|final|closing|finish|finishes)\b")
_REF_WORDS = re.compile(r"\b(?:ref|reference|style|face|faces|character|the one in|from|like|identity|as the)\b")
_REFERENCE_PICTURE = re.compile(
    r"\b(?:reference|ref) (?:photo|image|picture|pic|shot)\b|\bthe one in (?:the|my|this) (?:photo|picture|image|pic)\b"
    r"|\b(?:photo|picture|image|pic) (?:of (?:the|my) [\w-]+ )?i (?:attached|sent|uploaded)\b|\bfrom (?:my|the) "
    r"(?:reference|ref)\b"
)
_ORDINAL_PICTURE = re.compile(r"\b(?:(?P<n>second|2nd|third|3rd|other) (?:photo|image|picture|pic|one|file|shot))\b")
_NAME_FIRST = re.compile(r"(?:^|[_\-. \d])(?:first|start|begin|opening|initial|from)|(?:^|[_\-. ])(?:a|1)$")
_NAME_LAST = re.compile(r"(?:^|[_\-. \d])(?:last|end|final|closing|finish|to)|(?:^|[_\-. ])(?:b|2)$")


def _blank_quotes(text: str) -> str:
    """``text`` with quoted passages (a prompt inside a question) replaced by spaces, same length."""
    return _QUOTED.sub(lambda m: " " * len(m.group(0)), text)


class EmbeddedPlanner:
    """Plan requests offline in about a millisecond. Thread-safe and stateless: one instance serves every call.

    ``decision="learned"`` (the default): the learned model (:mod:`~unison_agent.planning.learned`) decides
    the task and the attachments' roles, with the rules' reading among its features; the rules do the rest
    (missing files, sizes, timing, settings, prompt). ``decision="rules"``: the rules decide everything, as
    before the model (for comparison, and as the model's own feature)."""

    name = "embedded"

    def __init__(self, decision: str = "learned") -> None:
        if decision not in ("learned", "rules"):
            raise ValueError(f"decision must be 'learned' or 'rules', not {decision!r}")
        self.decision = decision

    def plan(self, text: str, attachments: Sequence[str | os.PathLike[str] | Attachment] = ()) -> TaskSpec:
        """Return the TaskSpec for ``text`` with ``attachments`` (paths, probed here, or ``Attachment``s).

        Raises ``media.MediaError`` for an attachment that is missing or not an image or video, and
        :class:`PlanningError` for a request the contract cannot express or one longer than
        ``spec.MAX_REQUEST_CHARS``.
        """
        return self.assess(text, attachments)[0]

    def assess(
        self, text: str, attachments: Sequence[str | os.PathLike[str] | Attachment] = ()
    ) -> tuple[TaskSpec, list[str]]:
        """Plan ``text`` and say where the plan rests on weak evidence: ``(spec, doubts)``.

        A doubt is a short sentence ("the task is uncertain: image_editing (0.55) or image_reference (0.40)");
        an empty list means every decision was clear. Hybrid planners ask a model only when there is a doubt.
        Raises like :meth:`plan`.
        """
        check_request_length(text)
        req = _Request(text, _probed(attachments))
        if self.decision == "rules":
            spec = req.spec()
            return spec, list(dict.fromkeys(req.doubts))
        from unison_agent.planning.learned import default_model  # numpy: only once there is a request

        decision = default_model().decide(text, req.atts, req, req.rule_roles)
        req.doubts = []  # the rules' own doubts were about a decision the model has taken over
        spec = req.spec(decision.task, decision.roles)
        return spec, list(dict.fromkeys([*decision.doubts(), *req.doubts]))

    def complete(
        self,
        text: str,
        attachments: Sequence[str | os.PathLike[str] | Attachment],
        task: Task,
        roles: Mapping[int, Role] | None = None,
    ) -> TaskSpec:
        """Plan ``text`` as ``task``, with the roles of some attachments fixed (``{index: role}``); the rules
        decide everything else (other roles, missing, prompt, sizes, timing, settings, control type).

        Model-backed planners use it to fill what their model did not say. An attachment whose rule-given role
        clashes with a fixed one (a second source) or is not used by ``task`` plays ``reference`` where
        ``task`` takes references, and is left out otherwise. Raises :class:`PlanningError` when the result
        is not a valid TaskSpec, or the request is longer than ``spec.MAX_REQUEST_CHARS``."""
        check_request_length(text)
        return _Request(text, _probed(attachments)).spec(task, dict(roles or {}))


def _probed(attachments: Sequence[str | os.PathLike[str] | Attachment]) -> list[Attachment]:
    return [a if isinstance(a, Attachment) else Attachment.probe(a) for a in attachments]


class _Request:
    """One planning pass; holds the intermediate facts so that each rule reads like the contract."""

    def __init__(self, text: str, atts: list[Attachment]) -> None:
        self.text = text
        self.atts = atts
        self.norm: Norm = normalise(text)
        self.cue = _blank_quotes(self.norm.text)
        self.meta: Meta = extract_meta(self.norm)
        self.scores = {
            family: score(self.cue, family)
            for family in (
                "text_to_x",
                "question",
                "answer_verb",
                "text_only",
                "gen",
                "edit",
                "reference",
                "i2v",
                "not_i2v",
                "control",
                "control_words",
                "still",
            )
        }
        self.refs = self._input_refs()
        self.mentions = self._mentions()
        self.doubts: list[str] = []  # decisions taken on weak evidence, for hybrid planners

    # ------------------------------------------------------------------------------------------ facts
    def _input_refs(self) -> list[tuple[str, str]]:
        """Files the text talks about as inputs, as ``(medium, kind)``: ("video", "video"), ("image", "mask")."""
        refs: list[tuple[str, str]] = []
        t = self.cue
        for m in _INPUT_REF.finditer(t):
            noun = m.group("noun")
            after = t[m.end() : m.end() + 16]
            if m.group(0).startswith("the ") and _OUTPUT_SUBJECT.match(after):
                continue  # "the video unfolds with ...": the output, described
            tail = re.match(r"\s+(image|photo|picture|pic|video|clip|file)\b", after)
            if tail:  # "my logo image": the last noun says what the file is
                noun, after = tail.group(1), after[tail.end() :]
            if (
                re.match(r"\s+of\b", after)
                and m.group(0).startswith("the ")
                and _classify_noun(noun, "")[1]
                in (
                    "photo",
                    "video",
                )
            ):
                continue  # "the photo of ...": describing a picture, not pointing at one
            purpose = re.search(r"\b(?:for|in|into)\s+$", t[max(0, m.start() - 6) : m.start()])
            if m.group(0).split()[0] in _POSSESSIVES and noun in _OUTPUT_NOUNS and purpose:
                continue  # "my science poster": what it is for, not a file that came
            medium, kind = _classify_noun(noun, m.group(0))
            if re.match(r"\s+(?:video|videos|clip|sequence|pass|footage)\b", after):
                medium = "video"  # "my depth map video"
            refs.append((medium, kind))
        refs += [("image", "photo")] * len(_SUBJECT_REF.findall(t))
        if _ATTACHED_WORD.search(t) or self._opens_on_a_pronoun():
            refs.append(("image", "photo"))
        if not self.atts and not refs and _deictic_question(t):
            refs.append(("image", "photo"))
        return refs

    def _opens_on_a_pronoun(self) -> bool:
        """Whether the request opens with an edit verb or an animating cue (the ``i2v`` lexicon) whose object is
        "this"/"it": "edit this", "animate it", "bring it to life", "make it move"."""
        t = self.cue
        lead = m.end() if (m := _OPENING.match(t)) else 0
        for cue in (_EDIT_THIS, *(pattern for pattern, _ in CUES["i2v"])):
            found = cue.match(t, lead)
            if found and (re.search(_POINTING, found.group(0)) or _POINTED_AT.match(t, found.end())):
                return True
        return False

    def _mentions(self) -> dict[int, list[tuple[int, int]]]:
        """For each attachment index, the (start, end) spans where the text names its file."""
        out: dict[int, list[tuple[int, int]]] = {}
        t = self.norm.text
        for i, att in enumerate(self.atts):
            spans = [m.span() for m in re.finditer(re.escape(att.name), t)]
            # A bare stem counts only when it looks like a file name ("img_a", "shot2"), not a word ("watch").
            if not spans and len(att.stem) >= 3 and not att.stem.isalpha() and not att.stem.isdigit():
                spans = [m.span() for m in re.finditer(rf"(?<![\w]){re.escape(att.stem)}(?![\w])", t)]
            if spans:
                out[i] = spans
        return out

    def _near(self, index: int, pattern: re.Pattern[str], reach: int = 40) -> float | None:
        """Distance from a mention of attachment ``index`` to the nearest ``pattern`` match that lies between
        it and the neighbouring mentions; ``None`` when there is none."""
        t = self.cue
        bounds = sorted(s for spans in self.mentions.values() for s in spans)
        best: float | None = None
        for start, end in self.mentions.get(index, []):
            lo = max([e for s, e in bounds if e <= start] + [0, start - reach])
            hi = min([s for s, e in bounds if s >= end] + [len(t), end + reach])
            for m in pattern.finditer(t, lo, hi):
                gap = start - m.end() if m.end() <= start else m.start() - end if m.start() >= end else 0
                d = max(gap, 0) + (0.5 if m.start() >= end else 0.0)  # words after the name describe it better
                if best is None or d < best:
                    best = d
        return best

    def _frame_vote(self, index: int, reach: int = 40) -> float:
        """+1 when the text says attachment ``index`` is the first frame, -1 the last, 0 when it says nothing.

        The words that describe a named file follow it ("p2.jpg is where it ends"), unless the name is in
        brackets after them ("the start (a.jpg) and end (b.jpg) frames"); a cue is never looked for past
        another file's name."""
        t = self.cue
        bounds = sorted(sp for spans in self.mentions.values() for sp in spans)
        for start, end in self.mentions.get(index, []):
            lo = max([e for s, e in bounds if e <= start] + [start - reach])
            hi = min([s for s, e in bounds if s >= end] + [end + reach])
            after, before = t[end:hi], t[max(lo, 0) : start]
            # "start (a.jpg)", "first=a.jpg", "start with a.jpg": the cue is bound to the name after it.
            in_brackets = re.search(r"(?:\(|=|:|\b(?:with|on|from|at|as|is))\s*$", before) is not None and bool(
                _FIRST_WORDS.search(before[-24:]) or _LAST_WORDS.search(before[-24:])
            )
            for seg, from_end in ((before, True), (after, False)) if in_brackets else ((after, False), (before, True)):
                hits = [(len(seg) - m.end() if from_end else m.start(), +1.0) for m in _FIRST_WORDS.finditer(seg)]
                hits += [(len(seg) - m.end() if from_end else m.start(), -1.0) for m in _LAST_WORDS.finditer(seg)]
                if hits:
                    return min(hits)[1]
        return 0.0

    def _ordinal_roles(self) -> dict[int, str]:
        out: dict[int, str] = {}
        for m in _ORDINAL_ROLE.finditer(self.cue):
            idx = len(self.atts) - 1 if m.group("ord") == "last" else _ORDINALS[m.group("ord")]
            if 0 <= idx < len(self.atts):
                out[idx] = m.group("what")
        # "first file is the mask, second is my photo": the second clause often drops the noun.
        for m in re.finditer(
            r"\b(?P<ord>first|second|third|1st|2nd|3rd)\s+(?:one\s+)?(?:is|=)\s+(?:the\s+|my\s+)?"
            r"(?P<what>mask|photo|picture|image|source|reference|ref|video|clip)\b",
            self.cue,
        ):
            idx = _ORDINALS[m.group("ord")]
            if idx < len(self.atts):
                out.setdefault(idx, m.group("what"))
        return out

    def _out_words(self, pattern: re.Pattern[str], medium: Media) -> int:
        """How many times the text names ``medium`` as the thing to make (not as an attached file)."""
        n = 0
        has_att = any(a.media is medium for a in self.atts)
        t = self.cue
        meta_spans = self.meta.spans
        for m in pattern.finditer(t):
            if m.group(0) == "portrait" and any(a <= m.start() < b for a, b in meta_spans):
                continue  # "720p portrait": an orientation, not a portrait
            before = t[max(0, m.start() - 30) : m.start()]
            after = t[m.end() : m.end() + 14]
            if re.match(
                r"\s*(?:style|game|games|editor|editing|call|poster|still|frame|frames|camera|grain|"
                r"quality|description|model|models|card|video|videos|clip|clips|animation)\b",
                after,
            ):
                continue
            d = _DEICTIC_BEFORE.search(before)
            # "this video" is an attachment; "the video unfolds with..." with no video attached is the output.
            if d and not (d.group(0).startswith("the ") and not has_att and _OUTPUT_SUBJECT.match(after)):
                continue
            n += 1
        return n

    # ------------------------------------------------------------------------------------------ decisions
    def wants_answer(self) -> bool:
        s = self.scores
        ask = s["question"] + s["answer_verb"] + s["text_only"]
        # Weak reference cues ("the character") describe content as often as they ask for a picture.
        ref = s["reference"] if s["reference"] >= 2.5 else 0.0
        make = s["gen"] + s["edit"] + s["i2v"] + ref + s["control"] + s["still"] + s["text_to_x"]
        if s["text_only"] >= 4:
            return True
        m = self.meta
        if (
            m.video_hint
            or m.width
            or m.preset
            or m.ratio
            or m.seed is not None
            or m.num_outputs
            or m.steps
            or m.guidance
            or m.negative_prompt
        ):
            make += 1.0
        if ask and make and abs(ask - make) < 1.0:
            self.doubts.append(f"asking and making cues are close (ask {ask:g}, make {make:g})")
        if ask == 0 and make == 0:
            if self.atts:
                self.doubts.append("no word says whether to answer about the attachments or to make something")
            if not self.atts:
                return bool(self.refs)  # a bare description ("A cat walks on the grass") is a prompt to render
            # Words we cannot read about a file we can: when the files themselves say what to do (a mask and
            # a picture, a control map) do it; an English description is a prompt; otherwise ask about them.
            looks = {a.look for a in self.atts}
            words = re.findall(r"[a-z]+", self.cue)
            english = len(words) >= 4 and len(" ".join(words)) >= 0.6 * len(self.cue.strip())
            return not (english or ("mask" in looks and len(self.atts) >= 2) or looks & {"pose", "depth", "edge"})
        return ask > make

    def output_medium(self, has_input: bool = False) -> Media:
        s = self.scores
        vid = 2.0 * self._out_words(OUT_VIDEO, Media.VIDEO)
        img = 2.0 * self._out_words(OUT_IMAGE, Media.IMAGE)
        if self.meta.video_hint:
            vid += 3
        if s["i2v"] >= 3 and not s["not_i2v"]:
            vid += 2
        img += s["still"]
        if vid == 0 and img == 0:
            # No medium named: a prompt that tells of movement over time describes a clip. With a file
            # attached it takes more than one sign, since "a man waving" is also a picture.
            # A finite verb of motion ("a cat walks") weighs more than an adjective-like participle
            # ("flying trams").
            motion = sum(_motion_weight(self.cue, m) for m in MOTION.finditer(self.cue))
            narrative = motion + 2 * len(_SEQUENCE.findall(self.cue)) + len(_PROGRESSIVE.findall(self.cue))
            if narrative >= (3 if has_input else 2):
                vid += 1
        if _NOT_IMAGE.search(self.cue):
            vid += 4
        return Media.VIDEO if vid > img else Media.IMAGE

    def decide(self) -> Task:
        s = self.scores
        vids = [a for a in self.atts if a.media is Media.VIDEO and a.look != "mask"]
        ref_media = {m for m, _ in self.refs}
        has_video_in = bool(vids) or (not self.atts and "video" in ref_media)
        has_input = bool(self.atts or self.refs)
        if self.wants_answer():
            if self.atts:
                # Pictures may sit beside a clip in a question about it ("is this frame from this video?").
                return (
                    Task.VIDEO_UNDERSTANDING
                    if any(a.media is Media.VIDEO for a in self.atts)
                    else Task.IMAGE_UNDERSTANDING
                )
            if self.refs:
                return Task.VIDEO_UNDERSTANDING if "video" in ref_media else Task.IMAGE_UNDERSTANDING
            return Task.TEXT_UNDERSTANDING
        out = self.output_medium(has_input)
        if not has_input and s["i2v"] >= 3 and _FRAME_ROLE_WORDS.search(self.cue):
            return Task.IMAGE_TO_VIDEO  # "use my diagram as the first frame": a picture that did not come
        if not has_input or s["text_to_x"]:
            return Task.TEXT_TO_VIDEO if out is Media.VIDEO else Task.TEXT_TO_IMAGE
        control_looks = [a for a in self.atts if a.look in ("pose", "depth", "edge")]
        scribbles = [a for a in self.atts if a.look == "scribble"]
        ref_kinds = {k for _, k in self.refs}
        ctrl, edit = s["control"] + s["control_words"], s["edit"]
        masks = [a for a in self.atts if a.look == "mask" or "mask" in a.name]
        # A control map is followed unless the request clearly edits the map itself; a named signal is
        # followed unless the request is clearly an edit of the clip ("same video, same moves, restyled").
        is_control = not masks and ((ctrl >= 3.5 and ctrl >= edit) or bool(control_looks and (edit < 3 or ctrl > 0)))
        if ctrl >= 2 and edit >= 2 and abs(ctrl - edit) < 1.5:
            self.doubts.append(f"control and editing cues are close (control {ctrl:g}, edit {edit:g})")
        if scribbles and not is_control:
            is_control = ctrl >= 3 or ctrl > edit  # "turn this sketch into a ..." vs "clean up my sketch"
        if not self.atts and ref_kinds & {"pose", "depth", "edge"}:
            is_control = True
        if not self.atts and "scribble" in ref_kinds and ctrl >= edit:
            is_control = True
        if is_control:
            return (
                Task.VIDEO_CONTROL
                if has_video_in or (out is Media.VIDEO and not vids and not self.atts)
                else Task.IMAGE_CONTROL
            )
        images = [a for a in self.atts if a.media is Media.IMAGE and a.look != "mask"]
        if (
            not has_video_in
            and s["i2v"] >= 3
            and not s["not_i2v"]
            and not s["still"]
            and len(images) <= 2
            and not masks
        ):
            return Task.IMAGE_TO_VIDEO
        if has_video_in:
            return Task.VIDEO_EDITING
        if masks or "mask" in ref_kinds:
            # A mask is drawn for the medium it masks: a mask clip with no picture beside it is a video edit.
            return (
                Task.VIDEO_EDITING if not images and any(a.media is Media.VIDEO for a in masks) else Task.IMAGE_EDITING
            )
        if out is Media.VIDEO:
            return Task.VIDEO_REFERENCE
        ref = s["reference"]
        if abs(ref - edit) < 1.0 or max(ref, edit) < 1.0:
            self.doubts.append(f"a new picture of the subject, or an edit? (reference {ref:g}, edit {edit:g})")
        if ref > edit or edit < 1.5:
            return Task.IMAGE_REFERENCE  # no change asked of the file: a new picture of what it shows
        return Task.IMAGE_EDITING

    # ------------------------------------------------------------------------------------------ roles
    def rule_roles(self, task: Task) -> list[Role | None]:
        """The role the rules give each attachment in ``task`` (``None``: left out, or the task cannot
        take it); a feature of the learned role model."""
        try:
            inputs, _ = self.roles(task)
        except PlanningError:
            return [None] * len(self.atts)
        by_path = {i.path: i.role for i in inputs}
        return [by_path.get(a.path) for a in self.atts]

    def roles(self, task: Task, fixed: dict[int, Role] | None = None) -> tuple[list[Input], list[Role]]:
        atts = self.atts
        roles: list[Role | None] = [None] * len(atts)
        missing: list[Role] = []
        if task.is_understanding:
            roles = [Role.CONTEXT] * len(atts)
        elif task in (Task.IMAGE_REFERENCE, Task.VIDEO_REFERENCE):
            roles = [Role.REFERENCE] * len(atts)
            # "my dog and my parrot (second photo)" with one photo attached: a reference did not come.
            named = [
                {"second": 2, "2nd": 2, "third": 3, "3rd": 3, "other": 2}[m.group("n")]
                for m in _ORDINAL_PICTURE.finditer(self.cue)
            ]
            if atts and named and max(named) > len(atts):
                missing.append(Role.REFERENCE)
        elif task in (Task.IMAGE_CONTROL, Task.VIDEO_CONTROL):
            roles = self._control_roles(task)
        elif task is Task.IMAGE_TO_VIDEO:
            roles, missing = self._frame_roles()
        elif task in (Task.IMAGE_EDITING, Task.VIDEO_EDITING):
            roles, missing = self._edit_roles(task)
        if fixed:
            roles, missing = _with_fixed(task, roles, missing, fixed, [a.media for a in atts])
        for i, role in enumerate(roles):
            if role is not None and atts[i].media not in media_for(task, role):
                raise PlanningError(_no_part(task, atts, roles, i))
        present = {r for r in roles if r is not None}
        for role in task.required_roles:
            if role not in present and role not in missing:
                missing.append(role)
        inputs = [Input(path=a.path, media=a.media, role=r) for a, r in zip(atts, roles, strict=True) if r is not None]
        return inputs, missing

    def _control_roles(self, task: Task) -> list[Role | None]:
        want = Media.VIDEO if task is Task.VIDEO_CONTROL else Media.IMAGE
        order = sorted(
            range(len(self.atts)),
            key=lambda i: (self.atts[i].media is not want, self.atts[i].look not in _CONTROL_LOOKS, i),
        )
        roles: list[Role | None] = [Role.REFERENCE] * len(self.atts)
        if order:
            roles[order[0]] = Role.CONTROL
        return roles

    def _frame_roles(self) -> tuple[list[Role | None], list[Role]]:
        atts, n = self.atts, len(self.atts)
        votes = []
        for i, a in enumerate(atts):
            # A file named for its place ("start.png", "frame_last.jpg") says it best; then the text.
            v = (1.0 if _NAME_FIRST.search(a.stem) else 0) - (1.0 if _NAME_LAST.search(a.stem) else 0)
            votes.append(v or self._frame_vote(i))
        if n >= 2 and votes[0] == votes[1]:
            # "from a.jpg to b.jpg"
            for i, j in ((0, 1), (1, 0)):
                names = re.escape(atts[i].name), re.escape(atts[j].name)
                if re.search(rf"\bfrom\s+{names[0]}\s+(?:to|into|until)\s+{names[1]}", self.cue):
                    votes[i], votes[j] = 1.0, -1.0
        t = self.cue
        says_last = (
            re.search(
                r"\bend(?:s|ing)? (?:the video |it )?(?:on|with|at)\b|\bend on\b|\bas the (?:last|end|"
                r"final|closing)\b|\b(?:last|final|end|ending|closing) frame\b|\bfinish(?:es)? on\b",
                t,
            )
            is not None
        )
        says_first = (
            re.search(
                r"\bstart(?:s|ing)? (?:the video |it )?(?:from|with|on)\b|\bas the (?:first|start|"
                r"opening)\b|\b(?:first|start|starting|opening|initial) frame\b|\banimate\b",
                t,
            )
            is not None
        )
        says_two = (
            re.search(
                r"\bfrom (?:my |the )?first (?:\w+ )?to (?:my |the )?(?:second|last)\b|\bbetween\b|"
                r"\bkeyframes\b|\b(?:first|start) and (?:the )?(?:last|end)\b|\binterpolat\w*\b|"
                r"\bboth frames\b|\btwo (?:photos|images|pictures|frames)\b",
                t,
            )
            is not None
        )
        roles: list[Role | None] = [None] * n
        missing: list[Role] = []
        if n == 1:
            if votes[0] < 0 or (votes[0] == 0 and says_last and not says_first):
                roles[0] = Role.LAST_FRAME
            else:
                roles[0] = Role.FIRST_FRAME
            if says_two:
                missing.append(Role.LAST_FRAME if roles[0] is Role.FIRST_FRAME else Role.FIRST_FRAME)
        elif n >= 2:
            # Votes are +1 for "first", -1 for "last": the file that leans more to "first" starts the video;
            # with nothing said, attachment order decides.
            first = 1 if votes[1] > votes[0] else 0
            if votes[0] == votes[1]:
                self.doubts.append("nothing says which picture is the first frame: attachment order decides")
            roles[first], roles[1 - first] = Role.FIRST_FRAME, Role.LAST_FRAME
        else:
            missing.append(Role.LAST_FRAME if says_last and not says_first else Role.FIRST_FRAME)
            if says_two:
                missing = [Role.FIRST_FRAME, Role.LAST_FRAME]
        return roles, missing

    def _edit_roles(self, task: Task) -> tuple[list[Role | None], list[Role]]:
        atts = self.atts
        roles: list[Role | None] = [None] * len(atts)
        ordinal = self._ordinal_roles()
        mask_i: int | None = None
        for i, a in enumerate(atts):
            said = ordinal.get(i)
            is_mask = said == "mask" or (said is None and (a.look == "mask" or "mask" in a.stem))
            if mask_i is None and is_mask and a.media in media_for(task, Role.MASK):
                mask_i = i
        if mask_i is None:
            for i in range(len(atts)):
                if self._near(i, re.compile(r"\bmask\b"), reach=15) is not None and atts[i].media is Media.IMAGE:
                    mask_i = i
                    break
        want = Media.VIDEO if task is Task.VIDEO_EDITING else Media.IMAGE
        candidates = [i for i, a in enumerate(atts) if i != mask_i and a.media is want]
        source_i: int | None = None
        if candidates:

            def source_rank(i: int) -> tuple[float, int]:
                said = ordinal.get(i)
                r = 0.0
                if said in ("photo", "picture", "image", "source", "original", "video", "clip"):
                    r -= 5
                if said in ("reference", "ref", "style", "face"):
                    r += 5
                near_ref = self._near(i, _REF_WORDS, reach=20)
                if near_ref is not None and near_ref < 12:
                    r += 2
                if re.search(r"ref|style|face|logo|target", atts[i].stem):
                    r += 3
                return (r, i)

            source_i = min(candidates, key=source_rank)
            if len(candidates) > 1 and sorted(source_rank(i)[0] for i in candidates)[:2] in ([0.0, 0.0],):
                self.doubts.append("nothing says which file is the one to edit: attachment order decides")
        for i in range(len(atts)):
            roles[i] = Role.MASK if i == mask_i else Role.SOURCE if i == source_i else Role.REFERENCE
        missing: list[Role] = []
        if source_i is None:
            missing.append(Role.SOURCE)
        if mask_i is None and re.search(
            r"\b(?:my|the|this|your|a) mask\b|\bmasked (?:area|region|part)\b|"
            r"\bwhite (?:part|area|region) of\b|\binside the mask\b|\bwhere the mask\b",
            self.cue,
        ):
            missing.append(Role.MASK)
        if Role.REFERENCE not in roles and _REFERENCE_PICTURE.search(self.cue):
            missing.append(Role.REFERENCE)  # "replace my bike with the one in the reference photo I attached"
        return roles, missing

    # ------------------------------------------------------------------------------------------ output
    def control_type(self, task: Task, inputs: list[Input]) -> ControlType | None:
        control = next((i for i in inputs if i.role is Role.CONTROL), None)
        look = next((a.look for a in self.atts if control and a.path == control.path), None)
        said = [(m.start(), ct) for ct, p in _CONTROL_WORDS for m in [p.search(self.cue)] if m]
        if task is Task.IMAGE_CONTROL:
            said = [x for x in said if x[1] not in (ControlType.FLOW, ControlType.GRAY)]
        if said:
            from_look = _CONTROL_LOOKS.get(look or "")
            if from_look and any(ct is from_look for _, ct in said):
                return from_look
            return min(said, key=lambda x: x[0])[1]
        if look in _CONTROL_LOOKS:
            return _CONTROL_LOOKS[look]
        kinds = [k for _, k in self.refs]
        for kind, ct in (
            ("pose", ControlType.POSE),
            ("depth", ControlType.DEPTH),
            ("edge", ControlType.CANNY),
            ("scribble", ControlType.SCRIBBLE),
        ):
            if kind in kinds:
                return ct
        if control is None:
            return None
        # An ordinary picture or clip with no signal named: depth keeps the scene's structure and lets the
        # prompt restyle everything else.
        return ControlType.DEPTH

    def size(self, task: Task, inputs: list[Input]) -> tuple[int, int] | None:
        m = self.meta
        if m.width and m.height:
            return m.width, m.height
        orientation = m.orientation
        if m.ratio and not orientation:
            orientation = "portrait" if m.ratio[0] < m.ratio[1] else "square" if m.ratio[0] == m.ratio[1] else None
        if m.preset:
            if m.ratio and m.ratio[0] != m.ratio[1] and orientation != "square":
                long_side = max(size_for_preset(m.preset))
                short = min(size_for_preset(m.preset))
                ratio = m.ratio[0] / m.ratio[1]
                return _snap(short * ratio, short) if ratio >= 1 else _snap(short, short / ratio) if long_side else None
            return size_for_preset(m.preset, orientation or "landscape")
        if m.ratio:
            return size_for_aspect(*m.ratio)
        if orientation == "portrait":
            return size_for_aspect(9, 16)
        if orientation == "square":
            return size_for_aspect(1, 1)
        # Nothing said: an edit, a control or an animated picture keeps the shape of its input.
        anchor = next(
            (
                a
                for a in self.atts
                for i in inputs
                if i.path == a.path and i.role in (Role.SOURCE, Role.CONTROL, Role.FIRST_FRAME, Role.LAST_FRAME)
            ),
            None,
        )
        if anchor and anchor.width and anchor.height and task not in (Task.IMAGE_REFERENCE, Task.VIDEO_REFERENCE):
            r = anchor.width / anchor.height
            if 0.2 <= r <= 5:
                return size_for_aspect(anchor.width, anchor.height)
        return None

    def timing(self, task: Task, inputs: list[Input]) -> dict[str, float | int | None]:
        m = self.meta
        if task.output_media is not Media.VIDEO:
            return {}
        fps = m.fps or DEFAULT_FPS
        if m.frames:
            return {"fps": fps, "num_frames": m.frames, "duration_s": round(duration_for_frames(m.frames, fps), 4)}
        if m.seconds:
            frames = frames_for_duration(m.seconds, fps)
            if frames > LIMITS["num_frames"][1]:
                raise PlanningError(
                    f"{m.seconds:g} s at {fps} fps is {frames} frames; at most "
                    f"{int(LIMITS['num_frames'][1])} frames can be generated"
                )
            if frames < 2:
                raise PlanningError(
                    f"{m.seconds:g} s at {fps} fps is less than one frame: a video is at least 2 frames "
                    f"({duration_for_frames(2, fps):g} s at {fps} fps)"
                )
            # The seconds asked stay as duration_s: the frames are the nearest count, within half a frame of them.
            return {"fps": fps, "num_frames": frames, "duration_s": m.seconds}
        # Nothing said: an edited or controlled clip keeps its source's length, up to the default length (5 s at
        # any fps: "at 2 fps" is 11 frames, not 81).
        source = next(
            (
                a
                for a in self.atts
                for i in inputs
                if i.path == a.path and i.role in (Role.SOURCE, Role.CONTROL) and a.media is Media.VIDEO
            ),
            None,
        )
        seconds = min(source.duration_s, DEFAULT_DURATION_S) if source and source.duration_s else DEFAULT_DURATION_S
        frames = max(2, frames_for_duration(seconds, fps))
        return {"fps": fps, "num_frames": frames, "duration_s": round(duration_for_frames(frames, fps), 4)}

    def spec(self, task: Task | None = None, fixed: dict[int, Role] | None = None) -> TaskSpec:
        task = task or self.decide()
        inputs, missing = self.roles(task, fixed or {})
        if task.is_understanding:
            return TaskSpec(task=task, prompt=self.text.strip(), inputs=inputs, missing=missing)
        m = self.meta
        if m.out_of_range:
            # A setting the contract cannot hold is refused with its range, never dropped ("seed -1" planned with a
            # random seed and the words left in the prompt). A question may quote one: it returned above.
            raise PlanningError("; ".join(m.out_of_range))
        spans = [self.norm.span(a, b) for a, b in m.spans]
        fields: dict[str, object] = {
            "task": task,
            "prompt": clean_prompt(self.text, spans),
            "inputs": inputs,
            "missing": missing,
            "seed": m.seed,
            "steps": m.steps,
            "guidance_scale": m.guidance,
            "negative_prompt": m.negative_prompt,
            "num_outputs": m.num_outputs or 1,
        }
        size = self.size(task, inputs)
        if size:
            fields["width"], fields["height"] = size
        fields.update(self.timing(task, inputs))
        if task in (Task.IMAGE_CONTROL, Task.VIDEO_CONTROL):
            fields["control_type"] = self.control_type(task, inputs)
        try:
            return TaskSpec(**fields)  # type: ignore[arg-type]
        except ValidationError as e:
            raise PlanningError(
                f"cannot plan this request as {task.value}: {'; '.join(explain(e).splitlines())}"
            ) from None


_ONE_EACH = frozenset({Role.SOURCE, Role.MASK, Role.FIRST_FRAME, Role.LAST_FRAME, Role.CONTROL})
_ROLE_ORDER = (Role.SOURCE, Role.MASK, Role.CONTROL, Role.FIRST_FRAME, Role.LAST_FRAME, Role.REFERENCE, Role.CONTEXT)
_MEDIUM_WORD = {Media.IMAGE: "picture", Media.VIDEO: "video"}
# The same request for the other medium, offered when a file's medium is the only thing wrong.
_OTHER_MEDIUM_ASK = {
    Task.IMAGE_EDITING: "a video edit",
    Task.VIDEO_EDITING: "a picture edit",
    Task.IMAGE_CONTROL: "a video that follows it",
    Task.VIDEO_CONTROL: "a picture that follows it",
    Task.IMAGE_UNDERSTANDING: "a question about the video",
}


def _takes(task: Task) -> str:
    """What ``task`` takes, in words: "one source (a picture), one mask (a picture) and references (pictures)"."""
    parts = []
    for role in _ROLE_ORDER:
        if role in task.roles:
            kinds = [_MEDIUM_WORD[m] for m in Media if m in media_for(task, role)]
            if role in _ONE_EACH:
                parts.append(f"one {role.value} (a {' or '.join(kinds)})")
            else:
                parts.append(f"{role.value}s ({' or '.join(k + 's' for k in kinds)})")
    return f"{', '.join(parts[:-1])} and {parts[-1]}" if len(parts) > 1 else "".join(parts)


def _no_part(task: Task, atts: list[Attachment], roles: list[Role | None], index: int) -> str:
    """Why attachment ``index`` has no role its medium can play in ``task``, and what would work, in one line."""
    att = atts[index]
    medium = _MEDIUM_WORD[att.media]
    # Another file already plays the one role this medium could have ("clip1.mp4 is the source").
    holder = next(
        (
            (role, os.path.basename(atts[j].path))
            for j, role in enumerate(roles)
            if j != index and role in _ONE_EACH and att.media in media_for(task, role)
        ),
        None,
    )
    line = f"{os.path.basename(att.path)} is a {medium}; {task.value} takes {_takes(task)}"
    if holder:
        return f"{line}, and its {holder[0].value} is {holder[1]}: attach one {medium} per request"
    wanted = " or ".join(_MEDIUM_WORD[m] for m in Media if m is not att.media)
    other = _OTHER_MEDIUM_ASK.get(task)
    return f"{line}: attach a {wanted} instead" + (f", or ask for {other}" if other else "")


def _with_fixed(
    task: Task, roles: list[Role | None], missing: list[Role], fixed: dict[int, Role], media: list[Media]
) -> tuple[list[Role | None], list[Role]]:
    """``roles`` with ``fixed`` imposed: a rule-given role that now clashes (a second source) or that ``task``
    does not use becomes ``reference`` where the task takes references of that medium, else the attachment
    is left out."""
    out = list(roles)
    for index, role in fixed.items():
        if not 0 <= index < len(out):
            raise PlanningError(f"no attachment {index}: there are {len(out)} attachment(s)")
        out[index] = role
    taken = set(fixed.values()) & _ONE_EACH
    for i, given in enumerate(out):
        if i in fixed or given is None:
            continue
        if given not in task.roles or given in taken:
            fits = Role.REFERENCE in task.roles and media[i] in media_for(task, Role.REFERENCE)
            out[i] = Role.REFERENCE if fits else None
        elif given in _ONE_EACH:
            taken.add(given)
    present = {r for r in out if r is not None}
    return out, [r for r in missing if r not in present and r in task.roles]


def _motion_weight(text: str, m: re.Match[str]) -> float:
    """How much a verb of motion says "this moves": a finite verb ("a cat walks") or a participle after its
    subject ("a drone flying through") a lot; a participle used as an adjective ("flying trams", "a waving
    flag") little."""
    word = m.group(0)
    before = text[max(0, m.start() - 12) : m.start()]
    if word.endswith("ing"):
        adjectival = re.search(r"(?:^|\b(?:a|an|the|of|with|and|some|its|his|her|their)\s+|[,;:(]\s*)$", before)
        return 0.5 if adjectival else 2.0
    return 2.0 if word.endswith("s") and not word.endswith("ss") else 1.0


def _snap(w: float, h: float, multiple: int = 16) -> tuple[int, int]:
    return max(multiple, round(w / multiple) * multiple), max(multiple, round(h / multiple) * multiple)


def _classify_noun(noun: str, phrase: str) -> tuple[str, str]:
    n = noun.lower()
    if n.startswith("mask"):
        return "image", "mask"
    if n.startswith(("sketch", "scribble", "doodle")):
        return "image", "scribble"
    if n.startswith("depth"):
        return ("video" if "video" in n or "pass" in n else "image"), "depth"
    if n.startswith(("pose", "skeleton")):
        return ("video" if "video" in n else "image"), "pose"
    if n.startswith("edge"):
        return ("video" if "video" in n else "image"), "edge"
    if re.fullmatch(MEDIA_NOUN_VIDEO, n):
        kind = "video"
        for k in ("pose", "depth", "edge"):
            if k in phrase:
                kind = k
        return "video", kind
    return "image", "photo"
