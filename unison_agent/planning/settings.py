"""The rules' settings, and the TaskSpec put together: everything but the task and the roles.

:func:`task_spec` takes a :class:`~unison_agent.planning.reading.Reading`, a task (the rules' own, from
``decide.py``, when none is given) and any fixed roles, asks ``roles.py`` for the inputs and what is missing,
and adds: the prompt (the request minus its meta settings), seed, steps, guidance, negative prompt and output
count as the text states them; the output size (:func:`size`: stated, from a preset, ratio or orientation, or
the shape of the file being edited); for a video its fps, frames and seconds (:func:`timing`: the contract's
frame arithmetic, an edited clip's own length); for a control task its control signal (:func:`control_type`).
A setting the contract cannot hold is refused with its range, never dropped.
"""

from __future__ import annotations

from pydantic import ValidationError

from unison_agent.planning.base import PlanningError
from unison_agent.planning.cues import word_list
from unison_agent.planning.decide import decide
from unison_agent.planning.lexicon import SIGNAL_WORDS
from unison_agent.planning.meta import clean_prompt
from unison_agent.planning.patterns import LazyPattern
from unison_agent.planning.reading import Reading
from unison_agent.planning.roles import CONTROL_LOOKS, assign_roles
from unison_agent.spec import (
    DEFAULT_DURATION_S,
    DEFAULT_FPS,
    LIMITS,
    ControlType,
    Input,
    Media,
    Role,
    Task,
    TaskSpec,
    duration_for_frames,
    explain,
    frames_for_duration,
    size_for_aspect,
    size_for_preset,
)

__all__ = ["control_type", "size", "task_spec", "timing"]

# Words naming a control signal, every language's (``signal_*`` in the lexicons), in the order they are tried.
_CONTROL_WORDS: list[tuple[ControlType, LazyPattern]] = [
    (ControlType(name.removeprefix("signal_")), word_list(name)) for name in SIGNAL_WORDS
]


def task_spec(reading: Reading, task: Task | None = None, fixed: dict[int, Role] | None = None) -> TaskSpec:
    """The TaskSpec for the request read in ``reading``, as ``task`` (default: the rules' :func:`decide`) with the
    roles in ``fixed`` (``{index: role}``) imposed.

    Raises :class:`PlanningError` for a setting out of the contract's range, a video too long or too short,
    an attachment no role of ``task`` can take, or any other reason the result is not a valid TaskSpec."""
    task = task or decide(reading)
    inputs, missing = assign_roles(reading, task, fixed or {})
    if task.is_understanding:
        return TaskSpec(task=task, prompt=reading.text.strip(), inputs=inputs, missing=missing)
    m = reading.meta
    if m.out_of_range:
        # A setting the contract cannot hold is refused with its range, never dropped ("seed -1" planned with a
        # random seed and the words left in the prompt). A question may quote one: it returned above.
        raise PlanningError("; ".join(m.out_of_range))
    spans = [reading.norm.span(a, b) for a, b in m.spans]
    fields: dict[str, object] = {
        "task": task,
        "prompt": clean_prompt(reading.text, spans),
        "inputs": inputs,
        "missing": missing,
        "seed": m.seed,
        "steps": m.steps,
        "guidance_scale": m.guidance,
        "negative_prompt": m.negative_prompt,
        "num_outputs": m.num_outputs or 1,
    }
    shape = size(reading, task, inputs)
    if shape:
        fields["width"], fields["height"] = shape
    fields.update(timing(reading, task, inputs))
    if task in (Task.IMAGE_CONTROL, Task.VIDEO_CONTROL):
        fields["control_type"] = control_type(reading, task, inputs)
    try:
        return TaskSpec(**fields)  # type: ignore[arg-type]
    except ValidationError as e:
        raise PlanningError(f"cannot plan this request as {task.value}: {'; '.join(explain(e).splitlines())}") from None


