"""MIR-1K singing-voice benchmark: real karaoke clips, scored as the literature scores them.

MIR-1K (Hsu & Jang 2010; research use only — never commit its audio) holds 1000 clips of
Chinese karaoke, 16 kHz stereo, accompaniment on the left channel and the voice on the right.
The standard split (Huang et al. 2014): the 175 clips of the singers `abjones` and `amy` train,
the other 825 test. The standard scores: BSS Eval v3 `bss_eval_sources` over each whole clip
(mir_eval's; `soundcheck evaluate --mode sources`), NSDR = SDR(estimate, voice) − SDR(mixture,
voice), and GNSDR/GSIR/GSAR the means over clips weighted by their length. Published vocals
GNSDR: 7.45 dB (DRNN, Huang et al. 2014), 10.51 dB (stacked hourglass, Park et al. 2018).

The chain, every step through the soundcheck binary:
1. the clips come out of a git mirror of andabi/music-source-separation (`dataset/mir-1k/Wavfile`);
2. training: `train separation --data WORK/train --voice-channel right` (the stereo files as they
   are: the 175 training clips in train/, a few test clips in test/ to watch validation), with the
   default recipe under `--max-minutes`;
3. the 825 test clips are written twice: as the papers mix them (voice and accompaniment scaled
   to equal energy, "0 dB") and raw (left + right as recorded): `refs/<mix>/<clip>/{vocals,
   accompaniment,mixture}.wav` and the mixtures alone in `mixes/<mix>/<clip>.wav`, float WAV;
4. `separate` all mixtures of each kind, then `evaluate --mode sources --baselines` scores them
   beside the mixture (NSDR's reference, GNSDR 0 by definition) and the oracle IRM.

Usage (numpy and soundfile needed, e.g. /work/i30venv):
    python tools/bench/mir1k.py --mirror /work/.mirror/andabi+music-source-separation/repo \\
        --work bench-mir1k --max-minutes 10
`--run DIR` scores an existing run instead of training one; `--builtin` scores the pretrained
separator built into soundcheck (`separate` without `--run`). `--epochs N` trains a fixed number
of epochs (the cosine schedule over them: numbers that do not depend on the machine's load);
flags after `--` go to `train separation`; the 30-minute recipe for real music (7.65 dB GNSDR,
BENCHMARKS.md) is `--epochs 9 -- --sr 16000 --model models/vocal-unet-ctx.toml --mixes 2000`.
`--clips N` scores a fixed subset of the test clips (every k-th, the same for every run) and
`--mix 0db` one kind of mixture, to compare recipes quickly.
"""

import argparse
import json
import os
import subprocess
import sys
import time

import numpy as np
import soundfile as sf

TRAIN_SINGERS = ("abjones", "amy")
VALIDATION_CLIPS = 5
MIXES = ("0db", "raw")


def sh(cmd, **kw):
    print("+", " ".join(cmd[:12]) + (" ..." if len(cmd) > 12 else ""), file=sys.stderr, flush=True)
    return subprocess.run(cmd, check=True, **kw)


def clips(args):
    wav = os.path.join(args.work, "raw", "dataset", "mir-1k", "Wavfile")
    if not os.path.isdir(wav):
        os.makedirs(os.path.join(args.work, "raw"), exist_ok=True)
        archive = subprocess.Popen(["git", "-C", args.mirror, "archive", "HEAD", "dataset/mir-1k/Wavfile"],
                                   stdout=subprocess.PIPE)
        sh(["tar", "-x", "-C", os.path.join(args.work, "raw")], stdin=archive.stdout)
        archive.wait()
    names = sorted(f for f in os.listdir(wav) if f.endswith(".wav"))
    if len(names) != 1000:
        sys.exit(f"{wav}: {len(names)} clips, expected MIR-1K's 1000")
    return wav, names


