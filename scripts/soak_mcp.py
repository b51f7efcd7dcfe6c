"""Soak the MCP server over stdio: mixed requests on the tiny profile while another client reads what it made.

Not part of the test suite: a check to run by hand (a few minutes on 2 cores).

    python scripts/soak_mcp.py                  # 200 requests
    python scripts/soak_mcp.py --kills 3        # and kill -9 the server 3 times mid-generation, restarting it

One client sends the requests to ``unison mcp --profile tiny`` (questions, images, short videos, edits and
animations of earlier outputs by @id, jobs, and bad inputs that must be refused). Beside it a second server on
the same workspace serves ``artifact://<id>`` reads of every output reported so far, and this process opens the
workspace's store and lists its sessions, in a loop. At the end it prints requests sent / ok / refused / failed,
lost artifacts (an output id reported to the client that is not in the store with its file), crashes (a server
that exited without being killed), orphan files (in ``files/`` with no row) and ``.run-*`` folders left after a
final open of the store, and SQLite's ``PRAGMA integrity_check``. Exits 1 when any of these is not clean.
"""

from __future__ import annotations

import argparse
import base64
import os
import random
import signal
import sqlite3
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import anyio
from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client
from PIL import Image
from pydantic import AnyUrl

from unison_agent.sessions import ArtifactStore, StoreError
from unison_agent.spec import MAX_REQUEST_CHARS

REQUEST_TIMEOUT_S = 300  # one tiny request takes seconds; this long means the server hangs
SUBJECTS = ["a red fox", "a lighthouse", "a cabin in the woods", "waves on a beach", "a city at night", "a cat"]


@dataclass
class Request:
    kind: str
    tool: str
    arguments: dict[str, Any]
    refuse: bool = False  # a bad input: the server must answer with a one-line error and keep serving
    generates: bool = False  # denoises (a moment to kill the server at)


@dataclass
class Tally:
    sent: int = 0
    ok: int = 0
    refused: int = 0
    failed: list[str] = field(default_factory=list)
    killed: int = 0
    crashes: list[str] = field(default_factory=list)
    reported: dict[str, str] = field(default_factory=dict)  # output id -> media, as the client was told
    images: list[str] = field(default_factory=list)
    reads: int = 0
    read_errors: list[str] = field(default_factory=list)
    lists: int = 0


