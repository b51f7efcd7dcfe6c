"""The MCP server through an in-memory client session (the SDK's own client, no mocks)."""

from __future__ import annotations

import base64
import io
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import anyio
import av
import jsonschema
import numpy as np
import pytest
from mcp.shared.memory import create_connected_server_and_client_session
from mcp.types import ImageContent, ResourceLink, TextContent, Tool
from PIL import Image

from unison_agent.mcp_server.server import create_server
from unison_agent.spec import LIMITS, MAX_REQUEST_CHARS, Task


def _serve(tmp_path: Path, roots: list[Path] | None = None) -> Any:
    return create_server(workspace=tmp_path / "ws", profile="tiny", roots=roots or [tmp_path / "in"])


async def _call(server: Any, name: str, args: dict[str, Any], progress: list | None = None) -> Any:
    async with create_connected_server_and_client_session(server) as client:

        async def on_progress(done: float, total: float | None, message: str | None) -> None:
            if progress is not None:
                progress.append((done, total, message))

        return await client.call_tool(name, args, progress_callback=on_progress)


def test_tools_are_listed_with_the_shared_request_fields(tmp_path: Path) -> None:
    async def go() -> dict[str, Any]:
        async with create_connected_server_and_client_session(_serve(tmp_path)) as client:
            return {t.name: t for t in (await client.list_tools()).tools}

    tools = anyio.run(go)
    assert {"plan", "run", "list_artifacts", "history", "undo"} | {t.value for t in Task} <= set(tools)
    edit = tools["image_editing"].inputSchema
    assert {"prompt", "source", "mask", "references", "width", "height", "seed"} <= set(edit["properties"])
    assert "source" in edit["required"] and "ctx" not in edit["properties"]


@pytest.mark.slow
def test_run_makes_an_image_with_a_preview_a_link_and_progress(tmp_path: Path) -> None:
    progress: list = []
    result = anyio.run(_call, _serve(tmp_path), "run", {"request": "a red fox in the snow, 128x96, 3 steps"}, progress)
    assert not result.isError
    kinds = [type(c) for c in result.content]
    assert kinds == [TextContent, ImageContent, ResourceLink]
    [out] = result.structuredContent["outputs"]
    assert (out["media"], out["width"], out["height"]) == ("image", 128, 96)
    assert result.content[2].uri.unicode_string() == f"artifact://{out['id']}"
    assert [p[0] for p in progress] == [1, 2, 3] and progress[-1][1] == 3


@pytest.mark.slow
def test_run_makes_a_video_as_a_link_with_its_first_frame_as_a_small_poster(tmp_path: Path) -> None:
    result = anyio.run(_call, _serve(tmp_path), "run", {"request": "a video of waves, 320x192, 1 second, 2 steps"})
    assert [type(c) for c in result.content] == [TextContent, ImageContent, ResourceLink]
    [out] = result.structuredContent["outputs"]
    assert out["num_frames"] == 17 and result.content[2].uri.unicode_string() == f"artifact://{out['id']}"
    poster = result.content[1]
    assert poster.mimeType == "image/png"
    with Image.open(io.BytesIO(base64.b64decode(poster.data))) as im:
        assert im.format == "PNG" and im.size == (256, 154)  # 320x192 scaled to a longer side of 256
        shown = np.asarray(im.convert("RGB"), dtype=np.int16)
    with av.open(out["path"]) as clip:
        first = next(clip.decode(video=0)).to_image().resize((256, 154))
    assert np.abs(shown - np.asarray(first, dtype=np.int16)).mean() < 8  # the first frame, not another


def test_plan_returns_the_spec_as_structured_content(tmp_path: Path, media: Callable[..., str]) -> None:
    photo = _in(tmp_path, media("photo.png"))
    result = anyio.run(_call, _serve(tmp_path), "plan", {"request": "animate this, 2 seconds", "attachments": [photo]})
    spec = result.structuredContent
    assert spec["task"] == "image_to_video" and spec["num_frames"] == 33


