"""`modeldesk serve` as a real process, `modeldesk score` and `modeldesk labels import`."""

from __future__ import annotations

import json
import os
import queue
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request

import pandas as pd
import pytest

from support.data import breast_cancer
from support.registry import fitted_logreg, log_run

pytestmark = pytest.mark.timeout(120)


@pytest.fixture
def served(md, project_path):
    X, _ = breast_cancer()
    model = fitted_logreg()
    run_id = log_run(md, model, fit=False)
    return project_path, f"runs:/{run_id}/model", X, model


def cli(*args):
    proc = subprocess.run([sys.executable, "-m", "modeldesk", *map(str, args)], capture_output=True, text=True,
                          timeout=120, env=dict(os.environ))
    return proc.returncode, proc.stdout, proc.stderr


def start_server(*args):
    """Start `modeldesk serve ...`; return (process, url, banner lines, seconds until /health answered ok)."""
    started = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "modeldesk", *map(str, args)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=dict(os.environ))
    lines: queue.Queue = queue.Queue()
    reader = threading.Thread(target=lambda: [lines.put(line.rstrip("\n")) for line in proc.stdout], daemon=True)
    reader.start()
    proc.lines, proc.reader = lines, reader
    banner, url = [], None
    while not banner or "Ctrl+C" not in banner[-1]:
        try:
            banner.append(lines.get(timeout=60))
        except queue.Empty:
            proc.kill()
            raise AssertionError(f"no banner: {banner} {proc.stderr.read()}") from None
        m = re.search(r" at (http://\S+)$", banner[-1])
        url = url or (m.group(1) if m else None)
    assert url, banner
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url + "/health", timeout=2) as resp:
                if json.load(resp)["status"] == "ok":
                    break
        except OSError:
            time.sleep(0.02)
    return proc, url, banner, time.perf_counter() - started


def finish(proc, sig=signal.SIGTERM):
    """Signal the server, wait for it; return (exit code, the rest of stdout, stderr)."""
    proc.send_signal(sig)
    proc.wait(timeout=30)
    proc.reader.join(10)
    out = []
    while not proc.lines.empty():
        out.append(proc.lines.get())
    return proc.returncode, "\n".join(out), proc.stderr.read()


def post(url, body, token=None):
    req = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST",
                                 headers={"Content-Type": "application/json",
                                          **({"Authorization": f"Bearer {token}"} if token else {})})
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return resp.status, json.load(resp)
    except urllib.error.HTTPError as err:
        return err.code, json.load(err)


def test_serve_answers_and_sigterm_flushes_the_log(served):
    path, uri, X, model = served
    proc, url, lines, ready_s = start_server("--project", path, "serve", uri, "--port", 0)
    try:
        assert ready_s < 10
        ids = []
        for i in range(20):
            status, body = post(url + "/predict", {"records": [X.iloc[i].to_dict()]})
            assert status == 200
            ids.append(body["request_id"])
        assert "Prediction log: on" in "\n".join(lines)
    finally:
        code, out, err = finish(proc)
    assert code == 0, err
    assert "Stopped (SIGTERM); 20 prediction(s) logged, 0 dropped." in out
    from modeldesk.core.storage.project import open_project

    with open_project(path) as p:
        logged = {r[0] for r in p.read("SELECT request_id FROM predictions")}
        events = [r[0] for r in p.read("SELECT event FROM serving_events ORDER BY id")]
    assert logged == set(ids) and events == ["start", "stop"]


def test_serve_sigint_also_stops_cleanly(served):
    path, uri, X, _ = served
    proc, url, _, _ = start_server("--project", path, "serve", uri, "--port", 0, "--no-log")
    post(url + "/predict", {"records": [X.iloc[0].to_dict()]})
    code, out, err = finish(proc, signal.SIGINT)
    assert code == 0 and "Stopped (SIGINT)" in out and "Traceback" not in err


def test_non_loopback_host_generates_and_requires_a_token(served):
    path, uri, X, _ = served
    proc, url, lines, _ = start_server("--project", path, "serve", uri, "--host", "0.0.0.0", "--port", 0)
    try:
        token_line = next(line for line in lines if line.startswith("Token"))
        token = token_line.rsplit(" ", 1)[1]
        assert len(token) >= 32
        assert post(url + "/predict", {"records": [X.iloc[0].to_dict()]})[0] == 401
        assert post(url + "/predict", {"records": [X.iloc[0].to_dict()]}, token=token)[0] == 200
        with urllib.request.urlopen(url + "/health", timeout=5) as resp:   # /health stays open
            assert resp.status == 200
    finally:
        _, out, err = finish(proc)
    assert token not in err
    for suffix in ("", "-wal"):
        f = path.with_name(path.name + suffix)
        if f.exists():
            assert token.encode() not in f.read_bytes()


