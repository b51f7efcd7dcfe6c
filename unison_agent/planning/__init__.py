"""Request -> TaskSpec.

``Planner`` is the protocol every planner meets; :class:`EmbeddedPlanner` is the default (a learned decision
model over rules and lexicons: numpy weights shipped in the package, no torch, no network).
:class:`~unison_agent.planning.llm.LLMPlanner` asks any LangChain chat model (optionally only when the embedded
planner is unsure); :class:`~unison_agent.planning.unison.UnisonPlanner` reads the signal tokens of Unison's own
planner checkpoint. ``signal_tokens`` converts between TaskSpecs and those tokens. Model-backed planners return
the same validated TaskSpec, and fall back to the embedded planner (saying so in :class:`Planned`) when their
model fails.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

from unison_agent.planning.base import Attachment, Planned, Planner, PlanningError, plan_detailed
from unison_agent.planning.embedded import EmbeddedPlanner
from unison_agent.spec import TaskSpec

__all__ = [
    "Attachment",
    "EmbeddedPlanner",
    "Planned",
    "Planner",
    "PlanningError",
    "plan",
    "plan_detailed",
    "warm_up",
]


_DEFAULT = EmbeddedPlanner()


def plan(text: str, attachments: Sequence[str | os.PathLike[str] | Attachment] = ()) -> TaskSpec:
    """Plan ``text`` with ``attachments`` (paths, or ``Attachment`` facts a caller already holds) using the
    embedded planner."""
    return _DEFAULT.plan(text, attachments)


def warm_up() -> None:
    """Do now what the first request would do: compile every rule and cue pattern and load the decision model,
    held as numpy arrays (faster a request, slower to start).

    A single ``unison plan`` is fastest without it (a request compiles only the patterns it may match); batch
    mode and long-lived servers call it so that every request costs the same."""
    from unison_agent.planning import cues
    from unison_agent.planning.learned import default_model
    from unison_agent.planning.patterns import LazyPattern

    cues.CUES  # noqa: B018 - building it compiles every language's cues
    LazyPattern.compile_all()
    default_model().vectorise()
