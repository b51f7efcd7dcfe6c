"""Meta settings stated in Chinese, Japanese, Spanish, French and German: every rule reads the phrases it exists
for and leaves alike-looking content alone, numbers are read in each language, typo repair leaves other
languages' words alone, and whole requests plan with their settings cut out of the prompt."""

from __future__ import annotations

import pytest

from unison_agent.planning import Attachment, EmbeddedPlanner, plan
from unison_agent.planning.meta import RULES, Rule, extract_meta
from unison_agent.planning.text import language, normalise, parse_number
from unison_agent.spec import Media

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


# ------------------------------------------------------------------------------------------------ English
# Classes of English phrasing that people write and the module-level English patterns must read (or leave).
PHOTO = Attachment("/in/IMG_0042.jpg", Media.IMAGE, "photo", 640, 480)

EN_E2E = [
    # A count stated as a setting without "=" or ":" ("num outputs 3", "a batch of four", "batch size 2").
    ("a red fox in deep snow, num outputs 3, seed 8", {"num_outputs": 3, "seed": 8}, "red fox", "num outputs"),
    ("an old lighthouse in fog. a batch of four", {"num_outputs": 4}, "lighthouse", "batch"),
    ("batch size 2 / a koi pond in autumn", {"num_outputs": 2}, "koi pond", "batch"),
    # A count standing alone in its clause: after a verb of making, with "please", or as "x3".
    ("a tea house in the mountains, generate three so I can choose", {"num_outputs": 3}, "tea house", "three"),
    ("a paper boat on a puddle, make 4, 3:2", {"num_outputs": 4, "width": 768, "height": 512}, "paper boat", "make 4"),
    ("a sleepy owl on a branch. two please", {"num_outputs": 2}, "sleepy owl", "two"),
    ("glass chess pieces on a marble board, 1:1, x3", {"num_outputs": 3}, "chess pieces", "x3"),
    ("a castle made of sand, I need three different ones", {"num_outputs": 3}, "castle made of sand", "ones"),
    ("a hanok house in snow. Can you make 3 different ones so I can choose?", {"num_outputs": 3}, "hanok", "choose"),
    ("a robot playing chess (2 variations, seed 3) thanks", {"num_outputs": 2, "seed": 3}, "robot playing chess", "("),
    ("a foggy canal at dawn, a few versions, say 4", {"num_outputs": 4}, "foggy canal", "say"),
    # A count of outputs with a word between it and the picture noun ("4 product shots").
    ("create 3 poster designs for a jazz night", {"num_outputs": 3}, "poster designs for a jazz night", "3 poster"),
    ("generate 2 short videos of rain on a window", {"num_outputs": 2}, "rain on a window", "2 short"),
    # Orientation stated for a platform, before a separator or another setting, or as a courtesy.
    ("a waterfall in a rainforest, vertical for instagram", {"width": 480, "height": 848}, "waterfall", "vertical"),
    ("a koala asleep in a gum tree, vertical phone wallpaper", {"width": 480, "height": 848}, "koala", "vertical"),
    ("a video of a subway train arriving, in portrait / cfg 4", {"width": 480, "height": 848}, "subway", "portrait"),
    (
        "a video of a hot air balloon rising, vertical 6s",
        {"width": 480, "height": 848, "num_frames": 97},
        "balloon",
        "6s",
    ),
    (
        "Could you draw a map of an archipelago? Portrait please.",
        {"width": 480, "height": 848},
        "archipelago",
        "Portrait",
    ),
    # "fixed seed", "--seed" and a "Settings:" label go with the setting they introduce.
    ("a lantern festival at night, fixed seed 12", {"seed": 12}, "lantern festival", "fixed"),
    ("a lantern festival at night. Settings: seed 5, 30 steps", {"seed": 5, "steps": 30}, "lantern", "Settings"),
]


