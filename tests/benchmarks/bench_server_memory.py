"""Server memory benchmark: RSS of `modeldesk serve` after a dozen requests at the row limit.

Target (issue 9): under 300 MiB with the prediction log on. The floor, in the
same run, is the server's RSS when it is ready, before any request.
Run: make bench (or .venv/bin/python tests/benchmarks/bench_server_memory.py).
"""

from __future__ import annotations

import http.client
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))   # tests/ for the support package

import modeldesk as md  # noqa: E402
from modeldesk.core.serving.payloads import DEFAULT_MAX_ROWS  # noqa: E402
from support.data import breast_cancer  # noqa: E402
from support.registry import fitted_logreg, log_run  # noqa: E402

REQUESTS = 12


def rss_mib(pid: int) -> float:
    return int(Path(f"/proc/{pid}/status").read_text().split("VmRSS:")[1].split()[0]) / 1024


def measure(log: bool) -> tuple[float, float, float]:
    tmp = tempfile.mkdtemp()
    md.set_project(f"{tmp}/p.mdesk")
    X, _ = breast_cancer()
    run_id = log_run(md, fitted_logreg(), fit=False)
    md.flush()
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    cmd = [sys.executable, "-m", "modeldesk", "--project", f"{tmp}/p.mdesk", "serve", f"runs:/{run_id}/model",
           "--port", str(port)] + ([] if log else ["--no-log"])
    proc = subprocess.Popen(cmd, env=dict(os.environ, XDG_DATA_HOME=tmp), stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    try:
        for _ in range(150):
            try:
                c = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
                c.request("GET", "/health")
                c.getresponse().read()
                break
            except OSError:
                time.sleep(0.2)
        ready = rss_mib(proc.pid)
        rows = X.sample(DEFAULT_MAX_ROWS, replace=True, random_state=0).to_dict("split")
        body = json.dumps({"columns": rows["columns"], "data": rows["data"]}).encode()
        peak = 0.0
        for _ in range(REQUESTS):
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
            c.request("POST", "/predict", body, {"Content-Type": "application/json"})
            r = c.getresponse()
            r.read()
            assert r.status == 200, r.status
            peak = max(peak, rss_mib(proc.pid))
        time.sleep(2)
        return ready, rss_mib(proc.pid), peak
    finally:
        proc.terminate()
        proc.wait()


def main() -> int:
    if not Path("/proc/self/status").exists():
        print("  server memory: not measured (needs Linux's /proc); no figure, no verdict")
        return 0
    missed = 0
    for log in (True, False):
        ready, after, peak = measure(log)
        met = after < 300
        print(f"  server RSS after {REQUESTS} x {DEFAULT_MAX_ROWS:,}-row requests, log {'on ' if log else 'off'}"
              f"  {after:6.0f} MiB (peak {peak:.0f})   floor (ready) {ready:4.0f} MiB  ratio {after / ready:4.2f}x"
              f"  target < 300 MiB  {'OK' if met else 'MISSED'}", flush=True)
        missed += not met
    return 1 if missed else 0


if __name__ == "__main__":
    raise SystemExit(main())
