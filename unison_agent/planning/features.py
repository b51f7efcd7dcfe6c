"""What the learned decision model sees of a request: hashed sparse features, the same in training and use.

The model (:mod:`~unison_agent.planning.learned`) decides the task and each attachment's role; these functions
turn one request into the features it weighs:

- the text: character 1-4-grams (they work for unspaced Chinese and Japanese, and for typos), word unigrams
  and bigrams, and each word crossed with a coarse picture of what is attached (a "describe" with a photo
  attached and one with nothing attached lean to different tasks);
- the attachments' probed facts: medium, look, count, order, and the tokens of their file names;
- the rules' reading (:class:`~unison_agent.planning.reading.Reading`): the task they would choose, which
  cue families fired and how strongly, whether the request asks for an answer. In English the rules are right
  most of the time and the model learns how far to trust them; where they are blind (other languages, unseen
  phrasing) the n-grams carry the decision.

Features are names (``"w:animate"``) hashed with CRC-32 into a fixed number of buckets, so the model file
holds one weight row per bucket and no vocabulary. Training (``scripts/train_planner.py``) and inference call
the same functions: change one and the shipped weights must be retrained (``FEATURE_VERSION``).
"""

from __future__ import annotations

import itertools
import math
import re
import unicodedata
import zlib
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING

from unison_agent.planning.decide import decide, wants_answer
from unison_agent.spec import Media, Role, Task, media_for

if TYPE_CHECKING:
    from unison_agent.planning.base import Attachment
    from unison_agent.planning.reading import Reading

__all__ = [
    "FEATURE_VERSION",
    "ROLE_BUCKETS",
    "ROLE_FAMILIES",
    "TASK_BUCKETS",
    "feasible_tasks",
    "hashed",
    "role_features",
    "task_features",
]

FEATURE_VERSION = 3
TASK_BUCKETS = 1 << 18
ROLE_BUCKETS = 1 << 16
MAX_TEXT_CHARS = 2000  # n-grams of the first 2,000 characters: a request's intent is stated early

# Tasks whose roles follow from the task alone (every attachment plays the one role the task has).
_FIXED_ROLE = {
    Task.IMAGE_UNDERSTANDING: Role.CONTEXT,
    Task.VIDEO_UNDERSTANDING: Role.CONTEXT,
    Task.IMAGE_REFERENCE: Role.REFERENCE,
    Task.VIDEO_REFERENCE: Role.REFERENCE,
}
# The role model's families: tasks where attachments play different parts, decided per attachment.
ROLE_FAMILIES: dict[Task, str] = {
    Task.IMAGE_EDITING: "edit",
    Task.VIDEO_EDITING: "edit",
    Task.IMAGE_TO_VIDEO: "i2v",
    Task.IMAGE_CONTROL: "control",
    Task.VIDEO_CONTROL: "control",
}

_WORD = re.compile(r"[^\W\d_]+|\d+", re.UNICODE)
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uf900-\ufaff]")
_DIGITS = re.compile(r"\d+")
_SPACE = re.compile(r"\s+")
_NAME_TOKEN = re.compile(r"[^\W\d_]{2,}", re.UNICODE)
# Words that negate what follows ("it doesn't need to start from this picture", "not a video", "sin texto"),
# and the Chinese ones, which stand before the verb they negate (不用生成, 别画, 不要视频).
_NEGATORS = frozenset(
    "not no dont doesnt didnt never without isnt nor don doesn didn isn wasn aren won shouldn "
    "sin nunca sans pas jamais nicht kein keine keinen ohne nie".split()
)
_NEGATED_CJK = re.compile(r"(?:不用|不要|不需要|别|不|没有|無|无需|毋须)([\u3400-\u9fff]{1,2})")


def fixed_role(task: Task) -> Role | None:
    """The role every attachment plays in ``task`` when the task alone decides it, else ``None``."""
    return _FIXED_ROLE.get(task)


def _fold(text: str) -> str:
    """Lower case, compatibility forms (full-width digits), digits as ``0`` (a 3 and a 5 mean the same here)."""
    t = unicodedata.normalize("NFKC", text[:MAX_TEXT_CHARS]).lower()
    return _SPACE.sub(" ", _DIGITS.sub("0", t)).strip()


