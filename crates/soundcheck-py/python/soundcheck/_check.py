"""`soundcheck.check`: Keras's shape rules applied to a model and the arrays it will get,
before anything trains."""

import json
import os

import numpy as np

from . import _native
from ._errors import SoundcheckError


class ShapeError(SoundcheckError):
    """A model that does not fit its own layers, its data or its labels.

    Attributes: ``kind`` (e.g. ``"flattened_input"``), ``layer`` and ``layer_type`` (or None),
    ``message`` (layer, shapes and cause in one sentence), ``fix``, ``received``, ``expected``,
    ``cause`` and ``notes`` (what Keras itself would say). ``str()`` is the rustc-style report.
    """

    def __init__(self, error, rendered):
        super().__init__(rendered)
        self.kind = error["kind"]
        self.layer = error.get("layer")
        self.layer_type = error.get("layer_type")
        self.message = error["message"]
        self.fix = error.get("fix", "")
        self.received = error.get("received")
        self.expected = error.get("expected")
        self.cause = error.get("cause", "")
        self.notes = list(error.get("notes", []))
        self._rendered = rendered

    def __str__(self):
        return self._rendered


class Layer:
    """One inferred layer: ``name``, ``type``, ``output_shape`` (batch axis first, None where
    Keras prints None) and ``params``."""

    __slots__ = ("name", "type", "output_shape", "params")

    def __init__(self, d):
        self.name = d["name"]
        self.type = d["type"]
        shape = d["output_shape"]
        # Multi-output layers give a list of shapes; a single shape is a tuple as Keras prints it.
        if shape and isinstance(shape[0], list):
            self.output_shape = [tuple(s) for s in shape]
        else:
            self.output_shape = tuple(shape)
        self.params = d["params"]

    def __repr__(self):
        return f"Layer({self.name!r}, {self.type!r}, output_shape={self.output_shape}, params={self.params})"


class Report:
    """What `check` found: ``ok``, ``layers``, ``error`` (a ShapeError or None), ``summary()``
    (the table Keras's ``model.summary()`` prints), ``to_dict()`` (the CLI's ``--json``), and
    ``str()``, the CLI's report."""

    def __init__(self, as_json, rendered, summary):
        self._dict = json.loads(as_json)
        self._rendered = rendered
        self._summary = summary
        self.ok = bool(self._dict["ok"])
        self.layers = [Layer(d) for d in self._dict["layers"]]
        err = self._dict.get("error")
        self.error = None if err is None else ShapeError(err, _error_text(rendered))
        self.total_params = self._dict.get("total_params")
        self.output_shapes = [tuple(s) for s in self._dict.get("predict_output_shapes", [])] or None

    def summary(self):
        return self._summary

    def to_dict(self):
        return json.loads(json.dumps(self._dict))

    def __bool__(self):
        return self.ok

    def __str__(self):
        return self._rendered

    def __repr__(self):
        if self.ok:
            return f"<soundcheck.Report ok: {len(self.layers)} layers, {self.total_params} params>"
        return f"<soundcheck.Report {self.error.kind}: {self.error.message}>"

    def _repr_pretty_(self, p, cycle):
        p.text(self._rendered)


def _error_text(rendered):
    """The diagnosis part of the report (from its `error[` line)."""
    i = rendered.find("error[")
    return rendered[i:] if i >= 0 else rendered


def _model_text(model):
    """(text, format, origin) of anything `check` accepts as a model."""
    if hasattr(model, "to_json") and callable(model.to_json):
        return model.to_json(), "json", type(model).__name__
    if isinstance(model, dict):
        return json.dumps(model), "json", None
    if isinstance(model, (str, bytes, os.PathLike)):
        # Read by the shape crate, as the CLI reads it (.keras archives with their size bound).
        path = os.fsdecode(model)
        return path, "path", path
    raise SoundcheckError(
        f"model is a {type(model).__name__}: expected a Keras model (anything with to_json()), a dict, "
        "or the path of a .keras/.json/.toml file"
    )


def _array_facts(a, name):
    """(shape, is_integer) of an array, or of a shape given as a tuple/list of ints."""
    if a is None:
        return None, None
    if isinstance(a, (tuple, list)) and all(isinstance(d, (int, np.integer)) for d in a):
        if any(int(d) < 0 for d in a):
            raise SoundcheckError(f"{name}={tuple(a)}: a shape has no negative sizes")
        return [int(d) for d in a], None
    shape = getattr(a, "shape", None)
    dtype = getattr(a, "dtype", None)
    if shape is None:
        a = np.asarray(a)
        shape, dtype = a.shape, a.dtype
        # np.asarray makes a 0-d array of anything (a string, a path, a dict): named as what
        # it is, not as an array of shape ().
        if a.dtype.kind in "OUSV" or a.ndim == 0:
            raise SoundcheckError(
                f"{name} is a {type(a.item() if a.ndim == 0 else a).__name__}, not an array: "
                f"expected a numpy array (or a tensor, or a shape as a tuple of ints)"
            )
    integer = None
    if dtype is not None:
        try:
            integer = bool(np.issubdtype(np.dtype(dtype), np.integer))
        except TypeError:
            integer = None  # a framework dtype numpy does not know: leave the dtype check out
    return [int(d) for d in shape], integer


def check(model, x=None, y=None, loss=None, *, raise_on_error=False):
    """Check `model` against the arrays it will be given, as Keras's `fit` would, before it runs.

    - model: a Keras model (anything with ``to_json()``; an unbuilt Sequential is built on
      ``x``'s shape, as Keras builds on its first batch), a dict, or a ``.keras``/``.json``/
      ``.toml`` path.
    - x, y: numpy arrays (their shapes and dtypes are read, not their values) or shapes.
    - loss: a Keras loss name; the model's own when None.

    Returns a `Report`; with ``raise_on_error=True`` a misfit raises `ShapeError` instead.
    """
    text, fmt, origin = _model_text(model)
    feed, feed_int = _array_facts(x, "x")
    labels, labels_int = _array_facts(y, "y")
    report = Report(*_native.check_model(text, fmt, origin, feed, feed_int, labels, labels_int, loss))
    if raise_on_error and report.error is not None:
        raise report.error
    return report
