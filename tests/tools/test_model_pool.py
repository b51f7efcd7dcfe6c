"""Models load once per process and are shared; a missing package or model says how to fix it."""

from __future__ import annotations

import pytest

from unison_agent.spec import Task
from unison_agent.tools import MissingDependencyError, ModelPool, Profile
from unison_agent.tools.backends import BackendInfo, VaceOptions


def test_one_loaded_model_serves_all_nine_generation_tasks(tiny: Profile) -> None:
    pool = ModelPool()
    backends = {id(pool.for_task(task, tiny)) for task in Task if task.is_generation}
    assert len(backends) == 1
    assert pool.loads == ["wan-vace:tiny:wan-vace"]
    pool.for_task(Task.IMAGE_UNDERSTANDING, tiny)
    pool.for_task(Task.VIDEO_UNDERSTANDING, tiny)
    assert pool.loads == ["wan-vace:tiny:wan-vace", "qwen-vl:tiny:qwen-vl"]


def test_a_backend_whose_package_is_missing_names_the_pip_install() -> None:
    info = BackendInfo("generation", "nowhere:Nothing", VaceOptions, needs=("torch", "no_such_package_xyz"))
    with pytest.raises(MissingDependencyError, match=r"needs no_such_package_xyz: pip install 'unison-agent\[gen\]'"):
        info.load_class()
