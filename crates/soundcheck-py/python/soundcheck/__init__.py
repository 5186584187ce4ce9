"""soundcheck for Python.

- ``soundcheck.check(model, x, y)``: Keras's shape rules applied before ``fit``, with the
  diagnosis and its fix.
- librosa's functions under librosa's names, signatures and defaults, at Rust speed:
  ``load``, ``resample``, ``stft``, ``istft``, ``power_to_db``, ``amplitude_to_db``,
  ``filters.mel``, ``feature.melspectrogram``, ``feature.mfcc``, ``feature.delta``,
  ``feature.rms``, ``feature.zero_crossing_rate``, ``feature.spectral_*`` (centroid, bandwidth,
  rolloff, flatness, contrast), ``feature.chroma_stft``, ``filters.chroma``, ``estimate_tuning``,
  ``onset.onset_strength``, ``cqt``, ``feature.chroma_cqt``, ``filters.cq_to_chroma``,
  ``feature.tonnetz``.
- ``load_keras(path_or_model)``: a trained Keras model (``.keras``, Keras 2 ``.h5``, or a live
  ``keras.Model``) run by soundcheck's network; ``export_keras(run, path)``: a soundcheck run as a
  ``.keras`` file Keras opens.
- museval's ``evaluate``.
- ``batch``: any of these over many files, on a Dask cluster's workers or in this process.

Every failure raises ``SoundcheckError`` naming the argument and the fix: a ``ValueError``, and
librosa's own ``librosa.ParameterError`` when librosa is installed, so code that catches
librosa's errors catches soundcheck's.
"""

from . import batch, feature, filters, onset
from ._audio import (amplitude_to_db, cqt, estimate_tuning, istft, load, magnitude, power, power_to_db,
                     resample, spectrogram, stft)
from ._check import Layer, Report, ShapeError, check
from ._eval import evaluate
from ._keras import KerasModel, export_keras, load_keras
from ._errors import SoundcheckError

__version__ = "0.1.0"

__all__ = [
    "SoundcheckError", "ShapeError", "Report", "Layer", "check", "evaluate",
    "load_keras", "export_keras", "KerasModel",
    "load", "resample", "stft", "istft", "cqt", "magnitude", "power", "spectrogram", "estimate_tuning",
    "power_to_db", "amplitude_to_db", "feature", "filters", "onset", "batch",
]
