"""Drift benchmark: 20 numeric + 5 categorical columns, reference/current at three sizes.

Targets: within 2x of the floor at each size, and 1,000,000/100,000 rows under 2 s
(Evidently 0.7 needs about 60 s for it on this kind of machine).

The floor, measured in the same run on the same arrays, is the work no drift
engine can skip: per numeric column scipy's ``wasserstein_distance`` and the
reference's std (the test the preset picks above 1,000 rows), per categorical
column pandas' ``value_counts`` of both frames, aligned, and scipy's
``jensenshannon``. Ours also infers types, drops NaN/inf and counts missing
values, checks for constants, new categories and too few rows, and computes
PSI beside every column. Peak memory is traced (tracemalloc) in a separate run
so tracing does not slow the timed one.
Run: make bench (or .venv/bin/python tests/benchmarks/bench_drift.py [--sizes 10000:10000 ...]).
"""

from __future__ import annotations

import argparse
import gc
import sys
import time
import tracemalloc

import numpy as np
import pandas as pd
from scipy.spatial.distance import jensenshannon
from scipy.stats import wasserstein_distance

from modeldesk.core.monitoring.drift import compare

NUMERIC, CATEGORICAL = 20, 5
SIZES = ((10_000, 10_000), (100_000, 100_000), (1_000_000, 100_000))
TARGET_RATIO = 2.0
TARGET_LARGEST_S = 2.0


def frame(rows: int, seed: int, shift: float) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    data = {f"num{i}": rng.normal(shift * (i % 2), 1 + i / 10, rows) for i in range(NUMERIC)}
    levels = np.array([f"level_{k}" for k in range(12)])
    for i in range(CATEGORICAL):
        p = np.linspace(1, 2 + i + 5 * shift, levels.size)
        data[f"cat{i}"] = levels[rng.choice(levels.size, rows, p=p / p.sum())]
    return pd.DataFrame(data)


def floor(ref: pd.DataFrame, cur: pd.DataFrame) -> None:
    for i in range(NUMERIC):
        a, b = ref[f"num{i}"].to_numpy(), cur[f"num{i}"].to_numpy()
        wasserstein_distance(a, b) / max(np.std(a), 0.001)
    for i in range(CATEGORICAL):
        rc, cc = ref[f"cat{i}"].value_counts(), cur[f"cat{i}"].value_counts()
        keys = rc.index.union(cc.index)
        jensenshannon(rc.reindex(keys, fill_value=0).to_numpy() / len(ref),
                      cc.reindex(keys, fill_value=0).to_numpy() / len(cur))


def ours(ref: pd.DataFrame, cur: pd.DataFrame) -> None:
    report = compare(ref, cur)
    assert report.tested == NUMERIC + CATEGORICAL


def best_time(fn, ref, cur, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        gc.collect()
        t = time.perf_counter()
        fn(ref, cur)
        times.append(time.perf_counter() - t)
    return min(times)


def peak_mib(fn, ref, cur) -> float:
    gc.collect()
    tracemalloc.start()
    fn(ref, cur)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak / 2**20


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", nargs="*", help="REFERENCE:CURRENT row counts, e.g. 10000:10000")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    sizes = [tuple(int(x) for x in s.split(":")) for s in args.sizes] if args.sizes else SIZES
    met = True
    for n_ref, n_cur in sizes:
        ref, cur = frame(n_ref, 1, 0.0), frame(n_cur, 2, 0.3)
        mib_in = (ref.memory_usage(deep=True).sum() + cur.memory_usage(deep=True).sum()) / 2**20
        ours(ref, cur)  # warm up imports and caches
        floor(ref, cur)
        t_floor = best_time(floor, ref, cur, args.repeat)
        t_ours = best_time(ours, ref, cur, args.repeat)
        m_floor, m_ours = peak_mib(floor, ref, cur), peak_mib(ours, ref, cur)
        ratio = t_ours / t_floor
        ok = ratio <= TARGET_RATIO and (n_ref < 1_000_000 or t_ours < TARGET_LARGEST_S)
        met &= ok
        target = f"< {TARGET_RATIO:g}x" + (f", < {TARGET_LARGEST_S:g} s" if n_ref >= 1_000_000 else "")
        print(f"  drift {n_ref:>9,}/{n_cur:<9,} {NUMERIC}+{CATEGORICAL} cols  ours {t_ours:6.3f} s  "
              f"floor {t_floor:6.3f} s  ratio {ratio:5.2f}x  peak {m_ours:6.1f} MiB (floor {m_floor:6.1f}, "
              f"data {mib_in:6.1f})  target {target}  {'OK' if ok else 'MISSED'}", flush=True)
    sys.exit(0 if met else 1)


if __name__ == "__main__":
    main()
