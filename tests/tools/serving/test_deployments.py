"""unison_agent.tools.serving.deployments: the Serve application's name and each model entry's deployment options,
read from the profile (nothing is deployed here)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from unison_agent.tools import Profile, load_profile
from unison_agent.tools.serving.deployments import app_name, deployment_options, served_models

EXTRACTORS = ("depth", "pose", "flow")


def _profile(tmp_path: Path, extra: str, name: str = "custom") -> Profile:
    """A profile file ``name.toml`` built on the tiny profile, with ``extra`` TOML added, loaded."""
    path = tmp_path / f"{name}.toml"
    path.write_text(f'base = "tiny"\n{extra}\n', encoding="utf-8")
    return load_profile(path)


def _gpus(options: dict[str, Any]) -> float | None:
    actor: dict[str, Any] = options["ray_actor_options"]
    return actor.get("num_gpus")


def test_served_models_are_every_model_entry_a_task_or_an_extractor_uses_with_its_family(tiny: Profile) -> None:
    assert served_models(tiny) == {
        "vace": "generation",
        "vl": "understanding",
        "depth": "extractor",
        "pose": "extractor",
        "flow": "extractor",
    }


def test_the_app_name_is_the_profile_name_and_a_digest_of_what_the_replicas_load(tiny: Profile) -> None:
    assert re.fullmatch(r"unison-tiny-[0-9a-f]{8}", app_name(tiny))
    assert app_name(tiny) == app_name(load_profile("tiny")), "the same profile, the same application"


def test_the_app_name_changes_when_a_model_option_changes(tmp_path: Path, tiny: Profile) -> None:
    changed = _profile(tmp_path, "[models.vace.options]\nsteps = 6", name="tiny")
    assert changed.models["vace"].options["steps"] == 6
    assert app_name(changed) != app_name(tiny)
    assert app_name(changed).startswith("unison-tiny-")


def test_the_app_name_changes_when_a_deployment_setting_changes(tmp_path: Path, tiny: Profile) -> None:
    assert app_name(_profile(tmp_path, "[ray.deployments.vl]\nnum_gpus = 1", name="tiny")) != app_name(tiny)


def test_the_app_name_stays_when_only_the_description_changes(tmp_path: Path, tiny: Profile) -> None:
    described = _profile(tmp_path, 'description = "the same models, told differently"', name="tiny")
    assert described.description != tiny.description
    assert app_name(described) == app_name(tiny)


def test_the_app_name_is_the_profiles_own_when_it_names_one(tmp_path: Path) -> None:
    assert app_name(_profile(tmp_path, '[ray]\napp = "studio-models"')) == "studio-models"


def test_a_profile_name_unfit_for_an_app_name_is_cleaned(tmp_path: Path) -> None:
    assert re.fullmatch(r"unison-my-profile-v2-[0-9a-f]{8}", app_name(_profile(tmp_path, "", name="my profile+v2")))


def test_no_gpu_is_asked_for_on_a_cluster_without_gpus(tiny: Profile) -> None:
    for key in served_models(tiny):
        options = deployment_options(tiny, key, cluster_gpus=0)
        # Ray hides every GPU from an actor that asks for num_gpus=0: the key must be absent, not 0
        assert "num_gpus" not in options["ray_actor_options"], key
        assert options["ray_actor_options"]["num_cpus"] == 0.25, "the tiny profile's own setting"


@pytest.mark.parametrize(
    ("cluster_gpus", "generation", "understanding"),
    [(1, 0.5, 0.25), (1.5, 0.5, 0.25), (2, 1.0, 0.5), (4, 1.0, 0.5)],
)
def test_auto_gpus_share_a_single_gpu_and_take_whole_ones_on_a_bigger_cluster(
    tiny: Profile, cluster_gpus: float, generation: float, understanding: float
) -> None:
    assert _gpus(deployment_options(tiny, "vace", cluster_gpus)) == generation
    assert _gpus(deployment_options(tiny, "vl", cluster_gpus)) == understanding
    for key in EXTRACTORS:
        assert _gpus(deployment_options(tiny, key, cluster_gpus)) == 0.1, key


def test_num_gpus_set_in_the_profile_is_taken_as_it_is(tmp_path: Path) -> None:
    profile = _profile(tmp_path, "[ray.deployments.vace]\nnum_gpus = 2\n[ray.deployments.depth]\nnum_gpus = 0")
    assert _gpus(deployment_options(profile, "vace", cluster_gpus=0)) == 2.0
    assert "num_gpus" not in deployment_options(profile, "depth", cluster_gpus=4)["ray_actor_options"]


def test_a_model_replica_takes_one_request_at_a_time_and_an_extractor_four_by_default(tiny: Profile) -> None:
    taken = {key: deployment_options(tiny, key, 1)["max_ongoing_requests"] for key in served_models(tiny)}
    assert taken == {"vace": 1, "vl": 1, "depth": 4, "pose": 4, "flow": 4}


def test_max_ongoing_requests_set_in_the_profile_is_taken(tmp_path: Path) -> None:
    profile = _profile(tmp_path, "[ray.deployments.vl]\nmax_ongoing_requests = 3")
    assert deployment_options(profile, "vl", 1)["max_ongoing_requests"] == 3


def test_a_fixed_replica_count_has_no_autoscaling(tmp_path: Path, tiny: Profile) -> None:
    options = deployment_options(tiny, "vace", 1)
    assert options["num_replicas"] == 1
    assert "autoscaling_config" not in options
    fixed = deployment_options(
        _profile(tmp_path, "[ray.deployments.vace]\nmin_replicas = 2\nmax_replicas = 2"), "vace", 1
    )
    assert fixed["num_replicas"] == 2
    assert "autoscaling_config" not in fixed


def test_more_max_replicas_than_min_replicas_turns_on_autoscaling(tmp_path: Path) -> None:
    profile = _profile(
        tmp_path, "[ray.deployments.vace]\nmin_replicas = 1\nmax_replicas = 4\ntarget_ongoing_requests = 2"
    )
    options = deployment_options(profile, "vace", 4)
    assert options["autoscaling_config"] == {"min_replicas": 1, "max_replicas": 4, "target_ongoing_requests": 2.0}
    assert "num_replicas" not in options, "Serve refuses both at once"


def test_each_deployment_is_named_by_its_model_key(tiny: Profile) -> None:
    assert [deployment_options(tiny, key, 0)["name"] for key in served_models(tiny)] == list(served_models(tiny))
