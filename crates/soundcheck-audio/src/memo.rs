//! Process-wide memo tables for the small, pure, expensive-to-build things every call of a batch
//! asks for again (windows, DCT matrices, mel filterbanks, resampler plans): built once per
//! parameter set. Keys come from users (a Python session may loop over many rates or sizes), so
//! a table holds at most [`CAPACITY`] entries and starts afresh when full.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::{Arc, Mutex, OnceLock};

/// Entries per table: far more parameter sets than a batch uses at once.
const CAPACITY: usize = 64;

pub(crate) struct Memo<K, V>(OnceLock<Mutex<HashMap<K, Arc<V>>>>);

impl<K: Eq + Hash, V> Memo<K, V> {
    pub const fn new() -> Memo<K, V> {
        Memo(OnceLock::new())
    }

    /// The value for `key`, built by `make` the first time.
    pub fn get_or_build(&self, key: K, make: impl FnOnce() -> V) -> Arc<V> {
        match self.get::<std::convert::Infallible>(key, || Ok(make())) {
            Ok(v) => v,
            Err(never) => match never {},
        }
    }

    /// The value for `key`, built by `make` the first time (an error is returned, not stored).
    pub fn get<E>(&self, key: K, make: impl FnOnce() -> Result<V, E>) -> Result<Arc<V>, E> {
        let table = self.0.get_or_init(Default::default);
        if let Some(v) = table.lock().unwrap_or_else(|p| p.into_inner()).get(&key) {
            return Ok(v.clone());
        }
        let v = Arc::new(make()?);
        let mut table = table.lock().unwrap_or_else(|p| p.into_inner());
        if table.len() >= CAPACITY {
            table.clear();
        }
        table.insert(key, v.clone());
        Ok(v)
    }
}
