//! The training flags every `train` command shares.

use std::path::{Path, PathBuf};

use clap::Args;
use soundcheck_tasks::{FitOptions, TaskError};

#[derive(Args, Clone)]
pub struct FitArgs {
    /// Total epochs (with --resume, the run continues up to this count) [default: 10; train
    /// separation: 16]
    #[arg(long)]
    pub epochs: Option<usize>,
    /// Examples per step [default: 32; train separation: 16]
    #[arg(long)]
    pub batch_size: Option<usize>,
    /// adam, adamw or sgd (momentum 0.9)
    #[arg(long, default_value = "adam")]
    pub optimizer: String,
    #[arg(long, default_value_t = 1e-3)]
    pub learning_rate: f64,
    /// constant, step:EPOCHS:FACTOR (× FACTOR every EPOCHS epochs) or cosine (to 0 at the end)
    /// [default: constant; train separation: cosine]
    #[arg(long)]
    pub schedule: Option<String>,
    /// Clip the gradients' global norm (Keras's global_clipnorm)
    #[arg(long)]
    pub clip_norm: Option<f32>,
    /// Stop after this many epochs without a lower validation loss
    #[arg(long)]
    pub patience: Option<usize>,
    /// Stop after the epoch that ends past this many minutes of training
    #[arg(long)]
    pub max_minutes: Option<f64>,
    /// Seed of the initial weights, the split, the shuffles and the dropout draws
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Run directory (required)
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Print the result as one JSON object
    #[arg(long)]
    pub json: bool,
}

impl FitArgs {
    /// The options: the flags given, the task's `defaults` for the others.
    pub fn options(&self, defaults: FitOptions) -> FitOptions {
        FitOptions {
            epochs: self.epochs.unwrap_or(defaults.epochs),
            batch_size: self.batch_size.unwrap_or(defaults.batch_size),
            optimizer: self.optimizer.clone(),
            learning_rate: self.learning_rate,
            schedule: self.schedule.clone().unwrap_or(defaults.schedule),
            clip_norm: self.clip_norm,
            patience: self.patience,
            max_minutes: self.max_minutes,
            seed: self.seed,
        }
    }

    /// The run directory; `--out` has no default so a run never lands somewhere unexpected.
    pub fn out(&self) -> Result<&Path, TaskError> {
        self.out.as_deref().ok_or_else(|| TaskError::Option {
            name: "out",
            actual: "missing".into(),
            expected: "RUN_DIR, the directory the run is written to".into(),
        })
    }
}
