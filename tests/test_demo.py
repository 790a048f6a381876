"""modeldesk.demo: the demo project built from scikit-learn's bundled data."""

from __future__ import annotations

import os
import struct
import subprocess
import sys
import zlib

import numpy as np
import pytest

import modeldesk as md
from modeldesk.core.errors import UsageError
from modeldesk.core.tracking import artifacts as art
from modeldesk.core.tracking.runs import child_runs, list_experiments
from modeldesk.demo import AUTHORS, build_demo, confusion_png

EXPERIMENTS = {"breast-cancer", "wine", "diabetes-progression"}


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    path = tmp_path_factory.mktemp("demo") / "d.mdesk"
    seen = []
    summary = build_demo(path, user="tester", quick=True, progress=lambda f, m: seen.append((f, m)))
    return path, summary, seen


@pytest.fixture
def project(demo):
    md.set_project(demo[0])  # other tests may have switched the fluent API's project
    return md.get_project()


def test_quick_demo_has_three_experiments_and_real_runs(demo, project):
    path, summary, _ = demo
    assert {e.name for e in list_experiments(project)} == EXPERIMENTS
    runs = md.search_runs()
    assert len(runs) >= 12
    assert set(runs["experiment"]) == EXPERIMENTS
    assert f"Built {path}: 3 experiments, {len(runs)} runs" in summary
    assert "Open it with: modeldesk ui" in summary
    parents = set(runs["parent_run_id"].dropna())
    finished = runs[(runs["status"] == "FINISHED") & ~runs["run_id"].isin(parents)]
    assert len(finished) >= 12
    for run_id in finished["run_id"]:
        run = md.get_run(run_id)
        assert run.params and run.params["random_state"] == "42"
        assert run.user == "tester"
        assert run.tags["author"] in AUTHORS
        assert {"model_family", "dataset"} <= run.tags.keys()
        if run.experiment == "diabetes-progression":
            assert {"r2", "mae", "rmse"} <= run.metrics.keys()
        else:
            assert {"accuracy", "f1", "roc_auc", "log_loss"} <= run.metrics.keys()
            assert 0.8 < run.metrics["accuracy"] <= 1.0
        roles = {d.role: d for d in art.list_datasets(project, run_id)}
        assert set(roles) == {"training", "validation"}
        assert roles["training"].target == roles["validation"].target
        assert roles["training"].target in {"benign", "cultivar", "progression"}
        assert roles["training"].rows > roles["validation"].rows
        assert [m.name for m in art.list_models(project, run_id)] == ["model"]


def test_failed_and_nested_runs(project):
    runs = md.search_runs()
    failed = runs[runs["status"] == "FAILED"]
    assert len(failed) >= 2
    assert failed["tags.error"].str.contains("diverged").all()
    for run_id in failed["run_id"]:
        assert art.list_models(project, run_id) == []
        assert len(md.get_metric_history(run_id, "val_loss")) >= 1  # the curve up to the blow-up
    parents = runs[runs["run_name"] == "gbm-sweep"]
    assert len(parents) == 1
    children = child_runs(project, parents["run_id"].iloc[0])
    assert len(children) >= 2 and all(c.status == "FINISHED" for c in children)
    assert md.get_run(parents["run_id"].iloc[0]).tags["best_child"] in {c.name for c in children}


def test_gradient_boosting_has_per_stage_curves(project):
    runs = md.search_runs(experiment="breast-cancer",
                          filter="tags.model_family = 'gradient_boosting' and attributes.run_name != 'gbm-sweep'")
    assert len(runs) >= 1
    run = md.get_run(runs["run_id"].iloc[0])
    n_stages = int(run.params["n_estimators"])
    for key in ("train_loss", "val_loss", "val_accuracy"):
        hist = md.get_metric_history(run.id, key)
        assert hist["step"].tolist() == list(range(1, n_stages + 1))
    loss = md.get_metric_history(run.id, "val_loss")["value"].to_numpy()
    assert loss[-1] < loss[0]  # boosting learns
    reg = md.search_runs(experiment="diabetes-progression", filter="tags.model_family = 'gradient_boosting'")
    hist = md.get_metric_history(reg["run_id"].iloc[0], "val_rmse")
    assert len(hist) == int(md.get_run(reg["run_id"].iloc[0]).params["n_estimators"])


