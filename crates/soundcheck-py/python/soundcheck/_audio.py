"""librosa's core functions: load, resample, stft, istft, magnitude/power, dB scaling."""

import os
import shutil
import tempfile
import warnings

import numpy as np

from . import _native
from ._arrays import (HANN, audio_rows, complex_dtype, count, matrix_rows, n_fft_of, only, real_dtype, shown,
                      stft_args, unfold)
from ._errors import SoundcheckError


def load(path, *, sr=22050, mono=True, offset=0.0, duration=None, dtype=np.float32, res_type="soxr_hq"):
    """`librosa.load`: decode WAV/FLAC/OGG/MP3, take the excerpt, mix to mono, resample.

    `path` is a path, an open binary file (read from its current position) or a
    `soundfile.SoundFile` opened on a path. ``duration=0`` gives no samples, as librosa gives; a
    `res_type` other than soxr_hq resamples as `resample` does. Returns ``(y, sr)`` with ``y`` of
    shape ``(n,)`` when mono, else ``(channels, n)``.
    """
    if sr is not None:
        sr = count("sr", sr, minimum=1)
    if res_type not in RES_TYPES:
        # Named before the file is decoded, not after.
        raise SoundcheckError(f"res_type={shown(res_type)} cannot be used: expected one of {', '.join(RES_TYPES)}")
    if res_type != "soxr_hq" and sr is not None:
        y, native = load(path, sr=None, mono=mono, offset=offset, duration=duration, dtype=dtype)
        return resample(y, orig_sr=native, target_sr=sr, res_type=res_type), sr
    if isinstance(path, (str, bytes, os.PathLike)):
        return _load_path(os.fspath(path), sr, mono, offset, duration, dtype)
    name = getattr(path, "name", None)
    if _is_soundfile(path):
        if not isinstance(name, (str, bytes, os.PathLike)):
            raise SoundcheckError("path is a soundfile.SoundFile opened on a file object: give soundcheck the file "
                                  "object itself, or the path")
        # librosa reads a SoundFile from its start (seeking to `offset`): the file it was opened on.
        return _load_path(os.fspath(name), sr, mono, offset, duration, dtype)
    if not hasattr(path, "read"):
        raise SoundcheckError(f"path={shown(path)} cannot be loaded: expected a file path, an open file or a "
                              "soundfile.SoundFile")
    # An open file, read from its current position: its bytes go to a private temporary file
    # the decoder reads by path.
    suffix = os.path.splitext(os.fspath(name))[1] if isinstance(name, (str, os.PathLike)) else ""
    with tempfile.NamedTemporaryFile(suffix=suffix) as tmp:
        try:
            shutil.copyfileobj(path, tmp)
        except TypeError:
            raise SoundcheckError(f"path={shown(path)} is a file opened in text mode: open it with "
                                  "open(path, 'rb')") from None
        tmp.flush()
        return _load_path(tmp.name, sr, mono, offset, duration, dtype)


def _is_soundfile(obj):
    try:
        import soundfile
    except ImportError:
        return False
    return isinstance(obj, soundfile.SoundFile)


def _load_path(path, sr, mono, offset, duration, dtype):
    # The Rust loader refuses an empty excerpt (for the CLI, a mistake); librosa returns no
    # samples at the rate it would have used, so the file is read for its rate and emptied.
    empty = duration is not None and float(duration) == 0
    y, rate = _native.load(path, sr, bool(mono), float(offset),
                           None if duration is None or empty else float(duration))
    y = y[0] if mono else y
    if empty:
        y = y[..., :0]
    return y.astype(dtype, copy=False), rate


