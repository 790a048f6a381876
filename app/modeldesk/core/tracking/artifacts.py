"""Artifacts, datasets, environments and models logged with a run.

All content lives in the project file as content-addressed blobs
(core.blobs), so the same bytes logged twice are stored once and any later
change to them is detected when they are read back.
"""

from __future__ import annotations

import io
import json
import os
from pathlib import Path

from .. import clock
from ..errors import NotFoundError, UsageError
from ..storage.blobs import get_blob, put_blob
from ..storage.project import Project
from ..storage.rows import build, named
from .run_entities import Artifact, DatasetRecord, LoggedModel
from .runs import run_rid

SAMPLE_CAP = 10_000


# -- files -------------------------------------------------------------------
def log_artifact(project: Project, rid: int, source, name: str | None = None) -> Artifact:
    """Store a file (path) or bytes under ``name`` (default: the file's name)."""
    if isinstance(source, (bytes, bytearray, memoryview)):
        if not name:
            raise UsageError("Logging bytes as an artifact needs a name, e.g. name='plot.png'.")
        data = bytes(source)
    else:
        path = Path(os.fspath(source))
        if not path.is_file():
            raise UsageError(f"Cannot log artifact {str(path)!r}: no such file.")
        data = path.read_bytes()
        name = name or path.name
    name = name.replace("\\", "/").lstrip("/")
    now = clock.now()
    with project.write() as w:
        digest = put_blob(w, data)
        w.execute(
            "INSERT INTO artifacts (run_rid, path, sha256, size, created_at) VALUES (?, ?, ?, ?, ?) "
            "ON CONFLICT (run_rid, path) DO UPDATE SET sha256 = excluded.sha256, size = excluded.size, "
            "created_at = excluded.created_at",
            (rid, name, digest, len(data), now),
        )
        run_id = w.execute("SELECT id FROM runs WHERE rid = ?", (rid,)).fetchone()[0]
    return Artifact(run_id, name, digest, len(data), now)


def list_artifacts(project: Project, run_id: str) -> list[Artifact]:
    rid = run_rid(project, run_id)
    rows = named(project.conn, "SELECT path, sha256, size, created_at FROM artifacts WHERE run_rid = ? ORDER BY path",
                 (rid,))
    return [build(Artifact, row, run_id=run_id) for row in rows]


def read_artifact(project: Project, run_id: str, name: str) -> bytes:
    """The artifact's bytes, verified against its sha256 (IntegrityError if changed)."""
    rid = run_rid(project, run_id)
    row = project.conn.execute(
        "SELECT sha256 FROM artifacts WHERE run_rid = ? AND path = ?", (rid, name)
    ).fetchone()
    if row is None:
        raise NotFoundError(f"Run {run_id[:8]} has no artifact {name!r}.")
    return get_blob(project.conn, row[0], what=f"artifact {name!r}")


# -- environment -------------------------------------------------------------
def store_environment(project: Project, env: dict) -> str:
    from .environment import environment_json

    text, digest = environment_json(env)
    if project.conn.execute("SELECT 1 FROM environments WHERE sha256 = ?", (digest,)).fetchone() is None:
        with project.write() as w:
            w.execute("INSERT OR IGNORE INTO environments (sha256, json) VALUES (?, ?)", (digest, text))
    return digest


def get_environment(project: Project, digest: str | None) -> dict | None:
    if not digest:
        return None
    row = project.conn.execute("SELECT json FROM environments WHERE sha256 = ?", (digest,)).fetchone()
    return json.loads(row[0]) if row else None


def run_environment(project: Project, run_id: str) -> dict | None:
    row = project.conn.execute("SELECT environment_sha256 FROM runs WHERE id = ?", (run_id,)).fetchone()
    return get_environment(project, row[0]) if row else None