def test_epoch_curves_for_sgd_and_mlp(project):
    for family in ("sgd", "mlp"):
        runs = md.search_runs(filter=f"tags.model_family = '{family}' and attributes.status = 'FINISHED'")
        run = md.get_run(runs["run_id"].iloc[0])
        hist = md.get_metric_history(run.id, "train_loss")
        assert hist["step"].tolist() == list(range(1, int(run.params["epochs"]) + 1))


def test_logged_model_loads_and_predicts(project):
    from sklearn.datasets import load_wine

    runs = md.search_runs(experiment="wine", filter="attributes.status = 'FINISHED'",
                          order_by=["metrics.accuracy DESC"])
    model = md.load_model(f"runs:/{runs['run_id'].iloc[0]}/model")
    X, y = load_wine(return_X_y=True, as_frame=True)
    assert (model.predict(X) == y).mean() > 0.9
    sig = art.get_logged_model(project, runs["run_id"].iloc[0]).signature
    assert [c["name"] for c in sig["inputs"]] == list(X.columns)


def test_artifacts_include_a_valid_confusion_png(project):
    runs = md.search_runs(experiment="breast-cancer", filter="attributes.status = 'FINISHED'")
    pngs = [rid for rid in runs["run_id"]
            if "confusion_matrix.png" in {a.path for a in art.list_artifacts(project, rid)}]
    assert pngs
    data = art.read_artifact(project, pngs[0], "confusion_matrix.png")
    _check_png(data)


def _check_png(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat, size = 8, b"", None
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos:pos + 4])
        tag, body = data[pos + 4:pos + 8], data[pos + 8:pos + 8 + length]
        (crc,) = struct.unpack(">I", data[pos + 8 + length:pos + 12 + length])
        assert crc == zlib.crc32(tag + body) & 0xFFFFFFFF
        if tag == b"IHDR":
            size = struct.unpack(">II", body[:8])
        elif tag == b"IDAT":
            idat += body
        pos += 12 + length
    w, h = size
    assert len(zlib.decompress(idat)) == h * (1 + 3 * w)
    return w, h


def test_confusion_png_scales_with_classes():
    w2, h2 = _check_png(confusion_png(np.array([[50, 3], [2, 88]])))
    w3, h3 = _check_png(confusion_png(np.array([[15, 0, 0], [1, 17, 0], [0, 0, 123]])))
    assert w3 > w2 and h3 > h2


def test_progress_is_reported_up_to_done(demo):
    seen = demo[2]
    fractions = [f for f, _ in seen]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0
    assert any("failed" in m for _, m in seen)


def test_refuses_an_existing_path(tmp_path):
    path = tmp_path / "taken.mdesk"
    path.write_bytes(b"precious")
    with pytest.raises(UsageError, match="already exists.*another path"):
        build_demo(path, quick=True)
    assert path.read_bytes() == b"precious"


def test_cancel_stops_the_build_and_fluent_api_stays_usable(tmp_path):
    calls = []

    def should_stop():
        calls.append(1)
        return len(calls) > 3

    path = tmp_path / "cancelled.mdesk"
    with pytest.raises(UsageError, match="cancelled"):
        build_demo(path, quick=True, should_stop=should_stop)
    assert md.active_run() is None
    assert len(md.search_runs()) == 3
    # A second build in the same process, then plain fluent logging, still work.
    build_demo(tmp_path / "again.mdesk", quick=True)
    md.set_experiment("scratch")
    with md.start_run(name="after-demo") as run:
        md.log_metric("x", 1.0)
    assert md.get_run(run.id).metrics == {"x": 1.0}


