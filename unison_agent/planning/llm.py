"""Plan with any LangChain chat model: :class:`LLMPlanner`.

The model gets the planning contract (written from ``spec.py``'s own tables, so it cannot drift) and the probed
facts of each attachment (medium, size, length, what it looks like), and answers with one JSON object: a model
with tool calling (``with_structured_output``: OpenAI's, Anthropic's, Ollama's...) fills in :class:`PlanAnswer`,
any other writes the object as text. The answer goes through three gates before it becomes a TaskSpec:

1. **read**: the structured answer as parsed; else the first JSON object in the reply (a structured answer that
   did not fit its schema: its tool-call arguments), also from a code fence, with trailing commas, Python
   literals or a reply cut off by a token limit;
2. **repair**: fixes that need no judgement, each recorded as a note: field-name aliases (``frames``,
   ``seconds``), enum spellings (``"Image Editing"``), file names matched loosely, fields that do not apply to
   the task dropped, a role the model did not give filled by the embedded planner's rules, an empty prompt
   filled the same way;
3. **validate** with :class:`~unison_agent.spec.TaskSpec`. What still fails is sent back to the model once,
   with the validation messages; if the second answer fails too (or the model raises, or takes longer than
   ``timeout_s``), the embedded planner's plan is used and :class:`~unison_agent.planning.base.Planned` says so.

A model that takes longer than ``timeout_s`` is not left working: one that accepts a ``cancel`` event (the local
``transformers`` model) is stopped and waited for; a provider's HTTP call is given ``timeout_s`` as its own
request timeout where the planner is made (``planners.choice``), so it ends by itself.

``hybrid=True`` asks the model only when the embedded planner has doubts about its own plan (see
``EmbeddedPlanner.assess``): most requests cost a millisecond, the ambiguous ones get the model.

LangChain (``langchain-core``) is imported only when a model is asked.
"""

from __future__ import annotations

import ast
import difflib
import json
import os
import re
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from unison_agent.errors import one_line
from unison_agent.planning.base import Attachment, Planned, PlanningError, check_request_length
from unison_agent.planning.base import probed as _probed
from unison_agent.planning.embedded import EmbeddedPlanner
from unison_agent.spec import (
    DEFAULT_FPS,
    DEFAULT_NUM_FRAMES,
    DEFAULT_SIZE,
    GENERATION_FIELDS,
    ControlType,
    Media,
    Role,
    Task,
    TaskSpec,
    duration_for_frames,
    duration_matches,
    explain,
)

__all__ = ["FileRole", "LLMPlanner", "ModelTimeout", "PlanAnswer", "build_messages", "contract_text", "read_answer"]

_VIDEO_ONLY = ("fps", "duration_s")
_FIELDS = ("task", "prompt", "roles", "missing", *GENERATION_FIELDS)

# Names models use for the contract's fields.
_ALIASES = {
    "frames": "num_frames",
    "n_frames": "num_frames",
    "frame_count": "num_frames",
    "numframes": "num_frames",
    "duration": "duration_s",
    "seconds": "duration_s",
    "length_s": "duration_s",
    "length": "duration_s",
    "framerate": "fps",
    "frame_rate": "fps",
    "negative": "negative_prompt",
    "negativeprompt": "negative_prompt",
    "outputs": "num_outputs",
    "n_outputs": "num_outputs",
    "count": "num_outputs",
    "guidance": "guidance_scale",
    "cfg": "guidance_scale",
    "cfg_scale": "guidance_scale",
    "num_inference_steps": "steps",
    "control": "control_type",
    "attachments": "roles",
    "files": "roles",
    "inputs": "roles",
    "task_type": "task",
}
_ROLE_ALIASES = {
    "first": Role.FIRST_FRAME,
    "start": Role.FIRST_FRAME,
    "start_frame": Role.FIRST_FRAME,
    "last": Role.LAST_FRAME,
    "end": Role.LAST_FRAME,
    "end_frame": Role.LAST_FRAME,
    "final_frame": Role.LAST_FRAME,
    "ref": Role.REFERENCE,
    "style": Role.REFERENCE,
    "control_map": Role.CONTROL,
    "control_video": Role.CONTROL,
}
_WRAPPERS = ("spec", "taskspec", "task_spec", "plan", "answer", "result", "output")
_SIZE = re.compile(r"^\s*(\d{2,5})\s*[x×*,]\s*(\d{2,5})\s*$")

