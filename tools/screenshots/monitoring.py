"""Screenshots of the Monitoring view on the demo project (not a test).

Run under Xvfb from the repository root:

    .venv/bin/modeldesk demo /tmp/shots-monview/demo.mdesk --no-ui     # or let the script build it
    xvfb-run -a -s "-screen 0 1400x900x24" .venv/bin/python tools/screenshots/monitoring.py

It opens the main window, shows models:/cancer-classifier@production in the
Monitoring view with daily windows over the last 30 days (the demo's last two
days of traffic read larger in 16 of 30 inputs), makes the last whole drifted
day current with two drifted columns selected, and saves docs/images/monitoring.png
(the view), monitoring-overlay.png (the drift table and the selected column's
overlaid distributions), monitoring-performance.png (realised and CBPE-estimated
accuracy with the value at training) and monitoring-serving.png (requests, error
rate, latency). Settings go to a temporary folder, never the user's own.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
URI = "models:/cancer-classifier@production"
COLUMNS = ["mean texture", "mean radius"]


def _pump(app, seconds: float, until=None) -> bool:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        app.processEvents()
        if until is not None and until():
            return True
        time.sleep(0.02)
    return until is None


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--demo", default="/tmp/shots-monview/demo.mdesk", help="demo project (built if missing)")
    parser.add_argument("--out", default=str(ROOT / "docs" / "images"), help="folder for the PNGs")
    args = parser.parse_args()
    demo = Path(args.demo)
    if not demo.exists():
        demo.parent.mkdir(parents=True, exist_ok=True)
        subprocess.run([sys.executable, "-m", "modeldesk", "demo", str(demo), "--no-ui"], check=True)
    os.environ["MODELDESK_THEME"] = "light"
    os.environ["XDG_CONFIG_HOME"] = tempfile.mkdtemp(prefix="modeldesk-shots-")   # never the user's settings
    os.environ["XDG_DATA_HOME"] = os.environ["XDG_CONFIG_HOME"]
    os.environ.setdefault("QT_QPA_PLATFORM", "xcb" if os.environ.get("DISPLAY") else "offscreen")

    from PySide6.QtCore import QSettings

    from modeldesk.gui.app import create_application
    from modeldesk.gui.main_window import VIEWS, MainWindow

    QSettings.setDefaultFormat(QSettings.IniFormat)
    QSettings.setPath(QSettings.IniFormat, QSettings.UserScope, os.environ["XDG_CONFIG_HOME"])
    app = create_application()
    out = Path(args.out)
    win = MainWindow(user="ana")
    win.resize(1360, 880)
    win.show()
    win.open(demo)
    if not _pump(app, 60, lambda: win.project is not None):
        print("the demo project did not open", file=sys.stderr)
        return 1
    win.nav.setCurrentRow(VIEWS.index("Monitoring"))
    view = win.monitoring

    def idle() -> bool:
        return (view.charts_ready and view.windows_final and view.performance is not None
                and view.health is not None and not view.jobs.busy())

    _pump(app, 60, lambda: view.model_box.count() > 0)
    if not view.choose(URI):
        print(f"{URI} is not in the picker", file=sys.stderr)
        return 1
    if not _pump(app, 120, idle):
        print("the view did not finish loading", file=sys.stderr)
        return 1
    w = view.windows
    drifted = [i for i in range(w.count) if w.drifted[i]]
    whole = [i for i in drifted if w.rows[i] >= 300] or drifted
    view.select_window(whole[-1])
    view.table.select_columns(COLUMNS)
    _pump(app, 30, lambda: view.sample_window == whole[-1] and not view.jobs.busy())
    _pump(app, 0.5)
    out.mkdir(parents=True, exist_ok=True)
    shots = {"monitoring.png": win, "monitoring-overlay.png": view.middle}
    for name, widget in shots.items():
        widget.grab().save(str(out / name))
    view.tabs.setCurrentWidget(view.perf_chart)
    _pump(app, 0.5)
    view.tabs.grab().save(str(out / "monitoring-performance.png"))
    view.tabs.setCurrentWidget(view.health_chart)
    _pump(app, 0.5)
    view.tabs.grab().save(str(out / "monitoring-serving.png"))
    print(f"windows {w.count}, drifted {len(drifted)}, current {whole[-1]}; saved to {out}")
    win.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
