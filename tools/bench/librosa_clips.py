"""librosa + numpy's side of the clip-features benchmark: the same clips (target/bench-clips,
written by `cargo bench -p soundcheck-tasks --bench clip_features`), librosa.load(sr=22050) →
librosa.feature.mfcc(n_mfcc=13).T, then per-feature standardisation and
keras-style pre-padding to the 95th-percentile length with numpy. One process, as users run it."""
import glob
import os
import statistics
import time

import librosa
import numpy as np

root = os.path.join(os.path.dirname(__file__), "..", "..", "target", "bench-clips")
files = sorted(glob.glob(os.path.join(root, "*", "*.wav")))
times = []
for _ in range(5):
    t = time.perf_counter()
    seqs = [librosa.feature.mfcc(y=librosa.load(f, sr=22050)[0], sr=22050, n_mfcc=13).T for f in files]
    frames = np.concatenate(seqs)
    mean, std = frames.mean(0), frames.std(0)
    maxlen = int(np.ceil(np.percentile([len(s) for s in seqs], 95)))
    out = np.zeros((len(seqs), maxlen, 13), np.float32)
    for i, s in enumerate(seqs):
        s = ((s - mean) / std)[-maxlen:]
        out[i, maxlen - len(s):] = s
    times.append(time.perf_counter() - t)
m = statistics.median(times)
print(f"librosa {librosa.__version__} + numpy clip features: {len(files)} clips in {m:.3f} s (median of 5) = {len(files) / m:.0f} clips/s")
