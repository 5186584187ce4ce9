//! `soundcheck features KIND AUDIO... -o OUT`: librosa's features, as .npy files numpy reads.

use std::path::{Path, PathBuf};

use clap::{ArgAction, Args, ValueEnum};
use ndarray::Array2;
use rayon::prelude::*;
use realfft::num_complex::Complex32;
use serde_json::json;
use soundcheck_audio::{
    self as audio, AudioError, ChromaConfig, ContrastConfig, Descriptor, LoadOptions, MelConfig,
    MelFilterbank, OnsetConfig, PadMode, Ref, StftConfig,
};

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum FeatureKind {
    /// Samples: (n,) mono, (channels, n) with --no-mono
    Waveform,
    /// Complex STFT, complex64: (1 + n_fft/2, frames)
    Stft,
    /// |STFT|
    Magnitude,
    /// |STFT|²
    Power,
    /// Mel power spectrogram: (n_mels, frames)
    Mel,
    /// MFCCs: (n_mfcc, frames)
    Mfcc,
    /// Root mean square of each frame of n_fft samples: (1, frames)
    Rms,
    /// Share of sign changes in each frame of n_fft samples: (1, frames)
    #[value(alias = "zero_crossing_rate")]
    ZeroCrossingRate,
    /// Magnitude-weighted mean frequency in Hz: (1, frames)
    #[value(alias = "spectral_centroid")]
    SpectralCentroid,
    /// Magnitude-weighted spread around the centroid in Hz (p = 2): (1, frames)
    #[value(alias = "spectral_bandwidth")]
    SpectralBandwidth,
    /// Frequency below which 85 % of the magnitude lies, in Hz: (1, frames)
    #[value(alias = "spectral_rolloff")]
    SpectralRolloff,
    /// Geometric over arithmetic mean of the power spectrum: (1, frames)
    #[value(alias = "spectral_flatness")]
    SpectralFlatness,
    /// Energy per pitch class, C to B, after estimating the tuning (librosa.feature.chroma_stft):
    /// (12, frames)
    #[value(alias = "chroma_stft", alias = "chroma-stft")]
    Chroma,
    /// Peak-to-valley dB of 6 octave bands from 200 Hz and the band below: (7, frames)
    #[value(alias = "spectral_contrast")]
    SpectralContrast,
    /// Onset strength, the spectral flux of the log mel spectrogram: (frames,)
    #[value(alias = "onset_strength")]
    OnsetStrength,
    /// Constant-Q transform, complex64, librosa.cqt's defaults (84 bins from C1, 12 per
    /// octave): (84, frames)
    Cqt,
    /// Energy per pitch class from a 7-octave, 36-bins-per-octave CQT, tuning estimated
    /// (librosa.feature.chroma_cqt): (12, frames)
    #[value(alias = "chroma_cqt")]
    ChromaCqt,
    /// Tonal centroids of chroma_cqt on the circles of fifths and thirds: (6, frames)
    Tonnetz,
}

impl FeatureKind {
    /// A spectrogram-like matrix (bins × frames) a picture can show.
    fn is_spectrogram(self) -> bool {
        matches!(
            self,
            FeatureKind::Stft
                | FeatureKind::Magnitude
                | FeatureKind::Power
                | FeatureKind::Mel
                | FeatureKind::Mfcc
        )
    }
}

#[derive(Clone, Copy, ValueEnum)]
pub enum PadArg {
    Constant,
    Reflect,
}

#[derive(Clone, Copy, ValueEnum)]
pub enum NormArg {
    Slaney,
    None,
}

