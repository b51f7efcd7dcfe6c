"""The request models of the tools, written once: the LangChain tools, the graph and the MCP server are built
from these, so every front door exposes the same names and fields.

``RunRequest`` is the automatic path (the person's words plus attachments; the planner decides). Each task also
has a typed request (``TASK_REQUESTS[task]``) for hosts that already know what they want: its fields are the
prompt, one field per attachment role (a file path or an ``@id``), and the task's output settings.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, create_model

from unison_agent.spec import (
    DEFAULT_FPS,
    DEFAULT_SIZE,
    LIMITS,
    MAX_REQUEST_CHARS,
    ControlType,
    Input,
    Media,
    Role,
    Task,
    TaskSpec,
)

__all__ = [
    "ATTACHMENTS_HELP",
    "TASK_REQUESTS",
    "Attachments",
    "RequestText",
    "RunRequest",
    "file_fields",
    "missing_files",
    "spec_from_request",
    "tool_description",
]

RequestText = Annotated[
    str,
    Field(
        min_length=1,
        max_length=MAX_REQUEST_CHARS,
        description="the person's request in their own words, as they wrote it (any language); the files it "
        "speaks of go in attachments",
    ),
]
"""A request as a tool parameter: its length cap is in the schema, and longer text is refused by validation."""

ATTACHMENTS_HELP = (
    "the files the person attached, in the order given: each an absolute file path (a picture or a video) or an "
    "earlier output's @id (e.g. @a1b2c3); leave it out when nothing is attached"
)
Attachments = Annotated[list[str] | None, Field(description=ATTACHMENTS_HELP)]
"""Attachments as a tool parameter (None: nothing attached)."""


class RunRequest(BaseModel):
    """Do what the person asked: plan the request, run it, return the answer or the files."""

    model_config = ConfigDict(extra="forbid")

    request: RequestText
    attachments: list[str] = Field(default_factory=list, description=ATTACHMENTS_HELP)


_DESCRIPTIONS = {
    Task.TEXT_UNDERSTANDING: "Answer a question in text.",
    Task.IMAGE_UNDERSTANDING: "Answer a question about one or more pictures.",
    Task.VIDEO_UNDERSTANDING: "Answer a question about a video clip.",
    Task.TEXT_TO_IMAGE: "Make a picture from a description.",
    Task.TEXT_TO_VIDEO: "Make a video clip from a description.",
    Task.IMAGE_EDITING: "Edit a picture (inside a mask if given: white = change).",
    Task.VIDEO_EDITING: "Edit a video clip (inside a mask if given: white = change).",
    Task.IMAGE_REFERENCE: "Make a new picture featuring the subject(s) of reference pictures.",
    Task.VIDEO_REFERENCE: "Make a new video featuring the subject(s) of reference pictures.",
    Task.IMAGE_TO_VIDEO: "Animate a picture: it becomes the first frame, the last frame, or both are given.",
    Task.VIDEO_CONTROL: "Make a video following a control video (pose, depth, edges, flow) or a clip's structure.",
    Task.IMAGE_CONTROL: "Make a picture following a control map (pose, depth, edges, scribble) or a picture's layout.",
}
# Field name, role, and whether it holds several files.
_ROLE_FIELDS: dict[Role, tuple[str, bool]] = {
    Role.CONTEXT: ("files", True),
    Role.SOURCE: ("source", False),
    Role.MASK: ("mask", False),
    Role.REFERENCE: ("references", True),
    Role.FIRST_FRAME: ("first_frame", False),
    Role.LAST_FRAME: ("last_frame", False),
    Role.CONTROL: ("control", False),
}
# What a file field holds, per role (said in each tool's input schema, where a host's model reads it).
_ROLE_HELP: dict[Role, str] = {
    Role.CONTEXT: "the pictures or the video the question is about",
    Role.SOURCE: "the picture or video to edit",
    Role.MASK: "a black-and-white mask of the source's size: white = the region to change, black = keep",
    Role.REFERENCE: "pictures of the subject(s), identity or style to carry into the new output",
    Role.FIRST_FRAME: "the picture that becomes the clip's first frame",
    Role.LAST_FRAME: "the picture that becomes the clip's last frame",
    Role.CONTROL: "a control map or control video (pose, depth, edges, scribble...), or a picture or clip to take "
    "one from",
}
_FILE_FORM = "an absolute file path or an earlier output's @id (e.g. @a1b2c3)"
# What each output setting means, its unit and range (from LIMITS) and its default.
_SETTING_HELP: dict[str, str] = {
    "width": "output width in pixels; give width and height together (default {w}x{h}, or the input's "
    "shape); the model rounds sides to its multiple (16)",
    "height": "output height in pixels; give width and height together (default {w}x{h}, or the input's shape)",
    "seed": "random seed: the same seed and settings make the same output (default: a new seed each run)",
    "num_outputs": "how many outputs to make, each with its own seed (default 1)",
    "steps": "denoising steps: more is slower and finer (default: the profile's)",
    "num_frames": "frames in the clip; the model makes 4k+1 frames and rounds to that (default: duration_s x fps "
    "+ 1, else 5 s)",
    "fps": "frames per second of the clip (default {fps})",
    "duration_s": "length of the clip in seconds; frames = duration_s x fps + 1 (default 5 s)",
}


def tool_description(task: Task) -> str:
    """The one-line description of ``task``'s tool."""
    return _DESCRIPTIONS[task]


