"""Bad input gets a SoundcheckError (a ValueError) naming what is wrong, never a crash of the
interpreter, a silent wrong answer or an overwritten file."""

import zipfile

import numpy as np
import pytest

import soundcheck as sc

Y = np.sin(np.arange(22050, dtype=np.float32) * 0.05)


@pytest.mark.parametrize(
    "call, says",
    [
        (lambda: sc.stft(Y, n_fft=0), "n_fft=0"),
        (lambda: sc.stft(Y, n_fft=1 << 30), "n_fft"),
        (lambda: sc.stft(Y, hop_length=0), "hop_length"),
        (lambda: sc.stft(Y, win_length=4096), "win_length"),
        (lambda: sc.stft(Y, window=np.ones(100)), "window size mismatch: 100 != 2048"),
        (lambda: sc.stft(Y, window=object()), "invalid window specification"),
        (lambda: sc.stft(Y, n_fft=-1), "n_fft=-1"),
        (lambda: sc.stft(Y, hop_length=-512), "hop_length=-512"),
        (lambda: sc.stft(Y, n_fft=np.ones(3)), "n_fft=<array of shape (3,)>"),
        (lambda: sc.feature.spectral_centroid(y=Y, freq=np.ones(10)), "freq has shape (10,)"),
        (lambda: sc.feature.chroma_stft(y=Y, norm=np.ones(3)), "norm=<array of shape (3,)>"),
        (lambda: sc.filters.mel(sr=-22050, n_fft=2048), "sr=-22050"),
        (lambda: sc.evaluate(np.ones((1, 100, 1)), np.ones((1, 100, 1)), win=-1, hop=10), "win=-1"),
        (lambda: sc.stft(Y, pad_mode="edge"), "pad_mode"),
        (lambda: sc.stft(np.arange(100)), "dtype int64"),
        (lambda: sc.stft(np.float32(1.0)), "scalar"),
        (lambda: sc.stft(np.array([0.0, np.nan] * 2000, np.float32)), "finite"),
        (lambda: sc.istft(sc.stft(Y), n_fft=1000), "n_fft"),
        (lambda: sc.power_to_db(np.ones(10), amin=0.0), "amin"),
        (lambda: sc.power_to_db(np.ones(10), top_db=-1.0), "top_db"),
        (lambda: sc.resample(Y, orig_sr=0, target_sr=16000), "orig_sr"),
        (lambda: sc.resample(Y, orig_sr=22050, target_sr=16000, res_type="kaiser_worst"), "res_type"),
        (lambda: sc.filters.mel(sr=22050, n_fft=2048, n_mels=10**12), "fits in memory"),
        (lambda: sc.istft(sc.stft(Y), length=10**12), "length"),
        (lambda: sc.resample(np.array([0.0, np.nan] * 100, np.float32), orig_sr=22050, target_sr=16000), "finite"),
        (lambda: sc.feature.melspectrogram(y=Y, power=0.0), "power"),
        (lambda: sc.feature.mfcc(y=Y, dct_type=5), "dct_type=5"),
        (lambda: sc.feature.mfcc(y=Y, lifter=-1), "lifter"),
        (lambda: sc.feature.delta(np.ones((4, 5), np.float32)), "width"),
        (lambda: sc.feature.delta(np.ones((4, 50), np.float32), width=4), "width"),
        (lambda: sc.feature.spectral_rolloff(y=Y, roll_percent=1.5), "roll_percent"),
        (lambda: sc.feature.melspectrogram(y=Y, S=np.ones((1025, 3))), "exactly one"),
        (lambda: sc.feature.zero_crossing_rate(Y, threshold=0.1), "threshold"),
        (lambda: sc.feature.spectral_contrast(y=Y, n_bands=0), "n_bands"),
        (lambda: sc.feature.spectral_contrast(y=Y, n_bands=7), "nyquist"),
        (lambda: sc.feature.spectral_contrast(y=Y, quantile=1.5), "quantile"),
        (lambda: sc.feature.spectral_contrast(y=Y, fmin=-5.0), "fmin"),
        (lambda: sc.onset.onset_strength(y=Y, lag=0), "lag"),
        (lambda: sc.feature.chroma_stft(y=Y, n_chroma=0), "n_chroma"),
        (lambda: sc.feature.chroma_stft(y=Y, n_chroma=10**9), "n_chroma"),
        (lambda: sc.onset.onset_strength(y=Y, lag=10**12), "lag"),
        (lambda: sc.feature.chroma_stft(y=Y, norm=2), "norm"),
        (lambda: sc.feature.chroma_stft(y=Y, tuning=float("nan")), "tuning"),
        (lambda: sc.estimate_tuning(y=Y, bins_per_octave=0), "bins_per_octave"),
        (lambda: sc.onset.onset_strength(y=Y, max_size=0), "max_size"),
        (lambda: sc.onset.onset_strength(y=Y, aggregate="median"), "aggregate"),
        (lambda: sc.evaluate(np.ones((2, 100, 1)), np.ones((3, 100, 1)), win=10, hop=10), "differ"),
        (lambda: sc.evaluate(np.ones((1, 100, 1)), np.ones((1, 100, 1)), win=0, hop=10), "window"),
        (lambda: sc.evaluate(np.ones((1, 100, 1)), np.ones((1, 100, 1)), mode="v3"), "mode"),
        (lambda: sc.check(42), "expected a Keras model"),
        (lambda: sc.check({"input_shape": [10], "layers": []}, x="abc"), "x is a str, not an array"),
        (lambda: sc.stft(np.zeros(0, np.float32)), "empty"),
        (lambda: sc.stft(np.zeros((2, 0), np.float32)), "empty"),
        (lambda: sc.feature.melspectrogram(S=np.zeros((0, 5), np.float32)), "S has 0 frequency bin(s)"),
        (lambda: sc.istft(np.zeros((1, 4), np.complex64)), "stft_matrix has 1 frequency bin(s)"),
        (lambda: sc.check("model.h5"), "model.h5: cannot open the file"),
        (lambda: sc.check("model.pt"), "unknown model file type"),
        (lambda: sc.check({"input_shape": [10], "layers": []}, x=(-1, 10)), "negative"),
    ],
)
def test_bad_arguments_name_themselves(call, says):
    with pytest.raises(ValueError) as e:
        call()
    assert isinstance(e.value, sc.SoundcheckError)
    assert says.lower() in str(e.value).lower(), str(e.value)