/// Compute librosa-compatible features and write them as .npy (complex64 for stft and cqt).
///
/// Defaults are librosa's: sr 22050 mono, n_fft 2048, hop n_fft/4, Hann window, center=True with
/// zero padding, 128 Slaney mels, 20 MFCCs. Output axes are librosa's ((freq, frames)), or
/// time-major with --time-major; --patch cuts channels_last model inputs.
#[derive(Args)]
#[command(
    after_help = "Examples:\n  soundcheck features mfcc song.wav -o song_mfcc.npy --n-mfcc 13 --time-major\n  soundcheck features magnitude mix.wav -o patches.npy --n-fft 1024 --hop-length 256 --patch 25\n  soundcheck features mel clips/*.wav -o features/ --db --png-dir plots/"
)]
pub struct FeaturesArgs {
    /// What to compute
    #[arg(value_enum)]
    kind: FeatureKind,
    /// Audio files (WAV, FLAC, OGG/Vorbis, MP3)
    #[arg(required = true)]
    audio: Vec<PathBuf>,
    /// Output .npy (one input) or folder (several inputs: one <name>.npy each)
    #[arg(short, long)]
    output: PathBuf,
    /// Target sample rate in Hz, or "native" to keep the file's
    #[arg(long, default_value = "22050")]
    sr: String,
    /// Keep the channels apart instead of averaging them (librosa mono=False)
    #[arg(long)]
    no_mono: bool,
    /// Average the channels (librosa mono=True, the default; accepted for librosa's spelling)
    #[arg(long, conflicts_with = "no_mono")]
    mono: bool,
    /// Start this many seconds into each file
    #[arg(long, default_value_t = 0.0)]
    offset: f64,
    /// Read at most this many seconds
    #[arg(long)]
    duration: Option<f64>,
    #[arg(long, default_value_t = 2048)]
    n_fft: usize,
    /// Default: win_length / 4
    #[arg(long)]
    hop_length: Option<usize>,
    /// Default: n_fft
    #[arg(long)]
    win_length: Option<usize>,
    /// Centre frames on their hop positions by padding n_fft/2 at both ends
    #[arg(long, default_value_t = true, action = ArgAction::Set)]
    center: bool,
    #[arg(long, value_enum, default_value = "constant")]
    pad_mode: PadArg,
    #[arg(long, default_value_t = 128)]
    n_mels: usize,
    #[arg(long, default_value_t = 0.0)]
    fmin: f64,
    /// Default: sr / 2
    #[arg(long)]
    fmax: Option<f64>,
    /// HTK mel scale instead of Slaney's
    #[arg(long)]
    htk: bool,
    #[arg(long, value_enum, default_value = "slaney")]
    norm: NormArg,
    /// Exponent of the magnitude under the mel filterbank (librosa's `power`): 2 for a power
    /// mel spectrogram, 1 for a magnitude one
    #[arg(long, default_value_t = 2.0)]
    power: f32,
    #[arg(long, default_value_t = 20)]
    n_mfcc: usize,
    #[arg(long, default_value_t = 0.0)]
    lifter: f32,
    /// Decibels: amplitude_to_db for magnitude, power_to_db for power and mel (ref 1.0)
    #[arg(long)]
    db: bool,
    /// With --db: floor at max − top_db
    #[arg(long, default_value_t = 80.0)]
    top_db: f32,
    /// Stack the feature with its deltas along the feature axis: 1 gives [F; delta(F)], 2 adds
    /// delta(F, order=2), as the usual np.vstack of librosa.feature.delta (width 9)
    #[arg(long, value_name = "ORDER", value_parser = clap::value_parser!(u8).range(1..=2))]
    delta: Option<u8>,
    /// Write (frames, features) instead of librosa's (features, frames)
    #[arg(long)]
    time_major: bool,
    /// Cut into (n_patches, features, FRAMES, channels) channels_last patches
    #[arg(long, value_name = "FRAMES")]
    patch: Option<usize>,
    /// Also write a spectrogram picture (one input)
    #[arg(long, value_name = "OUT.png")]
    png: Option<PathBuf>,
    /// Print a JSON summary of what was written
    #[arg(long)]
    json: bool,
}

