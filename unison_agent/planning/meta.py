"""Meta settings stated in a request: size, presets, orientation, ratio, duration, frames, fps, seed, steps,
guidance, number of outputs and the negative prompt, each with the span it occupies so that it can be cut
out of a generation prompt.

Everything here works on :class:`~unison_agent.planning.text.Norm` text (lower case, typos of the planner's
vocabulary repaired); spans are in normalised coordinates and mapped back with ``Norm.span``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from itertools import chain
from typing import Any, Literal

from unison_agent.planning.patterns import LazyPattern
from unison_agent.planning.text import NUMBER_RE, NUMBER_RES, Norm, has_char_from, parse_number
from unison_agent.spec import LIMITS, PRESETS

__all__ = ["RULES", "Meta", "Rule", "clean_prompt", "extract_meta"]

Span = tuple[int, int]


@dataclass
class Meta:
    """What a request says about its output. ``None`` means not stated."""

    width: int | None = None
    height: int | None = None
    preset: str | None = None
    orientation: str | None = None  # landscape | portrait | square
    ratio: tuple[float, float] | None = None
    seconds: float | None = None
    frames: int | None = None
    fps: int | None = None
    seed: int | None = None
    steps: int | None = None
    guidance: float | None = None
    num_outputs: int | None = None
    negative_prompt: str | None = None
    spans: list[Span] = field(default_factory=list)
    video_hint: bool = False  # seconds, frames or fps were stated: the output moves
    # Settings stated with a value the contract cannot hold, as "2000 frames: num_frames must be 1..1025", in the
    # order they appear: a generation request that has any is refused, never planned without them.
    out_of_range: list[str] = field(default_factory=list)

    def add(self, m: re.Match[str], group: int = 0) -> None:
        self.spans.append((m.start(group), m.end(group)))


N = NUMBER_RE
# Chinese and Japanese write no spaces: "视频24fps", "种子42", "720P分辨率". Their characters count as word
# characters for \b and \w, so the boundaries of the Latin-script rules treat them as spaces instead.
_CJK = "\u3000-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff00-\uffef"
_HAS_CJK = LazyPattern(rf"[{_CJK}]")
# A letter or digit of the scripts that put spaces between words (Latin, Greek, Cyrillic), or "_": what the rules'
# word boundaries look at. CJK characters are not in it, so "5秒" and "横屏16:9" have boundaries. Written out, not
# as [^\W<CJK ranges>], which compiles five times slower: Python's regex compiler visits each code point of a
# range, 28,000 for the CJK ones, and 47 rules hold this class (0.30 s of compiling them all against 0.12 s).
_W = (
    "[0-9A-Za-z_\u00aa\u00b2\u00b3\u00b5\u00b9\u00ba\u00bc-\u00be\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u024f"
    "\u0370-\u03ff\u0400-\u04ff\u1e00-\u1eff]"
)
_L = rf"(?<!{_W})"  # left word boundary
_B = rf"(?<!{_W})(?<!\.)"  # left word boundary that also refuses a decimal point ("v1.5 seconds")
_E = rf"(?!{_W})"

_SIZE = LazyPattern(
    rf"(?:\b(?:at|in|to|output|resolution|size|res|dimensions?|of)\s*[:=]?\s*)?{_B}(\d{{2,5}})\s*(?:px)?\s*(?:x|\*|by)\s*"
    rf"(\d{{2,5}})\s*(?:px|pixels)?{_E}(?:\s*(?:resolution|px|pixels))?",
    keys=("x", "*", "by"),
)
_WIDTH_HEIGHT = LazyPattern(
    r"\bwidth\s*(?:of|=|:)?\s*(\d{2,5})(?:\s*px)?\s*(?:,|and|x)?\s*(?:a\s+)?height\s*(?:of|=|:)?\s*(\d{2,5})(?:\s*px)?"
    r"|\bheight\s*(?:of|=|:)?\s*(\d{2,5})(?:\s*px)?\s*(?:,|and|x)?\s*(?:a\s+)?width\s*(?:of|=|:)?\s*(\d{2,5})"
    r"(?:\s*px)?",
    keys=("height",),
)
_PRESET = LazyPattern(
    rf"(?:\b(?:at|in|to|output)\s+)?{_B}({'|'.join(p[:-1] for p in PRESETS)})\s*p{_E}|\bfull[\s-]?hd\b",
    keys=(*(p[:-1] for p in PRESETS), "full"),
)
_RATIO = LazyPattern(
    r"(?:(?:--ar|--aspect|\b(?:aspect(?:[\s_]*ratio)?|ratio|in|at|to|format))\s*(?:of|=|:)?\s*)?(?<![\d:.])(\d{1,2}(?:\.\d+)?)\s*:\s*(\d{1,2})"
    r"(?![\d]|:\d)(?:\s*(?:aspect(?:\s*ratio)?|ratio|format|frame))?",
    keys=(":",),
)
_ORIENT_WORDS = r"orientation|mode|format|layout|aspect(?:\s+ratio)?|ratio|crop"
_ORIENT_MEDIA = r"video|clip|image|picture|pic|photo|frame|shot|format|(?:(?:phone|mobile|desktop)\s+)?wallpaper|poster"
# The medium after "vertical" ("a vertical video") is kept in the prompt: only the orientation is cut.
_ORIENT = LazyPattern(
    r"(?:\b(?:make\s+it|in|as)\s+)?\b(vertical|portrait|horizontal|landscape|square|widescreen|ultra[\s-]?wide)"
    rf"\b(?:\s+(?:{_ORIENT_WORDS})\b|(?=\s+(?:{_ORIENT_MEDIA})\b))?",
    keys=("horizontal", "landscape", "portrait", "square", "ultra", "vertical", "widescreen"),
)
_SECONDS = LazyPattern(
    rf"(?:\b(?:for|of|about|around|lasting|duration|length|long)\s*[:=]?\s*)?{_B}({N})\s*(?:-\s*)?"
    rf"(seconds?|secs?|s|minutes?|mins?|segundos?|secondes?|sekunden?)(?:\s+long)?{_E}"
)
# Tried only where a run of spaces or digits begins (the guards): from every position of a long run, the run
# would be rescanned each time (quadratic in its length).
# "60s" right after these words, or right before these, is a decade or an age ("in her 40s", "retro 60s style",
# "como en sus 40s", "les années 80s"), not sixty seconds; "a 30s clip" and "make it 20s" stay durations.
_DECADE_BEFORE = LazyPattern(
    r"(?:\b(?:in|into|of)\s+(?:his|her|their|my|your|our|the)|\b(?:retro|early|late|mid|sus|mis|tus|los|las|des"
    r"|ann[ée]es|die|den|der|fr[üu]hen|sp[äa]ten)|\bthe)[\s'-]*$"
)
_DECADE_AFTER = LazyPattern(
    r"[\s-]*(?:style[ds]?|vibes?|looks?|aesthetics?|era|fashion|music|songs?|decor|design|estilo|stil|mode|moda)\b"
)


def _is_decade(t: str, m: re.Match[str], value: float) -> bool:
    """Whether the bare "Ns" of ``m`` is a decade or an age: a round 20..90 written without a space before "s",
    after an age or decade word or before a style word."""
    if value not in (20, 30, 40, 50, 60, 70, 80, 90) or not t[m.end(1) : m.end()].startswith("s"):
        return False
    start = m.start(1)
    return bool(_DECADE_BEFORE.search(t[max(0, start - 24) : start]) or _DECADE_AFTER.match(t, m.end()))


_SECONDS_ZH = LazyPattern(r"(?:时长|长度|(?<!\s))\s*(?<!\d)(\d+(?:\.\d+)?)\s*秒(?:钟)?", keys=("秒",))
_FRAMES = LazyPattern(
    rf"(?:(?:num_frames|frames)\s*[:=]\s*[-−]?(\d+))|{_B}({N})\s*(?:-\s*)?(?:total\s+)?frames?{_E}|(?<!\d)(\d+)\s*帧",
    keys=("frame", "帧"),
)
_FPS = LazyPattern(
    rf"(?:\bat\s+|@\s*)?{_B}({N})\s*(?:-\s*)?(?:fps|frames?\s*(?:per|a|/)\s*(?:second|sec|s)|frame\s*rate|帧每秒){_E}"
    rf"|{_L}(?:fps|frame\s*rate|framerate)\s*(?:of|=|:|at)?\s*[-−]?({N})",
    keys=("ps", "rame", "帧每秒"),
)
# "fixed seed 12" and "--seed 12": the qualifier and the flag dashes go with the seed.
_SEED = LazyPattern(
    rf"(?:{_L}(?:random|fixed)\s+)?(?:--|{_L})seed\s*(?:number|value|of|is|=|:|#)?\s*[-−]?({N}){_E}", keys=("seed",)
)
# Not the value of another setting's label: in "steps 40 guidance 7.5" and "seed 42 steps 30", 40 is the steps'
# and 42 the seed's, though "40 guidance" and "42 steps" read alone would be settings themselves.
_NOT_A_LABELS_VALUE = "".join(
    f"(?<!{label} )" for label in ("steps", "step", "seed", "fps", "cfg", "guidance", "scale", "frames", "outputs")
)
_STEPS = LazyPattern(
    rf"(?<![=:] )(?<![=:]){_NOT_A_LABELS_VALUE}{_B}({N})\s*"
    rf"(?:inference\s+|sampling\s+|denoising\s+|diffusion\s+)?steps?{_E}"
    rf"|\b(?:num_inference_steps|(?:inference\s+|sampling\s+|denoising\s+)?steps)\s*(?:of|=|:)?\s*[-−]?(\d+)\b",
    keys=("step",),
)
_GUIDANCE = LazyPattern(
    rf"{_L}(?:guidance(?:[\s_]+scale)?|cfg(?:[\s_]+scale)?|cfg)\s*(?:of|=|:|at)?\s*[-−]?(\d+(?:\.\d+)?)"
    rf"|{_B}(?<![=:])(?<![=:] ){_NOT_A_LABELS_VALUE}(\d+(?:\.\d+)?)\s*(?:guidance(?:\s+scale)?|cfg){_E}",
    keys=("cfg", "guidance"),
)
_OUTPUT_NOUNS = (
    r"options?|variations?|versions?|variants?|alternatives?|outputs?|images?|imgs?|pics?|pictures?|photos?|"
    r"videos?|vids?|clips?|takes?|samples?|results?|candidates?|renders?|generations?|shots?|designs?|"
    r"illustrations?|drawings?|logos?|wallpapers?|posters?"
)
_OUTPUT_ADJ = r"different|more|distinct|alternative|separate|unique|other"
_OUTPUTS = LazyPattern(
    rf"(?<!these )(?<!those )(?<!the )(?<!both )(?<!my )(?<!of )(?<!our )(?<!your )(?<!\d )"
    rf"{_B}({N})\s+(?:(?:(?:{_OUTPUT_ADJ})\s+)?(?:{_OUTPUT_NOUNS})|(?:{_OUTPUT_ADJ})\s+ones)\b(?:\s+(?:please|pls|plz))?"
    r"(?:\s+so\s+(?:that\s+)?(?:i|we)\s+can\s+(?:pick|choose|compare)\b)?"
)
# Counts the plain pattern above leaves: one word naming the kind of picture between a verb of making (or the start)
# and the count's noun ("make 4 product shots", "Need 2 short clips"), and "a few versions, like 3". "3 kids
# holding pictures" stays content: only one word may stand between. Of the first kind only the number is cut: the
# rest says what to make.
_OUTPUTS_MADE = rf"{_B}({N})\s+(?!of\b|and\b|or\b)[^\W\d_]+(?:-[^\W\d_]+)?\s+(?:{_OUTPUT_NOUNS})\b"  # "4 product shots"
_MAKING = ("make", "generate", "create", "render", "design", "draw", "produce", "need", "want", "give", "gimme")
_OUTPUTS_MORE = LazyPattern(rf"\b(?:{'|'.join(_MAKING)})(?:\s+me)?\s+{_OUTPUTS_MADE}", keys=_MAKING)
_OUTPUTS_LEAD = LazyPattern(rf"\s*{_OUTPUTS_MADE}")  # tried only where the text starts
_OUTPUTS_FEW = LazyPattern(
    rf"\b(?:a\s+few|a\s+couple(?:\s+of)?|several|some)\s+(?:(?:{_OUTPUT_ADJ})\s+)?(?:{_OUTPUT_NOUNS}|ones)\s*"
    rf"[,(-]?\s*(?:like|say|maybe|about|around|roughly|~)\s*({N}){_E}\)?",
    keys=("few", "couple", "several", "some"),
)
# A count stated as a setting: "n=4", "num outputs 3", "batch size 2", "a batch of four". A batch is of outputs
# only where the clause ends, an output noun or another setting follows: "a batch of 12 cookies" is content.
_OUTPUTS_KEY = LazyPattern(
    r"(?:--|\b)(?:n|num_outputs|num_images|batch_size|batch|samples)\s*[:=]\s*[-−]?(\d+)\b"
    rf"|\b(?:num(?:ber)?[\s_]+(?:of[\s_]+)?(?:outputs|images|samples|variations|generations)|batch[\s_]+size)"
    r"\s*[:=]?\s*[-−]?(\d+)\b"
    rf"|\b(?:in\s+)?(?:a\s+)?batch\s+of\s+({N})(?=\s*(?:[,.;:!?|/()\n]|[-–—]|$)"
    rf"|\s+(?:{_OUTPUT_NOUNS}|guidance|cfg|seed|steps?|fps|negative|at|in|with|please|pls|plz|\d)\b)",
    keys=(":", "=", "batch", "outputs", "images", "samples", "variations", "generations"),
)
# A count standing alone: after a verb of making at the end of its clause or before "so I can pick" ("generate
# three so I can choose", "make 5, 16:9"), a count and a courtesy word as a clause ("three please"), "x4".
_CLAUSE_AFTER = r"(?=\s*(?:[.,!?;:)|/\n]|[-–—]\s|$))"
_OUTPUTS_BARE = LazyPattern(
    rf"\b(?:give me|gimme|make me|make|generate|create|render|send me|i want|i need|i'd like)\s+({N})"
    rf"(?:\s+(?:please|pls|plz))?(?:{_CLAUSE_AFTER}|\s+so\s+(?:that\s+)?(?:i|we)\s+can\s+(?:pick|choose|compare)\b)"
    rf"|(?<![\w])({N}|a few|a couple)\s+of\s+(?:them|those|these)\b"
)
_OUTPUTS_ALONE = LazyPattern(
    rf"(?:^|(?<=[,.;:!?(|/\n]))\s*({N})\s+(?:please|pls|plz){_CLAUSE_AFTER}", keys=("please", "pls", "plz")
)
# "x4" as a clause of its own. The letter comes first so that the scan skips to it; what stands before it is
# checked where it is read ("speed x2" is not a count).
_OUTPUTS_TIMES = LazyPattern(rf"[x×](?<![^\s,.;:!?(|/\n][x×])\s?(\d{{1,2}}){_CLAUSE_AFTER}")
_NEGATIVE = LazyPattern(
    r"(?:--|\b)(?:negative[\s_-]*prompt|neg(?:ative)?[\s_-]*prompt|negative|negatives|neg)(?:\s*[:=]|\s*[-–—]+(?=\s))\s*"
    r"(.*?)\s*(?=\n|$)"
    r"|\bavoid\s*:\s*(.*?)\s*(?=\n|$)",
    keys=("avoid", "neg"),
)


# ------------------------------------------------------------------------------------------------ other languages
@dataclass(frozen=True)
class Rule:
    """One way a language states a setting. ``examples`` are the phrases it exists for (each must be read as
    ``kind``) and ``content`` phrases that look alike but belong to the picture (none may be read as ``kind``);
    tests check both. ``only_in`` limits a rule whose words are also words of other languages ("sin", "sans")
    to text written in that language; ``needs`` is what the text must also say for the rule to apply. Patterns
    are compiled on first use; ``keys`` (see :class:`~unison_agent.planning.patterns.LazyPattern`) spare a
    text that holds none of them, and with them the cost of compiling the rule for every request.

    Groups: the number is the first group that matched (``k`` when it follows its keyword, for steps), a
    duration's unit is ``unit``, an orientation word ``o`` (with its format word ``f``, cut with it) and a
    negative prompt's value ``v``."""

    lang: str
    kind: str
    pattern: LazyPattern
    examples: tuple[str, ...]
    content: tuple[str, ...] = ()
    only_in: str | None = None
    needs: LazyPattern | None = None

    def applies(self, norm: Norm) -> bool:
        """Whether this rule may be tried on ``norm``."""
        return (self.only_in is None or norm.lang == self.only_in) and (
            self.needs is None or self.needs.search(norm.text) is not None
        )