@pytest.mark.parametrize(("text", "fields", "kept", "gone"), EN_E2E, ids=[t[:40] for t, *_ in EN_E2E])
def test_english_requests_plan_their_settings_and_keep_their_content(
    text: str, fields: dict[str, float], kept: str, gone: str
) -> None:
    spec = EmbeddedPlanner().plan(text, [])
    assert {k: getattr(spec, k) for k in fields} == fields
    assert kept in spec.prompt
    assert gone not in spec.prompt


@pytest.mark.parametrize(
    ("text", "negative", "kept"),
    [
        # A labelled negative prompt introduced by a dash, ended by a new sentence, a bar or its bracket.
        ("a ship in a bottle, negative prompt - dust, scratches", ["dust, scratches"], "ship in a bottle"),
        ("negative prompt: smoke, haze. put a red kite in the sky", ["smoke, haze"], "red kite"),
        ("a bonsai tree (negative prompt - leaves on the ground) in a studio", ["leaves on the ground"], "studio"),
        ("a bonsai tree | negative prompt - dust and sampling steps 20", ["dust"], "bonsai"),
        # A clause of its own that says what must not be there: "no people", "avoid lens flare".
        ("a quiet harbour at dawn, no boats, no birds", ["boats", "birds"], "quiet harbour"),
        ("a marble bust in a museum, avoid lens flare", ["lens flare"], "marble bust"),
    ],
)
def test_english_negative_prompts_hold_what_to_avoid_and_leave_the_prompt(
    text: str, negative: list[str], kept: str
) -> None:
    spec = EmbeddedPlanner().plan(text, [])
    assert spec.negative_prompt is not None
    for thing in negative:
        assert thing in spec.negative_prompt
        assert thing not in spec.prompt
    assert kept in spec.prompt
    assert "negative" not in spec.prompt.lower() and " no " not in f" {spec.prompt} "


@pytest.mark.parametrize(
    "text",
    [
        "a cabin with no windows in a pine forest",
        "a poster that says NO PARKING",
        "no, make it a blue car on a bridge",
        "a cat asleep on a sofa. no rush",
        "a sunset over the sea, no worries if it takes a while",
        "no cars in the street please. paint it at night",
    ],
)
def test_english_content_and_courtesy_with_no_are_not_a_negative_prompt(text: str) -> None:
    assert EmbeddedPlanner().plan(text, []).negative_prompt is None


@pytest.mark.parametrize(
    ("text", "kept"),
    [
        ("a kitchen clock showing 3:45 on a tiled wall", "3:45"),
        ("a departure board reading 09:15 in a busy station", "09:15"),
        ("an alarm clock at 7:30 am on a nightstand", "7:30"),
        ("a cozy desk with a 1080p monitor and a plant", "1080p monitor"),
    ],
)
def test_english_clock_times_and_device_resolutions_are_content(text: str, kept: str) -> None:
    spec = EmbeddedPlanner().plan(text, [])
    assert kept in spec.prompt
    assert (spec.width, spec.height) == (832, 480)


@pytest.mark.parametrize(
    "text",
    [
        "a bakery window with a batch of 12 cookies",
        "make 3 kids holding balloons in a park",
        "a poster with 4 photos of the team",
        "a clock tower showing 10:10 over a foggy street",
    ],
)
def test_english_counts_of_things_in_the_picture_are_not_outputs(text: str) -> None:
    assert EmbeddedPlanner().plan(text, []).num_outputs == 1


def test_an_english_negative_prompt_ends_where_words_to_the_reader_begin() -> None:
    spec = EmbeddedPlanner().plan("a fox in a meadow, negative prompt - text, watermark, I'll send the logo later", [])
    assert spec.negative_prompt == "text, watermark"
    assert "fox in a meadow" in spec.prompt and "logo" in spec.prompt