# -- datasets ----------------------------------------------------------------
def log_dataset(project: Project, rid: int, data, *, name: str = "dataset", role: str = "training",
                target: str | None = None, columns=None, sample_cap: int = SAMPLE_CAP,
                seed: int = 0) -> DatasetRecord:
    """Fingerprint and profile the full data; keep a capped, seeded sample.

    The sample is the drift reference of models trained on this run. Data
    already logged (same fingerprint) is stored once and only linked.
    """
    from . import datasets as ds

    frame = ds.to_frame(data, columns=columns, target=target)
    if target is not None and target not in frame.columns:
        columns = ", ".join(map(str, frame.columns))
        raise UsageError(f"Target column {target!r} is not in the dataset; columns: {columns}.")
    fp = ds.fingerprint(frame)
    now = clock.now()
    row = project.conn.execute(
        "SELECT rows, columns, profile, sample_sha256, sample_rows FROM datasets WHERE fingerprint = ?", (fp,)
    ).fetchone()
    if row is None:
        profile = ds.profile(frame)
        sample = ds.sample(frame, cap=sample_cap, seed=seed)
        sample_bytes = ds.encode_frame(sample)
        row = (len(frame), frame.shape[1], json.dumps(profile), None, len(sample))
        with project.write() as w:
            digest = put_blob(w, sample_bytes)
            w.execute(
                "INSERT OR IGNORE INTO datasets (fingerprint, rows, columns, profile, sample_sha256, sample_rows,"
                " created_at) VALUES (?, ?, ?, ?, ?, ?, ?)", (fp, row[0], row[1], row[2], digest, row[4], now))
        row = (row[0], row[1], row[2], digest, row[4])
    with project.write() as w:
        w.execute(
            "INSERT INTO run_datasets (run_rid, name, role, fingerprint, target, created_at) VALUES (?, ?, ?, ?, ?, ?)"
            " ON CONFLICT (run_rid, name, role) DO UPDATE SET fingerprint = excluded.fingerprint,"
            " target = excluded.target, created_at = excluded.created_at",
            (rid, name, role, fp, target, now))
    return DatasetRecord(fp, name, role, target, row[0], row[1], json.loads(row[2]), row[3], row[4])


def list_datasets(project: Project, run_id: str) -> list[DatasetRecord]:
    rid = run_rid(project, run_id)
    rows = named(
        project.conn, "SELECT d.fingerprint AS fingerprint, rd.name AS name, rd.role AS role, rd.target AS target,"
        " d.rows AS rows, d.columns AS columns, d.profile AS profile, d.sample_sha256 AS sample_sha256,"
        " d.sample_rows AS sample_rows FROM run_datasets rd JOIN datasets d ON d.fingerprint = rd.fingerprint"
        " WHERE rd.run_rid = ? ORDER BY rd.role, rd.name", (rid,))
    return [build(DatasetRecord, r, profile=json.loads(r["profile"])) for r in rows]


def load_dataset_sample(project: Project, fingerprint: str):
    """The stored sample of a dataset as a DataFrame (sha256 verified)."""
    from . import datasets as ds

    row = project.conn.execute("SELECT sample_sha256 FROM datasets WHERE fingerprint = ?", (fingerprint,)).fetchone()
    if row is None:
        raise NotFoundError(f"No dataset with fingerprint {fingerprint[:12]}… in this project.")
    return ds.decode_frame(get_blob(project.conn, row[0], what="dataset sample"))