class Soak:
    def __init__(self, args: argparse.Namespace, folder: Path) -> None:
        self.args = args
        self.rng = random.Random(args.seed)
        self.folder = folder
        self.ws = folder / "ws"
        self.logs = folder / "logs"
        self.logs.mkdir(parents=True, exist_ok=True)
        self.t = Tally()
        self.done = anyio.Event()
        self.kill_at = set(self.rng.sample(range(10, args.requests - 5), args.kills)) if args.kills else set()
        self.primary_pid: int | None = None
        self.killed_now = False
        self._attachments()

    # ------------------------------------------------------------------------------------------- inputs
    def _attachments(self) -> None:
        """A photo, a short clip and a file that only pretends to be a PNG, in the servers' working folder."""
        import av
        import numpy as np

        rng = np.random.default_rng(0)
        pixels = rng.integers(0, 255, (64, 64, 3), dtype=np.uint8)
        self.photo = self.folder / "photo.png"
        Image.fromarray(pixels).save(self.photo)
        self.clip = self.folder / "clip.mp4"
        with av.open(str(self.clip), "w") as out:
            stream = out.add_stream("libx264", rate=8)
            stream.width, stream.height, stream.pix_fmt = 64, 64, "yuv420p"
            for i in range(8):
                frame = np.roll(pixels, 4 * i, axis=1)
                out.mux(stream.encode(av.VideoFrame.from_ndarray(frame, format="rgb24")))
            out.mux(stream.encode())
        self.broken = self.folder / "broken.png"
        self.broken.write_text("not a picture")

    def next_request(self, n: int) -> Request:
        subject = self.rng.choice(SUBJECTS)
        frames = self.rng.choice([5, 9])
        roll = self.rng.random()
        if n in self.kill_at or roll < 0.28:
            return Request("image", "run", {"request": f"{subject}, 64x64, 2 steps"}, generates=True)
        if roll < 0.42:
            text = f"a video of {subject}, 64x64, {frames} frames, 2 steps"
            return Request("video", "run", {"request": text}, generates=True)
        if roll < 0.56 and self.t.images:
            aid = self.rng.choice(self.t.images)
            if self.rng.random() < 0.6:
                text = f"make @{aid} {self.rng.choice(['brighter', 'at night', 'in winter'])}, 64x64, 2 steps"
                return Request("edit", "run", {"request": text}, generates=True)
            text = f"animate @{aid}, 64x64, {frames} frames, 2 steps"
            return Request("animate", "run", {"request": text}, generates=True)
        if roll < 0.70:
            questions: list[tuple[str, list[Path]]] = [
                ("what is in this picture?", [self.photo]),
                ("what happens in this video?", [self.clip]),
                ("what is a haiku?", []),
            ]
            question, attached = self.rng.choice(questions)
            return Request("question", "run", {"request": question, "attachments": [str(p) for p in attached]})
        if roll < 0.82:
            text = f"a video of {subject}, 64x64, {frames} frames, 2 steps"
            return Request("job", "start_job", {"request": text})
        bad: list[tuple[str, dict[str, Any]]] = [
            ("run", {"request": "what is in it?", "attachments": ["/etc/hostname"]}),  # outside the roots
            ("run", {"request": "make it brighter", "attachments": [str(self.folder / "nope.png")]}),
            ("run", {"request": "make it brighter", "attachments": [str(self.broken)]}),
            ("run", {"request": "make it brighter", "attachments": ["@zzzzzz"]}),
            ("run", {"request": ""}),
            ("run", {"request": "a cat " * (MAX_REQUEST_CHARS // 5)}),
            ("run", {"request": "edit my photo with the mask"}),  # the mask is missing
            ("job_status", {"job": "nope"}),
        ]
        tool, arguments = self.rng.choice(bad)
        return Request("bad", tool, arguments, refuse=True)

    # ------------------------------------------------------------------------------------------- servers
    def params(self, role: str) -> StdioServerParameters:
        cmd = [sys.executable, "-m", "unison_agent.cli", "mcp", "--profile", "tiny", "--workspace", str(self.ws)]
        env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
        # `exec` keeps the shell's pid, so the pid file names the server itself (what kill -9 is sent to).
        wrapper = ["-c", 'echo $$ > "$0"; exec "$@"', str(self.logs / f"{role}.pid"), *cmd]
        return StdioServerParameters(command="/bin/sh", args=wrapper, env=env, cwd=str(self.folder))

    def pid(self, role: str) -> int:
        return int((self.logs / f"{role}.pid").read_text())

    # ------------------------------------------------------------------------------------------- the client
    async def send_all(self) -> None:
        n = 0
        starts = 0
        while n < self.args.requests:
            starts += 1
            self.killed_now = False
            log_path = self.logs / f"primary-{starts}.log"
            try:
                with log_path.open("w") as log:
                    async with stdio_client(self.params("primary"), errlog=log) as (r, w), ClientSession(r, w) as c:
                        await c.initialize()
                        while n < self.args.requests:
                            request = self.next_request(n)
                            n += 1
                            self.t.sent += 1
                            await self.one(c, request, n)
                            if n % 10 == 0:
                                self.progress(n)
            except Exception as e:  # a killed or crashed server ends the session any way it can
                if self.killed_now:
                    self.t.killed += 1
                    print(f"  killed the server (kill -9) during request {n}; restarting", flush=True)
                else:
                    self.t.crashes.append(f"primary server, request {n}: {_first_line(e)} (see {log_path})")
                    print(f"  CRASH: {self.t.crashes[-1]}; restarting", flush=True)
        self.done.set()

    async def one(self, c: ClientSession, request: Request, n: int) -> None:
        kill_here = n - 1 in self.kill_at and request.generates
        at_step = self.rng.choice([1, 2])

        async def on_progress(done: float, total: float | None, message: str | None) -> None:
            if kill_here and done >= at_step and not self.killed_now:
                self.killed_now = True
                os.kill(self.pid("primary"), signal.SIGKILL)

        with anyio.fail_after(REQUEST_TIMEOUT_S):
            result = await c.call_tool(request.tool, request.arguments, progress_callback=on_progress)
            if request.kind == "job" and not result.isError:
                result = await self.finish_job(c, (result.structuredContent or {})["job"])
        if self.killed_now:  # the answer raced the kill: the next call finds the server gone
            raise ConnectionError("killed")
        text = " ".join(getattr(part, "text", "") for part in result.content).strip()
        if request.refuse:
            if result.isError and text and "\n" not in text and "Traceback" not in text:
                self.t.refused += 1
            else:
                self.t.failed.append(f"{n}. {request.arguments}: not refused cleanly: {text[:200]!r}")
            return
        if result.isError:
            self.t.failed.append(f"{n}. {request.kind} {str(request.arguments)[:120]}: {text[:200]}")
            return
        self.t.ok += 1
        for out in (result.structuredContent or {}).get("outputs", []):
            self.t.reported[out["id"]] = out["media"]
            if out["media"] == "image":
                self.t.images.append(out["id"])

    async def finish_job(self, c: ClientSession, job: str) -> Any:
        while True:
            status = await c.call_tool("job_status", {"job": job})
            if status.isError:
                return status
            if (status.structuredContent or {}).get("status") in ("done", "failed", "cancelled"):
                return await c.call_tool("job_result", {"job": job})
            await anyio.sleep(0.2)

    def progress(self, n: int) -> None:
        t = self.t
        print(
            f"  {n:>4}/{self.args.requests}  ok {t.ok}  refused {t.refused}  failed {len(t.failed)}  "
            f"killed {t.killed}  crashes {len(t.crashes)}  reads {t.reads}  lists {t.lists}",
            flush=True,
        )

    # ------------------------------------------------------------------------------------------- the reader
    async def read_all(self) -> None:
        starts = 0
        while not self.done.is_set() and starts < 5:  # a reader that keeps crashing is reported, not looped on
            starts += 1
            log_path = self.logs / f"reader-{starts}.log"
            try:
                with log_path.open("w") as log:
                    async with stdio_client(self.params("reader"), errlog=log) as (r, w), ClientSession(r, w) as c:
                        await c.initialize()
                        while not self.done.is_set():
                            await self.read_once(c)
                            await anyio.sleep(0.1)
            except Exception as e:
                self.t.crashes.append(f"reader server: {_first_line(e)} (see {log_path})")
                print(f"  CRASH: {self.t.crashes[-1]}; restarting", flush=True)

    async def read_once(self, c: ClientSession) -> None:
        if self.t.reported:
            aid = self.rng.choice(list(self.t.reported))
            try:
                with anyio.fail_after(REQUEST_TIMEOUT_S):
                    read = await c.read_resource(AnyUrl(f"artifact://{aid}"))
                blob = getattr(read.contents[0], "blob", None)
                if not blob or not base64.b64decode(blob):
                    self.t.read_errors.append(f"artifact://{aid}: empty")
                self.t.reads += 1
            except Exception as e:  # McpError: the server answered with an error
                self.t.read_errors.append(f"artifact://{aid}: {_first_line(e)}")
        # This process too opens the workspace's store, as `unison session list` does.
        await anyio.to_thread.run_sync(lambda: ArtifactStore(self.ws).sessions())
        self.t.lists += 1

    # ------------------------------------------------------------------------------------------- the checks
    def check(self, seconds: float) -> bool:
        t = self.t
        store = ArtifactStore(self.ws)  # the final open: sweeps what the killed runs left
        lost = []
        for aid in t.reported:
            try:
                if not Path(store.get(aid).path).is_file():
                    lost.append(f"@{aid}: row without its file")
            except StoreError:
                lost.append(f"@{aid}: no row")
        with sqlite3.connect(self.ws / "unison.db") as db:
            known = {row[0] for row in db.execute("SELECT id FROM artifacts")}
            integrity = db.execute("PRAGMA integrity_check").fetchone()[0]
        orphans = [p.name for p in store.files.iterdir() if p.name.split(".", 1)[0] not in known]
        scratch = [p.name for p in self.ws.glob(".run-*")]
        rows = [
            ("requests sent", t.sent, True),
            ("ok", t.ok, True),
            ("refused (bad input, one-line error)", t.refused, True),
            ("failed", len(t.failed), not t.failed),
            ("killed by the soak (kill -9)", t.killed, t.killed == self.args.kills),
            ("crashes (exits other than the kills)", len(t.crashes), not t.crashes),
            ("outputs reported to the client", len(t.reported), True),
            ("lost artifacts", len(lost), not lost),
            ("artifact reads by the second client", t.reads, t.reads > 0),
            ("read errors", len(t.read_errors), not t.read_errors),
            ("store opens + session lists", t.lists, t.lists > 0),
            ("orphan files in files/", len(orphans), not orphans),
            (".run-* left after a final open", len(scratch), not scratch),
            ("PRAGMA integrity_check", integrity, integrity == "ok"),
            ("seconds", round(seconds), True),
        ]
        print()
        for label, value, good in rows:
            print(f"{label:<40} {value!s:>8}  {'' if good else 'FAIL'}")
        for title, items in (
            ("failed", t.failed),
            ("crashes", t.crashes),
            ("lost", lost),
            ("read errors", t.read_errors),
            ("orphans", orphans),
            (".run-*", scratch),
        ):
            for item in items[:10]:
                print(f"{title}: {item}")
        return all(good for _, _, good in rows)


def _first_line(e: BaseException) -> str:
    group = getattr(e, "exceptions", None)  # an ExceptionGroup from the client's task group
    if group:
        return "; ".join(_first_line(x) for x in group)
    return f"{type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}"


async def _main(soak: Soak) -> None:
    async with anyio.create_task_group() as tg:
        tg.start_soon(soak.read_all)
        await soak.send_all()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--kills", type=int, default=0, help="kill -9 the server this many times mid-generation")
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--folder", help="where the workspace, attachments and server logs go (default: a temp dir)")
    args = parser.parse_args(argv)
    if args.requests < 20:
        parser.error("--requests: at least 20")
    folder = Path(args.folder or tempfile.mkdtemp(prefix="unison-soak-")).resolve()
    soak = Soak(args, folder)
    print(f"soak: {args.requests} requests, {args.kills} kills, seed {args.seed}, in {folder}", flush=True)
    t0 = time.perf_counter()
    anyio.run(_main, soak)
    return 0 if soak.check(time.perf_counter() - t0) else 1


if __name__ == "__main__":
    sys.exit(main())