def test_an_english_animation_reads_a_batch_and_a_platform_orientation() -> None:
    spec = EmbeddedPlanner().plan("animate this, the leaves fall, vertical for reels, a batch of 2", [PHOTO])
    assert (spec.width, spec.height, spec.num_outputs) == (480, 848, 2)
    assert "leaves fall" in spec.prompt and "vertical" not in spec.prompt and "batch" not in spec.prompt


# ------------------------------------------------------------------------------------------------ Japanese
# Classes of Japanese phrasing: settings listed after "。" or "、", a shape word with its particle or beside a
# preset, counts with the measure word of what is made (本 for clips, つ, 種類), negatives by label or list.
JA_PHOTO = Attachment("/in/IMG_2231.jpg", Media.IMAGE, "photo", 640, 480)
JA_CLIP = Attachment("/in/VID_0087.mp4", Media.VIDEO, "photo", 832, 480, 33, 16.0, 2.0)

JA_E2E = [
    # A full stop or an enumeration comma never joins two numbers, and a setting may follow either.
    ("夜の港を進むフェリーの動画を作って。24fps", [], {"fps": 24, "num_frames": 121}, "フェリー", "fps"),
    ("紅葉の山道の画像を作って。1280x720", [], {"width": 1280, "height": 720}, "紅葉の山道", "1280"),
    ("灯台に波が打ち寄せる動画、シード42、5秒", [], {"seed": 42, "num_frames": 81}, "灯台", "シード"),
    ("竹林を抜ける風の動画、seed 7、10秒", [], {"seed": 7, "duration_s": 10}, "竹林", "seed"),
    ("花火が上がる動画、フレームレート8、49フレーム", [], {"fps": 8, "num_frames": 49}, "花火", "フレーム"),
    # A shape word with its particle as a clause, before a count, or as what the edit should become.
    ("湖の朝焼けの写真、縦長でお願いします", [], {"width": 480, "height": 848}, "湖の朝焼け", "縦長"),
    ("正方形で、古い本屋の看板", [], {"width": 624, "height": 624}, "古い本屋の看板", "正方形"),
    ("紫陽花の庭の画像、縦長で二枚", [], {"num_outputs": 2, "width": 480, "height": 848}, "紫陽花", "二枚"),
    ("スマホの待ち受け用に縦にしたい。上下を描き足して", [JA_PHOTO], {"width": 480, "height": 848}, "描き足して", "縦"),
    # A shape word beside a preset, on either side; a vertical video (縦動画) keeps its medium.
    ("灯台を照らす月の映像、720p縦", [], {"width": 720, "height": 1280}, "灯台を照らす月", "縦"),
    ("縦型の1080pで、噴水が上がる動画", [], {"width": 1080, "height": 1920}, "噴水が上がる", "縦型"),
    ("正方形の1080p、ガラスの鶴の画像", [], {"width": 1080, "height": 1080}, "ガラスの鶴", "正方形"),
    ("花火大会の縦動画", [], {"width": 480, "height": 848}, "花火大会の動画", "縦"),
    # Width and height stated by name.
    ("幅1280、高さ720で、雪の降る駅のホーム", [], {"width": 1280, "height": 720}, "雪の降る駅", "高さ"),
    # Clips counted with 本, things with つ, kinds with 種類, an approximate count or duration.
    ("滝つぼに落ちる水の動画を2本", [], {"num_outputs": 2}, "滝つぼ", "2本"),
    ("流れ星が降る映像、3秒で三本", [], {"num_outputs": 3, "num_frames": 49}, "流れ星", "三本"),
    ("紫陽花を描いた絵がほしい、3種類", [], {"num_outputs": 3}, "紫陽花", "種類"),
    ("パンダのステッカー画像、かわいいの4つくらいお願い", [], {"num_outputs": 4}, "パンダ", "4つ"),
    ("ひまわり畑の画像を二枚ほど", [], {"num_outputs": 2}, "ひまわり畑", "ほど"),
    ("波打ち際を歩く犬の動画、約5秒", [], {"num_frames": 81}, "波打ち際", "約"),
    ("線香花火の動画、縦型で4秒ほど", [], {"num_frames": 65, "width": 480, "height": 848}, "線香花火", "ほど"),
]


