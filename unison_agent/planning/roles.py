"""The rules' roles: which part each attachment plays in a task, and which inputs the task still needs.

:func:`assign_roles` gives every attachment its role for a task and lists the roles no attachment plays
(``missing``). By task family: understanding takes every file as context; references take every file as a
reference; control takes the file that looks most like a control map of the output's medium; a first/last-frame
video orders its pictures by their names, then by what the text says beside each name; an edit finds its mask
(by what the text says by ordinal, by the file's look or name, by "mask" written beside its name) and then
its source (what the text calls the photo or the original, not the reference or style). Only last does the
attachments' order decide, and then a doubt says so.

``fixed`` roles (from the learned model or a model-backed planner) override the rules' own; :func:`rule_roles`
is the rules' answer alone, a feature of the learned role model.
"""

from __future__ import annotations

import os
import re

from unison_agent.planning.base import Attachment, PlanningError
from unison_agent.planning.patterns import LazyPattern
from unison_agent.planning.reading import Reading, rule_words
from unison_agent.spec import ControlType, Input, Media, Role, Task, media_for

__all__ = ["CONTROL_LOOKS", "assign_roles", "no_part", "rule_roles"]

# The looks of a file that is a control map already, and the control signal each one is.
CONTROL_LOOKS = {
    "pose": ControlType.POSE,
    "depth": ControlType.DEPTH,
    "edge": ControlType.CANNY,
    "scribble": ControlType.SCRIBBLE,
}
_ORDINALS = {"first": 0, "1st": 0, "second": 1, "2nd": 1, "third": 2, "3rd": 2, "fourth": 3, "4th": 3}
_ORDINAL_ROLE = LazyPattern(
    r"\b(?P<ord>first|1st|second|2nd|third|3rd|fourth|4th|last)\s+(?:file|image|one|attachment|pic|photo|"
    r"picture|upload|video|clip)?\s*(?:is|=|:|-|will be|should be|are)\s+(?:the\s+|my\s+|a\s+|an\s+)?"
    r"(?P<what>mask|source|photo|picture|image|original|reference|ref|style|face|video|clip|control|"
    r"first frame|last frame|start|end)\b"
)
_FIRST_WORDS = rule_words("first_words")
_LAST_WORDS = rule_words("last_words")
_REF_WORDS = rule_words("ref_words")
_REFERENCE_PICTURE = LazyPattern(
    r"\b(?:reference|ref) (?:photo|image|picture|pic|shot)\b|\bthe one in (?:the|my|this) (?:photo|picture|image|pic)\b"
    r"|\b(?:photo|picture|image|pic) (?:of (?:the|my) [\w-]+ )?i (?:attached|sent|uploaded)\b|\bfrom (?:my|the) "
    r"(?:reference|ref)\b"
)
_ORDINAL_PICTURE = LazyPattern(r"\b(?:(?P<n>second|2nd|third|3rd|other) (?:photo|image|picture|pic|one|file|shot))\b")
_NAME_FIRST = LazyPattern(r"(?:^|[_\-. \d])(?:first|start|begin|opening|initial|from)|(?:^|[_\-. ])(?:a|1)$")
_NAME_LAST = LazyPattern(r"(?:^|[_\-. \d])(?:last|end|final|closing|finish|to)|(?:^|[_\-. ])(?:b|2)$")
_ONE_EACH = frozenset({Role.SOURCE, Role.MASK, Role.FIRST_FRAME, Role.LAST_FRAME, Role.CONTROL})
_ROLE_ORDER = (Role.SOURCE, Role.MASK, Role.CONTROL, Role.FIRST_FRAME, Role.LAST_FRAME, Role.REFERENCE, Role.CONTEXT)
_MEDIUM_WORD = {Media.IMAGE: "picture", Media.VIDEO: "video"}
# The same request for the other medium, offered when a file's medium is the only thing wrong.
_OTHER_MEDIUM_ASK = {
    Task.IMAGE_EDITING: "a video edit",
    Task.VIDEO_EDITING: "a picture edit",
    Task.IMAGE_CONTROL: "a video that follows it",
    Task.VIDEO_CONTROL: "a picture that follows it",
    Task.IMAGE_UNDERSTANDING: "a question about the video",
}


def rule_roles(reading: Reading, task: Task) -> list[Role | None]:
    """The role the rules give each attachment in ``task`` (``None``: left out, or the task cannot
    take it); a feature of the learned role model."""
    try:
        inputs, _ = assign_roles(reading, task)
    except PlanningError:
        return [None] * len(reading.atts)
    by_path = {i.path: i.role for i in inputs}
    return [by_path.get(a.path) for a in reading.atts]


