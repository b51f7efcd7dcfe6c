"""Plan with Unison's own stage-one model: :class:`UnisonPlanner`.

Unison's planner (the LoRA of ali-vilab/Unison merged into Qwen2.5-VL-3B-Instruct) reads the request with each
attachment replaced by a placeholder (``<IMGPAD>`` / ``<VIDPAD>``) and writes signal tokens
(``signal_tokens.py`` documents them): the task, and for some tasks the size, the frame count and which
attachment plays which part. It writes no prompt, fps, seed, control type or role for the other attachments, so
this planner takes from the model what it says and asks the embedded planner's rules
(:meth:`EmbeddedPlanner.complete`) for the rest:

1. :func:`render` writes the request in Unison's format and remembers which attachment each placeholder is;
2. the model is called once (``generate``: any ``str -> str`` callable, e.g.
   ``tools.backends.unison_lm.UnisonGenerator``; this module never imports torch);
3. its output is parsed with the codec; a malformed part (a payload that is not numbers, an index past the
   attachments, ``<CTRL>`` with several attachments) is dropped with a note and left to the rules, while an
   output that names no task or contradicts itself is not used at all;
4. the rules complete the plan for the model's task with the model's roles fixed, then the model's size
   (``RES``) and frame count (``NF``) replace the rules' ones (duration recomputed at the plan's fps).

When the model raises, returns nothing, or its answer cannot be made a valid plan, the embedded planner's own
plan is used and :class:`~unison_agent.planning.base.Planned` says so (``fallback=True`` with the reason).
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Sequence
from dataclasses import replace

from pydantic import ValidationError

from unison_agent.errors import one_line
from unison_agent.planning.base import Attachment, Planned, PlanningError, check_request_length
from unison_agent.planning.base import probed as _probed
from unison_agent.planning.embedded import EmbeddedPlanner
from unison_agent.planning.signal_tokens import (
    BOEDIT,
    BOFIDX,
    BONF,
    BORES,
    CFI,
    CFV,
    EOEDIT,
    EOFIDX,
    EONF,
    EORES,
    IMGPAD,
    PAD_TOKENS,
    SIGNAL_TOKENS,
    SPECIAL_TOKENS,
    VIDPAD,
    SignalTokenError,
    SignalTokens,
    parse,
)
from unison_agent.spec import Media, Role, Task, TaskSpec, duration_for_frames, explain

__all__ = ["UnisonPlanner", "render"]

AttachmentArg = str | os.PathLike[str] | Attachment

_MARKER = re.compile(r"###(.+?)###")
_SPECIAL_RE = re.compile("|".join(re.escape(t) for t in SPECIAL_TOKENS))
_CHAT_MARKERS = ("<|im_end|>", "<|endoftext|>")
_PAIRS = {BORES: EORES, BONF: EONF, BOFIDX: EOFIDX, BOEDIT: EOEDIT}
_CLOSERS = {close: open_ for open_, close in _PAIRS.items()}
# What the rules decide instead when a pair is dropped. NF before FIDX: FIDX positions are checked against NF.
_PAIR_FIELDS = {BORES: "size", BONF: "frame count", BOEDIT: "mask and source", BOFIDX: "first/last frame"}
# Characters that may precede a file name in running text, so that "photo.png" is not found in "myphoto.png".
_NAME_BEFORE = r"(?<![\w.\-/\\])"
_NAME_AFTER = r"(?![\w\-]|\.\w)"  # "photo.png." ends a sentence; "photo.png.bak" is another file
_PATH_PREFIX = r"(?:[^\s'\"()\[\]<>,;]*[/\\])?"  # "/tmp/in/photo.png" written out in full is one mention


# ------------------------------------------------------------------------------------------------ request
def render(text: str, attachments: Sequence[AttachmentArg]) -> tuple[str, tuple[int, ...]]:
    """The request in Unison's format, and which attachment each placeholder stands for.

    Returns ``(rendered, order)``: ``rendered`` has one ``<IMGPAD>`` or ``<VIDPAD>`` per attachment (chosen by
    the probed medium, not the extension), and ``order[k]`` is the index in ``attachments`` of the k-th
    placeholder in ``rendered``, which is what index ``k`` in the model's tokens refers to.

    The rule (Unison writes attachments inline as ``###path###``):

    - the first ``###path###`` marker of an attachment, or the first plain mention of its file name (also
      written with a directory), becomes its placeholder, in place; a marker matches an attachment by its
      path, else by its file name; a plain mention of a name two attachments share goes to the first of them
      not yet placed;
    - later mentions of a placed attachment stay plain text (a marker is written as the file name), since a
      second placeholder would count as a second attachment; so does a marker naming no attachment;
    - attachments the text never mentions get their placeholders prepended, space separated and in attachment
      order (``"<IMGPAD> <VIDPAD> make ..."``), so they come first in ``order``, before the mentioned ones;
    - signal or placeholder tokens typed into the text are removed (they would shift every index).

    Paths are probed; raises ``media.MediaError`` for an attachment that is not usable media.
    """
    atts = _probed(attachments)
    text = _SPECIAL_RE.sub("", text)
    spans = _mentions(text, atts)
    placed: list[int] = []
    pieces: list[str] = []
    pos = 0
    for start, end, candidates, plain in spans:
        pieces.append(text[pos:start])
        index = next((i for i in candidates if i not in placed), None)
        if index is None:
            pieces.append(plain)
        else:
            placed.append(index)
            pieces.append(_pad(atts[index]))
        pos = end
    pieces.append(text[pos:])
    body = "".join(pieces).strip()
    unmentioned = [i for i in range(len(atts)) if i not in placed]
    rendered = " ".join([*(_pad(atts[i]) for i in unmentioned), *([body] if body else [])])
    return rendered, (*unmentioned, *placed)


def _pad(att: Attachment) -> str:
    return VIDPAD if att.media is Media.VIDEO else IMGPAD


def _mentions(text: str, atts: list[Attachment]) -> list[tuple[int, int, list[int], str]]:
    """Every marker and file-name mention in ``text``, in order: ``(start, end, candidates, plain)``, where
    ``candidates`` are the attachments it may stand for (best first) and ``plain`` is what it becomes when it
    does not get a placeholder."""
    found: list[tuple[int, int, list[int], str]] = []
    for m in _MARKER.finditer(text):
        inside = m.group(1).strip()
        name = os.path.basename(inside.rstrip("/\\")) or inside
        exact = [i for i, a in enumerate(atts) if os.path.normpath(a.path) == os.path.normpath(inside)]
        named = [i for i, a in enumerate(atts) if a.name == name.lower() and i not in exact]
        found.append((m.start(), m.end(), exact + named, name))
    # Longest names first: "my photo.png" is one mention, not also one of "photo.png".
    for name in sorted({a.name for a in atts}, key=lambda s: (-len(s), s)):
        pattern = re.compile(_NAME_BEFORE + _PATH_PREFIX + re.escape(name) + _NAME_AFTER, re.IGNORECASE)
        candidates = [i for i, a in enumerate(atts) if a.name == name]
        for m in pattern.finditer(text):
            if all(m.end() <= a or m.start() >= b for a, b, _, _ in found):
                found.append((m.start(), m.end(), candidates, m.group(0)))
    return sorted(found, key=lambda f: f[0])


def _plain(text: str) -> str:
    """The request as the rules read it: each ``###path###`` written as the file's name, typed tokens removed."""
    text = _SPECIAL_RE.sub("", text)
    return _MARKER.sub(lambda m: os.path.basename(m.group(1).strip().rstrip("/\\")) or m.group(1), text)


