"""What a run returns, and the progress events it emits on the way."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from unison_agent.spec import Media, TaskSpec

__all__ = ["Artifact", "Progress", "ProgressEvent", "RunResult", "renamed_inputs"]


class Artifact(BaseModel):
    """One file a run wrote, with the facts a caller needs without opening it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    path: str
    media: Media
    width: int
    height: int
    num_frames: int
    fps: int | None = Field(description="frames per second of a video; null for an image")
    seed: int


class RunResult(BaseModel):
    """The answer (understanding) or the files (generation) of one run.

    ``spec`` is the spec as it was run: sizes and frame counts snapped to what the model accepts, and the seed
    filled in. ``notes`` says every way it differs from the spec that was asked for.
    """

    model_config = ConfigDict(extra="forbid")

    spec: TaskSpec
    text: str | None = None
    outputs: list[Artifact] = Field(default_factory=list)
    notes: list[str] = Field(default_factory=list)
    seconds: float = 0.0

    def to_json_dict(self) -> dict[str, Any]:
        """``{"spec", "text"}`` for understanding, ``{"spec", "outputs"}`` for generation, plus ``notes``."""
        data: dict[str, Any] = {"spec": self.spec.to_json_dict()}
        if self.spec.task.is_understanding:
            data["text"] = self.text
        else:
            data["outputs"] = [o.model_dump(mode="json") for o in self.outputs]
        data["notes"] = list(self.notes)
        return data


Stage = Literal["load", "prepare", "compile", "denoise", "decode", "answer", "write"]


@dataclass(frozen=True)
class ProgressEvent:
    """One step of a run: ``done`` of ``total`` in ``stage``, for output ``output`` of ``outputs``."""

    stage: Stage
    done: int
    total: int
    output: int = 1
    outputs: int = 1
    message: str = ""


Progress = Callable[[ProgressEvent], None]


def renamed_inputs(spec: TaskSpec, names: Mapping[str, str]) -> TaskSpec:
    """``spec`` with each attachment path found in ``names`` replaced by its value (a run on copies of the
    attachments records the paths the caller knows them by)."""
    if not names:
        return spec
    inputs = [i.model_copy(update={"path": names.get(i.path, i.path)}) for i in spec.inputs]
    return spec.model_copy(update={"inputs": inputs})
