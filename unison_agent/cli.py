"""``unison``: the command line, and the composition root that wires planners (and later tools) together.

    unison plan "animate this, 3 seconds, vertical" --attach photo.jpg [--json] [--planner CHOICE]
    unison plan --jsonl requests.jsonl --out specs.jsonl
    unison run "a red fox in the snow, 3 seconds" [--attach FILE ...] [--profile tiny] [--out DIR] [--json]
    unison schema

Exit codes: 0 success; 1 a request could not be planned or run (missing attachment, model unavailable);
2 bad usage, an unreadable file or an unknown profile; 130 cancelled (Ctrl-C).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NoReturn

from unison_agent import __version__

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
PLANNER_HELP = (
    "who plans: embedded (rules, the default), llm:<provider>:<model> (a LangChain chat model, e.g. "
    "llm:openai:gpt-4o-mini or llm:transformers:smollm2), hybrid:<provider>:<model> (the model only where the "
    "rules are unsure), unison:<path> (a Unison planner checkpoint); default: $UNISON_PLANNER or embedded"
)


class _Parser(argparse.ArgumentParser):
    """argparse that reports bad usage on one line (and exit code 2), without the usage dump."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message} (see '{self.prog} --help')\n")


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
        help="default (real models), tiny (offline random weights), or a profile .toml path (default: default)",
    )
    r.add_argument("--out", "-o", default="unison_out", metavar="DIR", help="folder for outputs (default: unison_out)")
    r.add_argument("--json", action="store_true", help="print one JSON object with the spec and the result")
    r.add_argument("--quiet", "-q", action="store_true", help="no progress on stderr")
    r.add_argument("--planner", default=None, metavar="CHOICE", help=PLANNER_HELP)

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
    m.add_argument("--http", action="store_true", help="streamable HTTP instead of stdio (at http://HOST:PORT/mcp)")
    m.add_argument("--host", default="127.0.0.1", help="HTTP address (default 127.0.0.1: this machine only)")
    m.add_argument("--port", type=int, default=8000, help="HTTP port (default 8000)")
    m.add_argument(
        "--token", default=None, help="require 'Authorization: Bearer TOKEN' over HTTP (default: $UNISON_MCP_TOKEN)"
    )

    sub.add_parser("schema", help="print the TaskSpec JSON schema")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code."""
    args = _build_parser().parse_args(argv)
    try:
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
    except BrokenPipeError:  # `unison plan ... | head`
        return EXIT_OK
    except KeyboardInterrupt:
        print("unison: interrupted", file=sys.stderr)
        return 130
    return EXIT_USAGE


def _fail(message: str, code: int = EXIT_USAGE, command: str = "plan") -> int:
    print(f"unison {command}: error: {message}", file=sys.stderr)
    return code


def _plan(args: argparse.Namespace) -> int:
    if args.jsonl or args.out:
        if args.text is not None or args.attach:
            return _fail("batch mode (--jsonl/--out) takes no request text and no --attach")
        if not (args.jsonl and args.out):
            return _fail("batch mode needs both --jsonl IN and --out OUT")
        planner = _planner(args, "plan")
        if isinstance(planner, int):
            return planner
        return _plan_batch(Path(args.jsonl), Path(args.out), planner)
    if args.text is None or not args.text.strip():
        return _fail('give the request text: unison plan "what to do" [--attach FILE ...]')

    from unison_agent.media import MediaError
    from unison_agent.planning import plan_detailed
    from unison_agent.spec import TaskSpec

    planner = _planner(args, "plan")
    if isinstance(planner, int):
        return planner
    try:
        planned = plan_detailed(planner, args.text, args.attach)
    except MediaError as e:
        return _fail(str(e))
    except ValueError as e:  # a request the contract cannot express (e.g. 90 s of video)
        return _fail(_one_line(e), EXIT_FAILED)
    spec: TaskSpec = planned.spec
    _planner_notes(planned, "plan")
    if args.json:
        print(json.dumps(spec.to_json_dict(), ensure_ascii=False, indent=2))
    else:
        print(summary(spec))
    return EXIT_OK


def _planner(args: argparse.Namespace, command: str) -> Any:
    """The planner ``--planner`` (or $UNISON_PLANNER) names, or an exit code after saying what is wrong.
    The embedded planner is taken without importing the tools (``unison plan`` stays light)."""
    choice = (args.planner or os.environ.get("UNISON_PLANNER") or "embedded").strip()
    if choice == "embedded":
        from unison_agent.planning import EmbeddedPlanner

        return EmbeddedPlanner()
    from unison_agent.tools import ToolError
    from unison_agent.tools.planners import PlannerChoiceError, parse_choice, planner_for

    try:
        parsed = parse_choice(choice)
    except PlannerChoiceError as e:
        return _fail(str(e), command=command)
    if parsed.kind != "embedded" and not getattr(args, "quiet", False):
        print(f"unison {command}: loading planner {parsed}...", file=sys.stderr, flush=True)
    try:
        return planner_for(str(parsed))  # shared with the graph and the MCP server in this process
    except PlannerChoiceError as e:
        return _fail(str(e), command=command)
    except ToolError as e:
        return _fail(str(e), EXIT_FAILED, command)


def _planner_notes(planned: Any, command: str) -> None:
    """A model-backed planner's account on stderr: which planner made the plan, repairs, fallbacks."""
    if not planned.worth_telling:
        return
    head, *notes = planned.account()
    print(f"unison {command}: {head}", file=sys.stderr)
    for note in notes:
        print(f"  note: {note}", file=sys.stderr)


