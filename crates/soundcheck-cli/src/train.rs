//! `soundcheck train`: a checked spec trained on `x.npy`/`y.npy`, with progress, a CSV log, a
//! training-curve PNG and a checkpoint per epoch in the run directory; `--resume` continues it.
//! (`train classification` and `train separation` are the tasks' own commands, in `classify`
//! and `separate`; `main` dispatches between them.)

use std::path::PathBuf;

use clap::Args;
use soundcheck_nn::Device;
use soundcheck_shape::load_model;
use soundcheck_tasks::{
    resume_arrays, train_arrays, ArrayTraining, FitOptions, TaskError, TrainSummary,
};

use crate::fit_args::FitArgs;
use crate::progress::Bars;
use crate::report::report;

// The arrays' options of `soundcheck train` without a task subcommand (its help text is
// `TrainCommand`'s, in main.rs).
#[derive(Args, Clone)]
pub struct TrainArgs {
    /// Model spec (TOML/JSON, Keras JSON or .keras); with --resume, the run's own
    #[arg(long)]
    pub model: Option<PathBuf>,
    /// Directory with x.npy (inputs, batch axis first) and y.npy (targets) (required); for a
    /// model of several inputs or outputs, one x_<input name>.npy per input (or x.npz by name)
    /// and one y_<output name>.npy per output (or y.npz)
    #[arg(long)]
    pub data: Option<PathBuf>,
    /// Keras loss name (mse, mae, huber, binary_crossentropy, categorical_crossentropy,
    /// sparse_categorical_crossentropy); default: the spec's loss
    #[arg(long)]
    pub loss: Option<String>,
    /// Fraction of examples held out for validation, chosen by --seed
    #[arg(long, default_value_t = 0.0)]
    pub validation_split: f64,
    /// Continue the run in --out from its last checkpoint, with its own model and options
    #[arg(long)]
    pub resume: bool,
    #[command(flatten)]
    pub fit: FitArgs,
}

fn train(a: &TrainArgs, device: &Device) -> Result<TrainSummary, TaskError> {
    let out = a.fit.out()?;
    let data = a.data.as_ref().ok_or_else(|| TaskError::Option {
        name: "data",
        actual: "missing".into(),
        expected:
            "DIR, a directory with x.npy and y.npy (x_<input>.npy / y_<output>.npy for several)"
                .into(),
    })?;
    if a.resume {
        return resume_arrays(
            out,
            data,
            a.fit.epochs.unwrap_or(FitOptions::default().epochs),
            device,
            &Bars::default(),
        );
    }
    let model = a.model.as_ref().ok_or_else(|| TaskError::Option {
        name: "model",
        actual: "missing".into(),
        expected: "a spec such as models/mfcc-lstm.toml (required for a new run)".into(),
    })?;
    let opts = ArrayTraining {
        data: data.clone(),
        loss: a.loss.clone(),
        validation_split: a.validation_split,
        fit: a.fit.options(FitOptions::default()),
        out: out.to_path_buf(),
    };
    train_arrays(&opts, &load_model(model)?, device, &Bars::default())
}

pub fn run(a: &TrainArgs, device: &Device) -> u8 {
    report(train(a, device), a.fit.json, TrainSummary::line)
}
