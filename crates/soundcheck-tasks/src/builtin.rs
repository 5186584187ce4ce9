//! The models built into the binary, so that `train classification`, `train separation` and
//! `separate` work from any folder, on a fresh clone, with no file of the checkout: the default
//! specs of training and the pretrained separator of `separate`. All are files of `models/`,
//! included at build time.

/// The built-in classifier's spec, the default of `train classification` (its options:
/// [`crate::classification::Recipe`]). The file is `models/mfcc-bn-conv1d.toml`.
pub const CLASSIFICATION_MODEL: &str = include_str!("../../../models/mfcc-bn-conv1d.toml");

/// The default separation model of `train separation`: the small U-Net with per-bin input
/// standardisation and the squared error, the recipe that separates the realistic benchmark
/// songs (`tools/bench/separation_quality.sh`, BENCHMARKS.md). The file is
/// `models/vocal-unet-norm.toml`.
pub const SEPARATION_MODEL: &str = include_str!("../../../models/vocal-unet-norm.toml");

/// A `train separation` run's files, built into the binary.
pub(crate) struct BuiltinRun {
    /// Where the files are in the repository, for messages.
    pub(crate) path: &'static str,
    /// `model.json`: the spec it was trained with.
    pub(crate) model: &'static str,
    /// `weights.safetensors`.
    pub(crate) weights: &'static [u8],
    /// `separation.json`: its target and STFT and patch settings.
    pub(crate) separation: &'static str,
}

/// The separator `separate` uses without `--run` or `--model`: `models/vocal-unet-ctx.toml`,
/// the network of the recipe chosen on real music (MIR-1K), trained on the project's own
/// rendered songs (`soundcheck songs`; licence: ours and FluidR3_GM's MIT), so
/// its weights may ship. `models/pretrained/vocals/README.md` says how it was trained and what
/// it measures.
pub(crate) const PRETRAINED: BuiltinRun = BuiltinRun {
    path: PRETRAINED_PATH,
    model: include_str!("../../../models/pretrained/vocals/model.json"),
    weights: include_bytes!("../../../models/pretrained/vocals/weights.safetensors"),
    separation: include_str!("../../../models/pretrained/vocals/separation.json"),
};

/// The pretrained separator's folder in the repository.
pub const PRETRAINED_PATH: &str = "models/pretrained/vocals";