def assign_roles(reading: Reading, task: Task, fixed: dict[int, Role] | None = None) -> tuple[list[Input], list[Role]]:
    """The TaskSpec ``inputs`` of ``task`` (every attachment that plays a part, with its role) and the roles
    still ``missing``; ``fixed`` (``{index: role}``) overrides the rules' roles (see ``_with_fixed``).

    Raises :class:`PlanningError` when an attachment's medium fits no role it could play, or ``fixed`` names
    an attachment that does not exist."""
    atts = reading.atts
    roles: list[Role | None] = [None] * len(atts)
    missing: list[Role] = []
    if task.is_understanding:
        roles = [Role.CONTEXT] * len(atts)
    elif task in (Task.IMAGE_REFERENCE, Task.VIDEO_REFERENCE):
        roles = [Role.REFERENCE] * len(atts)
        # "my dog and my parrot (second photo)" with one photo attached: a reference did not come.
        named = [
            {"second": 2, "2nd": 2, "third": 3, "3rd": 3, "other": 2}[m.group("n")]
            for m in _ORDINAL_PICTURE.finditer(reading.cue)
        ]
        if atts and named and max(named) > len(atts):
            missing.append(Role.REFERENCE)
    elif task in (Task.IMAGE_CONTROL, Task.VIDEO_CONTROL):
        roles = _control_roles(reading, task)
    elif task is Task.IMAGE_TO_VIDEO:
        roles, missing = _frame_roles(reading)
    elif task in (Task.IMAGE_EDITING, Task.VIDEO_EDITING):
        roles, missing = _edit_roles(reading, task)
    if fixed:
        roles, missing = _with_fixed(task, roles, missing, fixed, [a.media for a in atts])
    for i, role in enumerate(roles):
        if role is not None and atts[i].media not in media_for(task, role):
            raise PlanningError(no_part(task, atts, roles, i))
    present = {role for role in roles if role is not None}
    for role in task.required_roles:
        if role not in present and role not in missing:
            missing.append(role)
    inputs = [
        Input(path=a.path, media=a.media, role=role) for a, role in zip(atts, roles, strict=True) if role is not None
    ]
    return inputs, missing


def _control_roles(reading: Reading, task: Task) -> list[Role | None]:
    want = Media.VIDEO if task is Task.VIDEO_CONTROL else Media.IMAGE
    order = sorted(
        range(len(reading.atts)),
        key=lambda i: (reading.atts[i].media is not want, reading.atts[i].look not in CONTROL_LOOKS, i),
    )
    roles: list[Role | None] = [Role.REFERENCE] * len(reading.atts)
    if order:
        roles[order[0]] = Role.CONTROL
    return roles


def _frame_roles(reading: Reading) -> tuple[list[Role | None], list[Role]]:
    atts, n = reading.atts, len(reading.atts)
    votes = []
    for i, a in enumerate(atts):
        # A file named for its place ("start.png", "frame_last.jpg") says it best; then the text.
        v = (1.0 if _NAME_FIRST.search(a.stem) else 0) - (1.0 if _NAME_LAST.search(a.stem) else 0)
        votes.append(v or _frame_vote(reading, i))
    if n >= 2 and votes[0] == votes[1]:
        # "from a.jpg to b.jpg"
        for i, j in ((0, 1), (1, 0)):
            if atts[i].name not in reading.cue or atts[j].name not in reading.cue:
                continue  # the pattern below holds both names: without them it cannot match (and is not compiled)
            names = re.escape(atts[i].name), re.escape(atts[j].name)
            if re.search(rf"\bfrom\s+{names[0]}\s+(?:to|into|until)\s+{names[1]}", reading.cue):
                votes[i], votes[j] = 1.0, -1.0
    t = reading.cue
    says_last = (
        re.search(
            r"\bend(?:s|ing)? (?:the video |it )?(?:on|with|at)\b|\bend on\b|\bas the (?:last|end|"
            r"final|closing)\b|\b(?:last|final|end|ending|closing) frame\b|\bfinish(?:es)? on\b",
            t,
        )
        is not None
    )
    says_first = (
        re.search(
            r"\bstart(?:s|ing)? (?:the video |it )?(?:from|with|on)\b|\bas the (?:first|start|"
            r"opening)\b|\b(?:first|start|starting|opening|initial) frame\b|\banimate\b",
            t,
        )
        is not None
    )
    says_two = (
        re.search(
            r"\bfrom (?:my |the )?first (?:\w+ )?to (?:my |the )?(?:second|last)\b|\bbetween\b|"
            r"\bkeyframes\b|\b(?:first|start) and (?:the )?(?:last|end)\b|\binterpolat\w*\b|"
            r"\bboth frames\b|\btwo (?:photos|images|pictures|frames)\b",
            t,
        )
        is not None
    )
    roles: list[Role | None] = [None] * n
    missing: list[Role] = []
    if n == 1:
        if votes[0] < 0 or (votes[0] == 0 and says_last and not says_first):
            roles[0] = Role.LAST_FRAME
        else:
            roles[0] = Role.FIRST_FRAME
        if says_two:
            missing.append(Role.LAST_FRAME if roles[0] is Role.FIRST_FRAME else Role.FIRST_FRAME)
    elif n >= 2:
        # Votes are +1 for "first", -1 for "last": the file that leans more to "first" starts the video;
        # with nothing said, attachment order decides.
        first = 1 if votes[1] > votes[0] else 0
        if votes[0] == votes[1]:
            reading.doubts.append("nothing says which picture is the first frame: attachment order decides")
        roles[first], roles[1 - first] = Role.FIRST_FRAME, Role.LAST_FRAME
    else:
        missing.append(Role.LAST_FRAME if says_last and not says_first else Role.FIRST_FRAME)
        if says_two:
            missing = [Role.FIRST_FRAME, Role.LAST_FRAME]
    return roles, missing