_EXAMPLES: tuple[tuple[str, list[tuple[str, str]], dict[str, Any]], ...] = (
    (
        "animate this, 3 seconds, vertical",
        [("beach.jpg", "image, 640x480, looks like a photo")],
        {
            "task": "image_to_video",
            "prompt": "animate this",
            "roles": {"beach.jpg": "first_frame"},
            "missing": [],
            "width": 480,
            "height": 832,
            "num_frames": 49,
            "duration_s": 3,
        },
    ),
    (
        "Swap the dog for a white cat, the mask shows where",
        [
            ("IMG_0042.jpg", "image, 1024x768, looks like a photo"),
            ("m.png", "image, 1024x768, looks like a mask (white = the area to change)"),
        ],
        {
            "task": "image_editing",
            "prompt": "Swap the dog for a white cat",
            "roles": {"IMG_0042.jpg": "source", "m.png": "mask"},
            "missing": [],
        },
    ),
    (
        "what breed is this dog?",
        [("dog.png", "image, 800x600, looks like a photo")],
        {
            "task": "image_understanding",
            "prompt": "what breed is this dog?",
            "roles": {"dog.png": "context"},
            "missing": [],
        },
    ),
    (
        "a red fox running through snow, 1080p, seed 7, two versions",
        [],
        {
            "task": "text_to_video",
            "prompt": "a red fox running through snow",
            "roles": {},
            "missing": [],
            "width": 1920,
            "height": 1080,
            "seed": 7,
            "num_outputs": 2,
        },
    ),
)


class ModelTimeout(TimeoutError):
    """The chat model did not answer within the planner's ``timeout_s``."""


# The contract's answer as a schema, for models that answer through tool calling. Its docstrings and descriptions
# are what such a model reads beside the contract. Roles are a list, not a {file: role} object: strict JSON-schema
# modes (OpenAI's) and Gemini's function declarations take no object with free keys. No ranges: a value out of
# range is answered with the validation message, as for a text answer.
class FileRole(BaseModel):
    """One attached file and the part it plays."""

    model_config = ConfigDict(extra="forbid")

    file: str = Field(description="The file's name as listed in the request.")
    role: Role


class PlanAnswer(BaseModel):
    """The plan for the request: one task, the prompt, the role of every attached file, the roles still missing,
    and only the settings the user stated."""

    model_config = ConfigDict(extra="forbid")

    task: Task
    prompt: str = Field(
        description="The content of the request without meta phrases; for understanding tasks, the question itself."
    )
    roles: list[FileRole] = Field(default_factory=list, description="Every attached file with its role.")
    missing: list[Role] = Field(default_factory=list, description="Roles the task needs whose file is not attached.")
    width: int | None = Field(default=None, description="Pixels, only when stated.")
    height: int | None = Field(default=None, description="Pixels, only when stated.")
    num_frames: int | None = Field(default=None, description="Videos: frames, only when stated.")
    fps: int | None = Field(default=None, description="Videos: frames per second, only when stated.")
    duration_s: float | None = Field(default=None, description="Videos: seconds, only when stated.")
    control_type: ControlType | None = None
    seed: int | None = None
    num_outputs: int | None = Field(default=None, description="How many results, only when stated.")
    steps: int | None = None
    guidance_scale: float | None = None
    negative_prompt: str | None = None


@dataclass(frozen=True)
class _Reply:
    """One answer of the model: ``text`` as shown back to it on a retry; ``data``, the answer's fields when they
    came structured (``None``: ``text`` is read)."""

    text: str
    data: dict[str, Any] | None = None


