"""`modeldesk import mlflow`, `export mlflow` and `export mlflow-model` as a user runs them."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from support.mlflow_store import build_store

pytestmark = pytest.mark.timeout(600)


def run_cli(*args):
    """`python -m modeldesk ...` as a user runs it: (exit code, stdout, stderr)."""
    proc = subprocess.run([sys.executable, "-m", "modeldesk", *map(str, args)], capture_output=True, text=True,
                          timeout=300)
    return proc.returncode, proc.stdout, proc.stderr


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    return build_store(tmp_path_factory.mktemp("mlflow"))


def test_import_prints_a_summary_and_a_second_import_adds_nothing(store, tmp_path):
    project = tmp_path / "team.mdesk"
    code, out, err = run_cli("--project", project, "import", "mlflow", store.uri, "--as", "ana")
    assert code == 0, err
    assert "Importing from MLflow" in err          # the progress bar, on stderr
    assert out.startswith("Done: 1 experiments, 4 runs,")
    assert "2 versions" in out and "1 aliases" in out and "1 requests" in out
    assert "iris-clf@production is protected: opened request" in out
    assert "model 'constant'" in out and "not scikit-learn" in out
    code, out, err = run_cli("--project", project, "import", "mlflow", store.uri, "--format", "json")
    assert code == 0, err
    summary = json.loads(out)
    assert summary["counts"] == {} and summary["source"] == store.uri
    code, out, _ = run_cli("--project", project, "audit", "list")
    assert out.count("import.mlflow") == 2


def test_export_then_model_directory(store, tmp_path):
    project = tmp_path / "team.mdesk"
    assert run_cli("--project", project, "import", "mlflow", store.uri)[0] == 0
    target = f"sqlite:///{tmp_path / 'out' / 'mlflow.db'}"
    code, out, err = run_cli("--project", project, "export", "mlflow", target, "--experiment", "iris")
    assert code == 0, err
    assert "4 runs" in out and "2 versions" in out
    code, out, err = run_cli("--project", project, "export", "mlflow-model", "iris-clf@champion", tmp_path / "m")
    assert code == 0, err
    assert (tmp_path / "m" / "MLmodel").is_file()
    code, _, err = run_cli("--project", project, "export", "mlflow", target, "--experiment", "nope")
    assert code == 2 and "No experiment nope" in err


def test_a_missing_store_is_bad_usage(tmp_path):
    code, _, err = run_cli("--project", tmp_path / "p.mdesk", "import", "mlflow", f"sqlite:///{tmp_path}/none.db")
    assert code == 2
    assert "No MLflow database at" in err and "Traceback" not in err


def test_without_mlflow_the_cli_says_how_to_install_it(tmp_path, monkeypatch, capfd):
    from modeldesk import cli

    monkeypatch.setitem(sys.modules, "mlflow", None)
    with pytest.raises(SystemExit) as exit_:
        cli.main(["--project", str(tmp_path / "p.mdesk"), "import", "mlflow", str(tmp_path)])
    err = capfd.readouterr().err
    assert exit_.value.code == 2, err
    assert "MLflow is not installed: pip install 'modeldesk[mlflow]'" in err