@pytest.mark.parametrize(("text", "atts", "fields", "kept", "gone"), JA_E2E, ids=[t[:24] for t, *_ in JA_E2E])
def test_japanese_requests_plan_their_settings_and_keep_their_content(
    text: str, atts: list[Attachment], fields: dict[str, float], kept: str, gone: str
) -> None:
    spec = EmbeddedPlanner().plan(text, atts)
    assert {k: getattr(spec, k) for k in fields} == fields
    assert kept in spec.prompt
    assert gone not in spec.prompt


@pytest.mark.parametrize(
    "text",
    [
        "縦長の窓がある古い洋館の画像",
        "ソファの横で寝ている猫の画像",
        "ワインのボトルを横にした写真を作って",
        "縦に並んだ提灯の画像",
        "正方形で構成された模様のタイルの画像",
    ],
)
def test_japanese_shape_words_that_describe_the_content_leave_the_size_alone(text: str) -> None:
    spec = EmbeddedPlanner().plan(text, [])
    assert (spec.width, spec.height) == (832, 480)


@pytest.mark.parametrize(
    "text",
    [
        "鉛筆が3本ある机の動画",
        "りんごを4つ描いて",
        "赤いバラ、3本を花瓶に生けた写真",
        "3種類の花が咲く庭の画像",
    ],
)
def test_japanese_counts_of_things_in_the_picture_are_not_outputs(text: str) -> None:
    assert EmbeddedPlanner().plan(text, []).num_outputs == 1


@pytest.mark.parametrize(
    ("text", "negative"),
    [
        ("山小屋の絵をお願いします。ネガティブ：人物、看板", ["人物", "看板"]),
        ("港の夕景のイラスト。ネガティブプロンプトは「ノイズ、文字」", ["ノイズ", "文字"]),
        ("砂浜に置かれたサンダルの写真。ノイズ、ぼかしはなしで", ["ノイズ", "ぼかし"]),
        ("港町の朝市のイラスト、透かしなしで よろしく", ["透かし"]),
        ("和菓子屋のロゴ、枠なしでお願いします", ["枠"]),
    ],
)
def test_japanese_negative_prompts_hold_what_to_avoid_and_leave_the_prompt(text: str, negative: list[str]) -> None:
    spec = EmbeddedPlanner().plan(text, [])
    assert spec.negative_prompt is not None
    for thing in negative:
        assert thing in spec.negative_prompt
        assert thing not in spec.prompt
    assert "ネガティブ" not in spec.prompt and "なし" not in spec.prompt


@pytest.mark.parametrize(
    ("text", "control"),
    [
        ("このダンス動画の振り付けで、ロボットが踊る動画を作って", "pose"),
        ("この動画のオプティカルフローを使って、溶岩が流れる映像", "flow"),
        ("この動画の輪郭線だけ使って、ガラス細工の街の新しい動画を作って", "canny"),
        ("この動画をグレースケールにした構造で、水彩画の街を生成", "gray"),
        ("この動画のレイアウトどおりに、車が走る街を生成", "layout"),
        ("この動画の奥行きを保って、雪の森を進む映像", "depth"),
        ("この落書きの線に沿って、空飛ぶ船の映像を生成", "scribble"),
    ],
)
def test_japanese_control_signals_are_read_from_their_words(text: str, control: str) -> None:
    spec = EmbeddedPlanner().plan(text, [JA_CLIP])
    assert spec.task.value == "video_control"
    assert spec.control_type is not None and spec.control_type.value == control


