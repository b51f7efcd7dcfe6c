"""Device and dtype choice, and the one wrapper that turns a failed ``from_pretrained`` into a clear error."""

from __future__ import annotations

import importlib
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

import torch

from unison_agent.tools.errors import ModelUnavailableError

T = TypeVar("T")

_DTYPES = {"bfloat16": torch.bfloat16, "float16": torch.float16, "float32": torch.float32}


def resolve_device(device: str) -> torch.device:
    """``auto`` -> cuda, else mps, else cpu; an explicit device that is not there raises ModelUnavailableError."""
    if device == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if torch.backends.mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise ModelUnavailableError(f"device {device!r} asked for, but torch sees no CUDA GPU; use device = 'auto'")
    if device == "mps" and not torch.backends.mps.is_available():
        raise ModelUnavailableError("device 'mps' asked for, but this torch has no MPS; use device = 'auto'")
    return torch.device(device)


def resolve_dtype(dtype: str, device: torch.device) -> torch.dtype:
    """``auto`` -> bfloat16 on CUDA, float16 on MPS, float32 on CPU (half precision is slow or absent there)."""
    if dtype == "auto":
        return {"cuda": torch.bfloat16, "mps": torch.float16}.get(device.type, torch.float32)
    return _DTYPES[dtype]


def model_path(model: str) -> str:
    """Where to load ``model`` from: ``tiny:<name>`` is built into the local cache on first use."""
    if model.startswith("tiny:"):
        from unison_agent.tools.backends.tiny import ensure_tiny

        return str(ensure_tiny(model.removeprefix("tiny:")))
    return model


def load_or_explain(
    model: str,
    backend: str,
    load: Callable[[str], T],
    alternative: str = "use --profile tiny to run offline with random weights",
) -> T:
    """Call ``load(path)``; turn the many ways a load fails (offline hub, wrong id, bad folder) into one
    :class:`ModelUnavailableError` that says how to fix it (``alternative``: what to do without the model)."""
    path = model_path(model)
    try:
        with warnings.catch_warnings(), quiet_loading():
            # huggingface_hub deprecation noise raised from inside diffusers' own download call, not actionable
            warnings.filterwarnings("ignore", message=".*local_dir_use_symlinks.*", category=UserWarning)
            return load(path)
    except (OSError, ValueError, KeyError) as e:  # huggingface_hub's errors are OSError or ValueError subclasses
        reason = " ".join(str(e).split())[:300].rstrip(".") or e.__class__.__name__
        local = Path(model).expanduser()
        if local.is_absolute() or model.startswith((".", "~")):
            fix = f"check that {local} is a saved {backend} model folder (it must contain its config files)"
        else:
            fix = (
                f"download it once on a connected machine (`hf download {model}`, or run once without "
                "HF_HUB_OFFLINE=1), or point the profile's model at a local folder"
            )
        raise ModelUnavailableError(
            f"model {model!r} ({backend}) could not be loaded: {reason}. To fix: {fix}; or {alternative}"
        ) from None


@contextmanager
def quiet_loading() -> Iterator[None]:
    """Hide diffusers' and transformers' own loading and saving bars (front doors show a "load" stage instead)."""
    switches = []
    for name in ("diffusers.utils.logging", "transformers.utils.logging"):
        try:
            module = importlib.import_module(name)
        except ImportError:  # a backend that needs only one of the two libraries
            continue
        switches.append((module, module.is_progress_bar_enabled()))
        module.disable_progress_bar()
    try:
        yield
    finally:
        for module, was_enabled in switches:
            if was_enabled:
                module.enable_progress_bar()
