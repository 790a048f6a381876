"""The version of ModelDesk: one place, read by the package metadata and every face."""

__version__ = "0.1.0"


def versions(qt: str | None = None) -> list[tuple[str, str]]:
    """What `modeldesk --version` and Help > About print: ModelDesk, Python, Qt, SQLite.

    ``qt``: the Qt runtime's version as the face read it (PySide6.QtCore.qVersion(), which needs
    no QApplication); the installed PySide6's version is read from its package metadata here,
    without importing Qt, so core stays Qt-free."""
    import platform
    import sqlite3
    from importlib import metadata

    pyside = None
    for dist in ("PySide6", "PySide6-Essentials"):   # the full package, or the wheel it depends on
        try:
            pyside = metadata.version(dist)
            break
        except metadata.PackageNotFoundError:
            continue
    if qt and pyside:
        qt_text = f"{qt} (PySide6 {pyside})"
    else:
        qt_text = qt or (f"PySide6 {pyside}" if pyside else "not installed (pip install PySide6 for the app)")
    return [("ModelDesk", __version__), ("Python", platform.python_version()), ("Qt", qt_text),
            ("SQLite", sqlite3.sqlite_version)]
