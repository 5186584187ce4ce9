//! Spectrogram-mask source separation: magnitude patches for training, and a trained network
//! applied to a whole mixture with overlapping patches blended without seams, the mixture's
//! phase kept, every channel masked, and the accompaniment the exact remainder.

use ndarray::{s, Array2};
use soundcheck_audio::{
    istft, magnitude, resample, stft, to_mono, AudioError, AudioSource, StftConfig, WavStream,
};
use soundcheck_nn::{Network, NnError};

use super::wiener::wiener_target;

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
    /// [`wiener_target`]). A choice made when separating, not a trained setting.
    pub wiener: usize,
}

impl Default for SeparationConfig {
    fn default() -> Self {
        SeparationConfig {
            sample_rate: 22050,
            n_fft: 1024,
            hop_length: 256,
            patch: 25,
            patch_hop: 12,
            wiener: 0,
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
    /// The settings and target as a run folder records them (`separation.json`).
    pub fn to_json(&self, target: &str) -> serde_json::Value {
        serde_json::json!({"target": target, "sample_rate": self.sample_rate, "n_fft": self.n_fft,
               "hop_length": self.hop_length, "patch": self.patch, "patch_hop": self.patch_hop})
    }

    /// The settings and target of a run folder's record; `None` when a field is missing.
    pub fn from_json(v: &serde_json::Value) -> Option<(SeparationConfig, String)> {
        let n = |k: &str| v[k].as_u64().map(|x| x as usize);
        Some((
            SeparationConfig {
                sample_rate: v["sample_rate"].as_u64()? as u32,
                n_fft: n("n_fft")?,
                hop_length: n("hop_length")?,
                patch: n("patch")?,
                patch_hop: n("patch_hop")?,
                wiener: 0,
            },
            v["target"].as_str()?.to_string(),
        ))
    }

    /// The STFT settings.
    pub fn stft(&self) -> StftConfig {
        StftConfig {
            n_fft: self.n_fft,
            hop_length: Some(self.hop_length),
            ..Default::default()
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
    /// to [0, 1].
    ///
    /// # Shapes
    /// - `mag`: `(bins, frames)`; output: `(bins, frames)`
    pub fn mask(
        &self,
        net: &Network,
        mag: &Array2<f32>,
        batch: usize,
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
                let scale = p.iter().fold(SCALE_FLOOR, |m, &v| m.max(v));
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
    /// input.
    ///
    /// # Errors
    /// A rate the resampler refuses, or the network failing on the patches.
    pub fn separate(
        &self,
        net: &Network,
        channels: &[Vec<f32>],
        rate: u32,
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
        let mask = self.mask(net, &magnitude(&stft(&mono, &cfg)?), 16)?;
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

/// How a long mixture is cut: seconds of output per piece, of context read on each side, and of
/// cross-fade between consecutive pieces.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Chunking {
    /// Seconds of output per piece.
    pub piece: f64,
    /// Seconds of context read on each side.
    pub margin: f64,
    /// Seconds of cross-fade between pieces.
    pub fade: f64,
}

impl Default for Chunking {
    /// 60 s pieces with 1 s of context (three times a patch's 0.3 s, far more than the
    /// resampler's filter) and a 0.25 s cross-fade: 3.7 % of the audio is separated twice.
    fn default() -> Self {
        Chunking {
            piece: 60.0,
            margin: 1.0,
            fade: 0.25,
        }
    }
}

impl SeparationConfig {
    /// Separates `src` into `target_out` and `rest_out` piece by piece, so memory stays bounded
    /// whatever the length. Each piece is separated with context on both sides and its start
    /// cross-faded with the end of the previous one, so pieces join without seams; the
    /// remainder is computed sample by sample, so target + rest = mixture. `progress` gets
    /// (frames done, frames). Returns the first piece's mask, for pictures.
    ///
    /// # Errors
    /// A read, resampling, network or write failure.
    pub fn separate_stream(
        &self,
        net: &Network,
        src: &mut AudioSource,
        target_out: &mut WavStream,
        rest_out: &mut WavStream,
        chunking: Chunking,
        progress: &mut dyn FnMut(usize, usize),
    ) -> Result<Option<Array2<f32>>, SeparationError> {
        let rate = src.sample_rate() as f64;
        let secs = |s: f64| ((s * rate) as usize).max(1);
        let (piece, margin, fade) = (
            secs(chunking.piece),
            secs(chunking.margin),
            secs(chunking.fade),
        );
        let n = src.frames();
        let mut tail: Option<Vec<Vec<f32>>> = None;
        let mut first_mask = None;
        let mut start = 0;
        while start < n {
            let end = (start + piece + fade).min(n);
            let (r0, r1) = (start.saturating_sub(margin), (end + margin).min(n));
            let mix = src.read(r0, r1)?;
            let sep = self.separate(net, &mix, src.sample_rate())?;
            first_mask.get_or_insert(sep.mask);
            let (a, b) = (start - r0, end - r0);
            let mut target: Vec<Vec<f32>> = sep.target.iter().map(|c| c[a..b].to_vec()).collect();
            if let Some(prev) = tail.take() {
                for (t, p) in target.iter_mut().zip(&prev) {
                    let k = p.len().min(t.len());
                    for i in 0..k {
                        let w = (i as f32 + 0.5) / k as f32;
                        t[i] = p[i] * (1.0 - w) + t[i] * w;
                    }
                }
            }
            let keep = if end < n {
                end - start - fade
            } else {
                end - start
            };
            if end < n {
                tail = Some(target.iter().map(|c| c[keep..].to_vec()).collect());
            }
            let emit: Vec<Vec<f32>> = target.iter().map(|c| c[..keep].to_vec()).collect();
            let rest: Vec<Vec<f32>> = emit
                .iter()
                .zip(&mix)
                .map(|(t, m)| t.iter().zip(&m[a..a + keep]).map(|(t, m)| m - t).collect())
                .collect();
            target_out.write(&emit)?;
            rest_out.write(&rest)?;
            start += keep;
            progress(start, n);
        }
        Ok(first_mask)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patches_cover_every_frame_and_end_flush() {
        let c = SeparationConfig::default();
        assert_eq!(c.starts(25), vec![0]);
        assert_eq!(c.starts(10), vec![0]);
        assert_eq!(c.starts(50), vec![0, 12, 24, 25]);
        assert_eq!(c.starts(61), vec![0, 12, 24, 36]);
    }
}
