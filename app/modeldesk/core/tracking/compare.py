"""Comparing runs: what differed between them, and the numbers charts need.

Qt-free. The GUI's compare view loads a :class:`Comparison` off the GUI
thread (:func:`load_comparison`), shows its rows, and hands the arrays made
here (:func:`ema`, :func:`scatter_data`, :func:`parallel_data`) to its chart
classes. Values are compared as they were logged: params as text, metrics as
floats, datasets by fingerprint, environments by version strings.
"""

from __future__ import annotations

import csv
import hashlib
import io
import math
from dataclasses import dataclass, field
from typing import Any, Sequence

import numpy as np

from ..text import fmt_number
from .run_entities import DatasetRecord, Run

PARAMS, METRICS, ENVIRONMENT, DATASETS = "Params", "Metrics", "Environment", "Datasets"
SECTIONS = (PARAMS, METRICS, ENVIRONMENT, DATASETS)
ENV_FIELDS = (("python", "Python"), ("platform", "Platform"))
GIT_FIELDS = (("commit", "Git commit"), ("branch", "Git branch"), ("dirty", "Git dirty"))


@dataclass(frozen=True)
class Row:
    """One line of the comparison table: a key and its value in each run.

    ``values`` holds text (None where a run has no value). ``differs`` is
    True when the runs do not all agree (a missing value differs from any
    value).
    """

    section: str
    key: str
    values: tuple[str | None, ...]
    differs: bool


@dataclass(frozen=True)
class Comparison:
    """Everything the compare view shows, for runs in the order asked for."""

    runs: tuple[Run, ...]
    rows: tuple[Row, ...]
    same_data: bool | None       # None: no run logged a dataset
    same_packages: bool | None   # None: some run has no recorded environment
    environments: tuple[dict | None, ...] = ()
    datasets: tuple[tuple[DatasetRecord, ...], ...] = ()

    def visible_rows(self, only_differences: bool = False) -> list[Row]:
        return [r for r in self.rows if r.differs or not only_differences]

    @property
    def metric_keys(self) -> list[str]:
        return sorted({k for run in self.runs for k in run.metrics})

    @property
    def param_keys(self) -> list[str]:
        return sorted({k for run in self.runs for k in run.params})

    @property
    def numeric_param_keys(self) -> list[str]:
        return numeric_param_keys(self.runs)

    @property
    def categorical_param_keys(self) -> list[str]:
        return categorical_param_keys(self.runs)

    @property
    def differing_param_keys(self) -> list[str]:
        return [r.key for r in self.rows if r.section == PARAMS and r.differs]


def load_comparison(project, run_ids: Sequence[str]) -> Comparison:
    """Read the runs, their environments and datasets, and compare them.

    Slow for many runs on a big file: call it off the GUI thread.
    """
    from . import artifacts
    from . import runs as runs_mod

    runs = [runs_mod.get_run(project, rid) for rid in run_ids]
    envs = [artifacts.run_environment(project, run.id) for run in runs]
    datasets = [tuple(artifacts.list_datasets(project, run.id)) for run in runs]
    return build_comparison(runs, envs, datasets)


def build_comparison(runs: Sequence[Run], environments: Sequence[dict | None],
                     datasets: Sequence[Sequence[DatasetRecord]]) -> Comparison:
    """Rows for params, latest metrics, environment and dataset fingerprints."""
    rows = param_rows(runs) + metric_rows(runs) + environment_rows(environments) + dataset_rows(datasets)
    return Comparison(tuple(runs), tuple(rows), same_data(datasets), same_packages(environments),
                      tuple(environments), tuple(tuple(d) for d in datasets))


def _row(section: str, key: str, values: Sequence[str | None]) -> Row:
    return Row(section, key, tuple(values), len(set(values)) > 1)


def param_rows(runs: Sequence[Run]) -> list[Row]:
    keys = sorted({k for run in runs for k in run.params}, key=str.lower)
    return [_row(PARAMS, k, [run.params.get(k) for run in runs]) for k in keys]


def metric_rows(runs: Sequence[Run]) -> list[Row]:
    keys = sorted({k for run in runs for k in run.metrics}, key=str.lower)
    rows = []
    for k in keys:
        raw = [run.metrics.get(k) for run in runs]
        # Compare the floats, not their text: 0.1234567 and 0.1234568 differ.
        distinct = {("missing" if v is None else "nan" if math.isnan(v) else float(v)) for v in raw}
        rows.append(Row(METRICS, k, tuple(None if v is None else fmt_number(float(v)) for v in raw), len(distinct) > 1))
    return rows


