"""soundcheck's librosa functions against librosa 0.11.0's own outputs (fixtures from
tools/fixtures/librosa_features.py, librosa_spectral.py and librosa_multichannel.py)."""

import json

import numpy as np
import pytest

import soundcheck as sc
from conftest import AUDIO, librosa_cases, max_rel_error, npy

# STFT, mel and feature paths: within 1e-4 of the output's peak (the bar); dB values
# and MFCCs within 1e-3 dB.
REL = 1e-4
DB = 1e-3


def signal(case):
    """The case's input signal; `tile` repeats it (30 s from 3 s) and is no librosa parameter."""
    return np.tile(npy(case["inputs"][0]), case["params"].get("tile", 1))


def params(case):
    return {k: v for k, v in case["params"].items() if k != "tile"}


@pytest.mark.parametrize("case", librosa_cases("stft"), ids=lambda c: c["output"])
def test_stft(case):
    got = sc.stft(signal(case), **case["params"])
    assert got.dtype == np.complex64
    assert max_rel_error(got, npy(case["output"])) <= REL


@pytest.mark.parametrize("case", librosa_cases("magnitude") + librosa_cases("power"), ids=lambda c: c["output"])
def test_magnitude_and_power(case):
    f = sc.magnitude if case["func"] == "magnitude" else sc.power
    assert max_rel_error(f(signal(case), **case["params"]), npy(case["output"])) <= REL


@pytest.mark.parametrize("case", librosa_cases("istft"), ids=lambda c: c["output"])
def test_istft(case):
    S, p = npy(case["inputs"][0]), case["params"]
    got, want = sc.istft(S, **p), npy(case["output"])
    assert got.shape == want.shape
    # As the Rust test: where the summed squared (periodic Hann) window is below 1e-3 of its top,
    # librosa divides by almost nothing too; those samples are compared loosely.
    n_fft, hop = p["n_fft"], p["hop_length"]
    w2 = (0.5 - 0.5 * np.cos(2 * np.pi * np.arange(n_fft) / n_fft)) ** 2
    wss = np.zeros(n_fft + hop * (S.shape[1] - 1))
    for t in range(S.shape[1]):
        wss[t * hop:t * hop + n_fft] += w2
    pad = n_fft // 2 if p.get("center", True) else 0
    at = wss[pad:pad + len(want)]
    well = np.zeros(len(want), bool)
    well[:len(at)] = at >= 1e-3 * wss.max()
    err = np.abs(got - want)
    assert err[well].max() <= 1e-6
    assert err[~well].max(initial=0) <= 1e-2


@pytest.mark.parametrize("case", librosa_cases("mel_filters"), ids=lambda c: c["output"])
def test_mel_filters(case):
    assert max_rel_error(sc.filters.mel(**case["params"]), npy(case["output"])) <= REL


@pytest.mark.parametrize("case", librosa_cases("melspectrogram"), ids=lambda c: c["output"])
def test_melspectrogram(case):
    got = sc.feature.melspectrogram(y=signal(case), **case["params"])
    assert max_rel_error(got, npy(case["output"])) <= REL


@pytest.mark.parametrize("case", librosa_cases("mfcc"), ids=lambda c: c["output"])
def test_mfcc(case):
    got = sc.feature.mfcc(y=signal(case), **params(case))
    want = npy(case["output"])
    assert got.shape == want.shape
    assert np.max(np.abs(got - want)) <= DB


@pytest.mark.parametrize("case", librosa_cases("power_to_db") + librosa_cases("amplitude_to_db"),
                         ids=lambda c: c["output"])
def test_decibels(case):
    params = dict(case["params"])
    if params.get("ref") == "max":
        params["ref"] = np.max
    f = sc.power_to_db if case["func"] == "power_to_db" else sc.amplitude_to_db
    got = f(npy(case["inputs"][0]), **params)
    want = npy(case["output"])
    assert got.shape == want.shape
    assert np.max(np.abs(got - want)) <= DB


@pytest.mark.parametrize("case", librosa_cases("delta"), ids=lambda c: c["output"])
def test_delta(case):
    got = sc.feature.delta(npy(case["inputs"][0]), **case["params"])
    assert np.max(np.abs(got - npy(case["output"]))) <= DB


# The bound for resampled signals, whole signal, edges included; what is measured is
# 1.5e-6 at worst (see the Rust test resampling_matches_soxr_on_every_rate_pair).
RESAMPLE_TOL = 1e-3


@pytest.mark.parametrize("case", librosa_cases("resample"), ids=lambda c: c["output"])
def test_resample_matches_soxr_hq(case):
    p = case["params"]
    got = sc.resample(signal(case), orig_sr=p["orig_sr"], target_sr=p["target_sr"])
    assert max_rel_error(got, npy(case["output"])) <= RESAMPLE_TOL


