#!/usr/bin/env python3
"""Check planning-corpus JSONL files against the planning contract's format; print what is wrong.

    python data/planning/check_corpus.py data/planning/corpus/*.jsonl

Checks each line's shape (id, source, lang, text, attachments, expect), that every attachment has a role and
that the role fits the task and the file's medium, and the contract's arithmetic where a case states it
(frames = round(seconds x fps) + 1, images have one frame). Exit status 1 when any line is wrong.
Standalone on purpose: corpus writers run it without the project installed.
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from pathlib import Path

TASKS = {
    "text_understanding": set(),
    "image_understanding": {"context"},
    "video_understanding": {"context"},
    "text_to_image": set(),
    "text_to_video": set(),
    "image_editing": {"source", "mask", "reference"},
    "video_editing": {"source", "mask", "reference"},
    "image_reference": {"reference"},
    "video_reference": {"reference"},
    "image_to_video": {"first_frame", "last_frame"},
    "video_control": {"control", "reference"},
    "image_control": {"control", "reference"},
}
REQUIRED = {
    "image_understanding": {"context"},
    "video_understanding": {"context"},
    "image_editing": {"source"},
    "video_editing": {"source"},
    "image_reference": {"reference"},
    "video_reference": {"reference"},
    "image_to_video": set(),  # at least one of first_frame / last_frame
    "video_control": {"control"},
    "image_control": {"control"},
}
CONTENT_MEDIUM = {
    "photo": "image",
    "portrait": "image",
    "object": "image",
    "mask": "image",
    "pose_image": "image",
    "depth_map": "image",
    "edge_map": "image",
    "scribble": "image",
    "video": "video",
    "pose_video": "video",
    "depth_video": "video",
    "edge_video": "video",
}
IMAGE_EXT = {".png", ".jpg", ".jpeg", ".webp"}
VIDEO_EXT = {".mp4", ".mov", ".webm"}
LANGS = {"en", "zh", "es", "fr", "de", "ja"}
KEYS = {
    "task",
    "roles",
    "missing",
    "width",
    "height",
    "num_frames",
    "fps",
    "duration_s",
    "seed",
    "num_outputs",
    "steps",
    "guidance_scale",
    "aspect",
    "control_type",
    "negative_prompt_includes",
    "prompt_includes",
    "prompt_excludes",
}
CONTROL_TYPES = {"pose", "depth", "canny", "flow", "gray", "scribble", "layout"}
VIDEO_OUT = {"text_to_video", "video_editing", "video_reference", "image_to_video", "video_control"}


def problems(case: dict) -> list[str]:
    out: list[str] = []
    for key in ("id", "source", "lang", "text", "attachments", "expect"):
        if key not in case:
            out.append(f"no {key!r}")
    if out:
        return out
    if case["lang"] not in LANGS:
        out.append(f"lang {case['lang']!r} is not one of {sorted(LANGS)}")
    if not case["source"].startswith("writer:"):
        out.append("source must start with 'writer:<name>'")
    if not case["text"].strip():
        out.append("empty text")
    exp, atts = case["expect"], case["attachments"]
    unknown = set(exp) - KEYS
    if unknown:
        out.append(f"unknown expect keys {sorted(unknown)}")
    task = exp.get("task")
    if task not in TASKS:
        return [*out, f"task {task!r} is not one of the 12"]
    names = [a.get("name", "") for a in atts]
    if len(set(names)) != len(names):
        out.append("two attachments share a name")
    media = {}
    for a in atts:
        content, name = a.get("content"), a.get("name", "")
        if content not in CONTENT_MEDIUM:
            out.append(f"{name}: content {content!r} is not one of {sorted(CONTENT_MEDIUM)}")
            continue
        ext = Path(name).suffix.lower()
        want = IMAGE_EXT if CONTENT_MEDIUM[content] == "image" else VIDEO_EXT
        if ext not in want:
            out.append(f"{name}: a {content} needs one of {sorted(want)}")
        media[name] = CONTENT_MEDIUM[content]
    roles = exp.get("roles")
    if roles is None:
        out.append("expect.roles is required")
        roles = {}
    if set(roles) != set(names):
        out.append(f"roles {sorted(roles)} must name exactly the attachments {names}")
    allowed = TASKS[task]
    for name, role in roles.items():
        if role not in allowed:
            out.append(f"{name}: role {role!r} does not belong to {task} (allowed: {sorted(allowed) or 'none'})")
        elif role in ("source", "context", "control") and name in media:
            want_medium = "video" if task.startswith("video") else "image"
            if role != "context" and media[name] != want_medium:
                out.append(f"{name}: a {role} of {task} must be a {want_medium}")
        if role in ("first_frame", "last_frame") and media.get(name) != "image":
            out.append(f"{name}: {role} must be an image")
    for one in ("source", "mask", "control", "first_frame", "last_frame"):
        if list(roles.values()).count(one) > 1:
            out.append(f"two attachments play {one}")
    if "missing" not in exp:
        out.append("expect.missing is required ([] when nothing is missing)")
    missing = set(exp.get("missing") or [])
    if not missing <= allowed:
        out.append(f"missing {sorted(missing)} must be roles of {task}")
    present = set(roles.values())
    for role in REQUIRED.get(task, set()):
        if role not in present and role not in missing:
            out.append(f"{task} needs a {role}: attach one or list it in missing")
    if task == "image_to_video" and not ({"first_frame", "last_frame"} & (present | missing)):
        out.append("image_to_video needs a first_frame or last_frame, attached or missing")
    if task in ("text_understanding", "text_to_image", "text_to_video") and atts:
        out.append(f"{task} takes no attachments")
    if "control_type" in exp and exp["control_type"] not in CONTROL_TYPES:
        out.append(f"control_type {exp['control_type']!r} is not one of {sorted(CONTROL_TYPES)}")
    fr, fps, dur = exp.get("num_frames"), exp.get("fps"), exp.get("duration_s")
    if task not in VIDEO_OUT and any(k in exp for k in ("fps", "duration_s")):
        out.append("fps/duration_s apply to video outputs only")
    if task not in VIDEO_OUT and fr not in (None, 1) and not task.endswith("understanding"):
        out.append("images have num_frames 1")
    if fr is not None and fps is not None and dur is not None and fr != round(dur * fps) + 1:
        out.append(f"num_frames {fr} != round({dur} x {fps}) + 1")
    for key in ("prompt_includes", "prompt_excludes", "negative_prompt_includes"):
        v = exp.get(key)
        if v is not None and not (isinstance(v, list) and all(isinstance(s, str) and s for s in v)):
            out.append(f"{key} must be a list of non-empty strings")
    text = case["text"].lower()
    for word in exp.get("prompt_includes") or []:
        if word.lower() not in text:
            out.append(f"prompt_includes {word!r} does not occur in the text")
    return out


def main(paths: list[str]) -> int:
    bad, seen, tasks, langs = 0, set(), Counter(), Counter()
    for path in paths:
        for n, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), 1):
            if not line.strip():
                continue
            try:
                case = json.loads(line)
            except json.JSONDecodeError as e:
                print(f"{path}:{n}: not JSON: {e}")
                bad += 1
                continue
            errs = problems(case)
            if case.get("id") in seen:
                errs.append(f"id {case.get('id')!r} used twice")
            seen.add(case.get("id"))
            for e in errs:
                print(f"{path}:{n} {case.get('id')}: {e}")
            bad += bool(errs)
            tasks[case.get("expect", {}).get("task")] += 1
            langs[case.get("lang")] += 1
    print(f"{len(seen)} cases, {bad} with problems")
    print("by task:", dict(sorted(tasks.items(), key=str)))
    print("by language:", dict(sorted(langs.items(), key=str)))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
