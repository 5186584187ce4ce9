//! One forward pass's state, which the layers read and write: whether it trains (and its random
//! draws), the timestep mask reaching the layer being run, and the moving statistics it
//! produces. Its own module so that the layers depend on it without depending on the network
//! that runs them.

use burn::tensor::Tensor;
use soundcheck_io::SplitMix64;

/// One forward pass: inference, or training with its random draws and the moving statistics it
/// produces.
pub(crate) struct Pass {
    pub(crate) training: Option<SplitMix64>,
    /// The timestep mask `(batch, time)` (1 = real, 0 = padding) of the input of the layer
    /// being run, when a Masking layer upstream made one.
    pub(crate) mask: Option<Tensor<2>>,
    /// New values of non-trainable variables (BatchNormalization's moving statistics).
    pub(crate) moving: Vec<(usize, Vec<f32>)>,
}

impl Pass {
    pub(crate) fn inference() -> Pass {
        Pass {
            training: None,
            mask: None,
            moving: Vec::new(),
        }
    }

    /// A training pass whose dropout and noise draws are fixed by `seed`.
    pub(crate) fn training(seed: u64) -> Pass {
        Pass {
            training: Some(SplitMix64::new(seed)),
            mask: None,
            moving: Vec::new(),
        }
    }
}
