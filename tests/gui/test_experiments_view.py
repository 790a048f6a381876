"""The Experiments view: list, lazily paged runs table, filter, search,
sorting, columns, selection, clipboard and the details/compare hooks."""

from __future__ import annotations

import sys
import threading
import types

import pytest
from PySide6.QtCore import QItemSelectionModel, QPoint, Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QMessageBox

from modeldesk.core.tracking import runs as core_runs
from modeldesk.core.tracking.browse import Column
from modeldesk.gui.experiments.runs_model import PAGE_SIZE, RunIdRole


def texts(view, column: int = 0) -> list[str]:
    m = view.model
    return [m.data(m.index(r, column)) for r in range(m.rowCount())]


def column_of(view, spec: str) -> int:
    return [c.spec for c in view.model.columns].index(spec)


def select(view, name):
    view.select_experiment(name)


def test_experiment_list_shows_run_counts(qtbot, gui, view, sample):
    path, _ = sample
    gui.open_in_view(qtbot, view, path)
    rows = {view.experiment_list.topLevelItem(i).text(0): view.experiment_list.topLevelItem(i).text(1)
            for i in range(view.experiment_list.topLevelItemCount())}
    assert rows == {"All experiments": "42", "churn": "30", "fraud": "12"}
    # First experiment by name is selected and its runs shown, newest first.
    assert view.experiment_name() == "churn"
    assert view.model.rowCount() == 30
    assert texts(view)[0] == "churn-29"
    assert view.footer.text().startswith("30 runs")


def test_selecting_an_experiment_shows_its_runs_and_default_columns(qtbot, gui, view, sample):
    path, _ = sample
    gui.open_in_view(qtbot, view, path)
    select(view, "fraud")
    gui.wait_table(qtbot, view)
    assert view.model.rowCount() == 12
    qtbot.waitUntil(lambda: "metrics.val_auc" in [c.spec for c in view.model.columns])
    specs = [c.spec for c in view.model.columns]
    assert specs[:6] == ["attributes.run_name", "attributes.run_id", "attributes.status",
                         "attributes.user", "attributes.start_time", "attributes.duration"]
    assert {"metrics.loss", "metrics.val_auc", "params.max_depth", "params.model"} <= set(specs)
    select(view, None)
    gui.wait_table(qtbot, view)
    assert view.model.rowCount() == 42


def test_cells_are_formatted_for_reading(qtbot, gui, view, sample):
    path, ids = sample
    gui.open_in_view(qtbot, view, path)
    qtbot.waitUntil(lambda: "metrics.val_auc" in [c.spec for c in view.model.columns])
    m = view.model
    row = texts(view).index("churn-05")
    auc = m.index(row, column_of(view, "metrics.val_auc"))
    assert m.data(auc) == "0.7270"                 # the last step's value, 4 significant digits
    assert m.data(auc, Qt.TextAlignmentRole) & Qt.AlignRight
    run_id = m.index(row, column_of(view, "attributes.run_id"))
    assert m.data(run_id) == ids["churn"][5][:8]
    assert m.data(run_id, Qt.ToolTipRole) == ids["churn"][5]
    assert m.data(run_id, Qt.FontRole).fixedPitch() or "mono" in m.data(run_id, Qt.FontRole).family().lower()
    status = m.index(row, column_of(view, "attributes.status"))
    assert m.data(status) == "FINISHED"
    assert m.data(status, Qt.ForegroundRole) is not None
    assert m.data(m.index(row, 0), RunIdRole) == ids["churn"][5]


def test_number_and_time_formats():
    from modeldesk.core.text import fmt_duration as format_duration
    from modeldesk.core.text import fmt_number_short as format_number

    assert [format_number(v) for v in (0.91234, 12.0, 1234.5, 123456.0, 1e-5, float("nan"), None)] == \
        ["0.9123", "12.00", "1234", "1.235e5", "1.000e-5", "NaN", "—"]
    assert [format_duration(s) for s in (0.12, 3.24, 252, 7500, 200000)] == \
        ["120 ms", "3.2 s", "4 min 12 s", "2 h 05 min", "2 d 07 h"]


