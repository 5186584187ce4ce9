"""Keras's side of the inference benchmark: the same models and weights as soundcheck-nn's
fixtures, the same batch shapes, TensorFlow on the CPU threads it finds."""
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
for name, batch, runs in [("resmask32", 16, 5), ("mfcc_lstm", 32, 20), ("mfcc_gru", 32, 20), ("convbank_residual", 32, 20)]:
    spec = json.load(open(os.path.join(d, name, "model.json")))
    model, _ = build(spec)
    w = load_file(os.path.join(d, name, "weights.safetensors"))
    for v in model.weights:
        v.assign(w[v.path])
    x = np.random.default_rng(0).normal(size=[batch] + spec["input_shape"]).astype("float32")
    f = tf.function(lambda t: model(t, training=False))
    f(x)
    ts = []
    for _ in range(runs):
        t = time.perf_counter()
        np.asarray(f(x))
        ts.append((time.perf_counter() - t) * 1e3)
    print(f"Keras {keras.__version__} / TF {tf.__version__} {name} inference, batch {[batch] + spec['input_shape']}: median {statistics.median(ts):.1f} ms")
