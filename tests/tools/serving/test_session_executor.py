"""A session's run through the ``ray`` executor, in Serve's testing mode: the workspace stores what the replica made,
naming its own stored copy of the attachment.

Kept in this folder, after the tests that fork worker processes: Serve's testing-mode replicas leave their threads
in the test process, and forking a process with threads (to run Python in the child) is best avoided."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from unison_agent.planning import plan
from unison_agent.sessions.runner import UnisonContext, run_and_store, run_task_request
from unison_agent.spec import Task
from unison_agent.tools import load_profile
from unison_agent.tools.outputs import read_metadata
from unison_agent.tools.profiles import Profile


def _two_models(profile: Profile) -> Profile:
    """``profile`` without its extractors: two replicas to load in Serve's testing mode instead of five."""
    keep = set(profile.tasks.values())
    deployments = {k: v for k, v in profile.ray.deployments.items() if k in keep}
    return Profile.model_validate(
        {
            **profile.model_dump(),
            "extractors": {},
            "models": {k: v.model_dump() for k, v in profile.models.items() if k in keep},
            "ray": {**profile.ray.model_dump(), "deployments": deployments},
        }
    )


@pytest.mark.slow
def test_a_session_run_through_the_ray_executor_stores_its_outputs_naming_the_stored_attachment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, media: Any
) -> None:
    from unison_agent.tools.serving.client import RayExecutor

    profile = _two_models(load_profile("tiny"))
    ray_executor = RayExecutor(profile, local_testing=True)  # Serve's in-process mode: no cluster
    monkeypatch.setattr("unison_agent.sessions.runner.open_executor", lambda *_a, **_k: ray_executor)
    ctx = UnisonContext(workspace=str(tmp_path / "ws"), profile="tiny", executor="ray")
    store = ctx.open_store()
    sid = store.new_session()

    made = run_and_store(ctx, sid, "a lighthouse", plan("a lighthouse at dusk, 64x64, seed 4", []), [])
    [picture] = made["outputs"]
    photo = media("photo.png", size=(64, 64))
    edited = run_task_request(
        ctx, sid, Task.IMAGE_TO_VIDEO, {"prompt": "the light turns", "first_frame": photo, "width": 64, "height": 64}
    )

    [clip] = edited["outputs"]
    stored_input = store.history(sid)[-1].inputs[0]
    stored_path = store.get(stored_input).path
    assert [i["path"] for i in edited["spec"]["inputs"]] == [stored_path]  # not the replica's scratch copy
    assert read_metadata(Path(store.get(clip).path))["spec"]["inputs"][0]["path"] == stored_path
    assert Path(store.get(picture).path).is_file() and Path(store.get(clip).path).parent == store.workspace / "files"
    assert store.get(clip).parents == [stored_input]