def _plan_batch(src: Path, dst: Path, planner: Any) -> int:
    from unison_agent.media import MediaError
    from unison_agent.planning import plan_detailed

    try:
        lines = src.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as e:
        return _fail(f"{src}: cannot read ({e.__class__.__name__}: {e})")
    if dst.parent and not dst.parent.exists():
        return _fail(f"{dst}: folder {dst.parent} does not exist")
    rows: list[str] = []
    errors = fallbacks = 0
    t0 = time.perf_counter()
    total = sum(1 for line in lines if line.strip())
    done = 0
    uses_model = planner.name != "embedded"
    show_progress = sys.stderr.isatty() and (total > 200 or uses_model)
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        done += 1
        row: dict[str, Any]
        try:
            req = json.loads(line)
            if not isinstance(req, dict):
                raise ValueError("a request line must be a JSON object")
            rid = req.get("id", f"line {n}")
            text, atts = req.get("text"), req.get("attachments", [])
            if not isinstance(text, str) or not isinstance(atts, list) or not all(isinstance(a, str) for a in atts):
                raise ValueError('expected {"id": ..., "text": "...", "attachments": ["path", ...]}')
        except ValueError as e:  # json.JSONDecodeError is a ValueError
            errors += 1
            rows.append(json.dumps({"id": f"line {n}", "error": {"type": "bad_request", "message": _one_line(e)}}))
            continue
        try:
            planned = plan_detailed(planner, text, atts)
            row = {"id": rid, "spec": planned.spec.to_json_dict()}
            if uses_model:
                row |= {"planner": planned.planner, "fallback": planned.fallback, "notes": list(planned.notes)}
                fallbacks += planned.fallback
        except MediaError as e:
            errors += 1
            row = {"id": rid, "error": {"type": "bad_attachment", "message": str(e)}}
        except ValueError as e:
            errors += 1
            row = {"id": rid, "error": {"type": "unplannable", "message": _one_line(e)}}
        rows.append(json.dumps(row, ensure_ascii=False))
        if show_progress and (uses_model or done % 100 == 0):
            print(f"\rplanned {done}/{total}", end="", file=sys.stderr, flush=True)
    # Written whole or not at all: a reader never sees half a file.
    fd, tmp = tempfile.mkstemp(prefix=f".{dst.name}.", dir=str(dst.parent or "."))
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write("".join(r + "\n" for r in rows))
        os.replace(tmp, dst)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    dt = time.perf_counter() - t0
    if show_progress:
        print(file=sys.stderr)
    fell_back = f", {fallbacks} fell back to the embedded planner" if uses_model else ""
    print(
        f"planned {done} requests with {planner.name} ({errors} errors{fell_back}) in {dt:.2f} s -> {dst}",
        file=sys.stderr,
    )
    return EXIT_OK


