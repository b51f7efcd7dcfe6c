"""The README's code runs as written, in a new folder: what a newcomer pastes first must work."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[1] / "README.md"


def python_block_after(heading: str) -> str:
    """The first ```python block after the line ``heading`` of the README."""
    text = README.read_text(encoding="utf-8")
    start = text.index(f"\n{heading}\n")
    block = re.search(r"```python\n(.*?)```", text[start:], re.S)
    assert block is not None, f"no python block after {heading!r}"
    return block.group(1)


@pytest.mark.slow
def test_the_langgraph_snippet_runs_in_a_new_folder(tmp_path: Path, offline_tiny_cache: Path) -> None:
    code = python_block_after("### LangGraph and LangChain")
    # The snippet's last line is an expression a REPL would show; print it so the test can read it.
    *body, last = code.strip().splitlines()
    script = "\n".join([*body, f"print({last})"])
    # Small outputs keep it quick on a CPU; the code is otherwise the README's own.
    script = script.replace('"a cabin in the woods"', '"a cabin in the woods, 64x64"')
    env = {**os.environ, "UNISON_CACHE": str(offline_tiny_cache), "HF_HUB_OFFLINE": "1"}
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert re.fullmatch(r"Done \(image_editing\): @[a-z0-9]{6}\n", done.stdout), done.stdout
    assert (tmp_path / "unison_workspace" / "checkpoints.db").is_file()
