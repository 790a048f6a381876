"""Deleting, restoring and renaming runs and experiments (MLflow's lifecycle stage).

A delete is soft: ``deleted_at`` is set and the run (or experiment) leaves
every list and search unless deleted ones are asked for; nothing else
changes, so a registered version, a served model, a comparison or a drift
check that names a deleted run keeps working, and a restore brings it back
as it was. ``modeldesk gc`` (core.tracking.gc) purges deleted runs for good.

Decisions where MLflow is silent or differs:
- Deleting an experiment deletes its active runs with it (same time stamp);
  restoring the experiment restores exactly those runs. A run of a deleted
  experiment cannot be restored alone: restore the experiment.
- The ``Default`` experiment cannot be deleted (new runs land there).
- Experiment names are unique ignoring case when they are chosen here
  (create, rename): ``Churn`` is refused while ``churn`` exists, deleted or
  not, so two experiments never differ only by case. Run names need not be
  unique (as in MLflow).
- Deleting or restoring a run behind a registered model version writes an
  audit entry per version (``run.delete`` / ``run.restore``).
"""

from __future__ import annotations

import json

from .. import audit, clock
from ..errors import NotFoundError, RefusedError, UsageError
from ..storage.project import Project
from .run_entities import Experiment, Run
from .runs import get_run, list_experiments, run_rid

DEFAULT_EXPERIMENT = "Default"
_IDS = "SELECT value FROM json_each(?)"   # a JSON array of rids: no limit on how many
MAX_NAME = 250


def _name(name, what: str) -> str:
    if not isinstance(name, str) or not name.strip():
        raise UsageError(f"A {what} needs a non-empty name.")
    name = name.strip()
    if len(name) > MAX_NAME or any(ord(c) < 32 for c in name):
        raise UsageError(f"A {what} name has at most {MAX_NAME} characters and no control characters.")
    return name


def _purged_note(project: Project, run_id: str) -> str | None:
    """When the audit log says ``run_id`` was purged: 'on <time> by <actor>'."""
    if not isinstance(run_id, str) or len(run_id) < 4:
        return None
    row = project.conn.execute(
        "SELECT time, actor FROM audit_log WHERE action = 'gc.purge' AND details LIKE ? ORDER BY seq DESC LIMIT 1",
        (f'%"{run_id}%',)).fetchone()
    return None if row is None else f"on {row[0]} by {row[1]}"


def find_rid(project: Project, run_id: str) -> int:
    """``run_rid`` that says so when the run was purged by gc (it cannot come back)."""
    try:
        return run_rid(project, run_id)
    except NotFoundError:
        note = _purged_note(project, run_id)
        if note is None:
            raise
        raise NotFoundError(f"Run {run_id} was purged by `gc` {note}: it is gone for good and cannot be "
                            "restored.") from None


def _versions_of(w, rids: list[int]) -> list[tuple[int, str, int, str, str]]:
    """(rid, model, version, run id, run name) of registered versions made from these runs."""
    if not rids:
        return []
    return w.execute(
        "SELECT v.run_rid, m.name, v.version, r.id, r.name FROM model_versions v"
        " JOIN registered_models m ON m.id = v.model_id JOIN runs r ON r.rid = v.run_rid"
        " WHERE v.run_rid IN (SELECT value FROM json_each(?)) ORDER BY m.name, v.version",
        (json.dumps(rids),)).fetchall()


def _set_deleted(w, rids: list[int], deleted: bool, actor: str, at: float,
                 only_at: float | None = None) -> list[int]:
    """Mark runs deleted (or active) inside the caller's write transaction, auditing
    those behind registered versions; returns the rids changed."""
    action = "run.delete" if deleted else "run.restore"
    if deleted:
        changed = [r[0] for r in w.execute(
            f"SELECT rid FROM runs WHERE rid IN ({_IDS}) AND deleted_at IS NULL", (json.dumps(rids),))]
    else:
        changed = [r[0] for r in w.execute(
            f"SELECT rid FROM runs WHERE rid IN ({_IDS}) AND deleted_at IS NOT NULL"
            + ("" if only_at is None else " AND deleted_at = ?"),
            [json.dumps(rids)] + ([] if only_at is None else [only_at]))]
    if not changed:
        return []
    w.execute(f"UPDATE runs SET deleted_at = ?, deleted_by = ? WHERE rid IN ({_IDS})",
              (at if deleted else None, actor if deleted else None, json.dumps(changed)))
    for _rid, model, version, run_id, run_name in _versions_of(w, changed):
        audit.append(w, actor=actor, action=action, model=model, version=version, at=at,
                     details={"run_id": run_id, "run_name": run_name})
    return changed


def delete_runs(project: Project, run_ids, *, actor: str | None = None) -> list[Run]:
    """Soft-delete runs (ids or unique prefixes); already deleted ones stay as they are.

    Returns the runs as they are now. Runs behind registered versions may be
    deleted (the versions keep working); each such deletion is audited.
    """
    ids = [run_ids] if isinstance(run_ids, str) else list(run_ids)
    rids = [find_rid(project, i) for i in ids]
    with project.write() as w:
        _set_deleted(w, rids, True, actor or project.user, clock.now())
    return [get_run(project, i) for i in ids]


