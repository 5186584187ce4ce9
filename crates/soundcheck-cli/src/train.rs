//! `soundcheck train`: a checked spec trained on `x.npy`/`y.npy`, with progress, a CSV log, a
//! training-curve PNG and a checkpoint per epoch in the run directory; `--resume` continues it.
//! `train classification` and `train separation` are the tasks' own trainers.

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

#[derive(clap::Subcommand, Clone)]
pub enum TrainTask {
    /// Train a classifier on a folder per class (DATA/<label>/*.wav) or a CSV manifest
    Classification(crate::classify::ClassificationArgs),
    /// Train a spectrogram-mask separator on DSD100 or MUSDB18-HQ
    Separation(crate::separate::SeparationArgs),
}

/// Train a checked model on x.npy/y.npy (or `train classification`, `train separation`), with
/// progress, checkpoints, a log and curves; `--resume` continues a run
#[derive(Args, Clone)]
#[command(
    args_conflicts_with_subcommands = true,
    subcommand_negates_reqs = true,
    after_help = "Examples:\n  soundcheck train --model models/mfcc-lstm.toml --data data/ --epochs 20 --out runs/lstm\n  soundcheck train --data data/ --out runs/lstm --resume --epochs 40\n  soundcheck train classification --data sounds/ --model models/mfcc-lstm.toml --out runs/sounds\n\nThe run directory holds model.json, train.json, weights.safetensors (Keras variable names), checkpoint.safetensors, log.csv and curves.png."
)]
pub struct TrainArgs {
    #[command(subcommand)]
    pub task: Option<TrainTask>,
    /// Model spec (TOML/JSON, Keras JSON or .keras); with --resume, the run's own
    #[arg(long)]
    pub model: Option<PathBuf>,
    /// Directory with x.npy (inputs, batch axis first) and y.npy (targets) (required)
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
        expected: "DIR, a directory with x.npy and y.npy".into(),
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
    match &a.task {
        Some(TrainTask::Classification(c)) => crate::classify::run_train(c, device),
        Some(TrainTask::Separation(s)) => crate::separate::run_train(s, device),
        None => report(train(a, device), a.fit.json, TrainSummary::line),
    }
}
