//! Audio classification: clip features padded and standardised into sequences, a checked model
//! trained on class folders or a CSV manifest, and the trained classifier applied to clips and
//! scored.
//!
//! - `clip_features`: a clip's features stacked frame by frame ([`ClipFeatures`]), kinds of the
//!   audio crate's feature recipe
//! - `preprocess`: clip features to one `(T, features)` batch ([`Preprocess`], [`LengthPolicy`])
//! - `train`: a run folder trained and its test split scored ([`train_classifier`])
//! - `augment`: training clips shifted and masked anew every epoch ([`Augment`])
//! - `waveform`: copies of the training clips at other speeds, gains and noise ([`WaveAugment`])
//! - `recipe`: the built-in model and the options it was measured with ([`Recipe`])
//! - `classify`: a trained run loaded ([`Classifier`]), applied to clips and scored
//! - `keras_classifier`: a classifier trained in Keras, its preprocessing given beside it
//!   ([`KerasPreprocess`])
//! - `windows`: a long recording labelled window by window ([`Windows`])
//! - `scores`: accuracy, per-class scores and the confusion matrix ([`Scores`])
//! - `record`: the run's record of its preprocessing and split (`classes.json`)

mod augment;
mod classify;
mod clip_features;
mod keras_classifier;
mod preprocess;
mod recipe;
mod record;
mod scores;
mod train;
mod waveform;
mod windows;

pub use augment::Augment;
pub use classify::{ClassProbability, Classifier, ClipSelection, Labelled, Span};
pub use clip_features::{lowest_rate, ClipFeature, ClipFeatures};
pub use keras_classifier::KerasPreprocess;
pub use preprocess::{LengthPolicy, Normalisation, Preprocess};
pub use recipe::{Recipe, DEFAULT_MODEL};
pub use scores::{ClassScores, GroupScores, Scores};
pub use train::{fill_classes, train_classifier, ClassificationTrained, ClassificationTraining};
pub use waveform::WaveAugment;
pub use windows::Windows;
