"""Choose a planner by name: the one switch the CLI (``--planner``), the graph (``UnisonContext.planner``) and the
MCP server share.

    embedded                      learned decision + rules (default; numpy weights, no torch)
    llm:<provider>:<model>        a LangChain chat model, e.g. llm:openai:gpt-4o-mini, llm:ollama:qwen2.5:7b
    hybrid:<provider>:<model>     embedded, and the model only where embedded is unsure
    unison:<path>                 a Unison planner checkpoint (its LoRA merged into Qwen2.5-VL-3B-Instruct)

``<provider>`` is any provider ``langchain.chat_models.init_chat_model`` knows (its package installed, e.g.
``langchain-openai``), or ``transformers``: a local causal LM run here (a folder, a hub id, a ``.gguf`` file, or
``smollm2``, see :mod:`~unison_agent.planners.chat_lm`). A host keeps the planners it made in a
:class:`Planners` (one per graph, server or CLI command), so a loaded model is shared by its requests.

This lives beside ``planning`` (not in it) because it composes the planners with model loading (torch,
``tools/backends/torch_env``), and ``planning`` imports no torch.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass
from typing import Any

from unison_agent.errors import MissingDependencyError, ModelUnavailableError, PlanningError, one_line
from unison_agent.planning import EmbeddedPlanner, Planner

__all__ = [
    "CHOICES",
    "ENV_VAR",
    "PlannerChoice",
    "PlannerChoiceError",
    "Planners",
    "choice_from",
    "make_planner",
    "parse_choice",
]

CHOICES = "embedded | llm:<provider>:<model> | hybrid:<provider>:<model> | unison:<path>"
ENV_VAR = "UNISON_PLANNER"  # the choice when none is given (--planner, a context's planner field)
_JSON_START = '{"task": "'  # the local provider continues this: small models keep to the format with it


class PlannerChoiceError(PlanningError):
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


def choice_from(value: str | None) -> PlannerChoice:
    """The one resolver of a planner choice for every front door: ``value`` (``--planner``, a context's or
    server's setting) when given, else ``$UNISON_PLANNER``, else ``embedded``; checked, nothing loaded.

    Raises :class:`PlannerChoiceError` (saying which forms exist) for a malformed value."""
    given = value if value is not None and value.strip() else os.environ.get(ENV_VAR, "")
    return parse_choice(given.strip() or "embedded")


def make_planner(choice: str | PlannerChoice, *, timeout_s: float = 120.0, device: str = "auto") -> Planner:
    """A new planner for ``choice``. Loads its model now, so that a model that cannot be had fails here; a
    hybrid planner's local model is only found now and loaded when the embedded planner first asks it.
    ``timeout_s``: how long one model call may take before the embedded plan is used; a provider's client gets
    it as its own request timeout, so that a call given up on ends by itself.

    Raises :class:`PlannerChoiceError` for a malformed choice, :class:`MissingDependencyError` for a missing
    package and :class:`ModelUnavailableError` for a model that cannot be loaded (each says how to fix it)."""
    c = choice if isinstance(choice, PlannerChoice) else parse_choice(choice)
    if c.kind == "embedded":
        return EmbeddedPlanner()
    if c.kind == "unison":
        from unison_agent.planners.unison_lm import UnisonGenerator
        from unison_agent.planning.unison import UnisonPlanner

        return UnisonPlanner(UnisonGenerator.load(c.model, device=device), name=str(c))
    from unison_agent.planning.llm import LLMPlanner

    prefill = ""
    if c.provider == "transformers":
        from unison_agent.planners.chat_lm import LocalChatModel, resolve_local_model

        chat_model: Any = LocalChatModel(model=c.model, device=device, json_mode=True)
        if c.kind == "hybrid":
            # The rules plan most requests alone: the weights load on the first request they are unsure of (a
            # load that fails then is a fallback to the rules, with the reason). The model is found now.
            resolve_local_model(c.model)
        else:
            chat_model.load()
        prefill = _JSON_START
    else:
        chat_model = _init_chat_model(c, timeout_s)
    return LLMPlanner(chat_model, name=str(c), hybrid=c.kind == "hybrid", timeout_s=timeout_s, prefill=prefill)


def _init_chat_model(c: PlannerChoice, timeout_s: float) -> Any:
    """The provider's chat model, its HTTP requests limited to ``timeout_s`` where its class takes a limit: the
    planner stops waiting after ``timeout_s``, and a call in a thread cannot be stopped from outside, so the
    request itself must end (see :func:`_request_limits`)."""
    try:
        from langchain.chat_models import init_chat_model
    except ImportError:
        raise MissingDependencyError(
            f"planner {c}: chat model providers need langchain: pip install 'unison-agent[llm]'"
        ) from None
    try:
        model = init_chat_model(c.model, model_provider=c.provider, temperature=0)
        limits = _request_limits(type(model), timeout_s)
        if not limits:
            return model
        # init_chat_model hands its keywords to the provider's class, which makes its HTTP client from them: the
        # model is made again with the limits (a copy would keep the client made without them).
        return init_chat_model(c.model, model_provider=c.provider, temperature=0, **limits)
    except ImportError as e:
        package = f"langchain-{c.provider.replace('_', '-')}"
        raise MissingDependencyError(
            f"planner {c}: the {c.provider} provider needs {package}: pip install {package} ({e})"
        ) from None
    except ValueError as e:  # unknown provider, missing settings
        raise PlannerChoiceError(f"planner {c}: {one_line(e)}") from None
    except Exception as e:  # provider clients raise their own types for a missing API key
        raise ModelUnavailableError(f"planner {c}: {e.__class__.__name__}: {one_line(e)}") from None


_TIMEOUT_FIELDS = ("timeout", "request_timeout", "default_request_timeout")


def _request_limits(cls: type, timeout_s: float) -> dict[str, Any]:
    """Keywords for provider class ``cls`` that end its HTTP request after ``timeout_s``: its request timeout field
    (ChatOpenAI and the OpenAI-compatible ones, ChatGroq: ``request_timeout``, given as ``timeout``;
    ChatAnthropic: ``default_request_timeout``, given as ``timeout``; ChatMistralAI, ChatGoogleGenerativeAI:
    ``timeout``) with ``max_retries=0`` (each retry would wait ``timeout_s`` again), or, for a class that
    configures its HTTP client through ``client_kwargs`` (ChatOllama), the client's ``timeout`` there. Only
    fields the class declares: some providers send keywords they do not know to the API with the request."""
    fields = getattr(cls, "model_fields", {})
    keyword = {info.alias or name: name for name, info in fields.items()}  # the keyword each field is given by
    timeout = next((key for key, name in keyword.items() if key in _TIMEOUT_FIELDS or name in _TIMEOUT_FIELDS), None)
    if timeout is not None:
        return {timeout: timeout_s} | ({"max_retries": 0} if "max_retries" in keyword else {})
    if "client_kwargs" in keyword:
        return {"client_kwargs": {"timeout": timeout_s}}
    return {}


class Planners:
    """The planners a host has made, one per choice, each made on first use and then shared: a model planner
    loads its weights once for all the requests of a graph, a server or a CLI command. Thread-safe: two
    threads asking for the same choice wait for one load. This is the only place planners are kept (there is
    no module-level cache): whoever holds the :class:`Planners` decides how long they live."""

    def __init__(self, *, timeout_s: float = 120.0, device: str = "auto") -> None:
        self._made: dict[str, Planner] = {}
        self._lock = threading.Lock()
        self._timeout_s = timeout_s
        self._device = device

    def get(self, choice: str | PlannerChoice | None) -> Planner:
        """The planner for ``choice`` (resolved by :func:`choice_from`), made on first use.

        Raises what :func:`make_planner` raises; a choice that failed is tried again on the next call."""
        key = str(choice if isinstance(choice, PlannerChoice) else choice_from(choice))
        with self._lock:
            if key not in self._made:
                self._made[key] = make_planner(key, timeout_s=self._timeout_s, device=self._device)
            return self._made[key]

    def put(self, choice: str, planner: Planner) -> None:
        """Use ``planner`` for ``choice`` from now on (an embedding program's own instance, or a test's)."""
        with self._lock:
            self._made[str(choice_from(choice))] = planner

    def __contains__(self, choice: str) -> bool:
        """Whether a planner for ``choice`` has been made (never, for a malformed choice)."""
        try:
            return str(choice_from(choice)) in self._made
        except PlannerChoiceError:
            return False