# ------------------------------------------------------------------------------------------------ planner
class _Unusable(ValueError):
    """The model's output cannot become a plan; the message says why (for the fallback's note)."""


class UnisonPlanner:
    """Plan with a Unison stage-one checkpoint; the embedded planner's rules fill what its tokens do not carry.

    ``generate``: the model, as a function from the rendered request (see :func:`render`) to the text it
    writes (``UnisonGenerator.load(path)`` for a local checkpoint; any callable in tests). ``name``: how plans
    are labelled. ``fallback``: the embedded planner that completes the model's plans and replaces them when
    the model fails (a default one when ``None``).
    """

    def __init__(
        self, generate: Callable[[str], str], *, name: str = "unison", fallback: EmbeddedPlanner | None = None
    ) -> None:
        if not callable(generate):
            raise TypeError(f"generate must be a callable str -> str, got {type(generate).__name__}")
        self.generate = generate
        self.name = name
        self.fallback = fallback or EmbeddedPlanner()

    def plan(self, text: str, attachments: Sequence[AttachmentArg] = ()) -> TaskSpec:
        """The TaskSpec for ``text`` (see :meth:`plan_detailed` for how it was made)."""
        return self.plan_detailed(text, attachments).spec

    def plan_detailed(self, text: str, attachments: Sequence[AttachmentArg] = ()) -> Planned:
        """Plan ``text`` with the model, completed by the rules; the notes give the model's raw output, what
        the rules filled and any part of the output that was dropped.

        Raises ``media.MediaError`` for an unusable attachment, and ``PlanningError`` only when neither the
        model nor the rules can plan the request.
        """
        check_request_length(text)
        atts = _probed(attachments)
        rendered, order = render(text, atts)
        rules_text = _plain(text)
        try:
            raw = self.generate(rendered)
        except Exception as e:  # whatever the model's stack raises means: use the rules
            return self._fallback(
                rules_text, atts, f"the Unison model failed ({e.__class__.__name__}: {one_line(e, 200)})"
            )
        if not isinstance(raw, str):
            return self._fallback(rules_text, atts, f"the Unison model returned {type(raw).__name__}, not text")
        try:
            spec, notes = self._decode(raw, rules_text, atts, order)
        except (_Unusable, SignalTokenError, PlanningError, ValidationError) as e:
            return self._fallback(rules_text, atts, str(e))
        return Planned(spec, self.name, tuple(notes), model_calls=1)

    def _fallback(self, text: str, atts: list[Attachment], why: str) -> Planned:
        try:
            spec = self.fallback.plan(text, atts)
        except PlanningError as e:
            raise PlanningError(f"{e} (and {why})") from None
        return Planned(spec, "embedded", (f"{why}; used the embedded planner's plan",), fallback=True, model_calls=1)

    # -------------------------------------------------------------------------------------------- decoding
    def _decode(
        self, raw: str, text: str, atts: list[Attachment], order: tuple[int, ...]
    ) -> tuple[TaskSpec, list[str]]:
        """The plan for the model's output ``raw`` and its notes; raises :class:`_Unusable` (or, from a case
        not foreseen here, ``SignalTokenError`` / ``PlanningError`` / ``ValidationError``) when it cannot be made
        valid."""
        out = raw
        for marker in _CHAT_MARKERS:
            out = out.replace(marker, " ")
        out = out.strip()
        if not out:
            raise _Unusable("the Unison model returned nothing")
        shown = repr(one_line(out, 200))
        if any(t in out for t in SIGNAL_TOKENS) and CFI not in out and CFV not in out:
            raise _Unusable(f"unison wrote {shown}: signal tokens without <CFI> or <CFV>, so no task")
        cleaned, notes, dropped = _repair(out)
        try:
            sig = parse(cleaned)
            # A dropped EDIT or FIDX still names the task (its roles are left to the rules); the placeholder
            # payloads only let the codec check that task against the other tokens.
            shape = replace(
                sig,
                edit=(None, 0) if BOEDIT in dropped and sig.edit is None else sig.edit,
                frame_positions=(0,) if BOFIDX in dropped and sig.frame_positions is None else sig.frame_positions,
            )
        except SignalTokenError as e:
            raise _Unusable(f"unison wrote {shown}: {e}") from None
        task = shape.task or _understanding(atts)
        if sig.media is None:
            notes.insert(0, f"unison: no signal token -> {task.value}; its answer: {shown}")
        else:
            notes.insert(0, f"unison: {shown} -> {task.value}")
        roles = _roles(sig, task, atts, order, notes)
        try:
            spec = self.fallback.complete(text, atts, task, roles)
        except PlanningError as e:
            raise _Unusable(f"unison wrote {shown} ({task.value}), which the rules cannot complete: {e}") from None
        spec = _override(spec, sig, notes)
        notes += _filled(spec, sig, atts, roles)
        return spec, notes


