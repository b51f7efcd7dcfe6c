"""The rules' reading of one request: the facts every later rule reads, found once.

A :class:`Reading` holds the request as it came (text and attachments) and what the rules see in it:

- ``norm``: the normalised text (``text.py``), and ``cue``: the same with quoted passages blanked, so that a
  prompt quoted inside a question does not count as asked;
- ``meta``: the settings the text states (sizes, seconds, seeds...) with their spans (``meta.py``);
- ``scores``: the weight of each cue family found (``cues.py``): asking vs making, editing, first frames...;
- ``refs``: the files the text talks about as inputs ("my mask", "the video I sent"), as ``(medium, kind)``,
  whether or not they were attached;
- ``mentions``: where the text names each attachment's file;
- ``doubts``: decisions later taken on weak evidence (``decide.py`` and ``roles.py`` add to it), for hybrid
  planners.

Nothing here decides: ``decide.py`` takes the task from a reading, ``roles.py`` the attachments' roles and
``settings.py`` the rest of the TaskSpec.
"""

from __future__ import annotations

import re

from unison_agent.planning.base import Attachment
from unison_agent.planning.cues import MEDIA_NOUN_IMAGE, MEDIA_NOUN_VIDEO, family_cues, score
from unison_agent.planning.lexicon import FAMILIES
from unison_agent.planning.lexicon.en import LEXICON as ENGLISH
from unison_agent.planning.meta import Meta, extract_meta
from unison_agent.planning.patterns import LazyPattern
from unison_agent.planning.text import Norm, normalise

__all__ = ["OUTPUT_SUBJECT", "Reading", "rule_words"]


def rule_words(name: str) -> LazyPattern:
    """The English word list ``name`` (one of ``lexicon.RULE_WORDS``) as one pattern, its entries tried in order
    (compiled on first use).

    Raises ``KeyError`` for a list the English lexicon does not define."""
    return LazyPattern("|".join(f"(?:{cue.pattern})" for cue in ENGLISH.cues[name]))


# "what plant is this?" with nothing attached: the question is about a picture that did not come. Read as a
# question ending on "this" whose sentence holds a question word, so that each sentence is scanned once (a
# pattern spanning both rescans the sentence from every question word: quadratic).
_DEICTIC_END = LazyPattern(r"\b(?:this|these)(?: one| thing| stuff)?(?: is| are)?\s*\?")
_QUESTION_WORD = rule_words("question_word")


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


