"""core.scoring: CSV in, predictions out, streamed in chunks, bad rows reported."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from modeldesk.core.serving.scoring import score_csv
from modeldesk.core.serving.validation import ValidationError
from support.data import breast_cancer
from support.registry import fitted_logreg


@pytest.fixture(scope="module")
def cancer():
    X, _ = breast_cancer()
    return X, fitted_logreg()


@pytest.fixture
def uri(md, cancer):
    X, model = cancer
    with md.start_run() as run:
        md.log_model(model, input_example=X.iloc[:5])
    md.flush()
    return f"runs:/{run.id}/model"


def test_scores_in_chunks_with_progress(project, uri, cancer, tmp_path):
    X, model = cancer
    src, out = tmp_path / "in.csv", tmp_path / "out.csv"
    X.assign(customer=[f"c{i}" for i in range(len(X))]).to_csv(src, index=False)
    seen = []
    summary = score_csv(project, uri, src, out, chunk_rows=100, progress=lambda f, m: seen.append((f, m)))
    assert summary.rows_read == summary.rows_scored == len(X) and summary.rows_rejected == 0
    assert len(seen) == 6 and seen[-1][0] == pytest.approx(1.0) and all(a[0] <= b[0] for a, b in zip(seen, seen[1:]))
    assert "569 rows scored" in seen[-1][1]
    result = pd.read_csv(out)
    assert result["customer"].tolist()[:2] == ["c0", "c1"]                     # the input's columns come along
    assert result["prediction"].tolist() == model.predict(X).tolist()
    assert summary.warnings == ["ignored unknown column(s) 'customer'"]
    assert not (tmp_path / "out.csv.part").exists()


def test_bad_rows_are_rejected_with_reasons(project, uri, cancer, tmp_path):
    X, model = cancer
    src, out = tmp_path / "in.csv", tmp_path / "out.csv"
    frame = X.iloc[:50].astype(object)
    frame.iloc[3, 0] = "big"            # not a number
    frame.iloc[7, 1] = None             # missing where training had none
    frame.iloc[45, 2] = "inf"           # not finite
    frame.to_csv(src, index=False)
    with open(src, "a") as fh:         # a malformed line: too many fields
        fh.write(",".join(["1"] * 40) + "\n")
    summary = score_csv(project, uri, src, out, chunk_rows=20)
    assert summary.rows_scored == 47 and summary.rows_rejected == 4 and summary.rows_read == 51
    assert summary.reasons["column 'mean radius': is not a number"] == 1
    assert any("null" in k or "missing" in k for k in summary.reasons if "'mean texture'" in k)
    assert any(e.startswith("row 4: column 'mean radius'") for e in summary.examples)
    assert any("row 46" in e and "finite" in e for e in summary.examples)
    assert any("line 52" in e for e in summary.examples)
    result = pd.read_csv(out)
    keep = [i for i in range(50) if i not in (3, 7, 45)]
    assert result["prediction"].tolist() == model.predict(X.iloc[keep]).tolist()
    assert "Rejected 4 rows" in summary.text()


def test_proba_columns(project, uri, cancer, tmp_path):
    X, model = cancer
    src, out = tmp_path / "in.csv", tmp_path / "out.csv"
    X.iloc[:30].to_csv(src, index=False)
    score_csv(project, uri, src, out, proba=True, chunk_rows=7)
    result = pd.read_csv(out)
    assert list(result.columns[-3:]) == ["prediction", "proba_0", "proba_1"]
    assert np.allclose(result[["proba_0", "proba_1"]].to_numpy(), model.predict_proba(X.iloc[:30]))


def test_missing_column_stops_before_writing(project, uri, cancer, tmp_path):
    X, _ = cancer
    src, out = tmp_path / "in.csv", tmp_path / "out.csv"
    X.drop(columns=["mean radius"]).iloc[:10].to_csv(src, index=False)
    with pytest.raises(ValidationError, match="'mean radius'"):
        score_csv(project, uri, src, out)
    assert not out.exists() and not (tmp_path / "out.csv.part").exists()


def test_cancel_leaves_no_output(project, uri, cancer, tmp_path):
    X, _ = cancer
    src, out = tmp_path / "in.csv", tmp_path / "out.csv"
    X.to_csv(src, index=False)
    calls = []
    summary = score_csv(project, uri, src, out, chunk_rows=100, should_stop=lambda: len(calls) > 1 or calls.append(1))
    assert summary.cancelled and 0 < summary.rows_scored < len(X)
    assert not out.exists() and not (tmp_path / "out.csv.part").exists()


def test_all_rows_bad_still_writes_a_header(project, uri, cancer, tmp_path):
    X, _ = cancer
    src, out = tmp_path / "in.csv", tmp_path / "out.csv"
    X.iloc[:3].assign(**{"mean radius": "x"}).to_csv(src, index=False)
    summary = score_csv(project, uri, src, out)
    assert summary.rows_scored == 0 and summary.rows_rejected == 3
    assert pd.read_csv(out).columns[-1] == "prediction"


def test_a_file_larger_than_a_chunk_never_sits_in_memory_whole(project, uri, cancer, tmp_path, monkeypatch):
    """Every frame handed to the model is at most chunk_rows long."""
    X, model = cancer
    src, out = tmp_path / "in.csv", tmp_path / "out.csv"
    pd.concat([X] * 8).to_csv(src, index=False)
    sizes = []
    real = type(model).predict

    def spy(self, data):
        sizes.append(len(data))
        return real(self, data)

    monkeypatch.setattr(type(model), "predict", spy)
    summary = score_csv(project, uri, src, out, chunk_rows=500)
    assert summary.rows_scored == 8 * len(X)
    assert max(sizes) <= 500


def test_bad_arguments(project, uri, tmp_path):
    from modeldesk.core.errors import UsageError

    with pytest.raises(UsageError, match="No input file"):
        score_csv(project, uri, tmp_path / "none.csv", tmp_path / "o.csv")
    src = tmp_path / "in.csv"
    src.write_text("")
    with pytest.raises(UsageError, match="empty"):
        score_csv(project, uri, src, tmp_path / "o.csv")
    with pytest.raises(UsageError, match="differ"):
        score_csv(project, uri, src, src)
