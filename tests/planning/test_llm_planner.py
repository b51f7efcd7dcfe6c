"""LLMPlanner with scripted chat models: what the model is shown, how its answer is read, repaired and checked,
when it is asked again, and when the embedded planner's plan is used instead. No torch, no network."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from langchain_core.language_models.fake_chat_models import FakeListChatModel, GenericFakeChatModel
from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.outputs import ChatResult
from pydantic import Field

from unison_agent.media import MediaError
from unison_agent.planning import Attachment, EmbeddedPlanner, Planned, PlanningError, llm
from unison_agent.planning.llm import LLMPlanner, PlanAnswer, contract_text, read_answer
from unison_agent.spec import Input, Media, Role, Task, TaskSpec

MediaFile = Callable[..., str]
Message = tuple[str, str]

NAME = "llm:fake:scripted"
Scripted = type[Any]  # the `scripted_chat` fixture: tests/conftest.py's ScriptedChat class


class Hung:
    """A chat model that does not answer until released (at most 30 s), as a stalled provider does; nothing the
    planner does can stop it."""

    def __init__(self) -> None:
        self.release = threading.Event()
        self.answered = threading.Event()
        self.calls = 0

    def invoke(self, messages: Sequence[Message]) -> str:
        self.calls += 1
        self.release.wait(30)
        self.answered.set()
        return "{}"


class Stoppable:
    """A chat model that can be stopped (``accepts_cancel``, as the local transformers model): it works until the
    ``cancel`` event its caller passes is set (at most 30 s), then ends."""

    accepts_cancel = True

    def __init__(self) -> None:
        self.cancels: list[threading.Event] = []
        self.ended = threading.Event()

    def invoke(self, messages: Sequence[Message], *, cancel: threading.Event) -> str:
        self.cancels.append(cancel)
        cancel.wait(30)
        self.ended.set()
        return "{}"


class ToolCalling(GenericFakeChatModel):
    """A LangChain chat model with tool calling (as OpenAI's or Anthropic's): ``with_structured_output`` binds the
    answer schema as a tool; each reply is the next scripted message. Keeps what was bound and what it was asked."""

    bound: list[tuple[list[Any], str | None]] = Field(default_factory=list)
    asked: list[list[BaseMessage]] = Field(default_factory=list)

    def bind_tools(self, tools: Sequence[Any], *, tool_choice: str | None = None, **kwargs: Any) -> ToolCalling:
        self.bound.append((list(tools), tool_choice))
        return self

    def _generate(self, messages: list[BaseMessage], *args: Any, **kwargs: Any) -> ChatResult:
        self.asked.append(list(messages))
        return super()._generate(messages, *args, **kwargs)


def plan_call(args: dict[str, Any], content: str = "") -> AIMessage:
    """A reply that calls the answer tool with ``args``."""
    return AIMessage(content=content, tool_calls=[{"name": "PlanAnswer", "args": args, "id": "call-1"}])


def call_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.endswith("-call")]


class RateLimitError(Exception):
    """Shaped like a provider SDK's error: a status code beside the message."""

    def __init__(self, message: str, status_code: int) -> None:
        super().__init__(message)
        self.status_code = status_code


def answer(**fields: Any) -> str:
    return json.dumps(fields)


def roles(spec: TaskSpec) -> dict[str, str]:
    return {Path(i.path).name: i.role.value for i in spec.inputs}


def planner(model: object, **kw: Any) -> LLMPlanner:
    return LLMPlanner(model, name=NAME, **kw)


def small(media: MediaFile, name: str, look: str = "photo") -> str:
    """A 96x64 file (a 12-frame clip at 8 fps for a video name)."""
    return media(name, look, size=(96, 64))


# ------------------------------------------------------------------------------------------------ a valid answer
def test_a_valid_answer_becomes_exactly_that_spec_under_the_planners_name(
    media: MediaFile, scripted_chat: Scripted
) -> None:
    photo = small(media, "beach.jpg")
    model = scripted_chat(
        answer(
            task="image_to_video",
            prompt="waves roll in",
            roles={"beach.jpg": "first_frame"},
            missing=[],
            width=480,
            height=832,
            num_frames=49,
            duration_s=3,
            seed=7,
            num_outputs=2,
            negative_prompt="blurry",
        )
    )
    planned = planner(model).plan_detailed("animate this, waves roll in, 3 seconds, vertical, seed 7, two", [photo])
    assert planned == Planned(
        TaskSpec(
            task=Task.IMAGE_TO_VIDEO,
            prompt="waves roll in",
            inputs=[Input(path=photo, media=Media.IMAGE, role=Role.FIRST_FRAME)],
            width=480,
            height=832,
            num_frames=49,
            fps=16,
            duration_s=3.0,
            seed=7,
            num_outputs=2,
            negative_prompt="blurry",
        ),
        NAME,
        notes=(),
        fallback=False,
        model_calls=1,
    )


