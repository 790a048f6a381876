"""Shared test helpers, imported by name: ``from support.registry import log_run``.

``tests/`` is on ``sys.path`` because the rootdir ``tests/conftest.py`` lives
in a folder without ``__init__.py`` (pytest's default ``prepend`` import mode),
so this package imports from every test folder. Nothing here is a test or a
fixture; fixtures stay in the conftest files and build on these helpers.

- ``data``: the one breast-cancer loader.
- ``registry``: real models logged as a training script would (``log_run``), tampering.
- ``http``: one request to a real server on loopback.
- ``gui``: helpers shared by GUI test files (they import Qt only when called).
"""
