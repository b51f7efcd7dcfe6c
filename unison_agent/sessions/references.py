"""Which earlier artifacts a follow-up request points at: "it", "that", "the last one", "the previous image",
"the second one", "image 2", "@k3x9pq".

Resolution works on the artifacts of the session's current branch (``ArtifactStore.visible``), so an undone
output is never "it". It returns what the words point at; whether a request needs an input at all is the
planner's call.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from unison_agent.sessions.store import ArtifactRecord, ArtifactStore, StoreError
from unison_agent.spec import Media

__all__ = ["Reference", "find_references", "resolve"]

_ORDINALS = {
    "first": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5, "sixth": 6, "seventh": 7, "eighth": 8,
    "1st": 1, "2nd": 2, "3rd": 3, "4th": 4, "5th": 5,
}  # fmt: skip
_NOUNS = {
    "image": Media.IMAGE, "picture": Media.IMAGE, "photo": Media.IMAGE, "pic": Media.IMAGE, "frame": Media.IMAGE,
    "video": Media.VIDEO, "clip": Media.VIDEO, "animation": Media.VIDEO,
    "one": None, "result": None, "output": None, "version": None, "variation": None,
}  # fmt: skip
_NOUN = r"(?P<noun>" + "|".join(sorted(_NOUNS, key=len, reverse=True)) + r")s?"
_PATTERNS = [
    ("id", re.compile(r"@(?P<id>[a-z0-9]{6})\b")),
    ("numbered", re.compile(r"\b(?P<noun>image|picture|photo|video|clip|output|result)\s*#?(?P<n>\d{1,3})\b")),
    ("ordinal", re.compile(r"\b(?:the\s+)?(?P<ord>" + "|".join(_ORDINALS) + r")\s+" + _NOUN + r"\b")),
    ("previous", re.compile(r"\b(?:the\s+)?(?:previous|earlier|one before|prior)\s+" + _NOUN + r"?\b")),
    ("last", re.compile(r"\b(?:the\s+)?(?:last|latest|newest|most recent|same)\s+" + _NOUN + r"\b")),
    ("last", re.compile(r"\bthe\s+(?P<noun>result|output|" + "image|picture|video|clip|animation" + r")\b")),
    ("it", re.compile(r"\b(?P<word>it|that|them|this one|that one)\b")),
]


@dataclass(frozen=True)
class Reference:
    """A phrase of the request that points at an earlier artifact."""

    kind: str  # id | numbered | ordinal | previous | last | it
    text: str
    start: int
    media: Media | None = None
    number: int | None = None
    artifact_id: str | None = None


def find_references(text: str) -> list[Reference]:
    """The phrases of ``text`` that refer to earlier artifacts, in order, without overlaps."""
    lowered = text.lower()
    found: list[Reference] = []
    taken: list[tuple[int, int]] = []
    for kind, pattern in _PATTERNS:
        for m in pattern.finditer(lowered):
            if any(m.start() < end and start < m.end() for start, end in taken):
                continue
            groups = m.groupdict()
            noun = groups.get("noun")
            media = _NOUNS.get(noun.rstrip("s")) if noun else None
            number = None
            if kind == "numbered":
                number = int(groups["n"])
            elif kind == "ordinal":
                number = _ORDINALS[groups["ord"]]
            found.append(Reference(kind, m.group(0), m.start(), media, number, groups.get("id")))
            taken.append((m.start(), m.end()))
    return sorted(found, key=lambda r: r.start)


def resolve(store: ArtifactStore, session: str, text: str) -> list[ArtifactRecord]:
    """The artifacts ``text`` refers to, in the order it mentions them (each once).

    Raises :class:`StoreError` when a reference points at something that does not exist ("image 5" in a
    session with two images, an unknown ``@id``); pronouns with nothing before them resolve to nothing.
    """
    visible = store.visible(session)
    outputs = [a for a in visible if a.origin == "output"]
    latest_step_outputs = _latest_step_outputs(store, session)
    chosen: list[ArtifactRecord] = []
    for ref in find_references(text):
        record = _one(ref, store, visible, outputs, latest_step_outputs)
        if record is not None and record.id not in {c.id for c in chosen}:
            chosen.append(record)
    return chosen


def _latest_step_outputs(store: ArtifactStore, session: str) -> list[ArtifactRecord]:
    for step in reversed(store.history(session)):
        if step.outputs:
            return [store.get(i) for i in step.outputs]
    return []


def _of(media: Media | None, records: list[ArtifactRecord]) -> list[ArtifactRecord]:
    return [r for r in records if media is None or r.media is media]


def _one(
    ref: Reference,
    store: ArtifactStore,
    visible: list[ArtifactRecord],
    outputs: list[ArtifactRecord],
    latest: list[ArtifactRecord],
) -> ArtifactRecord | None:
    if ref.kind == "id":
        assert ref.artifact_id is not None
        return store.get(ref.artifact_id)
    if ref.kind == "numbered":
        assert ref.number is not None
        pool = _of(ref.media, outputs if ref.media is None else visible)
        if not 1 <= ref.number <= len(pool):
            what = ref.media.value if ref.media else "output"
            raise StoreError(f"there is no {what} {ref.number} in this session: it has {len(pool)}")
        return pool[ref.number - 1]
    if ref.kind == "ordinal":
        assert ref.number is not None
        # "the second one" means among the variations the last request made, when it made several.
        pool = _of(ref.media, latest) if len(_of(ref.media, latest)) >= ref.number else _of(ref.media, visible)
        if not 1 <= ref.number <= len(pool):
            raise StoreError(f"there is no {ref.text!r}: only {len(pool)} to choose from")
        return pool[ref.number - 1]
    pool = _of(ref.media, outputs) or _of(ref.media, visible)
    if ref.kind == "previous":
        return pool[-2] if len(pool) >= 2 else None
    return pool[-1] if pool else None
