"""The TaskSpec contract: the vocabulary shared by the planner, the tools, the graph and the MCP server.

A TaskSpec says which of the 12 tasks to run, which attachment plays which role, and the output's size,
length and sampling settings. It is validated on construction: a spec that exists is one a tool can run
(or, when ``missing`` is not empty, one that names exactly which files must still be supplied).

The contract's arithmetic lives here too (size presets, aspect ratios, seconds <-> frames <-> fps), so that
every front door computes sizes and lengths the same way. This module imports nothing of ours.
"""

from __future__ import annotations

import json
import math
from enum import Enum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, ValidationInfo, field_validator, model_validator

__all__ = [
    "DEFAULT_AREA",
    "DEFAULT_DURATION_S",
    "DEFAULT_FPS",
    "DEFAULT_NUM_FRAMES",
    "DEFAULT_SIZE",
    "GENERATION_FIELDS",
    "LIMITS",
    "MAX_REQUEST_CHARS",
    "PRESETS",
    "ControlType",
    "Input",
    "Media",
    "Role",
    "Task",
    "TaskSpec",
    "duration_for_frames",
    "duration_matches",
    "explain",
    "frames_for_duration",
    "json_schema",
    "media_for",
    "size_for_aspect",
    "size_for_preset",
]


class Task(str, Enum):
    """The 12 tasks. Three answer in text; nine generate images or videos."""

    TEXT_UNDERSTANDING = "text_understanding"
    IMAGE_UNDERSTANDING = "image_understanding"
    VIDEO_UNDERSTANDING = "video_understanding"
    TEXT_TO_IMAGE = "text_to_image"
    TEXT_TO_VIDEO = "text_to_video"
    IMAGE_EDITING = "image_editing"
    VIDEO_EDITING = "video_editing"
    IMAGE_REFERENCE = "image_reference"
    VIDEO_REFERENCE = "video_reference"
    IMAGE_TO_VIDEO = "image_to_video"
    VIDEO_CONTROL = "video_control"
    IMAGE_CONTROL = "image_control"

    @property
    def is_understanding(self) -> bool:
        return self in _UNDERSTANDING

    @property
    def is_generation(self) -> bool:
        return self not in _UNDERSTANDING

    @property
    def output_media(self) -> Media | None:
        """What the task produces: an image, a video, or ``None`` for a text answer."""
        if self in _UNDERSTANDING:
            return None
        return Media.VIDEO if self in _VIDEO_OUT else Media.IMAGE

    @property
    def roles(self) -> frozenset[Role]:
        """The roles an attachment may play in this task."""
        return _TASK_ROLES[self]

    @property
    def required_roles(self) -> tuple[Role, ...]:
        """Roles that must be attached (or listed in ``missing``) for the task to run."""
        return _REQUIRED[self]


class Role(str, Enum):
    """What an attachment is for."""

    CONTEXT = "context"  # the thing asked about (understanding)
    SOURCE = "source"  # the file being edited
    MASK = "mask"  # white = the region to edit
    REFERENCE = "reference"  # identity, subject or style to carry into a new output
    FIRST_FRAME = "first_frame"  # image_to_video anchors
    LAST_FRAME = "last_frame"
    CONTROL = "control"  # a control map or control video, or a file to extract one from


class Media(str, Enum):
    IMAGE = "image"
    VIDEO = "video"


class ControlType(str, Enum):
    """Structure signals VACE can follow. ``flow`` and ``gray`` are video-only."""

    POSE = "pose"
    DEPTH = "depth"
    CANNY = "canny"
    FLOW = "flow"
    GRAY = "gray"
    SCRIBBLE = "scribble"
    LAYOUT = "layout"


