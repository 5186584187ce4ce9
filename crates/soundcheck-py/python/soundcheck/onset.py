"""`librosa.onset`: the onset strength envelope."""

import numpy as np

from . import _native
from ._arrays import audio_rows, matrix_rows, only, unfold
from ._errors import SoundcheckError
from .feature import _mel_options


def _positive(name, v):
    if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 1:
        raise SoundcheckError(f"{name}={v!r} cannot be used: expected a positive integer (librosa's default 1)")
    return int(v)


def onset_strength(*, y=None, sr=22050, S=None, n_fft=2048, hop_length=512, lag=1, max_size=1, ref=None,
                   detrend=False, center=True, feature=None, aggregate=None, **kwargs):
    """`librosa.onset.onset_strength`: spectral flux of the log-power mel spectrogram (or of a
    given `S`), averaged over bands, ``(..., n_frames)``. From `y`, the dB floor is set by the
    whole array, as librosa sets it; `kwargs` go to the mel spectrogram (n_mels, fmin, fmax, ...)."""
    only("feature", feature, (None,), "the flux is taken of librosa's default, the mel spectrogram")
    only("aggregate", aggregate, (None, np.mean), "bands are averaged (np.mean), librosa's default")
    only("ref", ref, (None,), "the reference is the (max-filtered) spectrum itself, librosa's default")
    lag, max_size = _positive("lag", lag), _positive("max_size", max_size)
    if (y is None) == (S is None):
        raise SoundcheckError("onset_strength: give exactly one of y= (audio) or S= (a log-power spectrogram)")
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
