"""MLflow's keywords and entities in the fluent API give the same answers as ours (issue 13, item 2)."""

from __future__ import annotations

import json
import time

import pytest

from modeldesk.core.errors import NotFoundError, UsageError
from modeldesk.core.tracking import artifacts


def _sweep(md):
    md.set_experiment("churn")
    ids = []
    for depth, auc in ((4, 0.81), (8, 0.93), (12, 0.88)):
        time.sleep(0.005)   # distinct start times to the millisecond
        with md.start_run(name=f"rf-{depth}") as run:
            md.log_params({"max_depth": depth})
            md.log_metric("val_auc", auc)
            if depth == 8:
                md.set_tags({"owner": "ana"})
        ids.append(run.id)
    md.set_experiment("other")
    time.sleep(0.005)
    with md.start_run(run_name="lr") as run:
        md.log_metric("val_auc", 0.7)
    ids.append(run.id)
    md.flush()
    return ids


def test_run_name_keyword_names_the_run(md):
    with md.start_run(run_name="rf-200") as run:
        pass
    assert md.get_run(run.id).name == "rf-200"
    with md.start_run(name="same", run_name="same") as run:
        pass
    assert md.get_run(run.id).name == "same"
    with pytest.raises(UsageError, match="name='a' and run_name='b' disagree"):
        md.start_run(name="a", run_name="b")


def test_mlflow_search_keywords_give_the_same_frame_as_ours(md):
    _sweep(md)
    ours = md.search_runs(experiment="churn", filter="metrics.val_auc > 0.85", order_by=["metrics.val_auc DESC"],
                          max_results=10)
    exp_id = md.get_experiment_by_name("churn").experiment_id
    for theirs in (
        md.search_runs(experiment_names=["churn"], filter_string="metrics.val_auc > 0.85",
                       order_by=["metrics.val_auc DESC"], max_results=10),
        md.search_runs(experiment_ids=[exp_id], filter_string="metrics.val_auc > 0.85",
                       order_by=["metrics.val_auc DESC"], max_results=10),
        md.search_runs(experiment_ids=[int(exp_id)], filter_string="metrics.val_auc > 0.85",
                       order_by=["metrics.val_auc DESC"]),
    ):
        assert theirs.equals(ours)
    assert list(ours["run_name"]) == ["rf-8", "rf-12"]
    assert set(ours["experiment_id"]) == {exp_id} and isinstance(exp_id, str)
    assert list(ours["experiment"]) == ["churn", "churn"]
    assert list(ours["artifact_uri"]) == [f"runs:/{i}" for i in ours["run_id"]]
    assert list(ours["lifecycle_stage"]) == ["active", "active"]
    columns = list(ours.columns)
    assert columns.index("experiment_id") == columns.index("experiment") - 1


def test_output_format_list_gives_run_entities_in_the_same_order(md):
    _sweep(md)
    frame = md.search_runs(filter_string="metrics.val_auc > 0.8", order_by=["metrics.val_auc DESC"])
    runs = md.search_runs(filter_string="metrics.val_auc > 0.8", order_by=["metrics.val_auc DESC"],
                          output_format="list")
    assert [r.info.run_id for r in runs] == list(frame["run_id"])
    assert [r.data.metrics["val_auc"] for r in runs] == list(frame["metrics.val_auc"])
    with pytest.raises(UsageError, match="output_format"):
        md.search_runs(output_format="json")


def test_clashing_search_keywords_are_refused(md):
    _sweep(md)
    with pytest.raises(UsageError, match="disagree"):
        md.search_runs(filter="metrics.val_auc > 0", filter_string="metrics.val_auc > 1")
    with pytest.raises(UsageError, match="not as both experiment= and experiment_names="):
        md.search_runs(experiment="churn", experiment_names=["churn"])
    with pytest.raises(UsageError, match="experiment_ids are numbers"):
        md.search_runs(experiment_ids=["churn"])
    with pytest.raises(NotFoundError, match="No experiment"):
        md.search_runs(experiment_ids=["999"])
    with pytest.raises(UsageError, match="max_results"):
        md.search_runs(max_results="10")


