"""A request that misses a file asks the person for it (MCP elicitation), through the SDK's own client session."""

from __future__ import annotations

import os
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import anyio
import pytest
from mcp.client.session import ClientSession
from mcp.shared.context import RequestContext
from mcp.shared.memory import create_connected_server_and_client_session
from mcp.types import CallToolResult, ElicitRequestParams, ElicitResult

from unison_agent.mcp_server.server import create_server

Answer = Callable[[RequestContext[ClientSession, Any], ElicitRequestParams], Awaitable[ElicitResult]]


def _serve(tmp_path: Path) -> Any:
    return create_server(workspace=tmp_path / "ws", profile="tiny", roots=[tmp_path / "in"])


def _photo(tmp_path: Path, media: Callable[..., str]) -> str:
    (tmp_path / "in").mkdir(exist_ok=True)
    target = tmp_path / "in" / "photo.png"
    os.replace(media("photo.png", size=(128, 96)), target)
    return str(target)


def _answering(answers: list[ElicitResult], asked: list[str]) -> Answer:
    """An elicitation callback that records each question and gives the next answer."""
    script = iter(answers)

    async def answer(context: RequestContext[ClientSession, Any], params: ElicitRequestParams) -> ElicitResult:
        asked.append(params.message)
        return next(script)

    return answer


def _call(tmp_path: Path, name: str, args: dict[str, Any], answer: Answer | None) -> CallToolResult:
    async def go() -> CallToolResult:
        with anyio.fail_after(300):
            async with create_connected_server_and_client_session(
                _serve(tmp_path), elicitation_callback=answer
            ) as client:
                return await client.call_tool(name, args)

    return anyio.run(go)


def _accept(file: str) -> ElicitResult:
    return ElicitResult(action="accept", content={"file": file})


@pytest.mark.slow
def test_animate_this_photo_with_no_photo_asks_for_it_and_makes_the_video(
    tmp_path: Path, media: Callable[..., str]
) -> None:
    photo = _photo(tmp_path, media)
    asked: list[str] = []
    request = {"request": "animate this photo, 64x64, 5 frames, 1 step"}
    result = _call(tmp_path, "run", request, _answering([_accept(photo)], asked))
    assert not result.isError, result.content
    [question] = asked
    assert "image_to_video needs a first_frame" in question and str(tmp_path / "in") in question
    [clip] = result.structuredContent["outputs"]
    assert result.structuredContent["task"] == "image_to_video" and clip["media"] == "video"
    assert clip["num_frames"] == 5


def test_a_declined_question_gives_the_error_a_client_without_elicitation_gets(
    tmp_path: Path, media: Callable[..., str]
) -> None:
    asked: list[str] = []
    declined = _call(
        tmp_path, "run", {"request": "animate this photo"}, _answering([ElicitResult(action="decline")], asked)
    )
    cancelled = _call(
        tmp_path, "run", {"request": "animate this photo"}, _answering([ElicitResult(action="cancel")], asked)
    )
    unasked = _call(tmp_path, "run", {"request": "animate this photo"}, None)
    texts = [r.content[0].text for r in (declined, cancelled, unasked)]
    assert all(r.isError for r in (declined, cancelled, unasked)) and len(asked) == 2
    assert texts == [texts[0]] * 3 and texts[0].startswith("this request needs a first_frame: attach the file")


def test_an_unusable_answer_is_asked_again_twice_then_refused_saying_why(
    tmp_path: Path, media: Callable[..., str]
) -> None:
    (tmp_path / "in").mkdir()
    notes = tmp_path / "in" / "notes.png"
    notes.write_text("shopping list")
    answers = [_accept("/etc/hostname"), _accept("relative.png"), _accept(str(notes)), _accept("never asked")]
    asked: list[str] = []
    result = _call(tmp_path, "run", {"request": "animate this photo"}, _answering(answers, asked))
    assert len(asked) == 3
    assert "outside the allowed folders" in asked[1] and "give an absolute path" in asked[2]
    assert result.isError
    text = result.content[0].text
    assert text.startswith("no usable first_frame was given in 3 answers; the last: notes.png") and "\n" not in text
    assert not any((tmp_path / "ws" / "files").iterdir())


@pytest.mark.slow
def test_a_typed_tool_called_without_its_required_file_asks_for_it(tmp_path: Path, media: Callable[..., str]) -> None:
    photo = _photo(tmp_path, media)
    asked: list[str] = []
    args = {"prompt": "waves", "width": 64, "height": 64, "num_frames": 5, "steps": 1}
    result = _call(tmp_path, "image_to_video", args, _answering([_accept(photo)], asked))
    assert not result.isError, result.content
    assert len(asked) == 1 and "image_to_video needs a first_frame" in asked[0]
    assert result.structuredContent["outputs"][0]["num_frames"] == 5


def test_a_typed_tool_without_its_required_file_and_no_elicitation_names_what_is_missing(tmp_path: Path) -> None:
    edit = _call(tmp_path, "image_editing", {"prompt": "purple sky"}, None)
    assert edit.isError and edit.content[0].text == "source: Field required"
    clip = _call(tmp_path, "image_to_video", {"prompt": "waves"}, None)
    assert clip.isError and clip.content[0].text.startswith("image_to_video needs a first_frame or a last_frame")
