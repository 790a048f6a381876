"""``modeldesk gc``: purge deleted runs for good, then the blobs nothing refers to.

Purging removes a deleted run's row with its params, tags, metrics,
artifacts, dataset links and logged models, in batches (one transaction
each, progress and cancel between them). Afterwards datasets no run logged
any more, environments nothing names, deleted experiments left without runs,
and blobs that no table refers to are removed too. Which columns refer to
blobs is read from the schema (every foreign key to ``blobs``), so a table
added later is respected without a change here.

Kept, and said so: a deleted run behind a registered model version (the
registry needs its lineage; the refusal names the version), a run still
being logged by a live process (its next flush needs the row), a run whose model
a server has logged predictions for (drift needs its training data), and a
run another table still refers to. Each batch writes one ``gc.purge`` audit
entry listing the run ids it removed, so ``restore`` can say a run is gone
for good and an auditor sees who purged what and when.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from .. import audit, clock
from ..errors import RefusedError, UsageError
from ..storage.project import Project
from .lifecycle import find_rid
from .runs import reap_dead_runs

BATCH = 500
_OWNED = ("params", "tags", "latest_metrics", "metric_chunks", "artifacts", "run_datasets", "logged_models")
_IDS = "SELECT value FROM json_each(?)"


@dataclass(frozen=True)
class KeptRun:
    """A deleted run gc did not purge, and why."""

    run_id: str
    run_name: str
    reason: str


@dataclass
class GcResult:
    purged_runs: list[str] = field(default_factory=list)
    purged_experiments: list[str] = field(default_factory=list)
    kept: list[KeptRun] = field(default_factory=list)
    blobs: int = 0
    bytes: int = 0
    cancelled: bool = False
    dry_run: bool = False


def _references(conn, target: str) -> list[tuple[str, str]]:
    """(table, column) pairs whose foreign key points at ``target``'s table."""
    out = []
    tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
    for table in tables:
        for fk in conn.execute(f"PRAGMA foreign_key_list(\"{table}\")"):
            if fk[2] == target:
                out.append((table, fk[3]))
    return out


def _kept(project: Project, candidates: list[tuple[int, str, str]]) -> dict[int, str]:
    """rid -> why it cannot be purged."""
    rids = json.dumps([c[0] for c in candidates])
    why: dict[int, str] = {}
    for rid, model, version in project.read(
            f"SELECT v.run_rid, m.name, v.version FROM model_versions v JOIN registered_models m ON m.id = v.model_id"
            f" WHERE v.run_rid IN ({_IDS}) ORDER BY m.name, v.version", (rids,)):
        why[rid] = why.get(rid, "it is behind registered model") + f" {model} v{version}"
    for rid in list(why):
        why[rid] += " (a registered version keeps its run's lineage; restore the run to see it again)"
    reap_dead_runs(project)   # a run whose process died is KILLED, not RUNNING
    for rid, in project.read(f"SELECT rid FROM runs WHERE rid IN ({_IDS}) AND status = 'RUNNING'", (rids,)):
        why.setdefault(rid, "it is still running (a process is logging into it; delete it again once it ended)")
    for rid, in project.read(f"SELECT r.rid FROM runs r WHERE r.rid IN ({_IDS}) AND EXISTS"
                             " (SELECT 1 FROM served_versions s WHERE s.run_id = r.id)", (rids,)):
        why.setdefault(rid, "a model server logged predictions of its model (drift needs its training data)")
    known = set(_OWNED) | {"runs", "model_versions"}
    for table, column in _references(project.conn, "runs"):
        if table in known:
            continue
        for rid, in project.read(f"SELECT DISTINCT \"{column}\" FROM \"{table}\" WHERE \"{column}\" IN ({_IDS})",
                                 (rids,)):
            why.setdefault(rid, f"the table {table} still refers to it")
    return why


def _purge_batch(project: Project, batch: list[tuple[int, str, str]], actor: str) -> None:
    rids = json.dumps([b[0] for b in batch])
    with project.write() as w:
        w.execute(f"UPDATE runs SET parent_rid = NULL WHERE parent_rid IN ({_IDS})", (rids,))
        for table in _OWNED:
            w.execute(f"DELETE FROM {table} WHERE run_rid IN ({_IDS})", (rids,))
        w.execute(f"DELETE FROM drift_windows WHERE run_id IN (SELECT id FROM runs WHERE rid IN ({_IDS}))", (rids,))
        w.execute(f"DELETE FROM runs WHERE rid IN ({_IDS})", (rids,))
        audit.append(w, actor=actor, action="gc.purge",
                     details={"runs": [b[1] for b in batch], "names": [b[2] for b in batch]})