def _in(tmp_path: Path, path: str) -> str:
    target = tmp_path / "in" / Path(path).name
    target.parent.mkdir(exist_ok=True)
    os.replace(path, target)
    return str(target)


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda d, m: "/etc/passwd", "outside the allowed folders"),
        (lambda d, m: str(d / "in" / ".." / "secret.png"), "outside the allowed folders"),
        (lambda d, m: "relative/photo.png", "give an absolute path"),
        (lambda d, m: _link_out(d, m), "outside the allowed folders"),
        (lambda d, m: _text(d), "notes.png"),
        (lambda d, m: str(d / "in" / "nothing.png"), "no such file"),
    ],
    ids=["system-file", "traversal", "relative", "symlink-out", "not-media", "missing"],
)
def test_unsafe_or_unusable_paths_are_refused(
    tmp_path: Path, media: Callable[..., str], make: Callable[..., str], message: str
) -> None:
    (tmp_path / "in").mkdir(exist_ok=True)
    path = make(tmp_path, media)
    result = anyio.run(_call, _serve(tmp_path), "run", {"request": "what is in this picture?", "attachments": [path]})
    assert result.isError and message in result.content[0].text
    assert not any((tmp_path / "ws" / "files").iterdir())


def _link_out(d: Path, media: Callable[..., str]) -> str:
    outside = media("secret.png")  # in pytest's tmp folder, outside d / "in"
    link = d / "in" / "innocent.png"
    link.symlink_to(outside)
    return str(link)


def _text(d: Path) -> str:
    path = d / "in" / "notes.png"
    path.write_text("shopping list")
    return str(path)


@pytest.mark.slow
def test_typed_tools_and_session_tools_work_with_artifact_ids(tmp_path: Path) -> None:
    async def go() -> tuple[Any, ...]:
        async with create_connected_server_and_client_session(_serve(tmp_path)) as client:
            made = await client.call_tool(
                "text_to_image", {"prompt": "a lighthouse", "width": 128, "height": 96, "steps": 1}
            )
            pid = made.structuredContent["outputs"][0]["id"]
            clip = await client.call_tool(
                "image_to_video",
                {"prompt": "waves", "first_frame": f"@{pid}", "width": 128, "height": 96, "num_frames": 5},
            )
            listed = await client.call_tool("list_artifacts", {})
            blob = await client.read_resource(f"artifact://{pid}")
            undone = await client.call_tool("undo", {})
            steps = await client.call_tool("history", {})
            return made, clip, listed, blob, undone, steps

    _made, clip, listed, blob, undone, steps = anyio.run(go)
    assert clip.structuredContent["outputs"][0]["num_frames"] == 5
    assert len(listed.structuredContent["result"]) == 2
    assert blob.contents[0].blob  # base64 PNG bytes
    assert undone.structuredContent["undone"].startswith("image_to_video")
    assert len(steps.structuredContent["result"]) == 1


def test_oversized_files_are_refused_before_they_are_opened(tmp_path: Path, media: Callable[..., str]) -> None:
    from unison_agent.mcp_server.guard import AccessError, FileGuard

    photo = _in(tmp_path, media("big.png", size=(320, 240)))
    guard = FileGuard.create([tmp_path / "in"], max_bytes=1000)
    with pytest.raises(AccessError, match=r"big.png: .* MiB is over the .* MiB limit"):
        guard.readable(photo)


def test_typed_tools_check_their_file_fields_too(tmp_path: Path) -> None:
    (tmp_path / "in").mkdir()
    result = anyio.run(_call, _serve(tmp_path), "image_editing", {"prompt": "purple sky", "source": "/etc/hostname"})
    assert result.isError and "outside the allowed folders" in result.content[0].text


def test_every_typed_tool_has_exactly_its_request_models_fields(tmp_path: Path) -> None:
    from unison_agent.tools.requests import TASK_REQUESTS

    async def go() -> dict[str, Any]:
        async with create_connected_server_and_client_session(_serve(tmp_path)) as client:
            return {t.name: t.inputSchema for t in (await client.list_tools()).tools}

    schemas = anyio.run(go)
    for task, model in TASK_REQUESTS.items():
        assert set(schemas[task.value]["properties"]) == set(model.model_fields), task
        required = {n for n, f in model.model_fields.items() if f.is_required()}
        assert set(schemas[task.value].get("required", [])) == required, task


