//! Audio classification plumbing done right by construction: time-major clip features, one
//! length for the batch (Keras's `pad_sequences`, by default the 95th-percentile length),
//! per-feature standardisation fitted on the training split or per clip (CMVN), and class
//! indices as integer targets.

use std::path::Path;

use soundcheck_data::{
    pad_sequences, percentile_length, ArrayDataset, DataError, Sequence, Side, Standardiser,
};

use super::clip_features::ClipFeatures;
use crate::progress::Progress;

/// How clips of different lengths become one `(T, features)` shape.
#[derive(Clone, Debug, PartialEq)]
pub struct LengthPolicy {
    /// `None`: the 95th percentile of the training clips' lengths.
    pub maxlen: Option<usize>,
    /// Which end short clips are padded at.
    pub padding: Side,
    /// Which end long clips are cut at.
    pub truncating: Side,
}

impl Default for LengthPolicy {
    /// Keras's `pad_sequences` defaults: pad and truncate at the start.
    fn default() -> Self {
        LengthPolicy {
            maxlen: None,
            padding: Side::Pre,
            truncating: Side::Pre,
        }
    }
}

/// How each feature is brought to zero mean and unit variance.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Normalisation {
    /// With the training split's statistics (scikit-learn's StandardScaler over all frames).
    #[default]
    Global,
    /// With each clip's own statistics over its frames (cepstral mean and variance
    /// normalisation, CMVN): a speaker's or microphone's constant colouring is removed.
    PerClip,
}

impl Normalisation {
    /// `global` or `per-clip` (also `cmvn`).
    ///
    /// # Errors
    /// Another name, with the choices.
    pub fn parse(name: &str) -> crate::Result<Normalisation> {
        match name.trim().to_lowercase().replace('_', "-").as_str() {
            "global" => Ok(Normalisation::Global),
            "per-clip" | "cmvn" => Ok(Normalisation::PerClip),
            other => Err(crate::TaskError::Option {
                name: "normalisation",
                actual: format!("'{other}'"),
                expected: "global (the training split's statistics) or per-clip (CMVN)".into(),
            }),
        }
    }

    /// The name a run records.
    pub fn name(self) -> &'static str {
        match self {
            Normalisation::Global => "global",
            Normalisation::PerClip => "per-clip",
        }
    }
}

/// Everything that turns a clip into the model's input; saved with the run so `classify` does
/// exactly what training did.
#[derive(Clone, Debug, PartialEq)]
pub struct Preprocess {
    /// The class names, in label order.
    pub classes: Vec<String>,
    /// The features computed per clip.
    pub features: ClipFeatures,
    /// Frames every clip is padded or cut to.
    pub maxlen: usize,
    /// Which end short clips are padded at.
    pub padding: Side,
    /// Which end long clips are cut at.
    pub truncating: Side,
    /// Global or per-clip standardisation.
    pub normalisation: Normalisation,
    /// The training split's per-feature statistics (with per-clip normalisation, zero means
    /// and unit deviations: the clip's own statistics do the work).
    pub standardiser: Standardiser,
}

impl Preprocess {
    /// Fits the length and the standardisation on the training clips.
    ///
    /// # Errors
    /// No training frames.
    pub fn fit(
        classes: Vec<String>,
        features: ClipFeatures,
        policy: &LengthPolicy,
        normalisation: Normalisation,
        train: &[Sequence],
    ) -> Result<Preprocess, DataError> {
        let lengths: Vec<usize> = train.iter().map(|s| s.frames).collect();
        let standardiser = match normalisation {
            Normalisation::Global => Standardiser::fit(train)?,
            Normalisation::PerClip => Standardiser {
                mean: vec![0.0; features.features()],
                std: vec![1.0; features.features()],
            },
        };
        Ok(Preprocess {
            classes,
            features,
            maxlen: policy
                .maxlen
                .unwrap_or_else(|| percentile_length(&lengths, 95.0)),
            padding: policy.padding,
            truncating: policy.truncating,
            normalisation,
            standardiser,
        })
    }

    /// Standardised, then padded/truncated to `maxlen` (padding is 0, the mean).
    ///
    /// # Shapes
    /// - output: `(len(seqs), maxlen, features)`
    ///
    /// # Errors
    /// A batch larger than the memory there is.
    pub fn batch(&self, mut seqs: Vec<Sequence>) -> Result<(Vec<usize>, Vec<f32>), DataError> {
        self.standardise(&mut seqs);
        let shape = vec![seqs.len(), self.maxlen, self.features.features()];
        let x = pad_sequences(&seqs, self.maxlen, self.padding, self.truncating, 0.0)?;
        Ok((shape, x))
    }

