//! `soundcheck predict`: a trained run's model on an `.npy` batch, the input checked against
//! the model first.

use std::path::{Path, PathBuf};

use clap::Args;
use serde_json::{json, Value};
use soundcheck_nn::train::WEIGHTS;
use soundcheck_nn::{read_weights, Network};
use soundcheck_shape::feed::check_feed;
use soundcheck_shape::ModelSpec;

use crate::train::{Failure, MODEL_FILE};

/// Run a trained model on an .npy batch (checked against the model first)
#[derive(Args)]
#[command(
    after_help = "Example:\n  soundcheck predict --run runs/lstm x_test.npy -o predictions.npy"
)]
pub struct PredictArgs {
    /// Run directory written by `soundcheck train`
    #[arg(long)]
    pub run: PathBuf,
    /// Inputs, batch axis first, as the model takes them
    pub input: PathBuf,
    /// Output .npy (float32, batch axis first)
    #[arg(short, long)]
    pub output: PathBuf,
    /// Examples per forward pass (bounds memory)
    #[arg(long, default_value_t = 32)]
    pub batch_size: usize,
    #[arg(long)]
    pub json: bool,
}

/// A JSON record a training command keeps in its run directory (`command` names it in the
/// error, for a directory written by another command or none).
pub fn read_run_json(run: &Path, file: &str, command: &str) -> Result<Value, Failure> {
    let path = run.join(file);
    let text = std::fs::read_to_string(&path).map_err(|e| {
        format!(
            "{}: cannot read ({e}); was the run trained with `{command}`?",
            path.display()
        )
    })?;
    Ok(serde_json::from_str(&text).map_err(|e| format!("{}: not JSON ({e})", path.display()))?)
}

/// A run's network with its trained weights.
pub fn load_run(dir: &Path) -> Result<Network, Failure> {
    let value = read_run_json(dir, MODEL_FILE, "soundcheck train")?;
    let spec = ModelSpec::from_value(&value).map_err(|d| Failure {
        code: 1,
        message: d.to_string(),
    })?;
    let weights = read_weights(&dir.join(WEIGHTS))?;
    Ok(Network::new(&spec, &weights, &crate::device::current())?)
}

fn predict(a: &PredictArgs) -> Result<Value, Failure> {
    if a.batch_size == 0 {
        return Err("--batch-size 0: expected a positive number of examples"
            .to_string()
            .into());
    }
    let net = load_run(&a.run)?;
    let x = soundcheck_npy::read(&a.input).map_err(|e| e.to_string())?;
    if x.complex {
        return Err(format!(
            "{}: complex values; the model takes real inputs (use magnitudes)",
            a.input.display()
        )
        .into());
    }
    if let Some(i) = x.data.iter().position(|v| !v.is_finite()) {
        let per = x
            .shape
            .get(1..)
            .map_or(1, |s| s.iter().product::<usize>().max(1));
        return Err(format!(
            "{}: example {} holds {}; clean the input first",
            a.input.display(),
            i / per,
            x.data[i]
        )
        .into());
    }
    check_feed(net.model(), &x.shape).map_err(|d| Failure {
        code: 1,
        message: format!("{}: {d}", a.input.display()),
    })?;
    let n = x.shape[0];
    let per: usize = x.shape[1..].iter().product();
    let (mut out_shape, mut out) = (Vec::new(), Vec::new());
    for start in (0..n).step_by(a.batch_size) {
        let end = (start + a.batch_size).min(n);
        let mut shape = x.shape.clone();
        shape[0] = end - start;
        let (s, y) = net.forward(&shape, x.data[start * per..end * per].to_vec())?;
        out_shape = s;
        out.extend(y);
    }
    out_shape[0] = n;
    soundcheck_npy::write(&a.output, &out_shape, &out).map_err(|e| e.to_string())?;
    Ok(json!({"output": a.output, "shape": out_shape, "examples": n}))
}

pub fn run(a: &PredictArgs) -> u8 {
    crate::train::report(predict(a), a.json, |v| {
        format!("wrote {} of shape {}", a.output.display(), v["shape"])
    })
}
