"""Profiles: which backend and model serve each task, on which device, in which precision.

A profile is a TOML file. Five ship with the package: ``default`` (the real models), ``fast`` (default with a
step cache and compiled blocks), ``lowvram`` (default with group offloading and VAE tiling), ``bench`` (default's
architectures at full size with random weights, to measure GPU time and memory offline) and ``tiny`` (tiny
random-weight models built locally, offline, for tests and demos). Any other profile is a path to a ``.toml``
file with the same layout (see ``profiles/default.toml``, which documents every key), which may start from
another profile with ``base = "..."``. Profiles are validated when loaded, so
a typo fails at once with a message that names the key and what is allowed, never halfway through a run.
"""

from __future__ import annotations

import sys
from importlib import resources
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from unison_agent.spec import ControlType, Task
from unison_agent.tools.backends import BACKENDS, Offload
from unison_agent.tools.errors import ProfileError
from unison_agent.tools.serving.settings import RaySettings, parse_executor

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib

__all__ = ["BUILTIN_PROFILES", "ModelEntry", "Profile", "load_profile"]

BUILTIN_PROFILES = ("default", "fast", "lowvram", "bench", "tiny")


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
    offload: Offload = Field(default_factory=Offload)
    executor: str = "local"  # local | ray | ray://HOST:PORT (see serving.settings)
    ray: RaySettings = Field(default_factory=RaySettings)
    models: dict[str, ModelEntry]
    tasks: dict[Task, str]
    extractors: dict[ControlType, str] = Field(default_factory=dict)

    @field_validator("offload", mode="before")
    @classmethod
    def _offload_mode(cls, value: Any) -> Any:
        # `offload = "group"` is short for `offload = { mode = "group" }`
        return {"mode": value} if isinstance(value, str) else value

    @field_validator("executor")
    @classmethod
    def _executor_form(cls, value: str) -> str:
        try:
            return str(parse_executor(value))
        except ProfileError as e:
            raise ValueError(str(e)) from None

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
        for model_key in self.ray.deployments:
            if model_key not in self.models:
                problems.append(f"[ray.deployments] {model_key!r} is not a [models] entry; known: {known}")
        if problems:
            raise ValueError("; ".join(problems))
        return self

    def model_for(self, task: Task) -> tuple[str, ModelEntry]:
        """The ``(key, entry)`` of the model that serves ``task``."""
        key = self.tasks[task]
        return key, self.models[key]


def load_profile(name_or_path: str | Path) -> Profile:
    """Load a built-in profile by name (``default``, ``fast``, ``lowvram``, ``bench``, ``tiny``) or a profile file
    by path.

    A profile may start from another one: ``base = "default"`` (a built-in name, or a path, relative to the
    file's folder) takes every key of that profile, and the file's own keys replace or extend it, table by table
    (so ``[models.vace.options]`` with ``compile = "regional"`` keeps the base's other options).

    Raises :class:`ProfileError` for an unknown name, an unreadable file, bad TOML, a base that loops, or invalid
    contents; the message names the profile and every problem.
    """
    label, name, data = _data(str(name_or_path), seen=())
    data.setdefault("name", name)
    try:
        return Profile.model_validate(data)
    except ValidationError as e:
        raise ProfileError(f"profile {label}: {_explain(e)}") from None


def _data(ref: str, seen: tuple[str, ...], folder: Path | None = None) -> tuple[str, str, dict[str, Any]]:
    """``(label, name, data)`` of profile ``ref``, with its ``base`` chain merged in."""
    if folder is not None and _looks_like_path(ref) and not Path(ref).expanduser().is_absolute():
        ref = str(folder / ref)
    text, label, name = _read(ref)
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise ProfileError(f"profile {label}: not valid TOML ({e})") from None
    base = data.pop("base", None)
    if base is None:
        return label, name, data
    if not isinstance(base, str):
        raise ProfileError(f"profile {label}: base must be a profile name or path, not {base!r}")
    if label in seen:
        raise ProfileError(f"profile {label}: its base chain loops ({' -> '.join((*seen, label))})")
    here = None if ref in BUILTIN_PROFILES else Path(ref).expanduser().parent
    _label, _name, under = _data(base, (*seen, label), here)
    under.pop("name", None)  # the name is the file's own
    under.pop("description", None)
    return label, name, _merged(under, data)


def _merged(under: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    """``over`` laid on ``under``: tables merge key by key, anything else is replaced."""
    out = dict(under)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merged(out[key], value)
        else:
            out[key] = value
    return out


def _read(ref: str) -> tuple[str, str, str]:
    if ref in BUILTIN_PROFILES:
        text = resources.files("unison_agent.tools").joinpath(f"profiles/{ref}.toml").read_text(encoding="utf-8")
        return text, repr(ref), ref
    path = Path(ref).expanduser()
    if not _looks_like_path(ref):
        raise ProfileError(
            f"unknown profile {ref!r}; known: {', '.join(BUILTIN_PROFILES)} (or the path to a profile .toml file)"
        )
    try:
        return path.read_text(encoding="utf-8"), str(path), path.stem
    except FileNotFoundError:
        raise ProfileError(f"profile file {path} does not exist") from None
    except (OSError, UnicodeDecodeError) as e:
        raise ProfileError(f"profile file {path} cannot be read ({e.__class__.__name__}: {e})") from None


def _looks_like_path(ref: str) -> bool:
    return ref not in BUILTIN_PROFILES and (ref.lower().endswith(".toml") or "/" in ref or "\\" in ref)


def _explain(error: ValidationError) -> str:
    parts = []
    for err in error.errors():
        where = ".".join(str(p) for p in err["loc"])
        msg = err["msg"].removeprefix("Value error, ")
        if err["type"] == "extra_forbidden":
            msg = "unknown key"
        parts.append(f"{where}: {msg}" if where else msg)
    return "; ".join(parts)