def _rule(
    lang: str,
    kind: str,
    pattern: str,
    examples: list[str],
    content: list[str] | None = None,
    only_in: str | None = None,
    needs: str | None = None,
    keys: tuple[str, ...] = (),
) -> Rule:
    return Rule(
        lang,
        kind,
        LazyPattern(pattern, keys=keys),
        tuple(examples),
        tuple(content or ()),
        only_in,
        LazyPattern(needs) if needs else None,
    )


N_ZH = NUMBER_RES["zh"]
N_ES = NUMBER_RES["es"]
N_FR = NUMBER_RES["fr"]
N_DE = NUMBER_RES["de"]
_DEC = r"\d+(?:[.,]\d+)?"  # "7,5" is 7.5 in Spanish, French and German
# "第五帧" is the fifth frame, "每一帧" every frame. Not after another numeral either: a long run of them is
# then tried once, not from each of its characters.
_CJK_NUM = rf"(?<![\d.第每前后後这這那零〇一二两兩三四五六七八九十百千半])({N_ZH})"
_CLAUSE_START = r"(?:^|(?<=[,;:.!?\n(]))\s*"
_CLAUSE_END = r"(?=\s*(?:[,;:.!?\n)]|$))"
_ZH_MEDIA = (
    r"视频|視頻|影片|短片|图片|圖片|图像|圖像|照片|画面|畫面|海报|海報|壁纸|壁紙|插画|插畫|头像|頭像|封面|图|圖|画|畫"
)
_JA_MEDIA = (
    r"動画|画像|写真|イラスト|映像|ビデオ|ポスター|壁紙|絵|アイコン|ロゴ|クリップ|ムービー|アニメーション|サムネイル|サムネ|"
    r"待ち受け"
)
# Japanese shape words. A lone 縦/横 ("縦で", "720p縦") counts only where nothing else can follow it: 横 is also
# "beside" ("ソファの横で") and begins words ("横浜").
_JA_SHAPES = r"縦長|縦型|縦向き|縦位置|横長|横型|横向き|横位置|正方形|スクエア"
_JA_LONE_SHAPE = r"(?:縦|横)(?=\s*(?:で|に|の?(?:動画|映像|画像|写真)|[,;:.!?\n)」…〜~]|$))"
# What settles a Japanese request after a setting: "でお願いします", "ください", "よろしく〜", "でいいです".
_JA_PLEASE = (
    r"\s*(?:で|が|に)?\s*(?:お願い(?:します|いたします|致します)?|ください|下さい|くれる|ほしい|欲しい|"
    r"よろしく[^,.;!?\n]*|頼む|希望|いい(?:です)?|良い|大丈夫(?:です)?)"
)
_JA_ABOUT = r"(?:ほど|くらい|ぐらい|程度|前後|ずつ)"  # "5秒ほど", "二枚くらい": cut with what they follow
# A Japanese clause also ends at an ellipsis, a wave dash or a closing quote ("3枚…って", "なしで よろしく〜").
_JA_END = r"(?=\s*(?:[,;:.!?\n)」…〜~]|$))"
# The start of a clause, taking nothing: a setting's cut starts at its own first character.
_JA_START = r"(?:^|(?<=[,;:.!?\n(])|(?<=[,;:.!?\n(]\s))"
_ES_MEDIA = r"v[ií]deos?|im[aá]genes|imagen|fotos?|clips?|p[oó]sters?|ilustraci[oó]n"
_FR_MEDIA = r"vid[ée]os?|images?|photos?|clips?|affiches?|illustrations?"
_DE_MEDIA = r"bild(?:er|ern)?|videos?|fotos?|clips?|poster|illustrationen?"
# A shape word is the picture's format, not content, where it stands beside a preset ("720p vertical", "vertical
# en 720p") or ends a clause but for a courtesy word or the feed it is for ("cuadrado porfa", "carré stp",
# "quadratisch für Insta", "vertical para stories").
_PRESET_AFTER = r"(?:(?<=\dp)|(?<=\dp\s))"
_PRESET_NEXT = r"\s+(?:(?:en|a|in|à)\s+)?(?:480|720|1080)\s*p\b"
_FEEDS = (
    r"insta(?:gram)?|ig|stor(?:y|ies)|reels?|tik\s*tok|shorts|youtube|whatsapp|pinterest|facebook|linkedin|"
    r"m[oó]vil(?:es)?|celular|handy|smartphone|t[ée]l[ée]phone|portable|mobile"
)
_ES_AFTER_SHAPE = (
    rf"(?=\s*(?:[,;:.!?\n)]|$)|\s+(?:por\s+favor|porfa|porfis|pls|plis)\b|\s+para\s+(?:{_FEEDS})\b|{_PRESET_NEXT}"
    r"|\s+(?:que|porque|ya\s+que)\s+(?:es|son|ser[aá]|sea|va)\s+para\b)"
)
_FR_AFTER_SHAPE = (
    rf"(?=\s*(?:[,;:.!?\n)]|$)|\s+(?:s'il\s+(?:te|vous)\s+pla[iî]t|stp|svp|merci)\b|\s+pour\s+(?:l'|les?\s+)?(?:{_FEEDS})\b"
    rf"|{_PRESET_NEXT})"
)
_DE_AFTER_SHAPE = rf"(?=\s*(?:[,;:.!?\n)]|$)|\s+(?:bitte|danke|pls)\b|\s+f[üu]r\s+(?:{_FEEDS})\b|{_PRESET_NEXT})"
# Nouns that count outputs in every sentence ("trois variantes", "vier Entwürfe"), and things made whose count
# is of outputs while the noun stays the subject of the prompt ("3 logos" cuts "3", keeps "logos").
_ES_VARIANTS = r"versiones|variantes|variaciones|opciones|alternativas|propuestas|muestras"
_FR_VARIANTS = r"variantes|versions|variations|options|propositions|d[ée]clinaisons|rendus|r[ée]sultats"
_DE_VARIANTS = r"varianten|versionen|variationen|optionen|entw[üu]rfe|vorschl[äa]ge|ergebnisse|ausgaben"
_MADE_THINGS = r"logos?|p[oó]sters?|carteles|afiches|affiches|plakate|stickers?|pegatinas|iconos|ic[oô]nes|icons"
_ORIENTATION_WORDS = {
    "portrait": r"竖图|豎圖|竖构图|豎構圖|直构图|直構圖|直式|直幅|"
    r"竖版|竖屏|竖向|纵向|竖幅|豎版|豎屏|豎向|縱向|豎幅|縦長|縦向き|縦型|縦位置|縦|hochformat|hochkant|"
    r"vertikal(?:e[nmrs]?)?|verticales?|vertical|retrato|portrait",
    "landscape": r"横图|橫圖|横构图|橫構圖|横式|橫式|宽屏|寬屏|阔屏|闊屏|宽幅|寬幅|"
    r"横版|横屏|横向|橫版|橫屏|橫向|横長|横向き|横型|横位置|横|querformat|horizontal(?:e[nmrs]?|es)?|"
    r"apaisad[oa]s?|paisaje|paysage|breitbild(?:format)?",
    "square": r"方图|方圖|方构图|方構圖|square|"
    r"正方形|方形|スクエア|quadratisch(?:e[nmrs]?)?|cuadrad[oa]s?|carr[ée]e?s?",
}
_O = "|".join(_ORIENTATION_WORDS.values())
_ZH_SHAPES = r"竖向|纵向|豎向|縱向|横向|橫向|正方形|方形|縦長|縦向き|縦型|縦位置|横長|横向き|横型|横位置"
_OUTPUTS_ZH_NOUNS = r"版本|方案|变体|變體|选项|選項|候选|候選|结果|結果|样本|樣本|款式|种风格|種風格"
# Chinese runs clauses together with spaces as well as commas ("海边沙滩场景 不要人 不要文字"); a clause also
# ends at an emoji or any other mark that is not a letter, digit or character.
_ZH_CLAUSE_START = r"(?:^|(?<=[,;:.!?\n(\s~～]))\s*"
_ZH_CLAUSE_END = r"(?!\w)"
# What follows a count of outputs: who picks among them and a closing particle ("来5张我挑", "4张吧").
_ZH_PICK = (
    r"(?:\s*(?:(?:让|讓|给|給|供)?我)?(?:挑一挑|选一选|選一選|挑挑|选选|選選|挑选|挑選|比较|比較|挑|选|選))?"
    r"(?:\s*(?:吧|哈|啊|呀|哦|喔|呢|啦|嘛|好了|就行|就好))?"
)
# After "N张不同…", the difference that makes them variants ("三张不同风格的", "出3个不同深浅"); "三个不同颜色的
# 气球" counts balloons.
_ZH_VARIES = r"不同(?:的)?(?:风格|風格|版本|款式|深浅|深淺|配色|色调|色調|方案|角度|构图|構圖|画风|畫風|服装|服裝)"
# Verbs that ask for outputs ("出两张", "给我两条", "来4个").
_ZH_GIVE = r"生成|再来|再來|来|來|给我|給我|给|給|出|要|做|整"
# The value of a negative prompt: up to the end of its clause; a space ends it unless Latin words follow.
_ZH_NEG_VALUE = r"(?P<v>(?:[^,.;!?\n\s]|\s+(?=[a-z]))+)"
# Setting a value: "种子设成0", "CFG调到3.5", "步数设为35".
_ZH_SET = (
    r"(?:为|為|是|は|:|=|用|调到|調到|调成|調成|调为|調為|设为|設為|设成|設成|设置为|設置為|设置成|設置成|改为|改為|改成"
    r"|定为|定為)"
)
# Format compounds: one shape character and a format word ("竖图", "方构图", "宽屏", Taiwanese "直式"). Not a
# book (图书), a pattern (图案), a table (图表) or a widescreen device ("宽屏电视").
_ZH_ONLY_SHAPES = r"竖向|纵向|豎向|縱向|横向|橫向|正方形|方形"
# Words that name a format and nothing else: a count before one is of pictures ("两张横版的").
_ZH_FORMAT_ONLY = r"竖版|竖屏|豎版|豎屏|横版|横屏|橫版|橫屏|竖图|豎圖|横图|橫圖|方图|方圖"
# After "不要" a verb, an adverb or a demonstrative forbids an action ("不要改变背景", "不要太暗"), not a thing.
_ZH_NOT_THING = (
    r"[出有带帶包含加改换換变變动動修调調把让讓删刪裁移用做弄画畫生太过過留保影碰跟乱亂拍放剪重再给給使转轉"
    r"这這那其超偏拉缩縮扩擴很看去走跑笑哭说說是在被和与與将將比更]"
)
_ZH_FORMATS = (
    r"竖图|豎圖|竖构图|豎構圖|直构图|直構圖|直式|直幅|横图|橫圖|横构图|橫構圖|横式|橫式|宽屏|寬屏|阔屏|闊屏|宽幅|寬幅"
    r"|方图|方圖|方构图|方構圖"
)

