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
    with pytest.raises(ProfileError, match=r"unknown profile 'fastest'; known: default, fast, lowvram, bench, tiny"):
        load_profile("fastest")


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


def test_fast_and_lowvram_are_the_default_profile_with_their_levers() -> None:
    default, fast, lowvram = (load_profile(name) for name in ("default", "fast", "lowvram"))
    assert fast.name == "fast" and lowvram.name == "lowvram"
    vace = {name: p.models["vace"].parsed_options() for name, p in (("d", default), ("f", fast), ("l", lowvram))}
    assert isinstance(vace["f"], VaceOptions) and isinstance(vace["l"], VaceOptions)
    assert (vace["f"].cache, vace["f"].compile) == ("first_block", "regional")
    assert vace["l"].vae_tiling and lowvram.offload.mode == "group" and lowvram.offload.level == "block"
    # the same models and sampling as default: only the levers differ
    for other in (fast, lowvram):
        assert {k: m.model for k, m in other.models.items()} == {k: m.model for k, m in default.models.items()}
        assert other.tasks == default.tasks
    assert vace["f"].steps == vace["l"].steps == vace["d"].steps == 50
    assert vace["f"].negative_prompt == vace["d"].negative_prompt != ""


def test_a_profile_starts_from_its_base_and_merges_its_own_tables_over_it(tmp_path: Path) -> None:
    (tmp_path / "base.toml").write_text(
        _GOOD.replace(
            'model = "tiny:wan-vace"', 'model = "tiny:wan-vace"\noptions = { steps = 7, guidance_scale = 3.0 }'
        )
    )
    mine = tmp_path / "sub" / "mine.toml"
    mine.parent.mkdir()
    mine.write_text('base = "../base.toml"\noffload = "group"\n[models.vace.options]\ncompile = "regional"\n')
    profile = load_profile(mine)
    options = profile.models["vace"].parsed_options()
    assert isinstance(options, VaceOptions)
    assert (options.steps, options.guidance_scale, options.compile) == (7, 3.0, "regional")
    assert profile.name == "mine" and profile.offload.mode == "group"
    assert profile.tasks[Task.TEXT_TO_VIDEO] == "vace"


def test_a_base_chain_that_loops_is_refused_naming_the_loop(tmp_path: Path) -> None:
    (tmp_path / "a.toml").write_text('base = "b.toml"\n')
    (tmp_path / "b.toml").write_text('base = "a.toml"\n')
    with pytest.raises(ProfileError, match=r"base chain loops .*a\.toml -> .*b\.toml -> .*a\.toml"):
        load_profile(tmp_path / "a.toml")


def test_an_unknown_base_is_named(tmp_path: Path) -> None:
    with pytest.raises(ProfileError, match=r"unknown profile 'fastest'; known: default, fast, lowvram, bench, tiny"):
        load_profile(_write(tmp_path, 'base = "fastest"\n'))


@pytest.mark.parametrize(
    ("offload", "message"),
    [
        ('"swap"', r"offload\.mode: Input should be 'none', 'model', 'sequential' or 'group'"),
        ('{ mode = "group", level = "layer" }', r"offload\.level: Input should be 'block' or 'leaf'"),
        ('{ mode = "group", streams = true }', r"offload\.streams: unknown key"),
        ('{ mode = "group", blocks_per_group = 0 }', r"offload\.blocks_per_group: Input should be greater than"),
    ],
)
def test_a_bad_offload_is_refused_with_what_is_allowed(tmp_path: Path, offload: str, message: str) -> None:
    with pytest.raises(ProfileError, match=message):
        load_profile(_write(tmp_path, f"offload = {offload}\n" + _GOOD))


def test_offload_is_a_mode_name_or_a_table() -> None:
    assert load_profile("default").offload.mode == "none"
    lowvram = load_profile("lowvram").offload
    assert (lowvram.mode, lowvram.blocks_per_group, lowvram.use_stream) == ("group", 1, True)


def test_the_bench_profile_is_default_with_random_weights_at_full_size() -> None:
    from unison_agent.tools.random_weights import random_weights_profile

    bench, default = load_profile("bench"), load_profile("default")
    swapped = random_weights_profile(default)
    assert {k: m.model for k, m in bench.models.items()} == {k: m.model for k, m in swapped.models.items()}
    assert bench.models["vace"].model == "random:wan2.1-vace-1.3b"
    assert bench.models["vace"].options == default.models["vace"].options and bench.tasks == default.tasks
