"""`make train-planner`: rebuild the planner's decision model from the corpus in data/planning/corpus/.

    python scripts/train_planner.py [--corpus data/planning/corpus] [--out unison_agent/planning/data]
                                    [--holdout WRITER ... --out DIR]

Reads every ``*.jsonl`` of the corpus (never the shared dev set: that is for validation), extracts the
features of :mod:`unison_agent.planning.features` for each request (the rules' reading included), and fits
(scikit-learn, the ``dev`` extra) a small neural network over tasks (one hidden layer of ``TASK_HIDDEN`` ReLU
units over the hashed features seen in at least ``TASK_MIN_DF`` requests) and a multinomial logistic regression
over the roles of attachments in editing, first/last-frame and control requests. The softmax temperature of
each is fitted on the predictions for a held-out fifth of the corpus, so that the shipped probabilities are
calibrated. Writes ``decision_model.npz`` (no pickle: the used input rows of the task network as int8 with a
scale per row, the role weights as float16) and ``decision_model.json`` (classes, temperatures, the corpus's
SHA-256, the arrays' SHA-256, figures). Deterministic: the same corpus gives the same arrays (one thread, fixed
seeds). ``--holdout W ... --out DIR`` trains without writers W and prints the model's accuracy on them.
About five minutes on 2 cores.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import time
import warnings
from collections import Counter
from pathlib import Path

import numpy as np
from scipy import sparse
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier
from threadpoolctl import threadpool_limits

from unison_agent.planning.cases import Case, read_cases
from unison_agent.planning.decide import decide
from unison_agent.planning.features import (
    FEATURE_VERSION,
    ROLE_BUCKETS,
    ROLE_FAMILIES,
    TASK_BUCKETS,
    feasible_tasks,
    hashed,
    role_features,
    task_features,
)
from unison_agent.planning.reading import Reading
from unison_agent.planning.roles import rule_roles
from unison_agent.spec import Role, Task

ROOT = Path(__file__).resolve().parents[1]
TASKS = [t.value for t in Task]
ROLES = [r.value for r in Role]
# The task network, chosen by writer-held-out accuracy (writers zed, mira and pia, 2,070 requests, trained on the
# other 17): 0.950 against 0.930 for the logistic regression it replaced (C=16), and 0.934 against 0.900 in
# Chinese. Features seen in one request only are left out (they mostly name one sentence's content).
TASK_HIDDEN = 64
TASK_MIN_DF = 2
TASK_EPOCHS = 20
# Regularisation of the role model, chosen by leave-one-writer-out accuracy on the English writers (see
# --holdout): weaker regularisation fits the corpus's phrasings more closely and generalises worse.
ROLE_C = 2.0


def corpus_files(folder: Path) -> list[Path]:
    return sorted(folder.glob("*.jsonl"))


def corpus_sha256(files: list[Path]) -> str:
    """SHA-256 over the corpus files' names and bytes, in name order: what the shipped weights were made from."""
    h = hashlib.sha256()
    for f in files:
        h.update(f.name.encode() + b"\0" + f.read_bytes() + b"\0")
    return h.hexdigest()


def arrays_sha256(arrays: dict[str, np.ndarray]) -> str:
    """SHA-256 of the model's arrays (names, dtypes, shapes and bytes), independent of how the .npz is zipped."""
    h = hashlib.sha256()
    for name in sorted(arrays):
        a = np.ascontiguousarray(arrays[name])
        h.update(f"{name}:{a.dtype.str}:{a.shape}".encode() + a.tobytes())
    return h.hexdigest()


def _matrix(rows: list[dict[int, float]], buckets: int) -> sparse.csr_matrix:
    indptr, indices, data = [0], [], []
    for r in rows:
        for k in sorted(r):
            indices.append(k)
            data.append(r[k])
        indptr.append(len(indices))
    return sparse.csr_matrix((np.array(data, np.float64), np.array(indices), np.array(indptr)), (len(rows), buckets))