def test_rows_load_lazily_by_page(qtbot, gui, view, project_path):
    from modeldesk.core.storage.project import open_project
    from modeldesk.core.tracking.tracker import Tracker

    project = open_project(project_path)
    tracker = Tracker(project)
    exp = tracker.experiment("big")
    with project.write():
        for i in range(1000):
            run = tracker.start_run(exp.id, f"big-{i:04d}", start_time=1_700_000_000 + i)
            tracker.log_metrics(run, {"val_auc": i / 1000})
            tracker.end_run(run, end_time=1_700_000_010 + i)
    tracker.close()
    project.close()
    gui.open_in_view(qtbot, view, project_path)
    m = view.model
    assert m.rowCount() == 1000
    assert set(m._pages) == {0}                      # only the first page was read
    last = m.index(999, 0)
    assert m.data(last) == "Loading…"                 # placeholder until its page arrives
    view.table.scrollToBottom()
    qtbot.waitUntil(lambda: m.data(last) == "big-0000")
    assert (999 // PAGE_SIZE) in m._pages and len(m._pages) < 1000 // PAGE_SIZE + 1


def test_queries_run_off_the_gui_thread(qtbot, gui, view, sample, monkeypatch):
    seen = []
    real = core_runs.run_rids

    def spy(*args, **kwargs):
        seen.append(threading.current_thread() is threading.main_thread())
        return real(*args, **kwargs)

    monkeypatch.setattr("modeldesk.core.tracking.browse.run_rids", spy)
    path, _ = sample
    gui.open_in_view(qtbot, view, path)
    view.filter_bar.set_filter("metrics.val_auc > 0.75")
    gui.wait_table(qtbot, view)
    assert seen and not any(seen)


def test_sorting_by_a_metric_happens_in_the_query(qtbot, gui, view, sample):
    path, _ = sample
    gui.open_in_view(qtbot, view, path)
    qtbot.waitUntil(lambda: "metrics.val_auc" in [c.spec for c in view.model.columns])
    col = column_of(view, "metrics.val_auc")
    header = view.table.horizontalHeader()
    x = header.sectionViewportPosition(col) + 10
    qtbot.mouseClick(header.viewport(), Qt.LeftButton, pos=QPoint(x, header.height() // 2))
    qtbot.waitUntil(lambda: view.model.query.order_by[0].startswith("metrics.val_auc") and view.model.loaded)
    first_order = view.model.query.order_by[0]
    values = [float(v) for v in texts(view, col)]
    assert values == sorted(values, reverse=first_order.endswith("DESC"))
    qtbot.mouseClick(header.viewport(), Qt.LeftButton, pos=QPoint(x, header.height() // 2))
    qtbot.waitUntil(lambda: view.model.query.order_by[0] != first_order and view.model.loaded)
    values = [float(v) for v in texts(view, col)]
    assert values == sorted(values, reverse=view.model.query.order_by[0].endswith("DESC"))
    assert header.sortIndicatorSection() == col


def test_filter_applies_on_enter(qtbot, gui, view, sample):
    path, _ = sample
    gui.open_in_view(qtbot, view, path)
    edit = view.filter_bar.edit
    qtbot.keyClicks(edit, "params.model = 'rf' and metrics.val_auc > 0.75")
    qtbot.keyClick(edit, Qt.Key_Return)
    qtbot.waitUntil(lambda: view.model.query.filter is not None and view.model.loaded)
    names = texts(view)
    assert names and all(int(n.split("-")[1]) % 3 == 0 and int(n.split("-")[1]) > 10 for n in names)
    assert view.footer.text().startswith(f"{len(names)} runs match")
    edit.clear()   # clearing the text shows every run again
    qtbot.waitUntil(lambda: view.model.query.filter is None and view.model.rowCount() == 30)


def test_bad_filter_points_at_the_token(qtbot, gui, view, sample):
    path, _ = sample
    gui.open_in_view(qtbot, view, path)
    edit, bar = view.filter_bar.edit, view.filter_bar
    qtbot.keyClicks(edit, "metrics.val_auc > 0.8 and bogus.x = 1")
    qtbot.keyClick(edit, Qt.Key_Return)
    assert bar.has_error()
    assert "unknown key" in bar.error.text() and "bogus.x" in bar.error.text()
    assert bar.error_position == len("metrics.val_auc > 0.8 and ")
    assert view.model.query.filter is None and view.model.rowCount() == 30   # nothing applied
    edit.setText("metrics.val_auc > 0.8")   # fixing it clears the message
    assert not bar.has_error()


def test_filter_completes_keys(qtbot, gui, view, sample):
    path, _ = sample
    gui.open_in_view(qtbot, view, path)
    qtbot.waitUntil(lambda: bool(view.keys["metrics"]))
    edit = view.filter_bar.edit
    edit.setFocus()
    qtbot.keyClicks(edit, "metrics.va")
    assert "metrics.val_auc" in edit.candidates()
    assert edit.completer_.popup().isVisible()
    edit.insert_completion("metrics.val_auc")
    assert edit.text() == "metrics.val_auc "
    edit.setText("x > 1 and par")
    edit.setCursorPosition(len(edit.text()))
    assert {"params.max_depth", "params.model"} <= set(edit.candidates())


def test_quick_search_matches_names_and_tags(qtbot, gui, view, sample):
    path, _ = sample
    gui.open_in_view(qtbot, view, path)
    qtbot.keyClicks(view.filter_bar.search, "churn-1")
    qtbot.waitUntil(lambda: view.model.query.search == "churn-1" and view.model.loaded)
    assert sorted(texts(view)) == [f"churn-{i}" for i in range(10, 20)]
    view.filter_bar.search.setText("bo")   # a tag value
    qtbot.waitUntil(lambda: view.model.query.search == "bo" and view.model.loaded)
    assert view.model.rowCount() == 15


def test_no_match_and_no_runs_empty_states(qtbot, gui, view, md, project_path):
    md.set_experiment("empty")
    gui.log_runs(md, "full", 2)
    gui.open_in_view(qtbot, view, project_path)
    select(view, "empty")
    qtbot.waitUntil(lambda: view.stack.currentWidget() is view.empty)
    assert view.empty.title.text() == "No runs yet"
    assert "md.start_run" in view.empty.body.text()
    select(view, "full")
    qtbot.waitUntil(lambda: view.stack.currentWidget() is view.table)
    view.filter_bar.set_filter("metrics.val_auc > 5")
    qtbot.waitUntil(lambda: view.stack.currentWidget() is view.empty)
    assert view.empty.title.text() == "No runs match"
    qtbot.mouseClick(view.empty.buttons["Clear filter"], Qt.LeftButton)
    qtbot.waitUntil(lambda: view.stack.currentWidget() is view.table and view.model.rowCount() == 2)
    assert view.filter_bar.edit.text() == ""


def test_column_chooser_is_remembered_per_experiment(qtbot, gui, view, sample):
    from modeldesk.gui.experiments.experiments_view import ExperimentsView

    path, _ = sample
    gui.open_in_view(qtbot, view, path)
    qtbot.waitUntil(lambda: bool(view.keys["tags"]))
    view.choose_columns()
    dialog = view.column_dialog
    dialog.set_chosen([Column("tags", "owner"), Column("metrics", "loss")])
    dialog.accept()
    assert [c.spec for c in view.model.columns][6:] == ["metrics.loss", "tags.owner"]
    owner = view.model.data(view.model.index(0, 7))
    assert owner in ("ana", "bo")
    select(view, "fraud")           # fraud keeps its own (default) columns
    gui.wait_table(qtbot, view)
    qtbot.waitUntil(lambda: "metrics.val_auc" in [c.spec for c in view.model.columns])
    select(view, "churn")
    gui.wait_table(qtbot, view)
    assert [c.spec for c in view.model.columns][6:] == ["metrics.loss", "tags.owner"]
    again = ExperimentsView()       # a new session reads the same settings
    qtbot.addWidget(again)
    gui.open_in_view(qtbot, again, path)
    assert [c.spec for c in again.model.columns][6:] == ["metrics.loss", "tags.owner"]
    project = again.project
    again.set_project(None)
    again.jobs.wait()
    project.close()


def test_multi_select_copies_tsv(qtbot, gui, view, sample):
    path, ids = sample
    gui.open_in_view(qtbot, view, path)
    view.table.selectRow(0)
    qtbot.mouseClick(view.table.viewport(), Qt.LeftButton, Qt.ShiftModifier,
                     QPoint(20, view.table.rowViewportPosition(2) + 5))
    assert view.selected_count() == 3
    view.table.setFocus()
    qtbot.keyClick(view.table, Qt.Key_C, Qt.ControlModifier)
    lines = QGuiApplication.clipboard().text().splitlines()
    assert lines[0].split("\t")[:3] == ["run_id", "run_name", "status"]
    assert [line.split("\t")[0] for line in lines[1:]] == ids["churn"][::-1][:3]
    assert "copied 3 rows" in view.footer.text()


def test_context_menu_and_copy_run_id(qtbot, gui, view, sample):
    path, ids = sample
    gui.open_in_view(qtbot, view, path)
    rect = view.table.visualRect(view.model.index(1, 0))
    view._context_menu(rect.center())
    menu = view.context_menu
    labels = [a.text() for a in menu.actions() if not a.isSeparator()]
    assert labels == ["Compare Selected Runs", "Open Run Details", "Register Model…", "Copy Run ID",
                      "Copy Rows as TSV", "Rename Run…", "Delete Runs…", "Restore Runs"]
    assert not view.compare_action.isEnabled()     # one run selected
    menu.close()
    view.copy_id_action.trigger()
    assert QGuiApplication.clipboard().text() == ids["churn"][-2]


def click_context_entry(qtbot, view, row: int, label: str) -> None:
    """Right-click row ``row`` of the runs table and click the menu entry starting with ``label``."""
    view._context_menu(view.table.visualRect(view.model.index(row, 0)).center())
    menu = view.context_menu
    qtbot.waitExposed(menu)
    action = next(a for a in menu.actions() if a.text().startswith(label))
    assert action.isEnabled(), label
    qtbot.mouseClick(menu, Qt.LeftButton, pos=menu.actionGeometry(action).center())
    assert not menu.isVisible()


def test_context_menu_opens_compare_and_details_windows(qtbot, gui, view, sample):
    from PySide6.QtCore import QThreadPool

    from modeldesk.gui.compare.compare_view import CompareView
    from modeldesk.gui.kit.workers import pool
    from modeldesk.gui.runs.run_details import RunDetailsWidget

    path, ids = sample
    gui.open_in_view(qtbot, view, path)
    newest = ids["churn"][::-1]
    view.table.selectRow(0)
    view.table.selectionModel().select(view.model.index(3, 0), QItemSelectionModel.Select | QItemSelectionModel.Rows)
    click_context_entry(qtbot, view, 3, "Compare 2 Selected Runs")   # right-click on a selected row keeps both
    compares = [w for w in view.findChildren(CompareView) if w.isVisible()]
    assert len(compares) == 1 and compares[0].isWindow()
    compare = compares[0]
    qtbot.waitUntil(lambda: compare.comparison is not None, timeout=10_000)
    assert [r.id for r in compare.comparison.runs] == [newest[0], newest[3]]
    click_context_entry(qtbot, view, 5, "Open Run Details")          # an unselected row: selects just it
    assert view.selected_rows() == [5]
    details = [w for w in view.findChildren(RunDetailsWidget) if w.isVisible()]
    assert len(details) == 1 and details[0].isWindow()
    qtbot.waitUntil(lambda: details[0].details is not None, timeout=10_000)
    assert details[0].details.run.id == newest[5]
    for window in (compare, details[0]):
        window.close()
    QThreadPool.globalInstance().waitForDone(15_000)
    pool("history").waitForDone(15_000)


@pytest.fixture
def fake_views(monkeypatch):
    calls = []
    # Each fake "window" is the call it records, so a test can check what the view hands back.
    compare = types.ModuleType("modeldesk.gui.compare.compare_view")
    compare.open_compare = lambda project, run_ids, parent: calls.append(("compare", project, run_ids)) or calls[-1]
    details = types.ModuleType("modeldesk.gui.runs.run_details")
    details.open_run_details = lambda project, run_id, parent: calls.append(("details", project, run_id)) or calls[-1]
    monkeypatch.setitem(sys.modules, "modeldesk.gui.compare.compare_view", compare)
    monkeypatch.setitem(sys.modules, "modeldesk.gui.runs.run_details", details)
    return calls


def test_compare_selected_runs(qtbot, gui, view, sample, fake_views):
    path, ids = sample
    project = gui.open_in_view(qtbot, view, path)
    view.table.selectRow(0)
    assert not view.compare_action.isEnabled()
    for row in (2, 4):
        view.table.selectionModel().select(view.model.index(row, 0), QItemSelectionModel.Select
                                           | QItemSelectionModel.Rows)
    assert view.compare_action.isEnabled() and view.compare_button.isEnabled()
    view.table.setFocus()
    qtbot.keyClick(view.table, Qt.Key_C, Qt.ControlModifier | Qt.ShiftModifier)
    newest = ids["churn"][::-1]
    assert fake_views == [("compare", project, [newest[0], newest[2], newest[4]])]


def test_details_open_on_double_click_and_enter(qtbot, gui, view, sample, fake_views):
    path, ids = sample
    project = gui.open_in_view(qtbot, view, path)
    rect = view.table.visualRect(view.model.index(3, 0))
    qtbot.mouseClick(view.table.viewport(), Qt.LeftButton, pos=rect.center())  # a real double
    qtbot.mouseDClick(view.table.viewport(), Qt.LeftButton, pos=rect.center())  # click starts so
    view.table.setFocus()
    view.table.setCurrentIndex(view.model.index(1, 0))
    qtbot.keyClick(view.table, Qt.Key_Return)
    newest = ids["churn"][::-1]
    assert fake_views == [("details", project, newest[3]), ("details", project, newest[1])]


def test_opening_details_and_compare_returns_the_window(qtbot, gui, view, sample, fake_views):
    path, ids = sample
    project = gui.open_in_view(qtbot, view, path)
    newest = ids["churn"][::-1]
    assert view.open_details(newest[0]) is fake_views[-1] == ("details", project, newest[0])
    assert view.compare(newest[:2]) is fake_views[-1] == ("compare", project, newest[:2])
    view.table.setCurrentIndex(view.model.index(2, 0))
    assert view.details_of_current() is fake_views[-1] == ("details", project, newest[2])
    view.table.selectRow(0)
    assert view.compare_selected() is None                      # one run: nothing to compare
    view.table.selectionModel().select(view.model.index(3, 0), QItemSelectionModel.Select | QItemSelectionModel.Rows)
    assert view.compare_selected() is fake_views[-1] == ("compare", project, [newest[0], newest[3]])


def test_returned_windows_are_the_real_ones_and_can_be_awaited(qtbot, gui, view, sample):
    from PySide6.QtCore import QThreadPool

    from modeldesk.gui.compare.compare_view import CompareView
    from modeldesk.gui.kit.workers import pool
    from modeldesk.gui.runs.run_details import RunDetailsWidget

    path, ids = sample
    gui.open_in_view(qtbot, view, path)
    newest = ids["churn"][::-1]
    details = view.open_details(newest[1])
    assert isinstance(details, RunDetailsWidget) and details.isWindow() and details.isVisible()
    with qtbot.waitSignal(details.loaded, timeout=10_000):   # connected after the call: still in time
        pass
    assert details.details.run.id == newest[1]
    view.table.selectRow(0)
    view.table.selectionModel().select(view.model.index(2, 0), QItemSelectionModel.Select | QItemSelectionModel.Rows)
    compare = view.compare_selected()
    assert isinstance(compare, CompareView) and compare.isVisible()
    with qtbot.waitSignal(compare.comparisonLoaded, timeout=10_000):
        pass
    assert [r.id for r in compare.comparison.runs] == [newest[0], newest[2]]
    compare.runSelected.emit(newest[2])                          # clicked in its charts: selected here
    qtbot.waitUntil(lambda: view.selected_rows() == [2])
    for window in (details, compare):
        window.close()
    QThreadPool.globalInstance().waitForDone(15_000)
    pool("history").waitForDone(15_000)


def test_sort_arrow_leaves_room_for_the_header_text(qtbot, gui, view, sample):
    path, _ = sample
    gui.open_in_view(qtbot, view, path)
    qtbot.waitUntil(lambda: "metrics.loss" in [c.spec for c in view.model.columns])
    header = view.table.horizontalHeader()
    fm = header.fontMetrics()
    room = header.sort_indicator_room()
    assert room > 0
    for i, col in enumerate(view.model.columns):     # any column can be sorted by a click
        assert header.sectionSize(i) >= fm.horizontalAdvance(col.title) + room, col.title
    col = column_of(view, "metrics.loss")            # narrow, numeric: its title is right-aligned
    view.table.sortByColumn(col, Qt.DescendingOrder)
    qtbot.waitUntil(lambda: view.model.query.order_by[0] == "metrics.loss DESC" and view.model.loaded)
    assert header.sortIndicatorSection() == col
    label, arrow = header.sort_rects(col)
    assert label.right() < arrow.left()              # the title is drawn clear of the arrow ...
    assert label.width() >= fm.horizontalAdvance("loss")   # ... and whole
    image = header.grab().toImage()                  # and painted so: no ink between title and arrow
    blank = label.left() + 1                         # left of the right-aligned title: background only
    column = [image.pixel(blank, y) for y in range(label.top(), label.bottom() + 1)]
    for x in range(label.right() + 1, arrow.left()):
        assert [image.pixel(x, y) for y in range(label.top(), label.bottom() + 1)] == column, x
    assert header.sort_rects(0) is None              # unsorted sections are Qt's own
    start = column_of(view, "attributes.start_time")
    view.table.sortByColumn(start, Qt.AscendingOrder)
    qtbot.waitUntil(lambda: view.model.query.order_by[0] == "attributes.start_time ASC" and view.model.loaded)
    label, arrow = header.sort_rects(start)
    assert label.right() < arrow.left() and label.width() >= fm.horizontalAdvance("Start")


def _search_text_fits(search) -> bool:
    """Whether the placeholder, typed in, shows whole beside the clear button (no scrolling)."""
    search.setText(search.placeholderText())
    search.home(False)
    first = search.cursorRect().x()
    search.end(False)
    last = search.cursorRect().x()
    search.home(False)
    fits = search.cursorRect().x() == first and last - first == \
        search.fontMetrics().horizontalAdvance(search.placeholderText())
    search.clear()
    return fits


def test_search_placeholder_is_readable(qtbot, view, window, sample):
    search = view.filter_bar.search
    assert search.placeholderText() == "Search names and tags"
    assert search.fontMetrics().horizontalAdvance(search.placeholderText()) < search.width()
    assert _search_text_fits(search)                 # the view alone, 1200×700
    path, _ = sample
    window.resize(1280, 800)                         # the main window at the screenshots' size
    window.open(path)
    experiments = window.experiments
    qtbot.waitUntil(lambda: window.project is not None and experiments.isVisible() and not experiments.model.loading)
    search = experiments.filter_bar.search
    assert experiments.width() < 1280 - 100          # beside the navigation list
    assert search.fontMetrics().horizontalAdvance(search.placeholderText()) < search.width()
    assert _search_text_fits(search)
    assert experiments.filter_bar.edit.width() > 2 * search.width()   # the filter keeps most of the row


def test_missing_views_say_so(qtbot, gui, view, sample, monkeypatch):
    monkeypatch.setitem(sys.modules, "modeldesk.gui.compare.compare_view", None)
    path, _ = sample
    gui.open_in_view(qtbot, view, path)
    view.compare(["a", "b"])
    box = view.findChild(QMessageBox, "modeldeskMessage")
    assert box is not None and "not available" in box.text()
    box.close()


def test_stale_results_are_dropped(qtbot, gui, view, sample):
    path, _ = sample
    gui.open_in_view(qtbot, view, path)
    bar = view.filter_bar
    for text in ("metrics.val_auc > 0.71", "params.model = 'lr'", "params.model = 'gbm'"):
        bar.set_filter(text)
    qtbot.waitUntil(lambda: view.model.loaded)
    qtbot.wait(200)
    assert view.model.query.filter == "params.model = 'gbm'"
    assert sorted(texts(view)) == [f"churn-{i:02d}" for i in range(30) if i % 3 == 1]


def test_new_runs_appear_on_refresh_keeping_the_selection(qtbot, gui, view, sample, md):
    path, ids = sample
    gui.open_in_view(qtbot, view, path)
    view.table.selectRow(2)
    selected = view.model.data(view.model.index(2, 0), RunIdRole)
    gui.log_runs(md, "churn", 2, prefix="late")
    view.refresh()
    qtbot.waitUntil(lambda: view.model.rowCount() == 32)
    qtbot.waitUntil(lambda: view.experiment_list.topLevelItem(1).text(1) == "32")
    rows = view.selected_rows()
    assert [view.model.data(view.model.index(r, 0), RunIdRole) for r in rows] == [selected]
    # a metric nobody logged before becomes known (completion, column chooser)
    with md.start_run(name="late-new-metric"):
        md.log_metric("zeta", 1.5)
    md.flush()
    view._keys_read = (0.0, 0.0)     # long enough ago
    view.refresh()
    qtbot.waitUntil(lambda: "zeta" in view.keys["metrics"])


def test_switching_projects_drops_late_results(qtbot, gui, view, sample, tmp_path):
    import modeldesk as md_api
    from modeldesk.core.storage.project import open_project

    path, _ = sample
    other = tmp_path / "other.mdesk"
    md_api.set_project(other)
    gui.log_runs(md_api, "solo", 3)
    first, second = open_project(path, create=False), open_project(other, create=False)
    view.set_project(first)
    view.set_project(second)          # before the first project's queries came back
    gui.wait_table(qtbot, view)
    qtbot.wait(100)
    names = [view.experiment_list.topLevelItem(i).text(0) for i in range(view.experiment_list.topLevelItemCount())]
    assert names == ["All experiments", "solo"]
    assert sorted(texts(view)) == ["solo-00", "solo-01", "solo-02"]
    view.jobs.wait()
    first.close()


def test_column_widths_the_user_set_survive_searches_and_sorts(qtbot, gui, view, sample):
    path, _ = sample
    gui.open_in_view(qtbot, view, path)
    select(view, "churn")
    qtbot.waitUntil(lambda: "metrics.val_auc" in [c.spec for c in view.model.columns] and view.model.loaded)
    header = view.table.horizontalHeader()
    name, auc = column_of(view, "attributes.run_name"), column_of(view, "metrics.val_auc")
    default_name = header.sectionSize(name)
    header.resizeSection(name, default_name + 90)            # what dragging the edge does
    header.resizeSection(auc, 230)
    view.filter_bar.edit.setText("metrics.val_auc > 0.75")   # a new search resets the model
    qtbot.keyClick(view.filter_bar.edit, Qt.Key_Return)
    qtbot.waitUntil(lambda: view.model.query.filter is not None and view.model.loaded)
    view.table.sortByColumn(auc, Qt.AscendingOrder)          # and so does a sort
    qtbot.waitUntil(lambda: view.model.query.order_by[0].startswith("metrics.val_auc") and view.model.loaded)
    assert header.sectionSize(column_of(view, "attributes.run_name")) == default_name + 90
    assert header.sectionSize(column_of(view, "metrics.val_auc")) == 230
    select(view, "fraud")                                    # another experiment starts from the defaults
    qtbot.waitUntil(lambda: view.model.loaded and view.experiment_name() == "fraud")
    assert header.sectionSize(column_of(view, "attributes.run_name")) == default_name
