//! The training loop: checked batches, Keras's losses and optimizers, validation, early stopping,
//! a checkpoint per epoch that a killed run can resume from exactly.
//!
//! Determinism: the epoch's example order comes from `(seed, epoch)` and a batch's dropout draws
//! from `(seed, epoch, batch)`, so a run resumed from the checkpoint of epoch k replays epoch k + 1
//! exactly as the uninterrupted run did.

mod checkpoint;

use std::ops::ControlFlow;
use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use serde::{Deserialize, Serialize};
use soundcheck_data::{
    batches, check_dataset, gather, split, Batch, Dataset, LoaderConfig, Wiring,
};

use crate::error::{NnError, Result};
use crate::loss::Loss;
use crate::network::Network;
use crate::optim::{clip_global_norm, Optimizer, OptimizerKind, Schedule};
use crate::pass::Pass;
use crate::tensor::DynTensor;

pub use checkpoint::{log_csv, CHECKPOINT, LOG_CSV, WEIGHTS};

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
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
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
        wiring: &Wiring,
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
            let n = batch.indices.len();
            let mut pass = Pass::training(batch_seed(cfg.seed, epoch, b));
            let (loss, hits) = batch_loss(self.net, cfg.loss, wiring, batch, &mut pass)?;
            if let Some((h, r)) = hits {
                sums.hits += h;
                sums.rows += r;
            }
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
        let wiring = check_dataset(
            self.net.model(),
            ds.as_ref(),
            cfg.batch_size,
            Some(cfg.loss.name()),
        )?;
        let val_ds = self.validation.clone().unwrap_or_else(|| ds.clone());
        // `split` checks the fraction (a negative or NaN one is an error, not "no validation")
        // and sizes the index lists within the memory budget; a fraction of 0 keeps every index.
        let (train_idx, val_idx) = match &self.validation {
            Some(v) => (
                split(ds.len(), 0.0, cfg.seed)?.0,
                split(v.len(), 0.0, cfg.seed)?.0,
            ),
            None => split(ds.len(), cfg.validation_split, cfg.seed)?,
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
            let Some(sums) =
                self.train_epoch(&ds, &wiring, &train_idx, &loader, epoch, observer)?
            else {
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
}

/// Mean loss (and accuracy for classification losses) of `net` over `indices` of `ds`.
pub fn evaluate(
    net: &Network,
    loss: Loss,
    batch_size: usize,
    ds: &dyn Dataset,
    indices: &[usize],
) -> Result<(f64, Option<f64>)> {
    let wiring = soundcheck_data::wire(net.model(), ds)?;
    let (mut sum, mut hits, mut rows) = (0f64, 0usize, 0usize);
    for chunk in indices.chunks(batch_size.max(1)) {
        let b = gather(ds, chunk)?;
        let (value, correct) = batch_loss(net, loss, &wiring, b, &mut Pass::inference())?;
        if let Some((h, r)) = correct {
            hits += h;
            rows += r;
        }
        sum += value.into_scalar::<f32>() as f64 * chunk.len() as f64;
    }
    Ok((
        sum / indices.len().max(1) as f64,
        (rows > 0).then(|| hits as f64 / rows as f64),
    ))
}

/// Runs `batch` through `net` and returns the loss (Keras's sum over the outputs of each output's
/// loss) and, for a classifier of one output, its correct predictions and rows.
fn batch_loss(
    net: &Network,
    loss: Loss,
    wiring: &Wiring,
    mut batch: Batch,
    pass: &mut Pass,
) -> Result<(burn::tensor::Tensor<1>, Option<(usize, usize)>)> {
    let xs = wiring
        .inputs
        .iter()
        .map(|&f| {
            let a = &mut batch.inputs[f];
            DynTensor::from_data(&a.shape, std::mem::take(&mut a.data), net.device())
        })
        .collect();
    let outs = net.run_graph(xs, pass)?;
    let single = outs.len() == 1;
    let mut total: Option<burn::tensor::Tensor<1>> = None;
    let mut correct = None;
    for (out, &f) in outs.into_iter().zip(&wiring.targets) {
        let dims = out.dims();
        let target = loss.dense_targets(&dims, &batch.targets[f].data, &batch.indices)?;
        if single && loss.has_accuracy() {
            correct = Some(loss.correct(&out.to_vec(), &target, dims[dims.len() - 1]));
        }
        let term = loss.compute(out, target);
        total = Some(match total {
            Some(t) => t + term,
            None => term,
        });
    }
    Ok((total.expect("a model has at least one output"), correct))
}