def _words(folded: str) -> list[str]:
    """Words of Latin-script text; runs of CJK characters are split into single characters (and bigrams
    come from the character n-grams)."""
    out: list[str] = []
    for w in _WORD.findall(folded):
        if _CJK.search(w):
            out.extend(ch for ch in w)
        else:
            out.append(w)
    return out


def _without_names(text: str, atts: list[Attachment]) -> str:
    """The text (lower case) with each attachment's file name replaced by a marker, so that names do not
    become n-grams (``IMG_2231.jpg`` says nothing) while "the file named here" still does."""
    text = text.lower()
    for a in atts:
        for name in (a.name, a.stem) if len(a.stem) >= 3 else (a.name,):
            text = text.replace(name, " filemark ")
    return text


def _found(key: str, text: str) -> Iterator[int]:
    """Start of every occurrence of ``key`` in ``text`` (plain search: no pattern compiled per file name)."""
    i = text.find(key)
    while i >= 0:
        yield i
        i = text.find(key, i + len(key))


def _attachment_shape(atts: list[Attachment]) -> str:
    """A coarse picture of the attachments, crossed with the words: none / img / imgs / vid / mixed, with
    ``+ctl`` when a control map or mask is among them."""
    if not atts:
        return "none"
    images = sum(a.media is Media.IMAGE for a in atts)
    videos = len(atts) - images
    shape = "mixed" if images and videos else ("vid" if videos else ("img" if images == 1 else "imgs"))
    if any(a.look != "photo" for a in atts):
        shape += "+ctl"
    return shape


def _name_tokens(att: Attachment) -> list[str]:
    return [t for t in _NAME_TOKEN.findall(att.stem.replace("_", " ").replace("-", " ")) if t not in ("img", "vid")]


def task_features(text: str, atts: list[Attachment], req: Reading | None) -> list[tuple[str, float]]:
    """Named features of a request for the task model; ``req`` is the rules' reading (``None`` leaves the
    rule features out, for tests of the text part alone)."""
    folded = _fold(_without_names(text, atts))
    grams: list[str] = []
    padded = f" {folded} "
    for n in (1, 2, 3, 4):
        grams.extend("c:" + padded[i : i + n] for i in range(len(padded) - n + 1))
    words = _words(folded)
    grams.extend("w:" + w for w in words)
    grams.extend(f"b:{a} {b}" for a, b in itertools.pairwise(words))
    shape = _attachment_shape(atts)
    grams.extend(f"x:{shape}:{w}" for w in set(words))
    grams.extend(f"x:{shape}:{a}{b}" for a, b in itertools.pairwise(words) if _CJK.match(a) and _CJK.match(b))
    grams.extend(_negated(folded, words))
    feats = _scaled(grams)
    feats.append((f"shape:{shape}", 1.0))
    feats.append((f"n_att:{min(len(atts), 4)}", 1.0))
    for a in atts:
        feats.append((f"att:{a.media.value}:{a.look}", 1.0))
        feats.extend((f"name:{t}", 1.0) for t in _name_tokens(a))
        if a.name in text.lower() or (len(a.stem) >= 3 and a.stem in text.lower()):
            feats.append(("named_in_text", 1.0))
    if req is not None:
        feats.extend(_rule_features(req))
    return feats


def _negated(folded: str, words: list[str]) -> list[str]:
    """``neg:<word>`` for the (up to) three words after a negator, and ``neg:<chars>`` after a Chinese one."""
    out: list[str] = []
    for i, w in enumerate(words):
        if w in _NEGATORS:
            out.extend("neg:" + x for x in [x for x in words[i + 1 : i + 5] if x != "t"][:3])
    out.extend("neg:" + m.group(1) for m in _NEGATED_CJK.finditer(folded))
    return out


def _rule_features(req: Reading) -> list[tuple[str, float]]:
    out: list[tuple[str, float]] = []
    try:
        rule_task = decide(req).value
    except Exception:
        rule_task = "none"
    out.append((f"rule:{rule_task}", 1.0))
    out.append((f"rule:{rule_task}:{_attachment_shape(req.atts)}", 1.0))
    out.append((f"answer:{wants_answer(req)}", 1.0))
    for family, value in req.scores.items():
        if value > 0:
            out.append((f"cue:{family}", 1.0))
            out.append((f"cue:{family}:{min(int(value), 6)}", 1.0))
    for medium, kind in req.refs:
        out.append((f"ref:{medium}:{kind}", 1.0))
    return out


