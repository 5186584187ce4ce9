//! safetensors (the format, not a pickle): an 8-byte little-endian header length, a JSON header
//! of `{name: {dtype, shape, data_offsets}}`, then the raw little-endian data.

use std::collections::HashMap;
use std::path::Path;

use serde_json::Value;

use crate::error::{NnError, Result};

/// Named float32 arrays: shape and C-order data.
pub type Weights = HashMap<String, (Vec<usize>, Vec<f32>)>;

pub fn read(path: &Path) -> Result<Weights> {
    let bad = |detail: String| NnError::Weights {
        path: path.to_path_buf(),
        detail,
    };
    let bytes = std::fs::read(path).map_err(|e| bad(format!("cannot read ({e})")))?;
    if bytes.len() < 8 {
        return Err(bad("too short to be safetensors".into()));
    }
    let n = u64::from_le_bytes(bytes[..8].try_into().expect("8 bytes")) as usize;
    let header = bytes
        .get(8..8 + n)
        .ok_or_else(|| bad("truncated header".into()))?;
    let data = &bytes[8 + n..];
    let header: Value =
        serde_json::from_slice(header).map_err(|e| bad(format!("header is not JSON ({e})")))?;
    let mut out = Weights::new();
    for (name, t) in header
        .as_object()
        .ok_or_else(|| bad("header is not a table".into()))?
    {
        if name == "__metadata__" {
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
        let (a, b) = match t["data_offsets"]
            .as_array()
            .map(|o| (o[0].as_u64(), o[1].as_u64()))
        {
            Some((Some(a), Some(b))) => (a as usize, b as usize),
            _ => return Err(bad(format!("'{name}' has bad data offsets"))),
        };
        let raw = data
            .get(a..b)
            .ok_or_else(|| bad(format!("'{name}' lies past the end of the file")))?;
        if raw.len() != shape.iter().product::<usize>() * 4 {
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
    Ok(out)
}