def contract_text() -> str:
    """The system prompt: the planning contract, written from the spec's own tables."""
    tasks = {
        Task.TEXT_UNDERSTANDING: "answer in text, nothing attached: maths, writing, chat, writing a prompt",
        Task.IMAGE_UNDERSTANDING: "a question, caption or description about an attached image",
        Task.VIDEO_UNDERSTANDING: "the same about an attached video",
        Task.TEXT_TO_IMAGE: "make a picture from words only",
        Task.TEXT_TO_VIDEO: "make a video from words only",
        Task.IMAGE_EDITING: "change the attached image itself (an instruction, inside a mask, restyle, outpaint)",
        Task.VIDEO_EDITING: "change the attached video itself",
        Task.IMAGE_REFERENCE: "a new image showing the subject, identity, object or style of attached pictures",
        Task.VIDEO_REFERENCE: "a new video showing the subject, identity or object of attached pictures",
        Task.IMAGE_TO_VIDEO: 'the attached picture is the first and/or last frame of a new video ("animate this")',
        Task.VIDEO_CONTROL: "a new video following a control video (given, or extracted from a clip)",
        Task.IMAGE_CONTROL: "a new image following a control map (given, or extracted from a picture)",
    }
    task_lines = "\n".join(
        f"- {t.value}: {tasks[t]}; roles: {', '.join(sorted(r.value for r in t.roles)) or 'none'}" for t in Task
    )
    controls = ", ".join(c.value for c in ControlType)
    w, h = DEFAULT_SIZE
    return f"""You turn a request for a media assistant into a plan. Reply with ONE JSON object and nothing else.

Tasks (choose exactly one) and the roles each uses:
{task_lines}

Roles: context (understanding), source (the file being changed), mask (white = area to change), reference \
(identity, subject or style), first_frame, last_frame, control (a control map or video).
Every attached file gets a role, keyed by its file name in "roles".
"missing": roles the request needs whose file was not attached ("edit this photo" with nothing attached: \
["source"]).
"prompt": the content of the request without meta phrases (sizes, durations, fps, seeds, steps, guidance, \
number of outputs, negative prompt). For understanding tasks: the question itself, unchanged.

Only when the user states them, add: width, height (pixels; 480p = 832x480, 720p = 1280x720, 1080p = 1920x1080; \
portrait or vertical swaps them), num_frames, fps (videos; default {DEFAULT_FPS}), duration_s (num_frames = \
seconds * fps + 1), control_type (one of: {controls}), seed, num_outputs, steps, guidance_scale, negative_prompt. \
Leave out everything not stated: the defaults are {w}x{h}, {DEFAULT_NUM_FRAMES} frames at {DEFAULT_FPS} fps."""


def _user_text(text: str, files: list[str]) -> str:
    listed = "\n".join(f"{i}. {f}" for i, f in enumerate(files, 1)) or "(none)"
    return f"Request: {text}\nAttached files, in order:\n{listed}"


def _labels(atts: Sequence[Attachment]) -> list[str]:
    """How the prompt names each attachment: its file name, numbered when two share one."""
    names = [os.path.basename(a.path) or a.path for a in atts]
    return [f"{n} (file {i + 1})" if names.count(n) > 1 else n for i, n in enumerate(names)]


def _facts(a: Attachment) -> str:
    looks = {
        "photo": "a photo or picture",
        "mask": "a mask (white = the area to change)",
        "pose": "a pose skeleton",
        "depth": "a depth map",
        "edge": "an edge map",
        "scribble": "a sketch or scribble",
    }
    size = f", {a.width}x{a.height}" if a.width and a.height else ""
    length = ""
    if a.media is Media.VIDEO and a.duration_s:
        length = f", {a.duration_s:g} s" + (f" at {a.fps:g} fps" if a.fps else "")
    return f"{a.media.value}{size}{length}, looks like {looks.get(a.look, a.look)}"


def build_messages(
    text: str, atts: Sequence[Attachment], draft: TaskSpec | None = None, doubts: Sequence[str] = ()
) -> list[tuple[str, str]]:
    """The conversation for one request, as ``(role, content)`` pairs: the contract as the system message,
    worked examples as earlier turns (small models follow turns better than examples inside the system
    message), then the request. ``draft``/``doubts`` (hybrid mode): the rules' plan and why they are unsure of
    it, shown to the model as a draft to check."""
    labels = _labels(atts)
    files = [f"{label}: {_facts(a)}" for label, a in zip(labels, atts, strict=True)]
    messages = [("system", contract_text())]
    for example, example_files, answer in _EXAMPLES:
        messages.append(("human", _user_text(example, [f"{n}: {facts}" for n, facts in example_files])))
        messages.append(("ai", json.dumps(answer)))
    request = _user_text(text, files)
    if draft is not None:
        request += (
            f"\nThe embedded planner drafted {json.dumps(_answer_form(draft, atts, labels))} but is unsure: "
            f"{'; '.join(doubts)}. Answer with the right plan (the draft, or your correction)."
        )
    messages.append(("human", request))
    return messages


def _is_default(values: dict[str, Any], task: Task) -> bool:
    """Whether ``values`` are what the contract gives ``task`` when nothing is said."""
    default: dict[str, Any] = {"width": DEFAULT_SIZE[0], "height": DEFAULT_SIZE[1], "num_outputs": 1}
    if task.output_media is Media.VIDEO:
        default |= {"num_frames": DEFAULT_NUM_FRAMES, "fps": DEFAULT_FPS}
        default["duration_s"] = duration_for_frames(DEFAULT_NUM_FRAMES, DEFAULT_FPS)
    else:
        default |= {"num_frames": 1}
    return all(v is None or default.get(k) == v for k, v in values.items())


