"""Roles: from the words, from the content, whatever the order of the files."""

from __future__ import annotations

import pytest

from unison_agent.planning import plan


def roles(spec) -> dict[str, str]:
    return {i.path.rsplit("/", 1)[-1]: i.role.value for i in spec.inputs}


def test_mask_attached_first_is_still_the_mask(media) -> None:
    spec = plan("put a fountain where the white area is", [media("IMG_1.png", "mask"), media("IMG_2.jpg")])
    assert spec.task.value == "image_editing"
    assert roles(spec) == {"IMG_1.png": "mask", "IMG_2.jpg": "source"}


def test_a_binary_image_is_a_mask_whatever_its_name(media) -> None:
    spec = plan("replace that region with a red bicycle", [media("a.jpg"), media("b.png", "mask")])
    assert roles(spec) == {"a.jpg": "source", "b.png": "mask"}


def test_ordinal_statements_override_file_order(media) -> None:
    spec = plan(
        "the first one is the mask and the second is my photo; fill it with flowers",
        [media("x1.png", "mask"), media("x2.jpg")],
    )
    assert roles(spec) == {"x1.png": "mask", "x2.jpg": "source"}


@pytest.mark.slow
def test_a_video_with_an_image_mask_is_a_video_edit(media) -> None:
    spec = plan("erase the lamp post inside the mask", [media("m.png", "mask"), media("street.mp4")])
    assert spec.task.value == "video_editing"
    assert roles(spec) == {"m.png": "mask", "street.mp4": "source"}


def test_a_named_reference_is_told_apart_from_the_source(media) -> None:
    spec = plan("swap the vase in living.jpg for the one in vase_ref.png", [media("vase_ref.png"), media("living.jpg")])
    assert spec.task.value == "image_editing"
    assert roles(spec) == {"vase_ref.png": "reference", "living.jpg": "source"}


def test_first_and_last_frames_follow_the_names_in_the_text(media) -> None:
    spec = plan("p2.jpg is where it ends and p1.jpg is where it starts, 2 seconds", [media("p2.jpg"), media("p1.jpg")])
    assert spec.task.value == "image_to_video"
    assert roles(spec) == {"p2.jpg": "last_frame", "p1.jpg": "first_frame"}


def test_two_keyframes_without_words_follow_attachment_order(media) -> None:
    spec = plan("make a smooth transition between these two shots", [media("one.jpg"), media("two.jpg")])
    assert roles(spec) == {"one.jpg": "first_frame", "two.jpg": "last_frame"}


def test_a_single_picture_the_video_should_end_on_is_the_last_frame(media) -> None:
    spec = plan("make a short video that finishes on this exact image: the door slowly closes", [media("d.jpg")])
    assert spec.task.value == "image_to_video"
    assert roles(spec) == {"d.jpg": "last_frame"}


def test_animate_makes_the_picture_the_first_frame(media) -> None:
    spec = plan("animate it - leaves rustling", [media("tree.webp")])
    assert roles(spec) == {"tree.webp": "first_frame"}


def test_several_references_are_all_references(media) -> None:
    spec = plan(
        "a picture of the boy from kid.jpg walking the dog from pup.jpg in a park", [media("pup.jpg"), media("kid.jpg")]
    )
    assert spec.task.value == "image_reference"
    assert roles(spec) == {"pup.jpg": "reference", "kid.jpg": "reference"}


def test_a_pose_skeleton_is_a_control_even_with_an_uninformative_name(media) -> None:
    spec = plan("a samurai, same stance", [media("20240512_101010.png", "pose", size=(512, 640))])
    assert spec.task.value == "image_control"
    assert spec.control_type.value == "pose"
    assert roles(spec) == {"20240512_101010.png": "control"}


def test_a_depth_video_is_a_video_control(media) -> None:
    spec = plan("render an underwater cave that follows it", [media("VID_0004.mp4", "depth", size=(320, 192))])
    assert spec.task.value == "video_control"
    assert spec.control_type.value == "depth"


def test_control_extracted_from_an_ordinary_clip_names_the_signal(media) -> None:
    spec = plan("take the edges of this clip and make it a pencil drawing animation", [media("c.mp4")])
    assert spec.task.value == "video_control"
    assert spec.control_type.value == "canny"


def test_a_control_map_that_is_only_asked_about_is_context(media) -> None:
    spec = plan("does this depth map look right to you?", [media("d.png", "depth")])
    assert spec.task.value == "image_understanding"
    assert roles(spec) == {"d.png": "context"}