def test_the_model_is_shown_the_contract_and_the_probed_facts_of_each_attachment(
    media: MediaFile, scripted_chat: Scripted
) -> None:
    files = [small(media, "IMG_0042.jpg"), small(media, "m.png", "mask"), small(media, "clip.mp4", "pose")]
    model = scripted_chat(
        answer(
            task="video_editing",
            prompt="a hat",
            roles={"IMG_0042.jpg": "reference", "m.png": "mask", "clip.mp4": "source"},
        )
    )
    planner(model).plan("put a hat on him", files)

    [messages] = model.calls
    assert messages[0] == ("system", contract_text())
    for task in Task:
        assert f"- {task.value}:" in messages[0][1]
    role, request = messages[-1]
    assert role == "human"
    clip = Attachment.probe(files[2])
    lines = request.splitlines()
    assert lines[0] == "Request: put a hat on him"
    assert lines[lines.index("Attached files, in order:") + 1 :][:3] == [
        "1. IMG_0042.jpg: image, 96x64, looks like a photo or picture",
        "2. m.png: image, 96x64, looks like a mask (white = the area to change)",
        f"3. clip.mp4: video, 96x64, {clip.duration_s:g} s at {clip.fps:g} fps, looks like a pose skeleton",
    ]


def test_two_files_with_one_name_are_numbered_and_either_can_be_given_a_role(
    media: MediaFile, tmp_path: Path, scripted_chat: Scripted
) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    photo, mask = small(media, "a/x.png"), small(media, "b/x.png", "mask")
    model = scripted_chat(
        answer(task="image_editing", prompt="a hat", roles={"x.png (file 1)": "source", "#2": "mask"})
    )
    spec = planner(model).plan("put a hat on him", [photo, mask])

    request = model.calls[0][-1][1]
    assert "1. x.png (file 1): image" in request and "2. x.png (file 2): image" in request
    assert [(i.path, i.role) for i in spec.inputs] == [(photo, Role.SOURCE), (mask, Role.MASK)]


def test_langchains_own_fake_chat_models_plan_like_any_chat_model() -> None:
    text_reply = FakeListChatModel(responses=[answer(task="text_to_image", prompt="a cat")])
    blocks_reply = GenericFakeChatModel(
        messages=iter([AIMessage(content=[{"type": "text", "text": answer(task="text_to_image", prompt="a cat")}])])
    )
    for model in (text_reply, blocks_reply):
        planned = planner(model).plan_detailed("a picture of a cat")
        assert planned.spec == TaskSpec(task=Task.TEXT_TO_IMAGE, prompt="a cat")
        assert (planned.planner, planned.fallback, planned.model_calls) == (NAME, False, 1)


CAT = TaskSpec(task=Task.TEXT_TO_IMAGE, prompt="a cat")


# ------------------------------------------------------------------------------------------------ structured output
def test_a_model_with_tool_calling_answers_in_the_plan_schema_and_no_text_is_read(
    media: MediaFile, monkeypatch: pytest.MonkeyPatch
) -> None:
    files = [small(media, "IMG_0042.jpg"), small(media, "m.png", "mask")]
    roles_given = [{"file": "IMG_0042.jpg", "role": "source"}, {"file": "m.png", "role": "mask"}]
    model = ToolCalling(
        messages=iter([plan_call({"task": "image_editing", "prompt": "a hat", "roles": roles_given, "missing": []})])
    )

    def no_text(reply: str) -> Any:
        raise AssertionError(f"read text {reply!r}")

    monkeypatch.setattr(llm, "read_answer", no_text)
    planned = planner(model).plan_detailed("put a hat on him", files)

    assert [(tools, choice) for tools, choice in model.bound] == [([PlanAnswer], "any")]
    assert planned.spec.task is Task.IMAGE_EDITING and planned.spec.prompt == "a hat"
    assert roles(planned.spec) == {"IMG_0042.jpg": "source", "m.png": "mask"}
    assert (planned.planner, planned.fallback, planned.model_calls) == (NAME, False, 1)
    assert planned.notes == ("not in the answer, from the rules: width, height",)
    [asked] = model.asked
    assert asked[0].content == contract_text()  # the same contract and request as a text model gets


@pytest.mark.parametrize(
    ("reply", "note"),
    [
        (plan_call({"task": "Text To Image", "prompt": "a cat"}), "read task 'Text To Image' as text_to_image"),
        (
            AIMessage(
                content="",
                invalid_tool_calls=[
                    {
                        "name": "PlanAnswer",
                        "args": '{"task": "text_to_image", "prompt": "a cat",}',
                        "id": "call-1",
                        "error": "Function PlanAnswer arguments are not valid JSON",
                    }
                ],
            ),
            "removed trailing commas",
        ),
        (
            AIMessage(content='Here: {"task": "text_to_image", "prompt": "a cat"}'),
            "took the JSON object out of the text around it",
        ),
    ],
    ids=["outside-the-schema", "broken-arguments", "text-instead-of-a-call"],
)
def test_a_structured_answer_that_does_not_parse_goes_through_the_repairs(reply: AIMessage, note: str) -> None:
    planned = planner(ToolCalling(messages=iter([reply]))).plan_detailed("a picture of a cat")
    assert planned.spec == CAT
    assert note in planned.notes
    assert (planned.planner, planned.fallback, planned.model_calls) == (NAME, False, 1)


