"""Importing an MLflow tracking store (a ``sqlite:///`` database or an ``mlruns/`` directory).

Everything is read through MLflow's own client (``MlflowClient``), so a change
of MLflow's schema is MLflow's problem. What comes across (docs/mlflow.md):

- experiments (by name: an experiment that already exists here receives the runs);
- runs with their name, user, status, start and end times, parent run, params,
  tags, every metric's full history (step, value, timestamp) and artifacts;
  MLflow's run id is kept as ours when it is free;
- models logged with the sklearn flavor become ModelDesk models (joblib bytes,
  sha256, a signature from MLflow's input example or signature); models of
  other flavors are kept as plain artifacts and named in the summary;
- registered models with their description, versions and aliases. Versions are
  registered through the registry (``version.register`` audit entries, the
  importing user as actor). Aliases go through the governed paths: an ordinary
  alias is set with ``set_alias`` (an ``alias.set`` entry whose reason names the
  source); a protected alias (``production``) is never set by an import: a
  promotion request is opened instead, so the gates run and a teammate approves.

A second import of the same store adds only what is new: each imported object
is remembered in ``mlflow_imports`` (migration m009), keyed by MLflow's ids.
The import itself is one ``import.mlflow`` audit entry with the summary.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
import uuid
from array import array
from pathlib import Path
from typing import Callable

from .. import audit, clock
from ..errors import ModelDeskError
from ..identity import check_user
from ..storage.blobs import put_blob
from ..storage.project import Project
from .mlflow_models import is_model_dir, read_model_dir, store_sklearn_model
from .mlflow_registry import import_registry
from .mlflow_store import Progress, TransferSummary, client_for, remember, require_mlflow, store_uri

_STATUS = {"FINISHED": "FINISHED", "FAILED": "FAILED", "KILLED": "KILLED"}
_PAGE = 1000
_BULK = 200   # runs whose metric histories are fetched together
_BIG_ENDIAN = sys.byteorder == "big"


def known_imports(project: Project) -> dict[tuple[str, str], str]:
    """{(kind, mlflow_id): local_id} of everything imported from MLflow so far."""
    return {(k, m): loc for k, m, loc in project.read("SELECT kind, mlflow_id, local_id FROM mlflow_imports")}


def import_mlflow(project: Project, source: str, *, actor: str | None = None, progress: Progress | None = None,
                  should_stop: Callable[[], bool] | None = None) -> TransferSummary:
    """Import the MLflow store at ``source`` into ``project``; what was imported and skipped.

    ``progress(fraction, message)`` hears about each run and version;
    ``should_stop()`` is asked between them: when it says stop, what was
    imported stays (each run is one transaction), the summary says
    ``cancelled`` and the audit entry records it.
    """
    actor = check_user(actor or project.user)
    require_mlflow()   # first: without MLflow nothing else matters
    uri = store_uri(source, must_exist=True)
    client = client_for(uri)
    summary = TransferSummary(source=uri, target=str(project.path))
    say = progress or (lambda fraction, message="": None)
    stop = should_stop or (lambda: False)
    say(0.0, f"Reading {uri}")
    known = known_imports(project)
    runs, models_of_run = _read_runs(client, summary)
    registered = _read_registry(client)
    total = max(1, len(runs) + sum(len(vs) for _, vs in registered))
    done = 0
    tmp = Path(tempfile.mkdtemp(prefix="modeldesk-mlflow-"))
    try:
        local_run: dict[str, str] = {}
        histories: dict[str, dict] = {}
        for i, (exp, run) in enumerate(runs):
            if stop():
                summary.cancelled = True
                break
            done += 1
            mid = run.info.run_id
            if ("run", mid) in known:
                local_run[mid] = known[("run", mid)]
                continue
            if mid not in histories:
                histories = _histories(client, [r for _, r in runs[i:i + _BULK] if ("run", r.info.run_id) not in known])
            say(done / total, f"Run {run.info.run_name or mid[:8]} ({done:,} of {len(runs):,})")
            try:
                local_run[mid] = _import_run(project, client, uri, exp, run, histories.pop(mid), local_run, known,
                                             models_of_run.get(mid, []), tmp, summary, actor)
            except ModelDeskError as exc:
                summary.skip(f"run {mid[:8]}", str(exc))
        if not summary.cancelled:
            import_registry(project, uri, registered, known_imports(project), summary, actor,
                            tick=lambda m: say(min(1.0, (done + summary.counts.get("versions", 0)) / total), m),
                            stop=stop)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    say(1.0, "Done")
    details = summary.to_dict()
    details["skipped"] = details["skipped"][:200]   # the summary's head; the count says how many
    details["skipped_count"] = len(summary.skipped)
    audit.record(project, action="import.mlflow", actor=actor, details=details)
    return summary


# -- reading MLflow ------------------------------------------------------------------
def _read_runs(client, summary: TransferSummary):
    """[(experiment, run)], parents before children, and MLflow 3 logged models by run id."""
    from mlflow.entities import ViewType

    pairs = []
    models_of_run: dict[str, list] = {}
    for exp in _paged(lambda token: client.search_experiments(view_type=ViewType.ALL, max_results=_PAGE,
                                                                page_token=token)):
        if exp.lifecycle_stage == "deleted":
            summary.skip(f"experiment {exp.name!r}", "deleted in MLflow")
            continue
        runs = list(_paged(lambda token: client.search_runs(
            [exp.experiment_id], run_view_type=ViewType.ALL, max_results=_PAGE, page_token=token)))
        if not runs:
            if exp.name != "Default":
                summary.skip(f"experiment {exp.name!r}", "it has no runs")
            continue
        for run in runs:
            if run.info.lifecycle_stage == "deleted":
                summary.skip(f"run {run.info.run_id[:8]} ({exp.name})", "deleted in MLflow")
            else:
                pairs.append((exp, run))
        if hasattr(client, "search_logged_models"):   # MLflow 3 keeps models beside runs, not in them
            for lm in _paged(lambda token: client.search_logged_models(
                    experiment_ids=[exp.experiment_id], max_results=_PAGE, page_token=token)):
                if lm.source_run_id:
                    models_of_run.setdefault(lm.source_run_id, []).append(lm)
    return _parents_first(pairs), models_of_run


def _paged(fetch):
    token = None
    while True:
        page = fetch(token)
        yield from page
        token = getattr(page, "token", None)
        if not token:
            return


def _parents_first(pairs):
    by_id = {run.info.run_id: (exp, run) for exp, run in pairs}
    out, placed = [], set()

    def place(run_id: str, depth: int = 0) -> None:
        if run_id in placed or run_id not in by_id or depth > 100:
            return
        parent = by_id[run_id][1].data.tags.get("mlflow.parentRunId")
        if parent:
            place(parent, depth + 1)
        placed.add(run_id)
        out.append(by_id[run_id])

    for exp, run in sorted(pairs, key=lambda p: (p[1].info.start_time or 0, p[1].info.run_id)):
        place(run.info.run_id)
    return out


def _read_registry(client):
    """[(registered model, [versions oldest first])]."""
    out = []
    for rm in _paged(lambda token: client.search_registered_models(max_results=_PAGE, page_token=token)):
        name = rm.name.replace("'", "\\'")
        versions = list(_paged(lambda token: client.search_model_versions(
            f"name = '{name}'", max_results=_PAGE, page_token=token)))
        out.append((rm, sorted(versions, key=lambda v: int(v.version))))
    return out


# -- one run ---------------------------------------------------------------------------
def _histories(client, runs) -> dict[str, dict]:
    """{run id: {metric: [Metric]}} for ``runs``: the full history of every metric.

    MLflow's SQL store answers one query per metric for many runs at once
    (``get_metric_history_bulk``, what its own UI uses); other stores are asked
    run by run through the client.
    """
    out: dict[str, dict] = {r.info.run_id: {} for r in runs}
    store = getattr(getattr(client, "_tracking_client", None), "store", None)
    bulk = getattr(store, "get_metric_history_bulk", None)
    keys: dict[str, list[str]] = {}
    for r in runs:
        for key in r.data.metrics:
            keys.setdefault(key, []).append(r.info.run_id)
    for key, run_ids in keys.items():
        if bulk is not None:
            for found in bulk(run_ids, key, None):
                out[found.run_id].setdefault(key, []).append(found)   # a Metric that also names its run
            continue
        for run_id in run_ids:
            out[run_id][key] = client.get_metric_history(run_id, key)
    return out


def _import_run(project, client, uri, exp, run, histories: dict, local_run, known, logged_models, tmp: Path,
                summary: TransferSummary, actor: str) -> str:
    """Copy one run (rows, metric histories, artifacts, models) in one transaction; its id here."""
    info, data = run.info, run.data
    mid = info.run_id
    files, model_dirs = _download_artifacts(uri, run, tmp / mid)
    for lm in logged_models:
        target = tmp / mid / "__models__" / lm.model_id
        try:
            import mlflow.artifacts

            local = Path(mlflow.artifacts.download_artifacts(artifact_uri=lm.artifact_location,
                                                             dst_path=str(target), tracking_uri=uri))
        except Exception as exc:
            summary.skip(f"model {lm.name!r} of run {mid[:8]}", f"could not download it: {exc}")
            continue
        model_dirs.append((lm.name, local, lm.model_id))
    models = []
    for name, path, model_id in model_dirs:
        try:
            models.append((name, read_model_dir(path), path, model_id))
        except Exception as exc:   # a model MLflow cannot load here: keep its files
            summary.skip(f"model {name!r} of run {mid[:8]}", f"MLflow could not load it ({exc}); "
                                                              "its files are kept as artifacts")
            files += [(f"{name}/{p.relative_to(path).as_posix()}", p) for p in sorted(path.rglob("*"))
                      if p.is_file()]
    status = _STATUS.get(info.status, "KILLED")
    if status != info.status:
        summary.notes.append(f"Run {mid[:8]} was {info.status} in MLflow: imported as KILLED "
                             "(no ModelDesk process is writing to it).")
    start = (info.start_time or 0) / 1000.0
    end = info.end_time / 1000.0 if info.end_time else None
    user = data.tags.get("mlflow.user") or info.user_id or actor
    parent = data.tags.get("mlflow.parentRunId")
    now = clock.now()
    with project.write() as w:
        exp_id = _experiment(w, exp, uri, known, summary, now)
        taken = w.execute("SELECT 1 FROM runs WHERE id = ?", (mid,)).fetchone()
        run_id = uuid.uuid4().hex if taken else mid
        parent_rid = None
        if parent and parent in local_run:
            parent_rid = w.execute("SELECT rid FROM runs WHERE id = ?", (local_run[parent],)).fetchone()[0]
        elif parent:
            summary.notes.append(f"Run {mid[:8]}'s parent {parent[:8]} is not in the import: imported without it.")
        rid = w.execute(
            "INSERT INTO runs (id, experiment_id, name, status, user, start_time, end_time, parent_rid)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (run_id, exp_id, info.run_name or f"run-{mid[:8]}", status, user, start, end, parent_rid)).lastrowid
        w.executemany("INSERT INTO params (run_rid, key, value) VALUES (?, ?, ?)",
                      [(rid, k, str(v)) for k, v in data.params.items()])
        tags = dict(data.tags)
        tags["modeldesk.imported_from"] = f"mlflow:{mid}"
        w.executemany("INSERT INTO tags (run_rid, key, value) VALUES (?, ?, ?)", [(rid, k, str(v)) for k, v in
                                                                                  tags.items()])
        points = _write_metrics(w, rid, histories)
        for path, local in files:
            content = local.read_bytes()
            w.execute("INSERT INTO artifacts (run_rid, path, sha256, size, created_at) VALUES (?, ?, ?, ?, ?)"
                      " ON CONFLICT (run_rid, path) DO NOTHING", (rid, path, put_blob(w, content), len(content), now))
        kept = []
        for name, model, path, model_id in models:
            if model.estimator is None:
                for p in sorted(path.rglob("*")):
                    if p.is_file():
                        content = p.read_bytes()
                        w.execute("INSERT INTO artifacts (run_rid, path, sha256, size, created_at)"
                                  " VALUES (?, ?, ?, ?, ?) ON CONFLICT (run_rid, path) DO NOTHING",
                                  (rid, f"{name}/{p.relative_to(path).as_posix()}", put_blob(w, content),
                                   len(content), now))
                summary.skip(f"model {name!r} of run {mid[:8]}",
                             f"flavor {', '.join(model.flavors) or 'unknown'} is not scikit-learn; "
                             f"its files are kept as artifacts under {name}/")
                continue
            said: list[str] = []
            store_sklearn_model(w, rid, name, model, now, said)
            summary.notes += [f"Model {name!r} of run {mid[:8]}: {note}." for note in said]
            kept.append(name)
            for key in {f"{mid}/{name}", model_id}:
                if key:
                    remember(w, "model", key, f"{run_id}/{name}", uri, now)
        remember(w, "run", mid, run_id, uri, now)
    summary.add("runs")
    summary.add("params", len(data.params))
    summary.add("tags", len(data.tags))
    summary.add("metric points", points)
    summary.add("artifacts", len(files))
    summary.add("models", len(kept))
    return run_id


def _experiment(w, exp, uri, known, summary, now) -> int:
    row = w.execute("SELECT id FROM experiments WHERE name = ?", (exp.name,)).fetchone()
    key = f"{uri}#{exp.experiment_id}"
    if row is not None:
        if ("experiment", key) not in known and w.execute(
                "SELECT 1 FROM mlflow_imports WHERE kind = 'experiment' AND mlflow_id = ?", (key,)).fetchone() is None:
            remember(w, "experiment", key, str(row[0]), uri, now)
            summary.notes.append(f"Experiment {exp.name!r} already existed here: its MLflow runs were added to it.")
        return row[0]
    created = (exp.creation_time or 0) / 1000.0 or now
    eid = w.execute("INSERT INTO experiments (name, created_at) VALUES (?, ?)", (exp.name, created)).lastrowid
    remember(w, "experiment", key, str(eid), uri, now)
    summary.add("experiments")
    return eid


def _download_artifacts(uri: str, run, dest: Path):
    """The run's artifact files [(path, local file)] and model directories [(name, dir, None)].

    Listed and fetched through MLflow's artifact repository for the run's
    artifact URI (what ``MlflowClient.list_artifacts`` does after looking the
    run up again; we already hold the run, and that lookup was half the time).
    """
    from mlflow.store.artifact.artifact_repository_registry import get_artifact_repository

    repo = get_artifact_repository(run.info.artifact_uri, tracking_uri=uri)
    files, models = [], []
    pending: list[str | None] = [None]
    listed = []
    while pending:
        path = pending.pop()
        entries = repo.list_artifacts(path)
        names = {Path(e.path).name for e in entries}
        if path and "MLmodel" in names:
            models.append(path)
            continue
        for e in entries:
            (pending if e.is_dir else listed).append(e.path)
    if not listed and not models:
        return files, []
    dest.mkdir(parents=True, exist_ok=True)
    root = Path(repo.download_artifacts("", str(dest)))
    for path in listed:
        files.append((path, root / path))
    out = []
    for path in models:
        local = root / path
        if is_model_dir(local):
            out.append((path, local, None))
    return files, out


def _write_metrics(w, rid: int, histories: dict) -> int:
    """Each metric's full history as one packed chunk, and its latest point; how many points."""
    total = 0
    for key, points in histories.items():
        if not points:
            continue
        w.execute("INSERT OR IGNORE INTO metric_keys (name) VALUES (?)", (key,))
        kid = w.execute("SELECT id FROM metric_keys WHERE name = ?", (key,)).fetchone()[0]
        steps = array("q", (int(p.step or 0) for p in points))
        values = array("d", (float(p.value) for p in points))
        stamps = array("d", ((p.timestamp or 0) / 1000.0 for p in points))
        best = max(range(len(points)), key=lambda i: (steps[i], stamps[i], i))
        value = values[best]
        w.execute("INSERT INTO latest_metrics (run_rid, key, value, step, timestamp) VALUES (?, ?, ?, ?, ?)",
                  (rid, key, None if value != value else value, steps[best], stamps[best]))
        lo, hi = min(steps), max(steps)
        if _BIG_ENDIAN:
            for a in (steps, values, stamps):
                a.byteswap()
        w.execute("INSERT INTO metric_chunks (run_rid, key_id, n, min_step, max_step, steps, vals, timestamps)"
                  " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                  (rid, kid, len(points), lo, hi, steps.tobytes(), values.tobytes(), stamps.tobytes()))
        total += len(points)
    return total

