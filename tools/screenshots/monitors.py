"""Regenerate the Monitors panel screenshots of the user guide (not a test).

Run under Xvfb from the repository root:

    xvfb-run -a -s "-screen 0 1400x900x24" .venv/bin/python tools/screenshots/monitors.py [OUT_DIR]

Builds a quick demo project in a temporary folder (its monitor
``cancer-classifier`` watches the production alias, whose last two days of
traffic drifted), adds a calm latency monitor as ana, opens the Monitors
panel alone at 1200×560, presses Check Now and waits for the check and for
the retrain it starts (detached, as in the app) to finish, then grabs:

- monitors-panel.png: the monitors (one firing, one ok) and the new alert;
- monitor-dialog.png: the Add Monitor dialog, filled in.

OUT_DIR defaults to docs/images. Settings and the project live in the
temporary folder, never the user's own.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

from qt_wait import pump

ROOT = Path(__file__).resolve().parents[2]


def main() -> None:
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "docs" / "images"
    folder = Path(tempfile.mkdtemp(prefix="modeldesk-monitors-shots-"))
    os.environ["XDG_CONFIG_HOME"] = str(folder / "config")
    os.environ["MODELDESK_USER"] = "ana"
    sys.path.insert(0, str(ROOT / "app"))
    from PySide6.QtWidgets import QApplication

    from modeldesk.core.monitoring import monitors as mon
    from modeldesk.core.monitoring import retrain
    from modeldesk.core.storage.project import open_project
    from modeldesk.demo import build_demo
    from modeldesk.gui.monitoring.monitors_panel import MonitorsPanel

    path = folder / "demo.mdesk"
    print(build_demo(path, user="ana", quick=True))
    project = open_project(path, create=False, user="ana")
    mon.set_monitor(project, "cancer-latency", "cancer-classifier", window="1d",
                    thresholds=mon.make_thresholds(p99_ms=250, error_rate=0.02), actor="ana")
    app = QApplication.instance() or QApplication(sys.argv)
    panel = MonitorsPanel()
    panel.resize(1200, 560)
    panel.show()
    panel.set_project(project)
    pump(app, 20, lambda: panel.monitor_items.rowCount() == 2, "the monitors")
    panel.check_now()
    pump(app, 120, lambda: panel.check_task is None and panel.alert_items.rowCount() > 0, "the check")
    started = [r for r in retrain.list_retrains(project) if r.status == "running"]
    for r in started:
        retrain.wait_for(project, r.id, timeout=300)
    panel.reload()
    pump(app, 3)
    panel.alert_table.selectRow(0)
    panel.monitor_table.selectRow(0)
    pump(app, 0.5)
    out.mkdir(parents=True, exist_ok=True)
    panel.grab().save(str(out / "monitors-panel.png"))
    panel.add_button.click()
    dialog = panel.dialog
    dialog.name.setText("cancer-accuracy")
    dialog.metric_choice.setCurrentText("accuracy")
    dialog.max_drop.setText("0.05")
    dialog.window_size.setText("7d")
    pump(app, 0.5)
    dialog.grab().save(str(out / "monitor-dialog.png"))
    dialog.reject()
    panel.set_project(None)
    panel.jobs.wait()
    project.close()
    print(f"wrote {out / 'monitors-panel.png'} and {out / 'monitor-dialog.png'}")


if __name__ == "__main__":
    main()
