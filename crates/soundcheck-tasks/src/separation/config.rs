//! A separator's settings: the STFT, the patches the network sees, and how a patch is scaled.

use soundcheck_audio::StftConfig;
use soundcheck_shape::{Model, ModelSpec};

/// The seed's settings: 22050 Hz mono, n_fft 1024, hop 256, 513 × 25 magnitude patches.
#[derive(Clone, Debug, PartialEq)]
pub struct SeparationConfig {
    /// The model's sample rate (mixtures are resampled to it, mono).
    pub sample_rate: u32,
    /// FFT size.
    pub n_fft: usize,
    /// Hop between frames in samples.
    pub hop_length: usize,
    /// Frames per patch.
    pub patch: usize,
    /// Frames between patch starts (training examples and inference windows).
    pub patch_hop: usize,
    /// Multichannel Wiener filtering when separating: EM iterations (0: the mask alone; see
    /// [`super::wiener_target`]). A choice made when separating, not a trained setting.
    pub wiener: usize,
    /// What the network's input patches are divided by.
    pub scaling: Scaling,
}

/// What a magnitude patch is divided by before the network sees it: a model must see the level
/// it was trained at.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Scaling {
    /// The patch's own peak (at least [`SCALE_FLOOR`]): soundcheck's training.
    #[default]
    PatchPeak,
    /// The whole track's peak magnitude (at least 1e-8): the seed's recipe
    /// (`m / max(m.max(), 1e-8)` over the track's mixture spectrogram), as a Keras model
    /// trained with it expects.
    TrackMax,
}

impl Scaling {
    /// `patch-peak` or `track-max`.
    ///
    /// # Errors
    /// Any other name.
    pub fn parse(name: &str) -> Result<Scaling, crate::TaskError> {
        match name {
            "patch-peak" => Ok(Scaling::PatchPeak),
            "track-max" => Ok(Scaling::TrackMax),
            other => Err(crate::TaskError::Option {
                name: "scaling",
                actual: other.to_string(),
                expected: "patch-peak (soundcheck's runs) or track-max (the seed's recipe: the track's peak magnitude)".into(),
            }),
        }
    }
}

/// The floor of [`Scaling::TrackMax`], the seed's.
pub(crate) const TRACK_SCALE_FLOOR: f32 = 1e-8;

impl Default for SeparationConfig {
    fn default() -> Self {
        SeparationConfig {
            sample_rate: 22050,
            n_fft: 1024,
            hop_length: 256,
            patch: 25,
            patch_hop: 12,
            wiener: 0,
            scaling: Scaling::PatchPeak,
        }
    }
}

/// Patches are scaled by their mixture's peak so the network sees one level whatever the
/// recording's; the floor keeps silence from being blown up.
pub(crate) const SCALE_FLOOR: f32 = 1e-3;

/// Scales a training pair by its mixture patch's peak (at least [`SCALE_FLOOR`]).
pub(crate) fn scale_by_mixture_peak(input: &mut [f32], target: &mut [f32]) {
    let scale = input.iter().fold(SCALE_FLOOR, |m, &v| m.max(v));
    input.iter_mut().for_each(|v| *v /= scale);
    target.iter_mut().for_each(|v| *v /= scale);
}

impl SeparationConfig {
    /// The STFT settings.
    pub fn stft(&self) -> StftConfig {
        StftConfig {
            n_fft: self.n_fft,
            hop_length: Some(self.hop_length),
            ..Default::default()
        }
    }

    /// The frames of a patch a spec takes: the second axis of its one `(bins, frames, 1)`
    /// input, wherever the spec declares it (`input_shape`, an Input layer, the first layer's
    /// `input_shape`); `None` for any other input, which training then refuses by its shape.
    pub fn frames_of(spec: &ModelSpec) -> Option<usize> {
        let model = Model::from_spec(spec).ok()?;
        match model.inputs.as_slice() {
            [input] => match input.shape.dims() {
                [_, frames, Some(1)] => *frames,
                _ => None,
            },
            _ => None,
        }
    }

    /// Frequency bins per frame (`n_fft / 2 + 1`).
    pub fn bins(&self) -> usize {
        self.n_fft / 2 + 1
    }

    /// Start frames of the patches covering `frames` frames: every `patch_hop`, the last one
    /// flush with the end (a spectrogram shorter than a patch is zero-padded to one).
    pub(crate) fn starts(&self, frames: usize) -> Vec<usize> {
        let last = frames.saturating_sub(self.patch);
        let mut v: Vec<usize> = (0..=last).step_by(self.patch_hop.max(1)).collect();
        if *v.last().expect("at least one patch") != last {
            v.push(last);
        }
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_specs_patch_frames_are_read_wherever_its_input_is_declared() {
        let spec = |text: &str| ModelSpec::from_toml_str(text).unwrap();
        let dense = "\n[[layers]]\ntype = \"Dense\"\nunits = 1\n";
        let top = spec(&format!("input_shape = [513, 64, 1]{dense}"));
        assert_eq!(SeparationConfig::frames_of(&top), Some(64));
        let input_layer = spec(&format!(
            "[[layers]]\ntype = \"InputLayer\"\nshape = [513, 40, 1]{dense}"
        ));
        assert_eq!(SeparationConfig::frames_of(&input_layer), Some(40));
        // Not a (bins, frames, 1) patch: unknown, left to training's shape check.
        let flat = spec(&format!("input_shape = [513]{dense}"));
        assert_eq!(SeparationConfig::frames_of(&flat), None);
        let first = spec(&format!("input_shape = [1, 513, 64]{dense}"));
        assert_eq!(SeparationConfig::frames_of(&first), None);
    }

    #[test]
    fn patches_cover_every_frame_and_end_flush() {
        let c = SeparationConfig::default();
        assert_eq!(c.starts(25), vec![0]);
        assert_eq!(c.starts(10), vec![0]);
        assert_eq!(c.starts(50), vec![0, 12, 24, 25]);
        assert_eq!(c.starts(61), vec![0, 12, 24, 36]);
    }
}
