//! The training loop: checked batches, Keras's losses and optimizers, validation, early stopping,
//! a checkpoint per epoch that a killed run can resume from exactly.
//!
//! Determinism: the epoch's example order comes from `(seed, epoch)` and a batch's dropout draws
//! from `(seed, epoch, batch)`, so a run resumed from the checkpoint of epoch k replays epoch k + 1
//! exactly as the uninterrupted run did.

use std::collections::BTreeMap;
use std::ops::ControlFlow;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use serde_json::{json, Value};
use soundcheck_data::{batches, check_dataset, gather, split, Dataset, LoaderConfig};

use crate::error::{NnError, Result};
use crate::loss::Loss;
use crate::network::{Network, Pass};
use crate::optim::{clip_global_norm, Optimizer, OptimizerKind, Schedule};
use crate::tensor::DynTensor;
use crate::weights::{self, Weights};

/// Training options, with Keras's defaults where Keras has one.
#[derive(Clone, Debug, PartialEq)]
pub struct TrainConfig {
    /// The loss to minimise.
    pub loss: Loss,
    /// Total epochs (a resumed run continues up to this count).
    pub epochs: usize,
    /// Examples per step.
    pub batch_size: usize,
    /// The optimizer.
    pub optimizer: OptimizerKind,
    /// The initial learning rate.
    pub learning_rate: f64,
    /// How the rate changes over steps.
    pub schedule: Schedule,
    /// Keras's `global_clipnorm`.
    pub clip_norm: Option<f32>,
    /// Fraction of the examples held out (chosen by `seed`) for validation after each epoch.
    pub validation_split: f64,
    /// Stop after this many epochs without a lower validation loss.
    pub patience: Option<usize>,
    /// Seed of the initial split, the shuffles and the dropout draws.
    pub seed: u64,
}

impl Default for TrainConfig {
    fn default() -> Self {
        TrainConfig {
            loss: Loss::MeanSquaredError,
            epochs: 10,
            batch_size: 32,
            optimizer: OptimizerKind::Adam,
            learning_rate: 1e-3,
            schedule: Schedule::Constant,
            clip_norm: None,
            validation_split: 0.0,
            patience: None,
            seed: 0,
        }
    }
}

/// One epoch's line of the training log.
#[derive(Clone, Debug, PartialEq)]
pub struct EpochLog {
    /// 1-based, as Keras prints it.
    pub epoch: usize,
    /// Mean training loss over the epoch's examples (as Keras's `history['loss']`).
    pub loss: f64,
    /// Training accuracy, for classifiers.
    pub accuracy: Option<f64>,
    /// Validation loss, when there is validation data.
    pub val_loss: Option<f64>,
    /// Validation accuracy, for classifiers with validation data.
    pub val_accuracy: Option<f64>,
    /// The rate at the epoch's last step.
    pub learning_rate: f64,
    /// Wall-clock seconds of the epoch.
    pub seconds: f64,
}

impl EpochLog {
    /// The record as JSON (`log.csv` and checkpoints keep it).
    pub fn to_json(&self) -> Value {
        json!({
            "epoch": self.epoch, "loss": self.loss, "accuracy": self.accuracy,
            "val_loss": self.val_loss, "val_accuracy": self.val_accuracy,
            "learning_rate": self.learning_rate, "seconds": self.seconds,
        })
    }

    fn from_json(v: &Value) -> Option<EpochLog> {
        Some(EpochLog {
            epoch: v["epoch"].as_u64()? as usize,
            loss: v["loss"].as_f64()?,
            accuracy: v["accuracy"].as_f64(),
            val_loss: v["val_loss"].as_f64(),
            val_accuracy: v["val_accuracy"].as_f64(),
            learning_rate: v["learning_rate"].as_f64()?,
            seconds: v["seconds"].as_f64()?,
        })
    }
}

/// What the loop reports as it goes; the observer may stop it after any batch.
pub enum Event<'a> {
    /// An epoch begins.
    EpochStart {
        /// 1-based.
        epoch: usize,
        /// Batches in the epoch.
        batches: usize,
    },
    /// A batch was trained on.
    Batch {
        /// 1-based.
        epoch: usize,
        /// 1-based.
        batch: usize,
        /// Batches in the epoch.
        batches: usize,
        /// Mean loss of the epoch so far.
        loss: f64,
        /// Examples seen in the epoch so far.
        examples: usize,
    },
    /// An epoch ended (its checkpoint written); the network is in inference mode, so an
    /// observer may run it (a task metric on held-out data).
    Epoch(&'a EpochLog, &'a Network),
}

