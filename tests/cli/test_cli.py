"""The click CLI: commands, formats, exit codes, one-line errors."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys

import click
import pytest

from modeldesk import cli as cli_mod


def run_cli(*args, env_extra=None):
    """Run `python -m modeldesk ...` as a user would; return (code, stdout, stderr)."""
    import os

    env = dict(os.environ)
    env.update(env_extra or {})
    proc = subprocess.run([sys.executable, "-m", "modeldesk", *map(str, args)], capture_output=True, text=True,
                          env=env, timeout=120)
    return proc.returncode, proc.stdout, proc.stderr


@pytest.fixture
def logged(md, project_path):
    md.set_experiment("churn")
    ids = []
    for depth in (2, 4, 8):
        with md.start_run(name=f"rf-{depth}") as run:
            md.log_params({"max_depth": depth})
            md.log_metric("val_auc", 0.8 + depth / 100)
            md.log_metric("loss", 0.5, step=0)
            md.log_metric("loss", 0.3, step=1)
        ids.append(run.id)
    md.flush()
    return project_path, ids


def test_version_and_help():
    code, out, _ = run_cli("--version")
    assert code == 0 and "ModelDesk 0.1.0" in out
    code, out, _ = run_cli("--help")
    assert code == 0 and "runs" in out and "demo" in out


def test_init_creates_a_project(tmp_path):
    path = tmp_path / "team.mdesk"
    code, out, err = run_cli("init", path)
    assert code == 0, err
    assert "Created project" in out and path.exists()
    code, out, _ = run_cli("init", path)
    assert code == 0 and "already" in out


def test_runs_list_table_csv_json(logged):
    path, ids = logged
    code, out, err = run_cli("--project", path, "runs", "list", "--order-by", "metrics.val_auc DESC")
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0].split()[:4] == ["run_id", "run_name", "experiment", "status"]
    assert [line.split()[1] for line in lines[1:]] == ["rf-8", "rf-4", "rf-2"]
    code, out, _ = run_cli("--project", path, "runs", "list", "--format", "csv", "--filter", "params.max_depth = '4'")
    assert code == 0
    header, row = out.strip().splitlines()
    assert "params.max_depth" in header.split(",") and ids[1] in row
    code, out, _ = run_cli("--project", path, "runs", "list", "--format", "json", "-e", "churn")
    records = json.loads(out)
    assert {r["run_id"] for r in records} == set(ids)
    assert all(r["metrics.loss"] == 0.3 for r in records)


def test_runs_list_empty_project_says_what_to_do(tmp_path):
    path = tmp_path / "empty.mdesk"
    run_cli("init", path)
    code, out, _ = run_cli("--project", path, "runs", "list")
    assert code == 0 and "md.start_run" in out


def test_runs_show_text_and_json(logged):
    path, ids = logged
    code, out, err = run_cli("--project", path, "runs", "show", ids[0][:8])
    assert code == 0, err
    assert ids[0] in out and "max_depth" in out and "val_auc" in out
    code, out, _ = run_cli("--project", path, "runs", "show", ids[0], "--format", "json")
    data = json.loads(out)
    assert data["params"] == {"max_depth": "2"} and data["status"] == "FINISHED"


def test_bad_filter_is_one_line_error_exit_2(logged):
    path, _ = logged
    code, out, err = run_cli("--project", path, "runs", "list", "--filter", "metrics.auc >>> 1")
    assert code == 2
    assert "Traceback" not in err and "expected a value after '>'" in err
    assert "^" in err  # points at the token


def test_unknown_run_and_missing_project(tmp_path, logged):
    path, _ = logged
    code, _, err = run_cli("--project", path, "runs", "show", "ffffffffffffffffffffffffffffffff")
    assert code == 2 and "No run with id" in err and "Traceback" not in err
    code, _, err = run_cli("--project", tmp_path / "missing.mdesk", "runs", "list")
    assert code == 2 and "modeldesk init" in err and "Traceback" not in err   # a wrong path is bad usage


def test_newer_and_garbage_files_are_refused(tmp_path, logged):
    path, _ = logged
    import modeldesk as md

    md.set_project(tmp_path / "other.mdesk")  # release the file
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA user_version = 999")
    conn.close()
    code, _, err = run_cli("--project", path, "runs", "list")
    assert code == 1 and "newer ModelDesk" in err and "Traceback" not in err
    junk = tmp_path / "junk.mdesk"
    junk.write_bytes(b"\x00garbage" * 100)
    code, _, err = run_cli("--project", junk, "runs", "list")
    assert code == 1 and "not an SQLite file" in err


def test_project_from_environment_and_user(tmp_path, logged):
    path, _ = logged
    code, out, _ = run_cli("runs", "list", env_extra={"MODELDESK_PROJECT": str(path)})
    assert code == 0 and "rf-8" in out


def test_usage_errors_exit_2():
    code, _, err = run_cli("runs", "list", "--format", "xml")
    assert code == 2 and "Invalid value" in err
    code, _, err = run_cli("no-such-command")
    assert code == 2


def _all_commands(group: click.Group, prefix=()):
    for name, cmd in group.commands.items():
        yield prefix + (name,), cmd
        if isinstance(cmd, click.Group):
            yield from _all_commands(cmd, prefix + (name,))


def test_every_command_is_documented_with_an_example():
    for path, cmd in _all_commands(cli_mod.cli):
        assert cmd.help and "Example" in cmd.help, f"`modeldesk {' '.join(path)}` needs a docstring with an example"


def test_no_display_message(tmp_path):
    """`modeldesk ui` (and plain `modeldesk`) without a display says what is missing instead of crashing."""
    path = tmp_path / "p.mdesk"
    run_cli("init", path)
    code, out, err = run_cli("ui", path, env_extra={"QT_QPA_PLATFORM": "", "DISPLAY": "", "WAYLAND_DISPLAY": ""})
    assert code == 1 and "No display" in err and "Traceback" not in err
    code, _, err = run_cli("--project", path, env_extra={"QT_QPA_PLATFORM": "", "DISPLAY": "",
                                                         "WAYLAND_DISPLAY": ""})
    assert code == 1 and "No display" in err and "Traceback" not in err


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="X11 is checked where Qt would use it")
def test_display_without_an_x_server_explains(tmp_path):
    """DISPLAY set but nobody serves it: ModelDesk's message and exit 1, not Qt's abort (exit 134)."""
    path = tmp_path / "p.mdesk"
    run_cli("init", path)
    code, _, err = run_cli("ui", path, env_extra={"QT_QPA_PLATFORM": "", "DISPLAY": ":987", "WAYLAND_DISPLAY": ""})
    assert code == 1, err
    assert "No display" in err and "DISPLAY=:987" in err and "xvfb-run" in err and "QT_QPA_PLATFORM=offscreen" in err
    assert "Traceback" not in err and "qt.qpa" not in err


def test_plain_modeldesk_opens_the_app_like_ui(monkeypatch, tmp_path):
    """`modeldesk` with no command calls the same launcher as `modeldesk ui`, with the same project and user."""
    from click.testing import CliRunner

    calls = []

    def fake_launch(path=None, *, user=None):
        calls.append((path, user))
        return 0

    monkeypatch.setattr("modeldesk.gui.launch.launch", fake_launch)
    runner = CliRunner()
    clean = {"MODELDESK_PROJECT": None, "MODELDESK_USER": None}
    for args in ([], ["ui"]):
        result = runner.invoke(cli_mod.cli, args, env=clean)
        assert result.exit_code == 0, result.output
    assert calls == [(None, None), (None, None)]
    calls.clear()
    project = str(tmp_path / "team.mdesk")
    for args in (["--project", project, "--as", "ana"], ["--project", project, "--as", "ana", "ui"]):
        result = runner.invoke(cli_mod.cli, args, env=clean)
        assert result.exit_code == 0, result.output
    assert calls == [(project, "ana"), (project, "ana")]
    calls.clear()
    result = runner.invoke(cli_mod.cli, [], env={"MODELDESK_PROJECT": project, "MODELDESK_USER": "bo"})
    assert result.exit_code == 0 and calls == [(project, "bo")]


# -- issue 9, item 5: only ModelDesk files are opened, and left untouched otherwise --

def _foreign_file(path, kind: str):
    if kind == "empty":
        path.write_bytes(b"")
        return path
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE invoices (id INTEGER PRIMARY KEY, total REAL)")
    conn.execute("INSERT INTO invoices (total) VALUES (9.5)")
    conn.execute(f"PRAGMA user_version = {int(kind[2:])}")
    conn.commit()
    conn.close()
    return path


def _folder_state(folder) -> dict:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


_READ_WITH_MD = """
import sys
import modeldesk as md
try:
    md.set_project(sys.argv[1])
    md.search_runs()