def _run(args: argparse.Namespace) -> int:
    if not args.text.strip():
        return _fail('give the request text: unison run "what to do" [--attach FILE ...]', command="run")

    from unison_agent.media import MediaError
    from unison_agent.planning import plan_detailed
    from unison_agent.tools import ModelPool, ProfileError, RunCancelled, ToolError, load_profile, run

    try:
        profile = load_profile(args.profile)
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
    except ValueError as e:
        return _fail(_one_line(e), EXIT_FAILED, command="run")
    if not spec.ready:
        need = ", ".join(r.value for r in spec.missing)
        return _fail(
            f"{spec.task.value} needs a {need} that was not attached; attach it with --attach FILE", EXIT_FAILED, "run"
        )
    progress = None if args.quiet else _ProgressLine(sys.stderr)
    try:
        result = run(spec, profile=profile, pool=ModelPool(), out_dir=args.out, on_progress=progress)
    except KeyboardInterrupt:
        if progress:
            progress.close()
        print("unison run: cancelled; nothing was written", file=sys.stderr)
        return 130
    except RunCancelled as e:
        return _fail(f"{e}; nothing was written", 130, "run")
    except MediaError as e:
        return _fail(str(e), command="run")
    except ToolError as e:
        if progress:
            progress.close()
        return _fail(str(e), EXIT_FAILED, "run")
    if progress:
        progress.close()
    if args.json:
        print(json.dumps(result.to_json_dict(), ensure_ascii=False, indent=2))
        return EXIT_OK
    print(summary(result.spec))
    for note in result.notes:
        print(f"note      {note}")
    if result.text is not None:
        print(f"answer    {result.text}")
    for o in result.outputs:
        what = f"{o.width}x{o.height}" + (f", {o.num_frames} frames at {o.fps} fps" if o.fps else "")
        print(f"wrote     {o.path}  ({o.media.value} {what}, seed {o.seed})")
    return EXIT_OK


class _ProgressLine:
    """A one-line progress bar on a terminal; on a pipe, one line per stage (logs stay readable)."""

    def __init__(self, stream: Any) -> None:
        self.stream = stream
        self.tty = bool(getattr(stream, "isatty", lambda: False)())
        self.t0 = time.perf_counter()
        self.last_stage: tuple[str, int] = ("", 0)
        self.open = False

    def __call__(self, event: Any) -> None:
        label = event.stage + (f" {event.output}/{event.outputs}" if event.outputs > 1 else "")
        if event.message and event.done == 0:
            label += f" ({event.message})"
        if self.tty:
            width = 24
            filled = int(width * event.done / max(event.total, 1))
            bar = "#" * filled + "." * (width - filled)
            elapsed = time.perf_counter() - self.t0
            self.stream.write(f"\r{label[:60]:<60} [{bar}] {event.done}/{event.total} {elapsed:6.1f}s")
            self.stream.flush()
            self.open = True
        elif (event.stage, event.output) != self.last_stage:
            self.stream.write(f"{label}...\n")
            self.stream.flush()
        self.last_stage = (event.stage, event.output)

    def close(self) -> None:
        if self.open:
            self.stream.write("\n")
            self.stream.flush()
            self.open = False


def _session(args: argparse.Namespace) -> int:
    from unison_agent.sessions import ArtifactStore, StoreError

    workspace = args.workspace or os.environ.get("UNISON_WORKSPACE") or "unison_workspace"
    if args.session_command == "run":
        return _session_run(args, workspace)
    store = ArtifactStore(workspace)
    try:
        if args.session_command == "list":
            sessions = store.sessions()
            if args.json:
                print(json.dumps([info.model_dump() for info in sessions], indent=2))
            for info in [] if args.json else sessions:
                when = time.strftime("%Y-%m-%d %H:%M", time.localtime(info.created))
                print(f"{info.id}  {when}  {info.steps:>3} steps  {info.title}")
            return EXIT_OK
        if args.session_command == "undo":
            undone = store.undo(args.id)
            print(f"undid: {undone.request}" if undone else "nothing to undo")
            return EXIT_OK
        info = store.session(args.id)
        steps = store.history(args.id)
        if args.json:
            data = {"session": info.model_dump(), "steps": [s.model_dump() for s in steps]}
            data["artifacts"] = [a.model_dump(mode="json") for a in store.artifacts(args.id)]
            print(json.dumps(data, indent=2, ensure_ascii=False))
            return EXIT_OK
        print(f"session {info.id}: {info.title}")
        for step in steps:
            made = ", ".join(f"@{i}" for i in step.outputs) or (step.text or "")[:60]
            used = ", ".join(f"@{i}" for i in step.inputs)
            print(f"  {step.id:>3}. {step.request}" + (f"  [from {used}]" if used else "") + f"  -> {made}")
        return EXIT_OK
    except StoreError as e:
        return _fail(str(e), command="session")


