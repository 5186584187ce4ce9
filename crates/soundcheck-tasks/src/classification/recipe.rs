//! What `train classification` does when no model is given: the built-in model and the
//! options it was chosen with, measured leave-one-speaker-out (BENCHMARKS.md, issue 31). A model
//! of the user's keeps the plain defaults, which change nothing about old commands.

use soundcheck_shape::ModelSpec;

use super::augment::Augment;
use super::preprocess::Normalisation;
use super::waveform::WaveAugment;
use crate::fit::FitOptions;

pub use crate::builtin::CLASSIFICATION_MODEL as DEFAULT_MODEL;

/// The preprocessing and training options a model is trained with unless flags say otherwise.
#[derive(Clone, Debug)]
pub struct Recipe {
    /// The rate clips are loaded at; `None`: the lowest rate among the data's clips
    /// ([`lowest_rate`](super::lowest_rate)).
    pub sample_rate: Option<u32>,
    /// FFT size of the features' STFT.
    pub n_fft: usize,
    /// Hop between feature frames in samples.
    pub hop_length: usize,
    /// MFCCs per frame (when the features are MFCCs).
    pub n_mfcc: usize,
    /// Append first and second deltas.
    pub deltas: bool,
    /// Global or per-clip standardisation.
    pub normalisation: Normalisation,
    /// What the training clips draw anew every epoch.
    pub augment: Augment,
    /// The waveform copies of each training clip.
    pub waves: WaveAugment,
    /// Epochs, schedule and the rest.
    pub fit: FitOptions,
}

impl Recipe {
    /// The built-in model's file in the repository, named in runs and help.
    pub const BUILT_IN_NAME: &'static str = "models/mfcc-bn-conv1d.toml";

    /// The options of the built-in model ([`DEFAULT_MODEL`]): clips at the data's own (lowest)
    /// rate with 512-sample windows and a 128-sample hop, 4 copies of each training clip at
    /// speeds 0.9–1.1 with white noise at 10–30 dB SNR, per-clip CMVN, time shifts and
    /// SpecAugment masks, the epochs and schedule that measured best on speakers it never heard.
    pub fn built_in() -> Recipe {
        Recipe {
            sample_rate: None,
            n_fft: 512,
            hop_length: 128,
            n_mfcc: 13,
            deltas: false,
            normalisation: Normalisation::PerClip,
            augment: Augment {
                time_shift: true,
                freq_masks: 2,
                freq_mask_width: 4,
                time_masks: 2,
                time_mask_width: 4,
            },
            waves: WaveAugment {
                copies: WaveAugment::DEFAULT_COPIES,
                speed: Some((0.9, 1.1)),
                noise_snr: Some((10.0, 30.0)),
                ..WaveAugment::default()
            },
            fit: FitOptions {
                epochs: 80,
                schedule: "cosine".into(),
                ..FitOptions::default()
            },
        }
    }

    /// The options for a model of the user's: librosa's MFCCs (22050 Hz, n_fft 2048, hop 512),
    /// global standardisation, no augmentation, 10 epochs at a constant rate, as
    /// `train classification` always had.
    pub fn plain() -> Recipe {
        Recipe {
            sample_rate: Some(22050),
            n_fft: 2048,
            hop_length: 512,
            n_mfcc: 13,
            deltas: false,
            normalisation: Normalisation::Global,
            augment: Augment::default(),
            waves: WaveAugment::default(),
            fit: FitOptions::default(),
        }
    }

    /// The built-in spec for `features` values per frame: its convolutions and global pool take
    /// any width, so other features (`--n-mfcc`, `--deltas`, a stack) need no spec of their own.
    /// Its 10 outputs are set to the data's classes by `fill_classes`.
    ///
    /// # Errors
    /// None in practice: the spec is compiled in and checked by the tests.
    pub fn built_in_model(features: usize) -> crate::Result<ModelSpec> {
        let mut spec = ModelSpec::from_toml_str(DEFAULT_MODEL)?;
        spec.input_shape = Some(vec![None, Some(features)]);
        Ok(spec)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use soundcheck_shape::Model;

    #[test]
    fn the_built_in_model_fits_any_feature_width_and_class_count() {
        for (features, classes) in [(13, 10), (60, 3)] {
            let mut spec = Recipe::built_in_model(features).unwrap();
            super::super::fill_classes(&mut spec, classes);
            let report = Model::from_spec(&spec).unwrap().check();
            assert!(report.error.is_none(), "{:?}", report.error);
            let out = &report.layers.last().unwrap().output_shape;
            assert_eq!(out.last(), Some(classes));
        }
    }
}
