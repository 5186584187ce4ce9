//! A trained network applied to a whole mixture: overlapping patches blended without seams,
//! the mixture's phase kept, every channel masked, and the accompaniment the exact remainder.

use ndarray::{s, Array2};
use soundcheck_audio::{istft, magnitude, resample, stft, to_mono, AudioError};
use soundcheck_nn::{Network, NnError};

use super::config::{SeparationConfig, SCALE_FLOOR};
use super::wiener::wiener_target;

/// A separated mixture: `[channel][sample]` at the input's rate, and the mask `(bins, frames)`.
pub struct Separated {
    /// The target at the input's rate and channels.
    pub target: Vec<Vec<f32>>,
    /// The rest: the mixture minus the target.
    pub rest: Vec<Vec<f32>>,
    /// The mask `(bins, frames)` of the mono mixture.
    pub mask: Array2<f32>,
}

/// Why a mixture could not be separated.
#[derive(Debug, thiserror::Error)]
pub enum SeparationError {
    /// Reading, resampling or writing the audio failed.
    #[error(transparent)]
    Audio(#[from] AudioError),
    /// The network failed.
    #[error(transparent)]
    Nn(#[from] NnError),
}

impl SeparationConfig {
    /// The patch of `m` starting at `start`, zero-padded past the end.
    fn patch_of(&self, m: &Array2<f32>, start: usize) -> Vec<f32> {
        let (bins, frames) = m.dim();
        let mut p = vec![0f32; bins * self.patch];
        for f in 0..bins {
            for t in 0..self.patch.min(frames - start) {
                p[f * self.patch + t] = m[[f, start + t]];
            }
        }
        p
    }

    /// The network's mask for a whole magnitude spectrogram: overlapping patches, each weighted
    /// by a sin² window over its frames and the sum normalised, so patch edges leave no seams.
    /// The mask is the network's output over its input (the specs end in mask × input), clipped
    /// to [0, 1]. Each patch is divided by its own peak, or by `track_scale` (the track's peak,
    /// [`super::Scaling::TrackMax`]) when given.
    ///
    /// # Shapes
    /// - `mag`: `(bins, frames)`; output: `(bins, frames)`
    pub fn mask(
        &self,
        net: &Network,
        mag: &Array2<f32>,
        batch: usize,
        track_scale: Option<f32>,
    ) -> Result<Array2<f32>, NnError> {
        let (bins, frames) = mag.dim();
        let starts = self.starts(frames);
        let w: Vec<f32> = (0..self.patch)
            .map(|t| {
                let x = std::f32::consts::PI * (t as f32 + 0.5) / self.patch as f32;
                x.sin().powi(2)
            })
            .collect();
        let mut acc = Array2::<f32>::zeros((bins, frames.max(self.patch)));
        let mut wsum = vec![0f32; frames.max(self.patch)];
        for chunk in starts.chunks(batch.max(1)) {
            let mut x = Vec::with_capacity(chunk.len() * bins * self.patch);
            let mut scales = Vec::with_capacity(chunk.len());
            for &s0 in chunk {
                let mut p = self.patch_of(mag, s0);
                let scale =
                    track_scale.unwrap_or_else(|| p.iter().fold(SCALE_FLOOR, |m, &v| m.max(v)));
                p.iter_mut().for_each(|v| *v /= scale);
                x.extend(p);
                scales.push(scale);
            }
            let (_, out) = net.forward(&[chunk.len(), bins, self.patch, 1], x.clone())?;
            for (k, &s0) in chunk.iter().enumerate() {
                let base = k * bins * self.patch;
                for t in 0..self.patch {
                    wsum[s0 + t] += w[t];
                    for f in 0..bins {
                        let i = base + f * self.patch + t;
                        let m = if x[i] > 1e-8 {
                            (out[i] / x[i]).clamp(0.0, 1.0)
                        } else {
                            0.0
                        };
                        acc[[f, s0 + t]] += w[t] * m;
                    }
                }
            }
        }
        let mut mask = acc.slice(s![.., ..frames]).to_owned();
        for (t, mut col) in mask.columns_mut().into_iter().enumerate() {
            col /= wsum[t].max(1e-12);
        }
        Ok(mask)
    }

    /// Separates a mixture (`[channel][sample]` at `rate`): the mask from the mono mixture at
    /// the model's rate, applied to each channel's STFT with its own phase (or, with
    /// `wiener` iterations, the channels' STFTs through the target's multichannel Wiener
    /// gain), back at `rate`. The accompaniment is mixture − target, so the two sum to the
    /// input. `track_scale` is the track's peak for [`super::Scaling::TrackMax`] (see
    /// [`SeparationConfig::track_scale`]).
    ///
    /// # Errors
    /// A rate the resampler refuses, or the network failing on the patches.
    pub fn separate(
        &self,
        net: &Network,
        channels: &[Vec<f32>],
        rate: u32,
        track_scale: Option<f32>,
    ) -> Result<Separated, SeparationError> {
        let at_model = |y: &[f32]| -> Result<Vec<f32>, AudioError> {
            if rate == self.sample_rate {
                Ok(y.to_vec())
            } else {
                resample(y, rate, self.sample_rate)
            }
        };
        let cfg = self.stft();
        let resampled: Vec<Vec<f32>> = channels
            .iter()
            .map(|c| at_model(c))
            .collect::<Result<_, _>>()?;
        // Resampling is linear: the mean of the resampled channels is the resampled mixdown.
        let mono = to_mono(&resampled);
        let mask = self.mask(net, &magnitude(&stft(&mono, &cfg)?), 16, track_scale)?;
        let spectra = resampled
            .iter()
            .map(|y| stft(y, &cfg))
            .collect::<Result<Vec<_>, _>>()?;
        let estimates = wiener_target(&spectra, &mask, self.wiener);
        let (mut target, mut rest) = (Vec::new(), Vec::new());
        for ((ch, y), z) in channels.iter().zip(resampled).zip(estimates) {
            let est = istft(z.view(), &cfg, Some(y.len()))?;
            let mut est = if rate == self.sample_rate {
                est
            } else {
                resample(&est, self.sample_rate, rate)?
            };
            est.resize(ch.len(), 0.0);
            rest.push(ch.iter().zip(&est).map(|(a, b)| a - b).collect());
            target.push(est);
        }
        Ok(Separated { target, rest, mask })
    }
}
