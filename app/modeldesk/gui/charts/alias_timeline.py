"""The alias-history chart: which version held production (and staging) when.

x is wall-clock time (a DateAxisItem), one row per version that ever held
one of the aliases; in each row a thick band for the time it held
``production`` and a thin one below it for ``staging``. Rollbacks are red
connectors from the version that lost production to the one that got it
back, with a marker; every move has a hover tip (who, how, why).

Handed data (:class:`~modeldesk.core.registry.summaries.AliasInterval` and
:class:`~modeldesk.core.registry.entities.AliasMove` lists); emits
``versionClicked`` when a row is clicked. Imports pyqtgraph, so views create
it lazily.
"""

from __future__ import annotations

import html
import time

import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor, QFont
from PySide6.QtWidgets import QHBoxLayout, QLabel, QStackedWidget, QToolButton, QVBoxLayout, QWidget

from ...core.registry.entities import PRODUCTION, AliasMove
from ...core.registry.summaries import STAGING, AliasInterval
from ...core.text import fmt_time
from ..kit.theme import theme

LANES = {PRODUCTION: (-0.12, 0.36), STAGING: (-0.40, 0.18)}   # alias -> (bottom offset, height) in a row
COLOURS = {PRODUCTION: "#2563eb", STAGING: "#d97706", "rollback": "#dc2626", "other": "#64748b"}
SQUEEZED = 0.2   # when the moves span less than this share of first-move-to-now, zoom to the moves


def move_tip(move: AliasMove) -> str:
    frm = f"v{move.from_version}" if move.from_version is not None else "unset"
    why = f"\n{move.reason}" if move.reason else ""
    return f"{move.alias}: {frm} → v{move.to_version}\n{move.kind} by {move.actor}, {fmt_time(move.at, 'ms')}{why}"


