"""Time Keras building (and count_params of) the spec the Rust bench wrote, for the ratio in
BENCHMARKS.md. Usage: keras_build.py SPEC.json"""
import json
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "fixtures"))
from keras_shapes import build  # noqa: E402

spec = json.load(open(sys.argv[1]))
times = []
for _ in range(5):
    t = time.perf_counter()
    model, _ = build(spec)
    model.count_params()
    times.append((time.perf_counter() - t) * 1e3)
print(f"Keras build+count_params, {len(spec['layers'])} layers: median {statistics.median(times):.1f} ms (5 runs)")
