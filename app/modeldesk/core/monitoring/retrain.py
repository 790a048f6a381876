"""Retraining: a monitor's command, run when it fires or on its schedule, landing as a candidate.

A retrain is claimed (:func:`claim`) inside the write transaction of the
check that decided it: a ``retrains`` row with status ``running``, the host
and pid of the process that runs it, and a ``retrain.start`` audit entry. A
partial unique index lets one retrain per monitor be running, so two checks
at the same moment (two processes, or two threads) start one retrain; a
claim whose process is gone (same host, pid no longer alive, as runs are
found KILLED) is closed as failed and no longer blocks.

Running it (:func:`run_retrain`): the monitor's command in a shell, in the
project's folder, with ``MODELDESK_PROJECT`` (the project file),
``MODELDESK_RETRAIN`` (the reason), ``MODELDESK_RETRAIN_ID`` and
``MODELDESK_USER`` (the monitor's owner) set. The fluent API tags every run
started while ``MODELDESK_RETRAIN_ID`` is set with ``modeldesk.retrain_id``;
the last such run with a logged model is registered as the model's next
version, and a promotion request to the monitored alias is opened in the
owner's name through the registry's approvals: the gates run, and the
request waits for a person. Retraining never moves an alias. The command's
output (stdout and stderr, the last ``MAX_OUTPUT`` characters) is kept in
the row; a failure is ``retrain.failed`` with the last lines, a success
``retrain.done`` with the run, version, request and gate results.

:func:`launch` runs it before returning (``wait=True``) or in a detached
process (``python -m modeldesk.core.monitoring.retrain PROJECT ID``, or the
frozen app's ``modeldesk monitor run-retrain ID``) that outlives the check,
so a scheduled ``monitor check`` returns at once.
"""

from __future__ import annotations

import os
import socket
import sqlite3
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

from .. import audit, clock
from ..errors import NotFoundError
from ..storage.project import Project
from ..storage.rows import build, named

RETRAIN_TAG = "modeldesk.retrain_id"
MAX_OUTPUT = 1_000_000        # characters of output kept (the end)
LAST_LINES = 20               # lines of output in a retrain.failed audit entry


@dataclass(frozen=True)
class Retrain:
    """One retrain: what ran, why, and what it produced."""

    id: str
    monitor: str
    model: str
    alias: str
    owner: str
    reason: str
    command: str
    status: str                  # running | done | failed
    host: str
    pid: int | None
    started_at: float
    ended_at: float | None
    exit_code: int | None
    output: str
    run_id: str | None
    version: int | None
    request_id: int | None
    message: str

    def last_lines(self, n: int = LAST_LINES) -> list[str]:
        return self.output.rstrip("\n").splitlines()[-n:] if self.output else []

    def to_dict(self, output: bool = False) -> dict:
        data = {k: getattr(self, k) for k in self.__dataclass_fields__ if k != "output"}
        data["last_lines"] = self.last_lines()
        if output:
            data["output"] = self.output
        return data


@dataclass(frozen=True)
class Claim:
    """What a check's claim got: a new ``retrain``, or the id of the one still ``running``."""

    reason: str
    retrain: Retrain | None
    running: str | None
    message: str


_COLUMNS = ("id, monitor, model, alias, owner, reason, command, status, host, pid, started_at, ended_at,"
            " exit_code, output, run_id, version, request_id, message")


def _retrain(row) -> Retrain:
    return build(Retrain, row)


def get_retrain(project: Project, retrain_id: str, conn: sqlite3.Connection | None = None) -> Retrain:
    """One retrain by id (or a unique prefix of it)."""
    rows = named(conn or project.conn, f"SELECT {_COLUMNS} FROM retrains WHERE id LIKE ? || '%'",
                 (str(retrain_id).strip(),))
    if len(rows) != 1:
        raise NotFoundError(f"No retrain {retrain_id!r}." if not rows else
                            f"Retrain id {retrain_id!r} is ambiguous; give more characters.")
    return _retrain(rows[0])


