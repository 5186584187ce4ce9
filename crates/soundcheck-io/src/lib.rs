//! Process-level plumbing every soundcheck crate shares, below all of them so that none has to
//! depend on another for it: atomic writes and the registry of their temporary files (what a
//! signal handler deletes), the output-against-input check every command runs before writing, the budget every allocation
//! sized by user input asks first, the seeded
//! generator behind shuffles, initializers and synthetic data, and the allocator policy a binary
//! may choose.

#![warn(missing_docs)]

mod allocator;
pub mod budget;
mod path;
mod rng;
mod shard;
mod temp;

pub use allocator::keep_freed_memory;
pub use path::{check_outputs, same_file, Clash};
pub use rng::SplitMix64;
pub use shard::{Shard, ShardError};
pub use temp::{remove_temporary_files_and_exit, write_atomic, AtomicFile};
