"""Deleting, restoring, renaming runs and experiments, and gc (issue 13, item 3)."""

from __future__ import annotations

import sqlite3

import pytest

from modeldesk.core import audit
from modeldesk.core.errors import NotFoundError, RefusedError, UsageError
from modeldesk.core.tracking import artifacts, browse, gc, lifecycle
from modeldesk.core.tracking.runs import RunQuery, list_experiments, run_rids
from support.registry import log_run


def _runs(md, n=3, experiment="churn"):
    md.set_experiment(experiment)
    ids = []
    for i in range(n):
        with md.start_run(name=f"r{i}") as run:
            md.log_params({"i": i})
            md.log_metric("auc", 0.8 + i / 100)
            md.log_text(f"notes of run {i}", "notes.txt")
        ids.append(run.id)
    md.flush()
    return ids


def test_deleted_runs_are_hidden_and_shown_on_request(md):
    ids = _runs(md)
    deleted = md.delete_run(ids[0])
    assert deleted.lifecycle_stage == "deleted" and deleted.info.lifecycle_stage == "deleted"
    assert set(md.search_runs()["run_id"]) == set(ids[1:])
    assert set(md.search_runs(run_view_type="deleted")["run_id"]) == {ids[0]}
    assert set(md.search_runs(run_view_type="ALL")["run_id"]) == set(ids)
    assert set(md.search_runs(run_view_type=3)["run_id"]) == set(ids)
    assert list(md.search_runs(run_view_type="all").set_index("run_id").loc[ids[0], ["lifecycle_stage"]]) == \
        ["deleted"]
    project = md.get_project()
    assert len(run_rids(project, RunQuery())) == 2                       # the GUI's query
    assert len(run_rids(project, RunQuery(lifecycle="deleted"))) == 1
    assert browse.resolve(project, RunQuery()).count == 2
    assert [e.run_count for e in list_experiments(project)] == [2]
    assert [e.run_count for e in list_experiments(project, "deleted")] == [1]
    # still readable by id: get_run, artifacts, history
    assert md.get_run(ids[0]).params == {"i": "0"}
    assert artifacts.read_artifact(project, ids[0], "notes.txt") == b"notes of run 0"
    assert list(md.get_metric_history(ids[0], "auc")["value"]) == [0.8]
    with pytest.raises(UsageError, match="Unknown run view"):
        md.search_runs(run_view_type="gone")


def test_restore_brings_a_run_back_unchanged(md):
    ids = _runs(md)
    before = md.get_run(ids[1])
    md.delete_run(ids[1])
    md.delete_run(ids[1])    # deleting twice is fine
    restored = md.restore_run(ids[1])
    assert restored == before
    assert set(md.search_runs()["run_id"]) == set(ids)
    assert md.restore_run(ids[1]) == before   # restoring an active run changes nothing


def test_logging_into_a_deleted_run_or_experiment_is_refused(md):
    ids = _runs(md, 1)
    md.delete_run(ids[0])
    with pytest.raises(RefusedError, match="is deleted: restore it"):
        md.start_run(run_id=ids[0])
    md.create_experiment("old")
    md.delete_experiment("old")
    with pytest.raises(RefusedError, match="'old' is deleted"):
        md.set_experiment("old")


def test_rename_runs_and_experiments(md):
    ids = _runs(md, 2)
    assert md.rename_run(ids[0], "  best  ").name == "best"
    assert md.rename_run(ids[1], "best").name == "best"       # run names need not be unique
    with pytest.raises(UsageError, match="non-empty"):
        md.rename_run(ids[0], " ")
    with pytest.raises(UsageError, match="control characters"):
        md.rename_run(ids[0], "a\nb")
    exp = md.rename_experiment("churn", "churn-2026")
    assert exp.name == "churn-2026" and md.get_run(ids[0]).experiment == "churn-2026"
    assert md.rename_experiment("churn-2026", "Churn-2026").name == "Churn-2026"   # own case change: fine
    md.create_experiment("fraud")
    with pytest.raises(RefusedError, match="'fraud' already exists .names are compared ignoring case"):
        md.rename_experiment("Churn-2026", "FRAUD")
    with pytest.raises(RefusedError, match="'fraud' already exists"):
        md.create_experiment("Fraud")
    with pytest.raises(RefusedError, match="already exists"):
        md.create_experiment("fraud")
    with pytest.raises(NotFoundError, match="No experiment 'nope'"):
        md.rename_experiment("nope", "x")


def test_deleting_an_experiment_deletes_its_runs_and_restore_brings_back_the_same(md):
    ids = _runs(md, 3)
    md.delete_run(ids[0])                  # deleted before: stays deleted after the experiment's restore
    exp = md.delete_experiment("churn")
    assert exp.lifecycle_stage == "deleted"
    assert md.search_runs().empty
    assert [e.name for e in md.search_experiments()] == []
    assert [e.name for e in md.search_experiments("all")] == ["churn"]
    with pytest.raises(RefusedError, match="deleted experiment 'churn': restore the experiment"):
        md.restore_run(ids[1])
    with pytest.raises(RefusedError, match="'churn' already exists .deleted"):
        md.create_experiment("churn")
    md.restore_experiment("churn")
    assert set(md.search_runs()["run_id"]) == set(ids[1:])
    assert md.get_experiment_by_name("churn").lifecycle_stage == "active"