def environment_rows(environments: Sequence[dict | None]) -> list[Row]:
    """Python, platform, git state, then one row per package whose version differs."""
    if not any(environments):
        return []
    envs = [env or {} for env in environments]
    rows = [_row(ENVIRONMENT, label, [_text(env.get(key)) for env in envs]) for key, label in ENV_FIELDS]
    gits = [env.get("git") or {} for env in envs]
    for key, label in GIT_FIELDS:
        values = [_text(git.get(key)) for git in gits]
        if any(v is not None for v in values):
            rows.append(_row(ENVIRONMENT, label, values))
    for name in differing_packages(environments):
        rows.append(_row(ENVIRONMENT, f"package {name}",
                         [_text((env.get("packages") or {}).get(name)) for env in envs]))
    return rows


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def differing_packages(environments: Sequence[dict | None]) -> list[str]:
    """Package names installed in a different version (or not at all) in some run."""
    packages = [(env or {}).get("packages") or {} for env in environments if env is not None]
    names = sorted({n for p in packages for n in p})
    return [n for n in names if len({p.get(n) for p in packages}) > 1]


def same_packages(environments: Sequence[dict | None]) -> bool | None:
    """True when every run recorded the same package versions; None if unknown."""
    if not environments or any(env is None for env in environments):
        return None
    return not differing_packages(environments)


def dataset_key(record: DatasetRecord) -> str:
    return f"{record.name} ({record.role})"


def dataset_rows(datasets: Sequence[Sequence[DatasetRecord]]) -> list[Row]:
    """One row per dataset name and role; the values are fingerprints."""
    maps = [{dataset_key(d): d.fingerprint for d in records} for records in datasets]
    keys = sorted({k for m in maps for k in m}, key=str.lower)
    return [_row(DATASETS, k, [m.get(k) for m in maps]) for k in keys]


def same_data(datasets: Sequence[Sequence[DatasetRecord]]) -> bool | None:
    """True when every run logged the same datasets (by name, role and fingerprint)."""
    maps = [{dataset_key(d): d.fingerprint for d in records} for records in datasets]
    if not any(maps):
        return None
    return all(m == maps[0] for m in maps[1:])


def yes_no(flag: bool | None) -> str:
    return "unknown" if flag is None else "yes" if flag else "no"


def comparison_csv(comparison: Comparison, only_differences: bool = False) -> str:
    """The comparison table as CSV text: section, key, one column per run, differs.

    Runs are headed by name and id (names need not be unique). Two summary
    lines follow the rows: same data, same packages.
    """
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["section", "key", *(f"{run.name} ({run.id[:8]})" for run in comparison.runs), "differs"])
    for row in comparison.visible_rows(only_differences):
        writer.writerow([row.section, row.key, *("" if v is None else v for v in row.values),
                         "yes" if row.differs else "no"])
    pad = [""] * len(comparison.runs)   # the answer sits in the first run's column
    for label, flag in (("Same data", comparison.same_data), ("Same packages", comparison.same_packages)):
        writer.writerow(["Summary", label, yes_no(flag), *pad[1:], ""])
    return out.getvalue()


PREFERRED_METRIC_WORDS = ("val_loss", "loss", "val", "auc", "acc", "f1", "r2", "rmse")


def coverage(runs: Sequence[Run], key: str) -> int:
    """How many runs have a value for ``params.<k>`` or ``metrics.<k>``."""
    kind, _, name = key.partition(".")
    source = "params" if kind == "params" else "metrics"
    return sum(getattr(run, source).get(name) is not None for run in runs)


def by_coverage(runs: Sequence[Run], keys: Sequence[str], kind: str) -> list[str]:
    """``keys`` (names of ``kind`` 'params' or 'metrics') with the most widely logged first; stable."""
    return sorted(keys, key=lambda k: -coverage(runs, f"{kind}.{k}"))