def test_cli_demo_builds_and_prints_the_summary(tmp_path):
    path = tmp_path / "cli.mdesk"
    env = {**os.environ, "MODELDESK_USER": "cli-user", "QT_QPA_PLATFORM": "offscreen"}
    proc = subprocess.run([sys.executable, "-m", "modeldesk", "demo", str(path), "--no-ui", "--quick"],
                          capture_output=True, text=True, timeout=120, cwd=tmp_path, env=env)
    assert proc.returncode == 0, proc.stderr
    assert f"Built {path}: 3 experiments" in proc.stdout
    assert "[100%]" in proc.stderr
    again = subprocess.run([sys.executable, "-m", "modeldesk", "demo", str(path), "--no-ui", "--quick"],
                           capture_output=True, text=True, timeout=120, cwd=tmp_path, env=env)
    assert again.returncode == 2 and "already exists" in again.stderr


def test_demo_registry_has_approvals_a_rejection_a_pending_request_and_a_rollback(demo, project):
    from modeldesk.core import audit
    from modeldesk.core.registry import aliases, approvals
    from modeldesk.core.registry import versions as registry

    assert "2 registered models (6 versions" in demo[1]
    models = {m.name: m for m in registry.list_models(project)}
    assert {n: m.version_count for n, m in models.items()} == {"cancer-classifier": 4, "diabetes-regressor": 2}
    assert models["cancer-classifier"].aliases == {"production": 1, "staging": 4}
    reqs = approvals.list_requests(project, "cancer-classifier")
    by_status = {r.status: r for r in reqs}
    assert set(by_status) == {"completed", "rejected", "pending"}
    done = next(r for r in reqs if r.version == 1)
    assert (done.requested_by, done.approvals) == ("ana", ("ben",))
    rejected = by_status["rejected"]
    assert rejected.reviews[0].reviewer == "ben" and "recall" in rejected.reviews[0].comment
    assert by_status["pending"].version == 4 and not by_status["pending"].blocking_gates
    moves = aliases.alias_history(project, "cancer-classifier", "production")
    assert [(m.kind, m.from_version, m.to_version) for m in moves] == [
        ("promote", None, 1), ("promote", 1, 2), ("rollback", 2, 1)]
    assert moves[-1].actor == "ben" and moves[-1].reason
    assert [r.version for r in approvals.pending_reviews(project, "ben")] == [4]
    assert audit.verify(project).ok
    assert md.load_model("models:/cancer-classifier@production").predict(
        art.load_input_example(project, art.get_logged_model(project, registry.get_version(
            project, "cancer-classifier", 1).run_id))).shape == (5,)


def test_demo_history_spreads_over_the_past_weeks(demo, project):
    """Runs from ~24 to ~10 days ago, then the registry story over the last ten days, in order."""
    import time

    from modeldesk.core.registry import aliases, approvals

    now = time.time()
    runs = md.search_runs()
    days_ago = (now - np.array([t.timestamp() for t in runs["start_time"]])) / 86400
    assert 20 < days_ago.max() < 25 and days_ago.min() > 9
    moves = aliases.alias_history(project, "cancer-classifier", "production")
    move_days = [(now - m.at) / 86400 for m in moves]
    assert move_days == sorted(move_days, reverse=True) and 9 < move_days[0] < days_ago.min()
    pending = [r for r in approvals.list_requests(project, "cancer-classifier") if r.status == "pending"]
    assert 0.5 < (now - pending[0].requested_at) / 86400 < 2


def test_a_shifted_clock_is_per_thread():
    import threading
    import time

    from modeldesk.core import clock

    seen = {}
    with clock.shifted(-86400):
        other = threading.Thread(target=lambda: seen.setdefault("other", clock.now()))
        other.start()
        other.join()
        shifted = clock.now()
    assert abs(shifted - (time.time() - 86400)) < 60
    assert abs(seen["other"] - time.time()) < 60
    assert clock.offset() == 0.0
