#!/usr/bin/env bash
# Training steps of the two reference models: soundcheck-nn and Keras/TensorFlow, alternating twice.
set -euo pipefail
cd "$(dirname "$0")/../.."
py=${PYTHON:-.venv/bin/python}
for round in 1 2; do
  echo "== round $round"
  cargo bench -q -p soundcheck-nn --bench training
  "$py" tools/bench/keras_training.py 2>/dev/null
done