def role_features(
    text: str, atts: list[Attachment], index: int, task: Task, rule_role: Role | None
) -> list[tuple[str, float]]:
    """Named features of attachment ``index`` for the role model, when ``task`` is the chosen task.

    Every feature is prefixed with the task's role family, so that one model holds separate weights for
    editing, first/last frames and control."""
    fam = ROLE_FAMILIES[task]
    att = atts[index]
    n = len(atts)
    folded = _fold(text)
    words = set(_words(folded))
    position = "only" if n == 1 else ("first" if index == 0 else ("last" if index == n - 1 else "middle"))
    names: list[str] = [
        f"look:{att.media.value}:{att.look}",
        f"pos:{position}",
        f"pos:{position}:{att.look}",
        f"idx:{index}",
        f"n:{min(n, 4)}",
        f"task:{task.value}",
        f"rule:{rule_role.value if rule_role else 'none'}",
        f"rule:{rule_role.value if rule_role else 'none'}:{att.look}",
    ]
    names.extend(f"name:{t}" for t in _name_tokens(att))
    others = [a for j, a in enumerate(atts) if j != index]
    names.extend(f"other:{a.media.value}:{a.look}" for a in others)
    # Words crossed with this attachment's place and look: "second ... mask", "ends on" with the last file.
    names.extend(f"wpos:{position}:{w}" for w in words)
    names.extend(f"wlook:{att.look}:{w}" for w in words)
    # Words near where the text names this file: "p2.jpg is where it ends".
    low = unicodedata.normalize("NFKC", text[:MAX_TEXT_CHARS]).lower()
    rule = rule_role.value if rule_role else "none"
    names.append(f"rule:{rule}:{'cjk' if _CJK.search(low) else 'latin'}")
    for key in {att.name, att.stem} if len(att.stem) >= 3 else {att.name}:
        for start in _found(key, low):
            end = start + len(key)
            names.append("named")
            names.append(f"rule:{rule}:named")  # the rules read the words next to a file's name well
            before = _words(_fold(low[max(0, start - 40) : start]))[-5:]
            after = _words(_fold(low[end : end + 40]))[:5]
            names.extend(f"before:{w}" for w in before)
            names.extend(f"after:{w}" for w in after)
    return [(f"{fam}|{name}", 1.0) for name in names]


def _scaled(names: Iterable[str]) -> list[tuple[str, float]]:
    """Each distinct n-gram once, weighted 1/sqrt(count) so that a long message does not outvote a short
    one by its length alone."""
    distinct = set(names)
    if not distinct:
        return []
    w = 1.0 / math.sqrt(len(distinct))
    return [(g, w) for g in distinct]


def hashed(feats: list[tuple[str, float]], buckets: int) -> dict[int, float]:
    """``{bucket: value}`` of named features; colliding features add up."""
    out: dict[int, float] = {}
    crc = _CRC
    for name, value in feats:
        c = crc.get(name)
        if c is None:
            if len(crc) >= _CRC_KEPT:
                crc.clear()
            c = crc[name] = zlib.crc32(name.encode("utf-8"))
        b = c % buckets
        out[b] = out.get(b, 0.0) + value
    return out


# CRC-32 of feature names seen lately: most n-grams of a request were in earlier ones (a batch plans faster).
_CRC: dict[str, int] = {}
_CRC_KEPT = 1 << 17


def feasible_tasks(atts: list[Attachment]) -> list[Task]:
    """Tasks in which every attachment can play some role of a medium it has (the contract gives every
    attachment a role). With nothing attached every task is possible (a missing file is listed as missing)."""
    out = []
    for task in Task:
        if not atts:
            out.append(task)
        elif task.roles and all(any(a.media in media_for(task, r) for r in task.roles) for a in atts):
            if task is Task.VIDEO_UNDERSTANDING and not any(a.media is Media.VIDEO for a in atts):
                continue  # pictures may sit beside a clip asked about, but some clip must be there
            out.append(task)
    return out
