//! A trained classifier: loaded from its run folder (its record checked against the model),
//! applied to clips, and scored on a dataset.

use std::path::{Path, PathBuf};

use serde::Serialize;
use soundcheck_data::{ClassSet, Grouping, Sequence, Split};
use soundcheck_eval::ClassReport;
use soundcheck_nn::loss::argmax;
use soundcheck_nn::{Device, Network};

use crate::error::{Result, TaskError};
use crate::plot::write_matrix_png;
use crate::progress::Progress;
use crate::run_dir::RunDir;

use super::preprocess::{extract, Preprocess};
use super::record::{ClassesRecord, SplitRecord};
use super::scores::Scores;

/// A trained classifier: the network, the preprocessing it was trained with, and the split its
/// run drew (`classes.json`).
pub struct Classifier {
    /// The trained network.
    pub net: Network,
    /// The preprocessing it was trained with.
    pub pre: Preprocess,
    pub(super) split: SplitRecord,
}

/// A clip's label and the most probable classes.
#[derive(Clone, Debug, Serialize)]
pub struct Labelled {
    /// The audio file.
    pub file: PathBuf,
    /// The most probable class.
    pub label: String,
    /// The most probable classes, most probable first.
    pub top: Vec<ClassProbability>,
    /// The window of the file labelled (`classify --window`); none: the whole file.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub window: Option<Span>,
}

/// Where a window lies in its recording, in seconds.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Span {
    /// Its first sample's time.
    pub start: f64,
    /// The time just past its last sample.
    pub end: f64,
}

/// A class with its probability.
#[derive(Clone, Debug, Serialize)]
pub struct ClassProbability {
    /// The class.
    pub class: String,
    /// The model's probability for it.
    pub probability: f32,
}

/// Which clips of a dataset to score.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ClipSelection {
    /// The run's test split of the data (its seed and fractions).
    Test,
    /// Every clip.
    All,
}

impl Classifier {
    /// The classifier of a `train classification` run.
    pub fn load(run: &Path, device: &Device) -> Result<Classifier> {
        let run = RunDir::open(run);
        let net = run.network(device)?;
        let record: ClassesRecord =
            run.read_record(RunDir::CLASSES, "soundcheck train classification")?;
        Classifier::from_record(net, record, &run.file(RunDir::CLASSES))
    }

    /// `net` with the preprocessing of the `classes.json` at `path` (read from a run folder, or
    /// given beside a Keras model).
    pub(super) fn from_record(
        net: Network,
        record: ClassesRecord,
        path: &Path,
    ) -> Result<Classifier> {
        let bad = |actual: String| TaskError::Folder {
            path: path.to_path_buf(),
            actual,
            hint: "the record does not belong to this model or is damaged: train the run again"
                .into(),
        };
        let pre = record.preprocess().map_err(bad)?;
        Classifier::new(net, pre, record.split, &bad)
    }

    /// `net` with `pre`, checked against each other; `bad` names what is wrong where the
    /// preprocessing came from.
    pub(super) fn new(
        net: Network,
        pre: Preprocess,
        split: SplitRecord,
        bad: &dyn Fn(String) -> TaskError,
    ) -> Result<Classifier> {
        // Each of these would otherwise panic, give wrong labels with exit 0, or blame every
        // audio file for the record's fault.
        pre.features
            .validate()
            .map_err(|e| bad(format!("its feature settings cannot be used ({e})")))?;
        let features = pre.features.features();
        let units = net
            .model()
            .check()
            .layers
            .last()
            .and_then(|l| l.output_shape.last());
        if pre.maxlen == 0 {
            return Err(bad(
                "maxlen is 0; expected at least one frame per clip".into()
            ));
        }
        if pre.standardiser.mean.len() != features || pre.standardiser.std.len() != features {
            return Err(bad(format!(
                "standardisation vectors of {} and {} values for {features} features per frame",
                pre.standardiser.mean.len(),
                pre.standardiser.std.len()
            )));
        }
        // Training writes a finite mean and a positive deviation per feature (1 for a constant
        // one); anything else turns every clip into NaN, labelled with a class all the same.
        let (mean, std) = (&pre.standardiser.mean, &pre.standardiser.std);
        if let Some(i) = mean.iter().position(|m| !m.is_finite()) {
            return Err(bad(format!(
                "mean[{i}] is {}; expected a finite number (the training split's mean)",
                mean[i]
            )));
        }
        if let Some(i) = std.iter().position(|s| !(s.is_finite() && *s > 0.0)) {
            return Err(bad(format!(
                "std[{i}] is {}; expected a positive finite number (the training split's \
                 standard deviation, 1 for a constant feature)",
                std[i]
            )));
        }
        soundcheck_io::budget::memory(
            "one clip padded to `maxlen` frames",
            &[pre.maxlen, features],
            4,
        )
        .map_err(|e| bad(format!("maxlen: {e}")))?;
        if units.is_some_and(|u| u != pre.classes.len()) {
            return Err(bad(format!(
                "{} classes for a model with {} outputs",
                pre.classes.len(),
                units.unwrap_or(0)
            )));
        }
        Ok(Classifier { net, pre, split })
    }