class AliasTimeline(QWidget):
    """Alias holding intervals per version over time; see the module docstring."""

    versionClicked = Signal(int)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.colours = theme()
        self.rows: list[int] = []                  # versions bottom to top
        self.bands: list[AliasInterval] = []       # what is drawn
        self.rollback_marks: list[AliasMove] = []
        self.now = time.time()
        self._selected: int | None = None
        self._events: tuple[float, float] | None = None   # first and last move
        self._build()
        self.show_message("No alias has pointed at a version of this model yet.")

    def _build(self) -> None:
        axis = pg.DateAxisItem(orientation="bottom")
        self.plot_widget = pg.PlotWidget(axisItems={"bottom": axis})
        self.plot_widget.setBackground(self.colours["bg"])
        self.plot = self.plot_widget.getPlotItem()
        self.plot.setMouseEnabled(x=True, y=False)
        self.plot.hideButtons()
        self.plot.showGrid(x=True, y=False, alpha=0.18)
        font = QFont()
        font.setPointSizeF(max(8.0, font.pointSizeF() - 0.5))
        for name in ("left", "bottom"):
            ax = self.plot.getAxis(name)
            ax.enableAutoSIPrefix(False)
            ax.setPen(pg.mkPen(self.colours["axis"]))
            ax.setTextPen(pg.mkPen(self.colours["text"]))
            ax.setStyle(tickFont=font)
        self.plot.getAxis("left").setWidth(34)
        self.plot.scene().sigMouseClicked.connect(self._on_click)
        self.message = QLabel()
        self.message.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.message.setWordWrap(True)
        self.message.setStyleSheet(f"color: {self.colours['muted']}; background: {self.colours['bg']};")
        self.stack = QStackedWidget()
        self.stack.addWidget(self.plot_widget)
        self.stack.addWidget(self.message)
        sq = "<span style='color:{c}'>&#9632;</span>"
        self.legend = QLabel(f"{sq.format(c=COLOURS[PRODUCTION])} production &nbsp; "
                             f"{sq.format(c=COLOURS[STAGING])} staging &nbsp; "
                             f"<span style='color:{COLOURS['rollback']}'>&#9660;</span> rollback")
        self.legend.setTextFormat(Qt.TextFormat.RichText)
        self.legend.setStyleSheet(f"color: {self.colours['muted']};")
        self.span_button = QToolButton(text="Until now", checkable=True)
        self.span_button.setToolTip("Show the whole time from the first move until now "
                                    "(otherwise the chart zooms to the moves when they are close together)")
        self.span_button.toggled.connect(lambda _on: self.fit())
        self.span_label = QLabel()
        self.span_label.setWordWrap(True)
        self.span_label.setStyleSheet(f"color: {self.colours['muted']}; font-size: small;")
        self.span_label.hide()
        top = QHBoxLayout()
        top.setContentsMargins(4, 0, 4, 0)
        top.addWidget(self.legend)
        top.addStretch(1)
        top.addWidget(self.span_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addLayout(top)
        layout.addWidget(self.stack, 1)
        layout.addWidget(self.span_label)

    # -- data -----------------------------------------------------------------------------
    def show_message(self, text: str) -> None:
        self.message.setText(text)
        self.stack.setCurrentWidget(self.message)
        self.span_button.setEnabled(False)
        self.span_label.hide()

    @property
    def showing_message(self) -> bool:
        return self.stack.currentWidget() is self.message

    def set_history(self, intervals: list[AliasInterval], moves: list[AliasMove], now: float | None = None,
                    selected: int | None = None) -> None:
        """Draw ``intervals`` (open ones end at ``now``) and mark the rollbacks among ``moves``."""
        self.now = time.time() if now is None else now
        self._selected = selected
        self.bands = [b for b in intervals if b.alias in LANES]
        shown_moves = [m for m in moves if m.alias in LANES]
        self.rollback_marks = [m for m in shown_moves if m.kind == "rollback"]
        self.rows = sorted({b.version for b in self.bands})
        self.plot.clear()
        if not self.bands:
            self.show_message("No version has held production or staging yet. A version reaches production "
                              "through an approved request.")
            return
        self.stack.setCurrentWidget(self.plot_widget)
        self.span_button.setEnabled(True)
        y_of = {v: i for i, v in enumerate(self.rows)}
        self._highlight(y_of)
        for alias, (offset, height) in LANES.items():
            mine = [b for b in self.bands if b.alias == alias]
            if not mine:
                continue
            x0 = [b.start for b in mine]
            x1 = [b.end if b.end is not None else self.now for b in mine]
            colour = QColor(COLOURS[alias])
            fill = QColor(colour)
            fill.setAlpha(215 if alias == PRODUCTION else 170)
            self.plot.addItem(pg.BarGraphItem(x0=x0, x1=x1, y0=[y_of[b.version] + offset for b in mine],
                                              height=height, brush=fill, pen=pg.mkPen(colour, width=1)))
        self._draw_moves(shown_moves, y_of)
        now_line = pg.InfiniteLine(pos=self.now, angle=90, pen=pg.mkPen(self.colours["muted"], style=Qt.DashLine),
                                   label="now", labelOpts={"position": 0.93, "color": self.colours["muted"]})
        self.plot.addItem(now_line)
        left = self.plot.getAxis("left")
        left.setTicks([[(i, f"v{v}") for i, v in enumerate(self.rows)]])
        self.plot.setYRange(-0.6, len(self.rows) - 0.4, padding=0)
        times = [m.at for m in shown_moves] or [b.start for b in self.bands]
        self._events = (min(times), max(times))
        self.fit()

    def _highlight(self, y_of: dict[int, int]) -> None:
        if self._selected in y_of:
            y = y_of[self._selected]
            shade = QColor(self.colours["diff_bg"])
            shade.setAlpha(160)
            region = pg.LinearRegionItem(values=(y - 0.48, y + 0.48), orientation="horizontal", movable=False,
                                         brush=shade, pen=pg.mkPen(None))
            region.setZValue(-10)
            self.plot.addItem(region)

    def _draw_moves(self, moves: list[AliasMove], y_of: dict[int, int]) -> None:
        spots = []
        for m in moves:
            if m.to_version not in y_of:
                continue
            offset, height = LANES[m.alias]
            y = y_of[m.to_version] + offset + height / 2
            if m.kind == "rollback":
                if m.from_version in y_of:   # the connector from the version that lost the alias
                    y_from = y_of[m.from_version] + offset + height / 2
                    self.plot.addItem(pg.PlotDataItem([m.at, m.at], [y_from, y], pen=pg.mkPen(
                        COLOURS["rollback"], width=2, style=Qt.DashLine)))
                down = m.from_version in y_of and y_of[m.from_version] > y_of[m.to_version]
                spots.append({"pos": (m.at, y), "symbol": "t" if down else "t1", "size": 13,
                              "brush": pg.mkBrush(COLOURS["rollback"]), "pen": pg.mkPen("w", width=1),
                              "data": move_tip(m)})
                label = pg.TextItem("rollback", color=COLOURS["rollback"], anchor=(0, 1))
                label.setPos(m.at, y_of[m.to_version] + offset + height)
                self.plot.addItem(label)
            else:
                spots.append({"pos": (m.at, y), "symbol": "o", "size": 7, "brush": pg.mkBrush(self.colours["bg"]),
                              "pen": pg.mkPen(COLOURS[m.alias], width=1.5), "data": move_tip(m)})
        if spots:
            self.plot.addItem(pg.ScatterPlotItem(spots=spots, hoverable=True,
                                                 tip=lambda x, y, data: data))

    def set_selected(self, version: int | None) -> None:
        """Shade the row of ``version`` (the rest of the chart stays as it is)."""
        if version == self._selected:
            return
        self._selected = version
        for item in list(self.plot.items):
            if isinstance(item, pg.LinearRegionItem):
                self.plot.removeItem(item)
        if self.bands:
            self._highlight({v: i for i, v in enumerate(self.rows)})

    # -- view range --------------------------------------------------------------------------
    def fit(self) -> None:
        """Show the moves; when they are squeezed into a small part of the time until now
        (and "Until now" is off), zoom to them so every band can be seen."""
        if self._events is None or not self.bands:
            return
        first, last = self._events
        whole = max(self.now - first, 1e-3)
        events = last - first
        self.span_button.blockSignals(True)
        if self.span_button.isChecked() or events <= 0 or events >= SQUEEZED * whole:
            pad = whole * 0.04
            lo, hi = first - pad, self.now + pad
            self.span_label.hide()
        else:
            pad = events * 0.12
            lo, hi = first - pad, last + 2.5 * pad
            self.span_label.setText(f"Zoomed to the moves: they span {_span(events)}; the last one was "
                                    f"{_span(self.now - last)} ago. “Until now” shows the whole time.")
            self.span_label.show()
        self.span_button.blockSignals(False)
        self.plot.setXRange(lo, hi, padding=0)
        day_lo, day_hi = (fmt_time(t, "date") for t in (lo, hi))
        self.plot.setLabel("bottom", f"local time, {day_lo}" if day_lo == day_hi else "local time",
                           color=self.colours["muted"])

    def _on_click(self, event) -> None:
        if not self.rows or event.button() != Qt.MouseButton.LeftButton:
            return
        point = self.plot.vb.mapSceneToView(event.scenePos())
        i = int(round(point.y()))
        if 0 <= i < len(self.rows) and self.plot.sceneBoundingRect().contains(event.scenePos()):
            self.versionClicked.emit(self.rows[i])

    def tooltip_texts(self) -> list[str]:
        """The hover tips of every marker (tests, accessibility)."""
        return [html.unescape(str(s.data())) for item in self.plot.items if isinstance(item, pg.ScatterPlotItem)
                for s in item.points()]


def _span(seconds: float) -> str:
    seconds = abs(seconds)
    if seconds < 1:
        return f"{seconds * 1000:.0f} ms"
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    if seconds < 172800:
        return f"{seconds / 3600:.0f} h"
    return f"{seconds / 86400:.0f} days"
