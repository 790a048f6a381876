"""The README works as pasted (issue 13 item 1): its ten-line example and its CLI line, taken from
README.md's code blocks (so the README cannot drift from this test), run in fresh processes from an
empty folder with this environment's `python` and `modeldesk` console script, as a user who ran
`make demo` and `. .venv/bin/activate` would."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

import modeldesk

README = Path(__file__).resolve().parents[1] / "README.md"


def code_blocks(text: str) -> list[tuple[str, str]]:
    """(language, body) of every fenced block, in order."""
    return [(m.group(1), m.group(2)) for m in re.finditer(r"^```(\w*)\n(.*?)^```", text, re.S | re.M)]


def readme_parts():
    blocks = code_blocks(README.read_text(encoding="utf-8"))
    example = next(body for lang, body in blocks if lang == "python" and "import modeldesk as md" in body)
    command = next(line.strip() for _, body in blocks for line in body.splitlines()
                   if line.strip().startswith("modeldesk --project"))
    install = next(body for _, body in blocks if ".venv/bin/activate" in body)
    return example, command, install


def user_env() -> dict:
    """This environment as a user's shell has it, minus ModelDesk's own settings. PYTHONPATH is kept: under
    `make test` it is unset (the package is installed); a worktree run sets it to the code under test."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("MODELDESK_")}
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"    # as after `activate`
    return env


def test_the_readme_says_how_to_install():
    _, _, install = readme_parts()
    assert ". .venv/bin/activate" in install and "pip install ." in install


def test_the_readme_example_and_cli_line_run_as_pasted(tmp_path):
    example, command, _ = readme_parts()
    assert len(example.strip().splitlines()) <= 15 and "md.log_model" in example
    env = user_env()
    where = subprocess.run([sys.executable, "-c", "import modeldesk; print(modeldesk.__file__)"], cwd=tmp_path,
                           env=env, capture_output=True, text=True, timeout=60)
    assert Path(where.stdout.strip()) == Path(modeldesk.__file__), "the subprocess must import the code under test"

    (tmp_path / "train.py").write_text(example, encoding="utf-8")
    proc = subprocess.run([sys.executable, "train.py"], cwd=tmp_path, env=env, capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "team.mdesk").is_file()

    script = Path(sys.executable).with_name("modeldesk")
    if not script.exists():
        pytest.skip(f"no `modeldesk` console script next to {sys.executable}: install the package "
                    "(`make test` or `pip install -e .`) to run the README's command line")
    args = shlex.split(command)
    assert args[0] == "modeldesk"
    proc = subprocess.run(args, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    header, row = proc.stdout.splitlines()[:2]
    assert header.split()[:2] == ["run_id", "run_name"] and "metrics.train_accuracy" in header
    assert row.split()[1:3] == ["rf-200", "cancer"] and row.split()[-1] == "1"    # a forest fits its training set
