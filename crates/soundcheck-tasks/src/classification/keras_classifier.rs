//! A classifier trained in Keras. Its `.keras` (or `.h5`) file holds the network but not what
//! turns a clip into the network's input: the features, the frames per clip, the
//! standardisation, the class names. Those come beside it ([`KerasPreprocess`]): the
//! `classes.json` of a soundcheck run, which records them all, or the arguments one by one, with
//! each clip standardised by its own statistics (CMVN, the one standardisation that needs no
//! training statistics).

use std::path::{Path, PathBuf};

use soundcheck_data::{Side, Standardiser};
use soundcheck_nn::{Device, Network};

use super::classify::Classifier;
use super::clip_features::ClipFeatures;
use super::preprocess::{Normalisation, Preprocess};
use super::record::{ClassesRecord, SplitRecord};
use crate::error::{Result, TaskError};
use crate::run_dir::read_json;

/// Where a Keras classifier's preprocessing comes from.
#[derive(Clone, Debug, PartialEq)]
pub enum KerasPreprocess {
    /// The `classes.json` of a `soundcheck train classification` run: features, frames per
    /// clip, padding, standardisation and classes, as the run recorded them.
    Record(PathBuf),
    /// Given one by one; clips are standardised each by its own statistics.
    Given {
        /// The class names, in the order of the model's outputs.
        labels: Vec<String>,
        /// The features, computed as librosa computes them.
        features: ClipFeatures,
        /// Frames per clip; `None`: the model's own input length, when it declares one.
        maxlen: Option<usize>,
        /// Which end short clips are padded at.
        padding: Side,
        /// Which end long clips are cut at.
        truncating: Side,
    },
}

/// What a Keras classifier needs beside its file, for the message that says it is missing.
const MISSING: &str = "its preprocessing beside it (a Keras model file holds the network, not \
    how a clip becomes its input): `classes`, the classes.json of a soundcheck run (features, \
    frames per clip, standardisation and class names), or `labels`, the class names in the \
    order of the model's outputs, with the features the model was trained with (`features`, \
    `n_mfcc`, `n_mels`, `sr`, `n_fft`, `hop_length`, `deltas`; 22050 Hz, 13 MFCCs, `n_fft` 2048 and \
    `hop_length` 512 when not given) and `maxlen` when the model takes any number of frames, each clip then standardised \
    by its own statistics";

impl Classifier {
    /// The classifier in the Keras model file `model`, with its preprocessing from `pre`.
    ///
    /// # Errors
    /// `pre` is `None` (the message lists what to give); the model file cannot be read
    /// ([`soundcheck_nn::load_keras`]); the record cannot be read; the features, frames or
    /// classes do not fit the model's input and output, named with both sizes.
    pub fn from_keras(
        model: &Path,
        pre: Option<&KerasPreprocess>,
        device: &Device,
    ) -> Result<Classifier> {
        let Some(pre) = pre else {
            return Err(TaskError::Option {
                name: "model",
                actual: model.display().to_string(),
                expected: MISSING.into(),
            });
        };
        let net = soundcheck_nn::load_keras(model, device)?;
        let classifier = match pre {
            KerasPreprocess::Record(path) => {
                let record: ClassesRecord = read_json(path, "soundcheck train classification")?;
                Classifier::from_record(net, record, path)?
            }
            KerasPreprocess::Given {
                labels,
                features,
                maxlen,
                padding,
                truncating,
            } => {
                let maxlen = match maxlen {
                    Some(m) => *m,
                    None => declared_frames(&net, model)?,
                };
                let n = features.features();
                let pre = Preprocess {
                    classes: labels.clone(),
                    features: features.clone(),
                    maxlen,
                    padding: *padding,
                    truncating: *truncating,
                    normalisation: Normalisation::PerClip,
                    standardiser: Standardiser {
                        mean: vec![0.0; n],
                        std: vec![1.0; n],
                    },
                };
                let bad = |actual: String| TaskError::Folder {
                    path: model.to_path_buf(),
                    actual,
                    hint: "give the `labels`, features and `maxlen` the model was trained with"
                        .into(),
                };
                Classifier::new(net, pre, SplitRecord::default(), &bad)?
            }
        };
        fits_input(&classifier, model)?;
        Ok(classifier)
    }
}

/// A clip's `(frames, features)` against the model's only input, each axis named with both
/// sizes and the arguments that set it.
fn fits_input(classifier: &Classifier, model: &Path) -> Result<()> {
    let pre = &classifier.pre;
    let (maxlen, features) = (pre.maxlen, pre.features.features());
    let inputs = &classifier.net.model().inputs;
    let bad = |actual: String, hint: &str| TaskError::Folder {
        path: model.to_path_buf(),
        actual,
        hint: hint.into(),
    };
    let dims = match &inputs[..] {
        [input] => input.shape.dims(),
        _ => &[],
    };
    let [frames, width] = dims else {
        return Err(bad(
            format!(
                "the model takes {}, not one (frames, features) array per clip",
                inputs
                    .iter()
                    .map(|i| format!("'{}' of shape {}", i.name, i.shape.to_json_with_batch()))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            "classify runs sequence classifiers of feature frames: one input of shape (batch, frames, features)",
        ));
    };
    if width.is_some_and(|w| w != features) {
        let stack: Vec<String> = pre
            .features
            .kinds
            .iter()
            .map(|k| format!("{} {}", k.name(), k.size()))
            .collect();
        return Err(bad(
            format!(
                "the model takes {} features per frame, the preprocessing gives {features} ({}{})",
                width.unwrap_or(0),
                stack.join(" + "),
                if pre.features.deltas { ", with deltas: ×3" } else { "" }
            ),
            "give the features it was trained with (`features`, `n_mfcc`, `n_mels`, `deltas`), or the `classes` record of its run",
        ));
    }
    if frames.is_some_and(|f| f != maxlen) {
        return Err(bad(
            format!(
                "the model takes {} frames per clip, `maxlen` is {maxlen}",
                frames.unwrap_or(0)
            ),
            "leave `maxlen` out to take the model's own, or give the `classes` record of its run",
        ));
    }
    Ok(())
}

/// The frames per clip a model's only input declares: `(frames, features)`.
fn declared_frames(net: &Network, model: &Path) -> Result<usize> {
    let inputs = &net.model().inputs;
    match inputs.first().map(|i| i.shape.dims()) {
        Some([Some(frames), _]) if inputs.len() == 1 => Ok(*frames),
        _ => Err(TaskError::Option {
            name: "maxlen",
            actual: "not given".into(),
            expected: format!(
                "the frames per clip the model was trained with: {} takes {}, not one fixed number of frames",
                model.display(),
                inputs
                    .iter()
                    .map(|i| format!("'{}' of shape {}", i.name, i.shape.to_json_with_batch()))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        }),
    }
}
