"""`librosa.feature`: mel spectrogram, MFCC, delta and the frame-wise descriptors, with
librosa's names, defaults and axes (features on the second-to-last axis, frames on the last)."""

import numpy as np

from . import _audio, _native, filters
from ._arrays import audio_rows, count, matrix_rows, n_fft_of, only, real_dtype, stft_args, unfold
from ._audio import _cqt_args
from ._errors import SoundcheckError


def _signal_or_spectrogram(y, S, what):
    if (y is None) == (S is None):
        raise SoundcheckError(f"{what}: give exactly one of y= (audio) or S= (a spectrogram)")


def _mel_options(n_mels=128, fmin=0.0, fmax=None, htk=False, norm="slaney", dtype=np.float32):
    only("norm", norm, ("slaney", None), "soundcheck implements Slaney area normalisation or none")
    return (int(n_mels), float(fmin), None if fmax is None else float(fmax), bool(htk), norm == "slaney"), dtype


def _spectrogram(y, S, n_fft, hop_length, win_length, window, center, pad_mode, power):
    """librosa's `_spectrogram`: S as given (n_fft from its bins), or |stft(y)|^power."""
    if S is not None:
        S = np.asarray(S)
        if S.ndim < 2:
            raise SoundcheckError(f"S has shape {S.shape}: expected (..., 1 + n_fft/2, n_frames)")
        mats = matrix_rows(S)[0]
        return mats, S.shape[:-2], S.dtype, n_fft_of(mats)
    rows, lead, dtype = audio_rows(y)
    mags = _native.spectrogram(rows, stft_args(n_fft, hop_length, win_length, center, pad_mode, window,
                                               rows.shape[-1]), float(power))
    return mags, lead, dtype, n_fft


def melspectrogram(*, y=None, sr=22050, S=None, n_fft=2048, hop_length=512, win_length=None,
                   window="hann", center=True, pad_mode="constant", power=2.0, **kwargs):
    """`librosa.feature.melspectrogram`: ``(..., n_mels, n_frames)``."""
    _signal_or_spectrogram(y, S, "melspectrogram")
    mel, dtype = _mel_options(**kwargs)
    if S is not None:
        mats, lead, in_dtype = matrix_rows(S)
        n_fft = n_fft_of(mats)
        out = _native.mel_from_spectrogram(mats, int(sr), n_fft, mel)
    else:
        rows, lead, in_dtype = audio_rows(y)
        out = _native.melspectrogram(rows, int(sr), stft_args(n_fft, hop_length, win_length, center, pad_mode,
                                                              window, rows.shape[-1]), float(power), mel)
    return unfold(out, lead).astype(real_dtype(in_dtype), copy=False)


def mfcc(*, y=None, sr=22050, S=None, n_mfcc=20, dct_type=2, norm="ortho", lifter=0, mel_norm="slaney",
         **kwargs):
    """`librosa.feature.mfcc`: ``(..., n_mfcc, n_frames)``. From `y`, the log-mel spectrogram's
    80 dB floor is set by the whole array (every channel together), as librosa sets it. The
    default DCT (type 2, orthonormal) is soundcheck's own; other types and norms are scipy's, as
    in librosa."""
    if not (_same_int(dct_type, 2) and norm == "ortho"):
        return _mfcc_by_scipy(y, sr, S, n_mfcc, dct_type, norm, lifter, mel_norm, kwargs)
    if S is not None:
        if y is not None:
            raise SoundcheckError("mfcc: give exactly one of y= (audio) or S= (a log-power mel spectrogram)")
        mats, lead, in_dtype = matrix_rows(S)
        out = _native.mfcc_from_log_mel(mats, int(n_mfcc), float(lifter))
        return unfold(out, lead).astype(real_dtype(in_dtype), copy=False)
    if y is None:
        raise SoundcheckError("mfcc: give y= (audio) or S= (a log-power mel spectrogram)")
    stft_kwargs = {k: kwargs.pop(k) for k in ("n_fft", "hop_length", "win_length", "window", "center",
                                              "pad_mode", "power") if k in kwargs}
    mel, dtype = _mel_options(norm=mel_norm, **kwargs)
    rows, lead, in_dtype = audio_rows(y)
    power = float(stft_kwargs.pop("power", 2.0))
    stft = stft_args(**{"hop_length": 512, **stft_kwargs}, length=rows.shape[-1])
    out = _native.mfcc(rows, int(sr), stft, power, mel, int(n_mfcc), float(lifter))
    return unfold(out, lead).astype(real_dtype(in_dtype), copy=False)


