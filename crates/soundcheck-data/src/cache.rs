//! An on-disk cache of computed features: one `.npy` per (source file, feature parameters),
//! keyed so that changing the parameters or the source file misses the old entry.

use std::path::{Path, PathBuf};

use crate::error::{DataError, Result};

/// FNV-1a, 64 bits: a hash whose value is fixed by its definition, so cache keys stay valid
/// across builds and Rust versions (std's hasher makes no such promise).
pub fn fnv1a64(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ b as u64).wrapping_mul(0x0100_0000_01b3)
    })
}

pub struct FeatureCache {
    dir: PathBuf,
    /// The feature parameters, canonically written (e.g. JSON of the feature config).
    params: String,
}

impl FeatureCache {
    /// A cache in `dir` for features computed with `params`.
    pub fn new(dir: &Path, params: impl Into<String>) -> Result<FeatureCache> {
        std::fs::create_dir_all(dir).map_err(|e| DataError::Io {
            path: dir.to_path_buf(),
            detail: format!("cannot create the cache folder ({e})"),
        })?;
        Ok(FeatureCache {
            dir: dir.to_path_buf(),
            params: params.into(),
        })
    }

    /// The entry for `source` as it is now: its path, size and modification time, and the
    /// parameters, all in the key.
    pub fn entry(&self, source: &Path) -> Result<PathBuf> {
        let meta = std::fs::metadata(source).map_err(|e| DataError::Io {
            path: source.to_path_buf(),
            detail: e.to_string(),
        })?;
        let modified = meta
            .modified()
            .ok()
            .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
            .map_or(0, |d| d.as_nanos());
        let abs = std::fs::canonicalize(source).unwrap_or_else(|_| source.to_path_buf());
        let key = format!(
            "{}\0{}\0{}\0{}",
            self.params,
            abs.display(),
            meta.len(),
            modified
        );
        Ok(self
            .dir
            .join(format!("{:016x}.npy", fnv1a64(key.as_bytes()))))
    }

    /// The cached feature of `source` (shape, data), or `compute`'s result, stored atomically for
    /// next time. A damaged entry is recomputed.
    pub fn get_or_compute<E: From<DataError>>(
        &self,
        source: &Path,
        compute: impl FnOnce() -> std::result::Result<(Vec<usize>, Vec<f32>), E>,
    ) -> std::result::Result<(Vec<usize>, Vec<f32>), E> {
        let entry = self.entry(source)?;
        if let Ok(a) = soundcheck_npy::read(&entry) {
            if !a.complex {
                return Ok((a.shape, a.data));
            }
        }
        let (shape, data) = compute()?;
        soundcheck_npy::write(&entry, &shape, &data).map_err(DataError::from)?;
        Ok((shape, data))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fnv_matches_its_published_values() {
        assert_eq!(fnv1a64(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a64(b"a"), 0xaf63_dc4c_8601_ec8c);
    }

    #[test]
    fn hits_misses_and_invalidation() {
        let dir = std::env::temp_dir().join(format!("sc-cache-{}", std::process::id()));
        let src = dir.join("song.wav");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(&src, b"audio v1").unwrap();
        let cache = FeatureCache::new(&dir.join("cache"), "{\"n_fft\":1024}").unwrap();
        let computed = std::cell::Cell::new(0);
        let get = |c: &FeatureCache| {
            c.get_or_compute::<DataError>(&src, || {
                computed.set(computed.get() + 1);
                Ok((vec![2], vec![1.0, 2.0]))
            })
            .unwrap()
        };
        assert_eq!(get(&cache), (vec![2], vec![1.0, 2.0]));
        get(&cache);
        assert_eq!(computed.get(), 1, "the second call is a hit");
        let other = FeatureCache::new(&dir.join("cache"), "{\"n_fft\":2048}").unwrap();
        get(&other);
        assert_eq!(computed.get(), 2, "new parameters miss");
        std::fs::write(&src, b"audio v2, longer").unwrap();
        get(&cache);
        assert_eq!(computed.get(), 3, "a changed source misses");
    }
}
