"""unison_agent.tools.serving.settings: the profile's ``executor`` key and its ``[ray]`` table, checked when the
profile loads (no Ray involved)."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from unison_agent.errors import ProfileError
from unison_agent.tools import load_profile
from unison_agent.tools.serving.settings import EXECUTOR_FORMS, DeploymentSettings, ExecutorChoice, parse_executor


def _profile(tmp_path: Path, extra: str) -> Path:
    """A profile file built on the tiny profile, with ``extra`` TOML added."""
    path = tmp_path / "custom.toml"
    path.write_text(f'base = "tiny"\n{extra}\n', encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("text", "kind", "address", "shown"),
    [
        ("local", "local", None, "local"),
        ("ray", "ray", None, "ray"),
        (" ray ", "ray", None, "ray"),
        ("ray://head:6379", "ray", "head:6379", "ray://head:6379"),
        ("ray:10.0.0.5:6379", "ray", "10.0.0.5:6379", "ray://10.0.0.5:6379"),
    ],
)
def test_parse_executor_accepts_local_ray_and_a_heads_gcs_address_in_both_spellings(
    text: str, kind: str, address: str | None, shown: str
) -> None:
    choice = parse_executor(text)
    assert choice == ExecutorChoice(kind, address)  # type: ignore[arg-type]
    assert str(choice) == shown
    assert parse_executor(str(choice)) == choice, "what it prints parses back to the same choice"


@pytest.mark.parametrize("text", ["", "bogus", "Ray", "ray:", "ray://", "ray:/head", "celery", "local:4"])
def test_parse_executor_refuses_anything_else_naming_the_value_and_the_allowed_forms(text: str) -> None:
    with pytest.raises(ProfileError) as caught:
        parse_executor(text)
    message = str(caught.value)
    assert repr(text) in message
    assert EXECUTOR_FORMS in message
    assert "\n" not in message


def test_a_profile_with_an_unknown_executor_fails_to_load_naming_the_key(tmp_path: Path) -> None:
    with pytest.raises(ProfileError) as caught:
        load_profile(_profile(tmp_path, 'executor = "bogus"'))
    message = str(caught.value)
    assert "executor" in message and "'bogus'" in message
    assert "ray://HOST:PORT" in message, "the allowed forms are listed"
    assert "\n" not in message


def test_a_profile_keeps_a_valid_executor_in_its_printed_form(tmp_path: Path) -> None:
    assert load_profile(_profile(tmp_path, 'executor = "ray:10.0.0.5:6379"')).executor == "ray://10.0.0.5:6379"
    assert load_profile("tiny").executor == "local"


def test_deployment_settings_for_a_model_key_the_profile_lacks_are_refused_naming_the_known_keys(
    tmp_path: Path,
) -> None:
    with pytest.raises(ProfileError) as caught:
        load_profile(_profile(tmp_path, "[ray.deployments.nope]\nnum_cpus = 1"))
    message = str(caught.value)
    assert "[ray.deployments] 'nope' is not a [models] entry" in message
    assert "known: depth, flow, pose, vace, vl" in message


def test_deployment_settings_of_a_known_model_key_are_taken(tmp_path: Path) -> None:
    profile = load_profile(_profile(tmp_path, "[ray.deployments.vace]\nnum_gpus = 2\nmax_replicas = 3"))
    assert profile.ray.deployment("vace") == DeploymentSettings(num_cpus=0.25, num_gpus=2, max_replicas=3)
    assert profile.ray.deployment("vl").num_cpus == 0.25, "the base's tables are kept"
    assert profile.ray.deployment("absent") == DeploymentSettings(), "a key the profile does not name gets defaults"


def test_max_replicas_below_min_replicas_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match=r"max_replicas \(1\) is below min_replicas \(2\)"):
        DeploymentSettings(min_replicas=2, max_replicas=1)
    with pytest.raises(ProfileError, match=r"ray\.deployments\.vace: max_replicas \(2\) is below min_replicas \(3\)"):
        load_profile(_profile(tmp_path, "[ray.deployments.vace]\nmin_replicas = 3\nmax_replicas = 2"))


def test_a_negative_num_gpus_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match=r"num_gpus must be >= 0 or 'auto', not -1"):
        DeploymentSettings(num_gpus=-1)
    with pytest.raises(ProfileError, match=r"ray\.deployments\.vl: num_gpus must be >= 0 or 'auto', not -0\.5"):
        load_profile(_profile(tmp_path, "[ray.deployments.vl]\nnum_gpus = -0.5"))


def test_unknown_keys_in_the_ray_table_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ProfileError, match=r"ray\.replicas: unknown key"):
        load_profile(_profile(tmp_path, "[ray]\nreplicas = 2"))
