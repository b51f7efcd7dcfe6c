"""``unison``: the command line, and the composition root that wires planners (and later tools) together.

    unison plan "animate this, 3 seconds, vertical" --attach photo.jpg [--json] [--planner CHOICE]
    unison plan --jsonl requests.jsonl --out specs.jsonl [--workers N]
    unison run "a red fox in the snow, 3 seconds" [--attach FILE ...] [--profile tiny] [--out DIR] [--json]
    unison schema

Exit codes: 0 success; 1 a request could not be planned or run (missing attachment, model unavailable), or an
unexpected error (the message says it is a bug; ``UNISON_DEBUG=1`` shows the traceback); 2 bad usage (request text
empty or longer than ``spec.MAX_REQUEST_CHARS``), an unreadable attachment, an ``--out`` or ``--workspace`` that
cannot be written, or an unknown profile; 130 cancelled by Ctrl-C, SIGTERM or SIGHUP alike (one code, so a
script tests for one number whatever stopped the command). A cancelled command removes what it was writing.

Human-readable output (summaries, notes, answers, errors, progress) shows control characters, bidirectional
overrides and lone surrogates as escapes (``\\x1b``), so neither a request nor a model's answer can drive the
terminal; ``--json`` output and batch rows are exact JSON, with those characters escaped the JSON way.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import json
import math
import os
import re
import signal
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, NoReturn, TextIO

from unison_agent import __version__
from unison_agent.errors import MediaError, PlanningError, UnisonError, one_line

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
PLANNER_HELP = (
    "who plans: embedded (learned decision + rules, the default), llm:<provider>:<model> (a LangChain chat model, e.g. "
    "llm:openai:gpt-4o-mini or llm:transformers:smollm2), hybrid:<provider>:<model> (the model only where the "
    "embedded planner is unsure), unison:<path> (a Unison planner checkpoint); default: $UNISON_PLANNER or embedded"
)

EXECUTOR_HELP = (
    "where specs run: local (this process, the default), ray (the Ray cluster this machine is part of, else one "
    "started for this command) or ray://HOST:PORT (the cluster whose head's GCS address that is); default: "
    "the profile's executor key (local)"
)


EXIT_CANCELLED = 130
_CANCELLED = {  # what a cancelled command says; a run or a batch removes what it was writing first
    "plan": "cancelled; nothing was written",
    "run": "cancelled; nothing was written",
    "session run": "interrupted; finished steps are kept (resume with --session)",
    "mcp": "stopped",
    "serve": "stopped",
    "serve status": "cancelled",
}


class _Parser(argparse.ArgumentParser):
    """argparse that reports bad usage on one line (and exit code 2), without the usage dump."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_USAGE, _for_stream(f"{self.prog}: error: {message} (see '{self.prog} --help')\n", sys.stderr))


def _port(text: str) -> int:
    """argparse type of ``--port``: 1..65535, or 0 for a free port the system picks (the server prints it)."""
    try:
        port = int(text)
    except ValueError:
        port = -1
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port: give 1..65535, or 0 for any free port")
    return port


def _hours(text: str) -> float:
    """argparse type of ``--job-ttl``: a positive number of hours."""
    try:
        hours = float(text)
    except ValueError:
        hours = -1.0
    if not 0 < hours < float("inf"):
        raise argparse.ArgumentTypeError(f"{text!r} is not a time to live: give a positive number of hours")
    return hours


