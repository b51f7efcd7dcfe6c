"""Keys of lazily compiled patterns (``planning/patterns.py``) are necessary: every string a pattern can match holds
one of its keys, so skipping a text without any never changes a plan. Proved from the parsed pattern, not sampled."""

from __future__ import annotations

import re

import pytest

from unison_agent.planning import meta, patterns
from unison_agent.planning.cues import LEXICONS
from unison_agent.planning.patterns import LazyPattern, required_strings


def keys_hold(pattern: LazyPattern) -> bool:
    """Whether every string ``pattern`` can match contains one of its keys."""
    found = required_strings(pattern.source, pattern.flags)
    return found is not None and all(any(k in s for k in pattern.keys) for s in found)


def _keyed() -> list[tuple[str, LazyPattern]]:
    found = [(f"meta.{name}", p) for name, p in vars(meta).items() if isinstance(p, LazyPattern) and p.keys]
    found += [(f"meta.RULES[{i}] {r.lang} {r.kind}", r.pattern) for i, r in enumerate(meta.RULES) if r.pattern.keys]
    return found


@pytest.mark.parametrize(("name", "pattern"), _keyed(), ids=[name for name, _ in _keyed()])
def test_every_match_of_a_keyed_pattern_holds_one_of_its_keys(name: str, pattern: LazyPattern) -> None:
    found = required_strings(pattern.source, pattern.flags)
    assert keys_hold(pattern), f"{name}: keys {pattern.keys} are not in every match; each match holds one of {found}"


def test_every_chinese_and_japanese_cue_needs_a_character_from_u3000_up() -> None:
    # ``cues.family_cues(family, text)`` leaves these out for text without such a character.
    loose = []
    for lex in LEXICONS:
        for family, entries in lex.cues.items():
            for cue in entries if lex.script == "cjk" else ():
                found = required_strings(cue.pattern)
                if found is None or not all(any(c >= "\u3000" for c in s) for s in found):
                    loose.append(f"{lex.language} {family}: {cue.pattern[:60]!r}")
    assert not loose, "\n".join(loose)


def test_a_key_that_a_match_can_do_without_is_caught() -> None:
    assert keys_hold(LazyPattern(r"\b(?:seed|semilla)\s*\d+", keys=("seed", "semilla")))
    assert not keys_hold(LazyPattern(r"\b(?:seed|semilla)\s*\d+", keys=("seed",)))
    assert not keys_hold(LazyPattern(r"(?:seed)?\s*\d+", keys=("seed",)))
    assert not keys_hold(LazyPattern(r"seed", re.I, keys=("seed",)))
    assert keys_hold(LazyPattern(r"(\d+)\s*(?:fps|images?\s*per\s*second)", keys=("fps", "second")))


def test_a_pattern_is_not_compiled_for_text_without_its_keys() -> None:
    p = patterns.LazyPattern(r"(\d+)\s*fps", keys=("fps",))
    assert p.search("a cat, 3 seconds") is None and list(p.finditer("a cat")) == [] and p.sub("x", "a cat") == "a cat"
    assert p._compiled is None
    m = p.search("at 24 fps")
    assert m is not None and m.group(1) == "24" and p.made(m)


def test_the_shipped_cue_keys_are_the_strings_each_lexicon_pattern_needs() -> None:
    # A stale entry would skip a pattern on text it can match: run `python scripts/build_cue_keys.py`.
    from unison_agent.planning.lexicon import cue_keys

    want = {}
    for lex in LEXICONS:
        for entries in lex.cues.values():
            for cue in entries:
                found = required_strings(cue.pattern)
                if found:
                    want[cue.pattern] = tuple(sorted(found))
    assert cue_keys() == want, "planning/data/cue_keys.json is stale: run `python scripts/build_cue_keys.py`"


def test_a_lexicon_pattern_is_compiled_only_for_text_that_holds_one_of_its_keys() -> None:
    from unison_agent.planning.lexicon import Cue, Lexicon, cue_keys

    source = r"\bskeletons?\b|\bopenpose\b"
    assert cue_keys().get(source) is None  # not a shipped pattern: tried on every text, slower, never wrong
    cue_keys()[source] = ("openpose", "skeleton")
    try:
        lex = Lexicon(language="en", script="latin", cues={"signal_pose": (Cue(source, 1.0, ("a skeleton",)),)})
        ((pattern, _),) = lex.patterns("signal_pose")
        assert pattern.search("a cat in the snow") is None and pattern._compiled is None
        assert pattern.search("follow the skeleton") is not None
        assert pattern.search("skeletonise") is None  # once compiled, the pattern decides
    finally:
        del cue_keys()[source]
