"""`librosa.filters`."""

import warnings

import numpy as np

from . import _native
from ._arrays import count, only


def mel(*, sr, n_fft, n_mels=128, fmin=0.0, fmax=None, htk=False, norm="slaney", dtype=np.float32):
    """`librosa.filters.mel`: the ``(n_mels, 1 + n_fft/2)`` filterbank. Filters that cover no
    FFT bin stay zeros, with librosa's warning."""
    only("norm", norm, ("slaney", None), "soundcheck implements Slaney area normalisation or none")
    fb, empty = _native.mel_filters(count("sr", sr, 1), count("n_fft", n_fft),
                                    (count("n_mels", n_mels), float(fmin), None if fmax is None else float(fmax),
                                     bool(htk), norm == "slaney"))
    if empty:
        warnings.warn("Empty filters detected in mel frequency basis. Some channels will produce empty responses. "
                      "Try increasing your sampling rate (and fmax) or reducing n_mels.", stacklevel=2)
    return fb.astype(dtype, copy=False)


def chroma(*, sr, n_fft, n_chroma=12, tuning=0.0, ctroct=5.0, octwidth=2, norm=2, base_c=True, dtype=np.float32):
    """`librosa.filters.chroma`: the ``(n_chroma, 1 + n_fft/2)`` filterbank."""
    only("norm", norm, (2,), "each bin's weights are normalised by their L2 norm, librosa's default")
    fb = _native.chroma_filters(int(sr), int(n_fft), float(tuning), int(n_chroma), float(ctroct),
                                None if octwidth is None else float(octwidth), bool(base_c))
    return fb.astype(dtype, copy=False)


def cq_to_chroma(n_input, *, bins_per_octave=12, n_chroma=12, fmin=None, window=None, base_c=True, dtype=np.float32):
    """`librosa.filters.cq_to_chroma`: the ``(n_chroma, n_input)`` map from constant-Q bins to
    pitch classes."""
    only("window", window, (None,), "pitch classes are not smoothed (window=None), librosa's default")
    only("base_c", base_c, (True,), "rows start at C (base_c=True), librosa's default")
    fb = _native.cq_to_chroma(int(n_input), int(bins_per_octave), int(n_chroma),
                              32.70319566257483 if fmin is None else float(fmin))
    return fb.astype(dtype, copy=False)
