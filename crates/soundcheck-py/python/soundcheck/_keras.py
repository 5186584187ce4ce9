"""Trained Keras models run by soundcheck's network, and soundcheck runs as `.keras` files: the
Rust code of the CLI's ``predict --model`` and ``export``, with its errors.

A live ``keras.Model`` is saved into a buffer in memory by Keras's own saving code (the
``.keras`` archive ``model.save`` writes), and that buffer is read as a ``.keras`` file is:
weights then come from the positions Keras saves them at, the same mapping every ``.keras``
file goes through, instead of a second one from variable names; nothing is written to disk.
"""

import io
import json
import os

import numpy as np

from . import _native
from ._errors import SoundcheckError


def _is_keras_model(obj):
    return callable(getattr(obj, "to_json", None)) and callable(getattr(obj, "save", None))


def _archive_of(model):
    """The `.keras` archive of a live Keras 3 model, in memory."""
    if not getattr(model, "built", True):
        raise SoundcheckError(
            f"model {getattr(model, 'name', '')!r} is not built, so it has no weights yet: "
            "call it on a batch, or give it an Input, then pass it again"
        )
    try:
        from keras.src.saving import saving_lib
    except ImportError as e:
        raise SoundcheckError(
            f"model is a {type(model).__name__}, but Keras 3 cannot be imported to save it in memory ({e}): "
            "save it with model.save('model.keras') and pass the path"
        ) from None
    buffer = io.BytesIO()
    try:
        saving_lib.save_model(model, buffer)
    except Exception as e:
        # A subclassed model without get_config, a custom layer Keras cannot serialise: the
        # .keras format cannot hold it, so neither can soundcheck read it.
        raise SoundcheckError(
            f"model {getattr(model, 'name', '')!r} cannot be saved as a .keras archive by Keras "
            f"({type(e).__name__}: {e}): soundcheck reads models built from Keras's own layers"
        ) from None
    return buffer.getvalue()


def load_keras(model):
    """A trained Keras model run by soundcheck's network (the engine of ``soundcheck predict``).

    - model: the path of a ``.keras`` file (Keras 3) or a full-model ``.h5`` file (Keras 2's
      ``model.save('model.h5')``), or a live, built ``keras.Model`` with its weights (Keras 3;
      saved into memory, no file is written).

    Returns a `KerasModel`: ``predict(x)`` equals Keras's ``model.predict(x)`` within float32
    rounding. A file or model soundcheck cannot run raises ``SoundcheckError`` naming the layer
    and the weight, as the CLI does.
    """
    if isinstance(model, (str, bytes, os.PathLike)):
        return KerasModel(_native.load_keras_file(os.fsdecode(model)))
    if _is_keras_model(model):
        origin = f"keras model '{getattr(model, 'name', type(model).__name__)}' (in memory)"
        return KerasModel(_native.load_keras_archive(_archive_of(model), origin))
    raise SoundcheckError(
        f"model is a {type(model).__name__}: expected the path of a .keras or .h5 file, or a keras.Model"
    )


def export_keras(run, path):
    """Writes the model of a soundcheck run folder (``soundcheck train``, or ``soundcheck convert
    model.keras RUN``) with its trained weights as a ``.keras`` file that Keras 3 opens with
    ``keras.saving.load_model`` (``soundcheck export RUN PATH``). The architecture and every
    weight are kept, not the optimizer state: the model opens uncompiled. The file is written
    atomically and never over one of the run's own files."""
    for name, value in (("run", run), ("path", path)):
        if not isinstance(value, (str, bytes, os.PathLike)):
            raise SoundcheckError(f"{name} is a {type(value).__name__}: expected a path")
    _native.export_keras(os.fsdecode(run), os.fsdecode(path))


def _as_input(name, x):
    """(name, float32 C-ordered values, was integer, was complex) of one input array."""
    a = np.asarray(x)
    if a.dtype.kind not in "biufc":
        raise SoundcheckError(
            f"{'x' if name is None else f'x[{name!r}]'} holds {a.dtype} values: expected a numeric array"
        )
    complex_ = a.dtype.kind == "c"
    values = np.asarray(a.real if complex_ else a, dtype=np.float32, order="C")
    return name, values, a.dtype.kind in "biu", complex_


class KerasModel:
    """A trained Keras model (`load_keras`): ``predict``, ``summary()``, ``name``,
    ``input_names``/``output_names``, ``input_shape``/``output_shape`` (as Keras gives them:
    one tuple with None for the batch axis, or a list of them for several)."""

    def __init__(self, native):
        self._native = native
        d = json.loads(native.describe())
        self.name = d["name"]
        self.origin = d["origin"]
        self.input_names = [n for n, _ in d["inputs"]]
        self.output_names = [n for n, _ in d["outputs"]]
        self._inputs = [tuple(s) for _, s in d["inputs"]]
        self._outputs = [None if s is None else tuple(s) for _, s in d["outputs"]]
        self._summary = d["summary"]

    @property
    def input_shape(self):
        return self._inputs[0] if len(self._inputs) == 1 else list(self._inputs)

    @property
    def output_shape(self):
        return self._outputs[0] if len(self._outputs) == 1 else list(self._outputs)

    def summary(self):
        """Keras's ``model.summary()`` table, as a string."""
        return self._summary

    def predict(self, x, batch_size=32):
        """The model's outputs for ``x``, as Keras's ``model.predict(x)``: a numpy array, or a list
        of them (one per output) for a model of several outputs.

        - x: an array (batch axis first) for a model of one input; a list of arrays in the
          model's input order, or a dict of them by input name, for several.
        - batch_size: examples per forward pass (bounds memory).

        Every array is checked against the model first (its input, shape, finite values).
        """
        if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) or batch_size < 0:
            raise SoundcheckError(f"`batch_size` {batch_size!r}: expected a positive number of examples")
        if isinstance(x, dict):
            inputs = [_as_input(str(k), v) for k, v in x.items()]
        elif isinstance(x, (list, tuple)):
            if len(x) != len(self.input_names):
                raise SoundcheckError(
                    f"x is a list of {len(x)} arrays: the model takes {len(self.input_names)} "
                    f"inputs ({', '.join(self.input_names)}), in this order"
                )
            inputs = [_as_input(n, v) for n, v in zip(self.input_names, x)]
        else:
            inputs = [_as_input(None, x)]
        outputs = [y for _, y in self._native.predict(inputs, int(batch_size))]
        return outputs[0] if len(outputs) == 1 else outputs

    def __repr__(self):
        return (f"<soundcheck.KerasModel {self.name!r} from {self.origin}: input {self.input_shape}, "
                f"output {self.output_shape}>")
