"""The embedded planner's cues, compiled once from the per-language lexicons (``planning/lexicon/``).

``score(text, family)`` adds up the weights of a family's patterns that occur in normalised text (see
``text.normalise``), over every language, since a request may mix them ("把背景换成 a beach"). Chinese and
Japanese patterns are only tried on text that holds their script, which keeps the cost of six lexicons close to
that of one. ``OUT_VIDEO``, ``OUT_IMAGE`` and ``MOTION`` are the word lists the planner counts match by match;
``MEDIA_NOUN_IMAGE``/``MEDIA_NOUN_VIDEO`` are alternations to use inside other patterns.
"""

from __future__ import annotations

import re

from unison_agent.planning.lexicon import FAMILIES, load

__all__ = ["CUES", "MEDIA_NOUN_IMAGE", "MEDIA_NOUN_VIDEO", "MOTION", "OUT_IMAGE", "OUT_VIDEO", "score"]

Cue = tuple[re.Pattern[str], float]

LEXICONS = load()

# Han ideographs, kana, and the full-width forms both scripts use.
_CJK_TEXT = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff66-\uff9f]")

# For each family: the cues read on every text, and those read only on text with CJK characters in it.
_ALWAYS: dict[str, list[Cue]] = {f: [] for f in FAMILIES}
_CJK_ONLY: dict[str, list[Cue]] = {f: [] for f in FAMILIES}
for _lexicon in LEXICONS:
    for _family in FAMILIES:
        (_CJK_ONLY if _lexicon.script == "cjk" else _ALWAYS)[_family].extend(_lexicon.compiled.get(_family, ()))

# Every family's cues, all languages: for callers that match patterns themselves.
CUES: dict[str, list[Cue]] = {f: _ALWAYS[f] + _CJK_ONLY[f] for f in FAMILIES}


def _alternation(word_list: str) -> re.Pattern[str]:
    """One pattern for a word list of every language, so that ``finditer`` counts each word once."""
    return re.compile("|".join(f"(?:{cue.pattern})" for lex in LEXICONS for cue in lex.cues.get(word_list, ())))


MEDIA_NOUN_IMAGE = "|".join(lex.image_nouns for lex in LEXICONS if lex.image_nouns)
MEDIA_NOUN_VIDEO = "|".join(lex.video_nouns for lex in LEXICONS if lex.video_nouns)
# Output medium: explicit words for what is to be made.
OUT_VIDEO = _alternation("out_video")
OUT_IMAGE = _alternation("out_image")
# Verbs of movement: a prompt with one and no medium word most likely describes a clip.
MOTION = _alternation("motion")


def score(text: str, family: str) -> float:
    """Sum of the weights of the ``family`` cues (every language) found in normalised ``text``.

    Raises ``KeyError`` for a family not in ``lexicon.FAMILIES``."""
    total = sum(w for pattern, w in _ALWAYS[family] if pattern.search(text))
    if _CJK_TEXT.search(text):
        total += sum(w for pattern, w in _CJK_ONLY[family] if pattern.search(text))
    return total
