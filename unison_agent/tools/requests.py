"""The request models of the tools, written once: the LangChain tools, the graph and the MCP server are built
from these, so every front door exposes the same names and fields.

``RunRequest`` is the automatic path (the person's words plus attachments; the planner decides). Each task also
has a typed request (``TASK_REQUESTS[task]``) for hosts that already know what they want: its fields are the
prompt, one field per attachment role (a file path or an ``@id``), and the task's output settings.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, create_model

from unison_agent.spec import LIMITS, MAX_REQUEST_CHARS, ControlType, Input, Media, Role, Task, TaskSpec

__all__ = ["TASK_REQUESTS", "RequestText", "RunRequest", "spec_from_request", "tool_description"]

RequestText = Annotated[
    str, Field(min_length=1, max_length=MAX_REQUEST_CHARS, description="the person's request, as they wrote it")
]
"""A request as a tool parameter: its length cap is in the schema, and longer text is refused by validation."""


class RunRequest(BaseModel):
    """Do what the person asked: plan the request, run it, return the answer or the files."""

    model_config = ConfigDict(extra="forbid")

    request: RequestText
    attachments: list[str] = Field(
        default_factory=list, description="attached files (paths) or earlier outputs (@id), in the order given"
    )


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
_FILE_HELP = "a file path or an earlier output's @id"


def tool_description(task: Task) -> str:
    return _DESCRIPTIONS[task]


def _bounded(name: str, kind: type) -> tuple[Any, Any]:
    lo, hi = LIMITS[name]
    return (kind | None, Field(default=None, ge=lo, le=hi))


def _model_for(task: Task) -> type[BaseModel]:
    fields: dict[str, Any] = {
        "prompt": (
            str,
            Field(
                max_length=MAX_REQUEST_CHARS,
                description="what to make, or the question" if task.is_generation else "the question",
            ),
        ),
    }
    for role in sorted(task.roles, key=lambda r: list(Role).index(r)):
        name, several = _ROLE_FIELDS[role]
        required = role in task.required_roles
        if several:
            fields[name] = (
                list[str],
                Field(min_length=1 if required else 0, default_factory=list, description=_FILE_HELP),
            )
        elif required:
            fields[name] = (str, Field(description=_FILE_HELP))
        else:
            fields[name] = (str | None, Field(default=None, description=_FILE_HELP))
    if task.is_generation:
        fields.update(width=_bounded("width", int), height=_bounded("height", int), seed=_bounded("seed", int))
        fields.update(num_outputs=_bounded("num_outputs", int), steps=_bounded("steps", int))
        fields["negative_prompt"] = (str | None, Field(default=None, description="what to avoid"))
        if task.output_media is Media.VIDEO:
            fields.update(num_frames=_bounded("num_frames", int), fps=_bounded("fps", int))
            fields["duration_s"] = _bounded("duration_s", float)
        if task in (Task.IMAGE_CONTROL, Task.VIDEO_CONTROL):
            fields["control_type"] = (ControlType | None, Field(default=None, description="the control signal"))
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
