//! The Keras fixtures shared by the equivalence tests (tools/fixtures/keras_forward.py).

use std::path::{Path, PathBuf};

/// The models of keras_forward.py, in its order.
pub const KERAS_MODELS: &[&str] = &[
    "resmask32",
    "convbank_residual",
    "conv_stride2_x3",
    "pools_1d",
    "pools_2d_mixed",
    "dense_on_sequences",
    "mfcc_lstm",
    "recurrent_stack",
    "bidirectional",
    "td_conv1d_lstm",
    "spatial_edits_2d",
    "spatial_edits_1d",
    "embedding_lstm",
    "transposed_2d",
    "transposed_1d",
];

pub fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}
