"""librosa's side of the descriptor benchmark, on the file the Rust chain bench wrote.
Usage: librosa_descriptors.py DATA_DIR"""
import os
import sys

import librosa
import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from timing import med  # noqa: E402


y, sr = librosa.load(os.path.join(sys.argv[1], "long_10min_44k_stereo.wav"))
rows = [
    ("rms", lambda: librosa.feature.rms(y=y)),
    ("zero_crossing_rate", lambda: librosa.feature.zero_crossing_rate(y)),
    ("spectral_centroid", lambda: librosa.feature.spectral_centroid(y=y, sr=sr)),
    ("spectral_bandwidth", lambda: librosa.feature.spectral_bandwidth(y=y, sr=sr)),
    ("spectral_rolloff", lambda: librosa.feature.spectral_rolloff(y=y, sr=sr)),
    ("spectral_flatness", lambda: librosa.feature.spectral_flatness(y=y)),
    ("spectral_contrast", lambda: librosa.feature.spectral_contrast(y=y, sr=sr)),
    ("chroma_stft", lambda: librosa.feature.chroma_stft(y=y, sr=sr)),
    ("onset_strength", lambda: librosa.onset.onset_strength(y=y, sr=sr)),
    ("cqt", lambda: librosa.cqt(y, sr=sr)),
    ("chroma_cqt", lambda: librosa.feature.chroma_cqt(y=y, sr=sr)),
    ("tonnetz", lambda: librosa.feature.tonnetz(y=y, sr=sr)),
]
for _, f in rows:
    f()
print(f"librosa {librosa.__version__} (numpy {np.__version__}), 10 min at 22050 Hz mono, each from y, median of 9:")
for name, f in rows:
    print(f"  {name:<24} {med(f) * 1e3:>8.1f} ms")
