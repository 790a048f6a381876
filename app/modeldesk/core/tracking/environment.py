"""The environment a run was trained in: interpreter, platform, packages, git.

``capture_environment`` is called once per run; the package list and the git
state are cached per process, so later calls cost microseconds. Nothing here
raises: a missing git, a non-repository or a slow repository yields ``None``.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import platform
import re
import subprocess
import sys
from typing import Any

GIT_TIMEOUT = 3.0  # seconds per git call


def capture_environment(script_path: str | None = None) -> dict[str, Any]:
    """A JSON-ready description of this interpreter and the code's git state.

    Keys: ``python`` (version), ``implementation``, ``executable``,
    ``platform``, ``machine``, ``os``, ``os_release``, ``packages`` (sorted
    ``{normalised name: version}``) and ``git``: ``{"commit", "dirty",
    "branch", "root"}`` for the repository holding ``script_path`` (default:
    the running script, else the working directory), or ``None``. ``dirty``
    counts changes to tracked files only (untracked files, such as the
    project file a script writes, do not make a tree dirty). The result is a
    fresh dict; callers may change it.
    """
    env = dict(_static())
    env["packages"] = dict(_packages())
    git = _git_info(_script_dir(script_path))
    env["git"] = dict(git) if git is not None else None
    return env


def environment_json(env: dict[str, Any]) -> tuple[str, str]:
    """Canonical JSON of ``env`` (sorted keys, compact, ASCII) and its sha256 hex."""
    text = json.dumps(env, sort_keys=True, separators=(",", ":"), ensure_ascii=True,
                      allow_nan=False)
    return text, hashlib.sha256(text.encode("ascii")).hexdigest()


def clear_cache() -> None:
    """Forget the cached package list and git states (tests, long sessions)."""
    _static.cache_clear()
    _packages.cache_clear()
    _git_info.cache_clear()


@functools.lru_cache(maxsize=1)
def _static() -> dict[str, str]:
    return {
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "executable": sys.executable,
        "platform": platform.platform(),
        "machine": platform.machine(),
        "os": platform.system(),
        "os_release": platform.release(),
    }


def normalise_name(name: str) -> str:
    """PEP 503 normal form of a distribution name (``Scikit_Learn`` -> ``scikit-learn``)."""
    return re.sub(r"[-_.]+", "-", name).lower()


@functools.lru_cache(maxsize=1)
def _packages() -> dict[str, str]:
    from importlib import metadata

    found: dict[str, str] = {}
    try:
        dists = list(metadata.distributions())
    except Exception:  # a broken site-packages must not stop a run
        return {}
    for dist in dists:  # first on sys.path wins, as it would for import
        try:
            name = dist.metadata["Name"]
            version = dist.version
        except Exception:
            continue
        if name and version:
            found.setdefault(normalise_name(name), str(version))
    return dict(sorted(found.items()))


def _script_dir(script_path: str | None) -> str:
    if script_path is None:
        candidates = [sys.argv[0] if sys.argv else None,
                      getattr(sys.modules.get("__main__"), "__file__", None)]
        script_path = next((c for c in candidates if c and os.path.isfile(c)), None)
    if script_path is None:
        return os.getcwd()
    path = os.path.abspath(script_path)
    return path if os.path.isdir(path) else os.path.dirname(path)


def _git(directory: str, *args: str) -> str | None:
    env = dict(os.environ, GIT_OPTIONAL_LOCKS="0", GIT_TERMINAL_PROMPT="0", LC_ALL="C")
    try:
        done = subprocess.run(["git", "-C", directory, *args], capture_output=True,
                              text=True, timeout=GIT_TIMEOUT, env=env,
                              stdin=subprocess.DEVNULL)
    except (OSError, subprocess.SubprocessError, ValueError):
        return None
    return done.stdout if done.returncode == 0 else None


@functools.lru_cache(maxsize=64)
def _git_info(directory: str) -> dict[str, Any] | None:
    """Git state of ``directory``'s repository, or None. Never raises."""
    try:
        if not os.path.isdir(directory):
            return None
        root = _git(directory, "rev-parse", "--show-toplevel")
        if not root or not root.strip():
            return None
        info: dict[str, Any] = {"commit": None, "dirty": None, "branch": None,
                                "root": os.path.normpath(root.strip())}
        status = _git(directory, "status", "--porcelain=v2", "--branch",
                      "--untracked-files=no", "--ignore-submodules=dirty")
        if status is None:
            return info
        dirty = False
        for line in status.splitlines():
            if line.startswith("# branch.oid "):
                oid = line.split(" ", 2)[2].strip()
                info["commit"] = oid if re.fullmatch(r"[0-9a-f]{40,64}", oid) else None
            elif line.startswith("# branch.head "):
                head = line.split(" ", 2)[2].strip()
                info["branch"] = None if head == "(detached)" else head
            elif line and not line.startswith("#"):
                dirty = True
        info["dirty"] = dirty
        return info
    except Exception:
        return None
