"""Meta settings stated in Chinese, Japanese, Spanish, French and German: every rule reads the phrases it exists
for and leaves alike-looking content alone, numbers are read in each language, typo repair leaves other
languages' words alone, and whole requests plan with their settings cut out of the prompt."""

from __future__ import annotations

import pytest

from unison_agent.planning import plan
from unison_agent.planning.meta import RULES, Rule, extract_meta
from unison_agent.planning.text import language, normalise, parse_number

# A sentence of each language with no setting in it: a rule gated on its language is tried in a real sentence.
CARRIER = {
    "zh": "一只猫在雪地里，{}",
    "ja": "雪の中の猫、{}",
    "es": "un perro en la playa, {}",
    "fr": "un chat dans la neige, {}",
    "de": "eine Katze im Schnee, {}",
}
FIELD = {
    "size": "width",
    "preset": "preset",
    "ratio": "ratio",
    "orientation": "orientation",
    "seconds": "seconds",
    "fps": "fps",
    "frames": "frames",
    "seed": "seed",
    "steps": "steps",
    "guidance": "guidance",
    "outputs": "num_outputs",
    "negative": "negative_prompt",
}


def _id(rule: Rule, phrase: str) -> str:
    return f"{rule.lang}-{rule.kind}-{phrase}"


def _carried(rule: Rule, phrase: str) -> str:
    lang = "ja" if any("\u3040" <= c <= "\u30ff" for c in phrase) else rule.lang
    return CARRIER[lang].format(phrase)


EXAMPLES = [(r, e) for r in RULES for e in r.examples]
CONTENT = [(r, c) for r in RULES for c in r.content]


@pytest.mark.parametrize(("rule", "phrase"), EXAMPLES, ids=[_id(r, e) for r, e in EXAMPLES])
def test_every_rule_reads_each_phrase_it_exists_for_and_cuts_it(rule: Rule, phrase: str) -> None:
    text = _carried(rule, phrase)
    norm = normalise(text)
    assert rule.applies(norm), f"{rule.lang} rule not tried on {text!r} (read as {norm.lang})"
    assert rule.pattern.search(norm.text), f"{phrase!r} is not matched by its own rule"
    meta = extract_meta(norm)
    assert getattr(meta, FIELD[rule.kind]) is not None, f"{phrase!r} not read as {rule.kind}"
    start = text.index(phrase)
    assert any(start <= norm.span(a, b)[0] < start + len(phrase) for a, b in meta.spans), "nothing of it is cut"


@pytest.mark.parametrize(("rule", "phrase"), CONTENT, ids=[_id(r, c) for r, c in CONTENT])
def test_content_that_looks_like_a_setting_is_left_alone(rule: Rule, phrase: str) -> None:
    meta = extract_meta(normalise(_carried(rule, phrase)))
    assert getattr(meta, FIELD[rule.kind]) is None


@pytest.mark.parametrize(
    ("words", "value"),
    [
        ("十", 10),
        ("十五", 15),
        ("二十四", 24),
        ("两", 2),
        ("一百", 100),
        ("半", 0.5),
        ("veinticuatro", 24),
        ("treinta y dos", 32),
        ("cincuenta y nueve", 59),
        ("dieciséis", 16),
        ("vingt-quatre", 24),
        ("vingt et un", 21),
        ("soixante", 60),
        ("soixante-dix", 70),
        ("quatre-vingt-dix", 90),
        ("zweiundvierzig", 42),
        ("fünfzig", 50),
        ("sechzig", 60),
        ("elf", 11),
    ],
)
def test_number_words_of_every_language_are_read(words: str, value: float) -> None:
    assert parse_number(words) == value


@pytest.mark.parametrize(
    ("text", "field", "value"),
    [
        ("一只猫，十秒钟", "seconds", 10),
        ("一只猫，二十四帧每秒", "fps", 24),
        ("un gato, cuarenta y nueve fotogramas", "frames", 49),
        ("un gato, semilla cincuenta y ocho", "seed", 58),
        ("un chat, vingt-quatre images par seconde", "fps", 24),
        ("un chat, soixante étapes", "steps", 60),
        ("eine Katze, zweiundvierzig Sekunden", "seconds", 42),
        ("eine Katze, Seed sechsundfünfzig", "seed", 56),
        ("猫、シード四十二", "seed", 42),
    ],
)
def test_settings_are_read_from_number_words(text: str, field: str, value: float) -> None:
    assert getattr(extract_meta(normalise(text)), field) == value


