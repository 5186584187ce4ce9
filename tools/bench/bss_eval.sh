#!/usr/bin/env bash
# BSS Eval v4 on 30 s of 4 stereo sources: soundcheck-eval and museval, alternating twice.
set -euo pipefail
cd "$(dirname "$0")/../.."
py=${PYTHON:-.venv/bin/python}
for round in 1 2; do
  echo "== round $round"
  cargo bench -q -p soundcheck-eval --bench bss
  "$py" tools/bench/museval_bss.py
done
