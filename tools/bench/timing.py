"""The Python benches' one timing rule: the median wall time of `runs` calls, optionally after one
untimed warm-up call (caches, plans, imports)."""

import statistics
import time


def med(f, runs=9, warm_up=False):
    if warm_up:
        f()
    ts = []
    for _ in range(runs):
        t = time.perf_counter()
        f()
        ts.append(time.perf_counter() - t)
    return statistics.median(ts)
