"""Where a session's specs run: the executor a context, a profile or a command names (local or ray)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest

from unison_agent.cli import main
from unison_agent.errors import MissingDependencyError, ProfileError
from unison_agent.sessions.runner import Resources, UnisonContext
from unison_agent.tools import load_profile
from unison_agent.tools.executors import LocalExecutor, open_executor
from unison_agent.tools.profiles import Profile

pytestmark = pytest.mark.usefixtures("offline_tiny_cache")  # runs the tiny models, offline


def test_a_context_runs_locally_by_default_with_its_own_model_pool() -> None:
    ctx = UnisonContext(profile="tiny")
    executor = ctx.open_executor()
    assert isinstance(executor, LocalExecutor)
    assert executor.pool is ctx.model_pool()


def test_an_unknown_executor_is_refused_naming_the_forms_allowed() -> None:
    ctx = UnisonContext(profile="tiny", executor="kubernetes")
    with pytest.raises(ProfileError, match=r"unknown executor 'kubernetes'; allowed: local, ray, or ray://HOST:PORT"):
        ctx.open_executor()


def test_a_profile_with_an_unknown_executor_fails_to_load_naming_the_key(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text('base = "tiny"\nexecutor = "celery"\n', encoding="utf-8")
    with pytest.raises(ProfileError, match=r"executor: unknown executor 'celery'"):
        load_profile(bad)


def test_a_cluster_executor_is_opened_once_per_resources_and_profile(monkeypatch: pytest.MonkeyPatch) -> None:
    opened: list[tuple[str, str]] = []

    def fake_open(choice: str, profile: Profile, **_kw: Any) -> LocalExecutor:
        opened.append((choice, profile.name))
        return LocalExecutor(profile)

    monkeypatch.setattr("unison_agent.sessions.runner.open_executor", fake_open)
    resources = Resources()
    first = UnisonContext(profile="tiny", executor="ray", resources=resources).open_executor()
    again = UnisonContext(profile="tiny", executor="ray", resources=resources).open_executor()
    other = UnisonContext(profile="tiny", executor="ray:10.0.0.5:6379", resources=resources).open_executor()
    assert first is again and other is not first
    assert opened == [("ray", "tiny"), ("ray:10.0.0.5:6379", "tiny")]


def test_the_ray_executor_without_ray_installed_says_which_extra_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "unison_agent.tools.serving.client", None)  # import fails as without ray
    with pytest.raises(MissingDependencyError, match=r"pip install 'unison-agent\[ray\]'"):
        open_executor("ray", load_profile("tiny"))


def test_the_cli_refuses_an_unknown_executor_before_any_work(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["run", "a red fox, 64x64", "--profile", "tiny", "--executor", "slurm", "--out", "never"])
    assert code == 2
    assert "unknown executor 'slurm'" in capsys.readouterr().err
    assert not Path("never").exists()


def test_the_mcp_server_hands_a_cluster_its_concurrency_and_the_local_worker_one_run() -> None:
    from unison_agent.mcp_server.server import _slots

    assert _slots("tiny", None) == 1
    assert _slots("tiny", "local") == 1
    assert _slots("tiny", "ray") == load_profile("tiny").ray.concurrency == 8
    with pytest.raises(ProfileError, match="unknown executor"):
        _slots("tiny", "ray:")
