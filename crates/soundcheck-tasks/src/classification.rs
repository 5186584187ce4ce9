//! Audio classification plumbing done right by construction: time-major clip features, one
//! length for the batch (Keras's `pad_sequences`, by default the 95th-percentile length),
//! per-feature standardisation fitted on the training split, class indices as integer targets,
//! and the class count filled into the model's last layer.

use serde_json::{json, Value};
use soundcheck_data::{
    pad_sequences, percentile_length, ArrayDataset, ClipFeature, ClipFeatures, DataError, Sequence,
    Side, Standardiser,
};
use soundcheck_shape::ModelSpec;

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
    /// The training split's per-feature statistics.
    pub standardiser: Standardiser,
}

fn side_name(s: Side) -> &'static str {
    match s {
        Side::Pre => "pre",
        Side::Post => "post",
    }
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
        train: &[Sequence],
    ) -> Result<Preprocess, DataError> {
        let lengths: Vec<usize> = train.iter().map(|s| s.frames).collect();
        Ok(Preprocess {
            classes,
            features,
            maxlen: policy
                .maxlen
                .unwrap_or_else(|| percentile_length(&lengths, 95.0)),
            padding: policy.padding,
            truncating: policy.truncating,
            standardiser: Standardiser::fit(train)?,
        })
    }

    /// Standardised, then padded/truncated to `maxlen` (padding is 0, the training mean).
    ///
    /// # Shapes
    /// - output: `(len(seqs), maxlen, features)`
    pub fn batch(&self, mut seqs: Vec<Sequence>) -> (Vec<usize>, Vec<f32>) {
        for s in &mut seqs {
            self.standardiser.apply(s);
        }
        let shape = vec![seqs.len(), self.maxlen, self.features.features()];
        (
            shape,
            pad_sequences(&seqs, self.maxlen, self.padding, self.truncating, 0.0),
        )
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
        let (shape, x) = self.batch(seqs);
        let y: Vec<f32> = labels.iter().map(|&l| l as f32).collect();
        Ok(ArrayDataset::new(x, &shape, y, &[labels.len()])?.with_integer_targets())
    }

    /// The record a run keeps (`classes.json`).
    pub fn to_json(&self) -> Value {
        let kinds: Vec<Value> = self
            .features
            .kinds
            .iter()
            .map(|k| json!({"kind": k.name(), "n": k.size()}))
            .collect();
        json!({
            "classes": self.classes,
            "features": {"kinds": kinds, "deltas": self.features.deltas,
                          "sample_rate": self.features.sample_rate, "n_fft": self.features.n_fft,
                          "hop_length": self.features.hop_length},
            "maxlen": self.maxlen, "padding": side_name(self.padding),
            "truncating": side_name(self.truncating),
            "mean": self.standardiser.mean, "std": self.standardiser.std,
        })
    }

    /// The preprocessing of a run's record; `None` when a field is missing. Records written
    /// before features could be stacked (one `kind` and its `n`) read as a stack of one.
    pub fn from_json(v: &Value) -> Option<Preprocess> {
        let f = &v["features"];
        let kind = |k: &Value| -> Option<ClipFeature> {
            let n = k["n"].as_u64()? as usize;
            ClipFeature::parse(k["kind"].as_str()?, n, n)
                .ok()
                .filter(|kind| kind.size() == n)
        };
        let kinds = match f["kinds"].as_array() {
            Some(list) => list.iter().map(kind).collect::<Option<Vec<_>>>()?,
            None => vec![kind(f)?],
        };
        let floats = |k: &str| -> Option<Vec<f32>> {
            v[k].as_array()?
                .iter()
                .map(|x| x.as_f64().map(|x| x as f32))
                .collect()
        };
        let side = |k: &str| match v[k].as_str()? {
            "pre" => Some(Side::Pre),
            "post" => Some(Side::Post),
            _ => None,
        };
        Some(Preprocess {
            classes: v["classes"]
                .as_array()?
                .iter()
                .map(|c| c.as_str().map(str::to_string))
                .collect::<Option<_>>()?,
            features: ClipFeatures {
                sample_rate: f["sample_rate"].as_u64()? as u32,
                kinds,
                deltas: f["deltas"].as_bool()?,
                n_fft: f["n_fft"].as_u64()? as usize,
                hop_length: f["hop_length"].as_u64()? as usize,
            },
            maxlen: v["maxlen"].as_u64()? as usize,
            padding: side("padding")?,
            truncating: side("truncating")?,
            standardiser: Standardiser {
                mean: floats("mean")?,
                std: floats("std")?,
            },
        })
    }
}

/// Sets the last layer's `units` (a Dense classifier) to the class count, for the shipped specs
/// (`--fill-classes`). Without it a spec is the user's and is checked as given: an output that
/// does not match the classes or loss gets the shape engine's `label_mismatch` diagnosis.
pub fn fill_classes(spec: &mut ModelSpec, classes: usize) {
    if let Some(last) = spec.layers.last_mut() {
        if last.type_name == "Dense" {
            last.config.insert("units".into(), json!(classes));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use soundcheck_audio::FeatureKind;

    #[test]
    fn preprocess_round_trips_through_json_and_pads_standardised_frames() {
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
            &train,
        )
        .unwrap();
        assert_eq!(Preprocess::from_json(&p.to_json()), Some(p.clone()));
        // mean 2, std sqrt(2/6): the first clip is (−√3, √3) then one zero of padding.
        let (shape, x) = p.batch(vec![train[0].clone()]);
        assert_eq!(shape, vec![1, 3, 1]);
        let r3 = 3f32.sqrt();
        assert!(
            (x[0] + r3).abs() < 1e-5 && (x[1] - r3).abs() < 1e-5 && x[2] == 0.0,
            "{x:?}"
        );
    }

    #[test]
    fn stacked_features_round_trip_and_older_records_still_read() {
        let stacked = ClipFeatures {
            kinds: vec![
                ClipFeature::mfcc(20),
                ClipFeature::of(FeatureKind::ChromaStft),
                ClipFeature::of(FeatureKind::SpectralContrast),
                ClipFeature::of(FeatureKind::Rms),
            ],
            deltas: true,
            ..Default::default()
        };
        assert_eq!(stacked.features(), 3 * (20 + 12 + 7 + 1));
        let p = Preprocess {
            classes: vec!["a".into()],
            features: stacked,
            maxlen: 4,
            padding: Side::Pre,
            truncating: Side::Pre,
            standardiser: Standardiser {
                mean: vec![0.0],
                std: vec![1.0],
            },
        };
        assert_eq!(Preprocess::from_json(&p.to_json()), Some(p.clone()));
        let mut old = p.to_json();
        old["features"] = json!({"kind": "logmel", "n": 64, "deltas": false,
            "sample_rate": 22050, "n_fft": 2048, "hop_length": 512});
        let read = Preprocess::from_json(&old).unwrap();
        assert_eq!(read.features.kinds, vec![ClipFeature::log_mel(64)]);
    }
}