@pytest.mark.slow
def test_an_artifact_is_read_as_bytes_with_its_own_mime_type(tmp_path: Path) -> None:
    async def go() -> tuple[Any, Any, Any]:
        async with create_connected_server_and_client_session(_serve(tmp_path)) as client:
            picture = await client.call_tool(
                "text_to_image", {"prompt": "a kite", "width": 64, "height": 64, "steps": 1}
            )
            clip = await client.call_tool(
                "text_to_video", {"prompt": "a kite", "width": 64, "height": 64, "num_frames": 5, "steps": 1}
            )
            templates = await client.list_resource_templates()
            read = [
                (await client.read_resource(f"artifact://{r.structuredContent['outputs'][0]['id']}")).contents[0]
                for r in (picture, clip)
            ]
            return read, templates, picture

    (png, mp4), templates, picture = anyio.run(go)
    assert (png.mimeType, mp4.mimeType) == ("image/png", "video/mp4")
    assert base64.b64decode(png.blob).startswith(b"\x89PNG") and base64.b64decode(mp4.blob)[4:8] == b"ftyp"
    assert Path(picture.structuredContent["outputs"][0]["path"]).read_bytes() == base64.b64decode(png.blob)
    assert [t.mimeType for t in templates.resourceTemplates] != ["text/plain"]


def test_reading_an_unknown_artifact_is_an_error_naming_it(tmp_path: Path) -> None:
    from mcp.shared.exceptions import McpError

    async def go() -> str:
        async with create_connected_server_and_client_session(_serve(tmp_path)) as client:
            try:
                await client.read_resource("artifact://abc123")
            except McpError as e:
                return e.error.message
            return "no error"

    assert anyio.run(go).startswith("no artifact @abc123")


def test_request_and_prompt_fields_document_the_length_cap_in_their_schemas(tmp_path: Path) -> None:
    async def go() -> dict[str, Any]:
        async with create_connected_server_and_client_session(_serve(tmp_path)) as client:
            return {t.name: t.inputSchema for t in (await client.list_tools()).tools}

    schemas = anyio.run(go)
    for name in ("plan", "run", "start_job"):
        assert schemas[name]["properties"]["request"]["maxLength"] == MAX_REQUEST_CHARS, name
    for task in Task:
        assert schemas[task.value]["properties"]["prompt"]["maxLength"] == MAX_REQUEST_CHARS, task
    assert schemas["text_to_image"]["properties"]["width"]["anyOf"][0]["maximum"] == LIMITS["width"][1]


def test_text_over_the_cap_is_refused_in_one_line_naming_the_limit_and_the_server_stays_up(tmp_path: Path) -> None:
    async def go() -> tuple[list[Any], Any, Any]:
        async with create_connected_server_and_client_session(_serve(tmp_path)) as client:
            refused = [
                await client.call_tool("start_job", {"request": "a" * 1_000_000}),
                await client.call_tool("run", {"request": "a" * (MAX_REQUEST_CHARS + 1)}),
                await client.call_tool("plan", {"request": "a red fox " * 2000}),
                await client.call_tool("text_to_image", {"prompt": "a" * (MAX_REQUEST_CHARS + 1)}),
                await client.call_tool("text_to_image", {"prompt": "a fox", "width": 99999}),
            ]
            after = await client.call_tool("plan", {"request": "a red fox in the snow"})
            return refused, after, await client.call_tool("list_artifacts", {})

    refused, after, listed = anyio.run(go)
    texts = [r.content[0].text for r in refused if r.isError]
    assert len(texts) == len(refused)
    for text, field in zip(texts, ["request", "request", "request", "prompt"], strict=False):
        assert text.startswith(f"{field}: ") and f"at most {MAX_REQUEST_CHARS} characters" in text, text
    assert texts[-1].startswith("width: ") and str(LIMITS["width"][1]) in texts[-1]
    assert all("\n" not in t for t in texts)
    assert after.structuredContent["task"] == "text_to_image" and listed.structuredContent["result"] == []


def _tools(tmp_path: Path) -> dict[str, Tool]:
    async def go() -> dict[str, Tool]:
        async with create_connected_server_and_client_session(_serve(tmp_path)) as client:
            return {t.name: t for t in (await client.list_tools()).tools}

    return anyio.run(go)


_READ_ONLY = {"plan", "list_artifacts", "history", "job_status", "job_result", "list_jobs"}


