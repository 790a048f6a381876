"""MLflow model directories, both ways.

In: an MLflow model directory (``MLmodel`` plus files) with the sklearn flavor
becomes a ModelDesk logged model: the estimator is loaded with MLflow's own
loader and stored with joblib like every ModelDesk model (sha256 of those
bytes), with a signature inferred by predicting on MLflow's input example, or,
when the model has none, on one placeholder row built from MLflow's signature
(the placeholder is not kept as an example). Other flavors are not loaded.

Out: a registered version (or a run's model) becomes an MLflow model directory
written by ``mlflow.sklearn.save_model``: the python_function and sklearn
flavors, a signature, the input example and pinned requirements.
"""

from __future__ import annotations

import io
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import UsageError
from ..storage.blobs import put_blob
from .mlflow_store import require_mlflow

# The packages a scikit-learn model needs at load time, pinned in an exported model's requirements.
_REQUIREMENTS = ("scikit-learn", "numpy", "scipy", "pandas", "joblib", "cloudpickle")


@dataclass(frozen=True)
class ModelDir:
    """What an MLflow model directory holds, as far as an import cares."""

    flavors: tuple[str, ...]
    estimator: Any = None          # set for the sklearn flavor
    example: Any = None            # MLflow's input example (DataFrame or array), when logged
    placeholder: Any = None        # one row built from MLflow's signature, when there is no example
    example_problem: str | None = None   # why a logged input example was not used, for the summary


def is_model_dir(path: Path) -> bool:
    return (Path(path) / "MLmodel").is_file()


def read_model_dir(path: Path) -> ModelDir:
    """The flavors of the model in ``path`` and, for sklearn, the estimator and an example."""
    require_mlflow()
    from mlflow.models import Model

    meta = Model.load(str(path))
    flavors = tuple(sorted(meta.flavors))
    if "sklearn" not in flavors:
        return ModelDir(flavors)
    import mlflow.sklearn

    estimator = mlflow.sklearn.load_model(str(path))
    example, problem = None, None
    try:
        example = meta.load_input_example(str(path))
    except Exception as exc:   # MLflow's own reader failed (any error it raises): not worth failing the model for
        problem = f"its input example could not be read ({type(exc).__name__}: {str(exc)[:200]})"
    if isinstance(example, dict):
        import pandas as pd

        try:
            example = pd.DataFrame(example)
        except (ValueError, TypeError) as exc:
            example, problem = None, f"its input example is not a table ({exc})"
    placeholder = None
    if example is None and meta.signature is not None:
        placeholder = _placeholder(meta.signature.inputs)
    return ModelDir(flavors, estimator, example, placeholder, problem)


def _placeholder(schema):
    """One row that fits MLflow's input schema: zeros, empty strings, False, the epoch."""
    import numpy as np
    import pandas as pd

    if schema.is_tensor_spec():
        spec = schema.inputs[0]
        shape = [1 if (d is None or d < 0) else d for d in spec.shape]
        return np.zeros(shape, dtype=spec.type)
    row = {}
    for spec in schema.inputs:
        kind = str(getattr(spec.type, "name", spec.type)).lower()
        row[spec.name] = {"long": 0, "integer": 0, "double": 0.0, "float": 0.0, "boolean": False,
                          "datetime": pd.Timestamp(0)}.get(kind, "")
    return pd.DataFrame([row])


