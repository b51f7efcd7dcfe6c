"""Regular expressions that are compiled when first used, and tried only on text that holds one of their keys.

Compiling the planner's patterns was most of its start-up: a character class of CJK ranges alone takes 1-3 ms to
compile each time a pattern holds one (the boundaries of the Latin-script rules hold two), and a request in one
language never needs most of the other languages' patterns. A :class:`LazyPattern` is compiled on its first use
and then kept; with ``keys``, a text that holds none of them is answered "no match" without compiling or
searching.

``keys`` must be *necessary*: every string the pattern can match contains at least one of them, so skipping a
text without any changes no result. ``tests/planning/test_pattern_keys.py`` proves this for every pattern that
has keys, from the parsed pattern.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable, Iterator
from typing import Any, ClassVar

if sys.version_info >= (3, 11):
    from re import _constants as sre_c
    from re import _parser as sre_parse
else:  # pragma: no cover - Python 3.10
    import sre_constants as sre_c
    import sre_parse

__all__ = ["LazyPattern", "required_strings"]


class LazyPattern:
    """A regular expression compiled on first use; ``search``, ``match``, ``finditer``... as ``re.Pattern``.

    Matches are those of the compiled pattern (``m.re`` is :attr:`compiled`, not this object: use
    :meth:`made` to ask which pattern made a match). Thread-safe: two threads may both compile it first, and
    either result is the same pattern."""

    __slots__ = ("_compiled", "flags", "keys", "keys_once_compiled", "source")
    _made: ClassVar[list[LazyPattern]] = []  # every instance, for compile_all()

    def __init__(
        self, source: str, flags: int = 0, keys: tuple[str, ...] = (), *, keys_once_compiled: bool = True
    ) -> None:
        self.source = source
        self.flags = flags
        self.keys = keys
        # False: the keys only spare compiling; once compiled, the pattern is searched directly (for patterns
        # with many keys, where checking each is slower than one search).
        self.keys_once_compiled = keys_once_compiled
        self._compiled: re.Pattern[str] | None = None
        LazyPattern._made.append(self)

    @classmethod
    def compile_all(cls) -> int:
        """Compile every lazy pattern made so far (for a process that plans many requests and would rather pay
        once, up front); returns how many there are."""
        for p in cls._made:
            p.compiled  # noqa: B018 - compiling is the point
        return len(cls._made)

    def __repr__(self) -> str:
        return f"lazy({self.source[:60]!r}{', keys=' + repr(self.keys) if self.keys else ''})"

    @property
    def compiled(self) -> re.Pattern[str]:
        """The compiled pattern (compiled now if it has not been). Raises ``re.error`` for an invalid one."""
        if self._compiled is None:
            self._compiled = re.compile(self.source, self.flags)
        return self._compiled

    @property
    def pattern(self) -> str:
        return self.source

    @property
    def groupindex(self) -> dict[str, int]:
        return dict(self.compiled.groupindex)

    def possible(self, text: str) -> bool:
        """Whether ``text`` may hold a match: it holds one of ``keys`` (or there are none, or they are not
        checked once compiled and it is)."""
        if not self.keys or (self._compiled is not None and not self.keys_once_compiled):
            return True
        return any(k in text for k in self.keys)

    def made(self, m: re.Match[str]) -> bool:
        """Whether this pattern found ``m``."""
        return self._compiled is not None and m.re is self._compiled

    def search(self, text: str, pos: int = 0, endpos: int = sys.maxsize) -> re.Match[str] | None:
        return self.compiled.search(text, pos, endpos) if self.possible(text) else None

    def match(self, text: str, pos: int = 0, endpos: int = sys.maxsize) -> re.Match[str] | None:
        return self.compiled.match(text, pos, endpos) if self.possible(text) else None

    def fullmatch(self, text: str, pos: int = 0, endpos: int = sys.maxsize) -> re.Match[str] | None:
        return self.compiled.fullmatch(text, pos, endpos) if self.possible(text) else None

    def finditer(self, text: str, pos: int = 0, endpos: int = sys.maxsize) -> Iterator[re.Match[str]]:
        return self.compiled.finditer(text, pos, endpos) if self.possible(text) else iter(())

    def findall(self, text: str, pos: int = 0, endpos: int = sys.maxsize) -> list[object]:
        return self.compiled.findall(text, pos, endpos) if self.possible(text) else []

    def sub(self, repl: str | Callable[[re.Match[str]], str], text: str, count: int = 0) -> str:
        return self.compiled.sub(repl, text, count) if self.possible(text) else text


_REPEATS = {sre_c.MAX_REPEAT, sre_c.MIN_REPEAT, getattr(sre_c, "POSSESSIVE_REPEAT", sre_c.MAX_REPEAT)}


def _chars(av: Any) -> set[str] | None:
    """The characters a class matches, when it is a short positive list of them."""
    out: set[str] = set()
    for op, arg in av:
        if op is sre_c.LITERAL:
            out.add(chr(arg))
        elif op is sre_c.RANGE and arg[1] - arg[0] < 8:
            out.update(chr(c) for c in range(arg[0], arg[1] + 1))
        else:
            return None
    return out


def _best(options: list[frozenset[str]]) -> frozenset[str] | None:
    # Any one item of a sequence is in every match: take the one whose strings are longest, then the fewest.
    return max(options, key=lambda s: (min(map(len, s)), -len(s)), default=None)


def _exact(op: Any, av: Any) -> frozenset[str] | None:
    """The few whole strings one item can match (a literal, a short class, a group or branch of such), else None."""
    if op is sre_c.LITERAL:
        return frozenset({chr(av)})
    if op is sre_c.IN:
        chars = _chars(av)
        return frozenset(chars) if chars else None
    if op is sre_c.SUBPATTERN and not av[1] & sre_c.SRE_FLAG_IGNORECASE:
        return _exact_seq(av[3])
    if op is sre_c.BRANCH:
        alts = [_exact_seq(alt) for alt in av[1]]
        return None if any(a is None for a in alts) else frozenset().union(*(a for a in alts if a is not None))
    return None


def _exact_seq(seq: Any) -> frozenset[str] | None:
    out = frozenset({""})
    for op, av in seq.data if hasattr(seq, "data") else seq:
        one = _exact(op, av)
        if one is None or len(out) * len(one) > 64:
            return None
        out = frozenset(a + b for a in out for b in one)
    return out


def _needed(seq: Any) -> frozenset[str] | None:
    """Strings one of which every match of the parsed sequence ``seq`` contains, or None when no such set is
    known (a match may be any text, or the empty string). Runs of items that match a few whole strings are
    joined ("f" then "ps|rame" is "fps" or "frame"); of the rest, any one item is in every match."""
    options: list[frozenset[str]] = []
    run = frozenset({""})
    for op, av in seq.data if hasattr(seq, "data") else seq:
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
            found = None if add_flags & sre_c.SRE_FLAG_IGNORECASE else _needed(sub)
        elif op is getattr(sre_c, "ATOMIC_GROUP", None):
            found = _needed(av)
        elif op is sre_c.BRANCH:
            alts = [_needed(alt) for alt in av[1]]
            found = None if any(a is None for a in alts) else frozenset().union(*(a for a in alts if a is not None))
        elif op in _REPEATS and av[0] >= 1:
            found = _needed(av[2])
        if found and one is None:
            options.append(found)
    if run != {""}:
        options.append(run)
    return _best([o for o in options if "" not in o])


def required_strings(source: str, flags: int = 0) -> frozenset[str] | None:
    """Strings one of which every match of the pattern ``source`` contains (keys a :class:`LazyPattern` may be
    given), or ``None`` when none are known: the pattern may match any text or the empty string, or it ignores
    case. Read from the pattern as ``re`` parses it, so the answer is a proof, not a sample: for
    ``\\b(?:seed|semilla)\\s*\\d+`` it is ``{"seed", "semilla"}``."""
    parsed = sre_parse.parse(source, flags)
    if parsed.state.flags & re.IGNORECASE:
        return None
    return _needed(parsed)