RULES: tuple[Rule, ...] = (
    # ---------------------------------------------------------------------------------------- Japanese
    # Tried before the Chinese rules that also read Japanese words: the particles and approximations around a
    # Japanese setting ("縦長でお願いします", "5秒ほど", "約5秒") are cut with it.
    _rule(
        "ja",
        "size",
        r"(?:横)?幅\s*(?:は|:|=)?\s*(\d{2,5})\s*(?:px|ピクセル)?\s*(?:,|と|x|\*)?\s*(?:縦|高さ)\s*(?:は|:|=)?\s*"
        r"(\d{2,5})\s*(?:px|ピクセル)?",
        ["幅1280、高さ720", "横幅1024と高さ768", "幅は832、高さは480"],
        ["幅120cm、高さ80cmの棚"],
        only_in="ja",
        keys=("幅",),
    ),
    _rule(
        "ja",
        "orientation",
        # Beside a preset or a size, on either side: "縦長の720p", "縦型1080p", "1080p縦", "720pの縦長".
        rf"(?P<o>{_JA_SHAPES}|縦|横)(?P<f>\s*の)?(?=\s*(?:(?:480|720|1080)\s*p|\d{{2,5}}\s*x\s*\d{{2,5}}))"
        rf"|(?<=\dp)(?P<f2>\s*の?\s*)(?P<o2>{_JA_SHAPES}|{_JA_LONE_SHAPE})",
        ["縦長の720p", "縦型1080p", "正方形の1080p", "1080p縦", "720pの縦長", "横長1280x720"],
        ["720p横浜の夜景"],
        only_in="ja",
        keys=("縦", "横", "正方形", "スクエア"),
    ),
    _rule(
        "ja",
        "orientation",
        # A clause of its own, with its particle and a courtesy word ("縦長でお願いします", "設定は縦長"), before a
        # count or a length ("横長で4枚", "縦型で5秒"), or what an edit turns the picture into ("縦にしたい"). A
        # shape word after を/が, or before anything else, is content ("ボトルを横にした", "横で寝ている猫").
        rf"{_CLAUSE_START}(?:[^,;:.!?\n]{{0,16}}?(?:用に|向けに|用で|は|も))?(?P<o>{_JA_SHAPES}|縦|横)"
        rf"(?P<f>\s*(?:で|に(?:して|したい|変えて|変更して|合わせて|合わせたい)?)?(?:{_JA_PLEASE})?)"
        r"(?=(?<=で)\s*[\d〇一二两三四五六七八九十]|(?<=に)\s*(?:し|変え|変更|合わせ|切り替え|直し)"
        rf"|(?<=たい)|(?<=して)|{_JA_END})",
        [
            "縦長でお願いします",
            "正方形で",
            "縦で",
            "横長で4枚",
            "縦型で5秒",
            "設定は縦長",
            "縦にしたい",
            "縦型に合わせたい",
        ],
        ["横で寝ている猫", "ボトルを横にした写真", "縦に並んだ提灯", "正方形で構成された模様"],
        only_in="ja",
        keys=("縦", "横", "正方形", "スクエア"),
    ),
    _rule(
        "ja",
        "orientation",
        # "縦動画", "横の画像": a lone shape character on a picture word (the picture word stays in the prompt).
        rf"(?P<o>縦|(?<![のを])横)(?=\s*の?(?:{_JA_MEDIA}|画面|構図|フォーマット))",
        ["縦動画", "花火大会の縦動画", "横の画像", "縦の構図"],
        ["ソファの横の写真"],
        only_in="ja",
        keys=("縦", "横"),
    ),
    _rule(
        "ja",
        "seconds",
        rf"(?:(?:約|およそ|だいたい|大体)\s*)?{_CJK_NUM}\s*(?P<unit>秒間?|分間)(?!速){_JA_ABOUT}?",
        ["5秒ほど", "約5秒", "8秒間", "3秒くらい", "二分間"],
        ["秒速5センチ"],
        only_in="ja",
        keys=("秒", "分間"),
    ),
    _rule(
        "ja",
        "outputs",
        # 本 counts clips (and pencils, trees, bottles): only after a clip word, as a clause of its own, or before
        # a clip word, in a request about clips.
        r"(?:(?:(?<=動画)|(?<=映像)|(?<=ビデオ)|(?<=ムービー)|(?<=クリップ))\s*(?:を|は)?\s*|(?<=で)|"
        rf"{_JA_START}){_CJK_NUM}\s*本{_JA_ABOUT}?"
        rf"(?=\s*の?(?:動画|映像|クリップ|ムービー|ビデオ)|(?:{_JA_PLEASE}|\s*(?:作って|生成))?{_JA_END})",
        ["動画を3本", "シーン、2本", "3秒で三本", "クリップ2本ください", "3本の動画"],
        ["鉛筆が3本", "3本の木が揺れる動画", "赤いバラ、3本を生けた"],
        only_in="ja",
        needs=r"動画|映像|ビデオ|ムービー|クリップ|アニメ|シーン|秒|fps|フレーム",
        keys=("本",),
    ),
    _rule(
        "ja",
        "outputs",
        # つ counts anything ("りんごを4つ"): outputs only when asked for, of a picture word or a nominal ("かわい
        # いの4つ").
        r"(?:(?<=の)|(?:(?<=画像)|(?<=写真)|(?<=動画)|(?<=絵)|(?<=イラスト)|(?<=ロゴ)|(?<=案))\s*(?:を|は)?\s*)"
        rf"{_CJK_NUM}\s*つ{_JA_ABOUT}?(?=(?:{_JA_PLEASE})|\s*(?:作って|生成|描いて))",
        ["かわいいの4つくらいお願い", "画像を3つください", "ロゴ案を2つ作って"],
        ["りんごを4つ描いて", "猫の4つの足"],
        only_in="ja",
        keys=("つ",),
    ),
    _rule(
        "ja",
        "negative",
        # A labelled negative prompt: "ネガティブ：人物、文字", "ネガティブプロンプトは「文字」".
        r"(?:ネガティブ(?:プロンプト)?|ネガプロ|除外(?:ワード|キーワード)?|入れたくないもの|避けたいもの)\s*(?:は|:|=)\s*"
        r"[「『\"]?(?P<v>[^」』\".;!?\n]+)[」』\"]?",
        ["ネガティブ：人物、文字", "ネガティブプロンプトは「文字、透かし」", "除外ワード: ぼやけ"],
        ["ネガティブな気分の絵"],
        only_in="ja",
        keys=("ネガ", "除外", "入れたくない", "避けたい"),
    ),
    _rule(
        "ja",
        "negative",
        # A list of things left out that starts its sentence and ends in は/も なし: "ぼやけ、歪みは無しで". Each item
        # is a bare noun (no particle), so a sentence of content before the list is not read into it.
        r"(?<=[.!?:\n])\s*(?P<v>(?:(?:(?![をがにはでのと])[^,.;:!?\n\s]){1,10}\s*,\s*)+"
        r"(?:(?![をがにはでのと])[^,.;:!?\n\s]){1,10})(?:は|も)(?:なし|無し|なく|不要|いらない)(?:で|に|にして)?"
        rf"(?:{_JA_PLEASE})?{_JA_END}",
        ["。ノイズ、ぼかしはなしで", "。人物、文字、透かしも無しで"],
        only_in="ja",
        keys=("なし", "無し", "なく", "不要", "いらない"),
    ),
    # ---------------------------------------------------------------------------------------- Chinese
    _rule(
        "zh",
        "size",
        r"(?:分辨率|解析度|尺寸|大小|解像度|サイズ)\s*(?:为|為|是|は|:|=)?\s*(\d{2,5})\s*(?:px)?\s*(?:x|\*|乘)\s*(\d{2,5})"
        r"\s*(?:px|像素|ピクセル)?",
        ["分辨率1280x720", "分辨率1280×720", "尺寸：1024*1024", "解像度1920x1080"],
        keys=("分辨率", "解析度", "尺寸", "大小", "解像度", "サイズ"),
    ),
    _rule(
        "zh",
        "size",
        # The sides named one by one ("宽768高512"); a length unit makes them a thing's size ("宽120高200厘米").
        rf"(?:宽|寬)(?:度)?\s*{_ZH_SET}?\s*(\d{{2,5}})(?!\d)\s*(?:px|像素)?\s*,?\s*高(?:度)?\s*{_ZH_SET}?\s*"
        r"(\d{2,5})(?!\d)\s*(?:px|像素)?(?!\s*(?:米|厘米|公分|毫米|cm|mm|m|英寸|寸|公里))",
        ["宽768高512", "宽度1200高度1600", "宽：1280，高：720", "寬度768 高度512"],
        ["宽120高200厘米的书架", "宽1米高2米的书架"],
        keys=("高",),
    ),
    _rule(
        "zh",
        "size",
        # "768乘512" with no label: pixels where both sides are three or four digits and no length unit follows.
        r"(?<![\d.])(\d{3,4})\s*乘以?\s*(\d{3,4})(?!\d)(?!\s*(?:米|厘米|公分|毫米|cm|mm|m|英寸|寸|公里))",
        ["768乘512", "1024乘1024"],
        ["一块120乘180厘米的地毯", "3乘3的魔方"],
        keys=("乘",),
    ),
    _rule(
        "zh",
        "preset",
        r"(?:(?:分辨率|解析度|画质|畫質|解像度)\s*(?:为|為|是|は|:)?\s*)?(?<![\d.])(480|720|1080)\s*p"
        r"(?:\s*(?:的)?(?:分辨率|解析度|画质|畫質|解像度|高清))?",
        ["720P分辨率", "1080p", "分辨率720p", "480P画质", "解像度1080p"],
        keys=("480", "720", "1080"),
    ),
    _rule(
        "zh",
        "ratio",
        r"(?:画面比例|畫面比例|宽高比|寬高比|长宽比|長寬比|画幅|畫幅|比例|アスペクト比|比率)\s*(?:为|為|是|は|:|=)?\s*"
        r"(\d{1,2}(?:\.\d+)?)\s*:\s*(\d{1,2})(?!\d)",
        ["画面比例16:9", "比例：9:16", "宽高比为4:3", "アスペクト比16:9"],
    ),
    _rule(
        "zh",
        "ratio",
        # A ratio said with 比 ("三比二的风景照", "九比十六") shapes the picture; a score ("比分三比二", "三比二获胜",
        # "三比二的比分") does not.
        rf"(?:(?:画面比例|畫面比例|宽高比|寬高比|长宽比|長寬比|画幅|畫幅|比例)\s*{_ZH_SET}?\s*)?"
        rf"(?<![\d.第分])(?<!比分是)(?<!比分为)(?<!比分為)({N_ZH})\s*比\s*({N_ZH})(?!\s*的?\s*(?:比分|比赛|比賽|战绩|戰績))"
        rf"(?:(?=\s*的?[^,.;!?\n]{{0,4}}?(?:{_ZH_MEDIA}|照|头像|頭像|构图|構圖))|{_ZH_CLAUSE_END})",
        ["一张三比二的风景照", "九比十六", "比例16比9", "画幅二比一"],
        ["比分三比二", "以三比二获胜", "三比二的比分"],
        keys=("比",),
    ),
    _rule(
        "zh",
        "orientation",
        # 竖屏/横屏/竖版/横版 name a format ("vertical screen"); only a side-scrolling game is content.
        r"(?P<o>竖版|竖屏|竖幅|豎版|豎屏|豎幅|横版|横屏|橫版|橫屏)(?!游戏|遊戲|过关|過關|动作|動作|格斗|格鬥|卷轴|捲軸)"
        r"(?P<f>\s*(?:的)?(?:构图|構圖|格式|画幅|畫幅|模式|版式|比例))?",
        ["竖版", "竖屏视频", "豎版", "横屏", "横版构图"],
        ["横版游戏", "横版过关"],
        keys=("竖", "豎", "横", "橫"),
    ),
    _rule(
        "zh",
        "orientation",
        # A direction or shape word is content ("正方形的盒子", "竖向的条纹") unless it shapes the picture.
        rf"(?P<o>{_ZH_SHAPES})"
        r"(?:(?P<f>\s*(?:的|の)?(?:构图|構圖|格式|画幅|畫幅|模式|版式|画面|畫面|比例|構図|フォーマット|画角))"
        rf"|(?=\s*(?:的|の)?(?:{_ZH_MEDIA}|{_JA_MEDIA})))",
        ["纵向构图", "横向视频", "方形图片", "縦長の画像", "横長の動画", "正方形の写真", "縦向きの構図"],
        ["正方形的盒子", "竖向的条纹", "縦長の窓", "正方形の箱"],
    ),
    _rule(
        "zh",
        "orientation",
        rf"{_CLAUSE_START}(?P<o>{_ZH_SHAPES}){_CLAUSE_END}",
        ["一只猫，竖向", "正方形", "縦向き", "猫、縦長"],
        ["画一个正方形"],
    ),
    _rule(
        "zh",
        "orientation",
        # A shape word as a clause of its own, with the verb that asks for it and a particle, all cut: "要正方形的",
        # "变成正方形", "方形吧", "暴风雨 方形".
        rf"{_ZH_CLAUSE_START}(?P<f>(?:要|做成|弄成|改成|变成|變成|换成|換成|扩成|擴成|扩展成|擴展成|转成|轉成|裁成)?"
        rf"(?P<o>{_ZH_ONLY_SHAPES})(?:的)?(?:吧|哈|啊|呀|哦|喔|呢|啦|嘛)?){_ZH_CLAUSE_END}",
        ["要正方形的", "变成正方形", "正方形的", "海边的灯塔 暴风雨 方形"],
        ["画一个正方形", "一个正方形的盒子", "剪一块方形"],
        keys=("竖", "纵", "豎", "縱", "横", "橫", "方"),
    ),
    _rule(
        "zh",
        "orientation",
        # A shape character with a format word is a format ("竖图", "方构图", "宽屏", "直式"); a verb asking for
        # it at the start of its clause and a closing 的 go with it ("要直式的").
        r"(?P<f>(?:(?:^|(?<=[,;:.!?\n(\s~～]))(?:要|做成|弄成|改成|变成|變成|换成|換成|扩成|擴成|转成|轉成))?"
        rf"(?<![地配处處药藥秘偏良双雙纵縱])(?P<o>{_ZH_FORMATS})(?:的(?=\s*(?:[,;:.!?\n)]|$)))?)"
        r"(?!书|書|案|表|电视|電視|显示器|顯示器|手机|手機|电脑|電腦|笔记本|筆記本|计算|計算|电梯|電梯)",
        ["竖图", "方图", "竖构图", "宽屏", "闊屏", "要直式的", "直式影片", "横图"],
        ["一台宽屏电视", "地方图书馆", "方图案的地毯"],
        keys=("竖", "豎", "直", "横", "橫", "宽", "寬", "阔", "闊", "方"),
    ),
    _rule(
        "zh",
        "orientation",
        # Beside a preset a shape word is the format ("720P方形", "方形1080P"); so is an English shape word written
        # into a Chinese sentence ("vertical的", "square的头像").
        rf"(?<=\dp)\s*(?P<o>{_ZH_ONLY_SHAPES})|(?P<o2>{_ZH_ONLY_SHAPES})(?=\s*的?\s*(?:480|720|1080)p)"
        r"|(?<![a-z])(?P<f>(?P<o3>vertical|horizontal|square)(?:\s*的)?)(?=\s*(?:[,;:.!?\n)]|$)|[\u4e00-\u9fff])",
        ["720P方形", "方形1080P", "vertical的", "1080p square的头像"],
        ["square meters of garden", "a vertical garden"],
        keys=("竖", "纵", "豎", "縱", "横", "橫", "方", "vertical", "horizontal", "square"),
    ),
    _rule(
        "zh",
        "seconds",
        rf"(?:(?:时长|時長|长度|長度|持续|持續|时间|時間)\s*(?:为|為|是|は|:)?\s*)?{_CJK_NUM}\s*"
        r"(?P<unit>秒(?:钟|鐘|間|间)?|分钟|分鐘|分間)(?!速|杀|殺)",
        ["3秒", "十秒钟", "五秒", "3秒間", "時長5秒", "时长：8秒", "两分钟", "5秒鐘"],
        ["第五秒", "秒速五センチメートル"],
        keys=("秒", "分"),
    ),
    _rule(
        "zh",
        "fps",
        rf"(?:帧率|幀率|帧速率|幀速率|フレームレート)\s*(?:为|為|是|は|:|=)?\s*{_CJK_NUM}\s*(?:fps|帧|幀)?"
        rf"|(?:每秒|毎秒)\s*({N_ZH})\s*(?:帧|幀|フレーム|コマ)"
        rf"|{_CJK_NUM}\s*(?:帧每秒|幀每秒|帧/秒|幀/秒|フレーム/秒|fps)"
        # "fps 设成 10", "fpsは12で": the label, a verb or particle that sets it, the value.
        rf"|(?<![a-z])fps\s*(?:{_ZH_SET}|を)\s*({N_ZH})"
        # "24帧" alone is how a frame rate is said ("8秒24帧"): a standard rate is never a length the model makes
        # (4k+1 frames), where "49帧" and "81帧" are.
        r"|(?<![\d.第每前后後这這那共])(?<!共\s)(24|30|48|50|60|二十四|三十|四十八|五十|六十)\s*(?:帧|幀)"
        r"(?!率|速率|数|數|每秒|/秒|的?(?:画面|畫面|图|圖|照片))",
        [
            "24帧每秒",
            "帧率24",
            "每秒24帧",
            "帧率为三十",
            "二十四幀每秒",
            "毎秒24フレーム",
            "フレームレート30",
            "8秒24帧",
            "10秒，24帧",
            "fps 设成 10 就行",
            "8秒、fpsは12で",
        ],
        ["第24帧", "前30帧的画面"],
    ),
    _rule(
        "zh",
        "frames",
        rf"(?:(?:总共|總共|一共|共计|共計)\s*)?{_CJK_NUM}\s*(?:帧|幀|フレーム|コマ)(?!率|速率|每秒|/秒)"
        r"|(?:总帧数|總幀數|帧数|幀數|フレーム数)\s*(?:为|為|是|は|:|=)?\s*(\d+)",
        ["49帧", "八十一帧", "49フレーム", "帧数为33", "总共97帧"],
        ["第五帧", "每一帧"],
        keys=("帧", "幀", "フレーム", "コマ"),
    ),
    _rule(
        "zh",
        "seed",
        # "seed" is written into Chinese sentences too ("雨夜，seed 2024，16:9"): read with Chinese digits, where the
        # comma ends the number.
        rf"(?:固定(?:的)?|随机|隨機|ランダム)?(?:种子|種子|シード|(?<![a-z])seed)(?:值|値|数|數|号|號)?\s*(?:{_ZH_SET}|を)?\s*"
        rf"[-−]?({N_ZH})",
        [
            "种子42",
            "随机种子 42",
            "種子42",
            "种子为7",
            "シード42",
            "シード値42",
            "种子设成0",
            "固定种子666",
            "seed 2024，16:9",
        ],
        keys=("种子", "種子", "シード", "seed"),
    ),
    _rule(
        "zh",
        "steps",
        rf"(?<![走跑跳退进進迈邁跨了过過着著])(?<![\d.第每前后後这這那])({N_ZH})\s*(?:步|ステップ)(?!骤|驟|之|行|伐|调|調|一|步)"
        rf"|(?:(?:采样|採樣|推理|迭代|去噪)?(?:步数|步數|ステップ数)|(?<![a-z])steps?)\s*{_ZH_SET}?\s*[-−]?(?P<k>\d+)",
        ["30步", "步数30", "步數 50", "采样步数为25", "30ステップ", "步数设为35", "16:9、50步", "guidance 5 steps 25"],
        ["走了三步", "三步之遥", "一步一步"],
        keys=("步", "ステップ", "step"),
    ),
    _rule(
        "zh",
        "guidance",
        r"(?:引导系数|引導係數|引导强度|引導強度|引导比例|引導比例|引导尺度|提示词相关性|cfg\s*(?:scale|值|系数)?"
        rf"|ガイダンス(?:スケール)?|cfgスケール|(?<![a-z])guidance(?:\s*scale)?)\s*{_ZH_SET}?\s*(\d+(?:\.\d+)?)",
        ["引导系数7.5", "CFG 7.5", "引導係數為6", "ガイダンススケール7", "CFG调到3.5", "引导系数设为6"],
        keys=("引导", "引導", "提示词", "cfg", "ガイダンス", "guidance"),
    ),
    _rule(
        "zh",
        "outputs",
        rf"{_CJK_NUM}\s*(?:张|張|幅|段|条|條|个|個|种|種|套|组|組)?\s*(?:不同的?\s*)?"
        rf"(?:{_OUTPUTS_ZH_NOUNS}|(?:versions?|options?|variants?|variations?)(?![a-z]))",
        ["四个版本", "3种方案", "两个变体", "5个候选", "给我3个versions"],
        ["三只猫", "这两个版本"],
    ),
    _rule(
        "zh",
        "outputs",
        # 张/幅 count pictures, 段/条 clips: but "三张桌子" is three tables, so a picture word or the end of the
        # clause must follow.
        # The clause may end in who picks among them and a particle ("来5张我挑", "出两张我挑", "4张吧"), or go
        # on with what makes them variants ("三张不同风格的"). "剪成两段" cuts one clip in two.
        rf"(?<![成分切剪截])(?:(?:{_ZH_GIVE}|画|畫)\s*)?{_CJK_NUM}\s*(?:张|張|幅|段|条|條)"
        rf"(?:\s*(?:不同的?\s*)?(?=(?:{_ZH_MEDIA}))|\s*(?={_ZH_VARIES}|{_ZH_FORMAT_ONLY})|{_ZH_PICK}{_ZH_CLAUSE_END})",
        [
            "生成4张",
            "来三张",
            "4张图片",
            "两段视频",
            "三幅画",
            "来5张我挑",
            "出两张我挑",
            "4张吧",
            "给我两张选选",
            "做3条我挑",
            "要2张😊",
            "来三张不同风格的咖啡店logo",
            "给我来两张横版的",
        ],
        ["三张桌子", "三只猫", "把视频剪成两段", "三条鱼"],
        keys=("张", "張", "幅", "段", "条", "條"),
    ),
    _rule(
        "zh",
        "outputs",
        # 个 counts anything ("两个女孩"): a count of outputs only after a verb asking for them, at the end of its
        # clause or before what makes them variants ("出两个", "来4个", "出3个不同深浅"). 版 is a version wherever
        # it is counted ("出四版logo", "给两版").
        rf"(?:{_ZH_GIVE})\s*{_CJK_NUM}\s*(?:个|個)(?:\s*(?={_ZH_VARIES}|不同深浅|不同深淺)|{_ZH_PICK}{_ZH_CLAUSE_END})"
        rf"|(?:{_ZH_GIVE})\s*{_CJK_NUM}\s*(?:张|張|幅)(?=\s*不同)"
        rf"|(?:(?:{_ZH_GIVE})\s*)?{_CJK_NUM}\s*版(?!面|权|權|税|稅|本|画|畫)",
        ["出两个", "来4个", "出3个不同深浅", "做两个不同风格的广告视频", "给我出四版logo", "给两版", "出4张不同的舞者"],
        ["生成两个女孩", "一个女孩", "第二版", "这两版"],
        keys=("个", "個", "张", "張", "幅", "版"),
    ),
    _rule(
        "zh",
        "outputs",
        # After a verb of making, the count is of what the phrase ends in: "生成4张一只猫的图片".
        rf"(?:(?<=生成|给我|給我|画出|畫出)|(?<=[来來画畫出]))\s*{_CJK_NUM}\s*(?:张|張|幅|段)"
        rf"(?=[^,.;!?\n]*?(?:{_ZH_MEDIA}))",
        ["生成4张一只猫的图片", "画三幅山水的画", "这个pose出四张不同服装的图", "生成两段我家猫在雪地里玩的视频"],
        ["一张桌子的照片"],
        keys=("张", "張", "幅", "段"),
    ),
    _rule(
        "ja",
        "outputs",
        # 種類 counts kinds of anything ("3種類の花"): outputs before a picture word, a verb of making, or the end
        # of the clause.
        rf"(?:を\s*)?{_CJK_NUM}\s*(?:パターン|案|通り|バリエーション|バージョン|種類(?=\s*(?:を|の)?(?:{_JA_MEDIA}|生成|作成|作って|描いて)"
        rf"|\s*{_JA_ABOUT}?(?:{_JA_PLEASE})?{_JA_END})){_JA_ABOUT}?"
        rf"|(?:を\s*)?{_CJK_NUM}\s*枚{_JA_ABOUT}?(?:(?=\s*の?(?:{_JA_MEDIA}))"
        rf"|(?=\s*を?(?:生成|作成|作って|作る|描いて|描く|出力|ください|お願い|ほしい|欲しい))|{_JA_END})",
        [
            "4枚",
            "4パターン",
            "3案",
            "4枚の画像",
            "四枚生成して",
            "5通り",
            "3種類",
            "4種類でお願いします",
            "二枚ほど",
            "3枚…",
        ],
        ["3匹の猫", "3枚の皿", "3種類の花"],
        keys=("パターン", "案", "通り", "バリエーション", "バージョン", "種類", "枚"),
    ),
    _rule(
        "zh",
        "negative",
        r"(?:负面提示词|負面提示詞|反向提示词|反向提示詞|负面提示|負面提示|负向提示词|負向提示詞|负面词|負面詞|负面|負面"
        r"|负向|負向|ネガティブプロンプト)"
        r"\s*[:=]\s*(?P<v>[^.;!?\n]+)",
        ["负面提示词：模糊，低质量", "反向提示詞: 文字", "ネガティブプロンプト：ぼやけ", "负面：模糊，变形"],
    ),
    _rule(
        "zh",
        "negative",
        # "不要" alone also forbids an action ("不要改变背景" keeps the background): only "do not show X" is a
        # negative prompt.
        r"(?:(?:不要|别|別|不得|禁止|请勿|請勿|切勿)(?:出现|出現|有|带|帶|包含|含有|加上?)|(?:避免|防止)(?:出现|出現)?)"
        rf"{_ZH_NEG_VALUE}",
        ["不要出现文字", "避免模糊", "不要有水印", "請勿出現文字", "别出现多余的手指哈"],
        ["不要改变背景"],
        keys=("不", "别", "別", "禁止", "请勿", "請勿", "切勿", "避免", "防止"),
    ),
    _rule(
        "zh",
        "negative",
        # "不要水印", "不要人" as a clause of their own name what must not be shown; "不要改变背景", "不要太暗" forbid
        # an action or a degree and stay instructions. A space ends the value: "不要人 不要文字 1:1".
        rf"{_ZH_CLAUSE_START}(?:不要|不想要|不需要|别要|別要)(?!{_ZH_NOT_THING})\s*{_ZH_NEG_VALUE}",
        ["不要水印", "不要人", "不要卡通感。", "不要别的鸟", "海边沙滩场景 不要人 不要文字 1:1", "不要 blurry faces"],
        ["不要改变背景", "不要太暗", "一只狗，不要动它的脸", "我不要这个背景"],
        keys=("不要", "不想要", "不需要", "别要", "別要"),
    ),
    _rule(
        "ja",
        "negative",
        rf"{_CLAUSE_START}(?:(?P<v>[^,.;!?\n]+?)(?:は|が|も)?(?:なし|無し|なく|不要|いらない)(?:で|に|にして)?"
        rf"(?:{_JA_PLEASE})?{_JA_END}"
        r"|(?P<v2>[^,.;!?\n]+?)を避けて(?:ください)?)",
        [
            "文字なしで",
            "透かしなし",
            "ぼやけを避けて",
            "ウォーターマークなしで よろしく〜",
            "枠なしででお願いします",
            "文字は不要",
        ],
        ["砂糖なしのコーヒー"],
        keys=("なし", "無し", "なく", "不要", "いらない", "避けて"),
    ),
    # ---------------------------------------------------------------------------------------- Spanish
    _rule(
        "es",
        "size",
        rf"{_B}(\d{{2,5}})\s*(?:px\s+)?por\s+(\d{{2,5}}){_E}(?:\s*(?:px|p[ií]xeles))?",
        ["1024 por 768", "1280 por 720 píxeles"],
        ["una alfombra de 200 por 300 cm"],
        keys=("por",),
    ),
    _rule(
        "es",
        "size",
        r"ancho\s*(?:de|:|=)?\s*(\d{2,5})(?:\s*px)?\s*(?:,|y|x)?\s*alto\s*(?:de|:|=)?\s*(\d{2,5})(?:\s*px)?",
        ["ancho 1024 y alto 768", "ancho de 1024, alto de 768"],
        keys=("ancho",),
    ),
    _rule(
        "es",
        "preset",
        rf"(?:(?:en|a|con|resoluci[oó]n(?:\s+de)?)\s+)?{_B}(480|720|1080)\s*p{_E}",
        ["en 720p", "resolución 1080p", "a 480p"],
        keys=("480", "720", "1080"),
    ),
    _rule(
        "es",
        "ratio",
        r"(?:(?:en\s+)?formato|relaci[oó]n\s+de\s+aspecto|proporci[oó]n|relaci[oó]n)\s*(?:de|:|=)?\s*"
        r"(\d{1,2}(?:\.\d+)?)\s*:\s*(\d{1,2})(?!\d)",
        ["formato 9:16", "relación de aspecto 16:9", "en formato 4:3", "proporción 1:1"],
        keys=("formato", "proporci", "relaci"),
    ),
    _rule(
        "es",
        "orientation",
        rf"(?P<f>(?:en\s+)?(?:formato|modo|orientaci[oó]n|encuadre)\s+(?:de\s+)?)(?P<o>{_O}){_E}",
        ["formato vertical", "en formato horizontal", "modo retrato", "formato cuadrado"],
        keys=("encuadre", "formato", "modo", "orientaci"),
    ),
    _rule(
        "es",
        "orientation",
        # After a noun, an adjective describes it: "un vídeo vertical" is the format, "un jardín vertical" content.
        rf"(?:{_ES_MEDIA}|fondos?\s+de\s+pantalla)\s+(?P<o>vertical|horizontal|cuadrad[oa]s?|apaisad[oa]s?){_E}"
        rf"|(?:{_CLAUSE_START}(?P<f>(?:en\s+)?)|\b(?P<f2>(?:a|en)\s+))(?P<o2>vertical|horizontal|cuadrad[oa]|apaisad[oa])"
        rf"{_ES_AFTER_SHAPE}|{_PRESET_AFTER}(?P<o3>vertical|horizontal|cuadrad[oa]|apaisad[oa]){_E}",
        [
            "un vídeo vertical",
            "una imagen cuadrada",
            "un gato, vertical",
            "en horizontal",
            "una paella vista desde arriba, cuadrada",
            "cuadrado porfa",
            "vertical para stories",
            "pásalo a vertical para Reels",
            "un toro corriendo, en vertical que es para TikTok",
            "fondo de pantalla vertical",
            "1080p vertical y 4 segundos",
            "vertical en 720p",
        ],
        [
            "un jardín vertical",
            "una mesa cuadrada",
            "una línea horizontal",
            "una pantalla vertical en la pared",
            "un jardín vertical para el móvil",
            "dibuja un cuadrado, por favor",
        ],
        only_in="es",
        keys=("apaisad", "cuadrad", "horizontal", "vertical"),
    ),
    _rule(
        "es",
        "seconds",
        rf"(?:(?:de|durante|duraci[oó]n(?:\s+de)?|que\s+dure)\s*:?\s*)?{_B}({N_ES})\s*(?:-\s*)?"
        rf"(?P<unit>segundos?|seg(?:s|\.)?|minutos?|min){_E}",
        ["5 segundos", "5 seg", "de diez segundos", "durante tres segundos", "veinticinco segundos", "2 minutos"],
        keys=("seg", "min"),
    ),
    _rule(
        "es",
        "fps",
        rf"(?:(?:a|con)\s+)?{_B}({N_ES})\s*(?:fps|(?:fotogramas|cuadros|im[aá]genes|frames)\s*(?:por|/|al)\s*segundo)"
        rf"|(?:tasa|velocidad|frecuencia)\s+de\s+(?:fotogramas|cuadros)\s*(?:de|:|=)?\s*({N_ES})",
        ["24 fotogramas por segundo", "a 24 fps", "tasa de fotogramas de 30", "treinta cuadros por segundo"],
        keys=("cuadros", "fotogramas", "fps", "segundo"),
    ),
    _rule(
        "es",
        "frames",
        rf"(?:(?:de|con)\s+)?{_B}({N_ES})\s*(?:fotogramas|cuadros){_E}",
        ["49 fotogramas", "de 81 cuadros", "cuarenta y nueve fotogramas"],
        ["una historieta de 4 cuadros"],
        keys=("cuadros", "fotogramas"),
    ),
    _rule(
        "es",
        "seed",
        rf"(?:(?:con|usa|usando)\s+(?:la\s+)?)?semilla\s*(?:aleatoria\s*)?(?:de|es|n\.?º|:|=)?\s*[-−]?({N_ES}){_E}",
        ["semilla 42", "con semilla 7", "semilla cuarenta y dos", "la semilla: 3"],
        keys=("semilla",),
    ),
    _rule(
        "es",
        "steps",
        rf"(?:(?:con|en)\s+)?{_B}({N_ES})\s*pasos(?:\s+de\s+(?:inferencia|muestreo|difusi[oó]n|eliminaci[oó]n\s+de\s+ruido))?{_E}"
        r"|(?<!los )(?<!las )(?<!de )(?:n[uú]mero\s+de\s+)?pasos(?:\s+de\s+(?:inferencia|muestreo))?"
        r"\s*(?:[:=]\s*)?[-−]?(?P<k>\d+)",
        ["30 pasos", "con 25 pasos de inferencia", "pasos: 40", "pasos 25, guidance 6"],
        ["los pasos 2 y 3 de la receta"],
        keys=("pasos",),
    ),
    _rule(
        "es",
        "guidance",
        rf"(?:escala\s+de\s+(?:gu[ií]a|guiado|orientaci[oó]n)|gu[ií]a\s+cfg)\s*(?:de|:|=)?\s*({_DEC})"
        # A decimal comma after the English word: read whole before the English rule stops at the comma.
        r"|(?:guidance(?:[\s_-]*scale)?|cfg(?:[\s_-]*scale)?)\s*(?:de|:|=)?\s*(\d+,\d+)",
        ["escala de guía 7.5", "escala de guía de 6", "escala de guiado: 7,5", "guidance 8,5"],
        keys=("escala", "guia", "guía", "guidance", "cfg"),
    ),
    _rule(
        "es",
        "outputs",
        r"(?<!las )(?<!los )(?<!estas )(?<!estos )(?<!esas )(?<!esos )(?<!mis )(?<!tus )(?<!sus )(?<!de )(?<!ambas )"
        rf"{_B}({N_ES})\s+(?:(?:diferentes|distint[oa]s|nuev[oa]s)\s+)?(?:im[aá]genes|versiones|variantes|variaciones|"
        r"opciones|fotos|v[ií]deos|clips|resultados|alternativas|propuestas|ilustraciones|dise[nñ]os|muestras)"
        rf"(?:\s+(?:diferentes|distint[oa]s))?{_E}",
        ["4 imágenes", "cuatro versiones", "tres variantes diferentes", "2 opciones"],
        ["tres gatos", "estas 2 imágenes"],
        only_in="es",
    ),
    _rule(
        "es",
        "outputs",
        # Words no other language shares: read even where a short request is not recognised as Spanish.
        rf"{_B}({N_ES})\s+(?:(?:diferentes|distint[oa]s|nuev[oa]s)\s+)?(?:{_ES_VARIANTS}){_E}"
        r"|\b(?:haz|hazme|dame|genera|generame|génerame|crea|creame|créame)\s+"
        rf"({N_ES})\s+(?:de\s+(?:ellas|ellos|esas|esos)|m[aá]s)?(?=\s*(?:[,.;!?\n]|$))",
        ["render 3D, 2 variantes porfa", "semilla 0, dos versiones", "hazme dos más", "dame tres de esas"],
        ["las dos versiones", "tres gatos"],
        keys=(
            *("version", "variant", "variacion", "opcion", "alternativa", "propuesta", "muestra"),
            *("haz", "dame", "genera", "génera", "crea", "créa"),
        ),
    ),
    _rule(
        "es",
        "outputs",
        # "haz 3 logos": the count is of outputs, the noun is what to make and stays in the prompt.
        rf"(?<!de )(?<!con )(?<!los )(?<!las )(?<!mis )(?<!tus )(?<!sus ){_B}({N_ES})(?=\s+(?:{_MADE_THINGS}){_E})",
        ["haz 3 logos siguiendo el boceto", "tres carteles para un concierto"],
        ["los 2 logos de la marca", "tres gatos"],
        only_in="es",
    ),
    _rule(
        "es",
        "negative",
        # "sin el logo" (a definite article) names something the picture already has: removing it is the edit.
        rf"{_CLAUSE_START}(?:(?:y|e)\s+)?(?:sin(?!\s+(?:el|la|los|las)\s)|evita(?:r|ndo)?|que\s+no\s+(?:haya|aparezca|salga)n?)\s+(?P<v>[^,;:.!?\n]+)"
        r"|(?:prompt\s+)?negativos?\s*[:=]\s*(?P<v2>[^\n]+)",
        [
            "sin texto",
            "sin marcas de agua",
            "evita el desenfoque",
            "prompt negativo: borroso",
            "negativo: caras deformes",
        ],
        ["un perro sin collar", "sin el logo de la esquina"],
        only_in="es",
    ),
    # ---------------------------------------------------------------------------------------- French
    _rule(
        "fr",
        "size",
        rf"{_B}(\d{{2,5}})\s*(?:px\s+)?par\s+(\d{{2,5}}){_E}(?:\s*(?:px|pixels))?",
        ["1920 par 1080", "1280 par 720 pixels"],
        ["un tapis de 200 par 300 cm"],
        keys=("par",),
    ),
    _rule(
        "fr",
        "size",
        r"largeur\s*(?:de|:|=)?\s*(\d{2,5})(?:\s*px)?\s*(?:,|et|x)?\s*hauteur\s*(?:de|:|=)?\s*(\d{2,5})(?:\s*px)?",
        ["largeur 1024, hauteur 768", "largeur de 1024 et hauteur de 768"],
        keys=("largeur",),
    ),
    _rule(
        "fr",
        "preset",
        rf"(?:(?:en|à|r[ée]solution(?:\s+de)?)\s+)?{_B}(480|720|1080)\s*p{_E}",
        ["en 720p", "résolution 1080p"],
        keys=("480", "720", "1080"),
    ),
    _rule(
        "fr",
        "ratio",
        r"(?:(?:au\s+|en\s+)?format|rapport(?:\s+d'aspect)?|ratio|proportions?)\s*(?:de|:|=)?\s*"
        r"(\d{1,2}(?:\.\d+)?)\s*:\s*(\d{1,2})(?!\d)",
        ["format 16:9", "au format 9:16", "rapport d'aspect 4:3"],
        keys=("format", "proportion", "rapport", "ratio"),
    ),
    _rule(
        "fr",
        "orientation",
        rf"(?P<f>(?:(?:en|au)\s+)?(?:format|mode|orientation|cadrage)\s+)(?P<o>{_O}){_E}",
        ["format portrait", "format paysage", "format carré", "format vertical", "en mode portrait"],
        ["un portrait d'une femme", "un paysage de montagne"],
        keys=("cadrage", "format", "mode", "orientation"),
    ),
    _rule(
        "fr",
        "orientation",
        rf"(?:{_FR_MEDIA}|visuels?|fonds?\s+d'[ée]cran)\s+(?P<o>verticale?s?|horizontale?s?|carr[ée]e?s?){_E}"
        rf"|{_CLAUSE_START}(?P<f>(?:en\s+)?)(?P<o2>verticale?|horizontale?|carr[ée]e?){_FR_AFTER_SHAPE}"
        rf"|{_CLAUSE_START}(?P<f2>en\s+)(?P<o3>portrait|paysage){_FR_AFTER_SHAPE}"
        rf"|{_PRESET_AFTER}(?P<o4>verticale?|horizontale?|carr[ée]e?){_E}",
        [
            "une vidéo verticale",
            "une image carrée",
            "un chat, vertical",
            "un chat qui dort, carré stp",
            "un visuel carré pour instagram",
            "une affiche de jazz, en portrait",
            "720p vertical",
            "verticale pour TikTok",
        ],
        ["un mur vertical", "une table carrée", "un portrait, à l'huile", "un tapis carré pour le salon"],
        only_in="fr",
        keys=("carr", "horizontal", "vertical", "portrait", "paysage"),
    ),
    _rule(
        "fr",
        "seconds",
        rf"(?:(?:de|pendant|dur[ée]e(?:\s+de)?|qui\s+dure)\s*:?\s*)?{_B}({N_FR})\s*(?:-\s*)?"
        rf"(?P<unit>secondes?|sec\.?|s|minutes?|min){_E}",
        ["5 secondes", "5 s", "de dix secondes", "vingt-cinq secondes", "pendant 3 secondes"],
    ),
    _rule(
        "fr",
        "fps",
        rf"(?:à\s+)?{_B}({N_FR})\s*(?:ips|i/s|fps|images\s*(?:par|/)\s*(?:seconde|s)){_E}"
        rf"|(?:cadence|fr[ée]quence\s+d'images)\s*(?:de|:|=)?\s*({N_FR})",
        ["24 images par seconde", "24 ips", "à 30 fps", "cadence de 24"],
        keys=("cadence", "fps", "frequence", "fréquence", "i/s", "images", "ips"),
    ),
    _rule(
        "fr",
        "frames",
        # "49 images" is a length only where the request is about a clip; elsewhere images are outputs.
        rf"(?:de\s+)?{_B}({N_FR})\s*images{_E}(?!\s*(?:par|/)\s*s)",
        ["une vidéo de 49 images", "un clip de quatre-vingt-un images", "97 images à 16 fps"],
        ["4 images"],
        # A frame rate stated beside them makes the images frames too ("97 images à 24 fps").
        needs=r"vid[ée]o|clip|animation|s[ée]quence|film|timelapse|ralenti|\bfps\b|\bips\b|par\s+seconde",
        only_in="fr",
        keys=("images",),
    ),
    _rule(
        "fr",
        "seed",
        rf"(?:avec\s+(?:la\s+)?)?(?:graine|seed)\s*(?:al[ée]atoire\s*)?(?:de|:|=|n°)?\s*[-−]?({N_FR}){_E}",
        ["graine 42", "avec la graine 7", "graine quarante-deux", "seed 42"],
        keys=("graine", "seed"),
    ),
    _rule(
        "fr",
        "steps",
        rf"(?:(?:avec|en)\s+)?{_B}({N_FR})\s*[ée]tapes(?:\s+(?:d'inf[ée]rence|de\s+d[ée]bruitage|d'[ée]chantillonnage))?{_E}"
        r"|(?<!les )(?<!des )(?:nombre\s+d')?[ée]tapes\s*(?:[:=]\s*)?[-−]?(?P<k>\d+)",
        ["30 étapes", "avec 25 étapes d'inférence", "étapes : 40", "étapes 30, guidance 7"],
        ["les étapes 2 et 3 de la recette"],
        keys=("tapes",),
    ),
    _rule(
        "fr",
        "guidance",
        rf"(?:[ée]chelle\s+de\s+guidage|guidage\s+cfg)\s*(?:de|:|=|à)?\s*({_DEC})"
        # A decimal comma after the English word: read whole before the English rule stops at the comma.
        r"|(?:guidance(?:[\s_-]*scale)?|cfg(?:[\s_-]*scale)?)\s*(?:de|:|=|à)?\s*(\d+,\d+)",
        ["échelle de guidage 7.5", "échelle de guidage de 7,5", "guidance 8,5"],
        keys=("guidage", "guidance", "cfg"),
    ),
    _rule(
        "fr",
        "outputs",
        r"(?<!les )(?<!ces )(?<!mes )(?<!tes )(?<!ses )(?<!nos )(?<!vos )(?<!de )(?<!deux )"
        rf"{_B}({N_FR})\s+(?:(?:autres|nouvelles|nouveaux)\s+)?(?:images|variantes|versions|variations|options|propositions|"
        rf"photos|vid[ée]os|illustrations|d[ée]clinaisons|rendus|r[ée]sultats|visuels)"
        rf"(?:\s+(?:diff[ée]rente?s|distincte?s))?{_E}",
        ["4 images", "quatre variantes", "trois versions différentes"],
        ["trois chats", "ces 2 images"],
        only_in="fr",
    ),
    _rule(
        "fr",
        "outputs",
        # A count of variants asks for outputs after "de" too ("besoin de trois variantes"); a count written in
        # French words is French wherever the request was not recognised as such ("lavande en Provence, trois
        # images").
        rf"(?<!les )(?<!ces )(?<!mes )(?<!tes )(?<!ses )(?<!nos )(?<!vos )(?<!des ){_B}({N_FR})\s+"
        rf"(?:(?:autres|nouvelles|nouveaux)\s+)?(?:{_FR_VARIANTS}){_E}"
        rf"|(?<!les )(?<!ces )(?<!de ){_B}((?=[^\W\d]){N_FR})\s+(?:images|photos|vid[ée]os|visuels){_E}"
        rf"|\b(?:fais|g[ée]n[èe]re|donne|cr[ée]e)[\s-]*(?:m'en|moi[\s-]*en|en)\s+({N_FR}){_CLAUSE_END}",
        ["besoin de trois variantes d'affiche", "champs de lavande en Provence, trois images", "fais-en trois"],
        ["les trois variantes", "deux chats", "une grille de quatre images"],
        keys=(
            *("variante", "version", "variation", "option", "proposition", "clinaison", "rendus", "sultats"),
            *("images", "photos", "vid", "visuels", "fais", "donne", "cree", "crée", "gen", "gén"),
        ),
    ),
    _rule(
        "fr",
        "outputs",
        # "fais 3 logos": the count is of outputs, the noun is what to make and stays in the prompt.
        rf"(?<!de )(?<!avec )(?<!les )(?<!ces )(?<!mes )(?<!tes )(?<!ses ){_B}({N_FR})(?=\s+(?:{_MADE_THINGS}){_E})",
        ["fais 3 logos qui suivent le croquis", "trois affiches pour un concert"],
        ["les 2 logos de la marque", "trois chats"],
        only_in="fr",
    ),
    _rule(
        "fr",
        "negative",
        # "sans le logo" (a definite article) names something the picture already has: removing it is the edit.
        rf"{_CLAUSE_START}(?:(?:et|ni)\s+)?(?:sans(?!\s+(?:le|la|les)\s|\s+l')|[ée]vite[rz]?|pas\s+de)\s+(?P<v>[^,;:.!?\n]+)"
        r"|(?:prompt\s+)?n[ée]gatifs?\s*[:=]\s*(?P<v2>[^\n]+)",
        ["sans texte", "évite le flou", "prompt négatif : flou", "négatif : visages déformés"],
        ["un chat sans queue", "sans le logo en bas à droite"],
        only_in="fr",
    ),
    # ---------------------------------------------------------------------------------------- German
    _rule(
        "de",
        "size",
        rf"{_B}(\d{{2,5}})\s*(?:px\s+)?mal\s+(\d{{2,5}}){_E}(?:\s*(?:px|pixel))?",
        ["1280 mal 720", "1024 mal 1024 Pixel"],
        ["ein Teppich von 200 mal 300 cm"],
        keys=("mal",),
    ),
    _rule(
        "de",
        "size",
        r"breite\s*(?:von|:|=)?\s*(\d{2,5})(?:\s*px)?\s*(?:,|und|x)?\s*h(?:ö|oe)he\s*(?:von|:|=)?\s*(\d{2,5})(?:\s*px)?",
        ["Breite 1024, Höhe 768", "Breite von 1024 und Höhe von 768"],
        keys=("breite",),
    ),
    _rule(
        "de",
        "preset",
        rf"(?:(?:in|mit|auf|aufl[öo]sung)\s+)?{_B}(480|720|1080)\s*p{_E}",
        ["in 720p", "Auflösung 1080p"],
        keys=("480", "720", "1080"),
    ),
    _rule(
        "de",
        "ratio",
        r"(?:(?:im\s+)?format|seitenverh[äa]ltnis|bildverh[äa]ltnis|verh[äa]ltnis)\s*(?:von|:|=)?\s*"
        r"(\d{1,2}(?:\.\d+)?)\s*:\s*(\d{1,2})(?!\d)",
        ["Seitenverhältnis 16:9", "im Format 9:16"],
        keys=("format", "verh"),
    ),
    _rule(
        "de",
        "orientation",
        rf"(?P<f>(?:im|in|als)\s+)?(?P<o>hochformat|querformat|hochkant|breitbild(?:format)?(?!{_W}))"
        rf"|(?P<o2>quadratisch(?:e[nmrs]?)?|vertikal(?:e[nmrs]?)?|horizontal(?:e[nmrs]?)?)(?P<f2>\s+format){_E}"
        rf"|(?P<o3>quadratisch(?:e[nmrs]?)?|vertikal(?:e[nmrs]?)?|horizontal(?:e[nmrs]?)?)(?=\s+(?:{_DE_MEDIA}){_E})"
        rf"|{_CLAUSE_START}(?P<o4>quadratisch|vertikal|horizontal){_DE_AFTER_SHAPE}"
        rf"|{_PRESET_AFTER}(?P<o5>quadratisch|vertikal|horizontal){_E}",
        [
            "Hochformat",
            "im Querformat",
            "quadratisch",
            "ein quadratisches Bild",
            "vertikales Video",
            "Breitbild bitte",
            "quadratisch für Insta",
            "quadratisch bitte",
            "1080p vertikal",
            "1080p quadratisch, vier Varianten",
        ],
        ["ein quadratischer Tisch", "vertikale Streifen", "ein Breitbildfernseher an der Wand", "vertikal gestreift"],
        keys=("breitbild", "hochformat", "hochkant", "horizontal", "quadratisch", "querformat", "vertikal"),
    ),
    _rule(
        "de",
        "seconds",
        rf"(?:(?:von|f[üu]r|dauer(?:\s+von)?)\s*:?\s*)?{_B}({N_DE})\s*(?:-\s*)?"
        rf"(?P<unit>sekunden|sekunde|sek\.?|s|minuten?|min){_E}(?:\s+lang)?",
        ["5 Sekunden", "5 Sek.", "zehn Sekunden lang", "fünfundzwanzig Sekunden", "von 3 Sekunden"],
    ),
    _rule(
        "de",
        "fps",
        rf"(?:(?:mit|bei)\s+)?{_B}({N_DE})\s*(?:fps|(?:bilder|bildern|frames|einzelbilder)\s*(?:pro|je|/)\s*(?:sekunde|s)){_E}"
        rf"|bildrate\s*(?:von|:|=)?\s*({N_DE})",
        ["24 Bilder pro Sekunde", "mit 30 fps", "Bildrate von 24"],
        keys=("bilder", "bildrate", "fps", "frames"),
    ),
    _rule(
        "de",
        "frames",
        rf"(?:(?:mit|von)\s+)?{_B}({N_DE})\s*(?:einzelbilder|einzelbildern|frames|bildern|bilder){_E}",
        ["ein Video mit 49 Bildern", "ein Video aus 49 Einzelbildern", "ein Clip, 49 Frames"],
        ["4 Bilder"],
        needs=r"video|clip|animation|film|zeitraffer",
        keys=("bilder", "frames"),
    ),
    _rule(
        "de",
        "seed",
        rf"(?:mit\s+(?:dem\s+)?)?(?:seed|zufallswert|startwert)\s*(?:von|:|=)?\s*[-−]?({N_DE}){_E}",
        ["Seed 42", "mit Seed 7", "Startwert zweiundvierzig"],
        keys=("seed", "startwert", "zufallswert"),
    ),
    _rule(
        "de",
        "steps",
        rf"(?:mit\s+)?{_B}({N_DE})\s*(?:inferenz|sampling|denoising)?-?schritten?{_E}"
        r"|(?<!die )(?<!der )(?<!den )schritte\s*(?:[:=]\s*)?[-−]?(?P<k>\d+)",
        ["30 Schritte", "mit 25 Schritten", "Schritte: 40", "Schritte 30"],
        ["die Schritte 2 und 3 der Anleitung"],
        keys=("schritte",),
    ),
    _rule(
        "de",
        "guidance",
        rf"(?:guidance[\s-]*skala|cfg[\s-]*(?:skala|wert)|f[üu]hrungsskala)\s*(?:von|:|=)?\s*({_DEC})"
        # A decimal comma after the English word: read whole before the English rule stops at the comma.
        r"|(?:guidance(?:[\s_-]*scale)?|cfg(?:[\s_-]*scale)?)\s*(?:von|:|=)?\s*(\d+,\d+)",
        ["Guidance-Skala 7,5", "CFG-Skala 7", "Guidance-Skala von 6", "CFG 5,5", "Guidance 4,5"],
        keys=("guidance", "skala", "wert", "cfg"),
    ),
    _rule(
        "de",
        "outputs",
        r"(?<!die )(?<!diese )(?<!meine )(?<!deine )(?<!unsere )(?<!beide )(?<!beiden )(?<!den )(?<!der )(?<!von )"
        rf"{_B}({N_DE})\s+(?:(?:verschiedene|unterschiedliche|neue|weitere)\s+)?(?:bilder|varianten|versionen|"
        r"variationen|optionen|fotos|videos|clips|entw[üu]rfe|vorschl[äa]ge|ergebnisse|illustrationen|motive)"
        rf"{_E}",
        ["4 Bilder", "vier Varianten", "drei verschiedene Versionen"],
        ["drei Katzen", "diese 2 Bilder"],
        only_in="de",
    ),
    _rule(
        "de",
        "outputs",
        # Words no other language shares: read even where a short request is not recognised as German.
        r"(?<!die )(?<!diese )(?<!meine )(?<!deine )(?<!unsere )(?<!beide )(?<!beiden )(?<!den )(?<!der )(?<!von )"
        rf"{_B}({N_DE})\s+(?:(?:verschiedene|unterschiedliche|neue|weitere)\s+)?(?:{_DE_VARIANTS}|bilder){_E}"
        rf"|\b(?:mach|erstell|generier|gib|erzeug)\w*\s+(?:mir\s+|uns\s+)?({N_DE})\s+(?:davon|st[üu]ck){_E}"
        # "Ölgemälde-Stil, 2 Stück": a count of pieces ending a clause is of outputs; "zwei Stück Kuchen" is cake.
        rf"|(?<=[,;:.!?(])\s*({N_DE})\s+st[üu]ck(?=\s*(?:bitte\s*)?(?:[,;:.!?\n)]|$))",
        [
            "Kantenbild → Porzellanvase, vier Varianten",
            "Sechs Ausgaben, Seed zwölf",
            "mach zwei davon",
            "3 bilder",
            "ein König auf einem Thron, 2 Stück",
            "Ölgemälde-Stil, drei Stück bitte.",
        ],
        ["die vier Varianten", "drei Katzen", "zwei Stück Kuchen auf einem Teller", "ein Teller, zwei Stück Kuchen"],
        keys=(
            *("variant", "version", "variation", "option", "entw", "vorschl", "ergebnis", "ausgaben", "bilder"),
            *("davon", "stück", "stuck", "stueck"),
        ),
    ),
    _rule(
        "de",
        "outputs",
        # "mach 3 Logos": the count is of outputs, the noun is what to make and stays in the prompt.
        r"(?<!mit )(?<!von )(?<!die )(?<!den )(?<!der )(?<!meine )(?<!beide )"
        rf"{_B}({N_DE})(?=\s+(?:{_MADE_THINGS}){_E})",
        ["mach 3 Logos im Stil des Entwurfs", "drei Plakate für ein Konzert"],
        ["die 2 Logos der Marke", "drei Katzen"],
        only_in="de",
    ),
    _rule(
        "de",
        "negative",
        # "ohne das Logo" (a definite article) names something the picture already has: removing it is the edit.
        rf"{_CLAUSE_START}(?:(?:und|oder)\s+)?(?:ohne(?!\s+(?:den|die|das|dem|der)\s)|vermeide|keine?n?)\s+(?P<v>[^,;:.!?\n]+)"
        r"|negativ(?:er|es)?(?:[\s-]*prompt)?\s*[:=]\s*(?P<v2>[^\n]+)",
        [
            "ohne Text",
            "vermeide Unschärfe",
            "Negativ-Prompt: verschwommen",
            "Negativ: Text, Wasserzeichen",
            "negatives Prompt: Logo",
        ],
        ["eine Katze ohne Schwanz", "ohne das Wasserzeichen oben links"],
        only_in="de",
    ),
)


