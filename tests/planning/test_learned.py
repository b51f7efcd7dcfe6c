"""The learned decision model: its weights match the corpus in the repo, it loads without pickle or torch,
its decisions respect the contract, and training is reproducible."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from unison_agent.planning import EmbeddedPlanner
from unison_agent.planning.cases import Tally, attachment_facts, plan_cases, read_cases
from unison_agent.planning.features import feasible_tasks, task_features
from unison_agent.planning.learned import Decision, DecisionModel, default_model
from unison_agent.spec import Role, Task

ROOT = Path(__file__).resolve().parents[2]
CORPUS = ROOT / "data" / "planning" / "corpus"
WEIGHTS = ROOT / "unison_agent" / "planning" / "data"


def _trainer() -> Any:
    """The training script, the one place that defines the hashes; imported when a test needs it (it imports
    scikit-learn, seconds that every test run would pay at collection)."""
    if str(ROOT / "scripts") not in sys.path:
        sys.path.insert(0, str(ROOT / "scripts"))
    import train_planner

    return train_planner


def test_the_shipped_weights_were_trained_on_the_corpus_in_the_repo() -> None:
    meta = json.loads((WEIGHTS / "decision_model.json").read_text())
    files = _trainer().corpus_files(CORPUS)
    assert [f.name for f in files] == meta["corpus_files"]
    assert _trainer().corpus_sha256(files) == meta["corpus_sha256"], (
        "the corpus changed since the weights were trained: run `make train-planner` and commit the weights"
    )


def test_the_shipped_arrays_are_the_ones_their_account_names_and_fit_in_10_mb() -> None:
    meta = json.loads((WEIGHTS / "decision_model.json").read_text())
    with np.load(WEIGHTS / "decision_model.npz", allow_pickle=False) as z:
        arrays = {k: z[k] for k in z.files}
    assert _trainer().arrays_sha256(arrays) == meta["arrays_sha256"]
    assert (WEIGHTS / "decision_model.npz").stat().st_size <= 10 * 1024 * 1024


@pytest.mark.slow
def test_the_corpus_is_well_formed_large_and_multilingual() -> None:
    proc = subprocess.run(
        [
            sys.executable,
            str(ROOT / "data" / "planning" / "check_corpus.py"),
            *map(str, sorted(CORPUS.glob("*.jsonl"))),
        ],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stdout[-3000:]
    cases = read_cases(sorted(CORPUS.glob("*.jsonl")))
    langs = [c.lang for c in cases]
    assert len(cases) >= 6000
    assert langs.count("zh") >= 800
    assert all(langs.count(lang) >= 200 for lang in ("es", "fr", "de", "ja"))
    assert {c.expect["task"] for c in cases} == {t.value for t in Task}


def test_planning_with_the_model_imports_neither_torch_nor_scikit_learn() -> None:
    code = (
        "import sys; from unison_agent.planning import plan; "
        "plan('make a short video of a fox running through snow'); "
        "print(sorted(m for m in ('torch', 'sklearn', 'scipy', 'numpy') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"  # not even numpy: one request is computed in pure Python (start-up time)


def test_the_pure_python_and_the_numpy_computations_give_the_same_decisions() -> None:
    pure, dense = DecisionModel.load(), DecisionModel.load().vectorise()
    photo, clip = attachment_facts("IMG_1.jpg", "photo"), attachment_facts("clip.mp4", "video")
    requests = [
        ("a red fox in the snow, 16:9", []),
        ("把背景换成海边", [photo]),
        ("この写真を動かして、3秒", [photo]),
        ("que pasa en este video?", [clip]),
        ("use the pose from the clip for a robot dancing", [clip, photo]),
    ]
    for text, atts in requests:
        a = pure.task_probabilities(text, atts, None)
        b = dense.task_probabilities(text, atts, None)
        assert a.keys() == b.keys() and all(abs(a[t] - b[t]) < 1e-4 for t in a), text
        for task in (Task.IMAGE_EDITING, Task.VIDEO_CONTROL):
            if task in a and atts:
                ra = pure.role_probabilities(text, atts, 0, task, None)
                rb = dense.role_probabilities(text, atts, 0, task, None)
                assert all(abs(ra[r] - rb[r]) < 1e-4 for r in ra), text


def test_an_npz_holding_anything_but_plain_numbers_is_refused(tmp_path: Path) -> None:
    from unison_agent.planning.learned import read_npz

    np.savez(tmp_path / "bad.npz", task_index=np.array(["not", "numbers"], dtype=object))
    with pytest.raises(ValueError, match=r"task_index.npy holds '\|O'"):
        read_npz(tmp_path / "bad.npz")
    np.savez(tmp_path / "ok.npz", task_index=np.arange(3, dtype=np.int32))
    assert read_npz(tmp_path / "ok.npz")["task_index"][:2] == ("<i4", (3,))


def test_an_npz_reads_the_same_stored_as_mapped_views_or_compressed() -> None:
    import tempfile

    from unison_agent.planning.learned import read_npz

    arrays = {"a": np.arange(1000, dtype=np.int32), "b": np.linspace(-1, 1, 77, dtype=np.float32)}
    with tempfile.TemporaryDirectory() as tmp:
        np.savez(Path(tmp) / "plain.npz", **arrays)
        np.savez_compressed(Path(tmp) / "small.npz", **arrays)
        plain, small = read_npz(Path(tmp) / "plain.npz"), read_npz(Path(tmp) / "small.npz")
    for name, want in arrays.items():  # the mapped views stay readable after the file is closed and removed
        for got in (plain[name], small[name]):
            assert got[:2] == (want.dtype.str, want.shape) and bytes(got[2]) == want.tobytes()


def test_chinese_text_gives_character_ngrams_without_spaces() -> None:
    names = {n for n, _ in task_features("生成一张猫的图片", [], None)}
    assert {"c:生成", "c:图片", "c:一张猫"} <= names


def test_file_names_are_not_ngrams_but_a_marker_that_a_file_is_named() -> None:
    att = attachment_facts("Beach_Sunset.JPG", "photo")
    names = {n for n, _ in task_features("make beach_sunset.jpg warmer", [att], None)}
    assert "w:filemark" in names
    assert not any("sunset" in n for n in names if n.startswith(("c:", "w:", "b:")))


def test_tasks_the_attachments_cannot_serve_are_never_chosen() -> None:
    video = attachment_facts("clip.mp4", "video")
    feasible = feasible_tasks([video])
    assert Task.IMAGE_EDITING not in feasible and Task.TEXT_TO_IMAGE not in feasible
    probs = default_model().task_probabilities("make it look like a painting", [video], None)
    assert set(probs) <= set(feasible)
    assert abs(sum(probs.values()) - 1) < 1e-6


@pytest.mark.parametrize(
    ("text", "atts", "task", "roles"),
    [
        (
            "put the hat from the second picture on the man in the first, only where the mask is",
            [("man.jpg", "portrait"), ("hat.png", "object"), ("m.png", "mask")],
            Task.IMAGE_EDITING,
            [Role.SOURCE, Role.REFERENCE, Role.MASK],
        ),
        (
            "a clip that goes from the first photo to the second",
            [("a.jpg", "photo"), ("b.jpg", "photo")],
            Task.IMAGE_TO_VIDEO,
            [Role.FIRST_FRAME, Role.LAST_FRAME],
        ),
    ],
)
def test_roles_are_decided_with_at_most_one_source_mask_control_or_frame_each(
    text: str, atts: list[tuple[str, str]], task: Task, roles: list[Role]
) -> None:
    facts = [attachment_facts(n, c) for n, c in atts]
    spec = EmbeddedPlanner().plan(text, facts)
    assert spec.task is task
    assert [i.role for i in spec.inputs] == roles


def test_a_task_that_cannot_give_every_file_a_part_yields_to_one_of_the_same_kind_that_can() -> None:
    # Three pictures cannot all be first or last frames: the model gives no roles for image_to_video, and the
    # plan is another generation task in which every picture has a part.
    facts = [attachment_facts(f"p{i}.jpg", "photo") for i in range(3)]
    assert default_model().assign_roles("animate these", facts, Task.IMAGE_TO_VIDEO, [None] * 3) == ({}, {})
    spec = EmbeddedPlanner().plan("animate these, 2 seconds", facts)
    assert spec.task.is_generation and spec.task is not Task.IMAGE_TO_VIDEO
    assert len(spec.inputs) == 3


@pytest.mark.parametrize(
    ("still", "clip", "atts"),
    [
        (Task.IMAGE_REFERENCE, Task.VIDEO_REFERENCE, [("toy.png", "object")]),
        (Task.TEXT_TO_IMAGE, Task.TEXT_TO_VIDEO, []),
        (Task.IMAGE_CONTROL, Task.VIDEO_CONTROL, []),  # the control map not attached yet
    ],
)
def test_a_stated_length_turns_the_still_the_model_chose_into_the_same_kind_of_clip(
    monkeypatch: pytest.MonkeyPatch, still: Task, clip: Task, atts: list[tuple[str, str]]
) -> None:
    # The network is made to prefer the still; seconds, frames or fps in the request make it the clip.
    model = default_model()
    facts = [attachment_facts(n, c) for n, c in atts]

    def favour_still(text: str, atts: list[object], req: object) -> dict[Task, float]:
        allowed = feasible_tasks(facts)
        return {t: (0.9 if t is still else 0.1 / len(allowed)) for t in allowed}

    monkeypatch.setattr(model, "task_probabilities", favour_still)
    planner = EmbeddedPlanner(model=model)
    assert planner.plan("the little knight exploring a candy land", facts).task is still
    for length in (", 4 seconds", ", 65 frames", " at 24 fps"):
        assert planner.plan("the little knight exploring a candy land" + length, facts).task is clip, length


def test_a_stated_length_does_not_turn_an_edit_or_a_question_into_a_clip() -> None:
    photo = [attachment_facts("IMG_7.jpg", "photo")]
    assert EmbeddedPlanner().plan("How long is a 3 second clip at 12 fps in frames?").task is Task.TEXT_UNDERSTANDING
    spec = EmbeddedPlanner().plan("make her hair look like in her 40s, a bit grey", photo)
    assert spec.task is Task.IMAGE_EDITING and spec.duration_s is None


def test_in_an_edit_the_mask_is_the_file_that_looks_like_one() -> None:
    photo, mask = attachment_facts("IMG_1.jpg", "photo"), attachment_facts("IMG_2.png", "mask")
    for order in ([photo, mask], [mask, photo]):
        spec = EmbeddedPlanner().plan("replace what is under the white area with flowers", order)
        assert spec.task is Task.IMAGE_EDITING
        assert {i.path: i.role for i in spec.inputs} == {"IMG_1.jpg": Role.SOURCE, "IMG_2.png": Role.MASK}


def test_an_unsure_decision_becomes_a_doubt_and_a_sure_one_does_not() -> None:
    unsure = Decision(Task.IMAGE_EDITING, 0.52, (Task.IMAGE_REFERENCE, 0.41), {0: Role.SOURCE}, {0: 0.55})
    assert unsure.doubts() == [
        "the task is uncertain: image_editing (0.52) or image_reference (0.41)",
        "attachment 1 as source is uncertain (0.55)",
    ]
    sure = Decision(Task.TEXT_UNDERSTANDING, 0.97, (Task.TEXT_TO_IMAGE, 0.02), {}, {})
    assert sure.doubts() == []
    spec, doubts = EmbeddedPlanner().assess("What is the capital of Australia?")
    assert spec.task is Task.TEXT_UNDERSTANDING and doubts == []


def test_weights_made_for_other_features_are_refused_with_what_to_do(tmp_path: Path) -> None:
    meta = json.loads((WEIGHTS / "decision_model.json").read_text())
    meta["feature_version"] = -1
    (tmp_path / "decision_model.json").write_text(json.dumps(meta))
    (tmp_path / "decision_model.npz").write_bytes((WEIGHTS / "decision_model.npz").read_bytes())
    with pytest.raises(ValueError, match="make train-planner"):
        DecisionModel.load(tmp_path)


@pytest.mark.slow
def test_training_is_deterministic(tmp_path: Path) -> None:
    # A small corpus (every 12th request) trained twice gives the same arrays.
    lines = [ln for f in sorted(CORPUS.glob("*.jsonl")) for ln in f.read_text().splitlines() if ln.strip()][::12]
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "small.jsonl").write_text("\n".join(lines) + "\n")
    shas = []
    for run in ("a", "b"):
        out = tmp_path / run
        subprocess.run(
            [sys.executable, str(ROOT / "scripts" / "train_planner.py"), "--corpus", str(corpus), "--out", str(out)],
            check=True,
            capture_output=True,
        )
        shas.append(json.loads((out / "decision_model.json").read_text())["arrays_sha256"])
        model = DecisionModel.load(out)
        assert model.task_probabilities("draw a cat", [], None)
    assert shas[0] == shas[1]


@pytest.mark.slow
@pytest.mark.parametrize(
    ("name", "cases", "not_english", "case_accuracy", "task_accuracy"),
    [
        # Written after the first freeze (faf7938); first run 0.933 / 0.958 (Chinese 0.925).
        ("fresh.jsonl", 330, 90, 0.93, 0.95),
        # Written after the second freeze (e27cc85), by two other writers; first run 0.921 / 0.952 (Chinese 0.900).
        ("fresh2.jsonl", 330, 90, 0.92, 0.95),
        # Written after the third freeze (e1c2a52, the task network), by three other writers; first run 0.963 / 0.983
        # (Chinese 0.943, Japanese 1.000, Spanish, French and German 0.950 each).
        ("fresh3.jsonl", 350, 150, 0.96, 0.98),
        # Written during the fourth training (frozen at 3582734: +820 requests on picture-to-video), by three
        # other writers; first run 0.943 / 0.963 (English 0.955, Chinese 0.943, the others 0.90-0.95).
        ("fresh4.jsonl", 350, 150, 0.94, 0.96),
        # Written during the fifth training (frozen at 4f79d50: +780 requests on missing files, first/last frames in
        # words, answers without a question), by three other writers; first run 0.957 / 0.983 (English 0.975,
        # Chinese 0.914, the others 0.950).
        ("fresh5.jsonl", 350, 150, 0.95, 0.98),
        # Written while the rules fixed after fresh5 were made (frozen at e684912), by three other writers, with more
        # Chinese (160); first run 0.972 / 0.986 (English 0.987, Chinese 0.956, Japanese 1.000).
        ("fresh6.jsonl", 360, 210, 0.97, 0.98),
    ],
)
def test_the_fresh_sets_written_after_a_freeze_stay_at_their_first_run_score(
    name: str, cases: int, not_english: int, case_accuracy: float, task_accuracy: float
) -> None:
    # By writers who saw neither the corpus nor the code. A guard against regressions, not a target to tune to.
    tally = Tally()
    read = read_cases([Path(__file__).with_name(name)])
    for case, spec, error in plan_cases(read, EmbeddedPlanner().plan):
        tally.add(case, spec, error)
    assert tally.cases == cases and sum(c.lang != "en" for c in read) == not_english
    assert tally.accuracy >= case_accuracy
    assert tally.key_accuracy("task") >= task_accuracy
