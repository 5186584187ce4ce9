//! The settings every kind is computed with, librosa's defaults in one place.

use ndarray::Array2;

use super::FeatureKind;
use crate::error::{invalid, Result};
use crate::{ChromaConfig, ContrastConfig, CqtConfig, Descriptor, MelConfig, MelFilterbank};
use crate::{OnsetConfig, StftConfig};

/// How a [`FeatureKind`] is computed: librosa's parameters, with its defaults.
#[derive(Clone, Debug, PartialEq)]
pub struct FeatureConfig {
    /// The STFT every frame-wise kind is framed by (its `n_fft` is also the frame length of
    /// `rms` and `zero_crossing_rate`, its hop the CQT's).
    pub stft: StftConfig,
    /// The mel bands under `melspectrogram`, `mfcc` and `onset_strength`.
    pub mel: MelConfig,
    /// Exponent of the magnitude under the mel filterbank (2: power; 1: magnitude).
    pub power: f32,
    /// MFCCs per frame (20).
    pub n_mfcc: usize,
    /// MFCC liftering (0: none).
    pub lifter: f32,
    /// Magnitude, power and mel in decibels: `amplitude_to_db` / `power_to_db` with ref 1.0 and
    /// librosa's `amin`, one floor `top_db` below the loudest value of every channel.
    pub db: bool,
    /// The dB floor's distance below the peak (80).
    pub top_db: f32,
    /// `chroma_stft`'s and `chroma_cqt`'s deviation from A440 in fractions of a chroma bin
    /// (librosa's `tuning`); `None` estimates it from the signal, as librosa does.
    pub tuning: Option<f64>,
}

impl Default for FeatureConfig {
    fn default() -> Self {
        FeatureConfig {
            stft: StftConfig::default(),
            mel: MelConfig::default(),
            power: 2.0,
            n_mfcc: 20,
            lifter: 0.0,
            db: false,
            top_db: 80.0,
            tuning: None,
        }
    }
}

/// librosa's `amin` of `power_to_db` and of `amplitude_to_db`.
pub(crate) const POWER_AMIN: f32 = 1e-10;
pub(crate) const AMPLITUDE_AMIN: f32 = 1e-5;

impl FeatureConfig {
    /// The spectral descriptor a kind is, with librosa's defaults.
    pub(crate) fn descriptor(kind: FeatureKind) -> Option<Descriptor> {
        Some(match kind {
            FeatureKind::SpectralCentroid => Descriptor::Centroid,
            FeatureKind::SpectralBandwidth => Descriptor::Bandwidth { p: 2.0 },
            FeatureKind::SpectralRolloff => Descriptor::Rolloff { roll_percent: 0.85 },
            FeatureKind::SpectralFlatness => Descriptor::Flatness {
                power: 2.0,
                amin: 1e-10,
            },
            _ => return None,
        })
    }

    /// The constant-Q transform of the `cqt` kind: librosa's defaults at the STFT's hop.
    pub(crate) fn cqt(&self) -> CqtConfig {
        CqtConfig {
            hop_length: self.stft.hop(),
            ..Default::default()
        }
    }

    /// The transform under `chroma_cqt` and `tonnetz`. Its frames are the STFT's
    /// (1 + len / hop): its top octave runs at the hop.
    pub(crate) fn chroma_cqt(&self) -> CqtConfig {
        CqtConfig::for_chroma(self.stft.hop())
    }

    /// `onset_strength`'s settings, centred as the STFT is.
    pub(crate) fn onset(&self) -> OnsetConfig {
        OnsetConfig {
            center: self.stft.center,
            ..OnsetConfig::default()
        }
    }

    /// Values per frame of `kind` (per sample for the waveform).
    pub fn rows(&self, kind: FeatureKind) -> usize {
        match kind {
            FeatureKind::Stft | FeatureKind::Magnitude | FeatureKind::Power => self.stft.n_freq(),
            FeatureKind::Mel => self.mel.n_mels,
            FeatureKind::Mfcc => self.n_mfcc,
            FeatureKind::ChromaStft => ChromaConfig::default().n_chroma,
            FeatureKind::SpectralContrast => ContrastConfig::default().n_bands + 1,
            FeatureKind::Cqt => self.cqt().n_bins,
            FeatureKind::ChromaCqt => 12,
            FeatureKind::Tonnetz => 6,
            FeatureKind::Waveform
            | FeatureKind::Rms
            | FeatureKind::ZeroCrossingRate
            | FeatureKind::SpectralCentroid
            | FeatureKind::SpectralBandwidth
            | FeatureKind::SpectralRolloff
            | FeatureKind::SpectralFlatness
            | FeatureKind::OnsetStrength => 1,
        }
    }

    /// Checks that `kind` can be computed at `sr` with these settings before any signal is
    /// read, so that a bad setting is named once rather than as every file's failure.
    ///
    /// # Errors
    /// The parameter librosa would refuse: the FFT size, the hop, the rate, the mel or MFCC
    /// count, CQT or contrast bands above Nyquist.
    pub fn check(&self, kind: FeatureKind, sr: u32) -> Result<()> {
        self.stft.validate()?;
        if let Some(t) = self.tuning.filter(|t| !t.is_finite()) {
            return Err(invalid(
                "tuning",
                t,
                "a finite deviation in fractions of a chroma bin, e.g. -0.1",
                "leave it unset to estimate it from the signal, as librosa does",
            ));
        }
        if sr == 0 {
            return Err(invalid(
                "sr",
                0,
                "a positive rate in Hz",
                "librosa's default is 22050",
            ));
        }
        match kind {
            FeatureKind::Mel | FeatureKind::Mfcc | FeatureKind::OnsetStrength => {
                MelFilterbank::new(sr, self.stft.n_fft, &self.mel)?;
            }
            _ => {}
        }
        match kind {
            FeatureKind::Mfcc if self.n_mfcc == 0 || self.n_mfcc > self.mel.n_mels => Err(invalid(
                "n_mfcc",
                self.n_mfcc,
                format!("1 ≤ n_mfcc ≤ n_mels = {}", self.mel.n_mels),
                "librosa's default is 20",
            )),
            FeatureKind::Cqt => self.cqt().check(sr),
            FeatureKind::ChromaCqt | FeatureKind::Tonnetz => self.chroma_cqt().check(sr),
            FeatureKind::SpectralContrast => {
                // The band layout is checked on one silent frame.
                let silent = Array2::zeros((self.stft.n_freq(), 1));
                crate::spectral_contrast_from_spectrogram(
                    &[silent],
                    sr,
                    self.stft.n_fft,
                    &ContrastConfig::default(),
                )
                .map(drop)
            }
            _ => Ok(()),
        }
    }
}