def _edit_roles(reading: Reading, task: Task) -> tuple[list[Role | None], list[Role]]:
    atts = reading.atts
    roles: list[Role | None] = [None] * len(atts)
    ordinal = _ordinal_roles(reading)
    mask_i: int | None = None
    for i, a in enumerate(atts):
        said = ordinal.get(i)
        is_mask = said == "mask" or (said is None and (a.look == "mask" or "mask" in a.stem))
        if mask_i is None and is_mask and a.media in media_for(task, Role.MASK):
            mask_i = i
    if mask_i is None:
        for i in range(len(atts)):
            if _near(reading, i, re.compile(r"\bmask\b"), reach=15) is not None and atts[i].media is Media.IMAGE:
                mask_i = i
                break
    want = Media.VIDEO if task is Task.VIDEO_EDITING else Media.IMAGE
    candidates = [i for i, a in enumerate(atts) if i != mask_i and a.media is want]
    source_i: int | None = None
    if candidates:

        def source_rank(i: int) -> tuple[float, int]:
            said = ordinal.get(i)
            rank = 0.0
            if said in ("photo", "picture", "image", "source", "original", "video", "clip"):
                rank -= 5
            if said in ("reference", "ref", "style", "face"):
                rank += 5
            near_ref = _near(reading, i, _REF_WORDS, reach=20)
            if near_ref is not None and near_ref < 12:
                rank += 2
            if re.search(r"ref|style|face|logo|target", atts[i].stem):
                rank += 3
            return (rank, i)

        source_i = min(candidates, key=source_rank)
        if len(candidates) > 1 and sorted(source_rank(i)[0] for i in candidates)[:2] in ([0.0, 0.0],):
            reading.doubts.append("nothing says which file is the one to edit: attachment order decides")
    for i in range(len(atts)):
        roles[i] = Role.MASK if i == mask_i else Role.SOURCE if i == source_i else Role.REFERENCE
    missing: list[Role] = []
    if source_i is None:
        missing.append(Role.SOURCE)
    if mask_i is None and re.search(
        r"\b(?:my|the|this|your|a) mask\b|\bmasked (?:area|region|part)\b|"
        r"\bwhite (?:part|area|region) of\b|\binside the mask\b|\bwhere the mask\b",
        reading.cue,
    ):
        missing.append(Role.MASK)
    if Role.REFERENCE not in roles and _REFERENCE_PICTURE.search(reading.cue):
        missing.append(Role.REFERENCE)  # "replace my bike with the one in the reference photo I attached"
    return roles, missing


def _ordinal_roles(reading: Reading) -> dict[int, str]:
    out: dict[int, str] = {}
    for m in _ORDINAL_ROLE.finditer(reading.cue):
        idx = len(reading.atts) - 1 if m.group("ord") == "last" else _ORDINALS[m.group("ord")]
        if 0 <= idx < len(reading.atts):
            out[idx] = m.group("what")
    # "first file is the mask, second is my photo": the second clause often drops the noun.
    for m in re.finditer(
        r"\b(?P<ord>first|second|third|1st|2nd|3rd)\s+(?:one\s+)?(?:is|=)\s+(?:the\s+|my\s+)?"
        r"(?P<what>mask|photo|picture|image|source|reference|ref|video|clip)\b",
        reading.cue,
    ):
        idx = _ORDINALS[m.group("ord")]
        if idx < len(reading.atts):
            out.setdefault(idx, m.group("what"))
    return out


