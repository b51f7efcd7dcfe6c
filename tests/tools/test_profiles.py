"""Profiles are validated when loaded: a typo fails at once, with the key and what is allowed."""

from __future__ import annotations

from pathlib import Path

import pytest

from unison_agent.spec import Task
from unison_agent.tools import ProfileError, load_profile
from unison_agent.tools.backends import VaceOptions


def _write(tmp_path: Path, text: str) -> str:
    path = tmp_path / "mine.toml"
    path.write_text(text)
    return str(path)


_GOOD = """
[models.vace]
backend = "wan-vace"
model = "tiny:wan-vace"
[models.vl]
backend = "qwen-vl"
model = "tiny:qwen-vl"
[tasks]
""" + "".join(f'{t.value} = "{"vl" if t.is_understanding else "vace"}"\n' for t in Task)


def test_builtin_profiles_map_every_task_and_share_one_generation_model() -> None:
    for name in ("default", "tiny"):
        profile = load_profile(name)
        generation_models = {profile.tasks[t] for t in Task if t.is_generation}
        assert generation_models == {"vace"}
        assert set(profile.tasks) == set(Task)
    assert load_profile("default").models["vace"].model == "Wan-AI/Wan2.1-VACE-1.3B-diffusers"
    assert load_profile("default").models["vl"].model == "Qwen/Qwen2.5-VL-3B-Instruct"


def test_unknown_profile_name_lists_the_known_ones() -> None:
    with pytest.raises(ProfileError, match=r"unknown profile 'fast'; known: default, tiny"):
        load_profile("fast")


def test_profile_file_by_path_loads_and_takes_its_name_from_the_file(tmp_path: Path) -> None:
    profile = load_profile(_write(tmp_path, _GOOD))
    assert profile.name == "mine"
    assert isinstance(profile.models["vace"].parsed_options(), VaceOptions)


def test_missing_profile_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(ProfileError, match="does not exist"):
        load_profile(str(tmp_path / "nope.toml"))


def test_bad_toml_is_reported_as_such(tmp_path: Path) -> None:
    with pytest.raises(ProfileError, match="not valid TOML"):
        load_profile(_write(tmp_path, "[models\n"))


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            ('backend = "wan-vace"', 'backend = "wan-vase"'),
            r"unknown backend 'wan-vase'; known: depth, flow, pose, qwen-vl, wan-vace",
        ),
        (('model = "tiny:wan-vace"', 'model = "tiny:wan-vace"\noptions = { stepz = 3 }'), r"stepz: unknown key"),
        (('model = "tiny:wan-vace"', 'model = "tiny:wan-vace"\noptions = { steps = 0 }'), r"steps"),
        (('text_to_video = "vace"', 'text_to_video = "wan"'), r"text_to_video = 'wan' is not a \[models\] entry"),
        (('text_to_video = "vace"', 'text_to_video = "vl"'), r"text_to_video needs a generation backend"),
        (('text_to_video = "vace"\n', ""), r"missing: text_to_video"),
        (
            ("[models.vace]", 'device = "gpu"\n[models.vace]'),
            r"unknown device 'gpu'; allowed: auto, cpu, cuda, cuda:N, mps",
        ),
        (("[models.vace]", 'dtype = "fp8"\n[models.vace]'), r"dtype"),
        (("[models.vace]", 'colour = "red"\n[models.vace]'), r"colour: unknown key"),
    ],
)
def test_invalid_profiles_fail_on_load_naming_the_problem(
    tmp_path: Path, change: tuple[str, str], message: str
) -> None:
    old, new = change
    assert old in _GOOD
    with pytest.raises(ProfileError, match=message):
        load_profile(_write(tmp_path, _GOOD.replace(old, new, 1)))
