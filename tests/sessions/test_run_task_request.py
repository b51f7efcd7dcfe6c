"""`run_task_request`: the one typed-tool adapter behind the MCP task tools and the LangChain task tools."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from unison_agent.errors import AccessError, PlanningError, UnisonError
from unison_agent.sessions.runner import UnisonContext, run_task_request
from unison_agent.spec import Task

pytestmark = pytest.mark.usefixtures("offline_tiny_cache")  # runs the tiny models, offline


def _context(tmp_path: Path) -> UnisonContext:
    return UnisonContext(workspace=str(tmp_path / "ws"), profile="tiny")


@pytest.mark.slow
def test_a_typed_request_stores_its_files_runs_and_records_them_as_the_outputs_parents(
    tmp_path: Path, media: Callable[..., str]
) -> None:
    ctx = _context(tmp_path)
    store = ctx.open_store()
    sid = store.new_session()
    photo = media("cabin.png", size=(128, 96))
    fields = {"prompt": "snow falls", "first_frame": photo, "width": 64, "height": 64, "num_frames": 5, "steps": 1}
    result = run_task_request(ctx, sid, Task.IMAGE_TO_VIDEO, fields)
    [clip] = [store.get(aid) for aid in result["outputs"]]
    [stored] = [a for a in store.artifacts(sid) if a.origin == "input"]
    assert clip.media.value == "video" and clip.num_frames == 5 and clip.parents == [stored.id]
    assert result["spec"]["inputs"][0]["path"] == stored.path  # the stored copy runs, not the caller's file
    edit = {"prompt": "more snow", "source": f"@{clip.id}", "width": 64, "height": 64, "num_frames": 5, "steps": 1}
    again = run_task_request(ctx, sid, Task.VIDEO_EDITING, edit)
    assert store.get(again["outputs"][0]).parents == [clip.id]
    [step, _] = store.history(sid)
    assert step.request.startswith("image_to_video: ")


def test_fields_that_do_not_fit_the_task_are_one_planning_error_naming_the_field(tmp_path: Path) -> None:
    ctx = _context(tmp_path)
    sid = ctx.open_store().new_session()
    with pytest.raises(PlanningError, match=r"^width: Input should be less than or equal to 4096$"):
        run_task_request(ctx, sid, Task.TEXT_TO_IMAGE, {"prompt": "a kite", "width": 99999})
    with pytest.raises(PlanningError, match=r"width and height must both be given") as caught:
        run_task_request(ctx, sid, Task.TEXT_TO_IMAGE, {"prompt": "a kite", "width": 128})
    assert "\n" not in str(caught.value)
    with pytest.raises(PlanningError, match=r"^source: Field required$"):
        run_task_request(ctx, sid, Task.IMAGE_EDITING, {"prompt": "purple sky"})


def test_a_file_the_check_refuses_is_never_stored(tmp_path: Path, media: Callable[..., str]) -> None:
    ctx = _context(tmp_path)
    store = ctx.open_store()
    sid = store.new_session()
    photo = media("photo.png")
    seen: list[str] = []

    def refuse(path: str) -> str:
        seen.append(path)
        raise AccessError(f"{path} is outside the allowed folders")

    with pytest.raises(AccessError, match="outside the allowed folders"):
        run_task_request(ctx, sid, Task.IMAGE_EDITING, {"prompt": "purple sky", "source": photo}, check_ref=refuse)
    assert seen == [photo] and store.artifacts(sid) == [] and store.history(sid) == []


def test_an_unknown_artifact_id_is_a_unison_error_naming_it(tmp_path: Path) -> None:
    ctx = _context(tmp_path)
    sid = ctx.open_store().new_session()
    with pytest.raises(UnisonError, match=r"^no artifact @abc123"):
        run_task_request(ctx, sid, Task.IMAGE_EDITING, {"prompt": "purple sky", "source": "@abc123"})