/// How a training run ended.
#[derive(Clone, Debug, PartialEq)]
pub struct Outcome {
    /// The loss of the first batch before any update.
    pub initial_loss: Option<f64>,
    /// The epochs trained in this call.
    pub history: Vec<EpochLog>,
    /// Early stopping ended the run (no lower validation loss for `patience` epochs).
    pub stopped_early: bool,
    /// The observer stopped the run.
    pub interrupted: bool,
}

/// Where a run keeps its files.
pub const CHECKPOINT: &str = "checkpoint.safetensors";
/// The trained weights, Keras-keyed.
pub const WEIGHTS: &str = "weights.safetensors";
/// One line per epoch.
pub const LOG_CSV: &str = "log.csv";

const SLOT_PREFIX: &str = "optimizer:";

/// Trains a network with Keras's update rules, writing a checkpoint after every epoch.
pub struct Trainer<'a> {
    net: &'a mut Network,
    cfg: TrainConfig,
    opt: Optimizer,
    /// Indices of the trainable variables, in the optimizer's order.
    trainable: Vec<usize>,
    history: Vec<EpochLog>,
    initial_loss: Option<f64>,
    best_val: f64,
    bad_epochs: usize,
    /// Validation examples of their own, instead of a split of the training data.
    validation: Option<Arc<dyn Dataset>>,
}

/// Running sums of an epoch's batches: the loss weighted by examples, and the correct
/// predictions of a classifier.
#[derive(Default)]
struct EpochSums {
    loss: f64,
    examples: usize,
    hits: usize,
    rows: usize,
}

fn batch_seed(seed: u64, epoch: usize, batch: usize) -> u64 {
    seed ^ (epoch as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15)
        ^ (batch as u64).wrapping_mul(0xD6E8_FEB8_6659_FD93)
}

impl<'a> Trainer<'a> {
    /// A trainer for a new run of `net`.
    pub fn new(net: &'a mut Network, cfg: TrainConfig) -> Trainer<'a> {
        let trainable: Vec<usize> = (0..net.variables().len())
            .filter(|&i| net.variables().get(i).trainable)
            .collect();
        let sizes: Vec<usize> = trainable
            .iter()
            .map(|&i| net.variables().get(i).len())
            .collect();
        Trainer {
            opt: Optimizer::new(cfg.optimizer, &sizes),
            net,
            cfg,
            trainable,
            history: Vec::new(),
            initial_loss: None,
            best_val: f64::INFINITY,
            bad_epochs: 0,
            validation: None,
        }
    }

    /// Validates on `ds` after each epoch (instead of `validation_split` of the training data).
    pub fn with_validation(mut self, ds: Arc<dyn Dataset>) -> Trainer<'a> {
        self.validation = Some(ds);
        self
    }