def test_serve_errors_are_one_line(served, tmp_path):
    path, uri, _, _ = served
    code, _, err = cli("--project", path, "serve", "runs:/nope/model", "--port", 0)
    assert code == 2 and "Error:" in err and "Traceback" not in err
    code, _, err = cli("--project", tmp_path / "missing.mdesk", "serve", uri)
    assert code == 2 and "No project" in err
    import socket

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        code, _, err = cli("--project", path, "serve", uri, "--port", busy.getsockname()[1])
    assert code == 2 and "Cannot listen" in err and "--port" in err and "Traceback" not in err


def test_score_cli(served, tmp_path):
    path, uri, X, model = served
    src, out = tmp_path / "in.csv", tmp_path / "out.csv"
    frame = X.iloc[:40].astype(object)
    frame.iloc[5, 0] = "oops"
    frame.to_csv(src, index=False)
    code, stdout, stderr = cli("--project", path, "score", uri, src, "-o", out, "--proba", "--chunk-rows", 10)
    assert code == 0, stderr
    assert "Scored 39 of 40 rows" in stdout and "Rejected 1 rows" in stdout and "row 6" in stdout
    assert "Scoring" in stderr   # the progress bar goes to stderr
    result = pd.read_csv(out)
    assert len(result) == 39 and {"prediction", "proba_0", "proba_1"} <= set(result.columns)


def test_labels_import_cli(served, tmp_path):
    path, uri, X, _ = served
    from modeldesk.server.app import create_app

    app = create_app(path, uri, reload_interval=0)
    client = app.test_client()
    ids = [client.post("/predict", json={"records": [X.iloc[i].to_dict()]}).get_json()["request_id"]
           for i in range(3)]
    app.extensions["modeldesk"].close()
    labels = tmp_path / "labels.csv"
    labels.write_text("request_id,label\n" + "".join(f"{r},1\n" for r in ids) + "unknown-id,0\n")
    code, out, err = cli("--project", path, "labels", "import", labels)
    assert code == 0, err
    assert "3 prediction(s) labeled from 4 line(s)" in out and "unknown request id" in out
    import modeldesk as md

    md.set_project(path)
    df = md.get_predictions(uri)
    assert df["label"].tolist() == [1, 1, 1]


def test_serve_takes_as_after_the_command(served):
    path, uri, X, _ = served   # $MODELDESK_USER is "tester": --as ben must win, as `modeldesk --as ben serve` does
    proc, url, _, _ = start_server("--project", path, "serve", uri, "--port", 0, "--as", "ben")
    try:
        assert post(url + "/predict", {"records": [X.iloc[0].to_dict()]})[0] == 200
    finally:
        code, _, err = finish(proc)
    assert code == 0, err
    from modeldesk.core.storage.project import open_project

    with open_project(path) as p:
        events = p.read("SELECT event, user FROM serving_events ORDER BY id")
        actors = p.read("SELECT action, actor FROM audit_log WHERE action LIKE 'serving.%' ORDER BY seq")
    assert [tuple(e) for e in events] == [("start", "ben"), ("stop", "ben")]
    assert [tuple(a) for a in actors] == [("serving.start", "ben"), ("serving.stop", "ben")]


