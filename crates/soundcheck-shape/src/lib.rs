//! soundcheck's shape engine: read a model spec (JSON/TOML, Keras layer names and arguments, or
//! a Keras model config), infer every layer's output shape and parameter count exactly as Keras
//! does, and explain each misfit with the layer, the shapes, the cause and a computed fix.
//!
//! ```
//! use soundcheck_shape::{check_spec, ModelSpec};
//! let spec = ModelSpec::from_toml_str(r#"
//! input_shape = [100]
//! [[layers]]
//! type = "LSTM"
//! units = 64
//! "#).unwrap();
//! let report = check_spec(&spec).unwrap();
//! let error = report.error.unwrap();
//! assert_eq!(error.kind.as_str(), "rank_mismatch");
//! assert!(error.fix.contains("Reshape((100, 1))"));
//! ```

#![warn(missing_docs)]
// Diagnoses are large by design (shapes, cause, fix) and only built on the failure path.
#![allow(clippy::result_large_err)]

pub mod args;
pub mod diagnosis;
pub mod feed;
pub mod identifiers;
pub mod inspect;
pub mod keras;
pub mod labels;
pub mod layers;
pub mod load;
pub mod model;
pub mod shape;
pub mod spec;
pub mod summary;
pub mod text;

pub use diagnosis::{Diagnosis, Kind};
pub use load::load_model;
pub use model::{AxisMin, LayerReport, Model, Report};
pub use shape::{Dim, Shape};
pub use spec::{Api, DataFormat, ModelSpec};
pub use text::escape_controls;

/// Resolves a spec and infers it; `Err` only when the spec itself is unusable (`invalid_spec`).
pub fn check_spec(spec: &ModelSpec) -> Result<Report, Diagnosis> {
    Ok(Model::from_spec(spec)?.check())
}