# -- models ------------------------------------------------------------------
def log_model(project: Project, rid: int, model, *, name: str = "model", input_example=None,
              environment_sha256: str | None = None) -> LoggedModel:
    """Serialise ``model`` with joblib into the project, with signature and env.

    The signature (input column names and types, output, classes) is inferred
    from ``input_example`` by predicting on it.
    """
    import joblib

    from .signature import infer_signature

    if not hasattr(model, "predict"):
        raise UsageError(f"log_model needs an estimator with predict(); got {type(model).__name__}.")
    buf = io.BytesIO()
    joblib.dump(model, buf)
    data = buf.getvalue()
    signature = infer_signature(model, input_example) if input_example is not None else {}
    signature["model_class"] = f"{type(model).__module__}.{type(model).__qualname__}"
    example_bytes = None
    if input_example is not None:
        from .datasets import encode_frame, to_frame
        from .signature import example_frame

        try:
            example_bytes = encode_frame(example_frame(signature, input_example))
        except Exception:
            example_bytes = encode_frame(to_frame(input_example))
    now = clock.now()
    with project.write() as w:
        digest = put_blob(w, data)
        example_sha = put_blob(w, example_bytes) if example_bytes is not None else None
        w.execute(
            "INSERT INTO logged_models (run_rid, name, sha256, size, flavor, signature, input_example_sha256,"
            " environment_sha256, created_at) VALUES (?, ?, ?, ?, 'sklearn', ?, ?, ?, ?)"
            " ON CONFLICT (run_rid, name) DO UPDATE SET sha256 = excluded.sha256, size = excluded.size,"
            " signature = excluded.signature, input_example_sha256 = excluded.input_example_sha256,"
            " environment_sha256 = excluded.environment_sha256, created_at = excluded.created_at",
            (rid, name, digest, len(data), json.dumps(signature, default=str), example_sha, environment_sha256, now))
        run_id = w.execute("SELECT id FROM runs WHERE rid = ?", (rid,)).fetchone()[0]
    return LoggedModel(run_id, name, digest, len(data), "sklearn", signature, environment_sha256, example_sha, now)


def get_logged_model(project: Project, run_id: str, name: str = "model") -> LoggedModel:
    rid = run_rid(project, run_id)
    row = project.conn.execute(
        "SELECT sha256, size, flavor, signature, environment_sha256, input_example_sha256, created_at"
        " FROM logged_models WHERE run_rid = ? AND name = ?", (rid, name)).fetchone()
    if row is None:
        names = [r[0] for r in project.read("SELECT name FROM logged_models WHERE run_rid = ?", (rid,))]
        hint = f" Its models: {', '.join(names)}." if names else " It has no logged model."
        raise NotFoundError(f"Run {run_id[:8]} has no model {name!r}.{hint}")
    sha, size, flavor, sig, env, example, created = row
    return LoggedModel(run_id, name, sha, size, flavor, json.loads(sig), env, example, created)


def list_models(project: Project, run_id: str) -> list[LoggedModel]:
    rid = run_rid(project, run_id)
    names = [r[0] for r in project.read("SELECT name FROM logged_models WHERE run_rid = ? ORDER BY name", (rid,))]
    return [get_logged_model(project, run_id, n) for n in names]


def load_logged_model(project: Project, logged: LoggedModel):
    """Unpickle a logged model after verifying its sha256."""
    import joblib

    data = get_blob(project.conn, logged.sha256, what=f"model {logged.name!r} of run {logged.run_id[:8]}")
    return joblib.load(io.BytesIO(data))


def load_input_example(project: Project, logged: LoggedModel):
    from .datasets import decode_frame

    if not logged.input_example_sha256:
        return None
    return decode_frame(get_blob(project.conn, logged.input_example_sha256, what="input example"))


def parse_model_uri(uri: str) -> tuple[str, ...]:
    """Split a model URI: ('runs', run_id, name) | ('models', name, version|None, alias|None).

    ``models:/<name>/latest`` has neither a version nor an alias: the highest version.
    """
    if not isinstance(uri, str) or not uri:
        raise UsageError("A model URI is needed, e.g. runs:/<run_id>/model or models:/churn@production.")
    if uri.startswith("runs:/"):
        rest = uri[len("runs:/"):].strip("/")
        run_id, _, name = rest.partition("/")
        if not run_id:
            raise UsageError(f"Bad model URI {uri!r}: expected runs:/<run_id>/<name>.")
        return ("runs", run_id, name or "model")
    if uri.startswith("models:/"):
        rest = uri[len("models:/"):].strip("/")
    else:
        rest = uri
    if "@" in rest:
        name, _, alias = rest.partition("@")
        if name and alias:
            return ("models", name, None, alias)
    elif "/" in rest:
        name, _, version = rest.rpartition("/")
        if name and version.isdigit():
            return ("models", name, int(version), None)
        if name and version == "latest":   # MLflow's models:/<name>/latest: version and alias both None
            return ("models", name, None, None)
    raise UsageError(
        f"Bad model URI {uri!r}: use runs:/<run_id>/<name>, models:/<name>/<version>, models:/<name>/latest"
        " or models:/<name>@<alias>.")