def _session_run(args: argparse.Namespace, workspace: str) -> int:
    try:
        from unison_agent.graphs.scripted import ScriptError, run_script
    except ImportError as e:  # the graph extra (langgraph, pyyaml) is not installed
        return _fail(f"sessions need {e.name}: pip install 'unison-agent[gen,graph]'", command="session run")
    from unison_agent.tools import ProfileError, load_profile

    try:
        load_profile(args.profile)  # fail before any work
    except ProfileError as e:
        return _fail(str(e), command="session run")
    planner = _planner(args, "session run")
    if isinstance(planner, int):
        return planner

    def on_step(n: int, result: dict[str, Any]) -> None:
        if args.json:
            return
        if result.get("undo"):
            print(f"{n}. undo" + (f": {result['undone']}" if result.get("undone") else ": nothing to undo"))
            return
        task = (result.get("spec") or {}).get("task", "?")
        print(f"{n}. {result['request']}  ({task})")
        if result.get("error"):
            print(f"   error: {result['error']}")
        if result.get("text") is not None:
            print(f"   answer: {result['text']}")
        for o in result["outputs"]:
            print(f"   @{o['id']}  {o['media']} {o['width']}x{o['height']}, {o['num_frames']} frame(s)  {o['path']}")
        sys.stdout.flush()

    def on_progress(event: dict[str, Any]) -> None:
        if not args.quiet and (event["stage"] == "denoise" or event["done"] == 0):
            print(f"   {event['stage']} {event['done']}/{event['total']}", file=sys.stderr, flush=True)

    try:
        report = run_script(
            args.script,
            workspace=workspace,
            profile=args.profile,
            planner=planner.name,
            session=args.session,
            on_step=on_step,
            on_progress=on_progress,
        )
    except ScriptError as e:
        return _fail(str(e), command="session run")
    except KeyboardInterrupt:
        print("unison session run: interrupted; finished steps are kept (resume with --session)", file=sys.stderr)
        return 130
    if args.json:
        print(json.dumps(report, indent=2, ensure_ascii=False))
    else:
        print(f"session {report['session']}")
    failed = any(step.get("error") for step in report["steps"])
    return EXIT_FAILED if failed else EXIT_OK


def _mcp(args: argparse.Namespace) -> int:
    try:
        from unison_agent.mcp_server.http import serve_http
        from unison_agent.mcp_server.server import create_server
    except ImportError as e:
        return _fail(f"the MCP server needs {e.name}: pip install 'unison-agent[gen,graph,mcp]'", command="mcp")
    from unison_agent.tools import ProfileError, load_profile

    try:
        load_profile(args.profile)
    except ProfileError as e:
        return _fail(str(e), command="mcp")
    from unison_agent.tools.planners import PlannerChoiceError, parse_choice

    try:  # the form is checked now; a model planner loads once the server runs (hosts do not wait for it)
        planner = parse_choice(args.planner or os.environ.get("UNISON_PLANNER") or "embedded")
    except PlannerChoiceError as e:
        return _fail(str(e), command="mcp")
    workspace = args.workspace or os.environ.get("UNISON_WORKSPACE") or "unison_workspace"
    server = create_server(
        workspace=workspace,
        profile=args.profile,
        planner=str(planner),
        roots=args.root,
        host=args.host,
        port=args.port,
    )
    if args.http:
        token = args.token or os.environ.get("UNISON_MCP_TOKEN")
        if args.host not in ("127.0.0.1", "localhost", "::1") and not token:
            return _fail(
                f"refusing to serve on {args.host} without --token (anyone on the network could use it)", command="mcp"
            )
        serve_http(server, host=args.host, port=args.port, token=token)
    else:
        server.run("stdio")
    return EXIT_OK


def _one_line(e: BaseException) -> str:
    from pydantic import ValidationError

    from unison_agent.spec import explain

    text = explain(e) if isinstance(e, ValidationError) else str(e)
    return "; ".join(part.strip() for part in text.splitlines() if part.strip())


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
