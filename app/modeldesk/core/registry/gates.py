"""The automatic gates a version passes before it may be promoted.

1. ``artifact``  – the model's bytes verify against their sha256 and load.
2. ``predict``   – it predicts on its own stored input example.
3. ``signature`` – its inputs are compatible with the current production
   version's: the same columns, and types that production's callers can
   send (long→double is fine; double→long and string↔number are not).
4. ``metric``    – its primary metric (a setting) is not worse than
   production's beyond the tolerance.

With no production version yet the comparison gates (3, 4) pass, saying so.
Each gate returns a :class:`GateResult` with one readable line and details;
a gate never raises, whatever the model does.
"""

from __future__ import annotations

import io
import math
import time

from .. import clock
from ..errors import ModelDeskError
from ..storage.project import Project
from .entities import GateResult, ModelVersion, RegistrySettings

GATES = ("artifact", "predict", "signature", "metric")
GATE_TITLES = {"artifact": "Artifact loads and verifies", "predict": "Predicts on its input example",
               "signature": "Signature compatible with production",
               "metric": "Primary metric not worse than production"}
NO_BASELINE = "no production version to compare with"
# Types production's callers send (key) that a candidate expecting the value accepts.
COMPATIBLE = {("long", "double")}


def _error(exc: BaseException, limit: int = 300) -> str:
    """An exception as one line (sklearn's messages span several)."""
    text = " ".join(f"{type(exc).__name__}: {exc}".split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _result(gate: str, passed: bool, message: str, **details) -> GateResult:
    return GateResult(gate, bool(passed), message, details, clock.now())


def run_gates(project: Project, candidate: ModelVersion, baseline: ModelVersion | None,
              settings: RegistrySettings) -> list[GateResult]:
    """Run the four gates in order; a later gate that needs the model reports why it could not run."""
    artifact, model = artifact_gate(project, candidate)
    return [artifact, predict_gate(project, candidate, model), signature_gate(candidate, baseline),
            metric_gate(project, candidate, baseline, settings)]


def artifact_gate(project: Project, v: ModelVersion):
    """(result, loaded model or None)."""
    import joblib

    from ..storage.blobs import get_blob
    from .ledger import checked_sha256

    try:
        data = get_blob(project.conn, checked_sha256(project, v), what=f"model {v.name} v{v.version}")
    except ModelDeskError as exc:
        return _result("artifact", False, str(exc), sha256=v.sha256), None
    try:
        model = joblib.load(io.BytesIO(data))
    except Exception as exc:
        return _result("artifact", False, f"sha256 verified, but the model does not load: {_error(exc)}",
                       sha256=v.sha256), None
    cls = f"{type(model).__module__}.{type(model).__qualname__}"
    return _result("artifact", True, f"sha256 {v.sha256[:12]}… verified; loads as {type(model).__name__} "
                                     f"({len(data):,} bytes).", sha256=v.sha256, size=len(data), model_class=cls), model


def predict_gate(project: Project, v: ModelVersion, model) -> GateResult:
    """Predict on the version's stored input example with the already loaded ``model``."""
    if model is None:
        return _result("predict", False, "Not run: the artifact did not load.")
    if not v.input_example_sha256:
        return _result("predict", False, "No input example was stored with this model, so it cannot be checked. "
                                         "Log it with md.log_model(model, input_example=X[:5]) and register again.")
    try:
        import numpy as np

        from ..storage.blobs import get_blob
        from ..tracking.datasets import decode_frame
        from ..tracking.signature import numpy_input, to_json

        example = decode_frame(get_blob(project.conn, v.input_example_sha256, what="input example"))
        started = time.perf_counter()
        pred = model.predict(numpy_input(v.signature, example))
        ms = (time.perf_counter() - started) * 1000
        arr = np.asarray(pred)
    except Exception as exc:
        return _result("predict", False, f"Predicting on its input example failed: {_error(exc)}")
    rows = len(example)
    if arr.ndim == 0 or arr.shape[0] != rows:
        return _result("predict", False, f"Returned {arr.shape[0] if arr.ndim else 'a scalar'} predictions "
                                         f"for {rows} example rows.")
    if arr.dtype.kind in "fc" and not np.isfinite(arr).all():
        bad = int((~np.isfinite(arr)).reshape(rows, -1).any(axis=1).sum())
        return _result("predict", False, f"Predicted NaN or infinity for {bad} of {rows} example rows.", rows=rows)
    return _result("predict", True, f"Predicted {rows} rows of its input example in {ms:.1f} ms.",
                   rows=rows, milliseconds=round(ms, 3), predictions=to_json(arr[:5]))


def _inputs(v: ModelVersion) -> dict[str, str]:
    return {str(f["name"]): f["type"] for f in (v.signature.get("inputs") or [])}


def signature_gate(candidate: ModelVersion, baseline: ModelVersion | None) -> GateResult:
    """Compare input columns and types with ``baseline`` (production), as its callers see them."""
    if baseline is None:
        return _result("signature", True, f"Passed: {NO_BASELINE}.", baseline=None)
    cand, prod = _inputs(candidate), _inputs(baseline)
    where = f"production v{baseline.version}"
    if not cand:
        return _result("signature", False, f"v{candidate.version} has no recorded input signature; log it with "
                                            "an input_example so its columns can be compared.")
    if not prod:
        return _result("signature", True, f"Passed: {where} has no recorded input signature to compare with.",
                       baseline=baseline.version)
    needs = [c for c in cand if c not in prod]
    drops = [c for c in prod if c not in cand]
    changes = [{"column": c, "production": prod[c], "candidate": cand[c]} for c in cand
               if c in prod and prod[c] != cand[c] and (prod[c], cand[c]) not in COMPATIBLE]
    widened = [c for c in cand if c in prod and (prod[c], cand[c]) in COMPATIBLE]
    details = dict(baseline=baseline.version, needs=needs, drops=drops, type_changes=changes, widened=widened)
    problems = []
    if needs:
        problems.append(f"needs column(s) {where} does not take: {_cut(needs)}")
    if drops:
        problems.append(f"drops column(s) {where} takes: {_cut(drops)}")
    if changes:
        problems.append("incompatible type(s): " + _cut(
            [f"{c['column']} {c['production']}→{c['candidate']}" for c in changes]))
    if problems:
        return _result("signature", False, f"Not compatible with {where}: " + "; ".join(problems) + ".", **details)
    note = f" ({len(widened)} column(s) widened long→double)" if widened else ""
    return _result("signature", True, f"Same {len(cand)} input columns as {where}, compatible types{note}.",
                   **details)


def _cut(items: list[str], n: int = 5) -> str:
    return ", ".join(items[:n]) + (f" and {len(items) - n} more" if len(items) > n else "")


def _metric(project: Project, v: ModelVersion, key: str) -> float | None:
    from ..tracking.runs import get_run

    value = get_run(project, v.run_id).metrics.get(key)
    return None if value is None or (isinstance(value, float) and math.isnan(value)) else float(value)


def metric_gate(project: Project, candidate: ModelVersion, baseline: ModelVersion | None,
                settings: RegistrySettings) -> GateResult:
    """Compare the runs' primary metric with production's, by direction and tolerance."""
    metric = settings.primary_metric
    if not metric:
        return _result("metric", True, "Passed: no primary metric is set in the registry settings.", metric=None)
    key = metric.removeprefix("metrics.")
    direction, tol = settings.metric_direction, settings.tolerance
    try:
        value = _metric(project, candidate, key)
        base = _metric(project, baseline, key) if baseline is not None else None
    except ModelDeskError as exc:
        return _result("metric", False, f"Could not read the metric: {exc}")
    details = dict(metric=metric, direction=direction, tolerance=tol, candidate=value,
                   baseline=baseline.version if baseline else None, production=base)
    if value is None:
        return _result("metric", False, f"v{candidate.version}'s run has no metric {key!r}; log it with "
                                        f"md.log_metric({key!r}, ...), or change the primary metric.", **details)
    if baseline is None:
        return _result("metric", True, f"Passed: {NO_BASELINE} ({key} = {value:.6g}).", **details)
    if base is None:
        return _result("metric", True, f"Passed: production v{baseline.version}'s run has no metric {key!r} "
                                       f"to compare with ({key} = {value:.6g}).", **details)
    worse_by = (base - value) if direction == "higher" else (value - base)
    details["worse_by"] = worse_by
    head = (f"{key} {value:.6g} vs production v{baseline.version} {base:.6g} "
            f"({direction} is better)")
    if worse_by <= 0:
        return _result("metric", True, f"{head}: not worse.", **details)
    if worse_by <= tol + 1e-12:
        return _result("metric", True, f"{head}: worse by {worse_by:.4g}, within the tolerance {tol:g}.", **details)
    return _result("metric", False, f"{head}: worse by {worse_by:.4g}, beyond the tolerance {tol:g}.", **details)
