//! A long mixture separated piece by piece, so memory stays bounded whatever its length.

use ndarray::Array2;
use soundcheck_audio::{magnitude, resample, stft, to_mono, AudioSource, WavStream};
use soundcheck_nn::Network;

use super::config::{Scaling, SeparationConfig, TRACK_SCALE_FLOOR};
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
    /// The peak of the mono mixture's magnitude spectrogram at the model's rate over the whole
    /// of `src` (at least the seed's 1e-8): [`Scaling::TrackMax`]'s divisor. Read piece by piece
    /// with context on both sides (at least half a window), keeping only the frames whose
    /// windows lie inside the read span (or reach a real end of the track). Within the first
    /// piece this is the whole spectrogram's peak exactly; later pieces start their frames on
    /// their own grid, so on a longer track a sharp transient's peak can differ by a few percent
    /// from that of frames on the whole track's grid, as the separation's own pieces do.
    ///
    /// # Errors
    /// A read or resampling failure.
    pub fn track_scale(
        &self,
        src: &mut AudioSource,
        chunking: Chunking,
    ) -> Result<f32, SeparationError> {
        let rate = src.sample_rate();
        let secs = |s: f64| ((s * f64::from(rate)) as usize).max(1);
        let half = self.n_fft / 2;
        // Half a window at the model's rate, in the file's samples (rounded up).
        let half_here = (half as u64 * u64::from(rate)).div_ceil(u64::from(self.sample_rate));
        let (piece, margin) = (
            secs(chunking.piece),
            secs(chunking.margin).max(half_here as usize + 1),
        );
        let n = src.frames();
        let mut peak = TRACK_SCALE_FLOOR;
        let mut start = 0;
        while start < n {
            let end = (start + piece).min(n);
            let (r0, r1) = (start.saturating_sub(margin), (end + margin).min(n));
            let mono = to_mono(&src.read(r0, r1)?);
            let y = if rate == self.sample_rate {
                mono
            } else {
                resample(&mono, rate, self.sample_rate)?
            };
            let m = magnitude(&stft(&y, &self.stft())?);
            for (t, col) in m.columns().into_iter().enumerate() {
                let centre = t * self.hop_length;
                let inside = (r0 == 0 || centre >= half) && (r1 == n || centre + half <= y.len());
                if inside {
                    peak = col.iter().fold(peak, |p, &v| p.max(v));
                }
            }
            start = end;
        }
        Ok(peak)
    }

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
        let track_scale = match self.scaling {
            Scaling::PatchPeak => None,
            Scaling::TrackMax => Some(self.track_scale(src, chunking)?),
        };
        let mut tail: Option<Vec<Vec<f32>>> = None;
        let mut first_mask = None;
        let mut start = 0;
        while start < n {
            let end = (start + piece + fade).min(n);
            let (r0, r1) = (start.saturating_sub(margin), (end + margin).min(n));
            let mix = src.read(r0, r1)?;
            let sep = self.separate(net, &mix, src.sample_rate(), track_scale)?;
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
    fn the_track_peak_read_in_pieces_is_the_whole_spectrograms() {
        let d = std::env::temp_dir().join(format!("sc-track-scale-{}", std::process::id()));
        std::fs::create_dir_all(&d).unwrap();
        let path = d.join("song.wav");
        // 3 s at 16 kHz, loudest in its last half second, read in 0.7 s pieces at 22050 Hz.
        let y: Vec<f32> = (0..48000)
            .map(|t| {
                let level = if t > 40000 { 0.9 } else { 0.2 };
                level * (t as f32 * 0.05).sin() + 0.1 * (t as f32 * 0.31).sin()
            })
            .collect();
        soundcheck_audio::write_wav(&path, &[y.clone(), y.clone()], 16000).unwrap();
        let cfg = SeparationConfig {
            scaling: Scaling::TrackMax,
            ..SeparationConfig::default()
        };
        let pieces = Chunking {
            piece: 0.7,
            margin: 0.2,
            fade: 0.05,
        };
        let mut src = AudioSource::open(&path).unwrap();
        let peak = cfg.track_scale(&mut src, pieces).unwrap();
        let whole = resample(&y, 16000, 22050).unwrap();
        let m = magnitude(&stft(&whole, &cfg.stft()).unwrap());
        let want = m.iter().fold(0f32, |p, &v| p.max(v));
        assert!((peak - want).abs() <= 1e-5 * want, "{peak} vs {want}");
        std::fs::remove_dir_all(&d).unwrap();
    }
}
