"""The ``flow`` extractor: RAFT flow between consecutive frames, drawn on the standard colour wheel, one map per
frame, as VACE's own flow annotator does. Offline: a random-weight raft_small built into a temporary folder, and
stubs in place of the network where the test is about the picture, not the network."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from urllib.error import URLError

import numpy as np
import pytest
import torch
from PIL import Image

from unison_agent.tools import ModelUnavailableError
from unison_agent.tools.backends import Offload
from unison_agent.tools.backends.flow import FlowBackend, FlowOptions, build_tiny, network_size

W, H = 100, 70  # neither a multiple of 8 nor RAFT's 128-pixel minimum

RED, YELLOW, WHITE = (255, 0, 0), (255, 229, 0), (255, 255, 255)  # right, down, still on torchvision's wheel


def _load(model: str | Path, **options: int) -> FlowBackend:
    return FlowBackend.load(str(model), options=FlowOptions(**options), device="cpu", dtype="auto", offload=Offload())


@pytest.fixture(scope="module")
def tiny_raft(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("raft")
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        build_tiny(path)
    return path


def _moving(n: int, step: int = 3) -> list[Image.Image]:
    """A textured picture sliding right by ``step`` pixels a frame."""
    texture = np.random.default_rng(0).integers(0, 256, (H, W + n * step, 3), dtype=np.uint8)
    return [Image.fromarray(np.ascontiguousarray(texture[:, i * step : i * step + W])) for i in range(n)]


def _grey(values: list[int]) -> list[Image.Image]:
    return [Image.new("RGB", (W, H), (v, v, v)) for v in values]


def _colours(im: Image.Image) -> set[tuple[int, ...]]:
    return {tuple(c) for c in np.asarray(im).reshape(-1, 3).tolist()}


def _stub(
    backend: FlowBackend,
    direction_of_pair: Callable[[int], tuple[float, float]],
    seen: list[tuple[int, ...]] | None = None,
) -> None:
    """Put a fake RAFT in ``backend``: pair ``i`` (recognised by frame ``i``'s grey level, 10 * i) moves by
    ``direction_of_pair(i)`` (dx, dy) pixels everywhere."""

    def fake(first: torch.Tensor, second: torch.Tensor, num_flow_updates: int) -> list[torch.Tensor]:
        assert first.shape == second.shape and first.min() >= -1 and first.max() <= 1
        if seen is not None:
            seen.append(tuple(first.shape))
        flow = torch.zeros(first.shape[0], 2, *first.shape[-2:])
        for k, level in enumerate(((first[:, 0, 0, 0] + 1) * 127.5).round().tolist()):
            dx, dy = direction_of_pair(round(level / 10))
            flow[k, 0], flow[k, 1] = dx, dy
        return [flow * 0.5, flow]  # RAFT returns every refinement; the last is the answer

    backend.model = fake


def test_a_clip_gives_one_rgb_flow_map_per_frame_at_the_frame_size(tiny_raft: Path) -> None:
    backend = _load(tiny_raft, num_flow_updates=2)
    maps = backend.extract(_moving(5))
    assert len(maps) == 5
    assert all(m.mode == "RGB" and m.size == (W, H) for m in maps)
    # The first map repeats the second (VACE's FlowVisAnnotator: flows[:1] + flows).
    assert maps[0].tobytes() == maps[1].tobytes()


def test_one_frame_gives_one_white_map_and_no_frames_give_none(tiny_raft: Path) -> None:
    backend = _load(tiny_raft, num_flow_updates=2)
    (only,) = backend.extract(_moving(1))
    assert only.size == (W, H) and _colours(only) == {WHITE}
    assert backend.extract([]) == []


def test_the_number_of_flow_updates_comes_from_options_else_from_the_model_config(tiny_raft: Path) -> None:
    assert _load(tiny_raft).num_flow_updates == 12
    assert _load(tiny_raft, num_flow_updates=3).num_flow_updates == 3


def test_uniform_rightward_motion_is_one_red_map_and_no_motion_is_white(tiny_raft: Path) -> None:
    backend = _load(tiny_raft)
    seen: list[tuple[int, ...]] = []
    _stub(backend, lambda _i: (2.0, 0.0), seen)
    maps = backend.extract(_grey([0, 10, 20, 30]))
    assert [_colours(m) for m in maps] == [{RED}] * 4
    # RAFT was given a valid size: multiples of 8, at least 128 a side, the frame's aspect kept.
    assert seen == [(3, 3, 128, 184)]
    _stub(backend, lambda _i: (0.0, 0.0))
    assert all(_colours(m) == {WHITE} for m in backend.extract(_grey([0, 10, 20])))


def test_each_map_is_drawn_from_the_motion_that_ends_on_its_frame(tiny_raft: Path) -> None:
    backend = _load(tiny_raft)
    _stub(backend, lambda i: (1.0, 0.0) if i % 2 == 0 else (0.0, 1.0))  # pairs 0, 2: right; 1, 3: down
    maps = backend.extract(_grey([0, 10, 20, 30, 40]))
    assert [_colours(m) for m in maps] == [{RED}, {RED}, {YELLOW}, {RED}, {YELLOW}]


@pytest.mark.slow
def test_each_map_is_scaled_by_its_own_largest_motion(tiny_raft: Path) -> None:
    backend = _load(tiny_raft)
    _stub(backend, lambda i: (0.1 if i == 0 else 20.0, 0.0))  # a slow pair batched with a fast one
    maps = backend.extract(_grey([0, 10, 20]))
    assert [_colours(m) for m in maps] == [{RED}] * 3


def test_network_size_keeps_large_frames_and_enlarges_small_ones() -> None:
    assert network_size(832, 480) == (832, 480)
    assert network_size(1280, 720) == (1280, 720)
    assert network_size(100, 70) == (184, 128)
    assert network_size(30, 300) == (128, 1280)


def test_max_side_caps_the_network_size_but_the_maps_keep_the_frame_size(tiny_raft: Path) -> None:
    assert network_size(832, 480, max_side=256) == (256, 144)
    assert network_size(100, 70, max_side=128) == (184, 128)  # the 128-pixel minimum wins
    backend = _load(tiny_raft, max_side=128)
    seen: list[tuple[int, ...]] = []
    _stub(backend, lambda _i: (0.0, -1.0), seen)
    maps = backend.extract([im.resize((320, 240)) for im in _grey([0, 10])])
    assert seen == [(1, 3, 128, 168)]
    assert [m.size for m in maps] == [(320, 240)] * 2 and len(_colours(maps[0])) == 1


def test_a_missing_folder_or_one_without_config_is_a_model_unavailable_error_naming_it(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere"
    with pytest.raises(ModelUnavailableError, match="does not exist") as info:
        _load(missing)
    assert str(missing) in str(info.value)
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(ModelUnavailableError, match=r"has no config\.json") as info:
        _load(empty)
    assert str(empty) in str(info.value) and "To fix" in str(info.value)


def test_a_folder_without_weights_or_with_a_bad_config_is_explained(tmp_path: Path) -> None:
    (tmp_path / "config.json").write_text('{"architecture": "raft_small"}')
    with pytest.raises(ModelUnavailableError, match=r"neither model\.safetensors nor model\.pt"):
        _load(tmp_path)
    (tmp_path / "config.json").write_text('{"architecture": "raft_huge"}')
    with pytest.raises(ModelUnavailableError, match="raft_huge"):
        _load(tmp_path)


def test_torchvision_weights_that_cannot_be_downloaded_say_how_to_fix_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))  # an empty cache, so torchvision tries to download

    def offline(url: str, dst: str, *args: object, **kwargs: object) -> None:
        raise URLError("[Errno -3] Temporary failure in name resolution")

    monkeypatch.setattr(torch.hub, "download_url_to_file", offline)
    with pytest.raises(ModelUnavailableError) as info:
        _load("torchvision:raft_small")
    message = str(info.value)
    assert "'torchvision:raft_small'" in message and "name resolution" in message
    assert "To fix" in message and "connected machine" in message and "config.json" in message
    assert str(tmp_path / "hub" / "checkpoints") in message  # where to put the file by hand


def test_an_unknown_torchvision_model_is_named() -> None:
    with pytest.raises(ModelUnavailableError, match="torchvision:raft_tiny"):
        _load("torchvision:raft_tiny")


def test_torchvision_weights_already_in_the_cache_load_without_a_download(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from torchvision.models.optical_flow import Raft_Small_Weights, raft_small

    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    cached = tmp_path / "hub" / "checkpoints" / Path(Raft_Small_Weights.DEFAULT.url).name
    cached.parent.mkdir(parents=True)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(1)
        torch.save(raft_small(weights=None).state_dict(), cached)  # stands in for the real download

    def no_network(*args: object, **kwargs: object) -> None:
        raise AssertionError("nothing may be downloaded")

    monkeypatch.setattr(torch.hub, "download_url_to_file", no_network)
    backend = _load("torchvision:raft_small", num_flow_updates=1)
    assert backend.num_flow_updates == 1
    assert len(backend.extract(_moving(2))) == 2
