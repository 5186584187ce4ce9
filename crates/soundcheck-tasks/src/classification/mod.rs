//! Audio classification: clip features padded and standardised into sequences, a checked
//! model trained on class folders or a CSV manifest, and the trained classifier applied to
//! clips and scored.

mod classify;
mod preprocess;

pub use classify::{
    train_classifier, ClassProbability, ClassScores, ClassificationTrained,
    ClassificationTraining, Classifier, ClipSelection, Labelled, Scores,
};
pub use preprocess::{fill_classes, LengthPolicy, Preprocess};
