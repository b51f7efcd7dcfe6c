"""A hub model with no network: fail in seconds with one line that names offline as the cause, or load from the
cache; never minutes of the hub's retries."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image

from unison_agent.tools import ModelUnavailableError
from unison_agent.tools.backends.torch_env import load_or_explain

MODEL = "someone/some-model"


@pytest.fixture
def closed_endpoint() -> Iterator[str]:
    """A local address that refuses connections at once: a port bound (so nobody else takes it) but not listening."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        yield f"http://127.0.0.1:{s.getsockname()[1]}"


@pytest.fixture
def hub(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, closed_endpoint: str) -> Path:
    """The hub's settings as the environment would make them: an empty cache, an unreachable endpoint, online."""
    from huggingface_hub import constants

    cache = tmp_path / "hub"
    cache.mkdir()
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(cache))
    monkeypatch.setattr(constants, "ENDPOINT", closed_endpoint)
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)
    return cache


def _never(path: str) -> None:
    raise AssertionError(f"the load was attempted ({path}); the missing network should have been found first")


def test_an_uncached_hub_model_with_the_hub_unreachable_fails_before_loading_and_names_offline(hub: Path) -> None:
    with pytest.raises(ModelUnavailableError) as caught:
        load_or_explain(MODEL, "qwen-vl", _never)
    message = str(caught.value)
    assert f"model '{MODEL}' (qwen-vl) is not in the local cache and 127.0.0.1 cannot be reached (offline?)" in message
    assert f"hf download {MODEL}" in message and "--profile tiny" in message and "\n" not in message


def test_an_uncached_hub_model_in_offline_mode_fails_before_loading_and_says_so(
    hub: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from huggingface_hub import constants

    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)
    with pytest.raises(ModelUnavailableError, match=r"not in the local cache and HF_HUB_OFFLINE is set"):
        load_or_explain(MODEL, "wan-vace", _never)


def test_a_cached_hub_model_loads_from_its_cached_snapshot_when_the_hub_cannot_be_reached(hub: Path) -> None:
    repo = hub / ("models--" + MODEL.replace("/", "--"))
    snapshot = repo / "snapshots" / "0123abcd"
    snapshot.mkdir(parents=True)
    (snapshot / "config.json").write_text("{}")
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text("0123abcd")
    seen: list[str] = []
    load_or_explain(MODEL, "qwen-vl", seen.append)
    assert seen == [str(snapshot)]


def test_local_folders_and_tiny_models_are_not_looked_up_on_the_hub(hub: Path, tmp_path: Path) -> None:
    seen: list[str] = []
    load_or_explain(str(tmp_path), "qwen-vl", seen.append)
    load_or_explain("torchvision:raft_small", "flow", seen.append, hub=False)
    assert seen == [str(tmp_path), "torchvision:raft_small"]


@pytest.mark.slow
def test_the_default_profile_offline_fails_in_seconds_with_one_error_line_naming_offline(
    tmp_path: Path, closed_endpoint: str
) -> None:
    Image.new("RGB", (64, 48), (200, 30, 30)).save(tmp_path / "img.png")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HF_", "TRANSFORMERS_"))}
    env.update(HF_HOME=str(tmp_path / "hf"), HF_ENDPOINT=closed_endpoint, NO_PROXY="127.0.0.1", no_proxy="127.0.0.1")
    # A deadline, not a timing assertion: before the fix this run retried every file for 2.5 minutes (sleeping).
    done = subprocess.run(
        [sys.executable, "-m", "unison_agent.cli", "run", "what is in this picture?", "--attach", "img.png"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,  # imports alone take 30 s on a busy 2-core machine; the retries took 160 s
    )
    assert done.returncode == 1, done.stderr
    lines = done.stderr.splitlines()
    errors = [line for line in lines if line.startswith("unison run: error:")]
    assert len(errors) == 1 and "cannot be reached (offline?)" in errors[0], done.stderr
    assert "Qwen/Qwen2.5-VL-3B-Instruct" in errors[0] and "--profile tiny" in errors[0]
    assert len(lines) <= 2, done.stderr  # at most the "load ..." progress line before it