def size(reading: Reading, task: Task, inputs: list[Input]) -> tuple[int, int] | None:
    """``(width, height)`` of the output: as stated, from a preset with a ratio or orientation, from a ratio,
    or the shape of the file an edit, control or animation starts from; ``None`` leaves the default."""
    m = reading.meta
    if m.width and m.height:
        return m.width, m.height
    orientation = m.orientation
    if m.ratio and not orientation:
        orientation = "portrait" if m.ratio[0] < m.ratio[1] else "square" if m.ratio[0] == m.ratio[1] else None
    if m.preset:
        if m.ratio and m.ratio[0] != m.ratio[1] and orientation != "square":
            long_side = max(size_for_preset(m.preset))
            short = min(size_for_preset(m.preset))
            ratio = m.ratio[0] / m.ratio[1]
            return _snap(short * ratio, short) if ratio >= 1 else _snap(short, short / ratio) if long_side else None
        return size_for_preset(m.preset, orientation or "landscape")
    if m.ratio:
        return size_for_aspect(*m.ratio)
    if orientation == "portrait":
        return size_for_aspect(9, 16)
    if orientation == "square":
        return size_for_aspect(1, 1)
    # Nothing said: an edit, a control or an animated picture keeps the shape of its input.
    anchor = next(
        (
            a
            for a in reading.atts
            for i in inputs
            if i.path == a.path and i.role in (Role.SOURCE, Role.CONTROL, Role.FIRST_FRAME, Role.LAST_FRAME)
        ),
        None,
    )
    if anchor and anchor.width and anchor.height and task not in (Task.IMAGE_REFERENCE, Task.VIDEO_REFERENCE):
        aspect = anchor.width / anchor.height
        if 0.2 <= aspect <= 5:
            return size_for_aspect(anchor.width, anchor.height)
    return None


def timing(reading: Reading, task: Task, inputs: list[Input]) -> dict[str, float | int | None]:
    """``fps``, ``num_frames`` and ``duration_s`` of a video output (empty for a picture or an answer).

    Raises :class:`PlanningError` for a length that would be more frames than can be generated, or less
    than two."""
    m = reading.meta
    if task.output_media is not Media.VIDEO:
        return {}
    fps = m.fps or DEFAULT_FPS
    if m.frames:
        return {"fps": fps, "num_frames": m.frames, "duration_s": round(duration_for_frames(m.frames, fps), 4)}
    if m.seconds:
        frames = frames_for_duration(m.seconds, fps)
        if frames > LIMITS["num_frames"][1]:
            raise PlanningError(
                f"{m.seconds:g} s at {fps} fps is {frames} frames; at most "
                f"{int(LIMITS['num_frames'][1])} frames can be generated"
            )
        if frames < 2:
            raise PlanningError(
                f"{m.seconds:g} s at {fps} fps is less than one frame: a video is at least 2 frames "
                f"({duration_for_frames(2, fps):g} s at {fps} fps)"
            )
        # The seconds asked stay as duration_s: the frames are the nearest count, within half a frame of them.
        return {"fps": fps, "num_frames": frames, "duration_s": m.seconds}
    # Nothing said: an edited or controlled clip keeps its source's length, up to the default length (5 s at
    # any fps: "at 2 fps" is 11 frames, not 81).
    source = next(
        (
            a
            for a in reading.atts
            for i in inputs
            if i.path == a.path and i.role in (Role.SOURCE, Role.CONTROL) and a.media is Media.VIDEO
        ),
        None,
    )
    seconds = min(source.duration_s, DEFAULT_DURATION_S) if source and source.duration_s else DEFAULT_DURATION_S
    frames = max(2, frames_for_duration(seconds, fps))
    return {"fps": fps, "num_frames": frames, "duration_s": round(duration_for_frames(frames, fps), 4)}


def control_type(reading: Reading, task: Task, inputs: list[Input]) -> ControlType | None:
    """The control signal of a control task: the one the text names (the control file's own look breaking a
    tie), else the control file's look, else a control file the text talks about; ``None`` without one."""
    control = next((i for i in inputs if i.role is Role.CONTROL), None)
    look = next((a.look for a in reading.atts if control and a.path == control.path), None)
    said = [(m.start(), ct) for ct, p in _CONTROL_WORDS for m in [p.search(reading.cue)] if m]
    if task is Task.IMAGE_CONTROL:
        said = [x for x in said if x[1] not in (ControlType.FLOW, ControlType.GRAY)]
    if said:
        from_look = CONTROL_LOOKS.get(look or "")
        if from_look and any(ct is from_look for _, ct in said):
            return from_look
        return min(said, key=lambda x: x[0])[1]
    if look in CONTROL_LOOKS:
        return CONTROL_LOOKS[look]
    kinds = [k for _, k in reading.refs]
    for kind, ct in (
        ("pose", ControlType.POSE),
        ("depth", ControlType.DEPTH),
        ("edge", ControlType.CANNY),
        ("scribble", ControlType.SCRIBBLE),
    ):
        if kind in kinds:
            return ct
    if control is None:
        return None
    # An ordinary picture or clip with no signal named: depth keeps the scene's structure and lets the
    # prompt restyle everything else.
    return ControlType.DEPTH


def _snap(w: float, h: float, multiple: int = 16) -> tuple[int, int]:
    return max(multiple, round(w / multiple) * multiple), max(multiple, round(h / multiple) * multiple)
