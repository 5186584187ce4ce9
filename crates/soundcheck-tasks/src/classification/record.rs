//! `classes.json`, a classification run's record: the classes, the feature settings, the length
//! and standardisation fitted on the training split, and the split itself, written when the run
//! starts and read by `classify` and `evaluate-classifier`. The field names and value formats
//! are those every run has written, so older runs load.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};
use soundcheck_data::{ClassSet, DataError, Grouping, Side, Split, Standardiser};

use super::clip_features::{ClipFeature, ClipFeatures};

use super::preprocess::{Normalisation, Preprocess};

/// The record of `classes.json`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub(super) struct ClassesRecord {
    classes: Vec<String>,
    features: FeaturesRecord,
    maxlen: usize,
    #[serde(with = "side")]
    padding: Side,
    #[serde(with = "side")]
    truncating: Side,
    mean: Vec<f32>,
    std: Vec<f32>,
    /// `per-clip` (CMVN); absent for the global standardisation of `mean` and `std`, as in
    /// records written before it could be chosen.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    normalisation: Option<String>,
    /// Absent, or partly, in a record written by hand: read as `train classification`'s
    /// default split, as the reader always has.
    #[serde(default)]
    pub(super) split: SplitRecord,
}

/// The feature settings of `classes.json`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
struct FeaturesRecord {
    /// The stack, in order; absent in records written before features could be stacked, which
    /// name their one feature in `kind` and `n` instead.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    kinds: Option<Vec<KindRecord>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    kind: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    n: Option<usize>,
    deltas: bool,
    sample_rate: u32,
    n_fft: usize,
    hop_length: usize,
}

/// One feature of the stack: its name and its values per frame.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
struct KindRecord {
    kind: String,
    n: usize,
}

/// How the run split its data, so `evaluate-classifier` scores the same test clips.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub(super) struct SplitRecord {
    /// The data folder or manifest the run was trained on, for people reading the record:
    /// `evaluate-classifier` draws the split from the data it is given.
    pub(super) data: PathBuf,
    /// Fraction of each class held out for validation.
    pub(super) validation: f64,
    /// Fraction of each class held out for the test.
    pub(super) test: f64,
    /// The seed the split was drawn with.
    pub(super) seed: u64,
    /// The manifest column that grouped the clips (each group wholly in one part).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) group_by: Option<String>,
    /// The file-name pattern that grouped the clips.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) group_pattern: Option<String>,
    /// The groups held out for the test.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub(super) test_groups: Vec<String>,
}

impl SplitRecord {
    /// How the run grouped its clips, if it did.
    pub(super) fn grouping(&self) -> Option<Grouping> {
        match (&self.group_by, &self.group_pattern) {
            (Some(c), _) => Some(Grouping::Column(c.clone())),
            (None, Some(p)) => Some(Grouping::Pattern(p.clone())),
            (None, None) => None,
        }
    }

    /// The split of `set` the run drew (with `groups`, each clip's group, when it grouped).
    pub(super) fn splits(
        &self,
        set: &ClassSet,
        groups: Option<&[String]>,
    ) -> Result<Vec<Split>, DataError> {
        match groups {
            Some(g) => {
                set.split_by_group(g, self.validation, self.test, &self.test_groups, self.seed)
            }
            None => set.split(self.validation, self.test, self.seed),
        }
    }
}

impl Default for SplitRecord {
    /// `train classification`'s defaults.
    fn default() -> Self {
        SplitRecord {
            data: PathBuf::new(),
            validation: 0.15,
            test: 0.15,
            seed: 0,
            group_by: None,
            group_pattern: None,
            test_groups: Vec::new(),
        }
    }
}

impl ClassesRecord {
    /// The record of a run trained with `pre` on `split`.
    pub(super) fn new(pre: &Preprocess, split: SplitRecord) -> ClassesRecord {
        let kinds = pre
            .features
            .kinds
            .iter()
            .map(|k| KindRecord {
                kind: k.name().into(),
                n: k.size(),
            })
            .collect();
        ClassesRecord {
            classes: pre.classes.clone(),
            features: FeaturesRecord {
                kinds: Some(kinds),
                kind: None,
                n: None,
                deltas: pre.features.deltas,
                sample_rate: pre.features.sample_rate,
                n_fft: pre.features.n_fft,
                hop_length: pre.features.hop_length,
            },
            maxlen: pre.maxlen,
            padding: pre.padding,
            truncating: pre.truncating,
            mean: pre.standardiser.mean.clone(),
            std: pre.standardiser.std.clone(),
            normalisation: match pre.normalisation {
                Normalisation::Global => None,
                other => Some(other.name().into()),
            },
            split,
        }
    }

    /// The preprocessing the run was trained with.
    ///
    /// # Errors
    /// A feature soundcheck does not compute (an unknown name, or a size its kind cannot have),
    /// or no feature at all; the message names the field.
    pub(super) fn preprocess(&self) -> Result<Preprocess, String> {
        let f = &self.features;
        let kinds = match (&f.kinds, &f.kind, f.n) {
            (Some(kinds), _, _) => kinds.iter().map(KindRecord::feature).collect(),
            (None, Some(kind), Some(n)) => KindRecord {
                kind: kind.clone(),
                n,
            }
            .feature()
            .map(|k| vec![k]),
            _ => Err("missing field `features.kinds`".into()),
        }?;
        Ok(Preprocess {
            classes: self.classes.clone(),
            features: ClipFeatures {
                sample_rate: f.sample_rate,
                kinds,
                deltas: f.deltas,
                n_fft: f.n_fft,
                hop_length: f.hop_length,
            },
            maxlen: self.maxlen,
            padding: self.padding,
            truncating: self.truncating,
            normalisation: match self.normalisation.as_deref() {
                None => Normalisation::Global,
                Some(name) => Normalisation::parse(name)
                    .map_err(|_| format!("normalisation: '{name}' is not global or per-clip"))?,
            },
            standardiser: Standardiser {
                mean: self.mean.clone(),
                std: self.std.clone(),
            },
        })
    }
}

