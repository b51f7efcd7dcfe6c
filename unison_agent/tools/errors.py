"""What can go wrong when a spec is run: the :class:`ToolError` family of :mod:`unison_agent.errors`.

Every front door (CLI, graph, MCP server) catches :class:`~unison_agent.errors.UnisonError` and shows its message;
anything else is a bug. :class:`RunCancelled` is separate: it is not a failure, and front doors report it as a
cancellation. Kept so that ``from unison_agent.tools.errors import ...`` goes on working.
"""

from __future__ import annotations

from unison_agent.errors import (
    InputError,
    MissingDependencyError,
    ModelUnavailableError,
    ProfileError,
    RunCancelled,
    ToolError,
    UnreadableInputError,
)

__all__ = [
    "InputError",
    "MissingDependencyError",
    "ModelUnavailableError",
    "ProfileError",
    "RunCancelled",
    "ToolError",
    "UnreadableInputError",
]
