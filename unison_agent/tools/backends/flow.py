"""Optical-flow control maps for VACE's ``flow`` control (video only), with torchvision's RAFT.

Each frame becomes a flow visualisation on the standard (Middlebury) colour wheel: hue is the direction of motion
(right = red, down = yellow, left = cyan, up = blue), saturation its strength, white no motion. This is what VACE's
own flow annotator (``vace/annotators/flow.py``, ``FlowVisAnnotator``) feeds the model, so the same choices are
kept: RAFT between consecutive frames, each pair's map scaled by its own largest motion, and the first map repeated
so there is one map per frame.

Model ids:
    a folder (or ``tiny:flow``)  ``config.json`` (``{"architecture": "raft_small" | "raft_large",
                                 "num_flow_updates": 12}``) and ``model.safetensors`` or ``model.pt`` (state dict)
    ``torchvision:raft_small``   torchvision's pretrained weights (``Raft_Small_Weights.DEFAULT``), downloaded by
    ``torchvision:raft_large``   torchvision into its cache (``$TORCH_HOME/hub/checkpoints``) on first use
"""

from __future__ import annotations

import json
import pickle
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

from unison_agent.tools.backends import FlowOptions, Offload
from unison_agent.tools.backends.torch_env import load_or_explain, resolve_device
from unison_agent.tools.errors import ModelUnavailableError

__all__ = ["ARCHITECTURES", "FlowBackend", "FlowOptions", "build_tiny"]

ARCHITECTURES = ("raft_small", "raft_large")
TORCHVISION_PREFIX = "torchvision:"
DEFAULT_FLOW_UPDATES = 12  # torchvision's default; VACE's annotator runs 20 (slower, a little finer)

# RAFT works on 1/8-resolution features and pools its correlation volume 3 times more by 2, so each side must be
# a multiple of 8 and at least 8 * 16 = 128 pixels (torchvision's CorrBlock checks this).
_MULTIPLE = 8
_MIN_SIDE = 128
# The all-pairs correlation volume holds (h/8 * w/8)^2 floats per pair (156 MB at 832x480, 830 MB at 1280x720);
# pairs are batched up to this many elements in all, so long clips are fast without running out of memory.
_CORR_BUDGET = 2**28
_MAX_BATCH = 8


