"""Run a multi-statement SQL script inside the caller's transaction."""


def run_script(db, script: str) -> None:
    """Statement by statement: sqlite3's executescript() would COMMIT a
    migration's transaction half-way. Scripts hold no ';' inside literals."""
    for statement in script.split(";"):
        if statement.strip():
            db.execute(statement)
