"""museval's `evaluate`: BSS Eval v4 images, per window."""

import warnings

import numpy as np

from . import _native
from ._arrays import count, only
from ._errors import SoundcheckError


def _sources(a, name):
    a = np.asarray(a, dtype=np.float64)
    if a.ndim > 3 or a.ndim == 0:
        raise SoundcheckError(f"{name} has shape {a.shape}: expected (nsrc, nsampl, nchan) as museval takes it")
    # np.atleast_3d, as museval's bss_eval: (nsampl,) → (1, nsampl, 1); (nsrc, nsampl) → (nsrc, nsampl, 1).
    return np.atleast_3d(a)


def evaluate(references, estimates, win=1 * 44100, hop=1 * 44100, mode="v4", padding=True):
    """`museval.evaluate`: ``(SDR, ISR, SIR, SAR)``, each ``(nsrc, nwin)``, NaN for windows where
    a reference is silent, as museval gives."""
    only("mode", mode, ("v4",), "soundcheck computes BSS Eval v4 (filters over the whole track)")
    refs = _sources(references, "references")
    ests = _sources(estimates, "estimates")
    # museval's special case: a warning per empty input, and empty scores.
    for a, name in ((refs, "reference_sources"), (ests, "estimated_sources")):
        if a.size == 0:
            warnings.warn(f"{name} is empty, should be of size (nsrc, nsample, nchan). sdr, isr, sir and sar "
                          "will all be empty np.ndarrays", stacklevel=2)
    if refs.size == 0 or ests.size == 0:
        return np.array([]), np.array([]), np.array([]), np.array([])
    if padding and ests.shape[1] != refs.shape[1]:
        if ests.shape[1] > refs.shape[1]:
            ests = ests[:, : refs.shape[1], :]
        else:
            ests = np.pad(ests, [(0, 0), (0, refs.shape[1] - ests.shape[1]), (0, 0)])
    if refs.shape != ests.shape:
        raise SoundcheckError(
            f"references {refs.shape} and estimates {ests.shape} differ: give one estimate per reference source, "
            "with the same samples and channels (or padding=True for the length)"
        )
    win, hop = count("win", win), count("hop", hop)
    return _native.bss_eval(np.ascontiguousarray(refs), np.ascontiguousarray(ests), win, hop)
