"""The learned decision model: which task a request is, and which role each attachment plays.

Two models over hashed sparse features (:mod:`~unison_agent.planning.features`): a small neural network over
the 12 tasks (one hidden layer of ReLU units), and a multinomial logistic regression over roles per attachment
(for the tasks where attachments play different parts).
Trained on the labelled corpus in ``data/planning/`` by ``scripts/train_planner.py`` (``make train-planner``);
the weights ship in ``planning/data/decision_model.npz`` with their account in ``decision_model.json``
(feature version, classes, temperature, the corpus's SHA-256). Inference is pure Python (the ``.npz`` is read
without numpy): no torch, no pickle.

Probabilities are temperature-calibrated on held-out predictions, so a 0.6 means "right about 6 times in 10";
low ones become the plan's doubts (``EmbeddedPlanner.assess``), which the hybrid planner asks a model about.
"""

from __future__ import annotations

import ast
import itertools
import json
import math
import mmap
import operator
import struct
import sys
import zipfile
from array import array
from bisect import bisect_left
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

from unison_agent.planning.features import (
    FEATURE_VERSION,
    ROLE_FAMILIES,
    feasible_tasks,
    fixed_role,
    hashed,
    role_features,
    task_features,
)
from unison_agent.spec import Role, Task, media_for

if TYPE_CHECKING:
    from unison_agent.planning.base import Attachment
    from unison_agent.planning.reading import Reading

__all__ = ["Decision", "DecisionModel", "default_model"]

MODEL_NAME = "decision_model"
SINGLE_ROLES = frozenset({Role.SOURCE, Role.MASK, Role.FIRST_FRAME, Role.LAST_FRAME, Role.CONTROL})
DOUBT_BELOW = 0.7  # a decision less likely than this is reported as a doubt
_EDITING = frozenset({Task.IMAGE_EDITING, Task.VIDEO_EDITING})
# The task that makes a clip the way an image task makes a still (see ``DecisionModel.decide``).
_VIDEO_TWIN = {
    Task.TEXT_TO_IMAGE: Task.TEXT_TO_VIDEO,
    Task.IMAGE_REFERENCE: Task.VIDEO_REFERENCE,
    Task.IMAGE_CONTROL: Task.VIDEO_CONTROL,
}


@dataclass(frozen=True)
class Decision:
    """The model's decision: the task and its probability, the runner-up, and per attachment a role (or
    ``None`` where the rules should decide) with its probability."""

    task: Task
    p_task: float
    runner_up: tuple[Task, float] | None
    roles: dict[int, Role]
    p_roles: dict[int, float]

    def doubts(self) -> list[str]:
        out = []
        if self.p_task < DOUBT_BELOW and self.runner_up:
            other, p = self.runner_up
            out.append(f"the task is uncertain: {self.task.value} ({self.p_task:.2f}) or {other.value} ({p:.2f})")
        for i, p in sorted(self.p_roles.items()):
            if p < DOUBT_BELOW:
                out.append(f"attachment {i + 1} as {self.roles[i].value} is uncertain ({p:.2f})")
        return out


class _Linear:
    """A softmax layer over hashed features, stored sparsely: the used buckets (ascending) and their weight rows
    (little-endian float16, one row of ``classes`` weights per used bucket).

    Pure Python until :meth:`vectorise` is called: a single request has a few hundred features, and looking up
    their rows (about a millisecond) costs far less than importing numpy would (a tenth of a second, a fifth of
    ``unison plan``'s start-up). A process that plans many requests vectorises once (``planning.warm_up``) and
    then pays a tenth of a millisecond a request. Both give the same logits to float32 precision."""

    def __init__(self, buckets: int, index: array[int], weights: bytes | memoryview, bias: list[float]) -> None:
        self.buckets = buckets
        self.index = index
        self.bias = bias
        self._row = struct.Struct(f"<{len(bias)}e")
        if len(weights) != len(index) * self._row.size:
            raise ValueError(f"{len(weights)} bytes of weights for {len(index)} rows of {len(bias)} classes")
        self.weights = weights
        self._dense: tuple[Any, Any, Any] | None = None  # numpy (rows by bucket, weights, bias) once vectorised

    def vectorise(self) -> None:
        """Hold the weights as numpy arrays from now on (imports numpy)."""
        import numpy as np

        if self._dense is None:
            rows = _rows_by_bucket(self.buckets, self.index)
            weights = np.frombuffer(self.weights, dtype="<f2").reshape(len(self.index), len(self.bias))
            self._dense = (rows, weights.astype(np.float32), np.array(self.bias, dtype=np.float32))

    def logits(self, feats: dict[int, float]) -> list[float]:
        if self._dense is not None:
            return self._dense_logits(feats)
        size, weights = self._row.size, self.weights
        rows: list[bytes | memoryview] = []
        values: list[float] = []
        for i, value in _stored(self.index, feats):
            rows.append(weights[i * size : (i + 1) * size])
            values.append(value)
        k = len(self.bias)
        flat = struct.unpack(f"<{len(rows) * k}e", b"".join(rows))
        return [self.bias[c] + sum(map(operator.mul, values, flat[c::k])) for c in range(k)]

    def _dense_logits(self, feats: dict[int, float]) -> list[float]:
        import numpy as np

        assert self._dense is not None
        rows, weights, bias = self._dense
        if not feats:
            return list(self.bias)
        ids = np.fromiter(feats.keys(), dtype=np.int64, count=len(feats))
        values = np.fromiter(feats.values(), dtype=np.float32, count=len(feats))
        found = rows[ids]
        used = found >= 0
        return list((bias + values[used] @ weights[found[used]]).tolist())


