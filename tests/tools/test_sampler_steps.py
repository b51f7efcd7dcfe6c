"""Step counts the sampler cannot run are refused before any work, naming the most that it can."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from unison_agent.errors import ToolError
from unison_agent.spec import Task, TaskSpec
from unison_agent.tools import ModelPool, Profile, run


def test_a_step_count_whose_timesteps_collide_is_refused_before_any_step_naming_the_most_that_run(
    tiny: Profile, pool: ModelPool, tmp_path: Path
) -> None:
    spec = TaskSpec(
        task=Task.TEXT_TO_IMAGE, prompt="a lighthouse", width=64, height=64, num_frames=1, seed=1, steps=400
    )
    stages: list[str] = []
    with pytest.raises(ToolError, match=r"400 steps is more than this sampler can run .* at most \d+ steps") as caught:
        run(spec, profile=tiny, pool=pool, out_dir=tmp_path, on_progress=lambda e: stages.append(e.stage))
    assert "denoise" not in stages and list(tmp_path.iterdir()) == []
    most = int(re.search(r"at most (\d+) steps", str(caught.value)).group(1))  # type: ignore[union-attr]
    assert 250 <= most < 400
    backend = pool.generation(Task.TEXT_TO_IMAGE, tiny)
    backend._check_steps(most)  # type: ignore[attr-defined]  # the most named is accepted...
    with pytest.raises(ToolError):
        backend._check_steps(most + 1)  # type: ignore[attr-defined]  # ...and it is the most
