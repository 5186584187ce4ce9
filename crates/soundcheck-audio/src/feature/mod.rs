//! One feature recipe for every front end (the CLI's `features`, the classifier's clip features,
//! the Python module): the kinds and their names ([`FeatureKind`]), librosa's defaults
//! ([`FeatureConfig`]), a kind computed over a signal's channels ([`FeatureConfig::compute`]),
//! deltas ([`with_deltas`]) and the output layout ([`Layout`], [`patches`]).

mod compute;
mod config;
mod deltas;
mod kind;
mod layout;

pub use compute::Frames;
pub use config::FeatureConfig;
pub use deltas::{with_deltas, DELTA_WIDTH};
pub use kind::FeatureKind;
pub use layout::{patches, Arranged, Layout};
