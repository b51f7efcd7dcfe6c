"""What crosses the cluster for one run, and how each side turns it back into files: no Ray import.

A caller sends a :class:`RunPayload`: the spec, and each attachment's bytes (``files = "bytes"``, the default: no
disk is shared) or nothing (``files = "shared"``: replicas read the caller's own paths). The replica writes the
attachments into a scratch folder, runs the spec there, and answers with a :class:`RunReply`: the result, with
each output as its encoded PNG/MP4 bytes (and a clip's JSON sidecar). The caller writes those into its own folder
atomically (:func:`place_outputs`). The spec and the files' metadata name the caller's paths, never the
replica's scratch folder. Errors travel by name and message (:func:`encode_error` / :func:`decode_error`), so
that a :class:`~unison_agent.errors.UnisonError` raised on a replica is the same class at the caller.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from unison_agent import errors
from unison_agent.errors import RunCancelled, ToolError, UnreadableInputError, one_line
from unison_agent.spec import TaskSpec
from unison_agent.tools.outputs import unique_path, write_encoded
from unison_agent.tools.results import RunResult, renamed_inputs

__all__ = [
    "OutputFile",
    "RunPayload",
    "RunReply",
    "decode_error",
    "encode_error",
    "pack_request",
    "pack_result",
    "place_outputs",
    "unpack_request",
]


@dataclass(frozen=True)
class RunPayload:
    """One run as sent to a replica. ``files`` holds ``(file name, bytes)`` for each distinct attachment path of
    the spec, in the order of first use; ``None`` when the replicas read the paths themselves (a shared disk)."""

    spec: TaskSpec
    files: list[tuple[str, bytes]] | None = None


@dataclass(frozen=True)
class OutputFile:
    """One output as encoded on the replica: its file name, its bytes, and a clip's JSON sidecar."""

    name: str
    data: bytes
    sidecar: bytes | None = None


@dataclass(frozen=True)
class RunReply:
    """A replica's answer: the result (each output's ``path`` is just its file name) and the files."""

    result: RunResult
    files: list[OutputFile] = field(default_factory=list)


def pack_request(spec: TaskSpec, files: Literal["bytes", "shared"] = "bytes") -> RunPayload:
    """The payload for ``spec``: with ``files="bytes"`` every attachment is read now, so a missing file fails here,
    before anything is sent. Raises :class:`UnreadableInputError` naming the file that cannot be read."""
    if files == "shared":
        return RunPayload(spec=spec)
    contents: list[tuple[str, bytes]] = []
    for path in dict.fromkeys(i.path for i in spec.inputs):
        try:
            contents.append((Path(path).name or "input", Path(path).read_bytes()))
        except OSError as e:
            raise UnreadableInputError(
                f"{Path(path).name}: cannot be read to send it to the cluster ({e.strerror or e})"
            ) from None
    return RunPayload(spec=spec, files=contents)


def unpack_request(payload: RunPayload, folder: Path) -> tuple[TaskSpec, dict[str, str]]:
    """On the replica: write the payload's attachments into ``folder`` (one subfolder each, keeping the file names:
    formats are told by their suffix) and return the spec reading them there, with ``{path here: caller's path}``
    (empty for a shared disk: the paths are the caller's own)."""
    if payload.files is None:
        return payload.spec, {}
    originals = list(dict.fromkeys(i.path for i in payload.spec.inputs))
    if len(originals) != len(payload.files):
        raise ToolError(f"the request carried {len(payload.files)} files for {len(originals)} attachments")
    here: dict[str, str] = {}  # caller's path -> path here
    for k, (original, (name, data)) in enumerate(zip(originals, payload.files, strict=True)):
        target = folder / str(k) / (Path(name).name or "input")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
        here[original] = str(target)
    return renamed_inputs(payload.spec, here), {v: k for k, v in here.items()}


def pack_result(result: RunResult) -> RunReply:
    """On the replica: the result with its files read back (each output's path becomes its file name)."""
    files: list[OutputFile] = []
    outputs = []
    for artifact in result.outputs:
        path = Path(artifact.path)
        sidecar = path.with_suffix(".json")
        files.append(OutputFile(path.name, path.read_bytes(), sidecar.read_bytes() if sidecar.exists() else None))
        outputs.append(artifact.model_copy(update={"path": path.name}))
    return RunReply(result=result.model_copy(update={"outputs": outputs}), files=files)


def place_outputs(reply: RunReply, out_dir: str | Path) -> RunResult:
    """At the caller: write the reply's files into ``out_dir`` (each under a name not taken there, as a local run
    picks it; atomically) and return the result with their paths. All or nothing: when one file cannot be
    written, those already written are removed and the error is raised."""
    folder = Path(out_dir)
    folder.mkdir(parents=True, exist_ok=True)
    by_name = {f.name: f for f in reply.files}
    written: list[Path] = []
    outputs = []
    try:
        for artifact in reply.result.outputs:
            sent = by_name[artifact.path]
            name = Path(sent.name)
            target = write_encoded(unique_path(folder, name.stem, name.suffix), sent.data, sent.sidecar)
            written.append(target)
            outputs.append(artifact.model_copy(update={"path": str(target)}))
    except BaseException:
        for path in written:
            path.unlink(missing_ok=True)
            if path.suffix != ".json":
                path.with_suffix(".json").unlink(missing_ok=True)
        raise
    return reply.result.model_copy(update={"outputs": outputs})


def encode_error(error: BaseException, names: Mapping[str, str] | None = None) -> dict[str, Any]:
    """``error`` as plain data: its class name (for ours), its one-line message and its plain attributes. ``names``
    (``{path here: caller's path}`` from :func:`unpack_request`) puts the caller's paths back where the message or
    an attribute (a :class:`~unison_agent.errors.MediaError`'s ``path``) names a replica's copy of an attachment."""

    def named(value: Any) -> Any:
        if isinstance(value, str):
            for here, caller in (names or {}).items():
                value = value.replace(here, caller)
        return value

    attrs = {k: named(v) for k, v in vars(error).items() if isinstance(v, str | int | float | bool)}
    return {"type": type(error).__name__, "message": named(one_line(error)), "attrs": attrs}


def decode_error(data: Mapping[str, Any]) -> BaseException:
    """The error :func:`encode_error` encoded: the same class when it is one of :mod:`unison_agent.errors` (with its
    attributes), else a :class:`ToolError` that names the class (a defect on the replica, reported as it is)."""
    name, message = str(data.get("type", "")), str(data.get("message", ""))
    cls = getattr(errors, name, None)
    if name == "RunCancelled":
        return RunCancelled(message)
    if not (isinstance(cls, type) and issubclass(cls, errors.UnisonError)):
        return ToolError(f"the run failed on the cluster: {name}: {message}")
    error = cls.__new__(cls)
    Exception.__init__(error, message)  # constructors differ (MediaError takes path and problem): set args as-is
    for key, value in dict(data.get("attrs") or {}).items():
        with contextlib.suppress(AttributeError):
            setattr(error, key, value)
    return error
