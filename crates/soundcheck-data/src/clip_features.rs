//! A clip's features for a sequence classifier, time-major: MFCCs with librosa's defaults, a
//! log-mel spectrogram, chroma, spectral contrast and the one-value descriptors, stacked frame by
//! frame in the order asked (the common `np.vstack([mfcc, chroma, contrast, ...]).T` recipe),
//! optionally with their first and second deltas.

use std::path::Path;

use ndarray::{concatenate, Array2, Axis};
use rayon::prelude::*;
use soundcheck_audio::{
    self as audio, delta, load, AudioError, ChromaConfig, ContrastConfig, Descriptor, LoadOptions,
    MelConfig, MelFilterbank, Ref, StftConfig,
};

use crate::error::{DataError, Result};
use crate::sequence::Sequence;

/// One kind of per-frame feature of a clip, with librosa's defaults.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum FeatureKind {
    /// MFCCs (librosa's `feature.mfcc`).
    Mfcc {
        /// Coefficients per frame.
        n_mfcc: usize,
    },
    /// `power_to_db(melspectrogram)` with librosa's dB defaults.
    LogMel {
        /// Mel bands per frame.
        n_mels: usize,
    },
    /// `feature.chroma_stft`: 12 pitch classes, tuning estimated per clip.
    Chroma,
    /// `feature.spectral_contrast`: 7 octave bands.
    Contrast,
    /// `feature.rms` over frames of `n_fft` samples.
    Rms,
    /// `feature.zero_crossing_rate` over frames of `n_fft` samples.
    ZeroCrossingRate,
    /// `feature.spectral_centroid`, Hz.
    Centroid,
    /// `feature.spectral_bandwidth`, Hz.
    Bandwidth,
    /// `feature.spectral_rolloff`, Hz.
    Rolloff,
    /// `feature.spectral_flatness`.
    Flatness,
    /// `feature.chroma_cqt`: 12 pitch classes from a 7-octave, 36-bins-per-octave CQT, tuning
    /// estimated per clip.
    ChromaCqt,
    /// `feature.tonnetz`: 6 tonal centroids of the clip's chroma_cqt.
    Tonnetz,
}

/// The names `--features` takes, with librosa's spelling accepted too.
const NAMES: &[(&str, &[&str])] = &[
    ("mfcc", &[]),
    ("mel", &["logmel", "log_mel", "melspectrogram"]),
    ("chroma", &["chroma_stft"]),
    ("contrast", &["spectral_contrast"]),
    ("rms", &[]),
    ("zcr", &["zero_crossing_rate"]),
    ("centroid", &["spectral_centroid"]),
    ("bandwidth", &["spectral_bandwidth"]),
    ("rolloff", &["spectral_rolloff"]),
    ("flatness", &["spectral_flatness"]),
    ("chroma_cqt", &[]),
    ("tonnetz", &[]),
];

impl FeatureKind {
    /// Parses a feature name (`mfcc`, `mel`, `chroma`, `contrast`, `rms`, `zcr`, `centroid`,
    /// `bandwidth`, `rolloff`, `flatness`, `chroma_cqt`, `tonnetz`, or librosa's function name); MFCCs and mel bands take
    /// their counts from `n_mfcc` and `n_mels`.
    ///
    /// # Errors
    /// An unknown name, with the list.
    pub fn parse(name: &str, n_mfcc: usize, n_mels: usize) -> Result<FeatureKind> {
        let key = name.trim().to_lowercase().replace('-', "_");
        let canonical = NAMES
            .iter()
            .find(|(n, aliases)| *n == key || aliases.contains(&key.as_str()))
            .map(|(n, _)| *n);
        Ok(match canonical {
            Some("mfcc") => FeatureKind::Mfcc { n_mfcc },
            Some("mel") => FeatureKind::LogMel { n_mels },
            Some("chroma") => FeatureKind::Chroma,
            Some("contrast") => FeatureKind::Contrast,
            Some("rms") => FeatureKind::Rms,
            Some("zcr") => FeatureKind::ZeroCrossingRate,
            Some("centroid") => FeatureKind::Centroid,
            Some("bandwidth") => FeatureKind::Bandwidth,
            Some("rolloff") => FeatureKind::Rolloff,
            Some("flatness") => FeatureKind::Flatness,
            Some("chroma_cqt") => FeatureKind::ChromaCqt,
            Some("tonnetz") => FeatureKind::Tonnetz,
            _ => {
                return Err(DataError::Mismatch {
                    what: format!("feature '{name}'"),
                    expected: format!(
                        "one of {}",
                        NAMES.iter().map(|(n, _)| *n).collect::<Vec<_>>().join(", ")
                    ),
                    actual: format!("'{name}'"),
                    hint: "list them with commas, e.g. --features mfcc,chroma,contrast".into(),
                })
            }
        })
    }

    /// The short name, as `--features` and a run's record spell it.
    pub fn name(self) -> &'static str {
        match self {
            FeatureKind::Mfcc { .. } => "mfcc",
            FeatureKind::LogMel { .. } => "mel",
            FeatureKind::Chroma => "chroma",
            FeatureKind::Contrast => "contrast",
            FeatureKind::Rms => "rms",
            FeatureKind::ZeroCrossingRate => "zcr",
            FeatureKind::Centroid => "centroid",
            FeatureKind::Bandwidth => "bandwidth",
            FeatureKind::Rolloff => "rolloff",
            FeatureKind::Flatness => "flatness",
            FeatureKind::ChromaCqt => "chroma_cqt",
            FeatureKind::Tonnetz => "tonnetz",
        }
    }

    /// Values per frame.
    pub fn size(self) -> usize {
        match self {
            FeatureKind::Mfcc { n_mfcc } => n_mfcc,
            FeatureKind::LogMel { n_mels } => n_mels,
            FeatureKind::Chroma => ChromaConfig::default().n_chroma,
            FeatureKind::Contrast => ContrastConfig::default().n_bands + 1,
            FeatureKind::ChromaCqt => 12,
            FeatureKind::Tonnetz => 6,
            _ => 1,
        }
    }

    fn mel(self) -> MelConfig {
        match self {
            FeatureKind::LogMel { n_mels } => MelConfig {
                n_mels,
                ..Default::default()
            },
            _ => MelConfig::default(),
        }
    }

    /// `(size, frames)` of one mono clip.
    fn matrix(self, y: &[f32], sr: u32, stft: &StftConfig) -> audio::Result<Array2<f32>> {
        let (n_fft, hop) = (stft.n_fft, stft.hop());
        match self {
            FeatureKind::Mfcc { n_mfcc } => audio::mfcc(y, sr, stft, &self.mel(), n_mfcc, 0.0),
            FeatureKind::LogMel { .. } => audio::melspectrogram(y, sr, stft, &self.mel())
                .and_then(|s| audio::power_to_db(&s, Ref::Value(1.0), 1e-10, Some(80.0))),
            FeatureKind::Chroma => {
                let power = [audio::power_spectrogram(y, stft)?];
                audio::chroma_stft_channels(&power, sr, n_fft, &ChromaConfig::default())
                    .map(|mut v| v.remove(0))
            }
            FeatureKind::Contrast => {
                audio::spectral_contrast_of_signals(&[y], sr, stft, &ContrastConfig::default())
                    .map(|mut v| v.remove(0))
            }
            FeatureKind::Rms => audio::rms(y, n_fft, hop, true),
            FeatureKind::ZeroCrossingRate => audio::zero_crossing_rate(y, n_fft, hop, true),
            FeatureKind::Centroid => Descriptor::Centroid.of_signal(y, sr, stft),
            FeatureKind::Bandwidth => Descriptor::Bandwidth { p: 2.0 }.of_signal(y, sr, stft),
            FeatureKind::Rolloff => {
                Descriptor::Rolloff { roll_percent: 0.85 }.of_signal(y, sr, stft)
            }
            FeatureKind::Flatness => Descriptor::Flatness {
                power: 2.0,
                amin: 1e-10,
            }
            .of_signal(y, sr, stft),
            // The CQT's frames are the STFT's (1 + len / hop): its top octave runs at the hop.
            FeatureKind::ChromaCqt => {
                audio::chroma_cqt_channels(&[y], sr, &audio::CqtConfig::for_chroma(hop), None, 12)
                    .map(|mut v| v.remove(0))
            }
            FeatureKind::Tonnetz => {
                audio::chroma_cqt_channels(&[y], sr, &audio::CqtConfig::for_chroma(hop), None, 12)
                    .map(|v| audio::tonnetz(&v[0]))
            }
        }
    }

    fn describe(self) -> String {
        match self {
            FeatureKind::Mfcc { n_mfcc } => format!("mfcc n_mfcc={n_mfcc}"),
            FeatureKind::LogMel { n_mels } => format!("logmel n_mels={n_mels}"),
            other => other.name().to_string(),
        }
    }
}

/// Feature settings, librosa's defaults (`librosa.load` at 22050 Hz mono, n_fft 2048, hop 512,
/// 128 mel bands under the MFCCs).
#[derive(Clone, Debug, PartialEq)]
pub struct ClipFeatures {
    /// Clips are loaded at this rate (librosa's default 22050 Hz).
    pub sample_rate: u32,
    /// What each frame holds, stacked in this order.
    pub kinds: Vec<FeatureKind>,
    /// Append Δ and ΔΔ of the whole stack (librosa.feature.delta, width 9).
    pub deltas: bool,
    /// FFT size of the STFT.
    pub n_fft: usize,
    /// Hop between frames in samples.
    pub hop_length: usize,
}

impl Default for ClipFeatures {
    fn default() -> Self {
        ClipFeatures {
            sample_rate: 22050,
            kinds: vec![FeatureKind::Mfcc { n_mfcc: 13 }],
            deltas: false,
            n_fft: 2048,
            hop_length: 512,
        }
    }
}

impl ClipFeatures {
    /// Values per frame.
    pub fn features(&self) -> usize {
        let base: usize = self.kinds.iter().map(|k| k.size()).sum();
        if self.deltas {
            3 * base
        } else {
            base
        }
    }

    /// One line naming every setting (for the run's record and cache keys).
    pub fn describe(&self) -> String {
        format!(
            "sr={} {} deltas={} n_fft={} hop={}",
            self.sample_rate,
            self.kinds
                .iter()
                .map(|k| k.describe())
                .collect::<Vec<_>>()
                .join("+"),
            self.deltas,
            self.n_fft,
            self.hop_length
        )
    }

    fn stft(&self) -> StftConfig {
        StftConfig {
            n_fft: self.n_fft,
            hop_length: Some(self.hop_length),
            ..Default::default()
        }
    }

    /// Checks the settings before any clip is read, so that a bad one is named once, as a
    /// setting, rather than as every clip's failure.
    ///
    /// # Errors
    /// The parameter librosa would refuse: the FFT size, the hop, the rate, the mel or MFCC
    /// count, contrast bands above Nyquist; no feature, or one listed twice.
    pub fn validate(&self) -> Result<()> {
        self.stft().validate()?;
        if self.sample_rate == 0 {
            return Err(AudioError::InvalidParameter {
                name: "sr",
                actual: "0".into(),
                expected: "a positive rate in Hz".into(),
                hint: "librosa's default is 22050".into(),
            }
            .into());
        }
        if self.kinds.is_empty() {
            return Err(DataError::Mismatch {
                what: "the features".into(),
                expected: "at least one feature".into(),
                actual: "none".into(),
                hint: "e.g. --features mfcc".into(),
            });
        }
        for (i, k) in self.kinds.iter().enumerate() {
            if self.kinds[..i].iter().any(|o| o.name() == k.name()) {
                return Err(DataError::Mismatch {
                    what: "the features".into(),
                    expected: "each feature once".into(),
                    actual: format!("'{}' twice", k.name()),
                    hint: "remove the repeat from --features".into(),
                });
            }
            let mel = k.mel();
            MelFilterbank::new(self.sample_rate, self.n_fft, &mel)?;
            match *k {
                FeatureKind::Mfcc { n_mfcc } if n_mfcc == 0 || n_mfcc > mel.n_mels => {
                    return Err(AudioError::InvalidParameter {
                        name: "n_mfcc",
                        actual: n_mfcc.to_string(),
                        expected: format!("1 ≤ n_mfcc ≤ n_mels = {}", mel.n_mels),
                        hint: "librosa's default is 20".into(),
                    }
                    .into());
                }
                FeatureKind::ChromaCqt | FeatureKind::Tonnetz => {
                    audio::CqtConfig::for_chroma(self.hop_length).check(self.sample_rate)?;
                }
                FeatureKind::Contrast => {
                    // The band layout is checked on one silent frame.
                    let silent = Array2::zeros((self.n_fft / 2 + 1, 1));
                    audio::spectral_contrast(
                        &silent,
                        self.sample_rate,
                        self.n_fft,
                        &ContrastConfig::default(),
                    )?;
                }
                _ => {}
            }
        }
        Ok(())
    }

    /// The features of one clip.
    ///
    /// # Shapes
    /// - output: `(frames, features)`, frames = 1 + len / hop (librosa's centred framing), each
    ///   frame the kinds' values in order, then their deltas
    ///
    /// # Errors
    /// An unreadable file (named), or a clip too short for the delta window.
    pub fn extract(&self, path: &Path) -> Result<Sequence> {
        let audio = load(
            path,
            &LoadOptions {
                sr: Some(self.sample_rate),
                ..Default::default()
            },
        )?;
        let stft = self.stft();
        let clip = |source: AudioError| DataError::Clip {
            path: path.to_path_buf(),
            source,
        };
        let rows = self
            .kinds
            .iter()
            .map(|k| k.matrix(audio.mono(), self.sample_rate, &stft))
            .collect::<audio::Result<Vec<_>>>()
            .map_err(clip)?;
        let views: Vec<_> = rows.iter().map(Array2::view).collect();
        let m = concatenate(Axis(0), &views).map_err(|e| DataError::Mismatch {
            what: format!("{}: the features' frame counts", path.display()),
            expected: "one frame count for every feature".into(),
            actual: e.to_string(),
            hint: "report this: every feature frames the clip with the same n_fft and hop".into(),
        })?;
        let mut parts = vec![m];
        if self.deltas {
            let d1 = delta(&parts[0], 9, 1).map_err(clip)?;
            let d2 = delta(&parts[0], 9, 2).map_err(clip)?;
            parts.extend([d1, d2]);
        }
        let frames = parts[0].ncols();
        let features = self.features();
        let mut data = Vec::with_capacity(frames * features);
        for t in 0..frames {
            for p in &parts {
                data.extend(p.column(t).iter());
            }
        }
        Ok(Sequence {
            frames,
            features,
            data,
        })
    }

    /// Features of many clips in parallel; `tick` is called after each. Every unreadable clip
    /// is reported, not only the first.
    ///
    /// # Errors
    /// One error naming each clip that failed.
    pub fn extract_all(&self, paths: &[&Path], tick: &(dyn Fn() + Sync)) -> Result<Vec<Sequence>> {
        let results: Vec<Result<Sequence>> = paths
            .par_iter()
            .map(|p| {
                let r = self.extract(p);
                tick();
                r
            })
            .collect();
        let failed: Vec<String> = results
            .iter()
            .filter_map(|r| r.as_ref().err().map(ToString::to_string))
            .collect();
        if !failed.is_empty() {
            return Err(DataError::Mismatch {
                what: format!("{} of {} clips", failed.len(), paths.len()),
                expected: "readable audio".into(),
                actual: failed.join("\n  "),
                hint: "remove or replace these files".into(),
            });
        }
        Ok(results.into_iter().map(|r| r.expect("checked")).collect())
    }
}