def test_an_invalid_structured_answer_is_sent_back_as_text_and_the_correction_used() -> None:
    first = {"task": "make_video", "prompt": "a cat"}
    model = ToolCalling(messages=iter([plan_call(first), plan_call({"task": "text_to_image", "prompt": "a cat"})]))
    planned = planner(model).plan_detailed("a picture of a cat")

    assert planned.spec == CAT and planned.model_calls == 2
    assert planned.notes[-1] == "the model corrected its answer on try 2"
    # The retry shows the first answer as the model's text (a tool call would need a tool result after it).
    again = model.asked[1]
    assert (again[-2].type, json.loads(again[-2].text)) == ("ai", first)
    assert again[-1].type == "human" and again[-1].text.startswith("That answer is not a valid plan: task: ")


def test_a_model_without_tool_calling_is_asked_for_text() -> None:
    model = GenericFakeChatModel(messages=iter([answer(task="text_to_image", prompt="a cat")]))
    planned = planner(model).plan_detailed("a picture of a cat")
    assert planned.spec == CAT and planned.notes == ()


# ------------------------------------------------------------------------------------------------ reading


@pytest.mark.parametrize(
    ("reply", "note"),
    [
        (
            '```json\n{"task": "text_to_image", "prompt": "a cat", "roles": {}, "missing": []}\n```',
            "took the JSON object out of the text around it",
        ),
        (
            'Here is the plan: {"task": "text_to_image", "prompt": "a cat"} Let me know!',
            "took the JSON object out of the text around it",
        ),
        ('{"task": "text_to_image", "prompt": "a cat", "missing": [],}', "removed trailing commas"),
        (
            "{'task': 'text_to_image', 'prompt': 'a cat', 'seed': None, 'negative_prompt': None, 'x': True}",
            "read the answer as a Python literal (single quotes or True/None)",
        ),
        ('{"task": "text_to_image", "prompt": "a cat", "roles": {}, "missing": [', "closed a reply that was cut off"),
    ],
    ids=["code-fence", "text-around", "trailing-commas", "python-literal", "cut-off"],
)
def test_a_broken_but_readable_answer_is_read_and_the_repair_noted(
    reply: str, note: str, scripted_chat: Scripted
) -> None:
    planned = planner(scripted_chat(reply)).plan_detailed("a picture of a cat")
    assert planned.spec == CAT
    assert note in planned.notes
    assert (planned.planner, planned.fallback, planned.model_calls) == (NAME, False, 1)


def test_read_answer_finds_the_first_object_and_keeps_braces_inside_strings() -> None:
    assert read_answer('{"prompt": "a {curly} \\"cat\\""} and then } more') == (
        {"prompt": 'a {curly} "cat"'},
        [],
    )
    assert read_answer('{"prompt": "a ca') == ({"prompt": "a ca"}, ["closed a reply that was cut off"])
    assert read_answer('[{"task": "text_to_image"}]')[0] == {"task": "text_to_image"}


@pytest.mark.parametrize(
    ("reply", "why"),
    [
        ("It is a picture of a cat.", "the reply holds no JSON object"),
        ('{"task": "text_to_image", "prompt": "a cat", "width": ', "its JSON cannot be read (SyntaxError"),
    ],
)
def test_read_answer_says_why_a_reply_cannot_be_read(reply: str, why: str) -> None:
    with pytest.raises(ValueError) as err:
        read_answer(reply)
    assert str(err.value).startswith(why)


# ------------------------------------------------------------------------------------------------ retry, fallback
def test_an_unreadable_answer_is_sent_back_once_and_the_corrected_plan_is_used(scripted_chat: Scripted) -> None:
    first = "Sure! This is a text to image request about a cat."
    model = scripted_chat(first, answer(task="text_to_image", prompt="a cat"))
    planned = planner(model).plan_detailed("a picture of a cat")

    assert planned.spec == CAT
    assert (planned.planner, planned.fallback, planned.model_calls) == (NAME, False, 2)
    assert planned.notes[0].startswith("try 1: the model's answer is not a valid plan: the reply holds no JSON object")
    assert planned.notes[-1] == "the model corrected its answer on try 2"
    asked = len(model.calls[0])
    assert model.calls[1][:asked] == model.calls[0]
    assert model.calls[1][asked] == ("ai", first)
    role, feedback = model.calls[1][asked + 1]
    assert role == "human"
    assert feedback.startswith("That answer is not a valid plan: the reply holds no JSON object")
    assert feedback.endswith("Reply with the corrected JSON object only.")


