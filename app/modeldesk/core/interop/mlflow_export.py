"""Exporting a project into an MLflow store (a ``sqlite:///`` database, a directory or a server URL).

Written through MLflow's own client, so the store is MLflow's own: experiments
(by name), runs (name, user, status, start and end times, parent, params,
tags, every metric's full history, artifacts), each logged scikit-learn model
as an MLflow model directory among the run's artifacts (see
``mlflow_models.save_model_dir``), and registered models with their
description, versions and aliases.

Each exported run carries the tag ``modeldesk.run_id`` and each version
``modeldesk.version``: exporting again to the same store adds only what is new.
The export is one ``export.mlflow`` audit entry with its summary.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Callable

from .. import audit
from ..errors import ModelDeskError
from ..identity import check_user
from ..storage.blobs import get_blob
from ..storage.project import Project
from .mlflow_models import save_model_dir
from .mlflow_store import Progress, TransferSummary, client_for, require_mlflow, store_uri

RUN_TAG = "modeldesk.run_id"
VERSION_TAG = "modeldesk.version"
# MLflow's own limits per log_batch call.
_MAX_METRICS, _MAX_PARAMS, _MAX_TAGS = 1000, 100, 100
# Tags that described the run in the store it was imported from, and would be wrong in a new one.
_STALE_TAGS = ("mlflow.parentRunId", "mlflow.log-model.history", "modeldesk.imported_from")


def export_mlflow(project: Project, target: str, *, experiments: list[str] | None = None, actor: str | None = None,
                  progress: Progress | None = None, should_stop: Callable[[], bool] | None = None) -> TransferSummary:
    """Write the project's tracking data and registry into the MLflow store ``target``.

    ``experiments`` limits the export to those experiment names (registered
    versions follow their runs). Returns what was written and what was
    skipped, and why.
    """
    actor = check_user(actor or project.user)
    require_mlflow()   # first: without MLflow nothing else matters
    uri = store_uri(target, must_exist=False)
    client = client_for(uri)
    summary = TransferSummary(source=str(project.path), target=uri)
    say = progress or (lambda fraction, message="": None)
    stop = should_stop or (lambda: False)
    rows = _runs(project, experiments)
    total = max(1, len(rows))
    exported: dict[str, tuple[str, str]] = {}   # our run id -> (MLflow run id, its artifact URI)
    tmp = Path(tempfile.mkdtemp(prefix="modeldesk-export-"))
    try:
        by_experiment: dict[str, tuple[str, dict]] = {}
        for i, row in enumerate(rows, 1):
            if stop():
                summary.cancelled = True
                break
            rid, run_id, name, exp_name, status, user, start, end, parent = row
            if exp_name not in by_experiment:
                by_experiment[exp_name] = _experiment(client, exp_name, summary)
            exp_id, already = by_experiment[exp_name]
            if run_id in already:
                exported[run_id] = already[run_id]
                continue
            say(i / total, f"Run {name} ({i:,} of {len(rows):,})")
            try:
                exported[run_id] = _export_run(project, client, exp_id, row, exported.get(parent, (None,))[0],
                                               tmp / run_id, summary)
            except ModelDeskError as exc:
                summary.skip(f"run {run_id[:8]} ({name})", str(exc))
        if not summary.cancelled:
            _export_registry(project, client, exported, tmp, summary, stop)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    say(1.0, "Done")
    details = summary.to_dict()
    details["skipped"] = details["skipped"][:200]
    details["skipped_count"] = len(summary.skipped)
    audit.record(project, action="export.mlflow", actor=actor, details=details)
    return summary


def _runs(project: Project, experiments: list[str] | None) -> list[tuple]:
    """(rid, id, name, experiment, status, user, start, end, parent id) of the runs to export, parents first."""
    rows = project.read(
        "SELECT r.rid, r.id, r.name, e.name, r.status, r.user, r.start_time, r.end_time, p.id"
        " FROM runs r JOIN experiments e ON e.id = r.experiment_id LEFT JOIN runs p ON p.rid = r.parent_rid"
        " ORDER BY r.start_time, r.rid")
    if experiments:
        names = set(experiments)
        missing = names - {r[3] for r in rows}
        if missing:
            from ..errors import UsageError

            raise UsageError(f"No experiment {', '.join(sorted(missing))} in this project.")
        rows = [r for r in rows if r[3] in names]
    by_id = {r[1]: r for r in rows}
    out, placed = [], set()

    def place(run_id: str, depth: int = 0) -> None:
        if run_id in placed or run_id not in by_id or depth > 100:
            return
        if by_id[run_id][8]:
            place(by_id[run_id][8], depth + 1)
        placed.add(run_id)
        out.append(by_id[run_id])

    for r in rows:
        place(r[1])
    return out


def _experiment(client, name: str, summary: TransferSummary) -> tuple[str, dict]:
    """The MLflow experiment called ``name`` (created when missing) and the runs already exported into it."""
    from mlflow.entities import ViewType

    exp = client.get_experiment_by_name(name)
    if exp is None:
        summary.add("experiments")
        return client.create_experiment(name, artifact_location=_artifact_root(client, name)), {}
    already, token = {}, None
    while True:
        page = client.search_runs([exp.experiment_id], run_view_type=ViewType.ALL, max_results=1000,
                                  page_token=token)
        for run in page:
            ours = run.data.tags.get(RUN_TAG)
            if ours:
                already[ours] = (run.info.run_id, run.info.artifact_uri)
        token = page.token
        if not token:
            return exp.experiment_id, already


def _artifact_root(client, name: str) -> str | None:
    """Beside a ``sqlite:///`` store, in ``mlartifacts/`` (as ``mlflow server`` does), not in the current
    directory where MLflow would put them; elsewhere MLflow's own default."""
    uri = client.tracking_uri
    if not uri.startswith("sqlite:///"):
        return None
    safe = "".join(c if c.isalnum() or c in "._-" else "_" for c in name) or "experiment"
    root = Path(uri[len("sqlite:///"):]).parent / "mlartifacts" / safe
    return root.resolve().as_uri()