def preferred_metric(runs: Sequence[Run], keys: Sequence[str] | None = None,
                     widest: bool = True) -> str | None:
    """The metric to show first: a validation loss, a loss, then a validation score.

    With ``widest`` only the metrics most runs logged are considered (for
    charts with one point per run); without it, any (for curves).
    """
    keys = sorted({k for run in runs for k in run.metrics}) if keys is None else list(keys)
    if not keys:
        return None
    candidates = keys
    if widest:
        best = max(coverage(runs, f"metrics.{k}") for k in keys)
        candidates = [k for k in keys if coverage(runs, f"metrics.{k}") == best]
    for word in PREFERRED_METRIC_WORDS:
        for key in candidates:
            if word in key.lower():
                return key
    return candidates[0]


def to_float(value: Any) -> float:
    """A param or metric as a float; NaN when it is missing or not a number."""
    if value is None:
        return math.nan
    try:
        return float(value)
    except (TypeError, ValueError):
        text = str(value).strip().lower()
        return {"true": 1.0, "false": 0.0}.get(text, math.nan)


def _is_number(text: str | None) -> bool:
    if text is None:
        return True
    try:
        float(text)
    except (TypeError, ValueError):
        return False
    return True


def numeric_param_keys(runs: Sequence[Run]) -> list[str]:
    """Params whose logged values are all numbers (where present) in at least one run."""
    keys = sorted({k for run in runs for k in run.params}, key=str.lower)
    return [k for k in keys if all(_is_number(run.params.get(k)) for run in runs)
            and any(run.params.get(k) is not None for run in runs)]


def categorical_param_keys(runs: Sequence[Run]) -> list[str]:
    """Params with a logged value that is not a number (text such as 'rbf' or 'True')."""
    keys = sorted({k for run in runs for k in run.params}, key=str.lower)
    return [k for k in keys if not all(_is_number(run.params.get(k)) for run in runs)]


def run_value(run: Run, key: str) -> float:
    """The number behind ``params.<k>`` or ``metrics.<k>`` for one run (NaN if none)."""
    kind, _, name = key.partition(".")
    if kind == "params":
        return to_float(run.params.get(name))
    if kind == "metrics":
        value = run.metrics.get(name)
        return math.nan if value is None else float(value)
    raise ValueError(f"bad key {key!r}: use params.<name> or metrics.<name>")


NOT_LOGGED = "(not logged)"
JITTER = 0.25   # categorical x: points spread within +-JITTER of their category's index


def jitter(run_id: str) -> float:
    """A run's horizontal offset on a categorical axis: the same on every draw, within +-JITTER."""
    fraction = int.from_bytes(hashlib.blake2b(run_id.encode(), digest_size=8).digest(), "big") / 2.0**64
    return (2.0 * fraction - 1.0) * JITTER * 0.98


@dataclass(frozen=True)
class ScatterData:
    """Points of one run each; runs without both values are left out.

    On a categorical x (a text param) ``categories`` names the x ticks:
    a point sits at its category's index plus :func:`jitter`, and
    ``x_text`` holds each point's own value (:data:`NOT_LOGGED` for a run
    without the param). On a numeric x both are empty.
    """

    x: np.ndarray
    y: np.ndarray
    run_ids: tuple[str, ...]
    run_names: tuple[str, ...]
    x_key: str
    y_key: str
    missing: tuple[str, ...] = ()    # names of runs left out
    categories: tuple[str, ...] = ()
    x_text: tuple[str, ...] = ()

    @property
    def categorical(self) -> bool:
        return bool(self.categories)


def scatter_data(runs: Sequence[Run], x_key: str, y_key: str) -> ScatterData:
    kind, _, name = x_key.partition(".")
    if kind == "params" and name in categorical_param_keys(runs):
        return _categorical_scatter(runs, name, x_key, y_key)
    xs, ys, ids, names, missing = [], [], [], [], []
    for run in runs:
        x, y = run_value(run, x_key), run_value(run, y_key)
        if math.isfinite(x) and math.isfinite(y):
            xs.append(x), ys.append(y), ids.append(run.id), names.append(run.name)
        else:
            missing.append(run.name)
    return ScatterData(np.array(xs, dtype="float64"), np.array(ys, dtype="float64"), tuple(ids),
                       tuple(names), x_key, y_key, tuple(missing))