def _bounded(name: str, kind: type) -> tuple[Any, Any]:
    lo, hi = LIMITS[name]
    hint = _SETTING_HELP[name].format(w=DEFAULT_SIZE[0], h=DEFAULT_SIZE[1], fps=DEFAULT_FPS)
    bounds = f"{kind(lo)}..{kind(hi)}" if kind is int else f"{lo:g}..{hi:g}"
    return (kind | None, Field(default=None, ge=lo, le=hi, description=f"{hint}; {bounds}"))


def file_fields(task: Task) -> dict[str, tuple[Role, bool]]:
    """The fields of ``task``'s request that hold files: ``{name: (role, holds several)}``, in the order of the
    roles. A field is required when its role is in ``task.required_roles``."""
    ordered = sorted(task.roles, key=lambda r: list(Role).index(r))
    return {_ROLE_FIELDS[role][0]: (role, _ROLE_FIELDS[role][1]) for role in ordered}


def missing_files(task: Task, fields: Mapping[str, Any]) -> list[str]:
    """The file fields of ``task``'s request that ``fields`` (a request's values, None or empty = not given) must
    still have for the task to run: each required one left out, and, for a task that needs one of its optional
    files (image_to_video: a first or a last frame), the first of them when none is given."""
    files = file_fields(task)
    given = {name for name in files if fields.get(name)}
    needed = [name for name, (role, _) in files.items() if role in task.required_roles and name not in given]
    if files and not task.required_roles and not given:
        needed.append(next(iter(files)))
    return needed


def _file_help(role: Role, several: bool) -> str:
    form = f"a list, each {_FILE_FORM}" if several else _FILE_FORM
    return f"{_ROLE_HELP[role]}: {form}"


def _model_for(task: Task) -> type[BaseModel]:
    fields: dict[str, Any] = {
        "prompt": (
            str,
            Field(
                max_length=MAX_REQUEST_CHARS,
                description=(
                    "what to make (or, with a source, what to change), in the person's words"
                    if task.is_generation
                    else "the question to answer" + ("" if task is Task.TEXT_UNDERSTANDING else " about the files")
                ),
            ),
        ),
    }
    for name, (role, several) in file_fields(task).items():
        required = role in task.required_roles
        hint = _file_help(role, several)
        if several:
            fields[name] = (list[str], Field(min_length=1 if required else 0, default_factory=list, description=hint))
        elif required:
            fields[name] = (str, Field(description=hint))
        else:
            fields[name] = (str | None, Field(default=None, description=f"{hint} (optional)"))
    if task.is_generation:
        fields.update(width=_bounded("width", int), height=_bounded("height", int), seed=_bounded("seed", int))
        fields.update(num_outputs=_bounded("num_outputs", int), steps=_bounded("steps", int))
        fields["negative_prompt"] = (
            str | None,
            Field(default=None, max_length=MAX_REQUEST_CHARS, description="what the output should not show"),
        )
        if task.output_media is Media.VIDEO:
            fields.update(num_frames=_bounded("num_frames", int), fps=_bounded("fps", int))
            fields["duration_s"] = _bounded("duration_s", float)
        if task in (Task.IMAGE_CONTROL, Task.VIDEO_CONTROL):
            kinds = ", ".join(c.value for c in ControlType)
            fields["control_type"] = (
                ControlType | None,
                Field(
                    default=None,
                    description=f"the structure to follow: one of {kinds} (flow and gray: video only); default: "
                    "a control map is used as it is, another file's structure is taken as a map of the kind it "
                    "suits",
                ),
            )
    name = "".join(part.title() for part in task.value.split("_")) + "Request"
    model: type[BaseModel] = create_model(
        name, __config__=ConfigDict(extra="forbid"), __doc__=_DESCRIPTIONS[task], **fields
    )
    return model


TASK_REQUESTS: dict[Task, type[BaseModel]] = {task: _model_for(task) for task in Task}


def spec_from_request(task: Task, request: BaseModel, media_of: Any) -> TaskSpec:
    """The TaskSpec of a typed request. ``media_of(path_or_id)`` tells whether a file is an image or a video.

    Raises ``pydantic.ValidationError`` (a ValueError) when the combination is not valid for the task.
    """
    data = request.model_dump()
    inputs = []
    for role in task.roles:
        name, several = _ROLE_FIELDS[role]
        values = data.pop(name, None)
        for value in values if several else ([values] if values else []):
            inputs.append(Input(path=value, media=media_of(value), role=role))
    spec: dict[str, Any] = {"task": task, "inputs": inputs, **{k: v for k, v in data.items() if v is not None}}
    if task.is_generation and spec.get("num_outputs") is None:
        spec.pop("num_outputs", None)
    return TaskSpec.model_validate(spec)