def _build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="unison", description="Plan and run multimodal requests.")
    parser.add_argument("--version", action="version", version=f"unison-agent {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    p = sub.add_parser(
        "plan",
        help="turn a request and its attachments into a TaskSpec",
        description="Turn a request and its attachments into a TaskSpec (the default planner needs no model).",
    )
    p.add_argument("--planner", default=None, metavar="CHOICE", help=PLANNER_HELP)
    p.add_argument("text", nargs="?", help="the request, as the person wrote it")
    p.add_argument(
        "--attach",
        "-a",
        action="append",
        default=[],
        metavar="FILE",
        help="an attached image or video; repeat for several, in the order they were attached",
    )
    p.add_argument("--json", action="store_true", help="print the TaskSpec as JSON")
    p.add_argument("--jsonl", metavar="IN", help='batch mode: one {"id", "text", "attachments": [...]} per line')
    p.add_argument("--out", metavar="OUT", help='batch mode: where to write one {"id", "spec"|"error"} per line')
    p.add_argument(
        "--workers",
        type=_workers_arg,
        default=None,
        metavar="N",
        help="batch mode: processes that plan at once (default: one per CPU core, at most 8; the embedded "
        "planner only, on systems with fork)",
    )

    r = sub.add_parser(
        "run",
        help="plan a request and run it: text for questions, PNG/MP4 files for generation",
        description="Plan a request and run it on local models; prints the answer or where the files are.",
    )
    r.add_argument("text", help="the request, as the person wrote it")
    r.add_argument(
        "--attach", "-a", action="append", default=[], metavar="FILE", help="an attached image or video; repeatable"
    )
    r.add_argument(
        "--profile",
        "-p",
        default="default",
        metavar="NAME",
        help="default (real models), fast, lowvram, bench (full-size random weights), tiny (offline random weights), "
        "or a profile .toml path (default: default)",
    )
    r.add_argument("--out", "-o", default="unison_out", metavar="DIR", help="folder for outputs (default: unison_out)")
    r.add_argument("--json", action="store_true", help="print one JSON object with the spec and the result")
    r.add_argument("--quiet", "-q", action="store_true", help="no progress on stderr")
    r.add_argument("--planner", default=None, metavar="CHOICE", help=PLANNER_HELP)
    r.add_argument("--executor", "-x", default=None, metavar="CHOICE", help=EXECUTOR_HELP)

    ses = sub.add_parser("session", help="multi-step sessions: run a script, list, show, undo")
    ses_sub = ses.add_subparsers(dest="session_command", required=True, parser_class=_Parser)
    workspace_help = "workspace folder of sessions and their files (default: $UNISON_WORKSPACE or ./unison_workspace)"
    s_run = ses_sub.add_parser("run", help="run a YAML script of steps (- request: ..., attach: [...]; - undo: true)")
    s_run.add_argument("script", help="the YAML script")
    s_run.add_argument("--profile", "-p", default="default", metavar="NAME", help="model profile (default: default)")
    s_run.add_argument("--session", metavar="ID", help="continue this session (skips the steps it already did)")
    s_run.add_argument("--json", action="store_true", help="print one JSON object with every step")
    s_run.add_argument("--quiet", "-q", action="store_true", help="no progress lines on stderr")
    s_run.add_argument("--planner", default=None, metavar="CHOICE", help=PLANNER_HELP)
    s_run.add_argument("--executor", "-x", default=None, metavar="CHOICE", help=EXECUTOR_HELP)
    for name, help_text in (
        ("list", "list the sessions"),
        ("show", "show a session's steps and artifacts"),
        ("undo", "undo a session's last step"),
    ):
        sp = ses_sub.add_parser(name, help=help_text)
        if name != "list":
            sp.add_argument("id", help="the session id")
        sp.add_argument("--json", action="store_true", help="print JSON")
    for sp in (s_run, *[ses_sub.choices[n] for n in ("list", "show", "undo")]):
        sp.add_argument("--workspace", "-w", default=None, metavar="DIR", help=workspace_help)

    m = sub.add_parser(
        "mcp",
        help="serve the tools over MCP (stdio by default, or streamable HTTP)",
        description="Serve plan, run, one tool per task, jobs and session tools over MCP.",
    )
    m.add_argument("--profile", "-p", default="default", metavar="NAME", help="model profile (default: default)")
    m.add_argument("--workspace", "-w", default=None, metavar="DIR", help=workspace_help)
    m.add_argument(
        "--root",
        action="append",
        default=None,
        metavar="DIR",
        help="a folder attachments may be read from; repeatable (default: the workspace and the current folder)",
    )
    m.add_argument("--planner", default=None, metavar="CHOICE", help=PLANNER_HELP)
    m.add_argument("--executor", "-x", default=None, metavar="CHOICE", help=EXECUTOR_HELP)
    m.add_argument("--http", action="store_true", help="streamable HTTP instead of stdio (at http://HOST:PORT/mcp)")
    m.add_argument("--host", default="127.0.0.1", help="HTTP address (default 127.0.0.1: this machine only)")
    m.add_argument("--port", type=_port, default=8000, help="HTTP port (default 8000; 0: any free port, printed)")
    m.add_argument(
        "--token", default=None, help="require 'Authorization: Bearer TOKEN' over HTTP (default: $UNISON_MCP_TOKEN)"
    )
    m.add_argument(
        "--job-ttl",
        type=_hours,
        default=7 * 24.0,
        metavar="HOURS",
        help="finished jobs are deleted after this many hours (default 168: a week)",
    )

    sv = sub.add_parser(
        "serve",
        help="deploy a profile's models on a Ray cluster (Ray Serve) for --executor ray; `serve status` lists them",
        description="Connect to the Ray cluster this machine is part of (or --address; with neither, start one in "
        "this process), deploy the profile's models there (one Serve deployment per model entry) and keep serving "
        "until Ctrl-C, which removes the deployment. Front doors then run with --executor ray.",
    )
    sv.add_argument("--profile", "-p", default="default", metavar="NAME", help="model profile (default: default)")
    sv.add_argument(
        "--address",
        default=None,
        metavar="ADDRESS",
        help="the cluster: HOST:PORT (its head's GCS address); default: this machine's "
        "cluster ($RAY_ADDRESS, `ray start`), else a new one in this process",
    )
    sv.add_argument(
        "--detach",
        action="store_true",
        help="deploy and exit, leaving the deployment on the cluster (needs a cluster that outlives this command)",
    )
    sv_sub = sv.add_subparsers(dest="serve_command", required=False, parser_class=_Parser)
    svs = sv_sub.add_parser("status", help="list the unison deployments on the cluster and their replicas")
    svs.add_argument("--address", default=None, metavar="ADDRESS", help="the cluster (default: this machine's)")
    svs.add_argument("--json", action="store_true", help="print JSON")

    c = sub.add_parser(
        "calibrate",
        help="measure MagCache's ratios on a profile's VACE model and write a copy of the profile that uses them",
        description="Run one generation with MagCache calibration on the profile's VACE model and write a complete "
        'copy of the profile whose VACE entry has cache = "mag" and the measured mag_ratios.',
    )
    c.add_argument("--profile", "-p", default="default", metavar="NAME", help="profile to calibrate (default: default)")
    c.add_argument("--out", "-o", required=True, metavar="NEW.toml", help="the profile file to write")
    c.add_argument("--steps", type=int, default=None, metavar="N", help="denoising steps (default: the profile's)")
    c.add_argument("--size", default="832x480", metavar="WxH", help="output size of the run (default: 832x480)")
    c.add_argument("--frames", type=int, default=81, metavar="F", help="frames of the run (default: 81)")
    c.add_argument("--force", action="store_true", help="replace --out if it exists")

    sub.add_parser("schema", help="print the TaskSpec JSON schema")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code (see the module docstring).

    SIGTERM and SIGHUP cancel like Ctrl-C while it runs. An unexpected exception is reported on one line as a
    bug (exit 1); with ``UNISON_DEBUG=1`` in the environment it is raised instead, traceback and all.
    """
    args = _build_parser().parse_args(argv)
    command = _command(args)
    try:
        with _signals_cancel():
            if args.command == "schema":
                from unison_agent.spec import json_schema

                print(json_schema())
                return EXIT_OK
            if args.command == "plan":
                return _plan(args)
            if args.command == "run":
                return _run(args)
            if args.command == "session":
                return _session(args)
            if args.command == "mcp":
                return _mcp(args)
            if args.command == "calibrate":
                return _calibrate(args)
            if args.command == "serve":
                return _serve(args)
    except BrokenPipeError:  # `unison plan ... | head`
        _quiet_stdout()
        return EXIT_OK
    except KeyboardInterrupt:
        _say(f"unison {command}: {_CANCELLED.get(command, 'cancelled')}", sys.stderr)
        return EXIT_CANCELLED
    except Exception as e:
        if os.environ.get("UNISON_DEBUG", "").strip() not in ("", "0"):
            raise
        return _fail(
            f"{type(e).__name__}: {_error_line(e)}; this is a bug: please report it (UNISON_DEBUG=1 shows where)",
            EXIT_FAILED,
            command,
        )
    return EXIT_USAGE


def _command(args: argparse.Namespace) -> str:
    """The command's name as messages give it: "plan", "run", "session run", "session" (list, show, undo)..."""
    if args.command == "session" and getattr(args, "session_command", None) == "run":
        return "session run"
    if args.command == "serve" and getattr(args, "serve_command", None) == "status":
        return "serve status"
    return str(args.command)


