"""The rules' task decision: which of the 12 tasks a :class:`~unison_agent.planning.reading.Reading` asks for.

First whether the request asks for an answer in text (:func:`wants_answer`: asking cues against making cues),
then which medium it wants made (:func:`output_medium`: words naming the output, movement told over time), then
the task from the scores *and* the attachments (:func:`decide`): a control map is followed, a clip is edited, a
mask means an edit, a picture with animating words is a first frame, else a new picture or clip of what the
files show. Where the evidence is weak a sentence is added to ``reading.doubts``.

``EmbeddedPlanner(decision="rules")`` plans with this decision; the learned model reads it as a feature.
"""

from __future__ import annotations

import re

from unison_agent.planning.cues import MOTION, OUT_IMAGE, OUT_VIDEO
from unison_agent.planning.patterns import LazyPattern
from unison_agent.planning.reading import OUTPUT_SUBJECT, Reading, rule_words
from unison_agent.spec import Media, Task

__all__ = ["decide", "output_medium", "wants_answer"]

_SEQUENCE = rule_words("sequence")
_FRAME_ROLE_WORDS = LazyPattern(r"\bas the (?:first|last|start|end|opening|closing|final) (?:frame|image|shot)\b")
_NOT_IMAGE = rule_words("not_image")
_DEICTIC_BEFORE = LazyPattern(
    r"(?:\b(?:this|that|these|those|my|our|your|his|her|their|attached|uploaded|same|original|source|input|no|"
    r"not|exact|old|the attached|the uploaded|first|second|third|other|1st|2nd|3rd)\s+(?:\w+\s+){0,2}"
    r"|\bthe\s+(?:\w+\s+){0,1}"
    r"|\b(?:here's|here is|here are|heres|attached is|i took|i have)\s+(?:a|an|the|my|some|two)?\s*(?:\w+\s+){0,1})$"
)
_PROGRESSIVE = LazyPattern(r"\b(?:is|are)\s+(?:\w+ly\s+)?\w{3,}ing\b")


def wants_answer(reading: Reading) -> bool:
    """Whether the request asks for an answer in text rather than for something made; adds to ``r.doubts``
    when asking and making cues are close, or absent."""
    s = reading.scores
    ask = s["question"] + s["answer_verb"] + s["text_only"]
    # Weak reference cues ("the character") describe content as often as they ask for a picture.
    ref = s["reference"] if s["reference"] >= 2.5 else 0.0
    make = s["gen"] + s["edit"] + s["i2v"] + ref + s["control"] + s["still"] + s["text_to_x"]
    if s["text_only"] >= 4:
        return True
    m = reading.meta
    if (
        m.video_hint
        or m.width
        or m.preset
        or m.ratio
        or m.seed is not None
        or m.num_outputs
        or m.steps
        or m.guidance
        or m.negative_prompt
    ):
        make += 1.0
    if ask and make and abs(ask - make) < 1.0:
        reading.doubts.append(f"asking and making cues are close (ask {ask:g}, make {make:g})")
    if ask == 0 and make == 0:
        if reading.atts:
            reading.doubts.append("no word says whether to answer about the attachments or to make something")
        if not reading.atts:
            return bool(reading.refs)  # a bare description ("A cat walks on the grass") is a prompt to render
        # Words we cannot read about a file we can: when the files themselves say what to do (a mask and
        # a picture, a control map) do it; an English description is a prompt; otherwise ask about them.
        looks = {a.look for a in reading.atts}
        words = re.findall(r"[a-z]+", reading.cue)
        english = len(words) >= 4 and len(" ".join(words)) >= 0.6 * len(reading.cue.strip())
        return not (english or ("mask" in looks and len(reading.atts) >= 2) or looks & {"pose", "depth", "edge"})
    return ask > make


def output_medium(reading: Reading, has_input: bool = False) -> Media:
    """The medium the request wants made (``Media.VIDEO`` or ``Media.IMAGE``); ``has_input``: a file came or
    is talked about, so that movement words alone weigh less."""
    s = reading.scores
    vid = 2.0 * _out_words(reading, OUT_VIDEO, Media.VIDEO)
    img = 2.0 * _out_words(reading, OUT_IMAGE, Media.IMAGE)
    if reading.meta.video_hint:
        vid += 3
    if s["i2v"] >= 3 and not s["not_i2v"]:
        vid += 2
    img += s["still"]
    if vid == 0 and img == 0:
        # No medium named: a prompt that tells of movement over time describes a clip. With a file
        # attached it takes more than one sign, since "a man waving" is also a picture.
        # A finite verb of motion ("a cat walks") weighs more than an adjective-like participle
        # ("flying trams").
        motion = sum(_motion_weight(reading.cue, m) for m in MOTION.finditer(reading.cue))
        narrative = motion + 2 * len(_SEQUENCE.findall(reading.cue)) + len(_PROGRESSIVE.findall(reading.cue))
        if narrative >= (3 if has_input else 2):
            vid += 1
    if _NOT_IMAGE.search(reading.cue):
        vid += 4
    return Media.VIDEO if vid > img else Media.IMAGE


