"""librosa's side of the front-end benchmark, on the files the Rust bench wrote.
Usage: librosa_chain.py DATA_DIR"""
import glob
import os
import sys

import numpy as np
import librosa

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from timing import med  # noqa: E402


d = sys.argv[1]
long = os.path.join(d, "long_10min_44k_stereo.wav")


def shared():
    y, sr = librosa.load(long)
    S = np.abs(librosa.stft(y)) ** 2
    return librosa.feature.mfcc(S=librosa.power_to_db(librosa.feature.melspectrogram(S=S, sr=sr)))


def independent():
    y, sr = librosa.load(long)
    return librosa.feature.mfcc(y=y, sr=sr)


# The chains first (after one warm-up call each), in a process that holds nothing else, as the
# Rust side does; the step rows below keep the intermediate arrays alive.
shared()
independent()
chains = [("chain, shared STFT: load → stft → mel → mfcc", med(shared)),
          ("chain, independent calls: load, then feature.mfcc(y)", med(independent))]
y, sr = librosa.load(long)
S = librosa.stft(y)
P = np.abs(S) ** 2
M = librosa.feature.melspectrogram(S=P, sr=sr)
frames = librosa.util.frame(np.pad(y, 1024), frame_length=2048, hop_length=512)
mono = librosa.to_mono(librosa.load(long, sr=None, mono=False)[0])
rows = [
    ("load (decode + mono + resample to 22050)", med(lambda: librosa.load(long))),
    ("resample 44100 → 22050 (10 min, mono)", med(lambda: librosa.resample(mono, orig_sr=44100, target_sr=22050))),
    ("resample 16000 → 22050 (the same samples)", med(lambda: librosa.resample(mono, orig_sr=16000, target_sr=22050))),
    ("stft (n_fft 2048, hop 512)", med(lambda: librosa.stft(y))),
    ("bare FFT of the same frames", med(lambda: np.fft.rfft(frames, axis=0))),
    ("power + mel (128)", med(lambda: librosa.feature.melspectrogram(S=np.abs(S) ** 2, sr=sr))),
    ("power_to_db + mfcc (20)", med(lambda: librosa.feature.mfcc(S=librosa.power_to_db(M)))),
]

clips = sorted(glob.glob(os.path.join(d, "clips", "*.wav")))


def loop():
    for c in clips:
        yc, src = librosa.load(c)
        librosa.feature.mfcc(y=yc, sr=src)


rows += chains + [(f"{len(clips)} clips (1–1.5 s, 16 kHz): load(22050) + mfcc, a loop", med(loop, 3))]
print(f"librosa {librosa.__version__} (numpy {np.__version__}), median of 9 (3 for the clips):")
for name, t in rows:
    print(f"  {name:<56} {t * 1e3:>8.1f} ms")
