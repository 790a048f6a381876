"""Which params, metrics and tags the Experiments view's runs table shows, and
at what widths (kept across searches and sorts, remembered per experiment).

A mixin of :class:`~.experiments_view.ExperimentsView` (it uses the view's
``model``, ``table``, ``settings``, ``key_stats`` and ``_widths``).
"""

from __future__ import annotations

import time

from PySide6.QtCore import Qt

from ...core.text import fmt_time
from ...core.tracking import browse
from ...core.tracking.browse import Column
from .column_chooser import ColumnChooser

_WIDTHS = {"run_name": 170, "run_id": 74, "status": 80, "user": 64, "duration": 72}
_MAX_WIDTH = 200   # a longer title is elided (its tooltip has it whole)


class RunColumns:
    """Choosing the runs table's columns and sizing them."""

    def choose_columns(self) -> None:
        title = self.experiment_name() or "All experiments"
        dialog = ColumnChooser(self.key_stats or self.keys, self.model.columns, title, self)
        dialog.setAttribute(Qt.WA_DeleteOnClose)
        dialog.accepted.connect(lambda: self.set_columns(dialog.chosen()))
        dialog.open()
        self.column_dialog = dialog

    def set_columns(self, columns: list[Column]) -> None:
        """Show these params/metrics/tags, remembered for this experiment."""
        self.model.set_columns(columns)
        self.settings.set_columns(self.project.path, self.experiment_name(),
                                  [c.spec for c in self.model.columns if c not in browse.BASE_COLUMNS])
        self._apply_widths()

    def _apply_widths(self) -> None:
        """Column widths: the ones the table had before its last reset (a search,
        a sort, a new column: what the user dragged stays), else fixed widths for
        the attributes and one from the title for the rest, either leaving room
        for the whole title beside the sort arrow, up to ``_MAX_WIDTH``."""
        for i, col in enumerate(self.model.columns):
            width = self._widths.get(col.spec)
            if width is None:
                width = self.fontMetrics().horizontalAdvance(fmt_time(time.time(), "min")) + 24 \
                    if col.key in ("start_time", "end_time") else \
                    _WIDTHS.get(col.key, 104) if col.kind == "attributes" else \
                    max(78, min(160, self.fontMetrics().horizontalAdvance(col.title) + 28))
                width = max(width, min(_MAX_WIDTH, self.table.header_width(i)))
            self.table.setColumnWidth(i, width)
        self._sync_sort_indicator()

    def _sync_sort_indicator(self) -> None:
        column, order = self.model.sort_column()
        header = self.table.horizontalHeader()
        header.blockSignals(True)
        header.setSortIndicator(column, order)
        header.blockSignals(False)
        header.viewport().update()

