//! Augmentation of the training clips' waveforms: speed perturbation (resampling, which moves
//! tempo and formants together, as a different speaker would), a gain, and noise at a random
//! signal-to-noise ratio (white, or excerpts of a folder of noise recordings). As in Kaldi's
//! speed perturbation and MUSAN recipes, each clip is drawn into a fixed number of copies before
//! training and their features computed once; every epoch then shows each clip as itself or one
//! of its copies. Drawing new waveforms every epoch would recompute every clip's features every
//! epoch, several times the cost of the training itself on short clips.

use std::path::{Path, PathBuf};

use rayon::prelude::*;
use soundcheck_audio::{is_audio_path, load, resample, AudioSource, LoadOptions};
use soundcheck_data::Sequence;
use soundcheck_io::SplitMix64;

use super::clip_features::ClipFeatures;
use crate::error::{Result, TaskError};
use crate::progress::Progress;

/// Slowest and fastest speed factors accepted: beyond them a word is no longer the same word.
const SPEED_LIMITS: (f64, f64) = (0.5, 2.0);
/// Largest gain accepted either way, in dB.
const GAIN_LIMIT_DB: f64 = 40.0;
/// Most copies per clip: each holds the clip's features once more in memory.
const MAX_COPIES: usize = 32;
/// SNRs accepted, in dB: below −30 dB the clip is lost in the noise; above 100 dB the noise is
/// below 16-bit quantisation.
const SNR_LIMITS: (f64, f64) = (-30.0, 100.0);

/// What each copy of a training clip draws; the default draws nothing.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct WaveAugment {
    /// Copies drawn per training clip (besides the clip itself).
    pub copies: usize,
    /// Speed factors drawn uniformly from `(low, high)`: 1.1 plays 10 % faster and higher.
    pub speed: Option<(f64, f64)>,
    /// Gains drawn uniformly from ±this many dB.
    pub gain_db: f64,
    /// Noise added at an SNR drawn uniformly from `(low, high)` dB.
    pub noise_snr: Option<(f64, f64)>,
    /// Noise recordings to take the noise from (a random excerpt of a random file); white
    /// noise without it.
    pub noise_dir: Option<PathBuf>,
}

impl WaveAugment {
    /// Copies per clip when a speed, gain or noise is asked for without a count.
    pub const DEFAULT_COPIES: usize = 4;

    /// Whether any copy is drawn.
    pub fn is_active(&self) -> bool {
        self.copies > 0 && self.draws_anything()
    }

    /// Whether a speed, a gain or noise is asked for (copies then have something to draw).
    pub fn draws_anything(&self) -> bool {
        self.speed.is_some() || self.gain_db > 0.0 || self.noise_snr.is_some()
    }

    /// One line for the run's options.
    pub fn describe(&self) -> String {
        if !self.is_active() {
            return "none".into();
        }
        let mut parts = vec![format!("copies={}", self.copies)];
        if let Some((lo, hi)) = self.speed {
            parts.push(format!("speed={lo}..{hi}"));
        }
        if self.gain_db > 0.0 {
            parts.push(format!("gain=±{} dB", self.gain_db));
        }
        if let Some((lo, hi)) = self.noise_snr {
            let source = self
                .noise_dir
                .as_ref()
                .map_or("white".to_string(), |d| d.display().to_string());
            parts.push(format!("noise={source} at {lo}..{hi} dB SNR"));
        }
        parts.join(" ")
    }