def _answer_form(spec: TaskSpec, atts: Sequence[Attachment], labels: list[str]) -> dict[str, Any]:
    """``spec`` in the answer format the contract asks for: roles by file name, defaults left out."""
    label = {a.path: lab for a, lab in zip(atts, labels, strict=True)}
    out: dict[str, Any] = {
        "task": spec.task.value,
        "prompt": spec.prompt,
        "roles": {label.get(i.path, i.path): i.role.value for i in spec.inputs},
        "missing": [r.value for r in spec.missing],
    }
    defaults = {
        "width": DEFAULT_SIZE[0],
        "height": DEFAULT_SIZE[1],
        "fps": DEFAULT_FPS,
        "num_frames": 1 if spec.task.output_media is Media.IMAGE else DEFAULT_NUM_FRAMES,
        "num_outputs": 1,
    }
    for name in GENERATION_FIELDS:
        value = getattr(spec, name)
        if value is None or defaults.get(name) == value:
            continue
        if name == "duration_s" and spec.num_frames == DEFAULT_NUM_FRAMES and spec.fps == DEFAULT_FPS:
            continue
        out[name] = value.value if isinstance(value, ControlType) else value
    return out


# ------------------------------------------------------------------------------------------------ reading
def _first_object(reply: str) -> tuple[str, bool] | None:
    """The text of the first balanced ``{...}`` in ``reply``, and whether it had to be closed (a reply cut
    off by a token limit)."""
    start = reply.find("{")
    if start < 0:
        return None
    quote, escaped, closers = "", False, []
    for i in range(start, len(reply)):
        c = reply[i]
        if quote:
            if escaped:
                escaped = False
            elif c == "\\":
                escaped = True
            elif c == quote:
                quote = ""
        elif c in "\"'":
            quote = c
        elif c in "{[":
            closers.append("}" if c == "{" else "]")
        elif c in "}]" and closers:
            closers.pop()
            if not closers:
                return reply[start : i + 1], False
    tail = reply[start:].rstrip().rstrip(",") + quote
    return tail + "".join(reversed(closers)), True


def read_answer(reply: str) -> tuple[dict[str, Any], list[str]]:
    """The JSON object in a model's reply, and notes on what had to be fixed to read it.

    Raises ``ValueError`` when there is no object to read."""
    found = _first_object(reply)
    if found is None:
        raise ValueError("the reply holds no JSON object")
    body, closed = found
    notes: list[str] = []
    if not reply.strip().startswith("{"):
        notes.append("took the JSON object out of the text around it")
    if closed:
        notes.append("closed a reply that was cut off")
    candidates = [body, re.sub(r",\s*([}\]])", r"\1", body)]
    for candidate in candidates:
        try:
            value = json.loads(candidate)
            break
        except json.JSONDecodeError:
            continue
    else:
        literal = candidates[1]
        for word, py in (("null", "None"), ("true", "True"), ("false", "False")):
            literal = re.sub(rf"\b{word}\b", py, literal)
        try:  # single quotes, True/None: a Python literal
            value = ast.literal_eval(literal)
        except (ValueError, SyntaxError, MemoryError, RecursionError) as e:
            raise ValueError(f"its JSON cannot be read ({e.__class__.__name__}: {one_line(str(e), 80)})") from None
        notes.append("read the answer as a Python literal (single quotes or True/None)")
    if candidate != body:  # the text that was read is the one without trailing commas
        notes.append("removed trailing commas")
    if not isinstance(value, dict):
        raise ValueError(f"its JSON is a {type(value).__name__}, expected an object")
    return value, notes


def _norm_key(key: str) -> str:
    return re.sub(r"[\s\-]+", "_", key.strip().lower())


def _enum(value: Any, enum: type[Task] | type[Role] | type[ControlType], extra: dict[str, Any] | None = None) -> Any:
    """``value`` as a member of ``enum``, spelled loosely ("Image Editing", "first frame"); ``None`` when
    nothing is close."""
    if isinstance(value, enum):
        return value
    if not isinstance(value, str):
        return None
    key = _norm_key(value)
    if extra and key in extra:
        return extra[key]
    names = [m.value for m in enum]
    if key in names:
        return enum(key)
    close = difflib.get_close_matches(key, names, n=1, cutoff=0.85)
    return enum(close[0]) if close else None


