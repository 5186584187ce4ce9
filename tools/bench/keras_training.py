"""Keras's side of the training benchmark: the same models, weights and batch shapes as
crates/soundcheck-nn/benches/training.rs, one `train_on_batch` (forward, backward, Adam) per step,
TensorFlow on the CPU threads it finds."""
import json
import os
import statistics
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "fixtures"))
import numpy as np  # noqa: E402
import keras  # noqa: E402
import tensorflow as tf  # noqa: E402
from safetensors.numpy import load_file  # noqa: E402
from keras_shapes import build  # noqa: E402

d = os.path.join(os.path.dirname(__file__), "..", "..", "crates", "soundcheck-nn", "tests", "fixtures")
for name, batch, steps, loss in [
    ("resmask32", 16, 6, "mse"),
    ("mfcc_lstm", 32, 21, "sparse_categorical_crossentropy"),
    ("mfcc_gru", 32, 21, "sparse_categorical_crossentropy"),
    ("convbank_residual", 32, 21, "mse"),
]:
    spec = json.load(open(os.path.join(d, name, "model.json")))
    model, _ = build(spec)
    w = load_file(os.path.join(d, name, "weights.safetensors"))
    for v in model.weights:
        v.assign(w[v.path])
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss=loss)
    rng = np.random.default_rng(0)
    x = rng.normal(size=[batch] + spec["input_shape"]).astype("float32")
    out_shape = (batch,) + tuple(model.output_shape[1:])
    y = rng.uniform(size=out_shape).astype("float32") if loss == "mse" else (np.arange(batch) % 10)
    model.train_on_batch(x, y)
    ts = []
    for _ in range(steps - 1):
        t = time.perf_counter()
        model.train_on_batch(x, y)
        ts.append((time.perf_counter() - t) * 1e3)
    print(f"Keras {keras.__version__} / TF {tf.__version__} {name} train step, batch {[batch] + spec['input_shape']}: median {statistics.median(ts):.1f} ms")
