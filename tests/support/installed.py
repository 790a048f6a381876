"""Drive an installed `modeldesk` command (a wheel in a fresh venv, or the packaged
dist/ModelDesk/ModelDesk) the way a user would: --version, demo --no-ui, the app
until its first window paints, serve with a /predict, and report when it exists.
Every run gets a scrubbed environment (no PYTHONPATH into the source tree)."""

from __future__ import annotations

import json
import os
import queue
import re
import shutil
import subprocess
import threading
import time
import urllib.request
from pathlib import Path

MODEL = "models:/cancer-classifier@production"


def clean_env(home: Path, **extra: str) -> dict:
    """The environment of a user's shell: no PYTHONPATH/virtualenv of the test run,
    settings and data in ``home``."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("PYTHON", "VIRTUAL_ENV", "MODELDESK_", "XDG_"))}
    env.update(HOME=str(home), XDG_CONFIG_HOME=str(home / "config"), XDG_DATA_HOME=str(home / "data"),
               MODELDESK_USER="tester", **extra)
    return env


def run(command: list[str], env: dict, cwd: Path, timeout: float = 180) -> subprocess.CompletedProcess:
    result = subprocess.run(command, env=env, cwd=cwd, capture_output=True, text=True, timeout=timeout)
    assert result.returncode == 0, f"{command} exited {result.returncode}:\n{result.stdout}\n{result.stderr}"
    return result


def has_command(modeldesk: list[str], name: str, env: dict, cwd: Path) -> bool:
    """Whether this build has the `name` command (some arrive with later issues)."""
    return subprocess.run([*modeldesk, name, "--help"], env=env, cwd=cwd, capture_output=True,
                          timeout=120).returncode == 0


def check_version(modeldesk: list[str], env: dict, cwd: Path) -> str:
    from modeldesk.core.version import __version__

    out = run([*modeldesk, "--version"], env, cwd).stdout
    assert __version__ in out, out
    return out


def build_demo(modeldesk: list[str], env: dict, cwd: Path) -> Path:
    """`modeldesk demo --quick --no-ui` (the smaller sweep: real models, a registry, a prediction log)."""
    result = run([*modeldesk, "demo", "demo.mdesk", "--quick", "--no-ui"], env, cwd)
    assert "Built demo.mdesk" in result.stdout, result.stdout
    run([*modeldesk, "check", "demo.mdesk"], env, cwd)
    return cwd / "demo.mdesk"


def first_window(modeldesk: list[str], project: Path, env: dict, cwd: Path, *, xvfb: bool) -> float:
    """Open the app on ``project`` until its main window first paints (then it quits by
    itself: MODELDESK_STARTUP_PROBE); on the real xcb plugin under xvfb-run when
    ``xvfb``, else offscreen. Returns the seconds it took."""
    probe = cwd / "painted"
    probe.unlink(missing_ok=True)
    env = dict(env, MODELDESK_STARTUP_PROBE=str(probe))
    prefix = ["xvfb-run", "-a", "-s", "-screen 0 1280x800x24"] if xvfb else []
    if xvfb:
        env.pop("QT_QPA_PLATFORM", None)
    else:
        env["QT_QPA_PLATFORM"] = "offscreen"
    start = time.time()
    run([*prefix, *modeldesk, "ui", str(project)], env, cwd, timeout=120)
    assert probe.exists(), "the window never painted"
    return float(probe.read_text()) - start


def can_use_xvfb() -> bool:
    return shutil.which("xvfb-run") is not None and shutil.which("xauth") is not None


def serve_and_predict(modeldesk: list[str], project: Path, env: dict, cwd: Path) -> dict:
    """`modeldesk serve` the demo's production model on a free port, score one record, stop it."""
    proc = subprocess.Popen([*modeldesk, "--project", str(project), "serve", MODEL, "--port", "0"], env=env,
                            cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    lines: queue.Queue = queue.Queue()
    threading.Thread(target=lambda: [lines.put(line) for line in proc.stdout], daemon=True).start()
    try:
        url = None
        deadline = time.monotonic() + 90
        while url is None and time.monotonic() < deadline:
            try:
                match = re.search(r" at (http://\S+)$", lines.get(timeout=1).rstrip())
            except queue.Empty:
                assert proc.poll() is None, f"serve exited {proc.returncode}: {proc.stderr.read()}"
                continue
            url = match.group(1) if match else None
        assert url, "serve printed no URL"
        with urllib.request.urlopen(url + "/metadata", timeout=30) as resp:
            columns = [c["name"] for c in json.load(resp)["signature"]["inputs"]]
        body = json.dumps({"records": [{name: 1.0 for name in columns}]}).encode()
        request = urllib.request.Request(url + "/predict", data=body, method="POST",
                                         headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=30) as resp:
            return json.load(resp)
    finally:
        proc.terminate()
        proc.wait(30)
