//! A clip's features for a sequence classifier, time-major: MFCCs with librosa's defaults
//! (optionally with their first and second deltas), or a log-mel spectrogram.

use std::path::Path;

use rayon::prelude::*;
use soundcheck_audio::{
    delta, load, melspectrogram, mfcc, power_to_db, LoadOptions, MelConfig, MelFilterbank, Ref,
    StftConfig,
};

use crate::error::{DataError, Result};
use crate::sequence::Sequence;

/// The per-frame features of a clip.
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
}

/// Feature settings, librosa's defaults (`librosa.load` at 22050 Hz mono, n_fft 2048, hop 512,
/// 128 mel bands under the MFCCs).
#[derive(Clone, Debug, PartialEq)]
pub struct ClipFeatures {
    /// Clips are loaded at this rate (librosa's default 22050 Hz).
    pub sample_rate: u32,
    /// What each frame holds.
    pub kind: FeatureKind,
    /// Append Δ and ΔΔ (librosa.feature.delta, width 9).
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
            kind: FeatureKind::Mfcc { n_mfcc: 13 },
            deltas: false,
            n_fft: 2048,
            hop_length: 512,
        }
    }
}

impl ClipFeatures {
    /// Values per frame.
    pub fn features(&self) -> usize {
        let base = match self.kind {
            FeatureKind::Mfcc { n_mfcc } => n_mfcc,
            FeatureKind::LogMel { n_mels } => n_mels,
        };
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
            match self.kind {
                FeatureKind::Mfcc { n_mfcc } => format!("mfcc n_mfcc={n_mfcc}"),
                FeatureKind::LogMel { n_mels } => format!("logmel n_mels={n_mels}"),
            },
            self.deltas,
            self.n_fft,
            self.hop_length
        )
    }

    /// Checks the settings before any clip is read, so that a bad one is named once, as a
    /// setting, rather than as every clip's failure.
    ///
    /// # Errors
    /// The parameter librosa would refuse: the FFT size, the hop, the rate, the mel or MFCC
    /// count.
    pub fn validate(&self) -> Result<()> {
        let stft = StftConfig {
            n_fft: self.n_fft,
            hop_length: Some(self.hop_length),
            ..Default::default()
        };
        stft.validate()?;
        if self.sample_rate == 0 {
            return Err(soundcheck_audio::AudioError::InvalidParameter {
                name: "sr",
                actual: "0".into(),
                expected: "a positive rate in Hz".into(),
                hint: "librosa's default is 22050".into(),
            }
            .into());
        }
        let mel = match self.kind {
            FeatureKind::Mfcc { .. } => MelConfig::default(),
            FeatureKind::LogMel { n_mels } => MelConfig {
                n_mels,
                ..Default::default()
            },
        };
        MelFilterbank::new(self.sample_rate, self.n_fft, &mel)?;
        if let FeatureKind::Mfcc { n_mfcc } = self.kind {
            if n_mfcc == 0 || n_mfcc > mel.n_mels {
                return Err(soundcheck_audio::AudioError::InvalidParameter {
                    name: "n_mfcc",
                    actual: n_mfcc.to_string(),
                    expected: format!("1 ≤ n_mfcc ≤ n_mels = {}", mel.n_mels),
                    hint: "librosa's default is 20".into(),
                }
                .into());
            }
        }
        Ok(())
    }

    /// The features of one clip.
    ///
    /// # Shapes
    /// - output: `(frames, features)`, frames = 1 + len / hop (librosa's centred framing)
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
        let stft = StftConfig {
            n_fft: self.n_fft,
            hop_length: Some(self.hop_length),
            ..Default::default()
        };
        let clip = |source: soundcheck_audio::AudioError| DataError::Clip {
            path: path.to_path_buf(),
            source,
        };
        let m = match self.kind {
            FeatureKind::Mfcc { n_mfcc } => mfcc(
                audio.mono(),
                self.sample_rate,
                &stft,
                &MelConfig::default(),
                n_mfcc,
                0.0,
            ),
            FeatureKind::LogMel { n_mels } => melspectrogram(
                audio.mono(),
                self.sample_rate,
                &stft,
                &MelConfig {
                    n_mels,
                    ..Default::default()
                },
            )
            .and_then(|s| power_to_db(&s, Ref::Value(1.0), 1e-10, Some(80.0))),
        }
        .map_err(clip)?;
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