def _same_int(value, n):
    return isinstance(value, (int, np.integer)) and not isinstance(value, bool) and value == n


def _mfcc_by_scipy(y, sr, S, n_mfcc, dct_type, norm, lifter, mel_norm, kwargs):
    """librosa's MFCC with scipy's DCT of `dct_type` and `norm`, of soundcheck's log-mel spectrogram."""
    try:
        import scipy.fft
    except ImportError:
        raise SoundcheckError(f"mfcc with dct_type={dct_type!r}, norm={norm!r} needs scipy's DCT, as librosa's does: "
                              "pip install scipy (soundcheck's own is dct_type=2, norm='ortho')") from None
    if (y is None) == (S is None):
        raise SoundcheckError("mfcc: give exactly one of y= (audio) or S= (a log-power mel spectrogram)")
    if S is None:
        S = _audio.power_to_db(melspectrogram(y=y, sr=sr, norm=mel_norm, **kwargs))
    if not lifter >= 0:
        raise SoundcheckError(f"lifter={lifter!r} cannot be used: expected a non-negative number (0 for none)")
    n_mfcc = count("n_mfcc", n_mfcc)
    try:
        M = scipy.fft.dct(np.asarray(S), axis=-2, type=dct_type, norm=norm)[..., :n_mfcc, :]
    except (ValueError, TypeError) as e:
        raise SoundcheckError(f"dct_type={dct_type!r}, norm={norm!r} cannot be used: {e}") from None
    if lifter > 0:
        M *= (1 + (lifter / 2) * np.sin(np.pi * np.arange(1, 1 + n_mfcc, dtype=M.dtype) / lifter))[:, np.newaxis]
    return M


def delta(data, *, width=9, order=1, axis=-1, mode="interp", **kwargs):
    """`librosa.feature.delta` (Savitzky–Golay, mode 'interp') along `axis`."""
    only("mode", mode, ("interp",), "soundcheck implements librosa's default 'interp' edges")
    if kwargs:
        raise SoundcheckError(f"delta: unsupported options {sorted(kwargs)}")
    width, order = count("width", width), count("order", order)
    data = np.asarray(data)
    if data.ndim == 0:
        raise SoundcheckError("delta: data is a scalar; expected an array with a time axis")
    if not -data.ndim <= axis < data.ndim:
        raise SoundcheckError(f"axis={axis} cannot be used: data has {data.ndim} axes")
    a = np.moveaxis(data, axis, -1)
    rows = np.ascontiguousarray(a.reshape(-1, a.shape[-1]), dtype=np.float32)
    out = _native.delta(rows, int(width), int(order)).reshape(a.shape)
    return np.moveaxis(out.astype(real_dtype(a.dtype), copy=False), -1, axis)


def rms(*, y=None, S=None, frame_length=2048, hop_length=512, center=True, pad_mode="constant",
        dtype=np.float32):
    """`librosa.feature.rms`: ``(..., 1, n_frames)``."""
    _signal_or_spectrogram(y, S, "rms")
    if S is not None:
        # librosa's spectrogram route (Parseval): every bin counts twice but DC and, for an even
        # frame, Nyquist.
        S = np.asarray(S)
        if S.ndim < 2 or S.shape[-2] != frame_length // 2 + 1:
            bins = S.shape[-2] if S.ndim >= 2 else 0
            raise SoundcheckError(f"Since S.shape[-2] is {bins}, frame_length is expected to be {2 * bins - 2} or "
                                  f"{2 * bins - 1}; found {frame_length}")
        x = np.abs(S) ** 2
        x[..., 0, :] *= 0.5
        if frame_length % 2 == 0:
            x[..., -1, :] *= 0.5
        return np.sqrt(2 * np.sum(x, axis=-2, keepdims=True) / frame_length**2).astype(dtype, copy=False)
    only("pad_mode", pad_mode, ("constant",), "frames are centred with zeros, librosa's default")
    rows, lead, _ = audio_rows(y)
    out = _native.frame_feature(rows, "rms", int(frame_length), int(hop_length), bool(center))
    return unfold(out, lead).astype(dtype, copy=False)