    /// Checks the settings before any clip is read.
    ///
    /// # Errors
    /// A range out of order or outside its limits, a non-finite value, more copies than
    /// [`MAX_COPIES`], copies without anything to draw, or a noise folder without an SNR.
    pub fn check(&self) -> Result<()> {
        let bad = |name: &'static str, actual: String, expected: String| {
            Err(TaskError::Option {
                name,
                actual,
                expected,
            })
        };
        if let Some((lo, hi)) = self.speed {
            let (min, max) = SPEED_LIMITS;
            if !(lo.is_finite() && hi.is_finite() && min <= lo && lo <= hi && hi <= max) {
                return bad(
                    "speed",
                    format!("{lo},{hi}"),
                    format!("LOW,HIGH with {min} ≤ LOW ≤ HIGH ≤ {max}, e.g. 0.9,1.1"),
                );
            }
        }
        if !(self.gain_db.is_finite() && (0.0..=GAIN_LIMIT_DB).contains(&self.gain_db)) {
            return bad(
                "gain_db",
                self.gain_db.to_string(),
                format!("a gain in dB from 0 to {GAIN_LIMIT_DB}, e.g. 6"),
            );
        }
        if let Some((lo, hi)) = self.noise_snr {
            let (min, max) = SNR_LIMITS;
            if !(lo.is_finite() && hi.is_finite() && min <= lo && lo <= hi && hi <= max) {
                return bad(
                    "noise_snr",
                    format!("{lo},{hi}"),
                    format!("LOW,HIGH in dB with {min} ≤ LOW ≤ HIGH ≤ {max}, e.g. 10,30"),
                );
            }
        }
        if self.noise_dir.is_some() && self.noise_snr.is_none() {
            return bad(
                "noise_dir",
                "a folder without an SNR".into(),
                "`noise_snr` as well, the range of SNRs the noise is added at".into(),
            );
        }
        if self.copies > MAX_COPIES {
            return bad(
                "augment_copies",
                self.copies.to_string(),
                format!("at most {MAX_COPIES} copies per clip"),
            );
        }
        if self.copies > 0 && !self.draws_anything() {
            return bad(
                "augment_copies",
                self.copies.to_string(),
                "`speed`, `gain_db` or `noise_snr` to draw the copies with".into(),
            );
        }
        Ok(())
    }

    /// Checks that the copies of `clips` fit in memory: as many features per copy as the clip
    /// has, more at the slowest speed.
    ///
    /// # Errors
    /// More than the memory budget, naming `augment_copies`.
    pub(super) fn budget(&self, clips: &[Sequence]) -> Result<()> {
        let slowest = self.speed.map_or(1.0, |(lo, _)| lo);
        let values = clips.iter().map(|c| c.data.len()).sum::<usize>();
        let stretched = (values as f64 / slowest).ceil() as usize;
        soundcheck_io::budget::memory(
            "the copies' features (copies × values of the training clips ÷ slowest speed)",
            &[self.copies, stretched],
            4,
        )
        .map(|_| ())
        .map_err(|e| TaskError::Option {
            name: "augment_copies",
            actual: self.copies.to_string(),
            expected: format!("copies that fit in memory: {e}"),
        })
    }

    /// The recordings of `noise_dir` at `sr` (none without it), read before any clip so that a
    /// bad folder is named before the features are computed.
    ///
    /// # Errors
    /// A folder without audio, an unreadable or silent recording, more than the memory budget,
    /// a speed whose resampling rate does not fit `sr`.
    pub(super) fn noises(&self, sr: u32) -> Result<Vec<Vec<f32>>> {
        if let Some((_, hi)) = self.speed.filter(|_| self.is_active()) {
            if hi * f64::from(sr) > f64::from(u32::MAX) {
                return Err(TaskError::Option {
                    name: "speed",
                    actual: format!("{hi} at {sr} Hz"),
                    expected: format!("a speed whose rate (speed × {sr} Hz) fits 32 bits"),
                });
            }
        }
        match &self.noise_dir {
            Some(dir) if self.is_active() => load_noises(dir, sr),
            _ => Ok(Vec::new()),
        }
    }

    /// The copies of each clip of `paths`, as features, with noise from `noises`
    /// ([`Self::noises`]). Copy `k` of clip `i` depends only on `seed`, `i` and `k`. Each clip
    /// is decoded again here rather than kept from its first reading: the training set's
    /// waveforms would take far more memory than its features.
    ///
    /// # Errors
    /// Unreadable clips (each named).
    pub(super) fn extract(
        &self,
        features: &ClipFeatures,
        paths: &[&Path],
        seed: u64,
        noises: &[Vec<f32>],
        progress: &dyn Progress,
    ) -> Result<Vec<Vec<Sequence>>> {
        progress.start("augmented copies", paths.len());
        let results: Vec<Result<Vec<Sequence>>> = paths
            .par_iter()
            .enumerate()
            .map(|(i, path)| {
                let r = self.copies_of(features, path, i, seed, noises);
                progress.step();
                r
            })
            .collect();
        progress.finish();
        TaskError::every_clip(results)
    }

    fn copies_of(
        &self,
        features: &ClipFeatures,
        path: &Path,
        clip: usize,
        seed: u64,
        noises: &[Vec<f32>],
    ) -> Result<Vec<Sequence>> {
        let y = features.load(path)?;
        let mut out = Vec::with_capacity(self.copies);
        for k in 0..self.copies {
            // Keyed apart from the epochs' draws (augment.rs), which key on the epoch first.
            let mut rng = SplitMix64::keyed(seed, &[u64::MAX, clip as u64, k as u64]);
            let z = self
                .draw(&y, features.sample_rate, noises, &mut rng)
                .map_err(|e| TaskError::file(path, e))?;
            out.push(features.of_samples(path, &z)?);
        }
        Ok(out)
    }

    /// One copy of `y` (at `sr`): resampled to the drawn speed, scaled by the drawn gain, with
    /// noise at the drawn SNR. A silent clip gets no noise: it has no SNR to keep.
    fn draw(
        &self,
        y: &[f32],
        sr: u32,
        noises: &[Vec<f32>],
        rng: &mut SplitMix64,
    ) -> soundcheck_audio::Result<Vec<f32>> {
        let between = |(lo, hi): (f64, f64), rng: &mut SplitMix64| lo + (hi - lo) * rng.uniform();
        let mut z = match self.speed {
            // Played `f` times faster: the samples read as if recorded at f·sr, brought to sr.
            Some(range) => {
                let f = between(range, rng);
                let from = (f * f64::from(sr)).round().max(1.0) as u32;
                if from == sr {
                    y.to_vec()
                } else {
                    resample(y, from, sr)?
                }
            }
            None => y.to_vec(),
        };
        if self.gain_db > 0.0 {
            let g = 10f64.powf(between((-self.gain_db, self.gain_db), rng) / 20.0) as f32;
            z.iter_mut().for_each(|v| *v *= g);
        }
        if let Some(range) = self.noise_snr {
            let snr = between(range, rng);
            let power = mean_square(&z);
            let noise = match noises.len() {
                0 => (0..z.len()).map(|_| rng.normal() as f32).collect(),
                n => excerpt(&noises[rng.below(n)], z.len(), rng),
            };
            let noise_power = mean_square(&noise);
            if power > 0.0 && noise_power > 0.0 {
                let scale = (power / noise_power / 10f64.powf(snr / 10.0)).sqrt() as f32;
                z.iter_mut().zip(&noise).for_each(|(v, n)| *v += scale * n);
            }
        }
        Ok(z)
    }
}