/// `np.vstack([m, delta(m), ..., delta(m, order=order)])` with librosa's width 9.
fn with_deltas(m: &Array2<f32>, order: usize) -> Result<Array2<f32>, AudioError> {
    let mut rows = vec![m.clone()];
    for o in 1..=order {
        rows.push(audio::delta(m, 9, o)?);
    }
    let views: Vec<_> = rows.iter().map(|r| r.view()).collect();
    Ok(ndarray::concatenate(ndarray::Axis(0), &views).expect("equal frame counts"))
}

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

fn bad(
    flag: &'static str,
    value: impl std::fmt::Display,
    expected: impl Into<String>,
    hint: &str,
) -> AudioError {
    audio::error::invalid(flag, value, expected, hint)
}

impl FeaturesArgs {
    fn stft_cfg(&self) -> StftConfig {
        StftConfig {
            n_fft: self.n_fft,
            hop_length: self.hop_length,
            win_length: self.win_length,
            center: self.center,
            pad_mode: match self.pad_mode {
                PadArg::Constant => PadMode::Constant,
                PadArg::Reflect => PadMode::Reflect,
            },
        }
    }

    fn mel_cfg(&self) -> MelConfig {
        MelConfig {
            n_mels: self.n_mels,
            fmin: self.fmin,
            fmax: self.fmax,
            htk: self.htk,
            slaney_norm: matches!(self.norm, NormArg::Slaney),
        }
    }

    fn load_opts(&self) -> Result<LoadOptions, AudioError> {
        let sr = match self.sr.as_str() {
            "native" | "none" | "None" => None,
            s => Some(s.parse::<u32>().ok().filter(|&v| v > 0).ok_or_else(|| {
                bad(
                    "--sr",
                    s,
                    "a positive sample rate in Hz, or 'native'",
                    "librosa's default is 22050",
                )
            })?),
        };
        Ok(LoadOptions {
            sr,
            mono: !self.no_mono,
            offset: self.offset,
            duration: self.duration,
        })
    }

    fn validate(&self) -> Result<(), AudioError> {
        if self.db
            && !matches!(
                self.kind,
                FeatureKind::Magnitude | FeatureKind::Power | FeatureKind::Mel
            )
        {
            return Err(bad(
                "--db",
                "set",
                "magnitude, power or mel (MFCCs are already log-scaled)",
                "",
            ));
        }
        if self.patch.is_some() && self.kind == FeatureKind::Waveform {
            return Err(bad(
                "--patch",
                self.patch.unwrap_or(0),
                "a spectral KIND (stft, magnitude, power, mel, mfcc)",
                "cut waveforms with frame() instead",
            ));
        }
        if self.power != 2.0
            && (self.kind != FeatureKind::Mel || !(self.power > 0.0 && self.power.is_finite()))
        {
            return Err(bad(
                "--power",
                self.power,
                "a positive exponent, with KIND mel",
                "librosa's default is 2 (power); 1 gives a magnitude mel spectrogram",
            ));
        }
        if self.delta.is_some()
            && matches!(
                self.kind,
                FeatureKind::Waveform | FeatureKind::Stft | FeatureKind::Cqt
            )
        {
            return Err(bad(
                "--delta",
                self.delta.unwrap_or(0),
                "a real frame-wise KIND (magnitude, power, mel, mfcc, rms, ...)",
                "deltas are taken along frames of a real feature",
            ));
        }
        if self.png.is_some() && !self.kind.is_spectrogram() {
            return Err(bad(
                "--png",
                "set",
                "a spectrogram KIND (stft, magnitude, power, mel, mfcc)",
                "the other kinds are one value per sample or per frame: plot the .npy",
            ));
        }
        if self.patch == Some(0) {
            return Err(bad(
                "--patch",
                0,
                "a positive number of frames",
                "the vocal separation seed uses 25",
            ));
        }
        if self.patch.is_some() && self.time_major {
            return Err(bad("--time-major", "set", "not combined with --patch", "patches are (n_patches, features, FRAMES, channels), as channels_last Conv2D models read them"));
        }
        Ok(())
    }