def zero_crossing_rate(y, *, frame_length=2048, hop_length=512, center=True, **kwargs):
    """`librosa.feature.zero_crossing_rate` with its defaults (threshold 1e-10, zero counts as
    positive, edges padded): ``(..., 1, n_frames)``."""
    if kwargs:
        raise SoundcheckError(
            f"zero_crossing_rate: options {sorted(kwargs)} are not supported; soundcheck uses librosa's defaults"
        )
    rows, lead, in_dtype = audio_rows(y)
    out = _native.frame_feature(rows, "zero_crossing_rate", int(frame_length), int(hop_length), bool(center))
    return unfold(out, lead).astype(real_dtype(in_dtype), copy=False)


def _real_energies(S, what):
    """librosa's check of a given spectrogram: real, non-negative."""
    S = np.asarray(S)
    if not np.isrealobj(S):
        raise SoundcheckError(f"{what} is only defined with real-valued input: give S=np.abs(D)")
    if np.any(S < 0):
        raise SoundcheckError(f"{what} is only defined with non-negative energies: give S=np.abs(D) or a power "
                              "spectrogram")


def _descriptor(kind, y, S, sr, n_fft, hop_length, win_length, window, center, pad_mode, a=0.0, b=0.0,
                in_hz=True):
    """A spectral descriptor of S, or of |stft(y)| reduced frame by frame inside the STFT (no
    spectrogram stored). librosa returns frequencies in float64, computed against its float64
    bin frequencies; flatness in the input's dtype."""
    _signal_or_spectrogram(y, S, f"spectral_{kind}")
    if S is not None:
        _real_energies(S, f"Spectral {kind}")
        mats, lead, in_dtype = matrix_rows(S)
        n_fft = n_fft_of(mats)
        out = _native.descriptor_of_spectrogram(mats, int(sr), n_fft, kind, float(a), float(b))
    else:
        rows, lead, in_dtype = audio_rows(y)
        out = _native.descriptor_of_signal(rows, int(sr), stft_args(n_fft, hop_length, win_length, center, pad_mode,
                                                                    window, rows.shape[-1]),
                                           kind, float(a), float(b))
    return unfold(out, lead).astype(np.float64 if in_hz else real_dtype(in_dtype), copy=False)


def spectral_centroid(*, y=None, sr=22050, S=None, n_fft=2048, hop_length=512, freq=None, win_length=None,
                      window="hann", center=True, pad_mode="constant"):
    """`librosa.feature.spectral_centroid`: ``(..., 1, n_frames)`` in Hz; `freq` gives each
    bin's frequency (per bin, or per bin and frame) instead of the FFT's."""
    if freq is not None:
        S, freq = _at_frequencies("centroid", y, S, sr, n_fft, hop_length, win_length, window, center, pad_mode,
                                  freq)
        return np.sum(freq * _sum_normalised(S), axis=-2, keepdims=True)
    return _descriptor("centroid", y, S, sr, n_fft, hop_length, win_length, window, center, pad_mode)


def spectral_bandwidth(*, y=None, sr=22050, S=None, n_fft=2048, hop_length=512, win_length=None,
                       window="hann", center=True, pad_mode="constant", freq=None, centroid=None, norm=True, p=2):
    """`librosa.feature.spectral_bandwidth`: ``(..., 1, n_frames)`` in Hz; `freq`, a given
    `centroid` and ``norm=False`` as librosa takes them."""
    if freq is None and centroid is None and norm is True:
        return _descriptor("bandwidth", y, S, sr, n_fft, hop_length, win_length, window, center, pad_mode, a=p)
    S, freq = _at_frequencies("bandwidth", y, S, sr, n_fft, hop_length, win_length, window, center, pad_mode, freq)
    if centroid is None:
        centroid = np.sum(freq * _sum_normalised(S), axis=-2, keepdims=True)
    centroid = np.asarray(centroid)
    if centroid.shape[-1:] != S.shape[-1:]:
        raise SoundcheckError(f"centroid has shape {centroid.shape}: expected (..., 1, {S.shape[-1]}), one value per "
                              "frame of S")
    deviation = np.abs(freq - centroid)
    if norm:
        S = _sum_normalised(S)
    return np.sum(S * deviation**p, axis=-2, keepdims=True) ** (1.0 / p)


