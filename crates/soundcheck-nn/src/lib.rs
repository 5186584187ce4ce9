//! soundcheck's neural engine: a spec the shape engine has checked, run as a burn network with
//! Keras weights and Keras's numbers.
//!
//! This first part runs inference for the convolutional layer set (Dense, Conv1D/2D, pools and
//! global pools, BatchNormalization, Activation, Dropout, Flatten, Reshape, Permute, merges);
//! training and the recurrent layers come next.

pub mod error;
pub mod network;
pub mod tensor;
pub mod variables;
pub mod weights;

pub use error::{NnError, Result};
pub use network::{Activation, Network};
pub use tensor::DynTensor;
pub use weights::{read as read_weights, Weights};
