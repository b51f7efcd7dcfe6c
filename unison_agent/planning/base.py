"""What every planner shares: :class:`Attachment` (a file as planners see it), :class:`PlanningError`,
:func:`check_request_length`, the :class:`Planner` protocol and :class:`Planned`, a plan with its account.

It imports nothing else of the planning package, so that every planner (and ``cases.py``) can import it."""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, runtime_checkable

from unison_agent.errors import PlanningError
from unison_agent.spec import MAX_REQUEST_CHARS, Media, TaskSpec

__all__ = ["Attachment", "Planned", "Planner", "PlanningError", "check_request_length", "plan_detailed", "probed"]


def check_request_length(text: str) -> None:
    """Raise :class:`PlanningError` when ``text`` is longer than ``spec.MAX_REQUEST_CHARS``; return nothing.

    Every planning entry point calls it before any other work, so that no planner's time or memory depends on
    how much text a caller sends."""
    if len(text) > MAX_REQUEST_CHARS:
        raise PlanningError(f"the request is {len(text):,} characters; the limit is {MAX_REQUEST_CHARS:,}: shorten it")


@dataclass(frozen=True)
class Attachment:
    """An attachment as the planner sees it: its path and the facts probed from its content.

    It carries the same facts as ``media.MediaInfo`` but lives here so that planning a text-only request
    never imports numpy, Pillow or PyAV (start-up time); ``Attachment.probe`` fills it from ``media.probe``,
    and callers that already know the facts (a session's artifact store) can build one without a file."""

    path: str
    media: Media
    look: str  # media.Look value: photo, mask, pose, depth, edge, scribble
    width: int = 0
    height: int = 0
    num_frames: int = 1
    fps: float | None = None
    duration_s: float | None = None

    @property
    def name(self) -> str:
        return os.path.basename(self.path).lower()

    @property
    def stem(self) -> str:
        return Path(self.name).stem

    @classmethod
    def probe(cls, path: str | os.PathLike[str]) -> Attachment:
        """Probe ``path`` (raises ``media.MediaError`` for a file that is not usable media)."""
        from unison_agent.media import probe  # numpy/PIL/PyAV only when there is something to look at

        info = probe(path)
        return cls(
            str(path), info.media, info.look.value, info.width, info.height, info.num_frames, info.fps, info.duration_s
        )


def probed(attachments: Sequence[str | os.PathLike[str] | Attachment]) -> list[Attachment]:
    """``attachments`` as :class:`Attachment` facts: paths are probed, ``Attachment``s kept as they are.

    Raises ``media.MediaError`` for a path that is missing or not an image or video."""
    return [a if isinstance(a, Attachment) else Attachment.probe(a) for a in attachments]


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
