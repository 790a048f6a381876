"""Charts, handed plain data, emitting signals: the only package that imports pyqtgraph."""