class FlowBackend:
    """A loaded RAFT model. Build it with :meth:`load`; :meth:`extract` makes one flow map per frame."""

    def __init__(self, model: Any, device: torch.device, num_flow_updates: int, max_side: int | None = None) -> None:
        self.model = model
        self.device = device
        self.num_flow_updates = num_flow_updates
        self.max_side = max_side

    @classmethod
    def load(
        cls, model: str, *, options: FlowOptions, device: str, dtype: str, offload: Offload, profile_key: str = ""
    ) -> FlowBackend:
        """Load ``model`` (a folder, ``tiny:flow`` or ``torchvision:raft_small|raft_large``).

        ``dtype`` and ``offload`` are accepted for the common backend signature and ignored: RAFT is small (1 M
        or 5 M parameters) and its iterative refinement is run in float32, as VACE's annotator does.
        Raises :class:`ModelUnavailableError` when the folder, its config or weights, or torchvision's download
        are missing or broken.
        """
        dev = resolve_device(device)

        def _load(path: str) -> tuple[Any, int]:
            if path.startswith(TORCHVISION_PREFIX):
                return _load_torchvision(path), DEFAULT_FLOW_UPDATES
            return _load_folder(model, Path(path).expanduser())

        net, configured = load_or_explain(model, "flow", _load, hub=False)  # folders and torchvision weights only
        updates = options.num_flow_updates if options.num_flow_updates is not None else configured
        return cls(net.to(dev).eval(), dev, updates, options.max_side)

    def extract(self, frames: list[Image.Image]) -> list[Image.Image]:
        """Flow visualisations (RGB), one per frame, each the size of its frame.

        Map ``i`` (for ``i >= 1``) shows the motion from frame ``i - 1`` to frame ``i``; map 0 repeats map 1, as
        VACE's annotator does, so the maps line up with the frames they end on. Each map is scaled by its own
        largest motion (VACE's choice too), so a nearly still pair still shows its directions in full colour. One
        frame (no motion to measure) gives one all-white map; no frames give none.
        """
        if not frames:
            return []
        if len(frames) == 1:
            return [Image.new("RGB", frames[0].size, (255, 255, 255))]
        from torchvision.utils import flow_to_image

        width, height = frames[0].size
        net_w, net_h = network_size(width, height, self.max_side)
        # Every frame is brought to one network size (a clip's frames share one size; this also copes if not).
        batch = torch.stack([_to_tensor(f, net_w, net_h) for f in frames])
        per_batch = max(1, min(_MAX_BATCH, _CORR_BUDGET // ((net_h // 8) * (net_w // 8)) ** 2))
        maps: list[Image.Image] = []
        with torch.inference_mode():
            for start in range(0, len(frames) - 1, per_batch):
                stop = min(start + per_batch, len(frames) - 1)
                first = batch[start:stop].to(self.device)
                second = batch[start + 1 : stop + 1].to(self.device)
                flow = self.model(first, second, num_flow_updates=self.num_flow_updates)[-1].float()
                for k in range(flow.shape[0]):
                    target = frames[start + k + 1]
                    field = _resize_flow(flow[k : k + 1], target.width, target.height)
                    # One pair at a time: flow_to_image scales by the largest motion in what it is given.
                    rgb = flow_to_image(field)[0].permute(1, 2, 0).cpu().numpy()
                    maps.append(Image.fromarray(np.ascontiguousarray(rgb), "RGB"))
        first_map = maps[0] if maps[0].size == frames[0].size else maps[0].resize(frames[0].size)
        return [first_map, *maps]


def network_size(width: int, height: int, max_side: int | None = None) -> tuple[int, int]:
    """The ``(width, height)`` RAFT runs at: the frame's aspect, each side a multiple of 8 and at least 128.

    Frames are never shrunk unless ``max_side`` asks (then the longer side is at most about ``max_side``); the
    128-pixel minimum wins over ``max_side`` for very long, thin frames.
    """
    scale = 1.0
    if max_side is not None and max(width, height) > max_side:
        scale = max_side / max(width, height)
    scale = max(scale, _MIN_SIDE / min(width, height))

    def side(n: int) -> int:
        return max(_MIN_SIDE, _MULTIPLE * round(n * scale / _MULTIPLE))

    return side(width), side(height)


def _to_tensor(frame: Image.Image, width: int, height: int) -> torch.Tensor:
    """``frame`` as a float ``(3, height, width)`` tensor in [-1, 1], what torchvision's RAFT weights expect."""
    rgb = frame.convert("RGB")
    if rgb.size != (width, height):
        rgb = rgb.resize((width, height), Image.Resampling.BILINEAR)
    array = np.asarray(rgb, dtype=np.float32)
    return torch.from_numpy(array).permute(2, 0, 1) / 127.5 - 1.0


def _resize_flow(flow: torch.Tensor, width: int, height: int) -> torch.Tensor:
    """A ``(1, 2, h, w)`` flow field resized to ``height x width``, its vectors rescaled to the new pixel units.

    The field is resized, not its picture, so colours are never blended; and x and y are rescaled separately so
    directions stay true when the network size has a slightly different aspect from the frame.
    """
    h, w = flow.shape[-2:]
    if (h, w) == (height, width):
        return flow
    resized = F.interpolate(flow, size=(height, width), mode="bilinear", align_corners=False)
    scale = torch.tensor([width / w, height / h], dtype=resized.dtype, device=resized.device).view(1, 2, 1, 1)
    return resized * scale


# ------------------------------------------------------------------------------------------------ loading
def _build(architecture: str) -> Any:
    from torchvision.models.optical_flow import raft_large, raft_small

    if architecture not in ARCHITECTURES:
        raise ValueError(f"config.json names architecture {architecture!r}; expected one of {', '.join(ARCHITECTURES)}")
    return (raft_small if architecture == "raft_small" else raft_large)(weights=None)


def _load_folder(model: str, folder: Path) -> tuple[Any, int]:
    """RAFT from a folder with ``config.json`` and ``model.safetensors`` or ``model.pt``; with its update count.

    Raises :class:`ModelUnavailableError` when the folder or its config is missing (naming the folder and what it
    must hold), ``ValueError`` for a bad config or weights (which :func:`load_or_explain` explains).
    """
    config_file = folder / "config.json"
    if not config_file.is_file():
        # Said here rather than by load_or_explain, whose hint for a bare name is a Hugging Face download: RAFT
        # folders are not hub repositories.
        what = "does not exist" if not folder.exists() else "has no config.json"
        raise ModelUnavailableError(
            f"model {model!r} (flow) could not be loaded: {folder} {what}. To fix: point the profile's model at a "
            'folder holding config.json ({"architecture": "raft_small" or "raft_large", "num_flow_updates": 12}) '
            "and model.safetensors or model.pt, or use torchvision:raft_small / torchvision:raft_large; "
            "or use --profile tiny to run offline with random weights"
        )
    try:
        config = json.loads(config_file.read_text())
        architecture = str(config["architecture"])
        updates = int(config.get("num_flow_updates", DEFAULT_FLOW_UPDATES))
    except (json.JSONDecodeError, TypeError, AttributeError) as e:  # KeyError/ValueError pass through as they are
        raise ValueError(f"{config_file} is not a valid flow config: {e}") from e
    if not 1 <= updates <= 32:
        raise ValueError(f"{config_file}: num_flow_updates must be 1 to 32, got {updates}")
    net = _build(architecture)
    try:
        net.load_state_dict(_read_weights(folder))
    except RuntimeError as e:  # missing/unexpected keys or wrong shapes: weights of another architecture
        raise ValueError(f"the weights in {folder} do not fit {architecture}: {str(e)[:200]}") from e
    return net, updates


def _read_weights(folder: Path) -> dict[str, torch.Tensor]:
    """The state dict in ``folder``; ``FileNotFoundError`` when neither weights file is there, ``ValueError`` when
    one cannot be read."""
    safetensors_file, pt_file = folder / "model.safetensors", folder / "model.pt"
    try:
        if safetensors_file.is_file():
            from safetensors.torch import load_file

            return load_file(str(safetensors_file))
        if pt_file.is_file():
            state = torch.load(pt_file, map_location="cpu", weights_only=True)
            # Checkpoints saved from DataParallel prefix every key with "module." (VACE's raft.pth does).
            return {k.removeprefix("module."): v for k, v in state.items()}
    except OSError:
        raise  # unreadable file or folder: load_or_explain explains OSErrors itself
    except Exception as e:  # safetensors and unpickling raise their own types; all mean "not readable weights"
        raise ValueError(f"cannot read the weights in {folder}: {e}") from e
    raise FileNotFoundError(f"{folder} has neither model.safetensors nor model.pt")


def _load_torchvision(model: str) -> Any:
    """torchvision's pretrained RAFT for ``torchvision:raft_small`` or ``torchvision:raft_large``.

    Raises :class:`ModelUnavailableError` for another name, and when the weights are neither in torchvision's
    cache nor downloadable (offline, blocked, a corrupt download), saying how to fix it.
    """
    from torchvision.models.optical_flow import Raft_Large_Weights, Raft_Small_Weights, raft_large, raft_small

    name = model.removeprefix(TORCHVISION_PREFIX)
    if name not in ARCHITECTURES:
        raise ModelUnavailableError(
            f"model {model!r} (flow) is unknown: torchvision offers torchvision:raft_small and torchvision:raft_large"
        )
    weights: Any = Raft_Small_Weights.DEFAULT if name == "raft_small" else Raft_Large_Weights.DEFAULT
    try:
        return (raft_small if name == "raft_small" else raft_large)(weights=weights, progress=False)
    except (OSError, RuntimeError, EOFError, pickle.UnpicklingError) as e:
        # urllib's URLError/HTTPError and socket errors are OSErrors; a checksum mismatch is a RuntimeError, and a
        # truncated file in the cache an EOFError or UnpicklingError. Caught here because load_or_explain's advice
        # for a bare id (a Hugging Face download) does not fit this one.
        reason = " ".join(str(e).split())[:300] or e.__class__.__name__
        cache = Path(torch.hub.get_dir()) / "checkpoints" / Path(urlparse(weights.url).path).name
        raise ModelUnavailableError(
            f"model {model!r} (flow) could not be loaded: torchvision could not download or read its weights "
            f'({weights.url}: {reason}). To fix: load it once on a connected machine (python -c "from '
            f"torchvision.models.optical_flow import {name}, {type(weights).__name__}; "
            f'{name}(weights={type(weights).__name__}.DEFAULT)"), or copy that file to {cache}, or point the '
            "profile's model at a folder with config.json and model.safetensors; "
            "or use --profile tiny to run offline with random weights"
        ) from None


def build_tiny(path: Path) -> None:
    """Write a random-weight ``raft_small`` (``config.json`` + ``model.safetensors``) into ``path``.

    Deterministic given the caller's ``torch.manual_seed``; about a million parameters (4 MB), built and written
    in about a second. The weights are noise, so the maps are too: for tests and offline demos only.
    """
    from safetensors.torch import save_file

    path.mkdir(parents=True, exist_ok=True)
    net = _build("raft_small")
    save_file({k: v.contiguous() for k, v in net.state_dict().items()}, str(path / "model.safetensors"))
    config = {"architecture": "raft_small", "num_flow_updates": DEFAULT_FLOW_UPDATES}
    (path / "config.json").write_text(json.dumps(config, indent=2) + "\n")