def test_every_tool_parameter_says_what_it_holds(tmp_path: Path) -> None:
    for name, tool in _tools(tmp_path).items():
        for field, schema in tool.inputSchema["properties"].items():
            assert schema.get("description"), f"{name}.{field} has no description"
    edit = _tools(tmp_path)["image_editing"].inputSchema["properties"]
    assert "absolute file path" in edit["source"]["description"] and "@id" in edit["source"]["description"]
    assert "pixels" in edit["width"]["description"]


def test_every_tool_has_annotations_and_an_output_schema(tmp_path: Path) -> None:
    tools = _tools(tmp_path)
    for name, tool in tools.items():
        hints = tool.annotations
        assert hints is not None and tool.outputSchema is not None, name
        assert hints.readOnlyHint is (name in _READ_ONLY), name
        assert hints.openWorldHint is False, name  # local models and local files only
    for name in ["run", "undo", *(t.value for t in Task)]:
        assert tools[name].annotations.destructiveHint is False, name  # nothing stored is deleted or overwritten
    for name in ["run", "start_job", *(t.value for t in Task)]:
        assert tools[name].annotations.idempotentHint is False, name  # a new seed each time unless one is given
    assert tools["run"].outputSchema["properties"]["outputs"]["type"] == "array"
    assert tools["plan"].outputSchema["properties"]["task"]


@pytest.mark.slow
def test_structured_results_match_their_tools_output_schemas(tmp_path: Path, media: Callable[..., str]) -> None:
    photo = _in(tmp_path, media("photo.png", size=(128, 96)))

    async def go() -> tuple[dict[str, Tool], dict[str, Any]]:
        async with create_connected_server_and_client_session(_serve(tmp_path)) as client:
            tools = {t.name: t for t in (await client.list_tools()).tools}
            calls = {
                "plan": ("plan", {"request": "animate this", "attachments": [photo]}),
                "run": ("run", {"request": "what is in this picture?", "attachments": [photo]}),
                "image_to_video": (
                    "image_to_video",
                    {"prompt": "waves", "first_frame": photo, "width": 64, "height": 64, "num_frames": 5, "steps": 1},
                ),
                "text_to_image": ("text_to_image", {"prompt": "a kite", "width": 64, "height": 64, "steps": 1}),
                "list_artifacts": ("list_artifacts", {}),
                "history": ("history", {}),
                "undo": ("undo", {}),
            }
            results = {}
            for key, (name, args) in calls.items():
                results[key] = await client.call_tool(name, args)
            return tools, results

    tools, results = anyio.run(go)
    for name, result in results.items():
        assert not result.isError, (name, result.content)
        jsonschema.validate(result.structuredContent, tools[name].outputSchema)
    assert results["run"].structuredContent["text"] and results["run"].structuredContent["outputs"] == []
    assert results["image_to_video"].structuredContent["outputs"][0]["media"] == "video"


def test_every_tool_reports_a_refused_file_the_same_way(tmp_path: Path) -> None:
    (tmp_path / "in").mkdir()
    outside = "/etc/hostname"
    calls = [
        ("plan", {"request": "what is in this picture?", "attachments": [outside]}),
        ("run", {"request": "what is in this picture?", "attachments": [outside]}),
        ("start_job", {"request": "what is in this picture?", "attachments": [outside]}),
        ("image_understanding", {"prompt": "what is it?", "files": [outside]}),
        ("image_editing", {"prompt": "purple sky", "source": outside}),
    ]

    async def go() -> list[Any]:
        async with create_connected_server_and_client_session(_serve(tmp_path)) as client:
            return [await client.call_tool(name, args) for name, args in calls]

    results = anyio.run(go)
    texts = [r.content[0].text for r in results]
    assert all(r.isError for r in results), texts
    assert len(set(texts)) == 1, texts  # one message, whichever tool: no tool name or exception class added
    assert texts[0].startswith("/etc/hostname is outside the allowed folders") and "\n" not in texts[0]


def test_an_unknown_artifact_id_is_reported_the_same_way_by_plan_and_run(tmp_path: Path) -> None:
    async def go() -> list[Any]:
        async with create_connected_server_and_client_session(_serve(tmp_path)) as client:
            args = {"request": "animate it", "attachments": ["@abc123"]}
            return [await client.call_tool(name, args) for name in ("plan", "run")]

    plan, run = anyio.run(go)
    assert plan.isError and run.isError
    assert plan.content[0].text == run.content[0].text and plan.content[0].text.startswith("no artifact @abc123")
