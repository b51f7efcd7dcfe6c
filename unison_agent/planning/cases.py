"""Planning cases: the labelled-request format of the planning contract, read and checked without files.

A case is one JSON line: ``{"id", "source", "lang"?, "text", "attachments": [{"name", "content"}], "expect"}``
(the shared ``planning/README.md`` describes ``expect``). The training corpus (``data/planning/corpus/``), the
held-out fixtures under ``tests/planning/`` and the shared dev set all use it.

``attachment_facts`` turns an attachment's ``content`` kind into the facts the probe reads from such a file
(``media.probe`` of the shared scorer's synthetic files gives exactly these), so that a corpus of thousands of
requests can be planned and trained on in seconds; ``check`` compares a TaskSpec with ``expect`` by the same
rules as the shared scorer.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from unison_agent.planning.base import Attachment, PlanningError
from unison_agent.spec import Media

__all__ = ["Case", "Tally", "attachment_facts", "check", "read_cases"]

# content kind -> (medium, look, width, height, frames, fps)
_FACTS: dict[str, tuple[Media, str, int, int, int, float | None]] = {
    "photo": (Media.IMAGE, "photo", 640, 480, 1, None),
    "portrait": (Media.IMAGE, "photo", 512, 640, 1, None),
    "object": (Media.IMAGE, "photo", 640, 480, 1, None),
    "mask": (Media.IMAGE, "mask", 640, 480, 1, None),
    "pose_image": (Media.IMAGE, "pose", 640, 480, 1, None),
    "depth_map": (Media.IMAGE, "depth", 640, 480, 1, None),
    "edge_map": (Media.IMAGE, "edge", 640, 480, 1, None),
    "scribble": (Media.IMAGE, "scribble", 640, 480, 1, None),
    "video": (Media.VIDEO, "photo", 320, 192, 16, 8.0),
    "pose_video": (Media.VIDEO, "pose", 320, 192, 16, 8.0),
    "depth_video": (Media.VIDEO, "depth", 320, 192, 16, 8.0),
    "edge_video": (Media.VIDEO, "edge", 320, 192, 16, 8.0),
}
_INT_KEYS = ("width", "height", "num_frames", "fps", "seed", "num_outputs", "steps")
_FLOAT_KEYS = {"duration_s": 0.05, "guidance_scale": 0.01}


@dataclass(frozen=True)
class Case:
    id: str
    text: str
    attachments: tuple[dict[str, str], ...]
    expect: dict[str, Any]
    source: str = ""
    lang: str = "en"

    @property
    def writer(self) -> str:
        """Who wrote the case: ``writer:<name>`` from ``source``, else the whole source before any ``;``."""
        head = self.source.split(";", 1)[0].strip()
        return head.removeprefix("writer:")

    def facts(self) -> list[Attachment]:
        return [attachment_facts(a["name"], a["content"]) for a in self.attachments]


def attachment_facts(name: str, content: str) -> Attachment:
    """The planner's view of a file named ``name`` showing ``content`` (one of the contract's content kinds)."""
    try:
        medium, look, w, h, frames, fps = _FACTS[content]
    except KeyError:
        raise ValueError(f"unknown attachment content {content!r}; expected one of {sorted(_FACTS)}") from None
    return Attachment(name, medium, look, w, h, frames, fps, (frames / fps) if fps else None)


def read_cases(paths: Iterable[str | Path]) -> list[Case]:
    """Every case of the JSONL files at ``paths``, in file order."""
    out = []
    for path in paths:
        for line in Path(path).read_text(encoding="utf-8").splitlines():
            if line.strip():
                row = json.loads(line)
                out.append(
                    Case(
                        row["id"],
                        row["text"],
                        tuple(row.get("attachments") or ()),
                        row["expect"],
                        row.get("source", ""),
                        row.get("lang", "en"),
                    )
                )
    return out


def check(key: str, want: Any, spec: dict[str, Any]) -> bool:
    """Whether ``spec`` (a TaskSpec as JSON) meets ``expect[key] == want`` by the contract's scoring rules."""
    if key == "task":
        return bool(spec.get("task") == want)
    if key == "roles":
        inputs = spec.get("inputs") or []
        got = {Path(i.get("path", "")).name.lower(): i.get("role") for i in inputs}
        return len(inputs) == len(want) and all(got.get(name.lower()) == role for name, role in want.items())
    if key in _INT_KEYS:
        v = spec.get(key)
        return isinstance(v, int | float) and v == int(v) and int(v) == int(want)
    if key in _FLOAT_KEYS:
        v = spec.get(key)
        return isinstance(v, int | float) and abs(v - want) <= _FLOAT_KEYS[key]
    if key == "aspect":
        a, b = (float(x) for x in want.split(":"))
        w, h = spec.get("width"), spec.get("height")
        return isinstance(w, int) and isinstance(h, int) and h > 0 and abs((w / h) / (a / b) - 1) <= 0.03
    if key == "control_type":
        return bool(spec.get("control_type") == want)
    if key == "missing":
        return set(want) == set(spec.get("missing") or [])
    if key in ("prompt_includes", "prompt_excludes", "negative_prompt_includes"):
        field_ = "negative_prompt" if key.startswith("negative") else "prompt"
        text = (spec.get(field_) or "").lower()
        found = [w.lower() in text for w in want]
        return not any(found) if key == "prompt_excludes" else all(found)
    raise KeyError(f"unknown expect key {key!r}")


@dataclass
class Tally:
    """Accuracy of a planner over cases: whole cases, and per key, task and language."""

    cases: int = 0
    passed: int = 0
    by_key: dict[str, list[int]] = field(default_factory=lambda: defaultdict(lambda: [0, 0]))
    by_task: dict[str, list[int]] = field(default_factory=lambda: defaultdict(lambda: [0, 0]))
    by_lang: dict[str, list[int]] = field(default_factory=lambda: defaultdict(lambda: [0, 0]))
    failures: list[tuple[str, list[str]]] = field(default_factory=list)
    errors: Counter[str] = field(default_factory=Counter)

    def add(self, case: Case, spec: dict[str, Any] | None, error: str | None = None) -> bool:
        failed = []
        for key, want in case.expect.items():
            ok = spec is not None and check(key, want, spec)
            self.by_key[key][0] += ok
            self.by_key[key][1] += 1
            if not ok:
                failed.append(key)
        if error:
            self.errors[error.split(":", 1)[0]] += 1
        ok = not failed
        self.cases += 1
        self.passed += ok
        for table, name in ((self.by_task, case.expect.get("task", "?")), (self.by_lang, case.lang)):
            table[name][0] += ok
            table[name][1] += 1
        if not ok:
            self.failures.append((case.id, failed))
        return ok

    @property
    def accuracy(self) -> float:
        return self.passed / self.cases if self.cases else 0.0

    def key_accuracy(self, key: str) -> float:
        right, total = self.by_key.get(key, [0, 0])
        return right / total if total else 0.0


def plan_cases(
    cases: Iterable[Case], plan: Callable[[str, list[Attachment]], Any]
) -> Iterator[tuple[Case, dict[str, Any] | None, str | None]]:
    """``(case, spec as JSON or None, error or None)`` for each case, planned with ``plan(text, facts)``."""
    for case in cases:
        try:
            spec = plan(case.text, case.facts())
        except PlanningError as e:  # the case's checks then fail, as the scorer counts a refused request
            yield case, None, f"{type(e).__name__}: {e}"
            continue
        yield case, spec.model_dump(mode="json"), None