@contextlib.contextmanager
def _signals_cancel() -> Iterator[None]:
    """Within the block, SIGTERM and SIGHUP raise KeyboardInterrupt in the main thread, as Ctrl-C does.

    A signal's default action kills the process on the spot, leaving temporary ``.part`` files and half-made
    batch files behind; KeyboardInterrupt runs every ``finally`` on the way out, which removes them. The first
    signal cancels; more of them while the cleanup runs are ignored, so the cleanup finishes (``kill -9`` still
    stops a stuck process). A signal that is ignored (``nohup`` ignores SIGHUP) stays ignored. The previous
    handlers are restored when the block ends. Off the main thread nothing is changed: Python runs signal
    handlers only there.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    cancelling = False

    def cancel(_signum: int, _frame: object) -> None:
        nonlocal cancelling
        if not cancelling:
            cancelling = True
            raise KeyboardInterrupt

    previous: dict[int, Any] = {}
    for name in ("SIGTERM", "SIGHUP"):  # Windows has no SIGHUP
        signum = getattr(signal, name, None)
        if signum is not None and signal.getsignal(signum) is not signal.SIG_IGN:
            previous[signum] = signal.signal(signum, cancel)
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def _quiet_stdout() -> None:
    """Point stdout at /dev/null once its reader has gone, so the flush at exit does not fail again."""
    with contextlib.suppress(OSError, ValueError):  # not a real file (captured output): nothing to flush
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)


# ---------------------------------------------------------------------------------------------- output
# Shown as escapes on the terminal: C0 controls but newline and tab, DEL, C1 controls (U+0080..U+009F: U+009B
# is CSI, which some terminals obey), the bidirectional marks and overrides that reorder what is shown, and lone
# surrogates (undecodable bytes in argv or a file name), which no stream can encode.
_UNSAFE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\ud800-\udfff]")
# In JSON, the C0 controls are escaped by json.dumps already; the rest of the set above is valid JSON raw, but
# not safe for a terminal, so it is escaped too (the same string once parsed).
_JSON_UNSAFE = re.compile(r"[\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\ud800-\udfff]")


def printable(text: str) -> str:
    """``text`` with control characters (other than newline and tab), bidirectional controls and lone surrogates
    written as escapes (``"\\x1b"``, ``"\\u202e"``, ``"\\udce9"``), so that it cannot drive a terminal."""
    return _UNSAFE.sub(_escape, text)


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    if code == 0x0D:  # as repr() writes it: a pasted Windows line end reads better as \r than as \x0d
        return "\\r"
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def _for_stream(text: str, stream: TextIO) -> str:
    """``printable(text)``, with what ``stream``'s encoding lacks (an ASCII or Latin-1 terminal) as escapes."""
    text = printable(text)
    encoding = getattr(stream, "encoding", None) or "utf-8"
    try:
        return text.encode(encoding, "backslashreplace").decode(encoding)
    except LookupError:  # pragma: no cover - a stream that names no codec Python knows
        return text


def _say(text: str, stream: TextIO | None = None, end: str = "\n") -> None:
    """Print human-readable ``text`` to ``stream`` (stdout by default), made safe for a terminal."""
    out = stream or sys.stdout
    out.write(_for_stream(text, out) + end)


def _stderr_line(text: str) -> None:
    """One line of news on stderr (a cluster deployment coming up), flushed at once."""
    _say(text, sys.stderr)
    sys.stderr.flush()


def json_text(data: Any, indent: int | None = None) -> str:
    """``data`` as strict JSON (no NaN or Infinity), non-ASCII text kept, and every character that could
    drive a terminal (or that UTF-8 cannot encode: lone surrogates) escaped as ``\\uXXXX``.

    Raises ``ValueError`` for a NaN or an infinity, ``TypeError`` for a value JSON lacks.
    """
    text = json.dumps(data, ensure_ascii=False, indent=indent, allow_nan=False)
    return _JSON_UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def _print_json(data: Any) -> None:
    """Print ``data`` as indented JSON on stdout; all-ASCII escapes where stdout cannot encode the text."""
    text = json_text(data, indent=2)
    encoding = getattr(sys.stdout, "encoding", None) or "utf-8"
    try:
        text.encode(encoding)
    except (UnicodeEncodeError, LookupError):
        text = json.dumps(data, ensure_ascii=True, indent=2, allow_nan=False)
    print(text)


