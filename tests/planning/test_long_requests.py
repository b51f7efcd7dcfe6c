"""Long requests: the planner's work grows with the length of the text, never with its square; a text past
``MAX_REQUEST_CHARS`` is refused at once, by every planner."""

from __future__ import annotations

import os
import random
import string
from collections.abc import Sequence

import pytest

from unison_agent.planning import EmbeddedPlanner, Planned, PlanningError, plan, plan_detailed, text
from unison_agent.spec import MAX_REQUEST_CHARS, Task, TaskSpec


def _word(length: int, seed: int) -> str:
    rng = random.Random(seed)
    return "".join(rng.choice(string.ascii_lowercase) for _ in range(length))


@pytest.fixture
def deletion_sizes(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The length of every word whose one-letter deletions typo repair builds, from here on."""
    sizes: list[int] = []
    build = text._deletes

    def spy(word: str) -> set[str]:
        sizes.append(len(word))
        return build(word)

    monkeypatch.setattr(text, "_deletes", spy)
    text._repair.cache_clear()
    yield sizes
    text._repair.cache_clear()


def test_typo_repair_never_builds_the_deletions_of_a_word_longer_than_any_cue_word(deletion_sizes) -> None:
    spec = plan(f"a video of {_word(9000, 1)} at night")
    assert spec.task is Task.TEXT_TO_VIDEO
    longest = max(len(w) for w in text.VOCABULARY)
    assert deletion_sizes and max(deletion_sizes) <= longest + 1


def test_a_typo_of_a_cue_word_is_still_repaired(deletion_sizes) -> None:
    assert text.normalise("genrate a vdeo of a fox").text == "generate a video of a fox"
    assert text.normalise("interpolaet between them").text.startswith("interpolate")
    assert deletion_sizes  # the bound leaves ordinary words to the repair


def test_two_hundred_words_of_forty_letters_plan(deletion_sizes) -> None:
    words = " ".join(_word(40, seed) for seed in range(200))
    spec = plan(f"a picture of {words}")
    assert spec.task is Task.TEXT_TO_IMAGE
    assert len(spec.prompt) > 200 * 40
    assert max(deletion_sizes, default=0) <= max(len(w) for w in text.VOCABULARY) + 1


@pytest.mark.parametrize("unit", ["1", " ", "\n", "is ", "what ", "is it "])
def test_a_long_run_of_one_token_plans(unit: str) -> None:
    # Runs that made a pattern rescan the rest of the run from every position (seconds for one request).
    spec = plan(("a cat " + unit * MAX_REQUEST_CHARS)[:MAX_REQUEST_CHARS])
    assert isinstance(spec, TaskSpec)


def test_a_request_of_exactly_the_limit_is_planned() -> None:
    request = ("a red kite over a beach " * 1000)[:MAX_REQUEST_CHARS]
    assert plan(request).task is Task.TEXT_TO_IMAGE


def test_a_request_past_the_limit_is_refused_with_its_length_and_the_limit() -> None:
    request = "a" * (MAX_REQUEST_CHARS + 1)
    with pytest.raises(PlanningError, match=r"^the request is 10,001 characters; the limit is 10,000") as e:
        plan(request)
    assert "\n" not in str(e.value)


@pytest.mark.parametrize("entry", ["plan", "assess", "complete"])
def test_every_embedded_entry_point_refuses_a_request_past_the_limit(entry: str) -> None:
    planner = EmbeddedPlanner()
    request = "a cat " * (MAX_REQUEST_CHARS // 6 + 1)
    with pytest.raises(PlanningError, match="the limit is 10,000"):
        if entry == "complete":
            planner.complete(request, [], Task.TEXT_TO_IMAGE)
        else:
            getattr(planner, entry)(request)


class _CountingPlanner:
    """A planner of someone else's making: it only counts the calls that reach it."""

    name = "counting"

    def __init__(self) -> None:
        self.calls = 0

    def plan(self, text: str, attachments: Sequence[str | os.PathLike[str]] = ()) -> TaskSpec:
        self.calls += 1
        return TaskSpec(task=Task.TEXT_TO_IMAGE, prompt=text)


def test_plan_detailed_refuses_a_long_request_before_any_planner_sees_it() -> None:
    planner = _CountingPlanner()
    assert isinstance(plan_detailed(planner, "a cat"), Planned) and planner.calls == 1
    with pytest.raises(PlanningError, match="the request is 10,001 characters"):
        plan_detailed(planner, "x" * (MAX_REQUEST_CHARS + 1))
    assert planner.calls == 1
