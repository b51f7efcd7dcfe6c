"""Property tests run the same examples on every CI run, and keep exploring on a developer's machine."""

from __future__ import annotations

import os

from hypothesis import settings


def test_ci_property_tests_are_derandomized_and_ignore_saved_examples() -> None:
    ci = settings.get_profile("ci")
    assert ci.derandomize is True
    assert ci.database is None  # a failure saved in .hypothesis/ must not change what CI runs


def test_the_profile_in_force_follows_the_ci_variable() -> None:
    in_ci = bool(os.environ.get("CI"))
    assert settings.default.derandomize is in_ci
    assert (settings.default.database is None) is in_ci
