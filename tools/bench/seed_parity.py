"""Seed parity (issue 15): the separation seed's network (models/vocal-mask.toml) trained with the
seed's own recipe by Keras and by soundcheck on the same examples and step count, each model then
separating the same held-out songs, scored with museval.

The seed's recipe: mono 22050 Hz, STFT n_fft 1024 / hop 256, magnitudes divided by the track's
mixture maximum, non-overlapping 25-frame patches, MSE between the network's output (mask ×
mixture) and the vocals' magnitude, Adam 1e-3, batch 16. Both frameworks get the same x.npy and
y.npy; Keras runs `fit`, soundcheck runs `soundcheck train --data ... --loss mse`. Separation is
the same code for both: predicted vocal magnitude over the mixture's, clipped to [0, 1], applied
to the mixture's STFT, back by iSTFT; the accompaniment is the mixture minus the vocals. Keras's
trained model is also saved as `seed.keras` and scored through `soundcheck predict --model`
(`keras_model_in_soundcheck`): the same model in the other engine; and through `soundcheck
separate --model seed.keras` (`keras_model_separate`): soundcheck's whole separation path.

Usage (songs from `soundcheck songs --sample-rate 22050`, a built binary):
    python tools/bench/seed_parity.py SONGS WORKDIR [--steps 455] [--seed 0] [--soundcheck target/release/soundcheck]
"""
import argparse
import glob
import json
import os
import subprocess
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "fixtures"))
import numpy as np  # noqa: E402
import librosa  # noqa: E402
import soundfile as sf  # noqa: E402
import museval  # noqa: E402
import keras  # noqa: E402
import tomllib  # noqa: E402
from keras_shapes import build  # noqa: E402

SR, N_FFT, HOP, PATCH, BATCH = 22050, 1024, 256, 25, 16
ROOT = os.path.join(os.path.dirname(__file__), "..", "..")


def load(song, stem):
    y, _ = librosa.load(os.path.join(song, f"{stem}.wav"), sr=SR, mono=True)
    return y


def track(song):
    """The mixture's STFT, the mixture's and the vocals' magnitudes over the track's mixture maximum."""
    mix = load(song, "mixture")
    z = librosa.stft(mix, n_fft=N_FFT, hop_length=HOP)
    m = np.abs(z)
    scale = max(float(m.max()), 1e-8)
    v = np.abs(librosa.stft(load(song, "vocals"), n_fft=N_FFT, hop_length=HOP))
    return mix, z, m / scale, v / scale