class _Network:
    """The task model: hashed features, one hidden layer of ReLU units, a logit per class. The input layer is
    stored sparsely like :class:`_Linear`'s, its rows as int8 with a float scale per row. Pure Python until
    :meth:`vectorise` (see :class:`_Linear`: the same trade, the same logits to float32 precision)."""

    def __init__(
        self,
        buckets: int,
        index: array[int],
        hidden_q: bytes | memoryview,
        hidden_scale: Sequence[float],
        hidden_bias: list[float],
        out_weights: list[float],
        out_bias: list[float],
    ) -> None:
        self.buckets = buckets
        self.index = index
        self.width = len(hidden_bias)
        if len(hidden_q) != len(index) * self.width or len(hidden_scale) != len(index):
            raise ValueError(f"hidden layer of {len(hidden_q)} bytes for {len(index)} rows of {self.width} units")
        if len(out_weights) != self.width * len(out_bias):
            raise ValueError(f"{len(out_weights)} output weights for {self.width} units and {len(out_bias)} classes")
        self.hidden_q = hidden_q
        self.hidden_scale = hidden_scale
        self.hidden_bias = hidden_bias
        self.out_bias = out_bias
        k = len(out_bias)
        self._out_columns = [out_weights[c::k] for c in range(k)]  # row-major (units x classes), by class
        self._out_weights = out_weights
        self._dense: tuple[Any, ...] | None = None

    def vectorise(self) -> None:
        """Hold the weights as numpy arrays from now on (imports numpy)."""
        import numpy as np

        if self._dense is None:
            rows = _rows_by_bucket(self.buckets, self.index)
            q = np.frombuffer(self.hidden_q, dtype=np.int8).reshape(len(self.index), self.width)
            self._dense = (
                rows,
                q,
                np.array(self.hidden_scale, dtype=np.float32),
                np.array(self.hidden_bias, dtype=np.float32),
                np.array(self._out_weights, dtype=np.float32).reshape(self.width, len(self.out_bias)),
                np.array(self.out_bias, dtype=np.float32),
            )

    def logits(self, feats: dict[int, float]) -> list[float]:
        if self._dense is not None:
            return self._dense_logits(feats)
        width, q = self.width, self.hidden_q
        rows: list[bytes | memoryview] = []
        values: list[float] = []
        for i, value in _stored(self.index, feats):
            rows.append(q[i * width : (i + 1) * width])
            values.append(value * self.hidden_scale[i])
        flat = struct.unpack(f"<{len(rows) * width}b", b"".join(rows))
        hidden = [max(0.0, b + sum(map(operator.mul, values, flat[u::width]))) for u, b in enumerate(self.hidden_bias)]
        return [
            b + sum(map(operator.mul, hidden, col)) for b, col in zip(self.out_bias, self._out_columns, strict=True)
        ]

    def _dense_logits(self, feats: dict[int, float]) -> list[float]:
        import numpy as np

        assert self._dense is not None
        rows, q, scale, b1, w2, b2 = self._dense
        hidden = b1
        if feats:
            ids = np.fromiter(feats.keys(), dtype=np.int64, count=len(feats))
            values = np.fromiter(feats.values(), dtype=np.float32, count=len(feats))
            found = rows[ids]
            used = found >= 0
            hit = found[used]
            hidden = b1 + (values[used] * scale[hit]) @ q[hit].astype(np.float32)
        return list((np.maximum(hidden, 0.0) @ w2 + b2).tolist())


