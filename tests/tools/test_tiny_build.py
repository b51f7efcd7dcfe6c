"""Building the tiny models prints nothing on stdout: for ``unison mcp --profile tiny`` stdout is the protocol
channel, and for ``unison run --json`` it is the JSON a program reads."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest


@pytest.mark.slow
@pytest.mark.parametrize("name", ["wan-vace", "chat-lm"])  # the two whose tokenizers are trained here
def test_building_a_tiny_model_writes_nothing_to_stdout(name: str, tmp_path: Path) -> None:
    code = f"from unison_agent.tools.tiny import ensure_tiny; ensure_tiny({name!r})"
    env = {**os.environ, "UNISON_CACHE": str(tmp_path), "HF_HUB_OFFLINE": "1"}
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, timeout=300)
    assert done.returncode == 0, done.stderr.decode()[-2000:]
    assert done.stdout == b""
