"""soundcheck.evaluate against museval 0.4.1's per-window metrics (tools/fixtures/museval_metrics.py;
the signals come from the shared recipe, tools/fixtures/museval_recipe.py)."""

import json

import numpy as np
import pytest

import soundcheck as sc
from conftest import EVAL
from museval_recipe import build

FIXTURE = json.loads((EVAL / "museval_cases.json").read_text())
TOLERANCE_DB = 0.01
# Above this the error energy is f64 rounding noise: both sides call the estimate perfect.
ROUNDING_FLOOR_DB = 150.0


@pytest.mark.parametrize("case", FIXTURE["cases"], ids=lambda c: c["id"])
def test_metrics_match_museval(case):
    refs, est = build(case)
    got = sc.evaluate(refs, est, win=case["sr"], hop=case["sr"])
    assert len(got) == 4
    for name, ours in zip(("sdr", "isr", "sir", "sar"), got):
        theirs = case[name]
        assert ours.shape == (len(theirs), len(theirs[0])), name
        for j, row in enumerate(theirs):
            for k, b in enumerate(row):
                a = ours[j, k]
                if b is None:
                    assert np.isnan(a), f"{name}[{j}][{k}]: museval NaN, ours {a}"
                elif b == "inf":
                    assert a == np.inf
                elif b > ROUNDING_FLOOR_DB:
                    assert a > ROUNDING_FLOOR_DB
                else:
                    assert abs(a - b) < TOLERANCE_DB, f"{name}[{j}][{k}]: ours {a:.4f}, museval {b:.4f}"


def test_estimates_are_padded_or_cut_to_the_references_length():
    case = next(c for c in FIXTURE["cases"] if c["id"] == "stereo2_mixed_30s")
    refs, est = build(case)
    sr = case["sr"]
    full = sc.evaluate(refs, est, win=sr, hop=sr)
    longer = sc.evaluate(refs, np.concatenate([est, np.zeros((2, 100, 2))], axis=1), win=sr, hop=sr)
    for a, b in zip(full, longer):
        np.testing.assert_array_equal(a, b)


def test_mono_sources_may_omit_the_channel_axis():
    case = next(c for c in FIXTURE["cases"] if c["id"] == "mono4_mixed_10s")
    refs, est = build(case)
    sr = case["sr"]
    for a, b in zip(sc.evaluate(refs[..., 0], est[..., 0], win=sr, hop=sr), sc.evaluate(refs, est, win=sr, hop=sr)):
        np.testing.assert_array_equal(a, b)