# ---------------------------------------------------------------------------------------------- Spanish, French, German
# Classes of phrasing in Spanish, French and German: a shape word beside a preset or ending its clause (with a
# courtesy word or the feed it is for), "W by H" and width/height by name, counts of variants wherever they
# stand and counts of made things that keep the noun, negatives by a bare label, "without the X" as an edit,
# keyword-first steps, a decimal comma after "guidance"/"CFG", and frames counted as images beside a frame rate.
ESFRDE_CLIP = Attachment("/in/VID_0311.mp4", Media.VIDEO, "photo", 832, 480, 33, 16.0, 2.0)
ESFRDE_PHOTO = Attachment("/in/IMG_7310.jpg", Media.IMAGE, "photo", 640, 480)

ESFRDE_E2E = [
    # A shape word beside a preset, on either side.
    ("un río de montaña al amanecer, 720p vertical", {"width": 720, "height": 1280}, "río de montaña", "vertical"),
    ("una abuela cocinando arepas, vertical en 720p", {"width": 720, "height": 1280}, "abuela", "vertical"),
    ("un torrent de montagne sous la neige, 1080p vertical", {"width": 1080, "height": 1920}, "torrent", "vertical"),
    ("Regentropfen auf einem Fenster, 1080p quadratisch", {"width": 1080, "height": 1080}, "Regentropfen", "quadrat"),
    # A shape word ending its clause but for a courtesy word, the feed it is for, or a feminine ending.
    ("un perro con cara de lunes? cuadrado porfa", {"width": 624, "height": 624}, "perro", "cuadrado"),
    ("nubes sobre los picos de Europa, vertical para stories", {"width": 480, "height": 848}, "nubes", "vertical"),
    ("foto de una paella vista desde arriba, cuadrada", {"width": 624, "height": 624}, "paella", "cuadrada"),
    ("un chat roux qui dort sur une pile de livres, carré stp", {"width": 624, "height": 624}, "chat roux", "carré"),
    ("une affiche de concert de jazz, en portrait", {"width": 480, "height": 848}, "affiche", "portrait"),
    ("Sneaker schwebend über einer Pfütze, quadratisch für Insta", {"width": 624, "height": 624}, "Sneaker", "quadr"),
    # Width by height with the language's own word, and width and height by name.
    ("génère une équipe autour d'une table. 1920 par 1080.", {"width": 1920, "height": 1080}, "équipe", "1920"),
    ("ein Video von einer Sonnenfinsternis, am besten 1280 mal 720", {"width": 1280, "height": 720}, "Sonnen", "mal"),
    ("eine Zelle unter dem Mikroskop, Breite 1024, Höhe 768", {"width": 1024, "height": 768}, "Zelle", "Breite"),
    ("un faro en la niebla, ancho 1024 y alto 768", {"width": 1024, "height": 768}, "faro", "ancho"),
    # Counts of variants after "de" or in a short request, and a count standing after a verb of making.
    ("J'aurais besoin de trois variantes d'affiche pour un concert de jazz", {"num_outputs": 3}, "concert", "trois"),
    ("Porzellanvase mit blauem Muster, vier Varianten, Seed 100", {"num_outputs": 4, "seed": 100}, "Porzellan", "vier"),
    ("eine Katze im Astronautenanzug, 1080p, mach zwei davon", {"num_outputs": 2}, "Katze", "zwei"),
    ("Bibliothek unter Wasser. Sechs Ausgaben, Seed zwölf.", {"num_outputs": 6, "seed": 12}, "Bibliothek", "Sechs"),
    ("una zapatilla flotando sobre fondo morado, 2 variantes porfa", {"num_outputs": 2}, "zapatilla", "variantes"),
    # A count of made things: the number is cut, the noun stays what to make.
    ("Haz 3 logos para una panadería, estilo minimalista", {"num_outputs": 3}, "logos", "3"),
    ("Fais 3 logos pour une boulangerie, style minimaliste", {"num_outputs": 3}, "logos", "3"),
    # Keyword-first steps, and a decimal comma after "guidance" or "CFG".
    ("una ilustración de un aula llena de niños, pasos 25", {"steps": 25}, "aula", "pasos"),
    ("einen Sportwagen in der Wüste zeichnen, Schritte 30", {"steps": 30}, "Sportwagen", "Schritte"),
    ("Crée une illustration d'une cellule animale, guidance 8,5", {"guidance_scale": 8.5}, "cellule", "8,5"),
    ("eine DNA-Doppelhelix in Blautönen, CFG 5,5", {"guidance_scale": 5.5}, "Doppelhelix", "CFG"),
    # Images counted beside a frame rate are frames.
    ("Une théière qui siffle sur une gazinière, 97 images à 24 fps", {"num_frames": 97, "fps": 24}, "théière", "97"),
]


