//! Random-mix augmentation, as Open-Unmix and Demucs train: each example is a new mixture
//! made from the target of one training track and the accompaniment of another (or, one time
//! in four, the same track's aligned excerpt, a real mixture), each at its own random offset
//! and gain, from a random blend of the left and right channels. The waveforms are kept on
//! disk at the model's rate and the patch's STFT is computed when the example is loaded, so a
//! corpus of hours trains in the memory of a few patches.

use soundcheck_audio::{magnitude, resample, stft, StftConfig};
use soundcheck_data::{DataError, Dataset, Field};

use super::tracks::Track;
use soundcheck_io::SplitMix64;
use soundcheck_npy::RowReader;

use super::config::{scale_by_mixture_peak, SeparationConfig};

/// Columns of a track's waveform file: target left, target right, rest left, rest right.
const COLUMNS: usize = 4;

/// Source gains are drawn from this range (Open-Unmix's).
const GAIN: (f64, f64) = (0.25, 1.25);

/// Share of examples that keep a track's own aligned mixture.
const REAL_MIXES: f64 = 0.25;

impl SeparationConfig {
    /// A track's waveforms in the layout [`MixDataset`] reads: at the model's rate,
    /// sample-major, `[target L, target R, rest L, rest R]` per sample (a mono track repeats
    /// its channel), the rest being the accompaniment.
    ///
    /// # Shapes
    /// - output: `(samples, 4)` and its data
    pub fn track_waveforms(
        &self,
        track: &Track,
    ) -> Result<(Vec<usize>, Vec<f32>), soundcheck_audio::AudioError> {
        let at_rate = |ch: &[f32]| {
            if track.sample_rate == self.sample_rate {
                Ok(ch.to_vec())
            } else {
                resample(ch, track.sample_rate, self.sample_rate)
            }
        };
        fn pick(signal: &[Vec<f32>], c: usize) -> &[f32] {
            signal.get(c).or(signal.first()).map_or(&[], Vec::as_slice)
        }
        let cols = [
            at_rate(pick(&track.target, 0))?,
            at_rate(pick(&track.target, 1))?,
            at_rate(pick(&track.accompaniment, 0))?,
            at_rate(pick(&track.accompaniment, 1))?,
        ];
        let n = cols.iter().map(Vec::len).min().unwrap_or(0);
        let mut data = Vec::with_capacity(n * COLUMNS);
        for i in 0..n {
            data.extend(cols.iter().map(|c| c[i]));
        }
        Ok((vec![n, COLUMNS], data))
    }

    /// Samples one patch's frames span without centring: `(patch − 1) · hop + n_fft`.
    fn patch_samples(&self) -> usize {
        (self.patch - 1) * self.hop_length + self.n_fft
    }
}

/// `len` random mixes of the training tracks' waveforms (written by
/// [`SeparationConfig::track_waveforms`]): the mixture's magnitude patch as input, the
/// target's as target, each pair scaled by its mixture patch's peak, as
/// [`crate::PatchDataset`] does. Example `i` is the same mix whenever it is loaded (its
/// draws come from `seed` and `i`), so training stays deterministic and resumable.
///
/// # Shapes
/// - input and target of each example: `(bins, patch, 1)`
pub struct MixDataset {
    tracks: Vec<RowReader>,
    cfg: SeparationConfig,
    len: usize,
    seed: u64,
    field: Field,
}

impl MixDataset {
    /// `len` mixes of the tracks whose waveforms are in `files`.
    ///
    /// # Errors
    /// A file that is not a `(samples, 4)` float32 array, or no track as long as a patch.
    pub fn open(
        cfg: &SeparationConfig,
        files: &[std::path::PathBuf],
        len: usize,
        seed: u64,
    ) -> Result<MixDataset, DataError> {
        let mut tracks = Vec::with_capacity(files.len());
        for f in files {
            let r = RowReader::open(f)?;
            if r.shape().len() != 2 || r.shape()[1] != COLUMNS {
                return Err(DataError::Mismatch {
                    what: format!("{}: cached waveforms", f.display()),
                    expected: format!("(samples, {COLUMNS})"),
                    actual: format!("{:?}", r.shape()),
                    hint: "delete the file to have it recomputed".into(),
                });
            }
            // A track shorter than a patch cannot give a full excerpt; it is left out.
            if r.shape()[0] >= cfg.patch_samples() {
                tracks.push(r);
            }
        }
        if tracks.is_empty() {
            return Err(DataError::Empty {
                what: "no training track is long enough for random mixes".into(),
                hint: format!(
                    "each needs at least {} samples at {} Hz (one patch)",
                    cfg.patch_samples(),
                    cfg.sample_rate
                ),
            });
        }
        Ok(MixDataset {
            tracks,
            cfg: cfg.clone(),
            len,
            seed,
            field: Field::new(&[cfg.bins(), cfg.patch, 1]),
        })
    }

    /// Reads one patch's samples of track `t` from `offset` and blends left and right (weight
    /// `w` on the left) of its target (`column` 0) or its rest (`column` 2).
    fn excerpt(
        &self,
        t: usize,
        offset: usize,
        w: f32,
        column: usize,
    ) -> Result<Vec<f32>, DataError> {
        let n = self.cfg.patch_samples();
        let mut rows = vec![0f32; n * COLUMNS];
        self.tracks[t].read_rows(offset, &mut rows)?;
        Ok(rows
            .chunks_exact(COLUMNS)
            .map(|r| w * r[column] + (1.0 - w) * r[column + 1])
            .collect())
    }
}

impl Dataset for MixDataset {
    fn len(&self) -> usize {
        self.len
    }

