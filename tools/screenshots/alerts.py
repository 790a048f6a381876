"""The main window when the open app's monitor check fires (not a test).

Run under Xvfb from the repository root:

    xvfb-run -a -s "-screen 0 1400x900x24" .venv/bin/python tools/screenshots/alerts.py [OUT_DIR]

Builds a quick demo project in a temporary folder, opens the main window on it,
runs the check the app runs every five minutes (the demo's monitor fires on
the drifted last days and starts its retrain), waits for the retrain to land
its version as a pending request, and grabs monitoring-alerts.png: the count
on Monitoring's navigation entry, the status-bar line and the Monitors and
alerts tab. OUT_DIR defaults to docs/images; settings and the project live in
the temporary folder.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

from qt_wait import pump

ROOT = Path(__file__).resolve().parents[2]


def main() -> None:
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "docs" / "images"
    folder = Path(tempfile.mkdtemp(prefix="modeldesk-alert-shots-"))
    os.environ["XDG_CONFIG_HOME"] = str(folder / "config")
    os.environ["MODELDESK_USER"] = "ana"
    sys.path.insert(0, str(ROOT / "app"))
    from modeldesk.core.monitoring import retrain
    from modeldesk.core.storage.project import open_project
    from modeldesk.demo import build_demo
    from modeldesk.gui.app import create_application
    from modeldesk.gui.main_window import MainWindow

    path = folder / "demo.mdesk"
    print(build_demo(path, user="ana", quick=True))
    app = create_application()
    win = MainWindow(user="ana")
    win.resize(1360, 820)
    win.show()
    win.open(path)
    pump(app, 30, lambda: win.project is not None and win.alert_watcher.timer.isActive(), "the project")
    fired = []
    win.alert_watcher.new_alerts.connect(fired.append)
    win.alert_watcher.check_now()
    pump(app, 60, lambda: fired, "the monitor check")
    with open_project(path, create=False, user="ana") as project:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and any(r.status == "running" for r in retrain.list_retrains(project)):
            pump(app, 0.5)
    win.show_monitors()
    win.monitors.refresh()
    pump(app, 10, lambda: win.monitors.alerts and win.monitors.monitor_items.rowCount(), "the Monitors panel")
    pump(app, 1.0)
    out.mkdir(parents=True, exist_ok=True)
    win.grab().save(str(out / "monitoring-alerts.png"))
    print(f"saved {out / 'monitoring-alerts.png'}: {win.nav.item(3).text()!r}, {len(fired[0])} new alert(s)")
    win.close()


if __name__ == "__main__":
    main()
