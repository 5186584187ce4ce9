//! A clip's features for a sequence classifier, time-major: kinds of soundcheck-audio's feature
//! recipe (MFCCs, a log-mel spectrogram, chroma, spectral contrast, the one-value descriptors)
//! stacked frame by frame in the order asked (the common `np.vstack([mfcc, chroma, contrast,
//! ...]).T` recipe), optionally with their first and second deltas (librosa's `mode='interp'`;
//! a clip shorter than the delta window gets `mode='nearest'`'s, which any length has).

use std::path::Path;

use ndarray::{concatenate, s, Array2, Axis};
use rayon::prelude::*;
use soundcheck_audio::feature::{with_deltas, Frames, Layout, DELTA_WIDTH};
use soundcheck_audio::{
    load, AudioError, AudioSource, FeatureConfig, FeatureKind, LoadOptions, MelConfig, StftConfig,
};

use soundcheck_data::Sequence;

use crate::error::{Result, TaskError};

/// The kinds a clip's stack can hold: real, one frame per hop, in the order an unknown name's
/// error lists them.
const STACKABLE: [FeatureKind; 12] = [
    FeatureKind::Mfcc,
    FeatureKind::Mel,
    FeatureKind::ChromaStft,
    FeatureKind::SpectralContrast,
    FeatureKind::Rms,
    FeatureKind::ZeroCrossingRate,
    FeatureKind::SpectralCentroid,
    FeatureKind::SpectralBandwidth,
    FeatureKind::SpectralRolloff,
    FeatureKind::SpectralFlatness,
    FeatureKind::ChromaCqt,
    FeatureKind::Tonnetz,
];

/// One feature of a clip's stack: a kind of the audio recipe and its values per frame. The mel
/// kind is in decibels (`power_to_db`, librosa's defaults), as classifiers read it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ClipFeature {
    /// What is computed.
    pub kind: FeatureKind,
    /// Values per frame: the MFCC count, the mel bands, fixed for the other kinds.
    pub size: usize,
}

impl ClipFeature {
    /// `n_mfcc` MFCCs over librosa's 128 mel bands.
    pub fn mfcc(n_mfcc: usize) -> ClipFeature {
        ClipFeature {
            kind: FeatureKind::Mfcc,
            size: n_mfcc,
        }
    }

    /// `power_to_db(melspectrogram)` of `n_mels` bands.
    pub fn log_mel(n_mels: usize) -> ClipFeature {
        ClipFeature {
            kind: FeatureKind::Mel,
            size: n_mels,
        }
    }

    /// A kind at the size librosa's defaults give it (20 MFCCs, 128 mel bands).
    pub fn of(kind: FeatureKind) -> ClipFeature {
        ClipFeature {
            kind,
            size: FeatureConfig::default().rows(kind),
        }
    }

    /// Parses a feature name (soundcheck's short name or librosa's: `mfcc`, `mel`, `chroma`,
    /// `contrast`, `rms`, `zcr`, `centroid`, `bandwidth`, `rolloff`, `flatness`, `chroma_cqt`,
    /// `tonnetz`); MFCCs and mel bands take their counts from `n_mfcc` and `n_mels`.
    ///
    /// # Errors
    /// An unknown name, with the list.
    pub fn parse(name: &str, n_mfcc: usize, n_mels: usize) -> Result<ClipFeature> {
        // Records before the kinds were stacked named the log-mel spectrogram so.
        let key = name.trim().to_lowercase().replace('-', "_");
        let name = match key.as_str() {
            "logmel" | "log_mel" => "mel",
            _ => name,
        };
        Ok(match FeatureKind::parse(name, &STACKABLE)? {
            FeatureKind::Mfcc => ClipFeature::mfcc(n_mfcc),
            FeatureKind::Mel => ClipFeature::log_mel(n_mels),
            kind => ClipFeature::of(kind),
        })
    }

