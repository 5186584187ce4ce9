"""librosa's array conventions: signals and spectrograms carry any leading axes (channels,
stems, batches); the transforms work on the last axis (or the last two). The Rust side takes
C-contiguous float32 rows, so each call folds the leading axes into rows and unfolds them after.
"""

import numpy as np

from ._native import SoundcheckError


def audio_rows(y, name="y"):
    """`y` (..., n) as float32 rows (-1, n), with the leading shape; checked as librosa's
    `valid_audio` checks it (floating point, at least one axis)."""
    a = np.asarray(y)
    if a.ndim == 0:
        raise SoundcheckError(f"{name} is a scalar: expected an audio array of shape (..., n)")
    if not np.issubdtype(a.dtype, np.floating):
        raise SoundcheckError(
            f"{name} has dtype {a.dtype}: expected floating-point audio; "
            f"convert with {name}.astype(np.float32) (integer PCM: divide by the full scale first)"
        )
    # The row count spelled out, not -1: numpy cannot infer it for an empty array, and the Rust
    # side names an empty signal itself.
    rows = int(np.prod(a.shape[:-1]))
    return np.ascontiguousarray(a.reshape(rows, a.shape[-1]), dtype=np.float32), a.shape[:-1], a.dtype


def matrix_rows(S, name="S", dtype=np.float32):
    """`S` (..., rows, cols) as contiguous stacked matrices (-1, rows, cols), with the leading shape."""
    a = np.asarray(S)
    if a.ndim < 2:
        raise SoundcheckError(f"{name} has shape {a.shape}: expected (..., n_bins, n_frames)")
    flat = np.ascontiguousarray(a.reshape((int(np.prod(a.shape[:-2])),) + a.shape[-2:]), dtype=dtype)
    return flat, a.shape[:-2], a.dtype


def n_fft_of(mats, name="S"):
    """The n_fft of a stack of spectrograms `(-1, 1 + n_fft/2, n_frames)`, as librosa infers it
    (2·(bins − 1)); under 2 bins there is no FFT size to infer."""
    bins = mats.shape[1]
    if bins < 2:
        raise SoundcheckError(
            f"{name} has {bins} frequency bin(s): expected (..., 1 + n_fft/2, n_frames) with at least 2 bins"
        )
    return 2 * (bins - 1)


def unfold(out, lead):
    """Rows back under the leading shape: (-1, ...) → lead + (...)."""
    return out.reshape(tuple(lead) + out.shape[1:])


def real_dtype(dtype):
    """The float dtype librosa returns for input of `dtype` (float32 for anything narrower)."""
    return np.float64 if np.dtype(dtype) in (np.float64, np.complex128) else np.float32


def complex_dtype(dtype):
    return np.complex128 if real_dtype(dtype) == np.float64 else np.complex64


def stft_args(n_fft=2048, hop_length=None, win_length=None, center=True, pad_mode="constant"):
    """The STFT settings as the Rust side takes them: (n_fft, hop_length, win_length, center, pad_mode)."""
    return (int(n_fft), None if hop_length is None else int(hop_length),
            None if win_length is None else int(win_length), bool(center), str(pad_mode))


def only(name, value, allowed, why):
    """Refuses an option soundcheck does not implement, instead of silently ignoring it."""
    if isinstance(allowed, tuple):
        ok = any(value is a or value == a for a in allowed)
    else:
        ok = value is allowed or value == allowed
    if not ok:
        raise SoundcheckError(f"{name}={value!r} is not supported: {why}")