def _understanding(atts: list[Attachment]) -> Task:
    """The understanding task for these attachments (no signal token): a video among them makes it video."""
    if not atts:
        return Task.TEXT_UNDERSTANDING
    if any(a.media is Media.VIDEO for a in atts):
        return Task.VIDEO_UNDERSTANDING
    return Task.IMAGE_UNDERSTANDING


def _repair(out: str) -> tuple[str, list[str], set[str]]:
    """``(repaired, notes, dropped pairs)``: ``out`` with what cannot be read dropped, each drop noted. Dropped
    are stray placeholders, a closer without its opener (or the reverse), a token written twice (the first one
    counts) and a pair whose payload is malformed on its own (``<BOFIDX>a<EOFIDX>``, ``<BOEDIT>1,1<EOEDIT>``).
    Contradictions between tokens are left for :func:`parse` to reject."""
    notes: list[str] = []
    dropped: set[str] = set()
    parts: list[str] = []
    pair_at: dict[str, int] = {}
    seen: set[str] = set()
    matches = list(_SPECIAL_RE.finditer(out))
    pos = i = 0
    while i < len(matches):
        m = matches[i]
        tok = m.group()
        parts.append(out[pos : m.start()])
        pos, i = m.end(), i + 1
        if tok in PAD_TOKENS:
            notes.append(f"dropped {tok}: a request placeholder, not a signal token")
            continue
        if tok in _CLOSERS:
            notes.append(f"dropped {tok} without its {_CLOSERS[tok]}")
            continue
        piece = tok
        if tok in _PAIRS:
            close = _PAIRS[tok]
            if i >= len(matches) or matches[i].group() != close:
                notes.append(f"dropped {tok} without its {close}; {_PAIR_FIELDS[tok]} from the rules")
                dropped.add(tok)
                continue
            piece = out[m.start() : matches[i].end()]
            pos, i = matches[i].end(), i + 1
        if tok in seen:
            notes.append(f"dropped a second {one_line(piece)}")
            continue
        seen.add(tok)
        if tok in _PAIRS:
            pair_at[tok] = len(parts)
        parts.append(piece)
    parts.append(out[pos:])
    for tok, what in _PAIR_FIELDS.items():
        if tok not in pair_at:
            continue
        context = CFV + (parts[pair_at[BONF]] if tok == BOFIDX and BONF in pair_at else "")
        try:
            parse(context + parts[pair_at[tok]])
        except SignalTokenError as e:
            parts[pair_at[tok]] = " "
            dropped.add(tok)
            notes.append(f"dropped {e}; {what} from the rules")
    return "".join(parts), notes, dropped


