"""What the Experiments view does to the runs it shows: open details, compare,
select a run, register its model, copy ids and rows, and the table's context menu.

A mixin of :class:`~.experiments_view.ExperimentsView` (it uses the view's
``project``, ``model``, ``table``, ``jobs``, ``footer`` and its actions); split
out so the view module keeps to layout and searching.
"""

from __future__ import annotations

from PySide6.QtCore import QItemSelectionModel
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QMenu, QMessageBox, QWidget

from ...core.tracking import browse, runs
from ..kit.dialogs import message
from ..kit.tables import selection_of
from ..kit.windows import open_view, unavailable
from .runs_model import RunIdRole

MAX_COMPARE = 50


def _tsv_job(project, rids, columns):
    return browse.runs_tsv(runs.runs_by_rid(project, rids), columns), len(rids)


def _run_rid_job(project, session: int, run_id: str):
    return session, run_id, runs.run_rid(project, run_id)


class RunActions:
    """Acting on the selected or current runs of an ExperimentsView."""

    def open_details(self, run_id: str) -> QWidget | None:
        """Open the run details window for ``run_id`` and return it (None when it
        could not open; a message says why).

        The window is shown at once and fills itself from workers: connect to its
        ``loaded`` signal (or check ``details``) to know when the data is in.
        """
        try:
            from ..runs.run_details import open_run_details  # pyqtgraph: imported on first use, not at start-up
        except ImportError as exc:
            return unavailable(self, "Run details", exc)
        return open_view(self, open_run_details, "Run details", self.project, run_id)

    def compare(self, run_ids: list[str]) -> QWidget | None:
        """Open the comparison window for ``run_ids`` and return it (None when it
        could not open; a message says why). A run clicked in its charts is
        selected here.

        The window is shown at once and loads the comparison from workers:
        connect to its ``comparisonLoaded`` / ``curvesLoaded`` signals (or check
        ``comparison``) to know when the data is in.
        """
        try:
            from ..compare.compare_view import open_compare  # pyqtgraph: imported on first use, not at start-up
        except ImportError as exc:
            return unavailable(self, "Compare", exc)
        view = open_view(self, open_compare, "Compare", self.project, list(run_ids))
        if view is not None and hasattr(view, "runSelected"):
            view.runSelected.connect(self.select_run)
        return view

    def select_run(self, run_id: str) -> None:
        """Select ``run_id`` in the runs table and scroll to it; the footer says so when
        the experiment, filter or search shown leaves it out."""
        if self.project is not None:
            self.jobs.start(_run_rid_job, self.project, self._session, run_id, done=self._on_run_found,
                            failed=self._on_failed)

    def _on_run_found(self, result) -> None:
        session, run_id, rid = result
        if session != self._session:
            return
        rows = self.model.rows_for_rids([rid])
        if not rows:
            self.footer.setText(f"Run {run_id[:8]} is not in this list: change the experiment, filter or "
                                "search to see it.")
            return
        index = self.model.index(rows[0], 0)
        selection_of(self.table).setCurrentIndex(
            index, QItemSelectionModel.ClearAndSelect | QItemSelectionModel.Rows)
        self.table.scrollTo(index, self.table.ScrollHint.PositionAtCenter)

    def compare_selected(self) -> QWidget | None:
        """Compare the selected runs (2 to ``MAX_COMPARE``), in row order.

        Returns the compare window when it opened at once, which it does when the
        selected rows are loaded (rows on screen are); None when there was nothing
        to compare, or when some runs are read off-thread first: the window then
        opens when they arrive (see :meth:`compare` to open one for known ids).
        """
        rows = self.selected_rows()
        if len(rows) < 2:
            return None
        if len(rows) > MAX_COMPARE:
            message(self, QMessageBox.Information, "Compare",
                    f"{len(rows):,} runs are selected; compare at most {MAX_COMPARE} at a time.")
            return None
        session = self._session
        opened: list = []

        def found(runs_: list) -> None:
            if session == self._session:  # still the same project
                opened.append(self.compare([r.id for r in runs_]))

        self.model.fetch_runs(rows, found)
        return opened[0] if opened else None

    def details_of_current(self) -> QWidget | None:
        """Open the details of the current run (Open Run Details) and return the
        window, as :meth:`open_details` does (None without a loaded current run)."""
        index = self.table.currentIndex()
        return self._on_activated(index) if index.isValid() else None

    def _on_activated(self, index) -> QWidget | None:
        run_id = self.model.data(index, RunIdRole)
        return self.open_details(run_id) if run_id else None

    def register_current(self) -> None:
        """Register the current run's logged model in the registry (a dialog picks the name)."""
        run_id = self.model.data(self.table.currentIndex(), RunIdRole)
        if run_id:
            from ..registry.registry_dialogs import register_from_run

            open_view(self, register_from_run, "Register model", self.project, run_id)

    def copy_current_id(self) -> None:
        run_id = self.model.data(self.table.currentIndex(), RunIdRole)
        if run_id:
            QGuiApplication.clipboard().setText(run_id)

    def copy_selected(self) -> None:
        """Selected rows to the clipboard as TSV (loaded off-thread when many)."""
        rows = self.selected_rows()
        if not rows:
            return
        columns = self.model.columns
        loaded = [self.model.run_at(r) for r in rows]
        if len(rows) <= 1000 and all(loaded):
            self._copied((browse.runs_tsv(loaded, columns), len(rows)))
        else:
            self.footer.setText(f"Copying {len(rows):,} runs…")
            self.jobs.start(_tsv_job, self.project, self.model.rids_for_rows(rows), columns,
                            done=self._copied, failed=self._on_failed)

    def _copied(self, result) -> None:
        text, n = result
        QGuiApplication.clipboard().setText(text)
        self._update_footer()
        self.footer.setText(self.footer.text() + f" · copied {n:,} row{'s' if n != 1 else ''}")

    def _context_menu(self, pos) -> None:
        index = self.table.indexAt(pos)
        if index.isValid():
            if not selection_of(self.table).isRowSelected(index.row()):
                self.table.selectRow(index.row())
            selection_of(self.table).setCurrentIndex(index, QItemSelectionModel.NoUpdate)
        menu = QMenu(self)
        for action in (self.compare_action, self.details_action, self.register_action, None, self.copy_id_action,
                       self.copy_action, None, *self.lifecycle.run_actions()):
            menu.addSeparator() if action is None else menu.addAction(action)
        self.context_menu = menu
        menu.popup(self.table.viewport().mapToGlobal(pos))

