"""Regenerate the registry screenshots of the user guide (a developer tool, not a test).

    xvfb-run -a -s "-screen 0 1400x900x24" .venv/bin/python tools/screenshots/registry.py

Builds the demo project (``modeldesk demo PATH --no-ui``) unless ``--demo``
names one that exists, opens the main window at 1280×800 as reviewer ``ben``
on the Models view with cancer-classifier selected, and saves
docs/images/models.png (a version with a failed gate, a rejection comment and
the alias-history chart) and docs/images/find-models.png (Edit ▸ Find's model
filter, matching and matching nothing). Then it opens the Audit view, presses Verify, and
saves docs/images/audit.png; then a copy of the demo whose production alias
was moved with sqlite3, verified: docs/images/audit-tampered.png.
Offscreen (QT_QPA_PLATFORM=offscreen) works too.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]   # tools/screenshots/registry.py -> the repository


def wait_until(app, condition, timeout: float = 20.0, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise SystemExit(f"timed out waiting for {what or condition}")
        app.processEvents()
        time.sleep(0.02)


def settle(app, seconds: float = 0.4) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        app.processEvents()
        time.sleep(0.02)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--demo", default="/tmp/shots4/demo.mdesk", help="demo project (built if missing)")
    parser.add_argument("--out", default=str(ROOT / "docs" / "images"), help="folder for the PNGs")
    parser.add_argument("--model", default="cancer-classifier")
    parser.add_argument("--version", type=int, default=3, help="the version whose details are shown")
    parser.add_argument("--user", default="ben", help="the reviewer the window acts as")
    args = parser.parse_args()

    demo = Path(args.demo)
    if not demo.exists():
        demo.parent.mkdir(parents=True, exist_ok=True)
        subprocess.run([sys.executable, "-m", "modeldesk", "demo", str(demo), "--no-ui"], check=True)
    os.environ["MODELDESK_THEME"] = "light"
    os.environ["XDG_CONFIG_HOME"] = tempfile.mkdtemp(prefix="modeldesk-shots-")   # never the user's settings
    os.environ["XDG_DATA_HOME"] = os.environ["XDG_CONFIG_HOME"]   # nor the audit heads this machine saw
    os.environ.setdefault("QT_QPA_PLATFORM", "xcb" if os.environ.get("DISPLAY") else "offscreen")

    from PySide6.QtCore import QSettings

    from modeldesk.gui.app import create_application
    from modeldesk.gui.main_window import VIEWS, MainWindow

    QSettings.setDefaultFormat(QSettings.IniFormat)
    QSettings.setPath(QSettings.IniFormat, QSettings.UserScope, os.environ["XDG_CONFIG_HOME"])
    app = create_application()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)

    win = MainWindow(user=args.user)
    win.resize(1280, 800)
    win.show()
    win.open(demo)
    wait_until(app, lambda: win.project is not None, what="the project to open")
    win.nav.setCurrentRow(VIEWS.index("Models"))
    models = win.models
    models.select(args.model, args.version)
    wait_until(app, lambda: models.current_model == args.model and models.current_version == args.version
               and models.details_data is not None and models.timeline is not None, what="the version details")
    settle(app, 0.8)
    shot = out / "models.png"
    win.grab().save(str(shot))
    print(f"wrote {shot}")

    # Edit ▸ Find on the Models view: the model filter, matching and matching nothing, side by side.
    from PySide6.QtGui import QPainter, QPixmap

    win.find_action.trigger()
    panel = models.panel
    halves = []
    for text in ("REGR", "forest"):
        panel.find_field.setText(text)
        settle(app, 0.3)
        halves.append(panel.grab(panel.rect().adjusted(0, 0, 0, -panel.height() + 260)))
    both = QPixmap(halves[0].width() * 2 + 12, halves[0].height())
    both.fill(win.palette().window().color())
    painter = QPainter(both)
    painter.drawPixmap(0, 0, halves[0])
    painter.drawPixmap(halves[0].width() + 12, 0, halves[1])
    painter.end()
    shot = out / "find-models.png"
    both.save(str(shot))
    print(f"wrote {shot}")
    panel.find_field.clear()

    win.nav.setCurrentRow(VIEWS.index("Audit"))
    audit = win.audit
    wait_until(app, lambda: len(audit.entries) > 0, what="the audit entries")
    audit.verify()
    wait_until(app, lambda: audit.verification is not None, what="Verify")
    settle(app, 0.5)
    shot = out / "audit.png"
    win.grab().save(str(shot))
    print(f"wrote {shot}: {audit.verification.message}")
    win.close_project()

    # The same project after someone moved production with sqlite3: the Audit view says so in words.
    tampered = Path(tempfile.mkdtemp(prefix="modeldesk-tampered-")) / "tampered.mdesk"
    import sqlite3

    with sqlite3.connect(demo) as src, sqlite3.connect(tampered) as dst:
        src.backup(dst)
    with sqlite3.connect(tampered) as conn:
        conn.execute("UPDATE aliases SET version = 3 WHERE alias = 'production'"
                     " AND model_id = (SELECT id FROM registered_models WHERE name = ?)", (args.model,))
    win.open(tampered)
    wait_until(app, lambda: win.project is not None, what="the tampered project to open")
    win.nav.setCurrentRow(VIEWS.index("Audit"))
    wait_until(app, lambda: len(audit.entries) > 0, what="the audit entries")
    audit.verify()
    wait_until(app, lambda: audit.verification is not None and not audit.verification.ok, what="Verify")
    settle(app, 0.5)
    shot = out / "audit-tampered.png"
    win.grab().save(str(shot))
    print(f"wrote {shot}: {audit.verification.message}")
    win.close_project()

    # A copy whose log lost its last entries after this machine had seen them: the banner.
    from modeldesk.core import audit as core_audit
    from modeldesk.core.storage.project import open_project

    cut = tampered.with_name("cut.mdesk")
    with sqlite3.connect(demo) as src, sqlite3.connect(cut) as dst:
        src.backup(dst)
    seen = open_project(cut, create=False)
    core_audit.on_open(seen)                      # this machine sees the whole chain
    seen.close()
    with sqlite3.connect(cut) as conn:
        conn.execute("DROP TRIGGER audit_log_no_delete")
        conn.execute("DELETE FROM audit_log WHERE seq > (SELECT MAX(seq) - 2 FROM audit_log)")
        conn.execute("UPDATE audit_head SET seq = (SELECT MAX(seq) FROM audit_log),"
                     " hash = (SELECT hash FROM audit_log ORDER BY seq DESC LIMIT 1)")
    win.open(cut)
    wait_until(app, lambda: win.project is not None and win.chain_banner.isVisible(), what="the banner")
    win.nav.setCurrentRow(VIEWS.index("Models"))
    settle(app, 0.8)
    shot = out / "chain-banner.png"
    win.grab().save(str(shot))
    print(f"wrote {shot}")
    win.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
