//! `soundcheck features`' arguments: their spelling, their checks, and the recipe they ask for.

use std::path::PathBuf;

use clap::builder::PossibleValue;
use clap::{ArgAction, Args, ValueEnum};
use soundcheck_audio::feature::Layout;
use soundcheck_audio::{
    error::invalid, AudioError, FeatureConfig, FeatureKind, LoadOptions, MelConfig, PadMode,
    StftConfig,
};

/// KIND as `soundcheck features` spells it and describes it; librosa's names and soundcheck's
/// short ones are accepted too.
#[derive(Clone, Copy)]
pub struct KindArg {
    pub kind: FeatureKind,
    spelling: &'static str,
    help: &'static str,
}

const fn kind(kind: FeatureKind, spelling: &'static str, help: &'static str) -> KindArg {
    KindArg {
        kind,
        spelling,
        help,
    }
}

const KINDS: [KindArg; 18] = [
    kind(FeatureKind::Waveform, "waveform", "Samples: (n,) mono, (channels, n) with --no-mono"),
    kind(FeatureKind::Stft, "stft", "Complex STFT, complex64: (1 + n_fft/2, frames)"),
    kind(FeatureKind::Magnitude, "magnitude", "|STFT|"),
    kind(FeatureKind::Power, "power", "|STFT|²"),
    kind(FeatureKind::Mel, "mel", "Mel power spectrogram: (n_mels, frames)"),
    kind(FeatureKind::Mfcc, "mfcc", "MFCCs: (n_mfcc, frames)"),
    kind(FeatureKind::Rms, "rms", "Root mean square of each frame of n_fft samples: (1, frames)"),
    kind(
        FeatureKind::ZeroCrossingRate,
        "zero-crossing-rate",
        "Share of sign changes in each frame of n_fft samples: (1, frames)",
    ),
    kind(
        FeatureKind::SpectralCentroid,
        "spectral-centroid",
        "Magnitude-weighted mean frequency in Hz: (1, frames)",
    ),
    kind(
        FeatureKind::SpectralBandwidth,
        "spectral-bandwidth",
        "Magnitude-weighted spread around the centroid in Hz (p = 2): (1, frames)",
    ),
    kind(
        FeatureKind::SpectralRolloff,
        "spectral-rolloff",
        "Frequency below which 85 % of the magnitude lies, in Hz: (1, frames)",
    ),
    kind(
        FeatureKind::SpectralFlatness,
        "spectral-flatness",
        "Geometric over arithmetic mean of the power spectrum: (1, frames)",
    ),
    kind(
        FeatureKind::ChromaStft,
        "chroma",
        "Energy per pitch class, C to B, after estimating the tuning (librosa.feature.chroma_stft): (12, frames)",
    ),
    kind(
        FeatureKind::SpectralContrast,
        "spectral-contrast",
        "Peak-to-valley dB of 6 octave bands from 200 Hz and the band below: (7, frames)",
    ),
    kind(
        FeatureKind::OnsetStrength,
        "onset-strength",
        "Onset strength, the spectral flux of the log mel spectrogram: (frames,)",
    ),
    kind(
        FeatureKind::Cqt,
        "cqt",
        "Constant-Q transform, complex64, librosa.cqt's defaults (84 bins from C1, 12 per octave): (84, frames)",
    ),
    kind(
        FeatureKind::ChromaCqt,
        "chroma-cqt",
        "Energy per pitch class from a 7-octave, 36-bins-per-octave CQT, tuning estimated (librosa.feature.chroma_cqt): (12, frames)",
    ),
    kind(
        FeatureKind::Tonnetz,
        "tonnetz",
        "Tonal centroids of chroma_cqt on the circles of fifths and thirds: (6, frames)",
    ),
];

impl ValueEnum for KindArg {
    fn value_variants<'a>() -> &'a [Self] {
        &KINDS
    }

