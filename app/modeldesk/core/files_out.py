"""Getting files out of a project: a registered version's model (with a metadata JSON) and a run's
artifacts, written into a folder.

Every byte is verified before anything is written: blobs against their sha256 (core.storage.blobs),
and a registered version against the sha256 it was registered with in the audit log, as loading
does (core.registry.ledger.checked_sha256). A tampered blob is refused and the folder is left as
it was. Existing files are not overwritten unless asked (``overwrite=True``).
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from .errors import RefusedError, UsageError
from .storage.blobs import get_blob, sha256_hex
from .storage.project import Project
from .text import iso_time

MODEL_FILE = "model.joblib"
METADATA_FILE = "modeldesk.json"
EXAMPLE_FILE = "input_example.json"


@dataclass
class Written:
    """What was written: the folder and each file (relative path, size, sha256)."""

    folder: Path
    files: list[tuple[str, int, str]] = field(default_factory=list)


def download_version(project: Project, name: str, version: int, dest, *, overwrite: bool = False) -> Written:
    """Write model ``name`` v``version`` into ``dest``: ``model.joblib`` (the exact registered bytes,
    ``joblib.load`` reads it), ``input_example.json`` when one was logged, and ``modeldesk.json``
    (name, version, source run, sha256, signature, environment, who registered it and when)."""
    from .registry.ledger import checked_sha256
    from .registry.versions import get_version
    from .tracking.artifacts import get_environment

    v = get_version(project, name, version)
    sha256 = checked_sha256(project, v)       # against its registration (audit log): an edited row is refused
    files = {MODEL_FILE: get_blob(project.conn, sha256, what=f"model {name} v{version}")}   # bytes vs sha256
    if v.input_example_sha256:
        from .tracking.datasets import decode_frame

        example = decode_frame(get_blob(project.conn, v.input_example_sha256, what="input example"))
        files[EXAMPLE_FILE] = example.to_json(orient="split", index=False, date_format="iso").encode()
    meta = {
        "name": v.name, "version": v.version, "uri": v.uri, "source": v.source, "run_id": v.run_id,
        "logged_model": v.logged_model, "flavor": v.flavor, "status": v.status, "aliases": list(v.aliases),
        "sha256": sha256, "size": v.size, "created_by": v.created_by, "created_at": iso_time(v.created_at),
        "signature": v.signature, "environment": get_environment(project, v.environment_sha256),
        "files": {path: {"sha256": sha256_hex(data), "size": len(data)} for path, data in files.items()},
        "load": f"joblib.load('{MODEL_FILE}')  # runs code from the pickle: load only models you trust",
    }
    files[METADATA_FILE] = (json.dumps(meta, indent=2, default=str) + "\n").encode()
    return write_files(dest, files, overwrite=overwrite)


def run_files(project: Project, run_id: str) -> list[tuple[str, str, int, str, float]]:
    """A run's files as (kind, path, size, sha256, logged at): artifacts, then its logged models as
    ``models/<name>.joblib``."""
    from .tracking.artifacts import list_artifacts, list_models

    out = [("artifact", a.path, a.size, a.sha256, a.created_at) for a in list_artifacts(project, run_id)]
    out += [("model", f"models/{m.name}.joblib", m.size, m.sha256, m.created_at) for m in list_models(project, run_id)]
    return out


def download_run_files(project: Project, run_id: str, dest, *, overwrite: bool = False) -> Written:
    """Write a run's artifacts (at their logged paths) and logged models into ``dest``."""
    from .tracking.runs import get_run

    run = get_run(project, run_id)
    files = {path: get_blob(project.conn, sha256, what=f"{kind} {path!r} of run {run.id[:8]}")
             for kind, path, _size, sha256, _at in run_files(project, run.id)}
    if not files:
        raise RefusedError(f"Run {run.id[:8]} has no artifacts or models to download.")
    return write_files(dest, files, overwrite=overwrite)


def write_files(dest, files: dict[str, bytes], *, overwrite: bool = False) -> Written:
    """Write ``files`` (relative POSIX path -> bytes) under the folder ``dest`` (created if missing).

    A path that would land outside ``dest`` (absolute, or with ``..``) is refused, and so is
    replacing an existing file unless ``overwrite``; both are checked before anything is written.
    Each file is written to a temporary name and renamed, so a reader never sees half a file."""
    folder = Path(os.fspath(dest)).expanduser()
    if folder.exists() and not folder.is_dir():
        raise UsageError(f"{folder} is a file; -o wants a folder (it is created if missing).")
    targets = {}
    for rel in files:
        parts = PurePosixPath(rel).parts
        if not parts or PurePosixPath(rel).is_absolute() or ".." in parts or "\\" in rel:
            raise RefusedError(f"Refusing to write {rel!r}: the path would leave {folder}.")
        targets[rel] = folder.joinpath(*parts)
    clash = [str(t) for t in targets.values() if t.exists()]
    if clash and not overwrite:
        raise RefusedError(f"{len(clash)} file(s) already exist, e.g. {clash[0]}; nothing was written. "
                           "Choose an empty folder, or pass --force to replace them.")
    written = Written(folder)
    for rel, data in files.items():
        target = targets[rel]
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(data)
            os.replace(tmp, target)
        except BaseException:
            if os.path.exists(tmp):
                os.unlink(tmp)
            raise
        written.files.append((rel, len(data), sha256_hex(data)))
    return written
