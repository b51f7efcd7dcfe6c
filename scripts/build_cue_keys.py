"""Rebuild ``unison_agent/planning/data/cue_keys.json``: for each lexicon pattern, strings one of which every
match contains (``patterns.required_strings``). The planner tries a pattern only on text that holds one of
them, and compiles it only then; ``tests/planning/test_pattern_keys.py`` checks that the file is current.

    python scripts/build_cue_keys.py       # after changing a lexicon (make test says so when it is stale)
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from unison_agent.planning.lexicon import CUE_KEYS_FILE, load  # noqa: E402
from unison_agent.planning.patterns import required_strings  # noqa: E402


def cue_keys_table() -> dict[str, list[str]]:
    """``{pattern: sorted keys}`` for every pattern of every lexicon that has keys (sorted by pattern)."""
    table: dict[str, list[str]] = {}
    for lexicon in load():
        for entries in lexicon.cues.values():
            for cue in entries:
                found = required_strings(cue.pattern)
                if found:
                    table[cue.pattern] = sorted(found)
    return dict(sorted(table.items()))


def main() -> int:
    table = cue_keys_table()
    total = sum(len(entries) for lexicon in load() for entries in lexicon.cues.values())
    CUE_KEYS_FILE.write_text(json.dumps(table, ensure_ascii=False, indent=0) + "\n", encoding="utf-8")
    print(f"wrote {CUE_KEYS_FILE.relative_to(ROOT)}: keys for {len(table)} of {total} patterns")
    return 0


if __name__ == "__main__":
    sys.exit(main())
