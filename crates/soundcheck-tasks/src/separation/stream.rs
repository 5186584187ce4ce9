//! A long mixture separated piece by piece, so memory stays bounded whatever its length.

use ndarray::Array2;
use soundcheck_audio::{AudioSource, WavStream};
use soundcheck_nn::Network;

use super::config::SeparationConfig;
use super::mask::SeparationError;

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
