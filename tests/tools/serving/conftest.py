"""Ray Serve is imported here once, before the test modules that use it are collected: Ray 2.60's Serve config
models still pass pydantic-1 style extra keywords to ``Field`` (``update_type=...``), which pydantic 2 reports
with a deprecation warning at import, and this project's pytest turns every warning into an error. Only that
warning, only from Ray's own modules, is let through; any other warning still fails the tests."""

from __future__ import annotations

import warnings

from pydantic.warnings import PydanticDeprecatedSince20

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", category=PydanticDeprecatedSince20, module=r"ray\.")
    import ray.serve  # noqa: F401  (imported for its side effect: the modules are cached, warning-free, for the tests)