def spectral_rolloff(*, y=None, sr=22050, S=None, n_fft=2048, hop_length=512, win_length=None,
                     window="hann", center=True, pad_mode="constant", freq=None, roll_percent=0.85):
    """`librosa.feature.spectral_rolloff`: ``(..., 1, n_frames)`` in Hz; `freq` as in
    `spectral_centroid`."""
    if freq is None:
        return _descriptor("rolloff", y, S, sr, n_fft, hop_length, win_length, window, center, pad_mode,
                           a=roll_percent)
    if not 0.0 < roll_percent < 1.0:
        raise SoundcheckError(f"roll_percent={roll_percent!r} cannot be used: expected a fraction strictly between "
                              "0 and 1 (librosa's default 0.85)")
    S, freq = _at_frequencies("rolloff", y, S, sr, n_fft, hop_length, win_length, window, center, pad_mode, freq)
    total = np.cumsum(S, axis=-2)
    reached = np.where(total < roll_percent * total[..., -1:, :], np.nan, 1)
    return np.nanmin(reached * freq, axis=-2, keepdims=True)


def _at_frequencies(kind, y, S, sr, n_fft, hop_length, win_length, window, center, pad_mode, freq):
    """The magnitude spectrogram (given or of `y`) and the bin frequencies shaped to broadcast
    against it, for the descriptors' numpy path (librosa's formulas, for options the Rust side's
    fused ones do not take)."""
    _signal_or_spectrogram(y, S, f"spectral_{kind}")
    if S is None:
        S = _audio.spectrogram(y, n_fft=n_fft, hop_length=hop_length, win_length=win_length, window=window,
                               center=center, pad_mode=pad_mode, power=1.0)
    S = np.asarray(S)
    _real_energies(S, f"Spectral {kind}")
    if freq is None:
        # librosa's fft_frequencies; a given S sets n_fft from its bins, as librosa's _spectrogram does.
        freq = np.fft.rfftfreq(2 * (S.shape[-2] - 1), 1.0 / sr)
    freq = np.asarray(freq)
    # Per bin (n_bins,), or per bin and frame (..., n_bins, n_frames) as S.
    if freq.ndim == 0 or freq.shape[0 if freq.ndim == 1 else -2] != S.shape[-2]:
        raise SoundcheckError(f"freq has shape {freq.shape}: expected one frequency per bin of S, {S.shape[-2]}")
    return S, freq.reshape(-1, 1) if freq.ndim == 1 else freq


def _sum_normalised(S):
    """Each frame over its sum, frames summing to under the dtype's tiny left as they are
    (librosa's util.normalize(S, norm=1, axis=-2))."""
    total = np.sum(np.abs(S), axis=-2, keepdims=True)
    return S / np.where(total < np.finfo(S.dtype if S.dtype.kind == "f" else np.float64).tiny, 1.0, total)


def spectral_flatness(*, y=None, S=None, n_fft=2048, hop_length=512, win_length=None, window="hann",
                      center=True, pad_mode="constant", amin=1e-10, power=2.0):
    """`librosa.feature.spectral_flatness`: ``(..., 1, n_frames)``."""
    return _descriptor("flatness", y, S, 22050, n_fft, hop_length, win_length, window, center, pad_mode,
                       a=power, b=amin, in_hz=False)


def spectral_contrast(*, y=None, sr=22050, S=None, n_fft=2048, hop_length=512, win_length=None, window="hann",
                      center=True, pad_mode="constant", freq=None, fmin=200.0, n_bands=6, quantile=0.02,
                      linear=False):
    """`librosa.feature.spectral_contrast`: ``(..., n_bands + 1, n_frames)``; in dB, the peaks'
    and the valleys' floors are each set by the whole array, as librosa sets them."""
    only("freq", freq, (None,), "bins are at librosa's fft_frequencies(sr, n_fft)")
    if isinstance(n_bands, bool) or not isinstance(n_bands, (int, np.integer)) or n_bands < 1:
        raise SoundcheckError(f"n_bands={n_bands!r} cannot be used: expected a positive integer (librosa's default 6)")
    _signal_or_spectrogram(y, S, "spectral_contrast")
    if S is not None:
        mats, lead, _ = matrix_rows(S)
        out = _native.spectral_contrast(mats, int(sr), n_fft_of(mats), float(fmin), int(n_bands),
                                        float(quantile), bool(linear))
    else:
        rows, lead, _ = audio_rows(y)
        out = _native.spectral_contrast_of_signal(rows, int(sr),
                                                  stft_args(n_fft, hop_length, win_length, center, pad_mode,
                                                            window, rows.shape[-1]),
                                                  float(fmin), int(n_bands), float(quantile), bool(linear))
    return unfold(out, lead).astype(np.float64, copy=False)