def _sweep(project: Project, actor: str, result: GcResult) -> None:
    """Datasets, environments, emptied deleted experiments and blobs nothing refers to."""
    with project.write() as w:
        for table, key, extra in (("datasets", "fingerprint", ["SELECT reference FROM drift_windows"]),
                                  ("environments", "sha256", [])):
            refs = [f"SELECT \"{c}\" FROM \"{t}\" WHERE \"{c}\" IS NOT NULL" for t, c in _references(w, table)]
            if refs:
                w.execute(f"DELETE FROM {table} WHERE {key} NOT IN ({' UNION '.join(refs + extra)})")
        gone = [r[0] for r in w.execute("SELECT name FROM experiments e WHERE deleted_at IS NOT NULL AND NOT EXISTS"
                                        " (SELECT 1 FROM runs r WHERE r.experiment_id = e.id)")]
        w.execute("DELETE FROM experiments WHERE deleted_at IS NOT NULL AND NOT EXISTS"
                  " (SELECT 1 FROM runs r WHERE r.experiment_id = experiments.id)")
        refs = [f"SELECT \"{c}\" FROM \"{t}\" WHERE \"{c}\" IS NOT NULL"
                for t, c in _references(w, "blobs") if t != "blob_chunks"]
        orphans = w.execute(f"SELECT sha256, size FROM blobs WHERE sha256 NOT IN ({' UNION '.join(refs)})").fetchall()
        if orphans:
            digests = json.dumps([o[0] for o in orphans])
            w.execute(f"DELETE FROM blob_chunks WHERE sha256 IN ({_IDS})", (digests,))
            w.execute(f"DELETE FROM blobs WHERE sha256 IN ({_IDS})", (digests,))
        result.purged_experiments = gone
        result.blobs, result.bytes = len(orphans), sum(o[1] for o in orphans)
        if orphans or gone:
            audit.append(w, actor=actor, action="gc.sweep",
                         details={"blobs": len(orphans), "bytes": result.bytes, "experiments": gone})


def collect(project: Project, *, run_ids=None, older_than: float | None = None, dry_run: bool = False,
            actor: str | None = None, progress=None, should_stop=None) -> GcResult:
    """Purge deleted runs (all, those deleted ``older_than`` seconds ago or more, or ``run_ids``).

    Naming a run that is not deleted is a ``UsageError``; naming one that is
    kept (behind a registered version, ...) is a ``RefusedError`` that says
    why, and nothing is purged. Without ``run_ids`` the kept runs are listed
    in the result's ``kept`` and the others are purged. ``dry_run`` says what
    would go and changes nothing.
    """
    actor = actor or project.user
    result = GcResult(dry_run=dry_run)
    if run_ids is not None:
        rids = [find_rid(project, i) for i in ([run_ids] if isinstance(run_ids, str) else run_ids)]
        candidates = project.read(f"SELECT rid, id, name, deleted_at FROM runs WHERE rid IN ({_IDS})",
                                  (json.dumps(rids),))
        for _rid, run_id, _name, deleted_at in candidates:
            if deleted_at is None:
                raise UsageError(f"Run {run_id[:8]} is not deleted: delete it first; gc purges only deleted runs.")
    else:
        cutoff = None if older_than is None else clock.now() - float(older_than)
        candidates = project.read("SELECT rid, id, name, deleted_at FROM runs WHERE deleted_at IS NOT NULL"
                                  + ("" if cutoff is None else " AND deleted_at <= ?") + " ORDER BY rid",
                                  () if cutoff is None else (cutoff,))
    candidates = [(c[0], c[1], c[2]) for c in candidates]
    why = _kept(project, candidates) if candidates else {}
    result.kept = [KeptRun(c[1], c[2], why[c[0]]) for c in candidates if c[0] in why]
    if run_ids is not None and result.kept:
        k = result.kept[0]
        raise RefusedError(f"Run {k.run_id[:8]} ({k.run_name}) cannot be purged: {k.reason}.")
    todo = [c for c in candidates if c[0] not in why]
    if dry_run:
        result.purged_runs = [c[1] for c in todo]
        return result
    for start in range(0, len(todo), BATCH):
        if should_stop is not None and should_stop():
            result.cancelled = True
            return result
        batch = todo[start:start + BATCH]
        _purge_batch(project, batch, actor)
        result.purged_runs += [b[1] for b in batch]
        if progress is not None:
            progress(min(1.0, (start + len(batch)) / max(1, len(todo))) * 0.9, f"Purged {len(result.purged_runs):,}"
                     f" of {len(todo):,} runs")
    _sweep(project, actor, result)
    if progress is not None:
        progress(1.0, "Done")
    return result
