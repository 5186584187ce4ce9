//! Errors of building and running networks: each names the layer, file or argument (in backticks,
//! as the library spells it: `` `clip_norm` ``) and what to do.

use std::path::PathBuf;

use soundcheck_shape::Diagnosis;

/// Why a network could not be built, trained or run.
#[derive(Debug, thiserror::Error)]
pub enum NnError {
    /// The spec does not check: the shape engine's diagnosis.
    #[error("{0}")]
    Spec(Box<Diagnosis>),
    /// A weights file that cannot be read.
    #[error("{}: {actual}; expected a safetensors file of float32 weights keyed like Keras's variables (\"conv2d/kernel\")", path.display())]
    Weights {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        actual: String,
    },
    /// A weight the layer needs is absent, or has another shape than the layer's.
    #[error("{}", weight_message(layer, key, expected, actual.as_deref()))]
    Weight {
        /// The layer.
        layer: String,
        /// Keras's variable path (`conv2d/kernel`).
        key: String,
        /// The shape the layer needs.
        expected: Vec<usize>,
        /// The shape found, or `None` when the weight is missing.
        actual: Option<Vec<usize>>,
    },
    /// A Keras model file (`.keras`, `.h5`) whose weights cannot be used: damaged, larger than
    /// its config implies, or a weight missing, left over, or of another shape or type (named
    /// by layer and variable).
    #[error("{}: {actual}; {hint}", path.display())]
    KerasFile {
        /// The file.
        path: PathBuf,
        /// What is wrong, naming the layer and variable where there is one.
        actual: String,
        /// What to do about it.
        hint: &'static str,
    },
    /// A layer or argument the engine does not run yet (the shape engine still checks it).
    #[error("layer '{layer}': {what} is checked by the shape engine but not run by the neural engine yet")]
    Unsupported {
        /// The layer.
        layer: String,
        /// What it asks for.
        what: String,
    },
    /// A value the layer cannot take (an Embedding id outside its table).
    #[error("layer '{layer}': {actual}")]
    Value {
        /// The layer.
        layer: String,
        /// The value, and what to do about it.
        actual: String,
    },
    /// A training option with a value it cannot take.
    #[error("{name} = {actual} cannot be used; expected {expected}")]
    Config {
        /// The option.
        name: &'static str,
        /// The value given.
        actual: String,
        /// The values it can take.
        expected: String,
    },
    /// Targets that do not fit the output and loss.
    #[error("targets: {0}")]
    Targets(String),
    /// The loss became NaN or infinite.
    #[error("the loss became {loss} at epoch {epoch}, batch {batch}; likely causes: a learning rate too high (try 10× lower or `clip_norm` 1.0), NaN or inf in the inputs or targets (look for them in the data), or a log/division of zero in the model (a softmax/sigmoid output with a loss that expects logits)")]
    NonFinite {
        /// 1-based.
        epoch: usize,
        /// 1-based.
        batch: usize,
        /// The loss (NaN or ±inf).
        loss: f32,
    },
    /// An inference output that is NaN or infinite (its inputs were finite): never handed on
    /// as an answer.
    #[error("output '{output}' is {value} for example {example} of the batch although every input is finite: the network's arithmetic overflowed; its weights are likely damaged or diverged (retrain, or resume from an earlier checkpoint) or far outside what the layers were trained for")]
    NonFiniteOutput {
        /// The model output.
        output: String,
        /// 0-based, in the batch.
        example: usize,
        /// The value (NaN or ±inf).
        value: f32,
    },
    /// An inference input holding NaN or infinity, which would come out as NaN.
    #[error("input '{input}' holds {value} in example {example} of the batch; expected finite values — clean the data (np.nan_to_num, or drop the example)")]
    NonFiniteInput {
        /// The model input.
        input: String,
        /// 0-based, in the batch.
        example: usize,
        /// The value (NaN or ±inf).
        value: f32,
    },
    /// The data pipeline failed (a file, a shape the model does not take).
    #[error(transparent)]
    Data(Box<soundcheck_data::DataError>),
    /// A run directory or checkpoint that cannot be written or read.
    #[error("{}: {actual}", path.display())]
    Run {
        /// The run folder or file.
        path: PathBuf,
        /// What went wrong.
        actual: String,
        /// The io error behind it, when there is one (its kind kept).
        #[source]
        source: Option<std::io::Error>,
    },
    /// Another number of arrays than the model has inputs, or a call that returns one array on a
    /// model of several outputs.
    #[error("{given} for a model of {} input(s) ({}) and {outputs} output(s); {hint}", inputs.len(), inputs.join(", "))]
    Arity {
        /// The model's input names.
        inputs: Vec<String>,
        /// The model's output count.
        outputs: usize,
        /// What was given.
        given: String,
        /// What to do about it.
        hint: &'static str,
    },
    /// An input array of another shape than the model's.
    #[error("input '{name}' of shape {actual:?} for a model taking (batch, {}); check the model with that shape as `feed` for the diagnosis", expected.iter().map(|d| d.map_or("None".to_string(), |d| d.to_string())).collect::<Vec<_>>().join(", "))]
    Input {
        /// The model input.
        name: String,
        /// The model's input shape, batch excluded.
        expected: Vec<Option<usize>>,
        /// The array's shape, batch included.
        actual: Vec<usize>,
    },
}

fn weight_message(layer: &str, key: &str, expected: &[usize], actual: Option<&[usize]>) -> String {
    match actual {
        None => format!("layer '{layer}': weight '{key}' of shape {expected:?} is missing from the weights; save the weights of this very model"),
        Some(a) => format!("layer '{layer}': weight '{key}' has shape {a:?}, expected {expected:?}; the weights come from a different model"),
    }
}

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

/// A result whose error is an [`NnError`].
pub type Result<T> = std::result::Result<T, NnError>;