    /// What the picture's axes show.
    fn axes(&self, input: &Path, sr: u32) -> soundcheck_tasks::plot::Axes {
        let cfg = self.stft_cfg();
        let name = input
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or("audio");
        let (y_label, y_step, value) = match self.kind {
            FeatureKind::Mel => ("mel band".to_string(), 1.0, "dB"),
            FeatureKind::Mfcc => ("MFCC".to_string(), 1.0, ""),
            _ => (
                "frequency (Hz)".to_string(),
                sr as f64 / cfg.n_fft as f64,
                "dB",
            ),
        };
        soundcheck_tasks::plot::Axes {
            title: format!("{:?} - {name}", self.kind),
            x_step: cfg.hop() as f64 / sr as f64,
            y_label,
            y_step,
            value_label: value.to_string(),
        }
    }

    /// The channels' real feature matrices (features, frames). Decibels and MFCCs treat the
    /// channels as librosa treats a `(channels, n)` array: one reference and one `top_db` floor
    /// for all, set by the loudest channel.
    fn real_matrices(
        &self,
        channels: &[Vec<f32>],
        sr: u32,
    ) -> Result<Vec<Array2<f32>>, AudioError> {
        let cfg = self.stft_cfg();
        let magnitude = |y: &[f32]| -> Result<Array2<f32>, AudioError> {
            Ok(audio::magnitude(&audio::stft(y, &cfg)?))
        };
        let ys: Vec<&[f32]> = channels.iter().map(Vec::as_slice).collect();
        match self.kind {
            FeatureKind::Mfcc => {
                return audio::mfcc_channels(
                    &ys,
                    sr,
                    &cfg,
                    &self.mel_cfg(),
                    self.n_mfcc,
                    self.lifter,
                )
            }
            FeatureKind::SpectralContrast => {
                return audio::spectral_contrast_of_signals(
                    &ys,
                    sr,
                    &cfg,
                    &ContrastConfig::default(),
                );
            }
            FeatureKind::Chroma => {
                let power = ys
                    .iter()
                    .map(|y| audio::power_spectrogram(y, &cfg))
                    .collect::<Result<Vec<_>, AudioError>>()?;
                return audio::chroma_stft_channels(
                    &power,
                    sr,
                    cfg.n_fft,
                    &ChromaConfig::default(),
                );
            }
            FeatureKind::ChromaCqt | FeatureKind::Tonnetz => {
                let chroma = audio::chroma_cqt_channels(
                    &ys,
                    sr,
                    &audio::CqtConfig::for_chroma(cfg.hop()),
                    None,
                    12,
                )?;
                return Ok(if self.kind == FeatureKind::Tonnetz {
                    chroma.iter().map(audio::tonnetz).collect()
                } else {
                    chroma
                });
            }
            FeatureKind::OnsetStrength => {
                let onset = OnsetConfig {
                    center: cfg.center,
                    ..OnsetConfig::default()
                };
                let curves = audio::onset_strength_channels(
                    &ys,
                    sr,
                    cfg.n_fft,
                    cfg.hop(),
                    &self.mel_cfg(),
                    &onset,
                )?;
                return Ok(curves
                    .into_iter()
                    .map(|v| Array2::from_shape_vec((1, v.len()), v).expect("one row"))
                    .collect());
            }
            _ => {}
        }
        let raw = channels
            .iter()
            .map(|y| match self.kind {
                FeatureKind::Magnitude => magnitude(y),
                FeatureKind::Power => Ok(audio::power(&audio::stft(y, &cfg)?)),
                // The fused pass squares the magnitudes; other exponents go through |S|^power.
                FeatureKind::Mel if self.power == 2.0 => {
                    audio::melspectrogram(y, sr, &cfg, &self.mel_cfg())
                }
                FeatureKind::Mel => {
                    let s = magnitude(y)?.mapv(|v| v.powf(self.power));
                    Ok(MelFilterbank::cached(sr, cfg.n_fft, &self.mel_cfg())?.apply(&s))
                }
                FeatureKind::Rms => audio::rms(y, cfg.n_fft, cfg.hop(), cfg.center),
                FeatureKind::ZeroCrossingRate => {
                    audio::zero_crossing_rate(y, cfg.n_fft, cfg.hop(), cfg.center)
                }
                FeatureKind::SpectralCentroid => Descriptor::Centroid.of_signal(y, sr, &cfg),
                FeatureKind::SpectralBandwidth => {
                    Descriptor::Bandwidth { p: 2.0 }.of_signal(y, sr, &cfg)
                }
                FeatureKind::SpectralRolloff => {
                    Descriptor::Rolloff { roll_percent: 0.85 }.of_signal(y, sr, &cfg)
                }
                FeatureKind::SpectralFlatness => Descriptor::Flatness {
                    power: 2.0,
                    amin: 1e-10,
                }
                .of_signal(y, sr, &cfg),
                FeatureKind::Waveform
                | FeatureKind::Stft
                | FeatureKind::Cqt
                | FeatureKind::Mfcc
                | FeatureKind::SpectralContrast
                | FeatureKind::Chroma
                | FeatureKind::ChromaCqt
                | FeatureKind::Tonnetz
                | FeatureKind::OnsetStrength => {
                    Err(bad("KIND", "waveform/stft", "a real spectral feature", ""))
                }
            })
            .collect::<Result<Vec<_>, _>>()?;
        match (self.db, self.kind == FeatureKind::Magnitude) {
            (false, _) => Ok(raw),
            (true, true) => {
                audio::amplitude_to_db_channels(&raw, Ref::Value(1.0), 1e-5, Some(self.top_db))
            }
            (true, false) => {
                audio::power_to_db_channels(raw, Ref::Value(1.0), 1e-10, Some(self.top_db))
            }
        }
    }

