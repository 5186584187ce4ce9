//! safetensors (the format, not a pickle): an 8-byte little-endian header length, a JSON header
//! of `{name: {dtype, shape, data_offsets}}`, then the raw little-endian data.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use serde_json::Value;

use crate::error::{NnError, Result};

/// Named float32 arrays: shape and C-order data.
pub type Weights = HashMap<String, (Vec<usize>, Vec<f32>)>;

/// Reads a safetensors file of float32 weights.
pub fn read(path: &Path) -> Result<Weights> {
    Ok(read_with_metadata(path)?.0)
}

/// The weights and the header's `__metadata__` table, from one read of the file.
pub fn read_with_metadata(path: &Path) -> Result<(Weights, BTreeMap<String, String>)> {
    let bytes = std::fs::read(path).map_err(|e| NnError::Weights {
        path: path.to_path_buf(),
        actual: format!("cannot read ({e})"),
    })?;
    parse(&bytes, path)
}

/// The weights and the metadata of safetensors bytes (a file's, or weights built into the
/// binary); `path` names them in errors.
pub fn parse(bytes: &[u8], path: &Path) -> Result<(Weights, BTreeMap<String, String>)> {
    let bad = |actual: String| NnError::Weights {
        path: path.to_path_buf(),
        actual,
    };
    if bytes.len() < 8 {
        return Err(bad("too short to be safetensors".into()));
    }
    let n = u64::from_le_bytes(bytes[..8].try_into().expect("8 bytes")) as usize;
    let end = n
        .checked_add(8)
        .filter(|&e| e <= bytes.len())
        .ok_or_else(|| bad("truncated header".into()))?;
    let header = &bytes[8..end];
    let data = &bytes[end..];
    let header: Value =
        serde_json::from_slice(header).map_err(|e| bad(format!("header is not JSON ({e})")))?;
    let mut out = Weights::new();
    let mut metadata = BTreeMap::new();
    for (name, t) in header
        .as_object()
        .ok_or_else(|| bad("header is not a table".into()))?
    {
        if name == "__metadata__" {
            metadata = t
                .as_object()
                .map(|m| {
                    m.iter()
                        .filter_map(|(k, v)| v.as_str().map(|v| (k.clone(), v.to_string())))
                        .collect()
                })
                .unwrap_or_default();
            continue;
        }
        if t["dtype"] != "F32" {
            return Err(bad(format!("'{name}' is {}, expected F32", t["dtype"])));
        }
        let shape: Vec<usize> = t["shape"]
            .as_array()
            .ok_or_else(|| bad(format!("'{name}' has no shape")))?
            .iter()
            .map(|d| d.as_u64().map(|d| d as usize))
            .collect::<Option<_>>()
            .ok_or_else(|| bad(format!("'{name}' has a bad shape")))?;
        let (a, b) = match t["data_offsets"].as_array().map(Vec::as_slice) {
            Some([a, b]) => match (a.as_u64(), b.as_u64()) {
                (Some(a), Some(b)) => (a as usize, b as usize),
                _ => return Err(bad(format!("'{name}' has bad data offsets"))),
            },
            _ => return Err(bad(format!("'{name}' has bad data offsets"))),
        };
        let raw = data
            .get(a..b)
            .ok_or_else(|| bad(format!("'{name}' lies past the end of the file")))?;
        let bytes_needed = shape.iter().try_fold(4usize, |n, &d| n.checked_mul(d));
        if bytes_needed != Some(raw.len()) {
            return Err(bad(format!(
                "'{name}' holds {} bytes for shape {shape:?}",
                raw.len()
            )));
        }
        let values = raw
            .chunks_exact(4)
            .map(|c| f32::from_le_bytes(c.try_into().expect("4 bytes")))
            .collect();
        out.insert(name.clone(), (shape, values));
    }
    Ok((out, metadata))
}

/// Writes weights as safetensors (keys sorted, so equal weights give equal files), with
/// `metadata` in the header's `__metadata__`, atomically: a reader sees the old file or the new.
pub fn write(path: &Path, weights: &Weights, metadata: &BTreeMap<String, String>) -> Result<()> {
    let mut keys: Vec<&String> = weights.keys().collect();
    keys.sort();
    let mut header = serde_json::Map::new();
    if !metadata.is_empty() {
        header.insert("__metadata__".into(), serde_json::json!(metadata));
    }
    let mut offset = 0usize;
    for k in &keys {
        let (shape, data) = &weights[*k];
        let end = offset + data.len() * 4;
        header.insert(
            (*k).clone(),
            serde_json::json!({"dtype": "F32", "shape": shape, "data_offsets": [offset, end]}),
        );
        offset = end;
    }
    let mut head = serde_json::to_vec(&Value::Object(header)).expect("JSON of plain values");
    // The format asks for the data to start 8-byte aligned; pad the header with spaces.
    while !head.len().is_multiple_of(8) {
        head.push(b' ');
    }
    let mut bytes = Vec::with_capacity(8 + head.len() + offset);
    bytes.extend((head.len() as u64).to_le_bytes());
    bytes.extend(head);
    for k in keys {
        bytes.extend(weights[k].1.iter().flat_map(|v| v.to_le_bytes()));
    }
    // A failed write is the run folder's problem (full disk, permissions), not a bad weights file.
    soundcheck_io::write_atomic(path, &bytes).map_err(|e| NnError::Run {
        path: path.to_path_buf(),
        actual: format!("cannot write ({e}); check the free space and permissions"),
        source: Some(e),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn written_weights_read_back_with_their_metadata() {
        let dir = std::env::temp_dir().join(format!("sc-weights-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("w.safetensors");
        let mut w = Weights::new();
        w.insert(
            "dense/kernel".into(),
            (vec![2, 3], (0..6).map(|v| v as f32).collect()),
        );
        w.insert("dense/bias".into(), (vec![3], vec![0.5, -1.0, 2.0]));
        let meta = BTreeMap::from([("epoch".to_string(), "3".to_string())]);
        write(&path, &w, &meta).unwrap();
        assert_eq!(read_with_metadata(&path).unwrap(), (w, meta));
        std::fs::remove_dir_all(dir).unwrap();
    }
}