def test_two_invalid_answers_leave_the_embedded_plan_and_say_why(media: MediaFile, scripted_chat: Scripted) -> None:
    photo = small(media, "IMG_0042.jpg")
    text = "animate this photo"
    model = scripted_chat(answer(task="make_video", prompt="x"), answer(task="animate", prompt="x"))
    planned = planner(model).plan_detailed(text, [photo])

    assert planned.spec == EmbeddedPlanner().plan(text, [photo])
    assert (planned.planner, planned.fallback, planned.model_calls) == ("embedded", True, 2)
    assert "task: 'make_video' is not a task; allowed: text_understanding" in planned.notes[0]
    assert "task: 'animate' is not a task" in planned.notes[-1]
    assert planned.notes[-1].endswith("; used the embedded planner's plan")


def test_with_no_retries_an_invalid_answer_is_not_sent_back(scripted_chat: Scripted) -> None:
    model = scripted_chat("no idea", answer(task="text_to_image", prompt="a cat"))
    planned = planner(model, retries=0).plan_detailed("a picture of a cat")

    assert len(model.calls) == 1 and planned.model_calls == 1
    assert planned.fallback and planned.planner == "embedded"
    [note] = planned.notes
    assert "the reply holds no JSON object" in note


# ------------------------------------------------------------------------------------------------ repairs
@pytest.mark.parametrize(
    ("fields", "expected", "note"),
    [
        ({"frames": 49}, {"num_frames": 49, "duration_s": 3.0}, "read field 'frames' as num_frames"),
        ({"seconds": 3}, {"num_frames": 49, "duration_s": 3.0}, "read field 'seconds' as duration_s"),
        ({"Frame Rate": 24}, {"fps": 24, "num_frames": 121}, "read field 'Frame Rate' as fps"),  # 5 s at 24 fps
        ({"resolution": "1280x720"}, {"width": 1280, "height": 720}, "read resolution '1280x720' as width and height"),
        ({"size": "720 × 1280"}, {"width": 720, "height": 1280}, "read size '720 × 1280' as width and height"),
    ],
)
def test_field_name_aliases_are_read_as_the_contracts_fields(
    fields: dict[str, Any], expected: dict[str, Any], note: str, scripted_chat: Scripted
) -> None:
    planned = planner(scripted_chat(answer(task="text_to_video", prompt="a fox", **fields))).plan_detailed(
        "a fox video"
    )
    assert planned.spec == TaskSpec(task=Task.TEXT_TO_VIDEO, prompt="a fox", **expected)
    assert note in planned.notes and not planned.fallback


def test_a_plan_inside_a_wrapper_object_is_taken_out(scripted_chat: Scripted) -> None:
    reply = json.dumps({"plan": {"task": "text_to_image", "prompt": "a cat"}})
    planned = planner(scripted_chat(reply)).plan_detailed("a picture of a cat")
    assert planned.spec == CAT
    assert planned.notes == ("took the plan out of its 'plan' wrapper",)


def test_loose_spellings_of_task_and_roles_and_numbered_files_are_read(
    media: MediaFile, scripted_chat: Scripted
) -> None:
    files = [small(media, "IMG_0042.jpg"), small(media, "m.png", "mask")]
    reply = answer(task="Image Editing", prompt="a hat", roles={"1": "Source", "2": "MASK"}, missing=[])
    planned = planner(scripted_chat(reply)).plan_detailed("put a hat on him", files)

    assert planned.spec.task is Task.IMAGE_EDITING
    assert roles(planned.spec) == {"IMG_0042.jpg": "source", "m.png": "mask"}
    assert planned.notes == (
        "read task 'Image Editing' as image_editing",
        "read role 'Source' as source",
        "read role 'MASK' as mask",
        "not in the answer, from the rules: width, height",  # the rules size an edit like its 96x64 source
    )


def test_a_role_alias_and_a_file_name_in_another_case_are_read(media: MediaFile, scripted_chat: Scripted) -> None:
    photo = small(media, "IMG_0042.jpg")
    reply = answer(task="image_to_video", prompt="waves", roles={"img_0042.JPG": "first frame"})
    planned = planner(scripted_chat(reply)).plan_detailed("animate this", [photo])
    assert roles(planned.spec) == {"IMG_0042.jpg": "first_frame"}
    assert planned.notes == (
        "read role 'first frame' as first_frame",
        "not in the answer, from the rules: width, height",
    )


def test_an_unknown_field_is_ignored_with_a_note(scripted_chat: Scripted) -> None:
    planned = planner(scripted_chat(answer(task="text_to_image", prompt="a cat", mood="happy"))).plan_detailed("a cat")
    assert planned.spec == CAT
    assert planned.notes == ("ignored field 'mood'",)


