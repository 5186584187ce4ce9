"""What librosa's own test suite asks of a drop-in (issue 34; tools/compat/run.py runs that suite):
windows by name, function or array; errors librosa users catch; librosa's warnings; `out=`;
file objects and ``duration=0`` in `load`; museval's empty input. Expected values are numpy
arithmetic written out here; nothing needs librosa."""

import io
import warnings

import numpy as np
import pytest

import soundcheck as sc
from conftest import AUDIO

Y = np.sin(np.arange(8000) * 0.07).astype(np.float32) * np.linspace(0.2, 1.0, 8000, dtype=np.float32)
WAV = AUDIO / "fixtures" / "audio" / "wav_44100_2ch_pcm_16.wav"


def framed_rfft(y, window, n_fft, hop):
    """The STFT written out (center=False): each frame times the window centred in n_fft."""
    w = np.zeros(n_fft)
    left = (n_fft - len(window)) // 2
    w[left:left + len(window)] = window
    frames = [y[t:t + n_fft] * w for t in range(0, len(y) - n_fft + 1, hop)]
    return np.fft.rfft(np.array(frames), axis=1).T


@pytest.mark.parametrize("win_length", [512, 300])
def test_a_window_array_is_used_as_librosa_uses_it(win_length):
    n = np.arange(win_length)
    hamming = 0.54 - 0.46 * np.cos(2 * np.pi * n / win_length)  # scipy's periodic ('fftbins') Hamming
    got = sc.stft(Y, n_fft=512, hop_length=128, win_length=win_length, window=hamming, center=False)
    want = framed_rfft(Y.astype(np.float64), hamming, 512, 128)
    assert got.shape == want.shape
    assert np.max(np.abs(got - want)) <= 1e-4 * np.max(np.abs(want))
    # A function of the length gives the same window.
    same = sc.stft(Y, n_fft=512, hop_length=128, win_length=win_length, center=False,
                   window=lambda m: 0.54 - 0.46 * np.cos(2 * np.pi * np.arange(m) / m))
    np.testing.assert_allclose(same, got, rtol=0, atol=1e-5)


def test_the_inverse_undoes_any_window():
    n = np.arange(512)
    window = 0.54 - 0.46 * np.cos(2 * np.pi * n / 512)
    S = sc.stft(Y, n_fft=512, hop_length=128, window=window)
    back = sc.istft(S, hop_length=128, window=window, length=len(Y))
    assert np.max(np.abs(back - Y)) <= 1e-5
    # The features take the window too: the mel spectrogram of S equals the one from y.
    mel = sc.feature.melspectrogram(y=Y, sr=8000, n_fft=512, hop_length=128, window=window)
    from_s = sc.feature.melspectrogram(S=np.abs(S) ** 2, sr=8000)
    np.testing.assert_allclose(mel, from_s, rtol=1e-4, atol=1e-6 * mel.max())


def test_a_window_name_is_scipys():
    scipy_signal = pytest.importorskip("scipy.signal")
    by_name = sc.stft(Y, n_fft=256, window="blackmanharris")
    by_array = sc.stft(Y, n_fft=256, window=scipy_signal.get_window("blackmanharris", 256, fftbins=True))
    np.testing.assert_array_equal(by_name, by_array)


def test_errors_are_librosas_parameter_error_when_librosa_is_installed():
    exceptions = pytest.importorskip("librosa.util.exceptions")
    with pytest.raises(exceptions.ParameterError):
        sc.stft(Y, hop_length=0)
    assert issubclass(sc.SoundcheckError, ValueError)


def test_librosas_warnings():
    with pytest.warns(UserWarning, match="n_fft=2048 is too large for input signal of length=100"):
        sc.stft(Y[:100])
    with pytest.warns(UserWarning, match="Empty filters detected"):
        fb = sc.filters.mel(sr=44100, n_fft=1024, n_mels=128, fmin=0, fmax=2000, htk=True)
    # The bank is librosa's shape, with the empty filters all zeros.
    assert fb.shape == (128, 513)
    assert (fb.max(axis=1) == 0).any()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        sc.filters.mel(sr=22050, n_fft=2048)


def test_out_receives_the_result():
    want = sc.stft(Y, n_fft=256)
    out = np.zeros(want.shape[:-1] + (want.shape[-1] + 3,), np.complex64)
    got = sc.stft(Y, n_fft=256, out=out)
    assert np.shares_memory(got, out) and got.shape == want.shape
    np.testing.assert_array_equal(got, want)
    with pytest.raises(sc.SoundcheckError, match="not of complex type"):
        sc.stft(Y, n_fft=256, out=np.zeros(want.shape, np.float32))
    with pytest.raises(sc.SoundcheckError, match="Shape mismatch"):
        sc.istft(want, out=np.zeros(3, np.float32))


def test_load_takes_open_files_and_an_empty_duration():
    y, sr = sc.load(WAV, sr=None, mono=False)
    with open(WAV, "rb") as f:
        from_file, sr_file = sc.load(f, sr=None, mono=False)
    np.testing.assert_array_equal(from_file, y)
    assert sr_file == sr
    from_bytes, _ = sc.load(io.BytesIO(WAV.read_bytes()), sr=None, mono=False)
    np.testing.assert_array_equal(from_bytes, y)
    empty, sr_empty = sc.load(WAV, sr=None, duration=0)
    assert empty.shape == (0,) and empty.dtype == np.float32 and sr_empty == sr
    with pytest.raises(sc.SoundcheckError, match="expected a file path, an open file"):
        sc.load(42)


def test_evaluate_on_empty_input_warns_and_returns_empty_scores():
    with pytest.warns(UserWarning, match="reference_sources is empty"):
        scores = sc.evaluate(np.array([]), np.array([]))
    assert len(scores) == 4 and all(s.size == 0 for s in scores)
