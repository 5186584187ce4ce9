//! What a feature is: its names (soundcheck's short one, librosa's) and what its output holds.

use std::str::FromStr;

use crate::error::{invalid, AudioError, Result};

/// One kind of feature of a signal, each with librosa's defaults (see
/// [`FeatureConfig`](super::FeatureConfig)).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum FeatureKind {
    /// The samples themselves: `(1, n)` per channel.
    Waveform,
    /// The complex STFT.
    Stft,
    /// `|STFT|`.
    Magnitude,
    /// `|STFT|²`.
    Power,
    /// `feature.melspectrogram`.
    Mel,
    /// `feature.mfcc`.
    Mfcc,
    /// `feature.rms` over frames of `n_fft` samples.
    Rms,
    /// `feature.zero_crossing_rate` over frames of `n_fft` samples.
    ZeroCrossingRate,
    /// `feature.spectral_centroid`, Hz.
    SpectralCentroid,
    /// `feature.spectral_bandwidth` (p = 2), Hz.
    SpectralBandwidth,
    /// `feature.spectral_rolloff` (85 %), Hz.
    SpectralRolloff,
    /// `feature.spectral_flatness`.
    SpectralFlatness,
    /// `feature.chroma_stft`, the tuning estimated.
    ChromaStft,
    /// `feature.spectral_contrast`: 6 octave bands and the band below.
    SpectralContrast,
    /// `onset.onset_strength`: one value per frame, no feature axis.
    OnsetStrength,
    /// `cqt`, complex: 84 bins from C1.
    Cqt,
    /// `feature.chroma_cqt`, the tuning estimated.
    ChromaCqt,
    /// `feature.tonnetz` of the chroma_cqt.
    Tonnetz,
}

impl FeatureKind {
    /// Every kind.
    pub const ALL: [FeatureKind; 18] = [
        FeatureKind::Waveform,
        FeatureKind::Stft,
        FeatureKind::Magnitude,
        FeatureKind::Power,
        FeatureKind::Mel,
        FeatureKind::Mfcc,
        FeatureKind::Rms,
        FeatureKind::ZeroCrossingRate,
        FeatureKind::SpectralCentroid,
        FeatureKind::SpectralBandwidth,
        FeatureKind::SpectralRolloff,
        FeatureKind::SpectralFlatness,
        FeatureKind::ChromaStft,
        FeatureKind::SpectralContrast,
        FeatureKind::OnsetStrength,
        FeatureKind::Cqt,
        FeatureKind::ChromaCqt,
        FeatureKind::Tonnetz,
    ];

    /// The short name soundcheck writes in its records.
    pub fn name(self) -> &'static str {
        match self {
            FeatureKind::Mel => "mel",
            FeatureKind::ZeroCrossingRate => "zcr",
            FeatureKind::SpectralCentroid => "centroid",
            FeatureKind::SpectralBandwidth => "bandwidth",
            FeatureKind::SpectralRolloff => "rolloff",
            FeatureKind::SpectralFlatness => "flatness",
            FeatureKind::ChromaStft => "chroma",
            FeatureKind::SpectralContrast => "contrast",
            other => other.librosa_name(),
        }
    }

    /// The name of librosa's function (`feature.*`, `onset.*` or the top level); the kinds
    /// librosa has no function for are named by what they hold.
    pub fn librosa_name(self) -> &'static str {
        match self {
            FeatureKind::Waveform => "waveform",
            FeatureKind::Stft => "stft",
            FeatureKind::Magnitude => "magnitude",
            FeatureKind::Power => "power",
            FeatureKind::Mel => "melspectrogram",
            FeatureKind::Mfcc => "mfcc",
            FeatureKind::Rms => "rms",
            FeatureKind::ZeroCrossingRate => "zero_crossing_rate",
            FeatureKind::SpectralCentroid => "spectral_centroid",
            FeatureKind::SpectralBandwidth => "spectral_bandwidth",
            FeatureKind::SpectralRolloff => "spectral_rolloff",
            FeatureKind::SpectralFlatness => "spectral_flatness",
            FeatureKind::ChromaStft => "chroma_stft",
            FeatureKind::SpectralContrast => "spectral_contrast",
            FeatureKind::OnsetStrength => "onset_strength",
            FeatureKind::Cqt => "cqt",
            FeatureKind::ChromaCqt => "chroma_cqt",
            FeatureKind::Tonnetz => "tonnetz",
        }
    }

    /// The kind among `kinds` that `name` spells: its short name or librosa's, in any case,
    /// with `-` for `_`.
    ///
    /// # Errors
    /// No kind of `kinds` has that name: the error lists their short names.
    pub fn parse(name: &str, kinds: &[FeatureKind]) -> Result<FeatureKind> {
        let key = name.trim().to_lowercase().replace('-', "_");
        kinds
            .iter()
            .copied()
            .find(|k| k.name() == key || k.librosa_name() == key)
            .ok_or_else(|| {
                let names: Vec<&str> = kinds.iter().map(|k| k.name()).collect();
                invalid(
                    "feature",
                    format!("'{name}'"),
                    format!("one of {}", names.join(", ")),
                    "librosa's function names work too",
                )
            })
    }

    /// Complex values (the STFT and the CQT); every other kind is real.
    pub fn is_complex(self) -> bool {
        matches!(self, FeatureKind::Stft | FeatureKind::Cqt)
    }

    /// A (bins × frames) spectrogram a picture can show.
    pub fn is_spectrogram(self) -> bool {
        matches!(
            self,
            FeatureKind::Stft
                | FeatureKind::Magnitude
                | FeatureKind::Power
                | FeatureKind::Mel
                | FeatureKind::Mfcc
        )
    }

    /// librosa returns one value per sample or frame with no feature axis: `(n,)`, `(frames,)`.
    pub fn is_one_dimensional(self) -> bool {
        matches!(self, FeatureKind::Waveform | FeatureKind::OnsetStrength)
    }
}

impl FromStr for FeatureKind {
    type Err = AudioError;

    /// [`FeatureKind::parse`] among every kind.
    fn from_str(name: &str) -> Result<FeatureKind> {
        FeatureKind::parse(name, &FeatureKind::ALL)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_parses_from_both_its_names_and_its_spellings() {
        for k in FeatureKind::ALL {
            assert_eq!(k.name().parse::<FeatureKind>().unwrap(), k);
            assert_eq!(k.librosa_name().parse::<FeatureKind>().unwrap(), k);
            let kebab = k.librosa_name().to_uppercase().replace('_', "-");
            assert_eq!(kebab.parse::<FeatureKind>().unwrap(), k);
        }
    }

    #[test]
    fn an_unknown_name_is_named_with_the_valid_ones() {
        let among = [FeatureKind::Mfcc, FeatureKind::SpectralContrast];
        let e = FeatureKind::parse("mfc", &among).unwrap_err().to_string();
        assert!(e.contains("feature='mfc' is invalid"), "{e}");
        assert!(e.contains("one of mfcc, contrast"), "{e}");
        assert!(FeatureKind::parse("rms", &among).is_err());
    }
}