@pytest.mark.parametrize("where", ["after", "before"])
def test_labels_import_takes_as(served, tmp_path, monkeypatch, where):
    """`labels import FILE --as ben` acts as ben, exactly like `modeldesk --as ben labels import FILE`."""
    from click.testing import CliRunner

    import modeldesk.core.serving.prediction_log as predictions
    from modeldesk.cli import cli as main

    path, uri, X, _ = served
    from modeldesk.server.app import create_app

    app = create_app(path, uri, reload_interval=0)
    rid = app.test_client().post("/predict", json={"records": [X.iloc[0].to_dict()]}).get_json()["request_id"]
    app.extensions["modeldesk"].close()
    labels = tmp_path / "labels.csv"
    labels.write_text(f"request_id,label\n{rid},1\n")
    acted_as, opened = [], []
    real = predictions.import_labels

    def spy(project, *args, **kwargs):
        acted_as.append(project.user)
        opened.append(project)   # the CLI leaves its project to process exit; close it below
        return real(project, *args, **kwargs)

    monkeypatch.setattr(predictions, "import_labels", spy)
    args = (["--project", str(path), "labels", "import", str(labels), "--as", "ben"] if where == "after"
            else ["--project", str(path), "--as", "ben", "labels", "import", str(labels)])
    result = CliRunner().invoke(main, args, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert "1 prediction(s) labeled" in result.output and acted_as == ["ben"]
    result = CliRunner().invoke(main, ["--project", str(path), "labels", "import", str(labels)])
    for project in opened:
        project.close()
    assert result.exit_code == 0 and acted_as == ["ben", "tester"]   # without --as: $MODELDESK_USER


def test_as_is_in_the_help_of_serve_and_labels_import():
    for args in (("serve", "--help"), ("labels", "import", "--help")):
        code, out, _ = cli(*args)
        assert code == 0 and "--as USER" in out


def test_cli_takes_registry_short_forms(served, tmp_path):
    path, uri, X, model = served
    from modeldesk.core.registry import aliases
    from modeldesk.core.registry import versions as registry
    from modeldesk.core.storage.project import open_project

    with open_project(path) as p:
        registry.register_model(p, uri, "cancer")
        aliases.set_alias(p, "cancer", "staging", 1)
    src = tmp_path / "in.csv"
    X.iloc[:5].to_csv(src, index=False)
    for short in ("cancer/1", "cancer@staging", "models:/cancer@staging"):
        out = tmp_path / f"{short.replace('/', '_').replace(':', '').replace('@', '_')}.csv"
        code, stdout, stderr = cli("--project", path, "score", short, src, "-o", out)
        assert code == 0, stderr
        assert pd.read_csv(out)["prediction"].tolist() == model.predict(X.iloc[:5]).tolist()
    proc, url, banner, _ = start_server("--project", path, "serve", "cancer@staging", "--port", 0)
    try:
        assert banner[0].startswith("Serving models:/cancer@staging (version 1, ")
        status, body = post(url + "/predict", {"records": [X.iloc[0].to_dict()]})
        assert status == 200 and body["version"] == 1 and body["model"] == "models:/cancer@staging"
    finally:
        finish(proc)
    code, _, err = cli("--project", path, "score", "cancer@nope", src, "-o", tmp_path / "x.csv")
    assert code == 2 and "no alias 'nope'" in err


APP_STAND_IN = r"""
import os, subprocess, sys
env = dict(os.environ, MODELDESK_SERVE_PARENT=str(os.getpid()))
server = subprocess.Popen([sys.executable, "-m", "modeldesk", *sys.argv[1:]], stdout=subprocess.PIPE, text=True,
                          stderr=open(os.environ["STAND_IN_ERR"], "w"), env=env)
for line in server.stdout:
    if "Ctrl+C" in line:
        break
print(server.pid, flush=True)
sys.stdin.read()     # wait to be killed
"""


def _running(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


@pytest.mark.skipif(not os.path.isdir("/proc"), reason="reads process states from /proc (Linux)")
def test_server_started_by_the_app_stops_when_the_app_is_killed(served, tmp_path):
    path, uri, _, _ = served
    err = tmp_path / "server-stderr.txt"
    app = subprocess.Popen([sys.executable, "-c", APP_STAND_IN, "--project", str(path), "serve", uri, "--port", "0"],
                           stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                           env=dict(os.environ, STAND_IN_ERR=str(err)))
    try:
        server_pid = int(app.stdout.readline())
        assert _running(server_pid)
        app.kill()                                  # the app crashes: nobody will send SIGTERM
        app.wait(timeout=10)
        deadline = time.monotonic() + 30
        while _running(server_pid):
            assert time.monotonic() < deadline, "the server outlived the app that started it"
            time.sleep(0.05)
    finally:
        app.kill()
    from modeldesk.core.storage.project import open_project

    with open_project(path) as p:
        events = p.read("SELECT event, detail FROM serving_events ORDER BY id")
    assert [e for e, _ in events] == ["start", "stop"] and "the app that started it exited" in events[-1][1]
    # its stdout pipe died with the app: the last words went nowhere, quietly
    assert "Traceback" not in err.read_text() and "BrokenPipe" not in err.read_text()


def test_bad_parent_pid_is_a_usage_error(served):
    path, uri, _, _ = served
    proc = subprocess.run([sys.executable, "-m", "modeldesk", "--project", str(path), "serve", uri, "--port", "0"],
                          capture_output=True, text=True, timeout=60,
                          env=dict(os.environ, MODELDESK_SERVE_PARENT="app"))
    assert proc.returncode == 2 and "MODELDESK_SERVE_PARENT must be a process id" in proc.stderr
    assert "Traceback" not in proc.stderr
