#!/usr/bin/env bash
# Separation quality on realistic songs (issue 15): generate the benchmark set (24 training and
# 6 test songs of 30 s from FluidR3_GM; `apt install fluid-soundfont-gm`), score the mixture and
# the oracle IRM, train a recipe under a time budget, separate the test songs with it and score
# them with BSS Eval v4 (museval's metrics). Usage:
#   tools/bench/separation_quality.sh [WORK_DIR] [-- extra `train separation` flags]
# The default recipe is the README's; pass e.g. `-- --model models/vocal-mask.toml` to compare.
# RUN=DIR scores an existing run instead of training one; RUN=builtin scores the pretrained
# separator built into soundcheck (`separate` without `--run`). SC=path/to/soundcheck uses that
# binary instead of `cargo run`.
set -euo pipefail
cd "$(dirname "$0")/../.."
work=${1:-bench-separation}
shift || true
[ "${1:-}" = "--" ] && shift
minutes=${MINUTES:-30}
if [ -n "${SC:-}" ]; then sc=("$SC"); else sc=(cargo run -q -p soundcheck-cli --); fi
[ -d "$work/songs" ] || "${sc[@]}" songs --out "$work/songs"
refs=$work/refs
rm -rf "$refs" && mkdir -p "$refs"
for d in "$work"/songs/test/*/; do
  n=$(basename "$d")
  mkdir -p "$refs/$n"
  for f in vocals accompaniment mixture; do ln -s "$(realpath "$d/$f.wav")" "$refs/$n/$f.wav"; done
done
"${sc[@]}" evaluate --reference "$refs" --estimate "$refs" --baselines --json > "$work/baselines.json"
case "${RUN:-}" in
  "")
    run=$work/run-$(date +%Y%m%d-%H%M%S)
    "${sc[@]}" train separation --data "$work/songs" --max-minutes "$minutes" --epochs 1000 \
      --cache "$work/cache" --out "$run" --json "$@" > "$run.json"
    source=(--run "$run") ;;
  builtin) run=$work/builtin; source=() ;;
  *) run=$RUN; source=(--run "$run") ;;
esac
est=$run-separated
rm -rf "$est"
for d in "$refs"/*/; do
  n=$(basename "$d")
  "${sc[@]}" separate "${source[@]}" --patch-hop 12 -o "$est/tmp-$n" "$d/mixture.wav" > /dev/null
  mv "$est/tmp-$n/mixture" "$est/$n" && rmdir "$est/tmp-$n"
done
"${sc[@]}" evaluate --reference "$refs" --estimate "$est" --json > "$run-scores.json"
python3 - "$work/baselines.json" "$run-scores.json" "$run.json" <<'PY'
import json, os, sys
b, s = (json.load(open(p)) for p in sys.argv[1:3])
m = b["median_baselines"]
if os.path.exists(sys.argv[3]):
    t = json.load(open(sys.argv[3]))
    print(f"trained {t['epochs']} epochs in {t['seconds']:.0f} s")
for stem in ("vocals", "accompaniment"):
    print(f"{stem}: SDR {s['median'][stem]['sdr']:.2f} dB (mixture {m['mixture'][stem]['sdr']:.2f}, "
          f"oracle IRM {m['oracle_irm'][stem]['sdr']:.2f}); SIR {s['median'][stem]['sir']:.2f}, "
          f"SAR {s['median'][stem]['sar']:.2f}")
PY
