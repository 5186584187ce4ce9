//! `soundcheck train`: a checked spec trained on `x.npy`/`y.npy`, with progress, a CSV log, a
//! training-curve PNG and a checkpoint per epoch in the run directory; `--resume` continues it.

use std::ops::ControlFlow;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use clap::Args;
use serde_json::{json, Value};
use soundcheck_data::{ArrayDataset, Dataset};
use soundcheck_nn::train::{CHECKPOINT, LOG_CSV, WEIGHTS};
use soundcheck_nn::{
    EpochLog, Event, Loss, Network, NnError, OptimizerKind, Schedule, TrainConfig, Trainer,
};
use soundcheck_shape::ModelSpec;

use crate::load::{load_spec, write_atomic};
use crate::picture::{write_chart_png, Series};
use crate::progress::Progress;

/// The spec and options a run was started with, kept in the run directory for `--resume` and
/// `predict`.
pub const MODEL_FILE: &str = "model.json";
pub const OPTIONS_FILE: &str = "train.json";

#[derive(clap::Subcommand, Clone)]
pub enum TrainTask {
    /// Train a classifier on a folder per class (DATA/<label>/*.wav) or a CSV manifest
    Classification(crate::classify::ClassificationArgs),
    /// Train a spectrogram-mask separator on DSD100 or MUSDB18-HQ
    Separation(crate::separate::SeparationArgs),
}

/// The training options every `train` command shares.
#[derive(Args, Clone)]
pub struct FitArgs {
    /// Total epochs (with --resume, the run continues up to this count)
    #[arg(long, default_value_t = 10)]
    pub epochs: usize,
    #[arg(long, default_value_t = 32)]
    pub batch_size: usize,
    /// adam, adamw or sgd (momentum 0.9)
    #[arg(long, default_value = "adam")]
    pub optimizer: String,
    #[arg(long, default_value_t = 1e-3)]
    pub learning_rate: f64,
    /// constant, step:EPOCHS:FACTOR (× FACTOR every EPOCHS epochs) or cosine (to 0 at the end)
    #[arg(long, default_value = "constant")]
    pub schedule: String,
    /// Clip the gradients' global norm (Keras's global_clipnorm)
    #[arg(long)]
    pub clip_norm: Option<f32>,
    /// Stop after this many epochs without a lower validation loss
    #[arg(long)]
    pub patience: Option<usize>,
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

/// A failure with the exit status it gives: 1 the model does not fit the data, 2 anything else.
pub struct Failure {
    pub code: u8,
    pub message: String,
}

impl From<NnError> for Failure {
    fn from(e: NnError) -> Failure {
        let code = match &e {
            NnError::Spec(_) => 1,
            NnError::Data(d) if matches!(**d, soundcheck_data::DataError::Shape(_)) => 1,
            _ => 2,
        };
        Failure {
            code,
            message: e.to_string(),
        }
    }
}

impl From<String> for Failure {
    fn from(message: String) -> Failure {
        Failure { code: 2, message }
    }
}

impl TrainArgs {
    /// The options as saved in `train.json`.
    fn options_json(&self, loss: &str) -> Value {
        let f = &self.fit;
        json!({
            "loss": loss, "batch_size": f.batch_size, "optimizer": f.optimizer,
            "learning_rate": f.learning_rate, "schedule": f.schedule,
            "clip_norm": f.clip_norm, "validation_split": self.validation_split,
            "patience": f.patience, "seed": f.seed,
        })
    }

    /// These arguments with the options of a saved run (all but `--epochs` and `--data`).
    fn with_saved(&self, v: &Value) -> Option<TrainArgs> {
        Some(TrainArgs {
            loss: Some(v["loss"].as_str()?.to_string()),
            validation_split: v["validation_split"].as_f64()?,
            fit: FitArgs {
                batch_size: v["batch_size"].as_u64()? as usize,
                optimizer: v["optimizer"].as_str()?.to_string(),
                learning_rate: v["learning_rate"].as_f64()?,
                schedule: v["schedule"].as_str()?.to_string(),
                clip_norm: v["clip_norm"].as_f64().map(|c| c as f32),
                patience: v["patience"].as_u64().map(|p| p as usize),
                seed: v["seed"].as_u64()?,
                ..self.fit.clone()
            },
            ..self.clone()
        })
    }
}

impl FitArgs {
    /// The run directory of a new task run, refusing one that already holds a run.
    pub fn new_out(&self) -> Result<&Path, Failure> {
        let out = self.out()?;
        if out.join(CHECKPOINT).exists() {
            return Err(format!(
                "{} already holds a run; choose another --out",
                out.display()
            )
            .into());
        }
        Ok(out)
    }

