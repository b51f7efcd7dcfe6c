"""The whole Unison path on a real (tiny, random) Qwen2.5-VL whose tokenizer has Unison's tokens: the request is
rendered, tokenized with the chat template, generated, decoded with its special tokens and planned. The random
model is steered to write a known string, so each step runs for real and the result is checkable."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pytest
import torch

from unison_agent.planners.unison_lm import UnisonGenerator
from unison_agent.planning.unison import UnisonPlanner
from unison_agent.spec import Task
from unison_agent.tools.errors import ModelUnavailableError
from unison_agent.tools.tiny import ensure_tiny


class Steer:
    """A ``prefix_allowed_tokens_fn`` that lets the model write only ``target``'s tokens, then ``<|im_end|>``.

    The first call of a generation sees the prompt alone, which tells where the new tokens begin; ``prompts``
    keeps each prompt's token ids."""

    def __init__(self) -> None:
        self.tokenizer: Any = None
        self.target: list[int] = []
        self.start: int | None = None
        self.prompts: list[list[int]] = []

    def expect(self, target: str) -> None:
        self.target = self.tokenizer(target, add_special_tokens=False)["input_ids"]
        self.start = None

    def __call__(self, batch_id: int, input_ids: torch.Tensor) -> list[int]:
        if self.start is None:
            self.start = int(input_ids.shape[-1])
            self.prompts.append(input_ids.tolist())
        k = int(input_ids.shape[-1]) - self.start
        return [self.target[k]] if k < len(self.target) else [self.tokenizer.convert_tokens_to_ids("<|im_end|>")]


@pytest.fixture(scope="module")
def steered() -> tuple[UnisonGenerator, Steer]:
    steer = Steer()
    generator = UnisonGenerator.load(
        str(ensure_tiny("unison-planner")),
        device="cpu",
        dtype="float32",
        max_new_tokens=64,
        generate_kwargs={"prefix_allowed_tokens_fn": steer},
    )
    steer.tokenizer = generator.processor.tokenizer
    return generator, steer


def _plan(steered: tuple[UnisonGenerator, Steer], target: str, text: str, files: Sequence[str] = ()) -> Any:
    generator, steer = steered
    steer.expect(target)
    return UnisonPlanner(generator).plan_detailed(text, files)


def test_an_editing_request_with_mask_and_source_is_planned_from_the_models_tokens(
    steered: tuple[UnisonGenerator, Steer], media: Callable[..., str]
) -> None:
    photo, mask = media("cat.jpg", size=(96, 64)), media("hat_mask.png", "mask", size=(96, 64))
    planned = _plan(
        steered,
        "<CFI><BORES>832,480<EORES><BOEDIT>1,0<EOEDIT>",
        "put a hat on the cat in cat.jpg where hat_mask.png is white",
        [photo, mask],
    )
    spec = planned.spec
    assert spec.task is Task.IMAGE_EDITING
    assert {Path(i.path).name: i.role.value for i in spec.inputs} == {"cat.jpg": "source", "hat_mask.png": "mask"}
    assert (spec.width, spec.height, spec.num_frames) == (832, 480, 1)
    assert planned.notes[0] == "unison: '<CFI><BORES>832,480<EORES><BOEDIT>1,0<EOEDIT>' -> image_editing"
    assert not planned.fallback and planned.model_calls == 1
    # The model read the request in Unison's format: two image placeholders, each one token.
    _, steer = steered
    tokenizer = steer.tokenizer
    assert steer.prompts[-1].count(tokenizer.convert_tokens_to_ids("<IMGPAD>")) == 2
    assert "put a hat on the cat in <IMGPAD> where <IMGPAD> is white" in tokenizer.decode(steer.prompts[-1])


def test_a_text_to_video_request_takes_size_and_length_from_res_and_nf(steered: tuple[UnisonGenerator, Steer]) -> None:
    planned = _plan(steered, "<CFV><BORES>1280,720<EORES><BONF>48<EONF>", "a red fox runs through the snow at 24 fps")
    spec = planned.spec
    assert spec.task is Task.TEXT_TO_VIDEO
    assert (spec.width, spec.height, spec.num_frames, spec.fps, spec.duration_s) == (1280, 720, 49, 24, 2.0)
    assert spec.prompt == "a red fox runs through the snow"
    assert planned.notes[1:] == ("fps from the rules",)


def test_an_answer_without_signal_tokens_is_an_understanding_request(
    steered: tuple[UnisonGenerator, Steer], media: Callable[..., str]
) -> None:
    photo = media("house.png", size=(96, 64))
    planned = _plan(steered, "A red house, under a blue sky.", "what is in this picture?", [photo])
    assert planned.spec.task is Task.IMAGE_UNDERSTANDING
    assert [i.role.value for i in planned.spec.inputs] == ["context"]
    assert planned.spec.prompt == "what is in this picture?"
    assert planned.notes == (
        "unison: no signal token -> image_understanding; its answer: 'A red house, under a blue sky.'",
    )


@pytest.mark.slow
def test_a_checkpoint_without_unisons_tokens_is_refused_with_the_missing_tokens_named() -> None:
    path = str(ensure_tiny("qwen-vl"))
    with pytest.raises(ModelUnavailableError, match="not a Unison planner checkpoint") as err:
        UnisonGenerator.load(path, device="cpu", dtype="float32")
    assert "<CFI> <CFV> <BORES>" in str(err.value) and "<VIDPAD>" in str(err.value)
    assert "merge_lora.yaml" in str(err.value)


def test_a_folder_that_is_no_model_says_how_to_fix_it(tmp_path: Path) -> None:
    with pytest.raises(ModelUnavailableError, match=r"\(unison-planner\) could not be loaded"):
        UnisonGenerator.load(str(tmp_path), device="cpu", dtype="float32")