@pytest.mark.parametrize(("text", "fields", "kept", "gone"), ESFRDE_E2E, ids=[t[:40] for t, *_ in ESFRDE_E2E])
def test_spanish_french_and_german_requests_plan_their_settings_and_keep_their_content(
    text: str, fields: dict[str, float], kept: str, gone: str
) -> None:
    spec = EmbeddedPlanner().plan(text, [])
    assert {k: getattr(spec, k) for k in fields} == fields
    assert kept in spec.prompt
    assert gone not in spec.prompt


@pytest.mark.parametrize(
    ("text", "negative"),
    [
        ("Tenis blancos sobre fondo pastel, foto de producto. Prompt negativo: texto, marca de agua", "marca de agua"),
        ("Video de un niño soplando las velas de su tarta. negativo: caras deformes", "caras deformes"),
        ("Étalonnage ciné svp : teintes froides, sans scintillement", "scintillement"),
        ("Zeichne einen Roboter, der Blumen gießt. Negativ: Text, Wasserzeichen.", "Wasserzeichen"),
        ("ein Drache über einer Burg, negatives Prompt: Text, Logo.", "Logo"),
    ],
)
def test_spanish_french_and_german_negative_labels_hold_what_to_avoid(text: str, negative: str) -> None:
    spec = EmbeddedPlanner().plan(text, [])
    assert spec.negative_prompt is not None and negative in spec.negative_prompt
    assert negative not in spec.prompt


@pytest.mark.parametrize(
    ("text", "kept"),
    [
        ("Sans le logo en bas à droite stp", "logo"),
        ("Ohne das Wasserzeichen oben links", "Wasserzeichen"),
        ("Sin el cartel de la esquina, por favor", "cartel"),
    ],
)
def test_without_the_thing_in_an_edit_is_the_instruction_not_a_negative_prompt(text: str, kept: str) -> None:
    spec = EmbeddedPlanner().plan(text, [ESFRDE_PHOTO])
    assert spec.negative_prompt is None
    assert kept in spec.prompt


@pytest.mark.parametrize(
    ("text", "control"),
    [
        ("Genera un río de lava que siga el flujo óptico de este clip", "flow"),
        ("Que un caballero medieval haga exactamente los movimientos del clip, extrae el esqueleto", "pose"),
        ("Usa la versión en escala de grises de este clip como guía y genera una calle de Tokio", "gray"),
        ("Génère une coulée de lave qui suit le flux optique de ce plan", "flow"),
        ("Prends la version en niveaux de gris de ce clip comme guide et génère une rue de Tokyo", "gray"),
        ("Je veux un renard de feu qui suit la chorégraphie de ma vidéo", "pose"),
        ("Extrahier den optischen Fluss aus dem Clip und mach daraus Lavaströme", "flow"),
        ("Kanten aus dem Clip extrahieren und als Neon-Linien-Animation neu erzeugen", "canny"),
        ("Nimm die Tanzbewegungen aus meinem Video und mach einen Roboter draus", "pose"),
    ],
)
def test_spanish_french_and_german_control_signals_are_read_from_their_words(text: str, control: str) -> None:
    spec = EmbeddedPlanner().plan(text, [ESFRDE_CLIP])
    assert spec.task.value == "video_control"
    assert spec.control_type is not None and spec.control_type.value == control


