#!/usr/bin/env bash
# The front-end benchmark, soundcheck and librosa side by side on the same files, alternating
# once per round (ROUNDS, default "1 2") so both see the same machine state. Needs the fixtures venv (librosa 0.11):
#   python3 -m venv .venv && .venv/bin/pip install -r tools/fixtures/requirements.txt
set -euo pipefail
cd "$(dirname "$0")/../.."
data=$(realpath -m "${DATA:-target/bench-data}")  # cargo bench runs in the crate folder
py=${PYTHON:-.venv/bin/python}
cargo bench -q -p soundcheck-audio --bench chain -- "$data" >/dev/null   # build, and create the files
for round in ${ROUNDS:-1 2}; do
  echo "== round $round"
  cargo bench -q -p soundcheck-audio --bench chain -- "$data"
  "$py" tools/bench/librosa_chain.py "$data"
done