def _stored(index: array[int], feats: dict[int, float]) -> Iterator[tuple[int, float]]:
    """``(row, value)`` of each feature whose bucket has a stored row (``index`` holds the used buckets,
    ascending); the others weigh nothing."""
    n = len(index)
    for bucket, value in feats.items():
        i = bisect_left(index, bucket)
        if i < n and index[i] == bucket:
            yield i, value


def _rows_by_bucket(buckets: int, index: array[int]) -> Any:
    """A numpy array giving each bucket's stored row, or -1 (imports numpy)."""
    import numpy as np

    rows = np.full(buckets, -1, dtype=np.int32)
    rows[np.frombuffer(index, dtype=np.int32)] = np.arange(len(index), dtype=np.int32)
    return rows


def read_npz(path: Path) -> dict[str, tuple[str, tuple[int, ...], bytes | memoryview]]:
    """``{name: (dtype, shape, raw bytes)}`` of the arrays in an ``.npz`` written by ``numpy.savez`` (without
    numpy: the format is a zip of ``.npy`` files, a short header then the C-order bytes). Object arrays and
    Fortran order are refused (``ValueError``); nothing is unpickled.

    Members stored uncompressed (``numpy.savez``) are views of the file mapped into memory: a request that
    needs a few hundred weight rows reads those pages only, not 9 MB (``zipfile`` would copy every byte and
    check its CRC, a tenth of the planner's start-up). Compressed members (``savez_compressed``) are read."""
    out: dict[str, tuple[str, tuple[int, ...], bytes | memoryview]] = {}
    with open(path, "rb") as f, zipfile.ZipFile(f) as z:
        mapped = memoryview(mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ))  # stays valid once f is closed
        for info in z.infolist():
            member = info.filename
            if info.compress_type == zipfile.ZIP_STORED:
                local = mapped[info.header_offset : info.header_offset + 30]
                if bytes(local[:4]) != b"PK\x03\x04":
                    raise ValueError(f"{path}: {member} has no local header where the directory says")
                name_len, extra_len = struct.unpack_from("<HH", local, 26)
                begin = info.header_offset + 30 + name_len + extra_len
                data: bytes | memoryview = mapped[begin : begin + info.file_size]
                if len(data) != info.file_size:
                    raise ValueError(f"{path}: {member} is cut short")
            else:
                data = z.read(member)
            if bytes(data[:6]) != b"\x93NUMPY":
                raise ValueError(f"{path}: {member} is not a .npy array")
            major = data[6]
            width = 2 if major == 1 else 4
            (length,) = struct.unpack_from("<H" if width == 2 else "<I", data, 8)
            header = ast.literal_eval(bytes(data[8 + width : 8 + width + length]).decode("latin-1"))
            dtype, shape = header["descr"], tuple(header["shape"])
            if header["fortran_order"] or not isinstance(dtype, str) or dtype not in _DTYPES:
                raise ValueError(f"{path}: {member} holds {dtype!r} (Fortran order {header['fortran_order']})")
            body = data[8 + width + length :]
            if len(body) != math.prod(shape) * _DTYPES[dtype]:
                raise ValueError(f"{path}: {member} is {len(body)} bytes, not {dtype} of shape {shape}")
            out[member.removesuffix(".npy")] = (dtype, shape, body)
    return out


_DTYPES = {"<i4": 4, "<f2": 2, "<f4": 4, "|i1": 1}
_Raw = tuple[str, tuple[int, ...], bytes | memoryview]


def _ints(array_: _Raw) -> array[int]:
    dtype, _shape, body = array_
    if dtype != "<i4":
        raise ValueError(f"bucket indices are {dtype}, not <i4")
    out = array("i")
    if out.itemsize != 4:  # pragma: no cover - no platform Python supports has another int size
        out = array("l")
    out.frombytes(body)
    if sys.byteorder == "big":  # pragma: no cover
        out.byteswap()
    return out


def _floats(array_: _Raw) -> list[float]:
    dtype, shape, body = array_
    code = {"<f2": "e", "<f4": "f"}.get(dtype)
    if code is None:
        raise ValueError(f"expected float16 or float32, not {dtype}")
    return list(struct.unpack(f"<{math.prod(shape)}{code}", body))


def _float32s(array_: _Raw) -> array[float]:
    """A float32 array as ``array("f")``: one copy of the bytes, no Python float per element until read."""
    dtype, _shape, body = array_
    if dtype != "<f4":
        raise ValueError(f"expected float32, not {dtype}")
    out = array("f")
    out.frombytes(body)
    if sys.byteorder == "big":  # pragma: no cover
        out.byteswap()
    return out


