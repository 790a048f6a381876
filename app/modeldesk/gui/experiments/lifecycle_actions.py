"""Delete, restore and rename runs and experiments from the Experiments view.

Owned by :class:`ExperimentsView` (composition): it holds the actions, the
"Show deleted" check box and the confirmation and rename dialogs, and runs
every change as one core call in a worker (``kit.workers.ActionRunner``).
Deleting asks first (Delete key or menu); restoring and renaming do not.
Refusals (the Default experiment, a name taken, a run of a deleted
experiment) come back as core's message in a warning box.
"""

from __future__ import annotations

import html

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QCheckBox, QInputDialog, QLineEdit, QMenu, QMessageBox

from ...core.tracking import lifecycle
from ..kit.workers import ActionRunner

ALL = -1   # the view's "All experiments" entry


def _names(runs) -> str:
    shown = ", ".join(html.escape(r.name) for r in runs[:5])
    return shown + (f" and {len(runs) - 5:,} more" if len(runs) > 5 else "")


class LifecycleActions(QObject):
    """The Experiments view's Delete / Restore / Rename for runs and experiments."""

    changed = Signal(str)   # an action succeeded: what it did, for the footer

    def __init__(self, view):
        super().__init__(view)
        self.view = view
        self.runner = ActionRunner(view)
        self.runner.succeeded.connect(self._succeeded)
        self.confirm_box: QMessageBox | None = None
        self.rename_dialog: QInputDialog | None = None
        self.show_deleted = QCheckBox("Show deleted")
        self.show_deleted.setObjectName("showDeleted")
        self.show_deleted.setToolTip("Also list deleted runs and experiments (greyed), to restore them")
        self.delete_runs_action = QAction("Delete Runs…", view, shortcut=QKeySequence.Delete)
        self.delete_runs_action.setShortcutContext(Qt.WidgetShortcut)
        view.table.addAction(self.delete_runs_action)
        self.restore_runs_action = QAction("Restore Runs", view)
        self.rename_run_action = QAction("Rename Run…", view)
        self.delete_experiment_action = QAction("Delete Experiment…", view, shortcut=QKeySequence.Delete)
        self.delete_experiment_action.setShortcutContext(Qt.WidgetShortcut)
        view.experiment_list.addAction(self.delete_experiment_action)
        self.restore_experiment_action = QAction("Restore Experiment", view)
        self.rename_experiment_action = QAction("Rename Experiment…", view)
        self.delete_runs_action.triggered.connect(self.delete_selected_runs)
        self.restore_runs_action.triggered.connect(self.restore_selected_runs)
        self.rename_run_action.triggered.connect(self.rename_current_run)
        self.delete_experiment_action.triggered.connect(self.delete_current_experiment)
        self.restore_experiment_action.triggered.connect(self.restore_current_experiment)
        self.rename_experiment_action.triggered.connect(self.rename_current_experiment)
        view.experiment_list.setContextMenuPolicy(Qt.CustomContextMenu)
        view.experiment_list.customContextMenuRequested.connect(self._experiment_menu)

    @property
    def lifecycle(self) -> str:
        """What the view's queries ask for: ``all`` with Show deleted, else ``active``."""
        return "all" if self.show_deleted.isChecked() else "active"

    def run_actions(self) -> list[QAction]:
        return [self.rename_run_action, self.delete_runs_action, self.restore_runs_action]

    def update(self, selected: int) -> None:
        busy = self.runner.busy
        self.delete_runs_action.setEnabled(selected >= 1 and not busy)
        self.restore_runs_action.setEnabled(selected >= 1 and not busy and self.show_deleted.isChecked())
        self.rename_run_action.setEnabled(selected == 1 and not busy)

    # -- runs -------------------------------------------------------------------------------
    def _selected(self, then) -> None:
        rows = self.view.selected_rows()
        if rows and self.view.project is not None:
            self.view.model.fetch_runs(rows, then)

    def delete_selected_runs(self) -> None:
        """Ask, then soft-delete the selected runs."""
        self._selected(self._confirm_delete_runs)

    def _confirm_delete_runs(self, runs) -> None:
        runs = [r for r in runs if r.lifecycle_stage == "active"]
        if not runs:
            return
        n = len(runs)
        text = (f"<b>Delete {n:,} run{'s' if n != 1 else ''}?</b>" if n > 1 else
                f"<b>Delete the run {html.escape(runs[0].name)}?</b>")
        detail = (f"{_names(runs)}<br><br>Deleted runs are hidden until you restore them "
                  "(tick Show deleted); a garbage collection removes them for good. "
                  "Registered model versions made from them keep working.")
        project, ids = self.view.project, [r.id for r in runs]
        self._confirm("Delete runs", text, detail, "Delete",
                      lambda: self.runner.run("delete", f"delete {n:,} run{'s' if n != 1 else ''}",
                                              lifecycle.delete_runs, project, ids))

    def restore_selected_runs(self) -> None:
        """Bring the selected deleted runs back."""
        def restore(runs) -> None:
            ids = [r.id for r in runs if r.lifecycle_stage == "deleted"]
            if ids:
                self.runner.run("restore", f"restore {len(ids):,} runs", lifecycle.restore_runs,
                                self.view.project, ids)
        self._selected(restore)

    def rename_current_run(self) -> None:
        """Ask for a new name for the current run."""
        run = self.view.model.run_at(self.view.table.currentIndex().row())
        if run is not None:
            project = self.view.project
            self._ask_name("Rename run", f"New name for run {run.id[:8]}:", run.name,
                           lambda name: self.runner.run("rename", f"rename run {run.name}", lifecycle.rename_run,
                                                        project, run.id, name))

    # -- experiments ------------------------------------------------------------------------
    def _current_experiment(self):
        item = self.view.experiment_list.currentItem()
        exp_id = item.data(0, Qt.UserRole) if item is not None else None
        return next((e for e in self.view.experiments if e.id == exp_id), None) if exp_id != ALL else None

    def _experiment_menu(self, pos) -> None:
        item = self.view.experiment_list.itemAt(pos)
        if item is not None:
            self.view.experiment_list.setCurrentItem(item)
        exp = self._current_experiment()
        if exp is None:
            return
        deleted = exp.lifecycle_stage == "deleted"
        self.rename_experiment_action.setEnabled(not self.runner.busy)
        self.delete_experiment_action.setEnabled(not deleted and not self.runner.busy)
        self.restore_experiment_action.setEnabled(deleted and not self.runner.busy)
        menu = QMenu(self.view)
        for action in (self.rename_experiment_action, self.delete_experiment_action, self.restore_experiment_action):
            menu.addAction(action)
        self.experiment_menu = menu
        menu.popup(self.view.experiment_list.viewport().mapToGlobal(pos))

    def delete_current_experiment(self) -> None:
        """Ask, then soft-delete the current experiment and its runs."""
        exp = self._current_experiment()
        if exp is None or exp.lifecycle_stage == "deleted":
            return
        project = self.view.project
        self._confirm("Delete experiment", f"<b>Delete the experiment {html.escape(exp.name)}?</b>",
                      f"Its {exp.run_count:,} runs are deleted with it; restoring the experiment brings them back.",
                      "Delete", lambda: self.runner.run("delete", f"delete the experiment {exp.name}",
                                                        lifecycle.delete_experiment, project, exp.id))

    def restore_current_experiment(self) -> None:
        exp = self._current_experiment()
        if exp is not None and exp.lifecycle_stage == "deleted":
            self.runner.run("restore", f"restore the experiment {exp.name}", lifecycle.restore_experiment,
                            self.view.project, exp.id)

    def rename_current_experiment(self) -> None:
        exp = self._current_experiment()
        if exp is not None:
            project = self.view.project
            self._ask_name("Rename experiment", "New name:", exp.name,
                           lambda name: self.runner.run("rename", f"rename the experiment {exp.name}",
                                                        lifecycle.rename_experiment, project, exp.id, name))

    def style_experiment(self, item, exp) -> None:
        """Grey out a deleted experiment in the list."""
        if exp.lifecycle_stage == "deleted":
            font = item.font(0)
            font.setStrikeOut(True)
            item.setFont(0, font)
            item.setForeground(0, self.view.palette().placeholderText())
            item.setToolTip(0, f"{exp.name} (deleted: right-click to restore)")

    # -- dialogs, results -------------------------------------------------------------------
    def _confirm(self, title: str, text: str, detail: str, verb: str, then) -> None:
        box = QMessageBox(QMessageBox.Warning, title, text, QMessageBox.Cancel, self.view)
        box.setInformativeText(detail)
        box.setObjectName("confirmDelete")
        ok = box.addButton(verb, QMessageBox.DestructiveRole)
        box.setDefaultButton(QMessageBox.Cancel)
        box.setAttribute(Qt.WA_DeleteOnClose)
        box.buttonClicked.connect(lambda button: then() if button is ok else None)
        self.confirm_box = box
        box.open()

    def _ask_name(self, title: str, label: str, current: str, then) -> None:
        dialog = QInputDialog(self.view)
        dialog.setWindowTitle(title)
        dialog.setLabelText(label)
        dialog.setTextEchoMode(QLineEdit.Normal)
        dialog.setTextValue(current)
        dialog.setAttribute(Qt.WA_DeleteOnClose)
        dialog.textValueSelected.connect(lambda text: then(text) if text.strip() and text != current else None)
        self.rename_dialog = dialog
        dialog.open()

    def _succeeded(self, action: str, result) -> None:
        self.view.refresh()
        items = result if isinstance(result, list) else [result]
        what = {"delete": "Deleted", "restore": "Restored", "rename": "Renamed"}.get(action, "Done")
        self.changed.emit(f"{what} {len(items):,} item{'s' if len(items) != 1 else ''}" if len(items) > 1 else
                          f"{what} {getattr(items[0], 'name', '')}")