    fn to_possible_value(&self) -> Option<PossibleValue> {
        let names = [self.kind.librosa_name(), self.kind.name()];
        let mut aliases: Vec<String> = Vec::new();
        for n in names
            .into_iter()
            .flat_map(|n| [n.to_string(), n.replace('_', "-")])
        {
            if n != self.spelling && !aliases.contains(&n) {
                aliases.push(n);
            }
        }
        Some(
            PossibleValue::new(self.spelling)
                .help(self.help)
                .aliases(aliases),
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
    after_help = "Examples:\n  soundcheck features mfcc song.wav -o song_mfcc.npy --n-mfcc 13 --time-major\n  soundcheck features magnitude mix.wav -o patches.npy --n-fft 1024 --hop-length 256 --patch 25\n  soundcheck features mel clips/*.wav -o features/ --db\n  soundcheck features mfcc --files-from list.txt -o features/ --shard 3/8 --skip-existing   (one task of a job array)"
)]
pub struct FeaturesArgs {
    /// What to compute
    #[arg(value_enum)]
    pub kind: KindArg,
    /// Audio files (WAV, FLAC, OGG/Vorbis, MP3)
    #[arg(required_unless_present = "files_from")]
    pub audio: Vec<PathBuf>,
    /// Output .npy (one input) or folder (several inputs: one <name>.npy each; with
    /// --files-from, each input's path mirrored)
    #[arg(short, long)]
    pub output: PathBuf,
    #[command(flatten)]
    pub batch: crate::batch_args::BatchArgs,
    #[command(flatten)]
    pub skip: crate::batch_args::SkipArgs,
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
    /// chroma and chroma_cqt: deviation from A440 in fractions of a chroma bin (librosa's
    /// `tuning`, e.g. -0.1) [default: estimated from the signal]
    #[arg(long, allow_hyphen_values = true)]
    tuning: Option<f64>,
    #[arg(long, default_value_t = 0.0)]
    lifter: f32,
    /// Decibels: amplitude_to_db for magnitude, power_to_db for power and mel (ref 1.0)
    #[arg(long)]
    pub db: bool,
    /// With --db: floor at max − top_db
    #[arg(long, default_value_t = 80.0)]
    top_db: f32,
    /// Stack the feature with its deltas along the feature axis: 1 gives [F; delta(F)], 2 adds
    /// delta(F, order=2), as the usual np.vstack of librosa.feature.delta (width 9)
    #[arg(long, value_name = "ORDER", value_parser = clap::value_parser!(u8).range(1..=2))]
    pub delta: Option<u8>,
    /// Write (frames, features) instead of librosa's (features, frames)
    #[arg(long)]
    time_major: bool,
    /// Cut into (n_patches, features, FRAMES, channels) channels_last patches
    #[arg(long, value_name = "FRAMES")]
    pub patch: Option<usize>,
    /// Also write a spectrogram picture (one input)
    #[arg(long, value_name = "OUT.png")]
    pub png: Option<PathBuf>,
    /// Print a JSON summary of what was written
    #[arg(long)]
    pub json: bool,
}

/// An argument that cannot be used, named as the command line spells it.
pub fn bad(
    flag: &'static str,
    value: impl std::fmt::Display,
    expected: impl Into<String>,
    hint: &str,
) -> AudioError {
    invalid(flag, value, expected, hint)
}

impl FeaturesArgs {
    pub fn kind(&self) -> FeatureKind {
        self.kind.kind
    }

    pub fn config(&self) -> FeatureConfig {
        FeatureConfig {
            stft: StftConfig {
                n_fft: self.n_fft,
                hop_length: self.hop_length,
                win_length: self.win_length,
                center: self.center,
                pad_mode: match self.pad_mode {
                    PadArg::Constant => PadMode::Constant,
                    PadArg::Reflect => PadMode::Reflect,
                },
                ..StftConfig::default()
            },
            mel: MelConfig {
                n_mels: self.n_mels,
                fmin: self.fmin,
                fmax: self.fmax,
                htk: self.htk,
                slaney_norm: matches!(self.norm, NormArg::Slaney),
            },
            power: self.power,
            n_mfcc: self.n_mfcc,
            lifter: self.lifter,
            db: self.db,
            top_db: self.top_db,
            tuning: self.tuning,
        }
    }

    pub fn layout(&self) -> Layout {
        Layout {
            time_major: self.time_major,
            channel_axis: self.no_mono,
            squeeze_rows: self.kind().is_one_dimensional(),
        }
    }

    pub fn load_opts(&self) -> Result<LoadOptions, AudioError> {
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

    pub fn validate(&self) -> Result<(), AudioError> {
        let kind = self.kind();
        if self.db
            && !matches!(
                kind,
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
        if self.patch.is_some() && kind == FeatureKind::Waveform {
            return Err(bad(
                "--patch",
                self.patch.unwrap_or(0),
                "a spectral KIND (stft, magnitude, power, mel, mfcc)",
                "cut waveforms with frame() instead",
            ));
        }
        if self.power != 2.0
            && (kind != FeatureKind::Mel || !(self.power > 0.0 && self.power.is_finite()))
        {
            return Err(bad(
                "--power",
                self.power,
                "a positive exponent, with KIND mel",
                "librosa's default is 2 (power); 1 gives a magnitude mel spectrogram",
            ));
        }
        if self.delta.is_some() && (kind == FeatureKind::Waveform || kind.is_complex()) {
            return Err(bad(
                "--delta",
                self.delta.unwrap_or(0),
                "a real frame-wise KIND (magnitude, power, mel, mfcc, rms, ...)",
                "deltas are taken along frames of a real feature",
            ));
        }
        if self.png.is_some() && !kind.is_spectrogram() {
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
}
