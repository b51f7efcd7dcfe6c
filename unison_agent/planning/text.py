"""Text normalisation for the embedded planner: lower case, typo repair on the planner's own vocabulary,
number words, and a map back to the original characters so that spans found on the normalised text can be
cut out of the user's own words.

Only the planner's cue vocabulary is repaired ("genrate a vdeo" -> "generate a video"); content words are
never changed, and the prompt handed to a model is always cut from the original text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from unison_agent.planning.patterns import LazyPattern

__all__ = ["NUMBER_RE", "NUMBER_RES", "NUMBER_WORDS", "Norm", "has_char_from", "language", "normalise", "parse_number"]

_UNITS = {
    "zero": 0,
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
    "eleven": 11,
    "twelve": 12,
    "thirteen": 13,
    "fourteen": 14,
    "fifteen": 15,
    "sixteen": 16,
    "seventeen": 17,
    "eighteen": 18,
    "nineteen": 19,
    "a couple of": 2,
    "a pair of": 2,
    "a single": 1,
    "a": 1,
    "an": 1,
    "single": 1,
    "couple of": 2,
    "a dozen": 12,
    "dozen": 12,
}
_TENS = {"twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80, "ninety": 90}
NUMBER_WORDS = {**_UNITS, **_TENS}
_SMALL = "|".join(sorted((k for k in _UNITS if " " not in k and k not in ("a", "an", "single")), key=len, reverse=True))
_TENS_RE = "|".join(_TENS)
# A number as digits ("2.5", "1,000"), or as words ("forty-two", "twenty five", "one hundred", "two and a half").
NUMBER_RE = (
    rf"(?:\d+(?:[.,]\d+)?|(?:(?:{_SMALL}|{_TENS_RE})(?:\s+hundred)?(?:[\s-]+(?:and\s+)?(?:{_TENS_RE}))?"
    rf"(?:[\s-]+(?:{_SMALL}))?(?:\s+and\s+a\s+half)?)|a\s+half|half\s+a|a\s+couple\s+of|a\s+pair\s+of|a\s+dozen)"
)


# ------------------------------------------------------------------------------------------------ other languages
# Number words of the other corpus languages, up to 99 and a hundred. Articles ("un", "una", "une", "ein", "eine")
# are left out of the patterns, as "a"/"an" are in English: "una imagen" is one picture, not a count.
_CJK_DIGITS = {
    "零": 0,
    "〇": 0,
    "一": 1,
    "二": 2,
    "两": 2,
    "兩": 2,
    "三": 3,
    "四": 4,
    "五": 5,
    "六": 6,
    "七": 7,
    "八": 8,
    "九": 9,
}
_CJK_POWERS = {"十": 10, "百": 100, "千": 1000}
_ES_WORDS = {
    **dict.fromkeys(("cero",), 0),
    **dict.fromkeys(("uno", "un", "una", "ún"), 1),
    **{
        w: i
        for i, w in enumerate(
            "dos tres cuatro cinco seis siete ocho nueve diez once doce trece catorce quince".split(), 2
        )
    },
    **dict.fromkeys(("dieciséis", "dieciseis"), 16),
    "diecisiete": 17,
    "dieciocho": 18,
    "diecinueve": 19,
    "veinte": 20,
    **{
        f"veinti{u}": 20 + v
        for u, v in (
            ("uno", 1),
            ("ún", 1),
            ("una", 1),
            ("dós", 2),
            ("dos", 2),
            ("trés", 3),
            ("tres", 3),
            ("cuatro", 4),
            ("cinco", 5),
            ("séis", 6),
            ("seis", 6),
            ("siete", 7),
            ("ocho", 8),
            ("nueve", 9),
        )
    },
    **{w: 10 * i for i, w in enumerate("treinta cuarenta cincuenta sesenta setenta ochenta noventa".split(), 3)},
    "cien": 100,
    "ciento": 100,
    "medio": 0.5,
    "media": 0.5,
}
_FR_WORDS = {
    **dict.fromkeys(("zéro", "zero"), 0),
    **dict.fromkeys(("un", "une"), 1),
    **{
        w: i
        for i, w in enumerate(
            "deux trois quatre cinq six sept huit neuf dix onze douze treize quatorze quinze seize".split(), 2
        )
    },
    **{w: 10 * i for i, w in enumerate("vingt trente quarante cinquante soixante".split(), 2)},
    "vingts": 20,
    "cent": 100,
    "demi": 0.5,
    "demie": 0.5,
}
_DE_UNITS = {
    **dict.fromkeys(("ein", "eins", "eine"), 1),
    "zwei": 2,
    "drei": 3,
    "vier": 4,
    **dict.fromkeys(("fünf", "fuenf", "funf"), 5),
    "sechs": 6,
    "sieben": 7,
    "acht": 8,
    "neun": 9,
}
_DE_TENS = {
    "zwanzig": 20,
    **dict.fromkeys(("dreißig", "dreissig"), 30),
    "vierzig": 40,
    **dict.fromkeys(("fünfzig", "fuenfzig", "funfzig"), 50),
    "sechzig": 60,
    "siebzig": 70,
    "achtzig": 80,
    "neunzig": 90,
}
_DE_WORDS = {
    "null": 0,
    **_DE_UNITS,
    "zehn": 10,
    "elf": 11,
    **dict.fromkeys(("zwölf", "zwoelf"), 12),
    "dreizehn": 13,
    "vierzehn": 14,
    **dict.fromkeys(("fünfzehn", "fuenfzehn"), 15),
    "sechzehn": 16,
    "siebzehn": 17,
    "achtzehn": 18,
    "neunzehn": 19,
    **_DE_TENS,
    **dict.fromkeys(("hundert", "einhundert"), 100),
    **dict.fromkeys(("anderthalb", "eineinhalb"), 1.5),
}
_DE_COMPOUND = LazyPattern(rf"({'|'.join(_DE_UNITS)})und({'|'.join(_DE_TENS)})")


def _alt(words: object) -> str:
    # Longest first, so that "dieciséis" is not read as "diez" and a remainder.
    return "|".join(sorted({re.escape(str(w)) for w in words}, key=len, reverse=True))  # type: ignore[attr-defined]


_ARTICLES = {"un", "una", "ún", "une", "ein", "eine", "eins", "medio", "media", "demi", "demie"}
_DIGITS = r"\d+(?:[.,]\d+)?"
_NOT_LETTER = r"(?![^\W\d_])"
_ES_UNIT_RE = _alt(w for w, v in _ES_WORDS.items() if 1 <= v <= 9 and w not in ("ún",))
_FR_UNIT_RE = _alt(w for w, v in _FR_WORDS.items() if 1 <= v <= 16 and w not in ("une",))
# Numbers of the other languages, for the rules written in them ("cinco segundos", "vingt-quatre images par
# seconde", "zweiundvierzig", "二十五秒"); English keeps NUMBER_RE.
NUMBER_RES = {
    "en": NUMBER_RE,
    "es": rf"(?:{_DIGITS}|(?:(?:{_alt(w for w, v in _ES_WORDS.items() if v >= 30 and v % 10 == 0 and v < 100)})"
    rf"(?:\s+y\s+(?:{_ES_UNIT_RE}))?|{_alt(w for w in _ES_WORDS if w not in _ARTICLES)}){_NOT_LETTER})",
    "fr": rf"(?:{_DIGITS}|(?:(?:quatre[\s-]vingts?|vingt|trente|quarante|cinquante|soixante)"
    rf"(?:(?:[\s-]et[\s-]|[\s-])(?:dix[\s-](?:sept|huit|neuf)|{_FR_UNIT_RE}|dix|onze))?|dix[\s-](?:sept|huit|neuf)"
    rf"|{_alt(w for w in _FR_WORDS if w not in _ARTICLES)}){_NOT_LETTER})",
    "de": rf"(?:{_DIGITS}|(?:(?:{_alt(_DE_UNITS)})und(?:{_alt(_DE_TENS)})"
    rf"|{_alt(w for w in _DE_WORDS if w not in _ARTICLES)}){_NOT_LETTER})",
    # Chinese and Japanese write numbers with the same characters ("二十四", "两", "十五", "半"). Their full-width
    # comma is folded to ",", so a comma joins digits only as a thousands separator: "种子42，16:9" is 42.
    "zh": rf"(?:\d+(?:\.\d+|,\d{{3}}(?!\d))?|[{''.join(_CJK_DIGITS)}{''.join(_CJK_POWERS)}]+半?|半)",
}
NUMBER_RES["ja"] = NUMBER_RES["zh"]


def _parse_cjk(t: str) -> float | None:
    if not t or any(c not in _CJK_DIGITS and c not in _CJK_POWERS and c != "半" for c in t):
        return None
    half = 0.5 if t.endswith("半") else 0.0
    t = t.removesuffix("半")
    if not t:
        return half
    if all(c in _CJK_DIGITS for c in t) and len(t) > 1:  # "二〇二五": digit by digit
        return float("".join(str(_CJK_DIGITS[c]) for c in t)) + half
    total, current = 0, 0
    for c in t:
        if c in _CJK_DIGITS:
            current = _CJK_DIGITS[c]
        else:  # "十五" is 15, "二十" 20, "一百" 100
            total += max(current, 1) * _CJK_POWERS[c]
            current = 0
    return float(total + current) + half


def _parse_words(words: list[str]) -> float | None:
    """The value of Spanish, French or German number words ("treinta y dos", "quatre vingt dix", "zweiundvierzig")."""
    total = 0.0
    for i, w in enumerate(words):
        if w in ("y", "et", "und"):
            continue
        compound = _DE_COMPOUND.fullmatch(w)
        if compound:
            total += _DE_UNITS[compound.group(1)] + _DE_TENS[compound.group(2)]
        elif w in ("cent", "ciento", "cien", "hundert") and total:
            total *= 100
        elif w in ("vingt", "vingts") and i > 0 and words[i - 1] == "quatre":
            total = total - 4 + 80  # "quatre-vingts" is 4 x 20
        elif w in _ES_WORDS or w in _FR_WORDS or w in _DE_WORDS:
            total += _ES_WORDS.get(w, _FR_WORDS.get(w, _DE_WORDS.get(w, 0)))
        else:
            return None
    return total if words else None


def parse_number(text: str) -> float | None:
    """The value of a number written as digits, or as words of one of the planner's languages (English,
    Spanish, French, German, Chinese/Japanese numerals); ``None`` when it is not a number."""
    t = text.strip().lower().replace("-", " ")
    if not t:
        return None
    if re.fullmatch(r"\d+(?:\.\d+)?", t):
        return float(t)
    cjk = _parse_cjk(t)
    if cjk is not None:
        return cjk
    if re.fullmatch(r"\d+,\d+", t):  # "2,5" (decimal comma) vs "1,000": three digits after the comma is thousands
        whole, frac = t.split(",")
        return float(whole + frac) if len(frac) == 3 else float(f"{whole}.{frac}")
    if t in ("a half", "half a", "half"):
        return 0.5
    half = 0.0
    if t.endswith(" and a half"):
        t, half = t[: -len(" and a half")], 0.5
    if t in NUMBER_WORDS:
        return NUMBER_WORDS[t] + half
    total, current = 0, 0
    for word in t.split():
        if word == "and":
            continue
        if word in _UNITS:
            current += _UNITS[word]
        elif word in _TENS:
            current += _TENS[word]
        elif word == "hundred":
            current = max(current, 1) * 100
        elif word == "thousand":
            total += max(current, 1) * 1000
            current = 0
        else:
            return _parse_words(text.strip().lower().replace("-", " ").split())
    return float(total + current) + half


# ------------------------------------------------------------------------------------------------ typo repair
# The words the planner's rules look for. A word of the request that is not one of these (and not a common
# English word it could be confused with) but is one edit away from exactly one of them is read as it.
VOCABULARY = frozenset(
    """
    generate create make produce render draw paint design animate animation animated video videos clip clips
    image images picture pictures photo photos photograph seconds second frames frame fps width height
    aspect ratio square vertical horizontal portrait landscape widescreen negative prompt guidance steps seed
    variations versions options outputs change replace remove erase delete insert colorize colourize sharpen
    blur stabilize stabilise extend outpaint inpaint reframe background foreground transform convert swap
    edit retouch restore brighten darken follow following control depth canny edges scribble sketch skeleton
    pose optical motion layout grayscale greyscale reference style identity character first last start
    ending opening closing explain describe summarize summarise translate transcribe caption identify
    compare analyze analyse question answer please attached attachment upload uploaded selfie footage
    recording mask masked interpolate keyframes keyframe between transition
    """.split()
)


def _deletes(word: str) -> set[str]:
    return {word[:i] + word[i + 1 :] for i in range(len(word))}


# One edit changes a length by at most one: a longer word is no typo of a cue word. Checking that first keeps
# repair linear in the length of a word (its deletions alone are quadratic: 40,000 letters took 1.5 GB).
_LONGEST = max(len(w) for w in VOCABULARY)

_DELETE_INDEX: dict[str, set[str]] = {}
for _w in VOCABULARY:
    for _d in _deletes(_w) | {_w}:
        _DELETE_INDEX.setdefault(_d, set()).add(_w)


def _distance_le_1(a: str, b: str) -> bool:
    """Damerau-Levenshtein distance <= 1 (one insertion, deletion, substitution or adjacent swap)."""
    if a == b:
        return True
    la, lb = len(a), len(b)
    if abs(la - lb) > 1:
        return False
    if la == lb:
        diff = [i for i in range(la) if a[i] != b[i]]
        if len(diff) == 1:
            return True
        return len(diff) == 2 and diff[1] == diff[0] + 1 and a[diff[0]] == b[diff[1]] and a[diff[1]] == b[diff[0]]
    if la > lb:
        a, b = b, a
    return any(b[:i] + b[i + 1 :] == a for i in range(len(b)))


# Real words one edit away from a cue word (a flame is not a frame, a product is not "produce", French
# "secondes" is not "seconds"): never repaired, even in a mostly English request. Generated from the word
# frequencies of English and the other corpus languages by scripts/build_typo_guard.py.
_GUARD = frozenset(
    line.strip()
    for line in (Path(__file__).parent / "data" / "typo_guard.txt").read_text(encoding="utf-8").splitlines()
    if line.strip() and not line.startswith("#")
)


def repair(word: str) -> str:
    """``word`` itself, or the one cue word it is a one-edit typo of."""
    # The length test comes before the cache, so that long words are neither searched nor kept as cache keys.
    if not 4 <= len(word) <= _LONGEST + 1 or word in VOCABULARY or word in _GUARD or not word.isalpha():
        return word
    return _repair(word)


@lru_cache(maxsize=8192)
def _repair(word: str) -> str:
    found: set[str] = set()
    for key in _deletes(word) | {word}:
        found |= _DELETE_INDEX.get(key, set())
    found = {w for w in found if _distance_le_1(word, w) and w[0] == word[0]}
    return found.pop() if len(found) == 1 else word


# ------------------------------------------------------------------------------------------------ language
# Short function words that each language uses in almost every sentence. A handful of them tells Spanish, French
# and German from English well enough to choose rules; they are no lexicon of what a request asks.
_FUNCTION_WORDS = {
    "en": frozenset("the a an and of with in on to is for at please make me this that it my from into".split()),
    "es": frozenset(
        "el la los las un una de del y en con que por para es al su sin se lo muy dame crea genera haz "
        "quiero segundos imagen imágenes sobre como pero más mi mis este esta unos unas porfa".split()
    ),
    "fr": frozenset(
        "le la les un une des du de et en avec que pour dans sur est au aux sans ce cette qui je moi fais "
        "crée génère secondes ma mon mes vous pas par stp svp".split()
    ),
    "de": frozenset(
        "der die das ein eine einen einem und mit im in von zu auf ist nicht ohne bitte erstelle mach "
        "den dem des einer sekunden bild bilder ich für eines auch aus als wie mein meine meinem meinen vom zum "
        "zur".split()
    ),
}
_KANA = LazyPattern(r"[\u3040-\u30ff]")
_HAN = LazyPattern(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_LATIN_WORD = re.compile(r"[^\W\d_]+")


def has_char_from(text: str, first: str) -> bool:
    """Whether ``text`` holds a character at or after ``first`` in Unicode order.

    Asked before a pattern of CJK ranges is tried: a class of those ranges takes milliseconds to compile, and
    text with no character that far up the table (most requests) can never match it."""
    return bool(text) and max(text) >= first


def language(text: str) -> str:
    """The language ``text`` is mostly written in: "ja" (any kana), "zh" (Chinese characters), else "es", "fr"
    or "de" when more of its distinct function words belong to that language than to English, else "en"."""
    if has_char_from(text, "\u3040") and _KANA.search(text):
        return "ja"
    if has_char_from(text, "\u3400") and len(_HAN.findall(text)) >= 2:
        return "zh"
    used = set(_LATIN_WORD.findall(text.lower()))
    counts = {lang: len(used & words) for lang, words in _FUNCTION_WORDS.items()}
    best = max(("es", "fr", "de"), key=lambda lang: counts[lang])
    return best if counts[best] >= 2 and counts[best] > counts["en"] else "en"


@dataclass(frozen=True)
class Norm:
    """Normalised text plus, for each of its characters, the index of the original character it came from, and
    the language the text is mostly written in (see :func:`language`)."""

    original: str
    text: str
    index: tuple[int, ...]
    lang: str = "en"

    def span(self, start: int, end: int) -> tuple[int, int]:
        """The original span of normalised span ``[start, end)``."""
        if start >= end:
            pos = self.index[start] if start < len(self.index) else len(self.original)
            return pos, pos
        return self.index[start], self.index[end - 1] + 1


_TOKEN = re.compile(r"[^\W\d_]+|.", re.S)
# Characters we fold so that rules see one spelling: curly quotes, dashes, full-width punctuation.
_FOLD = str.maketrans(
    {
        "’": "'",
        "‘": "'",
        "“": '"',
        "”": '"',
        "–": "-",
        "—": "-",
        "：": ":",
        # Chinese and Japanese commas and full stops never join two numbers ("シード42、5秒" is seed 42 and 5 s,
        # "。12fps" starts a setting, not a decimal): folded with a space after them.
        "，": ", ",
        "（": "(",
        "）": ")",
        "×": "x",
        "？": "?",
        "！": "!",
        "。": ". ",
        "、": ", ",
        "；": ";",
        "＊": "*",
        "ｘ": "x",
        **{chr(0xFF10 + i): str(i) for i in range(10)},  # full-width digits
    }
)


def normalise(text: str) -> Norm:
    """Lower-case ``text``, fold punctuation variants and repair typos of cue words, keeping an index map.

    Typos are repaired only in English text: in a sentence of another language a word one edit from an English
    cue word is that language's own word ("secondes", "imagen", "edita"), not a typo."""
    out: list[str] = []
    index: list[int] = []
    lang = language(text)
    for m in _TOKEN.finditer(text):
        tok, start, end = m.group(0), m.start(), m.end()
        low = tok.translate(_FOLD).lower()
        if low.isalpha() and low.isascii() and lang == "en":
            low = repair(low)
        for i, ch in enumerate(low):
            out.append(ch)
            index.append(start + min(i, end - start - 1))
    return Norm(text, "".join(out), tuple(index), lang)
