//! Spectrogram-mask source separation: a network trained on magnitude patches (or random mixes)
//! of a separation dataset, and applied to whole mixtures.
//!
//! - `tracks`: datasets found (DSD100, MUSDB18-HQ, two-stem folders, stereo files of voice and
//!   accompaniment, manifests) and their tracks loaded, stems checked against the mixture
//! - `manifest`: Spleeter's CSV manifest of mixture, vocals and accompaniment files
//! - `config`: the settings ([`SeparationConfig`]) and the patch geometry
//! - `patches`, `mixes`: the training examples, cut from cached spectrograms or mixed anew
//! - `train`: a run folder trained, its held-out SDR measured ([`train_separator`])
//! - `mask`, `wiener`, `stream`: a mixture separated by the network's mask (refined by
//!   multichannel Wiener filtering), piece by piece for long files
//! - `separate`: a trained run loaded ([`Separator`]) and applied to files
//! - `record`: the run's record of its target and settings (`separation.json`)

mod config;
mod manifest;
mod mask;
mod mixes;
mod patches;
mod record;
mod separate;
mod stream;
mod tracks;
mod train;
mod wiener;

pub use crate::builtin::{PRETRAINED_PATH, SEPARATION_MODEL as DEFAULT_MODEL};
pub use config::{Scaling, SeparationConfig};
pub use mask::{Separated, SeparationError};
pub use mixes::MixDataset;
pub use patches::PatchDataset;
pub use record::StemName;
pub use separate::{output_dir, separate_files, BatchOutput, SeparatedFile, Separator};
pub use stream::Chunking;
pub use tracks::{
    discover, load_track, Layout, Track, TrackFiles, TrackSource, VoiceChannel, MIXTURE_WARNING_DB,
    STEMS, TWO_STEMS,
};
pub use train::{train_separator, SdrAt, SeparationTrained, SeparationTraining};
pub use wiener::wiener_target;