    /// A trainer that continues from a run's checkpoint: weights, optimizer state, epoch count,
    /// early-stopping state and log.
    ///
    /// # Errors
    /// The checkpoint is unreadable or belongs to another model or optimizer.
    pub fn resume(
        net: &'a mut Network,
        cfg: TrainConfig,
        checkpoint: &Path,
    ) -> Result<Trainer<'a>> {
        let (saved, meta) = weights::read_with_metadata(checkpoint)?;
        let bad = |actual: String| NnError::Run {
            path: checkpoint.to_path_buf(),
            actual,
            source: None,
        };
        let mut t = Trainer::new(net, cfg);
        for i in 0..t.net.variables().len() {
            let v = t.net.variables().get(i);
            let values = match saved.get(&v.key) {
                Some((shape, data)) if *shape == v.shape => data.clone(),
                _ => return Err(bad(format!("has no variable '{}' of shape {:?}; it was written for another model — start a new run directory", v.key, v.shape))),
            };
            t.net.variables_mut().set(i, values, false);
        }
        for (slot_vars, &i) in t.opt.slots.iter_mut().zip(&t.trainable) {
            let key = &t.net.variables().get(i).key;
            for (s, slot) in slot_vars.iter_mut().enumerate() {
                match saved.get(&format!("{SLOT_PREFIX}{s}:{key}")) {
                    Some((_, data)) if data.len() == slot.len() => slot.clone_from(data),
                    _ => return Err(bad(format!("has no optimizer state for '{key}'; it was written with another optimizer — resume with the same options"))),
                }
            }
        }
        let state: Value = meta
            .get("state")
            .and_then(|s| serde_json::from_str(s).ok())
            .ok_or_else(
                || bad("has no training state; it is not a soundcheck checkpoint".into()),
            )?;
        t.opt.step = state["step"].as_u64().unwrap_or(0);
        t.initial_loss = state["initial_loss"].as_f64();
        t.best_val = state["best_val"].as_f64().unwrap_or(f64::INFINITY);
        t.bad_epochs = state["bad_epochs"].as_u64().unwrap_or(0) as usize;
        t.history = state["history"]
            .as_array()
            .map(|h| h.iter().filter_map(EpochLog::from_json).collect())
            .unwrap_or_default();
        Ok(t)
    }

    /// The log of every epoch so far, those before a resume included.
    /// The configuration the trainer runs.
    pub fn config(&self) -> &TrainConfig {
        &self.cfg
    }

    /// Every epoch trained so far, a resumed run's earlier ones included.
    pub fn history(&self) -> &[EpochLog] {
        &self.history
    }

    /// Epochs already done (after a resume, those of the checkpoint).
    pub fn epochs_done(&self) -> usize {
        self.history.len()
    }

    /// Trains on `ds` up to `cfg.epochs` epochs, writing the checkpoint, weights and log into
    /// `run_dir` after every epoch when given.
    ///
    /// # Errors
    /// The dataset does not fit the model and loss (the shape engine's diagnosis, before any
    /// step), a loader failure, targets outside the loss's range, a NaN/inf loss (naming epoch
    /// and batch), an unwritable run directory.
    pub fn fit(
        &mut self,
        ds: Arc<dyn Dataset>,
        run_dir: Option<&Path>,
        observer: &mut dyn FnMut(Event) -> ControlFlow<()>,
    ) -> Result<Outcome> {
        let result = self.fit_tracked(ds, run_dir, observer);
        // However the loop ended (done, stopped, an error), the variables leave it untracked.
        self.net.variables_mut().track(false);
        result
    }

    /// One epoch's batches, a step each, with the epoch's start and every batch reported to
    /// `observer`; `None` when it stopped the run.
    fn train_epoch(
        &mut self,
        ds: &Arc<dyn Dataset>,
        train_idx: &[usize],
        loader: &LoaderConfig,
        epoch: usize,
        observer: &mut dyn FnMut(Event) -> ControlFlow<()>,
    ) -> Result<Option<EpochSums>> {
        let cfg = self.cfg.clone();
        // The loader keeps the ragged last batch.
        let n_batches = train_idx.len().div_ceil(cfg.batch_size);
        let start = Event::EpochStart {
            epoch: epoch + 1,
            batches: n_batches,
        };
        if observer(start).is_break() {
            return Ok(None);
        }
        let rx = batches(ds.clone(), train_idx, loader, epoch as u64)?;
        let mut sums = EpochSums::default();
        for (b, batch) in rx.into_iter().enumerate() {
            let batch = batch?;
            let n = batch.input_shape[0];
            let x = DynTensor::from_data(&batch.input_shape, batch.inputs, self.net.device());
            let mut pass = Pass::training(batch_seed(cfg.seed, epoch, b));
            let out = self.net.run_graph(x, &mut pass)?;
            let dims = out.dims();
            let target = cfg.loss.dense_targets(&dims, &batch.targets)?;
            if cfg.loss.has_accuracy() {
                let (h, r) = cfg
                    .loss
                    .correct(&out.to_vec(), &target, dims[dims.len() - 1]);
                sums.hits += h;
                sums.rows += r;
            }
            let loss = cfg.loss.compute(out, target);
            let value = loss.clone().into_scalar::<f32>();
            if !value.is_finite() {
                return Err(NnError::NonFinite {
                    epoch: epoch + 1,
                    batch: b + 1,
                    loss: value,
                });
            }
            self.initial_loss.get_or_insert(value as f64);
            self.step(loss, pass);
            sums.loss += value as f64 * n as f64;
            sums.examples += n;
            let flow = observer(Event::Batch {
                epoch: epoch + 1,
                batch: b + 1,
                batches: n_batches,
                loss: sums.loss / sums.examples as f64,
                examples: sums.examples,
            });
            if flow.is_break() {
                return Ok(None);
            }
        }
        Ok(Some(sums))
    }

    /// [`Trainer::fit`]'s work; it tracks the variables and leaves them tracked.
    fn fit_tracked(
        &mut self,
        ds: Arc<dyn Dataset>,
        run_dir: Option<&Path>,
        observer: &mut dyn FnMut(Event) -> ControlFlow<()>,
    ) -> Result<Outcome> {
        let cfg = self.cfg.clone();
        check_dataset(
            self.net.model(),
            ds.as_ref(),
            cfg.batch_size,
            Some(cfg.loss.name()),
        )?;
        let val_ds = self.validation.clone().unwrap_or_else(|| ds.clone());
        let (train_idx, val_idx) = if let Some(v) = &self.validation {
            ((0..ds.len()).collect(), (0..v.len()).collect())
        } else if cfg.validation_split > 0.0 {
            split(ds.len(), cfg.validation_split, cfg.seed)?
        } else {
            ((0..ds.len()).collect(), Vec::new())
        };
        if cfg.patience.is_some() && val_idx.is_empty() {
            return Err(NnError::Config {
                name: "patience",
                actual: format!("{:?}", cfg.patience),
                expected: "validation data to watch: set a validation split (e.g. 0.1) or drop the patience".into(),
            });
        }
        let loader = LoaderConfig {
            batch_size: cfg.batch_size,
            shuffle: true,
            seed: cfg.seed,
            drop_last: false,
            prefetch: 2,
        };
        let mut outcome = Outcome {
            initial_loss: self.initial_loss,
            history: Vec::new(),
            stopped_early: false,
            interrupted: false,
        };
        self.net.variables_mut().track(true);
        for epoch in self.history.len()..cfg.epochs {
            let started = Instant::now();
            let Some(sums) = self.train_epoch(&ds, &train_idx, &loader, epoch, observer)? else {
                outcome.interrupted = true;
                break;
            };
            let (val_loss, val_accuracy) = if val_idx.is_empty() {
                (None, None)
            } else {
                let (l, a) = self.evaluate(val_ds.as_ref(), &val_idx)?;
                (Some(l), a)
            };
            let log = EpochLog {
                epoch: epoch + 1,
                loss: sums.loss / sums.examples.max(1) as f64,
                accuracy: (sums.rows > 0).then(|| sums.hits as f64 / sums.rows as f64),
                val_loss,
                val_accuracy,
                learning_rate: cfg
                    .schedule
                    .rate(cfg.learning_rate, self.opt.step.saturating_sub(1)),
                seconds: started.elapsed().as_secs_f64(),
            };
            if let Some(v) = val_loss {
                if v < self.best_val {
                    self.best_val = v;
                    self.bad_epochs = 0;
                } else {
                    self.bad_epochs += 1;
                }
            }
            self.history.push(log.clone());
            outcome.history.push(log.clone());
            if let Some(dir) = run_dir {
                self.save(dir)?;
            }
            self.net.variables_mut().track(false);
            let flow = observer(Event::Epoch(&log, self.net));
            self.net.variables_mut().track(true);
            if cfg.patience.is_some_and(|p| self.bad_epochs >= p) {
                outcome.stopped_early = true;
                break;
            }
            if flow.is_break() {
                outcome.interrupted = true;
                break;
            }
        }
        outcome.initial_loss = self.initial_loss;
        Ok(outcome)
    }

    /// Backward from `loss`, clip, update, and keep the pass's new moving statistics.
    fn step(&mut self, loss: burn::tensor::Tensor<1>, pass: Pass) {
        let grads = loss.backward();
        let vars = self.net.variables();
        let mut g: Vec<Vec<f32>> = self
            .trainable
            .iter()
            .map(|&i| {
                // A variable the loss does not reach (an unused branch) has no gradient.
                vars.flat(i).grad(&grads).map_or_else(
                    || vec![0.0; vars.get(i).len()],
                    |t| t.into_data().try_into_vec_as::<f32>().expect("float data"),
                )
            })
            .collect();
        if let Some(max) = self.cfg.clip_norm {
            clip_global_norm(&mut g, max);
        }
        let mut values: Vec<Vec<f32>> = self
            .trainable
            .iter()
            .map(|&i| vars.get(i).values())
            .collect();
        let lr = self
            .cfg
            .schedule
            .rate(self.cfg.learning_rate, self.opt.step);
        self.opt.apply(&mut values, &g, lr);
        let vars = self.net.variables_mut();
        for (&i, v) in self.trainable.iter().zip(values) {
            vars.set(i, v, true);
        }
        for (i, v) in pass.moving {
            vars.set(i, v, false);
        }
    }

    /// Mean loss (and accuracy for classification losses) over `indices`, in inference mode.
    pub fn evaluate(&mut self, ds: &dyn Dataset, indices: &[usize]) -> Result<(f64, Option<f64>)> {
        self.net.variables_mut().track(false);
        let result = evaluate(self.net, self.cfg.loss, self.cfg.batch_size, ds, indices);
        self.net.variables_mut().track(true);
        result
    }

    /// Writes the checkpoint (weights, optimizer state, loop state in one file, so a kill never
    /// leaves them out of step), the Keras-keyed weights and the CSV log, each atomically.
    pub fn save(&self, dir: &Path) -> Result<()> {
        std::fs::create_dir_all(dir).map_err(|e| NnError::Run {
            path: dir.to_path_buf(),
            actual: format!("cannot create the run directory ({e})"),
            source: Some(e),
        })?;
        let vars = self.net.variables();
        let model_weights = vars.to_weights();
        let mut all: Weights = model_weights.clone();
        for (slots, &i) in self.opt.slots.iter().zip(&self.trainable) {
            let v = vars.get(i);
            for (s, slot) in slots.iter().enumerate() {
                all.insert(
                    format!("{SLOT_PREFIX}{s}:{}", v.key),
                    (v.shape.clone(), slot.clone()),
                );
            }
        }
        let state = json!({
            "step": self.opt.step,
            "initial_loss": self.initial_loss,
            "best_val": if self.best_val.is_finite() { json!(self.best_val) } else { Value::Null },
            "bad_epochs": self.bad_epochs,
            "history": self.history.iter().map(EpochLog::to_json).collect::<Vec<_>>(),
        });
        let meta = BTreeMap::from([("state".to_string(), state.to_string())]);
        weights::write(&dir.join(CHECKPOINT), &all, &meta)?;
        weights::write(&dir.join(WEIGHTS), &model_weights, &BTreeMap::new())?;
        let csv = log_csv(&self.history);
        let path: PathBuf = dir.join(LOG_CSV);
        soundcheck_io::write_atomic(&path, csv.as_bytes()).map_err(|e| NnError::Run {
            path,
            actual: format!("cannot write the log ({e})"),
            source: Some(e),
        })
    }
}