def test_fields_that_do_not_apply_to_the_task_are_dropped(media: MediaFile, scripted_chat: Scripted) -> None:
    image = planner(scripted_chat(answer(task="text_to_image", prompt="a cat", fps=24, duration_s=2))).plan_detailed(
        "cat"
    )
    assert image.spec == CAT
    assert image.notes == (
        "dropped fps (does not apply to text_to_image)",
        "dropped duration_s (does not apply to text_to_image)",
    )

    photo = small(media, "dog.png")
    reply = answer(task="image_understanding", prompt="what breed?", roles={"dog.png": "context"}, width=512, seed=1)
    question = planner(scripted_chat(reply)).plan_detailed("what breed?", [photo])
    assert question.spec == TaskSpec(
        task=Task.IMAGE_UNDERSTANDING,
        prompt="what breed?",
        inputs=[Input(path=photo, media=Media.IMAGE, role=Role.CONTEXT)],
    )
    assert question.notes == (
        "dropped width (does not apply to image_understanding)",
        "dropped seed (does not apply to image_understanding)",
    )


def test_a_role_for_a_file_that_was_not_attached_is_sent_back_as_a_problem(
    media: MediaFile, scripted_chat: Scripted
) -> None:
    files = [small(media, "IMG_0042.jpg"), small(media, "m.png", "mask")]
    model = scripted_chat(
        answer(task="image_editing", prompt="a hat", roles={"photo.jpg": "source"}),
        answer(task="image_editing", prompt="a hat", roles={"IMG_0042.jpg": "source", "m.png": "mask"}),
    )
    planned = planner(model).plan_detailed("put a hat on him", files)

    assert planned.model_calls == 2 and not planned.fallback
    assert roles(planned.spec) == {"IMG_0042.jpg": "source", "m.png": "mask"}
    assert "roles: 'photo.jpg' is not an attached file; the files are: IMG_0042.jpg, m.png" in model.calls[1][-1][1]


def test_an_attachment_the_model_gave_no_role_gets_the_rules_role_with_a_note(
    media: MediaFile, scripted_chat: Scripted
) -> None:
    files = [small(media, "IMG_0042.jpg"), small(media, "m.png", "mask")]
    reply = answer(task="image_editing", prompt="a hat", roles={"IMG_0042.jpg": "source"})
    planned = planner(scripted_chat(reply)).plan_detailed("put a hat on him", files)

    assert roles(planned.spec) == {"IMG_0042.jpg": "source", "m.png": "mask"}
    assert planned.notes == (
        "m.png: no role given; the rules say mask",
        "not in the answer, from the rules: width, height",
    )


def test_missing_lists_only_roles_that_the_task_needs_and_were_not_attached(
    media: MediaFile, scripted_chat: Scripted
) -> None:
    photo = small(media, "IMG_0042.jpg")
    reply = answer(task="image_editing", prompt="a hat", roles={"IMG_0042.jpg": "source"}, missing=["source", "last"])
    attached = planner(scripted_chat(reply)).plan_detailed("put a hat on him", [photo])
    assert attached.spec.missing == []
    assert attached.notes == (
        "dropped source from missing (it is attached or not used by image_editing)",
        "dropped last_frame from missing (it is attached or not used by image_editing)",
        "not in the answer, from the rules: width, height",
    )


def test_an_answer_whose_task_needs_a_file_it_neither_has_nor_lists_as_missing_is_sent_back(
    scripted_chat: Scripted,
) -> None:
    # "image_editing" with nothing attached and nothing missing contradicts itself: the model is asked again.
    model = scripted_chat(
        answer(task="image_editing", prompt="a hat", missing=[]),
        answer(task="image_editing", prompt="a hat", missing=["source"]),
    )
    planned = planner(model).plan_detailed("add a hat")
    assert (planned.spec.missing, planned.model_calls, planned.fallback) == ([Role.SOURCE], 2, False)
    assert (
        "image_editing needs a source but no attached file plays it and missing does not list it"
        in (model.calls[1][-1][1])
    )


def test_an_image_to_video_answer_with_no_frame_anywhere_falls_back_when_repeated(scripted_chat: Scripted) -> None:
    reply = answer(task="image_to_video", prompt="waves roll in", roles={}, missing=[])
    model = scripted_chat(reply, reply)
    planned = planner(model).plan_detailed("animate this: waves roll in")
    assert planned.fallback and planned.model_calls == 2
    assert planned.spec == EmbeddedPlanner().plan("animate this: waves roll in")
    assert "image_to_video needs a first_frame" in planned.notes[-1]


def test_frames_and_seconds_that_disagree_keep_the_frames(scripted_chat: Scripted) -> None:
    reply = answer(task="text_to_video", prompt="a fox", num_frames=49, fps=16, duration_s=5)
    planned = planner(scripted_chat(reply)).plan_detailed("a fox video")
    assert (planned.spec.num_frames, planned.spec.fps, planned.spec.duration_s) == (49, 16, 3.0)
    assert planned.notes == ("dropped duration_s 5: it disagrees with 49 frames at 16 fps",)


