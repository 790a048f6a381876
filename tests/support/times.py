"""A project whose records carry known times, and the process's time zone set for a test:
for checking that every face shows the same time in the same, named zone (issue 13 item 4)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from dataclasses import dataclass

SUMMER = 1_783_000_000.0      # 2026-07-02 13:46:40 UTC = 09:46:40 EDT in New York
WINTER = 1_768_564_800.0      # 2026-01-16 12:00:00 UTC = 07:00:00 EST in New York


@dataclass
class Timed:
    path: object
    run_id: str


def build(md, project_path) -> Timed:
    """A run started at SUMMER; its model registered (and so audited) at WINTER."""
    from modeldesk.core import clock
    from modeldesk.core.registry import versions as registry

    from .registry import log_run

    with clock.shifted(SUMMER - time.time()):
        run_id = log_run(md, name="summer-run", roc_auc=0.9)
    with clock.shifted(WINTER - time.time()):
        registry.register_model(md.get_project(), f"runs:/{run_id}/model", "churn", actor="ana")
    md.flush()
    return Timed(project_path, run_id)


def set_zone(monkeypatch, zone: str) -> None:
    """Make this process's local time ``zone`` (undone by monkeypatch; call time.tzset() after)."""
    monkeypatch.setenv("TZ", zone)
    time.tzset()


def cli_in_zone(zone: str, *args) -> str:
    """`modeldesk ARGS` in a fresh process whose local zone is ``zone``; its stdout."""
    env = {**os.environ, "TZ": zone, "MODELDESK_PROJECT": ""}
    proc = subprocess.run([sys.executable, "-m", "modeldesk", *map(str, args)], capture_output=True, text=True,
                          env=env, timeout=120)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout
