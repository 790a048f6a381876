"""Tracking: experiments, runs, params, metrics with history, artifacts, datasets, environments,
searching and comparing runs."""