class _Answer:
    """One model answer turned into TaskSpec fields, with the repairs it needed."""

    def __init__(self, text: str, atts: list[Attachment], rules: EmbeddedPlanner) -> None:
        self.text, self.atts, self.rules = text, atts, rules
        self.labels = _labels(atts)
        self.notes: list[str] = []
        self.problems: list[str] = []

    def _index(self, key: Any) -> int | None:
        """Which attachment ``key`` names: its label, file name (any case), path, or number (1-based)."""
        if isinstance(key, int) and not isinstance(key, bool):
            return key - 1 if 1 <= key <= len(self.atts) else None
        if not isinstance(key, str):
            return None
        k = key.strip()
        for i, a in enumerate(self.atts):
            if k in (self.labels[i], a.path, os.path.basename(a.path)):
                return i
        low = k.lower()
        for i, a in enumerate(self.atts):
            if low in (self.labels[i].lower(), os.path.basename(a.path).lower()):
                return i
        m = re.fullmatch(r"(?:file\s*)?#?(\d+)", low)
        if m:
            return self._index(int(m.group(1)))
        base = os.path.basename(k).lower()
        for i, a in enumerate(self.atts):
            if base and base == os.path.basename(a.path).lower():
                return i
        return None

    def _roles(self, raw: Any) -> dict[int, Role]:
        pairs: list[tuple[Any, Any]] = []
        if isinstance(raw, dict):
            pairs = list(raw.items())
        elif isinstance(raw, list):  # [{"path": ..., "role": ...}] as in the TaskSpec schema
            for item in raw:
                if isinstance(item, dict):
                    ref = next((item[k] for k in ("path", "name", "file", "file_name", "filename") if k in item), None)
                    pairs.append((ref, item.get("role")))
                else:
                    self.problems.append(f"roles: expected {{file name: role}}, got {one_line(repr(item), 60)}")
        elif raw is not None:
            self.problems.append(f"roles: expected {{file name: role}}, got {one_line(repr(raw), 60)}")
        out: dict[int, Role] = {}
        for ref, value in pairs:
            index = self._index(ref)
            if index is None:
                names = ", ".join(self.labels) or "none: nothing is attached"
                self.problems.append(f"roles: {ref!r} is not an attached file; the files are: {names}")
                continue
            role = _enum(value, Role, _ROLE_ALIASES)
            if role is None:
                allowed = ", ".join(r.value for r in Role)
                self.problems.append(f"roles: {self.labels[index]}: {value!r} is not a role; allowed: {allowed}")
                continue
            if isinstance(value, str) and value != role.value:
                self.notes.append(f"read role {value!r} as {role.value}")
            out[index] = role
        return out

    def fields(self, data: dict[str, Any]) -> dict[str, Any] | None:
        """TaskSpec fields from the model's object, or ``None`` with :attr:`problems` set."""
        for wrapper in _WRAPPERS:
            inner = data.get(wrapper)
            if isinstance(inner, dict) and "task" in inner and "task" not in data:
                data = inner
                self.notes.append(f"took the plan out of its {wrapper!r} wrapper")
                break
        values: dict[str, Any] = {}
        for key, value in data.items():
            name = _norm_key(str(key))
            name = _ALIASES.get(name, name)
            if name in ("size", "resolution") and isinstance(value, str) and _SIZE.match(value):
                m = _SIZE.match(value)
                assert m is not None
                values.setdefault("width", int(m.group(1)))
                values.setdefault("height", int(m.group(2)))
                self.notes.append(f"read {key} {value!r} as width and height")
                continue
            if name not in _FIELDS:
                self.notes.append(f"ignored field {key!r}")
                continue
            if name != str(key):
                self.notes.append(f"read field {key!r} as {name}")
            values[name] = value

        task = _enum(values.get("task"), Task)
        if task is None:
            allowed = ", ".join(t.value for t in Task)
            self.problems.append(f"task: {values.get('task')!r} is not a task; allowed: {allowed}")
            return None
        if values.get("task") != task.value:
            self.notes.append(f"read task {values.get('task')!r} as {task.value}")
        roles = self._roles(values.get("roles"))

        # Fill what the model left out from the rules, for this task; drop what does not apply to it.
        try:
            filled = self.rules.complete(self.text, self.atts, task, roles)
        except PlanningError as e:
            self.problems.append(str(e))
            return None
        for item in filled.inputs:
            index = self._path_index(item.path)
            if index not in roles:
                self.notes.append(f"{self.labels[index]}: no role given; the rules say {item.role.value}")
            elif roles[index] is not item.role:  # pragma: no cover - complete() keeps fixed roles
                self.problems.append(f"{self.labels[index]}: role {roles[index].value} could not be kept")
        out: dict[str, Any] = {"task": task, "inputs": [i.model_dump() for i in filled.inputs]}
        prompt = values.get("prompt")
        if isinstance(prompt, str) and prompt.strip():
            out["prompt"] = prompt.strip()
        else:
            out["prompt"] = filled.prompt
            self.notes.append("no prompt given; the rules' prompt used")
        missing_raw = values.get("missing") or []
        if not isinstance(missing_raw, list):
            missing_raw = [missing_raw]
        present = {i.role for i in filled.inputs}
        missing: list[Role] = []
        for value in missing_raw:
            role = _enum(value, Role, _ROLE_ALIASES)
            if role is None:
                self.problems.append(f"missing: {value!r} is not a role; allowed: {', '.join(r.value for r in Role)}")
            elif role in present or role not in task.roles:
                self.notes.append(f"dropped {role.value} from missing (it is attached or not used by {task.value})")
            elif role not in missing:
                missing.append(role)
        present |= set(missing)
        needs = [r for r in task.required_roles if r not in present]
        if task is Task.IMAGE_TO_VIDEO and not present & {Role.FIRST_FRAME, Role.LAST_FRAME}:
            needs.append(Role.FIRST_FRAME)
        for role in needs:  # the answer contradicts itself: this task cannot run without that file
            self.problems.append(
                f"{task.value} needs a {role.value} but no attached file plays it and missing does not list it; "
                f"give a file that role, list {role.value} in missing, or choose another task"
            )
        out["missing"] = missing

        out_media = task.output_media
        for name in GENERATION_FIELDS:
            value = values.get(name)
            if value is None or (isinstance(value, str) and not value.strip()):
                continue
            if out_media is None or (name in _VIDEO_ONLY and out_media is Media.IMAGE):
                self.notes.append(f"dropped {name} (does not apply to {task.value})")
                continue
            if name == "num_frames" and out_media is Media.IMAGE:
                if value != 1:
                    self.notes.append(f"dropped num_frames {value!r} ({task.value} makes one image)")
                continue
            if name == "control_type":
                ct = _enum(value, ControlType)
                if ct is None:
                    self.problems.append(
                        f"control_type: {value!r} is not one; allowed: {', '.join(c.value for c in ControlType)}"
                    )
                    continue
                value = ct
            out[name] = value
        if out_media is not None:
            self._fill_settings(out, filled)
        if out_media is Media.VIDEO:
            self._fix_timing(out)
        return None if self.problems else out

    def _fill_settings(self, out: dict[str, Any], filled: TaskSpec) -> None:
        """Settings the model left out come from the rules' plan for the same task: a size that follows the
        edited picture, the clip's length, a seed the model overlooked. Size and timing move as groups, so
        that a model's own frames are never mixed with the rules' seconds."""
        groups = [("width", "height"), ("num_frames", "fps", "duration_s")]
        groups += [(name,) for name in ("control_type", "seed", "num_outputs", "steps", "guidance_scale")]
        groups += [("negative_prompt",)]
        taken: list[str] = []
        for group in groups:
            if any(name in out for name in group):
                continue
            values = {name: getattr(filled, name) for name in group}
            if _is_default(values, filled.task):
                continue
            out.update({k: v for k, v in values.items() if v is not None})
            taken += [k for k, v in values.items() if v is not None]
        if taken:
            self.notes.append(f"not in the answer, from the rules: {', '.join(taken)}")

    def _path_index(self, path: str) -> int:
        return next(i for i, a in enumerate(self.atts) if a.path == path)

    def _fix_timing(self, out: dict[str, Any]) -> None:
        """A model that gives frames, fps and seconds that disagree: the frames and fps stand."""
        frames, fps, secs = out.get("num_frames"), out.get("fps") or DEFAULT_FPS, out.get("duration_s")
        if not all(isinstance(x, (int, float)) and not isinstance(x, bool) for x in (frames, fps, secs)):
            return
        assert frames is not None and secs is not None
        if fps > 0 and not duration_matches(frames, fps, secs):
            del out["duration_s"]
            self.notes.append(f"dropped duration_s {secs!r}: it disagrees with {frames} frames at {fps} fps")


