"""Screenshot of the packaged app (dist/ModelDesk, from `make package`) running on X (not a test).

Run under Xvfb from the repository root, on a demo project the packaged app built:

    dist/ModelDesk/ModelDesk demo /tmp/pkg/demo.mdesk --no-ui
    xvfb-run -a -s "-screen 0 1400x900x24" .venv/bin/python tools/screenshots/packaged.py /tmp/pkg/demo.mdesk

It starts `dist/ModelDesk/ModelDesk ui PROJECT` as its own process on the xcb
platform plugin the package ships (settings in a temporary folder), waits for
its window to appear, grabs the screen from this process and saves
docs/images/packaged-app.png, then stops the app it started. Pass
``--about`` to save docs/images/about.png instead: the About box drawn in this
process from the source tree, with the app icon.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BINARY = ROOT / "dist" / "ModelDesk" / "ModelDesk"


def _pump(app, seconds: float) -> None:
    from PySide6.QtCore import QEventLoop

    end = time.monotonic() + seconds
    while time.monotonic() < end:
        app.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 50)
        time.sleep(0.02)


def packaged(project: str) -> int:
    from PySide6.QtGui import QGuiApplication

    app = QGuiApplication(sys.argv[:1])
    with tempfile.TemporaryDirectory(prefix="modeldesk-shot-") as tmp:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "VIRTUAL_ENV", "QT_QPA"))}
        env.update(XDG_CONFIG_HOME=tmp, MODELDESK_USER="ada")
        proc = subprocess.Popen([str(BINARY), "ui", project], env=env)
        try:
            _pump(app, 12.0)   # the window, then the project's experiments and runs
            if proc.poll() is not None:
                print(f"the packaged app exited early ({proc.returncode})", file=sys.stderr)
                return 1
            shot = QGuiApplication.primaryScreen().grabWindow(0)   # the whole X screen
            out = ROOT / "docs" / "images" / "packaged-app.png"
            shot.copy(0, 0, 1280, 800).save(str(out))
            print(f"saved {out}")
        finally:
            proc.terminate()
            proc.wait(10)
    return 0


def about() -> int:
    sys.path.insert(0, str(ROOT / "app"))
    from modeldesk.gui.app import create_application
    from modeldesk.gui.main_window import MainWindow

    with tempfile.TemporaryDirectory(prefix="modeldesk-shot-") as tmp:
        os.environ["XDG_CONFIG_HOME"] = tmp
        app = create_application()
        window = MainWindow(user="ada")
        box = window.about()
        box.show()
        _pump(app, 1.0)
        out = ROOT / "docs" / "images" / "about.png"
        box.grab().save(str(out))
        print(f"saved {out}")
        box.close()
        window.close()
    return 0


if __name__ == "__main__":
    if sys.argv[1:2] == ["--about"]:
        sys.exit(about())
    sys.exit(packaged(sys.argv[1]))
