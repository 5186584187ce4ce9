//! Process-wide memo tables for the small, pure, expensive-to-build things every call of a batch
//! asks for again (windows, DCT matrices, mel filterbanks): built once per parameter set.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::{Arc, Mutex, OnceLock};

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
        table
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(key, v.clone());
        Ok(v)
    }
}
