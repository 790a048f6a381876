"""A consistent CLI (issue 13 item 5): --project/--as anywhere, one meaning per short flag,
MLflow's -m/-p/-i spellings, `models download`, `runs artifacts`, `--version`."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys

import click
import joblib
import pytest

from modeldesk import cli as cli_mod
from support.cli import run_cli
from support.data import breast_cancer
from support.registry import log_run, logreg, tamper_blob


def _leaves(group: click.Group, prefix=()):
    for name, cmd in sorted(group.commands.items()):
        if isinstance(cmd, click.Group):
            yield from _leaves(cmd, prefix + (name,))
        else:
            yield " ".join(prefix + (name,)), cmd


@pytest.fixture
def cli(capsys, monkeypatch):
    """Run `modeldesk ...` in-process: (exit code, stdout, stderr)."""
    monkeypatch.setenv("MODELDESK_USER", "tester")
    monkeypatch.delenv("MODELDESK_PROJECT", raising=False)

    def run(*args):
        capsys.readouterr()
        return run_cli(capsys, *args)

    return run


@pytest.fixture
def registered(md, project_path, cli):
    """A run with a model and an artifact, registered as churn v1 by ana."""
    run_id = log_run(md, name="logreg-C1", roc_auc=0.95)
    with md.start_run(run_id=run_id):
        md.log_artifact(b"a,b\n1,2\n", name="tables/small.csv")
    md.flush()
    code, _, err = cli("--project", project_path, "--as", "ana", "models", "register", run_id, "churn")
    assert code == 0, err
    return project_path, run_id


# -- --project and --as before or after the command ----------------------------------------
def test_project_before_or_after_the_command_gives_the_same_result(registered):
    path, _ = registered

    def run(*args):
        proc = subprocess.run([sys.executable, "-m", "modeldesk", *map(str, args)], capture_output=True, text=True,
                              timeout=120, env={**__import__("os").environ, "MODELDESK_PROJECT": ""})
        assert proc.returncode == 0, proc.stderr
        return proc.stdout

    before = run("--project", path, "runs", "list")
    after = run("runs", "list", "--project", path)
    assert before == after and "logreg-C1" in before
    assert run("--project", path, "runs", "list", "--format", "json") == \
        run("runs", "list", "--format", "json", "--project", path)


def test_as_after_the_command_acts_as_that_user(cli, registered):
    path, _ = registered
    assert cli("models", "request", "churn", "1", "--as", "ana", "--project", path)[0] == 0
    code, out, err = cli("models", "approve", "churn", "1", "--project", path, "--as", "ben")
    assert code == 0, err
    assert "ben approved" in out
    code, out, _ = cli("audit", "list", "--format", "json", "--project", path)
    actors = {e["action"]: e["actor"] for e in json.loads(out)}
    assert actors["request.create"] == "ana" and actors["request.approve"] == "ben"


def test_the_same_option_twice_with_different_values_is_refused(cli, registered, tmp_path):
    path, _ = registered
    code, _, err = cli("--project", tmp_path / "other.mdesk", "runs", "list", "--project", path)
    assert code == 2 and "--project was given twice" in err
    code, _, err = cli("--as", "ana", "models", "requests", "--as", "ben", "--project", path)
    assert code == 2 and "--as was given twice" in err
    code, out, _ = cli("--project", path, "runs", "list", "--project", path)      # the same value twice is fine
    assert code == 0 and "logreg-C1" in out


def test_the_environment_is_overridden_by_an_option_after_the_command(cli, registered, monkeypatch, tmp_path):
    path, _ = registered
    monkeypatch.setenv("MODELDESK_PROJECT", str(tmp_path / "elsewhere.mdesk"))
    code, out, err = cli("runs", "list", "--project", path)
    assert code == 0 and "logreg-C1" in out, err


def test_every_command_accepts_project_and_as():
    missing = [f"{name}: {flag}" for name, cmd in _leaves(cli_mod.cli) for flag in ("--project", "--as")
               if not any(flag in p.opts for p in cmd.params)]
    assert missing == [], "use cli._common.pass_ctx (or common_options) on these commands"


# -- short flags -------------------------------------------------------------------------
def test_no_two_options_of_a_command_share_a_flag_and_o_always_means_output():
    problems = []
    for name, cmd in [("modeldesk", cli_mod.cli), *_leaves(cli_mod.cli)]:
        seen: dict[str, str] = {}
        for p in cmd.params:
            if not isinstance(p, click.Option):
                continue
            for opt in p.opts + p.secondary_opts:
                if opt.startswith("--"):
                    if opt in seen:
                        problems.append(f"{name}: {opt} is both {seen[opt]} and {p.name}")
                    seen[opt] = p.name
                if len(opt) == 2 and opt[0] == "-" and opt[1] != "-":
                    if opt in seen:
                        problems.append(f"{name}: {opt} is both {seen[opt]} and {p.name}")
                    seen[opt] = p.name
                    if opt == "-h":
                        problems.append(f"{name}: -h is help")
            if "-o" in p.opts and not p.hidden and "--output" not in p.opts:
                problems.append(f"{name}: -o is {p.name}, not --output")
    assert problems == []


def test_o_in_runs_list_explains_instead_of_ordering(cli, registered):
    path, _ = registered
    code, _, err = cli("--project", path, "runs", "list", "-o", "metrics.roc_auc DESC")
    assert code == 2 and "-o means an output" in err and "--order-by 'metrics.roc_auc DESC'" in err


# -- MLflow's spellings -----------------------------------------------------------------
def test_serve_takes_mlflows_m_and_p(cli, registered, monkeypatch):
    path, _ = registered
    seen = {}

    def fake_serve(project_path, model_uri, **kw):
        seen.update(project_path=project_path, model_uri=model_uri, port=kw["port"], user=kw["user"])
        return 0

    monkeypatch.setattr("modeldesk.server.runner.serve", fake_serve)
    code, _, err = cli("serve", "-m", "models:/churn/1", "-p", "5077", "--project", path, "--as", "ana")
    assert code == 0, err
    assert seen == {"project_path": str(path), "model_uri": "models:/churn/1", "port": 5077, "user": "ana"}
    assert cli("--project", path, "serve", "churn/1", "--port", "0")[0] == 0 and seen["model_uri"] == "churn/1"
    code, _, err = cli("--project", path, "serve", "churn/1", "-m", "churn/2")
    assert code == 2 and "give MODEL_URI once" in err
    code, _, err = cli("--project", path, "serve")
    assert code == 2 and "Missing MODEL_URI" in err


def test_score_takes_mlflows_m_i_o(cli, registered, tmp_path):
    path, _ = registered
    X, _ = breast_cancer()
    src = tmp_path / "in.csv"
    X.head(20).to_csv(src, index=False)
    for args, out in ((("-m", "models:/churn/1", "-i", src), "a.csv"), (("churn/1", src), "b.csv"),
                      (("-m", "churn/1", src), "c.csv")):
        code, _, err = cli("--project", path, "score", *args, "-o", tmp_path / out)
        assert code == 0, err
    texts = {(tmp_path / n).read_text() for n in ("a.csv", "b.csv", "c.csv")}
    assert len(texts) == 1 and texts.pop().count("\n") == 21
    code, _, err = cli("--project", path, "score", "churn/1", "-o", tmp_path / "d.csv")
    assert code == 2 and "Missing INPUT.csv" in err
    code, _, err = cli("--project", path, "score", "churn/1", tmp_path / "nope.csv", "-o", tmp_path / "d.csv")
    assert code == 2 and "does not exist" in err


# -- files out ---------------------------------------------------------------------------
def test_models_download_writes_the_registered_model_and_its_metadata(cli, registered, md, tmp_path):
    path, run_id = registered
    out = tmp_path / "churn-v1"
    code, stdout, err = cli("--project", path, "models", "download", "churn", "1", "-o", out)
    assert code == 0, err
    assert sorted(p.name for p in out.iterdir()) == ["input_example.json", "model.joblib", "modeldesk.json"]
    meta = json.loads((out / "modeldesk.json").read_text())
    from modeldesk.core.registry.versions import get_version
    from modeldesk.core.storage.blobs import sha256_hex

    v = get_version(md.get_project(), "churn", 1)
    assert meta["sha256"] == v.sha256 == sha256_hex((out / "model.joblib").read_bytes())
    assert meta["run_id"] == run_id and meta["version"] == 1 and meta["created_by"] == "ana"
    assert [f["name"] for f in meta["signature"]["inputs"]] == [f["name"] for f in v.signature["inputs"]]
    X, _ = breast_cancer()
    mine = joblib.load(out / "model.joblib")
    assert (mine.predict(X.head(50)) == md.load_model("models:/churn/1").predict(X.head(50))).all()
    assert "Wrote 3 file(s)" in stdout
    # an existing folder with those files: refused unless --force
    code, _, err = cli("--project", path, "models", "download", "churn", "1", "-o", out)
    assert code == 1 and "already exist" in err and "--force" in err
    assert cli("--project", path, "models", "download", "churn", "1", "-o", out, "--force")[0] == 0


def test_models_download_refuses_a_tampered_blob_and_writes_nothing(cli, registered, md, tmp_path):
    path, _ = registered
    from modeldesk.core.registry.versions import get_version

    tamper_blob(path, get_version(md.get_project(), "churn", 1).sha256)
    out = tmp_path / "out"
    code, _, err = cli("--project", path, "models", "download", "churn", "1", "-o", out)
    assert code == 1 and "changed after it was logged" in err
    assert not out.exists() or list(out.iterdir()) == []


def test_models_download_refuses_a_registry_row_pointed_at_other_bytes(cli, registered, md, tmp_path):
    """A swapped blob that matches its own sha256 (the row edited to point at it) is refused
    against the registration in the audit log, as loading refuses it."""
    path, _ = registered
    other = log_run(md, logreg(0.05), name="other", roc_auc=0.9)   # other bytes
    from modeldesk.core.tracking.artifacts import get_logged_model

    other_sha = get_logged_model(md.get_project(), other).sha256
    conn = sqlite3.connect(path)
    conn.execute("UPDATE model_versions SET sha256 = ? WHERE version = 1", (other_sha,))
    conn.commit()
    conn.close()
    assert other_sha != get_logged_model(md.get_project(), registered[1]).sha256
    out = tmp_path / "out"
    code, _, err = cli("--project", path, "models", "download", "churn", "1", "-o", out)
    assert code == 1 and "registered as" in err
    assert not out.exists()


def test_runs_artifacts_lists_and_downloads(cli, registered, tmp_path):
    path, run_id = registered
    code, out, err = cli("--project", path, "runs", "artifacts", run_id[:8])
    assert code == 0, err
    assert "tables/small.csv" in out and "models/model.joblib" in out
    code, out, _ = cli("--project", path, "runs", "artifacts", run_id, "--format", "json")
    listed = {f["path"]: f for f in json.loads(out)}
    assert set(listed) == {"tables/small.csv", "models/model.joblib"} and listed["tables/small.csv"]["size"] == 8
    dest = tmp_path / "files"
    code, out, err = cli("--project", path, "runs", "artifacts", run_id, "-o", dest)
    assert code == 0, err
    assert (dest / "tables" / "small.csv").read_bytes() == b"a,b\n1,2\n"
    assert joblib.load(dest / "models" / "model.joblib").predict is not None


def test_runs_artifacts_refuses_a_tampered_artifact(cli, registered, tmp_path):
    path, run_id = registered
    conn = sqlite3.connect(path)
    sha = conn.execute("SELECT sha256 FROM artifacts WHERE path = 'tables/small.csv'").fetchone()[0]
    conn.close()
    tamper_blob(path, sha)
    code, _, err = cli("--project", path, "runs", "artifacts", run_id, "-o", tmp_path / "files")
    assert code == 1 and "changed after it was logged" in err
    assert not (tmp_path / "files").exists()


def test_files_never_land_outside_the_folder(tmp_path):
    from modeldesk.core.errors import RefusedError
    from modeldesk.core.files_out import write_files

    for bad in ("../escape.txt", "/etc/escape.txt", "a/../../escape.txt"):
        with pytest.raises(RefusedError, match="would leave"):
            write_files(tmp_path / "dest", {"ok.txt": b"1", bad: b"2"})
    assert not (tmp_path / "dest").exists() and not (tmp_path / "escape.txt").exists()


# -- --version ---------------------------------------------------------------------------
def test_version_names_modeldesk_python_qt_and_sqlite_without_starting_qt():
    import platform
    import sqlite3 as sq

    code = ("import sys\nfrom modeldesk.cli import main\ncode = 0\n"
            "try:\n    main(['--version'])\nexcept SystemExit as e:\n    code = e.code\n"
            "print('exit', code, 'QtGui' in ' '.join(sys.modules), 'QtWidgets' in ' '.join(sys.modules))")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    lines = proc.stdout.splitlines()
    import PySide6
    from PySide6.QtCore import qVersion

    from modeldesk.core.version import __version__

    assert lines[:4] == [f"ModelDesk {__version__}", f"Python {platform.python_version()}",
                         f"Qt {qVersion()} (PySide6 {PySide6.__version__})", f"SQLite {sq.sqlite_version}"]
    assert lines[4] == "exit 0 False False", proc.stderr    # no QtGui, no QtWidgets: no QApplication
