"""`librosa.filters`."""

import warnings

import numpy as np

from . import _native
from ._arrays import count, only, shown
from ._errors import SoundcheckError


def mel(*, sr, n_fft, n_mels=128, fmin=0.0, fmax=None, htk=False, norm="slaney", dtype=np.float32):
    """`librosa.filters.mel`: the ``(n_mels, 1 + n_fft/2)`` filterbank, each filter of Slaney's
    area (``norm="slaney"``), unscaled (``None``) or of unit p-norm (a number, as librosa's
    `util.normalize`). Filters that cover no FFT bin stay zeros, with librosa's warning."""
    p_norm = norm is not None and not isinstance(norm, str) and np.isscalar(norm)
    if not p_norm:
        only("norm", norm, ("slaney", None), "expected 'slaney', None or a number (a p-norm)")
    fb, empty = _native.mel_filters(count("sr", sr, 1), count("n_fft", n_fft),
                                    (count("n_mels", n_mels), float(fmin), None if fmax is None else float(fmax),
                                     bool(htk), norm == "slaney"))
    if empty:
        warnings.warn("Empty filters detected in mel frequency basis. Some channels will produce empty responses. "
                      "Try increasing your sampling rate (and fmax) or reducing n_mels.", stacklevel=2)
    if p_norm:
        length = np.linalg.norm(fb, ord=float(norm), axis=-1, keepdims=True)
        # As librosa's util.normalize: rows of (near) zero length are left as they are.
        fb = fb / np.where(length < np.finfo(fb.dtype).tiny, 1.0, length)
    return fb.astype(dtype, copy=False)


def chroma(*, sr, n_fft, n_chroma=12, tuning=0.0, ctroct=5.0, octwidth=2, norm=2, base_c=True, dtype=np.float32):
    """`librosa.filters.chroma`: the ``(n_chroma, 1 + n_fft/2)`` filterbank."""
    only("norm", norm, (2,), "each bin's weights are normalised by their L2 norm, librosa's default")
    fb = _native.chroma_filters(int(sr), int(n_fft), float(tuning), int(n_chroma), float(ctroct),
                                None if octwidth is None else float(octwidth), bool(base_c))
    return fb.astype(dtype, copy=False)


def _pitch_class_roll(fmin, n_chroma, base_c):
    """librosa's row roll of the map: fmin's pitch class (from C, or from A without `base_c`)
    in output bins, rounded as numpy rounds."""
    midi = np.mod(12 * (np.log2(fmin) - np.log2(440.0)) + 69, 12)
    return int(np.round((midi if base_c else midi - 9) * (n_chroma / 12.0)))


def cq_to_chroma(n_input, *, bins_per_octave=12, n_chroma=12, fmin=None, window=None, base_c=True, dtype=np.float32):
    """`librosa.filters.cq_to_chroma`: the ``(n_chroma, n_input)`` map from constant-Q bins to
    pitch classes; rows start at C (`base_c`) or at A; a `window` smooths each row as librosa's
    ``scipy.signal.convolve(map, [window], mode="same")`` does."""
    fmin = 32.70319566257483 if fmin is None else float(fmin)
    fb = _native.cq_to_chroma(count("n_input", n_input), count("bins_per_octave", bins_per_octave),
                              count("n_chroma", n_chroma), fmin)
    if not base_c:
        # The Rust side rolls for rows from C; the map from A is the same map rolled further.
        fb = np.roll(fb, _pitch_class_roll(fmin, n_chroma, False) - _pitch_class_roll(fmin, n_chroma, True), axis=0)
    fb = fb.astype(dtype, copy=False)
    if window is not None:
        w = np.asarray(window)
        if w.ndim != 1 or w.size == 0:
            raise SoundcheckError(f"window={shown(window)} cannot be used: expected a 1-D array of weights")
        full = np.stack([np.convolve(row, w) for row in fb]) if fb.size else fb
        # scipy's mode="same": the centre n_input columns of the full convolution.
        start = (full.shape[-1] - fb.shape[-1]) // 2
        fb = full[:, start:start + fb.shape[-1]]
    return fb
