"""Screenshots of the Serving view with live traffic and of the scoring dialog (not a test).

Run under Xvfb from the repository root, on a demo project:

    .venv/bin/modeldesk demo /tmp/shots5/demo.mdesk --no-ui
    xvfb-run -a -s "-screen 0 1400x900x24" .venv/bin/python tools/screenshots/serving.py /tmp/shots5/demo.mdesk

It opens the main window at 1280×800, starts `modeldesk serve` on
models:/cancer-classifier@production from the Serving view's "Serve a model…"
dialog, drives real HTTP traffic at it from background threads for ~20 s
(a few hundred requests/s, with bursts of bad requests so errors show), and
saves docs/images/serving.png; then scores a CSV with some bad rows in the
scoring dialog and saves docs/images/scoring.png. Settings go to a
temporary folder, never the user's own.
"""

from __future__ import annotations

import http.client
import json
import math
import os
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]   # tools/screenshots/serving.py -> the repository
URI = "models:/cancer-classifier@production"
TRAFFIC_S = 22.0
CLIENTS = 6


def _pump(app, seconds: float, until=None) -> bool:
    from PySide6.QtCore import QEventLoop

    end = time.monotonic() + seconds
    while time.monotonic() < end:
        app.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 50)
        if until is not None and until():
            return True
        time.sleep(0.005)
    return until is None


def _rate(t: float) -> float:
    """Requests/s wanted ``t`` seconds in: a ramp, a plateau with a wobble, a peak, a dip."""
    if t < 3:
        return 60 + 60 * t
    if t < 9:
        return 240 + 40 * math.sin(t)
    if t < 14:
        return 420
    if t < 17:
        return 160
    return 300 + 30 * math.sin(2 * t)


def _bad_request(rng, record: dict) -> tuple[bytes, str]:
    kind = rng.random()
    if kind < 0.45:
        return json.dumps({"records": [dict(record, **{"mean radius": "14.1 mm"})]}).encode(), "application/json"
    if kind < 0.70:
        row = {k: v for k, v in record.items() if k != "worst area"}
        return json.dumps({"records": [row]}).encode(), "application/json"
    if kind < 0.85:
        return b'{"records": [{"mean radius": 14.1,', "application/json"
    if kind < 0.95:
        return json.dumps({"records": [dict(record, **{"mean texture": None})]}).encode(), "application/json"
    return b"mean radius=14.1", "application/x-www-form-urlencoded"


