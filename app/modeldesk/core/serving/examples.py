"""Example requests for a served model: a record that passes its signature, and a curl line."""

from __future__ import annotations

import json
import shlex

# -- a curl example for the GUI and docs ---------------------------------------------------
_PLACEHOLDER = {"double": 0.0, "long": 0, "boolean": False, "string": "text", "datetime": "2026-01-01T00:00:00"}


def example_record(signature: dict, example: dict | None = None) -> dict:
    """One input row for ``signature``: values from ``example`` where given, else placeholders."""
    record = {}
    for f in signature.get("inputs") or []:
        name = f["name"]
        if example is not None and name in example:
            from ..tracking.signature import to_json

            record[str(name)] = to_json(example[name])
        elif f.get("type") == "category" and f.get("categories"):
            record[str(name)] = f["categories"][0]
        else:
            record[str(name)] = _PLACEHOLDER.get(f.get("type"), 0.0)
    return record


def curl_example(signature: dict, url: str, token: str | None = None, *, example: dict | None = None,
                 proba: bool = False) -> str:
    """A copyable shell command that sends one row to a server's ``/predict``.

    ``url``: the server's base URL (``/predict`` is added) or a full endpoint
    URL. ``token`` adds the Authorization header. ``example``: values for
    the row (say, the first row of the input example).
    """
    base = url.rstrip("/")
    if not base.endswith(("/predict", "/invocations")):
        base += "/predict"
    if proba:
        base += "?proba=true"
    body = json.dumps({"records": [example_record(signature, example)]})
    parts = ["curl", "-s", "-X", "POST", shlex.quote(base), "-H", shlex.quote("Content-Type: application/json")]
    if token:
        parts += ["-H", shlex.quote(f"Authorization: Bearer {token}")]
    parts += ["-d", shlex.quote(body)]
    return " ".join(parts)