except Exception as exc:
    print(type(exc).__name__, exc, file=sys.stderr)
    sys.exit(1)
"""


@pytest.mark.parametrize("kind", ["uv0", "uv1", "uv3", "empty"])
def test_foreign_and_empty_files_are_left_byte_identical_by_every_command(tmp_path, kind):
    folder = tmp_path / "shared"
    folder.mkdir()
    path = _foreign_file(folder / "project.mdesk", kind)
    before = _folder_state(folder)
    commands = [
        ("runs", "list"),
        ("runs", "show", "abcdef12"),
        ("audit", "verify"),
        ("models", "list"),
        ("serve", "churn@production", "--port", "0"),
        ("check",),
    ]
    for command in commands:
        code, out, err = run_cli("--project", path, *command)
        assert code == 1, (command, out, err)
        assert "not a ModelDesk project" in err and "left unchanged" in err, (command, err)
        assert "Traceback" not in err
        assert _folder_state(folder) == before, command
    if kind == "empty":
        assert "modeldesk init" in err
    proc = subprocess.run([sys.executable, "-c", _READ_WITH_MD, str(path)], capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 1 and "not a ModelDesk project" in proc.stderr, proc.stderr
    assert _folder_state(folder) == before


def test_init_makes_a_zero_length_file_a_project_but_refuses_a_foreign_one(tmp_path):
    path = _foreign_file(tmp_path / "team.mdesk", "empty")
    code, out, err = run_cli("init", path)
    assert code == 0 and "Created project" in out, err
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA application_id").fetchone()[0] == 0x4D44534B
    conn.close()
    code, out, err = run_cli("--project", path, "runs", "list")
    assert code == 0, err
    other = _foreign_file(tmp_path / "other.db", "uv1")
    before = other.read_bytes()
    code, _, err = run_cli("init", other)
    assert code == 1 and "not a ModelDesk project" in err
    assert other.read_bytes() == before


def test_set_project_creates_only_a_missing_file(tmp_path):
    import modeldesk as md
    from modeldesk.core.errors import ProjectError

    empty = _foreign_file(tmp_path / "empty.mdesk", "empty")
    with pytest.raises(ProjectError, match="empty file"):
        md.set_project(empty)
    assert empty.read_bytes() == b""
    fresh = md.set_project(tmp_path / "fresh.mdesk")   # a missing path: created
    assert fresh.read("PRAGMA application_id")[0][0] == 0x4D44534B
    md.set_project(tmp_path / "fresh2.mdesk")


def test_check_reports_ok_and_problems(tmp_path, logged):
    path, _ = logged
    import modeldesk as md

    md.set_project(tmp_path / "other.mdesk")  # release the file
    code, out, err = run_cli("--project", path, "check")
    assert code == 0 and out.startswith("OK"), err
    assert "Checking" in err
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA foreign_keys = OFF")
    conn.execute("INSERT INTO params (run_rid, key, value) VALUES (9999, 'orphan', '1')")
    conn.commit()
    conn.close()
    code, out, err = run_cli("check", path)
    assert code == 1 and "1 problem" in out and "params" in out and "runs" in out, (out, err)
