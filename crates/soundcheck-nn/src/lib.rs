//! soundcheck's neural engine: a spec the shape engine has checked, run as a burn network with
//! Keras weights and Keras's numbers, and trained with Keras's losses and optimizers.
//!
//! Variables keep Keras's layout and names, so weights move between Keras and soundcheck in
//! safetensors files. On the CPU the convolutions run our own channels_last kernels
//! (`kernels`); elsewhere layers convert to burn's channels-first layout inside.

#![warn(missing_docs)]

pub mod error;
mod fusion;
pub mod keras_file;
pub mod kernels;
mod layers;
mod layout;
pub mod loss;
pub mod network;
pub mod optim;
mod pass;
pub mod tensor;
#[cfg(test)]
mod testing;
pub mod train;
pub mod variables;
pub mod weights;

pub use burn::tensor::{Device, DeviceKind};
pub use error::{NnError, Result};
pub use keras_file::{load_keras, load_keras_bytes, save_keras};
pub use loss::Loss;
pub use network::Network;
pub use optim::{Optimizer, OptimizerKind, Schedule};
pub use tensor::DynTensor;
pub use train::{EpochLog, Event, Outcome, TrainConfig, Trainer};
pub use weights::{parse as parse_weights, read as read_weights, write as write_weights, Weights};
