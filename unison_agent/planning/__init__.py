"""Request -> TaskSpec.

``Planner`` is the protocol every planner meets; :class:`EmbeddedPlanner` is the default (rules and
lexicons, no weights, no torch). ``signal_tokens`` converts between TaskSpecs and Unison's signal tokens.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Protocol, runtime_checkable

from unison_agent.planning.embedded import Attachment, EmbeddedPlanner, PlanningError
from unison_agent.spec import TaskSpec

__all__ = ["Attachment", "EmbeddedPlanner", "Planner", "PlanningError", "plan"]


@runtime_checkable
class Planner(Protocol):
    """Anything that turns a request and its attachments into a validated TaskSpec."""

    name: str

    def plan(self, text: str, attachments: Sequence[str | os.PathLike[str]] = ()) -> TaskSpec:
        """Return the TaskSpec for ``text``; raise ``media.MediaError`` for an unusable attachment."""
        ...


_DEFAULT = EmbeddedPlanner()


def plan(text: str, attachments: Sequence[str | os.PathLike[str] | Attachment] = ()) -> TaskSpec:
    """Plan ``text`` with ``attachments`` (paths, or ``Attachment`` facts a caller already holds) using the
    embedded planner."""
    return _DEFAULT.plan(text, attachments)
