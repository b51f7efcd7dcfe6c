"""Planner-model tests load tiny random-weight models, offline (the shared fixture is in tests/conftest.py)."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(scope="session", autouse=True)
def _offline(offline_tiny_cache: Path) -> Path:
    return offline_tiny_cache
