"""`run_and_store` with other clients of the same workspace: what they open never takes a live run's files."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from unison_agent.planning import plan
from unison_agent.sessions import ArtifactStore
from unison_agent.sessions.runner import UnisonContext, run_and_store
from unison_agent.tools.results import ProgressEvent

pytestmark = pytest.mark.usefixtures("offline_tiny_cache")  # runs the tiny models, offline


@pytest.mark.slow
def test_a_store_opened_in_another_process_while_a_run_writes_leaves_the_run_its_files(tmp_path: Path) -> None:
    ctx = UnisonContext(workspace=str(tmp_path / "ws"), profile="tiny")
    store = ctx.open_store()
    sid = store.new_session()
    spec = plan("a lighthouse at dusk, 64x64, 2 steps", [])
    opened: list[int] = []

    def open_elsewhere(event: ProgressEvent) -> None:
        if event.stage == "write" and event.done == 1:  # the output is in the run's scratch folder, not yet stored
            reader = "import sys; from unison_agent.sessions import ArtifactStore; ArtifactStore(sys.argv[1])"
            done = subprocess.run([sys.executable, "-c", reader, ctx.workspace], capture_output=True, timeout=120)
            opened.append(done.returncode)

    result = run_and_store(ctx, sid, "a lighthouse at dusk", spec, [], open_elsewhere)
    assert opened == [0]
    [aid] = result["outputs"]
    assert Path(store.get(aid).path).is_file()
    assert [s.outputs for s in store.history(sid)] == [[aid]]
    assert not list(store.workspace.glob(".run-*"))  # and the run removed its scratch folder itself
    ArtifactStore(ctx.workspace)
    assert Path(store.get(aid).path).is_file()