def _near(reading: Reading, index: int, pattern: re.Pattern[str] | LazyPattern, reach: int = 40) -> float | None:
    """Distance from a mention of attachment ``index`` to the nearest ``pattern`` match that lies between
    it and the neighbouring mentions; ``None`` when there is none."""
    t = reading.cue
    bounds = sorted(s for spans in reading.mentions.values() for s in spans)
    best: float | None = None
    for start, end in reading.mentions.get(index, []):
        lo = max([e for s, e in bounds if e <= start] + [0, start - reach])
        hi = min([s for s, e in bounds if s >= end] + [len(t), end + reach])
        for m in pattern.finditer(t, lo, hi):
            gap = start - m.end() if m.end() <= start else m.start() - end if m.start() >= end else 0
            d = max(gap, 0) + (0.5 if m.start() >= end else 0.0)  # words after the name describe it better
            if best is None or d < best:
                best = d
    return best


def _frame_vote(reading: Reading, index: int, reach: int = 40) -> float:
    """+1 when the text says attachment ``index`` is the first frame, -1 the last, 0 when it says nothing.

    The words that describe a named file follow it ("p2.jpg is where it ends"), unless the name is in
    brackets after them ("the start (a.jpg) and end (b.jpg) frames"); a cue is never looked for past
    another file's name."""
    t = reading.cue
    bounds = sorted(sp for spans in reading.mentions.values() for sp in spans)
    for start, end in reading.mentions.get(index, []):
        lo = max([e for s, e in bounds if e <= start] + [start - reach])
        hi = min([s for s, e in bounds if s >= end] + [end + reach])
        after, before = t[end:hi], t[max(lo, 0) : start]
        # "start (a.jpg)", "first=a.jpg", "start with a.jpg": the cue is bound to the name after it.
        in_brackets = re.search(r"(?:\(|=|:|\b(?:with|on|from|at|as|is))\s*$", before) is not None and bool(
            _FIRST_WORDS.search(before[-24:]) or _LAST_WORDS.search(before[-24:])
        )
        for seg, from_end in ((before, True), (after, False)) if in_brackets else ((after, False), (before, True)):
            hits = [(len(seg) - m.end() if from_end else m.start(), +1.0) for m in _FIRST_WORDS.finditer(seg)]
            hits += [(len(seg) - m.end() if from_end else m.start(), -1.0) for m in _LAST_WORDS.finditer(seg)]
            if hits:
                return min(hits)[1]
    return 0.0


def _takes(task: Task) -> str:
    """What ``task`` takes, in words: "one source (a picture), one mask (a picture) and references (pictures)"."""
    parts = []
    for role in _ROLE_ORDER:
        if role in task.roles:
            kinds = [_MEDIUM_WORD[m] for m in Media if m in media_for(task, role)]
            if role in _ONE_EACH:
                parts.append(f"one {role.value} (a {' or '.join(kinds)})")
            else:
                parts.append(f"{role.value}s ({' or '.join(k + 's' for k in kinds)})")
    return f"{', '.join(parts[:-1])} and {parts[-1]}" if len(parts) > 1 else "".join(parts)


def no_part(task: Task, atts: list[Attachment], roles: list[Role | None], index: int) -> str:
    """Why attachment ``index`` has no role its medium can play in ``task``, and what would work, in one line."""
    att = atts[index]
    medium = _MEDIUM_WORD[att.media]
    # Another file already plays the one role this medium could have ("clip1.mp4 is the source").
    holder = next(
        (
            (role, os.path.basename(atts[j].path))
            for j, role in enumerate(roles)
            if j != index and role in _ONE_EACH and att.media in media_for(task, role)
        ),
        None,
    )
    line = f"{os.path.basename(att.path)} is a {medium}; {task.value} takes {_takes(task)}"
    if holder:
        return f"{line}, and its {holder[0].value} is {holder[1]}: attach one {medium} per request"
    wanted = " or ".join(_MEDIUM_WORD[m] for m in Media if m is not att.media)
    other = _OTHER_MEDIUM_ASK.get(task)
    return f"{line}: attach a {wanted} instead" + (f", or ask for {other}" if other else "")


def _with_fixed(
    task: Task, roles: list[Role | None], missing: list[Role], fixed: dict[int, Role], media: list[Media]
) -> tuple[list[Role | None], list[Role]]:
    """``roles`` with ``fixed`` imposed: a rule-given role that now clashes (a second source) or that ``task``
    does not use becomes ``reference`` where the task takes references of that medium, else the attachment
    is left out."""
    out = list(roles)
    for index, role in fixed.items():
        if not 0 <= index < len(out):
            raise PlanningError(f"no attachment {index}: there are {len(out)} attachment(s)")
        out[index] = role
    taken = set(fixed.values()) & _ONE_EACH
    for i, given in enumerate(out):
        if i in fixed or given is None:
            continue
        if given not in task.roles or given in taken:
            fits = Role.REFERENCE in task.roles and media[i] in media_for(task, Role.REFERENCE)
            out[i] = Role.REFERENCE if fits else None
        elif given in _ONE_EACH:
            taken.add(given)
    present = {role for role in out if role is not None}
    return out, [role for role in missing if role not in present and role in task.roles]