def drive_traffic(url: str, records: list[dict], seconds: float, stop: threading.Event) -> dict:
    """Send requests from CLIENTS keep-alive connections at _rate(t); a few percent are bad."""
    import random

    host, port = url.split("//")[1].split(":")
    counts = {"ok": 0, "bad": 0, "failed": 0}
    lock = threading.Lock()
    started = time.monotonic()

    def client(i: int) -> None:
        rng = random.Random(i)
        conn = http.client.HTTPConnection(host, int(port), timeout=10)
        next_at = time.monotonic()
        while not stop.is_set():
            now = time.monotonic()
            t = now - started
            if t > seconds:
                break
            error_burst = 12.0 <= t < 15.0
            bad = rng.random() < (0.12 if error_burst else 0.015)
            if bad:
                body, ctype = _bad_request(rng, rng.choice(records))
            else:
                body, ctype = json.dumps({"records": [rng.choice(records)]}).encode(), "application/json"
            try:
                conn.request("POST", "/predict", body=body, headers={"Content-Type": ctype})
                response = conn.getresponse()
                response.read()
                key = "ok" if response.status == 200 else "bad"
            except (OSError, http.client.HTTPException):
                conn.close()
                conn = http.client.HTTPConnection(host, int(port), timeout=10)
                key = "failed"
            with lock:
                counts[key] += 1
            next_at += CLIENTS / _rate(t)
            delay = next_at - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            else:
                next_at = time.monotonic()
        conn.close()

    threads = [threading.Thread(target=client, args=(i,), daemon=True) for i in range(CLIENTS)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    return counts


def scoring_input(path: Path) -> Path:
    """Breast-cancer rows, ten times over, with a few bad ones (text, empty cells)."""
    import pandas as pd
    from sklearn.datasets import load_breast_cancer

    frame = pd.concat([load_breast_cancer(as_frame=True).data] * 10, ignore_index=True)
    frame = frame.astype({"mean radius": object, "mean texture": object})
    for row in range(17, len(frame), 397):
        frame.loc[row, "mean radius"] = "oops"
    for row in range(101, len(frame), 911):
        frame.loc[row, "mean texture"] = None
    frame.to_csv(path, index=False)
    return path


def main(argv: list[str]) -> int:
    demo = Path(argv[0] if argv else "/tmp/shots5/demo.mdesk").resolve()
    out = Path(argv[1] if len(argv) > 1 else ROOT / "docs" / "images")
    out.mkdir(parents=True, exist_ok=True)
    if not demo.exists():
        print(f"No demo project at {demo}; build it with `modeldesk demo {demo} --no-ui`.", file=sys.stderr)
        return 2
    os.environ["XDG_CONFIG_HOME"] = tempfile.mkdtemp(prefix="modeldesk-shots-")
    os.environ.setdefault("MODELDESK_THEME", "light")

    from modeldesk.gui.app import create_application

    app = create_application()
    from PySide6.QtCore import QSettings

    QSettings.setDefaultFormat(QSettings.Format.IniFormat)
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, os.environ["XDG_CONFIG_HOME"])
    from modeldesk.gui.main_window import MainWindow

    win = MainWindow(user="ana")
    win.resize(1280, 800)
    win.show()
    win.open(demo)
    if not _pump(app, 20, lambda: win.project is not None):
        print("the project did not open", file=sys.stderr)
        return 1
    view = win.serving
    win.nav.setCurrentRow(2)
    dialog = view.open_serve_dialog()
    _pump(app, 5, lambda: dialog.tree.topLevelItemCount() > 0 and dialog.tree.topLevelItem(0).childCount() > 0)
    dialog.edit.setText(URI)
    dialog.accept()
    server = view.servers[0]
    if not _pump(app, 30, lambda: server.status == "failed" or (server.metadata is not None and server.version)):
        print("the server did not start", file=sys.stderr)
    if server.status != "running":
        print("\n".join(server.log), file=sys.stderr)
        return 1

    from sklearn.datasets import load_breast_cancer

    columns = [f["name"] for f in server.metadata["signature"]["inputs"]]
    records = load_breast_cancer(as_frame=True).data[columns].to_dict(orient="records")
    stop = threading.Event()
    result: dict = {}
    traffic = threading.Thread(target=lambda: result.update(drive_traffic(server.url, records, TRAFFIC_S, stop)),
                               daemon=True)
    traffic.start()
    _pump(app, TRAFFIC_S - 1.5)          # grab while the traffic still runs: a live chart
    view.details.tabs.setCurrentIndex(0)
    win.grab().save(str(out / "serving.png"))
    print(f"saved {out / 'serving.png'}", file=sys.stderr)
    _pump(app, 30, lambda: not traffic.is_alive())
    print(f"traffic: {result}", file=sys.stderr)

    csv = scoring_input(demo.parent / "patients.csv")
    scoring = view.open_scoring_dialog(URI)
    scoring.input.setText(str(csv))
    scoring.proba.setChecked(True)
    scoring.start()
    _pump(app, 60, lambda: not scoring.running)
    _pump(app, 0.5)
    scoring.grab().save(str(out / "scoring.png"))
    print(f"saved {out / 'scoring.png'}: {scoring.status.text()}", file=sys.stderr)
    scoring.close()

    view.stop_all(wait=True)
    _pump(app, 1)
    win.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