def test_the_default_experiment_cannot_be_deleted(md):
    with md.start_run():
        pass
    with pytest.raises(RefusedError, match="'Default' experiment cannot be deleted"):
        md.delete_experiment("Default")


def test_deleting_a_registered_run_is_audited_and_the_version_keeps_working(md):
    run_id = log_run(md)
    md.register_model(f"runs:/{run_id}/model", "churn")
    md.delete_run(run_id)
    project = md.get_project()
    [entry] = audit.list_entries(project, action="run.delete")
    assert (entry.model, entry.version, entry.details["run_id"], entry.actor) == ("churn", 1, run_id, "tester")
    assert md.load_model("models:/churn/1") is not None          # registry and serving keep working
    assert md.load_model(f"runs:/{run_id}/model") is not None
    from modeldesk.core.registry.versions import version_lineage

    assert version_lineage(project, "churn", 1) is not None
    md.restore_run(run_id)
    assert [e.action for e in audit.list_entries(project, action="run.")] == ["run.delete", "run.restore"]
    assert audit.verify(project).ok
    # deleting a run that is not registered writes nothing to the audit log
    other = _runs(md, 1)[0]
    count = len(audit.list_entries(project))
    md.delete_run(other)
    assert len(audit.list_entries(project)) == count


def test_gc_purges_deleted_runs_and_their_blobs(md):
    ids = _runs(md, 3)
    project = md.get_project()
    blobs_before = project.conn.execute("SELECT COUNT(*) FROM blobs").fetchone()[0]
    md.delete_run(ids[0])
    dry = gc.collect(project, dry_run=True)
    assert dry.purged_runs == [ids[0]] and md.get_run(ids[0]).lifecycle_stage == "deleted"
    result = gc.collect(project)
    assert result.purged_runs == [ids[0]] and result.kept == []
    assert result.blobs == 1 and result.bytes == len(b"notes of run 0")
    assert project.conn.execute("SELECT COUNT(*) FROM blobs").fetchone()[0] == blobs_before - 1
    for table in ("params", "latest_metrics", "metric_chunks", "artifacts"):
        assert project.conn.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0] == 2, table
    with pytest.raises(NotFoundError, match="was purged by `gc` on .* by tester: it is gone for good"):
        md.restore_run(ids[0])
    with pytest.raises(NotFoundError, match="was purged"):   # a prefix too
        lifecycle.find_rid(project, ids[0][:8])
    [entry] = audit.list_entries(project, action="gc.purge")
    assert entry.details["runs"] == [ids[0]]
    assert [e.action for e in audit.list_entries(project, action="gc.")] == ["gc.purge", "gc.sweep"]
    assert audit.verify(project).ok
    assert sqlite3.connect(project.path).execute("PRAGMA foreign_key_check").fetchall() == []
    assert gc.collect(project).purged_runs == []     # nothing left: a no-op


def test_gc_refuses_a_run_behind_a_registered_version_naming_it(md):
    registered = log_run(md, name="kept")
    md.register_model(f"runs:/{registered}/model", "churn")
    plain = _runs(md, 1)[0]
    md.delete_run(registered)
    md.delete_run(plain)
    project = md.get_project()
    with pytest.raises(RefusedError, match=r"cannot be purged: it is behind registered model churn v1"):
        gc.collect(project, run_ids=[registered])
    assert md.get_run(plain).lifecycle_stage == "deleted"       # nothing purged by the refused call
    result = gc.collect(project)
    assert result.purged_runs == [plain]
    [kept] = result.kept
    assert kept.run_id == registered and "churn v1" in kept.reason
    assert md.load_model("models:/churn/1") is not None
    assert md.get_run(registered).lifecycle_stage == "deleted"
    with pytest.raises(UsageError, match="is not deleted: delete it first"):
        gc.collect(project, run_ids=[_runs(md, 1)[0]])


def test_gc_keeps_a_run_a_server_logged_predictions_for(md):
    run_id = log_run(md)
    md.delete_run(run_id)
    project = md.get_project()
    with project.write() as w:   # what a model server records when it serves runs:/<id>/model
        w.execute("INSERT INTO served_versions (model_uri, run_id, artifact, sha256, columns) VALUES (?, ?, ?, ?, ?)",
                  (f"runs:/{run_id}/model", run_id, "model", "x", "[]"))
    result = gc.collect(project)
    assert result.purged_runs == [] and "logged predictions" in result.kept[0].reason


def test_gc_purges_emptied_deleted_experiments_and_children_lose_their_parent(md):
    md.set_experiment("sweep")
    with md.start_run(name="parent") as parent:
        with md.start_run(name="child") as child:
            md.log_metric("auc", 0.5)
    md.flush()
    md.delete_run(parent.id)
    project = md.get_project()
    gc.collect(project)
    assert md.get_run(child.id).parent_id is None
    md.delete_experiment("sweep")
    result = gc.collect(project)
    assert result.purged_runs == [child.id] and result.purged_experiments == ["sweep"]
    md.create_experiment("sweep")    # the name is free again


