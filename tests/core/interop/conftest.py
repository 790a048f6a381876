import pytest

from support.mlflow_store import build_store


@pytest.fixture(scope="session")
def store(tmp_path_factory):
    """One real MLflow store for the import and export tests (building it takes MLflow seconds)."""
    return build_store(tmp_path_factory.mktemp("mlflow"))
