"""Fixtures are the ones the Rust crates' compat tests read: arrays recorded by running librosa,
museval and Keras (scripts and versions in tools/fixtures/). Nothing here needs those libraries."""

import json
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[3]
AUDIO = ROOT / "crates" / "soundcheck-audio" / "tests"
SHAPE = ROOT / "crates" / "soundcheck-shape" / "tests" / "fixtures"
EVAL = ROOT / "crates" / "soundcheck-eval" / "tests" / "fixtures"
sys.path.insert(0, str(ROOT / "tools" / "fixtures"))


def max_rel_error(got, want):
    """max |got − want| over the peak of |want|."""
    got, want = np.asarray(got), np.asarray(want)
    assert got.shape == want.shape, f"shape {got.shape} != librosa's {want.shape}"
    return float(np.max(np.abs(got - want)) / max(float(np.max(np.abs(want))), 1e-30))


def librosa_cases(func):
    index = json.loads((AUDIO / "fixtures" / "index.json").read_text())
    return [c for c in index if c["func"] == func]


def npy(name, folder="fixtures"):
    return np.load(AUDIO / folder / name)


@pytest.fixture
def fixtures_dir():
    return AUDIO / "fixtures"
