"""`runs delete|restore|rename`, `experiments ...` and `gc` from the command line (issue 13, item 3)."""

from __future__ import annotations

import json

import pytest

from modeldesk.core import audit
from modeldesk.core.storage.project import open_project
from support.cli import run_cli as run_modeldesk
from support.registry import log_run


@pytest.fixture
def run_cli(capsys, monkeypatch):
    """`modeldesk ...` in-process: (exit code, stdout, stderr)."""

    def run(*args):
        monkeypatch.setenv("MODELDESK_USER", "tester")
        capsys.readouterr()
        return run_modeldesk(capsys, *args)

    return run


def _logged(md):
    md.set_experiment("churn")
    ids = []
    for i in range(3):
        with md.start_run(name=f"rf-{i}") as run:
            md.log_metric("auc", 0.8 + i / 100)
            md.log_text(f"run {i}", "notes.txt")
        ids.append(run.id)
    md.flush()
    return ids


def _listed(run_cli, path, *flags):
    code, out, err = run_cli("--project", path, "runs", "list", "--format", "json", *flags)
    assert code == 0, err
    return {r["run_id"]: r["lifecycle_stage"] for r in json.loads(out)}


def test_delete_restore_rename_runs(md, project_path, run_cli):
    ids = _logged(md)
    md.set_project(project_path.with_name("other.mdesk"))   # release the file as a finished script would
    code, out, err = run_cli("--project", project_path, "runs", "delete", ids[0][:8], ids[1])
    assert code == 0, err
    assert f"Deleted run {ids[0][:8]} 'rf-0'" in out and f"modeldesk runs restore {ids[0][:8]}" in out
    assert _listed(run_cli, project_path) == {ids[2]: "active"}
    assert _listed(run_cli, project_path, "--deleted") == {ids[0]: "deleted", ids[1]: "deleted"}
    assert set(_listed(run_cli, project_path, "--all")) == set(ids)
    code, out, _ = run_cli("--project", project_path, "runs", "list")
    assert "rf-0" not in out and "rf-2" in out
    code, out, _ = run_cli("--project", project_path, "runs", "show", ids[0][:8])
    assert f"deleted: hidden from lists; undo with: modeldesk runs restore {ids[0][:8]}" in out
    code, out, _ = run_cli("--project", project_path, "runs", "show", ids[0], "--format", "json")
    assert json.loads(out)["lifecycle_stage"] == "deleted"
    code, out, err = run_cli("--project", project_path, "runs", "restore", ids[0])
    assert code == 0 and "Restored run" in out, err
    code, out, err = run_cli("--project", project_path, "runs", "rename", ids[0][:8], "best run")
    assert code == 0 and "'best run'" in out, err
    code, out, _ = run_cli("--project", project_path, "runs", "show", ids[0], "--format", "json")
    assert json.loads(out)["run_name"] == "best run"
    code, _, err = run_cli("--project", project_path, "runs", "rename", ids[0], "  ")
    assert code == 2 and "non-empty" in err and "Traceback" not in err
    code, _, err = run_cli("--project", project_path, "runs", "delete", "ffffffff")
    assert code == 2 and "No run with id" in err


def test_experiments_commands(md, project_path, run_cli):
    _logged(md)
    md.set_project(project_path.with_name("other.mdesk"))
    p = ("--project", project_path)
    assert run_cli(*p, "experiments", "create", "fraud")[0] == 0
    code, _, err = run_cli(*p, "experiments", "create", "FRAUD")
    assert code == 1 and "'fraud' already exists (names are compared ignoring case)" in err
    code, out, err = run_cli(*p, "experiments", "rename", "fraud", "fraud-2026")
    assert code == 0 and "'fraud-2026'" in out, err
    code, out, err = run_cli(*p, "experiments", "delete", "churn")
    assert code == 0 and "modeldesk experiments restore churn" in out, err
    code, out, _ = run_cli(*p, "experiments", "list", "--format", "json")
    assert [e["name"] for e in json.loads(out)] == ["fraud-2026"]
    code, out, _ = run_cli(*p, "experiments", "list", "--all")
    assert "churn" in out and "deleted" in out
    assert _listed(run_cli, project_path) == {}
    code, out, err = run_cli(*p, "experiments", "restore", "churn")
    assert code == 0 and "(3 runs)" in out, err
    assert len(_listed(run_cli, project_path)) == 3
    code, _, err = run_cli(*p, "experiments", "delete", "Default")
    assert code == 2 and "No experiment 'Default'" in err


def test_gc_purges_and_refuses_a_registered_run_naming_its_version(md, project_path, run_cli):
    registered = log_run(md, name="kept")
    md.register_model(f"runs:/{registered}/model", "churn")
    ids = _logged(md)
    md.delete_run(registered)
    md.delete_run(ids[0])
    md.set_project(project_path.with_name("other.mdesk"))
    p = ("--project", project_path)
    code, out, err = run_cli(*p, "gc", "--dry-run")
    assert code == 1 and "Would purge 1 deleted run." in out and ids[0] in out
    assert "Kept run" in err and "churn v1" in err
    code, _, err = run_cli(*p, "gc", "--run-id", registered[:8])
    assert code == 1 and "cannot be purged: it is behind registered model churn v1" in err
    code, out, err = run_cli(*p, "gc", "--as", "ops")
    assert code == 1 and "Purged 1 deleted run, 1 unreferenced blob" in out
    assert f"Kept run {registered[:8]} (kept): it is behind registered model churn v1" in err
    code, _, err = run_cli(*p, "runs", "restore", ids[0])
    assert code == 2 and "was purged by `gc`" in err and "by ops" in err
    project = open_project(project_path, create=False)
    try:
        [purge] = audit.list_entries(project, action="gc.purge")
        assert purge.actor == "ops" and purge.details["runs"] == [ids[0]]
        assert audit.verify(project).ok
    finally:
        project.close()
    code, out, _ = run_cli(*p, "models", "show", "churn")
    assert code == 0    # the registered version of a deleted run keeps working
    code, _, err = run_cli(*p, "gc", "--older-than", "3x")
    assert code == 2 and "not an age" in err