# ------------------------------------------------------------------------------------------------ Chinese
# Classes of Chinese phrasing (Simplified and Traditional) that people write and the zh rules must read (or leave).
ZH_PHOTO = Attachment("/in/IMG_2087.jpg", Media.IMAGE, "photo", 640, 480)
ZH_CLIP = Attachment("/in/VID_0311.mp4", Media.VIDEO, "photo", 832, 480, 33, 16.0, 2.0)

ZH_E2E = [
    # A format word made of one shape character ("竖图", "闊屏", "直式"), or a shape word that is a clause of its
    # own with the verb that asks for it ("要正方形的"), or stands beside a preset ("720P方形").
    ("生成一张雪山日出的照片，竖图", {"width": 480, "height": 848}, "雪山日出", "竖图"),
    ("帮我画一只橘猫趴在窗台上，要正方形的", {"width": 624, "height": 624}, "橘猫趴在窗台上", "正方形"),
    ("幫我生成一張奶茶店的海報，要直式的", {"width": 480, "height": 848}, "奶茶店", "直式"),
    ("一张城市夜景的图片，720P方形", {"width": 720, "height": 720}, "城市夜景", "方形"),
    # A ratio said with 比, in numerals ("三比二的风景照", "九比十六").
    ("一张三比二的风景照：冰川下的小木屋", {"width": 768, "height": 512}, "冰川下的小木屋", "三比二"),
    # A count with a measure word and who picks among them ("出两张我挑"), of clips ("给我三条"), of versions
    # ("出三版"), or of anything after a verb asking for it ("来4个").
    ("画一只戴帽子的柴犬，出两张我挑", {"num_outputs": 2}, "戴帽子的柴犬", "两张"),
    ("生成一段烟花在江面上绽放的视频，做三条我挑", {"num_outputs": 3}, "烟花在江面上绽放", "三条"),
    ("一个极简的茶叶品牌logo，给我出三版", {"num_outputs": 3}, "茶叶品牌logo", "三版"),
    ("画一间山里的咖啡馆，来4个", {"num_outputs": 4}, "山里的咖啡馆", "4个"),
    # A value set with a verb ("种子设成0", "步数设为35", "CFG调到3.5").
    (
        "画一座海边的灯塔，种子设成0，步数设为35，CFG调到3.5",
        {"seed": 0, "steps": 35, "guidance_scale": 3.5},
        "海边的灯塔",
        "设",
    ),
    # English setting words written into a Chinese sentence, the full-width comma ending the number.
    ("画一只柯基在草地上，seed 2024，16:9", {"seed": 2024, "width": 848, "height": 480}, "柯基在草地上", "seed"),
    ("一只熊猫在竹林里吃竹子，vertical的", {"width": 480, "height": 848}, "熊猫在竹林里", "vertical"),
    # The sides named one by one ("宽768高1024"), or joined by 乘 with no label.
    ("宽768高1024，一只白鹤站在湖边", {"width": 768, "height": 1024}, "白鹤站在湖边", "768"),
    ("一辆复古跑车停在加油站，768乘512", {"width": 768, "height": 512}, "复古跑车", "乘"),
    # A bare standard frame rate is fps ("6秒，30帧"); a count the model makes is frames ("49帧").
    ("生成一段雪花飘落的视频，6秒，30帧", {"fps": 30, "num_frames": 181}, "雪花飘落", "30帧"),
    ("生成一段雪花飘落的视频，49帧", {"fps": 16, "num_frames": 49}, "雪花飘落", "49帧"),  # still frames
]


@pytest.mark.parametrize(("text", "fields", "kept", "gone"), ZH_E2E, ids=[t[:24] for t, *_ in ZH_E2E])
def test_chinese_requests_plan_their_settings_and_keep_their_content(
    text: str, fields: dict[str, float], kept: str, gone: str
) -> None:
    spec = EmbeddedPlanner().plan(text, [])
    assert {k: getattr(spec, k) for k in fields} == fields
    assert kept in spec.prompt
    assert gone not in spec.prompt


