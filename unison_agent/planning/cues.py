"""The embedded planner's cues, read from the per-language lexicons (``planning/lexicon/``).

``score(text, family)`` adds up the weights of a family's patterns that occur in normalised text (see
``text.normalise``), over every language, since a request may mix them ("把背景换成 a beach"). Chinese and
Japanese patterns are only tried on text that holds their script, which keeps the cost of six lexicons close to
that of one; a family's patterns are compiled the first time they are tried. ``OUT_VIDEO``, ``OUT_IMAGE`` and
``MOTION`` are the word lists the planner counts match by match; ``MEDIA_NOUN_IMAGE``/``MEDIA_NOUN_VIDEO`` are
alternations to use inside other patterns. ``family_cues(family)`` (and ``CUES``, all of them) gives the compiled
patterns to callers that match them themselves.
"""

from __future__ import annotations

from unison_agent.planning.lexicon import FAMILIES, load
from unison_agent.planning.patterns import LazyPattern
from unison_agent.planning.text import has_char_from

__all__ = [
    "CUES",
    "MEDIA_NOUN_IMAGE",
    "MEDIA_NOUN_VIDEO",
    "MOTION",
    "OUT_IMAGE",
    "OUT_VIDEO",
    "family_cues",
    "score",
    "word_list",
]

Cue = tuple[LazyPattern, float]

LEXICONS = load()
# Read on every text, and read only on text with CJK characters in it; each in lexicon order.
_LATIN = tuple(lex for lex in LEXICONS if lex.script != "cjk")
_CJK = tuple(lex for lex in LEXICONS if lex.script == "cjk")

# Every family's compiled patterns, all languages (see ``__getattr__``): declared here for type checkers.
CUES: dict[str, list[Cue]]

# Han ideographs, kana, and the full-width forms both scripts use.
_CJK_TEXT = LazyPattern(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff66-\uff9f]")


def family_cues(family: str, text: str | None = None) -> list[Cue]:
    """Every language's compiled patterns of ``family`` with their weights: those read on every text first.

    With ``text``, the Chinese and Japanese patterns are left out (and not compiled) when ``text`` holds no
    character from U+3000 up: none of them can match it (every one needs such a character; a test proves it).
    Raises ``KeyError`` for a family not in ``lexicon.FAMILIES``."""
    if family not in FAMILIES:
        raise KeyError(family)
    lexicons = _LATIN if text is not None and not has_char_from(text, "\u3000") else (*_LATIN, *_CJK)
    return [cue for lex in lexicons for cue in lex.patterns(family)]


def __getattr__(name: str) -> object:
    # ``CUES`` (every family's patterns, compiled) is built when someone asks for it, not at import.
    if name == "CUES":
        return {f: family_cues(f) for f in FAMILIES}
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def word_list(name: str) -> LazyPattern:
    """One pattern for the word list ``name`` of every language, so that ``finditer`` counts each word once and
    ``search`` finds the earliest (compiled on first use)."""
    return LazyPattern("|".join(f"(?:{cue.pattern})" for lex in LEXICONS for cue in lex.cues.get(name, ())))


MEDIA_NOUN_IMAGE = "|".join(lex.image_nouns for lex in LEXICONS if lex.image_nouns)
MEDIA_NOUN_VIDEO = "|".join(lex.video_nouns for lex in LEXICONS if lex.video_nouns)
# Output medium: explicit words for what is to be made.
OUT_VIDEO = word_list("out_video")
OUT_IMAGE = word_list("out_image")
# Verbs of movement: a prompt with one and no medium word most likely describes a clip.
MOTION = word_list("motion")


def score(text: str, family: str) -> float:
    """Sum of the weights of the ``family`` cues (every language) found in normalised ``text``.

    Raises ``KeyError`` for a family not in ``lexicon.FAMILIES``."""
    if family not in FAMILIES:
        raise KeyError(family)
    total = sum(w for lex in _LATIN for pattern, w in lex.patterns(family) if pattern.search(text))
    if has_char_from(text, "\u3040") and _CJK_TEXT.search(text):
        total += sum(w for lex in _CJK for pattern, w in lex.patterns(family) if pattern.search(text))
    return total
