"""The command line under bad input and signals: over-long, empty and invalid request text, batch rows that
break JSON, outputs and workspaces that cannot be written, control characters on the terminal, SIGTERM and
SIGHUP, and the last-resort handler. Every failure is one line and a non-zero exit; nothing is half-written."""

from __future__ import annotations

import io
import json
import os
import queue
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from unison_agent import cli
from unison_agent.cli import main
from unison_agent.spec import MAX_REQUEST_CHARS
from unison_agent.tools.results import ProgressEvent, RunResult

# What must never reach a terminal raw: ESC (title change, clear screen), BEL, CR, DEL, a C1 CSI, a bidi override.
RAW_CONTROLS = ("\x1b", "\x07", "\r", "\x7f", "\x9b", "\u202e")


@pytest.fixture(autouse=True)
def _debug(monkeypatch: pytest.MonkeyPatch) -> None:
    """Real bugs surface as tracebacks in these tests (the last-resort handler re-raises under UNISON_DEBUG)."""
    monkeypatch.setenv("UNISON_DEBUG", "1")
    monkeypatch.delenv("UNISON_PLANNER", raising=False)


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    try:
        code = main(list(argv))
    except SystemExit as e:  # argparse's own usage errors
        code = int(e.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


def strict_loads(line: str) -> Any:
    """json.loads that refuses NaN, Infinity and -Infinity, as strict JSON parsers do."""

    def refuse(name: str) -> None:
        raise ValueError(f"{name} is not JSON")

    return json.loads(line, parse_constant=refuse)


# ------------------------------------------------------------------------------------------- request text
def test_a_request_longer_than_the_limit_exits_2_with_one_line_naming_the_limit(
    capsys: pytest.CaptureFixture[str],
) -> None:
    text = "a red fox " * (MAX_REQUEST_CHARS // 10) + "!"
    code, out, err = run(capsys, "plan", text)
    assert code == 2 and out == ""
    assert err.startswith("unison plan: error: ") and len(err.strip().splitlines()) == 1
    assert f"{MAX_REQUEST_CHARS:,}" in err and f"{len(text):,}" in err


def test_a_request_of_exactly_the_limit_is_planned(capsys: pytest.CaptureFixture[str]) -> None:
    text = ("a red fox in the snow " * MAX_REQUEST_CHARS)[:MAX_REQUEST_CHARS]
    code, out, err = run(capsys, "plan", text, "--json")
    assert code == 0, err
    assert json.loads(out)["task"] == "text_to_image"


def test_request_text_that_is_not_valid_unicode_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    # A Latin-1 "café" typed into a UTF-8 terminal reaches Python as a lone surrogate (surrogateescape).
    code, out, err = run(capsys, "plan", "a caf\udce9 at night")
    assert code == 2 and out == ""
    assert "not valid Unicode" in err and "\\udce9" in err and len(err.strip().splitlines()) == 1


# ------------------------------------------------------------------------------------------------- batch
def test_a_batch_with_broken_rows_completes_every_line_strict_json_and_counts_the_errors(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    lines = [
        '{"id": "ok", "text": "a cat on a sofa"}',
        '{"id": "surrogate-text", "text": "a cat \\ud800 on a mat"}',
        '{"id": "surrogate-path", "text": "describe this", "attachments": ["/tmp/\\ud800.png"]}',
        '{"id": 1e999, "text": "a dog"}',
        '{"id": NaN, "text": "a dog"}',
        '{"id": -Infinity, "text": "a dog"}',
        '{"id": "empty", "text": ""}',
        '{"id": "blank", "text": "  \\t "}',
        json.dumps({"id": "long", "text": "x" * (MAX_REQUEST_CHARS + 1)}),
        '{"id": 7, "text": "a horse in a field"}',
    ]
    src, dst = tmp_path / "req.jsonl", tmp_path / "out.jsonl"
    src.write_bytes("\n".join(lines).encode() + b'\n{"id": "latin1", "text": "caf\xe9"}\n')
    code, _, err = run(capsys, "plan", "--jsonl", str(src), "--out", str(dst))
    assert code == 0, err
    rows = [strict_loads(line) for line in dst.read_text(encoding="utf-8").splitlines()]
    by_id = {json.dumps(r["id"]): r for r in rows}
    assert [r["id"] for r in rows] == [
        "ok",
        "surrogate-text",
        "surrogate-path",
        "line 4",
        "line 5",
        "line 6",
        "empty",
        "blank",
        "long",
        7,
        "line 11",
    ]
    assert by_id['"ok"']["spec"]["task"] == "text_to_image" and by_id["7"]["spec"]["task"] == "text_to_image"
    errors = {r["id"]: r["error"] for r in rows if "error" in r}
    assert len(errors) == 9
    assert errors["surrogate-text"]["type"] == "bad_request" and "\\ud800" in errors["surrogate-text"]["message"]
    assert errors["surrogate-path"]["type"] in ("bad_request", "bad_attachment")
    assert "finite number" in errors["line 4"]["message"]
    assert errors["line 5"]["type"] == "bad_request" and "NaN" in errors["line 5"]["message"]
    assert errors["empty"]["type"] == errors["blank"]["type"] == "bad_request"
    assert "empty" in errors["empty"]["message"] and "empty" in errors["blank"]["message"]
    assert f"{MAX_REQUEST_CHARS:,}" in errors["long"]["message"]
    assert "UTF-8" in errors["line 11"]["message"]
    assert "planned 11 requests with embedded (9 errors)" in err


def test_batch_output_that_is_a_folder_exits_2_with_one_line_and_writes_nothing(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    src, dst = tmp_path / "req.jsonl", tmp_path / "specs"
    src.write_text('{"id": "a", "text": "a cat"}\n')
    dst.mkdir()
    code, out, err = run(capsys, "plan", "--jsonl", str(src), "--out", str(dst))
    assert code == 2 and out == ""
    assert err.startswith("unison plan: error: ") and "folder" in err and len(err.strip().splitlines()) == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["req.jsonl", "specs"] and not any(dst.iterdir())


def test_batch_input_that_is_a_folder_exits_2_with_one_line(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, out, err = run(capsys, "plan", "--jsonl", str(tmp_path), "--out", str(tmp_path / "o.jsonl"))
    assert code == 2 and out == "" and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "o.jsonl").exists()


# ------------------------------------------------------------------------------------- folders on the way
@pytest.mark.parametrize("command", [["session", "list"], ["session", "show", "x"], ["session", "undo", "x"]])
def test_a_workspace_that_is_a_file_exits_2_with_one_line(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, command: list[str]
) -> None:
    file = tmp_path / "notes.txt"
    file.write_text("not a folder")
    code, out, err = run(capsys, *command, "--workspace", str(file))
    assert code == 2 and out == ""
    assert err.startswith("unison session: error: ") and "notes.txt" in err and "not a folder" in err
    assert len(err.strip().splitlines()) == 1
    assert file.read_text() == "not a folder" and sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt"]


# ------------------------------------------------------------------------------------ terminal sanitising
def test_control_characters_in_the_request_are_escaped_in_the_summary_but_exact_in_json(
    capsys: pytest.CaptureFixture[str],
) -> None:
    text = "a cat \x1b]0;pwned\x07 on a mat \x1b[2J\r\x7f \x9b31m \u202eright"
    code, out, err = run(capsys, "plan", text)
    assert code == 0, err
    assert not any(c in out + err for c in RAW_CONTROLS)
    assert "\\x1b]0;pwned\\x07" in out and "\\x1b[2J\\r\\x7f" in out and "\\x9b31m" in out and "\\u202e" in out
    code, out, err = run(capsys, "plan", text, "--json")
    assert code == 0 and not any(c in out for c in RAW_CONTROLS)
    assert "\x1b]0;pwned\x07" in json.loads(out)["prompt"] and "\x9b31m" in json.loads(out)["prompt"]


def test_control_characters_in_an_error_are_escaped(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "plan", "describe this", "--attach", "/nonexistent/\x1b[2Jevil\x07.png")
    assert code == 2 and out == ""
    assert not any(c in err for c in RAW_CONTROLS) and "\\x1b[2Jevil\\x07.png" in err


def test_a_model_answer_with_control_characters_is_escaped_on_the_terminal_and_exact_in_json(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import unison_agent.tools.executors

    answer = "gibberish \x1b]0;pwned\x07\x1b[2J \x90 done"

    def run_answering(spec: Any, **_kw: Any) -> RunResult:
        return RunResult(spec=spec, text=answer, notes=["note with \x1b[31m colour"])

    monkeypatch.setattr(unison_agent.tools.executors, "run", run_answering)
    code, out, err = run(capsys, "run", "what is the capital of France?", "--profile", "tiny", "-q")
    assert code == 0, err
    assert not any(c in out + err for c in (*RAW_CONTROLS, "\x90"))
    assert "answer    gibberish \\x1b]0;pwned\\x07\\x1b[2J \\x90 done" in out and "\\x1b[31m colour" in out
    code, out, err = run(capsys, "run", "what is the capital of France?", "--profile", "tiny", "-q", "--json")
    assert code == 0 and not any(c in out for c in (*RAW_CONTROLS, "\x90"))
    assert json.loads(out)["text"] == answer


@pytest.mark.slow
def test_text_a_terminal_cannot_encode_is_escaped_and_json_stays_parseable(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONIOENCODING": "ascii", "UNISON_DEBUG": "1"}
    request = "un café au lait 🦊, 16:9"
    for extra, check in (([], lambda out: "caf\\xe9" in out), (["--json"], lambda out: request[:13] in out)):
        proc = subprocess.run(
            [sys.executable, "-m", "unison_agent.cli", "plan", request, *extra],
            capture_output=True,
            env=env,
            timeout=120,
        )
        assert proc.returncode == 0, proc.stderr.decode(errors="replace")
        out = proc.stdout.decode("ascii")
        assert check(json.loads(out)["prompt"] if extra else out)


# ------------------------------------------------------------------------------------------------ progress
class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def drive(progress: Any, clock: FakeClock, events: list[tuple[float, ProgressEvent]]) -> None:
    for seconds, event in events:
        clock.now += seconds
        progress(event)


RUN_EVENTS = [
    (0.0, ProgressEvent("load", 0, 1, message="wan_vace: tiny:wan-vace")),
    (3.0, ProgressEvent("load", 1, 1)),
    (0.0, ProgressEvent("prepare", 0, 1, message="reading attachments")),
    (0.5, ProgressEvent("prepare", 1, 1)),
    (2.0, ProgressEvent("denoise", 1, 4)),
    (2.0, ProgressEvent("denoise", 2, 4)),
]


def test_the_terminal_progress_line_shows_seconds_per_step_and_the_time_left_while_denoising() -> None:
    clock, stream = FakeClock(), Terminal()
    progress = cli._ProgressLine(stream, clock=clock)
    drive(progress, clock, RUN_EVENTS)
    last = stream.getvalue().split("\r")[-1]
    assert "denoise" in last and "step 2/4, 2.00 s/step, ETA 00:04" in last
    drive(progress, clock, [(2.0, ProgressEvent("denoise", 3, 4))])
    assert "step 3/4, 2.00 s/step, ETA 00:02" in stream.getvalue().split("\r")[-1]
    progress.close()
    assert stream.getvalue().endswith("\n")


def test_progress_on_a_pipe_is_a_line_per_stage_and_a_timing_line_when_it_ends() -> None:
    clock, stream = FakeClock(), io.StringIO()
    progress = cli._ProgressLine(stream, clock=clock)
    drive(progress, clock, [*RUN_EVENTS, (2.0, ProgressEvent("denoise", 3, 4)), (2.0, ProgressEvent("denoise", 4, 4))])
    drive(progress, clock, [(0.0, ProgressEvent("decode", 0, 1)), (1.0, ProgressEvent("write", 0, 1))])
    drive(progress, clock, [(0.25, ProgressEvent("write", 1, 1))])
    progress.close()
    lines = stream.getvalue().splitlines()
    assert "\r" not in stream.getvalue()
    assert lines[0] == "load (wan_vace: tiny:wan-vace)..."
    assert "load: done in 3.0 s" in lines
    assert "denoise: done, 4 steps in 8.0 s (2.00 s/step)" in lines
    assert "decode: done in 1.0 s" in lines and lines[-1] == "write: done in 0.2 s"
    assert [line for line in lines if line.endswith("...")] == [
        "load (wan_vace: tiny:wan-vace)...",
        "prepare (reading attachments)...",
        "denoise...",
        "decode...",
        "write...",
    ]


def test_progress_of_an_interrupted_run_does_not_claim_the_stage_finished() -> None:
    clock, stream = FakeClock(), io.StringIO()
    progress = cli._ProgressLine(stream, clock=clock)
    drive(progress, clock, RUN_EVENTS)
    progress.close(finished=False)
    assert "denoise: done" not in stream.getvalue()


# ------------------------------------------------------------------------------------------------ signals
class Unhandled(BaseException):
    """Raised by the test's own handler: the signal reached the process without main() handling it."""


@pytest.fixture
def guard() -> Iterator[dict[int, Any]]:
    """A handler of the test's own on SIGTERM and SIGHUP, so a signal main() does not handle fails the test
    instead of killing pytest; it must be back in place when main() returns."""

    def unhandled(signum: int, _frame: Any) -> None:
        raise Unhandled(signal.Signals(signum).name)

    saved = {s: signal.signal(s, unhandled) for s in (signal.SIGTERM, signal.SIGHUP)}
    yield {s: unhandled for s in saved}
    for s, handler in saved.items():
        signal.signal(s, handler)


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGHUP])
def test_a_signal_during_a_batch_cancels_it_exit_130_and_writes_nothing(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    guard: dict[int, Any],
    sig: signal.Signals,
) -> None:
    import unison_agent.planning

    real = unison_agent.planning.plan_detailed
    calls = []

    def plan_then_signal(*args: Any, **kwargs: Any) -> Any:
        calls.append(args)
        if len(calls) == 2:
            os.kill(os.getpid(), sig)  # handled before os.kill returns: CPython runs handlers for its own signals
        return real(*args, **kwargs)

    monkeypatch.setattr(unison_agent.planning, "plan_detailed", plan_then_signal)
    src, dst = tmp_path / "req.jsonl", tmp_path / "out.jsonl"
    src.write_text("".join(json.dumps({"id": i, "text": f"a cat number {i}"}) + "\n" for i in range(5)))
    code, out, err = run(capsys, "plan", "--jsonl", str(src), "--out", str(dst))
    assert code == 130 and out == ""
    assert err == "unison plan: cancelled; nothing was written\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["req.jsonl"]  # no output, no temporary file
    assert {s: signal.getsignal(s) for s in guard} == guard  # the previous handlers are back


def test_a_signal_during_a_session_script_stops_it_with_exit_130_saying_finished_steps_are_kept(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path, guard: dict[int, Any]
) -> None:
    pytest.importorskip("langgraph")
    import unison_agent.graphs.scripted

    def run_script(*_args: Any, **_kwargs: Any) -> Any:
        os.kill(os.getpid(), signal.SIGHUP)
        raise AssertionError("the signal did not stop the script")

    monkeypatch.setattr(unison_agent.graphs.scripted, "run_script", run_script)
    script = tmp_path / "steps.yaml"
    script.write_text('- request: "a cabin in the woods"\n')
    code, out, err = run(capsys, "session", "run", str(script), "--profile", "tiny", "-w", str(tmp_path / "ws"))
    assert code == 130 and out == ""
    assert "unison session run: interrupted; finished steps are kept (resume with --session)" in err
    assert {s: signal.getsignal(s) for s in guard} == guard


def test_an_ignored_sighup_stays_ignored(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    # `nohup unison run ...` ignores SIGHUP on purpose: the command must not turn it back into a cancellation.
    seen: list[Any] = []
    import unison_agent.planning

    real = unison_agent.planning.plan_detailed

    def plan_and_look(*args: Any, **kwargs: Any) -> Any:
        seen.append(signal.getsignal(signal.SIGHUP))
        return real(*args, **kwargs)

    monkeypatch.setattr(unison_agent.planning, "plan_detailed", plan_and_look)
    previous = signal.signal(signal.SIGHUP, signal.SIG_IGN)
    try:
        code, _, err = run(capsys, "plan", "a cat")
    finally:
        signal.signal(signal.SIGHUP, previous)
    assert code == 0, err
    assert seen == [signal.SIG_IGN]


# ------------------------------------------------------------------------------------------ last resort
def test_an_unexpected_error_is_one_line_saying_it_is_a_bug_and_shows_the_traceback_under_unison_debug(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import unison_agent.planning

    def broken(*_args: Any, **_kwargs: Any) -> Any:
        raise RuntimeError("the planner tripped\non two lines")

    monkeypatch.setattr(unison_agent.planning, "plan_detailed", broken)
    monkeypatch.delenv("UNISON_DEBUG")
    code, out, err = run(capsys, "plan", "a cat")
    assert code == 1 and out == ""
    assert err.startswith("unison plan: error: ") and len(err.strip().splitlines()) == 1
    assert "RuntimeError: the planner tripped; on two lines" in err and "this is a bug: please report it" in err
    monkeypatch.setenv("UNISON_DEBUG", "1")
    with pytest.raises(RuntimeError, match="the planner tripped"):
        main(["plan", "a cat"])


# `unison ARGV` with SIGHUP and SIGTERM at their defaults, as for a command typed in a terminal (a test run started
# under `nohup` ignores SIGHUP, and children inherit that). Set by the child's first lines, not in a preexec_fn: the
# test process holds threads (Serve's testing-mode replicas among them), and a fork that runs Python code before
# exec can deadlock then.
AS_FROM_A_TERMINAL = (
    "import signal, sys; signal.signal(signal.SIGHUP, signal.SIG_DFL); signal.signal(signal.SIGTERM, signal.SIG_DFL); "
    "from unison_agent.cli import main; sys.exit(main(sys.argv[1:]))"
)


@pytest.mark.slow
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGHUP])
def test_the_stdio_mcp_server_stops_cleanly_on_a_signal(tmp_path: Path, sig: signal.Signals) -> None:
    pytest.importorskip("mcp")
    hello = {
        "jsonrpc": "2.0",
        "id": 1,
        "method": "initialize",
        "params": {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "test", "version": "1"}},
    }
    command = [sys.executable, "-c", AS_FROM_A_TERMINAL, "mcp", "--profile", "tiny", "--workspace", str(tmp_path)]
    with subprocess.Popen(
        command,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    ) as proc:
        assert proc.stdin is not None and proc.stdout is not None
        try:
            proc.stdin.write(json.dumps(hello) + "\n")
            proc.stdin.flush()
            replies: queue.Queue[str] = queue.Queue()
            stdout = proc.stdout
            threading.Thread(target=lambda: replies.put(stdout.readline()), daemon=True).start()
            assert '"result"' in replies.get(timeout=120)  # serving: the signal reaches a running server
            proc.send_signal(sig)
            _, err = proc.communicate(timeout=120)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait(timeout=30)
    assert proc.returncode == 130, err
    assert err == "unison mcp: stopped\n"


def test_an_error_after_progress_on_a_terminal_starts_a_line_of_its_own(monkeypatch: pytest.MonkeyPatch) -> None:
    import unison_agent.tools.executors
    from unison_agent.tools import ToolError

    def run_failing(_spec: Any, *, on_progress: Any, **_kw: Any) -> None:
        on_progress(ProgressEvent("load", 0, 1, message="wan_vace: somewhere"))
        raise ToolError("the model could not be loaded")

    terminal = Terminal()
    monkeypatch.setattr(unison_agent.tools.executors, "run", run_failing)
    monkeypatch.setattr(sys, "stderr", terminal)
    assert main(["run", "what is the capital of France?", "--profile", "tiny"]) == 1
    shown = terminal.getvalue()
    assert shown.startswith("\rload (wan_vace: somewhere)")  # the progress line was drawn, then ended
    assert shown.endswith("s\nunison run: error: the model could not be loaded\n")
