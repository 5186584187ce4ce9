//! How a long task reports what it is doing: the CLI draws progress bars and prints lines from
//! these calls; a library caller passes [`Quiet`].

/// Stages of steps, status text and lines, from a task to whoever shows them. Calls may come
/// from several threads (feature extraction runs in parallel).
pub trait Progress: Sync {
    /// A stage of `total` steps begins: "tracks", "features", "epoch 3/10".
    fn start(&self, _what: &str, _total: usize) {}
    /// One step of the stage is done.
    fn step(&self) {}
    /// Text beside the stage (a running loss, a throughput).
    fn status(&self, _text: &str) {}
    /// The stage is over.
    fn finish(&self) {}
    /// A line worth showing: an epoch's summary, what a dataset holds, a warning.
    fn note(&self, _line: &str) {}
}

/// Shows nothing.
pub struct Quiet;

impl Progress for Quiet {}
