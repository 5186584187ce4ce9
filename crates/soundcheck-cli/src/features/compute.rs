//! One file's feature: the recipe the arguments ask for, its picture, deltas and layout.

use std::path::Path;

use ndarray::Array2;
use realfft::num_complex::Complex32;
use soundcheck_audio::feature::{patches, with_deltas, Arranged, Frames};
use soundcheck_audio::{self as audio, AudioError, FeatureKind, Ref};

use super::args::FeaturesArgs;

/// An n-dimensional feature array in C order.
pub enum Data {
    Real(Vec<f32>),
    Complex(Vec<Complex32>),
}

pub struct Feature {
    pub shape: Vec<usize>,
    pub data: Data,
    pub sample_rate: u32,
    /// Frames left over after cutting patches.
    pub dropped: usize,
    /// The first channel's 2-D (features, frames) matrix, for the picture.
    pub picture: Option<Array2<f32>>,
}

impl FeaturesArgs {
    /// What the picture's axes show.
    pub fn axes(&self, input: &Path, sr: u32) -> soundcheck_tasks::plot::Axes {
        let cfg = self.config().stft;
        let name = input
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or("audio");
        let (y_label, y_step, value) = match self.kind() {
            FeatureKind::Mel => ("mel band".to_string(), 1.0, "dB"),
            FeatureKind::Mfcc => ("MFCC".to_string(), 1.0, ""),
            _ => (
                "frequency (Hz)".to_string(),
                sr as f64 / cfg.n_fft as f64,
                "dB",
            ),
        };
        soundcheck_tasks::plot::Axes {
            // The kind's Rust name, as the spectrogram kinds have always been titled.
            title: format!("{:?} - {name}", self.kind()),
            x_step: cfg.hop() as f64 / sr as f64,
            y_label,
            y_step,
            value_label: value.to_string(),
        }
    }

    /// The first channel in dB, as --png shows it: MFCCs and --db output already are.
    fn picture(&self, frames: &Frames) -> Result<Option<Array2<f32>>, AudioError> {
        let kind = self.kind();
        if self.png.is_none() || !kind.is_spectrogram() {
            return Ok(None);
        }
        let db = |m: &Array2<f32>, amplitude: bool| {
            if amplitude {
                audio::amplitude_to_db(m, Ref::Max, 1e-5, Some(80.0))
            } else {
                audio::power_to_db(m, Ref::Max, 1e-10, Some(80.0))
            }
        };
        Ok(Some(match frames {
            Frames::Complex(mats) => db(&audio::magnitude(&mats[0]), true)?,
            Frames::Real(mats) if self.db || kind == FeatureKind::Mfcc => mats[0].clone(),
            Frames::Real(mats) => db(&mats[0], kind == FeatureKind::Magnitude)?,
        }))
    }

    /// Computes the feature of one file.
    pub fn compute(&self, path: &Path) -> Result<Feature, AudioError> {
        let loaded = audio::load(path, &self.load_opts()?)?;
        let sr = loaded.sample_rate;
        let channels: Vec<&[f32]> = loaded.channels.iter().map(Vec::as_slice).collect();
        let frames = self.config().compute(self.kind(), &channels, sr)?;
        let picture = self.picture(&frames)?;
        let (arranged, data) = match frames {
            Frames::Complex(mats) => {
                let a = self.arrange(&mats, path)?;
                ((a.shape, a.dropped), Data::Complex(a.data))
            }
            Frames::Real(mats) => {
                // The picture shows the feature itself; the deltas join the written array only.
                let mats = match self.delta {
                    None => mats,
                    Some(order) => mats
                        .iter()
                        .map(|m| with_deltas(m, order.into()))
                        .collect::<Result<Vec<_>, _>>()?,
                };
                let a = self.arrange(&mats, path)?;
                ((a.shape, a.dropped), Data::Real(a.data))
            }
        };
        let (shape, dropped) = arranged;
        Ok(Feature {
            shape,
            data,
            sample_rate: sr,
            dropped,
            picture,
        })
    }

    /// The channels' matrices as the output array: the layout asked for, or --patch's patches.
    fn arrange<T: Copy>(&self, mats: &[Array2<T>], path: &Path) -> Result<Arranged<T>, AudioError> {
        let Some(p) = self.patch else {
            return Ok(self.layout().arrange(mats));
        };
        patches(mats, p).ok_or_else(|| {
            let t = mats[0].ncols();
            AudioError::TooShort {
                what: format!("{}: {t} frames for --patch", path.display()),
                actual: t,
                expected: p,
                hint: format!(
                    "each patch needs {p} frames; use a smaller --patch or a longer excerpt"
                ),
            }
        })
    }
}
