"""The embedded planner: rules and lexicons and a small learned decision model, no network, no torch; about
2-4 ms a request once the attachments are probed.

How a request becomes a TaskSpec:

1. the rules read it (:class:`~unison_agent.planning.reading.Reading`): the text is normalised (``text.py``)
   and its meta settings found with their spans (``meta.py``); it is scored against the cue lexicons
   (``cues.py``: asking vs making, editing vs a new picture of the same subject, first/last frame, control
   signals) and searched for files it talks about ("my mask", "the video I sent"), so that a request that
   needs a file it did not attach is still planned, with the file listed in ``missing``; every attachment is
   probed for what it *is* (``media.probe``: image or video, mask, pose, depth...);
2. the task and each attachment's role are decided: by the learned model (``learned.py``, the default), which
   reads the rules' reading among its features, or by the rules alone (``decision="rules"``: the task from
   the scores *and* the attachments, ``decide.py``; each role from what the text says about a file, by file
   name, by "first/second", by "the mask", then from what it looks like, and only last from its position,
   ``roles.py``);
3. the rules do the rest (``roles.py``, ``settings.py``): the inputs still missing, sizes and lengths by the
   contract (``spec.py``), seed, steps and other settings, the control signal, and the prompt, which is the
   request minus its meta.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from functools import partial
from typing import TYPE_CHECKING

from unison_agent.planning.base import Attachment, PlanningError, check_request_length, probed
from unison_agent.planning.reading import Reading
from unison_agent.planning.roles import no_part, rule_roles
from unison_agent.planning.settings import task_spec
from unison_agent.spec import Role, Task, TaskSpec

if TYPE_CHECKING:
    from unison_agent.planning.learned import DecisionModel

# Attachment and PlanningError are defined in ``base.py``; they stay importable from here for callers that
# import them with the planner.
__all__ = ["Attachment", "EmbeddedPlanner", "PlanningError", "check_request_length"]


class EmbeddedPlanner:
    """Plan requests offline in about a millisecond. Thread-safe and stateless: one instance serves every call.

    ``decision="learned"`` (the default): the learned model (:mod:`~unison_agent.planning.learned`) decides
    the task and the attachments' roles, with the rules' reading among its features; the rules do the rest
    (missing files, sizes, timing, settings, prompt). ``decision="rules"``: the rules decide everything, as
    before the model (for comparison, and as the model's own feature). ``model``: a decision model other than
    the shipped one (``DecisionModel.load(folder)``; the benchmark's writer-held-out model)."""

    name = "embedded"

    def __init__(self, decision: str = "learned", model: DecisionModel | None = None) -> None:
        if decision not in ("learned", "rules"):
            raise ValueError(f"decision must be 'learned' or 'rules', not {decision!r}")
        self.decision = decision
        self.model = model

    def plan(self, text: str, attachments: Sequence[str | os.PathLike[str] | Attachment] = ()) -> TaskSpec:
        """Return the TaskSpec for ``text`` with ``attachments`` (paths, probed here, or ``Attachment``s).

        Raises ``media.MediaError`` for an attachment that is missing or not an image or video, and
        :class:`PlanningError` for a request the contract cannot express or one longer than
        ``spec.MAX_REQUEST_CHARS``.
        """
        return self.assess(text, attachments)[0]

    def assess(
        self, text: str, attachments: Sequence[str | os.PathLike[str] | Attachment] = ()
    ) -> tuple[TaskSpec, list[str]]:
        """Plan ``text`` and say where the plan rests on weak evidence: ``(spec, doubts)``.

        A doubt is a short sentence ("the task is uncertain: image_editing (0.55) or image_reference (0.40)");
        an empty list means every decision was clear. Hybrid planners ask a model only when there is a doubt.
        Raises like :meth:`plan`.
        """
        check_request_length(text)
        req = Reading(text, probed(attachments))
        if self.decision == "rules":
            spec = task_spec(req)
            return spec, list(dict.fromkeys(req.doubts))
        from unison_agent.planning.learned import default_model  # numpy: only once there is a request

        decision = (self.model or default_model()).decide(text, req.atts, req, partial(rule_roles, req))
        req.doubts = []  # the rules' own doubts were about a decision the model has taken over
        spec = task_spec(req, decision.task, decision.roles)
        placed = {i.path for i in spec.inputs}
        for index, att in enumerate(req.atts):
            if att.path not in placed:  # every attachment has a part, or the person is told which has none
                roles = [next((i.role for i in spec.inputs if i.path == a.path), None) for a in req.atts]
                raise PlanningError(no_part(spec.task, req.atts, roles, index))
        return spec, list(dict.fromkeys([*decision.doubts(), *req.doubts]))

    def complete(
        self,
        text: str,
        attachments: Sequence[str | os.PathLike[str] | Attachment],
        task: Task,
        roles: Mapping[int, Role] | None = None,
    ) -> TaskSpec:
        """Plan ``text`` as ``task``, with the roles of some attachments fixed (``{index: role}``); the rules
        decide everything else (other roles, missing, prompt, sizes, timing, settings, control type).

        Model-backed planners use it to fill what their model did not say. An attachment whose rule-given role
        clashes with a fixed one (a second source) or is not used by ``task`` plays ``reference`` where
        ``task`` takes references, and is left out otherwise. Raises :class:`PlanningError` when the result
        is not a valid TaskSpec, or the request is longer than ``spec.MAX_REQUEST_CHARS``."""
        check_request_length(text)
        return task_spec(Reading(text, probed(attachments)), task, dict(roles or {}))