_UNDERSTANDING = frozenset({Task.TEXT_UNDERSTANDING, Task.IMAGE_UNDERSTANDING, Task.VIDEO_UNDERSTANDING})
_VIDEO_OUT = frozenset(
    {Task.TEXT_TO_VIDEO, Task.VIDEO_EDITING, Task.VIDEO_REFERENCE, Task.IMAGE_TO_VIDEO, Task.VIDEO_CONTROL}
)
_TASK_ROLES: dict[Task, frozenset[Role]] = {
    Task.TEXT_UNDERSTANDING: frozenset(),
    Task.IMAGE_UNDERSTANDING: frozenset({Role.CONTEXT}),
    Task.VIDEO_UNDERSTANDING: frozenset({Role.CONTEXT}),
    Task.TEXT_TO_IMAGE: frozenset(),
    Task.TEXT_TO_VIDEO: frozenset(),
    Task.IMAGE_EDITING: frozenset({Role.SOURCE, Role.MASK, Role.REFERENCE}),
    Task.VIDEO_EDITING: frozenset({Role.SOURCE, Role.MASK, Role.REFERENCE}),
    Task.IMAGE_REFERENCE: frozenset({Role.REFERENCE}),
    Task.VIDEO_REFERENCE: frozenset({Role.REFERENCE}),
    Task.IMAGE_TO_VIDEO: frozenset({Role.FIRST_FRAME, Role.LAST_FRAME}),
    # Beyond the contract's draft: VACE takes reference pictures beside a control signal.
    Task.VIDEO_CONTROL: frozenset({Role.CONTROL, Role.REFERENCE}),
    Task.IMAGE_CONTROL: frozenset({Role.CONTROL, Role.REFERENCE}),
}
_REQUIRED: dict[Task, tuple[Role, ...]] = {
    Task.TEXT_UNDERSTANDING: (),
    Task.IMAGE_UNDERSTANDING: (Role.CONTEXT,),
    Task.VIDEO_UNDERSTANDING: (Role.CONTEXT,),
    Task.TEXT_TO_IMAGE: (),
    Task.TEXT_TO_VIDEO: (),
    Task.IMAGE_EDITING: (Role.SOURCE,),
    Task.VIDEO_EDITING: (Role.SOURCE,),
    Task.IMAGE_REFERENCE: (Role.REFERENCE,),
    Task.VIDEO_REFERENCE: (Role.REFERENCE,),
    Task.IMAGE_TO_VIDEO: (),  # a first frame, a last frame, or both: checked on its own
    Task.VIDEO_CONTROL: (Role.CONTROL,),
    Task.IMAGE_CONTROL: (Role.CONTROL,),
}


# Roles that only make sense once per spec.
GENERATION_FIELDS: tuple[str, ...] = (
    "width",
    "height",
    "num_frames",
    "fps",
    "duration_s",
    "control_type",
    "seed",
    "num_outputs",
    "steps",
    "guidance_scale",
    "negative_prompt",
)
"""The TaskSpec fields that only generation tasks use (an understanding task leaves them unset)."""


def media_for(task: Task, role: Role) -> frozenset[Media]:
    """The media an attachment playing ``role`` in ``task`` may be (both, where the contract does not say)."""
    return _ROLE_MEDIA.get((task, role), frozenset(Media))


_SINGLE_ROLES = frozenset({Role.SOURCE, Role.MASK, Role.FIRST_FRAME, Role.LAST_FRAME, Role.CONTROL})
# The medium each role must have, per task; a role absent here accepts either medium.
_ROLE_MEDIA: dict[tuple[Task, Role], frozenset[Media]] = {
    (Task.IMAGE_UNDERSTANDING, Role.CONTEXT): frozenset({Media.IMAGE}),
    (Task.IMAGE_EDITING, Role.SOURCE): frozenset({Media.IMAGE}),
    (Task.IMAGE_EDITING, Role.MASK): frozenset({Media.IMAGE}),
    (Task.IMAGE_EDITING, Role.REFERENCE): frozenset({Media.IMAGE}),
    (Task.VIDEO_EDITING, Role.SOURCE): frozenset({Media.VIDEO}),
    (Task.VIDEO_EDITING, Role.REFERENCE): frozenset({Media.IMAGE}),
    (Task.IMAGE_REFERENCE, Role.REFERENCE): frozenset({Media.IMAGE}),
    (Task.VIDEO_REFERENCE, Role.REFERENCE): frozenset({Media.IMAGE}),
    (Task.IMAGE_TO_VIDEO, Role.FIRST_FRAME): frozenset({Media.IMAGE}),
    (Task.IMAGE_TO_VIDEO, Role.LAST_FRAME): frozenset({Media.IMAGE}),
    (Task.VIDEO_CONTROL, Role.CONTROL): frozenset({Media.VIDEO}),
    (Task.VIDEO_CONTROL, Role.REFERENCE): frozenset({Media.IMAGE}),
    (Task.IMAGE_CONTROL, Role.CONTROL): frozenset({Media.IMAGE}),
    (Task.IMAGE_CONTROL, Role.REFERENCE): frozenset({Media.IMAGE}),
}
_VIDEO_ONLY_CONTROLS = frozenset({ControlType.FLOW, ControlType.GRAY})

