//! soundcheck's data pipeline: datasets of declared shapes (one array per model input and
//! output), checked against the model before the first step; seeded shuffles and splits;
//! parallel batching with prefetch; an on-disk feature cache; class folders and CSV manifests;
//! Keras's sequence padding; the shards of a batch job. It reads arrays, never audio: the tasks turn audio into datasets,
//! so the network engine that trains on them builds without a decoder.

#![warn(missing_docs)]
// Diagnoses are large by design (shapes, cause, fix) and only built on the failure path.
#![allow(clippy::result_large_err)]

pub mod batch;
pub mod cache;
pub mod check;
pub mod classes;
pub mod dataset;
pub mod error;
pub mod groups;
pub mod order;
pub mod sequence;
pub mod shard;

pub use batch::{batches, gather, plan, Batch, LoaderConfig, Stacked};
pub use cache::FeatureCache;
pub use check::{check_dataset, wire, wire_inputs, Wiring};
pub use classes::{ClassSet, Clip, Split};
pub use dataset::{example_len, ArrayDataset, Dataset, Field, NamedArray};
pub use error::{DataError, Result};
pub use groups::Grouping;
pub use order::{epoch_order, shuffled, split};
pub use sequence::{pad_sequences, percentile_length, Sequence, Side, Standardiser};
pub use shard::{mirrored, read_list};
pub use soundcheck_io::Shard;
