"""MLflow's artifact habits: a folder, a text, a dict, a figure, each stored as artifacts.

``log_artifacts(dir)`` stores every file under a folder in one transaction
(all or nothing); ``log_text``/``log_dict`` store a string or a JSON/YAML
document; ``log_figure`` stores a chart as an image. Core imports no plotting
or Qt library: a figure is anything with ``savefig`` (matplotlib), anything
with ``grab()`` returning an image with ``save`` (a Qt widget, e.g. a
pyqtgraph ``PlotWidget``), or an item with ``getViewWidget()`` (a pyqtgraph
``PlotItem``): its widget is grabbed.
"""

from __future__ import annotations

import io
import json
import os
import tempfile
from pathlib import Path

from .. import clock
from ..errors import UsageError
from ..storage.blobs import put_blob
from ..storage.project import Project
from .run_entities import Artifact

_FIGURE_FORMATS = {".png": "png", ".jpg": "jpg", ".jpeg": "jpg", ".svg": "svg", ".pdf": "pdf"}
_GRAB_FORMATS = {".png": "PNG", ".jpg": "JPG", ".jpeg": "JPG", ".bmp": "BMP"}


def _clean(name: str, what: str) -> str:
    if not isinstance(name, str) or not name.strip():
        raise UsageError(f"{what} needs a file name inside the run, e.g. 'reports/summary.txt'.")
    clean = name.replace("\\", "/").lstrip("/")
    if any(part in ("", ".", "..") for part in clean.split("/")):
        raise UsageError(f"{name!r} is not a file name inside the run: no '..', '.' or empty parts.")
    return clean


def _store(project: Project, rid: int, files: list[tuple[str, bytes | Path]]) -> list[Artifact]:
    """Store (name, bytes or path) pairs as one transaction; read files one at a time."""
    now, out = clock.now(), []
    with project.write() as w:
        run_id = w.execute("SELECT id FROM runs WHERE rid = ?", (rid,)).fetchone()[0]
        for name, source in files:
            data = source.read_bytes() if isinstance(source, Path) else bytes(source)
            digest = put_blob(w, data)
            w.execute(
                "INSERT INTO artifacts (run_rid, path, sha256, size, created_at) VALUES (?, ?, ?, ?, ?) "
                "ON CONFLICT (run_rid, path) DO UPDATE SET sha256 = excluded.sha256, size = excluded.size, "
                "created_at = excluded.created_at", (rid, name, digest, len(data), now))
            out.append(Artifact(run_id, name, digest, len(data), now))
    return out


def log_artifacts(project: Project, rid: int, local_dir, artifact_path: str | None = None) -> list[Artifact]:
    """Every file under ``local_dir`` (recursively), as ``artifact_path/<relative path>``.

    All files are stored in one transaction: a file that cannot be read leaves
    none of them logged. Symbolic links to files are followed; an empty
    folder logs nothing and says so.
    """
    root = Path(os.fspath(local_dir))
    if not root.is_dir():
        raise UsageError(f"Cannot log the artifacts of {str(root)!r}: no such folder "
                         "(log one file with log_artifact).")
    prefix = "" if not artifact_path else _clean(artifact_path, "artifact_path") + "/"
    files = sorted((p for p in root.rglob("*") if p.is_file()), key=lambda p: p.relative_to(root).as_posix())
    if not files:
        raise UsageError(f"{str(root)!r} holds no files: nothing to log.")
    return _store(project, rid, [(prefix + p.relative_to(root).as_posix(), p) for p in files])


def log_text(project: Project, rid: int, text: str, artifact_file: str) -> Artifact:
    """Store ``text`` (UTF-8) as the artifact ``artifact_file``."""
    if not isinstance(text, str):
        raise UsageError(f"log_text takes a string, not {type(text).__name__}; use log_dict for a dict.")
    return _store(project, rid, [(_clean(artifact_file, "log_text"), text.encode("utf-8"))])[0]


def log_dict(project: Project, rid: int, dictionary, artifact_file: str) -> Artifact:
    """Store a dict (or list) as JSON, or as YAML when ``artifact_file`` ends in .yaml/.yml (needs PyYAML)."""
    name = _clean(artifact_file, "log_dict")
    if name.lower().endswith((".yaml", ".yml")):
        try:
            import yaml
        except ImportError:
            raise UsageError(f"Writing {name!r} as YAML needs PyYAML (pip install pyyaml); "
                             "or name it .json.") from None
        text = yaml.safe_dump(dictionary, default_flow_style=False, sort_keys=False)
    else:
        try:
            text = json.dumps(dictionary, indent=2, allow_nan=True)
        except TypeError as exc:
            raise UsageError(f"log_dict could not write {name!r} as JSON: {exc}.") from None
    return _store(project, rid, [(name, text.encode("utf-8"))])[0]


def figure_bytes(figure, artifact_file: str) -> bytes:
    """The image bytes of ``figure`` in the format ``artifact_file``'s extension names."""
    suffix = Path(artifact_file).suffix.lower()
    if hasattr(figure, "savefig"):   # matplotlib's Figure (or pyplot itself)
        if suffix not in _FIGURE_FORMATS:
            raise UsageError(f"Name the figure .png, .jpg, .svg or .pdf, not {artifact_file!r}.")
        buffer = io.BytesIO()
        figure.savefig(buffer, format=_FIGURE_FORMATS[suffix])
        return buffer.getvalue()
    widget = figure
    if not hasattr(widget, "grab") and hasattr(widget, "getViewWidget"):   # a pyqtgraph item
        widget = widget.getViewWidget()
    if widget is None or not hasattr(widget, "grab"):
        raise UsageError(f"log_figure takes a matplotlib figure, a pyqtgraph plot or a Qt widget, "
                         f"not {type(figure).__name__}.")
    if suffix not in _GRAB_FORMATS:
        raise UsageError(f"Name a Qt or pyqtgraph figure .png, .jpg or .bmp, not {artifact_file!r}.")
    handle, path = tempfile.mkstemp(suffix=suffix)
    os.close(handle)
    try:
        if not widget.grab().save(path, _GRAB_FORMATS[suffix]):
            raise UsageError(f"The figure could not be drawn as {_GRAB_FORMATS[suffix]}.")
        return Path(path).read_bytes()
    finally:
        os.unlink(path)


def log_figure(project: Project, rid: int, figure, artifact_file: str) -> Artifact:
    """Store a matplotlib figure, pyqtgraph plot or Qt widget as an image (PNG by default)."""
    name = _clean(artifact_file, "log_figure")
    return _store(project, rid, [(name, figure_bytes(figure, name))])[0]
