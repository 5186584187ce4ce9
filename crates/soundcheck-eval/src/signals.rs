//! Where BSS Eval reads a track's sources: span by span, so that scoring a track of hours holds
//! a few seconds of it at a time, whether the sources lie in memory or in files.

/// Signals as `[source][channel][sample]`.
pub type Sources = [Vec<Vec<f64>>];

/// Sources over one span of a track, `[source][channel][sample]`.
pub(crate) type Span = Vec<Vec<Vec<f64>>>;

/// One set of a track's sources (its references, or its estimates), served span by span.
pub(crate) trait Signals {
    /// Sources, channels per source and samples per channel of the whole track.
    fn shape(&self) -> (usize, usize, usize);

    /// Samples `start..end` (`end` at most the track's length) of every source and channel.
    ///
    /// # Errors
    /// A source that cannot be read: a message naming it.
    fn read(&mut self, start: usize, end: usize) -> Result<Span, String>;
}

/// Sources held in memory.
pub(crate) struct InMemory<'a> {
    sources: &'a Sources,
    samples: usize,
}

impl<'a> InMemory<'a> {
    /// Serves `sources`, `[source][channel][sample]`, every channel of one length (the caller
    /// has checked).
    pub(crate) fn new(sources: &'a Sources) -> InMemory<'a> {
        let samples = sources.first().and_then(|c| c.first()).map_or(0, Vec::len);
        InMemory { sources, samples }
    }
}

impl Signals for InMemory<'_> {
    fn shape(&self) -> (usize, usize, usize) {
        (
            self.sources.len(),
            self.sources.first().map_or(0, Vec::len),
            self.samples,
        )
    }

    fn read(&mut self, start: usize, end: usize) -> Result<Span, String> {
        Ok(self
            .sources
            .iter()
            .map(|src| src.iter().map(|ch| ch[start..end].to_vec()).collect())
            .collect())
    }
}
