//! A kind computed over a signal's channels: each kind mapped onto the crate's transforms.

use ndarray::Array2;
use realfft::num_complex::Complex32;

use super::config::{AMPLITUDE_AMIN, POWER_AMIN};
use super::{FeatureConfig, FeatureKind};
use crate::db::{amplitude_to_db_channels, power_to_db_channels, Ref};
use crate::error::{invalid, Result};
use crate::{ChromaConfig, ContrastConfig};

/// One `(rows, frames)` matrix per channel (`(1, n)` samples for the waveform).
#[derive(Clone, Debug, PartialEq)]
pub enum Frames {
    /// Every kind but the STFT and the CQT.
    Real(Vec<Array2<f32>>),
    /// The STFT and the CQT.
    Complex(Vec<Array2<Complex32>>),
}

impl Frames {
    /// The real matrices.
    ///
    /// # Errors
    /// A complex kind's (the STFT's, the CQT's).
    pub fn into_real(self) -> Result<Vec<Array2<f32>>> {
        match self {
            Frames::Real(mats) => Ok(mats),
            Frames::Complex(_) => Err(invalid(
                "feature",
                "stft or cqt",
                "a real kind",
                "take the magnitude of a complex transform",
            )),
        }
    }
}

impl FeatureConfig {
    /// `kind` of a signal's channels, as librosa computes it for a `(channels, n)` array: where
    /// librosa's result spans the channels (a dB floor, a tuning estimate), it is set by all of
    /// them together.
    ///
    /// # Shapes
    /// - each channel: `(n,)`, all of one length
    /// - output per channel: `(self.rows(kind), frames)`; `(1, n)` for the waveform
    ///
    /// # Errors
    /// The transform's own (short or non-finite signals, invalid settings); `db` with a kind
    /// other than magnitude, power or mel.
    pub fn compute(&self, kind: FeatureKind, channels: &[&[f32]], sr: u32) -> Result<Frames> {
        let stft = &self.stft;
        let each = |f: &dyn Fn(&[f32]) -> Result<Array2<f32>>| -> Result<Vec<Array2<f32>>> {
            channels.iter().map(|y| f(y)).collect()
        };
        if self.db
            && !matches!(
                kind,
                FeatureKind::Magnitude | FeatureKind::Power | FeatureKind::Mel
            )
        {
            return Err(invalid(
                "db",
                kind.name(),
                "magnitude, power or mel",
                "MFCCs are already log-scaled; the other kinds are not spectrograms",
            ));
        }
        let real = match kind {
            FeatureKind::Stft => {
                let s = channels.iter().map(|y| crate::stft(y, stft));
                return Ok(Frames::Complex(s.collect::<Result<_>>()?));
            }
            FeatureKind::Cqt => {
                let cqt = self.cqt();
                let c = channels.iter().map(|y| crate::cqt(y, sr, &cqt));
                return Ok(Frames::Complex(c.collect::<Result<_>>()?));
            }
            FeatureKind::Waveform => channels
                .iter()
                .map(|y| Array2::from_shape_vec((1, y.len()), y.to_vec()).expect("one row"))
                .collect(),
            FeatureKind::Magnitude => each(&|y| Ok(crate::magnitude(&crate::stft(y, stft)?)))?,
            FeatureKind::Power => each(&|y| Ok(crate::power(&crate::stft(y, stft)?)))?,
            FeatureKind::Mel => {
                each(&|y| crate::melspectrogram(y, sr, stft, &self.mel, self.power))?
            }
            FeatureKind::Mfcc => {
                let mels = each(&|y| crate::melspectrogram(y, sr, stft, &self.mel, self.power))?;
                crate::mfcc::mfcc_of_mels(mels, self.n_mfcc, self.lifter)?
            }
            FeatureKind::Rms => each(&|y| crate::rms(y, stft.n_fft, stft.hop(), stft.center))?,
            FeatureKind::ZeroCrossingRate => {
                each(&|y| crate::zero_crossing_rate(y, stft.n_fft, stft.hop(), stft.center))?
            }
            FeatureKind::SpectralCentroid
            | FeatureKind::SpectralBandwidth
            | FeatureKind::SpectralRolloff
            | FeatureKind::SpectralFlatness => {
                let d = FeatureConfig::descriptor(kind).expect("a descriptor kind");
                each(&|y| d.of_signal(y, sr, stft))?
            }
            FeatureKind::ChromaStft => {
                let cfg = ChromaConfig {
                    tuning: self.tuning,
                    ..ChromaConfig::default()
                };
                crate::chroma_stft(channels, sr, stft, &cfg)?
            }
            FeatureKind::SpectralContrast => {
                crate::spectral_contrast(channels, sr, stft, &ContrastConfig::default())?
            }
            FeatureKind::OnsetStrength => crate::onset_strength(
                channels,
                sr,
                stft.n_fft,
                stft.hop(),
                &self.mel,
                &self.onset(),
            )?
            .into_iter()
            .map(|v| Array2::from_shape_vec((1, v.len()), v).expect("one row"))
            .collect(),
            FeatureKind::ChromaCqt => {
                crate::chroma_cqt(channels, sr, &self.chroma_cqt(), self.tuning, 12)?
            }
            FeatureKind::Tonnetz => crate::tonnetz(channels, sr, &self.chroma_cqt())?,
        };
        Ok(Frames::Real(match (self.db, kind) {
            (false, _) => real,
            (true, FeatureKind::Magnitude) => {
                amplitude_to_db_channels(&real, Ref::Value(1.0), AMPLITUDE_AMIN, Some(self.top_db))?
            }
            (true, _) => {
                power_to_db_channels(real, Ref::Value(1.0), POWER_AMIN, Some(self.top_db))?
            }
        }))
    }
}
