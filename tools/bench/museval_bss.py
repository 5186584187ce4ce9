"""museval's side of the BSS Eval benchmark: v4 metrics of 30 s of 4 stereo sources at 44.1 kHz,
1 s windows and hop, filters over the whole track (as museval.evaluate does)."""
import statistics
import time
from importlib.metadata import version

import numpy as np
import museval

nsrc, nchan, sr, seconds = 4, 2, 44100, 30
rng = np.random.default_rng(0)
refs = rng.uniform(-0.5, 0.5, size=(nsrc, sr * seconds, nchan))
ests = 0.8 * refs + 0.1 * np.roll(refs, -1, axis=0) + 0.02 * rng.uniform(-0.5, 0.5, size=refs.shape)
times = []
for _ in range(3):
    t = time.perf_counter()
    museval.metrics.bss_eval(refs, ests, window=sr, hop=sr, compute_permutation=False, filters_len=512,
                             framewise_filters=False, bsseval_sources_version=False)
    times.append(time.perf_counter() - t)
print(f"museval {version('museval')} (numpy {np.__version__}) bss_eval v4, {nsrc} sources × {nchan} channels × "
      f"{seconds} s at {sr} Hz: median {statistics.median(times):.2f} s")
