"""``scripts/bench_gpu.py --smoke``: the GPU benchmark's own code path, on the CPU with the scaled-down models, so
that CI keeps it working between the rare runs on a GPU."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from unison_agent.spec import Task, TaskSpec
from unison_agent.tools import Profile

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "bench_gpu.py"
SPECS = ("t2v 64x64x9", "image_editing 64x64", "i2v 64x64x5")
PROFILES = ("default", "fast", "lowvram")


@pytest.mark.slow
def test_the_smoke_benchmark_fills_every_spec_and_profile_cell(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # In this process (`make bench` runs the script itself): a second interpreter would import torch again.
    for key in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "HF_HUB_DISABLE_PROGRESS_BARS"):
        monkeypatch.setenv(key, "1")  # the script sets these on import; monkeypatch puts the old values back
    bench = _load_script(monkeypatch)
    out = tmp_path / "bench.json"
    assert bench.main(["--smoke", "--json", str(out)]) == 0
    stdout = capsys.readouterr().out
    table = stdout[stdout.rindex("spec ") :]  # the final table, after the rows printed as they ran
    for spec in SPECS:
        for profile in PROFILES:
            rows = [line for line in table.splitlines() if line.startswith(spec) and line.split()[2] == profile]
            assert len(rows) == 1, (spec, profile, table)
            assert "n/a" in rows[0]  # no peak GPU memory on a CPU
    assert "caveat: random weights" in stdout
    figures = json.loads(out.read_text(encoding="utf-8"))
    assert figures["smoke"] is True and figures["steps"] == 2
    cells = figures["cells"]
    assert sorted((c["spec"], c["profile"]) for c in cells) == sorted(
        (s, p) for s in ("t2v", "image_editing", "i2v") for p in PROFILES
    )
    for cell in cells:
        assert cell["error"] is None, cell
        assert cell["s_per_step"] > 0 and cell["run_s"] > 0 and cell["load_s"] >= 0
        assert cell["peak_gib"] is None
    assert all(c["speedup_run"] == 1.0 for c in cells if c["profile"] == "default")


def _load_script(monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_gpu", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, "bench_gpu", module)  # its dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


@pytest.mark.slow
def test_a_failed_cell_and_a_missing_profile_are_reported_and_the_rest_still_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for key in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "HF_HUB_DISABLE_PROGRESS_BARS"):
        monkeypatch.setenv(key, "1")  # the script sets these on import; monkeypatch puts the old values back
    bench = _load_script(monkeypatch)
    monkeypatch.setenv("UNISON_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr(bench, "PROFILES", ("default", "lowvram", "no-such-profile"))
    monkeypatch.setattr(bench, "SMOKE", bench.SMOKE[:2])  # t2v and image_editing
    real_run = bench.run

    def run(spec: TaskSpec, *, profile: Profile, **kw: Any) -> Any:
        if profile.name == "lowvram+random" and spec.task is Task.IMAGE_EDITING:
            raise RuntimeError("CUDA out of memory. Tried to allocate 2.00 GiB")
        return real_run(spec, profile=profile, **kw)

    monkeypatch.setattr(bench, "run", run)
    assert bench.main(["--smoke", "--json", str(tmp_path / "bench.json")]) == 0
    table = capsys.readouterr().out
    table = table[table.rindex("spec ") :]
    assert "image_editing 64x64      lowvram  RuntimeError: CUDA out of memory. Tried to allocate 2.00 GiB" in table
    missing = [line for line in table.splitlines() if "no-such-profile" in line]
    assert len(missing) == 2 and all("not available in this checkout" in line for line in missing)
    cells = json.loads((tmp_path / "bench.json").read_text(encoding="utf-8"))["cells"]
    ran = {(c["spec"], c["profile"]) for c in cells if c["error"] is None}
    assert ran == {("t2v", "default"), ("image_editing", "default"), ("t2v", "lowvram")}
    lowvram_t2v = next(c for c in cells if (c["spec"], c["profile"]) == ("t2v", "lowvram"))
    assert lowvram_t2v["speedup_step"] is not None  # measured against default's t2v
