"""Device and dtype choice, and the one wrapper that turns a failed ``from_pretrained`` into a clear error."""

from __future__ import annotations

import importlib
import logging
import re
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import urlparse

import torch

from unison_agent.errors import ModelUnavailableError

if TYPE_CHECKING:
    from unison_agent.tools.backends.options import Offload

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


def group_offload_kwargs(offload: Offload, dev: torch.device) -> dict[str, Any]:
    """diffusers' group-offloading arguments for ``offload`` with weights waiting on the CPU, run on ``dev``."""
    kwargs: dict[str, Any] = {
        "onload_device": dev,
        "offload_device": torch.device("cpu"),
        "offload_type": f"{offload.level}_level",
        # streams overlap the next group's copy with this one's compute: CUDA only
        "use_stream": offload.use_stream and dev.type == "cuda",
    }
    if offload.level == "block":
        kwargs["num_blocks_per_group"] = offload.blocks_per_group
    if kwargs["use_stream"]:
        kwargs["record_stream"] = True  # frees each group's GPU copy as soon as its last kernel is done
    return kwargs


def apply_group_offload(module: torch.nn.Module, offload: Offload, dev: torch.device) -> None:
    """Group offloading of ``module`` (weights on the CPU, each group brought to ``dev`` as it runs).

    diffusers' models define their own groups (``enable_group_offload``). For any other model (transformers'
    text encoder and Qwen-VL) diffusers' block level groups only the ModuleLists that are direct children and
    moves everything else as one group: UMT5-XXL's 24 blocks sit inside ``encoder``, so the whole 11 GB encoder
    would come to the GPU at once. Naming the submodules on the way to each ModuleList (``block_modules``) makes
    every block a group of its own."""
    kwargs = group_offload_kwargs(offload, dev)
    enable = getattr(module, "enable_group_offload", None)
    if enable is not None:
        enable(**kwargs)
        return
    from diffusers.hooks import apply_group_offloading

    if offload.level == "block":
        kwargs["block_modules"] = block_modules(module) or None
    apply_group_offloading(module, **kwargs)


def block_modules(module: torch.nn.Module) -> list[str]:
    """The names of the submodules of ``module`` that are not ModuleLists themselves but hold one further down."""
    names: set[str] = set()

    def holds_a_list(parent: torch.nn.Module) -> bool:
        found = False
        for name, child in parent.named_children():
            if isinstance(child, (torch.nn.ModuleList, torch.nn.Sequential)):
                found = True
            elif holds_a_list(child):
                names.add(name)
                found = True
        return found

    holds_a_list(module)
    return sorted(names)


def load_or_explain(
    model: str,
    backend: str,
    load: Callable[[str], T],
    alternative: str = "use --profile tiny to run offline with random weights",
    *,
    hub: bool = True,
) -> T:
    """Call ``load(path)``; turn the many ways a load fails (offline hub, wrong id, bad folder) into one
    :class:`ModelUnavailableError` that says how to fix it (``alternative``: what to do without the model).

    ``hub``: whether a bare id is a Hugging Face model (False for loaders that never download from the hub). A hub
    model that is neither in the local cache nor reachable fails at once, before ``load`` is called, instead of
    after minutes of the hub's retries; one that is cached while the hub is unreachable loads from the cache."""
    try:
        with warnings.catch_warnings(), quiet_loading():
            # huggingface_hub deprecation noise raised from inside diffusers' own download call, not actionable
            warnings.filterwarnings("ignore", message=".*local_dir_use_symlinks.*", category=UserWarning)
            path = hub_source(model, backend, alternative) if hub and is_hub_id(model) else model
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


_HUB_ID = re.compile(r"[A-Za-z0-9][\w.-]*(/[A-Za-z0-9][\w.-]*)?")
HUB_PROBE_TIMEOUT_S = 3.0


def is_hub_id(model: str) -> bool:
    """Whether ``model`` names a Hugging Face repository (``owner/name`` or a bare name) rather than a local
    folder or file, a ``tiny:`` model or another scheme (``torchvision:...``)."""
    return bool(_HUB_ID.fullmatch(model)) and not Path(model).exists()


def hub_source(model: str, backend: str, alternative: str) -> str:
    """What to hand ``from_pretrained`` for the hub model ``model``: the id itself when the hub answers (or the
    hub's offline mode is on and the model is cached), the cached snapshot folder when the hub cannot be reached.

    Raises :class:`ModelUnavailableError` at once when the model is not in the local cache and the hub cannot be
    reached or HF_HUB_OFFLINE is set, naming offline as the cause: the libraries would otherwise retry every file
    for minutes before failing with the same advice.
    """
    from huggingface_hub import constants

    offline = bool(constants.HF_HUB_OFFLINE)
    if not offline and hub_reachable(constants.ENDPOINT):
        return model
    cached = cached_snapshot(model)
    if cached is not None:
        # Offline mode already makes the libraries read the cache; an unreachable hub does not (they retry first).
        return model if offline else cached
    host = urlparse(constants.ENDPOINT).hostname or constants.ENDPOINT
    cause = "HF_HUB_OFFLINE is set" if offline else f"{host} cannot be reached (offline?)"
    raise ModelUnavailableError(
        f"model {model!r} ({backend}) is not in the local cache and {cause}. To fix: download it on a connected "
        f"machine (`hf download {model}`), or point the profile's model at a local folder; or {alternative}"
    )


def hub_reachable(endpoint: str, timeout: float = HUB_PROBE_TIMEOUT_S) -> bool:
    """Whether ``endpoint`` answers one HEAD request within ``timeout`` seconds (any HTTP status counts). Sent
    through the hub's own HTTP session, so its proxy and certificate settings apply."""
    from huggingface_hub import get_session

    try:
        get_session().head(endpoint, timeout=timeout)
    except Exception:  # the hub's HTTP client (httpx, httpx2 or requests, by version) has its own error types
        return False
    return True


def cached_snapshot(model: str) -> str | None:
    """The folder of ``model``'s cached snapshot (its ``main`` revision) in the local hub cache, or None."""
    from huggingface_hub import snapshot_download

    try:
        folder = snapshot_download(model, local_files_only=True)
    except (OSError, ValueError):  # LocalEntryNotFoundError and friends: not in the cache
        return None
    return str(folder) if isinstance(folder, str) and any(Path(folder).iterdir()) else None


_QUIET_LOGGERS = ("huggingface_hub", "urllib3", "httpx", "httpx2", "httpcore")


@contextmanager
def quiet_loading() -> Iterator[None]:
    """Hide diffusers' and transformers' own loading and saving bars (front doors show a "load" stage instead),
    and the hub's and HTTP libraries' retry logs and warnings: a failed load ends in one error that says what to
    do, and a person should see that line, not the 60 before it."""
    switches = []
    for name in ("diffusers.utils.logging", "transformers.utils.logging"):
        try:
            module = importlib.import_module(name)
        except ImportError:  # a backend that needs only one of the two libraries
            continue
        switches.append((module, module.is_progress_bar_enabled()))
        module.disable_progress_bar()
    levels = [(logger, logger.level) for logger in map(logging.getLogger, _QUIET_LOGGERS)]
    for logger, _level in levels:
        logger.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", module=r"(huggingface_hub|urllib3|httpx)")
            yield
    finally:
        for logger, level in levels:
            logger.setLevel(level)
        for module, was_enabled in switches:
            if was_enabled:
                module.enable_progress_bar()