def _categorical_scatter(runs: Sequence[Run], param: str, x_key: str, y_key: str) -> ScatterData:
    """Runs at their category's index (sorted values, then NOT_LOGGED when some run lacks the param)."""
    texts = [None if run.params.get(param) is None else str(run.params[param]) for run in runs]
    categories = sorted({t for t in texts if t is not None})
    if any(t is None for t in texts):
        categories.append(NOT_LOGGED)
    index = {c: i for i, c in enumerate(categories)}
    xs, ys, ids, names, labels, missing = [], [], [], [], [], []
    for run, text in zip(runs, texts):
        y = run_value(run, y_key)
        if not math.isfinite(y):
            missing.append(run.name)
            continue
        label = NOT_LOGGED if text is None else text
        xs.append(index[label] + jitter(run.id)), ys.append(y)
        ids.append(run.id), names.append(run.name), labels.append(label)
    return ScatterData(np.array(xs, dtype="float64"), np.array(ys, dtype="float64"), tuple(ids), tuple(names),
                       x_key, y_key, tuple(missing), tuple(categories), tuple(labels))


@dataclass(frozen=True)
class ParallelAxis:
    """One vertical axis: numbers (linear or log10) or categories spread evenly."""

    key: str
    label: str
    kind: str                       # 'linear', 'log' or 'categorical'
    lo: float = 0.0
    hi: float = 1.0
    categories: tuple[str, ...] = ()

    def tick_text(self, value: float) -> str:
        return f"{value:.4g}"


@dataclass(frozen=True)
class ParallelData:
    """Run positions on normalised axes (0 bottom .. 1 top, NaN missing) and colour values."""

    axes: tuple[ParallelAxis, ...]
    positions: np.ndarray            # shape (runs, axes)
    colour: np.ndarray               # the metric per run (NaN when missing)
    colour_key: str
    run_ids: tuple[str, ...]
    run_names: tuple[str, ...]
    colour_range: tuple[float, float] = field(default=(0.0, 1.0))


def _axis(key: str, texts: list[str | None], label: str) -> tuple[ParallelAxis, np.ndarray]:
    nums = np.array([to_float(t) for t in texts], dtype="float64")
    present = [t for t in texts if t is not None]
    numeric = all(_is_number(t) for t in present) and bool(present)
    if not numeric:
        cats = tuple(sorted({str(t) for t in present}))
        index = {c: i for i, c in enumerate(cats)}
        span = max(len(cats) - 1, 1)
        pos = np.array([np.nan if t is None else (index[str(t)] / span if len(cats) > 1 else 0.5)
                        for t in texts], dtype="float64")
        return ParallelAxis(key, label, "categorical", 0.0, float(len(cats) - 1), cats), pos
    finite = nums[np.isfinite(nums)]
    if finite.size == 0:
        return ParallelAxis(key, label, "linear"), np.full(len(texts), np.nan)
    lo, hi = float(finite.min()), float(finite.max())
    kind = "log" if lo > 0 and hi / lo >= 1000 else "linear"
    if kind == "log":
        scaled, slo, shi = np.log10(np.where(nums > 0, nums, np.nan)), math.log10(lo), math.log10(hi)
    else:
        scaled, slo, shi = nums, lo, hi
    pos = np.full(len(texts), 0.5) if shi == slo else (scaled - slo) / (shi - slo)
    pos = np.where(np.isfinite(nums), pos, np.nan)
    return ParallelAxis(key, label, kind, lo, hi), pos


def parallel_data(runs: Sequence[Run], param_keys: Sequence[str], metric_key: str | None) -> ParallelData:
    """Axes for the chosen params and one metric (the last axis, and the colour)."""
    axes, columns = [], []
    for key in param_keys:
        axis, pos = _axis(f"params.{key}", [run.params.get(key) for run in runs], key)
        axes.append(axis), columns.append(pos)
    colour = np.full(len(runs), np.nan)
    if metric_key:
        colour = np.array([run_value(run, f"metrics.{metric_key}") for run in runs], dtype="float64")
        texts = [None if not math.isfinite(v) else repr(float(v)) for v in colour]
        axis, pos = _axis(f"metrics.{metric_key}", texts, metric_key)
        axes.append(axis), columns.append(pos)
    positions = np.column_stack(columns) if columns else np.empty((len(runs), 0))
    finite = colour[np.isfinite(colour)]
    rng = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0)
    return ParallelData(tuple(axes), positions, colour, metric_key or "", tuple(r.id for r in runs),
                        tuple(r.name for r in runs), rng)
