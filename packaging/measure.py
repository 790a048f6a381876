"""What `make package` prints after a build: the folder's size and the start-up times.

    python packaging/measure.py dist/ModelDesk

- size: every file under the folder (what a user downloads, unpacked);
- `ModelDesk --version`: median of 3 runs, wall clock (the frozen interpreter
  unpacking its archive and importing the CLI);
- first window: `ModelDesk ui` on an empty settings folder until the main window
  first paints (MODELDESK_STARTUP_PROBE, as in tests/benchmarks/bench_gui.py),
  under xvfb-run when there is no display and xvfb-run is installed; skipped,
  saying why, otherwise.
Exits 1 if the binary does not start.
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def folder_size(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file() and not p.is_symlink())


def timed(command: list[str], env: dict, timeout: float = 120.0) -> tuple[float, subprocess.CompletedProcess]:
    start = time.perf_counter()
    result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=timeout)
    return time.perf_counter() - start, result


def first_window_s(binary: Path, env: dict) -> tuple[float | None, str]:
    """Seconds from starting `ModelDesk ui` to the first painted main window, or (None, why not)."""
    prefix: list[str] = []
    if not (env.get("DISPLAY") or env.get("WAYLAND_DISPLAY")):
        if not shutil.which("xvfb-run"):
            return None, "no display and no xvfb-run (apt-get install xvfb xauth)"
        prefix = ["xvfb-run", "-a", "-s", "-screen 0 1280x800x24"]
    with tempfile.TemporaryDirectory(prefix="modeldesk-startup-") as tmp:
        probe = Path(tmp) / "painted"
        run_env = dict(env, MODELDESK_STARTUP_PROBE=str(probe), XDG_CONFIG_HOME=tmp, HOME=tmp)
        run_env.pop("QT_QPA_PLATFORM", None)   # the real xcb plugin: what a user's desktop loads
        start = time.time()
        result = subprocess.run(prefix + [str(binary), "ui"], env=run_env, capture_output=True, text=True,
                                timeout=120)
        if not probe.exists():
            return None, f"the window did not show (exit {result.returncode}): {result.stderr.strip()[-400:]}"
        # xvfb-run's own start (~0.1-1 s) is inside this figure: an upper bound.
        return float(probe.read_text()) - start, "under xvfb-run" if prefix else "on this display"


def main(argv: list[str]) -> int:
    folder = Path(argv[1] if len(argv) > 1 else "dist/ModelDesk")
    binary = folder / ("ModelDesk.exe" if sys.platform == "win32" else "ModelDesk")
    if not binary.exists():
        print(f"{binary} does not exist: build it with `make package`", file=sys.stderr)
        return 1
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "VIRTUAL_ENV"))}
    size = folder_size(folder)
    files = sum(1 for p in folder.rglob("*") if p.is_file())
    print(f"size: {size / 1e6:.0f} MB in {files} files ({folder})")
    times = []
    for _ in range(3):
        elapsed, result = timed([str(binary), "--version"], env)
        if result.returncode != 0:
            print(f"`{binary} --version` failed (exit {result.returncode}): {result.stderr.strip()}", file=sys.stderr)
            return 1
        times.append(elapsed)
    print(f"start-up, `ModelDesk --version`: {statistics.median(times):.2f} s (median of 3; first "
          f"{times[0]:.2f} s) -> {result.stdout.strip().splitlines()[0]}")
    seconds, how = first_window_s(binary, env)
    if seconds is None:
        print(f"start-up to the first window: not measured: {how}")
    else:
        print(f"start-up to the first window: {seconds:.2f} s ({how}, a new user's empty settings)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
