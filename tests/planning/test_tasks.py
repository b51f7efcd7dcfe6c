"""Task choice on phrasings of our own (not the dev set's): asking vs making, editing vs a new picture of
the same subject, a first frame vs a reference, following a clip vs changing it."""

from __future__ import annotations

import pytest

from unison_agent.planning import plan


@pytest.mark.parametrize(
    ("text", "task"),
    [
        ("what's the square root of 144?", "text_understanding"),
        ("tell me a joke about penguins", "text_understanding"),
        ("write a limerick about a cat who loves lasagna", "text_understanding"),
        ("I need a prompt for midjourney describing a foggy harbor, text only", "text_understanding"),
        ("Translate 'good morning' into Japanese", "text_understanding"),
        ("a foggy harbor at dawn, fishing boats, muted colors", "text_to_image"),
        ("paint me a foggy harbor at dawn", "text_to_image"),
        ("I'd like an illustration of a dragon reading a book", "text_to_image"),
        ("a still frame of a hummingbird, not a video", "text_to_image"),
        ("a dragon flies over a burning castle as the camera pans left", "text_to_video"),
        ("make a clip of a dragon reading a book", "text_to_video"),
        ("animation of a paper plane gliding across a classroom", "text_to_video"),
        ("haz un video de un perro corriendo en la playa", "text_to_video"),
    ],
)
def test_requests_without_files(text: str, task: str) -> None:
    assert plan(text).task.value == task


@pytest.mark.parametrize(
    ("text", "look", "task"),
    [
        ("who painted this?", "photo", "image_understanding"),
        ("any text visible here? transcribe it", "photo", "image_understanding"),
        ("rate this photo out of ten", "photo", "image_understanding"),
        ("make her hair blonde", "photo", "image_editing"),
        ("get rid of the power lines", "photo", "image_editing"),
        ("give it a cyberpunk look, keep the composition", "photo", "image_editing"),
        ("in the style of this picture: a harbor at night", "photo", "image_reference"),
        ("a new photo of this exact teddy bear on the moon", "photo", "image_reference"),
        ("turn this into a 4 second video, the clouds drifting", "photo", "image_to_video"),
        ("a video of this guy surfing, it doesn't have to start from this picture", "photo", "video_reference"),
        ("clean up my drawing, keep it a line drawing", "scribble", "image_editing"),
        ("make my drawing into a realistic photo of a lighthouse", "scribble", "image_control"),
    ],
)
def test_requests_with_one_picture(media, text: str, look: str, task: str) -> None:
    assert plan(text, [media("IMG_7.png", look)]).task.value == task


@pytest.mark.parametrize(
    ("text", "task"),
    [
        ("what happens in this clip?", "video_understanding"),
        ("how many people walk past in this?", "video_understanding"),
        ("make the sky in this clip purple", "video_editing"),
        ("remove the logo in the corner", "video_editing"),
        ("a new video of a robot copying the moves in this clip", "video_control"),
        ("use the depth of this footage to make a snowy forest walk", "video_control"),
    ],
)
def test_requests_with_one_video(media, text: str, task: str) -> None:
    assert plan(text, [media("VID_1.mp4")]).task.value == task


def test_a_foreign_request_with_a_mask_and_a_photo_is_an_edit(media) -> None:
    spec = plan("把遮罩里的东西换成一只猫", [media("p.jpg"), media("m.png", "mask")])
    assert spec.task.value == "image_editing"


def test_a_foreign_question_about_a_video_is_understanding(media) -> None:
    assert plan("¿Qué pasa en este video?", [media("v.mp4")]).task.value == "video_understanding"
