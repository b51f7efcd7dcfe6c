"""`make bench`: how fast and how right the planners are. Prints figures; asserts nothing.

- accuracy and ms/request of the shared scorer on the dev set and on our held-out sets (batch command line,
  start-up excluded, attachments probed from real files), for each ``--planner`` (default: embedded; model
  planners take seconds a request, e.g. ``--planner hybrid:transformers:smollm2 --planner
  llm:transformers:smollm2 --sets dev`` is about half an hour on 2 CPU cores);
- wall time of `unison plan "a red fox in the snow, 16:9" --json` (start-up included), best and median of 7;
- in-process time of plan() on text-only requests (no probing), per request;
- the decision model on writers it never saw: a model trained on the corpus without the writers in
  ``HELD_OUT_WRITERS`` (``scripts/train_planner.py --holdout``, about two minutes) plans their requests, and every
  key of every case is checked; accuracy per language and per task, beside the rules alone on the same cases.
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
# A second writer of every non-English language, and one English writer: the writer-held-out split.
HELD_OUT_WRITERS = ("zed", "mira")


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
    ap.add_argument("--no-holdout", action="store_true", help="skip the writer-held-out training and figures")
    args = ap.parse_args()
    unison = str(Path(sys.executable).with_name("unison"))
    shared = Path(args.shared)

    sets = [shared / "planning" / "dev.jsonl"]
    if args.sets == "all":
        sets += sorted((ROOT / "tests" / "planning").glob("heldout*.jsonl"))
        sets += sorted((ROOT / "tests" / "planning").glob("fresh*.jsonl"))
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
    for _ in range(15):  # a shared machine varies from run to run: the best is the code, the median the machine
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
    if not args.no_holdout:
        writer_held_out()
    return 0


def writer_held_out() -> None:
    """Train without ``HELD_OUT_WRITERS``, plan their cases end to end, print accuracy per language and task."""
    from unison_agent.planning import EmbeddedPlanner
    from unison_agent.planning.cases import Tally, plan_cases, read_cases
    from unison_agent.planning.learned import DecisionModel

    corpus = sorted((ROOT / "data" / "planning" / "corpus").glob("*.jsonl"))
    cases = [c for c in read_cases(corpus) if c.writer in HELD_OUT_WRITERS]
    print(f"\nwriter-held-out: training without {', '.join(HELD_OUT_WRITERS)} ({len(cases)} cases)...", flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run(
            [sys.executable, str(ROOT / "scripts" / "train_planner.py"), "--holdout", *HELD_OUT_WRITERS, "--out", tmp],
            check=True,
            capture_output=True,
        )
        model = DecisionModel.load(tmp)
    tallies = {}
    for name, planner in (("model", EmbeddedPlanner(model=model)), ("rules", EmbeddedPlanner(decision="rules"))):
        tally = Tally()
        for case, spec, error in plan_cases(cases, planner.plan):
            tally.add(case, spec, error)
        tallies[name] = tally
    m, r = tallies["model"], tallies["rules"]
    print(
        f"  all keys right: model {m.accuracy:.3f}, rules alone {r.accuracy:.3f}; "
        f"task: model {m.key_accuracy('task'):.3f}, rules {r.key_accuracy('task'):.3f}"
    )
    for title, mt, rt in (("language", m.by_lang, r.by_lang), ("task", m.by_task, r.by_task)):
        print(f"  by {title} (cases right, model / rules alone):")
        for key in sorted(mt):
            (mr, n), (rr, _) = mt[key], rt[key]
            print(f"    {key:<20} {mr / n:.3f} / {rr / n:.3f}  ({n})")


if __name__ == "__main__":
    sys.exit(main())
