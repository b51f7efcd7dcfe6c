"""The signal-token codec: TaskSpec <-> Unison's planner output (``<CFI>``, ``<BORES>w,h<EORES>``, ...)."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from unison_agent.planning.signal_tokens import (
    CARRIED_FIELDS,
    PAD_TOKENS,
    SIGNAL_TOKENS,
    SPECIAL_TOKENS,
    SignalTokenError,
    SignalTokens,
    attachments_of,
    decode,
    encode,
    parse,
)
from unison_agent.spec import Input, Media, Role, Task, TaskSpec

IMG, VID = Media.IMAGE, Media.VIDEO


def inp(path: str, role: Role) -> Input:
    media = VID if path.endswith(".mp4") else IMG
    return Input(path=path, media=media, role=role)


def spec(task: Task, *inputs: Input, **kw: Any) -> TaskSpec:
    return TaskSpec(task=task, inputs=list(inputs), **kw)


# ------------------------------------------------------------------------------------------------ spellings
def test_special_tokens_are_unisons_fourteen_in_the_order_merge_lora_registers_them() -> None:
    assert SPECIAL_TOKENS == (
        "<CFI>", "<CFV>", "<BORES>", "<EORES>", "<BONF>", "<EONF>", "<BOFIDX>", "<EOFIDX>",
        "<REF>", "<CTRL>", "<BOEDIT>", "<EOEDIT>", "<IMGPAD>", "<VIDPAD>",
    )  # fmt: skip
    assert SPECIAL_TOKENS == SIGNAL_TOKENS + PAD_TOKENS
    assert len(set(SPECIAL_TOKENS)) == len(SPECIAL_TOKENS)


# ------------------------------------------------------------------------------------------------ 9 generation tasks
GENERATION_CASES = [
    (spec(Task.TEXT_TO_IMAGE, width=1024, height=1024), "<CFI><BORES>1024,1024<EORES>"),
    (spec(Task.TEXT_TO_VIDEO), "<CFV><BORES>832,480<EORES><BONF>80<EONF>"),
    (
        spec(Task.IMAGE_EDITING, inp("photo.png", Role.SOURCE), inp("mask.png", Role.MASK)),
        "<CFI><BORES>832,480<EORES><BOEDIT>1,0<EOEDIT>",
    ),
    (
        spec(Task.VIDEO_EDITING, inp("mask.png", Role.MASK), inp("clip.mp4", Role.SOURCE), num_frames=49),
        "<CFV><BORES>832,480<EORES><BONF>48<EONF><BOEDIT>0,1<EOEDIT>",
    ),
    (
        spec(Task.IMAGE_REFERENCE, inp("face.png", Role.REFERENCE), inp("hat.png", Role.REFERENCE)),
        "<CFI><BORES>832,480<EORES><REF>",
    ),
    (
        spec(Task.VIDEO_REFERENCE, inp("face.png", Role.REFERENCE), width=480, height=832),
        "<CFV><BORES>480,832<EORES><BONF>80<EONF><REF>",
    ),
    (
        spec(Task.IMAGE_TO_VIDEO, inp("start.png", Role.FIRST_FRAME)),
        "<CFV><BORES>832,480<EORES><BONF>80<EONF><BOFIDX>0<EOFIDX>",
    ),
    (
        spec(Task.VIDEO_CONTROL, inp("pose.mp4", Role.CONTROL), width=1280, height=720, num_frames=33),
        "<CFV><BORES>1280,720<EORES><BONF>32<EONF><CTRL>",
    ),
    (
        spec(Task.IMAGE_CONTROL, inp("depth.png", Role.CONTROL), width=1024, height=768),
        "<CFI><BORES>1024,768<EORES><CTRL>",
    ),
]


@pytest.mark.parametrize(("the_spec", "tokens"), GENERATION_CASES, ids=[c[0].task.value for c in GENERATION_CASES])
def test_each_generation_task_encodes_to_unisons_tokens_and_decodes_back(the_spec: TaskSpec, tokens: str) -> None:
    assert encode(the_spec) == tokens
    assert decode(tokens, attachments_of(the_spec)) == the_spec


def test_the_nine_generation_cases_cover_every_generation_task() -> None:
    assert {c[0].task for c in GENERATION_CASES} == {t for t in Task if t.is_generation}


# ------------------------------------------------------------------------------------------------ understanding
@pytest.mark.parametrize(
    ("the_spec", "attachments"),
    [
        (spec(Task.TEXT_UNDERSTANDING, prompt="How many books are left?"), []),
        (spec(Task.IMAGE_UNDERSTANDING, inp("bowl.jpg", Role.CONTEXT), prompt="What sauce?"), [("bowl.jpg", IMG)]),
        (spec(Task.VIDEO_UNDERSTANDING, inp("dance.mp4", Role.CONTEXT), prompt="Who dances?"), [("dance.mp4", VID)]),
    ],
)
def test_understanding_encodes_to_no_tokens_and_decodes_by_the_attachments_medium(
    the_spec: TaskSpec, attachments: list[tuple[str, Media]]
) -> None:
    assert encode(the_spec) == ""
    assert decode("", attachments, prompt=the_spec.prompt) == the_spec


def test_understanding_output_text_is_the_answer_and_never_becomes_the_prompt() -> None:
    got = decode("It is a bbq sauce.<|im_end|>", [("bowl.jpg", IMG)], prompt="What is the dark sauce?")
    assert got.task is Task.IMAGE_UNDERSTANDING
    assert got.prompt == "What is the dark sauce?"
    assert decode("60 books.", []).prompt == ""


def test_understanding_gives_every_attachment_the_context_role() -> None:
    got = decode("", [("a.png", IMG), ("b.png", "image")])
    assert [i.role for i in got.inputs] == [Role.CONTEXT, Role.CONTEXT]


def test_understanding_ignores_generation_defaults() -> None:
    got = decode("", [], prompt="hi", fps=24, seed=3, width=512, height=512)
    assert (got.task, got.fps, got.seed, got.width) == (Task.TEXT_UNDERSTANDING, None, None, None)


# ------------------------------------------------------------------------------------------------ frames
def test_81_frames_is_written_as_80_and_read_back_as_81_with_5_seconds_at_16_fps() -> None:
    assert "<BONF>80<EONF>" in encode(spec(Task.TEXT_TO_VIDEO, num_frames=81))
    got = decode("<CFV><BONF>80<EONF>", [])
    assert (got.num_frames, got.fps, got.duration_s) == (81, 16, 5.0)


def test_nf_n_means_n_plus_one_frames_and_duration_follows_the_fps_default() -> None:
    got = decode("<CFV><BONF>48<EONF>", [], fps=24)
    assert (got.num_frames, got.fps, got.duration_s) == (49, 24, 2.0)


def test_a_video_without_res_or_nf_gets_unisons_defaults_832x480_and_81_frames() -> None:
    got = decode("<CFV>", [])
    assert (got.width, got.height, got.num_frames) == (832, 480, 81)


def test_nf_zero_beside_cfi_is_one_image_and_accepted() -> None:
    assert decode("<CFI><BONF>0<EONF>", []).num_frames == 1


# ------------------------------------------------------------------------------------------------ first / last frame
def test_first_frame_only_is_position_zero() -> None:
    got = decode("<CFV><BONF>80<EONF><BOFIDX>0<EOFIDX>", [("start.png", IMG)])
    assert got.inputs == [inp("start.png", Role.FIRST_FRAME)]


@pytest.mark.parametrize("last", ["80", "-1"])
def test_last_frame_only_is_the_last_index_or_minus_one(last: str) -> None:
    got = decode(f"<CFV><BONF>80<EONF><BOFIDX>{last}<EOFIDX>", [("end.png", IMG)])
    assert got.inputs == [inp("end.png", Role.LAST_FRAME)]


def test_last_frame_is_written_as_the_last_frame_index() -> None:
    the_spec = spec(Task.IMAGE_TO_VIDEO, inp("end.png", Role.LAST_FRAME), num_frames=49)
    assert encode(the_spec) == "<CFV><BORES>832,480<EORES><BONF>48<EONF><BOFIDX>48<EOFIDX>"


def test_last_frame_index_without_nf_is_taken_from_the_default_81_frames() -> None:
    assert decode("<CFV><BOFIDX>80<EOFIDX>", [("end.png", IMG)]).inputs[0].role is Role.LAST_FRAME


@pytest.mark.parametrize(
    ("positions", "roles"),
    [("0,80", [Role.FIRST_FRAME, Role.LAST_FRAME]), ("80,0", [Role.LAST_FRAME, Role.FIRST_FRAME])],
)
def test_first_and_last_frame_together_follow_the_attachment_order(positions: str, roles: list[Role]) -> None:
    tokens = f"<CFV><BORES>832,480<EORES><BONF>80<EONF><BOFIDX>{positions}<EOFIDX>"
    got = decode(tokens, [("a.png", IMG), ("b.png", IMG)])
    assert [i.role for i in got.inputs] == roles
    assert encode(got) == tokens


# ---------------------------------------------------------------------------------------- editing and references
def test_mask_given_before_source_swaps_the_indices_and_decodes_to_the_right_roles() -> None:
    got = decode("<CFI><BOEDIT>0,1<EOEDIT>", [("mask.png", IMG), ("photo.png", IMG)])
    assert got.inputs == [inp("mask.png", Role.MASK), inp("photo.png", Role.SOURCE)]
    got = decode("<CFI><BOEDIT>1,0<EOEDIT>", [("photo.png", IMG), ("mask.png", IMG)])
    assert got.inputs == [inp("photo.png", Role.SOURCE), inp("mask.png", Role.MASK)]


def test_editing_without_a_mask_writes_only_the_source_index() -> None:
    the_spec = spec(Task.IMAGE_EDITING, inp("photo.png", Role.SOURCE))
    assert encode(the_spec) == "<CFI><BORES>832,480<EORES><BOEDIT>0<EOEDIT>"
    assert decode(encode(the_spec), attachments_of(the_spec)) == the_spec


def test_editing_with_ref_makes_every_unclaimed_attachment_a_reference() -> None:
    atts = [("ref1.png", IMG), ("mask.png", IMG), ("photo.png", IMG), ("ref2.png", IMG)]
    got = decode("<CFI><BOEDIT>1,2<EOEDIT><REF>", atts)
    assert [i.role for i in got.inputs] == [Role.REFERENCE, Role.MASK, Role.SOURCE, Role.REFERENCE]
    assert encode(got) == "<CFI><BORES>832,480<EORES><BOEDIT>1,2<EOEDIT><REF>"


def test_multiple_references_all_get_the_reference_role() -> None:
    atts = [("face.png", IMG), ("hat.png", IMG), ("dog.png", IMG)]
    got = decode("<CFV><REF>", atts)
    assert got.task is Task.VIDEO_REFERENCE
    assert [i.role for i in got.inputs] == [Role.REFERENCE] * 3


def test_decode_accepts_inputs_and_ignores_their_roles() -> None:
    the_spec = GENERATION_CASES[2][0]
    wrong = [Input(path=i.path, media=i.media, role=Role.REFERENCE) for i in the_spec.inputs]
    assert decode(encode(the_spec), wrong) == the_spec


# ------------------------------------------------------------------------------------------------ missing
def test_a_flag_without_an_attachment_lists_the_role_as_missing_and_round_trips() -> None:
    got = decode("<CFV><CTRL>", [])
    assert (got.task, got.missing) == (Task.VIDEO_CONTROL, [Role.CONTROL])
    assert decode(encode(got), []) == got
    assert decode("<CFI><REF>", []).missing == [Role.REFERENCE]


def test_editing_with_ref_but_no_spare_attachment_lists_reference_as_missing() -> None:
    got = decode("<CFI><BOEDIT>0<EOEDIT><REF>", [("photo.png", IMG)])
    assert got.missing == [Role.REFERENCE]
    assert encode(got).endswith("<BOEDIT>0<EOEDIT><REF>")


def test_missing_defaults_are_merged_with_the_derived_ones() -> None:
    got = decode("<CFI><BOEDIT>0<EOEDIT>", [("photo.png", IMG)], missing=["mask"])
    assert got.missing == [Role.MASK]


@pytest.mark.parametrize(
    ("the_spec", "needle"),
    [
        (spec(Task.IMAGE_EDITING, missing=[Role.SOURCE]), "source"),
        (spec(Task.IMAGE_TO_VIDEO, missing=[Role.FIRST_FRAME]), "frame"),
    ],
)
def test_encoding_a_spec_whose_indexed_attachment_is_missing_raises(the_spec: TaskSpec, needle: str) -> None:
    with pytest.raises(SignalTokenError, match=needle):
        encode(the_spec)


# ------------------------------------------------------------------------------------------------ tolerance
def test_whitespace_newlines_any_order_and_surrounding_text_are_tolerated() -> None:
    text = "A lion walks around its habitat.\n<CFV>\n<BONF> 32 <EONF>  <BORES> 768 , 480 <EORES>\n<|im_end|>"
    got = decode(text, [])
    assert (got.task, got.width, got.height, got.num_frames) == (Task.TEXT_TO_VIDEO, 768, 480, 33)
    assert got.prompt == "A lion walks around its habitat."


def test_text_between_tokens_is_joined_into_the_prompt_and_an_explicit_prompt_wins() -> None:
    assert decode("a red <CFI> fox <BORES>512,512<EORES> at dawn", []).prompt == "a red fox at dawn"
    assert decode("a red <CFI> fox", [], prompt="a blue fox").prompt == "a blue fox"


def test_resolution_written_with_an_x_is_read_as_width_by_height() -> None:
    got = decode("<CFI><BORES>1280x720<EORES>", [])
    assert (got.width, got.height) == (1280, 720)


def test_parse_exposes_the_tokens_before_attachments_are_known() -> None:
    sig = parse("<CFV><BOEDIT>2<EOEDIT><BONF>16<EONF>")
    assert sig == SignalTokens(media=VID, nf=16, edit=(None, 2))
    assert (sig.task, sig.num_frames) == (Task.VIDEO_EDITING, 17)
    assert sig.render() == "<CFV><BONF>16<EONF><BOEDIT>2<EOEDIT>"


# ------------------------------------------------------------------------------------------------ defaults
def test_defaults_fill_fields_the_tokens_do_not_carry() -> None:
    got = decode("<CFV><BONF>80<EONF><CTRL>", [("pose.mp4", VID)], fps=20, seed=7, control_type="pose", steps=30)
    assert (got.fps, got.duration_s, got.seed, got.control_type, got.steps) == (20, 4.0, 7, "pose", 30)


def test_tokens_win_over_defaults_for_the_fields_they_carry() -> None:
    got = decode("<CFV><BORES>640,360<EORES><BONF>48<EONF>", [], width=1920, height=1080, num_frames=9, duration_s=9)
    assert (got.width, got.height, got.num_frames, got.duration_s) == (640, 360, 49, 3.0)


def test_defaults_fill_size_and_frames_when_the_tokens_lack_them() -> None:
    got = decode("<CFV>", [], width=1280, height=720, num_frames=49)
    assert (got.width, got.height, got.num_frames) == (1280, 720, 49)


def test_defaults_that_do_not_apply_to_the_decoded_task_are_ignored() -> None:
    got = decode("<CFI>", [], fps=24, num_frames=81, duration_s=5, control_type="pose", seed=None)
    assert (got.fps, got.num_frames, got.duration_s, got.control_type) == (None, 1, None, None)


def test_an_unknown_default_is_a_type_error() -> None:
    with pytest.raises(TypeError, match="colour"):
        decode("<CFI>", [], colour="red")
    with pytest.raises(TypeError, match="task"):
        decode("<CFI>", [], task="text_to_video")


def test_an_attachment_that_is_not_a_pair_or_an_input_is_a_type_error() -> None:
    with pytest.raises(TypeError, match="attachment 0"):
        decode("<CFI><REF>", ["face.png"])  # type: ignore[list-item]
    with pytest.raises(ValueError, match="media must be"):
        decode("<CFI><REF>", [("face.png", "audio")])


# ------------------------------------------------------------------------------------------------ malformed
A2 = [("a.png", IMG), ("b.png", IMG)]
MALFORMED = [
    ("<CFI><BORES>832,480", [], "<BORES> is not closed"),
    ("<CFV><BORES>832,480<BONF>80<EONF><EORES>", [], "<BORES> is not closed (found <BONF>"),
    ("<CFI>832,480<EORES>", [], "<EORES> has no opening <BORES>"),
    ("<CFI><BORES>abc,480<EORES>", [], "two whole numbers"),
    ("<CFI><BORES>832<EORES>", [], "expected <BORES>width,height<EORES>"),
    ("<CFI><BORES>832,480,3<EORES>", [], "expected <BORES>width,height<EORES>"),
    ("<CFI><BORES>832.5,480<EORES>", [], "two whole numbers"),
    ("<CFV><BONF>eighty<EONF>", [], "n >= 0"),
    ("<CFV><BONF>-3<EONF>", [], "n >= 0"),
    ("<CFI><CFV>", [], "<CFI> and <CFV> contradict"),
    ("<CFI><CFI>", [], "<CFI> appears twice"),
    ("<CFI><BORES>1,1<EORES><BORES>2,2<EORES>", [], "<BORES> appears twice"),
    ("<BORES>832,480<EORES>", [], "<BORES> has no task token"),
    ("<REF>", A2, "<REF> has no task token"),
    ("<CFI><BOFIDX>0<EOFIDX>", A2, "applies to videos"),
    ("<CFI><BONF>80<EONF>", [], "<CFI> makes one image"),
    ("<CFI><BOEDIT>0,5<EOEDIT>", A2, "index 5 points outside the attachments"),
    ("<CFI><BOEDIT>0<EOEDIT>", [], "index 0 points outside the attachments"),
    ("<CFI><BOEDIT>0,0<EOEDIT>", A2, "both mask and source"),
    ("<CFI><BOEDIT>-1,0<EOEDIT>", A2, "0-based attachment indices"),
    ("<CFI><BOEDIT>0,1,2<EOEDIT>", A2, "mask_index,source_index"),
    ("<CFI><BOEDIT><EOEDIT>", A2, "mask_index,source_index"),
    ("<CFI><REF><CTRL>", A2, "<REF> and <CTRL> contradict"),
    ("<CFV><BOFIDX>0<EOFIDX><BOEDIT>0<EOEDIT>", A2, "<BOFIDX> and <BOEDIT> contradict"),
    ("<CFV><BOEDIT>0<EOEDIT><REF><CTRL>", A2, "<BOEDIT> and <CTRL> contradict"),
    ("<CFV><BOFIDX>0<EOFIDX><REF>", A2, "<BOFIDX> and <REF> contradict"),
    ("<CFI>", A2, "attachment 0 (a.png) has no role"),
    ("<CFI><BOEDIT>1,0<EOEDIT>", [*A2, ("c.png", IMG)], "expected <REF> if the others are references"),
    ("<CFV><BOFIDX>0<EOFIDX>", A2, "attachment 1 (b.png) has no role"),
    ("<CFV><BOFIDX>0,80,80<EOFIDX>", A2, "two images the last frame"),
    ("<CFV><BOFIDX>0,-1<EOFIDX>", [("a.png", IMG)], "2 frame position(s) for 1 attachment"),
    ("<CFV><BOFIDX>0,0<EOFIDX>", A2, "two images the first frame"),
    ("<CFV><BONF>80<EONF><BOFIDX>40<EOFIDX>", A2[:1], "frame 40 is neither the first"),
    ("<CFV><BOFIDX>40<EOFIDX>", A2[:1], "frame 40 is neither the first"),
    ("<CFV><BOFIDX>-2<EOFIDX>", A2[:1], "frame positions are 0"),
    ("<CFV><BOFIDX><EOFIDX>", A2[:1], "one frame position per attachment"),
    ("<CFV><CTRL>", [("a.mp4", VID), ("b.mp4", VID)], "<CTRL> takes one attachment"),
    ("<CFI><IMGPAD>", [], "placeholder"),
    ("<CFI><BORES>8,8<EORES>", [], "must be 64..4096"),
    ("<CFV><BONF>0<EONF>", [], "num_frames must be 2..1025"),
    ("<CFV><BONF>2000<EONF>", [], "must be 1..1025"),
    ("<CFI><BOEDIT>0,1<EOEDIT>", [("m.mp4", VID), ("p.png", IMG)], "needs the mask to be an image"),
    ("<CFV><CTRL>", [("pose.png", IMG)], "needs the control to be"),
    ("", [("a.png", IMG), ("b.mp4", VID)], "expected only images or only videos"),
]


@pytest.mark.parametrize(("tokens", "attachments", "needle"), MALFORMED, ids=[c[0] or "<empty>" for c in MALFORMED])
def test_every_malformed_string_raises_a_one_line_signal_token_error_that_says_what_is_expected(
    tokens: str, attachments: list[tuple[str, Media]], needle: str
) -> None:
    with pytest.raises(SignalTokenError) as info:
        decode(tokens, attachments)
    message = str(info.value)
    assert needle in message
    assert "\n" not in message
    assert isinstance(info.value, ValueError)


def test_signal_tokens_refuse_contradictions_when_built_by_hand() -> None:
    with pytest.raises(SignalTokenError, match="applies to videos"):
        SignalTokens(media=IMG, frame_positions=(0,))
    with pytest.raises(SignalTokenError, match="has no task token"):
        SignalTokens(ctrl=True)


# ------------------------------------------------------------------------------------------------ round trip
_EDIT_SOURCE_MEDIA = {Task.IMAGE_EDITING: IMG, Task.VIDEO_EDITING: VID}


@st.composite
def task_specs(draw: st.DrawFn) -> TaskSpec:
    task = draw(st.sampled_from(list(Task)))
    counter = iter(range(100))

    def name(media: Media) -> str:
        return f"f{next(counter)}.{'mp4' if media is VID else 'png'}"

    items: list[tuple[Media, Role]] = []
    missing: list[Role] = []
    if task is Task.IMAGE_UNDERSTANDING:
        items = [(IMG, Role.CONTEXT)] * draw(st.integers(1, 3))
    elif task is Task.VIDEO_UNDERSTANDING:
        items = [(VID, Role.CONTEXT)] * draw(st.integers(1, 2))
    elif task in _EDIT_SOURCE_MEDIA:
        items = [(_EDIT_SOURCE_MEDIA[task], Role.SOURCE)]
        if draw(st.booleans()):
            mask_media = draw(st.sampled_from([IMG, VID])) if task is Task.VIDEO_EDITING else IMG
            items.append((mask_media, Role.MASK))
        refs = draw(st.integers(0, 2))
        items += [(IMG, Role.REFERENCE)] * refs
        if refs == 0 and draw(st.booleans()):
            missing = [Role.REFERENCE]
    elif task in (Task.IMAGE_REFERENCE, Task.VIDEO_REFERENCE):
        items = [(IMG, Role.REFERENCE)] * draw(st.integers(0, 3))
        missing = [] if items else [Role.REFERENCE]
    elif task is Task.IMAGE_TO_VIDEO:
        frames = draw(st.sampled_from([[Role.FIRST_FRAME], [Role.LAST_FRAME], [Role.FIRST_FRAME, Role.LAST_FRAME]]))
        items = [(IMG, role) for role in frames]
    elif task in (Task.IMAGE_CONTROL, Task.VIDEO_CONTROL):
        if draw(st.booleans()):
            items = [(IMG if task is Task.IMAGE_CONTROL else VID, Role.CONTROL)]
        else:
            missing = [Role.CONTROL]
    items = draw(st.permutations(items))
    kw: dict[str, Any] = {"prompt": draw(st.text(max_size=30))}
    if task.is_generation:
        kw["width"] = 16 * draw(st.integers(4, 256))
        kw["height"] = 16 * draw(st.integers(4, 256))
        kw["seed"] = draw(st.none() | st.integers(0, 2**32 - 1))
        kw["num_outputs"] = draw(st.integers(1, 4))
    if task.output_media is VID:
        kw["fps"] = draw(st.sampled_from([None, 8, 16, 24, 30]))
        kw["num_frames"] = draw(st.integers(2, min(1025, (kw["fps"] or 16) * 64 + 1)))  # duration_s <= 64
    if task in (Task.IMAGE_CONTROL, Task.VIDEO_CONTROL):
        kw["control_type"] = draw(st.sampled_from([None, "pose", "depth", "canny", "scribble", "layout"]))
    inputs = [Input(path=name(media), media=media, role=role) for media, role in items]
    return TaskSpec(task=task, inputs=inputs, missing=missing, **kw)


@pytest.mark.slow
@settings(max_examples=300, deadline=None)
@given(task_specs())
def test_decode_of_encode_equals_the_spec_on_every_field_the_format_carries(the_spec: TaskSpec) -> None:
    tokens = encode(the_spec)
    got = decode(tokens, attachments_of(the_spec))
    for field in (*CARRIED_FIELDS, "missing"):
        assert getattr(got, field) == getattr(the_spec, field), field
    assert parse(tokens).render() == tokens


@pytest.mark.slow
@settings(max_examples=300, deadline=None)
@given(task_specs())
def test_decode_of_encode_with_the_uncarried_fields_as_defaults_gives_the_whole_spec(the_spec: TaskSpec) -> None:
    rest = {k: getattr(the_spec, k) for k in TaskSpec.model_fields if k not in (*CARRIED_FIELDS, "prompt")}
    got = decode(encode(the_spec), attachments_of(the_spec), prompt=the_spec.prompt, **rest)
    assert got == the_spec