def _chroma_options(ctroct=5.0, octwidth=2, norm=2, base_c=True, dtype=np.float32):
    only("norm", norm, (2,), "filters.chroma normalises each bin's weights by their L2 norm, librosa's default")
    return float(ctroct), None if octwidth is None else float(octwidth), bool(base_c)


def chroma_stft(*, y=None, sr=22050, S=None, norm=np.inf, n_fft=2048, hop_length=512, win_length=None,
                window="hann", center=True, pad_mode="constant", tuning=None, n_chroma=12, **kwargs):
    """`librosa.feature.chroma_stft`: ``(..., n_chroma, n_frames)``, each frame scaled to a
    maximum of 1. With ``tuning=None`` the tuning is estimated once from the whole array (every
    channel together), as librosa estimates it."""
    only("norm", norm, (np.inf,), "each frame is scaled by its maximum (norm=np.inf), librosa's default")
    _signal_or_spectrogram(y, S, "chroma_stft")
    power, lead, in_dtype, n_fft = _spectrogram(y, S, n_fft, hop_length, win_length, window, center, pad_mode, 2.0)
    out = _native.chroma_stft(power, int(sr), n_fft, None if tuning is None else float(tuning), int(n_chroma),
                              *_chroma_options(**kwargs))
    return unfold(out, lead).astype(real_dtype(in_dtype), copy=False)


def chroma_cqt(*, y=None, sr=22050, C=None, hop_length=512, fmin=None, norm=np.inf, threshold=0.0, tuning=None,
               n_chroma=12, n_octaves=7, window=None, bins_per_octave=36, cqt_mode="full"):
    """`librosa.feature.chroma_cqt`: ``(..., n_chroma, n_frames)`` from a constant-Q transform of
    ``n_octaves · bins_per_octave`` bins, each frame scaled to a maximum of 1. With
    ``tuning=None`` the tuning is estimated once from the whole array (every channel together)."""
    only("norm", norm, (np.inf,), "each frame is scaled by its maximum (norm=np.inf), librosa's default")
    only("threshold", threshold, (0.0,), "nothing is zeroed below a threshold (0.0), librosa's default")
    only("window", window, (None,), "pitch classes are not smoothed (window=None), librosa's default")
    only("cqt_mode", cqt_mode, ("full",), "the full constant-Q transform, librosa's default")
    if bins_per_octave is None:
        bins_per_octave = n_chroma
    n_bins = int(n_octaves) * int(bins_per_octave)
    if (y is None) == (C is None):
        raise SoundcheckError("chroma_cqt: give exactly one of y= (audio) or C= (a constant-Q transform)")
    if C is not None:
        mags, lead, in_dtype = matrix_rows(np.abs(np.asarray(C)), "C")
        fb = filters.cq_to_chroma(mags.shape[1], bins_per_octave=bins_per_octave, n_chroma=n_chroma, fmin=fmin)
        out = np.einsum("cf,rft->rct", fb, mags)
        peak = np.max(np.abs(out), axis=1, keepdims=True)
        out = np.where(peak < np.finfo(np.float32).tiny, out, out / np.where(peak == 0, 1, peak))
        return unfold(out, lead).astype(real_dtype(in_dtype), copy=False)
    rows, lead, in_dtype = audio_rows(y)
    out = _native.chroma_cqt(rows, int(sr), _cqt_args(hop_length, fmin, n_bins, bins_per_octave, 0.0, 1, 0.01, True),
                             None if tuning is None else float(tuning), int(n_chroma))
    return unfold(out, lead).astype(real_dtype(in_dtype), copy=False)


def tonnetz(*, y=None, sr=22050, chroma=None, **kwargs):
    """`librosa.feature.tonnetz`: ``(..., 6, n_frames)``, the tonal centroids of ``chroma`` (by
    default ``chroma_cqt(y=y, sr=sr, **kwargs)``) on the circles of fifths, minor and major thirds."""
    if (y is None) == (chroma is None):
        raise SoundcheckError("tonnetz: give exactly one of y= (audio) or chroma= (a chromagram)")
    if chroma is None:
        chroma = chroma_cqt(y=y, sr=sr, **kwargs)
    mats, lead, in_dtype = matrix_rows(chroma, "chroma")
    return unfold(_native.tonnetz(mats), lead).astype(real_dtype(in_dtype), copy=False)
