"""pytest plugin behind tools/compat/run.py: runs librosa's or museval's own test suite with the
functions soundcheck exports put in place of theirs, and records, per test, which of those
functions it called and how it ended.

Environment:
- ``SOUNDCHECK_COMPAT_MODE``: ``soundcheck`` (patch soundcheck's functions in) or ``reference``
  (keep the library's own, behind the same recording wrapper, for its own pass rate).
- ``SOUNDCHECK_COMPAT_OUT``: the JSON file the outcomes are written to.
- ``SOUNDCHECK_COMPAT_SELECT`` (optional): a file of test ids, one a line; only those run (a
  re-run of the tests an earlier run found touching soundcheck's functions).

Only the public names are replaced (``librosa.stft``, ``librosa.core.stft``,
``librosa.feature.mfcc``, ``museval.evaluate``, ...): librosa's internal calls go on calling
librosa, so a test counts for an exported function only when it calls it by its public name.
"""

import functools
import importlib
import json
import os
import traceback

import pytest

# soundcheck's name → the public modules that hold librosa's or museval's function of that name.
EXPORTS = {
    "load": ["librosa", "librosa.core"],
    "resample": ["librosa", "librosa.core"],
    "stft": ["librosa", "librosa.core"],
    "istft": ["librosa", "librosa.core"],
    "power_to_db": ["librosa", "librosa.core"],
    "amplitude_to_db": ["librosa", "librosa.core"],
    "estimate_tuning": ["librosa", "librosa.core"],
    "cqt": ["librosa", "librosa.core"],
    "filters.mel": ["librosa.filters"],
    "filters.chroma": ["librosa.filters"],
    "filters.cq_to_chroma": ["librosa.filters"],
    "feature.melspectrogram": ["librosa.feature"],
    "feature.mfcc": ["librosa.feature"],
    "feature.delta": ["librosa.feature"],
    "feature.rms": ["librosa.feature"],
    "feature.zero_crossing_rate": ["librosa.feature"],
    "feature.spectral_centroid": ["librosa.feature"],
    "feature.spectral_bandwidth": ["librosa.feature"],
    "feature.spectral_rolloff": ["librosa.feature"],
    "feature.spectral_flatness": ["librosa.feature"],
    "feature.spectral_contrast": ["librosa.feature"],
    "feature.chroma_stft": ["librosa.feature"],
    "feature.chroma_cqt": ["librosa.feature"],
    "feature.tonnetz": ["librosa.feature"],
    "onset.onset_strength": ["librosa.onset"],
    "evaluate": ["museval"],
}

_touched = set()
_results = {}


def _resolve(root, dotted):
    obj = root
    for part in dotted.split("."):
        obj = getattr(obj, part)
    return obj


def _recording(name, fn):
    @functools.wraps(fn)
    def call(*args, **kwargs):
        _touched.add(name)
        return fn(*args, **kwargs)

    return call


def _patch(mode):
    soundcheck = importlib.import_module("soundcheck") if mode == "soundcheck" else None
    for name, modules in EXPORTS.items():
        leaf = name.rsplit(".", 1)[-1]
        for modname in modules:
            try:
                module = importlib.import_module(modname)
            except ImportError:
                continue  # the other suite's library
            original = getattr(module, leaf)
            target = _resolve(soundcheck, name) if soundcheck else original
            setattr(module, leaf, _recording(name, target))


def pytest_configure(config):
    if os.environ.get("SOUNDCHECK_COMPAT_MODE"):
        _patch(os.environ["SOUNDCHECK_COMPAT_MODE"])


def pytest_collection_modifyitems(config, items):
    select = os.environ.get("SOUNDCHECK_COMPAT_SELECT")
    if not select:
        return
    with open(select) as f:
        wanted = set(f.read().split("\n"))
    keep = [i for i in items if i.nodeid in wanted]
    config.hook.pytest_deselected(items=[i for i in items if i.nodeid not in wanted])
    items[:] = keep


# Numeric comparisons as librosa's and museval's tests spell them.
_NUMERIC = ("allclose", "assert_array", "isclose", "Mismatched elements", "Not equal to tolerance",
            "array_equal", "approx")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    if call.when == "setup":
        _touched.clear()
    outcome = yield
    report = outcome.get_result()
    report.user_properties.append(("touched", sorted(_touched)))
    if call.excinfo is not None and report.failed:
        text = "".join(traceback.format_exception(call.excinfo.value))
        report.user_properties.append(("exception", call.excinfo.typename))
        report.user_properties.append(
            ("numeric", call.excinfo.typename == "AssertionError"
             and any(k in text or k in str(report.longrepr) for k in _NUMERIC)))


def _summary(report):
    """The failure's exception type and first message line, from the report's traceback."""
    longrepr = report.longrepr
    crash = getattr(longrepr, "reprcrash", None)
    if crash is not None:
        return crash.message.strip().splitlines()[0][:400] if crash.message.strip() else ""
    return str(longrepr).strip().splitlines()[-1][:400] if longrepr else ""


def pytest_runtest_logreport(report):
    entry = _results.setdefault(report.nodeid, {"outcome": "passed", "touched": [], "message": ""})
    props = dict(report.user_properties)
    entry["touched"] = sorted(set(entry["touched"]) | set(props.get("touched", [])))
    for key in ("exception", "numeric"):
        if key in props:
            entry[key] = props[key]
    if report.failed:
        if entry["outcome"] != "failed":
            entry.update(outcome="failed", message=_summary(report), when=report.when)
    elif report.skipped and entry["outcome"] == "passed":
        entry["outcome"] = "xfailed" if hasattr(report, "wasxfail") else "skipped"


def pytest_sessionfinish(session):
    if hasattr(session.config, "workerinput"):
        return
    out = os.environ.get("SOUNDCHECK_COMPAT_OUT")
    if out:
        with open(out, "w") as f:
            json.dump(_results, f, indent=0, sort_keys=True)
