//! Training a network in a run folder: the options every task shares, the loop with progress
//! and an epoch line per epoch, the curves, and the result every training command reports.

use std::ops::ControlFlow;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use serde::{Deserialize, Serialize};
use soundcheck_data::{check_dataset, ArrayDataset, Dataset};
use soundcheck_nn::{
    Device, EpochLog, Event, Loss, Network, OptimizerKind, Outcome, Schedule, TrainConfig, Trainer,
};
use soundcheck_shape::ModelSpec;

use crate::error::{Result, TaskError};
use crate::plot::{write_chart_png, Series};
use crate::progress::Progress;
use crate::run_dir::RunDir;

/// The training options every task shares, with Keras's defaults where Keras has one.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct FitOptions {
    /// Total epochs (a resumed run continues up to this count); not saved with the run.
    #[serde(skip)]
    pub epochs: usize,
    /// Examples per step (Keras's 32).
    pub batch_size: usize,
    /// adam, adamw or sgd.
    pub optimizer: String,
    /// The initial learning rate (Keras's 0.001 for Adam).
    pub learning_rate: f64,
    /// constant, cosine or step:EPOCHS:FACTOR.
    pub schedule: String,
    /// Keras's `global_clipnorm`.
    pub clip_norm: Option<f32>,
    /// Stop after this many epochs without a lower validation loss.
    pub patience: Option<usize>,
    /// Stop after the epoch that ends past this many minutes of training; not saved with the
    /// run.
    #[serde(skip)]
    pub max_minutes: Option<f64>,
    /// Seed of the initial weights, the split, the shuffles and the dropout draws.
    pub seed: u64,
}

impl Default for FitOptions {
    fn default() -> FitOptions {
        FitOptions {
            epochs: 10,
            batch_size: 32,
            optimizer: "adam".into(),
            learning_rate: 1e-3,
            schedule: "constant".into(),
            clip_norm: None,
            patience: None,
            max_minutes: None,
            seed: 0,
        }
    }
}

impl FitOptions {
    /// The trainer's configuration for a training set of `n_train` examples, every option
    /// checked.
    pub fn config(&self, loss: Loss, n_train: usize, validation_split: f64) -> Result<TrainConfig> {
        self.check()?;
        Ok(TrainConfig {
            loss,
            epochs: self.epochs,
            batch_size: self.batch_size,
            optimizer: OptimizerKind::parse(&self.optimizer)?,
            learning_rate: self.learning_rate,
            schedule: self.schedule(n_train.div_ceil(self.batch_size) as u64)?,
            clip_norm: self.clip_norm,
            validation_split,
            patience: self.patience,
            seed: self.seed,
        })
    }

    /// Every option checked on its own, so a task refuses a bad flag before minutes of feature
    /// work rather than after.
    pub fn check(&self) -> Result<()> {
        let bad = |name: &'static str, actual: String, expected: &str| TaskError::Option {
            name,
            actual,
            expected: expected.into(),
        };
        if self.epochs == 0 {
            return Err(bad("epochs", "0".into(), "a positive number of epochs"));
        }
        if self.batch_size == 0 {
            return Err(bad(
                "batch_size",
                "0".into(),
                "a positive number of examples (Keras's default is 32)",
            ));
        }
        if !(self.learning_rate > 0.0 && self.learning_rate.is_finite()) {
            return Err(bad(
                "learning_rate",
                self.learning_rate.to_string(),
                "a positive number, e.g. 0.001",
            ));
        }
        if self
            .max_minutes
            .is_some_and(|m| !(m > 0.0 && m.is_finite()))
        {
            return Err(bad(
                "max_minutes",
                self.max_minutes.unwrap_or_default().to_string(),
                "a positive number of minutes, e.g. 30",
            ));
        }
        if self.clip_norm.is_some_and(|c| c.is_nan() || c <= 0.0) {
            return Err(bad(
                "clip_norm",
                self.clip_norm.unwrap_or_default().to_string(),
                "a positive norm, e.g. 1.0",
            ));
        }
        OptimizerKind::parse(&self.optimizer)?;
        self.schedule(1)?;
        Ok(())
    }

    fn schedule(&self, per_epoch: u64) -> Result<Schedule> {
        let bad = |expected: &str| TaskError::Option {
            name: "schedule",
            actual: self.schedule.clone(),
            expected: expected.into(),
        };
        Ok(match self.schedule.split(':').collect::<Vec<_>>().as_slice() {
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
                    "step:EPOCHS:FACTOR with a positive whole EPOCHS and FACTOR, e.g. step:10:0.5",
                )),
            },
            _ => return Err(bad("constant, cosine or step:EPOCHS:FACTOR (e.g. step:10:0.5)")),
        })
    }
}

