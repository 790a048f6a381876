"""The Monitoring view's bar: model, alias or version, period and window size; Refresh,
progress with Cancel, Compare a CSV…, and the drift table's column filter (Edit ▸ Find).
Widgets only: the view reads and connects them."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from ..kit.find_field import FindField
from .monitoring_data import EVERY, PERIODS

EVERY_WORDS = {"1h": "hourly windows", "6h": "6-hour windows", "1d": "daily windows", "1w": "weekly windows"}


class MonitoringToolbar(QWidget):
    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.model_box, self.ref_box = QComboBox(), QComboBox()
        self.model_box.setObjectName("monitoringModel")
        self.ref_box.setObjectName("monitoringRef")
        self.period_box, self.every_box = QComboBox(), QComboBox()
        for box, chars in ((self.model_box, 6), (self.ref_box, 8), (self.period_box, 6), (self.every_box, 4)):
            box.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
            box.setMinimumContentsLength(chars)      # the window stays as narrow as the other views let it
        for label, seconds in PERIODS:
            self.period_box.addItem(label, seconds)
        self.period_box.setCurrentIndex(2)            # the last 30 days
        for every in EVERY:
            self.every_box.addItem(EVERY_WORDS[every], every)
        self.every_box.setCurrentIndex(2)             # daily
        self.refresh_button = QPushButton("Refresh")
        self.csv_button = QPushButton("Compare a CSV…")
        self.progress = QProgressBar()
        self.progress.setRange(0, 1000)
        self.progress.setMaximumWidth(180)
        self.progress.setTextVisible(False)
        self.cancel_button = QPushButton("Cancel")
        self.column_filter = FindField("Filter columns")
        self.column_filter.setObjectName("driftColumnFilter")
        self.column_filter.setToolTip("Show only the drift table's columns whose name contains this (Ctrl+F; "
                                      "Esc clears)")
        self.column_filter.setMaximumWidth(200)
        self.status = QLabel()
        self.status.setObjectName("monitoringStatus")
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.status.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)   # long text: cut
        rows = QVBoxLayout(self)
        rows.setContentsMargins(0, 0, 0, 0)
        rows.setSpacing(4)
        bar = QHBoxLayout()
        for text, widget in (("Model", self.model_box), ("", self.ref_box), ("", self.period_box),
                             ("", self.every_box)):
            if text:
                bar.addWidget(QLabel(text))
            bar.addWidget(widget, 1)
        bar.addWidget(self.refresh_button)
        bar.addStretch(0)
        second = QHBoxLayout()
        second.addWidget(self.column_filter)
        second.addWidget(self.status, 1)
        second.addWidget(self.progress)
        second.addWidget(self.cancel_button)
        second.addWidget(self.csv_button)
        rows.addLayout(bar)
        rows.addLayout(second)
        self.set_busy(False)

    def set_busy(self, busy: bool) -> None:
        self.progress.setVisible(busy)
        self.cancel_button.setVisible(busy)
