//! Process-level plumbing every soundcheck crate shares, below all of them so that none has to
//! depend on another for it: atomic writes and the registry of their temporary files (what a
//! signal handler deletes), the same-file check every command runs before writing, and the seeded
//! generator behind shuffles, initializers and synthetic data.

#![warn(missing_docs)]

mod path;
mod rng;
mod temp;

pub use path::same_file;
pub use rng::SplitMix64;
pub use temp::{remove_temporary_files_and_exit, write_atomic, TempFile};
