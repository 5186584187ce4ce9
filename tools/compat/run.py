#!/usr/bin/env python3
"""librosa's and museval's own test suites against soundcheck (issue 34): how far soundcheck is
a drop-in for the functions it exports.

    python3 tools/compat/run.py                 # everything: venv, suites, both runs, the table
    python3 tools/compat/run.py --no-install    # reuse the venv (after copying changed .py files in)
    python3 tools/compat/run.py --only-touched  # just the tests an earlier run found calling an export

Steps, each skippable:
1. a venv (`target/compat-venv`) with librosa 0.11.0, museval 0.4.1 and their test needs from
   `requirements.txt`, and soundcheck built from `crates/soundcheck-py` (maturin; minutes);
2. librosa's `tests/` at tag 0.11.0 with librosa-test-data's files in `tests/data`, museval's
   `tests/` at the commit of its 0.4.1 release, unpacked from local git mirrors (`--librosa-repo`,
   `--librosa-data`, `--museval-repo`) into `target/compat/`;
3. each suite run twice through the pytest plugin `soundcheck_compat.py`: once with the
   library's own functions (`reference`), once with soundcheck's in their place (`soundcheck`);
   per-test outcomes go to `target/compat/results/<suite>-<mode>.json`;
4. the per-function table, written between the compat markers of BENCHMARKS.md.

Not part of `.ci/run`: it needs the test data and a network for PyPI.
"""

import argparse
import collections
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
MIRRORS = Path("/work/.mirror")
LIBROSA_TAG = "0.11.0"
# museval has no 0.4.1 tag; this commit ("update version") sets museval/version.py to 0.4.1.
MUSEVAL_COMMIT = "b2a2246f343eeb3c17dd69882db3eb73b6714617"
# librosa's display tests compare rendered images (pytest-mpl baselines); none calls an
# exported function for its result.
LIBROSA_SKIP = ["test_display.py"]
BEGIN, END = "<!-- compat:begin -->", "<!-- compat:end -->"


def sh(cmd, **kw):
    print("+", " ".join(str(c) for c in cmd), flush=True)
    return subprocess.run([str(c) for c in cmd], check=True, **kw)


def install(venv):
    if not (venv / "bin" / "python").exists():
        sh([sys.executable, "-m", "venv", venv])
    pip = [venv / "bin" / "python", "-m", "pip", "install", "-q"]
    sh(pip + ["--upgrade", "pip"])
    sh(pip + ["-r", HERE / "requirements.txt"])
    # maturin from the venv builds the extension against the venv's interpreter.
    env = dict(os.environ, PATH=f"{venv / 'bin'}{os.pathsep}{os.environ['PATH']}")
    sh(pip + ["--no-build-isolation", "--force-reinstall", "--no-deps", ROOT / "crates" / "soundcheck-py"], env=env)


def unpack(repo, rev, paths, dest):
    """`paths` of `repo` at `rev` into `dest`, blob by blob: a mirror may lack its largest
    files, which are listed and skipped (their tests fail in both runs and are reported so)."""
    listing = subprocess.run(["git", "-C", repo, "ls-tree", "-r", rev, "--", *paths], check=True,
                             capture_output=True, text=True).stdout
    missing = []
    for line in listing.splitlines():
        meta, path = line.split("\t", 1)
        _, kind, sha = meta.split()
        if kind != "blob":
            continue
        blob = subprocess.run(["git", "-C", repo, "cat-file", "blob", sha], capture_output=True)
        if blob.returncode != 0:
            missing.append(path)
            continue
        out = dest / path
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_bytes(blob.stdout)
    return missing


def prepare(args, work):
    if (work / "librosa").exists():
        shutil.rmtree(work / "librosa")
    if (work / "museval").exists():
        shutil.rmtree(work / "museval")
    missing = unpack(args.librosa_repo, LIBROSA_TAG, ["tests"], work / "librosa")
    missing += ["tests/data/" + p for p in unpack(args.librosa_data, "HEAD", ["."], work / "librosa" / "tests" / "data")]
    missing += unpack(args.museval_repo, MUSEVAL_COMMIT, ["tests"], work / "museval")
    (work / "missing-data.txt").write_text("".join(p + "\n" for p in missing))
    print(f"{len(missing)} data file(s) absent from the mirrors: {work / 'missing-data.txt'}")