    /// Computes the feature of one file.
    pub fn compute(&self, path: &Path) -> Result<Feature, AudioError> {
        let loaded = audio::load(path, &self.load_opts()?)?;
        let sr = loaded.sample_rate;
        if self.kind == FeatureKind::Waveform {
            let n = loaded.channels[0].len();
            let shape = if self.no_mono {
                vec![loaded.channels.len(), n]
            } else {
                vec![n]
            };
            return Ok(Feature {
                shape,
                data: Data::Real(loaded.channels.concat()),
                sample_rate: sr,
                dropped: 0,
                picture: None,
            });
        }
        if matches!(self.kind, FeatureKind::Stft | FeatureKind::Cqt) {
            let cqt = audio::CqtConfig {
                hop_length: self.stft_cfg().hop(),
                ..Default::default()
            };
            let mats = loaded
                .channels
                .iter()
                .map(|y| match self.kind {
                    FeatureKind::Cqt => audio::cqt(y, sr, &cqt),
                    _ => audio::stft(y, &self.stft_cfg()),
                })
                .collect::<Result<Vec<_>, _>>()?;
            let picture =
                audio::amplitude_to_db(&audio::magnitude(&mats[0]), Ref::Max, 1e-5, Some(80.0))?;
            let (shape, data, dropped) = self.arrange(&mats, path)?;
            return Ok(Feature {
                shape,
                data: Data::Complex(data),
                sample_rate: sr,
                dropped,
                picture: Some(picture),
            });
        }
        let mats = self.real_matrices(&loaded.channels, sr)?;
        // The picture is in dB: MFCCs and --db output already are; the rest is converted.
        let picture = if !self.kind.is_spectrogram() {
            None
        } else if self.db || self.kind == FeatureKind::Mfcc {
            Some(mats[0].clone())
        } else if self.kind == FeatureKind::Magnitude {
            Some(audio::amplitude_to_db(
                &mats[0],
                Ref::Max,
                1e-5,
                Some(80.0),
            )?)
        } else {
            Some(audio::power_to_db(&mats[0], Ref::Max, 1e-10, Some(80.0))?)
        };
        // The picture shows the feature itself; the deltas join the written array only.
        let mats = match self.delta {
            None => mats,
            Some(order) => mats
                .iter()
                .map(|m| with_deltas(m, order.into()))
                .collect::<Result<Vec<_>, _>>()?,
        };
        let (shape, data, dropped) = self.arrange(&mats, path)?;
        Ok(Feature {
            shape,
            data: Data::Real(data),
            sample_rate: sr,
            dropped,
            picture,
        })
    }

