"""Reading a Prometheus text page back into numbers (the GUI's live figures, tests).

Parsed by ``prometheus_client.parser`` (pure Python, no Qt), so anything a
Prometheus server would accept reads the same here.
"""

from __future__ import annotations

from prometheus_client.parser import text_string_to_metric_families


def sample_key(name: str, labels: dict) -> str:
    """``name{k="v",...}`` with labels sorted by name (one key whatever the page's order), values escaped."""
    if not labels:
        return name
    inner = ",".join(f'{k}="{_escape(v)}"' for k, v in sorted(labels.items()))
    return f"{name}{{{inner}}}"


def parse_metrics(text: str) -> dict[str, float]:
    """Samples of a Prometheus text page keyed by ``name{labels}`` (for the GUI and tests)."""
    return {sample_key(s.name, s.labels): float(s.value)
            for family in text_string_to_metric_families(text) for s in family.samples}


def _escape(value: str) -> str:
    return str(value).replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')
