"""UnisonPlanner with a scripted model: the request reaches it in Unison's format, its signal tokens become the
plan's task, roles, size and length, and the rules fill the rest; a model that fails leaves the rules' plan."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from unison_agent.media import MediaError
from unison_agent.planning import EmbeddedPlanner, Planner, PlanningError
from unison_agent.planning.unison import UnisonPlanner, render
from unison_agent.spec import ControlType, Role, Task, TaskSpec

Media = Callable[..., str]


class Scripted:
    """A stand-in for the model: answers each request with the next scripted output (or raises it)."""

    def __init__(self, *outputs: object) -> None:
        self.outputs = list(outputs)
        self.requests: list[str] = []

    def __call__(self, request: str) -> str:
        self.requests.append(request)
        out = self.outputs.pop(0)
        if isinstance(out, Exception):
            raise out
        return out  # type: ignore[return-value]  # a test may script a non-str on purpose


def roles(spec: TaskSpec) -> dict[str, str]:
    return {Path(i.path).name: i.role.value for i in spec.inputs}


def small(media: Media, name: str, look: str = "photo", frames: int = 12) -> str:
    """A 96x64 file (a ``frames``-frame clip for a video name)."""
    return media(name, look, size=(96, 64), frames=frames)


# ------------------------------------------------------------------------------------------------ render
def test_markers_and_mentions_become_pads_where_they_stand(media: Media) -> None:
    a, clip, b = small(media, "a.png"), small(media, "clip.mp4", frames=4), small(media, "b.jpg")
    text, order = render(f"put the dog of ###{b}### into CLIP.mp4", [a, clip, b])
    # a.png is not mentioned: its pad comes first; then b.jpg and clip.mp4 where the text names them.
    assert text == "<IMGPAD> put the dog of <IMGPAD> into <VIDPAD>"
    assert order == (0, 2, 1)


def test_unmentioned_attachments_are_prepended_in_attachment_order(media: Media) -> None:
    clip, photo = small(media, "clip.mp4", frames=4), small(media, "x.png")
    assert render("make it snowy", [clip, photo]) == ("<VIDPAD> <IMGPAD> make it snowy", (0, 1))
    assert render("", [photo]) == ("<IMGPAD>", (0,))
    assert render("a fox in the snow", []) == ("a fox in the snow", ())


def test_the_pad_follows_the_probed_medium_not_the_extension(media: Media, tmp_path: Path) -> None:
    webp, webm = small(media, "still.webp"), small(media, "loop.webm", frames=4)
    disguised = str(tmp_path / "frame.png")
    shutil.copy(small(media, "real.mp4", frames=4), disguised)  # a video named like a picture
    text, order = render("mix still.webp with loop.webm and frame.png", [webp, webm, disguised])
    assert text == "mix <IMGPAD> with <VIDPAD> and <VIDPAD>"
    assert order == (0, 1, 2)


def test_a_second_mention_stays_text_and_a_marker_of_no_attachment_becomes_its_name(media: Media) -> None:
    photo = small(media, "photo.png")
    text, order = render("edit ###photo.png###, keep photo.png sharp, like ###/elsewhere/other.png###", [photo])
    assert text == "edit <IMGPAD>, keep photo.png sharp, like other.png"
    assert order == (0,)


def test_a_full_path_in_the_text_is_one_mention_and_typed_tokens_are_removed(media: Media) -> None:
    photo = small(media, "photo.png")
    text, order = render(f"<CFI> turn {photo} into winter <IMGPAD>", [photo])
    assert text == "turn <IMGPAD> into winter"
    assert order == (0,)


def test_a_name_inside_a_longer_name_is_not_a_mention(media: Media) -> None:
    photo = small(media, "photo.png")
    text, order = render("compare with myphoto.png and photo.png.bak", [photo])
    assert text == "<IMGPAD> compare with myphoto.png and photo.png.bak"
    assert order == (0,)


# ------------------------------------------------------------------------------------------------ decoding
def test_the_model_gets_the_rendered_request_and_its_tokens_make_the_plan(media: Media) -> None:
    photo, mask = small(media, "photo.jpg"), small(media, "mask.png", "mask")
    model = Scripted("<CFI><BORES>1024,768<EORES><BOEDIT>1,0<EOEDIT><|im_end|>")
    planner = UnisonPlanner(model)
    planned = planner.plan_detailed(f"put a hat on the cat in ###{photo}###, inside ###{mask}###", [photo, mask])
    assert model.requests == ["put a hat on the cat in <IMGPAD>, inside <IMGPAD>"]
    spec = planned.spec
    assert spec.task is Task.IMAGE_EDITING
    assert roles(spec) == {"photo.jpg": "source", "mask.png": "mask"}
    assert (spec.width, spec.height) == (1024, 768)
    assert spec.prompt == "put a hat on the cat in photo.jpg, inside mask.png"  # markers read as file names
    assert (planned.planner, planned.fallback, planned.model_calls) == ("unison", False, 1)
    assert planned.notes[0] == "unison: '<CFI><BORES>1024,768<EORES><BOEDIT>1,0<EOEDIT>' -> image_editing"
    assert isinstance(planner, Planner)


def test_editing_with_mask_and_reference_leaves_the_other_roles_to_the_rules(media: Media) -> None:
    photo, mask, ref = small(media, "room.jpg"), small(media, "m.png", "mask"), small(media, "vase_ref.png")
    model = Scripted("<CFI><BORES>832,480<EORES><BOEDIT>1,0<EOEDIT><REF>")
    planned = UnisonPlanner(model).plan_detailed(
        "replace the vase in room.jpg, where m.png is white, with the one in vase_ref.png", [photo, mask, ref]
    )
    assert planned.spec.task is Task.IMAGE_EDITING
    assert roles(planned.spec) == {"room.jpg": "source", "m.png": "mask", "vase_ref.png": "reference"}
    assert planned.spec.missing == []
    assert "role of vase_ref.png from the rules" in planned.notes


def test_a_reference_token_with_no_file_left_lists_the_reference_as_missing(media: Media) -> None:
    photo, mask = small(media, "room.jpg"), small(media, "m.png", "mask")
    spec = UnisonPlanner(Scripted("<CFI><BOEDIT>1,0<EOEDIT><REF>")).plan("swap the vase", [photo, mask])
    assert roles(spec) == {"room.jpg": "source", "m.png": "mask"}
    assert spec.missing == [Role.REFERENCE]


def test_first_and_last_frames_come_from_the_frame_positions(media: Media) -> None:
    start, end = small(media, "p1.png"), small(media, "p2.png")
    model = Scripted("<CFV><BORES>832,480<EORES><BONF>80<EONF><BOFIDX>80,0<EOFIDX>")
    spec = UnisonPlanner(model).plan("make a video between these two", [start, end])
    assert spec.task is Task.IMAGE_TO_VIDEO
    assert roles(spec) == {"p1.png": "last_frame", "p2.png": "first_frame"}
    assert spec.num_frames == 81


def test_token_indices_follow_the_order_in_which_the_text_names_the_files(media: Media) -> None:
    a, b = small(media, "a.png"), small(media, "b.png")
    model = Scripted("<CFV><BORES>832,480<EORES><BONF>80<EONF><BOFIDX>0,80<EOFIDX>")
    spec = UnisonPlanner(model).plan("a morph that begins on b.png and ends on a.png", [a, b])
    assert model.requests == ["a morph that begins on <IMGPAD> and ends on <IMGPAD>"]
    assert roles(spec) == {"b.png": "first_frame", "a.png": "last_frame"}  # index 0 is b.png, named first


def test_control_takes_its_control_type_from_the_rules(media: Media) -> None:
    pose = small(media, "moves.mp4", "pose", frames=6)
    model = Scripted("<CFV><BORES>832,480<EORES><BONF>80<EONF><CTRL>")
    planned = UnisonPlanner(model).plan_detailed("a robot dancing these dance moves", [pose])
    spec = planned.spec
    assert spec.task is Task.VIDEO_CONTROL
    assert roles(spec) == {"moves.mp4": "control"}
    assert spec.control_type is ControlType.POSE
    assert "fps, control_type from the rules" in planned.notes


def test_control_with_several_files_lets_the_rules_pick_the_control(media: Media) -> None:
    face, pose = small(media, "face.png"), small(media, "moves.mp4", "pose", frames=6)
    model = Scripted("<CFV><BORES>832,480<EORES><BONF>80<EONF><CTRL>")
    planned = UnisonPlanner(model).plan_detailed("this person doing these dance moves", [face, pose])
    assert planned.spec.task is Task.VIDEO_CONTROL
    assert roles(planned.spec) == {"face.png": "reference", "moves.mp4": "control"}
    assert any(note.startswith("<CTRL> cannot say which of the 2") for note in planned.notes)
    assert not planned.fallback


def test_fps_and_seed_come_from_the_text_and_the_length_from_the_tokens() -> None:
    model = Scripted("<CFV><BORES>1280,720<EORES><BONF>48<EONF>")
    planned = UnisonPlanner(model).plan_detailed("a fox running through snow at 24 fps, seed 7")
    spec = planned.spec
    assert spec.task is Task.TEXT_TO_VIDEO
    assert (spec.width, spec.height, spec.num_frames) == (1280, 720, 49)
    assert (spec.fps, spec.seed, spec.duration_s) == (24, 7, 2.0)
    assert spec.prompt == "a fox running through snow"
    assert planned.notes[1:] == ("fps, seed from the rules",)


def test_res_and_nf_win_over_what_the_text_says() -> None:
    model = Scripted("<CFV><BORES>832,480<EORES><BONF>32<EONF>")
    spec = UnisonPlanner(model).plan("a 10 second video of a fox, 1024x576")
    assert (spec.width, spec.height, spec.num_frames, spec.fps, spec.duration_s) == (832, 480, 33, 16, 2.0)


def test_without_res_or_nf_the_rules_size_and_length_stand() -> None:
    planned = UnisonPlanner(Scripted("<CFV>")).plan_detailed("a 3 second video of a fox, 1024x576")
    spec = planned.spec
    assert (spec.width, spec.height, spec.num_frames, spec.duration_s) == (1024, 576, 49, 3.0)
    assert planned.notes[1:] == ("size, frame count, fps from the rules",)


def test_a_size_outside_the_contract_is_ignored_with_a_note() -> None:
    planned = UnisonPlanner(Scripted("<CFI><BORES>9000,480<EORES>")).plan_detailed("a poster of a fox, 1024x1024")
    assert (planned.spec.width, planned.spec.height) == (1024, 1024)
    assert any(note.startswith("ignored <BORES>9000,480<EORES>: width: must be 64..4096") for note in planned.notes)
    assert not planned.fallback


@pytest.mark.parametrize(
    ("files", "task"),
    [
        ([], Task.TEXT_UNDERSTANDING),
        (["pic.jpg"], Task.IMAGE_UNDERSTANDING),
        (["pic.jpg", "clip.mp4"], Task.VIDEO_UNDERSTANDING),
    ],
)
def test_an_output_without_signal_tokens_is_an_answer(media: Media, files: list[str], task: Task) -> None:
    paths = [small(media, name, frames=4) for name in files]
    planned = UnisonPlanner(Scripted("A red house under a blue sky.<|im_end|>")).plan_detailed(
        "what is shown here?", paths
    )
    assert planned.spec.task is task
    assert set(roles(planned.spec).values()) <= {"context"} and len(planned.spec.inputs) == len(paths)
    assert planned.spec.prompt == "what is shown here?"  # the question, never the model's answer
    assert planned.notes == (f"unison: no signal token -> {task.value}; its answer: 'A red house under a blue sky.'",)


def test_a_malformed_payload_is_dropped_and_the_rules_decide_that_part(media: Media) -> None:
    photo = small(media, "beach.png")
    model = Scripted("<CFV><BORES>832,480<EORES><BONF>80<EONF><BOFIDX>first<EOFIDX>")
    planned = UnisonPlanner(model).plan_detailed("animate beach.png, waves rolling in", [photo])
    assert planned.spec.task is Task.IMAGE_TO_VIDEO  # the dropped FIDX still names the task
    assert roles(planned.spec) == {"beach.png": "first_frame"}
    assert any(note.startswith("dropped <BOFIDX>first<EOFIDX>: expected") for note in planned.notes)
    assert "role of beach.png; fps from the rules" in planned.notes
    assert not planned.fallback


def test_an_index_past_the_attachments_is_ignored_with_a_note(media: Media) -> None:
    photo, mask = small(media, "photo.jpg"), small(media, "mask.png", "mask")
    planned = UnisonPlanner(Scripted("<CFI><BOEDIT>4,0<EOEDIT>")).plan_detailed("fill it with flowers", [photo, mask])
    assert roles(planned.spec) == {"photo.jpg": "source", "mask.png": "mask"}
    assert (
        "ignored <BOEDIT>4,0<EOEDIT>: an index points outside the 2 attachment(s); mask and source from the rules"
        in (planned.notes)
    )


def test_repeated_and_stray_tokens_are_dropped_with_notes() -> None:
    planned = UnisonPlanner(Scripted("<CFI><CFI><IMGPAD><BORES>640,640<EORES><EONF>")).plan_detailed("a red fox")
    assert planned.spec.task is Task.TEXT_TO_IMAGE
    assert (planned.spec.width, planned.spec.height) == (640, 640)
    assert planned.notes[1:4] == (
        "dropped a second <CFI>",
        "dropped <IMGPAD>: a request placeholder, not a signal token",
        "dropped <EONF> without its <BONF>",
    )


def test_a_model_that_raises_leaves_the_rules_plan(media: Media) -> None:
    photo, mask = small(media, "photo.jpg"), small(media, "mask.png", "mask")
    text = "put a fountain where the white area is"
    planned = UnisonPlanner(Scripted(RuntimeError("CUDA out of memory"))).plan_detailed(text, [photo, mask])
    assert planned.spec == EmbeddedPlanner().plan(text, [photo, mask])
    assert (planned.planner, planned.fallback, planned.model_calls) == ("embedded", True, 1)
    assert planned.notes == (
        "the Unison model failed (RuntimeError: CUDA out of memory); used the embedded planner's plan",
    )


@pytest.mark.parametrize(
    ("output", "why"),
    [
        ("", "the Unison model returned nothing"),
        ("<|im_end|>", "the Unison model returned nothing"),
        ("<BORES>832,480<EORES><REF>", "signal tokens without <CFI> or <CFV>"),
        ("<CFI><CFV><BORES>832,480<EORES>", "<CFI> and <CFV> contradict each other"),
        ("<CFV><BOEDIT>0<EOEDIT><CTRL>", "<BOEDIT> and <CTRL> contradict each other"),
        (None, "the Unison model returned NoneType, not text"),
    ],
)
def test_garbage_output_leaves_the_rules_plan(output: object, why: str) -> None:
    text = "a lighthouse in a storm, 720p"
    planned = UnisonPlanner(Scripted(output)).plan_detailed(text)
    assert planned.spec == EmbeddedPlanner().plan(text)
    assert planned.fallback and planned.model_calls == 1
    [note] = planned.notes
    assert why in note and note.endswith("; used the embedded planner's plan")


def test_an_unreadable_attachment_raises_before_the_model_is_asked(tmp_path: Path) -> None:
    model = Scripted("<CFI>")
    with pytest.raises(MediaError, match=r"nothing\.png: no such file"):
        UnisonPlanner(model).plan("edit this", [str(tmp_path / "nothing.png")])
    assert model.requests == []


def test_when_neither_the_model_nor_the_rules_can_plan_both_reasons_are_given() -> None:
    model = Scripted("<CFV><BORES>832,480<EORES>")
    with pytest.raises(PlanningError, match=r"1441 frames.*\(and "):
        UnisonPlanner(model).plan("a 60 second video of a fox running at 24 fps")


def test_generate_must_be_callable() -> None:
    with pytest.raises(TypeError, match="generate must be a callable"):
        UnisonPlanner("unison-3b")  # type: ignore[arg-type]


def test_a_request_over_the_length_cap_is_refused_before_the_model_runs() -> None:
    model = Scripted("<CFI>")
    with pytest.raises(PlanningError, match=r"the request is 10,001 characters; the limit is 10,000"):
        UnisonPlanner(model).plan_detailed("x" * 10_001)
    assert model.requests == []