# ------------------------------------------------------------------------------------------------ arithmetic
DEFAULT_SIZE = (832, 480)
DEFAULT_AREA = DEFAULT_SIZE[0] * DEFAULT_SIZE[1]
DEFAULT_FPS = 16
DEFAULT_NUM_FRAMES = 81  # 5 s at 16 fps
# The length of a clip when no length is said, whatever its fps: "at 2 fps" is 5 s (11 frames), not 81 frames.
DEFAULT_DURATION_S = (DEFAULT_NUM_FRAMES - 1) / DEFAULT_FPS
# Landscape (width, height) of each named preset.
PRESETS: dict[str, tuple[int, int]] = {
    "360p": (640, 360),
    "480p": (832, 480),
    "540p": (960, 540),
    "720p": (1280, 720),
    "1080p": (1920, 1080),
    "1440p": (2560, 1440),
}
LIMITS: dict[str, tuple[float, float]] = {
    "width": (64, 4096),
    "height": (64, 4096),
    "num_frames": (1, 1025),
    "fps": (1, 60),
    "duration_s": (0, 64),
    "num_outputs": (1, 16),
    "seed": (0, 2**32 - 1),
    "steps": (1, 500),
    "guidance_scale": (0, 50),
}


# The longest request text any front door accepts (CLI, batch rows, graph, MCP, LangChain tools). A request is a
# sentence or a paragraph; 10,000 characters is several pages, and a bound keeps planning time and memory small.
MAX_REQUEST_CHARS = 10_000


def _round_half_up(x: float) -> int:
    return math.floor(x + 0.5)


def size_for_preset(preset: str, orientation: str = "landscape") -> tuple[int, int]:
    """Return ``(width, height)`` for a named preset such as ``"720p"``.

    ``orientation`` is ``"landscape"`` (the preset as named), ``"portrait"`` (sides swapped) or ``"square"``
    (N x N, N being the preset's short side). Raises ``ValueError`` for an unknown preset or orientation.
    """
    key = preset.lower()
    if key not in PRESETS:
        raise ValueError(f"unknown size preset {preset!r}; known: {', '.join(PRESETS)}")
    w, h = PRESETS[key]
    if orientation == "landscape":
        return w, h
    if orientation == "portrait":
        return h, w
    if orientation == "square":
        return h, h
    raise ValueError(f"unknown orientation {orientation!r}; known: landscape, portrait, square")