def list_retrains(project: Project, monitor: str | None = None, *, limit: int | None = None) -> list[Retrain]:
    """Retrains, newest first (a running one whose process is gone is closed as failed first)."""
    reap(project)
    sql, args = f"SELECT {_COLUMNS} FROM retrains", []
    if monitor is not None:
        sql += " WHERE monitor = ?"
        args.append(monitor)
    sql += " ORDER BY started_at DESC, rowid DESC"
    if limit is not None:
        sql += " LIMIT ?"
        args.append(int(limit))
    return [_retrain(r) for r in named(project.conn, sql, args)]


def schedule_due(monitor, now: float) -> bool:
    """Whether ``retrain_every`` has passed since the last retrain (or since the monitor was set)."""
    from .monitors import parse_period

    if not monitor.retrain_every or not monitor.retrain_command:
        return False
    since = monitor.last_retrain if monitor.last_retrain is not None else monitor.created_at
    return now - since >= parse_period(monitor.retrain_every, "retrain every")


def _gone(host: str, pid: int | None) -> bool:
    from ..tracking.runs import pid_alive

    return host == socket.gethostname() and pid is not None and not pid_alive(pid)


def _close_gone(conn: sqlite3.Connection, row, now: float) -> None:
    message = f"the process running it (pid {row['pid']} on {row['host']}) is gone: it was killed or crashed"
    conn.execute("UPDATE retrains SET status = 'failed', ended_at = ?, message = ? WHERE id = ? AND status = 'running'",
                 (now, message, row["id"]))
    audit.append(conn, actor=row["owner"], action="retrain.failed", model=row["model"], at=now,
                 details={"retrain_id": row["id"], "monitor": row["monitor"], "message": message,
                          "last_lines": []})


def reap(project: Project) -> int:
    """Close running retrains whose process is gone (this host only); returns how many."""
    rows = named(project.conn, f"SELECT {_COLUMNS} FROM retrains WHERE status = 'running'")
    gone = [r for r in rows if _gone(r["host"], r["pid"])]
    if gone:
        with project.write() as w:
            for r in gone:
                _close_gone(w, r, clock.now())
    return len(gone)


def claim(conn: sqlite3.Connection, monitor, reason: str, now: float) -> Claim:
    """Inside the caller's write transaction: claim a retrain of ``monitor``, unless one is running."""
    for row in named(conn, f"SELECT {_COLUMNS} FROM retrains WHERE monitor = ? AND status = 'running'",
                     (monitor.name,)):
        if _gone(row["host"], row["pid"]):
            _close_gone(conn, row, now)
        else:
            return Claim(reason, None, row["id"], f"retrain {row['id'][:8]} of {monitor.name} is still running "
                                                  f"(pid {row['pid']} on {row['host']}); not started twice")
    retrain_id = uuid.uuid4().hex
    try:
        conn.execute("INSERT INTO retrains (id, monitor, model, alias, owner, reason, command, status, host, pid,"
                     " started_at) VALUES (?, ?, ?, ?, ?, ?, ?, 'running', ?, ?, ?)",
                     (retrain_id, monitor.name, monitor.model, monitor.alias, monitor.owner, reason,
                      monitor.retrain_command, socket.gethostname(), os.getpid(), now))
    except sqlite3.IntegrityError:      # the one-running index: another claim got there first
        return Claim(reason, None, None, f"a retrain of {monitor.name} is already running; not started twice")
    conn.execute("UPDATE monitors SET last_retrain = ? WHERE name = ?", (now, monitor.name))
    audit.append(conn, actor=monitor.owner, action="retrain.start", model=monitor.model, at=now,
                 details={"retrain_id": retrain_id, "monitor": monitor.name, "alias": monitor.alias,
                          "reason": reason, "command": monitor.retrain_command})
    return Claim(reason, get_retrain(None, retrain_id, conn), None, f"retrain {retrain_id[:8]} started")