    /// Lays the channels' (features, frames) matrices out as the output array, C order:
    /// `(features, frames)`, `(frames, features)` with --time-major, a leading channel axis with
    /// --no-mono, or with --patch `(n_patches, features, FRAMES, channels)` dropping the frames
    /// after the last whole patch.
    fn arrange<T: Copy>(
        &self,
        mats: &[Array2<T>],
        path: &Path,
    ) -> Result<(Vec<usize>, Vec<T>, usize), AudioError> {
        let (f, t) = mats[0].dim();
        let c = mats.len();
        if let Some(p) = self.patch {
            let n = t / p;
            if n == 0 {
                return Err(AudioError::TooShort {
                    what: format!("{}: {t} frames for --patch", path.display()),
                    actual: t,
                    expected: p,
                    hint: format!(
                        "each patch needs {p} frames; use a smaller --patch or a longer excerpt"
                    ),
                });
            }
            let mut v = Vec::with_capacity(n * f * p * c);
            for k in 0..n {
                for i in 0..f {
                    for j in 0..p {
                        v.extend(mats.iter().map(|m| m[[i, k * p + j]]));
                    }
                }
            }
            return Ok((vec![n, f, p, c], v, t - n * p));
        }
        // librosa's onset strength of a signal has no feature axis: (frames,).
        let mut shape = if self.kind == FeatureKind::OnsetStrength && f == 1 {
            vec![t]
        } else if self.time_major {
            vec![t, f]
        } else {
            vec![f, t]
        };
        if self.no_mono {
            shape.insert(0, c);
        }
        let data = mats
            .iter()
            .flat_map(|m| {
                if self.time_major {
                    m.t().iter().copied().collect::<Vec<T>>()
                } else {
                    m.iter().copied().collect()
                }
            })
            .collect();
        Ok((shape, data, 0))
    }
}

fn write_feature(path: &Path, feat: &Feature) -> Result<(), AudioError> {
    let written = match &feat.data {
        Data::Real(v) => soundcheck_npy::write(path, &feat.shape, v),
        Data::Complex(v) => {
            let pairs: Vec<[f32; 2]> = v.iter().map(|c| [c.re, c.im]).collect();
            soundcheck_npy::write(path, &feat.shape, &pairs)
        }
    };
    written.map_err(|e| AudioError::Write {
        path: e.path.clone(),
        source: std::io::Error::other(e),
    })
}

fn outputs(a: &FeaturesArgs) -> Result<Vec<PathBuf>, AudioError> {
    if a.audio.len() == 1 && !a.output.is_dir() {
        return Ok(vec![a.output.clone()]);
    }
    std::fs::create_dir_all(&a.output).map_err(|source| AudioError::Write {
        path: a.output.clone(),
        source,
    })?;
    let mut seen = std::collections::HashMap::new();
    a.audio
        .iter()
        .map(|p| {
            let stem = p
                .file_stem()
                .and_then(|s| s.to_str())
                .unwrap_or("audio")
                .to_string();
            if let Some(other) = seen.insert(stem.clone(), p.clone()) {
                return Err(bad(
                    "AUDIO",
                    p.display(),
                    format!(
                        "inputs with distinct file names ({} would overwrite {})",
                        p.display(),
                        other.display()
                    ),
                    "rename one, or run them separately",
                ));
            }
            Ok(a.output.join(format!("{stem}.npy")))
        })
        .collect()
}