_RULES_OF: dict[str, list[Rule]] = {}
for _r in RULES:
    _RULES_OF.setdefault(_r.kind, []).append(_r)


def _rules(kind: str, norm: Norm, english: tuple[LazyPattern, ...] = ()) -> list[LazyPattern]:
    """The patterns that state ``kind`` and may be tried on ``norm``, in the order they are tried: Chinese and
    Japanese (their words are nobody else's), the text's own language, then ``english``, then the rest. A rule
    of the text's language goes before English so that its lead words are cut with it ("a 24 fps"); English
    goes before the rest so that their rules only ever see what English left."""
    # Chinese and Japanese rules need their script: skipping them for other text halves the time rules take.
    cjk_text = has_char_from(norm.text, "\u3000") and _HAS_CJK.search(norm.text) is not None
    tried = [r for r in _RULES_OF[kind] if (cjk_text or r.lang not in ("zh", "ja")) and r.applies(norm)]
    cjk = [r.pattern for r in tried if r.lang in ("zh", "ja")]
    own = [r.pattern for r in tried if r.lang == norm.lang and r.lang not in ("zh", "ja")]
    rest = [r.pattern for r in tried if r.lang not in ("zh", "ja", norm.lang)]
    return [*cjk, *own, *english, *rest]


def _orientation_of(word: str) -> str:
    return next(o for o, words in _ORIENTATION_WORDS.items() if re.fullmatch(words, word))


