"""The cue lexicons as data: every pattern matches the requests it exists for and none of its counter-examples,
Chinese and Japanese cues work on unspaced text, and every language covers every family."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

from unison_agent.planning.cues import CUES, OUT_IMAGE, OUT_VIDEO, score
from unison_agent.planning.lexicon import FAMILIES, LANGUAGES, WORD_LISTS, Cue, Lexicon, LexiconError, load
from unison_agent.planning.patterns import LazyPattern
from unison_agent.planning.text import normalise

LEXICONS = {lex.language: lex for lex in load()}


def _entries(lex: Lexicon) -> list[tuple[str, Cue, object]]:
    return [
        (family, cue, compiled[0])
        for family, cues in lex.cues.items()
        for cue, compiled in zip(cues, lex.compiled[family], strict=True)
    ]


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_example_matches_its_own_pattern_and_no_counter_example_does(language: str) -> None:
    wrong = []
    for family, cue, pattern in _entries(LEXICONS[language]):
        for example in cue.examples:
            if not pattern.search(normalise(example).text):  # type: ignore[attr-defined]
                wrong.append(f"{family}: {example!r} does not match {cue.pattern[:60]!r}")
        for example in cue.not_examples:
            if pattern.search(normalise(example).text):  # type: ignore[attr-defined]
                wrong.append(f"{family}: {example!r} matches {cue.pattern[:60]!r}, it should not")
    assert not wrong, "\n".join(wrong)


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_pattern_is_shown_by_at_least_two_different_requests(language: str) -> None:
    # A pattern that exists for one phrase is a patch for one request, not a cue.
    lone = [
        f"{family}: {cue.pattern[:60]!r}"
        for family, cue, _ in _entries(LEXICONS[language])
        if len(set(cue.examples)) < 2
    ]
    assert not lone, "\n".join(lone)


@pytest.mark.parametrize("language", [lang for lang in LANGUAGES if lang != "en"])
def test_every_language_has_cues_for_every_family_and_word_list(language: str) -> None:
    wanted = [f for f in (*FAMILIES, *WORD_LISTS) if f != "text_to_x"]
    assert [f for f in wanted if not LEXICONS[language].cues.get(f)] == []


@pytest.mark.parametrize(
    ("text", "family"),
    [
        ("生成一张猫的图片", "gen"),
        ("把背景换成海滩", "edit"),
        ("去掉照片里的路人", "edit"),
        ("描述一下这张照片", "answer_verb"),
        ("参考这张照片的风格，画一座城堡", "reference"),
        ("按照这个视频里的动作生成一只熊猫", "control"),
        ("猫の画像を生成して", "gen"),
        ("背景を海に変えて", "edit"),
        ("この写真を動かして", "i2v"),
        ("この写真を説明して", "answer_verb"),
    ],
)
def test_chinese_and_japanese_cues_match_unspaced_text(text: str, family: str) -> None:
    assert score(normalise(text).text, family) >= 2.0


@pytest.mark.parametrize(
    ("text", "family"),
    [
        ("¿Qué hay en esta imagen?", "question"),
        ("Quita el perro de la foto", "edit"),
        ("Añade un sombrero al gato", "edit"),
        ("Anima esta foto", "i2v"),
        ("Enlève le chien de cette photo", "edit"),
        ("Décris cette image", "answer_verb"),
        ("Transforme-la en vidéo", "i2v"),
        ("Entferne den Hund aus dem Bild", "edit"),
        ("Füge einen Hut hinzu", "edit"),
        ("Beschreibe dieses Bild", "answer_verb"),
        ("Was ist auf diesem Foto zu sehen?", "question"),
    ],
)
def test_spanish_french_and_german_requests_score_for_what_they_ask(text: str, family: str) -> None:
    assert score(normalise(text).text, family) >= 2.0


def test_a_request_mixing_languages_scores_the_cues_of_both() -> None:
    chinese = score(normalise("把背景换成海滩").text, "edit")
    english = score(normalise("keep everything else the same").text, "edit")
    assert chinese > 0 and english > 0
    assert score(normalise("把背景换成 a beach, keep everything else the same").text, "edit") >= chinese + english


def test_english_requests_score_nothing_from_the_other_latin_lexicons() -> None:
    # A word spelled alike in two languages ("describe") belongs to one lexicon, or English cues count twice.
    twice = []
    for family, cue, _ in _entries(LEXICONS["en"]):
        if family not in FAMILIES:
            continue  # word lists are one alternation: a shared word is counted once
        for example in cue.examples:
            text = normalise(example).text
            for lang in ("es", "fr", "de"):
                hits = [c.pattern[:50] for f, c, p in _entries(LEXICONS[lang]) if f == family and p.search(text)]  # type: ignore[attr-defined]
                twice += [f"{lang} {family}: {example!r} matches {h!r}" for h in hits]
    assert not twice, "\n".join(twice)


def test_output_medium_words_are_counted_in_every_language() -> None:
    assert len(OUT_VIDEO.findall("一段视频 / 動画 / un vídeo / une vidéo")) == 4
    assert len(OUT_IMAGE.findall("一张图片 / 画像 / una imagen / ein bild")) == 4


def test_cues_stay_importable_as_patterns_with_weights() -> None:
    assert set(CUES) == set(FAMILIES)
    assert all(isinstance(pattern, LazyPattern) and weight > 0 for cues in CUES.values() for pattern, weight in cues)
    assert all(isinstance(pattern.compiled, re.Pattern) for cues in CUES.values() for pattern, _ in cues)


def test_a_word_boundary_in_a_cjk_pattern_is_refused() -> None:
    with pytest.raises(LexiconError, match=r"\\b never matches"):
        Lexicon(language="zh", script="cjk", cues={"gen": (Cue(r"\b生成\b", 1.0, ("生成", "生成图片")),)})


def test_an_unknown_family_or_a_pattern_without_examples_is_refused() -> None:
    with pytest.raises(LexiconError, match="unknown family 'make'; known: "):
        Lexicon(language="en", script="latin", cues={"make": (Cue(r"\bmake\b", 1.0, ("make a cat", "make it")),)})
    with pytest.raises(LexiconError, match="no examples"):
        Lexicon(language="en", script="latin", cues={"gen": (Cue(r"\bmake\b", 1.0),)})
    with pytest.raises(LexiconError, match="unknown lexicon language 'xx'; known: en, "):
        load(("xx",))


def test_importing_the_planning_package_does_not_import_torch() -> None:
    code = "import sys, unison_agent.planning, unison_agent.planning.cues; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"