/// What a training command reports (`--json` prints it).
#[derive(Clone, Debug, Serialize)]
pub struct TrainSummary {
    /// The run folder.
    pub run_dir: PathBuf,
    /// The loss's Keras name.
    pub loss_function: String,
    /// The first batch's loss before any update.
    pub initial_loss: Option<f64>,
    /// The last epoch's training loss.
    pub final_loss: Option<f64>,
    /// The last epoch's validation loss.
    pub final_val_loss: Option<f64>,
    /// The last epoch's training accuracy (classifiers).
    pub final_accuracy: Option<f64>,
    /// The last epoch's validation accuracy (classifiers).
    pub final_val_accuracy: Option<f64>,
    /// Epochs trained in all (a resumed run's earlier ones included).
    pub epochs: usize,
    /// The epoch a resumed run continued from.
    pub resumed_from_epoch: Option<usize>,
    /// Early stopping ended the run.
    pub stopped_early: bool,
    /// The time budget (`max_minutes`) ended the run.
    pub out_of_time: bool,
    /// Wall-clock seconds of the whole command.
    pub seconds: f64,
    /// The trained weights file.
    pub weights: PathBuf,
    /// The per-epoch log.
    pub log: PathBuf,
    /// Every epoch's record.
    pub history: Vec<EpochLog>,
}

impl TrainSummary {
    fn new(run: &RunDir, loss: Loss, outcome: &Outcome, history: &[EpochLog]) -> TrainSummary {
        let last = history.last();
        TrainSummary {
            run_dir: run.path().to_path_buf(),
            loss_function: loss.name().to_string(),
            initial_loss: outcome.initial_loss,
            final_loss: last.map(|h| h.loss),
            final_val_loss: last.and_then(|h| h.val_loss),
            final_accuracy: last.and_then(|h| h.accuracy),
            final_val_accuracy: last.and_then(|h| h.val_accuracy),
            epochs: history.len(),
            resumed_from_epoch: None,
            stopped_early: outcome.stopped_early,
            out_of_time: false,
            seconds: 0.0,
            weights: run.file(RunDir::WEIGHTS),
            log: run.file(RunDir::LOG),
            history: history.to_vec(),
        }
    }

    /// The one-line account of the run.
    pub fn line(&self) -> String {
        let f = |x: Option<f64>| x.map_or("-".to_string(), |x| format!("{x:.4}"));
        let mut s = format!(
            "trained {} epochs in {:.1} s: loss {} → {}",
            self.epochs,
            self.seconds,
            f(self.initial_loss),
            f(self.final_loss),
        );
        if self.final_val_loss.is_some() {
            s.push_str(&format!(", val_loss {}", f(self.final_val_loss)));
        }
        if self.stopped_early {
            s.push_str(" (stopped early: no lower val_loss)");
        }
        if self.out_of_time {
            s.push_str(" (stopped: the time budget was spent)");
        }
        s.push_str(&format!("; run in {}", self.run_dir.display()));
        s
    }
}

/// Keras's epoch line: `epoch 3/10: loss 0.1234 - accuracy 0.9500 - val_loss …`.
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

/// The shape engine's check of the training data against the model and loss, done before a
/// run folder is created so a refused run leaves nothing behind (the trainer checks again).
pub fn check_data(net: &Network, ds: &dyn Dataset, cfg: &TrainConfig) -> Result<()> {
    check_dataset(net.model(), ds, cfg.batch_size, Some(cfg.loss.name()))?;
    Ok(())
}

/// Trains in `run` with a progress stage per epoch and an epoch line (with `metric`'s text),
/// then draws the curves. With `max_minutes`, training stops after the epoch that ends past
/// the budget (the epoch's checkpoint is kept, so `--resume` can continue). Returns the
/// summary (its `seconds` left to the caller).
pub fn fit(
    trainer: &mut Trainer,
    ds: Arc<dyn Dataset>,
    run: &RunDir,
    loss: Loss,
    progress: &dyn Progress,
    metric: EpochMetric,
    max_minutes: Option<f64>,
) -> Result<TrainSummary> {
    let epochs = trainer.config().epochs;
    let t0 = Instant::now();
    let mut out_of_time = false;
    let mut started = Instant::now();
    let mut observe = |e: Event| {
        match e {
            Event::EpochStart { epoch, batches } => {
                progress.start(&format!("epoch {epoch}/{epochs}"), batches);
                started = Instant::now();
            }
            Event::Batch { loss, examples, .. } => {
                let rate = examples as f64 / started.elapsed().as_secs_f64().max(1e-9);
                progress.status(&format!("loss {loss:.4} · {rate:.0} ex/s"));
                progress.step();
            }
            Event::Epoch(h, net) => {
                progress.finish();
                let extra = metric(net, h)
                    .map(|m| format!(" - {m}"))
                    .unwrap_or_default();
                progress.note(&format!("{}{extra}", epoch_line(h, epochs)));
                if max_minutes.is_some_and(|m| t0.elapsed().as_secs_f64() >= 60.0 * m) {
                    out_of_time = h.epoch < epochs;
                    return ControlFlow::Break(());
                }
            }
        }
        ControlFlow::Continue(())
    };
    let outcome = trainer.fit(ds, Some(run.path()), &mut observe)?;
    progress.finish();
    let history = trainer.history().to_vec();
    if !history.is_empty() {
        if let Err(e) = write_curves(run.path(), &history) {
            progress.note(&format!(
                "warning: the training curves could not be drawn ({e})"
            ));
        }
    }
    let mut summary = TrainSummary::new(run, loss, &outcome, &history);
    summary.out_of_time = out_of_time;
    Ok(summary)
}

