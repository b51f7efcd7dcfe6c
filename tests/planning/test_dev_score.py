"""The shared scorer on the shared dev set, through the real batch command line."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SHARED = Path(os.environ.get("UNISON_SHARED", ROOT.parent / "shared")) / "planning"
HELDOUT = Path(__file__).with_name("heldout.jsonl")


def _score(cases: Path, tmp_path: Path) -> dict:
    summary = tmp_path / "summary.json"
    unison = Path(sys.executable).with_name("unison")
    cmd = f"{unison if unison.exists() else 'unison'} plan --jsonl {{requests}} --out {{specs}}"
    proc = subprocess.run(
        [
            sys.executable,
            str(SHARED / "score.py"),
            "--cases",
            str(cases),
            "--cmd",
            cmd,
            "--json",
            str(summary),
            "--show",
            "10",
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    print(proc.stdout)
    return json.loads(summary.read_text())


@pytest.mark.slow
@pytest.mark.skipif(not (SHARED / "score.py").exists(), reason="shared/planning is not beside the checkout")
def test_dev_set_case_accuracy_is_at_least_95_percent(tmp_path: Path) -> None:
    # The shipped decision model scores 0.983 case and task here (the rules alone scored 0.996, tuned on this set;
    # the target is 0.98 / 0.99): this guards against a regression, it is not the goal.
    result = _score(SHARED / "dev.jsonl", tmp_path)
    assert result["case_accuracy"] >= 0.97
    assert result["task_accuracy"] >= 0.97


@pytest.mark.slow
@pytest.mark.skipif(not (SHARED / "score.py").exists() or not HELDOUT.exists(), reason="needs score.py and heldout")
def test_our_own_heldout_requests_are_planned_well(tmp_path: Path) -> None:
    result = _score(HELDOUT, tmp_path)
    assert result["case_accuracy"] >= 0.85
    assert result["task_accuracy"] >= 0.9
