"""ModelDesk's Qt-free core: storage, tracking, queries and every domain rule.

Nothing in this package imports PySide6, pyqtgraph, Flask or click; the GUI,
CLI, server and fluent API are faces over it (tests/test_architecture.py).
"""
