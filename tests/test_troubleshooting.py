"""The user guide's advice for sharing a project (docs/user-guide.md, Troubleshooting):
the copy command it gives, run while a training script writes to the original, makes
copies that are sound and whole at some commit. The command is read from the guide,
so the guide and this test cannot drift apart."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

from modeldesk.core.storage.project import check_integrity, open_project

ROOT = Path(__file__).resolve().parents[1]

WRITER = """
import sys, time
import modeldesk as md
md.set_project(sys.argv[1])
md.set_experiment("busy")
step = 0
while True:
    with md.start_run(name=f"run-{step}"):
        for i in range(200):
            md.log_metric("loss", 1.0 / (i + 1), step=i)
        md.log_params({"i": step})
    step += 1
    if step == 3:
        open(sys.argv[2], "w").close()   # the writer is well under way
"""


def guide_copy_command() -> str:
    text = (ROOT / "docs" / "user-guide.md").read_text()
    section = text[text.index("### A project on a network drive"):text.index("### A damaged project file")]
    command, = re.findall(r"^\s*(python3 -c \".*backup.*\")$", section, flags=re.M)
    return command


def finished_runs(path: Path) -> int:
    import sqlite3

    with sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=30) as conn:
        return conn.execute("SELECT COUNT(*) FROM runs WHERE status = 'FINISHED'").fetchone()[0]


@pytest.mark.slow
def test_the_guides_copy_is_sound_while_a_script_writes(tmp_path):
    command = guide_copy_command()
    open_project(tmp_path / "team.mdesk").close()
    started = tmp_path / "started"
    env = dict(os.environ, PYTHONPATH=str(ROOT / "app"))
    writer = subprocess.Popen([sys.executable, "-c", WRITER, str(tmp_path / "team.mdesk"), str(started)],
                              env=env, cwd=tmp_path)
    try:
        deadline = time.monotonic() + 60
        while not started.exists() or finished_runs(tmp_path / "team.mdesk") < 3:   # committed, not just begun
            assert writer.poll() is None and time.monotonic() < deadline, "the writer did not get going"
            time.sleep(0.05)
        counts = []
        for attempt in range(3):
            (tmp_path / "team-copy.mdesk").unlink(missing_ok=True)
            # the guide's command, with python3 being this interpreter
            argv = [sys.executable, "-c", re.search(r'-c "(.*)"$', command).group(1)]
            subprocess.run(argv, cwd=tmp_path, check=True, timeout=60)
            assert writer.poll() is None, "the writer was still writing while the copy was taken"
            copy = tmp_path / "team-copy.mdesk"
            assert check_integrity(copy) == []
            with open_project(copy, create=False) as project:
                runs = project.read("SELECT COUNT(*) FROM runs")[0][0]
                finished = project.read("SELECT COUNT(*) FROM runs WHERE status = 'FINISHED'")[0][0]
                # a finished run in the copy is whole: its param came in the same commit as its end
                whole = project.read("SELECT COUNT(*) FROM runs r WHERE r.status = 'FINISHED' AND "
                                     "(SELECT COUNT(*) FROM params p WHERE p.run_rid = r.rid) = 1")[0][0]
            counts.append(runs)
            assert finished >= 3 and whole == finished
            time.sleep(0.3)
        assert counts == sorted(counts)
    finally:
        writer.terminate()
        writer.wait(30)
