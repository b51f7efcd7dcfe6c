"""Meta settings stated in a request: size, presets, orientation, ratio, duration, frames, fps, seed, steps,
guidance, number of outputs and the negative prompt, each with the span it occupies so that it can be cut
out of a generation prompt.

Everything here works on :class:`~unison_agent.planning.text.Norm` text (lower case, typos of the planner's
vocabulary repaired); spans are in normalised coordinates and mapped back with ``Norm.span``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

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
_W = rf"[^\W{_CJK}]"  # a letter, digit or underscore of an alphabetic script
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
_ORIENT_MEDIA = r"video|clip|image|picture|pic|photo|frame|shot|format"
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
_SEED = LazyPattern(rf"{_L}(?:random\s+)?seed\s*(?:number|value|of|is|=|:|#)?\s*[-−]?({N}){_E}", keys=("seed",))
_STEPS = LazyPattern(
    rf"(?<![=:] )(?<![=:]){_B}({N})\s*(?:inference\s+|sampling\s+|denoising\s+|diffusion\s+)?steps?{_E}"
    rf"|\b(?:num_inference_steps|(?:inference\s+|sampling\s+|denoising\s+)?steps)\s*(?:of|=|:)?\s*[-−]?(\d+)\b",
    keys=("step",),
)
_GUIDANCE = LazyPattern(
    rf"{_L}(?:guidance(?:[\s_]+scale)?|cfg(?:[\s_]+scale)?|cfg)\s*(?:of|=|:|at)?\s*[-−]?(\d+(?:\.\d+)?)"
    rf"|{_B}(?<![=:])(?<![=:] )(\d+(?:\.\d+)?)\s*(?:guidance(?:\s+scale)?|cfg){_E}",
    keys=("cfg", "guidance"),
)
_OUTPUT_NOUNS = (
    r"options?|variations?|versions?|variants?|alternatives?|outputs?|images?|imgs?|pics?|pictures?|photos?|"
    r"videos?|vids?|clips?|takes?|samples?|results?|candidates?|renders?|generations?|shots?|designs?|"
    r"illustrations?|drawings?|logos?|wallpapers?|posters?"
)
_OUTPUTS = LazyPattern(
    rf"(?<!these )(?<!those )(?<!the )(?<!both )(?<!my )(?<!of )(?<!our )(?<!your )(?<!\d )"
    rf"{_B}({N})\s+(?:different\s+|more\s+|distinct\s+|alternative\s+|separate\s+|unique\s+)?"
    rf"(?:{_OUTPUT_NOUNS})\b(?:\s+(?:please|pls|plz))?"
)
_OUTPUTS_KEY = LazyPattern(
    r"(?:--|\b)(?:n|num_outputs|num_images|batch_size|batch|samples)\s*[:=]\s*[-−]?(\d+)\b", keys=(":", "=")
)
_OUTPUTS_BARE = LazyPattern(
    rf"\b(?:give me|gimme|make me|generate|send me|i want|i need|i'd like)\s+({N})(?:\s+(?:please|pls|plz))?"
    rf"\s*(?=[.,!;]|$)|(?<![\w])({N}|a few|a couple)\s+of\s+(?:them|those|these)\b"
)
_NEGATIVE = LazyPattern(
    r"(?:--|\b)(?:negative[\s_-]*prompt|neg(?:ative)?[\s_-]*prompt|negative|negatives|neg)\s*[:=]\s*(.*?)\s*(?=\n|$)"
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
_ZH_MEDIA = r"视频|視頻|影片|短片|图片|圖片|图像|圖像|照片|画面|畫面|海报|海報|壁纸|壁紙|插画|插畫|图|圖|画|畫"
_JA_MEDIA = r"動画|画像|写真|イラスト|映像|ビデオ|ポスター|壁紙|絵"
_ES_MEDIA = r"v[ií]deos?|im[aá]genes|imagen|fotos?|clips?|p[oó]sters?|ilustraci[oó]n"
_FR_MEDIA = r"vid[ée]os?|images?|photos?|clips?|affiches?|illustrations?"
_DE_MEDIA = r"bild(?:er|ern)?|videos?|fotos?|clips?|poster|illustrationen?"
_ORIENTATION_WORDS = {
    "portrait": r"竖版|竖屏|竖向|纵向|竖幅|豎版|豎屏|豎向|縱向|豎幅|縦長|縦向き|縦型|縦位置|hochformat|hochkant|"
    r"vertikal(?:e[nmrs]?)?|verticales?|vertical|retrato|portrait",
    "landscape": r"横版|横屏|横向|橫版|橫屏|橫向|横長|横向き|横型|横位置|querformat|horizontal(?:e[nmrs]?|es)?|"
    r"apaisad[oa]s?|paisaje|paysage",
    "square": r"正方形|方形|スクエア|quadratisch(?:e[nmrs]?)?|cuadrad[oa]s?|carr[ée]e?s?",
}
_O = "|".join(_ORIENTATION_WORDS.values())
_ZH_SHAPES = r"竖向|纵向|豎向|縱向|横向|橫向|正方形|方形|縦長|縦向き|縦型|縦位置|横長|横向き|横型|横位置"
_OUTPUTS_ZH_NOUNS = r"版本|方案|变体|變體|选项|選項|候选|候選|结果|結果|样本|樣本|款式|种风格|種風格"

RULES: tuple[Rule, ...] = (
    # ---------------------------------------------------------------------------------------- Chinese
    _rule(
        "zh",
        "size",
        r"(?:分辨率|解析度|尺寸|大小|解像度|サイズ)\s*(?:为|為|是|は|:|=)?\s*(\d{2,5})\s*(?:px)?\s*(?:x|\*|乘)\s*(\d{2,5})"
        r"\s*(?:px|像素|ピクセル)?",
        ["分辨率1280x720", "分辨率1280×720", "尺寸：1024*1024", "解像度1920x1080"],
    ),
    _rule(
        "zh",
        "preset",
        r"(?:(?:分辨率|解析度|画质|畫質|解像度)\s*(?:为|為|是|は|:)?\s*)?(?<![\d.])(480|720|1080)\s*p"
        r"(?:\s*(?:的)?(?:分辨率|解析度|画质|畫質|解像度|高清))?",
        ["720P分辨率", "1080p", "分辨率720p", "480P画质", "解像度1080p"],
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
        "orientation",
        # 竖屏/横屏/竖版/横版 name a format ("vertical screen"); only a side-scrolling game is content.
        r"(?P<o>竖版|竖屏|竖幅|豎版|豎屏|豎幅|横版|横屏|橫版|橫屏)(?!游戏|遊戲|过关|過關|动作|動作|格斗|格鬥|卷轴|捲軸)"
        r"(?P<f>\s*(?:的)?(?:构图|構圖|格式|画幅|畫幅|模式|版式|比例))?",
        ["竖版", "竖屏视频", "豎版", "横屏", "横版构图"],
        ["横版游戏", "横版过关"],
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
        "seconds",
        rf"(?:(?:时长|時長|长度|長度|持续|持續|时间|時間)\s*(?:为|為|是|は|:)?\s*)?{_CJK_NUM}\s*"
        r"(?P<unit>秒(?:钟|鐘|間|间)?|分钟|分鐘|分間)(?!速|杀|殺)",
        ["3秒", "十秒钟", "五秒", "3秒間", "時長5秒", "时长：8秒", "两分钟", "5秒鐘"],
        ["第五秒", "秒速五センチメートル"],
    ),
    _rule(
        "zh",
        "fps",
        rf"(?:帧率|幀率|帧速率|幀速率|フレームレート)\s*(?:为|為|是|は|:|=)?\s*{_CJK_NUM}\s*(?:fps|帧|幀)?"
        rf"|(?:每秒|毎秒)\s*({N_ZH})\s*(?:帧|幀|フレーム|コマ)"
        rf"|{_CJK_NUM}\s*(?:帧每秒|幀每秒|帧/秒|幀/秒|フレーム/秒|fps)",
        ["24帧每秒", "帧率24", "每秒24帧", "帧率为三十", "二十四幀每秒", "毎秒24フレーム", "フレームレート30"],
    ),
    _rule(
        "zh",
        "frames",
        rf"{_CJK_NUM}\s*(?:帧|幀|フレーム|コマ)(?!率|速率|每秒|/秒)"
        r"|(?:总帧数|總幀數|帧数|幀數|フレーム数)\s*(?:为|為|是|は|:|=)?\s*(\d+)",
        ["49帧", "八十一帧", "49フレーム", "帧数为33"],
        ["第五帧", "每一帧"],
    ),
    _rule(
        "zh",
        "seed",
        rf"(?:随机|隨機|ランダム)?(?:种子|種子|シード)(?:值|値|数|數|号|號)?\s*(?:为|為|是|は|を|:|=|用)?\s*[-−]?({N_ZH})",
        ["种子42", "随机种子 42", "種子42", "种子为7", "シード42", "シード値42"],
    ),
    _rule(
        "zh",
        "steps",
        rf"(?<![走跑跳退进進迈邁跨了过過着著])(?<![\d.第每前后後这這那])({N_ZH})\s*(?:步|ステップ)(?!骤|驟|之|行|伐|调|調|一|步)"
        r"|(?:采样|採樣|推理|迭代|去噪)?(?:步数|步數|ステップ数)\s*(?:为|為|是|は|:|=)?\s*[-−]?(?P<k>\d+)",
        ["30步", "步数30", "步數 50", "采样步数为25", "30ステップ"],
        ["走了三步", "三步之遥", "一步一步"],
    ),
    _rule(
        "zh",
        "guidance",
        r"(?:引导系数|引導係數|引导强度|引導強度|引导比例|引導比例|引导尺度|提示词相关性|cfg\s*(?:scale|值|系数)?"
        r"|ガイダンス(?:スケール)?|cfgスケール)\s*(?:为|為|是|は|:|=)?\s*(\d+(?:\.\d+)?)",
        ["引导系数7.5", "CFG 7.5", "引導係數為6", "ガイダンススケール7"],
    ),
    _rule(
        "zh",
        "outputs",
        rf"{_CJK_NUM}\s*(?:张|張|幅|段|条|條|个|個|种|種|套|组|組)?\s*(?:不同的?\s*)?(?:{_OUTPUTS_ZH_NOUNS})",
        ["四个版本", "3种方案", "两个变体", "5个候选"],
        ["三只猫", "这两个版本"],
    ),
    _rule(
        "zh",
        "outputs",
        # 张/幅 count pictures, 段/条 clips: but "三张桌子" is three tables, so a picture word or the end of the
        # clause must follow.
        rf"(?:(?:生成|来|來|给我|給我|出|要|画|畫)\s*)?{_CJK_NUM}\s*(?:张|張|幅|段|条|條)\s*(?:不同的?\s*)?"
        rf"(?:(?=(?:{_ZH_MEDIA}))|{_CLAUSE_END})",
        ["生成4张", "来三张", "4张图片", "两段视频", "三幅画"],
        ["三张桌子", "三只猫"],
    ),
    _rule(
        "zh",
        "outputs",
        # After a verb of making, the count is of what the phrase ends in: "生成4张一只猫的图片".
        rf"(?:(?<=生成|给我|給我|画出|畫出)|(?<=[来來画畫]))\s*{_CJK_NUM}\s*(?:张|張|幅)"
        rf"(?=[^,.;!?\n]*?(?:{_ZH_MEDIA}))",
        ["生成4张一只猫的图片", "画三幅山水的画"],
        ["一张桌子的照片"],
    ),
    _rule(
        "ja",
        "outputs",
        rf"(?:を\s*)?{_CJK_NUM}\s*(?:パターン|案|通り|バリエーション|バージョン|種類(?=\s*(?:を|の)?(?:{_JA_MEDIA}|生成|作成|作って|描いて)))"
        rf"|(?:を\s*)?{_CJK_NUM}\s*枚(?:(?=\s*の?(?:{_JA_MEDIA}))|(?=\s*を?(?:生成|作成|作って|作る|描いて|描く|出力|ください|お願い))|{_CLAUSE_END})",
        ["4枚", "4パターン", "3案", "4枚の画像", "四枚生成して", "5通り"],
        ["3匹の猫", "3枚の皿"],
    ),
    _rule(
        "zh",
        "negative",
        r"(?:负面提示词|負面提示詞|反向提示词|反向提示詞|负面提示|負面提示|负向提示词|負向提示詞|ネガティブプロンプト)"
        r"\s*[:=]\s*(?P<v>[^.;!?\n]+)",
        ["负面提示词：模糊，低质量", "反向提示詞: 文字", "ネガティブプロンプト：ぼやけ"],
    ),
    _rule(
        "zh",
        "negative",
        # "不要" alone also forbids an action ("不要改变背景" keeps the background): only "do not show X" is a
        # negative prompt.
        r"(?:(?:不要|别|別|不得|禁止|请勿|請勿|切勿)(?:出现|出現|有|带|帶|包含|含有|加上?)|(?:避免|防止)(?:出现|出現)?)"
        r"(?P<v>[^,.;!?\n]+)",
        ["不要出现文字", "避免模糊", "不要有水印", "請勿出現文字"],
        ["不要改变背景"],
    ),
    _rule(
        "ja",
        "negative",
        rf"{_CLAUSE_START}(?:(?P<v>[^,.;!?\n]+?)(?:は|が)?(?:なし|無し|なく)(?:で|に|にして)?{_CLAUSE_END}"
        r"|(?P<v2>[^,.;!?\n]+?)を避けて(?:ください)?)",
        ["文字なしで", "透かしなし", "ぼやけを避けて"],
    ),
    # ---------------------------------------------------------------------------------------- Spanish
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
        rf"(?:{_ES_MEDIA})\s+(?P<o>vertical|horizontal|cuadrad[oa]s?|apaisad[oa]s?){_E}"
        rf"|{_CLAUSE_START}(?P<f>(?:en\s+)?)(?P<o2>vertical|horizontal|cuadrado|apaisado){_CLAUSE_END}",
        ["un vídeo vertical", "una imagen cuadrada", "un gato, vertical", "en horizontal"],
        ["un jardín vertical", "una mesa cuadrada", "una línea horizontal"],
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
        r"|(?:n[uú]mero\s+de\s+)?pasos(?:\s+de\s+(?:inferencia|muestreo))?\s*[:=]\s*[-−]?(?P<k>\d+)",
        ["30 pasos", "con 25 pasos de inferencia", "pasos: 40"],
        keys=("pasos",),
    ),
    _rule(
        "es",
        "guidance",
        rf"(?:escala\s+de\s+(?:gu[ií]a|guiado|orientaci[oó]n)|gu[ií]a\s+cfg)\s*(?:de|:|=)?\s*({_DEC})",
        ["escala de guía 7.5", "escala de guía de 6", "escala de guiado: 7,5"],
        keys=("escala", "guia", "guía"),
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
        "negative",
        rf"{_CLAUSE_START}(?:(?:y|e)\s+)?(?:sin|evita(?:r|ndo)?|que\s+no\s+(?:haya|aparezca|salga)n?)\s+(?P<v>[^,;:.!?\n]+)"
        r"|prompt\s+negativo\s*[:=]\s*(?P<v2>[^\n]+)",
        ["sin texto", "sin marcas de agua", "evita el desenfoque", "prompt negativo: borroso"],
        ["un perro sin collar"],
        only_in="es",
    ),
    # ---------------------------------------------------------------------------------------- French
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
        rf"(?:{_FR_MEDIA})\s+(?P<o>verticale?|horizontale?|carr[ée]e?){_E}"
        rf"|{_CLAUSE_START}(?P<f>(?:en\s+)?)(?P<o2>vertical|horizontal|carré){_CLAUSE_END}",
        ["une vidéo verticale", "une image carrée", "un chat, vertical"],
        ["un mur vertical", "une table carrée"],
        only_in="fr",
        keys=("carr", "horizontal", "vertical"),
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
        ["une vidéo de 49 images", "un clip de quatre-vingt-un images"],
        ["4 images"],
        needs=r"vid[ée]o|clip|animation|s[ée]quence|film",
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
        r"|(?:nombre\s+d')?[ée]tapes\s*[:=]\s*[-−]?(?P<k>\d+)",
        ["30 étapes", "avec 25 étapes d'inférence", "étapes : 40"],
        keys=("tapes",),
    ),
    _rule(
        "fr",
        "guidance",
        rf"(?:[ée]chelle\s+de\s+guidage|guidage\s+cfg)\s*(?:de|:|=|à)?\s*({_DEC})",
        ["échelle de guidage 7.5", "échelle de guidage de 7,5"],
        keys=("guidage",),
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
        "negative",
        rf"{_CLAUSE_START}(?:(?:et|ni)\s+)?(?:sans|[ée]vite[rz]?|pas\s+de)\s+(?P<v>[^,;:.!?\n]+)"
        r"|prompt\s+n[ée]gatif\s*[:=]\s*(?P<v2>[^\n]+)",
        ["sans texte", "évite le flou", "prompt négatif : flou"],
        ["un chat sans queue"],
        only_in="fr",
    ),
    # ---------------------------------------------------------------------------------------- German
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
        r"(?P<f>(?:im|in|als)\s+)?(?P<o>hochformat|querformat|hochkant)"
        rf"|(?P<o2>quadratisch(?:e[nmrs]?)?|vertikal(?:e[nmrs]?)?|horizontal(?:e[nmrs]?)?)(?P<f2>\s+format){_E}"
        rf"|(?P<o3>quadratisch(?:e[nmrs]?)?|vertikal(?:e[nmrs]?)?|horizontal(?:e[nmrs]?)?)(?=\s+(?:{_DE_MEDIA}){_E})"
        rf"|{_CLAUSE_START}(?P<o4>quadratisch|vertikal|horizontal){_CLAUSE_END}",
        ["Hochformat", "im Querformat", "quadratisch", "ein quadratisches Bild", "vertikales Video"],
        ["ein quadratischer Tisch", "vertikale Streifen"],
        keys=("hochformat", "hochkant", "horizontal", "quadratisch", "querformat", "vertikal"),
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
        needs=r"video|clip|animation|film",
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
        r"|schritte\s*[:=]\s*[-−]?(?P<k>\d+)",
        ["30 Schritte", "mit 25 Schritten", "Schritte: 40"],
        keys=("schritte",),
    ),
    _rule(
        "de",
        "guidance",
        rf"(?:guidance[\s-]*skala|cfg[\s-]*(?:skala|wert)|f[üu]hrungsskala)\s*(?:von|:|=)?\s*({_DEC})",
        ["Guidance-Skala 7,5", "CFG-Skala 7", "Guidance-Skala von 6"],
        keys=("guidance", "skala", "wert"),
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
        "negative",
        rf"{_CLAUSE_START}(?:(?:und|oder)\s+)?(?:ohne|vermeide|keine?n?)\s+(?P<v>[^,;:.!?\n]+)"
        r"|negativ(?:er)?[\s-]*prompt\s*[:=]\s*(?P<v2>[^\n]+)",
        ["ohne Text", "vermeide Unschärfe", "Negativ-Prompt: verschwommen"],
        ["eine Katze ohne Schwanz"],
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


def extract_meta(norm: Norm) -> Meta:
    """Find every meta setting in ``norm``. A setting stated with a value outside the contract's range ("2000
    frames", "seed -1") is listed in ``Meta.out_of_range`` with the allowed range, and its words are cut like any
    setting's; numbers that are content ("2000 cats", "a temple with 1000 steps") are left alone."""
    t = norm.text
    meta = Meta()
    taken: list[Span] = []
    refused: list[tuple[int, str]] = []

    def free(m: re.Match[str]) -> bool:
        return all(m.end() <= a or m.start() >= b for a, b in taken)

    def take(m: re.Match[str]) -> None:
        taken.append((m.start(), m.end()))
        meta.add(m)

    def value(m: re.Match[str]) -> tuple[float | None, int]:
        return _signed(t, m, _first_group(m))

    def refuse(m: re.Match[str], start: int, name: str, what: str = "", whole: bool = False) -> None:
        # ``start`` is where the number's minus sign is, when it stands before the match ("-3 seconds").
        a = min(m.start(), start)
        lo, hi = LIMITS[name]
        phrase = _LEAD.sub("", norm.original[slice(*norm.span(a, m.end()))].strip())
        number = "a whole number " if whole else ""
        refused.append((a, f"{phrase}: {what or name} must be {number}{_fmt(lo)}..{_fmt(hi)}"))
        taken.append((a, m.end()))
        meta.spans.append((a, m.end()))

    for m in _WIDTH_HEIGHT.finditer(t):
        if not free(m):
            continue
        w, h = (m.group(1), m.group(2)) if m.group(1) else (m.group(4), m.group(3))
        if _in_range("width", int(w)) and _in_range("height", int(h)):
            meta.width, meta.height = int(w), int(h)
            take(m)
        else:
            refuse(m, m.start(), "width", _sides(int(w), int(h)))
    for m in (m for p in _rules("size", norm, (_SIZE,)) for m in p.finditer(t)):
        if not free(m) or _LENGTH_UNIT.match(t, m.end()):
            continue  # "a 120x80 cm rug" is the size of a thing, not of the picture
        w, h = int(m.group(1)), int(m.group(2))
        if _in_range("width", w) and _in_range("height", h):
            meta.width, meta.height = w, h
            take(m)
        elif 0 < w < 64 and 0 < h < 64 and w / h <= 4 and h / w <= 4:  # "16x9" is a ratio
            meta.ratio = (float(w), float(h))
            take(m)
        else:
            refuse(m, m.start(), "width", _sides(w, h))
    for m in (m for p in _rules("ratio", norm, (_RATIO,)) for m in p.finditer(t)):
        if not free(m):
            continue
        a, b = float(m.group(1)), float(m.group(2))
        if a >= 1 and b >= 1 and 0.2 <= a / b <= 5:
            meta.ratio = (a, b)
            take(m)
    for m in (m for p in _rules("preset", norm, (_PRESET,)) for m in p.finditer(t)):
        if not free(m):
            continue
        meta.preset = f"{m.group(1)}p" if m.group(1) else "1080p"
        take(m)
    _orientation_rules(norm, meta, taken)
    if norm.lang not in ("es", "fr"):
        # In Spanish and French the same words follow the noun they describe ("un jardín vertical"): their own
        # rules above decide.
        _orientation(norm, meta, free, take)

    for m in (m for p in _rules("fps", norm, (_FPS,)) for m in p.finditer(t)):
        if not free(m):
            continue
        v, start = value(m)
        if v is not None and _in_range("fps", v):
            meta.fps = round(v)
            take(m)
        elif v is not None:
            refuse(m, start, "fps")
    for m in (m for p in _rules("frames", norm, (_FRAMES,)) for m in p.finditer(t)):
        if not free(m):
            continue
        fv, start = value(m)
        if fv is None or fv != int(fv):
            continue
        if 5 <= fv <= LIMITS["num_frames"][1]:
            meta.frames = int(fv)
            take(m)
        elif not _in_range("num_frames", fv):
            refuse(m, start, "num_frames")
        # 1 to 4 frames is not a clip: "a comic strip with 3 frames" is content.
    for pattern in _rules("seconds", norm, (_SECONDS, _SECONDS_ZH)):
        for m in pattern.finditer(t):
            if not free(m):
                continue
            v, start = _signed(t, m, 1)
            unit = m.group("unit") if "unit" in m.re.groupindex else m.group(2) if pattern is _SECONDS else "s"
            if v is None:
                continue
            if unit.startswith(("m", "分")):
                v *= 60
            if unit == "s" and not re.match(r"\d", m.group(1)):
                continue  # "five s" is not a duration; "5s" is
            # A duration longer than can be made, in words ("a 90 second video"), is still a duration: the planner
            # refuses it with the limit instead of making 5 s. A bare "s" past the limit is a decade ("1970s").
            if 0 < v <= (LIMITS["duration_s"][1] if unit == "s" else 3600):
                meta.seconds = v
                take(m)
            elif v < 0:
                refuse(m, start, "duration_s")
    for m in (m for p in _rules("seed", norm, (_SEED,)) for m in p.finditer(t)):
        v, start = value(m)
        if not free(m) or v is None:
            continue
        if v == int(v) and _in_range("seed", v):
            meta.seed = int(v)
            take(m)
        else:
            refuse(m, start, "seed", whole=v != int(v))
    for m in (m for p in _rules("guidance", norm, (_GUIDANCE,)) for m in p.finditer(t)):
        v, start = value(m)
        if not free(m) or v is None:
            continue
        if _in_range("guidance_scale", v):
            meta.guidance = v
            take(m)
        else:
            refuse(m, start, "guidance_scale")
    for m in (m for p in _rules("steps", norm, (_STEPS,)) for m in p.finditer(t)):
        v, start = value(m)
        if not free(m) or v is None:
            continue
        keyword_first = m.group(2) if _STEPS.made(m) else m.groupdict().get("k")
        if v == int(v) and _in_range("steps", v) and v >= 2:
            meta.steps = int(v)
            take(m)
        elif not (v == int(v) and _in_range("steps", v)) and (keyword_first or _STEPS_WORD.search(m.group(0))):
            # "steps 100000", "1000 inference steps"; a bare "1000 steps" may be a staircase and stays content.
            refuse(m, start, "steps", whole=v != int(v))
    for m in (m for p in _rules("outputs", norm, (_OUTPUTS,)) for m in p.finditer(t)):
        v, start = value(m)
        if not free(m) or v is None or v != int(v) or _DETERMINER_BEFORE.search(t, max(0, start - 12), start):
            continue
        if 2 <= v <= LIMITS["num_outputs"][1]:
            meta.num_outputs = int(v)
            take(m)
        elif (
            not _in_range("num_outputs", v)
            and _COUNT_NOUN.search(m.group(0))
            and not _HAS_BEFORE.search(t, max(0, start - 16), start)
        ):
            # "100 variations" asks for outputs; "50 photos" or "20 posters" may be what one picture shows.
            refuse(m, start, "num_outputs")
    for m in _OUTPUTS_KEY.finditer(t):
        v, start = _signed(t, m, 1)
        if not free(m) or v is None:
            continue
        if _in_range("num_outputs", v):
            meta.num_outputs = int(v) if v > 1 else meta.num_outputs
            take(m)
        else:
            refuse(m, start, "num_outputs")
    for m in _OUTPUTS_BARE.finditer(t):
        word = m.group(1) or m.group(2)
        v = {"a few": 3.0, "a couple": 2.0}.get(word) or _num(word)
        if not free(m) or meta.num_outputs is not None or v is None or v != int(v):
            continue
        if 2 <= v <= LIMITS["num_outputs"][1]:
            meta.num_outputs = int(v)
            take(m)
        elif v > LIMITS["num_outputs"][1]:
            refuse(m, m.start(), "num_outputs")
    _negative(norm, meta, taken)
    _negative_rules(norm, meta, taken)
    meta.out_of_range = [message for _, message in sorted(refused)]
    meta.video_hint = any(x is not None for x in (meta.seconds, meta.frames, meta.fps))
    return meta


def _negative(norm: Norm, meta: Meta, taken: list[Span]) -> None:
    """The negative prompt runs from its label to the end of the line, a new sentence, or the next meta
    phrase ("negative prompt: blurry. A castle..." keeps "A castle" in the prompt)."""
    t = norm.text
    for m in _NEGATIVE.finditer(t):
        group = 1 if m.group(1) is not None else 2
        start, end = m.start(group), m.end(group)
        for a, _b in sorted(taken):
            if start <= a < end:
                end = a
                break
        a0, b0 = norm.span(start, end)
        cut = re.search(r"[.;!?]\s+(?=[A-Z\"'])", norm.original[a0:b0])
        if cut:  # a new sentence starts: the negative prompt ended before it
            end = next(i for i in range(start, end) if norm.index[i] >= a0 + cut.start())
            a0, b0 = norm.span(start, end)
        value = norm.original[a0:b0].strip().rstrip(".,;:").strip()
        if not value:
            continue
        meta.negative_prompt = value if meta.negative_prompt is None else f"{meta.negative_prompt}, {value}"
        # Cut the label and the value only, so that whatever follows stays in the prompt.
        meta.spans.append((m.start(), end))
        taken.append((m.start(), end))


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


def _orientation_rules(norm: Norm, meta: Meta, taken: list[Span]) -> None:
    """Orientations stated in the other languages. Only the orientation word and its format word are cut; a
    medium that shows the word is a format ("un vídeo vertical", "竖版视频") stays in the prompt."""
    for pattern in _rules("orientation", norm):
        for m in pattern.finditer(norm.text):
            word, fmt = _named(m, "o"), _named(m, "f")
            if word is None:
                continue
            a, b = (min(word[0], fmt[0]), max(word[1], fmt[1])) if fmt and fmt[0] < fmt[1] else word
            if any(a < y and b > x for x, y in taken):
                continue
            meta.orientation = _orientation_of(norm.text[word[0] : word[1]])
            meta.spans.append((a, b))
            taken.append((a, b))


