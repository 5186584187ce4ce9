//! The systems soundcheck's users build from its parts, as library functions returning typed
//! results: training runs in run folders ([`RunDir`], [`fit()`] with a [`Progress`] observer),
//! audio classification (clip features → padded, standardised sequences → a checked model;
//! [`train_classifier`], [`Classifier`]), spectrogram-mask separation ([`train_separator`],
//! [`Separator`]), the quickstarts on built-in demo data, and the pictures a person looks at.
//! The CLI is a thin layer over these.

#![warn(missing_docs)]

pub mod builtin;
pub mod classification;
pub mod demo;
pub mod demo_tracks;
pub mod error;
pub mod fit;
pub mod plot;
pub mod predict;
pub mod progress;
pub mod quickstart;
pub mod run_dir;
pub mod separation;
pub mod songs;

pub use classification::{
    fill_classes, train_classifier, ClassificationTrained, ClassificationTraining, Classifier,
    ClipSelection, LengthPolicy, Preprocess, Scores,
};
pub use demo::{demo_clip, write_classification_demo, DEMO_CLASSES, DEMO_RATE};
pub use demo_tracks::write_separation_demo;
pub use error::{FailureKind, Result, TaskError};
pub use fit::{fit, resume_arrays, train_arrays, ArrayTraining, FitOptions, TrainSummary};
pub use predict::{predict, Prediction};
pub use progress::{Progress, Quiet};
pub use quickstart::{classification_quickstart, separation_quickstart};
pub use run_dir::RunDir;
pub use separation::{
    separate_files, train_separator, Chunking, MixDataset, PatchDataset, Separated,
    SeparationConfig, SeparationError, SeparationTrained, SeparationTraining, Separator, StemName,
};
