"""Fixtures for serving tests: a real scaler + logistic-regression pipeline on
scikit-learn's breast-cancer data, logged into a fresh project."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from support.data import breast_cancer
from support.registry import fitted_logreg, log_run


@pytest.fixture
def logged(md, project_path):
    """A project holding one logged pipeline: .path, .uri, .run_id, .model, .X, .y."""
    X, y = breast_cancer()
    model = fitted_logreg()
    run_id = log_run(md, model, fit=False)
    return SimpleNamespace(path=project_path, uri=f"runs:/{run_id}/model", run_id=run_id, model=model, X=X, y=y)


@pytest.fixture
def make_app(logged):
    """create_app(...) for the logged model; every app made is closed after the test."""
    from modeldesk.server.app import create_app

    apps = []

    def make(uri=None, **kw):
        kw.setdefault("reload_interval", 0)
        app = create_app(logged.path, uri or logged.uri, **kw)
        apps.append(app)
        return app

    yield make
    for app in apps:
        app.extensions["modeldesk"].close()


@pytest.fixture
def client(make_app):
    return make_app().test_client()