def size_for_aspect(ratio_w: float, ratio_h: float, area: int = DEFAULT_AREA, multiple: int = 16) -> tuple[int, int]:
    """Return ``(width, height)``, multiples of ``multiple``, with the ratio ``ratio_w:ratio_h`` (within 1 %)
    and an area as close to ``area`` as that allows. Raises ``ValueError`` for a non-positive ratio."""
    if ratio_w <= 0 or ratio_h <= 0:
        raise ValueError(f"aspect ratio must be positive, got {ratio_w}:{ratio_h}")
    r = ratio_w / ratio_h
    ideal_h = math.sqrt(area / r)
    best: tuple[tuple[float, float], int, int] | None = None
    lo, hi = max(1, int(ideal_h * 0.7) // multiple), int(ideal_h * 1.3) // multiple + 2
    for k in range(lo, hi):
        h = k * multiple
        w = max(multiple, _round_half_up(h * r / multiple) * multiple)
        ratio_err = abs((w / h) / r - 1)
        area_err = abs(w * h / area - 1)
        # A ratio within 1 % is as good as exact; among those, the area decides.
        score = (0.0 if ratio_err <= 0.01 else 1 + ratio_err, area_err)
        if best is None or score < best[0]:
            best = (score, w, h)
    assert best is not None
    _, w, h = best
    lo_px, hi_px = LIMITS["width"]
    if not (lo_px <= w <= hi_px and lo_px <= h <= hi_px):
        raise ValueError(f"aspect ratio {ratio_w:g}:{ratio_h:g} gives {w}x{h}, outside {lo_px:g}..{hi_px:g} px")
    return int(w), int(h)


def frames_for_duration(seconds: float, fps: float) -> int:
    """Frames for a clip of ``seconds`` at ``fps``: round(seconds * fps) + 1 (the +1 is frame zero)."""
    return _round_half_up(seconds * fps) + 1


def duration_for_frames(num_frames: int, fps: float) -> float:
    """Seconds covered by ``num_frames`` frames at ``fps``: (frames - 1) / fps."""
    return (num_frames - 1) / fps


def duration_matches(num_frames: int, fps: float, duration_s: float) -> bool:
    """Whether ``duration_s`` is the length of ``num_frames`` frames at ``fps`` to within half a frame (at least
    0.01 s). Half a frame is what :func:`frames_for_duration` rounds away: 2.5 s at 5 fps is 14 frames (2.6 s),
    and a plan may keep the 2.5 s that was asked."""
    # The 1e-9 keeps an exact half frame inside despite float error (2.6 - 2.5 is 0.10000000000000009).
    return abs(duration_for_frames(num_frames, fps) - duration_s) <= max(0.5 / fps, 0.01) + 1e-9


# ------------------------------------------------------------------------------------------------ models
def _bounded(name: str, **kw: Any) -> Any:
    # The range goes into the JSON schema here and is enforced by ``TaskSpec._in_range``, whose message
    # names the allowed range (pydantic's own says only one bound).
    lo, hi = LIMITS[name]
    return Field(json_schema_extra={"minimum": lo, "maximum": hi}, **kw)


class Input(BaseModel):
    """One attachment and the part it plays."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    path: str = Field(min_length=1, description="File path (or artifact id) of the attachment.")
    media: Media
    role: Role


class TaskSpec(BaseModel):
    """A validated plan for one request. See ``planning/README.md`` of the shared docs for the contract."""

    model_config = ConfigDict(extra="forbid", use_enum_values=False, validate_assignment=True)

    task: Task
    prompt: str = Field(default="", description="The content of the request, meta phrases removed.")
    inputs: list[Input] = Field(default_factory=list)
    width: int | None = _bounded("width", default=None)
    height: int | None = _bounded("height", default=None)
    num_frames: int | None = _bounded("num_frames", default=None)
    fps: int | None = _bounded("fps", default=None)
    duration_s: float | None = _bounded("duration_s", default=None)
    control_type: ControlType | None = None
    seed: int | None = _bounded("seed", default=None)
    num_outputs: int = _bounded("num_outputs", default=1)
    steps: int | None = _bounded("steps", default=None)
    guidance_scale: float | None = _bounded("guidance_scale", default=None)
    negative_prompt: str | None = None
    missing: list[Role] = Field(default_factory=list, description="Roles the request needs but did not attach.")

    @field_validator(*LIMITS, mode="after")
    @classmethod
    def _in_range(cls, value: Any, info: ValidationInfo) -> Any:
        if value is None:
            return value
        lo, hi = LIMITS[info.field_name]  # type: ignore[index]
        if not lo <= value <= hi:
            raise ValueError(f"must be {_num(lo)}..{_num(hi)}, got {_num(value)}")
        return value

    @model_validator(mode="before")
    @classmethod
    def _fill_defaults(cls, data: Any) -> Any:
        """Fill what the contract defines when it is left out: size, frames, fps and duration."""
        if not isinstance(data, dict):
            return data
        data = dict(data)
        try:
            task = Task(data.get("task"))
        except ValueError:
            return data  # the field validator reports the bad task
        out = task.output_media
        if out is None:
            return data
        if data.get("width") is None and data.get("height") is None:
            data["width"], data["height"] = DEFAULT_SIZE
        if out is Media.IMAGE:
            data.setdefault("num_frames", 1)
            return data
        fps, frames, secs = data.get("fps"), data.get("num_frames"), data.get("duration_s")
        if fps is None:
            fps = data["fps"] = DEFAULT_FPS
        if frames is None and secs is not None and _is_number(secs) and _is_number(fps) and fps > 0:
            data["num_frames"] = frames_for_duration(secs, fps)
        elif frames is None and _is_number(fps) and fps > 0:
            data["num_frames"] = frames_for_duration(DEFAULT_DURATION_S, fps)  # an fps alone keeps the 5 s
        elif frames is None:
            data["num_frames"] = DEFAULT_NUM_FRAMES
        if secs is None and _is_number(data["num_frames"]) and _is_number(fps) and fps > 0:
            data["duration_s"] = round(duration_for_frames(data["num_frames"], fps), 4)
        return data

    @model_validator(mode="after")
    def _check(self) -> TaskSpec:
        task, out = self.task, self.task.output_media
        problems: list[str] = []
        if out is None:
            for name in GENERATION_FIELDS:
                if getattr(self, name) not in (None, 1 if name == "num_outputs" else None):  # num_outputs: 1
                    problems.append(f"{name} applies to generation only; {task.value} answers in text")
        else:
            if self.width is None or self.height is None:
                problems.append("width and height must both be given (or both left out for the default 832x480)")
            if out is Media.IMAGE:
                if self.num_frames != 1:
                    problems.append(f"{task.value} makes an image: num_frames must be 1, got {self.num_frames}")
                if self.fps is not None or self.duration_s is not None:
                    problems.append(f"{task.value} makes an image: fps and duration_s must be null")
            else:
                if self.num_frames is not None and self.num_frames < 2:
                    problems.append(f"{task.value} makes a video: num_frames must be 2..1025, got {self.num_frames}")
                if self.num_frames and self.fps and self.duration_s is not None:
                    expected = duration_for_frames(self.num_frames, self.fps)
                    if not duration_matches(self.num_frames, self.fps, self.duration_s):
                        problems.append(
                            f"duration_s {self.duration_s:g} does not match {self.num_frames} frames at {self.fps} fps "
                            f"(that is {expected:g} s = (num_frames - 1) / fps)"
                        )
        is_control = task in (Task.IMAGE_CONTROL, Task.VIDEO_CONTROL)
        if self.control_type is not None and not is_control:
            problems.append(f"control_type applies to image_control and video_control only, not {task.value}")
        if task is Task.IMAGE_CONTROL and self.control_type in _VIDEO_ONLY_CONTROLS:
            problems.append(
                f"control_type {self.control_type.value} needs a video; for images use pose, depth, "
                "canny, scribble or layout"
            )
        problems += self._check_roles()
        if problems:
            raise ValueError("; ".join(problems))
        return self

    def _check_roles(self) -> list[str]:
        task, problems = self.task, []
        allowed = task.roles
        allowed_txt = ", ".join(sorted(r.value for r in allowed)) or "none (this task takes no attachments)"
        counts: dict[Role, int] = {}
        for item in self.inputs:
            counts[item.role] = counts.get(item.role, 0) + 1
            if item.role not in allowed:
                problems.append(
                    f"{item.path}: role {item.role.value} is not used by {task.value}; allowed: {allowed_txt}"
                )
                continue
            media_ok = _ROLE_MEDIA.get((task, item.role))
            if media_ok is not None and item.media not in media_ok:
                want = " or ".join(m.value for m in media_ok)
                problems.append(
                    f"{item.path}: {task.value} needs the {item.role.value} to be an {want}, got {item.media.value}"
                )
        for role, n in counts.items():
            if role in _SINGLE_ROLES and n > 1:
                problems.append(f"{n} attachments have role {role.value}; {task.value} takes one")
        for role in self.missing:
            if role not in allowed:
                problems.append(f"missing role {role.value} is not used by {task.value}; allowed: {allowed_txt}")
            elif role in counts and role in _SINGLE_ROLES:
                problems.append(f"role {role.value} is both attached and listed as missing")
        if len(set(self.missing)) != len(self.missing):
            problems.append("missing lists a role twice")
        present = set(counts) | set(self.missing)
        for role in task.required_roles:
            if role not in present:
                problems.append(f"{task.value} needs a {role.value} attachment: attach one or list it in missing")
        if task is Task.IMAGE_TO_VIDEO and not present & {Role.FIRST_FRAME, Role.LAST_FRAME}:
            problems.append("image_to_video needs a first_frame or a last_frame: attach one or list it in missing")
        return problems

    # -------------------------------------------------------------------------------------------- helpers
    @property
    def ready(self) -> bool:
        """True when nothing is missing and a tool can run the spec as it is."""
        return not self.missing

    def inputs_with(self, role: Role) -> list[Input]:
        """The inputs that play ``role``, in attachment order."""
        return [i for i in self.inputs if i.role is role]

    def to_json_dict(self) -> dict[str, Any]:
        """The spec as plain JSON types (enums as their string values)."""
        return self.model_dump(mode="json")


def _num(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else f"{x:g}"


def _is_number(x: Any) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool)


def explain(error: ValidationError) -> str:
    """One line per problem of a failed TaskSpec validation: ``field: what is wrong and what is allowed``."""
    lines = []
    for err in error.errors():
        where = ".".join(str(p) for p in err["loc"])
        msg = err["msg"].removeprefix("Value error, ")
        if err["type"] == "enum":
            allowed = err.get("ctx", {}).get("expected", "")
            msg = f"{err['input']!r} is not one of {allowed}"
        lines.append(f"{where}: {msg}" if where else msg)
    return "\n".join(lines)


def json_schema() -> str:
    """The TaskSpec JSON schema, as an indented JSON string."""
    return json.dumps(TaskSpec.model_json_schema(), indent=2)
