#!/usr/bin/env python3
"""Leave-one-speaker-out accuracy of classification recipes on real recordings.

The Free Spoken Digit Dataset (github.com/Jakobovski/free-spoken-digit-dataset, CC BY-SA 4.0):
3000 clips of the digits 0-9, 6 speakers x 50 per digit, 8 kHz mono WAV named
`{digit}_{speaker}_{index}.wav`. The audio is never committed: this script unpacks it from a
clone (or a bare mirror) of that repository and writes a manifest `path,label,speaker`.

Each recipe is trained once per speaker with that speaker as the test group
(`--group-by speaker --test-groups S`) and the five others as training; the held-out speaker's
accuracy is read from the run's report. Prints, per recipe, the accuracy per held-out speaker,
the mean and the worst, and writes them as JSON.

    python3 tools/bench/speakers.py --repo PATH_TO_FSDD_GIT --work work/fsdd \
        [--bin target/debug/soundcheck] [--recipes old,default] [--speakers george,theo]

Standard library only.
"""

import argparse
import csv
import json
import os
import subprocess
import sys
import time

# The recipes compared: "old" is the mfcc-conv1d recipe as the README showed it before issue 31;
# the others add per-clip normalisation (CMVN) and then the on-the-fly augmentation.
MODEL = ["--model", "models/mfcc-conv1d.toml", "--fill-classes"]
RECIPES = {
    # The built-in model and recipe: `train classification` without --model.
    "default": [],
    "old": MODEL,
    "cmvn": MODEL + ["--normalisation", "per-clip"],
    "cmvn-aug": MODEL + ["--normalisation", "per-clip", "--time-shift", "--freq-masks", "2",
                         "--time-masks", "2"],
    "deltas-aug": ["--model", "models/mfcc-deltas-conv1d.toml", "--fill-classes", "--n-mfcc", "20",
                   "--deltas", "--normalisation", "per-clip", "--time-shift", "--freq-masks", "2",
                   "--time-masks", "2", "--epochs", "30"],
}


def prepare(repo, work):
    """Unpacks recordings/ of the FSDD repository into WORK/recordings and writes the manifest."""
    rec = os.path.join(work, "recordings")
    manifest = os.path.join(work, "manifest.csv")
    if os.path.exists(manifest):
        return manifest
    os.makedirs(work, exist_ok=True)
    git_dir = repo if os.path.isdir(os.path.join(repo, "objects")) else os.path.join(repo, ".git")
    archive = subprocess.run(
        ["git", "--git-dir", git_dir, "archive", "HEAD", "recordings"],
        check=True, capture_output=True).stdout
    subprocess.run(["tar", "-x", "-C", work], input=archive, check=True)
    rows = []
    for name in sorted(os.listdir(rec)):
        if name.endswith(".wav"):
            digit, speaker, _ = name[:-4].split("_")
            rows.append((os.path.join("recordings", name), digit, speaker))
    with open(manifest + ".tmp", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["path", "label", "speaker"])
        w.writerows(rows)
    os.rename(manifest + ".tmp", manifest)
    return manifest


def run(binary, manifest, recipe, speaker, out, extra):
    cmd = [binary, "train", "classification", "--data", manifest, "--group-by", "speaker",
           "--test-groups", speaker, "--validation-split", "0", "--out", out, "--json"]
    cmd += RECIPES[recipe] + extra
    t = time.time()
    p = subprocess.run(cmd, capture_output=True, text=True)
    seconds = time.time() - t
    if p.returncode != 0:
        sys.exit(f"{' '.join(cmd)} failed:\n{p.stdout}\n{p.stderr}")
    report = json.loads(p.stdout.strip().splitlines()[-1])
    return report["test_accuracy"], seconds


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--repo", required=True, help="clone or bare mirror of the FSDD repository")
    ap.add_argument("--work", default="work/fsdd")
    ap.add_argument("--bin", default="target/debug/soundcheck")
    ap.add_argument("--recipes", default="old,default")
    ap.add_argument("--speakers", default="george,jackson,lucas,nicolas,theo,yweweler")
    ap.add_argument("--extra", default="", help="more flags for every run, space-separated")
    ap.add_argument("--recipe", action="append", default=[], metavar="NAME=FLAGS",
                    help="another recipe to measure: its name and flags (space-separated)")
    ap.add_argument("--json", default=None, help="write the results here")
    a = ap.parse_args()
    manifest = prepare(a.repo, a.work)
    extra = a.extra.split()
    for r in a.recipe:
        name, _, flags = r.partition("=")
        RECIPES[name] = flags.split()
    results = {}
    for recipe in a.recipes.split(","):
        per, times = {}, []
        for s in a.speakers.split(","):
            out = os.path.join(a.work, "runs", f"{recipe}-{s}")
            if os.path.exists(out):
                sys.exit(f"{out} exists: remove it or choose another --work")
            acc, seconds = run(a.bin, manifest, recipe, s, out, extra)
            per[s] = acc
            print(f"{recipe:>10} {s:>9}: {100 * acc:5.1f} %  ({seconds:.0f} s)", flush=True)
            times.append(seconds)
        accs = list(per.values())
        results[recipe] = {"per_speaker": per, "mean": sum(accs) / len(accs), "worst": min(accs),
                           "seconds": times}
        print(f"{recipe:>10}      mean {100 * results[recipe]['mean']:5.1f} %, worst "
              f"{100 * results[recipe]['worst']:5.1f} %", flush=True)
    if a.json:
        with open(a.json, "w") as f:
            json.dump(results, f, indent=1)


if __name__ == "__main__":
    main()
