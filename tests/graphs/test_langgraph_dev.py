"""`langgraph dev` serves the graph from langgraph.json; a langgraph_sdk client drives a short session."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path

import pytest
from langgraph_sdk import get_sync_client

ROOT = Path(__file__).parents[2]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.slow
def test_langgraph_dev_serves_the_session_graph_to_the_sdk(
    tmp_path: Path, request: pytest.FixtureRequest, media: Callable[..., str]
) -> None:
    cli = shutil.which("langgraph") or str(Path(sys.executable).with_name("langgraph"))
    port = _free_port()
    env = {**os.environ, "LANGGRAPH_CLI_NO_ANALYTICS": "1", "NO_COLOR": "1"}
    cmd = [cli, "dev", "--port", str(port), "--host", "127.0.0.1", "--no-browser", "--no-reload"]
    with subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True) as srv:
        try:
            assert srv.stdout is not None
            seen: list[str] = []
            up = threading.Event()

            def read() -> None:  # the server's output, read aside so that waiting for it has a deadline
                assert srv.stdout is not None
                for line in srv.stdout:
                    seen.append(line)
                    if "Application started up" in line:
                        up.set()

            threading.Thread(target=read, daemon=True).start()
            if not up.wait(timeout=180):
                pytest.fail("langgraph dev did not start within 180 s:\n" + "".join(seen[-30:]))
            client = get_sync_client(url=f"http://127.0.0.1:{port}")
            request.addfinalizer(client.close)
            assert [a["graph_id"] for a in client.assistants.search()] == ["unison"]
            thread = client.threads.create()["thread_id"]
            context = {"workspace": str(tmp_path / "ws"), "profile": "tiny"}
            first = client.runs.wait(thread, "unison", input={"request": "a red fox, 128x96"}, context=context)
            assert isinstance(first, dict) and first["reply"].startswith("Done (text_to_image)")
            # The README's interrupt example: a new thread, no photo, then the photo in a resume command.
            other = client.threads.create()["thread_id"]
            asked = client.runs.wait(
                other, "unison", input={"request": "animate this photo, 1 second, 128x96"}, context=context
            )
            assert isinstance(asked, dict) and "first_frame" in asked["__interrupt__"][0]["value"]["question"]
            photo = media("photo.png", "photo", size=(128, 96))
            done = client.runs.wait(other, "unison", command={"resume": {"attachments": [photo]}}, context=context)
            assert isinstance(done, dict) and done["reply"].startswith("Done (image_to_video)"), done
            chunks = list(
                client.runs.stream(
                    thread,
                    "unison",
                    input={"request": "make it snowy, 128x96"},
                    context=context,
                    stream_mode=["custom", "values"],
                )
            )
            steps = [c.data["done"] for c in chunks if c.event == "custom" and c.data["stage"] == "denoise"]
            assert steps == [1, 2, 3, 4]
            final = [c.data for c in chunks if c.event == "values"][-1]
            assert final["spec"]["task"] == "image_editing" and final["inputs"] == first["outputs"]
        finally:
            srv.terminate()
            srv.wait(timeout=30)
