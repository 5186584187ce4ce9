//! soundcheck's audio front end: librosa's numbers with librosa's defaults, and documented
//! shapes (`# Shapes` on every transform).
//!
//! | librosa | here |
//! |---|---|
//! | `load` | [`load()`] |
//! | `resample` | [`resample()`] |
//! | `stft` / `istft` | [`stft()`] / [`istft()`] |
//! | `power_to_db` / `amplitude_to_db` | [`power_to_db`] / [`amplitude_to_db`] |
//! | `filters.mel`, `feature.melspectrogram` | [`MelFilterbank`], [`melspectrogram`] |
//! | `feature.mfcc`, `feature.delta` | [`mfcc()`], [`delta`] |
//! | `util.frame`, `util.fix_length` | [`frame`], [`fix_length`] |
//! | `feature.rms`, `feature.zero_crossing_rate` | [`rms()`], [`zero_crossing_rate`] |
//! | `feature.spectral_{centroid,bandwidth,rolloff,flatness}` | [`spectral_centroid`], [`spectral_bandwidth`], [`spectral_rolloff`], [`spectral_flatness`] |
//! | `feature.chroma_stft`, `filters.chroma`, `estimate_tuning` | [`chroma_stft_channels`], [`chroma_filters`], [`estimate_tuning`] |
//! | `feature.spectral_contrast` | [`spectral_contrast()`], [`spectral_contrast_channels`] |
//! | `onset.onset_strength` | [`onset_strength_channels`] |
//! | `cqt`, `cqt_frequencies` | [`cqt()`], [`cqt_frequencies`] |
//! | `feature.chroma_cqt`, `filters.cq_to_chroma` | [`chroma_cqt_channels`], [`cq_to_chroma`] |
//! | `feature.tonnetz` | [`tonnetz()`] |

#![warn(missing_docs)]

pub mod chroma;
pub mod contrast;
pub mod cqt;
pub mod db;
pub mod decode;
pub mod error;
pub mod load;
pub mod mel;
mod memo;
pub mod mfcc;
pub mod onset;
pub mod resample;
mod rfft;
pub mod spectral;
pub mod stft;
pub mod stream;
pub mod temporal;
pub mod tonnetz;
mod wav;

use ndarray::Array2;

pub use chroma::{
    chroma_cqt_channels, chroma_filters, chroma_stft_channels, cq_to_chroma, estimate_tuning,
    ChromaConfig,
};
pub use contrast::{
    spectral_contrast, spectral_contrast_channels, spectral_contrast_of_signals, ContrastConfig,
};
pub use cqt::{cqt, cqt_frequencies, CqtConfig, MAX_CQT_BINS};
pub use db::{amplitude_to_db, amplitude_to_db_channels, power_to_db, power_to_db_channels, Ref};
pub use decode::{decode, decode_mono, Decoded};
pub use error::{AudioError, Result};
pub use load::{load, to_mono, write_wav, Audio, LoadOptions};
pub use mel::{hz_to_mel, mel_frequencies, mel_to_hz, MelConfig, MelFilterbank};
pub use mfcc::{dct_matrix, delta, mfcc_from_log_mel};
pub use onset::{onset_strength_channels, onset_strength_from_spectrogram, OnsetConfig};
pub use resample::resample;
pub use spectral::{
    fft_frequencies, spectral_bandwidth, spectral_centroid, spectral_flatness, spectral_rolloff,
    Descriptor,
};
pub use stft::{
    fix_length, frame, istft, magnitude, n_frames, power, power_spectrogram, stft, PadMode,
    StftConfig,
};
pub use stream::{AudioSource, WavStream};
pub use temporal::{rms, zero_crossing_rate};
pub use tonnetz::tonnetz;

/// `librosa.feature.melspectrogram(y=y, sr=sr, power=2.0, ...)`.
///
/// # Shapes
/// - `y`: `(n_samples,)`
/// - output: `(n_mels, n_frames)`
pub fn melspectrogram(
    y: &[f32],
    sr: u32,
    stft_cfg: &StftConfig,
    mel_cfg: &MelConfig,
) -> Result<Array2<f32>> {
    MelFilterbank::cached(sr, stft_cfg.n_fft, mel_cfg)?.melspectrogram(y, stft_cfg)
}

/// `librosa.feature.mfcc(y=y, sr=sr, n_mfcc=..., lifter=...)`: DCT-II (ortho) of
/// `power_to_db(melspectrogram)` with librosa's dB defaults (ref 1.0, amin 1e-10, top_db 80).
///
/// # Shapes
/// - `y`: `(n_samples,)`
/// - output: `(n_mfcc, n_frames)`
pub fn mfcc(
    y: &[f32],
    sr: u32,
    stft_cfg: &StftConfig,
    mel_cfg: &MelConfig,
    n_mfcc: usize,
    lifter: f32,
) -> Result<Array2<f32>> {
    let mut one = mfcc_channels(&[y], sr, stft_cfg, mel_cfg, n_mfcc, lifter)?;
    Ok(one.pop().expect("one channel in, one out"))
}

/// [`mfcc`] of one signal's channels, as `librosa.feature.mfcc` of a `(channels, n)` array:
/// the log-mel spectrograms share one `top_db` floor, set by the loudest channel.
pub fn mfcc_channels(
    channels: &[&[f32]],
    sr: u32,
    stft_cfg: &StftConfig,
    mel_cfg: &MelConfig,
    n_mfcc: usize,
    lifter: f32,
) -> Result<Vec<Array2<f32>>> {
    let mels = channels
        .iter()
        .map(|y| melspectrogram(y, sr, stft_cfg, mel_cfg))
        .collect::<Result<Vec<_>>>()?;
    db::power_to_db_channels(mels, Ref::Value(1.0), 1e-10, Some(80.0))?
        .iter()
        .map(|log_mel| mfcc_from_log_mel(log_mel, n_mfcc, lifter))
        .collect()
}