RESAMPLE = json.loads((AUDIO / "fixtures_resample" / "index.json").read_text())["cases"]
RESAMPLE_OUT = np.load(AUDIO / "fixtures_resample" / "outputs.npy")


@pytest.mark.parametrize("case", RESAMPLE,
                         ids=lambda c: f"{c['orig_sr']}-{c['target_sr']}-{c['signal']}-{c['len']}")
def test_resample_every_rate_pair(case):
    x = npy(f"in_{case['orig_sr']}_{case['signal']}.npy", "fixtures_resample")[:case["len"]]
    want = RESAMPLE_OUT[case["offset"]:case["offset"] + case["out_len"]]
    got = sc.resample(x, orig_sr=case["orig_sr"], target_sr=case["target_sr"])
    assert got.shape == want.shape
    if want.size:
        assert max_rel_error(got, want) <= RESAMPLE_TOL


@pytest.mark.parametrize("case", librosa_cases("decode"), ids=lambda c: c["output"])
def test_load_at_the_native_rate_decodes_as_libsndfile(case):
    y, sr = sc.load(AUDIO / "fixtures" / case["inputs"][0], sr=None, mono=False)
    want = npy(case["output"])
    assert sr == case["sample_rate"]
    assert y.shape == want.shape, "(channels, n)"
    assert np.max(np.abs(y - want)) <= (1e-5 if case["lossy"] else 6e-8)


@pytest.mark.parametrize("case", librosa_cases("load"), ids=lambda c: c["output"])
def test_load(case):
    p = case["params"]
    y, sr = sc.load(AUDIO / "fixtures" / case["inputs"][0], **p)
    want = npy(case["output"])
    assert y.dtype == np.float32
    assert y.shape == want.shape
    # Excerpts at the native rate are exact; resampled ones agree to float rounding.
    assert np.max(np.abs(y - want)) <= (6e-8 if p.get("sr", 22050) is None else 1e-6)