_NOT_ORIENTATION = LazyPattern(
    r"times square|town square|square (?:meters?|metres?|feet|foot|root|miles?|km)", keys=("square",)
)


def _orientation(
    norm: Norm, meta: Meta, free: Callable[[re.Match[str]], bool], take: Callable[[re.Match[str]], None]
) -> None:
    t = norm.text
    for m in _ORIENT.finditer(t):
        if not free(m):
            continue
        word = m.group(1).replace(" ", "").replace("-", "")
        after = t[m.end(1) : m.end(1) + 12]
        before = t[max(0, m.start(1) - 8) : m.start(1)]
        medium = re.match(rf"\s+({_ORIENT_MEDIA})\b", after)
        tail_word = m.group(0)[m.end(1) - m.start(0) :].strip() or (medium.group(1) if medium else "")
        if (word == "square" and _NOT_ORIENTATION.match(t, max(0, m.start(1) - 6))) or "times " in before:
            continue
        # "portrait" and "landscape" are also subjects ("an oil painting portrait of ..."): only an explicit
        # orientation word, a neighbouring preset, or a bare list item counts.
        standalone = re.match(r"\s*(?:[,.;:)!]|$|\d{3,4}p|\s*-)", after) is not None
        # "..., square please": a shape word that is a clause of its own but for a courtesy word.
        courteous = re.match(r"\s*(?:please|pls|plz)\b\s*(?:[,.;:)!]|$)", after) is not None
        near_preset = re.search(r"\d{3,4}\s*p", t[max(0, m.start() - 12) : m.end() + 12]) is not None
        explicit = tail_word.split(" ")[0] in ("orientation", "mode", "format", "layout", "aspect", "ratio", "crop")
        if word in ("portrait", "landscape"):
            listed = standalone and re.search(r"(?:^|[,.;:(\n-])\s*(?:in\s+|a\s+)?$", t[: m.start(1)]) is not None
            if not (explicit or near_preset or listed or tail_word in ("video", "clip")):
                continue
        elif word in ("vertical", "horizontal", "square") and not (
            explicit or standalone or courteous or near_preset or tail_word
        ):
            continue
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
        take(m)


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
    pieces: list[list] = []
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
    out = re.sub(r"\(\s*\)|\[\s*\]", "", out)
    out = re.sub(r"[ \t]+", " ", out)
    out = re.sub(r" +([,.;:!?])", r"\1", out)
    out = re.sub(r"([,;:，、；：])(?:\s*[,;:\-，、；：])+", r"\1", out)
    out = re.sub(r"([.!?。！？])(?:\s*[,;:\-，、；：])+", r"\1", out)
    out = re.sub(r"(?<!\.)\.\.(?!\.)", ".", out)
    # An article orphaned by a cut ("make a 3 second video of" -> "make a of") goes too.
    out = re.sub(r"\b(?:a|an)\s+(?=(?:of|for|at|in|with|and|to)\b|[,.;:!?]|$)", "", out, flags=re.I)
    out = re.sub(r"\s*\n\s*", "\n", out)
    return out.strip(" \t\n,;:.!?-–—|，、；：。！？")