    fn inputs(&self) -> &[Field] {
        std::slice::from_ref(&self.field)
    }

    fn targets(&self) -> &[Field] {
        std::slice::from_ref(&self.field)
    }

    fn load(&self, i: usize, input: &mut [f32], target: &mut [f32]) -> soundcheck_data::Result<()> {
        let mut rng =
            SplitMix64::new(self.seed ^ (i as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15));
        let n = self.cfg.patch_samples();
        let offset = |rng: &mut SplitMix64, t: usize| rng.below(self.tracks[t].shape()[0] - n + 1);
        let a = rng.below(self.tracks.len());
        let oa = offset(&mut rng, a);
        let (b, ob) = if rng.uniform() < REAL_MIXES {
            (a, oa)
        } else {
            let b = rng.below(self.tracks.len());
            (b, offset(&mut rng, b))
        };
        let mut gain = || (GAIN.0 + (GAIN.1 - GAIN.0) * rng.uniform()) as f32;
        let (gt, gr) = (gain(), gain());
        let w = rng.uniform() as f32;
        let voice = self.excerpt(a, oa, w, 0)?;
        let rest = self.excerpt(b, ob, w, 2)?;
        let tgt: Vec<f32> = voice.iter().map(|v| gt * v).collect();
        let mix: Vec<f32> = tgt.iter().zip(&rest).map(|(v, r)| v + gr * r).collect();
        let cfg = StftConfig {
            center: false,
            ..self.cfg.stft()
        };
        let spectra = |y: &[f32]| stft(y, &cfg).map(|s| magnitude(&s));
        let (x, y) = match (spectra(&mix), spectra(&tgt)) {
            (Ok(x), Ok(y)) => (x, y),
            (Err(e), _) | (_, Err(e)) => {
                return Err(DataError::Mismatch {
                    what: "a random mix's STFT".into(),
                    expected: "a patch's samples".into(),
                    actual: e.to_string(),
                    hint: "check `n_fft`, `hop_length` and `patch`".into(),
                })
            }
        };
        let patch = self.cfg.patch;
        for ((f, t), &v) in x.indexed_iter() {
            input[f * patch + t] = v;
        }
        for ((f, t), &v) in y.indexed_iter() {
            target[f * patch + t] = v;
        }
        scale_by_mixture_peak(input, target);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_mix_is_the_stft_of_its_sources_sum_and_repeats_for_its_index() {
        let cfg = SeparationConfig {
            sample_rate: 8000,
            n_fft: 64,
            hop_length: 16,
            patch: 5,
            patch_hop: 3,
            ..SeparationConfig::default()
        };
        let n = 2000;
        let sine =
            |f: f32, a: f32| -> Vec<f32> { (0..n).map(|t| a * (t as f32 * f).sin()).collect() };
        let track = |voice: f32, band: f32| Track {
            name: "t".into(),
            sample_rate: 8000,
            mixture: vec![vec![0.0; n]],
            target: vec![sine(voice, 0.5)],
            accompaniment: vec![sine(band, 0.3), sine(band, 0.1)],
            mixture_computed: false,
            mixture_error_db: f64::NEG_INFINITY,
        };
        let dir = std::env::temp_dir().join(format!("sc-mixes-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let mut files = Vec::new();
        for (k, (v, b)) in [(0.3, 0.05), (0.7, 0.11)].into_iter().enumerate() {
            let (shape, data) = cfg.track_waveforms(&track(v, b)).unwrap();
            // Mono target repeated, stereo rest kept.
            assert_eq!(shape, vec![n, 4]);
            assert_eq!(data[4 * 10], data[4 * 10 + 1]);
            assert_ne!(data[4 * 10 + 2], data[4 * 10 + 3]);
            let f = dir.join(format!("t{k}.npy"));
            soundcheck_npy::write(&f, &shape, &data).unwrap();
            files.push(f);
        }
        let ds = MixDataset::open(&cfg, &files, 50, 7).unwrap();
        assert_eq!(ds.len(), 50);
        assert_eq!(ds.inputs()[0].shape, [33, 5, 1]);
        let size = 33 * 5;
        let load = |i| {
            let (mut x, mut y) = (vec![0f32; size], vec![0f32; size]);
            ds.load(i, &mut x, &mut y).unwrap();
            (x, y)
        };
        for i in 0..50 {
            let (x, y) = load(i);
            assert_eq!((x.clone(), y.clone()), load(i), "example {i} repeats");
            // Scaled by the mixture's peak.
            let peak = x.iter().fold(0f32, |m, &v| m.max(v));
            assert!((peak - 1.0).abs() < 1e-6);
            assert!(y.iter().all(|v| v.is_finite() && *v >= 0.0));
            // The target's energy sits at its sine's bin: 0.3 or 0.7 rad/sample is bin
            // 0.3·64/2π ≈ 3 or 0.7·64/2π ≈ 7.
            let energy = |f: usize| (0..5).map(|t| y[f * 5 + t]).sum::<f32>();
            let top = (0..33)
                .max_by(|&a, &b| energy(a).total_cmp(&energy(b)))
                .unwrap();
            assert!(
                top == 3 || top == 7,
                "example {i}: target peak at bin {top}"
            );
        }
        // Different examples are different mixes.
        assert_ne!(load(0).0, load(1).0);
        let bad = dir.join("bad.npy");
        soundcheck_npy::write(&bad, &[10, 4], &[0f32; 40]).unwrap();
        let e = MixDataset::open(&cfg, &[bad], 5, 0)
            .err()
            .unwrap()
            .to_string();
        assert!(e.contains("at least 128 samples"), "{e}");
    }
}