def test_settings_the_model_left_out_come_from_the_rules_as_groups(media: MediaFile, scripted_chat: Scripted) -> None:
    photo = small(media, "IMG_0042.jpg")
    said = "animate this, 3 seconds, seed 7"
    bare = answer(task="image_to_video", prompt="animate this", roles={"IMG_0042.jpg": "first_frame"})
    planned = planner(scripted_chat(bare)).plan_detailed(said, [photo])
    rules = EmbeddedPlanner().plan(said, [photo])
    assert (planned.spec.num_frames, planned.spec.duration_s, planned.spec.seed) == (49, 3.0, 7)
    assert (planned.spec.width, planned.spec.height) == (rules.width, rules.height)
    assert planned.notes == ("not in the answer, from the rules: width, height, num_frames, fps, duration_s, seed",)

    # A model that states its own length keeps it whole: the rules' seconds are not mixed in.
    own = answer(task="image_to_video", prompt="animate this", roles={"IMG_0042.jpg": "first_frame"}, num_frames=33)
    planned = planner(scripted_chat(own)).plan_detailed(said, [photo])
    assert (planned.spec.num_frames, planned.spec.fps, planned.spec.duration_s) == (33, 16, 2.0)


def test_an_empty_prompt_is_filled_from_the_rules(scripted_chat: Scripted) -> None:
    planned = planner(scripted_chat(answer(task="text_to_image", prompt=" "))).plan_detailed("a cat, 1080p")
    assert planned.spec.prompt == EmbeddedPlanner().plan("a cat, 1080p").prompt
    assert planned.notes == (
        "no prompt given; the rules' prompt used",
        "not in the answer, from the rules: width, height",
    )  # 1080p, said
    assert (planned.spec.width, planned.spec.height) == (1920, 1080)


# ------------------------------------------------------------------------------------------------ slow, failing
def test_a_model_slower_than_the_timeout_that_cannot_be_stopped_is_not_waited_for() -> None:
    model = Hung()
    try:
        planned = planner(model, timeout_s=0.2).plan_detailed("a red fox in the snow")
        answered = model.answered.is_set()
    finally:
        model.release.set()
    assert not answered  # the planner came back while the model was still hung
    assert planned.spec == EmbeddedPlanner().plan("a red fox in the snow")
    assert (planned.planner, planned.fallback, planned.model_calls, model.calls) == ("embedded", True, 1, 1)
    assert planned.notes == ("the model did not answer within 0.2 s; used the embedded planner's plan",)


def test_a_model_that_can_be_stopped_is_stopped_when_the_timeout_passes_and_its_call_has_ended() -> None:
    model = Stoppable()
    planned = planner(model, timeout_s=0.05).plan_detailed("a red fox in the snow")

    [cancel] = model.cancels
    assert cancel.is_set() and model.ended.is_set()
    assert call_threads() == []  # the planner waited for the stopped call to end
    assert planned.spec == EmbeddedPlanner().plan("a red fox in the snow")
    assert (planned.planner, planned.fallback, planned.model_calls) == ("embedded", True, 1)
    assert planned.notes == ("the model did not answer within 0.05 s; used the embedded planner's plan",)


def test_a_model_that_answers_in_time_is_not_stopped() -> None:
    class Quick(Stoppable):
        def invoke(self, messages: Sequence[Message], *, cancel: threading.Event) -> str:
            self.cancels.append(cancel)
            return answer(task="text_to_image", prompt="a cat")

    model = Quick()
    planned = planner(model, timeout_s=30).plan_detailed("a picture of a cat")
    assert planned.spec == CAT and not planned.fallback
    assert [c.is_set() for c in model.cancels] == [False]


@pytest.mark.parametrize(
    ("error", "named"),
    [
        (RuntimeError("CUDA out of memory"), "RuntimeError: CUDA out of memory"),
        (RateLimitError("429 Too Many Requests", status_code=429), "RateLimitError: 429 Too Many Requests"),
        (ConnectionError("connection refused"), "ConnectionError: connection refused"),
    ],
)
def test_a_failing_model_leaves_the_embedded_plan_and_names_the_error(
    error: Exception, named: str, scripted_chat: Scripted
) -> None:
    model = scripted_chat(error)
    planned = planner(model).plan_detailed("a red fox in the snow")
    assert planned.spec == EmbeddedPlanner().plan("a red fox in the snow")
    assert (planned.planner, planned.fallback, planned.model_calls) == ("embedded", True, 1)
    assert planned.notes == (f"the model failed ({named}); used the embedded planner's plan",)


def test_a_model_that_returns_no_message_counts_as_failing(scripted_chat: Scripted) -> None:
    planned = planner(scripted_chat(42)).plan_detailed("a red fox in the snow")
    assert planned.fallback
    assert planned.notes[0].startswith("the model failed (ValueError: the model returned int, not a chat message)")


