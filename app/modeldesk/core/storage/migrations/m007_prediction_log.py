"""Migration m007: a compact prediction log (issue 9, item 7)."""

from __future__ import annotations

import json
import struct

from ..sqlscript import run_script as _run_script


def m007_prediction_log(db) -> None:
    """Literal SQL only (plus a frozen copy of the row conversion); never edit once released.

    The log had one ~1 KB row per predicted row (inputs as a JSON object,
    the model's identity repeated). Now: ``served_versions`` holds each
    served identity and its input column names once; ``prediction_requests``
    one row per request, numeric inputs as a binary block (format 1, see
    core/serving/log_codec.py), other inputs, outputs and probabilities as
    JSON arrays; ``prediction_labels`` one row per labeled (request, row).
    Existing rows are converted (their floats kept as raw float64, the
    simplest lossless form of format 1), then the old table is dropped and a
    ``predictions`` view gives ad-hoc SQL the old one-row-per-prediction
    shape (without the inputs).
    """
    _run_script(
        db,
        """
        CREATE TABLE served_versions (
            id INTEGER PRIMARY KEY,
            model_uri TEXT NOT NULL,
            model_name TEXT,
            version INTEGER,
            run_id TEXT NOT NULL,
            artifact TEXT NOT NULL,
            sha256 TEXT NOT NULL,
            columns TEXT NOT NULL
        );
        CREATE INDEX served_versions_name ON served_versions(model_name, version);
        CREATE INDEX served_versions_run ON served_versions(run_id, artifact);
        CREATE TABLE prediction_requests (
            id INTEGER PRIMARY KEY,
            request_id TEXT NOT NULL,
            time REAL NOT NULL,
            served_id INTEGER NOT NULL REFERENCES served_versions(id),
            rows INTEGER NOT NULL,
            latency_ms REAL NOT NULL,
            inputs BLOB NOT NULL,
            text_inputs TEXT,
            outputs TEXT NOT NULL,
            probabilities TEXT
        );
        CREATE INDEX prediction_requests_request ON prediction_requests(request_id);
        CREATE INDEX prediction_requests_served_time ON prediction_requests(served_id, time);
        CREATE TABLE prediction_labels (
            request INTEGER NOT NULL REFERENCES prediction_requests(id) ON DELETE CASCADE,
            row INTEGER NOT NULL,
            label TEXT NOT NULL,
            time REAL,
            PRIMARY KEY (request, row)
        ) WITHOUT ROWID
        """,
    )
    _convert(db)
    _run_script(
        db,
        """
        DROP TABLE predictions;
        CREATE VIEW predictions AS
            WITH RECURSIVE expanded(request, row) AS (
                SELECT id, 0 FROM prediction_requests WHERE rows > 0
                UNION ALL
                SELECT e.request, e.row + 1 FROM expanded e JOIN prediction_requests r ON r.id = e.request
                    WHERE e.row + 1 < r.rows
            )
            SELECT r.id AS request, r.request_id, e.row, r.time, s.model_uri, s.model_name, s.version,
                s.run_id, s.artifact, s.sha256, r.latency_ms,
                json_extract(r.outputs, '$[' || e.row || ']') AS prediction, l.label,
                l.time AS label_time
            FROM expanded e JOIN prediction_requests r ON r.id = e.request
                JOIN served_versions s ON s.id = r.served_id
                LEFT JOIN prediction_labels l ON l.request = e.request AND l.row = e.row
        """,
    )


# -- the conversion, frozen with this migration (it must not follow later code) -----------------
_OLD = ("SELECT request_id, row, time, model_uri, model_name, version, run_id, artifact, sha256, inputs, outputs,"
        " probabilities, latency_ms, label, label_time FROM predictions ORDER BY id")


def _convert(db) -> None:
    conn = db.conn
    served: dict[tuple, int] = {}
    group: list[tuple] = []
    for old in conn.execute(_OLD):
        if group and (old[1] == 0 or old[0] != group[0][0] or old[2] != group[0][2] or old[3:9] != group[0][3:9]
                      or old[1] != group[-1][1] + 1):
            _write(conn, served, group)
            group = []
        group.append(old)
    if group:
        _write(conn, served, group)


def _write(conn, served: dict, group: list[tuple]) -> None:
    dicts = [json.loads(r[9]) for r in group]
    names = list(dicts[0])
    key = (*group[0][3:9], json.dumps(names))
    if key not in served:
        served[key] = conn.execute(
            "INSERT INTO served_versions (model_uri, model_name, version, run_id, artifact, sha256, columns)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)", key).lastrowid
    tags, payload, text = bytearray(), bytearray(), {}
    kinds = {}
    for name in names:
        values = [d.get(name) for d in dicts]
        if all(type(v) is int and -2 ** 63 <= v < 2 ** 63 for v in values):
            kinds[name] = "i"
        elif all(type(v) in (int, float) or v is None for v in values) and any(v is not None for v in values):
            kinds[name] = "f"
        else:
            text[name] = values
    for d in dicts:
        for name in names:
            kind = kinds.get(name)
            v = d.get(name)
            if kind == "i":
                tags.append(68)                  # int64 column, 8 bytes
                payload += struct.pack("<q", v)
            elif kind == "f" and v is None:
                tags.append(69)                  # missing float
            elif kind == "f":
                tags.append(0)                   # raw float64
                payload += struct.pack("<d", float(v))
    outputs = "[" + ",".join(r[10] for r in group) + "]"
    probs = "[" + ",".join(r[11] if r[11] is not None else "null" for r in group) + "]" \
        if any(r[11] is not None for r in group) else None
    first = group[0]
    request = conn.execute(
        "INSERT INTO prediction_requests (request_id, time, served_id, rows, latency_ms, inputs, text_inputs, outputs,"
        " probabilities) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (first[0], first[2], served[key], len(group), first[12], bytes([1]) + bytes(tags) + bytes(payload),
         json.dumps(text) if text else None, outputs, probs)).lastrowid
    conn.executemany("INSERT INTO prediction_labels (request, row, label, time) VALUES (?, ?, ?, ?)",
                     [(request, r[1], r[13], r[14]) for r in group if r[13] is not None])
