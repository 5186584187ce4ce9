"""soundcheck.load_keras / export_keras against Keras 3.15.1, without Keras: the nn crate's forward
fixtures saved by Keras as `.keras` (and five as Keras 2 `.h5`) with Keras's `predict` on their
x.npy (tools/fixtures/keras_files.py), and Keras's `predict` on soundcheck's own export of each
(keras_export.py). A fixture folder holds a spec and its weights as a run folder does, so
`export_keras` writes from it directly. The tests at the end use a live Keras model and skip where
Keras is not installed."""

import json
import zipfile

import numpy as np
import pytest

import soundcheck as sc
from conftest import ROOT

NN = ROOT / "crates" / "soundcheck-nn" / "tests" / "fixtures"
KERAS_FILES = sorted(p.parent.name for p in NN.glob("*/model.keras"))
LEGACY = sorted(p.parent.name for p in NN.glob("*/model.h5"))
# The forward fixtures' tolerance (crates/soundcheck-nn/tests/common): 1e-4 of the output's peak.
TOLERANCE = 1e-4


def x_of(name):
    return np.load(NN / name / "x.npy")


def rel_error(got, want):
    got, want = np.asarray(got), np.asarray(want)
    assert got.shape == want.shape, f"shape {got.shape} != Keras's {want.shape}"
    return float(np.max(np.abs(got - want)) / max(float(np.max(np.abs(want))), 1e-3))


def test_every_fixture_is_found():
    assert len(KERAS_FILES) == 19 and len(LEGACY) == 5, (KERAS_FILES, LEGACY)


@pytest.mark.parametrize("name", KERAS_FILES)
def test_a_keras_file_predicts_as_keras(name):
    model = sc.load_keras(NN / name / "model.keras")
    y = model.predict(x_of(name))
    assert y.dtype == np.float32
    assert rel_error(y, np.load(NN / name / "predict.npy")) <= TOLERANCE


@pytest.mark.parametrize("name", LEGACY)
def test_a_keras2_h5_file_predicts_as_keras(name):
    model = sc.load_keras(str(NN / name / "model.h5"))
    assert rel_error(model.predict(x_of(name), batch_size=3), np.load(NN / name / "predict.npy")) <= TOLERANCE


@pytest.mark.parametrize("name", KERAS_FILES)
def test_an_export_opens_in_keras_with_the_same_predictions(name, tmp_path):
    out = tmp_path / f"{name}.keras"
    sc.export_keras(NN / name, out)
    with zipfile.ZipFile(out) as z:
        assert sorted(z.namelist()) == ["config.json", "metadata.json", "model.weights.h5"]
    # What Keras's predict gave on soundcheck's export (keras_export.py), read back here.
    y = sc.load_keras(out).predict(x_of(name))
    assert rel_error(y, np.load(NN / name / "export_predict.npy")) <= TOLERANCE


def test_shapes_names_and_summary_are_keras_own():
    model = sc.load_keras(NN / "mfcc_lstm" / "model.keras")
    x = x_of("mfcc_lstm")
    assert model.input_shape == (None,) + x.shape[1:]
    assert model.output_shape == (None,) + np.load(NN / "mfcc_lstm" / "predict.npy").shape[1:]
    assert len(model.input_names) == 1 and len(model.output_names) == 1
    table = model.summary()
    assert "Total params" in table and "LSTM" in table, table
    assert "mfcc_lstm" in repr(model)


def test_two_inputs_by_name_or_in_order(tmp_path):
    d = NN / "two_inputs"
    out = tmp_path / "two.keras"
    sc.export_keras(d, out)
    model = sc.load_keras(out)
    assert model.input_names == ["audio", "meta"] and model.output_names == ["genre", "tempo"]
    x = dict(np.load(d / "x.npz"))
    want = np.load(d / "y.npz")
    for given in (x, [x["audio"], x["meta"]], {"meta": x["meta"], "audio": x["audio"]}):
        genre, tempo = model.predict(given, batch_size=2)
        assert rel_error(genre, want["genre"]) <= TOLERANCE
        assert rel_error(tempo, want["tempo"]) <= TOLERANCE
    with pytest.raises(sc.SoundcheckError, match=r"list of 1 arrays: the model takes 2 inputs \(audio, meta\)"):
        model.predict([x["audio"]])


HOSTILE = [
    ("float64_kernel.keras", "layer 'conv1d': variable 'conv1d/kernel' (layers/conv1d/vars/0) is stored as FloatingPoint { size: 8"),
    ("missing_bias.keras", "layer 'conv1d_1': variable 'conv1d_1/bias' (layers/conv1d_1/vars/1) of shape [6] is missing from the file"),
    ("extra_weight.keras", "layer 'dense': the file holds layers/dense/vars/2, a weight the config does not give this layer"),
    ("wider_kernel.keras", "has shape [6, 5] in the file, but the config implies [6, 4]"),
    ("padded.keras", "model.weights.h5 inflates to 8"),
    ("weights_only.weights.h5", "holds no model_config: a weights-only file"),
]


@pytest.mark.parametrize("file,message", HOSTILE, ids=[f for f, _ in HOSTILE])
def test_damaged_files_raise_the_cli_message(file, message):
    path = NN / "keras_files" / file
    with pytest.raises(sc.SoundcheckError) as e:
        sc.load_keras(path)
    assert message in str(e.value) and file in str(e.value)


