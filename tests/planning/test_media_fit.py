"""Every file plays a role its medium can play: a video is never handed to a role that takes a picture. When the
words point at a picture task but the files are videos, the files' medium decides; when no role fits a file,
the error names the file and says what was needed, in words."""

from __future__ import annotations

import itertools
import os
import random
from collections.abc import Callable

import pytest
from pydantic import ValidationError

from unison_agent.media import MediaError
from unison_agent.planning import Attachment, PlanningError, plan
from unison_agent.spec import Media, Role, Task, TaskSpec, media_for


def roles(spec: TaskSpec) -> dict[str, str]:
    return {os.path.basename(i.path): i.role.value for i in spec.inputs}


def test_two_clips_to_brighten_name_the_clip_that_has_no_part(media: Callable[..., str]) -> None:
    clips = [media("clip1.mp4", size=(96, 64), frames=3), media("clip2.mp4", size=(96, 64), frames=3)]
    with pytest.raises(PlanningError) as e:
        plan("make it brighter", clips)
    message = str(e.value)
    assert message.startswith("clip2.mp4 is a video") and "video_editing" in message
    assert "\n" not in message and "is not used by" not in message


def test_a_lone_mask_video_is_the_mask_of_a_video_edit_whose_source_is_missing(media: Callable[..., str]) -> None:
    spec = plan("make it brighter", [media("m.mp4", "mask", size=(96, 64), frames=3)])
    assert spec.task is Task.VIDEO_EDITING
    assert roles(spec) == {"m.mp4": "mask"}
    assert spec.missing == [Role.SOURCE]


def test_a_mask_video_beside_a_picture_is_a_video_edit_that_asks_for_its_clip(media: Callable[..., str]) -> None:
    # A mask clip masks a clip: the picture can only be a reference, and the clip to edit is asked for.
    files = [media("matte.mp4", "mask", size=(96, 64), frames=3), media("p.png", size=(96, 64))]
    spec = plan("make it brighter", files)
    assert spec.task is Task.VIDEO_EDITING
    assert roles(spec) == {"matte.mp4": "mask", "p.png": "reference"}
    assert spec.missing == [Role.SOURCE]


def test_a_video_with_a_picture_mask_is_still_a_video_edit(media: Callable[..., str]) -> None:
    spec = plan("make it brighter", [media("v.mp4", size=(96, 64), frames=3), media("m.png", "mask", size=(96, 64))])
    assert spec.task is Task.VIDEO_EDITING
    assert roles(spec) == {"v.mp4": "source", "m.png": "mask"}


# ------------------------------------------------------------------------------------------------ fuzz
REQUESTS = [
    "make it brighter",
    "edit this: remove the car",
    "replace the sky with a sunset, keep everything else",
    "put a fountain where the white area is",
    "animate this, 2 seconds",
    "make the second one the last frame and animate between them",
    "a poster of this character on the moon, same style",
    "use it as a reference for a new picture of a knight",
    "follow the pose of this and render a robot dancing",
    "depth control: an underwater cave",
    "what is in these files?",
    "describe it",
    "a cat walks on the grass",
    "sunset over the sea, vertical, 720p",
    "turn this into a watercolor painting",
]
KINDS = {  # kind -> (extension, look)
    "image": (".png", "photo"),
    "video": (".mp4", "photo"),
    "mask": (".png", "mask"),
    "mask_video": (".mp4", "mask"),
    "pose": (".png", "pose"),
    "depth_video": (".mp4", "depth"),
}


@pytest.fixture
def probed(media: Callable[..., str]) -> dict[str, list[Attachment]]:
    """Three files of each kind, drawn and probed once (neutral names: the content says what each is)."""
    out: dict[str, list[Attachment]] = {}
    for k, (kind, (ext, look)) in enumerate(KINDS.items()):
        out[kind] = [Attachment.probe(media(f"f{k}{n}{ext}", look, size=(96, 64), frames=3)) for n in range(3)]
    return out


def _combinations(seed: int = 11) -> list[tuple[str, ...]]:
    kinds = list(KINDS)
    small = [c for n in range(3) for c in itertools.product(kinds, repeat=n)]
    triples = list(itertools.product(kinds, repeat=3))
    return small + random.Random(seed).sample(triples, 60)


@pytest.mark.slow
def test_no_request_and_no_mix_of_files_ends_in_an_internal_message(probed: dict[str, list[Attachment]]) -> None:
    failures: list[str] = []
    planned = refused = 0
    for combo in _combinations():
        used = {kind: 0 for kind in KINDS}
        atts = []
        for kind in combo:
            atts.append(probed[kind][used[kind]])
            used[kind] += 1
        names = [os.path.basename(a.path) for a in atts]
        for text in REQUESTS:
            try:
                spec = plan(text, atts)
            except (PlanningError, MediaError) as e:
                refused += 1
                message = str(e)
                videos = [a for a in atts if a.media is Media.VIDEO]
                # Pictures with at most one clip always have a plan, unless the clip is a mask beside pictures.
                if len(videos) < 2 and not (videos and videos[0].look == "mask" and len(atts) > 1):
                    failures.append(f"{text!r} {names}: refused: {message}")
                internal = ("is not used by", "needs the", "cannot plan this request as", "\n")
                if any(s in message for s in internal) or not any(message.startswith(n) for n in names):
                    failures.append(f"{text!r} {names}: {message}")
                continue
            except ValidationError as e:  # pragma: no cover - what this test is here to catch
                failures.append(f"{text!r} {names}: ValidationError {e}")
                continue
            planned += 1
            assert TaskSpec.model_validate(spec.model_dump()) == spec
            for item in spec.inputs:
                assert item.media in media_for(spec.task, item.role), (text, names, spec)
            if spec.task.is_generation and spec.task not in (Task.TEXT_TO_IMAGE, Task.TEXT_TO_VIDEO):
                assert len(spec.inputs) == len(atts), (text, names, spec)  # every file has a part
    assert failures == [], f"{len(failures)} of {planned + refused}:\n" + "\n".join(failures[:20])
    assert planned > refused
