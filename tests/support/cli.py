"""Running the command line in process, as ``main()`` does for a user."""

from __future__ import annotations


def run_cli(capsys, *args) -> tuple[int, str, str]:
    """``modeldesk ARGS...`` in this process: (exit code, stdout, stderr)."""
    from modeldesk import cli

    try:
        cli.main([str(a) for a in args])
        code = 0
    except SystemExit as exc:   # click and sys.exit: None is success, a message is failure
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    out = capsys.readouterr()
    return code, out.out, out.err
