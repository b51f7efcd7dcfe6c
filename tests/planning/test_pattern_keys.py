"""Keys of lazily compiled patterns (``planning/patterns.py``) are necessary: every string a pattern can match holds
one of its keys, so skipping a text without any never changes a plan. Proved from the parsed pattern, not sampled."""

from __future__ import annotations

import re

import pytest

try:  # Python >= 3.11
    from re import _constants as sre_c
    from re import _parser as sre_parse
except ImportError:  # pragma: no cover - Python 3.10
    import sre_constants as sre_c  # type: ignore[no-redef]
    import sre_parse  # type: ignore[no-redef]

from unison_agent.planning import meta, patterns
from unison_agent.planning.cues import LEXICONS
from unison_agent.planning.patterns import LazyPattern

_REPEATS = {sre_c.MAX_REPEAT, sre_c.MIN_REPEAT, getattr(sre_c, "POSSESSIVE_REPEAT", sre_c.MAX_REPEAT)}


def _chars(av: list[tuple[object, object]]) -> set[str] | None:
    """The characters a class matches, when it is a short positive list of them."""
    out: set[str] = set()
    for op, arg in av:
        if op is sre_c.LITERAL:
            out.add(chr(arg))  # type: ignore[arg-type]
        elif op is sre_c.RANGE and arg[1] - arg[0] < 8:  # type: ignore[index,operator]
            out.update(chr(c) for c in range(arg[0], arg[1] + 1))  # type: ignore[index,operator]
        else:
            return None
    return out


def _best(options: list[frozenset[str]]) -> frozenset[str] | None:
    # Any one item of a sequence is in every match: take the one whose strings are longest, then the fewest.
    return max(options, key=lambda s: (min(map(len, s)), -len(s)), default=None)


def _exact(op: object, av: object) -> frozenset[str] | None:
    """The few whole strings one item can match (a literal, a short class, a group or branch of such), else None."""
    if op is sre_c.LITERAL:
        return frozenset({chr(av)})  # type: ignore[arg-type]
    if op is sre_c.IN:
        chars = _chars(av)  # type: ignore[arg-type]
        return frozenset(chars) if chars else None
    if op is sre_c.SUBPATTERN and not av[1] & sre_c.SRE_FLAG_IGNORECASE:  # type: ignore[index]
        return _exact_seq(av[3])  # type: ignore[index]
    if op is sre_c.BRANCH:
        alts = [_exact_seq(alt) for alt in av[1]]  # type: ignore[index]
        return None if any(a is None for a in alts) else frozenset().union(*alts)  # type: ignore[arg-type]
    return None


def _exact_seq(seq: object) -> frozenset[str] | None:
    out = frozenset({""})
    for op, av in seq.data if hasattr(seq, "data") else seq:  # type: ignore[attr-defined]
        one = _exact(op, av)
        if one is None or len(out) * len(one) > 64:
            return None
        out = frozenset(a + b for a in out for b in one)
    return out


def needed(seq: object) -> frozenset[str] | None:
    """Strings one of which every match of the parsed sequence ``seq`` contains, or None when no such set is
    known (a match may be any text, or the empty string). Runs of items that match a few whole strings are
    joined ("f" then "ps|rame" is "fps" or "frame"); of the rest, any one item is in every match."""
    options: list[frozenset[str]] = []
    run = frozenset({""})
    for op, av in seq.data if hasattr(seq, "data") else seq:  # type: ignore[attr-defined]
        one = _exact(op, av)
        if one is not None and len(run) * len(one) <= 64:
            run = frozenset(a + b for a in run for b in one)
            continue
        if run != {""}:
            options.append(run)
        run = one if one is not None else frozenset({""})
        found: frozenset[str] | None = None
        if op is sre_c.SUBPATTERN:
            _group, add_flags, _del_flags, sub = av
            found = None if add_flags & sre_c.SRE_FLAG_IGNORECASE else needed(sub)
        elif op is getattr(sre_c, "ATOMIC_GROUP", None):
            found = needed(av)
        elif op is sre_c.BRANCH:
            alts = [needed(alt) for alt in av[1]]
            found = None if any(a is None for a in alts) else frozenset().union(*alts)  # type: ignore[arg-type]
        elif op in _REPEATS and av[0] >= 1:
            found = needed(av[2])
        if found and one is None:
            options.append(found)
    if run != {""}:
        options.append(run)
    return _best([o for o in options if "" not in o])


def keys_hold(pattern: LazyPattern) -> bool:
    """Whether every string ``pattern`` can match contains one of its keys."""
    parsed = sre_parse.parse(pattern.source, pattern.flags)
    if parsed.state.flags & re.IGNORECASE:
        return False
    found = needed(parsed)
    return found is not None and all(any(k in s for k in pattern.keys) for s in found)


def _keyed() -> list[tuple[str, LazyPattern]]:
    found = [(f"meta.{name}", p) for name, p in vars(meta).items() if isinstance(p, LazyPattern) and p.keys]
    found += [(f"meta.RULES[{i}] {r.lang} {r.kind}", r.pattern) for i, r in enumerate(meta.RULES) if r.pattern.keys]
    return found


@pytest.mark.parametrize(("name", "pattern"), _keyed(), ids=[name for name, _ in _keyed()])
def test_every_match_of_a_keyed_pattern_holds_one_of_its_keys(name: str, pattern: LazyPattern) -> None:
    found = needed(sre_parse.parse(pattern.source, pattern.flags))
    assert keys_hold(pattern), f"{name}: keys {pattern.keys} are not in every match; each match holds one of {found}"


def test_every_chinese_and_japanese_cue_needs_a_character_from_u3000_up() -> None:
    # ``cues.family_cues(family, text)`` leaves these out for text without such a character.
    loose = []
    for lex in LEXICONS:
        for family, entries in lex.cues.items():
            for cue in entries if lex.script == "cjk" else ():
                found = needed(sre_parse.parse(cue.pattern))
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