fn mean_square(x: &[f32]) -> f64 {
    x.iter().map(|&v| f64::from(v) * f64::from(v)).sum::<f64>() / x.len().max(1) as f64
}

/// `len` samples of `noise` from a random start, wrapping round to its beginning when it is
/// shorter.
fn excerpt(noise: &[f32], len: usize, rng: &mut SplitMix64) -> Vec<f32> {
    let start = rng.below(noise.len());
    (0..len).map(|t| noise[(start + t) % noise.len()]).collect()
}

/// Every audio file directly in `dir` (not its subfolders), loaded mono at `sr`: their length
/// at `sr`, read from the headers, is checked against the memory budget before any is decoded.
fn load_noises(dir: &Path, sr: u32) -> Result<Vec<Vec<f32>>> {
    let rd = std::fs::read_dir(dir).map_err(|e| TaskError::io(dir, "read the noise folder", e))?;
    let mut paths: Vec<PathBuf> = rd
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_file() && is_audio_path(p))
        .collect();
    paths.sort();
    if paths.is_empty() {
        return Err(TaskError::Folder {
            path: dir.to_path_buf(),
            actual: format!(
                "no audio files ({}) in it",
                soundcheck_audio::AUDIO_EXTENSIONS.join(", ")
            ),
            hint: "give `noise_dir` a folder of noise recordings, or leave it out for white noise"
                .into(),
        });
    }
    let mut samples = 0usize;
    for p in &paths {
        let source = AudioSource::open(p).map_err(|e| TaskError::file(p, e))?;
        let at_sr = source.frames() as f64 * f64::from(sr) / f64::from(source.sample_rate());
        samples = samples.saturating_add(at_sr.ceil() as usize);
    }
    soundcheck_io::budget::memory("the noise recordings' samples", &[samples], 4).map_err(|e| {
        TaskError::Option {
            name: "noise_dir",
            actual: dir.display().to_string(),
            expected: format!("noise recordings that fit in memory: {e}"),
        }
    })?;
    paths
        .iter()
        .map(|p| {
            let mut audio = load(
                p,
                &LoadOptions {
                    sr: Some(sr),
                    ..Default::default()
                },
            )
            .map_err(|e| TaskError::file(p, e))?;
            let y = audio.channels.swap_remove(0);
            if mean_square(&y) == 0.0 {
                return Err(TaskError::Folder {
                    path: p.clone(),
                    actual: "a silent recording in the noise folder".into(),
                    hint: "remove it: noise at an SNR needs a recording with sound in it".into(),
                });
            }
            Ok(y)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tone(n: usize, sr: u32) -> Vec<f32> {
        (0..n)
            .map(|t| (std::f32::consts::TAU * 440.0 * t as f32 / sr as f32).sin() * 0.5)
            .collect()
    }

    #[test]
    fn a_copy_has_the_drawn_speed_gain_and_snr() {
        let y = tone(8000, 8000);
        let speed = WaveAugment {
            copies: 1,
            speed: Some((1.25, 1.25)),
            ..Default::default()
        };
        // 25 % faster: 8000 samples read as 10000 Hz and brought to 8000 Hz, 6400 samples.
        let z = speed.draw(&y, 8000, &[], &mut SplitMix64::new(1)).unwrap();
        assert_eq!(z.len(), 6400);
        let gain = WaveAugment {
            copies: 1,
            gain_db: 6.0,
            ..Default::default()
        };
        for seed in 0..20 {
            let z = gain
                .draw(&y, 8000, &[], &mut SplitMix64::new(seed))
                .unwrap();
            let db = 10.0 * (mean_square(&z) / mean_square(&y)).log10();
            assert!((-6.0 - 1e-6..=6.0 + 1e-6).contains(&db), "{db}");
        }
        let noisy = WaveAugment {
            copies: 1,
            noise_snr: Some((10.0, 10.0)),
            ..Default::default()
        };
        let z = noisy.draw(&y, 8000, &[], &mut SplitMix64::new(3)).unwrap();
        let noise: Vec<f32> = z.iter().zip(&y).map(|(a, b)| a - b).collect();
        let snr = 10.0 * (mean_square(&y) / mean_square(&noise)).log10();
        assert!((snr - 10.0).abs() < 1e-3, "{snr}");
        // Noise from a recording: an excerpt of it, scaled to the SNR; a silent clip stays silent.
        let recorded = vec![tone(300, 8000)];
        let z = noisy
            .draw(&y, 8000, &recorded, &mut SplitMix64::new(4))
            .unwrap();
        let noise: Vec<f32> = z.iter().zip(&y).map(|(a, b)| a - b).collect();
        let snr = 10.0 * (mean_square(&y) / mean_square(&noise)).log10();
        assert!((snr - 10.0).abs() < 0.1, "{snr}");
        let silent = noisy
            .draw(&[0.0; 100], 8000, &[], &mut SplitMix64::new(5))
            .unwrap();
        assert!(silent.iter().all(|&v| v == 0.0));
    }

    #[test]
    fn a_copy_depends_on_the_seed_the_clip_and_its_index_only() {
        let w = WaveAugment {
            copies: 2,
            speed: Some((0.9, 1.1)),
            gain_db: 3.0,
            noise_snr: Some((0.0, 20.0)),
            noise_dir: None,
        };
        let y = tone(4000, 8000);
        let copy = |seed, clip: u64, k: u64| {
            w.draw(
                &y,
                8000,
                &[],
                &mut SplitMix64::keyed(seed, &[u64::MAX, clip, k]),
            )
            .unwrap()
        };
        assert_eq!(copy(1, 3, 0), copy(1, 3, 0));
        assert_ne!(copy(1, 3, 0), copy(1, 3, 1));
        assert_ne!(copy(1, 3, 0), copy(1, 4, 0));
        assert_ne!(copy(1, 3, 0), copy(2, 3, 0));
    }

    #[test]
    fn a_noise_folder_without_sound_is_named_before_any_clip_is_read() {
        let d = std::env::temp_dir().join(format!("sc-noise-dir-{}", std::process::id()));
        std::fs::create_dir_all(&d).unwrap();
        let w = WaveAugment {
            copies: 1,
            noise_snr: Some((10.0, 20.0)),
            noise_dir: Some(d.clone()),
            ..Default::default()
        };
        let e = w.noises(8000).unwrap_err().to_string();
        assert!(e.contains("no audio files"), "{e}");
        soundcheck_audio::write_wav(&d.join("quiet.wav"), &[vec![0.0; 800]], 8000).unwrap();
        let e = w.noises(8000).unwrap_err().to_string();
        assert!(e.contains("quiet.wav") && e.contains("silent"), "{e}");
        soundcheck_audio::write_wav(&d.join("quiet.wav"), &[tone(800, 16000)], 16000).unwrap();
        let noises = w.noises(8000).unwrap();
        assert_eq!(noises.len(), 1);
        assert_eq!(noises[0].len(), 400);
        std::fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn settings_out_of_range_are_named() {
        let cases = [
            (
                WaveAugment {
                    copies: 1,
                    speed: Some((1.1, 0.9)),
                    ..Default::default()
                },
                "speed",
            ),
            (
                WaveAugment {
                    copies: 1,
                    speed: Some((0.1, 1.0)),
                    ..Default::default()
                },
                "speed",
            ),
            (
                WaveAugment {
                    copies: 1,
                    gain_db: f64::NAN,
                    ..Default::default()
                },
                "gain_db",
            ),
            (
                WaveAugment {
                    copies: 1,
                    noise_snr: Some((30.0, f64::INFINITY)),
                    ..Default::default()
                },
                "noise_snr",
            ),
            (
                WaveAugment {
                    copies: 1,
                    noise_snr: Some((-500.0, 10.0)),
                    ..Default::default()
                },
                "noise_snr",
            ),
            (
                WaveAugment {
                    copies: 1,
                    noise_dir: Some("noise".into()),
                    ..Default::default()
                },
                "noise_dir",
            ),
            (
                WaveAugment {
                    copies: 1000,
                    gain_db: 3.0,
                    ..Default::default()
                },
                "augment_copies",
            ),
            (
                WaveAugment {
                    copies: 2,
                    ..Default::default()
                },
                "augment_copies",
            ),
        ];
        for (w, name) in cases {
            let e = w.check().unwrap_err().to_string();
            assert!(e.contains(name), "{name}: {e}");
        }
        assert!(WaveAugment::default().check().is_ok());
    }
}