class LLMPlanner:
    """Plan requests with a LangChain chat model; every plan is a validated TaskSpec.

    ``chat_model``: any ``langchain_core`` chat model (``init_chat_model("openai:gpt-4o-mini")``, a local
    one...); one with tool calling is asked for :class:`PlanAnswer` through ``with_structured_output``, any other
    for the JSON object as text. ``hybrid``: ask the model only when the embedded planner is unsure.
    ``timeout_s``: how long one model call may take before the embedded plan is used. A model that declares
    ``accepts_cancel = True`` gets ``invoke(messages, cancel=<threading.Event>)``; the event is set when the time
    is up, and the planner then waits up to ``stop_wait_s`` for the call to end (the local ``transformers`` model
    stops after the token it is making). Any other call cannot be stopped from here: it finishes in the
    background and is ignored (``planners.choice`` gives a provider's client ``timeout_s`` as its own request
    timeout, so that call ends by itself). ``retries``: how many times an invalid answer is sent back (default
    1). ``name``: how plans are labelled (``llm:<provider>:<model>``). ``prefill``: text the answer must start
    with, sent as the start of the model's own turn (``'{"task": "'``); only for text answers of models that
    continue a final assistant message (Anthropic's, the local ``transformers`` provider); small models follow
    the format far more often with it.
    """

    stop_wait_s = 10.0  # how long a stopped call may take to end: one token of a large model on a CPU

    def __init__(
        self,
        chat_model: Any,
        *,
        name: str = "llm",
        hybrid: bool = False,
        timeout_s: float = 120.0,
        retries: int = 1,
        rules: EmbeddedPlanner | None = None,
        prefill: str = "",
    ) -> None:
        if not callable(getattr(chat_model, "invoke", None)):
            raise TypeError(
                f"chat_model must be a LangChain chat model (with .invoke), got {type(chat_model).__name__}"
            )
        if timeout_s <= 0:
            raise ValueError(f"timeout_s must be > 0, got {timeout_s}")
        if retries < 0:
            raise ValueError(f"retries must be >= 0, got {retries}")
        self.chat_model = chat_model
        self.name = name
        self.hybrid = hybrid
        self.timeout_s = timeout_s
        self.retries = retries
        self.rules = rules or EmbeddedPlanner()
        self.prefill = prefill
        self._structured = _structured(chat_model)

    def plan(self, text: str, attachments: Sequence[str | os.PathLike[str] | Attachment] = ()) -> TaskSpec:
        """The TaskSpec for ``text`` (see :meth:`plan_detailed` for how it was made)."""
        return self.plan_detailed(text, attachments).spec

    def plan_detailed(self, text: str, attachments: Sequence[str | os.PathLike[str] | Attachment] = ()) -> Planned:
        """Plan ``text``; raises ``media.MediaError`` for an unusable attachment, and ``PlanningError`` only
        when neither the model nor the rules can plan the request (or the text is over the length cap)."""
        check_request_length(text)  # before the model is asked: the rules' refusal would only make it a fallback
        atts = _probed(attachments)
        fallback: TaskSpec | None
        try:
            fallback, doubts = self.rules.assess(text, atts)
            rules_error = ""
        except PlanningError as e:
            fallback, doubts, rules_error = None, [str(e)], str(e)
        if self.hybrid and fallback is not None and not doubts:
            return Planned(fallback, "embedded", ("hybrid: the embedded planner was sure; the model was not asked",))
        notes: list[str] = []
        if self.hybrid:
            notes.append(f"hybrid: the embedded planner was unsure ({'; '.join(doubts)}); asked the model")
        messages = build_messages(text, atts, fallback, doubts) if self.hybrid else build_messages(text, atts)
        calls = 0
        why = self._ensure_loaded()
        for attempt in range(self.retries + 1 if not why else 0):
            calls += 1
            try:
                reply = self._ask(messages)
            except ModelTimeout as e:
                why = str(e)
                break
            except Exception as e:  # any provider error means: use the rules
                why = f"the model failed ({e.__class__.__name__}: {one_line(str(e), 200)})"
                break
            spec, answer_notes, problems = self._check(reply, text, atts)
            if spec is not None:
                if attempt:
                    notes.append(f"the model corrected its answer on try {attempt + 1}")
                return Planned(spec, self.name, tuple(notes + answer_notes), model_calls=calls)
            why = f"the model's answer is not a valid plan: {'; '.join(problems)}"
            if attempt < self.retries:
                notes.append(f"try {attempt + 1}: {why}")
                messages = [
                    *messages,
                    ("ai", reply.text),
                    (
                        "human",
                        "That answer is not a valid plan: "
                        + "; ".join(problems)
                        + ". Reply with the corrected JSON object only.",
                    ),
                ]
        if fallback is None:
            raise PlanningError(f"{rules_error} (and {why})")
        notes.append(f"{why}; used the embedded planner's plan")
        return Planned(fallback, "embedded", tuple(notes), fallback=True, model_calls=calls)

    def _check(self, reply: _Reply, text: str, atts: list[Attachment]) -> tuple[TaskSpec | None, list[str], list[str]]:
        """``(spec, notes, problems)`` for one reply; ``spec`` is ``None`` when the reply cannot be made valid."""
        notes: list[str] = []
        if reply.data is not None:
            data = reply.data
        else:
            try:
                data, notes = read_answer(reply.text)
            except ValueError as e:
                return None, [], [f"{e}; the reply began {one_line(reply.text, 80)!r}"]
        answer = _Answer(text, atts, self.rules)
        fields = answer.fields(data)
        notes += answer.notes
        if fields is None:
            return None, notes, answer.problems
        try:
            return TaskSpec.model_validate(fields), notes, []
        except ValidationError as e:
            return None, notes, [line for line in explain(e).splitlines() if line]

    def _ensure_loaded(self) -> str:
        """Load a local model that loads on first use (``ensure_loaded()``, e.g. a hybrid planner's) before the
        timed call: ``timeout_s`` is for answering, not for reading weights. Returns why it failed, or ''."""
        ensure = getattr(self.chat_model, "ensure_loaded", None)
        if not callable(ensure):
            return ""
        try:
            ensure()
        except Exception as e:  # a model that cannot be had means: use the rules
            return f"the model could not be loaded ({e.__class__.__name__}: {one_line(str(e), 200)})"
        return ""

    def _ask(self, messages: list[tuple[str, str]]) -> _Reply:
        """One model call, in a daemon thread so that a hung model cannot hold the planner past ``timeout_s``;
        raises :class:`ModelTimeout` when the time is up (after stopping the call where the model can be stopped),
        else what the model raised."""
        structured = self._structured
        stoppable = structured is None and getattr(self.chat_model, "accepts_cancel", False) is True
        if self.prefill and structured is None:
            messages = [*messages, ("ai", self.prefill)]
        cancel = threading.Event()
        box: dict[str, Any] = {}

        def call() -> None:
            try:
                if structured is not None:
                    box["reply"] = structured.invoke(messages)
                elif stoppable:
                    box["reply"] = self.chat_model.invoke(messages, cancel=cancel)
                else:
                    box["reply"] = self.chat_model.invoke(messages)
            except BaseException as e:  # handed to the caller's thread
                box["error"] = e

        worker = threading.Thread(target=call, name=f"{self.name}-call", daemon=True)
        worker.start()
        worker.join(self.timeout_s)
        if worker.is_alive():
            why = f"the model did not answer within {self.timeout_s:g} s"
            if stoppable:  # a local model would otherwise keep a CPU or GPU busy for an answer no one reads
                cancel.set()
                worker.join(self.stop_wait_s)
                if worker.is_alive():
                    why += f" (nor stopped within {self.stop_wait_s:g} s of being asked to; it is left to finish)"
            raise ModelTimeout(why)
        if "error" in box:
            raise box["error"]
        if structured is not None:
            return _structured_reply(box.get("reply"))
        reply = _content(box.get("reply"))
        if self.prefill and not reply.lstrip().startswith(self.prefill.strip()):
            reply = self.prefill + reply  # the model continued the prefilled start of its turn
        return _Reply(reply)


