//! The systems soundcheck's users build from its parts: audio classification (clip features →
//! padded, standardised sequences → a checked model) and the built-in demo data.

pub mod classification;
pub mod demo;

pub use classification::{fill_classes, LengthPolicy, Preprocess};
pub use demo::{demo_clip, write_classification_demo, DEMO_CLASSES, DEMO_RATE};