    /// The short name, as a run's record spells it.
    pub fn name(self) -> &'static str {
        self.kind.name()
    }

    /// Values per frame.
    pub fn size(self) -> usize {
        self.size
    }

    /// The recipe of this feature on frames of `stft`.
    fn config(self, stft: &StftConfig) -> FeatureConfig {
        let defaults = FeatureConfig::default();
        FeatureConfig {
            stft: stft.clone(),
            mel: MelConfig {
                n_mels: match self.kind {
                    FeatureKind::Mel => self.size,
                    _ => defaults.mel.n_mels,
                },
                ..defaults.mel
            },
            n_mfcc: match self.kind {
                FeatureKind::Mfcc => self.size,
                _ => defaults.n_mfcc,
            },
            db: self.kind == FeatureKind::Mel,
            ..defaults
        }
    }

    fn describe(self) -> String {
        match self.kind {
            FeatureKind::Mfcc => format!("mfcc n_mfcc={}", self.size),
            FeatureKind::Mel => format!("logmel n_mels={}", self.size),
            other => other.name().to_string(),
        }
    }
}

/// Feature settings, librosa's defaults (`librosa.load` at 22050 Hz mono, n_fft 2048, hop 512,
/// 128 mel bands under the MFCCs).
#[derive(Clone, Debug, PartialEq)]
pub struct ClipFeatures {
    /// Clips are loaded at this rate (librosa's default 22050 Hz).
    pub sample_rate: u32,
    /// What each frame holds, stacked in this order.
    pub kinds: Vec<ClipFeature>,
    /// Append Δ and ΔΔ of the whole stack (librosa.feature.delta, width 9).
    pub deltas: bool,
    /// FFT size of the STFT.
    pub n_fft: usize,
    /// Hop between frames in samples.
    pub hop_length: usize,
}

impl Default for ClipFeatures {
    fn default() -> Self {
        ClipFeatures {
            sample_rate: 22050,
            kinds: vec![ClipFeature::mfcc(13)],
            deltas: false,
            n_fft: 2048,
            hop_length: 512,
        }
    }
}

impl ClipFeatures {
    /// Values per frame.
    pub fn features(&self) -> usize {
        let base: usize = self.kinds.iter().map(|k| k.size()).sum();
        if self.deltas {
            3 * base
        } else {
            base
        }
    }

    /// One line naming every setting (for the run's record and cache keys).
    pub fn describe(&self) -> String {
        format!(
            "sr={} {} deltas={} n_fft={} hop={}",
            self.sample_rate,
            self.kinds
                .iter()
                .map(|k| k.describe())
                .collect::<Vec<_>>()
                .join("+"),
            self.deltas,
            self.n_fft,
            self.hop_length
        )
    }

    fn stft(&self) -> StftConfig {
        StftConfig {
            n_fft: self.n_fft,
            hop_length: Some(self.hop_length),
            ..Default::default()
        }
    }

    /// Checks the settings before any clip is read, so that a bad one is named once, as a
    /// setting, rather than as every clip's failure.
    ///
    /// # Errors
    /// The parameter librosa would refuse: the FFT size, the hop, the rate, the mel or MFCC
    /// count, contrast bands above Nyquist; no feature, or one listed twice.
    pub fn validate(&self) -> Result<()> {
        if self.kinds.is_empty() {
            return Err(TaskError::Option {
                name: "features",
                actual: "none".into(),
                expected: "at least one feature, e.g. mfcc".into(),
            });
        }
        let stft = self.stft();
        for (i, k) in self.kinds.iter().enumerate() {
            if self.kinds[..i].iter().any(|o| o.name() == k.name()) {
                return Err(TaskError::Option {
                    name: "features",
                    actual: format!("'{}' twice", k.name()),
                    expected: "each feature once".into(),
                });
            }
            k.config(&stft).check(k.kind, self.sample_rate)?;
        }
        Ok(())
    }