def _export_run(project, client, exp_id: str, row, parent: str | None, tmp: Path, summary) -> tuple[str, str]:
    from mlflow.entities import Metric, Param, RunTag

    from ..tracking.runs import get_metric_history

    rid, run_id, name, _, status, user, start, end, _ = row
    tags = {k: v for k, v in project.read("SELECT key, value FROM tags WHERE run_rid = ?", (rid,))
            if k not in _STALE_TAGS}
    tags.update({RUN_TAG: run_id, "mlflow.user": user})
    if parent:
        tags["mlflow.parentRunId"] = parent
    run = client.create_run(exp_id, start_time=int(start * 1000), tags={RUN_TAG: run_id}, run_name=name)
    mid = run.info.run_id
    params = [Param(k, v) for k, v in project.read("SELECT key, value FROM params WHERE run_rid = ?", (rid,))]
    tag_list = [RunTag(k, str(v)) for k, v in tags.items()]
    metrics = []
    for (key,) in project.read("SELECT key FROM latest_metrics WHERE run_rid = ? ORDER BY key", (rid,)):
        hist = get_metric_history(project, run_id, key)
        metrics += [Metric(key, float(v), int(round(t * 1000)), int(s))
                    for s, v, t in zip(hist["step"].tolist(), hist["value"].tolist(), hist["timestamp"].tolist())]
    for i in range(0, len(params), _MAX_PARAMS):
        client.log_batch(mid, params=params[i:i + _MAX_PARAMS])
    for i in range(0, len(tag_list), _MAX_TAGS):
        client.log_batch(mid, tags=tag_list[i:i + _MAX_TAGS])
    for i in range(0, len(metrics), _MAX_METRICS):
        client.log_batch(mid, metrics=metrics[i:i + _MAX_METRICS])
    files = project.read("SELECT path, sha256 FROM artifacts WHERE run_rid = ?", (rid,))
    if files:
        root = tmp / "artifacts"
        for path, sha in files:
            local = root / path
            local.parent.mkdir(parents=True, exist_ok=True)
            local.write_bytes(get_blob(project.conn, sha, what=f"artifact {path!r}"))
        client.log_artifacts(mid, str(root))
    for (model_name, flavor) in project.read("SELECT name, flavor FROM logged_models WHERE run_rid = ?", (rid,)):
        if flavor != "sklearn":
            summary.skip(f"model {model_name!r} of run {run_id[:8]}", f"flavor {flavor} has no MLflow export")
            continue
        directory = save_model_dir(project, f"runs:/{run_id}/{model_name}", tmp / "models" / model_name)
        client.log_artifacts(mid, str(directory), artifact_path=model_name)
        summary.add("models")
    if status != "RUNNING":
        client.set_terminated(mid, status=status, end_time=int(end * 1000) if end else None)
    summary.add("runs")
    summary.add("params", len(params))
    summary.add("metric points", len(metrics))
    summary.add("artifacts", len(files))
    return mid, client.get_run(mid).info.artifact_uri


def _export_registry(project, client, exported: dict, tmp: Path, summary, stop) -> None:
    """Registered models, their versions (each from its exported run) and aliases."""
    from mlflow.exceptions import MlflowException

    from ..registry.versions import list_models, list_versions

    for model in list_models(project):
        try:
            client.get_registered_model(model.name)
        except MlflowException:
            client.create_registered_model(model.name, description=model.description or None)
            summary.add("registered models")
        quoted = model.name.replace("'", "\\'")
        mapped = {mv.tags.get(VERSION_TAG): str(mv.version)
                  for mv in client.search_model_versions(f"name = '{quoted}'") if mv.tags.get(VERSION_TAG)}
        for v in list_versions(project, model.name):
            if stop():
                summary.cancelled = True
                return
            if str(v.version) in mapped:
                continue
            if v.run_id not in exported:
                summary.skip(f"{model.name} v{v.version}", f"its run {v.run_id[:8]} was not exported")
                continue
            mlflow_run, artifact_uri = exported[v.run_id]
            same = project.conn.execute(
                "SELECT 1 FROM logged_models l JOIN runs r ON r.rid = l.run_rid WHERE r.id = ? AND l.name = ?"
                " AND l.sha256 = ?", (v.run_id, v.logged_model, v.sha256)).fetchone()
            path = v.logged_model
            if same is None:   # the run's model was logged again after registering: export the version's own bytes
                path = f"{v.logged_model}-registered-v{v.version}"
                directory = save_model_dir(project, v.uri, tmp / "versions" / model.name / str(v.version))
                client.log_artifacts(mlflow_run, str(directory), artifact_path=path)
            mv = client.create_model_version(model.name, f"{artifact_uri}/{path}", run_id=mlflow_run,
                                             tags={VERSION_TAG: str(v.version), "modeldesk.sha256": v.sha256})
            mapped[str(v.version)] = str(mv.version)
            summary.add("versions")
            if str(mv.version) != str(v.version):
                summary.notes.append(f"{model.name} v{v.version} is version {mv.version} in MLflow.")
        for alias, version in sorted(model.aliases.items()):
            if str(version) not in mapped:
                summary.skip(f"alias {model.name}@{alias}", f"v{version} was not exported")
                continue
            current = None
            try:
                current = str(client.get_model_version_by_alias(model.name, alias).version)
            except MlflowException:
                pass
            if current != mapped[str(version)]:
                client.set_registered_model_alias(model.name, alias, mapped[str(version)])
                summary.add("aliases")
