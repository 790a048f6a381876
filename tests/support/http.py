"""Talking to a real model server on loopback, as a client would."""

from __future__ import annotations


def http_call(port: int, method: str, path: str, body=None, content_type: str | None = None, headers=None):
    """One request to a real server on 127.0.0.1: (status, headers as a lower-cased dict, raw body)."""
    import http.client
    import json

    data = json.dumps(body).encode() if isinstance(body, (dict, list)) else body
    hdrs = {"Content-Type": content_type or "application/json"} if data is not None else {}
    hdrs.update(headers or {})
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request(method, path, data, hdrs)
        resp = conn.getresponse()
        return resp.status, {k.lower(): v for k, v in resp.getheaders()}, resp.read()
    finally:
        conn.close()