def test_gc_older_than_and_cancel(md):
    ids = _runs(md, 3)
    for run_id in ids:
        md.delete_run(run_id)
    project = md.get_project()
    assert gc.collect(project, older_than=3600).purged_runs == []
    result = gc.collect(project, should_stop=lambda: True)
    assert result.cancelled and result.purged_runs == []
    seen = []
    assert len(gc.collect(project, progress=lambda f, m: seen.append(f)).purged_runs) == 3
    assert seen[-1] == 1.0


def test_orphaned_blobs_of_overwritten_artifacts_are_swept(md):
    with md.start_run() as run:
        md.log_text("first", "a.txt")
        md.log_text("second", "a.txt")     # the first blob is now referenced by nothing
    result = gc.collect(md.get_project())
    assert result.blobs == 1 and result.bytes == len("first")
    assert artifacts.read_artifact(md.get_project(), run.id, "a.txt") == b"second"


def test_compare_registry_drift_and_the_server_work_on_a_deleted_run(md):
    from modeldesk.core.monitoring.reference import monitored
    from modeldesk.core.registry.versions import list_versions, versions_of_run
    from modeldesk.core.tracking.compare import load_comparison
    from modeldesk.server.app import create_app
    from support.data import breast_cancer

    first = log_run(md, name="a", dataset=True)
    second = log_run(md, name="b")
    md.register_model(f"runs:/{first}/model", "churn")
    md.delete_run(first)
    md.delete_run(second)
    project = md.get_project()
    comparison = load_comparison(project, [first, second])           # compare still opens them
    assert [r.id for r in comparison.runs] == [first, second]
    assert [v.version for v in list_versions(project, "churn")] == [1]
    assert versions_of_run(project, first)[0].version == 1
    assert md.load_model("models:/churn/latest") is not None
    assert monitored(project, "models:/churn/1").reference is not None   # drift finds its training data
    X, _ = breast_cancer()
    app = create_app(md.get_project().path, "models:/churn/1", reload_interval=0)
    try:
        client = app.test_client()
        assert client.get("/health").status_code == 200
        answer = client.post("/predict", json={"records": X.iloc[:3].to_dict(orient="records")})
        assert answer.status_code == 200 and len(answer.get_json()["predictions"]) == 3
    finally:
        app.extensions["modeldesk"].close()


def test_gc_respects_references_it_does_not_know_from_a_later_table(md):
    """A table added by a later migration that refers to a blob or a run keeps them:
    gc reads the references from the schema's foreign keys."""
    ids = _runs(md, 2)
    project = md.get_project()
    sha = artifacts.list_artifacts(project, ids[0])[0].sha256
    with project.write() as w:
        w.execute("CREATE TABLE later_reports (id INTEGER PRIMARY KEY, pdf TEXT REFERENCES blobs(sha256),"
                  " run_rid INTEGER REFERENCES runs(rid))")
        w.execute("INSERT INTO later_reports (pdf) VALUES (?)", (sha,))
        w.execute("INSERT INTO later_reports (run_rid) SELECT rid FROM runs WHERE id = ?", (ids[1],))
    md.delete_run(ids[0])
    md.delete_run(ids[1])
    result = gc.collect(project)
    assert result.purged_runs == [ids[0]]
    assert [k.run_id for k in result.kept] == [ids[1]] and "later_reports" in result.kept[0].reason
    assert result.blobs == 0     # run 0's notes blob is still referred to by later_reports
    assert project.conn.execute("SELECT COUNT(*) FROM blobs WHERE sha256 = ?", (sha,)).fetchone()[0] == 1


def test_gc_keeps_a_deleted_run_that_is_still_being_logged(md):
    with md.start_run(name="live") as run:
        md.log_metric("loss", 1.0)
        md.flush()
        md.delete_run(run.id)          # e.g. from the app while the script still runs
        result = gc.collect(md.get_project())
        assert result.purged_runs == [] and "still running" in result.kept[0].reason
        md.log_metric("loss", 0.5)     # the script goes on logging without an error
        md.flush()
    assert list(md.get_metric_history(run.id, "loss")["value"]) == [1.0, 0.5]
    assert gc.collect(md.get_project()).purged_runs == [run.id]    # once ended, it can go


def test_gc_removes_a_dataset_only_when_no_run_logged_it(md):
    first = log_run(md, name="a", dataset=True)
    second = log_run(md, name="b", dataset=True)       # the same training data: one dataset row
    project = md.get_project()
    count = "SELECT COUNT(*) FROM datasets"
    assert project.conn.execute(count).fetchone()[0] == 1
    md.delete_run(first)
    gc.collect(project)
    assert project.conn.execute(count).fetchone()[0] == 1      # the second run still uses it
    assert artifacts.list_datasets(project, second)[0].rows > 0
    md.delete_run(second)
    result = gc.collect(project)
    assert project.conn.execute(count).fetchone()[0] == 0 and result.blobs >= 2   # sample, models, example
    assert sqlite3.connect(project.path).execute("PRAGMA foreign_key_check").fetchall() == []