def test_files_that_are_not_audio_or_not_models(tmp_path):
    text = tmp_path / "notes.wav"
    text.write_text("not audio")
    with pytest.raises(sc.SoundcheckError, match="notes.wav"):
        sc.load(text)
    with pytest.raises(sc.SoundcheckError, match="missing.flac"):
        sc.load(tmp_path / "missing.flac")
    broken = tmp_path / "broken.keras"
    broken.write_bytes(b"PK\x03\x04 truncated")
    with pytest.raises(sc.SoundcheckError, match="broken.keras"):
        sc.check(broken)
    empty = tmp_path / "empty.keras"
    with zipfile.ZipFile(empty, "w") as z:
        z.writestr("metadata.json", "{}")
    with pytest.raises(sc.SoundcheckError, match="config.json"):
        sc.check(empty)
    garbage = tmp_path / "garbage.json"
    garbage.write_text("{not json")
    report = sc.check(garbage)
    assert not report.ok and "garbage.json" in str(report)


def test_an_unusable_spec_is_a_report_not_an_exception():
    for units in (0, -3, "8", None):
        report = sc.check({"input_shape": [10], "layers": [{"type": "Dense", "units": units}]})
        assert not report.ok
        assert report.error.kind == "invalid_spec"
        assert "units" in str(report)
    with pytest.raises(sc.ShapeError, match="units"):
        sc.check({"input_shape": [10], "layers": [{"type": "Dense", "units": 0}]}, raise_on_error=True)


def test_random_bytes_never_crash_the_interpreter(tmp_path):
    rng = np.random.default_rng(7)
    for i in range(200):
        blob = rng.integers(0, 256, size=int(rng.integers(0, 400)), dtype=np.uint8).tobytes()
        for ext in (".wav", ".flac", ".ogg", ".mp3"):
            path = tmp_path / f"f{i}{ext}"
            path.write_bytes(b"RIFF" + blob if ext == ".wav" and i % 2 else blob)
            try:
                sc.load(path, sr=None)
            except sc.SoundcheckError:
                pass


def test_inputs_are_never_modified():
    y = Y.copy()
    S = np.abs(sc.stft(y)) ** 2
    S_before = S.copy()
    sc.power_to_db(S, ref=np.max)
    sc.feature.mfcc(y=y)
    np.testing.assert_array_equal(y, Y)
    np.testing.assert_array_equal(S, S_before)


def test_nan_and_infinity_in_decibels_follow_librosas_numpy_arithmetic():
    # librosa.power_to_db: np.maximum and np.max propagate NaN; with the top_db floor (or
    # ref=np.max) one NaN makes every value NaN, without it only the NaN itself.
    S = np.array([[1.0, np.nan, 100.0]], np.float32)
    plain = sc.power_to_db(S, top_db=None)
    assert plain[0, 0] == 0.0 and np.isnan(plain[0, 1]) and plain[0, 2] == 20.0
    assert np.isnan(sc.power_to_db(S)).all()
    assert np.isnan(sc.power_to_db(S, ref=np.max, top_db=None)).all()
    assert np.isnan(sc.amplitude_to_db(S)).all()
    # 10·log10(inf) is inf, and the floor inf − 80 keeps it.
    assert (sc.power_to_db(np.array([1.0, np.inf], np.float32)) == np.inf).all()