def restore_runs(project: Project, run_ids, *, actor: str | None = None) -> list[Run]:
    """Bring deleted runs back into lists and searches (active ones are left alone).

    A purged run cannot come back (NotFoundError saying when it was purged);
    a run whose experiment is deleted is refused: restore the experiment.
    """
    ids = [run_ids] if isinstance(run_ids, str) else list(run_ids)
    rids = [find_rid(project, i) for i in ids]
    for run_id, exp in project.read(f"SELECT r.id, e.name FROM runs r JOIN experiments e ON e.id = r.experiment_id"
                                    f" WHERE r.rid IN ({_IDS}) AND e.deleted_at IS NOT NULL", (json.dumps(rids),)):
        raise RefusedError(f"Run {run_id[:8]} belongs to the deleted experiment {exp!r}: restore the experiment"
                           " (its runs come back with it).")
    with project.write() as w:
        _set_deleted(w, rids, False, actor or project.user, clock.now())
    return [get_run(project, i) for i in ids]


def rename_run(project: Project, run_id: str, name: str) -> Run:
    """Give a run another name (names need not be unique, as in MLflow)."""
    rid = find_rid(project, run_id)
    name = _name(name, "run")
    with project.write() as w:
        w.execute("UPDATE runs SET name = ? WHERE rid = ?", (name, rid))
    return get_run(project, run_id)


# -- experiments -----------------------------------------------------------------
def get_experiment(project: Project, experiment) -> Experiment:
    """An experiment, deleted or not, by name or id (``"3"`` as MLflow writes ids works too), or
    an ``Experiment`` itself (what ``create_experiment`` returned)."""
    if isinstance(experiment, Experiment):
        experiment = experiment.id
    found = None
    for exp in list_experiments(project, "all"):
        if exp.name == experiment or (str(exp.id) == str(experiment) and found is None):
            found = exp
            if exp.name == experiment:
                break
    if found is None:
        known = ", ".join(e.name for e in list_experiments(project, "all")) or "none yet"
        raise NotFoundError(f"No experiment {experiment!r} in {project.path}. Experiments: {known}.")
    return found


def _check_free(project: Project, name: str, keep: int | None = None) -> None:
    for exp in list_experiments(project, "all"):
        if exp.id != keep and exp.name.casefold() == name.casefold():
            state = " (deleted: restore it, or purge it with gc first)" if exp.deleted_at is not None else ""
            same = "" if exp.name == name else " (names are compared ignoring case)"
            raise RefusedError(f"An experiment called {exp.name!r} already exists{state}{same}.")


def create_experiment(project: Project, name: str) -> Experiment:
    """A new experiment; a name taken by another one, ignoring case, is refused."""
    name = _name(name, "experiment")
    _check_free(project, name)
    with project.write() as w:
        w.execute("INSERT INTO experiments (name, created_at) VALUES (?, ?)", (name, clock.now()))
    return get_experiment(project, name)


def rename_experiment(project: Project, experiment, new_name: str) -> Experiment:
    """Rename an experiment (a change of case alone is fine); its runs follow."""
    exp = get_experiment(project, experiment)
    new_name = _name(new_name, "experiment")
    _check_free(project, new_name, keep=exp.id)
    with project.write() as w:
        w.execute("UPDATE experiments SET name = ? WHERE id = ?", (new_name, exp.id))
    return get_experiment(project, new_name)


def delete_experiment(project: Project, experiment, *, actor: str | None = None) -> Experiment:
    """Soft-delete an experiment and its active runs (restore_experiment undoes both)."""
    exp = get_experiment(project, experiment)
    if exp.name == DEFAULT_EXPERIMENT:
        raise RefusedError(f"The {DEFAULT_EXPERIMENT!r} experiment cannot be deleted: runs logged without an "
                           "experiment go there. Delete its runs instead.")
    if exp.deleted_at is not None:
        return exp
    actor, now = actor or project.user, clock.now()
    with project.write() as w:
        rids = [r[0] for r in w.execute("SELECT rid FROM runs WHERE experiment_id = ? AND deleted_at IS NULL",
                                        (exp.id,))]
        _set_deleted(w, rids, True, actor, now)
        w.execute("UPDATE experiments SET deleted_at = ?, deleted_by = ? WHERE id = ?", (now, actor, exp.id))
    return get_experiment(project, exp.id)


def restore_experiment(project: Project, experiment, *, actor: str | None = None) -> Experiment:
    """Undo delete_experiment: the experiment and the runs deleted with it come back."""
    exp = get_experiment(project, experiment)
    if exp.deleted_at is None:
        return exp
    with project.write() as w:
        rids = [r[0] for r in w.execute("SELECT rid FROM runs WHERE experiment_id = ? AND deleted_at = ?",
                                        (exp.id, exp.deleted_at))]
        w.execute("UPDATE experiments SET deleted_at = NULL, deleted_by = NULL WHERE id = ?", (exp.id,))
        _set_deleted(w, rids, False, actor or project.user, clock.now(), only_at=exp.deleted_at)
    return get_experiment(project, exp.id)
