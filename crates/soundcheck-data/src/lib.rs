//! soundcheck's data pipeline: datasets of declared shapes, checked against the model before the
//! first step; seeded shuffles and splits; parallel batching with prefetch; an on-disk feature
//! cache; source-separation datasets (DSD100, MUSDB18-HQ); classification datasets (class folders,
//! CSV manifests), clip features and Keras's sequence padding.

#![warn(missing_docs)]
// Diagnoses are large by design (shapes, cause, fix) and only built on the failure path.
#![allow(clippy::result_large_err)]

pub mod batch;
pub mod cache;
pub mod check;
pub mod classes;
pub mod clip_features;
pub mod dataset;
pub mod error;
pub mod order;
pub mod separation;
pub mod sequence;

pub use batch::{batches, gather, plan, Batch, LoaderConfig, Stacked};
pub use cache::FeatureCache;
pub use check::{check_dataset, wire, wire_inputs, Wiring};
pub use classes::{ClassSet, Clip, Split};
pub use clip_features::{ClipFeature, ClipFeatures};
pub use dataset::{example_len, ArrayDataset, Dataset, Field, NamedArray};
pub use error::{DataError, Result};
pub use order::{epoch_order, shuffled, split};
pub use separation::{discover, load_track, Layout, Track, TrackFiles};
pub use sequence::{pad_sequences, percentile_length, Sequence, Side, Standardiser};
