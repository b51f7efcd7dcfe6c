"""Profiles: which backend and model serve each task, on which device, in which precision.

A profile is a TOML file. Two ship with the package (``default``: the real models; ``tiny``: random-weight
models built locally, offline, for tests and demos); any other profile is a path to a ``.toml`` file with the
same layout (see ``profiles/default.toml``, which documents every key). Profiles are validated when loaded, so
a typo fails at once with a message that names the key and what is allowed, never halfway through a run.
"""

from __future__ import annotations

import sys
from importlib import resources
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from unison_agent.spec import ControlType, Task
from unison_agent.tools.backends import BACKENDS
from unison_agent.tools.errors import ProfileError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib

__all__ = ["BUILTIN_PROFILES", "ModelEntry", "Profile", "load_profile"]

BUILTIN_PROFILES = ("default", "tiny")


class ModelEntry(BaseModel):
    """One model: the backend that runs it, its id (hub id, local folder, or ``tiny:<name>``) and options."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    backend: str
    model: str = Field(min_length=1)
    options: dict[str, Any] = Field(default_factory=dict)

    @field_validator("backend")
    @classmethod
    def _known_backend(cls, name: str) -> str:
        if name not in BACKENDS:
            raise ValueError(f"unknown backend {name!r}; known: {', '.join(sorted(BACKENDS))}")
        return name

    @model_validator(mode="after")
    def _options_fit_backend(self) -> ModelEntry:
        # Per-backend options are a pydantic model with extra="forbid": a misspelt option fails here.
        BACKENDS[self.backend].options.model_validate(self.options)
        return self

    def parsed_options(self) -> BaseModel:
        """The options as the backend's own options model (defaults filled)."""
        return BACKENDS[self.backend].options.model_validate(self.options)


class Profile(BaseModel):
    """A validated profile. ``tasks`` maps every task to a key of ``models``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = "custom"
    description: str = ""
    device: str = "auto"
    dtype: Literal["auto", "bfloat16", "float16", "float32"] = "auto"
    offload: Literal["none", "model", "sequential"] = "none"
    models: dict[str, ModelEntry]
    tasks: dict[Task, str]
    extractors: dict[ControlType, str] = Field(default_factory=dict)

    @field_validator("device")
    @classmethod
    def _device_name(cls, device: str) -> str:
        base, _, index = device.partition(":")
        if base not in ("auto", "cpu", "cuda", "mps") or (index and (base != "cuda" or not index.isdigit())):
            raise ValueError(f"unknown device {device!r}; allowed: auto, cpu, cuda, cuda:N, mps")
        return device

    @model_validator(mode="after")
    def _references_resolve(self) -> Profile:
        problems = []
        absent = [t.value for t in Task if t not in self.tasks]
        if absent:
            problems.append(f"[tasks] must map every task to a model; missing: {', '.join(absent)}")
        known = ", ".join(sorted(self.models)) or "none"
        for table, mapping in (("tasks", self.tasks), ("extractors", self.extractors)):
            for key, model_key in mapping.items():
                if model_key not in self.models:
                    problems.append(f"[{table}] {key.value} = {model_key!r} is not a [models] entry; known: {known}")
        for task, model_key in self.tasks.items():
            entry = self.models.get(model_key)
            if entry is None:
                continue
            family = BACKENDS[entry.backend].family
            wanted = "understanding" if task.is_understanding else "generation"
            if family != wanted:
                problems.append(
                    f"[tasks] {task.value} needs a {wanted} backend; {model_key!r} uses {entry.backend!r} ({family})"
                )
        for ctype, model_key in self.extractors.items():
            entry = self.models.get(model_key)
            if entry is not None and BACKENDS[entry.backend].family != "extractor":
                problems.append(f"[extractors] {ctype.value} = {model_key!r} uses {entry.backend!r}, not an extractor")
        if problems:
            raise ValueError("; ".join(problems))
        return self

    def model_for(self, task: Task) -> tuple[str, ModelEntry]:
        """The ``(key, entry)`` of the model that serves ``task``."""
        key = self.tasks[task]
        return key, self.models[key]


def load_profile(name_or_path: str | Path) -> Profile:
    """Load a built-in profile by name (``default``, ``tiny``) or a profile file by path.

    Raises :class:`ProfileError` for an unknown name, an unreadable file, bad TOML, or invalid contents; the
    message names the profile and every problem.
    """
    text, label, name = _read(str(name_or_path))
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise ProfileError(f"profile {label}: not valid TOML ({e})") from None
    data.setdefault("name", name)
    try:
        return Profile.model_validate(data)
    except ValidationError as e:
        raise ProfileError(f"profile {label}: {_explain(e)}") from None


def _read(ref: str) -> tuple[str, str, str]:
    if ref in BUILTIN_PROFILES:
        text = resources.files("unison_agent.tools").joinpath(f"profiles/{ref}.toml").read_text(encoding="utf-8")
        return text, repr(ref), ref
    path = Path(ref).expanduser()
    looks_like_path = path.suffix.lower() == ".toml" or "/" in ref or "\\" in ref
    if not looks_like_path:
        raise ProfileError(
            f"unknown profile {ref!r}; known: {', '.join(BUILTIN_PROFILES)} (or the path to a profile .toml file)"
        )
    try:
        return path.read_text(encoding="utf-8"), str(path), path.stem
    except FileNotFoundError:
        raise ProfileError(f"profile file {path} does not exist") from None
    except (OSError, UnicodeDecodeError) as e:
        raise ProfileError(f"profile file {path} cannot be read ({e.__class__.__name__}: {e})") from None


def _explain(error: ValidationError) -> str:
    parts = []
    for err in error.errors():
        where = ".".join(str(p) for p in err["loc"])
        msg = err["msg"].removeprefix("Value error, ")
        if err["type"] == "extra_forbidden":
            msg = "unknown key"
        parts.append(f"{where}: {msg}" if where else msg)
    return "; ".join(parts)
