//! The systems soundcheck's users build from its parts: audio classification (clip features →
//! padded, standardised sequences → a checked model), spectrogram-mask separation, and the
//! built-in demo data.

#![warn(missing_docs)]

pub mod classification;
pub mod classifier;
pub mod demo;
pub mod demo_tracks;
pub mod error;
pub mod fit;
pub mod plot;
pub mod progress;
pub mod quickstart;
pub mod run_dir;
pub mod separation;
pub mod separation_patches;
pub mod separator;

pub use classification::{fill_classes, LengthPolicy, Preprocess};
pub use classifier::{
    train_classifier, ClassificationTrained, ClassificationTraining, Classifier, ClipSelection,
    Scores,
};
pub use demo::{demo_clip, write_classification_demo, DEMO_CLASSES, DEMO_RATE};
pub use demo_tracks::{demo_song, write_separation_demo, Song};
pub use error::{FailureKind, Result, TaskError};
pub use fit::{fit, resume_arrays, train_arrays, ArrayTraining, FitOptions, TrainSummary};
pub use progress::{Progress, Quiet};
pub use quickstart::{classification_quickstart, separation_quickstart};
pub use run_dir::RunDir;
pub use separation::{Chunking, Separated, SeparationConfig, SeparationError};
pub use separation_patches::PatchDataset;
pub use separator::{
    separate_files, train_separator, SeparationTrained, SeparationTraining, Separator,
};