@pytest.mark.parametrize(
    ("text", "lang"),
    [
        ("un chat dans la neige, 5 secondes", "fr"),
        ("una imagen de un gato en la nieve", "es"),
        ("ein Bild von einer Katze im Schnee", "de"),
        ("一只猫在雪地里", "zh"),
        ("雪の中の猫", "ja"),
        ("a cat in the snow, 5 seconds", "en"),
    ],
)
def test_the_language_of_a_request_is_recognised(text: str, lang: str) -> None:
    assert language(text) == lang


@pytest.mark.parametrize(
    ("text", "kept"),
    [
        ("un chat dans la neige, 5 secondes", "secondes"),
        ("una imagen de un gato", "imagen"),
        ("edita esta foto", "edita"),
        ("a cat in the snow, imagen style, 5 secondes", "secondes"),
    ],
)
def test_typo_repair_leaves_words_of_other_languages_alone(text: str, kept: str) -> None:
    assert kept in normalise(text).text


def test_typo_repair_still_mends_english_cue_words() -> None:
    assert normalise("genrate a vdeo of a cat").text == "generate a video of a cat"


def test_a_french_duration_is_cut_whole_from_the_prompt() -> None:
    spec = plan("une vidéo d'un chat dans la neige, 5 secondes")
    assert spec.duration_s == 5
    assert "second" not in spec.prompt and not spec.prompt.endswith("s")


# ------------------------------------------------------------------------------------------------ end to end
# Text-only requests whose medium is plain: the settings are read and cut, and the content stays.
E2E = [
    # Chinese (Simplified and Traditional)
    (
        "生成一段竖版视频，3秒，一只猫在草地上奔跑",
        {"width": 480, "height": 848, "num_frames": 49},
        "一只猫在草地上奔跑",
        "3秒",
    ),
    ("生成一段视频：海浪拍打礁石，十秒钟，帧率24", {"fps": 24, "num_frames": 241}, "海浪拍打礁石", "帧率"),
    ("一只狐狸在雪地里的视频，49帧，720P分辨率", {"num_frames": 49, "width": 1280, "height": 720}, "狐狸", "720P"),
    ("画一张图片：雪地里的狐狸，正方形，种子42", {"seed": 42}, "雪地里的狐狸", "种子"),
    ("生成4张一只猫的图片，分辨率1280×720", {"num_outputs": 4, "width": 1280, "height": 720}, "一只猫", "1280"),
    ("画一张山水画，步数30，引导系数7.5，不要出现文字", {"steps": 30, "guidance_scale": 7.5}, "山水画", "步数"),
    ("一张城市夜景的图片，1080p，竖屏，随机种子 7", {"width": 1080, "height": 1920, "seed": 7}, "城市夜景", "竖屏"),
    (
        "生成一段視頻：城市街道，時長5秒，1080p，豎版",
        {"width": 1080, "height": 1920, "num_frames": 81},
        "城市街道",
        "時長",
    ),
    ("生成一段视频，小狗在海边奔跑，每秒24帧，五秒", {"fps": 24, "num_frames": 121}, "小狗在海边奔跑", "五秒"),
    ("画一只熊猫吃竹子的图片，来三张", {"num_outputs": 3}, "熊猫吃竹子", "三张"),
    # Japanese
    ("雪の中を走る猫の動画、3秒間、縦長、シード42", {"num_frames": 49, "seed": 42}, "雪の中を走る猫", "シード"),
    ("海辺を歩く犬の動画、10秒、24fps", {"fps": 24, "num_frames": 241}, "海辺を歩く犬", "10秒"),
    ("桜の木の画像、正方形、4枚", {"num_outputs": 4}, "桜の木", "4枚"),
    ("富士山の画像、1080p、横長、30ステップ", {"width": 1920, "height": 1080, "steps": 30}, "富士山", "ステップ"),
    ("夜の東京の画像を4パターン、文字なしで", {"num_outputs": 4}, "夜の東京", "パターン"),
    # Spanish
    (
        "un vídeo de un gato corriendo en la nieve, 5 segundos, formato 9:16, semilla 42",
        {"num_frames": 81, "seed": 42},
        "un gato corriendo en la nieve",
        "segundos",
    ),
    (
        "un vídeo de olas en la playa de diez segundos a 24 fotogramas por segundo",
        {"num_frames": 241, "fps": 24},
        "olas en la playa",
        "fotogramas",
    ),
    ("Genera 4 imágenes de un jardín vertical", {"num_outputs": 4}, "jardín vertical", "imágenes"),
    (
        "una imagen de un faro al atardecer, 30 pasos, escala de guía 7.5, sin texto, sin marcas de agua",
        {"steps": 30, "guidance_scale": 7.5},
        "faro al atardecer",
        "sin texto",
    ),
    ("un vídeo vertical de un perro en la playa, 49 fotogramas", {"num_frames": 49}, "un perro en la playa", "49"),
    # French
    (
        "une vidéo d'un chat dans la neige, 5 secondes, format portrait, 24 images par seconde",
        {"num_frames": 121, "fps": 24},
        "un chat dans la neige",
        "secondes",
    ),
    ("une vidéo d'un chat de 49 images à 24 ips", {"num_frames": 49, "fps": 24}, "un chat", "ips"),
    ("Crée 4 images d'un phare au coucher du soleil, sans texte", {"num_outputs": 4}, "phare au coucher", "sans"),
    (
        "une image d'un mur vertical couvert de lierre, graine 42, 30 étapes",
        {"seed": 42, "steps": 30},
        "mur vertical couvert de lierre",
        "graine",
    ),
    (
        "une image d'un port, échelle de guidage 7,5, quatre variantes",
        {"guidance_scale": 7.5, "num_outputs": 4},
        "un port",
        "variantes",
    ),
    # German
    (
        "ein Video von einer Katze im Schnee, 5 Sekunden, Hochformat, Seed 42",
        {"num_frames": 81, "seed": 42},
        "einer Katze im Schnee",
        "Sekunden",
    ),
    (
        "ein Video mit 49 Bildern von einem Hund am Strand, 24 Bilder pro Sekunde",
        {"num_frames": 49, "fps": 24},
        "Hund am Strand",
        "pro Sekunde",
    ),
    ("Erstelle 4 Bilder von einem Leuchtturm, ohne Text", {"num_outputs": 4}, "Leuchtturm", "ohne"),
    (
        "ein Bild von einem quadratischen Tisch im Garten, 30 Schritte, Guidance-Skala 7,5",
        {"steps": 30, "guidance_scale": 7.5},
        "quadratischen Tisch",
        "Schritte",
    ),
    (
        "ein Video von Wellen am Meer, 5 Sek., 1080p, Querformat",
        {"num_frames": 81, "width": 1920, "height": 1080},
        "Wellen am Meer",
        "Sek",
    ),
]


