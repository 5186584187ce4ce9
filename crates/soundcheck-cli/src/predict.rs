//! `soundcheck predict`: a trained run's model, or a trained Keras model file, on an `.npy` batch
//! (or an `.npz` of one array per model input), every input checked against the model first.

use std::path::{Path, PathBuf};

use clap::Args;
use serde::Serialize;
use soundcheck_nn::Device;
use soundcheck_npy::Array;
use soundcheck_tasks::{RunDir, TaskError};

use crate::report::report;

/// Run a trained model on an .npy batch (checked against the model first)
#[derive(Args)]
#[command(
    after_help = "Examples:\n  soundcheck predict --run runs/lstm x_test.npy -o predictions.npy\n  soundcheck predict --model trained.keras x_test.npy -o predictions.npy   # or a Keras .h5 model\n  soundcheck predict --run runs/two-inputs x_test.npz -o predictions.npz   # np.savez(x_test.npz, audio=..., meta=...)"
)]
pub struct PredictArgs {
    /// Run directory written by `soundcheck train` (or `soundcheck convert model.keras RUN`)
    #[arg(long, required_unless_present = "model", conflicts_with = "model")]
    pub run: Option<PathBuf>,
    /// A trained Keras model file, run with its weights: .keras, or a full-model .h5
    #[arg(long)]
    pub model: Option<PathBuf>,
    /// Inputs, batch axis first, as the model takes them: an .npy, or an .npz holding one array
    /// per model input, named after it
    pub input: PathBuf,
    /// Output .npy (float32, batch axis first), or .npz holding one array per model output
    /// (needed when the model has several)
    #[arg(short, long)]
    pub output: PathBuf,
    /// Examples per forward pass (bounds memory)
    #[arg(long, default_value_t = 32)]
    pub batch_size: usize,
    #[arg(long)]
    pub json: bool,
}

/// One output array that `predict` wrote.
#[derive(Serialize)]
struct Written {
    name: String,
    shape: Vec<usize>,
}

/// What `predict` wrote.
#[derive(Serialize)]
struct Predicted {
    output: PathBuf,
    /// The shape of the only output (the first, when there are several).
    shape: Vec<usize>,
    /// Every output array, by model output name.
    outputs: Vec<Written>,
    examples: usize,
}

fn is_npz(p: &Path) -> bool {
    p.extension().is_some_and(|e| e.eq_ignore_ascii_case("npz"))
}

/// The input arrays with their names (`None` for a lone `.npy`).
fn read_inputs(path: &Path) -> Result<Vec<(Option<String>, Array)>, TaskError> {
    if is_npz(path) {
        Ok(soundcheck_npy::read_npz(path)
            .map_err(|e| TaskError::file(path, e))?
            .into_iter()
            .map(|(n, a)| (Some(n), a))
            .collect())
    } else {
        Ok(vec![(
            None,
            soundcheck_npy::read(path).map_err(|e| TaskError::file(path, e))?,
        )])
    }
}

fn predict(a: &PredictArgs, device: &Device) -> Result<Predicted, TaskError> {
    let mut reads = match (&a.run, &a.model) {
        (Some(run), _) => RunDir::files_of(run, &[]),
        (None, model) => model.iter().cloned().collect(),
    };
    reads.push(a.input.clone());
    let reads: Vec<&Path> = reads.iter().map(PathBuf::as_path).collect();
    TaskError::check_outputs("output", &reads, &[&a.output])?;
    let net = match (&a.run, &a.model) {
        (Some(run), _) => RunDir::open(run).network(device)?,
        (None, model) => {
            let model = model.as_deref().ok_or_else(|| TaskError::Option {
                name: "model",
                actual: "neither `run` nor `model`".into(),
                expected: "a run folder (`run`) or a trained Keras model file (`model`)".into(),
            })?;
            soundcheck_nn::load_keras(model, device)?
        }
    };
    let model = net.model();
    if model.outputs.len() > 1 && !is_npz(&a.output) {
        let outputs: Vec<&str> = model.outputs.iter().map(|&o| model.node_name(o)).collect();
        return Err(TaskError::Option {
            name: "output",
            actual: a.output.display().to_string(),
            expected: format!(
                "an .npz file: the model has {} outputs ({}), written as one array each",
                outputs.len(),
                outputs.join(", ")
            ),
        });
    }
    let arrays = read_inputs(&a.input)?;
    let outs = soundcheck_tasks::predict(&net, &arrays, &a.input, a.batch_size)?;
    if is_npz(&a.output) {
        let named: Vec<(&str, &[usize], &[f32])> = outs
            .iter()
            .map(|p| (p.name.as_str(), p.shape.as_slice(), p.values.as_slice()))
            .collect();
        soundcheck_npy::write_npz(&a.output, &named)
    } else {
        soundcheck_npy::write(&a.output, &outs[0].shape, &outs[0].values)
    }
    .map_err(|e| TaskError::file(&a.output, e))?;
    Ok(Predicted {
        output: a.output.clone(),
        shape: outs[0].shape.clone(),
        examples: outs[0].shape[0],
        outputs: outs
            .into_iter()
            .map(|p| Written {
                name: p.name,
                shape: p.shape,
            })
            .collect(),
    })
}

pub fn run(a: &PredictArgs, device: &Device) -> u8 {
    report(predict(a, device), a.json, |p| {
        format!(
            "wrote {} of shape {}",
            a.output.display(),
            serde_json::to_string(&p.shape).expect("sizes serialise")
        )
    })
}