def _named(m: re.Match[str], prefix: str) -> tuple[int, int] | None:
    """The span of the first group named ``prefix`` or ``prefix`` + a digit that matched."""
    for name in m.re.groupindex:
        if name.rstrip("0123456789") == prefix and m.group(name) is not None:
            return m.span(name)
    return None


def _first_group(m: re.Match[str]) -> int:
    """The first group of ``m`` that matched: the number, whichever of a rule's alternatives stated it."""
    return next((i for i in range(1, (m.re.groups or 0) + 1) if m.group(i) is not None), 0)


def _num(s: str | None) -> float | None:
    return None if s is None else parse_number(s)


def _in_range(name: str, value: float | None) -> bool:
    if value is None:
        return False
    lo, hi = LIMITS[name]
    return lo <= value <= hi


_MINUS = "-−"
# Words before a setting that are not part of it, left out when a refusal quotes the setting ("at 0 fps").
_LEAD = LazyPattern(
    r"^(?:(?:at|for|of|about|around|lasting|duration|length|long|in|to|output|resolution|size|res|dimensions?)\b"
    r"|@)\s*[:=]?\s*",
    re.I,
)
# A length unit after "WxH": the size of a thing in the picture ("a 120x80 cm rug"), not of the picture.
_LENGTH_UNIT = LazyPattern(r"\s*(?:mm|cm|m|km|inch(?:es)?|ft|feet|foot|yards?|(?:milli|centi|kilo)?met(?:er|re)s?)\b")
# Nouns that make a number a count of outputs ("100 variations"); "50 photos", "40 candidates" or "20 generations"
# may be what one picture shows, and so may a count after "with" ("a menu with 20 options").
_COUNT_NOUN = LazyPattern(
    r"\b(?:options?|variations?|versions?|variants?|alternatives?|outputs?|renders?|opcion(?:es)?|variaciones|"
    r"versiones|variantes?|alternativas|propositions|d[ée]clinaisons|varianten|versionen|variationen|optionen)\b"
    r"|版本|方案|变体|變體|选项|選項|パターン|バリエーション|バージョン|案"
)
# Words that make a count one of files already there ("estas 2 imágenes", "ces 2 images", "这两个版本").
_DETERMINER_BEFORE = LazyPattern(
    r"(?:(?<![^\W\d_])(?:las|los|estas|estos|esas|esos|mis|tus|sus|ambas|ambos|les|ces|mes|tes|ses|nos|vos|"
    r"die|diese|meine|deine|unsere|beide|beiden|den)\s+|[这這那])$"
)
# A time of day written like a ratio: a leading zero or minutes past 21 ("07:30", "12:45"), or am/pm after it.
_CLOCK_TIME = LazyPattern(r".*?(?:(?<!\d)0\d\s*:|:\s*(?:2[2-9]|[3-5]\d)(?!\d)|:\s*\d\d\s*(?:[ap]\.?m\.?|h|o'clock)\b)")
# Words that make the numbers after them a time: "a clock showing 10:10", "reading 9:15", "turning to 7:30".
_CLOCK_BEFORE = LazyPattern(
    r"\b(?:clocks?|watch|timer|time|showing|shows|reading|reads|says|displaying|displays|turning\s+to|set\s+to)"
    r"\s+(?:(?:exactly|about|around|at|to|is)\s+)?$"
)
# A resolution that names a device in the picture: "a 1080p monitor", "an old 480p tv".
_DEVICE_AFTER = LazyPattern(
    r"\s*(?:monitors?|screens?|displays?|tvs?|televisions?|webcams?|cameras?|camcorders?|projectors?|laptops?|"
    r"panels?|phones?)\b"
)
_SETTINGS_LABEL = LazyPattern(r"\b(?:settings|specs?|params|parameters|config)\s*(?:[:=]|[-–—](?=\s))?\s*$")
_HAS_BEFORE = LazyPattern(r"\b(?:with|has|have|having|showing|shows)\s+$")
_STEPS_WORD = LazyPattern(r"\b(?:inference|sampling|denoising|diffusion)\b")


