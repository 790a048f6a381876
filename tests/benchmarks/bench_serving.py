"""Serving benchmark: `modeldesk serve` against the model's own in-process predict.

A StandardScaler + LogisticRegression pipeline on scikit-learn's breast-cancer
data is logged to a fresh project and served by a real `modeldesk serve`
process (waitress, loopback). Every figure is printed next to its floor,
measured in the same run on the same rows:

- single-row latency p50/p99 over 2,000 sequential keep-alive requests
  (logging on and off),
  floor: ``model.predict`` on the same one-row DataFrames, in process;
- throughput with 8 concurrent keep-alive clients (threads of this process,
  one http.client connection each) for 10 s, floor: in-process single-row
  predicts per second on one thread (the server cannot beat the GIL);
- one 1,000-row request, floor: ``model.predict`` on the same 1,000 rows
  (``{"records": [...]}``, and ``{"columns", "data"}`` with logging off), and
  where its time goes: the server's own steps timed in this process on the
  same body (JSON parse, parse + check against the signature, predict);
- the same with prediction logging on and off (floor: off);
- time from starting `modeldesk serve` to the first answered /health (status
  ok, the model loaded and verified), and the server's resident memory;
- the prediction log: bytes per logged row (file growth / rows, single-row
  requests of the 30 float features; target <= 300) and the writer's
  throughput (rows/s encoded and written by ``write_predictions``).

Targets (issue 9): the 1,000-row request on the request path for many rows
(``Content-Type: application/x-npy``, NumPy's .npy format) within 3x of
``model.predict``, for the logistic regression (predict ~0.6 ms) and for a
gradient-boosting model (predict ~3 ms, the cost the issue measured its target
against). The same rows as JSON (``records``, ``columns``/``data``) are
printed too, without a target: 240-800 KiB of JSON text cost more to read
than so cheap a model costs to run.

Targets (issue 5): p50 within 1.5 ms of in-process predict; >= 400 requests/s
with 8 clients; logging costs < 10 % of throughput; ready < 2 s; < 250 MiB.
Each targeted line says ok or MISSED for this run; the script exits 1 when one
was missed, so `make bench` names it.
Run: make bench, or .venv/bin/python tests/benchmarks/bench_serving.py [--quick]
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROWS: list = []
NPY = "application/x-npy"
JSON_TARGET = "- (JSON: informative)"


def npy_bytes(array) -> bytes:
    import io

    import numpy as np

    buf = io.BytesIO()
    np.save(buf, array)
    return buf.getvalue()


def report(name: str, ours: float, floor: float, unit: str, target: str, lower_is_better: bool = True,
           met: bool | None = None) -> None:
    """One figure, its floor and ratio, its target and (where it has one) whether this run met it."""
    ratio = ours / floor if lower_is_better else floor / ours
    ROWS.append((name, ours, floor, unit, ratio, target, met))
    verdict = "" if met is None else ("  ok" if met else "  MISSED")
    print(f"  {name:<52} {ours:>10,.2f} {unit:<6} floor {floor:>10,.2f}  ratio {ratio:5.2f}x  target {target}"
          f"{verdict}", flush=True)


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))]


def build_project(tmp: Path):
    from sklearn.datasets import load_breast_cancer
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import StandardScaler

    import modeldesk as md

    X, y = load_breast_cancer(return_X_y=True, as_frame=True)
    model = Pipeline([("scale", StandardScaler()), ("clf", LogisticRegression(max_iter=2000))]).fit(X, y)
    path = tmp / "bench.mdesk"
    md.set_project(path)
    with md.start_run(name="bench") as run:
        md.log_model(model, input_example=X.iloc[:5])
    boosted = HistGradientBoostingClassifier(random_state=0).fit(X, y)
    with md.start_run(name="bench-boosted") as boosted_run:
        md.log_model(boosted, input_example=X.iloc[:5])
    md.flush()
    return path, f"runs:/{run.id}/model", X, model, (f"runs:/{boosted_run.id}/model", boosted)


class Server:
    """A `modeldesk serve` child process on a free port."""

    def __init__(self, project: Path, uri: str, *extra: str):
        self.started = time.perf_counter()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "modeldesk", "--project", str(project), "serve", uri, "--port", "0", *extra],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        line = self.proc.stdout.readline()
        if " at http://" not in line:
            raise SystemExit(f"server did not start: {line} {self.proc.stderr.read()}")
        self.port = int(line.rsplit(":", 1)[1].rstrip(")\n "))
        threading.Thread(target=self.proc.stdout.read, daemon=True).start()   # drain the banner
        threading.Thread(target=self.proc.stderr.read, daemon=True).start()
        self.ready_s = self._wait_ready()

    def _wait_ready(self) -> float:
        while True:
            try:
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
                conn.request("GET", "/health")
                resp = conn.getresponse()
                ok = resp.status == 200 and json.loads(resp.read())["status"] == "ok"
                conn.close()
                if ok:
                    return time.perf_counter() - self.started
            except OSError:
                pass
            time.sleep(0.002)

    def rss_mib(self) -> tuple[float, float]:
        status = Path(f"/proc/{self.proc.pid}/status").read_text()
        fields = {k: v for k, _, v in (line.partition(":") for line in status.splitlines())}
        return int(fields["VmRSS"].split()[0]) / 1024, int(fields["VmHWM"].split()[0]) / 1024

    def metrics(self) -> dict:
        from modeldesk.core.serving.metrics_text import parse_metrics

        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        conn.request("GET", "/metrics")
        text = conn.getresponse().read().decode()
        conn.close()
        return parse_metrics(text)

    def stop(self) -> None:
        self.proc.send_signal(signal.SIGTERM)
        self.proc.wait(timeout=60)


def connect(port: int) -> http.client.HTTPConnection:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.connect()
    return conn


def call(conn: http.client.HTTPConnection, body: bytes, content_type: str = "application/json") -> bytes:
    conn.request("POST", "/predict", body, {"Content-Type": content_type})
    resp = conn.getresponse()
    data = resp.read()
    if resp.status != 200:
        raise RuntimeError(f"{resp.status}: {data[:200]!r}")
    return data


def sequential(port: int, bodies: list[bytes]) -> list[float]:
    conn = connect(port)
    for body in bodies[:100]:   # warm up
        call(conn, body)
    times = []
    for body in bodies:
        t = time.perf_counter()
        call(conn, body)
        times.append(time.perf_counter() - t)
    conn.close()
    return times


def throughput(port: int, bodies: list[bytes], clients: int, seconds: float) -> tuple[float, int]:
    counts = [0] * clients
    errors = [0] * clients
    start_line = threading.Barrier(clients + 1)
    stop = threading.Event()

    def client(k: int) -> None:
        conn = connect(port)
        start_line.wait()
        i = k
        while not stop.is_set():
            try:
                call(conn, bodies[i % len(bodies)])
                counts[k] += 1
            except Exception:   # noqa: BLE001 - counted and reported
                errors[k] += 1
                conn.close()
                conn = connect(port)
            i += clients
        conn.close()

    threads = [threading.Thread(target=client, args=(k,)) for k in range(clients)]
    for t in threads:
        t.start()
    start_line.wait()
    t0 = time.perf_counter()
    time.sleep(seconds)
    stop.set()
    for t in threads:
        t.join()
    return sum(counts) / (time.perf_counter() - t0), sum(errors)


def big_request(port: int, body: bytes, repeats: int, content_type: str = "application/json") -> float:
    conn = connect(port)
    call(conn, body, content_type)
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        call(conn, body, content_type)
        times.append(time.perf_counter() - t)
    conn.close()
    return statistics.median(times)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="shorter runs (a smoke test, not figures)")
    args = parser.parse_args()
    n_seq, seconds, starts = (300, 2.0, 1) if args.quick else (2000, 10.0, 3)
    with tempfile.TemporaryDirectory() as tmpdir:
        project, uri, X, model, (boosted_uri, boosted) = build_project(Path(tmpdir))
        rows = [X.iloc[[i % len(X)]] for i in range(n_seq)]
        bodies = [json.dumps({"records": [{k: float(v) for k, v in r.iloc[0].items()}]}).encode() for r in rows]
        big = X.sample(1000, replace=True, random_state=0)
        big_body = json.dumps({"records": json.loads(big.to_json(orient="records"))}).encode()
        split_body = json.dumps({"columns": list(big.columns), "data": big.to_numpy().tolist()}).encode()
        npy_body = npy_bytes(big.to_records(index=False))

        # floors: the model itself, in this process, on the same rows
        for r in rows[:100]:
            model.predict(r)
        floor_times = []
        for r in rows:
            t = time.perf_counter()
            model.predict(r)
            floor_times.append(time.perf_counter() - t)
        floor_rps = 1.0 / statistics.mean(floor_times)
        model.predict(big)
        floor_big = statistics.median([_timed(model.predict, big) for _ in range(20)])

        print(f"== serving benchmark ({os.cpu_count()} CPUs; server: `modeldesk serve`, waitress, 8 threads)")
        ready = []
        for _ in range(starts - 1):
            s = Server(project, uri, "--no-log")
            ready.append(s.ready_s)
            s.stop()
        server = Server(project, uri)
        ready.append(server.ready_s)
        seq = sequential(server.port, bodies)
        p50, p99 = pct(seq, 0.5) * 1e3, pct(seq, 0.99) * 1e3
        f50, f99 = pct(floor_times, 0.5) * 1e3, pct(floor_times, 0.99) * 1e3
        report("single-row latency p50 (log on)", p50, f50, "ms", f"<= floor + 1.5 ms ({f50 + 1.5:.2f} ms)",
               met=p50 <= f50 + 1.5)
        report("single-row latency p99 (log on)", p99, f99, "ms", "-")
        rps_on, err_on = throughput(server.port, bodies, 8, seconds)
        report("throughput, 8 clients (log on)", rps_on, floor_rps, "req/s", ">= 400 req/s", lower_is_better=False,
               met=rps_on >= 400)
        big_on = big_request(server.port, big_body, 20) * 1e3
        report("1,000-row request, JSON records (log on)", big_on, floor_big * 1e3, "ms", JSON_TARGET)
        npy_ms = big_request(server.port, npy_body, 20, NPY) * 1e3
        report("1,000-row request, .npy (log on)", npy_ms, floor_big * 1e3, "ms", "<= 3x floor",
               met=npy_ms <= 3 * floor_big * 1e3)
        rss, peak = server.rss_mib()
        time.sleep(1.0)   # let the writer finish
        m = server.metrics()
        answered = m.get('modeldesk_predicted_rows_total{endpoint="/predict"}', 0)
        written, dropped = m.get("modeldesk_prediction_log_written_rows_total", 0), \
            m.get("modeldesk_prediction_log_dropped_rows_total", 0)
        server.stop()

        server = Server(project, uri, "--no-log")
        seq_off = sequential(server.port, bodies)
        report("single-row latency p50 (log off)", pct(seq_off, 0.5) * 1e3, f50, "ms", "-")
        report("single-row latency p99 (log off)", pct(seq_off, 0.99) * 1e3, f99, "ms", "-")
        rps_off, err_off = throughput(server.port, bodies, 8, seconds)
        report("throughput, 8 clients (log off)", rps_off, floor_rps, "req/s", ">= 400 req/s", lower_is_better=False,
               met=rps_off >= 400)
        big_off = big_request(server.port, big_body, 20) * 1e3
        report("1,000-row request, JSON records (log off)", big_off, floor_big * 1e3, "ms", JSON_TARGET)
        split_off = big_request(server.port, split_body, 20) * 1e3
        report("1,000-row request, columns/data (log off)", split_off, floor_big * 1e3, "ms", JSON_TARGET)
        npy_ms = big_request(server.port, npy_body, 20, NPY) * 1e3
        report("1,000-row request, .npy (log off)", npy_ms, floor_big * 1e3, "ms", "<= 3x floor",
               met=npy_ms <= 3 * floor_big * 1e3)
        server.stop()
        # the same request to a model whose predict costs what the issue measured (2.7 ms): parsing
        # 240-800 KiB of JSON is a fixed cost that a 0.6 ms linear model cannot hide, a bigger model can
        boosted.predict(big)
        floor_boosted = statistics.median([_timed(boosted.predict, big) for _ in range(20)])
        server = Server(project, boosted_uri)
        npy_ms = big_request(server.port, npy_body, 20, NPY) * 1e3
        report("1,000-row request, gradient boosting, JSON (log on)", big_request(server.port, big_body, 20) * 1e3,
               floor_boosted * 1e3, "ms", JSON_TARGET)
        report("1,000-row request, gradient boosting, .npy (log on)", npy_ms, floor_boosted * 1e3, "ms", "<= 3x floor",
               met=npy_ms <= 3 * floor_boosted * 1e3)
        server.stop()
        server = Server(project, boosted_uri, "--no-log")
        npy_ms = big_request(server.port, npy_body, 20, NPY) * 1e3
        report("1,000-row request, gradient boosting, .npy (log off)", npy_ms, floor_boosted * 1e3, "ms", "<= 3x floor",
               met=npy_ms <= 3 * floor_boosted * 1e3)
        server.stop()
        cost = (rps_off - rps_on) / rps_off * 100
        report("logging on: throughput vs logging off", rps_on, rps_off, "req/s", "cost < 10 %", lower_is_better=False,
               met=cost < 10)
        report("time from `modeldesk serve` to /health ok", statistics.median(ready), 2.0, "s",
               "< 2 s (floor = target)", met=statistics.median(ready) < 2.0)
        report("server resident memory after the runs", rss, 250.0, "MiB", "< 250 MiB (floor = target)",
               met=rss < 250)
        steps = big_request_steps(project, uri, big_body)
        print(f"  1,000-row request ({len(big_body) / 1024:,.0f} KiB of JSON), the server's steps in this process: "
              + ", ".join(f"{k} {v * 1e3:.2f} ms" for k, v in steps.items()))
        per_row, rows_per_s = log_figures(Path(tmpdir), uri, X, 2000 if args.quick else 20000)
        report("prediction log bytes per row (30 floats, 1 row/req)", per_row, 300.0, "B", "<= 300 B (floor = target)",
               met=per_row <= 300)
        print(f"  prediction log writer: {rows_per_s:,.0f} rows/s (single-row requests, encode + write)")
        print(f"  logging cost {cost:.1f} % of throughput; peak RSS {peak:.0f} MiB; ready times "
              f"{', '.join(f'{r:.2f}' for r in ready)} s")
        print(f"  prediction log: {answered:,.0f} rows answered, {written:,.0f} written, {dropped:,.0f} dropped; "
              f"client errors: {err_on + err_off}")
    import importlib.util

    if importlib.util.find_spec("pyarrow") is not None:
        print("  (pyarrow is installed here, e.g. by MLflow in the test extra: pandas loads it in the server, which "
              "raises its memory; docs/serving.md compares a plain install)")
    missed = [row[0] for row in ROWS if row[6] is False]
    print("  targets missed: " + "; ".join(missed) if missed else "  every target met")
    return 1 if missed else 0


def big_request_steps(project: Path, uri: str, body: bytes) -> dict:
    """Medians of the 1,000-row request's own steps, in this process: where its time goes."""
    from modeldesk.core.serving.served_model import load_served
    from modeldesk.core.serving.validation import model_input, validate_payload
    from modeldesk.core.storage.project import open_project

    with open_project(project) as p:
        served = load_served(p, uri)
    sig = served.signature

    def check():
        return validate_payload(body, "application/json", sig)

    frame = check().frame
    from modeldesk.core.serving.payloads import loads_json

    steps = {"JSON parse (json.loads)": lambda: json.loads(body), "JSON parse (ours: orjson)": lambda: loads_json(body),
             "parse + check": check,
             "predict": lambda: served.model.predict(model_input(sig, frame))}
    return {name: statistics.median([_timed(lambda _: fn(), None) for _ in range(20)]) for name, fn in steps.items()}


def log_figures(tmp: Path, uri: str, X, n: int) -> tuple[float, float]:
    """Bytes per row (file growth after a checkpoint / rows) and write throughput of the prediction log."""
    from modeldesk.core.serving.prediction_log import LogEntry, write_predictions
    from modeldesk.core.serving.served_model import ServedModel
    from modeldesk.core.storage.project import open_project

    path = tmp / "log.mdesk"
    sig = {"inputs": [{"name": c, "type": "double"} for c in X.columns]}
    model = ServedModel(uri, None, None, "r", "model", "0" * 64, sig)
    entries = [LogEntry(f"{k:032x}", 1e9 + k, model, X.iloc[[k % len(X)]], [k % 2], 1.5) for k in range(n)]
    with open_project(path) as p:
        write_predictions(p, entries[:100])
        p.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        before = path.stat().st_size
        t = time.perf_counter()
        write_predictions(p, entries[100:])
        elapsed = time.perf_counter() - t
        p.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        after = path.stat().st_size
    return (after - before) / (n - 100), (n - 100) / elapsed


def _timed(fn, arg) -> float:
    t = time.perf_counter()
    fn(arg)
    return time.perf_counter() - t


if __name__ == "__main__":
    raise SystemExit(main())
