"""Rows by column name: each table's SELECT names its columns after the entity's
fields, and one call builds the entity, so no caller counts positions."""

from __future__ import annotations

import sqlite3
from typing import Any, TypeVar

T = TypeVar("T")


def named(conn: sqlite3.Connection, sql: str, args=()) -> list[sqlite3.Row]:
    """Rows of ``sql`` whose values are read by column name (``row["version"]``)."""
    cursor = conn.cursor()
    cursor.row_factory = sqlite3.Row
    try:
        return cursor.execute(sql, args).fetchall()
    finally:
        cursor.close()


def build(cls: type[T], row: sqlite3.Row, skip: tuple[str, ...] = (), **extra: Any) -> T:
    """``cls`` from the columns of ``row`` named like its fields, plus ``extra`` fields
    (which replace columns of the same name); ``skip`` names columns that are not fields.

    A column without a field of that name is an error, so a renamed field
    cannot silently shift the values of the others.
    """
    return cls(**{key: row[key] for key in row.keys() if key not in extra and key not in skip}, **extra)
