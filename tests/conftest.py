"""Fixtures that draw real attachment files (the planner probes content, so tests use real files)."""

from __future__ import annotations

import math
import os
import shutil
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import av
import numpy as np
import pytest
from hypothesis import settings
from PIL import Image, ImageDraw

# Property tests explore new examples on a developer's machine, but CI (``CI`` set, e.g. CI=true) runs the same
# examples every time: derandomized, and blind to failures an earlier run saved in .hypothesis/, so a red CI run
# always means the code changed. Registered here rather than relying on hypothesis's own CI detection, which
# older releases within our pin lack and which also fires for an empty ``CI=``.
settings.register_profile("ci", derandomize=True, database=None, deadline=None, print_blob=True)
settings.load_profile("ci" if os.environ.get("CI") else "default")


def _photo(w: int, h: int, seed: int = 0) -> Image.Image:
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:h, 0:w]
    base = np.stack([60 + 120 * x / w, 80 + 100 * y / h, 200 - 90 * x / w], -1) + rng.normal(0, 12, (h, w, 3))
    img = Image.fromarray(base.clip(0, 255).astype("uint8"))
    d = ImageDraw.Draw(img)
    for _ in range(5):
        x0, y0 = int(rng.integers(0, w - 30)), int(rng.integers(0, h - 30))
        d.rectangle(
            [x0, y0, x0 + int(rng.integers(15, w // 3)), y0 + int(rng.integers(15, h // 3))],
            fill=tuple(int(c) for c in rng.integers(0, 255, 3)),
        )
    return img


def _skeleton(w: int, h: int, t: float = 0.0) -> Image.Image:
    img = Image.new("RGB", (w, h), "black")
    d = ImageDraw.Draw(img)
    cx, cy, s = w / 2 + math.sin(t) * w / 10, h / 2, h / 4
    pts = [
        (cx, cy - s),
        (cx, cy - s * 0.5),
        (cx, cy + s * 0.5),
        (cx - s * 0.7, cy),
        (cx + s * 0.7, cy - s * 0.3),
        (cx - s * 0.5, cy + s * 1.3),
        (cx + s * 0.5, cy + s * 1.3),
    ]
    colours = [(255, 0, 0), (255, 200, 0), (0, 220, 0), (0, 160, 255), (180, 0, 255), (255, 0, 140)]
    for i, (a, b) in enumerate([(0, 1), (1, 2), (1, 3), (1, 4), (2, 5), (2, 6)]):
        d.line([pts[a], pts[b]], fill=colours[i], width=max(3, w // 80))
    return img


def _depth(w: int, h: int, t: float = 0.0) -> Image.Image:
    y, x = np.mgrid[0:h, 0:w]
    r = np.hypot(x - w * (0.4 + 0.1 * math.sin(t)), y - h * 0.6)
    return Image.fromarray((235 * (1 - r / r.max()) + 10).astype("uint8")).convert("RGB")


def _mask(w: int, h: int) -> Image.Image:
    img = Image.new("L", (w, h), 0)
    ImageDraw.Draw(img).rectangle([w // 3, h // 5, 2 * w // 3, 4 * h // 5], fill=255)
    return img


def _edges(w: int, h: int, t: float = 0.0) -> Image.Image:
    img = Image.new("L", (w, h), 0)
    d = ImageDraw.Draw(img)
    for i in range(9):
        x0, y0 = (41 * i + int(t * 7)) % w, (29 * i) % h
        d.line([(x0, y0), ((x0 + 120) % w, (y0 + 80) % h)], fill=255, width=1)
        d.rectangle([x0, y0, x0 + 50, y0 + 35], outline=255)
    return img.convert("RGB")


def _scribble(w: int, h: int) -> Image.Image:
    img = Image.new("RGB", (w, h), "white")
    d = ImageDraw.Draw(img)
    d.line([(w * 0.2, h * 0.8), (w * 0.5, h * 0.2), (w * 0.8, h * 0.8), (w * 0.2, h * 0.8)], fill="black", width=4)
    d.ellipse([w * 0.42, h * 0.5, w * 0.58, h * 0.7], outline="black", width=3)
    return img


DRAW = {"photo": _photo, "mask": _mask, "pose": _skeleton, "depth": _depth, "edge": _edges, "scribble": _scribble}


@pytest.fixture(scope="session")
def _drawn(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str, str, tuple[int, int], int, int], Path]:
    """Each distinct file (kind, look, size, frames, fps) is drawn and encoded once per test session; tests get
    copies (encoding a clip costs a few tenths of a second, and hundreds of tests attach the same ones)."""
    folder = tmp_path_factory.mktemp("drawn")
    made: dict[tuple[str, str, tuple[int, int], int, int], Path] = {}

    def draw(suffix: str, look: str, size: tuple[int, int], frames: int, fps: int) -> Path:
        key = (suffix, look, size, frames, fps)
        if key not in made:
            path = folder / f"{len(made)}{suffix}"
            _write(path, look, size, frames, fps)
            made[key] = path
        return made[key]

    return draw


def _write(path: Path, look: str, size: tuple[int, int], frames: int, fps: int) -> None:
    w, h = size
    if path.suffix.lower() in (".mp4", ".mov", ".webm"):
        codec = "libvpx-vp9" if path.suffix.lower() == ".webm" else "libx264"
        with av.open(str(path), "w") as out:
            stream = out.add_stream(codec, rate=fps)
            stream.width, stream.height, stream.pix_fmt = w, h, "yuv420p"
            for i in range(frames):
                draw = DRAW[look]
                img = draw(w, h, i / 3) if look in ("pose", "depth", "edge") else draw(w, h)
                out.mux(stream.encode(av.VideoFrame.from_image(img.convert("RGB"))))
            out.mux(stream.encode())
    else:
        img = DRAW[look](w, h)
        if path.suffix.lower() in (".jpg", ".jpeg"):
            img = img.convert("RGB")
        img.save(path)


@pytest.fixture
def media(tmp_path: Path, _drawn: Callable[[str, str, tuple[int, int], int, int], Path]) -> Callable[..., str]:
    """``media("IMG_1.jpg", "photo", size=(640, 480))`` draws a file of that look and returns its path.
    A video extension (.mp4/.mov/.webm) writes a short clip (``frames`` at ``fps``). Each call gets its own
    file (a copy of one drawn once per session), so a test may damage or remove it."""

    def make(name: str, look: str = "photo", size: tuple[int, int] = (640, 480), frames: int = 12, fps: int = 8) -> str:
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(_drawn(path.suffix.lower(), look, tuple(size), frames, fps), path)  # type: ignore[arg-type]
        return str(path)

    return make


@pytest.fixture(scope="session")
def offline_tiny_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Offline, one CPU thread, and a fresh model cache in which the tiny profile's models are built once per
    test session. Test folders that run models ask for it from an autouse fixture of their own, so planning
    tests never import torch."""
    cache = tmp_path_factory.mktemp("unison-cache")
    saved = {k: os.environ.get(k) for k in ("UNISON_CACHE", "HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE")}
    os.environ.update(UNISON_CACHE=str(cache), HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1")
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # steadier timings and no oversubscription on 2-core CI machines
    yield cache
    torch.set_num_threads(threads)
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


# ------------------------------------------------------------------------------------------ fake chat models
SCRIPTED = "llm:fake:scripted"  # the planner choice that the `scripted_planner` fixture makes a scripted LLMPlanner


class ScriptedChat:
    """The tests' one stand-in for a chat model: each call gets the next scripted reply (a string, an AIMessage,
    or an exception, which is raised), and every call's messages are kept in ``calls``."""

    def __init__(self, *replies: object) -> None:
        self.replies = list(replies)
        self.calls: list[list[tuple[str, str]]] = []

    def invoke(self, messages: Sequence[tuple[str, str]]) -> object:
        self.calls.append(list(messages))
        reply = self.replies.pop(0)
        if isinstance(reply, BaseException):
            raise reply
        return reply


@pytest.fixture
def scripted_chat() -> type[ScriptedChat]:
    """The :class:`ScriptedChat` class, for tests that build a planner over it themselves."""
    return ScriptedChat


@pytest.fixture
def scripted_planner(monkeypatch: pytest.MonkeyPatch) -> Callable[..., ScriptedChat]:
    """``seed(*replies)``: from then on, every planner cache (CLI, graph, MCP server) makes the choice
    ``llm:fake:scripted`` as an LLMPlanner over a :class:`ScriptedChat` giving ``replies``; returns that model.
    Other choices are made as usual. ``$UNISON_PLANNER`` is cleared for the test."""
    from unison_agent.planners import choice
    from unison_agent.planning.llm import LLMPlanner

    monkeypatch.delenv("UNISON_PLANNER", raising=False)
    made = choice.make_planner

    def seed(*replies: object) -> ScriptedChat:
        model = ScriptedChat(*replies)

        def make(key: str | choice.PlannerChoice, **options: Any) -> Any:
            return LLMPlanner(model, name=SCRIPTED) if str(key) == SCRIPTED else made(key, **options)

        monkeypatch.setattr(choice, "make_planner", make)
        return model

    return seed


@pytest.fixture
def agent_chat_model() -> Callable[[Iterator[Any]], Any]:
    """``make(messages)``: a LangChain chat model for agent tests, which replies with the next of ``messages``
    (AIMessages, with tool calls or not) whatever it is asked, and accepts tools (``bind_tools``) as a real one
    does."""
    from langchain_core.language_models.fake_chat_models import GenericFakeChatModel

    class ToolCalling(GenericFakeChatModel):
        def bind_tools(self, tools: Sequence[Any], **kwargs: Any) -> ToolCalling:
            return self

    return lambda messages: ToolCalling(messages=messages)