@pytest.mark.parametrize(("text", "fields", "kept", "gone"), E2E, ids=[t[:40] for t, *_ in E2E])
def test_requests_in_every_language_plan_their_settings_and_keep_their_content(
    text: str, fields: dict[str, float], kept: str, gone: str
) -> None:
    spec = plan(text)
    assert {k: getattr(spec, k) for k in fields} == fields
    assert kept in spec.prompt
    assert gone not in spec.prompt


@pytest.mark.parametrize(
    ("text", "negative"),
    [
        ("un perro en la playa, sin texto, sin marcas de agua", ["texto", "marcas de agua"]),
        ("un perro en la playa, sin texto y sin marcas de agua", ["texto", "marcas de agua"]),
        ("un chat dans la neige, sans texte", ["texte"]),
        ("eine Katze im Schnee, ohne Text", ["Text"]),
        ("一只猫在雪地里，不要出现文字，避免模糊", ["文字", "模糊"]),
        ("一只猫在雪地里，负面提示词：模糊，低质量", ["模糊，低质量"]),
        ("雪の中の猫、文字なしで", ["文字"]),
        ("a cat in the snow. negative prompt: blurry, text", ["blurry, text"]),
    ],
)
def test_negative_prompts_hold_what_to_avoid_and_leave_the_prompt(text: str, negative: list[str]) -> None:
    meta = extract_meta(normalise(text))
    assert meta.negative_prompt is not None
    for thing in negative:
        assert thing in meta.negative_prompt
    spec = plan(text)
    assert spec.negative_prompt == meta.negative_prompt
    for thing in negative:
        assert thing not in spec.prompt


@pytest.mark.parametrize(
    "text",
    ["三只猫在草地上", "tres gatos en la nieve", "trois chats dans la neige", "drei Katzen im Schnee", "3匹の猫"],
)
def test_counts_of_things_in_the_picture_are_not_outputs(text: str) -> None:
    assert extract_meta(normalise(text)).num_outputs is None


def test_an_out_of_range_setting_in_another_language_is_refused_with_its_range() -> None:
    meta = extract_meta(normalise("un gato en la nieve, semilla -1"))
    assert meta.out_of_range and "seed must be" in meta.out_of_range[0]
