"""Audit report of a version with 1,000,000 logged predictions: PDF and HTML, wall time and file size.

Targets (issue 12): each export under 3 s and each file under 2 MB (Evidently's drift HTML alone is
about 5 MB). Measured after the drift windows are stored (the Monitoring view, or the first report,
computes them once: ``drift_windows`` first time is bench_drift_windows' figure, printed here too).
The report still recomputes realised performance over every labeled window (nothing stores it).

The floor, measured in the same run, is gathering the report's content in core (``version_report``):
what every export must do before drawing a chart or laying out a page.
Setup (the project of bench_drift_windows: fitting, logging, labels) is not timed.
Run: make bench (or .venv/bin/python tests/benchmarks/bench_reports.py [--rows N]).
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

from bench_drift_windows import DAYS, build, timed

TARGET_S, TARGET_MB = 3.0, 2.0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    args = parser.parse_args()
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        md, uri, labeled = build(Path(tmp) / "bench.mdesk", args.rows)
        print(f"setup: {args.rows:,} predictions over {DAYS} days, {labeled:,} labeled, "
              f"in {time.perf_counter() - t0:.1f} s (not timed below)")
        from modeldesk.core.reports.version import version_report
        from modeldesk.gui.reports.export import ensure_app, export_report

        ensure_app()
        project = md.get_project()
        cold, _ = timed(lambda: export_report(project, uri, Path(tmp) / "cold.pdf"))
        floor, report = timed(lambda: version_report(project, uri))
        assert report.meta["version"] == 1
        results = []
        for name in ("report.pdf", "report.html"):
            seconds, done = timed(lambda: export_report(project, uri, Path(tmp) / name))
            results.append((name, seconds, done.size, done.pages))
        print(f"{'first export (computes drift windows)':<40} {cold:7.3f} s")
        missed = False
        for name, seconds, size, pages in results:
            mb = size / 1e6
            ok = seconds < TARGET_S and mb < TARGET_MB
            missed |= not ok
            extra = f", {pages} pages" if pages else ""
            print(f"{name + extra:<40} {seconds:7.3f} s   floor {floor:7.3f} s   ratio {seconds / floor:5.2f}x"
                  f"   {mb:5.2f} MB   target < {TARGET_S:g} s, < {TARGET_MB:g} MB: {'ok' if ok else 'MISSED'}")
        print("  (floor: version_report, the content gathered in core, with the drift windows stored)")
        project.close()
    return 1 if missed and args.rows >= 1_000_000 else 0


if __name__ == "__main__":
    raise SystemExit(main())