impl KindRecord {
    fn feature(&self) -> Result<ClipFeature, String> {
        ClipFeature::parse(&self.kind, self.n, self.n)
            .ok()
            .filter(|k| k.size() == self.n)
            .ok_or_else(|| {
                format!(
                    "features: '{}' of {} values is not a feature soundcheck computes",
                    self.kind, self.n
                )
            })
    }
}

/// [`Side`] as the record spells it: `pre` or `post`.
mod side {
    use serde::de::Error;
    use serde::{Deserialize, Deserializer, Serializer};
    use soundcheck_data::Side;

    pub(super) fn serialize<S: Serializer>(side: &Side, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(match side {
            Side::Pre => "pre",
            Side::Post => "post",
        })
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Side, D::Error> {
        match String::deserialize(d)?.as_str() {
            "pre" => Ok(Side::Pre),
            "post" => Ok(Side::Post),
            other => Err(D::Error::unknown_variant(other, &["pre", "post"])),
        }
    }
}

/// The record as `classify` reads it back from the file's text.
#[cfg(test)]
pub(super) fn reread(p: &Preprocess) -> Preprocess {
    let text = serde_json::to_string(&ClassesRecord::new(p, SplitRecord::default())).unwrap();
    serde_json::from_str::<ClassesRecord>(&text)
        .unwrap()
        .preprocess()
        .unwrap()
}

#[cfg(test)]
mod tests {
    use super::*;
    use soundcheck_audio::FeatureKind;

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
            normalisation: Normalisation::PerClip,
            standardiser: Standardiser {
                mean: vec![0.0],
                std: vec![1.0],
            },
        };
        assert_eq!(reread(&p), p);
        // A record from before stacked features, and before the split was recorded.
        let old = r#"{"classes":["a"],"features":{"kind":"logmel","n":64,"deltas":false,
            "sample_rate":22050,"n_fft":2048,"hop_length":512},"maxlen":4,"padding":"pre",
            "truncating":"pre","mean":[0.0],"std":[1.0]}"#;
        let read: ClassesRecord = serde_json::from_str(old).unwrap();
        assert_eq!(
            read.preprocess().unwrap().features.kinds,
            vec![ClipFeature::log_mel(64)]
        );
        assert_eq!(read.split, SplitRecord::default());
    }

    #[test]
    fn the_record_is_written_as_it_always_was() {
        let p = Preprocess {
            classes: vec!["dog".into(), "siren".into()],
            features: ClipFeatures::default(),
            maxlen: 5,
            padding: Side::Post,
            truncating: Side::Pre,
            normalisation: Normalisation::Global,
            standardiser: Standardiser {
                mean: vec![0.5],
                std: vec![2.0],
            },
        };
        let split = SplitRecord {
            data: "data".into(),
            validation: 0.2,
            test: 0.1,
            seed: 7,
            ..SplitRecord::default()
        };
        assert_eq!(
            serde_json::to_string(&ClassesRecord::new(&p, split)).unwrap(),
            concat!(
                r#"{"classes":["dog","siren"],"features":{"kinds":[{"kind":"mfcc","n":13}],"#,
                r#""deltas":false,"sample_rate":22050,"n_fft":2048,"hop_length":512},"maxlen":5,"#,
                r#""padding":"post","truncating":"pre","mean":[0.5],"std":[2.0],"#,
                r#""split":{"data":"data","validation":0.2,"test":0.1,"seed":7}}"#
            )
        );
    }

    #[test]
    fn a_damaged_record_names_its_field() {
        let e = serde_json::from_str::<ClassesRecord>(r#"{"classes":["a"]}"#)
            .unwrap_err()
            .to_string();
        assert!(e.contains("missing field `features`"), "{e}");
        let e = serde_json::from_str::<ClassesRecord>(
            r#"{"classes":[],"features":{"deltas":false,"sample_rate":1,"n_fft":2,"hop_length":1},
            "maxlen":1,"padding":"middle","truncating":"pre","mean":[],"std":[]}"#,
        )
        .unwrap_err()
        .to_string();
        assert!(
            e.contains("unknown variant `middle`, expected `pre` or `post`"),
            "{e}"
        );
        let no_kinds: ClassesRecord = serde_json::from_str(
            r#"{"classes":[],"features":{"deltas":false,"sample_rate":1,"n_fft":2,"hop_length":1},
            "maxlen":1,"padding":"pre","truncating":"pre","mean":[],"std":[]}"#,
        )
        .unwrap();
        assert_eq!(
            no_kinds.preprocess().unwrap_err(),
            "missing field `features.kinds`"
        );
        let mut odd = no_kinds;
        odd.features.kinds = Some(vec![KindRecord {
            kind: "chroma".into(),
            n: 5,
        }]);
        assert_eq!(
            odd.preprocess().unwrap_err(),
            "features: 'chroma' of 5 values is not a feature soundcheck computes"
        );
    }
}