/// The training log as CSV, one row per epoch, empty cells where a value does not apply.
pub fn log_csv(history: &[EpochLog]) -> String {
    let opt = |v: Option<f64>| v.map(|v| v.to_string()).unwrap_or_default();
    let mut csv = String::from("epoch,loss,accuracy,val_loss,val_accuracy,learning_rate,seconds\n");
    for h in history {
        csv.push_str(&format!(
            "{},{},{},{},{},{},{:.3}\n",
            h.epoch,
            h.loss,
            opt(h.accuracy),
            opt(h.val_loss),
            opt(h.val_accuracy),
            h.learning_rate,
            h.seconds
        ));
    }
    csv
}

/// Mean loss (and accuracy for classification losses) of `net` over `indices` of `ds`.
pub fn evaluate(
    net: &Network,
    loss: Loss,
    batch_size: usize,
    ds: &dyn Dataset,
    indices: &[usize],
) -> Result<(f64, Option<f64>)> {
    let (mut sum, mut hits, mut rows) = (0f64, 0usize, 0usize);
    for chunk in indices.chunks(batch_size.max(1)) {
        let b = gather(ds, chunk)?;
        let x = DynTensor::from_data(&b.input_shape, b.inputs, net.device());
        let out = net.run_graph(x, &mut Pass::inference())?;
        let dims = out.dims();
        let target = loss.dense_targets(&dims, &b.targets)?;
        if loss.has_accuracy() {
            let (h, r) = loss.correct(&out.to_vec(), &target, dims[dims.len() - 1]);
            hits += h;
            rows += r;
        }
        sum += loss.compute(out, target).into_scalar::<f32>() as f64 * chunk.len() as f64;
    }
    Ok((
        sum / indices.len().max(1) as f64,
        (rows > 0).then(|| hits as f64 / rows as f64),
    ))
}
