"""``errors.one_line``: the one helper that turns a message (or an error) into one line for notes and front doors."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import unison_agent
from unison_agent.errors import PlanningError, one_line


def test_every_run_of_whitespace_becomes_one_space() -> None:
    assert one_line("  the model\nfailed:\t\r\n  try again  ") == "the model failed: try again"
    assert one_line("") == ""


def test_an_error_gives_its_message_on_one_line() -> None:
    assert one_line(PlanningError("two source videos\n  for one edit")) == "two source videos for one edit"
    assert one_line(ValueError()) == ""


def test_a_limit_cuts_the_line_with_an_ellipsis_and_leaves_shorter_lines_whole() -> None:
    assert one_line("a red fox in the snow", 10) == "a red fox…"
    assert len(one_line("x" * 500, 200)) == 200
    assert one_line("a red\nfox", 9) == "a red fox"  # the limit applies to the collapsed line
    assert one_line("a red fox", 1) == "…"


@pytest.mark.parametrize("limit", [0, -3])
def test_a_limit_below_one_is_refused(limit: int) -> None:
    with pytest.raises(ValueError, match=rf"limit must be >= 1 \(or None for no limit\), got {limit}"):
        one_line("text", limit)


@pytest.mark.slow
def test_no_module_writes_its_own_one_line_helper() -> None:
    package = Path(unison_agent.__file__).parent
    own = [
        f"{path.relative_to(package)}:{node.name}"
        for path in sorted(package.rglob("*.py"))
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(node, ast.FunctionDef) and node.name in ("_short", "_one_line")
    ]
    assert own == []
