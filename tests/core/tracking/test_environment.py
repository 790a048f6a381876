"""modeldesk.core.tracking.environment: interpreter, packages and git state of a run."""

from __future__ import annotations

import json
import os
import platform
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from modeldesk.core.tracking import environment
from modeldesk.core.tracking.environment import capture_environment, environment_json, normalise_name

needs_git = pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")


@pytest.fixture(autouse=True)
def fresh_cache():
    environment.clear_cache()
    yield
    environment.clear_cache()


def git(repo: Path, *args: str) -> str:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    env.update(GIT_CONFIG_NOSYSTEM="1", HOME=str(repo))
    return subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True,
                          text=True, env=env).stdout.strip()


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "proj"
    root.mkdir()
    git(root, "init", "-q", "-b", "trunk")
    git(root, "config", "user.name", "Test User")
    git(root, "config", "user.email", "test@example.com")
    git(root, "config", "commit.gpgsign", "false")
    (root / "src").mkdir()
    (root / "src" / "train.py").write_text("print('train')\n")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "first")
    return root


def test_interpreter_and_platform_fields():
    env = capture_environment(__file__)
    assert env["python"] == platform.python_version()
    assert env["implementation"] == platform.python_implementation()
    assert env["executable"] == sys.executable
    assert env["machine"] == platform.machine() and env["os"] == platform.system()
    assert env["platform"]


def test_packages_are_sorted_normalised_and_real():
    import numpy
    import pandas

    packages = capture_environment(__file__)["packages"]
    assert list(packages) == sorted(packages)
    assert packages["pandas"] == pandas.__version__
    assert packages["numpy"] == numpy.__version__
    assert "scikit-learn" in packages
    assert all(name == normalise_name(name) for name in packages)
    assert normalise_name("Scikit_Learn") == "scikit-learn"
    assert normalise_name("zope.interface") == "zope-interface"


@needs_git
def test_git_commit_and_dirty_flag(repo: Path):
    script = repo / "src" / "train.py"
    head = git(repo, "rev-parse", "HEAD")
    info = capture_environment(str(script))["git"]
    assert info == {"commit": head, "dirty": False, "branch": "trunk",
                    "root": os.path.realpath(repo)}

    script.write_text("print('changed')\n")
    environment.clear_cache()
    assert capture_environment(str(script))["git"]["dirty"] is True

    git(repo, "commit", "-qam", "second")
    environment.clear_cache()
    info = capture_environment(str(script))["git"]
    assert info["dirty"] is False and info["commit"] == git(repo, "rev-parse", "HEAD") != head

    (repo / "untracked.mdesk").write_text("x")  # e.g. the project file a script writes
    environment.clear_cache()
    assert capture_environment(str(script))["git"]["dirty"] is False

    git(repo, "checkout", "-q", "--detach")
    environment.clear_cache()
    assert capture_environment(str(repo))["git"]["branch"] is None


@needs_git
def test_git_in_a_repository_without_commits(tmp_path: Path):
    git(tmp_path, "init", "-q")
    info = capture_environment(str(tmp_path))["git"]
    assert info["commit"] is None and info["root"] == os.path.realpath(tmp_path)


def test_not_a_repository_gives_none(tmp_path: Path, monkeypatch):
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path.parent))
    (tmp_path / "s.py").write_text("")
    assert capture_environment(str(tmp_path / "s.py"))["git"] is None


def test_git_missing_never_raises(tmp_path: Path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))  # no git on PATH
    env = capture_environment(str(tmp_path))
    assert env["git"] is None and env["packages"]


def test_default_script_is_argv0_or_cwd(tmp_path: Path, monkeypatch):
    monkeypatch.setattr(sys, "argv", ["<stdin>"])
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path.parent))
    import __main__
    monkeypatch.delattr(__main__, "__file__", raising=False)
    assert environment._script_dir(None) == os.getcwd()
    script = tmp_path / "run.py"
    script.write_text("")
    monkeypatch.setattr(sys, "argv", [str(script)])
    assert environment._script_dir(None) == str(tmp_path)


def test_second_call_is_cached(tmp_path: Path, monkeypatch):
    first = capture_environment(__file__)

    def no_more_scans(*args, **kwargs):
        raise AssertionError("packages and git are read once per process")

    import importlib.metadata

    monkeypatch.setattr(importlib.metadata, "distributions", no_more_scans)
    monkeypatch.setattr(environment.subprocess, "run", no_more_scans)
    second = capture_environment(__file__)
    assert second == first
    second["packages"]["mutated"] = "1"  # callers get their own copy
    assert "mutated" not in capture_environment(__file__)["packages"]


def test_environment_json_is_canonical_and_hash_dedupes():
    env = capture_environment(__file__)
    text, digest = environment_json(env)
    assert json.loads(text) == env
    assert ", " not in text[:200] and ": " not in text[:200]
    shuffled = dict(reversed(list(env.items())))
    assert environment_json(shuffled) == (text, digest)
    assert len(digest) == 64
    other = dict(env, python="0.0.0")
    assert environment_json(other)[1] != digest