/// Writes curves.png (loss and validation loss per epoch) and, for classifiers, accuracy.png.
fn write_curves(dir: &Path, history: &[EpochLog]) -> std::result::Result<(), String> {
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
    write_chart_png(&dir.join(RunDir::CURVES), "training loss", "epoch", &loss)?;
    if history.iter().any(|h| h.accuracy.is_some()) {
        let mut acc = vec![series("accuracy", &|h| h.accuracy)];
        if history.iter().any(|h| h.val_accuracy.is_some()) {
            acc.push(series("val_accuracy", &|h| h.val_accuracy));
        }
        write_chart_png(&dir.join(RunDir::ACCURACY), "accuracy", "epoch", &acc)?;
    }
    Ok(())
}

/// Training on arrays: `x.npy` (inputs, batch first) and `y.npy` (targets) in `data`.
#[derive(Clone, Debug)]
pub struct ArrayTraining {
    /// The folder with `x.npy` and `y.npy`.
    pub data: PathBuf,
    /// Keras loss name; default the spec's.
    pub loss: Option<String>,
    /// Fraction of the examples held out for validation (chosen by the seed).
    pub validation_split: f64,
    /// The training options.
    pub fit: FitOptions,
    /// The run folder.
    pub out: PathBuf,
}

/// What `train.json` records of an array run, to resume it with the same options.
#[derive(Serialize, Deserialize)]
struct SavedOptions {
    loss: String,
    validation_split: f64,
    #[serde(flatten)]
    fit: FitOptions,
}

/// A new array run: `spec` trained on `opts.data` in `opts.out`.
pub fn train_arrays(
    opts: &ArrayTraining,
    spec: &ModelSpec,
    device: &Device,
    progress: &dyn Progress,
) -> Result<TrainSummary> {
    RunDir::check_new(&opts.out, progress)?;
    let loss_name = opts
        .loss
        .clone()
        .or_else(|| spec.loss.clone())
        .ok_or_else(|| TaskError::Option {
            name: "loss",
            actual: "missing".into(),
            expected: "a Keras loss (e.g. `loss` mse), or a loss in the spec".into(),
        })?;
    let loss = Loss::parse(&loss_name)?;
    let saved = SavedOptions {
        loss: loss.name().to_string(),
        validation_split: opts.validation_split,
        fit: opts.fit.clone(),
    };
    run_arrays(opts, spec, loss, device, progress, || {
        RunDir::create(&opts.out, spec, &saved)
    })
}

/// Continues the array run in `out` up to `epochs`, with its own spec and options, on `data`.
pub fn resume_arrays(
    out: &Path,
    data: &Path,
    epochs: usize,
    device: &Device,
    progress: &dyn Progress,
) -> Result<TrainSummary> {
    let run = RunDir::resume(out)?;
    let spec = run.spec("soundcheck train")?;
    let saved: SavedOptions = run.read_record(RunDir::OPTIONS, "soundcheck train")?;
    let opts = ArrayTraining {
        data: data.to_path_buf(),
        loss: Some(saved.loss.clone()),
        validation_split: saved.validation_split,
        fit: FitOptions {
            epochs,
            ..saved.fit
        },
        out: out.to_path_buf(),
    };
    let loss = Loss::parse(&saved.loss)?;
    run_arrays(&opts, &spec, loss, device, progress, move || Ok(run))
}

/// The array run itself, new or resumed: `open` gives the run folder once the data and the
/// options checked, so a refused run leaves nothing behind.
fn run_arrays(
    opts: &ArrayTraining,
    spec: &ModelSpec,
    loss: Loss,
    device: &Device,
    progress: &dyn Progress,
    open: impl FnOnce() -> Result<RunDir>,
) -> Result<TrainSummary> {
    let t0 = Instant::now();
    let ds = Arc::new(ArrayDataset::open_npy_dir(&opts.data)?);
    let n = ds.len();
    let n_val = (n as f64 * opts.validation_split).round() as usize;
    let cfg = opts
        .fit
        .config(loss, n - n_val.min(n), opts.validation_split)?;
    let mut net = Network::initialized(spec, opts.fit.seed, device)?;
    check_data(&net, ds.as_ref(), &cfg)?;
    let run = open()?;
    let resuming = run.file(RunDir::CHECKPOINT).exists();
    let mut trainer = if resuming {
        Trainer::resume(&mut net, cfg, &run.file(RunDir::CHECKPOINT))?
    } else {
        Trainer::new(&mut net, cfg)
    };
    let done = trainer.epochs_done();
    if resuming && done >= opts.fit.epochs {
        progress.note(&format!(
            "the run already has {done} epochs; pass a larger `epochs` to continue it"
        ));
    }
    let mut summary = fit(
        &mut trainer,
        ds,
        &run,
        loss,
        progress,
        &mut |_, _| None,
        opts.fit.max_minutes,
    )?;
    summary.resumed_from_epoch = resuming.then_some(done);
    summary.seconds = t0.elapsed().as_secs_f64();
    Ok(summary)
}
