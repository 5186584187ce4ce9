"""soundcheck.check against Keras 3.15.1: real `model.to_json()` configs and summaries
(tools/fixtures/keras_shapes.py), the seed write-ups' models and feeds (../shared/cases, run in
Keras), and models Keras builds on their first batch (tools/fixtures/keras_inputs.py)."""

import json
import zipfile

import numpy as np
import pytest

import soundcheck as sc
from conftest import SHAPE

SUMMARIES = json.loads((SHAPE / "keras_summaries.json").read_text())
KERAS_JSON = sorted((SHAPE / "keras_json").glob("*.json"))
SEEDS = [json.loads(line) for line in (SHAPE / "seed_cases.jsonl").read_text().splitlines() if line.strip()]
DEFERRED = json.loads((SHAPE / "keras_inputs.json").read_text())["deferred"]


class RecordedKerasModel:
    """Stands in for a Keras model object: `check` only calls its to_json()."""

    def __init__(self, text):
        self._text = text

    def to_json(self):
        return self._text


@pytest.mark.parametrize("path", KERAS_JSON, ids=lambda p: p.stem)
def test_summary_of_a_keras_model_object_is_keras_own(path):
    report = sc.check(RecordedKerasModel(path.read_text()))
    assert report.ok, str(report)
    if path.stem in SUMMARIES:
        assert report.summary() == SUMMARIES[path.stem]


@pytest.mark.parametrize("case", SEEDS, ids=lambda c: c["id"])
def test_seed_cases_fit_or_fail_as_in_keras(case):
    want = case["expected"]
    report = sc.check(case["model"], x=case.get("feed_shape") and tuple(case["feed_shape"]))
    if want["ok"] and not report.ok:
        # Stricter than Keras on purpose: Keras 3 silently appends a missing size-1 channel axis.
        assert report.error.kind == "missing_channel_axis", str(report)
        assert any("silently adds" in n for n in report.error.notes)
        return
    assert report.ok == want["ok"], str(report)
    if want["ok"]:
        assert [list(l.output_shape) for l in report.layers] == [l["output_shape"] for l in want["layers"]]
        assert [l.params for l in report.layers] == [l["params"] for l in want["layers"]]
        assert report.total_params == want["total_params"]
    else:
        e = report.error
        assert e.fix and e.received and e.expected, str(report)
        if want.get("stage") == "build" and want.get("error_layer"):
            assert e.layer == want["error_layer"]


@pytest.mark.parametrize("case", DEFERRED, ids=lambda c: c["id"])
def test_unbuilt_models_are_built_on_the_first_batch_as_keras_does(case):
    want = case["expected"]
    report = sc.check({"layers": case["layers"]}, x=np.zeros(case["feed"], np.float32))
    assert report.ok == want["ok"], str(report)
    if want["ok"]:
        assert report.output_shapes == [tuple(want["output_shape"])]
        assert report.to_dict()["built_from_feed"] is True


def flattened_spectrogram_model():
    return {
        "input_shape": [513, 25, 1],
        "loss": "mae",
        "layers": [
            {"type": "Conv2D", "filters": 16, "kernel_size": 3, "padding": "same", "activation": "relu"},
            {"type": "Conv2D", "filters": 1, "kernel_size": 1, "activation": "sigmoid"},
        ],
    }


def test_the_readme_example_diagnoses_a_flattened_spectrogram():
    x = np.zeros((32, 513 * 25), np.float32)
    report = sc.check(flattened_spectrogram_model(), x, np.zeros((32, 513, 25, 1), np.float32))
    assert not report.ok and not report
    assert report.error.kind == "flattened_input"
    assert "x.reshape((-1, 513, 25, 1))" in report.error.fix
    assert "error[flattened_input]" in str(report)
    with pytest.raises(sc.ShapeError) as raised:
        sc.check(flattened_spectrogram_model(), x, raise_on_error=True)
    assert isinstance(raised.value, ValueError)
    assert raised.value.kind == "flattened_input"
    assert str(raised.value).startswith("error[flattened_input]")


def test_labels_are_checked_against_the_output_and_loss():
    x = np.zeros((32, 513, 25, 1), np.float32)
    assert sc.check(flattened_spectrogram_model(), x, np.zeros((32, 513, 25, 1), np.float32))
    report = sc.check(flattened_spectrogram_model(), x, np.zeros((31, 513, 25, 1), np.float32))
    assert report.error.kind == "label_mismatch"
    assert "32 examples but 31 labels" in report.error.message


def test_integer_ids_and_float_features_are_told_apart():
    model = {"input_shape": [50], "layers": [{"type": "Embedding", "input_dim": 100, "output_dim": 8}]}
    assert sc.check(model, np.zeros((4, 50), np.int64)).ok
    assert sc.check(model, np.zeros((4, 50), np.float32)).error.kind == "feed_mismatch"


def test_models_load_from_keras_archives_json_and_toml(tmp_path):
    text = KERAS_JSON[0].read_text()
    archive = tmp_path / "model.keras"
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("config.json", text)
    (tmp_path / "model.json").write_text(text)
    (tmp_path / "spec.toml").write_text('input_shape = [100, 13]\n[[layers]]\ntype = "LSTM"\nunits = 8\n')
    for path in (archive, tmp_path / "model.json", str(tmp_path / "spec.toml")):
        assert sc.check(path).ok


def test_a_report_is_data_as_well_as_text():
    report = sc.check({"input_shape": [100, 13], "layers": [{"type": "LSTM", "units": 8}]}, (32, 100, 13))
    d = report.to_dict()
    assert d["ok"] and d["total_params"] == 4 * 8 * (13 + 8 + 1)
    assert report.layers[0].output_shape == (None, 8)
    assert report.output_shapes == [(32, 8)]
    assert "ok: every layer fits" in str(report)
    assert "ok" in repr(report)