fn dtype(feat: &Feature) -> &'static str {
    match feat.data {
        Data::Real(_) => "float32",
        Data::Complex(_) => "complex64",
    }
}

/// Runs every input; each one's outcome, in input order.
fn run_all(a: &FeaturesArgs) -> Result<Vec<Result<serde_json::Value, AudioError>>, AudioError> {
    a.validate()?;
    if a.png.is_some() && a.audio.len() > 1 {
        return Err(bad(
            "--png",
            "set",
            "one AUDIO input",
            "run once per file to draw each",
        ));
    }
    let outs = outputs(a)?;
    for out in &outs {
        if let Some(input) = a.audio.iter().find(|i| soundcheck_io::same_file(i, out)) {
            return Err(bad(
                "-o",
                out.display(),
                format!("a file other than the input {}", input.display()),
                "features never overwrite their audio: choose another output",
            ));
        }
    }
    let progress = crate::progress::Progress::new("features", a.audio.len());
    let results = a
        .audio
        .par_iter()
        .zip(&outs)
        .map(|(input, out)| {
            let feat = a.compute(input)?;
            write_feature(out, &feat)?;
            if let (Some(png), Some(pic)) = (&a.png, &feat.picture) {
                soundcheck_tasks::plot::write_png(png, pic, &a.axes(input, feat.sample_rate))
                    .map_err(|e| AudioError::Write {
                        path: png.clone(),
                        source: std::io::Error::other(e),
                    })?;
            }
            progress.tick();
            Ok(json!({
                "input": input, "output": out, "shape": feat.shape, "dtype": dtype(&feat),
                "sample_rate": feat.sample_rate, "frames_dropped": feat.dropped,
            }))
        })
        .collect();
    progress.finish();
    Ok(results)
}

fn describe(it: &serde_json::Value, patch: bool) -> String {
    let shape: Vec<String> = it["shape"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|d| d.to_string())
        .collect();
    let mut line = format!(
        "{} → {}: {} ({})",
        it["input"].as_str().unwrap_or(""),
        it["output"].as_str().unwrap_or(""),
        soundcheck_shape::shape::python_tuple(shape),
        it["dtype"].as_str().unwrap_or("")
    );
    if patch {
        let dropped = it["frames_dropped"].as_u64().unwrap_or(0);
        line.push_str(&format!(
            "; {dropped} frame(s) after the last whole patch dropped"
        ));
    }
    line
}

/// Exit status 0 when every input was written, 2 when any could not be (the others still are).
pub fn run(a: &FeaturesArgs) -> u8 {
    let results = match run_all(a) {
        Ok(r) => r,
        Err(e) => vec![Err(e)],
    };
    let failed = results.iter().filter(|r| r.is_err()).count();
    if a.json {
        let items: Vec<serde_json::Value> = results
            .iter()
            .map(|r| match r {
                Ok(v) => v.clone(),
                Err(e) => json!({"error": e.to_string()}),
            })
            .collect();
        outln!("{}", json!({"ok": failed == 0, "outputs": items}));
    } else {
        for r in &results {
            match r {
                Ok(it) => outln!("{}", describe(it, a.patch.is_some())),
                Err(e) => eprintln!("error: {e}"),
            }
        }
        if failed > 0 && results.len() > 1 {
            eprintln!(
                "{failed} of {} inputs failed; the others were written",
                results.len()
            );
        }
    }
    if failed == 0 {
        crate::report::OK
    } else {
        crate::report::UNUSABLE
    }
}
