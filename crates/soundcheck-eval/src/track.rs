//! One track's stems on disk as BSS Eval's signals, read span by span: its references, its
//! estimates (padded or cut to the references' length, as museval does), and the two baselines'
//! estimates — the mixture as every stem's, and the oracle ideal ratio mask's — so that a
//! track of hours is scored in the memory of a few seconds of it.

use std::path::PathBuf;

use ndarray::Zip;
use soundcheck_audio::{istft, stft, AudioError, AudioSource, StftConfig};

use crate::signals::{Signals, Span};

/// Stems, one file each, of `samples` samples per channel: a shorter file is read as if
/// zero-padded, a longer one as if cut.
pub(crate) struct StemFiles {
    files: Vec<AudioSource>,
    channels: usize,
    samples: usize,
}

impl StemFiles {
    /// Opens `paths` (headers only, but for compressed files that do not announce their
    /// length); the caller checks their rates and channels against each other.
    ///
    /// # Errors
    /// A file that cannot be opened, named.
    pub(crate) fn open(paths: &[PathBuf]) -> Result<StemFiles, AudioError> {
        let files = paths
            .iter()
            .map(|p| AudioSource::open(p))
            .collect::<Result<Vec<_>, _>>()?;
        let (channels, samples) = files.first().map_or((0, 0), |f| (f.channels(), f.frames()));
        Ok(StemFiles {
            files,
            channels,
            samples,
        })
    }

    /// The files, in the order given.
    pub(crate) fn files(&self) -> &[AudioSource] {
        &self.files
    }

    /// Read as `samples` long.
    pub(crate) fn with_length(mut self, samples: usize) -> StemFiles {
        self.samples = samples;
        self
    }
}

impl Signals for StemFiles {
    fn shape(&self) -> (usize, usize, usize) {
        (self.files.len(), self.channels, self.samples)
    }

    fn read(&mut self, start: usize, end: usize) -> Result<Span, String> {
        self.files
            .iter_mut()
            .map(|f| {
                let got = f.read(start, end).map_err(|e| e.to_string())?;
                Ok(got
                    .into_iter()
                    .map(|ch| {
                        let mut v: Vec<f64> = ch.into_iter().map(f64::from).collect();
                        v.resize(end - start, 0.0);
                        v
                    })
                    .collect())
            })
            .collect()
    }
}

/// A track's mixture: its own file, or the sum of its reference stems.
pub(crate) enum Mixture {
    /// The track folder's mixture file.
    File(StemFiles),
    /// The references' sum (the track has no mixture file).
    Sum(StemFiles),
}

impl Mixture {
    /// `[channel][sample]` over `start..end`.
    fn read(&mut self, start: usize, end: usize) -> Result<Vec<Vec<f64>>, String> {
        match self {
            Mixture::File(f) => Ok(f.read(start, end)?.swap_remove(0)),
            Mixture::Sum(stems) => {
                let mut sources = stems.read(start, end)?.into_iter();
                let mut sum = sources.next().unwrap_or_default();
                for src in sources {
                    for (acc, ch) in sum.iter_mut().zip(src) {
                        acc.iter_mut().zip(ch).for_each(|(a, v)| *a += v);
                    }
                }
                Ok(sum)
            }
        }
    }

    fn shape(&self) -> (usize, usize) {
        let (Mixture::File(f) | Mixture::Sum(f)) = self;
        let (_, channels, samples) = f.shape();
        (channels, samples)
    }
}

/// The mixture as the estimate of each of `stems` stems: the baseline every separation must
/// beat.
pub(crate) struct MixtureEstimates {
    pub(crate) mixture: Mixture,
    pub(crate) stems: usize,
}

impl Signals for MixtureEstimates {
    fn shape(&self) -> (usize, usize, usize) {
        let (channels, samples) = self.mixture.shape();
        (self.stems, channels, samples)
    }

    fn read(&mut self, start: usize, end: usize) -> Result<Span, String> {
        Ok(vec![self.mixture.read(start, end)?; self.stems])
    }
}

