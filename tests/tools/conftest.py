"""Tool tests run the real backends on the tiny profile: random-weight models built once per test session into
a temporary cache (through ``save_pretrained``/``from_pretrained``), offline, on one CPU thread."""

from __future__ import annotations

from pathlib import Path

import pytest

from unison_agent.tools import ModelPool, Profile, load_profile


@pytest.fixture(scope="session", autouse=True)
def _offline(offline_tiny_cache: Path) -> Path:
    return offline_tiny_cache


@pytest.fixture(scope="session")
def tiny() -> Profile:
    return load_profile("tiny")


@pytest.fixture(scope="session")
def pool() -> ModelPool:
    """One pool for the session: each tiny model is loaded once, as in a long-running server."""
    return ModelPool()