def resample(y, *, orig_sr, target_sr, res_type="soxr_hq", fix=True, scale=False, axis=-1):
    """`librosa.resample` along `axis`. ``res_type='soxr_hq'`` (the default) at whole-number
    rates is soundcheck's own: soxr's HQ recipe re-implemented, its output to float rounding.
    Every other `res_type`, and fractional rates, run the library librosa runs for it (soxr,
    resampy, samplerate, scipy), at its speed."""
    a = np.moveaxis(np.asarray(y), axis, -1)
    rows, lead, dtype = audio_rows(a)
    for name, rate in (("orig_sr", orig_sr), ("target_sr", target_sr)):
        if not isinstance(rate, (int, float, np.integer, np.floating)) or isinstance(rate, bool) or not 0 < rate < np.inf:
            raise SoundcheckError(f"{name}={shown(rate)} cannot be used: expected a positive sampling rate in Hz")
    if res_type not in RES_TYPES:
        raise SoundcheckError(f"res_type={shown(res_type)} cannot be used: expected one of {', '.join(RES_TYPES)}")
    if orig_sr == target_sr:
        return y  # librosa returns its input itself
    ratio = float(target_sr) / float(orig_sr)
    n = a.shape[-1]
    if res_type == "soxr_hq" and int(orig_sr) == orig_sr and int(target_sr) == target_sr:
        out = unfold(_native.resample(rows, count("orig_sr", orig_sr, 1), count("target_sr", target_sr, 1)), lead)
        if not fix:
            # soxr's own length, round(n · ratio) with halves up; fix=True pads it to ceil(n · ratio).
            out = out[..., : int(np.floor(n * ratio + 0.5))]
    else:
        out = _resample_by_library(a, orig_sr, target_sr, res_type)
        if fix:
            size = int(np.ceil(n * ratio))
            out = out[..., :size] if out.shape[-1] >= size else np.pad(
                out, [(0, 0)] * (out.ndim - 1) + [(0, size - out.shape[-1])])
    out = np.array(out, dtype=real_dtype(dtype))
    if scale:
        out /= np.sqrt(ratio)
    return np.moveaxis(out, -1, axis)


# librosa's res_types: soundcheck's own soxr_hq first, then those of soxr, resampy, scipy and
# samplerate, which librosa hands to those libraries.
RES_TYPES = ("soxr_hq", "soxr_vhq", "soxr_mq", "soxr_lq", "soxr_qq", "kaiser_best", "kaiser_fast", "sinc_window",
             "fft", "scipy", "polyphase", "linear", "zero_order_hold", "sinc_best", "sinc_medium", "sinc_fastest")


