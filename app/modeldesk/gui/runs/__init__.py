"""One run in full: params, metrics, curves, datasets, environment and artifacts."""