def test_what_cannot_be_a_model_is_named(tmp_path):
    with pytest.raises(sc.SoundcheckError, match="not a Keras model file with weights"):
        sc.load_keras(NN / "mfcc_lstm" / "model.json")
    with pytest.raises(sc.SoundcheckError, match="cannot open the file"):
        sc.load_keras(tmp_path / "missing.keras")
    (tmp_path / "garbage.keras").write_bytes(b"\x00" * 100)
    with pytest.raises(sc.SoundcheckError, match="not a readable .keras archive"):
        sc.load_keras(tmp_path / "garbage.keras")
    with pytest.raises(sc.SoundcheckError, match="model is a int"):
        sc.load_keras(3)


def test_inputs_are_checked_before_the_model_runs():
    model = sc.load_keras(NN / "pools_1d" / "model.keras")
    x = x_of("pools_1d")
    bad = x.copy()
    bad[1, 0, 0] = np.nan
    with pytest.raises(sc.SoundcheckError, match="example 1 holds NaN; clean the input first"):
        model.predict(bad)
    with pytest.raises(sc.SoundcheckError, match="complex values"):
        model.predict(x.astype(np.complex64))
    with pytest.raises(sc.SoundcheckError, match="^feed_mismatch: x: the example shape differs from the model input"):
        model.predict(x[:, :, :1])
    with pytest.raises(sc.SoundcheckError, match="holds <U1 values"):
        model.predict(np.array(["a"]))
    with pytest.raises(sc.SoundcheckError, match="a scalar, with no batch axis"):
        model.predict(np.float32(1))
    with pytest.raises(sc.SoundcheckError, match="no examples"):
        model.predict(x[:0])
    for size in (0, -1, 2.5):
        with pytest.raises(sc.SoundcheckError, match="`batch_size` .*: expected a positive number of examples"):
            model.predict(x, batch_size=size)
    # A float64 batch is read as float32, as Keras's predict casts it.
    assert rel_error(model.predict(x.astype(np.float64)), np.load(NN / "pools_1d" / "predict.npy")) <= TOLERANCE


def test_an_export_never_replaces_a_file_of_its_run(tmp_path):
    run = tmp_path / "run"
    run.mkdir()
    for f in ("model.json", "weights.safetensors"):
        (run / f).write_bytes((NN / "pools_1d" / f).read_bytes())
    before = (run / "model.json").read_bytes()
    with pytest.raises(sc.SoundcheckError, match="`output` .*model.json: expected a path that is not the input"):
        sc.export_keras(run, run / "model.json")
    assert (run / "model.json").read_bytes() == before
    with pytest.raises(sc.SoundcheckError, match="no-run.model.json: cannot read"):
        sc.export_keras(tmp_path / "no-run", tmp_path / "out.keras")
    with pytest.raises(sc.SoundcheckError, match="path is a NoneType: expected a path"):
        sc.export_keras(run, None)


# With Keras installed: a live model goes in without a file, and an export opens in Keras.

try:
    import keras
except ImportError:
    keras = None
needs_keras = pytest.mark.skipif(keras is None, reason="Keras is not installed: the live-model tests need it")


def live_model(name):
    """The forward fixture `name` built in Keras with its weights (keras_files.py's way)."""
    return keras.saving.load_model(NN / name / "model.keras")


@needs_keras
@pytest.mark.parametrize("name", KERAS_FILES)
def test_a_live_keras_model_predicts_as_itself(name):
    live = live_model(name)
    x = x_of(name)
    want = live.predict(x, verbose=0)
    got = sc.load_keras(live).predict(x)
    assert rel_error(got, want) <= TOLERANCE


@needs_keras
def test_a_live_model_is_not_written_to_disk(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    model = sc.load_keras(live_model("mfcc_gru"))
    assert list(tmp_path.iterdir()) == []
    assert "(in memory)" in model.origin


@needs_keras
def test_an_unbuilt_model_is_named():
    unbuilt = keras.Sequential([keras.layers.Dense(3)])
    with pytest.raises(sc.SoundcheckError, match="is not built, so it has no weights yet"):
        sc.load_keras(unbuilt)


@needs_keras
def test_a_subclassed_model_is_named():
    class Custom(keras.Model):
        def call(self, x):
            return x * 2

    custom = Custom()
    custom(np.zeros((1, 3), np.float32))
    with pytest.raises(sc.SoundcheckError, match=r"keras model 'custom' \(in memory\): Keras model class 'Custom' is not supported"):
        sc.load_keras(custom)


@needs_keras
def test_an_export_loads_in_keras_and_predicts_as_soundcheck(tmp_path):
    for name in ("mfcc_lstm", "resmask32", "bidirectional"):
        out = tmp_path / f"{name}.keras"
        sc.export_keras(NN / name, out)
        x = x_of(name)
        opened = keras.saving.load_model(out)
        assert rel_error(opened.predict(x, verbose=0), sc.load_keras(out).predict(x)) <= TOLERANCE
        assert json.loads(zipfile.ZipFile(out).read("metadata.json"))["keras_version"] == "3.15.1"
