"""Which files the MCP server may read: only media files under the allowed roots, never through a symlink that
leads outside them, never larger than the size limit. Writes go only into the workspace (the artifact store).

A desktop assistant passes whatever path its model produced; every path is checked here before anything opens
it, and a refusal says what is allowed.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from unison_agent.errors import AccessError
from unison_agent.media import MediaError, probe

__all__ = ["AccessError", "FileGuard"]

DEFAULT_MAX_BYTES = 2 * 1024**3  # 2 GiB: a long 4K clip; anything bigger is not an attachment


@dataclass(frozen=True)
class FileGuard:
    roots: tuple[Path, ...]
    max_bytes: int = DEFAULT_MAX_BYTES

    @classmethod
    def create(cls, roots: list[str | os.PathLike[str]], max_bytes: int = DEFAULT_MAX_BYTES) -> FileGuard:
        return cls(tuple(Path(r).expanduser().resolve() for r in roots), max_bytes)

    def readable(self, path: str) -> Path:
        """The real path of ``path`` if the server may read it. Raises :class:`AccessError` otherwise."""
        if not path or "\x00" in path:
            raise AccessError("empty or malformed path")
        given = Path(path).expanduser()
        if not given.is_absolute():
            raise AccessError(f"{path}: give an absolute path (allowed folders: {self._roots_text()})")
        real = Path(os.path.realpath(given))  # follows every symlink, so a link out of the roots is caught
        if not any(real == root or root in real.parents for root in self.roots):
            via = f" (a link to {real})" if real != given.resolve(strict=False) or given.is_symlink() else ""
            raise AccessError(f"{path}{via} is outside the allowed folders: {self._roots_text()}")
        if not real.is_file():
            raise AccessError(f"{path}: no such file")
        size = real.stat().st_size
        if size > self.max_bytes:
            raise AccessError(f"{path}: {size / 1024**2:.2f} MiB is over the {self.max_bytes / 1024**2:.2f} MiB limit")
        try:
            probe(real)
        except MediaError as e:
            raise AccessError(str(e)) from None
        return real

    def _roots_text(self) -> str:
        return ", ".join(str(r) for r in self.roots)