    /// The run directory; `--out` has no default so a run never lands somewhere unexpected.
    pub fn out(&self) -> Result<&Path, Failure> {
        self.out.as_deref().ok_or_else(|| {
            "--out RUN_DIR is required: the directory the run is written to"
                .to_string()
                .into()
        })
    }

    /// The trainer's configuration for a training set of `n_train` examples.
    pub fn config(
        &self,
        loss: Loss,
        n_train: usize,
        validation_split: f64,
    ) -> Result<TrainConfig, Failure> {
        let bad = |name: &str, value: &str, expected: &str| Failure {
            code: 2,
            message: format!("--{name} {value}: expected {expected}"),
        };
        if self.batch_size == 0 {
            return Err(bad(
                "batch-size",
                "0",
                "a positive number of examples (Keras's default is 32)",
            ));
        }
        if !(self.learning_rate > 0.0 && self.learning_rate.is_finite()) {
            return Err(bad(
                "learning-rate",
                &self.learning_rate.to_string(),
                "a positive number, e.g. 0.001",
            ));
        }
        if self.clip_norm.is_some_and(|c| c.is_nan() || c <= 0.0) {
            return Err(bad(
                "clip-norm",
                &format!("{:?}", self.clip_norm),
                "a positive norm, e.g. 1.0",
            ));
        }
        let per_epoch = n_train.div_ceil(self.batch_size) as u64;
        let schedule = match self.schedule.split(':').collect::<Vec<_>>().as_slice() {
            ["constant"] => Schedule::Constant,
            ["cosine"] => Schedule::Cosine {
                steps: per_epoch * self.epochs as u64,
            },
            ["step", every, factor] => match (every.parse::<u64>(), factor.parse::<f64>()) {
                (Ok(e), Ok(f)) if e > 0 && f > 0.0 => Schedule::Step {
                    every: e * per_epoch,
                    factor: f,
                },
                _ => return Err(bad(
                    "schedule",
                    &self.schedule,
                    "step:EPOCHS:FACTOR with a positive whole EPOCHS and FACTOR, e.g. step:10:0.5",
                )),
            },
            _ => {
                return Err(bad(
                    "schedule",
                    &self.schedule,
                    "constant, cosine or step:EPOCHS:FACTOR (e.g. step:10:0.5)",
                ))
            }
        };
        Ok(TrainConfig {
            loss,
            epochs: self.epochs,
            batch_size: self.batch_size,
            optimizer: OptimizerKind::parse(&self.optimizer)?,
            learning_rate: self.learning_rate,
            schedule,
            clip_norm: self.clip_norm,
            validation_split,
            patience: self.patience,
            seed: self.seed,
        })
    }
}

/// The run's spec and arguments: from the command line for a new run (refusing a directory
/// that already holds one), from the run directory with `--resume`.
fn setup(a: &TrainArgs) -> Result<(ModelSpec, TrainArgs), Failure> {
    let out = a.fit.out()?;
    let checkpoint = out.join(CHECKPOINT);
    if !a.resume {
        if checkpoint.exists() {
            return Err(format!("{} already holds a run ({CHECKPOINT}); pass --resume to continue it, or choose another --out", out.display()).into());
        }
        let path = a.model.as_ref().ok_or_else(|| {
            "--model is required for a new run (a spec such as models/mfcc-lstm.toml)".to_string()
        })?;
        let spec = load_spec(path).map_err(|d| Failure {
            code: 1,
            message: d.to_string(),
        })?;
        return Ok((spec, a.clone()));
    }
    if !checkpoint.exists() {
        return Err(format!(
            "{}: no {CHECKPOINT} to resume from; start the run without --resume",
            out.display()
        )
        .into());
    }
    let read = |name: &str| crate::predict::read_run_json(out, name, "soundcheck train");
    let spec = ModelSpec::from_value(&read(MODEL_FILE)?).map_err(|d| Failure {
        code: 1,
        message: d.to_string(),
    })?;
    let saved = read(OPTIONS_FILE)?;
    let args = a.with_saved(&saved).ok_or_else(|| {
        format!(
            "{}: options are incomplete; start a new run",
            out.join(OPTIONS_FILE).display()
        )
    })?;
    Ok((spec, args))
}

/// Writes curves.png (loss and validation loss per epoch) and, for classifiers, accuracy.png.
fn write_curves(dir: &Path, history: &[EpochLog]) -> Result<(), String> {
    let series = |label: &str, f: &dyn Fn(&EpochLog) -> Option<f64>| Series {
        label: label.to_string(),
        points: history
            .iter()
            .map(|h| (h.epoch as f64, f(h).unwrap_or(f64::NAN)))
            .collect(),
    };
    let mut loss = vec![series("loss", &|h| Some(h.loss))];
    if history.iter().any(|h| h.val_loss.is_some()) {
        loss.push(series("val_loss", &|h| h.val_loss));
    }
    write_chart_png(&dir.join("curves.png"), "TRAINING LOSS", "EPOCH", &loss)?;
    if history.iter().any(|h| h.accuracy.is_some()) {
        let mut acc = vec![series("accuracy", &|h| h.accuracy)];
        if history.iter().any(|h| h.val_accuracy.is_some()) {
            acc.push(series("val_accuracy", &|h| h.val_accuracy));
        }
        write_chart_png(&dir.join("accuracy.png"), "ACCURACY", "EPOCH", &acc)?;
    }
    Ok(())
}

/// Keras's epoch line: `loss 0.1234 - accuracy 0.9500 - val_loss …`.
pub fn epoch_line(h: &EpochLog, epochs: usize) -> String {
    let mut s = format!("epoch {}/{epochs}: loss {:.4}", h.epoch, h.loss);
    for (name, v) in [
        ("accuracy", h.accuracy),
        ("val_loss", h.val_loss),
        ("val_accuracy", h.val_accuracy),
    ] {
        if let Some(v) = v {
            s.push_str(&format!(" - {name} {v:.4}"));
        }
    }
    s.push_str(&format!(" ({:.1} s)", h.seconds));
    s
}

/// A task's own measure after an epoch (a held-out SDR), appended to the epoch line.
pub type EpochMetric<'a> = &'a mut dyn FnMut(&Network, &EpochLog) -> Option<String>;

/// Trains `net` in `dir` with a progress bar per epoch and an epoch line on stderr (with
/// `metric`'s text), refreshing the curves after each epoch. Returns the outcome and the full
/// history.
pub fn fit(
    trainer: &mut Trainer,
    ds: Arc<dyn Dataset>,
    dir: &Path,
    epochs: usize,
    metric: EpochMetric,
) -> Result<(soundcheck_nn::Outcome, Vec<EpochLog>), Failure> {
    let mut bar: Option<Progress> = None;
    let mut started = Instant::now();
    let mut observe = |e: Event| {
        match e {
            Event::EpochStart { epoch, batches } => {
                bar = Some(Progress::new(&format!("epoch {epoch}/{epochs}"), batches));
                started = Instant::now();
            }
            Event::Batch { loss, examples, .. } => {
                if let Some(b) = &bar {
                    let rate = examples as f64 / started.elapsed().as_secs_f64().max(1e-9);
                    b.message(format!("loss {loss:.4} · {rate:.0} ex/s"));
                    b.tick();
                }
            }
            Event::Epoch(h, net) => {
                if let Some(b) = bar.take() {
                    b.finish();
                }
                let extra = metric(net, h)
                    .map(|m| format!(" - {m}"))
                    .unwrap_or_default();
                eprintln!("{}{extra}", epoch_line(h, epochs));
            }
        }
        ControlFlow::Continue(())
    };
    let outcome = trainer.fit(ds, Some(dir), &mut observe)?;
    if let Some(b) = bar {
        b.finish();
    }
    let all = trainer.history().to_vec();
    if !all.is_empty() {
        if let Err(e) = write_curves(dir, &all) {
            eprintln!("warning: the training curves could not be drawn ({e})");
        }
    }
    Ok((outcome, all))
}

/// The result object of a training run (what `--json` prints).
pub fn summary(
    out: &Path,
    loss: Loss,
    outcome: &soundcheck_nn::Outcome,
    history: &[EpochLog],
    resumed_from: Option<usize>,
    seconds: f64,
) -> Value {
    let last = history.last();
    json!({
        "run_dir": out,
        "loss_function": loss.name(),
        "initial_loss": outcome.initial_loss,
        "final_loss": last.map(|h| h.loss),
        "final_val_loss": last.and_then(|h| h.val_loss),
        "final_accuracy": last.and_then(|h| h.accuracy),
        "final_val_accuracy": last.and_then(|h| h.val_accuracy),
        "epochs": history.len(),
        "resumed_from_epoch": resumed_from,
        "stopped_early": outcome.stopped_early,
        "seconds": seconds,
        "weights": out.join(WEIGHTS),
        "log": out.join(LOG_CSV),
        "history": history.iter().map(EpochLog::to_json).collect::<Vec<_>>(),
    })
}

/// Creates the run directory and records the spec and options in it.
pub fn start_run(out: &Path, spec: &ModelSpec, options: &Value) -> Result<(), Failure> {
    std::fs::create_dir_all(out)
        .map_err(|e| format!("{}: cannot create the run directory ({e})", out.display()))?;
    write_atomic(&out.join(MODEL_FILE), &spec.to_json_string()).map_err(|d| d.to_string())?;
    write_atomic(&out.join(OPTIONS_FILE), &options.to_string()).map_err(|d| d.to_string())?;
    Ok(())
}

fn train(a: &TrainArgs) -> Result<Value, Failure> {
    let t0 = Instant::now();
    let (spec, args) = setup(a)?;
    let loss_name = args
        .loss
        .clone()
        .or_else(|| spec.loss.clone())
        .ok_or_else(|| "no loss: pass --loss (e.g. mse) or set `loss` in the spec".to_string())?;
    let loss = Loss::parse(&loss_name)?;
    let data = args
        .data
        .as_ref()
        .ok_or_else(|| "--data DIR is required: a directory with x.npy and y.npy".to_string())?;
    let ds = Arc::new(ArrayDataset::open_npy_dir(data).map_err(NnError::from)?);
    let n = ds.len();
    let n_val = (n as f64 * args.validation_split).round() as usize;
    let cfg = args
        .fit
        .config(loss, n - n_val.min(n), args.validation_split)?;
    let out = args.fit.out()?;
    let mut net = Network::initialized(&spec, args.fit.seed, &crate::device::current())?;
    if !a.resume {
        start_run(out, &spec, &args.options_json(loss.name()))?;
    }
    let mut trainer = if a.resume {
        Trainer::resume(&mut net, cfg, &out.join(CHECKPOINT))?
    } else {
        Trainer::new(&mut net, cfg)
    };
    let done = trainer.epochs_done();
    if done >= args.fit.epochs {
        eprintln!("the run already has {done} epochs; pass a larger --epochs to continue it");
    }
    let (outcome, history) = fit(&mut trainer, ds, out, args.fit.epochs, &mut |_, _| None)?;
    let resumed = a.resume.then_some(done);
    Ok(summary(
        out,
        loss,
        &outcome,
        &history,
        resumed,
        t0.elapsed().as_secs_f64(),
    ))
}

/// Prints a command's result (one JSON object with `--json`, a sentence otherwise) and returns
/// the exit status.
pub fn report(
    result: Result<Value, Failure>,
    json_out: bool,
    text: impl Fn(&Value) -> String,
) -> u8 {
    match result {
        Ok(v) => {
            if json_out {
                println!("{v}");
            } else {
                println!("{}", text(&v));
            }
            0
        }
        Err(f) => {
            if json_out {
                println!("{}", json!({"error": f.message}));
            } else {
                eprintln!("error: {}", f.message);
            }
            f.code
        }
    }
}

/// The one-line account of a training run.
pub fn trained_line(v: &Value) -> String {
    let f = |k: &str| v[k].as_f64().map_or("-".to_string(), |x| format!("{x:.4}"));
    let mut s = format!(
        "trained {} epochs in {:.1} s: loss {} → {}",
        v["epochs"],
        v["seconds"].as_f64().unwrap_or(0.0),
        f("initial_loss"),
        f("final_loss"),
    );
    if !v["final_val_loss"].is_null() {
        s.push_str(&format!(", val_loss {}", f("final_val_loss")));
    }
    if v["stopped_early"] == true {
        s.push_str(" (stopped early: no lower val_loss)");
    }
    s.push_str(&format!("; run in {}", v["run_dir"].as_str().unwrap_or("")));
    s
}

pub fn run(a: &TrainArgs) -> u8 {
    match &a.task {
        Some(TrainTask::Classification(c)) => return crate::classify::run_train(c),
        Some(TrainTask::Separation(s)) => return crate::separate::run_train(s),
        None => {}
    }
    report(train(a), a.fit.json, trained_line)
}