def prepare(args, wav, names):
    train = [n for n in names if n.startswith(TRAIN_SINGERS)]
    test = [n for n in names if not n.startswith(TRAIN_SINGERS)]
    assert (len(train), len(test)) == (175, 825), (len(train), len(test))
    # Training sees the stereo files as MIR-1K ships them (the layout of `--voice-channel`).
    for subset, chosen in (("train", train), ("test", test[:: len(test) // VALIDATION_CLIPS][:VALIDATION_CLIPS])):
        d = os.path.join(args.work, "train", subset)
        os.makedirs(d, exist_ok=True)
        for n in chosen:
            link = os.path.join(d, n)
            if not os.path.lexists(link):
                os.symlink(os.path.abspath(os.path.join(wav, n)), link)
    for n in test:
        clip = n[:-4]
        done = os.path.join(args.work, "mixes", MIXES[-1], n)
        if os.path.exists(done):
            continue
        x, sr = sf.read(os.path.join(wav, n), dtype="float64")
        acc, voice = x[:, 0], x[:, 1]
        # The papers' 0 dB mixes: the accompaniment scaled to the voice's energy. (MIR-1K's
        # channels are already within 0.006 dB of equal energy, so raw and 0 dB nearly coincide.)
        gain = np.sqrt(np.sum(voice**2) / np.sum(acc**2))
        for mix, a in (("0db", acc * gain), ("raw", acc)):
            ref = os.path.join(args.work, "refs", mix, clip)
            os.makedirs(ref, exist_ok=True)
            os.makedirs(os.path.join(args.work, "mixes", mix), exist_ok=True)
            for stem, y in (("vocals", voice), ("accompaniment", a), ("mixture", voice + a)):
                sf.write(os.path.join(ref, stem + ".wav"), y.astype(np.float32), sr, subtype="FLOAT")
            sf.write(os.path.join(args.work, "mixes", mix, n), (voice + a).astype(np.float32), sr, subtype="FLOAT")
    return test


def weighted(tracks, value):
    pairs = [(value(t), t["samples"]) for t in tracks]
    pairs = [(v, w) for v, w in pairs if v is not None]
    return sum(v * w for v, w in pairs) / sum(w for _, w in pairs)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--mirror", default="/work/.mirror/andabi+music-source-separation/repo")
    p.add_argument("--work", default="bench-mir1k")
    p.add_argument("--max-minutes", type=float, help="training budget [default: 10 without --epochs]")
    p.add_argument("--epochs", type=int, help="train this many epochs (the cosine schedule spans them)")
    p.add_argument("--run", help="score this run instead of training one")
    p.add_argument("--builtin", action="store_true",
                   help="score soundcheck's built-in pretrained separator instead of training one")
    p.add_argument("--clips", type=int, help="score this many of the 825 test clips (every k-th)")
    p.add_argument("--mix", choices=MIXES + ("both",), default="both", help="the mixtures scored")
    p.add_argument("train_flags", nargs=argparse.REMAINDER, help="-- then flags of `train separation`")
    p.add_argument("--soundcheck", default=os.path.join("target", "debug", "soundcheck"),
                   help="the binary (build it first: cargo build -p soundcheck-cli)")
    args = p.parse_args()
    sc = [args.soundcheck]
    t0 = time.time()
    wav, names = clips(args)
    test = prepare(args, wav, names)
    print(f"prepared {len(test)} test clips in {time.time() - t0:.0f} s", file=sys.stderr)
    subset = ""
    if args.clips is not None and args.clips < len(test):
        test = test[:: len(test) // args.clips][: args.clips]
        subset = f"-{len(test)}clips"
    timings = {}
    run = args.run
    source = ["--run", run] if run else []
    if args.builtin:
        run, source = os.path.join(args.work, "builtin"), []
    elif run is None:
        run = os.path.join(args.work, time.strftime("run-%Y%m%d-%H%M%S"))
        budget = ["--epochs", str(args.epochs)] if args.epochs else []
        if args.max_minutes or not args.epochs:
            budget += ["--max-minutes", str(args.max_minutes or 10)]
        flags = args.train_flags[1:] if args.train_flags[:1] == ["--"] else args.train_flags
        t = time.time()
        with open(run + ".json", "w") as out:
            sh(sc + ["train", "separation", "--data", os.path.join(args.work, "train"), "--voice-channel", "right",
                     "--cache", os.path.join(args.work, "cache"), "--out", run, "--json"] + budget + flags, stdout=out)
        timings["train_s"] = time.time() - t
        source = ["--run", run]
    summary = {"run": run, "clips": len(test), "mixes": {}}
    if os.path.exists(run + ".json"):
        summary["training"] = {k: v for k, v in json.load(open(run + ".json")).items() if k != "history"}
    for mix in MIXES if args.mix == "both" else (args.mix,):
        est = f"{run}-separated-{mix}{subset}"
        t = time.time()
        if not os.path.isdir(est):
            mixtures = [os.path.join(args.work, "mixes", mix, n) for n in test]
            sh(sc + ["separate", "-o", est] + source + mixtures, stdout=subprocess.DEVNULL)
        timings[f"separate_{mix}_s"] = time.time() - t
        refs = os.path.join(args.work, "refs", mix)
        if subset:
            # evaluate pairs every reference with an estimate: the subset's references alone.
            refs = os.path.join(args.work, "refs" + subset, mix)
            os.makedirs(refs, exist_ok=True)
            for n in test:
                link = os.path.join(refs, n[:-4])
                if not os.path.lexists(link):
                    os.symlink(os.path.abspath(os.path.join(args.work, "refs", mix, n[:-4])), link)
        t = time.time()
        scores = f"{run}-scores-{mix}{subset}.json"
        with open(scores, "w") as out:
            sh(sc + ["evaluate", "--reference", refs, "--estimate", est,
                     "--mode", "sources", "--baselines", "--json"], stdout=out)
        timings[f"evaluate_{mix}_s"] = time.time() - t
        s = json.load(open(scores))
        tracks = s["tracks"]
        rows = {}
        for stem in ("vocals", "accompaniment"):
            base = lambda t, b: t["baselines"][b][stem]["sdr"]
            rows[stem] = {
                "GNSDR": s["gnsdr"][stem],
                "GSIR": s["length_weighted_mean"][stem]["sir"],
                "GSAR": s["length_weighted_mean"][stem]["sar"],
                "GSDR": s["length_weighted_mean"][stem]["sdr"],
                "mixture_GSDR": weighted(tracks, lambda t: base(t, "mixture")),
                "oracle_irm_GNSDR": weighted(tracks, lambda t: base(t, "oracle_irm") - base(t, "mixture")),
                "oracle_irm_GSIR": weighted(tracks, lambda t: t["baselines"]["oracle_irm"][stem]["sir"]),
                "oracle_irm_GSAR": weighted(tracks, lambda t: t["baselines"]["oracle_irm"][stem]["sar"]),
            }
            # evaluate's GNSDR, recomputed here from its per-clip values.
            check = weighted(tracks, lambda t: t["stems"][stem]["sdr"] - base(t, "mixture"))
            assert abs(check - rows[stem]["GNSDR"]) < 1e-9, (check, rows[stem]["GNSDR"])
        summary["mixes"][mix] = rows
    summary["timings_s"] = timings
    with open(f"{run}-mir1k{subset}.json", "w") as f:
        json.dump(summary, f, indent=1)
    for mix, rows in summary["mixes"].items():
        print(f"MIR-1K test ({len(test)} clips), {mix} mixes, whole-clip BSS Eval v3, length-weighted, dB:")
        for stem, r in rows.items():
            print(f"  {stem:<14} GNSDR {r['GNSDR']:6.2f}  GSIR {r['GSIR']:6.2f}  GSAR {r['GSAR']:6.2f}  "
                  f"(mixture GSDR {r['mixture_GSDR']:6.2f}; oracle IRM GNSDR {r['oracle_irm_GNSDR']:6.2f}, "
                  f"GSIR {r['oracle_irm_GSIR']:6.2f}, GSAR {r['oracle_irm_GSAR']:6.2f})")
    print(f"timings (s): {json.dumps({k: round(v) for k, v in timings.items()})}")


if __name__ == "__main__":
    main()