def featurise(cases: list[Case]) -> tuple[list[dict[int, float]], list[int], list[dict[int, float]], list[int], list]:
    """Task rows and labels, and role rows and labels (one per attachment of a role-family case)."""
    t_rows, t_y, r_rows, r_y, r_info = [], [], [], [], []
    for case in cases:
        atts = case.facts()
        req = Reading(case.text, atts)
        t_rows.append(hashed(task_features(case.text, atts, req), TASK_BUCKETS))
        task = Task(case.expect["task"])
        t_y.append(TASKS.index(task.value))
        roles = case.expect.get("roles") or {}
        if task in ROLE_FAMILIES and atts:
            rule = rule_roles(req, task)
            by_name = {k.lower(): v for k, v in roles.items()}
            for i, a in enumerate(atts):
                want = by_name.get(a.name)
                if want is None:
                    continue
                r_rows.append(hashed(role_features(case.text, atts, i, task, rule[i]), ROLE_BUCKETS))
                r_y.append(ROLES.index(want))
                r_info.append((case, i, task))
    return t_rows, t_y, r_rows, r_y, r_info


class _Fitted:
    """A logistic regression fitted on the columns the training rows use (a tenth of the hashed buckets),
    which makes L-BFGS several times faster; ``coef_`` is expanded back to every bucket."""

    def __init__(self, x: sparse.csr_matrix, y: np.ndarray, c: float) -> None:
        self.used = np.flatnonzero(x.getnnz(axis=0))
        model = LogisticRegression(C=c, max_iter=500, tol=1e-4)
        model.fit(x[:, self.used], y)
        self.classes_ = model.classes_
        self.intercept_ = model.intercept_
        self.coef_ = np.zeros((model.coef_.shape[0], x.shape[1]))
        self.coef_[:, self.used] = model.coef_
        self._model = model

    def decision_function(self, x: sparse.csr_matrix) -> np.ndarray:
        return self._model.decision_function(x[:, self.used])


class _Network:
    """The task network: one hidden ReLU layer over the columns seen in ``TASK_MIN_DF`` training rows or more.
    ``decision_function`` gives the logits (before the softmax), as inference computes them."""

    def __init__(self, x: sparse.csr_matrix, y: np.ndarray, _c: float = 0.0) -> None:
        self.used = np.flatnonzero(x.getnnz(axis=0) >= TASK_MIN_DF)
        model = MLPClassifier(
            hidden_layer_sizes=(TASK_HIDDEN,),
            alpha=1e-4,
            batch_size=256,
            learning_rate_init=3e-3,
            max_iter=TASK_EPOCHS,
            random_state=0,
            tol=0.0,  # always TASK_EPOCHS epochs: the same corpus, the same arrays
            n_iter_no_change=TASK_EPOCHS + 1,
        )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)  # a fixed number of epochs is the point
            model.fit(x[:, self.used], y)
        self.classes_ = model.classes_
        self.w1, self.w2 = model.coefs_
        self.b1, self.b2 = model.intercepts_

    def decision_function(self, x: sparse.csr_matrix) -> np.ndarray:
        hidden = np.maximum(x[:, self.used] @ self.w1 + self.b1, 0.0)
        return np.asarray(hidden @ self.w2 + self.b2)


def fit(x: sparse.csr_matrix, y: np.ndarray, c: float) -> _Fitted:
    return _Fitted(x, y, c)


def temperature(logits: np.ndarray, y: np.ndarray, allowed: np.ndarray) -> float:
    """The temperature that minimises the negative log-likelihood of out-of-fold logits (grid search)."""
    best_t, best_nll = 1.0, float("inf")
    for t in np.round(np.arange(0.3, 4.01, 0.05), 2):
        z = np.where(allowed, logits / t, -np.inf)
        z = z - z.max(axis=1, keepdims=True)
        logp = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
        nll = -logp[np.arange(len(y)), y].mean()
        if nll < best_nll:
            best_t, best_nll = float(t), float(nll)
    return best_t


def held_out_logits(
    x: sparse.csr_matrix, y: np.ndarray, c: float, classes: int, make: type = _Fitted
) -> tuple[np.ndarray, np.ndarray]:
    """``(rows, logits)``: decision values of a fifth of the rows (stratified, fixed seed) from a model trained
    on the other four fifths; what the temperature is fitted on."""
    counts = Counter(y.tolist())
    strat = y if min(counts.values()) >= 2 else None
    train, test = train_test_split(np.arange(len(y)), test_size=0.2, random_state=0, stratify=strat)
    m = make(x[train], y[train], c)
    out = np.full((len(test), classes), -50.0)
    out[:, m.classes_] = m.decision_function(x[test]).reshape(len(test), -1)
    return test, out


