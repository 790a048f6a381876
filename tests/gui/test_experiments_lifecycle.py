"""Delete, restore and rename from the Experiments view: context menu, Delete key
with confirmation, Show deleted, all in workers (issue 13, item 3)."""

from __future__ import annotations

import threading

from PySide6.QtCore import QItemSelectionModel, Qt
from PySide6.QtWidgets import QMessageBox

from modeldesk.core.tracking import lifecycle as core_lifecycle


def texts(view, column: int = 0) -> list[str]:
    m = view.model
    return [m.data(m.index(r, column)) for r in range(m.rowCount())]


def select_rows(view, rows):
    selection = view.table.selectionModel()
    selection.clearSelection()
    for row in rows:
        selection.select(view.model.index(row, 0), QItemSelectionModel.Select | QItemSelectionModel.Rows)
    selection.setCurrentIndex(view.model.index(rows[0], 0), QItemSelectionModel.NoUpdate)


def press_button(box, text):
    button = next(b for b in box.buttons() if b.text().replace("&", "") == text)
    button.click()


def experiment_item(view, name):
    lst = view.experiment_list
    return next(lst.topLevelItem(i) for i in range(lst.topLevelItemCount()) if lst.topLevelItem(i).text(0) == name)


def test_delete_key_asks_then_deletes_in_a_worker_and_show_deleted_restores(qtbot, gui, view, sample, monkeypatch):
    path, ids = sample
    gui.open_in_view(qtbot, view, path)
    threads = []
    real = core_lifecycle.delete_runs

    def spy(*args, **kwargs):
        threads.append(threading.current_thread() is threading.main_thread())
        return real(*args, **kwargs)

    monkeypatch.setattr(core_lifecycle, "delete_runs", spy)
    row = texts(view).index("churn-05")
    select_rows(view, [row, row + 1])
    view.table.setFocus()
    qtbot.keyClick(view.table, Qt.Key_Delete)
    box = view.lifecycle.confirm_box
    assert box is not None and box.isVisible() and "Delete 2 runs?" in box.text()
    press_button(box, "Cancel")                       # cancel changes nothing
    qtbot.wait(50)
    assert threads == [] and view.model.rowCount() == 30
    view.lifecycle.delete_runs_action.trigger()      # the context menu's Delete Runs… asks the same
    press_button(view.lifecycle.confirm_box, "Delete")
    qtbot.waitUntil(lambda: view.model.rowCount() == 28 and view.model.loaded, timeout=15000)
    assert threads == [False]                          # the core call ran in a worker
    assert "churn-05" not in texts(view) and "churn-04" not in texts(view)
    qtbot.waitUntil(lambda: experiment_item(view, "churn").text(1) == "28")
    # Show deleted: the two come back, greyed and marked, and can be restored
    view.lifecycle.show_deleted.setChecked(True)
    qtbot.waitUntil(lambda: view.model.rowCount() == 30 and view.model.loaded, timeout=15000)
    row = texts(view).index("churn-05")
    status = [c.spec for c in view.model.columns].index("attributes.status")
    assert view.model.data(view.model.index(row, status)) == "deleted"
    assert view.model.data(view.model.index(row, status), Qt.ToolTipRole).startswith("FINISHED, deleted")
    assert view.model.data(view.model.index(row, 0), Qt.ForegroundRole) is not None
    select_rows(view, [row])
    assert view.lifecycle.restore_runs_action.isEnabled()
    view.lifecycle.restore_runs_action.trigger()
    view.lifecycle.show_deleted.setChecked(False)
    qtbot.waitUntil(lambda: view.model.rowCount() == 29 and view.model.loaded, timeout=15000)
    assert "churn-05" in texts(view)


def test_context_menu_offers_lifecycle_actions_and_rename(qtbot, gui, view, sample):
    path, ids = sample
    gui.open_in_view(qtbot, view, path)
    row = texts(view).index("churn-07")
    select_rows(view, [row])
    rect = view.table.visualRect(view.model.index(row, 0))
    view._context_menu(rect.center())
    titles = [a.text() for a in view.context_menu.actions()]
    assert {"Rename Run…", "Delete Runs…", "Restore Runs"} <= set(titles)
    view.lifecycle.rename_run_action.trigger()
    dialog = view.lifecycle.rename_dialog
    assert dialog.textValue() == "churn-07"
    dialog.setTextValue("best-run")
    dialog.accept()
    qtbot.waitUntil(lambda: "best-run" in texts(view))
    assert "churn-07" not in texts(view)


