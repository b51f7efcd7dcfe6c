"""The planner's lexicons as data: per language, the words and phrases that signal each intent, each pattern
with the requests it exists for.

Every language module (``en``, ``zh``, ``es``, ``fr``, ``de``, ``ja``) defines ``LEXICON``, a :class:`Lexicon`
that maps cue families (``FAMILIES``: asking, making, editing, a first frame...) and word lists (``WORD_LISTS``:
names of the medium to make, verbs of motion) to :class:`Cue` entries. Patterns are regular expressions over
normalised text (``text.normalise``: lower case, folded punctuation). ``cues.py`` sums their weights. A pattern
is compiled the first time it is tried, and it is tried only on text that holds one of its keys: strings one of
which every match contains, read from the parsed pattern by ``scripts/build_cue_keys.py`` into
``planning/data/cue_keys.json`` (compiling every lexicon was a fifth of the planner's start-up, and searching
every pattern most of the cost of reading a request). Tests check that every example matches its own pattern and
no ``not_examples`` does, and that the keys are those the patterns need.

Word boundaries exist only where the script has them: Latin-script patterns are built with ``words()``
(``\\b...\\b``); Chinese and Japanese are written without spaces, so their patterns use ``any_of()`` and a
``\\b`` in one is refused at load (it would never match between two ideographs).
"""

from __future__ import annotations

import functools
import importlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from unison_agent.planning.patterns import LazyPattern

__all__ = [
    "CUE_KEYS_FILE",
    "FAMILIES",
    "LANGUAGES",
    "RULE_WORDS",
    "SIGNAL_WORDS",
    "WORD_LISTS",
    "Cue",
    "Lexicon",
    "LexiconError",
    "any_of",
    "cue_keys",
    "load",
    "words",
]

Script = Literal["latin", "cjk"]

