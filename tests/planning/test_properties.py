"""Property tests: no text and no file makes the planner crash, and every spec it returns validates."""

from __future__ import annotations

import re
import string
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from unison_agent.media import MediaError
from unison_agent.planning import PlanningError, plan
from unison_agent.spec import TaskSpec

WORDS = st.sampled_from(
    "a the this my video clip image photo mask pose depth canny sketch animate make turn into first last frame "
    "seconds fps frames seed steps guidance 16:9 9:16 720p 1080p vertical square portrait 1024x768 three 5 "
    "negative prompt: remove replace follow style of what is ? . , - : describe keep everything else "
    "variations 4 options twenty-one 0 1e9 99999x99999 2.5 ½ 视频 秒 ¿ attached".split()
)
TEXT = st.one_of(
    st.text(max_size=200),
    st.lists(WORDS, max_size=30).map(" ".join),
    st.text(alphabet=string.printable, max_size=120),
)


def _valid(spec: TaskSpec) -> None:
    assert TaskSpec.model_validate(spec.model_dump()) == spec
    for item in spec.inputs:
        assert item.role in spec.task.roles


@pytest.mark.slow
@settings(max_examples=400, deadline=None)
@given(TEXT)
def test_no_text_crashes_the_planner_and_every_spec_validates(text: str) -> None:
    try:
        spec = plan(text)
    except PlanningError as e:  # only the contract's own limits (a clip longer than 1025 frames, "0 fps": 1..60)
        assert "frames" in str(e) or re.search(r" must be (?:a whole number )?-?\d+\.\.\d+", str(e))
        return
    _valid(spec)


@pytest.mark.slow
@settings(
    max_examples=int(__import__("os").environ.get("UNISON_PROPERTY_EXAMPLES", 120)),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    text=TEXT,
    picks=st.lists(
        st.sampled_from(["photo", "mask", "pose", "depth", "edge", "scribble", "video", "depth_video"]), max_size=3
    ),
)
def test_no_combination_of_files_crashes_the_planner(media, text: str, picks: list[str]) -> None:
    files = []
    for i, pick in enumerate(picks):
        if pick.endswith("video"):
            look = "photo" if pick == "video" else pick.split("_")[0]
            files.append(media(f"v{i}.mp4", look, size=(96, 64), frames=3))
        else:
            files.append(media(f"f{i}.png", pick, size=(96, 64)))
    try:
        spec = plan(text, files)
    except PlanningError as e:  # a combination no task takes (two source videos): said in one line
        message = str(e)
        assert "\n" not in message and "is not used by" not in message
        names_a_file = any(message.startswith(Path(f).name + " is a ") for f in files)
        assert names_a_file or "cannot plan" in message or "frames" in message or " must be " in message
        return
    _valid(spec)
    assert len(spec.inputs) == len(files)  # every attachment gets a role


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(blob=st.binary(max_size=300), ext=st.sampled_from([".png", ".jpg", ".mp4", ".mov", ".txt", ""]))
def test_a_broken_file_is_a_media_error_naming_it(tmp_path: Path, blob: bytes, ext: str) -> None:
    path = tmp_path / f"broken{ext}"
    path.write_bytes(blob)
    try:
        plan("describe this", [str(path)])
    except MediaError as e:
        assert "broken" in str(e)
