#!/usr/bin/env bash
# Inference of the two reference models: soundcheck-nn and Keras/TensorFlow, alternating twice.
set -euo pipefail
cd "$(dirname "$0")/../.."
py=${PYTHON:-.venv/bin/python}
for round in 1 2; do
  echo "== round $round"
  cargo bench -q -p soundcheck-nn --bench inference
  "$py" tools/bench/keras_inference.py 2>/dev/null
done