def _bytes_of(array_: _Raw, dtype: str) -> bytes | memoryview:
    if array_[0] != dtype:
        raise ValueError(f"expected {dtype}, not {array_[0]}")
    return array_[2]


def _halves(array_: _Raw) -> bytes | memoryview:
    dtype, _shape, body = array_
    if dtype != "<f2":
        raise ValueError(f"weights are {dtype}, not <f2 (float16)")
    return body


class DecisionModel:
    """Task and role decisions from shipped weights. Load with :meth:`load` (or :func:`default_model`)."""

    def __init__(self, meta: dict[str, Any], task: _Linear | _Network, role: _Linear) -> None:
        self.meta = meta
        self.tasks = [Task(t) for t in meta["tasks"]]
        self.role_classes = [Role(r) for r in meta["roles"]]
        self.temperature = float(meta.get("temperature", 1.0))
        self.role_temperature = float(meta.get("role_temperature", 1.0))
        self._task = task
        self._role = role

    def vectorise(self) -> DecisionModel:
        """Compute with numpy from now on: faster per request, after a one-off import (see ``_Linear``)."""
        self._task.vectorise()
        self._role.vectorise()
        return self

    @classmethod
    def load(cls, folder: str | Path | None = None, name: str = MODEL_NAME) -> DecisionModel:
        """Read ``<name>.json`` and ``<name>.npz`` from ``folder`` (default: the package's shipped weights).

        Raises ``FileNotFoundError`` when they are not there and ``ValueError`` when they were made for other
        features (retrain with ``make train-planner``)."""
        base = Path(folder) if folder is not None else Path(str(resources.files("unison_agent.planning") / "data"))
        meta = json.loads((base / f"{name}.json").read_text(encoding="utf-8"))
        if meta.get("feature_version") != FEATURE_VERSION:
            raise ValueError(
                f"{base / name}.npz was trained for features v{meta.get('feature_version')}, "
                f"these are v{FEATURE_VERSION}: run `make train-planner`"
            )
        z = read_npz(base / f"{name}.npz")
        task: _Linear | _Network
        if "task_hidden_q" in z:  # a network (the shipped model)
            task = _Network(
                int(meta["task_buckets"]),
                _ints(z["task_index"]),
                _bytes_of(z["task_hidden_q"], "|i1"),
                _float32s(z["task_hidden_scale"]),
                _floats(z["task_hidden_bias"]),
                _floats(z["task_out_weights"]),
                _floats(z["task_out_bias"]),
            )
        else:  # a logistic regression (models trained before the network)
            task = _Linear(
                int(meta["task_buckets"]), _ints(z["task_index"]), _halves(z["task_weights"]), _floats(z["task_bias"])
            )
        role = _Linear(
            int(meta["role_buckets"]), _ints(z["role_index"]), _halves(z["role_weights"]), _floats(z["role_bias"])
        )
        return cls(meta, task, role)

    # -------------------------------------------------------------------------------------------- tasks
    def task_probabilities(self, text: str, atts: list[Attachment], req: Reading | None) -> dict[Task, float]:
        """Calibrated probability of each task that the attachments allow (others are left out)."""
        z = self._task.logits(hashed(task_features(text, atts, req), self._task.buckets))
        allowed = set(feasible_tasks(atts))
        scores = {t: z[i] / self.temperature for i, t in enumerate(self.tasks) if t in allowed}
        return _softmax(scores)

    # -------------------------------------------------------------------------------------------- roles
    def role_probabilities(
        self, text: str, atts: list[Attachment], index: int, task: Task, rule_role: Role | None
    ) -> dict[Role, float]:
        """Calibrated probability of each role attachment ``index`` may play in ``task`` (by its medium)."""
        feats = hashed(role_features(text, atts, index, task, rule_role), self._role.buckets)
        z = self._role.logits(feats)
        scores = {
            r: z[i] / self.role_temperature for i, r in enumerate(self.role_classes) if _fits(task, r, atts[index])
        }
        return _softmax(scores)

    def assign_roles(
        self, text: str, atts: list[Attachment], task: Task, rule_roles: list[Role | None]
    ) -> tuple[dict[int, Role], dict[int, float]]:
        """The most likely role for every attachment, with one source/mask/control/first/last frame at most:
        ``({index: role}, {index: probability})``. Empty when the task fixes every role or no assignment
        fits (the rules then decide)."""
        if not atts or task not in ROLE_FAMILIES:
            role = fixed_role(task)
            return ({i: role for i in range(len(atts))}, {}) if role else ({}, {})
        probs = [self.role_probabilities(text, atts, i, task, rule_roles[i]) for i in range(len(atts))]
        if len(atts) > 6:  # more files than an exhaustive search should try: each its likeliest fitting role
            return _greedy(probs)
        best: tuple[float, tuple[Role, ...]] | None = None
        for combo in itertools.product(*(sorted(p) for p in probs)):
            singles = [r for r in combo if r in SINGLE_ROLES]
            if len(singles) != len(set(singles)):
                continue
            score = sum(math.log(max(p[r], 1e-12)) for p, r in zip(probs, combo, strict=True))
            if best is None or score > best[0]:
                best = (score, combo)
        if best is None:
            return {}, {}
        roles = dict(enumerate(best[1]))
        return roles, {i: probs[i][r] for i, r in roles.items()}

    def decide(
        self, text: str, atts: list[Attachment], req: Reading, rule_roles_for: Callable[[Task], list[Role | None]]
    ) -> Decision:
        """Task and roles for a request. ``rule_roles_for(task)`` gives the rules' role per attachment for a
        task (a feature of the role model)."""
        probs = self.task_probabilities(text, atts, req)
        ranked = sorted(probs.items(), key=lambda kv: -kv[1])
        task, p = ranked[0]
        if not _assignable(task, atts):
            # No way to give every file a part (three pictures cannot all be first or last frames): take the
            # likeliest task of the same kind that has one. With none ("brighten these two clips" has only
            # answers in text), keep the task; the rules then say which file has no part.
            task, p = next(
                ((t, q) for t, q in ranked if t.is_generation == task.is_generation and _assignable(t, atts)),
                (task, p),
            )
        twin = _VIDEO_TWIN.get(task)
        if req.meta.video_hint and twin is not None and twin in probs and _assignable(twin, atts):
            # Seconds, frames or fps were stated: a picture cannot have them (the contract gives images one
            # frame and no fps), so the request wants a clip made the same way: from text, from a reference,
            # from a control. In the corpus a stated length came with a still in 2 of 1,840 requests, both
            # decades read as seconds. (An edit of a picture has no such twin; understanding tasks keep the
            # numbers in their questions.)
            task, p = twin, probs[twin]
        runner = next(((t, q) for t, q in ranked if t is not task), None)
        roles, p_roles = self.assign_roles(text, atts, task, rule_roles_for(task) if task in ROLE_FAMILIES else [])
        return Decision(task, p, runner, roles, p_roles)


