//! A run's files: the checkpoint (weights, optimizer slots and the loop's state in one file, so a
//! kill never leaves them out of step), the Keras-keyed weights and the CSV log; and resuming a
//! run from its checkpoint.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::{EpochLog, TrainConfig, Trainer};
use crate::error::{NnError, Result};
use crate::network::Network;
use crate::weights::{self, Weights};

/// Where a run keeps its files.
pub const CHECKPOINT: &str = "checkpoint.safetensors";
/// The trained weights, Keras-keyed.
pub const WEIGHTS: &str = "weights.safetensors";
/// One line per epoch.
pub const LOG_CSV: &str = "log.csv";

const SLOT_PREFIX: &str = "optimizer:";

/// The loop's state in a checkpoint, beside the weights and optimizer slots: what a resumed run
/// needs to continue exactly where the killed one stopped.
#[derive(Debug, Serialize, Deserialize)]
struct LoopState {
    /// Optimizer steps taken.
    step: u64,
    /// The loss of the first batch before any update.
    initial_loss: Option<f64>,
    /// The lowest validation loss so far (`None` before the first validation).
    best_val: Option<f64>,
    /// Epochs since the validation loss last fell.
    bad_epochs: usize,
    /// Every epoch so far.
    history: Vec<EpochLog>,
}

impl<'a> Trainer<'a> {
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
        let text = meta.get("state").ok_or_else(|| {
            bad("has no training state; it is not a soundcheck checkpoint — start a new run directory".into())
        })?;
        let state: LoopState = serde_json::from_str(text).map_err(|e| {
            bad(format!("has a damaged training state ({e}); start a new run directory or restore the checkpoint"))
        })?;
        t.opt.step = state.step;
        t.initial_loss = state.initial_loss;
        t.best_val = state.best_val.unwrap_or(f64::INFINITY);
        t.bad_epochs = state.bad_epochs;
        t.history = state.history;
        Ok(t)
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
        let state = LoopState {
            step: self.opt.step,
            initial_loss: self.initial_loss,
            best_val: self.best_val.is_finite().then_some(self.best_val),
            bad_epochs: self.bad_epochs,
            history: self.history.clone(),
        };
        let state = serde_json::to_string(&state).expect("plain numbers serialise");
        let meta = BTreeMap::from([("state".to_string(), state)]);
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
