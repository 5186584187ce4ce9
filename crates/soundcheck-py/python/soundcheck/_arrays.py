"""librosa's array conventions: signals and spectrograms carry any leading axes (channels,
stems, batches); the transforms work on the last axis (or the last two). The Rust side takes
C-contiguous float32 rows, so each call folds the leading axes into rows and unfolds them after.
"""

import warnings

import numpy as np

from ._errors import SoundcheckError


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


def count(name, value, minimum=0):
    """An integer argument as the Rust side takes it (an unsigned size): a negative or
    non-integer value is named here, not left to Python's OverflowError."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer, float, np.floating)):
        raise SoundcheckError(f"{name}={shown(value)} cannot be used: expected an integer")
    if value != int(value) or int(value) < minimum:
        raise SoundcheckError(f"{name}={value!r} cannot be used: expected an integer of at least {minimum}")
    return int(value)


def stft_args(n_fft=2048, hop_length=None, win_length=None, center=True, pad_mode="constant", window="hann",
              length=None):
    """The STFT settings as the Rust side takes them: (n_fft, hop_length, win_length, center,
    pad_mode, window samples or None for Hann). With the signal's `length`, librosa's warning
    for a centred frame longer than the signal."""
    n_fft = count("n_fft", n_fft)
    if center and length is not None and n_fft > length:
        warnings.warn(f"n_fft={n_fft} is too large for input signal of length={length}", stacklevel=3)
    hop_length = None if hop_length is None else count("hop_length", hop_length)
    win_length = None if win_length is None else count("win_length", win_length)
    samples = window_samples(window, n_fft if win_length is None else win_length, n_fft)
    return n_fft, hop_length, win_length, bool(center), str(pad_mode), samples


HANN = ("hann", "hann_window")


def window_samples(window, n, n_fft):
    """The `n` samples of `window` as librosa's `filters.get_window` gives them (a scipy
    window name or tuple, a function of the length, or an array of `n` values); ``None`` for the
    Hann window, which the Rust side builds itself. Names other than Hann need scipy, as in
    librosa."""
    if isinstance(window, str) and window in HANN:
        return None
    if not 1 <= n <= n_fft:
        return None  # the Rust side names the win_length
    if callable(window):
        w = window(n)
    elif isinstance(window, (str, tuple)) or np.isscalar(window):
        try:
            from scipy.signal import get_window
        except ImportError:
            raise SoundcheckError(
                f"window={window!r} needs scipy to evaluate the name, as librosa does: pip install scipy "
                "(or pass the window's samples as an array)") from None
        try:
            w = get_window(window, n, fftbins=True)
        except (ValueError, TypeError) as e:
            raise SoundcheckError(f"window={window!r} cannot be used: {e}") from None
    elif isinstance(window, (np.ndarray, list)):
        w = np.asarray(window)
        if len(w) != n:
            raise SoundcheckError(f"Window size mismatch: {len(w)} != {n}: window has {len(w)} samples, "
                                  f"expected win_length = {n} (n_fft when win_length is unset)")
    else:
        raise SoundcheckError(f"Invalid window specification: {window!r}: expected a name, a function or an array")
    w = np.asarray(w)
    if w.ndim != 1 or np.iscomplexobj(w):
        raise SoundcheckError(f"window has shape {w.shape} and dtype {w.dtype}: expected {n} real samples")
    return np.ascontiguousarray(w, dtype=np.float32)


def shown(value):
    """An argument's value for a message: arrays by shape, not by every element."""
    if isinstance(value, np.ndarray):
        return f"<array of shape {value.shape}>"
    return repr(value)


def _same(value, allowed):
    if value is allowed:
        return True
    if isinstance(value, np.ndarray) or isinstance(allowed, np.ndarray):
        return False
    try:
        return bool(value == allowed)
    except (TypeError, ValueError):
        return False


def only(name, value, allowed, why):
    """Refuses an option soundcheck does not implement, instead of silently ignoring it."""
    if not any(_same(value, a) for a in (allowed if isinstance(allowed, tuple) else (allowed,))):
        raise SoundcheckError(f"{name}={shown(value)} is not supported: {why}")
