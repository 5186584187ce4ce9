//! `soundcheck predict`: a trained run's model on an `.npy` batch, the input checked against
//! the model first.

use std::path::PathBuf;

use clap::Args;
use serde::Serialize;
use soundcheck_nn::Device;
use soundcheck_shape::feed::check_feed;
use soundcheck_tasks::{RunDir, TaskError};

use crate::report::report;

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

/// What `predict` wrote.
#[derive(Serialize)]
struct Predicted {
    output: PathBuf,
    shape: Vec<usize>,
    examples: usize,
}

fn predict(a: &PredictArgs, device: &Device) -> Result<Predicted, TaskError> {
    if a.batch_size == 0 {
        return Err(TaskError::Option {
            name: "batch_size",
            actual: "0".into(),
            expected: "a positive number of examples".into(),
        });
    }
    if soundcheck_io::same_file(&a.input, &a.output) {
        return Err(TaskError::Option {
            name: "output",
            actual: a.output.display().to_string(),
            expected: format!(
                "a file other than the input {} (predictions never overwrite it)",
                a.input.display()
            ),
        });
    }
    let net = RunDir::open(&a.run).network(device)?;
    let x = soundcheck_npy::read(&a.input).map_err(|e| TaskError::file(&a.input, e))?;
    let bad_input = |actual: String, hint: &str| TaskError::Folder {
        path: a.input.clone(),
        actual,
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
    check_feed(net.model(), &x.shape).map_err(|mut d| {
        d.title = format!("{}: {}", a.input.display(), d.title);
        TaskError::from(d)
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
    soundcheck_npy::write(&a.output, &out_shape, &out)
        .map_err(|e| TaskError::file(&a.output, e))?;
    Ok(Predicted {
        output: a.output.clone(),
        shape: out_shape,
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