/// The oracle ideal ratio mask's estimates: each stem's share of the power in every bin,
/// |S_j|² / Σ_k |S_k|², applied to the mixture's STFT and inverted with the mixture's phase,
/// channel by channel.
///
/// A span is computed from the signals `n_fft` samples either side of it, from a frame
/// boundary: every frame that reaches the span then sees the same samples as in the whole
/// track's STFT, so the span equals the whole track's inverse there.
pub(crate) struct OracleIrm {
    pub(crate) references: StemFiles,
    pub(crate) mixture: Mixture,
    pub(crate) stft: StftConfig,
}

impl Signals for OracleIrm {
    fn shape(&self) -> (usize, usize, usize) {
        self.references.shape()
    }

    fn read(&mut self, start: usize, end: usize) -> Result<Span, String> {
        let (n_fft, hop) = (self.stft.n_fft, self.stft.hop());
        let samples = self.references.shape().2;
        let from = start.saturating_sub(n_fft) / hop * hop;
        let to = (end + n_fft).min(samples);
        let refs = self.references.read(from, to)?;
        let mixture = self.mixture.read(from, to)?;
        let err = |e: AudioError| format!("oracle IRM: {e}");
        let f32s = |x: &[f64]| x.iter().map(|&v| v as f32).collect::<Vec<f32>>();
        let mut out = vec![Vec::with_capacity(mixture.len()); refs.len()];
        for (c, mix) in mixture.iter().enumerate() {
            let x = stft(&f32s(mix), &self.stft).map_err(err)?;
            let powers: Vec<_> = refs
                .iter()
                .map(|s| stft(&f32s(&s[c]), &self.stft).map(|z| z.mapv(|v| v.norm_sqr())))
                .collect::<Result<_, _>>()
                .map_err(err)?;
            let total = powers
                .iter()
                .skip(1)
                .fold(powers[0].clone(), |acc, p| acc + p);
            for (j, p) in powers.iter().enumerate() {
                let mut masked = x.clone();
                Zip::from(&mut masked)
                    .and(p)
                    .and(&total)
                    .for_each(|z, &pj, &t| {
                        *z *= if t > 0.0 { pj / t } else { 0.0 };
                    });
                let y = istft(masked.view(), &self.stft, Some(mix.len())).map_err(err)?;
                out[j].push(
                    y[start - from..end - from]
                        .iter()
                        .map(|&v| f64::from(v))
                        .collect(),
                );
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_oracle_masks_spans_equal_the_whole_tracks_mask() {
        let dir = std::env::temp_dir().join(format!("sc-eval-irm-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let n = 20_000;
        let paths: Vec<PathBuf> = (0..2)
            .map(|j| {
                // Two sawtooths of other periods and levels: every bin's mask lies inside (0, 1).
                let y: Vec<f32> = (0..n)
                    .map(|t| (((t * (7 + 5 * j)) % 97) as f32 / 97.0 - 0.5) * (1.0 + j as f32))
                    .collect();
                let p = dir.join(format!("stem{j}.wav"));
                soundcheck_audio::write_wav(
                    &p,
                    &[y.clone(), y.iter().map(|v| -v * 0.5).collect()],
                    8000,
                )
                .unwrap();
                p
            })
            .collect();
        let irm = || OracleIrm {
            references: StemFiles::open(&paths).unwrap(),
            mixture: Mixture::Sum(StemFiles::open(&paths).unwrap()),
            stft: StftConfig {
                n_fft: 512,
                hop_length: Some(128),
                ..StftConfig::default()
            },
        };
        let whole = irm().read(0, n).unwrap();
        let mut spans = irm();
        // Spans that start and end off the frame grid, near both ends and inside.
        for (start, end) in [(0, 300), (300, 7_001), (7_001, 19_950), (19_950, 20_000)] {
            let got = spans.read(start, end).unwrap();
            for (j, src) in got.iter().enumerate() {
                for (c, ch) in src.iter().enumerate() {
                    assert_eq!(ch[..], whole[j][c][start..end], "stem {j}, channel {c}");
                }
            }
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
