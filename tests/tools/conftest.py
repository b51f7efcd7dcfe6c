"""Tool tests run the real backends on the tiny profile: random-weight models built once per test session into
a temporary cache (through ``save_pretrained``/``from_pretrained``), offline, on one CPU thread."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from unison_agent.tools import ModelPool, Profile, load_profile


@pytest.fixture(scope="session", autouse=True)
def _offline_tiny_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    cache = tmp_path_factory.mktemp("unison-cache")
    saved = {k: os.environ.get(k) for k in ("UNISON_CACHE", "HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE")}
    os.environ.update(UNISON_CACHE=str(cache), HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1")
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # steadier timings and no oversubscription on 2-core CI machines
    yield cache
    torch.set_num_threads(threads)
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


@pytest.fixture(scope="session")
def tiny() -> Profile:
    return load_profile("tiny")


@pytest.fixture(scope="session")
def pool() -> ModelPool:
    """One pool for the session: each tiny model is loaded once, as in a long-running server."""
    return ModelPool()