def run_suite(venv, work, results, suite, mode, select, jobs, package):
    results.mkdir(parents=True, exist_ok=True)
    out = results / f"{suite}-{mode}.json"
    env = dict(os.environ, SOUNDCHECK_COMPAT_MODE=mode, SOUNDCHECK_COMPAT_OUT=str(out),
               PYTHONPATH=os.pathsep.join(str(p) for p in (package, HERE) if p), PATH=f"{venv / 'bin'}{os.pathsep}{os.environ['PATH']}",
               NUMBA_CACHE_DIR=str(work / "numba-cache"), MPLBACKEND="Agg")
    env.pop("SOUNDCHECK_COMPAT_SELECT", None)
    previous = json.loads(out.read_text()) if select and out.exists() else {}
    if select:
        # The tests any earlier run of this suite (either mode) found calling an export: up to
        # its first call to one, a test runs the same in both modes.
        touched = set()
        for f in results.glob(f"{suite}-*.json"):
            touched |= {k for k, v in json.loads(f.read_text()).items() if v["touched"]}
        ids = work / f"{suite}.select"
        ids.write_text("\n".join(sorted(touched)))
        env["SOUNDCHECK_COMPAT_SELECT"] = str(ids)
    tests = work / suite / "tests"
    cmd = [venv / "bin" / "python", "-m", "pytest", "-q", "-p", "soundcheck_compat", "-p", "no:cacheprovider",
           "-o", "addopts=", "-o", "xfail_strict=true", "-n", str(jobs), "--tb=line", "-rN"]
    if suite == "librosa":
        cmd += ["--librosa-isolation"] + [f"--ignore={tests / f}" for f in LIBROSA_SKIP]
    cmd.append(tests)
    # pytest's exit status is 1 when tests fail: the outcomes file is the result.
    subprocess.run([str(c) for c in cmd], cwd=work / suite, env=env,
                   stdout=open(work / f"{suite}-{mode}.log", "w"), stderr=subprocess.STDOUT)
    if not out.exists():
        sys.exit(f"{suite} ({mode}) wrote no outcomes; see {work / f'{suite}-{mode}.log'}")
    if previous:
        previous.update(json.loads(out.read_text()))
        out.write_text(json.dumps(previous, indent=0, sort_keys=True))


def category(entry, reference):
    """passed, or why not: the option is refused, an exception or warning differs from the
    library's, a number differs, or another behaviour differs."""
    if entry["outcome"] in ("passed", "xfailed", "skipped"):
        return "passed"
    msg = entry.get("message", "")
    if reference is not None and reference["outcome"] == "failed":
        return "fails in reference"
    if "not supported" in msg:
        return "refused option"
    if (entry.get("numeric") and "DID NOT" not in msg) or "Not equal to tolerance" in msg:
        return "numeric"
    if ("DID NOT" in msg or "XPASS" in msg or entry.get("exception") in ("SoundcheckError", "OverflowError")
            or "Warning" in msg):
        return "exception/warning"
    return "behaviour"


COLUMNS = ["passed", "refused option", "exception/warning", "numeric", "behaviour", "fails in reference"]