_QUOTED = LazyPattern(r"(?<![\w])'[^'\n]{3,}?'(?![\w])|\"[^\"\n]{2,}?\"|「[^」]*」|“[^”]*”")
OUTPUT_SUBJECT = rule_words("output_subject")
_INPUT_REF = LazyPattern(
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
_SUBJECT_REF = LazyPattern(
    r"\bthis (?:exact |same )?(?:[\w-]+ )?(?P<noun>product|logo|mascot|character|person|guy|girl|boy|man|woman|"
    r"lady|kid|toy|figurine|figure|face|plush|mug|sneaker|bottle|singer|dog|cat|pet|car|item|object|outfit|"
    r"design)\b(?!\s*:)"
)
_ATTACHED_WORD = LazyPattern(
    r"\(attached\)|\battached\b|\bi (?:sent|uploaded|attached|made|took|drew|shot|"
    r"recorded|filmed)\b|\bi'm sending\b|\bi am sending\b|\bin the attachment\b"
)
# "edit this", "animate it", "bring it to life": a request that opens by changing or animating what it calls only
# "this" or "it" is about a file (``_opens_on_a_pronoun``); with none attached, that file is missing.
_OPENING = LazyPattern(r"^\W*(?:(?:please|pls|plz|kindly|just|now|can you|could you|would you)\W+)*")
_EDIT_THIS = LazyPattern(r"(?:edit|fix|retouch|touch up|change|modify|improve|enhance)\b")
_POINTING = r"\b(?:this|it|these|them)\b"
_POINTED_AT = LazyPattern(rf"\s+{_POINTING}")


def _blank_quotes(text: str) -> str:
    """``text`` with quoted passages (a prompt inside a question) replaced by spaces, same length."""
    return _QUOTED.sub(lambda m: " " * len(m.group(0)), text)


class Reading:
    """The facts of one request, read once (see the module docstring); ``doubts`` grows as rules decide."""

    def __init__(self, text: str, atts: list[Attachment]) -> None:
        self.text = text
        self.atts = atts
        self.norm: Norm = normalise(text)
        self.cue = _blank_quotes(self.norm.text)
        self.meta: Meta = extract_meta(self.norm)
        self.scores = {family: score(self.cue, family) for family in FAMILIES}
        self.refs = _input_refs(self)
        self.mentions = _mentions(self)
        self.doubts: list[str] = []  # decisions taken on weak evidence, for hybrid planners


def _input_refs(reading: Reading) -> list[tuple[str, str]]:
    """Files the text talks about as inputs, as ``(medium, kind)``: ("video", "video"), ("image", "mask")."""
    refs: list[tuple[str, str]] = []
    t = reading.cue
    for m in _INPUT_REF.finditer(t):
        noun = m.group("noun")
        after = t[m.end() : m.end() + 16]
        if m.group(0).startswith("the ") and OUTPUT_SUBJECT.match(after):
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
    if _ATTACHED_WORD.search(t) or _opens_on_a_pronoun(reading):
        refs.append(("image", "photo"))
    if not reading.atts and not refs and _deictic_question(t):
        refs.append(("image", "photo"))
    return refs


def _opens_on_a_pronoun(reading: Reading) -> bool:
    """Whether the request opens with an edit verb or an animating cue (the ``i2v`` lexicon) whose object is
    "this"/"it": "edit this", "animate it", "bring it to life", "make it move"."""
    t = reading.cue
    lead = m.end() if (m := _OPENING.match(t)) else 0
    cues: list[LazyPattern | re.Pattern[str]] = [_EDIT_THIS, *(pattern for pattern, _ in family_cues("i2v", t))]
    for cue in cues:
        found = cue.match(t, lead)
        if found and (re.search(_POINTING, found.group(0)) or _POINTED_AT.match(t, found.end())):
            return True
    return False


def _mentions(reading: Reading) -> dict[int, list[tuple[int, int]]]:
    """For each attachment index, the (start, end) spans where the text names its file."""
    out: dict[int, list[tuple[int, int]]] = {}
    t = reading.norm.text
    for i, att in enumerate(reading.atts):
        spans = _occurrences(att.name, t)
        # A bare stem counts only when it looks like a file name ("img_a", "shot2"), not a word ("watch").
        if not spans and len(att.stem) >= 3 and not att.stem.isalpha() and not att.stem.isdigit():
            spans = _occurrences(att.stem, t, whole_word=True)
        if spans:
            out[i] = spans
    return out


def _is_word_char(c: str) -> bool:
    return c.isalnum() or c == "_"  # what ``\w`` matches


def _occurrences(needle: str, text: str, whole_word: bool = False) -> list[tuple[int, int]]:
    """The non-overlapping (start, end) spans of ``needle`` in ``text``, left to right, as ``re.finditer`` of
    the escaped needle finds them (``whole_word``: not touching a letter, digit or underscore on either side).
    A file name is looked for with ``str.find``: a pattern per name would be compiled for every new file."""
    spans: list[tuple[int, int]] = []
    start = text.find(needle)
    while start >= 0:
        end = start + len(needle)
        if whole_word and (
            (start > 0 and _is_word_char(text[start - 1])) or (end < len(text) and _is_word_char(text[end]))
        ):
            start = text.find(needle, start + 1)
            continue
        spans.append((start, end))
        start = text.find(needle, end if end > start else end + 1)
    return spans


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
