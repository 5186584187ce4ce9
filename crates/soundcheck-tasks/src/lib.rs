//! The systems soundcheck's users build from its parts: audio classification (clip features →
//! padded, standardised sequences → a checked model), spectrogram-mask separation, and the
//! built-in demo data.

pub mod classification;
pub mod demo;
pub mod demo_tracks;
pub mod separation;
pub mod separation_patches;

pub use classification::{fill_classes, LengthPolicy, Preprocess};
pub use demo::{demo_clip, write_classification_demo, DEMO_CLASSES, DEMO_RATE};
pub use demo_tracks::{demo_song, write_separation_demo, Song};
pub use separation::{Chunking, Separated, SeparationConfig, SeparationError};
pub use separation_patches::PatchDataset;