def patches(m):
    """Non-overlapping 25-frame patches `(n, 513, 25, 1)`, the last zero-padded."""
    frames = m.shape[1]
    n = -(-frames // PATCH)
    p = np.zeros((m.shape[0], n * PATCH), np.float32)
    p[:, :frames] = m
    return np.ascontiguousarray(p.reshape(m.shape[0], n, PATCH).transpose(1, 0, 2)[..., None])


def unpatch(p, frames):
    return p[..., 0].transpose(1, 0, 2).reshape(p.shape[1], -1)[:, :frames]


def separate(mix, z, m, est):
    mask = np.clip(est / np.maximum(m, 1e-8), 0.0, 1.0)
    vocals = librosa.istft(mask * z, hop_length=HOP, length=len(mix))
    return vocals, mix - vocals


def score(songs, predict):
    sdrs = {"vocals": [], "accompaniment": []}
    for song in songs:
        mix, z, m, _ = track(song)
        est = unpatch(predict(patches(m)), m.shape[1])
        vocals, acc = separate(mix, z, m, est)
        refs = np.stack([load(song, "vocals"), mix - load(song, "vocals")])[..., None]
        ests = np.stack([vocals, acc])[..., None]
        sdr, _, _, _ = museval.evaluate(refs, ests, win=SR, hop=SR)
        for k, name in enumerate(sdrs):
            sdrs[name].append(float(np.nanmedian(sdr[k])))
    return {k: float(np.median(v)) for k, v in sdrs.items()}, sdrs


def score_separate(songs, soundcheck, keras_file, work):
    """Keras's model file through `soundcheck separate --model` (the seed's settings are its
    defaults), each song's mono 22050 Hz mixture in, scored as `score` scores."""
    sdrs = {"vocals": [], "accompaniment": []}
    for song in songs:
        mix = load(song, "mixture")
        name = os.path.basename(song)
        inp = os.path.join(work, "separate-in", f"{name}.wav")
        os.makedirs(os.path.dirname(inp), exist_ok=True)
        sf.write(inp, mix, SR, subtype="FLOAT")
        out = os.path.join(work, "separate-out")
        subprocess.run([soundcheck, "separate", inp, "--model", keras_file, "-o", out],
                       check=True, stdout=subprocess.DEVNULL)
        vocals, _ = sf.read(os.path.join(out, name, "vocals.wav"), dtype="float32")
        refs = np.stack([load(song, "vocals"), mix - load(song, "vocals")])[..., None]
        ests = np.stack([vocals, mix - vocals])[..., None]
        sdr, _, _, _ = museval.evaluate(refs, ests, win=SR, hop=SR)
        for k, key in enumerate(sdrs):
            sdrs[key].append(float(np.nanmedian(sdr[k])))
    return {k: float(np.median(v)) for k, v in sdrs.items()}, sdrs


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("songs")
    ap.add_argument("work")
    ap.add_argument("--steps", type=int, default=455)
    ap.add_argument("--seed", type=int, default=0, help="initial weights and shuffles, both sides")
    ap.add_argument("--soundcheck", default=os.path.join(ROOT, "target", "release", "soundcheck"))
    a = ap.parse_args()
    os.makedirs(a.work, exist_ok=True)
    train = sorted(glob.glob(os.path.join(a.songs, "train", "*")))
    test = sorted(glob.glob(os.path.join(a.songs, "test", "*")))
    xs, ys = [], []
    for song in train:
        _, _, m, v = track(song)
        xs.append(patches(m))
        ys.append(patches(v))
    x, y = np.concatenate(xs), np.concatenate(ys)
    data = os.path.join(a.work, "data")
    os.makedirs(data, exist_ok=True)
    np.save(os.path.join(data, "x.npy"), x)
    np.save(os.path.join(data, "y.npy"), y)
    steps_per_epoch = -(-len(x) // BATCH)
    epochs = max(1, round(a.steps / steps_per_epoch))
    print(f"{len(x)} patches from {len(train)} songs: {epochs} epochs of {steps_per_epoch} steps", file=sys.stderr)

    keras.utils.set_random_seed(a.seed)
    spec_path = os.path.join(ROOT, "models", "vocal-mask.toml")
    spec = tomllib.load(open(spec_path, "rb"))
    model, _ = build(spec)
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss="mse")
    t = time.perf_counter()
    model.fit(x, y, batch_size=BATCH, epochs=epochs, shuffle=True, verbose=0)
    keras_s = time.perf_counter() - t
    keras_scores, keras_songs = score(test, lambda p: model.predict(p, batch_size=32, verbose=0))
    # Keras's trained model as a user hands it over: a .keras file, run by soundcheck.
    keras_file = os.path.join(a.work, "seed.keras")
    model.save(keras_file)

    run = os.path.join(a.work, "run")
    t = time.perf_counter()
    subprocess.run([a.soundcheck, "train", "--model", spec_path, "--data", data, "--loss", "mse",
                    "--epochs", str(epochs), "--batch-size", str(BATCH), "--optimizer", "adam",
                    "--learning-rate", "0.001", "--seed", str(a.seed), "--out", run], check=True, stdout=subprocess.DEVNULL)
    sc_s = time.perf_counter() - t

    def sc_predict(model_args):
        def predict(p):
            inp, out = os.path.join(a.work, "p.npy"), os.path.join(a.work, "o.npy")
            np.save(inp, p)
            if os.path.exists(out):
                os.remove(out)
            subprocess.run([a.soundcheck, "predict", *model_args, inp, "-o", out], check=True,
                           stdout=subprocess.DEVNULL)
            return np.load(out)
        return predict

    sc_scores, sc_songs = score(test, sc_predict(["--run", run]))
    kf_scores, kf_songs = score(test, sc_predict(["--model", keras_file]))
    sep_scores, sep_songs = score_separate(test, a.soundcheck, keras_file, a.work)
    result = {
        "seed": a.seed, "patches": len(x), "epochs": epochs, "steps": epochs * steps_per_epoch,
        "keras": {"version": keras.__version__, "train_s": round(keras_s, 1), "median": keras_scores, "per_song": keras_songs},
        "soundcheck": {"train_s": round(sc_s, 1), "median": sc_scores, "per_song": sc_songs},
        "keras_model_in_soundcheck": {"median": kf_scores, "per_song": kf_songs},
        "keras_model_separate": {"median": sep_scores, "per_song": sep_songs},
    }
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
