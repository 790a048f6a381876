"""Reading a Prometheus text page back into numbers (the GUI's live figures, tests)."""

from __future__ import annotations


def parse_metrics(text: str) -> dict[str, float]:
    """Samples of a Prometheus text page keyed by ``name{labels}`` (for the GUI and tests)."""
    samples = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        key, _, value = line.rpartition(" ")
        try:
            samples[key] = float(value)
        except ValueError:
            continue
    return samples
