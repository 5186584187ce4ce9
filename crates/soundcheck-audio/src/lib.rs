//! soundcheck's audio front end: librosa's numbers with librosa's defaults, and documented
//! shapes (`# Shapes` on every transform).
//!
//! Names follow one rule: `foo` takes a signal (one channel `y`, or a signal's channels where
//! librosa's result spans them), `foo_from_spectrogram` takes a spectrogram `S` (its channels
//! likewise), as librosa's `foo(y=...)` and `foo(S=...)`.
//!
//! | librosa | here |
//! |---|---|
//! | `load` | [`load()`] |
//! | `resample` | [`resample()`] |
//! | `stft` / `istft` | [`stft()`] / [`istft()`] |
//! | `power_to_db` / `amplitude_to_db` | [`power_to_db`] / [`amplitude_to_db`] |
//! | `filters.mel`, `feature.melspectrogram` | [`MelFilterbank`], [`melspectrogram`] |
//! | `feature.mfcc`, `feature.delta` | [`mfcc()`], [`mfcc_from_spectrogram`], [`delta`] |
//! | `util.frame`, `util.fix_length` | [`frame`], [`fix_length`] |
//! | `feature.rms`, `feature.zero_crossing_rate` | [`rms()`], [`zero_crossing_rate`] |
//! | `feature.spectral_{centroid,bandwidth,rolloff,flatness}` | [`Descriptor::of_signal`], [`spectral_centroid_from_spectrogram`], [`spectral_bandwidth_from_spectrogram`], [`spectral_rolloff_from_spectrogram`], [`spectral_flatness_from_spectrogram`] |
//! | `feature.chroma_stft`, `filters.chroma`, `estimate_tuning` | [`chroma_stft()`], [`chroma_stft_from_spectrogram`], [`chroma_filters`], [`estimate_tuning_from_spectrogram`] |
//! | `feature.spectral_contrast` | [`spectral_contrast()`], [`spectral_contrast_from_spectrogram`] |
//! | `onset.onset_strength` | [`onset_strength()`], [`onset_strength_from_spectrogram`] |
//! | `cqt`, `cqt_frequencies` | [`cqt()`], [`cqt_frequencies`] |
//! | `feature.chroma_cqt`, `filters.cq_to_chroma` | [`chroma_cqt()`], [`cq_to_chroma`] |
//! | `feature.tonnetz` | [`tonnetz()`], [`tonnetz_from_chroma`] |
//!
//! [`feature`] is the recipe the front ends share: every kind by name, computed over a signal's
//! channels with librosa's defaults, with deltas and the output layout.

#![warn(missing_docs)]

pub mod chroma;
pub mod contrast;
pub mod cqt;
pub mod db;
pub mod decode;
pub mod error;
pub mod feature;
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

pub use chroma::{
    chroma_cqt, chroma_filters, chroma_stft, chroma_stft_from_spectrogram, cq_to_chroma,
    estimate_tuning_from_spectrogram, ChromaConfig,
};
pub use contrast::{spectral_contrast, spectral_contrast_from_spectrogram, ContrastConfig};
pub use cqt::{cqt, cqt_frequencies, CqtConfig, MAX_CQT_BINS};
pub use db::{amplitude_to_db, amplitude_to_db_channels, power_to_db, power_to_db_channels, Ref};
pub use decode::{decode, decode_mono, is_audio_path, Decoded, AUDIO_EXTENSIONS};
pub use error::{AudioError, Result};
pub use feature::{FeatureConfig, FeatureKind};
pub use load::{load, to_mono, write_wav, Audio, LoadOptions};
pub use mel::{hz_to_mel, mel_frequencies, mel_to_hz, melspectrogram, MelConfig, MelFilterbank};
pub use mfcc::{dct_matrix, delta, mfcc, mfcc_from_spectrogram};
pub use onset::{onset_strength, onset_strength_from_spectrogram, OnsetConfig};
pub use resample::resample;
pub use spectral::{
    fft_frequencies, spectral_bandwidth_from_spectrogram, spectral_centroid_from_spectrogram,
    spectral_flatness_from_spectrogram, spectral_rolloff_from_spectrogram, Descriptor,
};
pub use stft::{
    fix_length, frame, istft, magnitude, n_frames, power, power_spectrogram, spectrogram, stft,
    PadMode, StftConfig, Window,
};
pub use stream::{AudioSource, WavStream};
pub use temporal::{rms, zero_crossing_rate};
pub use tonnetz::{tonnetz, tonnetz_from_chroma};
