"""Choose a planner by name: the one switch the CLI (``--planner``), the graph (``UnisonContext.planner``) and the
MCP server share.

    embedded                      learned decision + rules (default; numpy weights, no torch)
    llm:<provider>:<model>        a LangChain chat model, e.g. llm:openai:gpt-4o-mini, llm:ollama:qwen2.5:7b
    hybrid:<provider>:<model>     embedded, and the model only where embedded is unsure
    unison:<path>                 a Unison planner checkpoint (its LoRA merged into Qwen2.5-VL-3B-Instruct)

``<provider>`` is any provider ``langchain.chat_models.init_chat_model`` knows (its package installed, e.g.
``langchain-openai``), or ``transformers``: a local causal LM run here (a folder, a hub id, a ``.gguf`` file, or
``smollm2``, see :mod:`~unison_agent.tools.backends.chat_lm`). Model planners load once per process and are
shared (:func:`planner_for`).

This lives in ``tools`` because it composes the planners (``planning``) with the model backends
(``tools/backends``), and ``planning`` must not import ``tools``.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

from unison_agent.planning import EmbeddedPlanner, Planner
from unison_agent.tools.errors import MissingDependencyError, ModelUnavailableError

__all__ = ["CHOICES", "PlannerChoice", "PlannerChoiceError", "make_planner", "parse_choice", "planner_for"]

CHOICES = "embedded | llm:<provider>:<model> | hybrid:<provider>:<model> | unison:<path>"
_JSON_START = '{"task": "'  # the local provider continues this: small models keep to the format with it


class PlannerChoiceError(ValueError):
    """A ``--planner`` value that does not name a planner: the message shows the forms that do."""


@dataclass(frozen=True)
class PlannerChoice:
    kind: str  # embedded | llm | hybrid | unison
    provider: str = ""
    model: str = ""

    def __str__(self) -> str:
        if self.kind == "embedded":
            return "embedded"
        if self.kind == "unison":
            return f"unison:{self.model}"
        return f"{self.kind}:{self.provider}:{self.model}"


def parse_choice(choice: str) -> PlannerChoice:
    """Check the form of ``choice`` without loading anything."""
    text = (choice or "").strip()
    kind, _, rest = text.partition(":")
    kind = kind.lower()
    if kind == "embedded" and not rest:
        return PlannerChoice("embedded")
    if kind == "unison":
        if not rest.strip():
            raise PlannerChoiceError(f"planner {choice!r}: give the checkpoint folder, unison:<path>")
        return PlannerChoice("unison", model=rest.strip())
    if kind in ("llm", "hybrid"):
        provider, _, model = rest.partition(":")
        if not provider.strip() or not model.strip():
            raise PlannerChoiceError(
                f"planner {choice!r}: give a provider and a model, {kind}:<provider>:<model> "
                f"(e.g. {kind}:openai:gpt-4o-mini, {kind}:transformers:smollm2)"
            )
        return PlannerChoice(kind, provider.strip().lower(), model.strip())
    raise PlannerChoiceError(f"unknown planner {choice!r}; expected {CHOICES}")


def make_planner(choice: str | PlannerChoice, *, timeout_s: float = 120.0, device: str = "auto") -> Planner:
    """A new planner for ``choice``. Loads its model now, so that a model that cannot be had fails here; a
    hybrid planner's local model is only found now and loaded when the embedded planner first asks it.

    Raises :class:`PlannerChoiceError` for a malformed choice, :class:`MissingDependencyError` for a missing
    package and :class:`ModelUnavailableError` for a model that cannot be loaded (each says how to fix it)."""
    c = choice if isinstance(choice, PlannerChoice) else parse_choice(choice)
    if c.kind == "embedded":
        return EmbeddedPlanner()
    if c.kind == "unison":
        from unison_agent.planning.unison import UnisonPlanner
        from unison_agent.tools.backends.unison_lm import UnisonGenerator

        return UnisonPlanner(UnisonGenerator.load(c.model, device=device), name=str(c))
    from unison_agent.planning.llm import LLMPlanner

    prefill = ""
    if c.provider == "transformers":
        from unison_agent.tools.backends.chat_lm import LocalChatModel, resolve_local_model

        chat_model: Any = LocalChatModel(model=c.model, device=device, json_mode=True)
        if c.kind == "hybrid":
            # The rules plan most requests alone: the weights load on the first request they are unsure of (a
            # load that fails then is a fallback to the rules, with the reason). The model is found now.
            resolve_local_model(c.model)
        else:
            chat_model.load()
        prefill = _JSON_START
    else:
        chat_model = _init_chat_model(c)
    return LLMPlanner(chat_model, name=str(c), hybrid=c.kind == "hybrid", timeout_s=timeout_s, prefill=prefill)


def _init_chat_model(c: PlannerChoice) -> Any:
    try:
        from langchain.chat_models import init_chat_model
    except ImportError:
        raise MissingDependencyError(
            f"planner {c}: chat model providers need langchain: pip install 'unison-agent[llm]'"
        ) from None
    try:
        return init_chat_model(c.model, model_provider=c.provider, temperature=0)
    except ImportError as e:
        package = f"langchain-{c.provider.replace('_', '-')}"
        raise MissingDependencyError(
            f"planner {c}: the {c.provider} provider needs {package}: pip install {package} ({e})"
        ) from None
    except ValueError as e:  # unknown provider, missing settings
        raise PlannerChoiceError(f"planner {c}: {' '.join(str(e).split())}") from None
    except Exception as e:  # provider clients raise their own types for a missing API key
        raise ModelUnavailableError(f"planner {c}: {e.__class__.__name__}: {' '.join(str(e).split())}") from None


_PLANNERS: dict[str, Planner] = {}
_LOCK = threading.Lock()


def planner_for(choice: str) -> Planner:
    """The process's planner for ``choice``, made on first use and shared (a loaded model is kept)."""
    key = str(parse_choice(choice))
    with _LOCK:
        if key not in _PLANNERS:
            _PLANNERS[key] = make_planner(key)
        return _PLANNERS[key]