# ------------------------------------------------------------------------------------------------ hybrid
def test_hybrid_does_not_ask_the_model_when_the_rules_are_sure(scripted_chat: Scripted) -> None:
    text = "a red fox in the snow, 3 seconds"
    assert EmbeddedPlanner().assess(text)[1] == []
    model = scripted_chat()
    planned = planner(model, hybrid=True).plan_detailed(text)

    assert model.calls == []
    assert planned == Planned(
        EmbeddedPlanner().plan(text), "embedded", ("hybrid: the embedded planner was sure; the model was not asked",)
    )
    assert planned.spec.num_frames == 49


@pytest.fixture
def unsure(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every decision of the embedded planner is a doubt (which requests the shipped model doubts changes with
    each retraining; these tests are about what the hybrid planner does with a doubt)."""
    monkeypatch.setattr("unison_agent.planning.learned.DOUBT_BELOW", 1.01)


@pytest.mark.usefixtures("unsure")
def test_hybrid_asks_the_model_when_the_rules_have_doubts(media: MediaFile, scripted_chat: Scripted) -> None:
    photo = small(media, "IMG_0042.jpg")
    drafted, doubts = EmbeddedPlanner().assess("hmm", [photo])
    assert doubts  # no word says whether to answer about the picture or to make something
    model = scripted_chat(
        answer(task="image_to_video", prompt="bring it to life", roles={"IMG_0042.jpg": "first_frame"})
    )
    planned = planner(model, hybrid=True).plan_detailed("hmm", [photo])

    assert len(model.calls) == 1
    assert (planned.planner, planned.fallback, planned.model_calls) == (NAME, False, 1)
    assert planned.spec.task is Task.IMAGE_TO_VIDEO
    assert planned.notes == (
        f"hybrid: the embedded planner was unsure ({'; '.join(doubts)}); asked the model",
        "not in the answer, from the rules: width, height",
    )
    # The model is shown the rules' draft and why they doubt it; the full (non-hybrid) mode shows no draft.
    request = model.calls[0][-1][1]
    roles = {Path(i.path).name: i.role.value for i in drafted.inputs}
    draft = json.dumps({"task": drafted.task.value, "prompt": "hmm", "roles": roles, "missing": []})[:-1]
    assert f"The embedded planner drafted {draft}" in request
    assert f"but is unsure: {'; '.join(doubts)}." in request
    full = scripted_chat(answer(task="image_understanding", prompt="hmm", roles={"IMG_0042.jpg": "context"}))
    planner(full).plan("hmm", [photo])
    assert "drafted" not in full.calls[0][-1][1]


# ------------------------------------------------------------------------------------------------ errors
def test_when_neither_the_model_nor_the_rules_can_plan_both_reasons_are_given(scripted_chat: Scripted) -> None:
    text = "a 60 second video of a fox running at 24 fps"
    with pytest.raises(PlanningError):
        EmbeddedPlanner().plan(text)
    with pytest.raises(PlanningError, match=r"1441 frames.* \(and the model failed \(RuntimeError: down\)\)$"):
        planner(scripted_chat(RuntimeError("down"))).plan(text)


def test_a_missing_attachment_raises_media_error_before_the_model_is_asked(
    tmp_path: Path, scripted_chat: Scripted
) -> None:
    model = scripted_chat(answer(task="image_editing", prompt="x"))
    with pytest.raises(MediaError, match=r"nothing\.png"):
        planner(model).plan("edit this", [str(tmp_path / "nothing.png")])
    assert model.calls == []


# ------------------------------------------------------------------------------------------------ prefill
def test_a_prefill_starts_the_models_turn_and_its_continuation_is_read(scripted_chat: Scripted) -> None:
    model = scripted_chat('text_to_image", "prompt": "a cat", "roles": {}, "missing": []}')
    planned = planner(model, prefill='{"task": "').plan_detailed("a picture of a cat")
    assert model.calls[0][-1] == ("ai", '{"task": "')
    assert model.calls[0][-2][0] == "human" and model.calls[0][-2][1].startswith("Request: a picture of a cat")
    assert planned.spec == CAT and planned.notes == ()


def test_a_model_that_repeats_the_prefill_is_read_once(scripted_chat: Scripted) -> None:
    model = scripted_chat(AIMessage(content='{"task": "text_to_image", "prompt": "a cat"}'))
    planned = planner(model, prefill='{"task": "').plan_detailed("a picture of a cat")
    assert planned.spec == CAT and not planned.fallback


# ------------------------------------------------------------------------------------------------ constructor
@pytest.mark.parametrize(
    ("model", "kw", "error", "match"),
    [
        ("gpt-4o-mini", {}, TypeError, "chat_model must be a LangChain chat model .with .invoke., got str"),
        (FakeListChatModel(responses=[]), {"timeout_s": 0}, ValueError, "timeout_s must be > 0, got 0"),
        (FakeListChatModel(responses=[]), {"timeout_s": -1.5}, ValueError, "timeout_s must be > 0, got -1.5"),
        (FakeListChatModel(responses=[]), {"retries": -1}, ValueError, "retries must be >= 0, got -1"),
    ],
)
def test_the_constructor_rejects_what_cannot_work(model: object, kw: dict[str, Any], error: type, match: str) -> None:
    with pytest.raises(error, match=match):
        LLMPlanner(model, **kw)


# ------------------------------------------------------------------------------------------------ round trip
_FILES = {
    "photo": Attachment("/in/IMG_0042.jpg", Media.IMAGE, "photo", 640, 480),
    "mask": Attachment("/in/m.png", Media.IMAGE, "mask", 640, 480),
    "pose": Attachment("/in/dance.mp4", Media.VIDEO, "pose", 832, 480, 33, 16.0, 2.0),
    "clip": Attachment("/in/street.mov", Media.VIDEO, "photo", 1280, 720, 49, 24.0, 2.0),
    "portrait": Attachment("/in/face.png", Media.IMAGE, "photo", 480, 640),
}
_REQUESTS = [
    "a red fox in the snow",
    "what is in this picture?",
    "make it winter",
    "animate this",
    "put this character on a beach",
    "follow the dance moves",
    "write a haiku about rain",
    "erase the lamp post",
]
_SETTINGS = ["", ", 3 seconds", ", 1080p", ", seed 7", ", vertical", ", two versions", ", at 24 fps", ", as a video"]


# The fixture gives a class, not state: sharing it between examples is what the test means.
@pytest.mark.slow
@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    request=st.sampled_from(_REQUESTS),
    extras=st.lists(st.sampled_from(_SETTINGS), max_size=3, unique=True),
    files=st.lists(st.sampled_from(sorted(_FILES)), max_size=3, unique=True),
)
def test_a_model_that_answers_the_rules_own_plan_gets_that_plan_back(
    request: str, extras: list[str], files: list[str], scripted_chat: Scripted
) -> None:
    text = request + "".join(extras)
    atts = [_FILES[f] for f in files]
    try:
        spec = EmbeddedPlanner().plan(text, atts)
    except PlanningError:
        assume(False)  # a combination no task takes: nothing to round-trip
        raise
    fields = spec.model_dump(mode="json", exclude={"inputs"})
    fields["roles"] = {Path(i.path).name: i.role.value for i in spec.inputs}
    planned = planner(scripted_chat(json.dumps(fields))).plan_detailed(text, atts)
    assert planned.spec == spec
    assert (planned.planner, planned.fallback, planned.model_calls) == (NAME, False, 1)


class LoadsOnFirstUse:
    """A model that loads its weights on first use, as a hybrid planner's local model does; ``chat`` answers."""

    def __init__(self, chat: Any, fail: BaseException | None = None) -> None:
        self.chat = chat
        self.fail = fail
        self.loaded_in: list[str] = []

    def invoke(self, messages: Sequence[Message]) -> object:
        return self.chat.invoke(messages)

    def ensure_loaded(self) -> None:
        self.loaded_in.append(threading.current_thread().name)
        if self.fail is not None:
            raise self.fail


@pytest.mark.usefixtures("unsure")
def test_a_model_that_loads_on_first_use_is_loaded_before_the_timed_call(
    media: MediaFile, scripted_chat: Scripted
) -> None:
    photo = small(media, "IMG_0042.jpg")
    chat = scripted_chat(answer(task="image_to_video", prompt="hmm", roles={"IMG_0042.jpg": "first_frame"}))
    model = LoadsOnFirstUse(chat)
    planned = planner(model, hybrid=True, timeout_s=5).plan_detailed("hmm", [photo])

    # Loaded in the caller's thread, outside the call that timeout_s limits; then asked once.
    assert model.loaded_in == [threading.current_thread().name]
    assert (planned.planner, planned.fallback, len(chat.calls)) == (NAME, False, 1)


@pytest.mark.usefixtures("unsure")
def test_a_model_that_cannot_be_loaded_falls_back_to_the_rules_with_the_reason(
    media: MediaFile, scripted_chat: Scripted
) -> None:
    photo = small(media, "IMG_0042.jpg")
    chat = scripted_chat()
    model = LoadsOnFirstUse(chat, fail=OSError("no weights in /models/x"))
    planned = planner(model, hybrid=True).plan_detailed("hmm", [photo])

    assert planned.fallback and planned.planner == "embedded" and chat.calls == []
    assert planned.spec == EmbeddedPlanner().plan("hmm", [photo])
    assert planned.notes[-1] == (
        "the model could not be loaded (OSError: no weights in /models/x); used the embedded planner's plan"
    )


def test_a_request_over_the_length_cap_is_refused_before_the_model_is_asked(scripted_chat: Scripted) -> None:
    model = scripted_chat(answer(task="text_to_image", prompt="x"))
    with pytest.raises(PlanningError, match=r"the request is 10,001 characters; the limit is 10,000"):
        planner(model).plan_detailed("x" * 10_001)
    assert model.calls == []