def _signed(t: str, m: re.Match[str], group: int) -> tuple[float | None, int]:
    """The number in ``group`` of ``m`` with its sign, and where it starts (at its minus sign, if any).

    A minus counts when it is written against the number and does not join it to a word or to another number:
    "seed -1", ", -3 seconds"; not "T-3 seconds" or "3 - 5 seconds" (a range)."""
    start = m.start(group)
    value = _num(m.group(group))
    if value is None or start == 0 or t[start - 1] not in _MINUS:
        return value, start
    before = t[: start - 1]
    if before[-1:].isalnum() or before.rstrip()[-1:].isdigit():
        return value, start
    return -value, start - 1


def _fmt(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else f"{x:g}"


def _sides(w: int, h: int) -> str:
    """Which sides of ``w`` x ``h`` are out of range: "width", "height" or "width and height"."""
    bad = [name for name, v in (("width", w), ("height", h)) if not _in_range(name, v)]
    return " and ".join(bad)


class _Found:
    """What one text states, found so far: the :class:`Meta` being filled, the spans already read (each part of
    the text states one setting at most) and the settings refused, with the range each must be in."""

    def __init__(self, norm: Norm) -> None:
        self.norm = norm
        self.text = norm.text
        self.meta = Meta()
        self.taken: list[Span] = []
        self.refused: list[tuple[int, str]] = []

    def free(self, m: re.Match[str]) -> bool:
        """Whether ``m`` overlaps no span already read."""
        return all(m.end() <= a or m.start() >= b for a, b in self.taken)

    def take(self, m: re.Match[str]) -> None:
        """Mark ``m`` as read and as a span to cut from the prompt."""
        self.taken.append((m.start(), m.end()))
        self.meta.add(m)

    def value(self, m: re.Match[str]) -> tuple[float | None, int]:
        """The number ``m`` states (its first group that matched) with its sign, and where it starts."""
        return _signed(self.text, m, _first_group(m))

    def refuse(self, m: re.Match[str], start: int, name: str, what: str = "", whole: bool = False) -> None:
        """Record that ``m`` states setting ``name`` (``what``, when the message names it otherwise) outside
        ``LIMITS[name]``, and cut it like a setting that was read."""
        # ``start`` is where the number's minus sign is, when it stands before the match ("-3 seconds").
        a = min(m.start(), start)
        lo, hi = LIMITS[name]
        phrase = _LEAD.sub("", self.norm.original[slice(*self.norm.span(a, m.end()))].strip())
        number = "a whole number " if whole else ""
        self.refused.append((a, f"{phrase}: {what or name} must be {number}{_fmt(lo)}..{_fmt(hi)}"))
        self.taken.append((a, m.end()))
        self.meta.spans.append((a, m.end()))

    # How a setting's patterns are scanned (:attr:`_Setting.scan`).
    def every(self, patterns: Iterable[LazyPattern]) -> Iterator[re.Match[str]]:
        """Every match of each pattern in turn: the reader decides which span it would take."""
        for pattern in patterns:
            yield from pattern.finditer(self.text)

    def untaken(self, patterns: Iterable[LazyPattern]) -> Iterator[re.Match[str]]:
        """Each pattern's matches, as ``finditer`` finds them, that overlap nothing read so far."""
        return (m for m in self.every(patterns) if self.free(m))

    def free_matches(self, patterns: Iterable[LazyPattern]) -> Iterator[re.Match[str]]:
        """Each pattern's matches that overlap nothing read so far, searched again past one that does."""
        # Where one overlaps, the search goes on from the next character rather than after it, so that in "seed 42
        # steps 30" the steps rule, whose first match "42 steps" holds the seed's number, still finds "steps 30".
        for pattern in patterns:
            pos = 0
            while (m := pattern.search(self.text, pos)) is not None:
                if self.free(m):
                    yield m
                    pos = max(m.end(), m.start() + 1)
                else:
                    pos = m.start() + 1


# ------------------------------------------------------------------------------------------------ readers
# What one match of a setting's patterns sets (:attr:`_Setting.read`). Settings that are a number in a range read
# with _read_number; these are the ones that are not.
def _read_width_height(found: _Found, setting: _Setting, m: re.Match[str]) -> None:
    """ "width 768, height 512", either side first."""
    w, h = (m.group(1), m.group(2)) if m.group(1) else (m.group(4), m.group(3))
    if _in_range("width", int(w)) and _in_range("height", int(h)):
        found.meta.width, found.meta.height = int(w), int(h)
        found.take(m)
    else:
        found.refuse(m, m.start(), "width", _sides(int(w), int(h)))


def _read_size(found: _Found, setting: _Setting, m: re.Match[str]) -> None:
    """ "1280x720"; two small sides ("16x9") are a ratio."""
    if _LENGTH_UNIT.match(found.text, m.end()):
        return  # "a 120x80 cm rug" is the size of a thing, not of the picture
    w, h = int(m.group(1)), int(m.group(2))
    if _in_range("width", w) and _in_range("height", h):
        found.meta.width, found.meta.height = w, h
        found.take(m)
    elif 0 < w < 64 and 0 < h < 64 and w / h <= 4 and h / w <= 4:  # "16x9" is a ratio
        found.meta.ratio = (float(w), float(h))
        found.take(m)
    else:
        found.refuse(m, m.start(), "width", _sides(w, h))


def _read_ratio(found: _Found, setting: _Setting, m: re.Match[str]) -> None:
    """ "16:9", "九比十六"; a time of day is not a ratio, nor is a shape too long or too thin to make."""
    t = found.text
    if _CLOCK_TIME.match(m.group(0)) or _CLOCK_BEFORE.search(t, max(0, m.start() - 24), m.start()):
        return  # "a clock showing 10:10", "07:30", "7:30 am" are times of day
    a, b = _num(m.group(1)) or 0.0, _num(m.group(2)) or 0.0  # "九比十六": numerals too
    if a >= 1 and b >= 1 and 0.2 <= a / b <= 5:
        found.meta.ratio = (a, b)
        found.take(m)


def _read_preset(found: _Found, setting: _Setting, m: re.Match[str]) -> None:
    """ "720p", "full hd"."""
    if _DEVICE_AFTER.match(found.text, m.end()):
        return  # "a 1080p monitor" is a thing in the picture
    found.meta.preset = f"{m.group(1)}p" if m.group(1) else "1080p"
    found.take(m)


def _read_orientation_rule(found: _Found, setting: _Setting, m: re.Match[str]) -> None:
    """An orientation stated in another language. Only the orientation word and its format word are cut; a
    medium that shows the word is a format ("un vídeo vertical", "竖版视频") stays in the prompt."""
    word, fmt = _named(m, "o"), _named(m, "f")
    if word is None:
        return
    a, b = (min(word[0], fmt[0]), max(word[1], fmt[1])) if fmt and fmt[0] < fmt[1] else word
    if any(a < y and b > x for x, y in found.taken):
        return
    found.meta.orientation = _orientation_of(found.text[word[0] : word[1]])
    found.meta.spans.append((a, b))
    found.taken.append((a, b))


# "vertical for reels": a shape stated for where the output will be shown. The platform goes with the shape.
_FOR_PLATFORM = LazyPattern(
    r"\s+for\s+(?:(?:my|our|the|a|an)\s+)?(?:tiktok|tik\s+tok|reels?|stories|story|shorts|instagram|insta|ig|"
    r"youtube(?:\s+shorts)?|snapchat|pinterest|whatsapp|facebook|fb|linkedin|mobile|(?:a\s+)?phones?|"
    r"(?:phone|desktop|lock\s*screen)\s+wallpapers?|desktop|(?:the\s+)?web)\b"
)
# A setting right after the shape word ("vertical 8s", "square 30 fps"): the shape is one of a list of settings.
_SETTING_AFTER = LazyPattern(r"\s+\d+(?:\.\d+)?\s*(?:s|secs?|seconds?|fps|frames?|p)\b")
_NOT_ORIENTATION = LazyPattern(
    r"times square|town square|square (?:meters?|metres?|feet|foot|root|miles?|km)", keys=("square",)
)


def _read_orientation(found: _Found, setting: _Setting, m: re.Match[str]) -> None:
    """An orientation stated in English: "vertical", "in landscape format", "square for instagram"."""
    t, meta = found.text, found.meta
    word = m.group(1).replace(" ", "").replace("-", "")
    after = t[m.end(1) : m.end(1) + 24]
    before = t[max(0, m.start(1) - 8) : m.start(1)]
    medium = re.match(rf"\s+({_ORIENT_MEDIA})\b", after)
    tail_word = m.group(0)[m.end(1) - m.start(0) :].strip() or (medium.group(1) if medium else "")
    if (word == "square" and _NOT_ORIENTATION.match(t, max(0, m.start(1) - 6))) or "times " in before:
        return
    # "portrait" and "landscape" are also subjects ("an oil painting portrait of ..."): only an explicit
    # orientation word, a neighbouring preset, or a bare list item counts.
    standalone = re.match(r"\s*(?:[,.;:)!?/|]|$|\d{3,4}p|\s*-)", after) is not None
    standalone = standalone or _SETTING_AFTER.match(t, m.end()) is not None
    platform = _FOR_PLATFORM.match(t, m.end())
    # "..., square please": a shape word that is a clause of its own but for a courtesy word.
    courteous = re.match(r"\s*(?:please|pls|plz)\b\s*(?:[,.;:)!]|$)", after) is not None
    near_preset = re.search(r"\d{3,4}\s*p", t[max(0, m.start() - 12) : m.end() + 12]) is not None
    explicit = tail_word.split(" ")[0] in ("orientation", "mode", "format", "layout", "aspect", "ratio", "crop")
    if word in ("portrait", "landscape"):
        listed = (standalone or courteous or platform) and re.search(
            r"(?:^|[,.;:!?(\n-])\s*(?:in\s+|a\s+)?$", t[: m.start(1)]
        ) is not None
        if not (explicit or near_preset or listed or tail_word in ("video", "clip")):
            return
    elif word in ("vertical", "horizontal", "square") and not (
        explicit or standalone or courteous or near_preset or tail_word or platform
    ):
        return
    meta.orientation = {
        "vertical": "portrait",
        "horizontal": "landscape",
        "widescreen": "landscape",
        "ultrawide": "landscape",
    }.get(word, word)
    if word == "widescreen" and meta.ratio is None:
        meta.ratio = (16.0, 9.0)
    if word == "ultrawide" and meta.ratio is None:
        meta.ratio = (21.0, 9.0)
    found.take(m)
    if platform:
        meta.spans.append(platform.span())


def _read_number(found: _Found, setting: _Setting, m: re.Match[str]) -> None:
    """A setting that is one number: ``setting.field`` becomes ``setting.store(value)`` where the value is in
    ``LIMITS[setting.limit]``, whole unless ``setting.whole`` is "any", and at least ``setting.least``. A value in
    range below ``least`` is content and left alone; any other is refused where ``setting.stated`` allows."""
    v, start = found.value(m)
    if v is None:
        return
    whole = v == int(v)
    if not whole and setting.whole == "skip":
        return
    allowed = _in_range(setting.limit, v) and (whole or setting.whole == "any")
    if allowed and (setting.least is None or v >= setting.least):
        stored = setting.store(v)
        if stored is not None:
            setattr(found.meta, setting.field, stored)
        found.take(m)
    elif not allowed and (setting.stated is None or setting.stated(m)):
        found.refuse(m, start, setting.limit, whole=setting.whole == "refuse" and not whole)


def _as_read(v: float) -> float:
    return v


def _count_above_one(v: float) -> int | None:
    """A count of outputs set by a key ("n=4"); ``None`` for 1, the default, which leaves a count already read."""
    return int(v) if v > 1 else None


def _steps_stated(m: re.Match[str]) -> bool:
    """Whether a number of steps out of range was stated as steps: after its keyword ("steps 100000") or with a
    word of sampling ("1000 inference steps"); a bare "1000 steps" may be a staircase and stays content."""
    keyword_first = m.group(2) if _STEPS.made(m) else m.groupdict().get("k")
    return bool(keyword_first or _STEPS_WORD.search(m.group(0)))


def _read_seconds(found: _Found, setting: _Setting, m: re.Match[str]) -> None:
    """A duration: "5 seconds", "2 minutes", "5s" (not a decade: "retro 60s style"), "5秒"."""
    t = found.text
    v, start = _signed(t, m, 1)
    unit = m.group("unit") if "unit" in m.re.groupindex else m.group(2) if _SECONDS.made(m) else "s"
    if v is None:
        return
    if unit.startswith(("m", "分")):
        v *= 60
    if unit == "s" and not re.match(r"\d", m.group(1)):
        return  # "five s" is not a duration; "5s" is
    if unit == "s" and _is_decade(t, m, v):
        return  # "retro 60s style", "in her 40s": a decade or an age
    # A duration longer than can be made, in words ("a 90 second video"), is still a duration: the planner
    # refuses it with the limit instead of making 5 s. A bare "s" past the limit is a decade ("1970s").
    if 0 < v <= (LIMITS["duration_s"][1] if unit == "s" else 3600):
        found.meta.seconds = v
        found.take(m)
    elif v < 0:
        found.refuse(m, start, "duration_s")


def _output_counts(found: _Found, patterns: Iterable[LazyPattern]) -> Iterator[re.Match[str]]:
    """The scan of counts of outputs: "4 product shots" where the text starts, then each pattern's matches; those
    that overlap nothing read so far."""
    lead = _OUTPUTS_LEAD.match(found.text)
    return (m for m in chain([lead] if lead else [], found.every(patterns)) if found.free(m))


def _read_output_count(found: _Found, setting: _Setting, m: re.Match[str]) -> None:
    """A count of outputs before what is counted: "4 variations", "make 4 product shots", "a few versions, like 3"."""
    t, meta = found.text, found.meta
    v, start = found.value(m)
    if v is None or v != int(v) or _DETERMINER_BEFORE.search(t, max(0, start - 12), start):
        return
    if _HAS_BEFORE.search(t, max(0, start - 16), start) and not _COUNT_NOUN.search(m.group(0)):
        return  # "a poster with 4 photos of the team" shows them; "with 4 variations" asks for them
    most = LIMITS["num_outputs"][1]
    if 2 <= v <= most and (_OUTPUTS_MORE.made(m) or _OUTPUTS_LEAD.made(m)):
        # Only the number is cut: "product shots" says what to make.
        meta.num_outputs = int(v)
        found.taken.append(m.span(1))
        meta.add(m, 1)
    elif 2 <= v <= most:
        meta.num_outputs = int(v)
        found.take(m)
    elif (
        not _in_range("num_outputs", v)
        and _COUNT_NOUN.search(m.group(0))
        and not _HAS_BEFORE.search(t, max(0, start - 16), start)
    ):
        # "100 variations" asks for outputs; "50 photos" or "20 posters" may be what one picture shows.
        found.refuse(m, start, "num_outputs")


def _read_bare_count(found: _Found, setting: _Setting, m: re.Match[str]) -> None:
    """A count standing alone, where no count was read before: "generate three so I can choose", "x4"."""
    t = found.text
    if _OUTPUTS_TIMES.made(m) and not re.search(r"(?:^|[,.;:!?(|/\n])\s*$", t[: m.start()]):
        return
    word = m.group(_first_group(m))
    v = {"a few": 3.0, "a couple": 2.0}.get(word) or _num(word)
    if found.meta.num_outputs is not None or v is None or v != int(v):
        return
    if 2 <= v <= LIMITS["num_outputs"][1]:
        found.meta.num_outputs = int(v)
        found.take(m)
    elif v > LIMITS["num_outputs"][1]:
        found.refuse(m, m.start(), "num_outputs")


# ------------------------------------------------------------------------------------------------ the settings
@dataclass(frozen=True, eq=False)  # rows are told apart by identity: no __eq__/__hash__ to build
class _Setting:
    """One way :func:`extract_meta` reads a setting. The patterns tried are the :data:`RULES` of ``kind`` with
    ``english`` among them in the order :func:`_rules` gives (``english`` alone where ``kind`` is empty); ``scan``
    says which of their matches are read, ``read`` what each sets. Text in a language of ``not_in`` is left to
    that language's rules.

    The rest is for :func:`_read_number`: the :class:`Meta` ``field`` it sets (for other readers, the field they
    mainly set), the ``LIMITS`` entry ``limit`` a value must be in, what a value with a fraction is (``"any"``:
    a value like another, ``"refuse"``: refused as not whole, ``"skip"``: content), the ``least`` value that
    states the setting where the limit allows less, ``store`` (the value as the field holds it; ``None`` sets
    nothing) and ``stated`` (whether a value out of range is still this setting; unset: always)."""

    field: str
    kind: str
    english: tuple[LazyPattern, ...]
    scan: Callable[[_Found, Iterable[LazyPattern]], Iterator[re.Match[str]]]
    read: Callable[[_Found, _Setting, re.Match[str]], None] = _read_number
    limit: str = ""
    whole: Literal["any", "refuse", "skip"] = "any"
    least: float | None = None
    store: Callable[[float], float | None] = _as_read
    stated: Callable[[re.Match[str]], bool] | None = None
    not_in: tuple[str, ...] = ()


# Every setting, in the order read. A part of the text read by one setting is not read by those after it, so the
# order decides between readings of the same words: "24 frames per second" is read by fps before frames sees
# "24 frames".
_SETTINGS: tuple[_Setting, ...] = (
    _Setting("width", "", (_WIDTH_HEIGHT,), _Found.untaken, _read_width_height),
    _Setting("width", "size", (_SIZE,), _Found.untaken, _read_size),
    _Setting("ratio", "ratio", (_RATIO,), _Found.untaken, _read_ratio),
    _Setting("preset", "preset", (_PRESET,), _Found.untaken, _read_preset),
    _Setting("orientation", "orientation", (), _Found.every, _read_orientation_rule),
    # In Spanish and French the same words follow the noun they describe ("un jardín vertical"): their own rules
    # above decide.
    _Setting("orientation", "", (_ORIENT,), _Found.untaken, _read_orientation, not_in=("es", "fr")),
    _Setting("fps", "fps", (_FPS,), _Found.free_matches, limit="fps", store=round),
    # 1 to 4 frames is not a clip: "a comic strip with 3 frames" is content.
    _Setting("frames", "frames", (_FRAMES,), _Found.free_matches, limit="num_frames", whole="skip", least=5, store=int),
    _Setting("seconds", "seconds", (_SECONDS, _SECONDS_ZH), _Found.untaken, _read_seconds),
    _Setting("seed", "seed", (_SEED,), _Found.free_matches, limit="seed", whole="refuse", store=int),
    _Setting("guidance", "guidance", (_GUIDANCE,), _Found.free_matches, limit="guidance_scale"),
    # "one step at a time": a single step, though in range, is content.
    _Setting(
        "steps",
        "steps",
        (_STEPS,),
        _Found.free_matches,
        limit="steps",
        whole="refuse",
        least=2,
        store=int,
        stated=_steps_stated,
    ),
    _Setting("num_outputs", "outputs", (_OUTPUTS_MORE, _OUTPUTS_FEW, _OUTPUTS), _output_counts, _read_output_count),
    _Setting(
        "num_outputs", "", (_OUTPUTS_KEY,), _Found.untaken, limit="num_outputs", whole="skip", store=_count_above_one
    ),
    _Setting("num_outputs", "", (_OUTPUTS_BARE, _OUTPUTS_ALONE, _OUTPUTS_TIMES), _Found.untaken, _read_bare_count),
)


def extract_meta(norm: Norm) -> Meta:
    """Find every meta setting in ``norm``. A setting stated with a value outside the contract's range ("2000
    frames", "seed -1") is listed in ``Meta.out_of_range`` with the allowed range, and its words are cut like any
    setting's; numbers that are content ("2000 cats", "a temple with 1000 steps") are left alone."""
    t = norm.text
    found = _Found(norm)
    for setting in _SETTINGS:
        if norm.lang in setting.not_in:
            continue
        patterns = _rules(setting.kind, norm, setting.english) if setting.kind else setting.english
        for m in setting.scan(found, patterns):
            setting.read(found, setting, m)
    meta = found.meta
    _negative(norm, meta, found.taken)
    _negative_rules(norm, meta, found.taken)
    # A label that introduces settings ("Settings: seed 5", "specs negative prompt - blur") goes with the first.
    for i, (a, b) in enumerate(meta.spans):
        label = _SETTINGS_LABEL.search(t, max(0, a - 16), a)
        if label:
            meta.spans[i] = (label.start(), b)
    meta.out_of_range = [message for _, message in sorted(found.refused)]
    meta.video_hint = any(x is not None for x in (meta.seconds, meta.frames, meta.fps))
    return meta


def _negative(norm: Norm, meta: Meta, taken: list[Span]) -> None:
    """The negative prompt runs from its label to the end of the line, a new sentence, a bar between settings,
    the bracket it was opened in, or the next meta phrase ("negative prompt: blurry. A castle..." keeps "A castle"
    in the prompt). In English, a clause that starts with "no", "avoid" or "without" ("..., no people") is one."""
    t = norm.text
    found = list(_NEGATIVE.finditer(t))
    if norm.lang == "en":
        found += _NO_CLAUSE.finditer(t)
    for m in sorted(found, key=lambda m: m.start()):
        if any(a <= m.start() < b for a, b in taken):
            continue  # "negative prompt: no text" is read once, by its label
        group = _first_group(m)
        start, end = m.start(group), m.end(group)
        for a, _b in sorted(taken):
            if start <= a < end:
                end = a
                break
        a0, b0 = norm.span(start, end)
        cut = _NEGATIVE_END.search(norm.original[a0:b0]) or _unopened_bracket(norm.original[a0:b0])
        if cut:  # a new sentence or setting starts: the negative prompt ended before it
            end = next(i for i in range(start, end) if norm.index[i] >= a0 + cut.start())
            a0, b0 = norm.span(start, end)
        value = re.sub(r"(?:\s+(?:and|or|&))+$", "", norm.original[a0:b0].strip().rstrip(".,;:").strip()).strip()
        if not value:
            continue
        meta.negative_prompt = value if meta.negative_prompt is None else f"{meta.negative_prompt}, {value}"
        # Cut the label and the value only, so that whatever follows stays in the prompt.
        meta.spans.append((m.start(), end))
        taken.append((m.start(), end))


def _unopened_bracket(text: str) -> re.Match[str] | None:
    """The first ")" in ``text`` that closes no "(" of it: "(negative prompt - blur) in a studio" ends there."""
    depth = 0
    for m in re.finditer(r"[()]", text):
        depth += 1 if m.group(0) == "(" else -1
        if depth < 0:
            return m
    return None


# Words after "no" that are about the request or the answer, not the picture: "no rush", "no edits", "no jargon".
_NOT_AVOIDED = (
    r"rush|hurry|pressure|worries|worry|problems?|stress|need|needed|thanks|thank|sorry|wait|way|idea|clue|matter|"
    r"doubt|kidding|joke|offen[cs]e|edits?|editing|changes?|explanations?|jargon|code|logs?|pictures?|images?|"
    r"photos?|videos?|clips?|new|answers?|more|less|longer|shorter|one|words|spoilers|markdown|emojis?|fluff|"
    r"preamble|sound|music|audio|captions?|subtitles?|sure|idea"
)
# A clause of its own after the content that names what must not be in the picture: "..., no people, no text",
# "avoid lens flare". "a cabin with no windows" is content (the clause must start with the word), and so is a
# request that starts with it ("no people in it please. clean it up" asks an edit to remove them).
_NO_CLAUSE = LazyPattern(
    rf"(?<=[,.;:!?(|/\n])\s*(?:no|avoid|without)\s+(?!(?:other\s+|visible\s+)?(?:{_NOT_AVOIDED})\b)"
    rf"([^\W\d_][^\W_]*(?:[\s-]+(?!(?:please|pls|plz)\b)[^\W\d_][^\W_]*){{0,3}})(?:\s+(?:please|pls|plz))?"
    rf"{_CLAUSE_AFTER}",
    keys=("no", "avoid", "without"),
)
# Where a labelled negative prompt ends, before the end of its line: a new sentence, a bar or slash between
# settings ("negative prompt - blur | 16:9"), or words to the reader ("..., watermark, I'll attach the photo").
_NEGATIVE_END = LazyPattern(
    r"[.!?](?=\s|$)|;\s+(?=[A-Z\"'])|\s[|/]\s|\|"
    r"|,\s*(?=(?i:i|i'll|i'm|i've|i'd|we|we'll|please|pls|thanks|thank\s+you|thx|ty|cheers)\b)"
)


# A negative prompt that lists several things joined by "and without" ("sin texto y sin marcas de agua").
_NEGATIVE_JOIN = LazyPattern(r"\s+(?:y|e|ni|et|ou|und|oder)\s+(?:sin|sans|pas\s+de|ohne|keine?n?)\s+", re.I)


def _negative_rules(norm: Norm, meta: Meta, taken: list[Span]) -> None:
    """Negative prompts stated in the other languages ("sin texto", "不要出现文字", "文字なしで"): the thing to
    avoid goes to ``negative_prompt``, and the phrase is cut up to the next setting already found."""
    t = norm.text
    for pattern in _rules("negative", norm):
        for m in pattern.finditer(t):
            span = _named(m, "v")
            if span is None or any(a <= m.start() < b for a, b in taken):
                continue
            start, end = span
            end = min([end, *(a for a, _b in taken if start <= a < end)])
            a0, b0 = norm.span(start, end)
            value = norm.original[a0:b0].strip().rstrip(".,;:、，。").strip()
            if not value:
                continue
            value = _NEGATIVE_JOIN.sub(", ", value)
            meta.negative_prompt = value if meta.negative_prompt is None else f"{meta.negative_prompt}, {value}"
            # A marker after the value ("文字なしで") goes with it, unless a setting cut the value short.
            end = m.end() if end == span[1] else end
            cut = (m.start() + len(m.group(0)) - len(m.group(0).lstrip()), end)
            meta.spans.append(cut)
            taken.append(cut)


# ------------------------------------------------------------------------------------------------ cleaning
# Words that carry no content of their own: a clause made only of them (once its meta is cut) is dropped.
_FILLER = frozenset(
    """
    a an the me my us our you u ya can could would will please pls plz kindly make create generate gen draw
    render produce give get do want need i i'd id im i'm like to for of in at with and as it its this that these
    those one ones some keep keeping output outputs result results final image images picture pictures pic pics
    photo video videos clip clips vid vids short quick new just also now then so here here's is are be size
    resolution format aspect ratio length duration long total use using generation version versions mode hey
    hi hello ok okay thanks thank something art artwork illustration set same exactly only around about
    approximately approx roughly each every per whole full both but or by should shall must let lets let's
    go please. thx ty mp4 png jpg jpeg gif still variations variation options option style
    """.split()
)
_DELIM = r"[,.;:!?\n()\[\]{}|，。、；：！？（）]+|\s[-–—]+(?=\s)|-{2,}|[–—]"
_CLAUSE = LazyPattern(rf"(?:(?!{_DELIM}).)+|(?:{_DELIM})", re.S)


def _is_filler(text: str) -> bool:
    words = re.findall(r"[^\W\d_]+(?:'[^\W\d_]+)?|\d+", text.lower())
    return all(w in _FILLER for w in words)


def clean_prompt(original: str, spans: list[Span], drop_lead: bool = True) -> str:
    """``original`` with ``spans`` (original coordinates) cut out, clauses left empty of content dropped,
    and a leading request wrapper ("make me a picture:", "generate:") removed."""
    keep = [True] * len(original)
    for a, b in spans:
        for i in range(max(a, 0), min(b, len(original))):
            keep[i] = False
    # pieces: [kept text, is delimiter, lost a span]
    pieces: list[list[Any]] = []
    for m in _CLAUSE.finditer(original):
        a, b = m.span()
        seg = "".join(original[i] for i in range(a, b) if keep[i])
        pieces.append([seg, re.search(r"\w", m.group(0)) is None, not all(keep[a:b])])
    # A clause that lost its meta and kept only filler words goes entirely ("keep it at 24 fps").
    for p in pieces:
        if not p[1] and p[2] and _is_filler(p[0]):
            p[0] = ""
    if drop_lead:
        # A leading wrapper: the clauses up to the first ':' '?' or dash, if they hold only request words and
        # content follows ("Can you make me a picture? Three cats ...", "generate: ...").
        for i, (seg, is_delim, _lost) in enumerate(pieces):
            if not is_delim:
                continue
            if re.search(r"[:?\-–—]", seg) or (i > 0 and not "".join(p[0] for p in pieces[:i]).strip()):
                head, rest = pieces[: i + 1], pieces[i + 1 :]
                if all(p[1] or _is_filler(p[0]) for p in head) and any(not p[1] and not _is_filler(p[0]) for p in rest):
                    for p in head:
                        p[0] = ""
                break
            if not _is_filler("".join(p[0] for p in pieces[:i] if not p[1])):
                break
    out = "".join(p[0] for p in pieces)
    # Punctuation left dangling by the cuts: ", ," -> ",", leading separators, empty brackets.
    out = re.sub(r"\(\s*[,;:]*\s*\)|\[\s*[,;:]*\s*\]", "", out)
    out = re.sub(r"[ \t]+", " ", out)
    out = re.sub(r" +([,.;:!?])", r"\1", out)
    out = re.sub(r"([,;:，、；：])(?:\s*[,;:\-，、；：])+", r"\1", out)
    out = re.sub(r"([.!?。！？])(?:\s*[,;:\-，、；：])+", r"\1", out)
    out = re.sub(r"(?<!\.)\.\.(?!\.)", ".", out)
    # An article orphaned by a cut ("make a 3 second video of" -> "make a of") goes too.
    out = re.sub(r"\b(?:a|an)\s+(?=(?:of|for|at|in|with|and|to)\b|[,.;:!?]|$)", "", out, flags=re.I)
    out = re.sub(r"\s*\n\s*", "\n", out)
    return out.strip(" \t\n,;:.!?-–—|，、；：。！？")