    /// Class probabilities of every sequence, in batches.
    pub(super) fn probabilities(&self, seqs: Vec<Sequence>) -> Result<Vec<Vec<f32>>> {
        let k = self.pre.classes.len();
        let mut out = Vec::with_capacity(seqs.len());
        let mut rest = seqs;
        while !rest.is_empty() {
            let tail = rest.split_off(rest.len().min(64));
            let (shape, x) = self.pre.batch(rest)?;
            let (_, y) = self.net.forward(&shape, x)?;
            out.extend(y.chunks(k).map(<[f32]>::to_vec));
            rest = tail;
        }
        Ok(out)
    }

    /// Labels `files` with the `top_k` most probable classes each.
    pub fn classify(
        &self,
        files: &[PathBuf],
        top_k: usize,
        progress: &dyn Progress,
    ) -> Result<Vec<Labelled>> {
        let paths: Vec<&Path> = files.iter().map(PathBuf::as_path).collect();
        let probs = self.probabilities(extract(&self.pre.features, &paths, progress)?)?;
        Ok(files
            .iter()
            .zip(&probs)
            .map(|(f, p)| self.labelled(f, p, top_k, None))
            .collect())
    }

    /// `file` (or its `window`) labelled from its class probabilities `p`.
    pub(super) fn labelled(
        &self,
        file: &Path,
        p: &[f32],
        top_k: usize,
        window: Option<Span>,
    ) -> Labelled {
        let mut order: Vec<usize> = (0..p.len()).collect();
        order.sort_by(|&x, &y| p[y].total_cmp(&p[x]));
        Labelled {
            file: file.to_path_buf(),
            label: self.pre.classes[order[0]].clone(),
            top: order
                .iter()
                .take(top_k.max(1))
                .map(|&i| ClassProbability {
                    class: self.pre.classes[i].clone(),
                    probability: p[i],
                })
                .collect(),
            window,
        }
    }

    /// Scores on `clips` of `set`, whose classes must be the run's; per group too when each
    /// clip of `set` has one in `groups`.
    pub(super) fn score(
        &self,
        set: &ClassSet,
        clips: &[usize],
        groups: Option<&[String]>,
        progress: &dyn Progress,
    ) -> Result<Scores> {
        let classes = &self.pre.classes;
        let truth: Vec<usize> = clips
            .iter()
            .map(|&i| {
                let name = &set.classes[set.clips[i].label];
                classes
                    .iter()
                    .position(|c| c == name)
                    .ok_or_else(|| TaskError::Option {
                        name: "data",
                        actual: format!("class '{name}'"),
                        expected: format!(
                            "one of the classes the run was trained on ({})",
                            classes.join(", ")
                        ),
                    })
            })
            .collect::<Result<_>>()?;
        let paths: Vec<&Path> = clips.iter().map(|&i| set.clips[i].path.as_path()).collect();
        let probs = self.probabilities(extract(&self.pre.features, &paths, progress)?)?;
        let predicted: Vec<usize> = probs.iter().map(|p| argmax(p)).collect();
        let clip_groups: Option<Vec<String>> =
            groups.map(|g| clips.iter().map(|&i| g[i].clone()).collect());
        Ok(Scores::new(
            &ClassReport::new(&truth, &predicted, classes.len()),
            classes,
            clip_groups
                .as_deref()
                .map(|g| (g, truth.as_slice(), predicted.as_slice())),
        ))
    }

    /// How the run grouped its clips, if it did.
    pub fn grouping(&self) -> Option<Grouping> {
        self.split.grouping()
    }

    /// Scores on the clips of `data`, per group of `grouping` (by default the run's) too,
    /// drawing the confusion matrix to `png`.
    pub fn evaluate(
        &self,
        data: &Path,
        selection: ClipSelection,
        grouping: Option<&Grouping>,
        png: &Path,
        progress: &dyn Progress,
    ) -> Result<(Scores, usize)> {
        let set = ClassSet::open(data)?;
        let run_groups = self.grouping().map(|g| g.groups(&set)).transpose()?;
        let clips: Vec<usize> = match selection {
            ClipSelection::All => (0..set.clips.len()).collect(),
            ClipSelection::Test => {
                let splits = self.split.splits(&set, run_groups.as_deref())?;
                (0..set.clips.len())
                    .filter(|&i| splits[i] == Split::Test)
                    .collect()
            }
        };
        let groups = match grouping {
            Some(g) => Some(g.groups(&set)?),
            None => run_groups,
        };
        let mut reads: Vec<&Path> = set.clips.iter().map(|c| c.path.as_path()).collect();
        // A manifest is read; a folder of class folders is not protected as a whole (a picture
        // may go beside its clips), its clips are.
        if data.is_file() {
            reads.push(data);
        }
        TaskError::check_outputs("png", &reads, &[png])?;
        let scores = self.score(&set, &clips, groups.as_deref(), progress)?;
        self.draw_confusion(png, "confusion", &scores)?;
        Ok((scores, clips.len()))
    }

    pub(super) fn draw_confusion(&self, png: &Path, title: &str, scores: &Scores) -> Result<()> {
        write_matrix_png(png, title, &self.pre.classes, &scores.confusion).map_err(|e| {
            TaskError::Folder {
                path: png.to_path_buf(),
                actual: format!("the confusion matrix could not be drawn ({e})"),
                hint: "check the folder, its permissions and the free space".into(),
            }
        })
    }
}