def _roles(
    sig: SignalTokens, task: Task, atts: list[Attachment], order: tuple[int, ...], notes: list[str]
) -> dict[int, Role]:
    """``{attachment index: role}`` the tokens give, with token indices mapped through ``order``. A part that
    points outside the attachments (or a ``<CTRL>`` that cannot say which file) is dropped with a note."""
    n = len(order)
    outside = f"points outside the {n} attachment(s)"
    roles: dict[int, Role] = {}
    if task.is_understanding:
        return dict.fromkeys(range(len(atts)), Role.CONTEXT)
    if sig.edit is not None:
        mask, source = sig.edit
        shown = f"{BOEDIT}{source if mask is None else f'{mask},{source}'}{EOEDIT}"
        if max(source, -1 if mask is None else mask) >= n:
            notes.append(f"ignored {shown}: an index {outside}; mask and source from the rules")
        else:
            roles[order[source]] = Role.SOURCE
            if mask is not None:
                roles[order[mask]] = Role.MASK
    if sig.frame_positions is not None:
        positions = sig.frame_positions
        shown = f"{BOFIDX}{','.join(map(str, positions))}{EOFIDX}"
        if len(positions) > n:
            notes.append(f"ignored {shown}: {len(positions)} positions for {n} attachment(s); frames from the rules")
        else:
            # A positive position is the last frame: parse() has checked it against NF when NF is there, and
            # without NF the length (so the last index) comes from the rules.
            for k, position in enumerate(positions):
                roles[order[k]] = Role.FIRST_FRAME if position == 0 else Role.LAST_FRAME
    if sig.ctrl:
        if len(atts) == 1:
            roles[0] = Role.CONTROL
        elif len(atts) > 1:
            notes.append(f"<CTRL> cannot say which of the {len(atts)} attachments is the control; the rules chose")
    if sig.ref and sig.edit is None:
        roles.update(dict.fromkeys(range(len(atts)), Role.REFERENCE))
    return roles