def _package_root() -> str:
    return str(Path(__file__).resolve().parents[3])     # the folder holding the modeldesk package


def _env(project_path: Path, r: Retrain) -> dict:
    env = dict(os.environ)
    env.update(MODELDESK_PROJECT=str(project_path), MODELDESK_RETRAIN=r.reason, MODELDESK_RETRAIN_ID=r.id,
               MODELDESK_USER=r.owner)
    # The command's `import modeldesk` finds the ModelDesk that started it (a checkout, a venv, a bundle).
    env["PYTHONPATH"] = os.pathsep.join([_package_root(), *filter(None, [env.get("PYTHONPATH")])])
    return env


def runner_command(path: Path, retrain_id: str) -> list[str]:
    """The detached runner's command line: this module under Python, or, in a frozen app (a bundle with no
    ``python -m``), the app's own hidden ``monitor run-retrain`` command."""
    if getattr(sys, "frozen", False):
        return [sys.executable, "--project", str(path), "monitor", "run-retrain", retrain_id]
    return [sys.executable, "-m", "modeldesk.core.monitoring.retrain", str(path), retrain_id]


def launch(project: Project, r: Retrain, *, wait: bool = False) -> None:
    """Run a claimed retrain: here, before returning (``wait``), or in a detached process."""
    if wait:
        run_retrain(project, r.id)
        return
    path = project.path.resolve()
    kwargs: dict = {"stdin": subprocess.DEVNULL, "stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL,
                    "cwd": str(path.parent), "env": _env(path, r)}
    if sys.platform == "win32":
        kwargs["creationflags"] = subprocess.DETACHED_PROCESS | subprocess.CREATE_NEW_PROCESS_GROUP
    else:
        kwargs["start_new_session"] = True
    child = subprocess.Popen(runner_command(path, r.id), **kwargs)
    with project.write() as w:   # the claim now belongs to the child: its liveness is what counts
        w.execute("UPDATE retrains SET pid = ? WHERE id = ? AND status = 'running'", (child.pid, r.id))


def wait_for(project: Project, retrain_id: str, timeout: float = 120.0, poll: float = 0.2) -> Retrain:
    """Block until the retrain is no longer running (or ``timeout``); returns its latest state."""
    deadline = time.monotonic() + timeout
    while True:
        r = get_retrain(project, retrain_id)
        if r.status != "running" or time.monotonic() > deadline:
            return r
        if _gone(r.host, r.pid):
            reap(project)
            continue
        time.sleep(poll)


