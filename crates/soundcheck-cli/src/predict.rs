//! `soundcheck predict`: a trained run's model, or a trained Keras model file, on an `.npy` batch
//! (or an `.npz` of one array per model input), every input checked against the model first.

use std::path::{Path, PathBuf};

use clap::Args;
use serde::Serialize;
use soundcheck_data::{wire_inputs, Field};
use soundcheck_nn::{Device, Network};
use soundcheck_npy::Array;
use soundcheck_shape::feed::check_input_feed;
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

/// The input arrays with their names (`None` for a lone `.npy`), each checked for complex and
/// non-finite values.
fn read_inputs(path: &Path) -> Result<Vec<(Option<String>, Array)>, TaskError> {
    let arrays: Vec<(Option<String>, Array)> = if is_npz(path) {
        soundcheck_npy::read_npz(path)
            .map_err(|e| TaskError::file(path, e))?
            .into_iter()
            .map(|(n, a)| (Some(n), a))
            .collect()
    } else {
        vec![(
            None,
            soundcheck_npy::read(path).map_err(|e| TaskError::file(path, e))?,
        )]
    };
    for (name, x) in &arrays {
        let what = name
            .as_ref()
            .map_or(String::new(), |n| format!("array '{n}': "));
        let bad_input = |actual: String, hint: &str| TaskError::Folder {
            path: path.to_path_buf(),
            actual: format!("{what}{actual}"),
            hint: hint.into(),
        };
        if x.complex {
            return Err(bad_input(
                "complex values".into(),
                "the model takes real inputs (use magnitudes)",
            ));
        }
        if let Some(i) = x.data.iter().position(|v| !v.is_finite()) {
            let per = x
                .shape
                .get(1..)
                .map_or(1, |s| s.iter().product::<usize>().max(1));
            return Err(bad_input(
                format!("example {} holds {}", i / per, x.data[i]),
                "clean the input first",
            ));
        }
    }
    Ok(arrays)
}

/// One `(shape, values)` per model output.
type Outputs = Vec<(Vec<usize>, Vec<f32>)>;

/// Runs `net` over `inputs` (in the model's input order) `batch_size` examples at a time.
fn run_batches(net: &Network, inputs: &[&Array], batch_size: usize) -> Result<Outputs, TaskError> {
    let n = inputs[0].shape[0];
    let mut outs: Outputs = Vec::new();
    for start in (0..n).step_by(batch_size) {
        let end = (start + batch_size).min(n);
        let batch = inputs
            .iter()
            .map(|x| {
                let per: usize = x.shape[1..].iter().product();
                let mut shape = x.shape.clone();
                shape[0] = end - start;
                (shape, x.data[start * per..end * per].to_vec())
            })
            .collect();
        let ys = net.forward_all(batch)?;
        if outs.is_empty() {
            outs = ys.iter().map(|(s, _)| (s.clone(), Vec::new())).collect();
        }
        for ((_, all), (_, y)) in outs.iter_mut().zip(ys) {
            all.extend(y);
        }
    }
    for (shape, _) in &mut outs {
        shape[0] = n;
    }
    Ok(outs)
}

fn predict(a: &PredictArgs, device: &Device) -> Result<Predicted, TaskError> {
    if a.batch_size == 0 {
        return Err(TaskError::Option {
            name: "batch_size",
            actual: "0".into(),
            expected: "a positive number of examples".into(),
        });
    }
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
    let outputs: Vec<String> = model
        .outputs
        .iter()
        .map(|&o| model.node_name(o).to_string())
        .collect();
    if outputs.len() > 1 && !is_npz(&a.output) {
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
    let fields: Vec<Field> = arrays
        .iter()
        .map(|(name, x)| Field {
            name: name.clone(),
            shape: x.shape.get(1..).unwrap_or(&[]).to_vec(),
            integer: x.integer,
        })
        .collect();
    let in_file = |mut d: soundcheck_shape::Diagnosis| {
        d.title = format!("{}: {}", a.input.display(), d.title);
        TaskError::from(d)
    };
    let order = wire_inputs(model, &fields).map_err(in_file)?;
    let inputs: Vec<&Array> = order.iter().map(|&f| &arrays[f].1).collect();
    for (k, x) in inputs.iter().enumerate() {
        check_input_feed(model, k, &x.shape).map_err(in_file)?;
    }
    let n = inputs[0].shape[0];
    if let Some(x) = inputs.iter().find(|x| x.shape[0] != n) {
        return Err(TaskError::Folder {
            path: a.input.clone(),
            actual: format!("arrays of {n} and {} examples", x.shape[0]),
            hint: "give every input array the same number of examples".into(),
        });
    }
    let outs = run_batches(&net, &inputs, a.batch_size)?;
    if is_npz(&a.output) {
        let named: Vec<(&str, &[usize], &[f32])> = outputs
            .iter()
            .zip(&outs)
            .map(|(name, (s, y))| (name.as_str(), s.as_slice(), y.as_slice()))
            .collect();
        soundcheck_npy::write_npz(&a.output, &named)
    } else {
        soundcheck_npy::write(&a.output, &outs[0].0, &outs[0].1)
    }
    .map_err(|e| TaskError::file(&a.output, e))?;
    Ok(Predicted {
        output: a.output.clone(),
        shape: outs[0].0.clone(),
        outputs: outputs
            .into_iter()
            .zip(outs)
            .map(|(name, (shape, _))| Written { name, shape })
            .collect(),
        examples: n,
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
