"""A provider's chat model gets the planner's ``timeout_s`` as its own request timeout: a call the planner stopped
waiting for cannot be stopped from its thread, so its HTTP request must end by itself. Providers are stood in
for by LangChain fake chat models declaring the fields their real classes declare (no provider package, no
network)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from pydantic import Field

from unison_agent.planners.choice import make_planner


class OpenAIShaped(GenericFakeChatModel):
    """As ChatOpenAI, ChatGroq, ChatFireworks: ``request_timeout``, given as ``timeout``; retries."""

    request_timeout: float | None = Field(default=None, alias="timeout")
    max_retries: int | None = 2


class AnthropicShaped(GenericFakeChatModel):
    """As ChatAnthropic: ``default_request_timeout``, given as ``timeout``; retries."""

    default_request_timeout: float | None = Field(default=None, alias="timeout")
    max_retries: int = 2


class MistralShaped(GenericFakeChatModel):
    """As ChatMistralAI, ChatGoogleGenerativeAI: ``timeout`` and retries by those names."""

    timeout: float = 120
    max_retries: int = 5


class OllamaShaped(GenericFakeChatModel):
    """As ChatOllama: no timeout field; its HTTP client's settings in ``client_kwargs``."""

    client_kwargs: dict[str, Any] | None = Field(default_factory=dict)


class NoTimeout(GenericFakeChatModel):
    """A provider class without any request timeout: it is given none (unknown keywords can reach the API)."""


@pytest.fixture
def provider(monkeypatch: pytest.MonkeyPatch) -> Callable[[type[GenericFakeChatModel]], list[dict[str, Any]]]:
    """``provider(cls)``: from then on ``init_chat_model`` makes ``cls`` with the keywords it is given; returns the
    list of those keywords, one entry per model made."""

    def install(cls: type[GenericFakeChatModel]) -> list[dict[str, Any]]:
        made: list[dict[str, Any]] = []

        def init_chat_model(model: str, *, model_provider: str, **kwargs: Any) -> GenericFakeChatModel:
            made.append(kwargs)
            return cls(messages=iter([]), **kwargs)

        monkeypatch.setattr("langchain.chat_models.init_chat_model", init_chat_model)
        return made

    return install


@pytest.mark.parametrize(
    ("cls", "given", "field"),
    [
        (OpenAIShaped, {"timeout": 7.5, "max_retries": 0}, "request_timeout"),
        (AnthropicShaped, {"timeout": 7.5, "max_retries": 0}, "default_request_timeout"),
        (MistralShaped, {"timeout": 7.5, "max_retries": 0}, "timeout"),
    ],
)
def test_a_provider_with_a_request_timeout_gets_the_planners_timeout_and_no_retries(
    provider: Callable[[type[GenericFakeChatModel]], list[dict[str, Any]]],
    cls: type[GenericFakeChatModel],
    given: dict[str, Any],
    field: str,
) -> None:
    made = provider(cls)
    planner = make_planner("llm:someprovider:some-model", timeout_s=7.5)
    chat = planner.chat_model  # type: ignore[attr-defined]

    assert made[-1] == {"temperature": 0, **given}
    assert isinstance(chat, cls)
    assert (getattr(chat, field), chat.max_retries) == (7.5, 0)  # type: ignore[attr-defined]


def test_an_ollama_shaped_provider_gets_the_timeout_in_its_client_settings(
    provider: Callable[[type[GenericFakeChatModel]], list[dict[str, Any]]],
) -> None:
    made = provider(OllamaShaped)
    chat = make_planner("hybrid:ollama:qwen2.5:7b", timeout_s=30).chat_model  # type: ignore[attr-defined]
    assert made[-1] == {"temperature": 0, "client_kwargs": {"timeout": 30.0}}
    assert chat.client_kwargs == {"timeout": 30.0}


def test_a_provider_without_a_request_timeout_is_given_none(
    provider: Callable[[type[GenericFakeChatModel]], list[dict[str, Any]]],
) -> None:
    made = provider(NoTimeout)
    make_planner("llm:someprovider:some-model", timeout_s=7.5)
    assert made == [{"temperature": 0}]
