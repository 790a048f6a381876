"""`modeldesk report`: a version or the whole project, PDF or HTML, headless in a child process."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys

import pytest

from support import governed
from support.cli import run_cli


@pytest.fixture
def cli(capsys, monkeypatch, project_path):
    def run(*args):
        monkeypatch.setenv("MODELDESK_USER", "auditor")
        capsys.readouterr()
        return run_cli(capsys, "--project", project_path, *args)

    return run


def test_report_a_version_and_the_project(md, cli, tmp_path, qapp):
    governed.build(md, predictions_days=2)
    md.set_project(tmp_path / "other.mdesk")      # let go of the project file: the CLI opens it itself
    code, out, err = cli("report", "cancer/2", "-o", tmp_path / "v2.html")
    assert code == 0, err
    digest = hashlib.sha256((tmp_path / "v2.html").read_bytes()).hexdigest()
    assert f"sha256 {digest}" in out and "chain verified" in out and "report.export" in out
    code, out, err = cli("report", "--project", "-o", tmp_path / "all.html")
    assert code == 0, err
    assert "Model cancer" in (tmp_path / "all.html").read_text(encoding="utf-8")
    code, out, _ = cli("audit", "list", "--action", "report.export")
    assert out.count("report.export") == 2 and "auditor" in out


def test_bad_usage_says_what_to_do(md, cli, tmp_path):
    assert cli("report", "-o", tmp_path / "x.pdf")[0] == 2
    code, _, err = cli("report", "cancer/1", "-o", tmp_path / "x.docx")
    assert code == 2 and "name the file .pdf or .html" in err
    code, _, err = cli("report", "cancer/1", "-o", tmp_path / "missing" / "x.pdf")
    assert code == 2 and "does not exist" in err
    assert "Traceback" not in err
    code, _, err = cli("report", "nosuch/1", "-o", tmp_path / "nosuch.pdf")
    assert code == 2 and "No registered model 'nosuch'" in err and not (tmp_path / "nosuch.pdf").exists()


@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="pdftotext (poppler-utils) is not installed")
def test_headless_without_a_display_writes_a_pdf(md, project_path, tmp_path):
    """No DISPLAY and no QT_QPA_PLATFORM: the CLI picks Qt's offscreen platform by itself."""
    from support.registry import log_run

    run_id = log_run(md, roc_auc=0.9)
    md.register_model(f"runs:/{run_id}/model", "bare")
    md.set_project(tmp_path / "other.mdesk")
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")}
    out = tmp_path / "bare.pdf"
    result = subprocess.run([sys.executable, "-m", "modeldesk", "--project", str(project_path), "report",
                             "bare/1", "-o", str(out), "--letter"], capture_output=True, text=True, env=env,
                            timeout=120)
    assert result.returncode == 0, result.stderr
    text = subprocess.run(["pdftotext", str(out), "-"], capture_output=True, text=True).stdout
    assert "bare v1" in text and "Not available" in text and "chain verified" in text
