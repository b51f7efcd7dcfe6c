"""Unison's stage-one model through transformers: :class:`UnisonGenerator`, the ``generate`` callable of
:class:`~unison_agent.planning.unison.UnisonPlanner`.

A Unison checkpoint is Qwen2.5-VL-3B-Instruct with Unison's LoRA merged in and its signal tokens added to the
tokenizer (``merge_lora.yaml`` in ali-vilab/Unison). Stage one is text only, as in Unison's ``inference.py``:
the request (attachments already replaced by ``<IMGPAD>`` / ``<VIDPAD>``) is the user's one text message, the
model answers greedily, and the new tokens are decoded *with* special tokens, since the signal tokens are
special tokens and the answer is made of them.
"""

from __future__ import annotations

from typing import Any

import torch

from unison_agent.errors import ModelUnavailableError
from unison_agent.planning.signal_tokens import SPECIAL_TOKENS
from unison_agent.tools.backends.torch_env import load_or_explain, resolve_device, resolve_dtype
from unison_agent.tools.tiny import resolve

__all__ = ["UnisonGenerator"]

_CHAT_MARKERS = ("<|im_end|>", "<|endoftext|>")


class UnisonGenerator:
    """A loaded Unison planner checkpoint; call it with a rendered request to get the text it writes.

    Build it with :meth:`load`. ``generate_kwargs`` go to ``model.generate`` on every call (besides
    ``max_new_tokens`` and ``do_sample=False``), e.g. a ``prefix_allowed_tokens_fn``.
    """

    def __init__(
        self,
        model: Any,
        processor: Any,
        device: torch.device,
        max_new_tokens: int = 256,
        generate_kwargs: dict[str, Any] | None = None,
    ) -> None:
        self.model = model
        self.processor = processor
        self.device = device
        self.max_new_tokens = max_new_tokens
        self.generate_kwargs = dict(generate_kwargs or {})

    @classmethod
    def load(
        cls,
        path: str,
        device: str = "auto",
        dtype: str = "auto",
        max_new_tokens: int = 256,
        generate_kwargs: dict[str, Any] | None = None,
    ) -> UnisonGenerator:
        """Load the checkpoint at ``path`` (a folder, a hub id, or ``tiny:unison-planner``).

        Raises ``ModelUnavailableError`` when it cannot be loaded, or when it is not a Unison merge: its
        tokenizer lacks one of Unison's special tokens (the message lists them), or the model's embeddings are
        too small for them (tokens added without resizing).
        """
        from transformers import AutoModelForImageTextToText, AutoProcessor

        if max_new_tokens < 1:
            raise ValueError(f"max_new_tokens must be >= 1, got {max_new_tokens}")
        dev = resolve_device(device)
        dt = resolve_dtype(dtype, dev)

        def _load(folder: str) -> tuple[Any, Any]:
            processor = AutoProcessor.from_pretrained(folder)
            model: Any = AutoModelForImageTextToText.from_pretrained(folder, dtype=dt)
            return model.to(dev).eval(), processor

        model, processor = load_or_explain(
            resolve(path), "unison-planner", _load, "plan without a model: --planner embedded"
        )
        _check_tokens(path, model, processor)
        return cls(model, processor, dev, max_new_tokens, generate_kwargs)

    def __call__(self, request: str) -> str:
        """The model's output for ``request``: greedy, special tokens kept, chat end markers removed, stripped."""
        messages = [{"role": "user", "content": [{"type": "text", "text": request}]}]
        inputs = self.processor.apply_chat_template(
            messages, tokenize=True, add_generation_prompt=True, return_tensors="pt", return_dict=True
        ).to(self.device)
        with torch.inference_mode():
            out = self.model.generate(
                **inputs, max_new_tokens=self.max_new_tokens, do_sample=False, **self.generate_kwargs
            )
        new_tokens = out[0, inputs["input_ids"].shape[1] :]
        text = str(self.processor.decode(new_tokens, skip_special_tokens=False))
        for marker in _CHAT_MARKERS:
            text = text.replace(marker, "")
        return text.strip()


def _check_tokens(path: str, model: Any, processor: Any) -> None:
    """Raise ``ModelUnavailableError`` unless every Unison token is one token of the tokenizer and has an
    embedding row in the model."""
    tokenizer = getattr(processor, "tokenizer", processor)
    vocab = tokenizer.get_vocab()
    missing = [
        tok
        for tok in SPECIAL_TOKENS
        if tok not in vocab or tokenizer(tok, add_special_tokens=False)["input_ids"] != [vocab[tok]]
    ]
    if missing:
        raise ModelUnavailableError(
            f"{path} is not a Unison planner checkpoint (Qwen2.5-VL with Unison's LoRA merged): its tokenizer "
            f"lacks Unison's token(s) {' '.join(missing)}. Use the merged model that Unison's merge_lora.yaml "
            "writes (it adds these as special tokens), or 'tiny:unison-planner' (random weights) to try it offline"
        )
    rows = int(model.get_input_embeddings().num_embeddings)
    too_far = [tok for tok in SPECIAL_TOKENS if vocab[tok] >= rows]
    if too_far:
        raise ModelUnavailableError(
            f"{path}: the tokenizer has Unison's tokens but the model has only {rows} embedding rows, too few for "
            f"{' '.join(too_far)}: the tokens were added without resizing the embeddings; use the merged model "
            "that Unison's merge_lora.yaml writes"
        )
