//! Errors of building and running networks: each names the layer or file and what to do.

use std::fmt;
use std::path::PathBuf;

use soundcheck_shape::Diagnosis;

#[derive(Debug)]
pub enum NnError {
    /// The spec does not check: the shape engine's diagnosis.
    Spec(Box<Diagnosis>),
    /// A weights file that cannot be read.
    Weights { path: PathBuf, detail: String },
    /// A weight the layer needs is absent, or has another shape than the layer's.
    Weight {
        layer: String,
        key: String,
        expected: Vec<usize>,
        actual: Option<Vec<usize>>,
    },
    /// A layer or argument the engine does not run yet (the shape engine still checks it).
    Unsupported { layer: String, what: String },
    /// A value the layer cannot take (an Embedding id outside its table).
    Value { layer: String, detail: String },
    /// A training option with a value it cannot take.
    Config {
        name: &'static str,
        value: String,
        expected: String,
    },
    /// Targets that do not fit the output and loss.
    Targets(String),
    /// The loss became NaN or infinite.
    NonFinite {
        epoch: usize,
        batch: usize,
        loss: f32,
    },
    /// The data pipeline failed (a file, a shape the model does not take).
    Data(Box<soundcheck_data::DataError>),
    /// A run directory or checkpoint that cannot be written or read.
    Run { path: PathBuf, detail: String },
    /// An input array of another shape than the model's.
    Input {
        expected: Vec<Option<usize>>,
        actual: Vec<usize>,
    },
}

impl fmt::Display for NnError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NnError::Spec(d) => write!(f, "{d}"),
            NnError::Weights { path, detail } => write!(f, "{}: {detail}; expected a safetensors file of float32 weights keyed like Keras's variables (\"conv2d/kernel\")", path.display()),
            NnError::Weight { layer, key, expected, actual: None } => write!(f, "layer '{layer}': weight '{key}' of shape {expected:?} is missing from the weights; save the weights of this very model"),
            NnError::Weight { layer, key, expected, actual: Some(a) } => write!(f, "layer '{layer}': weight '{key}' has shape {a:?}, expected {expected:?}; the weights come from a different model"),
            NnError::Unsupported { layer, what } => write!(f, "layer '{layer}': {what} is checked by the shape engine but not run by the neural engine yet"),
            NnError::Value { layer, detail } => write!(f, "layer '{layer}': {detail}"),
            NnError::Config { name, value, expected } => write!(f, "{name} = {value} cannot be used; expected {expected}"),
            NnError::Targets(detail) => write!(f, "targets: {detail}"),
            NnError::NonFinite { epoch, batch, loss } => write!(f, "the loss became {loss} at epoch {epoch}, batch {batch}; likely causes: a learning rate too high (try 10× lower or --clip-norm 1.0), NaN or inf in the inputs or targets (`soundcheck check --data` finds them), or a log/division of zero in the model (a softmax/sigmoid output with a loss that expects logits)"),
            NnError::Data(e) => write!(f, "{e}"),
            NnError::Run { path, detail } => write!(f, "{}: {detail}", path.display()),
            NnError::Input { expected, actual } => write!(f, "input of shape {actual:?} for a model taking (batch, {}); run `soundcheck check MODEL --feed ...` for the diagnosis", expected.iter().map(|d| d.map_or("None".to_string(), |d| d.to_string())).collect::<Vec<_>>().join(", ")),
        }
    }
}

impl std::error::Error for NnError {}

impl From<soundcheck_data::DataError> for NnError {
    fn from(e: soundcheck_data::DataError) -> NnError {
        NnError::Data(Box::new(e))
    }
}

impl From<Diagnosis> for NnError {
    fn from(d: Diagnosis) -> NnError {
        NnError::Spec(Box::new(d))
    }
}

pub type Result<T> = std::result::Result<T, NnError>;
