"""The Python package beside the libraries it stands in for, in one process, one run:

- the MFCC chain `load(22050, mono) → feature.mfcc(y)` on a 10-minute 44.1 kHz stereo WAV,
  soundcheck vs librosa (goal ≥ 5×);
- `evaluate` on 4 stereo sources × 30 s at 44.1 kHz, soundcheck vs museval (goal ≥ 20×);
- checking the seed's residual mask net (models/vocal-mask.toml) vs building it in Keras
  (goal ≥ 100×), and checking a live Keras model object (its `to_json()` included).

Run in a venv with the package and the references:
  pip install ./crates/soundcheck-py -r tools/fixtures/requirements.txt
  python tools/bench/python_api.py [WORK_DIR]
(museval imports stempeg, which looks for ffmpeg on PATH at import; it is not used here.)
"""

import os
import platform
import sys
import tempfile
import time
import tomllib
from importlib.metadata import version

import numpy as np
import soundfile as sf

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
sys.path.insert(0, os.path.join(ROOT, "tools", "fixtures"))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from timing import med  # noqa: E402


def row(what, ours, theirs, ref):
    print(f"| {what} | {ours * 1e3:.1f} ms | {theirs * 1e3:.1f} ms | {theirs / ours:.1f}× | {ref} |")


def long_file(folder):
    """10 minutes of 16-bit stereo at 44.1 kHz: harmonics with vibrato and noise."""
    path = os.path.join(folder, "long_10min_44k_stereo.wav")
    if not os.path.exists(path):
        sr, n = 44100, 44100 * 600
        t = np.arange(n) / sr
        rng = np.random.default_rng(0)
        left = 0.3 * np.sin(2 * np.pi * 220 * t + 3 * np.sin(2 * np.pi * 5 * t)) + 0.05 * rng.standard_normal(n)
        right = 0.3 * np.sin(2 * np.pi * 330 * t) + 0.05 * rng.standard_normal(n)
        sf.write(path, np.stack([left, right], axis=1), sr, subtype="PCM_16")
    return path


def main():
    import librosa
    import museval
    import keras
    from keras_shapes import build

    import soundcheck as sc

    work = sys.argv[1] if len(sys.argv) > 1 else tempfile.mkdtemp(prefix="soundcheck-bench-")
    os.makedirs(work, exist_ok=True)
    print(f"{time.strftime('%Y-%m-%d')}, {platform.processor() or platform.machine()}, {os.cpu_count()} cores; "
          f"soundcheck {version('soundcheck')}, librosa {version('librosa')}, museval {version('museval')}, "
          f"keras {version('keras')}, numpy {np.__version__}\n")
    print("| task | soundcheck | reference | speed-up | reference call |")
    print("|---|---|---|---|---|")

    path = long_file(work)

    def mfcc_with(lib):
        def chain():
            y, sr = lib.load(path)
            return lib.feature.mfcc(y=y, sr=sr)
        return chain

    ours = mfcc_with(sc)()
    theirs = mfcc_with(librosa)()
    assert ours.shape == theirs.shape
    row("MFCC chain, 10 min 44.1 kHz stereo", med(mfcc_with(sc), 5, warm_up=True), med(mfcc_with(librosa), 5, warm_up=True),
        "librosa.load + librosa.feature.mfcc")

    nsrc, nchan, sr, seconds = 4, 2, 44100, 30
    rng = np.random.default_rng(0)
    refs = rng.uniform(-0.5, 0.5, size=(nsrc, sr * seconds, nchan))
    ests = 0.8 * refs + 0.1 * np.roll(refs, -1, axis=0) + 0.02 * rng.uniform(-0.5, 0.5, size=refs.shape)
    a = sc.evaluate(refs, ests, win=sr, hop=sr)
    b = museval.evaluate(refs, ests, win=sr, hop=sr)
    worst = max(float(np.nanmax(np.abs(x - y))) for x, y in zip(a, b))
    assert worst < 0.01, f"evaluate differs from museval by {worst} dB"
    row("evaluate, 4 stereo sources × 30 s", med(lambda: sc.evaluate(refs, ests, win=sr, hop=sr), 3, warm_up=True),
        med(lambda: museval.evaluate(refs, ests, win=sr, hop=sr), 3, warm_up=True), "museval.evaluate")

    spec_path = os.path.join(ROOT, "models", "vocal-mask.toml")
    with open(spec_path, "rb") as f:
        spec = tomllib.load(f)
    model, _ = build(spec)
    x = np.zeros((16, 513, 25, 1), np.float32)
    assert sc.check(spec_path, x, x).ok
    assert sc.check(model, x, x).total_params == model.count_params()
    keras_build = med(lambda: build(spec)[0].count_params(), 5, warm_up=True)
    row("check the seed mask net (spec file, x, y)", med(lambda: sc.check(spec_path, x, x), 50, warm_up=True), keras_build,
        "building it in Keras + count_params")
    row("check a live Keras model object (to_json included)", med(lambda: sc.check(model, x, x), 20, warm_up=True), keras_build,
        "building it in Keras + count_params")
    print(f"\nOf the last row, Keras's own model.to_json() takes {med(model.to_json, 20, warm_up=True) * 1e3:.1f} ms "
          f"(keras backend: {keras.backend.backend()}).")


if __name__ == "__main__":
    main()
