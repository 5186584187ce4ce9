//! Spectrogram-mask source separation: training on patches or random mixes of a DSD100 /
//! MUSDB18-HQ folder, and a trained network applied to whole mixtures.

mod mask;
mod mixes;
mod patches;
mod train;
mod wiener;

pub use mask::{Chunking, Separated, SeparationConfig, SeparationError};
pub use mixes::MixDataset;
pub use patches::PatchDataset;
pub use train::{
    output_dir, separate_files, train_separator, SdrAt, SeparatedFile, SeparationTrained,
    SeparationTraining, Separator,
};
pub use wiener::wiener_target;