def decide(reading: Reading) -> Task:
    """The task the rules choose for the request; adds to ``r.doubts`` where the cues are close."""
    s = reading.scores
    vids = [a for a in reading.atts if a.media is Media.VIDEO and a.look != "mask"]
    ref_media = {m for m, _ in reading.refs}
    has_video_in = bool(vids) or (not reading.atts and "video" in ref_media)
    has_input = bool(reading.atts or reading.refs)
    if wants_answer(reading):
        if reading.atts:
            # Pictures may sit beside a clip in a question about it ("is this frame from this video?").
            return (
                Task.VIDEO_UNDERSTANDING
                if any(a.media is Media.VIDEO for a in reading.atts)
                else Task.IMAGE_UNDERSTANDING
            )
        if reading.refs:
            return Task.VIDEO_UNDERSTANDING if "video" in ref_media else Task.IMAGE_UNDERSTANDING
        return Task.TEXT_UNDERSTANDING
    out = output_medium(reading, has_input)
    if not has_input and s["i2v"] >= 3 and _FRAME_ROLE_WORDS.search(reading.cue):
        return Task.IMAGE_TO_VIDEO  # "use my diagram as the first frame": a picture that did not come
    if not has_input or s["text_to_x"]:
        return Task.TEXT_TO_VIDEO if out is Media.VIDEO else Task.TEXT_TO_IMAGE
    control_looks = [a for a in reading.atts if a.look in ("pose", "depth", "edge")]
    scribbles = [a for a in reading.atts if a.look == "scribble"]
    ref_kinds = {k for _, k in reading.refs}
    ctrl, edit = s["control"] + s["control_words"], s["edit"]
    masks = [a for a in reading.atts if a.look == "mask" or "mask" in a.name]
    # A control map is followed unless the request clearly edits the map itself; a named signal is
    # followed unless the request is clearly an edit of the clip ("same video, same moves, restyled").
    is_control = not masks and ((ctrl >= 3.5 and ctrl >= edit) or bool(control_looks and (edit < 3 or ctrl > 0)))
    if ctrl >= 2 and edit >= 2 and abs(ctrl - edit) < 1.5:
        reading.doubts.append(f"control and editing cues are close (control {ctrl:g}, edit {edit:g})")
    if scribbles and not is_control:
        is_control = ctrl >= 3 or ctrl > edit  # "turn this sketch into a ..." vs "clean up my sketch"
    if not reading.atts and ref_kinds & {"pose", "depth", "edge"}:
        is_control = True
    if not reading.atts and "scribble" in ref_kinds and ctrl >= edit:
        is_control = True
    if is_control:
        return (
            Task.VIDEO_CONTROL
            if has_video_in or (out is Media.VIDEO and not vids and not reading.atts)
            else Task.IMAGE_CONTROL
        )
    images = [a for a in reading.atts if a.media is Media.IMAGE and a.look != "mask"]
    if not has_video_in and s["i2v"] >= 3 and not s["not_i2v"] and not s["still"] and len(images) <= 2 and not masks:
        return Task.IMAGE_TO_VIDEO
    if has_video_in:
        return Task.VIDEO_EDITING
    if masks or "mask" in ref_kinds:
        # A mask is drawn for the medium it masks: a mask clip with no picture beside it is a video edit.
        return Task.VIDEO_EDITING if not images and any(a.media is Media.VIDEO for a in masks) else Task.IMAGE_EDITING
    if out is Media.VIDEO:
        return Task.VIDEO_REFERENCE
    ref = s["reference"]
    if abs(ref - edit) < 1.0 or max(ref, edit) < 1.0:
        reading.doubts.append(f"a new picture of the subject, or an edit? (reference {ref:g}, edit {edit:g})")
    if ref > edit or edit < 1.5:
        return Task.IMAGE_REFERENCE  # no change asked of the file: a new picture of what it shows
    return Task.IMAGE_EDITING


def _out_words(reading: Reading, pattern: LazyPattern, medium: Media) -> int:
    """How many times the text names ``medium`` as the thing to make (not as an attached file)."""
    n = 0
    has_att = any(a.media is medium for a in reading.atts)
    t = reading.cue
    meta_spans = reading.meta.spans
    for m in pattern.finditer(t):
        if m.group(0) == "portrait" and any(a <= m.start() < b for a, b in meta_spans):
            continue  # "720p portrait": an orientation, not a portrait
        before = t[max(0, m.start() - 30) : m.start()]
        after = t[m.end() : m.end() + 14]
        if re.match(
            r"\s*(?:style|game|games|editor|editing|call|poster|still|frame|frames|camera|grain|"
            r"quality|description|model|models|card|video|videos|clip|clips|animation)\b",
            after,
        ):
            continue
        d = _DEICTIC_BEFORE.search(before)
        # "this video" is an attachment; "the video unfolds with..." with no video attached is the output.
        if d and not (d.group(0).startswith("the ") and not has_att and OUTPUT_SUBJECT.match(after)):
            continue
        n += 1
    return n


def _motion_weight(text: str, m: re.Match[str]) -> float:
    """How much a verb of motion says "this moves": a finite verb ("a cat walks") or a participle after its
    subject ("a drone flying through") a lot; a participle used as an adjective ("flying trams", "a waving
    flag") little."""
    word = m.group(0)
    before = text[max(0, m.start() - 12) : m.start()]
    if word.endswith("ing"):
        adjectival = re.search(r"(?:^|\b(?:a|an|the|of|with|and|some|its|his|her|their)\s+|[,;:(]\s*)$", before)
        return 0.5 if adjectival else 2.0
    return 2.0 if word.endswith("s") and not word.endswith("ss") else 1.0