def test_experiment_delete_restore_and_rename(qtbot, gui, view, sample):
    path, _ = sample
    gui.open_in_view(qtbot, view, path)
    view.select_experiment("fraud")
    gui.wait_table(qtbot, view)
    view.experiment_list.setFocus()
    qtbot.keyClick(view.experiment_list, Qt.Key_Delete)
    box = view.lifecycle.confirm_box
    assert "Delete the experiment fraud?" in box.text() and "12 runs" in box.informativeText()
    press_button(box, "Delete")
    qtbot.waitUntil(lambda: "fraud" not in [view.experiment_list.topLevelItem(i).text(0)
                                            for i in range(view.experiment_list.topLevelItemCount())])
    view.lifecycle.show_deleted.setChecked(True)
    qtbot.waitUntil(lambda: any(view.experiment_list.topLevelItem(i).text(0) == "fraud"
                                for i in range(view.experiment_list.topLevelItemCount())))
    item = experiment_item(view, "fraud")
    assert item.font(0).strikeOut() and "deleted" in item.toolTip(0)
    view.experiment_list.setCurrentItem(item)
    view.lifecycle._experiment_menu(view.experiment_list.visualItemRect(item).center())
    assert view.lifecycle.restore_experiment_action.isEnabled()
    assert not view.lifecycle.delete_experiment_action.isEnabled()
    view.lifecycle.restore_experiment_action.trigger()
    qtbot.waitUntil(lambda: not experiment_item(view, "fraud").font(0).strikeOut())
    view.experiment_list.setCurrentItem(experiment_item(view, "fraud"))
    view.lifecycle.rename_experiment_action.trigger()
    view.lifecycle.rename_dialog.setTextValue("fraud-2026")
    view.lifecycle.rename_dialog.accept()
    qtbot.waitUntil(lambda: any(view.experiment_list.topLevelItem(i).text(0) == "fraud-2026"
                                for i in range(view.experiment_list.topLevelItemCount())))


def test_a_refusal_is_shown_in_words(qtbot, gui, view, sample):
    path, _ = sample
    gui.open_in_view(qtbot, view, path)
    view.select_experiment("fraud")
    gui.wait_table(qtbot, view)
    view.lifecycle.rename_experiment_action.trigger()
    view.lifecycle.rename_dialog.setTextValue("CHURN")
    view.lifecycle.rename_dialog.accept()
    qtbot.waitUntil(lambda: view.lifecycle.runner.last_box is not None)
    box = view.lifecycle.runner.last_box
    assert box.icon() == QMessageBox.Warning
    assert "'churn' already exists" in box.informativeText() and "modeldesk" not in box.informativeText()
    box.close()


def test_log_figure_stores_a_pyqtgraph_plot_as_png(qtbot, md):
    import pyqtgraph as pg

    from modeldesk.core.tracking import artifacts

    plot = pg.PlotWidget()
    qtbot.addWidget(plot)
    plot.resize(320, 200)
    plot.plot([0, 1, 2, 3], [0.9, 0.5, 0.3, 0.2])
    with md.start_run() as run:
        md.log_figure(plot, "loss.png")
        md.log_figure(plot.getPlotItem(), "item.png")      # a PlotItem: its view widget is grabbed
    for name in ("loss.png", "item.png"):
        data = artifacts.read_artifact(md.get_project(), run.id, name)
        assert data.startswith(b"\x89PNG\r\n\x1a\n") and len(data) > 1000


def test_a_change_made_while_a_search_reads_is_shown_when_it_ends(qtbot, gui, view, sample, monkeypatch):
    """A restore (or delete) that commits while the table is still reading an older search — e.g.
    Show deleted was just toggled — must not leave the older rows on screen."""
    from dataclasses import replace

    from modeldesk.gui.experiments import runs_model

    path, ids = sample
    project = gui.open_in_view(qtbot, view, path)
    real, gate, read = runs_model._resolve_job, threading.Event(), threading.Event()

    def read_then_wait(*args):
        result = real(*args)          # reads before the change below...
        read.set()
        gate.wait(10)                 # ...and answers after it
        return result

    monkeypatch.setattr(runs_model, "_resolve_job", read_then_wait)
    view.model.set_query(replace(view.model._query))
    assert read.wait(10) and view.model.loading
    core_lifecycle.delete_runs(project, [ids["churn"][0]])
    view.model.refresh()              # what the delete's success handler does
    gate.set()
    qtbot.waitUntil(lambda: view.model.rowCount() == 29 and view.model.loaded, timeout=10000)