def _fits(task: Task, role: Role, att: Attachment) -> bool:
    """Whether ``att`` can play ``role`` in ``task``: the contract's medium, and in an edit the mask is the
    file that is one (a binary mask by its look, or named as one)."""
    if (role is Role.MASK) != (att.look == "mask" or "mask" in att.name) and task in _EDITING:
        return False  # in an edit, a mask is what looks (or is named) like one, and nothing else is
    return role in task.roles and att.media in media_for(task, role)


def _assignable(task: Task, atts: list[Attachment]) -> bool:
    """Whether every attachment can play a role of ``task`` at once (one source, mask, control, first and
    last frame at most)."""
    options = [[r for r in task.roles if _fits(task, r, a)] for a in atts]

    def place(i: int, taken: frozenset[Role]) -> bool:
        if i == len(options):
            return True
        return any(
            place(i + 1, taken | ({r} & SINGLE_ROLES)) for r in options[i] if r not in taken or r not in SINGLE_ROLES
        )

    return place(0, frozenset())


def _softmax(scores: dict[Any, float]) -> dict[Any, float]:
    if not scores:
        return {}
    top = max(scores.values())
    exp = {k: math.exp(v - top) for k, v in scores.items()}
    total = sum(exp.values())
    return {k: v / total for k, v in exp.items()}


def _greedy(probs: list[dict[Role, float]]) -> tuple[dict[int, Role], dict[int, float]]:
    roles: dict[int, Role] = {}
    taken: set[Role] = set()
    order = sorted(range(len(probs)), key=lambda i: -max(probs[i].values(), default=0.0))
    for i in order:
        for role, _p in sorted(probs[i].items(), key=lambda kv: -kv[1]):
            if role not in SINGLE_ROLES or role not in taken:
                roles[i] = role
                taken.add(role)
                break
    return roles, {i: probs[i][r] for i, r in roles.items()}


@cache
def default_model() -> DecisionModel:
    """The shipped model, loaded once per process."""
    return DecisionModel.load()