def _resample_by_library(a, orig_sr, target_sr, res_type):
    """`a` resampled along its last axis by the library librosa calls for `res_type`."""
    ratio = float(target_sr) / float(orig_sr)
    try:
        if res_type in ("scipy", "fft"):
            import scipy.signal
            return scipy.signal.resample(a, int(np.ceil(a.shape[-1] * ratio)), axis=-1)
        if res_type == "polyphase":
            if int(orig_sr) != orig_sr or int(target_sr) != target_sr:
                raise SoundcheckError(f"res_type='polyphase' with orig_sr={orig_sr!r}, target_sr={target_sr!r}: "
                                      "polyphase resampling is only supported for integer-valued sampling rates")
            import scipy.signal
            g = np.gcd(int(orig_sr), int(target_sr))
            return scipy.signal.resample_poly(a, int(target_sr) // g, int(orig_sr) // g, axis=-1)
        if res_type in ("linear", "zero_order_hold", "sinc_best", "sinc_fastest", "sinc_medium"):
            import samplerate
            return np.apply_along_axis(samplerate.resample, -1, a, ratio=ratio, converter_type=res_type)
        if res_type.startswith("soxr"):
            import soxr
            return np.apply_along_axis(soxr.resample, -1, a, in_rate=orig_sr, out_rate=target_sr, quality=res_type)
        import resampy
        return resampy.resample(a, orig_sr, target_sr, filter=res_type, axis=-1)
    except ImportError as e:
        raise SoundcheckError(
            f"res_type={res_type!r} needs the {e.name} package, which librosa also uses for it: pip install {e.name} "
            "(soundcheck's own resampler is res_type='soxr_hq')") from None


def _into(out, result, frames_may_exceed):
    """librosa's `out=`: the result written into a preallocated array of the same shape (for
    the STFT, at least as many frames: the first ones are filled and returned)."""
    if out is None:
        return result
    fits = out.shape[:-1] == result.shape[:-1] and (
        out.shape[-1] >= result.shape[-1] if frames_may_exceed else out.shape[-1] == result.shape[-1])
    if not fits:
        raise SoundcheckError(f"Shape mismatch for provided output array out.shape={out.shape} and target "
                              f"shape={result.shape}")
    if np.iscomplexobj(result) and not np.iscomplexobj(out):
        raise SoundcheckError(f"output with dtype={out.dtype} is not of complex type")
    target = out if out.shape == result.shape else out[..., : result.shape[-1]]
    target[...] = result
    return target


def stft(y, *, n_fft=2048, hop_length=None, win_length=None, window="hann", center=True, dtype=None,
         pad_mode="constant", out=None):
    """`librosa.stft`: ``(..., 1 + n_fft/2, n_frames)`` complex; `window` a scipy window name,
    a function of the length or an array, as librosa takes it."""
    rows, lead, in_dtype = audio_rows(y)
    args = stft_args(n_fft, hop_length, win_length, center, pad_mode, window, rows.shape[-1])
    result = unfold(_native.stft(rows, args), lead)
    return _into(out, result.astype(dtype or complex_dtype(in_dtype), copy=False), True)


def istft(stft_matrix, *, hop_length=None, win_length=None, n_fft=None, window="hann", center=True,
          dtype=None, length=None, out=None):
    """`librosa.istft`: the signal ``(..., n)`` back from ``(..., 1 + n_fft/2, n_frames)``."""
    mats, lead, in_dtype = matrix_rows(stft_matrix, "stft_matrix", np.complex64)
    if n_fft is None:
        n_fft = n_fft_of(mats, "stft_matrix")
    if length is not None:
        length = count("length", length)
    result = unfold(_native.istft(mats, stft_args(n_fft, hop_length, win_length, center, "constant", window),
                                  length), lead)
    return _into(out, result.astype(dtype or real_dtype(in_dtype), copy=False), False)


def spectrogram(y, *, n_fft=2048, hop_length=None, win_length=None, window="hann", center=True,
                pad_mode="constant", power=1.0):
    """``np.abs(librosa.stft(y, ...)) ** power`` in one pass, without the complex array."""
    rows, lead, in_dtype = audio_rows(y)
    out = _native.spectrogram(rows, stft_args(n_fft, hop_length, win_length, center, pad_mode, window,
                                              rows.shape[-1]), float(power))
    return unfold(out, lead).astype(real_dtype(in_dtype), copy=False)


def magnitude(y, **stft_kwargs):
    """``np.abs(librosa.stft(y, **stft_kwargs))``."""
    return spectrogram(y, power=1.0, **stft_kwargs)


def power(y, **stft_kwargs):
    """``np.abs(librosa.stft(y, **stft_kwargs)) ** 2``."""
    return spectrogram(y, power=2.0, **stft_kwargs)


def _to_db(amplitude, S, ref, amin, top_db):
    a = np.asarray(S)
    if np.iscomplexobj(a):
        name, fix = ("amplitude_to_db", "np.abs(S)") if amplitude else ("power_to_db", "np.abs(D)**2")
        warnings.warn(f"{name} was called on complex input so phase information will be discarded. To suppress "
                      f"this warning, call {name}({fix}) instead.", stacklevel=3)
        a = np.abs(a)
    if callable(ref):
        ref = ref(np.abs(a))
    a32 = np.ascontiguousarray(a, dtype=np.float32)
    if top_db is not None:
        top_db = float(top_db)
    out = _native.to_db(a32, amplitude, float(ref), float(amin), top_db)
    return out.astype(real_dtype(a.dtype), copy=False)


def power_to_db(S, *, ref=1.0, amin=1e-10, top_db=80.0):
    """`librosa.power_to_db`; `ref` a number or a function of the magnitudes (``np.max``);
    the `top_db` floor is set by the whole array, every channel together, as librosa sets it."""
    return _to_db(False, S, ref, amin, top_db)


def amplitude_to_db(S, *, ref=1.0, amin=1e-5, top_db=80.0):
    """`librosa.amplitude_to_db`."""
    return _to_db(True, S, ref, amin, top_db)


def estimate_tuning(*, y=None, sr=22050, S=None, n_fft=2048, resolution=0.01, bins_per_octave=12, **kwargs):
    """`librosa.estimate_tuning`: the deviation from A440 in fractions of a bin, from piptrack's
    peaks (150 Hz to 4 kHz) over the whole array; 0.0 when there are none."""
    only("resolution", resolution, (0.01,), "tuning is histogrammed in hundredths of a bin, librosa's default")
    if kwargs:
        raise SoundcheckError(f"estimate_tuning: piptrack options {sorted(kwargs)} are not supported; "
                              "soundcheck uses librosa's defaults")
    if (y is None) == (S is None):
        raise SoundcheckError("estimate_tuning: give exactly one of y= (audio) or S= (a spectrogram)")
    if S is not None:
        mats, _, _ = matrix_rows(np.abs(np.asarray(S)))
        n_fft = n_fft_of(mats)
    else:
        mats = spectrogram(y, n_fft=n_fft, power=1.0)
        mats = mats.reshape((-1,) + mats.shape[-2:])
    return float(_native.estimate_tuning(np.ascontiguousarray(mats, dtype=np.float32), int(sr), int(n_fft),
                                         int(bins_per_octave)))


def _cqt_args(hop_length, fmin, n_bins, bins_per_octave, tuning, filter_scale, sparsity, scale):
    """librosa.cqt's settings as the Rust side takes them."""
    return (count("hop_length", hop_length), None if fmin is None else float(fmin), count("n_bins", n_bins),
            count("bins_per_octave", bins_per_octave),
            float(tuning), float(filter_scale), float(sparsity), bool(scale))


def cqt(y, *, sr=22050, hop_length=512, fmin=None, n_bins=84, bins_per_octave=12, tuning=0.0, filter_scale=1,
        norm=1, sparsity=0.01, window="hann", scale=True, pad_mode="constant", res_type="soxr_hq", dtype=None):
    """`librosa.cqt`: ``(..., n_bins, n_frames)`` complex. With ``tuning=None`` the tuning is
    estimated from the whole array, as librosa estimates it."""
    only("norm", norm, (1,), "each filter is L1-normalised (norm=1), librosa's default")
    only("window", window, HANN, "the constant-Q filters use librosa's default Hann window")
    only("pad_mode", pad_mode, ("constant",), "the frames are zero-padded (pad_mode='constant'), librosa's default")
    if res_type is None:
        warnings.warn("Support for VQT with res_type=None is deprecated in librosa 0.10\nand will be removed in "
                      "version 1.0.", category=FutureWarning, stacklevel=2)
        res_type = "soxr_hq"
    only("res_type", res_type, ("soxr_hq",), "the constant-Q transform's octaves are resampled by soundcheck's "
         "soxr_hq")
    if tuning is None:
        tuning = estimate_tuning(y=y, sr=sr, bins_per_octave=bins_per_octave)
    rows, lead, in_dtype = audio_rows(y)
    out = _native.cqt(rows, int(sr), _cqt_args(hop_length, fmin, n_bins, bins_per_octave, tuning, filter_scale,
                                               sparsity, scale))
    return unfold(out, lead).astype(dtype or complex_dtype(in_dtype), copy=False)
