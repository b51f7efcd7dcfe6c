"""Text normalisation for the embedded planner: lower case, typo repair on the planner's own vocabulary,
number words, and a map back to the original characters so that spans found on the normalised text can be
cut out of the user's own words.

Only the planner's cue vocabulary is repaired ("genrate a vdeo" -> "generate a video"); content words are
never changed, and the prompt handed to a model is always cut from the original text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

__all__ = ["NUMBER_RE", "NUMBER_WORDS", "Norm", "normalise", "parse_number"]

_UNITS = {
    "zero": 0,
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
    "eleven": 11,
    "twelve": 12,
    "thirteen": 13,
    "fourteen": 14,
    "fifteen": 15,
    "sixteen": 16,
    "seventeen": 17,
    "eighteen": 18,
    "nineteen": 19,
    "a couple of": 2,
    "a pair of": 2,
    "a single": 1,
    "a": 1,
    "an": 1,
    "single": 1,
    "couple of": 2,
    "a dozen": 12,
    "dozen": 12,
}
_TENS = {"twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80, "ninety": 90}
NUMBER_WORDS = {**_UNITS, **_TENS}
_SMALL = "|".join(sorted((k for k in _UNITS if " " not in k and k not in ("a", "an", "single")), key=len, reverse=True))
_TENS_RE = "|".join(_TENS)
# A number as digits ("2.5", "1,000"), or as words ("forty-two", "twenty five", "one hundred", "two and a half").
NUMBER_RE = (
    rf"(?:\d+(?:[.,]\d+)?|(?:(?:{_SMALL}|{_TENS_RE})(?:\s+hundred)?(?:[\s-]+(?:and\s+)?(?:{_TENS_RE}))?"
    rf"(?:[\s-]+(?:{_SMALL}))?(?:\s+and\s+a\s+half)?)|a\s+half|half\s+a|a\s+couple\s+of|a\s+pair\s+of|a\s+dozen)"
)


def parse_number(text: str) -> float | None:
    """The value of a number written as digits or English words; ``None`` when it is not a number."""
    t = text.strip().lower().replace("-", " ")
    if not t:
        return None
    if re.fullmatch(r"\d+(?:\.\d+)?", t):
        return float(t)
    if re.fullmatch(r"\d+,\d+", t):  # "2,5" (decimal comma) vs "1,000": three digits after the comma is thousands
        whole, frac = t.split(",")
        return float(whole + frac) if len(frac) == 3 else float(f"{whole}.{frac}")
    if t in ("a half", "half a", "half"):
        return 0.5
    half = 0.0
    if t.endswith(" and a half"):
        t, half = t[: -len(" and a half")], 0.5
    if t in NUMBER_WORDS:
        return NUMBER_WORDS[t] + half
    total, current = 0, 0
    for word in t.split():
        if word == "and":
            continue
        if word in _UNITS:
            current += _UNITS[word]
        elif word in _TENS:
            current += _TENS[word]
        elif word == "hundred":
            current = max(current, 1) * 100
        elif word == "thousand":
            total += max(current, 1) * 1000
            current = 0
        else:
            return None
    return float(total + current) + half


# ------------------------------------------------------------------------------------------------ typo repair
# The words the planner's rules look for. A word of the request that is not one of these (and not a common
# English word it could be confused with) but is one edit away from exactly one of them is read as it.
VOCABULARY = frozenset(
    """
    generate create make produce render draw paint design animate animation animated video videos clip clips
    image images picture pictures photo photos photograph seconds second frames frame fps width height
    aspect ratio square vertical horizontal portrait landscape widescreen negative prompt guidance steps seed
    variations versions options outputs change replace remove erase delete insert colorize colourize sharpen
    blur stabilize stabilise extend outpaint inpaint reframe background foreground transform convert swap
    edit retouch restore brighten darken follow following control depth canny edges scribble sketch skeleton
    pose optical motion layout grayscale greyscale reference style identity character first last start
    ending opening closing explain describe summarize summarise translate transcribe caption identify
    compare analyze analyse question answer please attached attachment upload uploaded selfie footage
    recording mask masked interpolate keyframes keyframe between transition
    """.split()
)


def _deletes(word: str) -> set[str]:
    return {word[:i] + word[i + 1 :] for i in range(len(word))}


# One edit changes a length by at most one: a longer word is no typo of a cue word. Checking that first keeps
# repair linear in the length of a word (its deletions alone are quadratic: 40,000 letters took 1.5 GB).
_LONGEST = max(len(w) for w in VOCABULARY)

_DELETE_INDEX: dict[str, set[str]] = {}
for _w in VOCABULARY:
    for _d in _deletes(_w) | {_w}:
        _DELETE_INDEX.setdefault(_d, set()).add(_w)


def _distance_le_1(a: str, b: str) -> bool:
    """Damerau-Levenshtein distance <= 1 (one insertion, deletion, substitution or adjacent swap)."""
    if a == b:
        return True
    la, lb = len(a), len(b)
    if abs(la - lb) > 1:
        return False
    if la == lb:
        diff = [i for i in range(la) if a[i] != b[i]]
        if len(diff) == 1:
            return True
        return len(diff) == 2 and diff[1] == diff[0] + 1 and a[diff[0]] == b[diff[1]] and a[diff[1]] == b[diff[0]]
    if la > lb:
        a, b = b, a
    return any(b[:i] + b[i + 1 :] == a for i in range(len(b)))


# Real words one edit away from a cue word (a flame is not a frame, a product is not "produce"): never
# repaired. Generated from word frequencies by scripts/build_typo_guard.py.
_GUARD = frozenset(
    line.strip()
    for line in (Path(__file__).parent / "data" / "typo_guard.txt").read_text(encoding="utf-8").splitlines()
    if line.strip() and not line.startswith("#")
)


def repair(word: str) -> str:
    """``word`` itself, or the one cue word it is a one-edit typo of."""
    # The length test comes before the cache, so that long words are neither searched nor kept as cache keys.
    if not 4 <= len(word) <= _LONGEST + 1 or word in VOCABULARY or word in _GUARD or not word.isalpha():
        return word
    return _repair(word)


@lru_cache(maxsize=8192)
def _repair(word: str) -> str:
    found: set[str] = set()
    for key in _deletes(word) | {word}:
        found |= _DELETE_INDEX.get(key, set())
    found = {w for w in found if _distance_le_1(word, w) and w[0] == word[0]}
    return found.pop() if len(found) == 1 else word


@dataclass(frozen=True)
class Norm:
    """Normalised text plus, for each of its characters, the index of the original character it came from."""

    original: str
    text: str
    index: tuple[int, ...]

    def span(self, start: int, end: int) -> tuple[int, int]:
        """The original span of normalised span ``[start, end)``."""
        if start >= end:
            pos = self.index[start] if start < len(self.index) else len(self.original)
            return pos, pos
        return self.index[start], self.index[end - 1] + 1


_TOKEN = re.compile(r"[^\W\d_]+|.", re.S)
# Characters we fold so that rules see one spelling: curly quotes, dashes, full-width punctuation.
_FOLD = str.maketrans(
    {
        "’": "'",
        "‘": "'",
        "“": '"',
        "”": '"',
        "–": "-",
        "—": "-",
        "：": ":",
        "，": ",",
        "（": "(",
        "）": ")",
        "×": "x",
        "？": "?",
        "！": "!",
        "。": ".",
    }
)


def normalise(text: str) -> Norm:
    """Lower-case ``text``, fold punctuation variants and repair typos of cue words, keeping an index map."""
    out: list[str] = []
    index: list[int] = []
    for m in _TOKEN.finditer(text):
        tok, start, end = m.group(0), m.start(), m.end()
        low = tok.translate(_FOLD).lower()
        if low.isalpha() and low.isascii():
            low = repair(low)
        for i, ch in enumerate(low):
            out.append(ch)
            index.append(start + min(i, end - start - 1))
    return Norm(text, "".join(out), tuple(index))