def ece(probs: np.ndarray, y: np.ndarray, bins: int = 10) -> float:
    """Expected calibration error of the top class."""
    conf, pred = probs.max(axis=1), probs.argmax(axis=1)
    total = 0.0
    for lo in np.linspace(0, 1, bins, endpoint=False):
        sel = (conf > lo) & (conf <= lo + 1 / bins)
        if sel.any():
            total += sel.mean() * abs((pred[sel] == y[sel]).mean() - conf[sel].mean())
    return float(total)


def _allowed_tasks(cases: list[Case]) -> np.ndarray:
    return np.array([[Task(t) in feasible_tasks(c.facts()) for t in TASKS] for c in cases])


def _softmax(z: np.ndarray, allowed: np.ndarray) -> np.ndarray:
    z = np.where(allowed, z, -np.inf)
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def _sparse_weights(model: _Fitted, classes: int, buckets: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(used bucket indices, their weight rows as float16, bias) with a column per class of ``classes``."""
    coef = np.zeros((classes, buckets))
    bias = np.full(classes, -50.0)  # a class the corpus never shows is never chosen
    coef[model.classes_] = model.coef_ if len(model.classes_) > 2 else np.vstack([-model.coef_, model.coef_])
    bias[model.classes_] = model.intercept_ if len(model.classes_) > 2 else [-model.intercept_[0], model.intercept_[0]]
    used = np.flatnonzero(np.abs(coef).max(axis=0) > 1e-6).astype(np.int32)
    return used, coef[:, used].T.astype(np.float16), bias.astype(np.float32)


def _network_weights(model: _Network, classes: int) -> dict[str, np.ndarray]:
    """The task network as arrays: the used input buckets (int32), their hidden-layer rows as int8 with one
    float32 scale per row (a quarter of the bytes of float32; the logits move by far less than a temperature
    step), the hidden bias, and the output layer with a column per class of ``classes``."""
    scale = np.abs(model.w1).max(axis=1) / 127.0
    q = np.round(model.w1 / np.where(scale > 0, scale, 1.0)[:, None])
    w2 = np.zeros((model.w2.shape[0], classes))
    b2 = np.full(classes, -50.0)  # a class the corpus never shows is never chosen
    w2[:, model.classes_] = model.w2
    b2[model.classes_] = model.b2
    return {
        "task_index": model.used.astype(np.int32),
        "task_hidden_q": q.astype(np.int8),
        "task_hidden_scale": scale.astype(np.float32),
        "task_hidden_bias": model.b1.astype(np.float32),
        "task_out_weights": w2.astype(np.float32),
        "task_out_bias": b2.astype(np.float32),
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--corpus", default=str(ROOT / "data" / "planning" / "corpus"))
    ap.add_argument("--out", default=str(ROOT / "unison_agent" / "planning" / "data"))
    ap.add_argument(
        "--holdout",
        nargs="+",
        default=None,
        help="writers to leave out of training and score on; needs --out apart from the shipped weights",
    )
    ap.add_argument("--role-c", type=float, default=ROLE_C)
    args = ap.parse_args()
    t0 = time.perf_counter()
    files = corpus_files(Path(args.corpus))
    if not files:
        sys.exit(f"no *.jsonl under {args.corpus}")
    cases = read_cases(files)
    held: list[Case] = []
    if args.holdout:
        if Path(args.out).resolve() == (ROOT / "unison_agent" / "planning" / "data").resolve():
            sys.exit("--holdout trains a model for measurement only: give --out another folder")
        held = [c for c in cases if c.writer in set(args.holdout)]
        if not held:
            sys.exit(f"no case is written by {args.holdout}; writers: {sorted({c.writer for c in cases})}")
        cases = [c for c in cases if c.writer not in set(args.holdout)]
    print(f"{len(cases)} cases from {len(files)} files; extracting features...", flush=True)
    t_rows, t_y, r_rows, r_y, _ = featurise(cases)
    xt, yt = _matrix(t_rows, TASK_BUCKETS), np.array(t_y)
    xr, yr = _matrix(r_rows, ROLE_BUCKETS), np.array(r_y)
    print(f"features in {time.perf_counter() - t0:.0f} s; {xt.nnz / len(t_rows):.0f} a request", flush=True)
    allowed = _allowed_tasks(cases)
    rows, oof = held_out_logits(xt, yt, 0.0, len(TASKS), _Network)
    t_temp = temperature(oof, yt[rows], allowed[rows])
    oof_p = _softmax(oof / t_temp, allowed[rows])
    r_rows_, r_oof = held_out_logits(xr, yr, args.role_c, len(ROLES))
    r_temp = temperature(r_oof, yr[r_rows_], np.ones_like(r_oof, dtype=bool))
    task_acc, role_acc = float(np.mean(oof_p.argmax(1) == yt[rows])), float(np.mean(r_oof.argmax(1) == yr[r_rows_]))
    print(
        f"held-out fifth: task {task_acc:.4f} (T={t_temp}, ECE {ece(oof_p, yt[rows]):.3f}), role {role_acc:.4f} "
        f"(T={r_temp})",
        flush=True,
    )
    task_model, role_model = _Network(xt, yt), fit(xr, yr, args.role_c)
    ri, rw, rb = _sparse_weights(role_model, len(ROLES), ROLE_BUCKETS)
    arrays = {
        **_network_weights(task_model, len(TASKS)),
        "role_index": ri,
        "role_weights": rw,
        "role_bias": rb,
    }
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    np.savez(out / "decision_model.npz", **arrays)  # uncompressed: loads in milliseconds at start-up
    by_lang = Counter(c.lang for c in cases)
    meta = {
        "feature_version": FEATURE_VERSION,
        "tasks": TASKS,
        "roles": ROLES,
        "task_buckets": TASK_BUCKETS,
        "role_buckets": ROLE_BUCKETS,
        "temperature": t_temp,
        "role_temperature": r_temp,
        "task_model": {"hidden": TASK_HIDDEN, "min_df": TASK_MIN_DF, "epochs": TASK_EPOCHS},
        "role_c": args.role_c,
        "corpus_sha256": corpus_sha256(files),
        "corpus_files": [f.name for f in files],
        "corpus_cases": len(cases),
        "corpus_languages": dict(sorted(by_lang.items())),
        "arrays_sha256": arrays_sha256(arrays),
        "held_out_fifth_task_accuracy": round(task_acc, 4),
        "held_out_fifth_task_ece": round(ece(oof_p, yt[rows]), 4),
        "held_out_fifth_role_accuracy": round(role_acc, 4),
    }
    (out / "decision_model.json").write_text(json.dumps(meta, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    size = (out / "decision_model.npz").stat().st_size
    print(
        f"wrote {out / 'decision_model.npz'} ({size / 1e6:.2f} MB; {len(arrays['task_index'])} task and "
        f"{len(ri)} role rows) "
        f"in {time.perf_counter() - t0:.0f} s"
    )
    if held:
        evaluate(held, task_model, role_model)
    return 0


def evaluate(cases: list[Case], task_model: _Network, role_model: _Fitted) -> None:
    """Print the task and role accuracy of a model, and of the rules' own decision, on ``cases``."""
    e_rows, e_y, er_rows, er_y, _ = featurise(cases)
    z = np.full((len(cases), len(TASKS)), -50.0)
    z[:, task_model.classes_] = task_model.decision_function(_matrix(e_rows, TASK_BUCKETS))
    pred = _softmax(z, _allowed_tasks(cases)).argmax(1)
    rule = np.array([TASKS.index(decide(Reading(c.text, c.facts())).value) for c in cases])
    yt = np.array(e_y)
    rp = role_model.classes_[role_model.decision_function(_matrix(er_rows, ROLE_BUCKETS)).argmax(1)]
    print(
        f"held out: {len(cases)} cases; task accuracy model {np.mean(pred == yt):.4f}, "
        f"rules {np.mean(rule == yt):.4f}; role accuracy {np.mean(rp == np.array(er_y)):.4f}"
    )
    for lang in sorted({c.lang for c in cases}):
        sel = np.array([c.lang == lang for c in cases])
        model_acc, rule_acc = np.mean(pred[sel] == yt[sel]), np.mean(rule[sel] == yt[sel])
        print(f"  {lang}: model {model_acc:.4f}  rules {rule_acc:.4f}  ({sel.sum()})")
    confusions = Counter((TASKS[a], TASKS[b]) for a, b in zip(yt, pred, strict=True) if a != b)
    print("  most confused (want -> got):", ", ".join(f"{a}->{b} {n}" for (a, b), n in confusions.most_common(6)))


if __name__ == "__main__":
    with threadpool_limits(1):  # one BLAS thread: the same corpus gives the same arrays whatever the machine
        sys.exit(main())