# Families whose matched weights are summed into a score (``cues.score``), in the order the planner reads them.
FAMILIES: tuple[str, ...] = (
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
# Word lists whose matches the planner counts one by one (``cues.OUT_VIDEO``, ``OUT_IMAGE``, ``MOTION``); their
# weights are not used.
WORD_LISTS: tuple[str, ...] = ("out_video", "out_image", "motion")
# English word lists the rules read inside their own patterns (``reading.py``, ``decide.py``, ``roles.py``): only
# ``en`` defines them, since the rules that read them are English.
RULE_WORDS: tuple[str, ...] = (
    "sequence",
    "not_image",
    "question_word",
    "first_words",
    "last_words",
    "ref_words",
    "output_subject",
)
# Words naming a control signal ("skeleton" -> pose, "边缘" -> canny), read by ``settings.control_type`` in every
# language: ``signal_<name>`` for each ``spec.ControlType`` value the planner can read from words.
SIGNAL_WORDS: tuple[str, ...] = (
    "signal_flow",
    "signal_gray",
    "signal_layout",
    "signal_pose",
    "signal_depth",
    "signal_canny",
    "signal_scribble",
)
LANGUAGES: tuple[str, ...] = ("en", "zh", "es", "fr", "de", "ja")


class LexiconError(ValueError):
    """A lexicon that cannot be used: an unknown family, a pattern that does not compile, a word boundary in a
    script without spaces, an entry without examples."""


@dataclass(frozen=True)
class Cue:
    """One pattern of a cue family: its regular expression, how much a match weighs, and the requests it exists
    for (``examples`` must match it, ``not_examples`` must not; both are checked by the tests)."""

    pattern: str
    weight: float = 1.0
    examples: tuple[str, ...] = ()
    not_examples: tuple[str, ...] = ()


@dataclass(frozen=True)
class Lexicon:
    """One language's cues: ``cues`` maps a name of ``FAMILIES`` or ``WORD_LISTS`` to its entries;
    ``image_nouns``/``video_nouns`` are regex alternations naming a picture or a clip (used inside the
    planner's own patterns, e.g. "this photo").

    Families and entries are checked when the lexicon is made; a family's patterns are compiled when
    :meth:`patterns` first asks for them (a pattern that does not compile raises :class:`LexiconError` then)."""

    language: str
    script: Script
    cues: Mapping[str, tuple[Cue, ...]]
    image_nouns: str = ""
    video_nouns: str = ""
    _compiled: dict[str, tuple[tuple[LazyPattern, float], ...]] = field(
        init=False, repr=False, compare=False, default_factory=dict
    )

    def __post_init__(self) -> None:
        known = set(FAMILIES) | set(WORD_LISTS) | set(RULE_WORDS) | set(SIGNAL_WORDS)
        for family, entries in self.cues.items():
            if family not in known:
                raise LexiconError(
                    f"lexicon {self.language!r}: unknown family {family!r}; known: {', '.join(sorted(known))}"
                )
            for cue in entries:
                self._check(family, cue)

    def _where(self, family: str, cue: Cue) -> str:
        return f"lexicon {self.language!r}, family {family!r}, pattern {cue.pattern!r}"

    def _check(self, family: str, cue: Cue) -> None:
        if not cue.examples:
            raise LexiconError(
                f"{self._where(family, cue)}: no examples; every pattern names the requests it exists for"
            )
        if self.script == "cjk" and r"\b" in cue.pattern:
            raise LexiconError(
                f"{self._where(family, cue)}: \\b never matches inside unspaced {self.language} text; use any_of()"
            )

    def patterns(self, family: str) -> tuple[tuple[LazyPattern, float], ...]:
        """The patterns of ``family`` with their weights, in lexicon order; ``()`` for a family this lexicon
        does not define. Each is compiled when first tried on a text that holds one of its keys (see
        :attr:`compiled` to compile them all now)."""
        found = self._compiled.get(family)
        if found is None:
            keys = cue_keys()
            found = self._compiled[family] = tuple(
                (LazyPattern(cue.pattern, keys=keys.get(cue.pattern, ()), keys_once_compiled=False), cue.weight)
                for cue in self.cues.get(family, ())
            )
        return found

    @property
    def compiled(self) -> Mapping[str, tuple[tuple[LazyPattern, float], ...]]:
        """Every family's patterns with their weights, compiled now. Raises :class:`LexiconError` for a
        pattern that does not compile."""
        out = {family: self.patterns(family) for family in self.cues}
        for family, entries in out.items():
            for (pattern, _), cue in zip(entries, self.cues[family], strict=True):
                try:
                    pattern.compiled  # noqa: B018 - compiling is the point
                except re.error as e:
                    raise LexiconError(f"{self._where(family, cue)}: does not compile ({e})") from None
        return out


CUE_KEYS_FILE = Path(__file__).resolve().parents[1] / "data" / "cue_keys.json"


@functools.cache
def cue_keys() -> dict[str, tuple[str, ...]]:
    """``{pattern: keys}`` for the lexicons' patterns that have keys (``scripts/build_cue_keys.py`` writes the
    file; a pattern it does not list is tried on every text, which is slower, never wrong)."""
    try:
        raw = json.loads(CUE_KEYS_FILE.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    return {pattern: tuple(keys) for pattern, keys in raw.items()}


def words(*alternatives: str) -> str:
    """A pattern matching any of ``alternatives`` (regex fragments) as whole words: for Latin-script lexicons."""
    return r"\b(?:" + "|".join(alternatives) + r")\b"


def any_of(*alternatives: str) -> str:
    """A pattern matching any of ``alternatives`` (regex fragments) anywhere: for scripts without spaces."""
    return "(?:" + "|".join(alternatives) + ")"


def load(languages: tuple[str, ...] = LANGUAGES) -> tuple[Lexicon, ...]:
    """The ``LEXICON`` of each language module named in ``languages``, compiled.

    Raises :class:`LexiconError` for an unknown language or an unusable entry."""
    out = []
    for lang in languages:
        if lang not in LANGUAGES:
            raise LexiconError(f"unknown lexicon language {lang!r}; known: {', '.join(LANGUAGES)}")
        lexicon = importlib.import_module(f"{__name__}.{lang}").LEXICON
        if not isinstance(lexicon, Lexicon):
            raise LexiconError(f"{__name__}.{lang}.LEXICON is a {type(lexicon).__name__}, not a Lexicon")
        out.append(lexicon)
    return tuple(out)
