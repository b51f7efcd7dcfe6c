"""`make bench`: how fast and how right the planners are. Prints figures; asserts nothing.

- accuracy and ms/request of the shared scorer on the dev set and on our held-out sets (batch command line,
  start-up excluded, attachments probed from real files), for each ``--planner`` (default: embedded; model
  planners take seconds a request, e.g. ``--planner hybrid:transformers:smollm2 --planner
  llm:transformers:smollm2 --sets dev`` is about half an hour on 2 CPU cores);
- wall time of `unison plan "a red fox in the snow, 16:9" --json` (start-up included), best and median of 7;
- in-process time of plan() on text-only requests (no probing), per request.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def scorer(shared: Path, cases: Path, unison: str, planner: str = "embedded") -> dict | None:
    score = shared / "planning" / "score.py"
    if not score.exists() or not cases.exists():
        return None
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "summary.json"
        subprocess.run(
            [
                sys.executable,
                str(score),
                "--cases",
                str(cases),
                "--cmd",
                f"{unison} plan --planner {planner} --jsonl {{requests}} --out {{specs}}",
                "--show",
                "0",
                "--json",
                str(out),
            ],
            check=True,
            capture_output=True,
        )
        return json.loads(out.read_text())


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--shared", default=str(ROOT.parent / "shared"), help="the team's shared folder")
    ap.add_argument(
        "--planner", action="append", default=None, help="a --planner choice to score; repeatable (default: embedded)"
    )
    ap.add_argument("--sets", choices=["all", "dev"], default="all", help="dev set only, or ours too (default: all)")
    args = ap.parse_args()
    unison = str(Path(sys.executable).with_name("unison"))
    shared = Path(args.shared)

    sets = [shared / "planning" / "dev.jsonl"]
    if args.sets == "all":
        sets += sorted((ROOT / "tests" / "planning").glob("heldout*.jsonl"))
    for planner in args.planner or ["embedded"]:
        print(f"planner {planner}: accuracy and speed (score.py, batch CLI, start-up excluded)")
        for cases in sets:
            result = scorer(shared, cases, unison, planner)
            if result is None:
                print(f"  {cases.name}: skipped (score.py or the set is missing)")
                continue
            print(
                f"  {cases.name:<16} cases {result['cases']:>4}  case accuracy {result['case_accuracy']:.3f}  "
                f"task accuracy {result['task_accuracy']:.3f}  {result['ms_per_request']:.2f} ms/request"
            )
    if args.planner and args.planner != ["embedded"]:
        return 0

    walls = []
    for _ in range(7):
        t0 = time.perf_counter()
        subprocess.run([unison, "plan", "a red fox in the snow, 16:9", "--json"], check=True, capture_output=True)
        walls.append(time.perf_counter() - t0)
    print(
        f'\n`unison plan "a red fox in the snow, 16:9" --json` wall: best {min(walls):.3f} s, '
        f"median {statistics.median(walls):.3f} s"
    )

    from unison_agent.planning import plan

    texts = (
        [
            json.loads(line)["text"]
            for line in (shared / "planning" / "dev.jsonl").read_text().splitlines()
            if line.strip() and not json.loads(line)["attachments"]
        ]
        if (shared / "planning").exists()
        else ["a red fox in the snow, 16:9", "make a 3 second vertical video of rain, seed 7"]
    )
    plan(texts[0])  # warm the regex caches
    t0 = time.perf_counter()
    rounds = 5
    for _ in range(rounds):
        for text in texts:
            plan(text)
    per = (time.perf_counter() - t0) / (rounds * len(texts)) * 1000
    print(f"in-process plan() on {len(texts)} text-only requests: {per:.2f} ms/request")
    return 0


if __name__ == "__main__":
    sys.exit(main())