    /// Each clip standardised in place, globally or by its own statistics.
    pub fn standardise(&self, seqs: &mut [Sequence]) {
        for s in seqs {
            match self.normalisation {
                Normalisation::Global => self.standardiser.apply(s),
                Normalisation::PerClip => {
                    // Only a clip without frames has no statistics, and nothing to normalise.
                    if let Ok(own) = Standardiser::fit(std::slice::from_ref(s)) {
                        own.apply(s);
                    }
                }
            }
        }
    }

    /// A dataset of the clips with their class indices as integer targets.
    ///
    /// # Errors
    /// No clips.
    pub fn dataset(
        &self,
        seqs: Vec<Sequence>,
        labels: &[usize],
    ) -> Result<ArrayDataset, DataError> {
        let (shape, x) = self.batch(seqs)?;
        let y: Vec<f32> = labels.iter().map(|&l| l as f32).collect();
        Ok(ArrayDataset::new(x, &shape, y, &[labels.len()])?.with_integer_targets())
    }
}

/// Features of the clips, as a progress stage.
pub(super) fn extract(
    features: &ClipFeatures,
    paths: &[&Path],
    progress: &dyn Progress,
) -> crate::Result<Vec<Sequence>> {
    progress.start("features", paths.len());
    let seqs = features.extract_all(paths, &|| progress.step());
    progress.finish();
    seqs
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::classification::record::reread;
    use crate::classification::ClipFeature;

    #[test]
    fn preprocess_round_trips_through_its_record_and_pads_standardised_frames() {
        let train = vec![
            Sequence {
                frames: 2,
                features: 1,
                data: vec![1.0, 3.0],
            },
            Sequence {
                frames: 4,
                features: 1,
                data: vec![2.0, 2.0, 2.0, 2.0],
            },
        ];
        let p = Preprocess::fit(
            vec!["a".into(), "b".into()],
            ClipFeatures {
                kinds: vec![ClipFeature::mfcc(1)],
                ..Default::default()
            },
            &LengthPolicy {
                maxlen: Some(3),
                padding: Side::Post,
                truncating: Side::Pre,
            },
            Normalisation::Global,
            &train,
        )
        .unwrap();
        assert_eq!(reread(&p), p);
        // mean 2, std sqrt(2/6): the first clip is (−√3, √3) then one zero of padding.
        let (shape, x) = p.batch(vec![train[0].clone()]).unwrap();
        assert_eq!(shape, vec![1, 3, 1]);
        let r3 = 3f32.sqrt();
        assert!(
            (x[0] + r3).abs() < 1e-5 && (x[1] - r3).abs() < 1e-5 && x[2] == 0.0,
            "{x:?}"
        );
    }

    #[test]
    fn per_clip_normalisation_is_numpys_mean_and_std_of_each_clip() {
        // Two features over 3 frames: (1, 4), (2, 4), (6, 4). numpy:
        // (x - x.mean(0)) / x.std(0): mean (3, 4), std (√(14/3), 0); the constant feature,
        // 0/0 in numpy, is left at x − mean = 0.
        let clip = Sequence {
            frames: 3,
            features: 2,
            data: vec![1.0, 4.0, 2.0, 4.0, 6.0, 4.0],
        };
        let p = Preprocess::fit(
            vec!["a".into()],
            ClipFeatures {
                kinds: vec![ClipFeature::mfcc(2)],
                ..Default::default()
            },
            &LengthPolicy {
                maxlen: Some(4),
                padding: Side::Pre,
                truncating: Side::Pre,
            },
            Normalisation::PerClip,
            std::slice::from_ref(&clip),
        )
        .unwrap();
        assert_eq!(reread(&p), p);
        let (shape, x) = p.batch(vec![clip]).unwrap();
        assert_eq!(shape, vec![1, 4, 2]);
        let sd = (14.0f32 / 3.0).sqrt();
        let want = [0.0, 0.0, -2.0 / sd, 0.0, -1.0 / sd, 0.0, 3.0 / sd, 0.0];
        for (a, b) in x.iter().zip(want) {
            assert!((a - b).abs() < 1e-6, "{x:?} vs {want:?}");
        }
        assert!((want[2] + 0.925_820_1).abs() < 1e-6, "numpy's -0.9258201");
    }
}
