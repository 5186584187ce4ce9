#!/usr/bin/env bash
# The frame-wise descriptors, soundcheck and librosa side by side on the chain bench's 10-minute
# file, alternating once per round (ROUNDS, default "1 2"). Needs the fixtures venv (librosa 0.11).
set -euo pipefail
cd "$(dirname "$0")/../.."
data=$(realpath -m "${DATA:-target/bench-data}")  # cargo bench runs in the crate folder
py=${PYTHON:-.venv/bin/python}
[ -f "$data/long_10min_44k_stereo.wav" ] || cargo bench -q -p soundcheck-audio --bench chain -- "$data" >/dev/null
for round in ${ROUNDS:-1 2}; do
  echo "== round $round"
  cargo bench -q -p soundcheck-audio --bench descriptors -- "$data"
  "$py" tools/bench/librosa_descriptors.py "$data"
done