    /// The features of one clip.
    ///
    /// # Shapes
    /// - output: `(frames, features)`, frames = 1 + len / hop (librosa's centred framing), each
    ///   frame the kinds' values in order, then their deltas
    ///
    /// # Errors
    /// An unreadable file (named).
    pub fn extract(&self, path: &Path) -> Result<Sequence> {
        self.of_samples(path, &self.load(path)?)
    }

    /// The clip at `path`, mono at [`Self::sample_rate`].
    ///
    /// # Errors
    /// An unreadable file (named).
    pub fn load(&self, path: &Path) -> Result<Vec<f32>> {
        let mut audio = load(
            path,
            &LoadOptions {
                sr: Some(self.sample_rate),
                ..Default::default()
            },
        )?;
        Ok(audio.channels.swap_remove(0))
    }

    /// The features of `y`, mono samples at [`Self::sample_rate`] read from `path` (named in
    /// errors).
    ///
    /// # Errors
    /// Samples the features refuse (named with the file).
    pub fn of_samples(&self, path: &Path, y: &[f32]) -> Result<Sequence> {
        let stft = self.stft();
        let clip = |source: AudioError| TaskError::file(path, source);
        let rows = self
            .kinds
            .iter()
            .map(|k| {
                let frames = k.config(&stft).compute(k.kind, &[y], self.sample_rate);
                frames
                    .and_then(Frames::into_real)
                    .map(|mut one| one.remove(0))
            })
            .collect::<soundcheck_audio::Result<Vec<_>>>()
            .map_err(clip)?;
        let views: Vec<_> = rows.iter().map(Array2::view).collect();
        let m = concatenate(Axis(0), &views).map_err(|e| TaskError::Folder {
            path: path.to_path_buf(),
            actual: format!("the features' frame counts differ ({e})"),
            hint: "report this: every feature frames the clip with the same n_fft and hop".into(),
        })?;
        let m = if self.deltas {
            deltas_of_any_length(&m).map_err(clip)?
        } else {
            m
        };
        let time_major = Layout {
            time_major: true,
            ..Layout::default()
        };
        let arranged = time_major.arrange(&[m]);
        Ok(Sequence {
            frames: arranged.shape[0],
            features: arranged.shape[1],
            data: arranged.data,
        })
    }

    /// How many of these clips' deltas came from `mode='nearest'` (fewer frames than the
    /// delta window); 0 without deltas.
    pub fn short_for_deltas(&self, seqs: &[Sequence]) -> usize {
        if self.deltas {
            seqs.iter().filter(|s| s.frames < DELTA_WIDTH).count()
        } else {
            0
        }
    }

    /// Features of many clips in parallel; `tick` is called after each. Every unreadable clip
    /// is reported, not only the first.
    ///
    /// # Errors
    /// One error naming each clip that failed.
    pub fn extract_all(&self, paths: &[&Path], tick: &(dyn Fn() + Sync)) -> Result<Vec<Sequence>> {
        let results: Vec<Result<Sequence>> = paths
            .par_iter()
            .map(|p| {
                let r = self.extract(p);
                tick();
                r
            })
            .collect();
        TaskError::every_clip(results)
    }
}

/// The lowest sample rate among the files at `paths`, read from their headers (a compressed
/// file that does not announce its length is decoded once). Clips loaded at it are resampled
/// down, never up: upsampling leaves the bands above a clip's own Nyquist frequency empty but
/// for resampling noise, which per-clip normalisation then scales up like any other band (BENCHMARKS.md, issue 31).
///
/// # Errors
/// One error naming each file that could not be opened; an empty list.
pub fn lowest_rate(paths: &[&Path]) -> Result<u32> {
    let rates: Vec<Result<u32>> = paths
        .par_iter()
        .map(|p| {
            AudioSource::open(p)
                .map(|a| a.sample_rate())
                .map_err(|e| TaskError::file(p, e))
        })
        .collect();
    TaskError::every_clip(rates)?
        .into_iter()
        .min()
        .ok_or_else(|| TaskError::Option {
            name: "data",
            actual: "no clips".into(),
            expected: "at least one clip to read a sample rate from".into(),
        })
}

