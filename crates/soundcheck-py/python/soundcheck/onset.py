"""`librosa.onset`: the onset strength envelope."""

import numpy as np

from . import _native
from ._arrays import audio_rows, count, matrix_rows, unfold
from ._audio import power_to_db
from ._errors import SoundcheckError
from .feature import _mel_options, melspectrogram


def _positive(name, v):
    if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 1:
        raise SoundcheckError(f"{name}={v!r} cannot be used: expected a positive integer (librosa's default 1)")
    return int(v)


def onset_strength(*, y=None, sr=22050, S=None, n_fft=2048, hop_length=512, lag=1, max_size=1, ref=None,
                   detrend=False, center=True, feature=None, aggregate=None, **kwargs):
    """`librosa.onset.onset_strength`: spectral flux of the log-power mel spectrogram (or of
    ``feature(y=y, sr=sr, n_fft=n_fft, hop_length=hop_length, **kwargs)``, or of a given `S`),
    reduced over bands by `aggregate` (the mean by default), ``(..., n_frames)``. From `y`, the
    dB floor is set by the whole array, as librosa sets it; `kwargs` go to the mel spectrogram
    (n_mels, fmin, fmax, ...) or to `feature`."""
    lag, max_size = _positive("lag", lag), _positive("max_size", max_size)
    if aggregate is False:
        raise SoundcheckError("aggregate parameter cannot be False when computing full-spectrum onset strength: "
                              "give a function such as np.median, or None for the mean")
    if (y is None) == (S is None):
        raise SoundcheckError("onset_strength: give exactly one of y= (audio) or S= (a log-power spectrogram)")
    if y is not None and feature is not None:
        S = power_to_db(np.abs(feature(y=y, sr=sr, n_fft=n_fft, hop_length=hop_length, **kwargs)))
        y = None
    aggregate = np.mean if aggregate is None else aggregate
    if not (aggregate is np.mean and ref is None):
        if y is not None:
            kwargs.setdefault("fmax", 0.5 * sr)
            S = power_to_db(melspectrogram(y=y, sr=sr, n_fft=n_fft, hop_length=hop_length, **kwargs))
        return _flux(S, n_fft, hop_length, lag, max_size, ref, detrend, center, aggregate)
    if S is not None:
        mats, lead, _ = matrix_rows(S)
        out = _native.onset_strength_from_spectrogram(mats, int(n_fft), int(hop_length), lag, max_size,
                                                      bool(detrend), bool(center))
        return unfold(out, lead)
    kwargs.setdefault("fmax", 0.5 * sr)
    mel, _ = _mel_options(**kwargs)
    rows, lead, _ = audio_rows(y)
    out = _native.onset_strength(rows, int(sr), int(n_fft), int(hop_length), lag, max_size, bool(detrend),
                                 bool(center), mel)
    return unfold(out, lead)


def _flux(S, n_fft, hop_length, lag, max_size, ref, detrend, center, aggregate):
    """librosa's `onset_strength_multi` over one channel of all bands, in numpy: the path for a
    given reference spectrum or an aggregate other than the mean (the Rust side fuses the mean)."""
    S = np.atleast_2d(np.asarray(S))
    if ref is None:
        ref = S if max_size == 1 else _max_filter(S, max_size)
    else:
        ref = np.asarray(ref)
        if ref.shape != S.shape:
            raise SoundcheckError(f"Reference spectrum shape {ref.shape} must match input spectrum {S.shape}: "
                                  "give ref= of S's shape")
    env = np.maximum(0.0, S[..., lag:] - ref[..., :-lag])
    if not callable(aggregate):
        raise SoundcheckError(f"aggregate={aggregate!r} cannot be used: expected a function such as np.median")
    env = np.asarray(aggregate(env, axis=-2))[..., np.newaxis, :]
    pad = lag + (count("n_fft", n_fft) // (2 * count("hop_length", hop_length, 1)) if center else 0)
    env = np.pad(env, [(0, 0)] * (env.ndim - 1) + [(pad, 0)])
    if detrend:
        env = _detrend(env)
    if center:
        env = env[..., : S.shape[-1]]
    return env[..., 0, :]


def _max_filter(S, size):
    """scipy.ndimage.maximum_filter1d(S, size, axis=-2): the window [i − size//2, i + (size−1)//2],
    edges mirrored with the edge sample repeated (ndimage's 'reflect')."""
    padded = np.pad(S, [(0, 0)] * (S.ndim - 2) + [(size // 2, (size - 1) // 2), (0, 0)], mode="symmetric")
    return np.lib.stride_tricks.sliding_window_view(padded, size, axis=-2).max(axis=-1)


def _detrend(env):
    """scipy.signal.lfilter([1, −1], [1, −0.99], env, axis=-1): out[t] = env[t] − env[t−1] + 0.99 out[t−1]."""
    out = np.empty_like(env)
    prev_in = np.zeros(env.shape[:-1], env.dtype)
    prev_out = np.zeros(env.shape[:-1], env.dtype)
    for t in range(env.shape[-1]):
        prev_out = env[..., t] - prev_in + 0.99 * prev_out
        prev_in = env[..., t]
        out[..., t] = prev_out
    return out
