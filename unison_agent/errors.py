"""Every error unison-agent raises for a person to read: one base class, :class:`UnisonError`.

Front doors (CLI, graph, LangChain tools, MCP server) catch :class:`UnisonError` and show its message, one line
that says what is wrong and, where it can, what is allowed or how to fix it. Anything else that escapes is a
bug and is reported as one, never dressed as a user's mistake. :class:`RunCancelled` stands apart: a cancelled
run is not a failure, and front doors report it as a cancellation.

    UnisonError
    ├── PlanningError        a request the planning contract cannot express, a bad --planner value
    ├── MediaError           an attachment that cannot be used (missing, corrupt, unsupported kind)
    ├── SessionError         a session, step, artifact or script that does not exist or cannot be read
    ├── AccessError          a path a server will not read (outside its roots, too big)
    └── ToolError            a run that could not be done
        ├── InputError           an attachment unusable as the spec asks
        │   └── UnreadableInputError
        ├── ProfileError         a profile that is unknown or names what does not exist
        ├── ModelUnavailableError
        ├── DeviceMemoryError
        ├── MissingDependencyError
        └── ExecutorError    the cluster a run was sent to cannot be reached, or failed under it

The planning, media, session and access errors are also ``ValueError`` s, as they were before this base
existed, so code written against those keeps working. This module imports nothing of ours.
"""

from __future__ import annotations

import os

__all__ = [
    "AccessError",
    "DeviceMemoryError",
    "ExecutorError",
    "InputError",
    "MediaError",
    "MissingDependencyError",
    "ModelUnavailableError",
    "PlanningError",
    "ProfileError",
    "RunCancelled",
    "SessionError",
    "ToolError",
    "UnisonError",
    "UnreadableInputError",
    "one_line",
]


class UnisonError(Exception):
    """Something a person can act on went wrong; ``str(err)`` is one line saying what and, where it can, how to
    fix it."""


class PlanningError(UnisonError, ValueError):
    """A request the contract cannot express (two source videos for one edit, 90 s of video...) or a planner
    that cannot be had: the message says what is wrong and what would work."""


class MediaError(UnisonError, ValueError):
    """A file that cannot be used as an attachment.

    ``str(err)`` is one line that names the file and says what is wrong (missing, empty, corrupt,
    unsupported kind; for an unsupported kind it lists the accepted ones). ``path`` is the path as given.
    """

    def __init__(self, path: str, problem: str) -> None:
        self.path = path
        self.problem = problem
        name = os.path.basename(path.rstrip("/\\")) or path
        super().__init__(" ".join(f"{name}: {problem}".split()))  # one line, whatever the cause said


class SessionError(UnisonError, ValueError):
    """A session, step, artifact or script that does not exist, or a file that cannot be stored."""


class AccessError(UnisonError, ValueError):
    """A path a server will not read; the message says why and what is allowed."""


class ToolError(UnisonError):
    """A run could not be done; the message says why and, where it can, how to fix it."""


class InputError(ToolError):
    """An attachment cannot be used as the spec asks (unreadable, wrong kind, mask and video lengths differ...)."""


class UnreadableInputError(InputError):
    """An attachment cannot be read (gone, corrupt, truncated), found only when the run decodes it: the fault the
    planner reports as :class:`unison_agent.media.MediaError`, so front doors answer both alike (CLI: exit 2)."""


class ProfileError(ToolError):
    """A profile is unknown, unreadable or names something that does not exist."""


class ModelUnavailableError(ToolError):
    """A model could not be loaded (offline hub, wrong path, no extractor configured)."""


class DeviceMemoryError(ToolError):
    """The device ran out of memory during a run. ``stage``: ``denoise`` or ``decode``, where it happened."""

    def __init__(self, message: str, *, stage: str = "denoise") -> None:
        super().__init__(message)
        self.stage = stage


class MissingDependencyError(ToolError):
    """A backend needs an optional package that is not installed; the message names the ``pip install``."""


class ExecutorError(ToolError):
    """The executor could not run it: the Ray cluster cannot be reached, a deployment did not come up, or the
    replica running it died mid-run. Nothing was written; the message says what to do (often: run it again)."""


class RunCancelled(Exception):
    """The run was cancelled (by a cancel event, a client's cancellation or Ctrl-C); nothing it was writing is
    left behind. Not a :class:`UnisonError`: a cancellation is not a failure."""


def one_line(text_or_error: str | BaseException, limit: int | None = None) -> str:
    """``text_or_error`` (an error: its message) as one line: every run of whitespace, newlines included, becomes
    one space. With ``limit``, a longer line is cut to ``limit`` characters, the last one an ellipsis (…).

    Raises ``ValueError`` for a ``limit`` below 1."""
    if limit is not None and limit < 1:
        raise ValueError(f"limit must be >= 1 (or None for no limit), got {limit}")
    line = " ".join(str(text_or_error).split())
    if limit is None or len(line) <= limit:
        return line
    return line[: limit - 1] + "…"