def test_get_run_info_and_data_are_mlflows_entities(md):
    ids = _sweep(md)
    run = md.get_run(ids[1])
    info, data = run.info, run.data
    assert info.run_id == info.run_uuid == ids[1]
    assert info.run_name == "rf-8" and info.status == "FINISHED" and info.user_id == "tester"
    assert info.experiment_id == md.get_experiment_by_name("churn").experiment_id
    assert info.start_time == round(run.start_time * 1000) and isinstance(info.start_time, int)
    assert info.end_time == round(run.end_time * 1000) and info.end_time >= info.start_time
    assert info.lifecycle_stage == "active" and info.artifact_uri == f"runs:/{ids[1]}"
    assert data.params == {"max_depth": "8"} and data.metrics == {"val_auc": 0.93} and data.tags == {"owner": "ana"}
    # the ms times filter back to the same run
    frame = md.search_runs(filter_string=f"attributes.start_time = {info.start_time}")
    assert ids[1] in set(frame["run_id"])   # runs started in the same millisecond match too, as in MLflow
    assert {md.get_run(i).info.start_time for i in frame["run_id"]} == {info.start_time}
    ended = md.search_runs(filter_string=f"attributes.end_time = {info.end_time}")
    assert ids[1] in set(ended["run_id"]) and {md.get_run(i).info.end_time for i in ended["run_id"]} == {info.end_time}
    with md.start_run() as open_run:
        assert md.get_run(open_run.id).info.end_time is None


def test_a_millisecond_time_filter_returns_the_right_runs(md):
    ids = _sweep(md)
    second = md.get_run(ids[1])
    ms = int(second.start_time * 1000) - 1
    by_ms = md.search_runs(filter_string=f"attributes.start_time > {ms}", order_by=["start_time ASC"])
    by_s = md.search_runs(filter=f"attributes.start_time > {second.start_time - 0.001}", order_by=["start_time ASC"])
    assert list(by_ms["run_id"]) == list(by_s["run_id"]) == ids[1:]
    assert len(md.search_runs(filter_string=f"attributes.end_time < {int(time.time() * 1000) + 60_000}")) == 4


def test_metric_timestamps_in_milliseconds_are_stored_as_seconds(md):
    now = time.time()
    with md.start_run() as run:
        md.log_metric("loss", 0.5, timestamp=int(now * 1000))
        md.log_metrics({"acc": 0.9}, timestamp=int(now * 1000))
        md.log_metric("f1", 0.3, timestamp=now)
    for key in ("loss", "acc", "f1"):
        assert abs(md.get_metric_history(run.id, key)["timestamp"][0] - now) < 0.01


def test_models_latest_is_the_highest_version(md):
    from support.registry import log_run

    first = log_run(md, name="a")
    second = log_run(md, name="b")
    with pytest.raises(NotFoundError):
        md.load_model("models:/churn/latest")
    md.register_model(f"runs:/{first}/model", "churn")
    assert md.load_model("models:/churn/latest") is not None
    from modeldesk.core.registry.versions import resolve_version

    assert resolve_version(md.get_project(), "models:/churn/latest").version == 1
    md.register_model(f"runs:/{second}/model", "churn")
    assert resolve_version(md.get_project(), "models:/churn/latest").version == 2
    assert resolve_version(md.get_project(), "churn/latest").version == 2
    assert resolve_version(md.get_project(), "models:/churn/latest").run_id == \
        resolve_version(md.get_project(), "models:/churn/2").run_id
    with pytest.raises(UsageError, match="models:/<name>/latest"):
        resolve_version(md.get_project(), "models:/churn/newest")


def test_log_artifacts_text_and_dict(md, tmp_path):
    folder = tmp_path / "out"
    (folder / "plots").mkdir(parents=True)
    (folder / "a.txt").write_text("A")
    (folder / "plots" / "b.csv").write_text("x\n1\n")
    with md.start_run() as run:
        md.log_artifacts(folder)
        md.log_artifacts(folder, artifact_path="copy")
        md.log_text("héllo", "notes/readme.md")
        md.log_dict({"depth": 8, "classes": ["a", "b"]}, "config.json")
    project = md.get_project()
    paths = [a.path for a in artifacts.list_artifacts(project, run.id)]
    assert paths == ["a.txt", "config.json", "copy/a.txt", "copy/plots/b.csv", "notes/readme.md", "plots/b.csv"]
    assert artifacts.read_artifact(project, run.id, "plots/b.csv") == b"x\n1\n"
    assert artifacts.read_artifact(project, run.id, "notes/readme.md").decode() == "héllo"
    assert json.loads(artifacts.read_artifact(project, run.id, "config.json")) == {"depth": 8, "classes": ["a", "b"]}


@pytest.mark.parametrize("call, message", [
    (lambda md, tmp: md.log_artifacts(tmp / "missing"), "no such folder"),
    (lambda md, tmp: md.log_artifacts(tmp), "holds no files"),
    (lambda md, tmp: md.log_text({"a": 1}, "a.txt"), "log_text takes a string"),
    (lambda md, tmp: md.log_text("x", "../escape.txt"), "not a file name inside the run"),
    (lambda md, tmp: md.log_dict({"a": object()}, "a.json"), "could not write 'a.json' as JSON"),
    (lambda md, tmp: md.log_figure(object(), "f.png"), "log_figure takes a matplotlib figure"),
    (lambda md, tmp: md.log_dict({"a": 1}, ""), "needs a file name"),
])
def test_bad_artifact_calls_say_what_is_wrong(md, tmp_path, call, message):
    (tmp_path / "empty").mkdir()
    with md.start_run():
        with pytest.raises(UsageError, match=message):
            call(md, tmp_path / "empty" if "holds no files" in message else tmp_path)


