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
from typing import ClassVar

__all__ = ["LazyPattern"]


class LazyPattern:
    """A regular expression compiled on first use; ``search``, ``match``, ``finditer``... as ``re.Pattern``.

    Matches are those of the compiled pattern (``m.re`` is :attr:`compiled`, not this object: use
    :meth:`made` to ask which pattern made a match). Thread-safe: two threads may both compile it first, and
    either result is the same pattern."""

    __slots__ = ("_compiled", "flags", "keys", "source")
    _made: ClassVar[list[LazyPattern]] = []  # every instance, for compile_all()

    def __init__(self, source: str, flags: int = 0, keys: tuple[str, ...] = ()) -> None:
        self.source = source
        self.flags = flags
        self.keys = keys
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
        """Whether ``text`` may hold a match: it holds one of ``keys`` (or there are none)."""
        return not self.keys or any(k in text for k in self.keys)

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
