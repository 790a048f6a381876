"""Content-addressed blobs inside the project file.

A blob is stored once per sha256, split into chunks well below SQLite's
1 GB value limit, and its hash is checked on every read: bytes that no longer
match the hash they were stored under are refused, not returned.
"""

from __future__ import annotations

import hashlib
import sqlite3

from .. import clock
from ..errors import IntegrityError, NotFoundError

CHUNK_SIZE = 1 << 20  # 1 MiB


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def put_blob(conn: sqlite3.Connection, data: bytes) -> str:
    """Store ``data`` (inside the caller's write transaction); return its sha256.

    Storing the same bytes again is a no-op: content is deduplicated.
    """
    data = bytes(data)
    digest = sha256_hex(data)
    if conn.execute("SELECT 1 FROM blobs WHERE sha256 = ?", (digest,)).fetchone():
        return digest
    chunks = [data[i : i + CHUNK_SIZE] for i in range(0, len(data), CHUNK_SIZE)] or [b""]
    conn.execute(
        "INSERT INTO blobs (sha256, size, chunks, created_at) VALUES (?, ?, ?, ?)",
        (digest, len(data), len(chunks), clock.now()),
    )
    conn.executemany(
        "INSERT INTO blob_chunks (sha256, seq, data) VALUES (?, ?, ?)",
        ((digest, i, chunk) for i, chunk in enumerate(chunks)),
    )
    return digest


def get_blob(conn: sqlite3.Connection, digest: str, *, what: str = "artifact") -> bytes:
    """Read a blob and verify it against its sha256; refuse it if it changed."""
    row = conn.execute("SELECT size, chunks FROM blobs WHERE sha256 = ?", (digest,)).fetchone()
    if row is None:
        raise NotFoundError(f"The {what} {digest[:12]}… is not in this project.")
    size, n_chunks = row
    hasher = hashlib.sha256()
    parts = []
    seen = 0
    for seq, chunk in conn.execute(
        "SELECT seq, CAST(data AS BLOB) FROM blob_chunks WHERE sha256 = ? ORDER BY seq", (digest,)
    ):
        if seq != seen:
            break
        hasher.update(chunk)
        parts.append(chunk)
        seen += 1
    data = b"".join(parts)
    if seen != n_chunks or len(data) != size or hasher.hexdigest() != digest:
        raise IntegrityError(
            f"The {what} {digest[:12]}… was changed after it was logged: its content no "
            f"longer matches its sha256 ({len(data)} of {size} bytes, sha256 "
            f"{hasher.hexdigest()[:12]}…). It was refused; restore the project from a backup "
            "or log it again."
        )
    return data


def blob_exists(conn: sqlite3.Connection, digest: str) -> bool:
    return conn.execute("SELECT 1 FROM blobs WHERE sha256 = ?", (digest,)).fetchone() is not None
