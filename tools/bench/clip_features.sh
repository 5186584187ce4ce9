#!/usr/bin/env bash
# Classification feature extraction: soundcheck (parallel across files) and librosa + numpy, alternating twice.
set -euo pipefail
cd "$(dirname "$0")/../.."
py=${PYTHON:-.venv/bin/python}
for round in 1 2; do
  echo "== round $round"
  cargo bench -q -p soundcheck-tasks --bench clip_features
  "$py" tools/bench/librosa_clips.py 2>/dev/null
done
