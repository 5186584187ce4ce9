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
    with pytest.raises(sc.SoundcheckError, match="opened in text mode"):
        sc.load(io.StringIO("RIFF"))
    with pytest.raises(sc.SoundcheckError, match="res_type='best'"):
        sc.load(WAV, res_type="best")


def test_evaluate_on_empty_input_warns_and_returns_empty_scores():
    with pytest.warns(UserWarning, match="reference_sources is empty"):
        scores = sc.evaluate(np.array([]), np.array([]))
    assert len(scores) == 4 and all(s.size == 0 for s in scores)


def test_out_is_returned_itself_when_it_fits():
    want = sc.stft(Y, n_fft=256)
    out = np.empty_like(want)
    assert sc.stft(Y, n_fft=256, out=out) is out
    y_out = np.empty(len(Y) // 64 * 64, np.float32)
    assert sc.istft(want, length=len(y_out), out=y_out) is y_out


def test_cq_to_chroma_from_a_and_smoothed():
    # fmin = C1: the map from A is the map from C with its rows rolled 9 pitch classes down.
    from_c = sc.filters.cq_to_chroma(84)
    np.testing.assert_array_equal(sc.filters.cq_to_chroma(84, base_c=False), np.roll(from_c, -9, axis=0))
    # A window smooths each row as scipy.signal.convolve(map, [window], mode="same").
    w = np.array([1.0, 2.0, 1.0])
    want = np.stack([np.convolve(row, w)[1:-1] for row in from_c])
    np.testing.assert_allclose(sc.filters.cq_to_chroma(84, window=w), want)


def test_onset_strength_with_any_aggregate_or_reference():
    y = np.random.default_rng(3).standard_normal(22050).astype(np.float32)
    S = sc.power_to_db(sc.feature.melspectrogram(y=y, sr=22050, fmax=11025.0))
    # librosa's flux written out: positive differences of consecutive frames, reduced over bands,
    # delayed by lag + n_fft // (2 · hop) frames.
    flux = np.maximum(0.0, S[:, 1:] - S[:, :-1])
    want = np.pad(np.median(flux, axis=0), (1 + 2048 // 1024, 0))[: S.shape[-1]]
    got = sc.onset.onset_strength(y=y, sr=22050, aggregate=np.median)
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-4)
    # The mean through the numpy path (a given reference) equals the fused Rust path.
    fused = sc.onset.onset_strength(S=S)
    np.testing.assert_allclose(sc.onset.onset_strength(S=S, ref=S), fused, rtol=1e-5, atol=1e-4)
    with pytest.raises(sc.SoundcheckError, match="Reference spectrum shape"):
        sc.onset.onset_strength(S=S, ref=S[:, :-1])
    # A feature function's output takes the mel spectrogram's place.
    chroma = sc.onset.onset_strength(y=y, sr=22050, feature=sc.feature.chroma_stft)
    C = sc.power_to_db(sc.feature.chroma_stft(y=y, sr=22050, n_fft=2048, hop_length=512))
    np.testing.assert_allclose(chroma, sc.onset.onset_strength(S=C), rtol=1e-5, atol=1e-4)


def test_resample_options():
    x = np.random.default_rng(5).standard_normal(101).astype(np.float32)
    # fix=False keeps soxr's own length, round(101 · 16000 / 22050) = round(73.29) = 73.
    assert sc.resample(x, orig_sr=22050, target_sr=16000, fix=False).shape == (73,)
    assert sc.resample(x, orig_sr=22050, target_sr=16000).shape == (74,)
    assert sc.resample(x, orig_sr=16000, target_sr=16000) is x
    signal = pytest.importorskip("scipy.signal")
    np.testing.assert_allclose(sc.resample(x, orig_sr=22050, target_sr=16000, res_type="polyphase", fix=False),
                               signal.resample_poly(x, 320, 441).astype(np.float32))
    with pytest.raises(sc.SoundcheckError, match="integer-valued"):
        sc.resample(x, orig_sr=100.5, target_sr=100, res_type="polyphase")


def test_librosas_checks_of_given_spectrograms():
    with pytest.warns(UserWarning, match="power_to_db was called on complex input"):
        sc.power_to_db(np.ones((3, 4), np.complex64))
    with pytest.raises(sc.SoundcheckError, match="non-negative energies"):
        sc.feature.spectral_centroid(S=-np.ones((1025, 3)))
    with pytest.raises(sc.SoundcheckError, match="real-valued input"):
        sc.feature.spectral_flatness(S=np.ones((1025, 3), np.complex64))
    with pytest.raises(sc.SoundcheckError, match="frame_length is expected to be 198 or 199"):
        sc.feature.rms(S=np.zeros((100, 3)), frame_length=100)
    with pytest.raises(sc.SoundcheckError, match="width=-3"):
        sc.feature.delta(np.ones((4, 50)), width=-3)


def test_descriptors_at_given_frequencies():
    S = np.abs(sc.stft(Y, n_fft=512))
    bins = np.fft.rfftfreq(512, 1 / 8000)
    np.testing.assert_allclose(sc.feature.spectral_centroid(S=S, sr=8000, freq=bins),
                               sc.feature.spectral_centroid(S=S, sr=8000), rtol=1e-5)
    np.testing.assert_allclose(sc.feature.spectral_bandwidth(S=S, sr=8000, freq=bins),
                               sc.feature.spectral_bandwidth(S=S, sr=8000), rtol=1e-4)
    # Rolloff written out: the lowest bin frequency where the cumulative energy reaches 85 %.
    doubled = 2 * bins
    total = np.cumsum(S, axis=0)
    want = np.array([doubled[np.argmax(total[:, t] >= 0.85 * total[-1, t])] for t in range(S.shape[1])])
    np.testing.assert_allclose(sc.feature.spectral_rolloff(S=S, sr=8000, freq=doubled)[0], want)


def test_mfcc_with_other_dcts_is_scipys():
    pytest.importorskip("scipy.fft")
    ortho = sc.feature.mfcc(y=Y, sr=8000, n_mfcc=13)
    plain = sc.feature.mfcc(y=Y, sr=8000, n_mfcc=13, norm=None)
    # The unnormalised DCT-II is the orthonormal one times sqrt(4N) (first row) or sqrt(2N).
    n = 128
    scale = np.full((13, 1), np.sqrt(2 * n))
    scale[0] = np.sqrt(4 * n)
    np.testing.assert_allclose(plain, ortho * scale, rtol=1e-4, atol=1e-3)


def test_mel_filters_of_unit_p_norm_and_the_deprecated_cqt_default():
    fb = sc.filters.mel(sr=22050, n_fft=2048, n_mels=40, norm=2)
    np.testing.assert_allclose(np.linalg.norm(fb, axis=1), 1.0, rtol=1e-6)
    assert np.max(sc.filters.mel(sr=22050, n_fft=2048, n_mels=40, norm=np.inf), axis=1) == pytest.approx(1.0)
    with pytest.warns(FutureWarning, match="res_type=None is deprecated"):
        sc.cqt(Y, sr=8000, n_bins=24, res_type=None)
    with pytest.raises(sc.SoundcheckError, match="aggregate parameter cannot be False"):
        sc.onset.onset_strength(S=np.zeros((3, 3)), aggregate=False)