def test_log_artifacts_is_all_or_nothing(md, tmp_path, monkeypatch):
    from pathlib import Path

    (tmp_path / "a.txt").write_text("A")
    (tmp_path / "z.txt").write_text("Z")
    real = Path.read_bytes

    def read_bytes(path):
        if path.name == "z.txt":
            raise PermissionError(f"[Errno 13] Permission denied: {str(path)!r}")
        return real(path)

    monkeypatch.setattr(Path, "read_bytes", read_bytes)
    with md.start_run() as run:
        with pytest.raises(PermissionError):
            md.log_artifacts(tmp_path)
    assert artifacts.list_artifacts(md.get_project(), run.id) == []   # a.txt was not kept either


class _Figure:
    """Something with matplotlib's savefig(file, format=...)."""

    def __init__(self):
        self.formats = []

    def savefig(self, target, format=None):
        self.formats.append(format)
        target.write(b"\x89PNG\r\n\x1a\n fake" if format == "png" else b"<svg/>")


def test_log_figure_uses_savefig_in_the_format_of_the_name(md):
    figure = _Figure()
    with md.start_run() as run:
        md.log_figure(figure, "plots/roc.png")
        md.log_figure(figure, "plots/roc.svg")
        with pytest.raises(UsageError, match="Name the figure .png"):
            md.log_figure(figure, "plots/roc.txt")
    assert figure.formats == ["png", "svg"]
    assert artifacts.read_artifact(md.get_project(), run.id, "plots/roc.png").startswith(b"\x89PNG")


def test_set_tracking_uri_takes_a_path_or_sqlite_uri(md, tmp_path, monkeypatch):
    from modeldesk.core.tracking.keywords import project_path_of_uri

    monkeypatch.chdir(tmp_path)
    md.set_tracking_uri("sqlite:///rel.mdesk")
    assert md.get_tracking_uri().endswith("rel.mdesk") and (tmp_path / "rel.mdesk").exists()
    md.set_tracking_uri(tmp_path / "p.mdesk")
    assert (tmp_path / "p.mdesk").exists()
    assert project_path_of_uri("sqlite:////abs/x.mdesk") == "/abs/x.mdesk"
    assert project_path_of_uri("file:///abs/x.mdesk") == "/abs/x.mdesk"
    assert project_path_of_uri("C:\\work\\x.mdesk") == "C:\\work\\x.mdesk"
    for bad, message in (("http://localhost:5000", "not a server"), ("databricks://x", "not a server"),
                         ("sqlite://x.mdesk", "sqlite:///relative"), ("", "needs the project file")):
        with pytest.raises(UsageError, match=message):
            md.set_tracking_uri(bad)


def test_experiment_keywords_of_set_experiment_and_start_run(md):
    exp = md.set_experiment(experiment_name="churn")
    assert md.set_experiment(experiment_id=exp.id).name == "churn"
    with md.start_run(experiment_id=str(exp.id)) as run:
        pass
    assert md.get_run(run.id).experiment == "churn"
    with pytest.raises(UsageError, match="disagree"):
        md.set_experiment("a", experiment_name="b")
    created = md.create_experiment("fraud")           # MLflow returns the id; we return the experiment
    for handle in (created, created.experiment_id, created.id, "fraud"):
        with md.start_run(experiment_id=handle) as run:
            pass
        assert md.get_run(run.id).experiment == "fraud"


def test_mlflow_system_tags_filter_on_our_attributes(md):
    ids = _sweep(md)
    with md.start_run(name="parent") as parent:
        with md.start_run(name="child") as child:
            pass
    md.flush()

    def found(text):
        return set(md.search_runs(filter_string=text)["run_id"])

    assert found("tags.mlflow.runName = 'rf-8'") == found("attributes.run_name = 'rf-8'") == {ids[1]}
    assert found(f"tags.mlflow.parentRunId = '{parent.id}'") == {child.id}
    assert found(f"attributes.parent_run_id = '{parent.id}'") == {child.id}
    assert found("tags.mlflow.parentRunId IS NOT NULL") == {child.id}
    assert len(found("tags.`mlflow.parentRunId` IS NULL")) == len(ids) + 1
    assert found("tags.mlflow.user = 'tester'") == set(ids) | {parent.id, child.id}
    ordered = md.search_runs(order_by=["tags.mlflow.runName DESC"])
    assert list(ordered["run_name"]) == sorted(ordered["run_name"], reverse=True)
