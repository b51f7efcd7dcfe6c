"""What the MCP tools return as structured content, as pydantic models: their JSON schemas are the tools'
``outputSchema``, and FastMCP checks every structured result against its tool's model before it is sent.

A run (``run``, the typed task tools, a finished job) returns :class:`RunResult`; the session tools return lists
of :class:`ArtifactFacts` and :class:`StepFacts` (as ``{"result": [...]}``, FastMCP's wrapping of a list) and
:class:`UndoResult`. ``plan`` returns the :class:`~unison_agent.spec.TaskSpec` itself.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

from unison_agent.sessions import ArtifactRecord
from unison_agent.spec import Media, Task

__all__ = ["ArtifactFacts", "OutputFacts", "RunResult", "StepFacts", "UndoResult", "output_facts"]


class OutputFacts(BaseModel):
    """One file a run made."""

    id: str = Field(description="the artifact's id: name it as @id in a later request or a file field")
    uri: str = Field(description="artifact://<id>: read it as a resource to get the file's bytes")
    path: str = Field(description="absolute path of the file in the server's workspace")
    media: Media = Field(description="image (PNG) or video (MP4)")
    width: int = Field(description="width in pixels")
    height: int = Field(description="height in pixels")
    num_frames: int = Field(description="frames in the clip (1 for a picture)")
    fps: float | None = Field(default=None, description="frames per second of a clip; null for a picture")
    seed: int | None = Field(default=None, description="the seed that made it: pass it again to make it again")


class RunResult(BaseModel):
    """What a run did: the answer (understanding tasks) or the files it made (generation tasks)."""

    task: Task = Field(description="the task that ran")
    text: str | None = Field(default=None, description="the answer of an understanding task; null otherwise")
    outputs: list[OutputFacts] = Field(default_factory=list, description="the files made, in order")
    spec: dict[str, Any] = Field(description="the TaskSpec that ran, after the model's rounding (as `plan` gives)")
    notes: list[str] = Field(
        default_factory=list, description="what the planner or the run changed or chose, worth telling the person"
    )


class ArtifactFacts(BaseModel):
    """A stored input or output of the session."""

    id: str = Field(description="the artifact's id (name it as @id)")
    session: str = Field(description="the session it belongs to")
    origin: Literal["input", "output"] = Field(description="input: a file attached; output: a file made")
    path: str = Field(description="absolute path of the stored file")
    name: str = Field(description="the file's original name (inputs) or its output name")
    media: Media = Field(description="image or video")
    width: int = Field(description="width in pixels")
    height: int = Field(description="height in pixels")
    num_frames: int = Field(description="frames (1 for a picture)")
    fps: float | None = Field(default=None, description="frames per second of a clip")
    seed: int | None = Field(default=None, description="the seed that made it (outputs)")
    parents: list[str] = Field(default_factory=list, description="ids of the artifacts it was made from")
    created: float = Field(description="when it was stored (seconds since the epoch)")


class StepFacts(BaseModel):
    """One step of the session's current branch."""

    id: int = Field(description="the step's number in the store")
    session: str = Field(description="the session it belongs to")
    parent: int | None = Field(description="the step before it on this branch; null for the first")
    request: str = Field(description="the request as given (typed tools: the task and its fields as JSON)")
    text: str | None = Field(description="the answer of an understanding step; null otherwise")
    inputs: list[str] = Field(description="ids of the artifacts it used")
    outputs: list[str] = Field(description="ids of the artifacts it made")
    created: float = Field(description="when it ran (seconds since the epoch)")


class UndoResult(BaseModel):
    """What ``undo`` undid."""

    undone: str | None = Field(description="the request of the step undone; null when there was nothing to undo")


def output_facts(record: ArtifactRecord) -> OutputFacts:
    """The facts a tool result gives about output ``record``."""
    return OutputFacts(
        id=record.id,
        uri=f"artifact://{record.id}",
        path=record.path,
        media=record.media,
        width=record.width,
        height=record.height,
        num_frames=record.num_frames,
        fps=record.fps,
        seed=record.seed,
    )