def table(results, before=None):
    """The per-function table; with `before` (an earlier run's results folder), a column of the
    passes it counted."""
    rows = collections.OrderedDict()
    reasons = collections.Counter()
    totals = collections.Counter()
    for suite in ("librosa", "museval"):
        sc_file, ref_file = results / f"{suite}-soundcheck.json", results / f"{suite}-reference.json"
        if not sc_file.exists():
            continue
        sc = json.loads(sc_file.read_text())
        ref = json.loads(ref_file.read_text()) if ref_file.exists() else {}
        old_file = before / f"{suite}-soundcheck.json" if before else None
        old = json.loads(old_file.read_text()) if old_file and old_file.exists() else {}
        for test_id, entry in sc.items():
            touched = set(entry["touched"]) | set(ref.get(test_id, {}).get("touched", []))
            if not touched:
                continue
            r = ref.get(test_id)
            cat = category(entry, r)
            totals[(suite, cat)] += 1
            totals[(suite, "tests")] += 1
            totals[(suite, "reference passed")] += r is not None and category(r, None) == "passed"
            was = old.get(test_id)
            totals[(suite, "before")] += was is not None and category(was, r) == "passed"
            if cat not in ("passed", "fails in reference"):
                reasons[(cat, entry.get("message", "")[:160])] += 1
            for fn in touched:
                row = rows.setdefault(fn, collections.Counter())
                row[cat] += 1
                row["tests"] += 1
                row["reference passed"] += r is not None and category(r, None) == "passed"
                row["before"] += was is not None and category(was, r) == "passed"
    was = " soundcheck passed before |" if before else ""
    lines = [f"| function | tests | library passes |{was} soundcheck passes | " + " | ".join(COLUMNS[1:]) + " |",
             "|---|--:|--:|--:|" + "--:|" * (len(COLUMNS) - 1 + bool(before))]
    for fn in sorted(rows):
        row = rows[fn]
        was = f" {row['before']} |" if before else ""
        lines.append(f"| `{fn}` | {row['tests']} | {row['reference passed']} |{was} {row['passed']} | "
                     + " | ".join(str(row[c]) for c in COLUMNS[1:]) + " |")
    for suite in ("librosa", "museval"):
        n = totals[(suite, "tests")]
        if n:
            was = f" {totals[(suite, 'before')]} ({100 * totals[(suite, 'before')] / n:.1f} %) |" if before else ""
            lines.append(f"| **{suite}, all tests** | {n} | {totals[(suite, 'reference passed')]} |{was} "
                         f"{totals[(suite, 'passed')]} ({100 * totals[(suite, 'passed')] / n:.1f} %) | "
                         + " | ".join(str(totals[(suite, c)]) for c in COLUMNS[1:]) + " |")
    return "\n".join(lines), reasons


def write_table(results, benchmarks, before):
    text, reasons = table(results, before)
    print(text)
    (results / "failures.txt").write_text("".join(f"{n}\t{cat}\t{msg}\n" for (cat, msg), n in reasons.most_common()))
    print(f"failure messages by count: {results / 'failures.txt'}")
    doc = benchmarks.read_text()
    if BEGIN in doc and END in doc:
        head, rest = doc.split(BEGIN, 1)
        doc = head + BEGIN + "\n" + text + "\n" + END + rest.split(END, 1)[1]
        benchmarks.write_text(doc)
        print(f"table written into {benchmarks}")


if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--librosa-repo", default=MIRRORS / "librosa+librosa" / "repo", type=Path)
    p.add_argument("--librosa-data", default=MIRRORS / "librosa+librosa-test-data" / "repo", type=Path)
    p.add_argument("--museval-repo", default=MIRRORS / "sigsep+sigsep-mus-eval" / "repo", type=Path)
    p.add_argument("--venv", default=ROOT / "target" / "compat-venv", type=Path)
    p.add_argument("--work", default=ROOT / "target" / "compat", type=Path)
    p.add_argument("--results", type=Path, help="where the outcomes go (default: WORK/results)")
    p.add_argument("--package", type=Path,
                   help="a folder holding a `soundcheck` package to test instead of the venv's (e.g. another build)")
    p.add_argument("--no-install", action="store_true", help="reuse the venv as it is")
    p.add_argument("--no-unpack", action="store_true", help="reuse the unpacked suites")
    p.add_argument("--modes", default="reference,soundcheck", help="which runs (comma-separated)")
    p.add_argument("--suites", default="librosa,museval", help="which suites (comma-separated)")
    p.add_argument("--only-touched", action="store_true",
                   help="run only the tests an earlier run of the suite found calling an export")
    p.add_argument("--jobs", default=2, type=int, help="pytest-xdist workers")
    p.add_argument("--table-only", action="store_true", help="just rewrite the table from the last outcomes")
    p.add_argument("--benchmarks", default=ROOT / "BENCHMARKS.md", type=Path)
    p.add_argument("--before", type=Path, help="an earlier run's results folder: the table gets a column of its passes")
    args = p.parse_args()
    # pytest runs inside the unpacked suites: every path absolute.
    for key in ("librosa_repo", "librosa_data", "museval_repo", "venv", "work", "results", "package", "benchmarks",
                "before"):
        if getattr(args, key) is not None:
            setattr(args, key, getattr(args, key).resolve())
    args.work.mkdir(parents=True, exist_ok=True)
    results = args.results or args.work / "results"
    if not args.table_only:
        if not args.no_install:
            install(args.venv)
        if not args.no_unpack:
            prepare(args, args.work)
        for suite in args.suites.split(","):
            for mode in args.modes.split(","):
                run_suite(args.venv, args.work, results, suite, mode, args.only_touched, args.jobs, args.package)
    write_table(results, args.benchmarks, args.before)