@pytest.mark.parametrize(
    ("text", "negative"),
    [
        # "不要X" as a clause of its own, commas or spaces between clauses.
        ("画一片樱花林 不要人 不要文字 1:1", ["人", "文字"]),
        ("一只白色的狐狸在雪地里，不要模糊。", ["模糊"]),
        # A short label: "负面：".
        ("生成一张蛋糕的图片，负面：变形，低质量", ["变形，低质量"]),
    ],
)
def test_chinese_negative_prompts_hold_what_to_avoid_and_leave_the_prompt(text: str, negative: list[str]) -> None:
    spec = EmbeddedPlanner().plan(text, [])
    assert spec.negative_prompt is not None
    for thing in negative:
        assert thing in spec.negative_prompt
    assert "不要" not in spec.prompt and "负面" not in spec.prompt


@pytest.mark.parametrize(
    "text",
    ["把背景换成海边，不要改变人物的脸", "把天空调亮一点，不要太亮", "这张照片里有三张桌子，把它们换成木头的"],
)
def test_chinese_instructions_and_counts_of_things_are_not_settings(text: str) -> None:
    spec = EmbeddedPlanner().plan(text, [ZH_PHOTO])
    assert spec.negative_prompt is None
    assert spec.num_outputs == 1


@pytest.mark.parametrize(
    ("text", "attachment", "control"),
    [
        ("提取这张照片里人的姿势，生成一个宇航员摆同样的姿势", ZH_PHOTO, "pose"),
        ("照着这个视频里的动作，生成一只熊猫跳同样的舞", ZH_CLIP, "pose"),
        ("提取这张图的线条轮廓，生成一座玻璃温室", ZH_PHOTO, "canny"),
        ("跟着这个视频的运动轨迹，生成一群鸟飞过湖面", ZH_CLIP, "flow"),
        ("用这段视频的灰度结构，生成霓虹风格的街道", ZH_CLIP, "gray"),
        ("按這段影片裡物體的佈局，生成一條賽道上的小車", ZH_CLIP, "layout"),
        ("按照这张深度图生成一个地下城", Attachment("/in/d.png", Media.IMAGE, "depth", 640, 480), "depth"),
        # A line drawing (线稿) is a sketch or a picture's edges: the control file's look decides, else edges.
        ("提取这张照片的线稿，按线稿生成一张水彩画", ZH_PHOTO, "canny"),
        ("按这个线稿生成一张彩色插画", Attachment("/in/a.png", Media.IMAGE, "scribble", 640, 480), "scribble"),
        ("按这个线稿生成一张彩色插画", Attachment("/in/a.png", Media.IMAGE, "edge", 640, 480), "canny"),
    ],
)
def test_chinese_control_signals_are_read_from_their_words(text: str, attachment: Attachment, control: str) -> None:
    spec = EmbeddedPlanner().plan(text, [attachment])
    assert spec.task.value in ("image_control", "video_control")
    assert spec.control_type is not None and spec.control_type.value == control


@pytest.mark.parametrize(
    ("text", "control"),
    [
        ("take the walking motion from this clip and make a robot walking the same way", "pose"),
        ("a new video that follows the dance in this clip, but a robot in a factory", "pose"),
        ("keep the camera motion of this clip, the scene is a desert canyon", "flow"),
        ("copy the motion of my clip with a pose skeleton, but a ninja on rooftops", "pose"),
    ],
)
def test_english_control_signals_are_read_from_how_the_motion_is_named(text: str, control: str) -> None:
    clip = Attachment("/in/take_03.mp4", Media.VIDEO, "photo", 832, 480, 49, 16.0, 3.0)
    spec = EmbeddedPlanner().plan(text, [clip])
    assert spec.control_type is not None and spec.control_type.value == control
