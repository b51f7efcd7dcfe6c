"""The table of settings that ``extract_meta`` walks: each row names a real field and range, every kind of rule
is read by some row, and a number setting keeps the distinctions its row states (a fraction refused, skipped or
kept; a value in range below the row's least left as content)."""

from __future__ import annotations

from dataclasses import fields

import pytest

from unison_agent.planning import meta
from unison_agent.planning.meta import RULES, Meta, extract_meta
from unison_agent.planning.text import normalise
from unison_agent.spec import LIMITS


def test_every_row_sets_a_field_of_meta_and_every_number_row_has_a_range() -> None:
    # A row's field is set with setattr: a misspelt one would add an attribute no one reads, not fail.
    names = {f.name for f in fields(Meta)}
    for setting in meta._SETTINGS:
        assert setting.field in names, setting
        if setting.read is meta._read_number:
            assert setting.limit in LIMITS, setting


def test_every_kind_of_rule_is_read_by_a_row_or_by_the_negative_prompt_reader() -> None:
    read = {setting.kind for setting in meta._SETTINGS} | {"negative"}
    assert {rule.kind for rule in RULES} <= read


@pytest.mark.parametrize(
    ("text", "field", "value", "refused"),
    [
        ("a cat, 12.5 fps", "fps", 12, []),  # a rate may have a fraction: rounded
        ("a cat, seed 4.5", "seed", None, ["seed 4.5: seed must be a whole number 0..4294967295"]),
        ("a cat, 49.5 frames", "frames", None, []),  # not a count of frames: content
        ("a cat, 3 frames", "frames", None, []),  # too few for a clip: content
        ("a cat, 1 step", "steps", None, []),
        ("a cat, steps 1000", "steps", None, ["steps 1000: steps must be 1..500"]),
        ("a temple with 1000 steps", "steps", None, []),  # a staircase
        ("a cat, guidance 7.5", "guidance", 7.5, []),
        ("a cat, 4 variations, n=1", "num_outputs", 4, []),  # one, the default, leaves the count read before
    ],
)
def test_a_number_setting_reads_as_its_row_says(text: str, field: str, value: float | None, refused: list[str]) -> None:
    found = extract_meta(normalise(text))
    assert getattr(found, field) == value
    assert found.out_of_range == refused