def _override(spec: TaskSpec, sig: SignalTokens, notes: list[str]) -> TaskSpec:
    """``spec`` with the size and frame count the tokens carry, and ``reference`` missing when ``<REF>`` found
    no file to play it; a value that makes the spec invalid is ignored with a note."""
    changes: list[tuple[str, dict[str, object]]] = []
    if sig.size is not None and spec.task.is_generation:
        width, height = sig.size
        changes.append((f"{BORES}{width},{height}{EORES}", {"width": width, "height": height}))
    frames = sig.num_frames
    if frames is not None and spec.task.output_media is Media.VIDEO and spec.fps:
        duration = round(duration_for_frames(frames, spec.fps), 4)
        changes.append((f"{BONF}{sig.nf}{EONF}", {"num_frames": frames, "duration_s": duration}))
    played = {item.role for item in spec.inputs}
    if sig.ref and Role.REFERENCE not in played and Role.REFERENCE not in spec.missing:
        changes.append(("<REF>", {"missing": [*spec.missing, Role.REFERENCE]}))
    for shown, fields in changes:
        try:
            spec = TaskSpec.model_validate({**spec.model_dump(), **fields})
        except ValidationError as e:
            notes.append(f"ignored {shown}: {'; '.join(explain(e).splitlines())}; kept the rules' value")
    return spec


def _filled(spec: TaskSpec, sig: SignalTokens, atts: list[Attachment], roles: dict[int, Role]) -> list[str]:
    """Notes naming what the rules decided (roles the tokens did not give, settings the format lacks) and
    the attachments the plan leaves out."""
    notes: list[str] = []
    fixed = {atts[i].path for i in roles}
    used = {item.path for item in spec.inputs}
    from_rules = [os.path.basename(item.path) for item in spec.inputs if item.path not in fixed]
    filled: list[str] = []
    if spec.task.is_generation:
        if sig.size is None:
            filled.append("size")
        if spec.task.output_media is Media.VIDEO:
            if sig.nf is None:
                filled.append("frame count")
            filled.append("fps")
        named = ("seed", "steps", "guidance_scale", "negative_prompt", "control_type")
        filled += [name for name in named if getattr(spec, name) is not None]
        if spec.num_outputs != 1:
            filled.append("num_outputs")
    if any(not (sig.ref and role is Role.REFERENCE) for role in spec.missing):  # <REF> names a missing reference
        filled.append("missing")
    groups = [f"role{'s' if len(from_rules) > 1 else ''} of {', '.join(from_rules)}"] if from_rules else []
    if filled:
        groups.append(", ".join(filled))
    if groups:
        notes.append(f"{'; '.join(groups)} from the rules")
    left_out = [os.path.basename(a.path) for a in atts if a.path not in used]
    if left_out:
        notes.append(f"left out {', '.join(left_out)}: no role in {spec.task.value}")
    return notes