def _structured(chat_model: Any) -> Any:
    """``chat_model`` asked for :class:`PlanAnswer` as structured output with its raw reply kept, or ``None`` for
    a model that cannot answer in a schema (no tool calling: the local ``transformers`` model, plain fakes)."""
    ask = getattr(chat_model, "with_structured_output", None)
    if not callable(ask):
        return None
    try:
        return ask(PlanAnswer, include_raw=True)
    except NotImplementedError:  # BaseChatModel's answer for a model without bind_tools
        return None


def _structured_reply(out: Any) -> _Reply:
    """The answer in a structured-output result (``{"raw", "parsed", "parsing_error"}``). An answer that did not fit
    :class:`PlanAnswer` (a task spelled "Image Editing", arguments that are not quite JSON, text instead of a
    tool call) is handed on as the model gave it, for the same repairs as a text answer."""
    if not isinstance(out, dict):
        raise ValueError(f"the model returned {type(out).__name__}, not a structured answer")
    parsed, raw = out.get("parsed"), out.get("raw")
    if isinstance(parsed, PlanAnswer):
        data = parsed.model_dump(mode="json", exclude_none=True)
        return _Reply(json.dumps(data), data)
    calls = getattr(raw, "tool_calls", None) or []
    if calls and isinstance(calls[0].get("args"), dict):
        args = calls[0]["args"]
        return _Reply(json.dumps(args), args)
    broken = getattr(raw, "invalid_tool_calls", None) or []
    if broken and isinstance(broken[0].get("args"), str):
        return _Reply(broken[0]["args"])
    return _Reply(_content(raw))


def _content(message: Any) -> str:
    """The text of a chat model's reply: a message's ``.text``/``.content`` (string or content blocks)."""
    if isinstance(message, str):
        return message
    text = getattr(message, "text", None)
    if isinstance(text, str) and text:  # langchain-core >= 1: a property (a str that is also callable)
        return str(text)
    content = getattr(message, "content", None)
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(
            b if isinstance(b, str) else str(b.get("text", "")) for b in content if isinstance(b, (str, dict))
        )
    raise ValueError(f"the model returned {type(message).__name__}, not a chat message")