def test_librosa_defaults_and_dtypes():
    y = npy("in_s0_7.npy")
    assert sc.feature.mfcc(y=y).shape == (20, 1 + len(y) // 512)
    assert sc.stft(y.astype(np.float64)).dtype == np.complex128
    assert sc.feature.melspectrogram(y=y).dtype == np.float32


def test_multichannel_reductions_span_every_channel():
    """A stereo file whose right channel is 50 dB below its left: librosa floors both channels
    against the loud one (tools/fixtures/librosa_multichannel.py)."""
    folder = "fixtures_multichannel"
    y, sr = sc.load(AUDIO / folder / "stereo_unequal.wav", sr=None, mono=False)
    got = {
        "mfcc": sc.feature.mfcc(y=y, sr=sr),
        "mel_db": sc.power_to_db(sc.feature.melspectrogram(y=y, sr=sr)),
        "magnitude_db": sc.amplitude_to_db(np.abs(sc.stft(y, n_fft=512, hop_length=512))),
        "power_db_max": sc.power_to_db(np.abs(sc.stft(y, n_fft=512, hop_length=512)) ** 2, ref=np.max),
        "spectral_contrast": sc.feature.spectral_contrast(y=y, sr=sr),
        "onset_strength": sc.onset.onset_strength(y=y, sr=sr)[:, None, :],
        "chroma_stft": sc.feature.chroma_stft(y=y, sr=sr),
    }
    for name, g in got.items():
        want = npy(f"{name}.npy", folder)
        assert g.shape == want.shape, name
        assert np.max(np.abs(g - want)) <= DB, name


SPECTRAL = json.loads((AUDIO / "fixtures_spectral" / "index.json").read_text())


@pytest.mark.parametrize("case", SPECTRAL["cases"], ids=lambda c: c["output"])
def test_frame_features(case):
    y = npy(case["signal"], "fixtures_spectral")
    frames = dict(n_fft=case["n_fft"], hop_length=case["hop_length"], center=case["center"])
    kind, sr = case["kind"], case["sr"]
    if kind in ("rms", "zero_crossing_rate"):
        f = sc.feature.rms if kind == "rms" else sc.feature.zero_crossing_rate
        kwargs = {"y": y} if kind == "rms" else {}
        got = f(*([] if kwargs else [y]), frame_length=case["n_fft"], hop_length=case["hop_length"],
                center=case["center"], **kwargs)
    elif kind == "melspectrogram_power1":
        got = sc.feature.melspectrogram(y=y, sr=sr, power=1.0, **frames)
    elif kind == "spectral_flatness":
        got = sc.feature.spectral_flatness(y=y, **frames)
    elif kind.startswith("chroma_stft"):
        power = np.abs(sc.stft(y, **frames)) ** 2
        assert sc.estimate_tuning(S=power, sr=sr) == pytest.approx(case["tuning"], abs=1e-12)
        got = sc.feature.chroma_stft(y=y, sr=sr, tuning=0.0 if kind.endswith("tuning0") else None, **frames)
    elif kind.startswith("onset_strength"):
        superflux = kind.endswith("superflux")
        got = sc.onset.onset_strength(y=y, sr=sr, lag=2 if superflux else 1, max_size=3 if superflux else 1,
                                      detrend=kind.endswith("detrend"), **frames)
    else:
        got = getattr(sc.feature, kind)(y=y, sr=sr, **frames)
    want = npy(case["output"], "fixtures_spectral")
    if kind == "zero_crossing_rate":
        np.testing.assert_array_equal(got, want)
    else:
        assert max_rel_error(got, want) <= REL


def test_features_from_a_given_spectrogram_equal_those_from_audio():
    y = npy("in_s3.npy")
    S = sc.magnitude(y, n_fft=2048, hop_length=512)
    for name in ("spectral_centroid", "spectral_bandwidth", "spectral_rolloff", "spectral_contrast"):
        f = getattr(sc.feature, name)
        np.testing.assert_allclose(f(S=S), f(y=y), rtol=1e-6)
    np.testing.assert_allclose(sc.feature.melspectrogram(S=S**2), sc.feature.melspectrogram(y=y), rtol=1e-5,
                               atol=1e-6)
    log_mel = sc.power_to_db(sc.feature.melspectrogram(y=y))
    np.testing.assert_allclose(sc.feature.mfcc(S=log_mel), sc.feature.mfcc(y=y), atol=1e-4)
    np.testing.assert_allclose(sc.onset.onset_strength(S=log_mel), sc.onset.onset_strength(y=y), atol=1e-5)


def test_leading_axes_are_kept():
    y = npy("in_s0_7.npy")
    batch = np.stack([np.stack([y, 0.5 * y])] * 3)  # (3, 2, n)
    out = sc.feature.melspectrogram(y=batch)
    assert out.shape[:2] == (3, 2)
    np.testing.assert_allclose(out[1, 0], sc.feature.melspectrogram(y=y), rtol=1e-6)
    back = sc.istft(sc.stft(batch), length=len(y))
    assert back.shape == batch.shape


CQT = json.loads((AUDIO / "fixtures_cqt" / "index.json").read_text())


@pytest.mark.parametrize("case", CQT["cases"], ids=lambda c: c["name"])
def test_cqt(case):
    y = npy("signal.npy", "fixtures_cqt")
    got = sc.cqt(y, sr=22050, **case["params"])
    want = npy(f"{case['name']}.npy", "fixtures_cqt")
    assert got.dtype == np.complex64
    assert max_rel_error(got, want) <= 1e-4


def test_chroma_cqt_and_tonnetz():
    y = npy("signal.npy", "fixtures_cqt")
    assert abs(sc.estimate_tuning(y=y, sr=22050, bins_per_octave=36) - CQT["features"]["tuning"]) < 1e-12
    chroma = sc.feature.chroma_cqt(y=y, sr=22050)
    assert max_rel_error(chroma, npy("chroma_cqt.npy", "fixtures_cqt")) <= 1e-4
    assert max_rel_error(sc.feature.tonnetz(y=y, sr=22050), npy("tonnetz.npy", "fixtures_cqt")) <= 1e-4
    assert max_rel_error(sc.feature.tonnetz(chroma=chroma), npy("tonnetz.npy", "fixtures_cqt")) <= 1e-4
    # From a given transform, as librosa's C= path.
    C = sc.cqt(y, sr=22050, n_bins=252, bins_per_octave=36, tuning=CQT["features"]["tuning"])
    assert max_rel_error(sc.feature.chroma_cqt(C=C), npy("chroma_cqt.npy", "fixtures_cqt")) <= 1e-4
    stereo = npy("stereo.npy", "fixtures_cqt")
    got = sc.feature.chroma_cqt(y=stereo, sr=22050, tuning=0.0)
    assert max_rel_error(got, npy("chroma_cqt_stereo_tuning0.npy", "fixtures_cqt")) <= 1e-4


def test_cqt_refuses_what_it_does_not_implement():
    y = npy("signal.npy", "fixtures_cqt")
    for kwargs, name in [({"norm": 2}, "norm"), ({"window": "hamming"}, "window"), ({"n_bins": 1}, "n_bins"),
                         ({"n_bins": 200}, "n_bins"), ({"hop_length": 0}, "hop_length"), ({"fmin": -1.0}, "fmin")]:
        with pytest.raises(sc.SoundcheckError, match=name):
            sc.cqt(y, sr=22050, **kwargs)
    with pytest.raises(sc.SoundcheckError, match="bins_per_octave"):
        sc.feature.chroma_cqt(y=y, bins_per_octave=30)
    with pytest.raises(sc.SoundcheckError, match="exactly one"):
        sc.feature.tonnetz()
