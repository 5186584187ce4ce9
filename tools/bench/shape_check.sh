#!/usr/bin/env bash
# Checks a 200-layer spec with soundcheck and builds the same model in Keras, in one run.
# Needs the fixtures venv: python3 -m venv .venv && .venv/bin/pip install -r tools/fixtures/requirements.txt
set -euo pipefail
cd "$(dirname "$0")/../.."
spec=$(mktemp --suffix=.json)
cargo bench -q -p soundcheck-shape --bench check -- "$spec"
"${PYTHON:-.venv/bin/python}" tools/bench/keras_build.py "$spec" 2>/dev/null
rm -f "$spec"
