"""What can go wrong when a spec is run, as exceptions whose message is one line a person can act on.

Every front door (CLI, graph, MCP server) catches :class:`ToolError` and shows its message; anything else is a
bug. :class:`RunCancelled` is separate: it is not a failure, and front doors report it as a cancellation.
"""

from __future__ import annotations

__all__ = [
    "InputError",
    "MissingDependencyError",
    "ModelUnavailableError",
    "ProfileError",
    "RunCancelled",
    "ToolError",
    "UnreadableInputError",
]


class ToolError(Exception):
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


class MissingDependencyError(ToolError):
    """A backend needs an optional package that is not installed; the message names the ``pip install``."""


class RunCancelled(Exception):
    """The run was cancelled (by a cancel event or Ctrl-C); nothing it was writing is left behind."""