def _calibrate(args: argparse.Namespace) -> int:
    """``unison calibrate``: MagCache ratios for the profile's VACE entry, written into a copy of the profile."""
    import tomli_w

    from unison_agent.spec import Task
    from unison_agent.tools import ModelPool, load_profile
    from unison_agent.tools.backends import GenerationRequest, VaceOptions
    from unison_agent.tools.backends.caches import calibrate_mag

    out = Path(args.out)
    size = re.fullmatch(r"(\d+)x(\d+)", args.size)
    if size is None:
        return _fail(f"--size {args.size!r} is not WxH (e.g. 832x480)", command="calibrate")
    if out.exists() and not args.force:
        return _fail(f"{out} already exists; give --force to replace it", command="calibrate")
    if not out.parent.is_dir():  # known before minutes of model loading and generation, not after
        return _fail(f"--out {out}: folder {out.parent} does not exist", command="calibrate")
    try:
        profile = load_profile(args.profile)
        key, entry = profile.model_for(Task.TEXT_TO_VIDEO)
        if entry.backend != "wan-vace":
            return _fail(f"profile {args.profile}: models.{key} is {entry.backend}, not wan-vace", command="calibrate")
        options = VaceOptions.model_validate(entry.options)
        steps = options.steps if args.steps is None else args.steps
        if steps < 2 or args.frames < 1:
            return _fail(f"--steps must be >= 2 and --frames >= 1, got {steps} and {args.frames}", command="calibrate")
        backend: Any = ModelPool().generation(Task.TEXT_TO_VIDEO, profile)
        width, height = (int(v) // backend.size_multiple * backend.size_multiple for v in size.groups())
        frames = (args.frames - 1) // backend.frame_step * backend.frame_step + 1
        request = GenerationRequest(
            prompt="a red fox runs through a snowy forest",
            width=width,
            height=height,
            num_frames=frames,
            seed=0,
            steps=steps,
            guidance_scale=options.guidance_scale,
            negative_prompt=options.negative_prompt,
        )
        ratios = calibrate_mag(backend, request)
    except UnisonError as e:
        return _fail(one_line(e), EXIT_FAILED, "calibrate")
    data = profile.model_dump(mode="json", exclude={"name"}, exclude_none=True)  # TOML has no null
    vace = data["models"][key]["options"]
    kept = vace.get("cache_settings", {}) if vace.get("cache") == "mag" else {}  # a mag entry keeps its threshold...
    vace["cache"] = "mag"
    vace["cache_settings"] = {**kept, "mag_ratios": ratios}
    run = f"{steps} steps, {width}x{height}x{frames}"
    header = f"# {args.profile} with MagCache, ratios measured by `unison calibrate` ({run})\n"
    # Written beside the target and renamed over it: a reader never sees half a profile.
    tmp = out.with_name(f".{out.name}.{os.getpid()}.part")
    try:
        tmp.write_text(header + tomli_w.dumps(data), encoding="utf-8")
        os.replace(tmp, out)
    except OSError as e:
        tmp.unlink(missing_ok=True)
        return _fail(
            f"--out {out}: cannot write there ({e.strerror or e}); nothing was written", EXIT_FAILED, "calibrate"
        )
    _say(f"wrote {out}: models.{key} cache = mag, {len(ratios)} ratios")
    return EXIT_OK


def _fail(message: str, code: int = EXIT_USAGE, command: str = "plan") -> int:
    _say(f"unison {command}: error: {message}", sys.stderr)
    return code


def _request_problem(text: str) -> str | None:
    """What makes ``text`` unusable as a request (empty, longer than ``MAX_REQUEST_CHARS``, not valid Unicode),
    or None. The planner refuses an over-long text too; checking here first gives the clearer message."""
    from unison_agent.spec import MAX_REQUEST_CHARS

    if not text.strip():
        return "the request text is empty"
    if len(text) > MAX_REQUEST_CHARS:
        return f"the request is {len(text):,} characters long; at most {MAX_REQUEST_CHARS:,} are allowed"
    surrogate = re.search(r"[\ud800-\udfff]", text)
    if surrogate:
        return (
            f"the request text is not valid Unicode (a lone surrogate {_escape(surrogate)} at character "
            f"{surrogate.start() + 1}; was it typed in a terminal that is not UTF-8?)"
        )
    return None


def _plan(args: argparse.Namespace) -> int:
    if args.workers is not None and not (args.jsonl or args.out):
        return _fail("--workers is for batch mode (--jsonl IN --out OUT)")
    if args.jsonl or args.out:
        if args.text is not None or args.attach:
            return _fail("batch mode (--jsonl/--out) takes no request text and no --attach")
        if not (args.jsonl and args.out):
            return _fail("batch mode needs both --jsonl IN and --out OUT")
        planner = _planner(args, "plan")
        if isinstance(planner, int):
            return planner
        return _plan_batch(Path(args.jsonl), Path(args.out), planner, args.workers)
    if args.text is None or not args.text.strip():
        return _fail('give the request text: unison plan "what to do" [--attach FILE ...]')
    problem = _request_problem(args.text)
    if problem:
        return _fail(problem)

    from pydantic import ValidationError

    from unison_agent.planning import plan_detailed
    from unison_agent.spec import TaskSpec

    planner = _planner(args, "plan")
    if isinstance(planner, int):
        return planner
    try:
        planned = plan_detailed(planner, args.text, args.attach)
    except (UnisonError, ValidationError) as e:
        if isinstance(e, MediaError):  # an unreadable attachment
            return _fail(str(e))
        return _fail(_error_line(e), EXIT_FAILED)  # a request the contract cannot express (e.g. 90 s of video)
    spec: TaskSpec = planned.spec
    _planner_notes(planned, "plan")
    if args.json:
        _print_json(spec.to_json_dict())
    else:
        _say(summary(spec))
    return EXIT_OK


def _planner(args: argparse.Namespace, command: str, planners: Any = None) -> Any:
    """The planner ``--planner`` (or $UNISON_PLANNER) names, or an exit code after saying what is wrong.
    The embedded planner is taken without importing the tools (``unison plan`` stays light). A model planner is
    made in ``planners`` (a :class:`~unison_agent.planners.choice.Planners`) when given, so that the command's
    graph finds it loaded."""
    from unison_agent.planners.choice import Planners, choice_from

    try:
        parsed = choice_from(args.planner)
    except PlanningError as e:
        return _fail(str(e), command=command)
    if parsed.kind == "embedded":
        from unison_agent.planning import EmbeddedPlanner

        return EmbeddedPlanner()
    if not getattr(args, "quiet", False):
        _say(f"unison {command}: loading planner {parsed}...", sys.stderr)
        sys.stderr.flush()
    try:
        return (planners or Planners()).get(parsed)
    except PlanningError as e:
        return _fail(str(e), command=command)
    except UnisonError as e:
        return _fail(str(e), EXIT_FAILED, command)


def _planner_notes(planned: Any, command: str) -> None:
    """A model-backed planner's account on stderr: which planner made the plan, repairs, fallbacks."""
    if not planned.worth_telling:
        return
    head, *notes = planned.account()
    _say(f"unison {command}: {head}", sys.stderr)
    for note in notes:
        _say(f"  note: {note}", sys.stderr)


def _plan_batch(src: Path, dst: Path, planner: Any, workers: int | None = None) -> int:
    from concurrent.futures.process import BrokenProcessPool

    from unison_agent.planning import plan_detailed, warm_up

    warm_up()  # many requests: compile every pattern once, before the first, so each costs the same

    if dst.is_dir():
        return _fail(f"--out {dst}: is a folder; give the name of the file to write")
    if dst.parent and not dst.parent.exists():
        return _fail(f"{dst}: folder {dst.parent} does not exist")
    try:
        lines = src.read_bytes().splitlines()
    except OSError as e:
        return _fail(f"{src}: cannot read ({e.__class__.__name__}: {e.strerror or e})")
    # The rows go to a temporary file beside the output, made now so that a folder that cannot be written is
    # refused before any planning, and renamed onto the output at the end: a reader never sees half a file.
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{dst.name}.", dir=str(dst.parent or "."))
    except OSError as e:
        return _fail(f"--out {dst}: cannot write there ({e.strerror or e})")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            done, errors, fallbacks, seconds = _plan_rows(lines, planner, f, plan_detailed, workers)
        os.replace(tmp, dst)
    except BrokenProcessPool:
        return _fail(
            "a planning worker process ended unexpectedly (killed, or out of memory); nothing was written. "
            "Run again, or with --workers 1 to plan in this process only",
            EXIT_FAILED,
        )
    except OSError as e:
        return _fail(f"--out {dst}: cannot write there ({e.strerror or e})", EXIT_FAILED)
    finally:
        Path(tmp).unlink(missing_ok=True)
    uses_model = planner.name != "embedded"
    fell_back = f", {fallbacks} fell back to the embedded planner" if uses_model else ""
    _say(
        f"planned {done} requests with {planner.name} ({errors} errors{fell_back}) in {seconds:.2f} s -> {dst}",
        sys.stderr,
    )
    return EXIT_OK


def _plan_rows(
    lines: list[bytes], planner: Any, out: TextIO, plan_detailed: Callable[..., Any], workers: int | None = None
) -> tuple[int, int, int, float]:
    """Plan each non-blank line of a batch and write its row to ``out``, in order; returns (rows, errors,
    fallbacks, seconds).

    A line that cannot be planned becomes an error row: ``bad_request`` (not UTF-8, not a JSON object, an id
    that is not a string or a finite number, text that :func:`_request_problem` refuses), ``bad_attachment``
    or ``unplannable``. A row keeps its id when the id is usable, else it is ``"line N"``.

    With the embedded planner and more than one worker, chunks of rows are planned by processes forked from
    this one after ``warm_up`` (they start with its compiled patterns and weights; nothing is imported again);
    the rows are written in input order as chunks come back. Planning is deterministic, so the output is the
    same byte for byte whatever the number of workers.
    """
    t0 = time.perf_counter()
    rows = [_batch_request(n, line) for n, line in enumerate(lines, 1) if line.strip()]
    total = len(rows)
    uses_model = planner.name != "embedded"
    show_progress = sys.stderr.isatty() and (total > 200 or uses_model)
    errors = fallbacks = done = 0
    n_workers = _batch_workers(workers, planner, -(-total // _CHUNK))
    # One process plans row by row, so that progress (a model planner's, seconds a row) is shown as it goes.
    size = _CHUNK if n_workers > 1 else 1
    chunks = [rows[i : i + size] for i in range(0, total, size)]
    with contextlib.ExitStack() as stack:
        results: Iterator[list[tuple[str, int, int]]]
        if n_workers > 1:
            import gc
            import multiprocessing
            from concurrent.futures import ProcessPoolExecutor

            gc.freeze()  # the warmed-up objects stay out of the workers' collections: their pages stay shared
            stack.callback(gc.unfreeze)

            # A worker that dies (killed, out of memory) fails the batch with BrokenProcessPool instead of
            # leaving it waiting; on any error the chunks not started are dropped and the rest end quickly.
            pool = ProcessPoolExecutor(
                n_workers,
                mp_context=multiprocessing.get_context("fork"),
                initializer=_batch_worker_init,
                initargs=(planner, plan_detailed, os.getpid()),
            )
            stack.callback(pool.shutdown, wait=True, cancel_futures=True)
            results = pool.map(_plan_chunk, chunks)
        else:
            results = (_plan_chunk(chunk, planner, plan_detailed) for chunk in chunks)
        for chunk in results:
            for line, error, fallback in chunk:
                out.write(line)
                done += 1
                errors += error
                fallbacks += fallback
                if show_progress and (uses_model or done % 100 == 0):
                    sys.stderr.write(f"\rplanned {done}/{total}")
                    sys.stderr.flush()
    if show_progress:
        print(file=sys.stderr)
    return done, errors, fallbacks, time.perf_counter() - t0


_CHUNK = 8  # rows a worker plans per task: small enough to balance, large enough to keep messages few
_MAX_WORKERS = 8
_BATCH: dict[str, Any] = {}  # a forked worker's planner, set once when the worker starts


def _workers_arg(value: str) -> int:
    try:
        n = int(value)
    except ValueError:
        n = 0
    if not 1 <= n <= 64:
        raise argparse.ArgumentTypeError(f"must be a whole number from 1 to 64, not {value!r}")
    return n


def _batch_workers(asked: int | None, planner: Any, chunks: int) -> int:
    """How many processes plan a batch: 1 unless the planner is the embedded one, fork exists, PyAV is not
    loaded and no other thread runs in this process, and there is more than one chunk of rows; then
    ``--workers`` or one per usable core (at most 8)."""
    import multiprocessing

    # Model-backed planners hold a loaded model or a client with threads: forking them is not safe. Nor is
    # forking once PyAV has been loaded here: a child forked after FFmpeg has decoded a video hangs on its first
    # decode (measured).
    if planner.name != "embedded" or chunks < 2 or "fork" not in multiprocessing.get_all_start_methods():
        return 1
    if "av" in sys.modules or threading.active_count() > 1:
        # A thread holding a lock at the fork leaves it held for ever in the child (a caller that runs main()
        # inside a threaded program); FFmpeg's own threads are not Python's, hence the PyAV test.
        return 1
    if asked is None:
        cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
        asked = min(cores, _MAX_WORKERS)
    return max(1, min(asked, chunks))


def _batch_worker_init(planner: Any, plan_detailed: Callable[..., Any], parent: int) -> None:
    """Start a forked batch worker: keep its planner, leave signals to the parent, and end with the parent."""
    _BATCH["planner"], _BATCH["plan_detailed"] = planner, plan_detailed
    _die_with(parent)
    # The parent handles Ctrl-C and termination (its cleanup removes the half-written output) and stops the
    # pool; a worker just ends, without the parent's cancelling handlers it inherited.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    for name in ("SIGTERM", "SIGHUP"):
        signum = getattr(signal, name, None)
        if signum is not None:
            signal.signal(signum, signal.SIG_DFL)


def _die_with(parent: int) -> None:
    """Have the kernel kill this process when ``parent`` dies (Linux): a worker would otherwise wait on its queue
    for ever after a `kill -9` of the batch, or an out-of-memory kill. Elsewhere nothing changes."""
    if not sys.platform.startswith("linux"):
        return
    import ctypes

    pr_set_pdeathsig = 1
    try:
        ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, signal.SIGKILL)
    except (OSError, AttributeError):  # no libc to call: the worker just cannot follow its parent
        return
    if os.getppid() != parent:  # the parent died before the request took effect
        os._exit(1)


def _plan_chunk(
    chunk: list[tuple[Any, tuple[str, list[str]] | str]],
    planner: Any = None,
    plan_detailed: Callable[..., Any] | None = None,
) -> list[tuple[str, int, int]]:
    """Plan rows (with the forked worker's planner when none is given); returns each row's JSON line with
    whether it is an error and whether it fell back."""
    from pydantic import ValidationError

    if planner is None or plan_detailed is None:
        planner, plan_detailed = _BATCH["planner"], _BATCH["plan_detailed"]
    uses_model = planner.name != "embedded"
    done: list[tuple[str, int, int]] = []
    for rid, request in chunk:
        row: dict[str, Any]
        fallback = 0
        if isinstance(request, str):
            row = {"id": rid, "error": {"type": "bad_request", "message": request}}
        else:
            text, paths = request
            try:
                planned = plan_detailed(planner, text, paths)
                row = {"id": rid, "spec": planned.spec.to_json_dict()}
                if uses_model:
                    row |= {"planner": planned.planner, "fallback": planned.fallback, "notes": list(planned.notes)}
                    fallback = int(planned.fallback)
            except (UnisonError, ValidationError) as e:
                if isinstance(e, MediaError):
                    row = {"id": rid, "error": {"type": "bad_attachment", "message": str(e)}}
                else:
                    row = {"id": rid, "error": {"type": "unplannable", "message": _error_line(e)}}
        done.append((json_text(row) + "\n", int("error" in row), fallback))
    return done


def _batch_request(n: int, line: bytes) -> tuple[Any, tuple[str, list[str]] | str]:
    """Line ``n`` of a batch as (id, (text, attachment paths)), or (id, why it is a bad request)."""
    rid: Any = f"line {n}"
    try:
        req = json.loads(line.decode("utf-8"), parse_constant=_not_json)
        if not isinstance(req, dict):
            raise ValueError("a request line must be a JSON object")
        rid = _row_id(req.get("id", rid), n)
        text, atts = req.get("text"), req.get("attachments", [])
        if not isinstance(text, str) or not isinstance(atts, list) or not all(isinstance(a, str) for a in atts):
            raise ValueError('expected {"id": ..., "text": "...", "attachments": ["path", ...]}')
        problem = _request_problem(text)
        if problem:
            raise ValueError(problem)
    except UnicodeDecodeError as e:
        return rid, f"not UTF-8 text (byte {e.start + 1})"
    except ValueError as e:  # json.JSONDecodeError is a ValueError
        return rid, _error_line(e)
    return rid, (text, atts)


def _not_json(name: str) -> None:
    raise ValueError(f"{name} is not JSON (a number must be finite)")


def _row_id(rid: Any, n: int) -> Any:
    """A batch row's id as given when it is a string or a finite number, else ValueError. (1e999 parses as an
    infinity, which JSON cannot write back; a list or an object would not identify a row in a join.)"""
    if isinstance(rid, str) or (isinstance(rid, (int, float)) and not isinstance(rid, bool) and math.isfinite(rid)):
        return rid
    raise ValueError(f"line {n}: the id must be a string or a finite number, got {json.dumps(rid)[:40]}")


def _run(args: argparse.Namespace) -> int:
    if not args.text.strip():
        return _fail('give the request text: unison run "what to do" [--attach FILE ...]', command="run")
    problem = _request_problem(args.text)
    if problem:
        return _fail(problem, command="run")

    from pydantic import ValidationError

    from unison_agent.planning import plan_detailed
    from unison_agent.tools import ProfileError, RunCancelled, ToolError, load_profile
    from unison_agent.tools.errors import UnreadableInputError
    from unison_agent.tools.executors import open_executor
    from unison_agent.tools.serving.settings import parse_executor

    try:
        profile = load_profile(args.profile)
        parse_executor(args.executor if args.executor is not None else profile.executor)  # the form, before work
    except ProfileError as e:
        return _fail(str(e), command="run")
    planner = _planner(args, "run")
    if isinstance(planner, int):
        return planner
    try:
        planned = plan_detailed(planner, args.text, args.attach)
        spec = planned.spec
        if not args.quiet:
            _planner_notes(planned, "run")
    except MediaError as e:
        return _fail(str(e), command="run")
    except (UnisonError, ValidationError) as e:
        return _fail(_error_line(e), EXIT_FAILED, command="run")
    if not spec.ready:
        need = ", ".join(r.value for r in spec.missing)
        return _fail(
            f"{spec.task.value} needs a {need} that was not attached; attach it with --attach FILE", EXIT_FAILED, "run"
        )
    made: list[Path] = []  # folders this run creates for its outputs: removed again if it writes nothing
    if spec.task.output_media is not None:
        problem = _make_folder(Path(args.out), made)
        if problem:
            return _fail(f"--out {args.out}: {problem}", command="run")
    if not args.json:  # the plan first: a video can take many minutes, and this says what is being made
        _say(summary(spec))
        sys.stdout.flush()
    progress = None if args.quiet else _ProgressLine(sys.stderr)
    finished = False
    try:
        try:
            executor = open_executor(args.executor, profile, report=None if args.quiet else _stderr_line)
            result = executor.run(spec, out_dir=args.out, on_progress=progress)
            finished = True
        finally:  # before any message: the progress line ends first, and a failed run leaves no folder either
            if progress:
                progress.close(finished=finished)
            if not finished:
                for folder in reversed(made):
                    with contextlib.suppress(OSError):  # not empty: something else put a file there
                        folder.rmdir()
    except RunCancelled as e:
        return _fail(f"{e}; nothing was written", EXIT_CANCELLED, "run")
    except (MediaError, UnreadableInputError) as e:  # an attachment found unreadable only now: as plan says it
        return _fail(str(e), command="run")
    except ToolError as e:
        return _fail(str(e), EXIT_FAILED, "run")
    except OSError as e:  # the disk filled up, a folder vanished...: the OS's reason, on one line
        where = f"{e.filename}: " if e.filename else ""
        return _fail(f"{where}{e.strerror or e}", EXIT_FAILED, "run")
    if args.json:
        _print_json(result.to_json_dict())
        return EXIT_OK
    for note in result.notes:
        _say(f"note      {note}")
    if result.text is not None:
        _say(f"answer    {result.text}")
    for o in result.outputs:
        what = f"{o.width}x{o.height}" + (f", {o.num_frames} frames at {o.fps} fps" if o.fps else "")
        _say(f"wrote     {o.path}  ({o.media.value} {what}, seed {o.seed})")
    return EXIT_OK


def _make_folder(folder: Path, made: list[Path]) -> str | None:
    """Create ``folder`` (and its missing parents) now, before any work, appending each folder created to
    ``made``; returns what is wrong (a file in the way, no permission, a file system that refuses) or None."""
    missing = [p for p in (folder, *folder.parents) if not p.exists()]
    for path in (folder, *folder.parents):
        if path.exists() and not path.is_dir():
            return f"{path} is a file, not a folder" if path != folder else "is a file, not a folder"
        if path.exists():
            break
    for path in reversed(missing):
        try:
            path.mkdir()
        except FileExistsError:  # made by someone else meanwhile
            continue
        except OSError as e:
            for done in reversed(made):
                with contextlib.suppress(OSError):
                    done.rmdir()
            made.clear()
            return f"cannot create {path} ({e.strerror or e})"
        made.append(path)
    if not os.access(folder, os.W_OK | os.X_OK):
        return "cannot write there (permission denied)"
    return None


class _ProgressLine:
    """Progress on stderr. On a terminal: one line redrawn in place, with seconds per step and the time left
    while denoising. On a pipe (logs): a line when a stage starts and one with its time when it ends."""

    def __init__(self, stream: Any, clock: Callable[[], float] = time.perf_counter) -> None:
        self.stream = stream
        self.clock = clock
        self.tty = bool(getattr(stream, "isatty", lambda: False)())
        self.t0 = self.last = clock()
        self.stage: tuple[str, int] | None = None
        self.stage_t0 = self.t0
        self.label = ""
        self.done = self.total = 0
        self.width = 0  # of the line last drawn on the terminal, to blank what a shorter one leaves

    def __call__(self, event: Any) -> None:
        now = self.clock()
        label = event.stage + (f" {event.output}/{event.outputs}" if event.outputs > 1 else "")
        if (event.stage, event.output) != self.stage:
            if self.stage is not None and not self.tty:
                self._timing(now)
            # A stage starts with its "0 of N" event, or, when its first event reports work already done (the
            # first denoising step), when the stage before it ended.
            self.stage, self.label = (event.stage, event.output), label
            self.stage_t0 = now if event.done == 0 else self.last
            if not self.tty:
                start = label + (f" ({event.message})" if event.message else "")
                self.stream.write(_for_stream(f"{start}...", self.stream) + "\n")
        self.done, self.total, self.last = event.done, event.total, now
        if self.tty:
            shown = label + (f" ({event.message})" if event.message and event.done == 0 else "")
            bar_width = 24
            filled = int(bar_width * event.done / max(event.total, 1))
            bar = "#" * filled + "." * (bar_width - filled)
            if event.stage == "denoise":
                detail = f"step {event.done}/{event.total}"
                if event.done:
                    per_step = (now - self.stage_t0) / event.done
                    left = per_step * (event.total - event.done)
                    detail += f", {per_step:.2f} s/step, ETA {_clock_time(left)}"
            else:
                detail = f"{event.done}/{event.total} {now - self.t0:6.1f}s"
            line = _for_stream(f"{shown[:40]:<40} [{bar}] {detail}", self.stream)
            self.stream.write("\r" + line.ljust(self.width))
            self.width = len(line)
        self.stream.flush()

    def _timing(self, now: float) -> None:
        # A stage whose last event said "N of N" ended then; one that never said so (decode) ended now.
        seconds = (self.last if self.done >= self.total else now) - self.stage_t0
        if self.stage is not None and self.stage[0] == "denoise" and self.done:
            text = f"{self.label}: done, {self.done} steps in {seconds:.1f} s ({seconds / self.done:.2f} s/step)"
        else:
            text = f"{self.label}: done in {seconds:.1f} s"
        self.stream.write(_for_stream(text, self.stream) + "\n")

    def close(self, finished: bool = True) -> None:
        """End the progress display: the last stage's time on a pipe when the run finished, a newline on a
        terminal."""
        if self.tty and self.width:
            self.stream.write("\n")
        elif not self.tty and finished and self.stage is not None:
            self._timing(self.clock())
        self.stage, self.width = None, 0
        self.stream.flush()


def _clock_time(seconds: float) -> str:
    """``seconds`` as ``mm:ss``, or ``h:mm:ss`` from an hour on."""
    whole = max(0, round(seconds))
    hours, rest = divmod(whole, 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}" if hours else f"{rest // 60:02d}:{rest % 60:02d}"


def _workspace(args: argparse.Namespace, command: str) -> str | int:
    """The workspace folder (``--workspace``, $UNISON_WORKSPACE or ./unison_workspace), created if missing, or
    an exit code after saying why it cannot be used (a file in the way, no permission)."""
    workspace = args.workspace or os.environ.get("UNISON_WORKSPACE") or "unison_workspace"
    problem = _make_folder(Path(workspace), [])
    if problem:
        return _fail(f"--workspace {workspace}: {problem}", command=command)
    return str(workspace)


def _session(args: argparse.Namespace) -> int:
    import sqlite3

    from unison_agent.sessions import ArtifactStore, StoreError

    workspace = _workspace(args, "session run" if args.session_command == "run" else "session")
    if isinstance(workspace, int):
        return workspace
    if args.session_command == "run":
        return _session_run(args, workspace)
    try:
        store = ArtifactStore(workspace)
    except (OSError, sqlite3.Error) as e:
        return _fail(f"--workspace {workspace}: cannot open it ({e.__class__.__name__}: {e})", command="session")
    try:
        if args.session_command == "list":
            sessions = store.sessions()
            if args.json:
                _print_json([info.model_dump() for info in sessions])
            for info in [] if args.json else sessions:
                when = time.strftime("%Y-%m-%d %H:%M", time.localtime(info.created))
                _say(f"{info.id}  {when}  {info.steps:>3} steps  {info.title}")
            return EXIT_OK
        if args.session_command == "undo":
            undone = store.undo(args.id)
            _say(f"undid: {undone.request}" if undone else "nothing to undo")
            return EXIT_OK
        info = store.session(args.id)
        steps = store.history(args.id)
        if args.json:
            data = {"session": info.model_dump(), "steps": [s.model_dump() for s in steps]}
            data["artifacts"] = [a.model_dump(mode="json") for a in store.artifacts(args.id)]
            _print_json(data)
            return EXIT_OK
        _say(f"session {info.id}: {info.title}")
        for step in steps:
            made = ", ".join(f"@{i}" for i in step.outputs) or (step.text or "")[:60]
            used = ", ".join(f"@{i}" for i in step.inputs)
            _say(f"  {step.id:>3}. {step.request}" + (f"  [from {used}]" if used else "") + f"  -> {made}")
        return EXIT_OK
    except StoreError as e:
        return _fail(str(e), command="session")


def _session_run(args: argparse.Namespace, workspace: str) -> int:
    try:
        from unison_agent.graphs.scripted import ScriptError, run_script
    except ImportError as e:  # the graph extra (langgraph, pyyaml) is not installed
        return _fail(f"sessions need {e.name}: pip install 'unison-agent[gen,graph]'", command="session run")
    from unison_agent.tools import ProfileError, load_profile
    from unison_agent.tools.serving.settings import parse_executor

    try:
        profile = load_profile(args.profile)  # fail before any work
        parse_executor(args.executor if args.executor is not None else profile.executor)
    except ProfileError as e:
        return _fail(str(e), command="session run")
    from unison_agent.sessions.runner import Resources

    resources = Resources()
    planner = _planner(args, "session run", resources.planners)
    if isinstance(planner, int):
        return planner

    def on_step(n: int, result: dict[str, Any]) -> None:
        if args.json:
            return
        if result.get("undo"):
            _say(f"{n}. undo" + (f": {result['undone']}" if result.get("undone") else ": nothing to undo"))
            return
        task = (result.get("spec") or {}).get("task", "?")
        _say(f"{n}. {result['request']}  ({task})")
        if result.get("error"):
            _say(f"   error: {result['error']}")
        if result.get("text") is not None:
            _say(f"   answer: {result['text']}")
        for o in result["outputs"]:
            _say(f"   @{o['id']}  {o['media']} {o['width']}x{o['height']}, {o['num_frames']} frame(s)  {o['path']}")
        sys.stdout.flush()

    def on_progress(event: dict[str, Any]) -> None:
        if not args.quiet and (event["stage"] == "denoise" or event["done"] == 0):
            _say(f"   {event['stage']} {event['done']}/{event['total']}", sys.stderr)
            sys.stderr.flush()

    try:
        report = run_script(
            args.script,
            workspace=workspace,
            profile=args.profile,
            planner=planner.name,
            executor=args.executor,
            resources=resources,
            session=args.session,
            on_step=on_step,
            on_progress=on_progress,
        )
    except ScriptError as e:
        return _fail(str(e), command="session run")
    if args.json:
        _print_json(report)
    else:
        _say(f"session {report['session']}")
    failed = any(step.get("error") for step in report["steps"])
    return EXIT_FAILED if failed else EXIT_OK


def _mcp(args: argparse.Namespace) -> int:
    try:
        from unison_agent.mcp_server.http import serve_http
        from unison_agent.mcp_server.server import create_server
    except ImportError as e:
        return _fail(f"the MCP server needs {e.name}: pip install 'unison-agent[gen,graph,mcp]'", command="mcp")
    from unison_agent.tools import ProfileError, load_profile
    from unison_agent.tools.serving.settings import parse_executor

    try:
        profile = load_profile(args.profile)
        parse_executor(args.executor if args.executor is not None else profile.executor)
    except ProfileError as e:
        return _fail(str(e), command="mcp")
    from unison_agent.errors import PlanningError
    from unison_agent.planners.choice import choice_from

    try:  # the form is checked now; a model planner loads once the server runs (hosts do not wait for it)
        planner = choice_from(args.planner)
    except PlanningError as e:
        return _fail(str(e), command="mcp")
    workspace = _workspace(args, "mcp")
    if isinstance(workspace, int):
        return workspace
    server = create_server(
        workspace=workspace,
        profile=args.profile,
        planner=str(planner),
        executor=args.executor,
        roots=args.root,
        host=args.host,
        port=args.port,
        job_ttl_s=args.job_ttl * 3600,
    )
    if args.http:
        given = args.token if args.token is not None else os.environ.get("UNISON_MCP_TOKEN") or None
        token = None if given is None else given.strip()
        if given is not None and not token:  # a blank secret is no secret (and a mistake: an empty variable, a paste)
            return _fail("the token is empty or blank: give --token (or $UNISON_MCP_TOKEN) a secret", command="mcp")
        if args.host not in ("127.0.0.1", "localhost", "::1") and not token:
            return _fail(
                f"refusing to serve on {args.host} without --token (anyone on the network could use it)", command="mcp"
            )
        serve_http(server, host=args.host, port=args.port, token=token)
    else:
        server.run("stdio")
        if getattr(server, "signalled", False):  # SIGTERM/SIGHUP, received by the server's event loop
            raise KeyboardInterrupt
    return EXIT_OK


def _serve(args: argparse.Namespace) -> int:
    command = _command(args)
    try:  # before anything imports ray: the package sets Ray's environment defaults first
        from unison_agent.tools.serving.client import (
            cluster_report,
            cluster_summary,
            connect,
            ensure_deployed,
            undeploy,
        )
        from unison_agent.tools.serving.deployments import app_name, deployment_options, served_models
    except ImportError as e:
        return _fail(f"unison serve needs Ray Serve ({e.name}): pip install 'unison-agent[ray]'", command=command)
    from unison_agent.errors import ExecutorError
    from unison_agent.tools import ProfileError, load_profile

    if args.serve_command == "status":
        try:
            connect(args.address, start=False, serve_too=False)
        except ExecutorError as e:
            return _fail(str(e), EXIT_FAILED, command)
        reports = cluster_report()
        if args.json:
            _print_json({"cluster": cluster_summary(), "apps": [dataclasses.asdict(r) for r in reports]})
            return EXIT_OK
        _say(f"Ray cluster at {cluster_summary()}")
        if not reports:
            _say("no unison deployment on it: start one with `unison serve --profile NAME`")
        for report in reports:
            _say(f"{report.name}  {report.status}" + (f"  ({report.message})" if report.message else ""))
            for name, states in report.deployments.items():
                replicas = ", ".join(f"{n} {state.lower()}" for state, n in sorted(states.items())) or "no replicas"
                _say(f"  {name:<12} {replicas}")
        return EXIT_OK

    try:
        profile = load_profile(args.profile)
    except ProfileError as e:
        return _fail(str(e), command=command)
    app = app_name(profile)
    try:
        started = connect(args.address, start=not args.detach)
    except ExecutorError as e:
        hint = "" if not args.detach else "; or run `unison serve` without --detach to keep a cluster in this process"
        return _fail(f"{e}{hint}", EXIT_FAILED, command)
    # A deployment already running was made by someone else (`unison serve --detach`): it stays when this ends.
    ours = not any(r.name == app and r.status == "RUNNING" for r in cluster_report())
    try:
        import ray

        try:
            ensure_deployed(profile, report=_stderr_line)
        except ExecutorError as e:
            return _fail(str(e), EXIT_FAILED, command)
        gpus = float(ray.cluster_resources().get("GPU", 0.0))
        where = "started by this command: it stops with it" if started else "joined"
        found = "" if ours else "; it was already deployed, and stays when this command ends"
        _say(f"serving profile {profile.name} as {app} on the Ray cluster at {cluster_summary()} ({where}){found}")
        for key, family in served_models(profile).items():
            options = deployment_options(profile, key, gpus)
            scaling = options.get("autoscaling_config")
            replicas = (
                f"{scaling['min_replicas']}-{scaling['max_replicas']} replicas (autoscaling)"
                if scaling
                else f"{options['num_replicas']} replica{'s' if options['num_replicas'] != 1 else ''}"
            )
            actor = options["ray_actor_options"]
            _say(
                f"  {key:<8} {family:<13} {profile.models[key].model}: {replicas}, {actor.get('num_gpus', 0):g} GPU "
                f"and {actor['num_cpus']:g} CPU each, {options['max_ongoing_requests']} request(s) at once per replica"
            )
        _say(
            f"use it with: unison run|mcp|session run --profile {args.profile} --executor ray "
            "(on a machine of this cluster)"
        )
        sys.stdout.flush()
        if args.detach:
            return EXIT_OK
        _say("serving until Ctrl-C" + (" (which removes the deployment)" if ours else ""), sys.stderr)
        told: list[Any] = []
        while True:  # report each change of the replicas
            now = [r for r in cluster_report() if r.name == app]
            if told and now != told:
                for report in now:
                    _stderr_line(f"{report.name} {report.status}: {report.deployments}")
            told = now
            time.sleep(2.0)
    finally:
        if not args.detach and (ours or started):
            undeploy(app, stop_cluster=started)


def _error_line(e: BaseException) -> str:
    """``e``'s message on one line, its lines joined by "; " (a pydantic error: its explained problems)."""
    from pydantic import ValidationError

    from unison_agent.spec import explain

    text = explain(e) if isinstance(e, ValidationError) else str(e)
    return one_line("; ".join(line for line in text.splitlines() if line.strip()))


def summary(spec: Any) -> str:
    """A short human-readable account of a TaskSpec."""
    lines = [f"task      {spec.task.value}"]
    if spec.prompt:
        lines.append(f"prompt    {spec.prompt}")
    for item in spec.inputs:
        lines.append(f"input     {item.path} ({item.media.value}) -> {item.role.value}")
    out = spec.task.output_media
    if out is not None:
        size = f"{spec.width}x{spec.height}"
        if out.value == "video":
            lines.append(f"output    video {size}, {spec.num_frames} frames at {spec.fps} fps ({spec.duration_s:g} s)")
        else:
            lines.append(f"output    image {size}")
        if spec.num_outputs > 1:
            lines.append(f"outputs   {spec.num_outputs}")
        for name in ("control_type", "seed", "steps", "guidance_scale", "negative_prompt"):
            value = getattr(spec, name)
            if value is not None and value != "":
                value = value.value if hasattr(value, "value") else value
                if isinstance(value, str) and len(value) > 70:
                    value = value[:67] + "..."
                label = {"control_type": "control", "guidance_scale": "guidance", "negative_prompt": "negative"}
                lines.append(f"{label.get(name, name):<9} {value}")
    if spec.missing:
        need = ", ".join(r.value for r in spec.missing)
        lines.append(f"missing   {need} - attach it and ask again")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
