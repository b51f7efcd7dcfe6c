"""`--planner` on the command line: bad choices, missing packages and models, model planners in `unison plan`
(single and batch) and `unison run`, the embedded default staying light, and the shared scorer driving a model
planner. Model answers come from a scripted chat model placed in the process's planner cache, or from tiny
random-weight models (whose garbage falls back to the embedded planner)."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from unison_agent.cli import main

NAME = "llm:fake:scripted"  # what the `scripted_planner` fixture (tests/conftest.py) makes a scripted model
Seed = Callable[..., Any]  # the fixture: seed(*replies) -> the scripted chat model
ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("UNISON_SHARED", ROOT.parent / "shared")) / "planning"


def answer(**fields: Any) -> str:
    return json.dumps({"roles": {}, "missing": [], **fields})


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    try:
        code = main(list(argv))
    except SystemExit as e:  # argparse's own usage errors
        code = int(e.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


# --------------------------------------------------------------------------------------------- bad choices
@pytest.mark.parametrize(
    ("choice", "form"),
    [
        ("bogus", "embedded | llm:<provider>:<model> | hybrid:<provider>:<model> | unison:<path>"),
        ("llm:openai", "llm:<provider>:<model>"),
        ("hybrid::gpt-4o", "hybrid:<provider>:<model>"),
        ("unison:", "unison:<path>"),
    ],
)
@pytest.mark.parametrize("command", ["plan", "run"])
def test_a_malformed_choice_exits_2_with_one_line_showing_the_form(
    capsys: pytest.CaptureFixture[str], choice: str, form: str, command: str
) -> None:
    code, out, err = run(capsys, command, "a cat", "--planner", choice)
    assert code == 2 and out == ""
    assert len(err.strip().splitlines()) == 1
    assert err.startswith(f"unison {command}: error: ") and form in err and repr(choice) in err


def test_a_malformed_choice_in_the_environment_exits_2_too(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("UNISON_PLANNER", "bogus")
    code, out, err = run(capsys, "plan", "a cat")
    assert code == 2 and out == ""
    assert len(err.strip().splitlines()) == 1 and "unknown planner 'bogus'" in err and "unison:<path>" in err


def test_the_flag_wins_over_the_environment(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("UNISON_PLANNER", "bogus")
    code, out, err = run(capsys, "plan", "a cat", "--planner", "embedded", "--json")
    assert code == 0 and err == ""
    assert json.loads(out)["task"] == "text_to_image"


@pytest.mark.skipif(
    importlib.util.find_spec("langchain_openai") is not None or importlib.util.find_spec("langchain") is None,
    reason="needs langchain without langchain-openai",
)
def test_a_provider_whose_package_is_missing_exits_1_naming_the_install(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "plan", "a cat", "--planner", "llm:openai:gpt-4o-mini")
    assert code == 1 and out == ""
    assert "unison plan: error: planner llm:openai:gpt-4o-mini" in err
    assert "pip install langchain-openai" in err


@pytest.mark.slow
def test_a_unison_checkpoint_that_is_not_there_exits_1_suggesting_the_embedded_planner(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("TRANSFORMERS_OFFLINE", "1")
    code, out, err = run(capsys, "plan", "a cat", "--planner", "unison:/nonexistent")
    assert code == 1 and out == ""
    lines = err.strip().splitlines()
    assert lines[0] == "unison plan: loading planner unison:/nonexistent..."
    assert lines[-1].startswith("unison plan: error: ") and "/nonexistent" in lines[-1]
    assert "--planner embedded" in lines[-1]


# ------------------------------------------------------------------------------------- a scripted model
def test_plan_uses_the_models_answer_and_says_so(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, scripted_planner: Seed
) -> None:
    # The rules would make a picture of this; the model's video proves the model planned it.
    model = scripted_planner(answer(task="text_to_video", prompt="a cat on a sofa", width=480, height=832))
    code, out, err = run(capsys, "plan", "a cat on a sofa", "--planner", NAME, "--json")
    spec = json.loads(out)
    assert code == 0 and len(model.calls) == 1
    assert (spec["task"], spec["prompt"], spec["width"], spec["height"]) == (
        "text_to_video",
        "a cat on a sofa",
        480,
        832,
    )
    assert f"unison plan: loading planner {NAME}..." in err
    assert f"unison plan: planned by {NAME}\n" in err and "(fallback)" not in err


def test_plan_falls_back_to_the_rules_when_the_model_fails_and_says_why(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, scripted_planner: Seed
) -> None:
    scripted_planner(RuntimeError("provider down"))
    code, out, err = run(capsys, "plan", "a cat on a sofa", "--planner", NAME)
    assert code == 0
    assert "task      text_to_image" in out and "prompt    a cat on a sofa" in out
    assert "unison plan: planned by embedded (fallback)" in err
    assert "note: the model failed (RuntimeError: provider down); used the embedded planner's plan" in err


def test_batch_rows_carry_the_planner_the_fallback_and_the_notes(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, scripted_planner: Seed
) -> None:
    scripted_planner(
        answer(task="text_to_video", prompt="a cat on a sofa"),  # a: used as it is
        RuntimeError("provider down"),  # b: falls back at once
        "no idea, sorry",  # c: not JSON, sent back once...
        "still no JSON",  # ...and falls back
        "```json\n" + answer(task="text_understanding", prompt="why is the sky blue?") + "\n```",  # d: fenced
    )
    requests = [
        {"id": "a", "text": "a cat on a sofa", "attachments": []},
        {"id": "b", "text": "a dog on a beach, 3 seconds", "attachments": []},
        "not json at all",
        {"id": "c", "text": "write a haiku about rain", "attachments": []},
        {"id": "d", "text": "why is the sky blue?", "attachments": []},
    ]
    src, dst = tmp_path / "req.jsonl", tmp_path / "out.jsonl"
    src.write_text("\n".join(r if isinstance(r, str) else json.dumps(r) for r in requests) + "\n")
    code, out, err = run(capsys, "plan", "--planner", NAME, "--jsonl", str(src), "--out", str(dst))
    rows = {r["id"]: r for r in map(json.loads, dst.read_text().splitlines())}
    assert code == 0 and out == ""
    assert list(rows) == ["a", "b", "line 3", "c", "d"]
    a, b, bad, c, d = rows.values()
    assert (a["spec"]["task"], a["planner"], a["fallback"]) == ("text_to_video", NAME, False)
    assert isinstance(a["notes"], list)
    assert (b["spec"]["task"], b["planner"], b["fallback"]) == ("text_to_video", "embedded", True)
    assert b["spec"]["duration_s"] == 3 and any("RuntimeError: provider down" in n for n in b["notes"])
    assert set(bad) == {"id", "error"} and bad["error"]["type"] == "bad_request"
    assert (c["spec"]["task"], c["planner"], c["fallback"]) == ("text_understanding", "embedded", True)
    assert c["notes"][0].startswith("try 1: the model's answer is not a valid plan")
    assert c["notes"][-1].endswith("used the embedded planner's plan")
    assert (d["spec"]["task"], d["planner"], d["fallback"]) == ("text_understanding", NAME, False)
    assert f"planned 5 requests with {NAME} (1 errors, 2 fell back to the embedded planner)" in err


def test_batch_with_the_embedded_planner_keeps_its_rows_plain(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    src, dst = tmp_path / "req.jsonl", tmp_path / "out.jsonl"
    src.write_text(json.dumps({"id": "a", "text": "a cat on a sofa"}) + "\n")
    code, _, err = run(capsys, "plan", "--planner", "embedded", "--jsonl", str(src), "--out", str(dst))
    [row] = map(json.loads, dst.read_text().splitlines())
    assert code == 0 and set(row) == {"id", "spec"}
    assert "planned 1 requests with embedded (0 errors)" in err and "fell back" not in err


@pytest.mark.slow
def test_run_prints_the_planner_note_and_runs_the_models_plan(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    offline_tiny_cache: Path,
    scripted_planner: Seed,
) -> None:
    # The rules would answer this question in text; the model asks for a small picture instead.
    scripted_planner(answer(task="text_to_image", prompt="a red fox", width=96, height=64, steps=2, seed=3))
    out_dir = tmp_path / "out"
    code, out, err = run(
        capsys, "run", "what does a red fox look like?", "--planner", NAME, "--profile", "tiny", "--out", str(out_dir)
    )
    assert code == 0, err
    assert f"unison run: planned by {NAME}" in err
    assert "task      text_to_image" in out and "prompt    a red fox" in out
    [png] = out_dir.glob("*.png")
    assert f"wrote     {png}  (image 96x64, seed 3)" in out


def test_run_quiet_leaves_the_planner_note_out(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    offline_tiny_cache: Path,
    scripted_planner: Seed,
) -> None:
    scripted_planner(answer(task="text_to_image", prompt="a red fox", width=96, height=64, steps=1))
    code, out, err = run(
        capsys, "run", "a fox", "--planner", NAME, "--profile", "tiny", "--out", str(tmp_path), "--json", "--quiet"
    )
    assert code == 0, err
    assert "planned by" not in err
    assert json.loads(out)["spec"]["width"] == 96


def test_session_run_plans_each_step_with_the_chosen_planner(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    offline_tiny_cache: Path,
    scripted_planner: Seed,
) -> None:
    scripted_planner(answer(task="text_to_image", prompt="a red fox", width=96, height=64, steps=1, seed=2))
    script = tmp_path / "one.yaml"
    script.write_text('- request: "what does a red fox look like?"\n')
    argv = ["session", "run", str(script), "--planner", NAME, "--profile", "tiny", "-w", str(tmp_path / "ws")]
    code, out, err = run(capsys, *argv, "--json", "-q")
    assert code == 0, err
    [step] = json.loads(out)["steps"]
    assert step["error"] is None and step["spec"]["task"] == "text_to_image"
    assert (step["outputs"][0]["width"], step["outputs"][0]["height"]) == (96, 64)
    assert step["notes"][0] == f"planned by {NAME}"


# ------------------------------------------------------------------------------------ tiny real models
@pytest.mark.slow
def test_plan_with_the_tiny_unison_checkpoint_gives_a_valid_spec_and_says_who_planned(
    capsys: pytest.CaptureFixture[str], offline_tiny_cache: Path
) -> None:
    from unison_agent.spec import TaskSpec

    code, out, err = run(capsys, "plan", "--planner", "unison:tiny:unison-planner", "a red fox in the snow", "--json")
    assert code == 0, err
    spec = TaskSpec.model_validate(json.loads(out))
    assert spec.prompt == "a red fox in the snow"
    assert "unison plan: loading planner unison:tiny:unison-planner..." in err
    assert "unison plan: planned by " in err
    # Random weights write garbage (greedy decoding: always the same): the rules' plan is used, and stderr
    # says so and why.
    assert spec.task.value == "text_to_image"
    assert "unison plan: planned by embedded (fallback)\n  note: unison wrote " in err
    assert err.rstrip().endswith("used the embedded planner's plan")


@pytest.mark.slow
def test_batch_with_a_local_transformers_model_labels_every_row(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, offline_tiny_cache: Path
) -> None:
    choice = "llm:transformers:tiny:chat-lm"  # the tiny random chat model, built in the test cache
    src, dst = tmp_path / "req.jsonl", tmp_path / "out.jsonl"
    texts = ["a cat on a sofa", "why is the sky blue?"]
    src.write_text("".join(json.dumps({"id": str(i), "text": t}) + "\n" for i, t in enumerate(texts)))
    code, _, err = run(capsys, "plan", "--planner", choice, "--jsonl", str(src), "--out", str(dst))
    rows = [json.loads(line) for line in dst.read_text().splitlines()]
    assert code == 0, err
    assert [r["id"] for r in rows] == ["0", "1"]
    # Random weights write no plan (decoding is greedy, so always the same garbage): every row falls back.
    for row, text in zip(rows, texts, strict=True):
        assert {"spec", "planner", "fallback", "notes"} <= set(row)
        assert (row["spec"]["prompt"], row["planner"], row["fallback"]) == (text, "embedded", True)
        assert row["notes"][0].startswith("try 1: the model's answer is not a valid plan")
        assert row["notes"][-1].endswith("used the embedded planner's plan")
    assert [r["spec"]["task"] for r in rows] == ["text_to_image", "text_understanding"]
    assert f"planned 2 requests with {choice} (0 errors, 2 fell back to the embedded planner)" in err


# ------------------------------------------------------------------------------------------ light default
@pytest.mark.parametrize("how", ["flag", "env"])
def test_the_embedded_planner_imports_no_torch_and_no_langchain(how: str) -> None:
    argv = ["plan", "a cat, 3 seconds"] + (["--planner", "embedded"] if how == "flag" else [])
    code = (
        f"import sys; from unison_agent.cli import main; assert main({argv!r}) == 0; "
        "heavy = {'torch', 'transformers', 'diffusers', 'langchain', 'langchain_core'}; "
        "assert not heavy & {m.split('.')[0] for m in sys.modules}, sorted(sys.modules)"
    )
    env = {k: v for k, v in os.environ.items() if k != "UNISON_PLANNER"}
    if how == "env":
        env["UNISON_PLANNER"] = "embedded"
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert proc.returncode == 0, proc.stderr


# ------------------------------------------------------------------------------------------ shared scorer
@pytest.mark.slow
@pytest.mark.skipif(not (SHARED / "score.py").exists(), reason="shared/planning is not beside the checkout")
def test_the_shared_scorer_drives_a_model_planner(tmp_path: Path, offline_tiny_cache: Path) -> None:
    cases = [line for line in (SHARED / "dev.jsonl").read_text().splitlines() if line.strip()]
    with_files = [c for c in cases if json.loads(c).get("attachments")]
    subset = tmp_path / "cases.jsonl"
    subset.write_text("\n".join(cases[:2] + with_files[:2]) + "\n")
    unison = Path(sys.executable).with_name("unison")
    exe = str(unison) if unison.exists() else "unison"
    cmd = f"{exe} plan --planner unison:tiny:unison-planner --jsonl {{requests}} --out {{specs}}"
    env = {**os.environ, "UNISON_CACHE": str(offline_tiny_cache), "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    env.pop("UNISON_PLANNER", None)
    proc = subprocess.run(
        [sys.executable, str(SHARED / "score.py"), "--cases", str(subset), "--cmd", cmd],
        capture_output=True,
        text=True,
        timeout=600,
        env=env,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert "case accuracy" in proc.stdout