def _run_command(project: Project, r: Retrain) -> tuple[int, str]:
    path = project.path.resolve()
    try:
        proc = subprocess.Popen(r.command, shell=True, cwd=str(path.parent), env=_env(path, r),
                                stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    except OSError as exc:
        return 127, f"could not start the command: {exc}\n"
    kept = bytearray()
    for chunk in iter(lambda: proc.stdout.read(65536), b""):
        kept += chunk
        if len(kept) > 2 * MAX_OUTPUT:
            del kept[:len(kept) - MAX_OUTPUT]
    proc.stdout.close()
    code = proc.wait()
    return code, bytes(kept[-MAX_OUTPUT:]).decode("utf-8", errors="replace")


def tagged_run(project: Project, retrain_id: str) -> tuple[str, str] | None:
    """``(run id, model name)`` of the last run tagged with ``retrain_id`` that logged a model."""
    rows = project.read("SELECT r.id, m.name FROM runs r JOIN tags t ON t.run_rid = r.rid"
                        " JOIN logged_models m ON m.run_rid = r.rid WHERE t.key = ? AND t.value = ?"
                        " ORDER BY r.start_time DESC, r.rid DESC, m.name = 'model' DESC", (RETRAIN_TAG, retrain_id))
    return (rows[0][0], rows[0][1]) if rows else None


def _fail(project: Project, r: Retrain, message: str, code: int | None, output: str) -> None:
    now = clock.now()
    lines = output.rstrip("\n").splitlines()[-LAST_LINES:]
    with project.write() as w:
        w.execute("UPDATE retrains SET status = 'failed', ended_at = ?, exit_code = ?, output = ?, message = ?"
                  " WHERE id = ?", (now, code, output, message, r.id))
        audit.append(w, actor=r.owner, action="retrain.failed", model=r.model, at=now,
                     details={"retrain_id": r.id, "monitor": r.monitor, "exit_code": code, "message": message,
                              "last_lines": lines})


def run_retrain(project: Project, retrain_id: str) -> Retrain:
    """Run a claimed retrain's command and land its model as a candidate (see the module docstring)."""
    from ..errors import ModelDeskError
    from ..registry.approvals import request_promotion
    from ..registry.versions import register_model

    r = get_retrain(project, retrain_id)
    if r.status != "running":
        return r
    with project.write() as w:
        w.execute("UPDATE retrains SET pid = ? WHERE id = ?", (os.getpid(), r.id))
    code, output = _run_command(project, r)
    if code != 0:
        _fail(project, r, f"the command exited with code {code}", code, output)
        return get_retrain(project, r.id)
    found = tagged_run(project, r.id)
    if found is None:
        _fail(project, r, f"the command succeeded but no run tagged {RETRAIN_TAG}={r.id} logged a model: log one "
                          "with md.log_model inside md.start_run() (MODELDESK_RETRAIN_ID is set for it)", code, output)
        return get_retrain(project, r.id)
    run_id, artifact = found
    try:
        v = register_model(project, f"runs:/{run_id}/{artifact}", r.model, actor=r.owner)
        req = request_promotion(project, r.model, v.version, to=r.alias, actor=r.owner,
                                comment=f"Retrained by monitor {r.monitor} (retrain {r.id[:8]}): {r.reason}")
    except ModelDeskError as exc:
        _fail(project, r, f"the run {run_id[:8]} could not be registered and requested: {exc}", code, output)
        return get_retrain(project, r.id)
    now = clock.now()
    gates = [{"gate": g.gate, "passed": g.passed, "message": g.message} for g in req.gates]
    blocked = [g["gate"] for g in gates if not g["passed"]]
    message = (f"v{v.version} registered from run {run_id[:8]}; request #{req.id} to {r.alias} waits for a "
               f"reviewer" + (f" (gate {', '.join(blocked)} failed)" if blocked else " (gates passed)"))
    with project.write() as w:
        w.execute("UPDATE retrains SET status = 'done', ended_at = ?, exit_code = ?, output = ?, run_id = ?,"
                  " version = ?, request_id = ?, message = ? WHERE id = ?",
                  (now, code, output, run_id, v.version, req.id, message, r.id))
        audit.append(w, actor=r.owner, action="retrain.done", model=r.model, version=v.version, at=now,
                     details={"retrain_id": r.id, "monitor": r.monitor, "run_id": run_id, "request_id": req.id,
                              "alias": r.alias, "gates": gates})
    return get_retrain(project, r.id)


def main(argv: list[str] | None = None) -> int:
    """``python -m modeldesk.core.monitoring.retrain PROJECT RETRAIN_ID``: the detached runner."""
    from ..storage.project import open_project

    args = sys.argv[1:] if argv is None else argv
    if len(args) != 2:
        print("usage: python -m modeldesk.core.monitoring.retrain PROJECT RETRAIN_ID", file=sys.stderr)
        return 2
    project = open_project(args[0], create=False)
    try:
        r = run_retrain(project, args[1])
    except Exception as exc:   # recorded, not lost: nobody watches a detached process's stderr
        r = get_retrain(project, args[1])
        if r.status == "running":
            _fail(project, r, f"the retrain runner failed: {type(exc).__name__}: {exc}", None, r.output)
        return 1
    finally:
        project.close()
    return 0 if r.status == "done" else 1


if __name__ == "__main__":
    sys.exit(main())
