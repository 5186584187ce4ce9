//! An on-disk cache of computed features: one `.npy` per (source file, feature parameters),
//! keyed so that changing the parameters or the source file misses the old entry.

use std::path::{Path, PathBuf};

use soundcheck_npy::RowReader;

use crate::error::{DataError, Result};

/// FNV-1a, 64 bits: a hash whose value is fixed by its definition, so cache keys stay valid
/// across builds and Rust versions (std's hasher makes no such promise).
pub fn fnv1a64(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ b as u64).wrapping_mul(0x0100_0000_01b3)
    })
}

/// Features computed once and kept on disk, keyed on their source files (paths, sizes, times) and parameters.
pub struct FeatureCache {
    dir: PathBuf,
    /// The feature parameters, canonically written (e.g. JSON of the feature config).
    params: String,
}

impl FeatureCache {
    /// A cache in `dir` for features computed with `params`.
    pub fn new(dir: &Path, params: impl Into<String>) -> Result<FeatureCache> {
        std::fs::create_dir_all(dir).map_err(|source| DataError::Io {
            path: dir.to_path_buf(),
            action: "create the cache folder",
            source,
        })?;
        Ok(FeatureCache {
            dir: dir.to_path_buf(),
            params: params.into(),
        })
    }

    /// The folder the entries are kept in.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The entry for features computed from `sources` as they are now: their paths, sizes and
    /// modification times, and the parameters, all in the key.
    pub fn entry(&self, sources: &[&Path]) -> Result<PathBuf> {
        let mut key = self.params.clone();
        for source in sources {
            let meta = std::fs::metadata(source).map_err(|e| DataError::Io {
                path: source.to_path_buf(),
                action: "read the file's size and time",
                source: e,
            })?;
            let modified = meta
                .modified()
                .ok()
                .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
                .map_or(0, |d| d.as_nanos());
            let abs = std::fs::canonicalize(source).unwrap_or_else(|_| source.to_path_buf());
            key.push_str(&format!(
                "\0{}\0{}\0{}",
                abs.display(),
                meta.len(),
                modified
            ));
        }
        Ok(self
            .dir
            .join(format!("{:016x}.npy", fnv1a64(key.as_bytes()))))
    }

    /// The entry holding the features of `sources`, computed by `compute` and stored atomically
    /// unless a sound entry is there already. A damaged entry is recomputed. The features are
    /// read from the entry afterwards (e.g. a few rows at a time with [`RowReader`]), so a
    /// dataset larger than memory never has to be held whole.
    pub fn ensure<E: From<DataError>>(
        &self,
        sources: &[&Path],
        compute: impl FnOnce() -> std::result::Result<(Vec<usize>, Vec<f32>), E>,
    ) -> std::result::Result<PathBuf, E> {
        let entry = self.entry(sources)?;
        if RowReader::open(&entry).is_err() {
            let (shape, data) = compute()?;
            soundcheck_npy::write(&entry, &shape, &data).map_err(DataError::from)?;
        }
        Ok(entry)
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
            let entry = c
                .ensure::<DataError>(&[&src], || {
                    computed.set(computed.get() + 1);
                    Ok((vec![2], vec![1.0, 2.0]))
                })
                .unwrap();
            let a = soundcheck_npy::read(&entry).unwrap();
            (a.shape, a.data)
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
        let entry = cache.entry(&[&src]).unwrap();
        std::fs::write(&entry, b"\x93NUMPY damaged").unwrap();
        get(&cache);
        assert_eq!(computed.get(), 4, "a damaged entry is recomputed");
    }
}