def store_sklearn_model(w, rid: int, name: str, model: ModelDir, created_at: float,
                        notes: list[str] | None = None) -> str:
    """Write ``model`` as the logged model ``name`` of run ``rid`` (inside ``w``'s transaction); its sha256.

    What was not kept as MLflow had it (an unreadable input example, one that
    does not fit the signature) is appended to ``notes`` in words.
    """
    import joblib

    from ..tracking.datasets import encode_frame, to_frame
    from ..tracking.signature import example_frame, infer_signature

    example = model.example if model.example is not None else model.placeholder
    signature = infer_signature(model.estimator, example) if example is not None else {}
    signature["model_class"] = f"{type(model.estimator).__module__}.{type(model.estimator).__qualname__}"
    signature["imported_from"] = "mlflow input example" if model.example is not None else (
        "mlflow signature" if model.placeholder is not None else "mlflow (no signature or example)")
    said = notes if notes is not None else []
    if model.example_problem:
        source = "MLflow's signature" if model.placeholder is not None else "nothing (no signature either)"
        said.append(f"{model.example_problem}; its signature was taken from {source}")
    if signature.get("predict_error"):
        said.append(f"it failed on its input example ({signature['predict_error'][:200]}); it is imported, but "
                    "serving it will be refused until a version is logged with an example it can predict on")
    example_sha = None
    if model.example is not None:
        try:
            frame = example_frame(signature, model.example)
        except (UsageError, ValueError, TypeError, KeyError) as exc:
            frame = to_frame(model.example)
            said.append(f"its input example does not fit the signature inferred from it ({exc}); "
                        "it is kept as MLflow stored it")
        example_sha = put_blob(w, encode_frame(frame))
    buf = io.BytesIO()
    joblib.dump(model.estimator, buf)
    data = buf.getvalue()
    digest = put_blob(w, data)
    w.execute(
        "INSERT INTO logged_models (run_rid, name, sha256, size, flavor, signature, input_example_sha256,"
        " environment_sha256, created_at) VALUES (?, ?, ?, ?, 'sklearn', ?, ?, NULL, ?)"
        " ON CONFLICT (run_rid, name) DO NOTHING",
        (rid, name, digest, len(data), json.dumps(signature, default=str), example_sha, created_at))
    return digest


# -- out ---------------------------------------------------------------------------
def save_model_dir(project, uri: str, directory) -> Path:
    """Write the model ``uri`` names as an MLflow model directory at ``directory`` (new or empty).

    The bytes are verified first (a registered version against its audit
    entry); the directory's ``MLmodel`` has the python_function and sklearn
    flavors, a signature inferred by MLflow from our input example and the
    model's predictions on it, the example itself, and requirements pinned to
    the versions the model was trained with (else the ones installed here).
    """
    require_mlflow()
    import mlflow.models
    import mlflow.sklearn

    from ..registry.uris import resolve_model
    from ..tracking.artifacts import get_environment, load_input_example, load_logged_model
    from ..tracking.signature import numpy_input

    target = Path(directory)
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise UsageError(f"{target} already exists and is not empty: give a new directory for the MLflow model.")
    logged = resolve_model(project, uri)
    if logged.flavor != "sklearn":
        raise UsageError(f"{uri} is a {logged.flavor} model; only scikit-learn models export as MLflow models.")
    model = load_logged_model(project, logged)
    example = load_input_example(project, logged)
    signature = None
    if example is not None and logged.signature.get("inputs"):
        example = numpy_input(logged.signature, example)
        signature = mlflow.models.infer_signature(example, model.predict(example))
    env = get_environment(project, logged.environment_sha256) or {}
    if target.exists():
        target.rmdir()   # empty: save_model wants to create it
    # cloudpickle, not MLflow 3's default skops: skops refuses many fitted estimators (trees, ensembles)
    # unless each type is listed as trusted, and these bytes are already a pickle ModelDesk verified.
    mlflow.sklearn.save_model(
        model, str(target), serialization_format="cloudpickle", signature=signature, input_example=example,
        pip_requirements=_requirements(env.get("packages") or {}),
        metadata={"modeldesk_uri": uri, "modeldesk_run_id": logged.run_id, "modeldesk_sha256": logged.sha256})
    return target


def _requirements(recorded: dict) -> list[str]:
    """``name==version`` for the packages a scikit-learn model needs, as trained when known."""
    from importlib.metadata import PackageNotFoundError, version

    from ..tracking.environment import normalise_name

    known = {normalise_name(k): v for k, v in recorded.items()}
    out = []
    for pkg in _REQUIREMENTS:
        pinned = known.get(normalise_name(pkg))
        if pinned is None:
            try:
                pinned = version(pkg)
            except PackageNotFoundError:
                continue
        out.append(f"{pkg}=={pinned}")
    return out