/// `m` stacked with its first and second deltas: librosa's `mode='interp'` when `m` has the
/// window's frames, else `mode='nearest'` — the frames padded by repeating the edge ones half a
/// window each side, where `interp` is the plain filter, and cut back — so that a clip of a few
/// frames trains instead of stopping the run.
///
/// # Shapes
/// - `m`: `(rows, frames)`
/// - output: `(3 · rows, frames)`
fn deltas_of_any_length(m: &Array2<f32>) -> soundcheck_audio::Result<Array2<f32>> {
    let frames = m.ncols();
    if frames >= DELTA_WIDTH || frames == 0 {
        return with_deltas(m, 2);
    }
    let half = DELTA_WIDTH / 2;
    let padded = Array2::from_shape_fn((m.nrows(), frames + 2 * half), |(r, t)| {
        m[[r, t.saturating_sub(half).min(frames - 1)]]
    });
    Ok(with_deltas(&padded, 2)?
        .slice(s![.., half..half + frames])
        .to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn the_lowest_rate_is_read_from_the_headers_and_an_unreadable_clip_is_named() {
        let d = std::env::temp_dir().join(format!("sc-lowest-rate-{}", std::process::id()));
        std::fs::create_dir_all(&d).unwrap();
        let (a, b) = (d.join("a.wav"), d.join("b.wav"));
        soundcheck_audio::write_wav(&a, &[vec![0.1; 800]], 16000).unwrap();
        soundcheck_audio::write_wav(&b, &[vec![0.1; 800]], 8000).unwrap();
        assert_eq!(lowest_rate(&[&a, &b]).unwrap(), 8000);
        assert_eq!(lowest_rate(&[&a]).unwrap(), 16000);
        let missing = d.join("missing.wav");
        let e = lowest_rate(&[&a, &missing]).unwrap_err().to_string();
        assert!(e.contains("missing.wav") && e.contains("1 of 2"), "{e}");
        assert!(lowest_rate(&[]).is_err());
        std::fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn short_clips_get_the_deltas_of_edge_repeated_frames() {
        // Frames 0, 1, 2 padded to 0 0 0 0 | 0 1 2 | 2 2 2 2; the first delta is
        // Σ k·x[t+k] / Σ k² over k = −4..4 (Σ k² = 60): at t = 0, (1·1 + 2·2 + 3·2 + 4·2)/60.
        let m = array![[0.0f32, 1.0, 2.0]];
        let d = deltas_of_any_length(&m).unwrap();
        assert_eq!(d.dim(), (3, 3));
        let first = [
            (1.0 + 2.0 * 2.0 + 3.0 * 2.0 + 4.0 * 2.0) / 60.0,
            (2.0 + 2.0 * 2.0 + 3.0 * 2.0 + 4.0 * 2.0) / 60.0,
            (-1.0 + 2.0 + 2.0 * 2.0 + 3.0 * 2.0 + 4.0 * 2.0) / 60.0,
        ];
        for (t, want) in first.iter().enumerate() {
            assert!(
                (d[[1, t]] - want).abs() < 1e-6,
                "{t}: {} vs {want}",
                d[[1, t]]
            );
        }
        assert_eq!(d.row(0), m.row(0));
        // A constant clip of one frame has no slope and no curvature.
        let one = deltas_of_any_length(&array![[3.0f32]]).unwrap();
        assert_eq!(one.dim(), (3, 1));
        assert!(
            one[[0, 0]] == 3.0 && one[[1, 0]].abs() < 1e-6 && one[[2, 0]].abs() < 1e-6,
            "{one:?}"
        );
    }
}
