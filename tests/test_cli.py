"""`unison plan` as a user runs it: summaries, --json, batch mode, and errors (exit 2, one line)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

from unison_agent.cli import main


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_plan_prints_a_readable_summary(capsys) -> None:
    code, out, _ = run(capsys, "plan", "a red fox in the snow, 16:9")
    assert code == 0
    assert "task      text_to_image" in out
    assert "prompt    a red fox in the snow" in out


def test_plan_json_is_a_valid_taskspec(capsys) -> None:
    code, out, _ = run(capsys, "plan", "a red fox in the snow, 16:9", "--json")
    spec = json.loads(out)
    assert code == 0
    assert spec["task"] == "text_to_image" and spec["width"] / spec["height"] == pytest.approx(16 / 9, rel=0.03)


def test_attachments_are_probed_and_given_roles(capsys, tmp_path: Path) -> None:
    img = tmp_path / "holiday.jpg"
    Image.new("RGB", (64, 48), (200, 120, 40)).save(img)
    code, out, _ = run(capsys, "plan", "what is in this photo?", "--attach", str(img), "--json")
    assert code == 0
    assert json.loads(out)["inputs"] == [{"path": str(img), "media": "image", "role": "context"}]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["plan"], "give the request text"),
        (["plan", "x", "--attach", "/nonexistent/nothing.png"], "nothing.png"),
        (["plan", "--jsonl", "in.jsonl"], "needs both --jsonl IN and --out OUT"),
        (["plan", "text", "--jsonl", "a", "--out", "b"], "takes no request text"),
        (["plan", "--bogus"], "unrecognized arguments"),
        (["frobnicate"], "invalid choice"),
    ],
)
def test_bad_usage_exits_2_with_one_line(capsys, argv: list[str], message: str) -> None:
    try:
        code = main(argv)
    except SystemExit as e:  # argparse's own usage errors
        code = e.code
    _, err = capsys.readouterr()
    assert code == 2
    assert message in err
    assert len(err.strip().splitlines()) == 1


def test_an_attachment_that_is_not_media_exits_2(capsys, tmp_path: Path) -> None:
    notes = tmp_path / "notes.txt"
    notes.write_text("hello")
    code, out, err = run(capsys, "plan", "describe this", "--attach", str(notes))
    assert code == 2 and out == ""
    assert "notes.txt" in err and len(err.strip().splitlines()) == 1


def test_batch_mode_writes_one_row_per_request_and_keeps_going(capsys, tmp_path: Path) -> None:
    img = tmp_path / "p.png"
    Image.new("RGB", (64, 48), "white").save(img)
    requests = [
        {"id": "a", "text": "a cat on a sofa", "attachments": []},
        {"id": "b", "text": "describe this", "attachments": [str(tmp_path / "gone.png")]},
        "not json at all",
        {"id": "d", "text": "make it snowy", "attachments": [str(img)]},
        {"id": "e", "text": 42},
    ]
    src, dst = tmp_path / "req.jsonl", tmp_path / "out.jsonl"
    src.write_text("\n".join(r if isinstance(r, str) else json.dumps(r) for r in requests) + "\n")
    code, _, err = run(capsys, "plan", "--jsonl", str(src), "--out", str(dst))
    rows = [json.loads(line) for line in dst.read_text().splitlines()]
    assert code == 0
    assert [r.get("id") for r in rows] == ["a", "b", "line 3", "d", "e"]  # a bad row keeps a usable id
    assert rows[0]["spec"]["task"] == "text_to_image"
    assert rows[1]["error"]["type"] == "bad_attachment" and "gone.png" in rows[1]["error"]["message"]
    assert rows[2]["error"]["type"] == rows[4]["error"]["type"] == "bad_request"
    assert rows[3]["spec"]["task"] == "image_editing"
    assert "5 requests with embedded (3 errors)" in err


def test_batch_mode_with_an_unreadable_input_exits_2_and_writes_nothing(capsys, tmp_path: Path) -> None:
    dst = tmp_path / "out.jsonl"
    code, _, err = run(capsys, "plan", "--jsonl", str(tmp_path / "missing.jsonl"), "--out", str(dst))
    assert code == 2 and not dst.exists()
    assert "missing.jsonl" in err


def _mixed_batch(tmp_path: Path, copies: int) -> Path:
    img = tmp_path / "p.png"
    Image.new("RGB", (64, 48), "white").save(img)
    rows = []
    for i in range(copies):
        rows += [
            json.dumps({"id": f"a{i}", "text": f"a cat on a sofa, seed {i}", "attachments": []}),
            json.dumps({"id": f"b{i}", "text": "describe this", "attachments": [str(tmp_path / "gone.png")]}),
            "not json at all",
            json.dumps({"id": f"d{i}", "text": "make it snowy, 720p", "attachments": [str(img)]}),
            json.dumps({"id": f"e{i}", "text": "animate this, 3 seconds", "attachments": [str(img)]}),
        ]
    src = tmp_path / "req.jsonl"
    src.write_text("\n".join(rows) + "\n")
    return src


def _cli(*argv: str, before: str = "pass") -> subprocess.CompletedProcess[str]:
    # In a fresh process: the workers are forked, which pytest's own threads make unwise in this one.
    code = f"import sys; from unison_agent import cli; {before}; sys.exit(cli.main({list(argv)!r}))"
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)


@pytest.mark.slow
def test_batch_mode_with_worker_processes_writes_the_same_rows_in_order(tmp_path: Path) -> None:
    src = _mixed_batch(tmp_path, copies=20)  # 100 rows: several chunks for each worker
    one, two = tmp_path / "one.jsonl", tmp_path / "two.jsonl"
    first = _cli("plan", "--jsonl", str(src), "--out", str(one), "--workers", "1")
    second = _cli("plan", "--jsonl", str(src), "--out", str(two), "--workers", "2")
    assert first.returncode == second.returncode == 0, first.stderr + second.stderr
    assert one.read_bytes() == two.read_bytes()
    ids = [json.loads(line)["id"] for line in two.read_text().splitlines()]
    assert ids[:5] == ["a0", "b0", "line 3", "d0", "e0"] and len(ids) == 100
    assert "100 requests with embedded (40 errors)" in second.stderr


@pytest.mark.slow
def test_batch_mode_fails_clearly_when_a_worker_dies_and_writes_nothing(tmp_path: Path) -> None:
    src = _mixed_batch(tmp_path, copies=10)
    dst = tmp_path / "out.jsonl"
    dies = "import os; cli.json_text = lambda row: os._exit(9)"  # as if killed mid-chunk, in every worker
    proc = _cli("plan", "--jsonl", str(src), "--out", str(dst), "--workers", "2", before=dies)
    assert proc.returncode == 1
    assert "worker process ended unexpectedly" in proc.stderr and "--workers 1" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert list(tmp_path.glob("*out.jsonl*")) == []  # neither the output nor its temporary file


@pytest.mark.slow
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="workers follow their parent through Linux prctl")
def test_batch_workers_end_when_the_batch_is_killed_outright(tmp_path: Path) -> None:
    import os
    import signal
    import time

    src = tmp_path / "req.jsonl"  # long enough that the workers are still planning when the batch is killed
    src.write_text(
        "".join(json.dumps({"id": i, "text": f"a red fox number {i} in the snow"}) + "\n" for i in range(6000))
    )
    argv = [sys.executable, "-m", "unison_agent.cli", "plan", "--jsonl", str(src), "--out", str(tmp_path / "o.jsonl")]
    batch = subprocess.Popen([*argv, "--workers", "2"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def children() -> list[int]:
        try:
            text = Path(f"/proc/{batch.pid}/task/{batch.pid}/children").read_text()
        except OSError:
            return []
        return [int(pid) for pid in text.split()]

    def alive(pid: int) -> bool:
        try:
            return Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0] != "Z"
        except OSError:
            return False

    deadline = time.monotonic() + 120
    while len(children()) < 2 and batch.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    workers = children()
    assert len(workers) == 2, "the batch did not start its two workers"
    os.kill(batch.pid, signal.SIGKILL)
    batch.wait(timeout=60)
    deadline = time.monotonic() + 60
    while any(alive(pid) for pid in workers) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not any(alive(pid) for pid in workers)


def test_batch_workers_are_forked_only_where_that_is_safe(monkeypatch) -> None:
    from unison_agent import cli
    from unison_agent.planning import EmbeddedPlanner

    class Model:
        name = "llm"

    monkeypatch.delitem(sys.modules, "av", raising=False)
    monkeypatch.setattr(cli.threading, "active_count", lambda: 1)  # as in `unison plan`: no other thread
    assert cli._batch_workers(2, EmbeddedPlanner(), chunks=10) == 2
    assert cli._batch_workers(4, EmbeddedPlanner(), chunks=3) == 3  # no more workers than chunks
    assert cli._batch_workers(None, EmbeddedPlanner(), chunks=1) == 1
    assert cli._batch_workers(2, Model(), chunks=10) == 1  # a loaded model is not forked
    monkeypatch.setattr(cli.threading, "active_count", lambda: 3)  # main() called in a threaded program
    assert cli._batch_workers(2, EmbeddedPlanner(), chunks=10) == 1
    monkeypatch.setattr(cli.threading, "active_count", lambda: 1)
    monkeypatch.setitem(sys.modules, "av", object())  # FFmpeg used here: a forked child would hang
    assert cli._batch_workers(2, EmbeddedPlanner(), chunks=10) == 1


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["plan", "x", "--workers", "2"], "--workers is for batch mode"),
        (["plan", "--jsonl", "a", "--out", "b", "--workers", "0"], "from 1 to 64, not '0'"),
        (["plan", "--jsonl", "a", "--out", "b", "--workers", "many"], "from 1 to 64, not 'many'"),
    ],
)
def test_bad_worker_counts_are_refused(capsys, argv: list[str], message: str) -> None:
    try:
        code = main(argv)
    except SystemExit as e:
        code = e.code
    _, err = capsys.readouterr()
    assert code == 2 and message in err


def test_schema_command_prints_the_json_schema(capsys) -> None:
    code, out, _ = run(capsys, "schema")
    assert code == 0 and json.loads(out)["title"] == "TaskSpec"


def test_plan_does_not_import_torch() -> None:
    code = (
        "import sys; from unison_agent.cli import main; main(['plan', 'a cat, 3 seconds']); "
        "assert 'torch' not in sys.modules and 'diffusers' not in sys.modules"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr


@pytest.mark.slow
def test_importing_the_tools_does_not_import_torch() -> None:
    # Profiles, results and errors are usable (and the CLI starts fast) without loading any backend.
    code = (
        "import sys; import unison_agent.tools; unison_agent.tools.load_profile('default'); "
        "assert not {'torch', 'diffusers', 'transformers'} & set(sys.modules), sorted(sys.modules)"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
