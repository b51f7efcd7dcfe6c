"""What every planner shares: the :class:`Planner` protocol and :class:`Planned`, a plan with its account."""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from unison_agent.planning.embedded import check_request_length
from unison_agent.spec import TaskSpec

if TYPE_CHECKING:
    from unison_agent.planning.embedded import Attachment

__all__ = ["Planned", "Planner", "plan_detailed"]


@runtime_checkable
class Planner(Protocol):
    """Anything that turns a request and its attachments into a validated TaskSpec."""

    name: str

    def plan(self, text: str, attachments: Sequence[str | os.PathLike[str] | Attachment] = ()) -> TaskSpec:
        """Return the TaskSpec for ``text``; raise ``media.MediaError`` for an unusable attachment and
        ``PlanningError`` (a ``ValueError``) for a request the contract cannot express."""
        ...


@dataclass(frozen=True)
class Planned:
    """A plan and how it was made.

    ``planner``: what produced ``spec`` (``"embedded"``, ``"llm:openai:gpt-4o-mini"``...). ``fallback``: a
    model-backed planner could not use its model's answer (or the model failed) and the embedded planner's
    plan was used instead; ``notes`` says why, and lists every repair made to a model's answer."""

    spec: TaskSpec
    planner: str
    notes: tuple[str, ...] = ()
    fallback: bool = False
    model_calls: int = 0

    @property
    def worth_telling(self) -> bool:
        """Whether front doors should show :meth:`account` (a model planned, or there are notes)."""
        return self.planner != "embedded" or bool(self.notes) or self.fallback

    def account(self) -> list[str]:
        """``["planned by <planner>[ (fallback)]", *notes]``: what front doors show a person."""
        return [f"planned by {self.planner}{' (fallback)' if self.fallback else ''}", *self.notes]


def plan_detailed(
    planner: Planner, text: str, attachments: Sequence[str | os.PathLike[str] | Attachment] = ()
) -> Planned:
    """``planner.plan_detailed(...)`` where the planner has it, else its plain ``plan`` wrapped.

    Raises ``PlanningError`` for a request longer than ``spec.MAX_REQUEST_CHARS`` before the planner sees it
    (a model planner would spend minutes on it), and whatever the planner raises."""
    check_request_length(text)
    detailed = getattr(planner, "plan_detailed", None)
    if callable(detailed):
        result = detailed(text, attachments)
        assert isinstance(result, Planned)
        return result
    return Planned(planner.plan(text, attachments), planner.name)
