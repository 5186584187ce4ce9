//! Reading model files: soundcheck specs (TOML, JSON), Keras `model.to_json()` files, `.keras`
//! archives and full-model Keras `.h5` files. Every program that takes a model path (the CLI, the tasks, the Python module) reads
//! it here, so a file is accepted or refused the same way everywhere.

use std::io::{Read, Seek};
use std::path::Path;

use serde_json::Value;

use crate::{keras, Diagnosis, Kind, ModelSpec};

fn unusable(path: &Path, title: String, fix: &str) -> Diagnosis {
    Diagnosis::new(Kind::InvalidSpec, format!("{}: {title}", path.display())).fix(fix)
}

fn read_text(path: &Path) -> Result<String, Diagnosis> {
    let bytes = std::fs::read(path).map_err(|e| {
        unusable(
            path,
            format!("cannot read the file ({e})"),
            "check the path and permissions",
        )
    })?;
    if bytes.is_empty() {
        return Err(unusable(
            path,
            "the file is empty".into(),
            "point at a model spec (.toml, .json) or a Keras model (.keras, model.to_json())",
        ));
    }
    String::from_utf8(bytes).map_err(|_| {
        unusable(
            path,
            "the file is not UTF-8 text".into(),
            "a spec is TOML or JSON text; a Keras model is a .keras file",
        )
    })
}

/// The largest `config.json` read from a `.keras` archive: a model config is kilobytes to a few
/// megabytes; more is a damaged file or a decompression bomb, never inflated into memory.
pub const MAX_KERAS_CONFIG: u64 = 64 << 20;

/// Entry `name` of the `.keras` archive at `path`, at most `limit` bytes: an entry that declares
/// more is refused before anything is inflated, and one whose declared size lies is never read
/// past the bound. `what` names the bound in the messages ("the 64 MiB a model config").
pub fn keras_archive_entry(
    path: &Path,
    name: &str,
    limit: u64,
    what: &str,
) -> Result<Vec<u8>, Diagnosis> {
    let file = std::fs::File::open(path).map_err(|e| {
        unusable(
            path,
            format!("cannot open the file ({e})"),
            "check the path",
        )
    })?;
    archive_entry(file, path, name, limit, what)
}

/// [`keras_archive_entry`] of a `.keras` archive held in memory (a live Keras model saved to a
/// buffer), `origin` naming it in the messages.
pub fn keras_archive_bytes_entry(
    bytes: &[u8],
    origin: &Path,
    name: &str,
    limit: u64,
    what: &str,
) -> Result<Vec<u8>, Diagnosis> {
    archive_entry(std::io::Cursor::new(bytes), origin, name, limit, what)
}

fn archive_entry(
    archive: impl Read + Seek,
    path: &Path,
    name: &str,
    limit: u64,
    what: &str,
) -> Result<Vec<u8>, Diagnosis> {
    let mut zip = zip::ZipArchive::new(archive).map_err(|e| {
        unusable(
            path,
            format!("not a readable .keras archive ({e})"),
            "save the model again with model.save('model.keras')",
        )
    })?;
    let mut entry = zip.by_name(name).map_err(|_| {
        unusable(
            path,
            format!("the archive has no {name}"),
            "save the model with Keras 3: model.save('model.keras')",
        )
    })?;
    let refuse = |actual: String| {
        unusable(
            path,
            actual,
            "save the model again with model.save('model.keras'); this archive is damaged or not a Keras model",
        )
    };
    if entry.size() > limit {
        return Err(refuse(format!(
            "{name} inflates to {} bytes, more than {what} can take",
            entry.size()
        )));
    }
    let mut bytes = Vec::with_capacity(entry.size() as usize);
    (&mut entry)
        .take(limit + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| {
            unusable(
                path,
                format!("{name} cannot be read ({e})"),
                "save the model again",
            )
        })?;
    if bytes.len() as u64 > limit {
        return Err(refuse(format!("{name} is larger than {what} can take")));
    }
    Ok(bytes)
}

/// The `config.json` of a `.keras` archive (its bytes, read by [`keras_archive_entry`] or
/// [`keras_archive_bytes_entry`]).
fn keras_archive_config(
    path: &Path,
    entry: impl FnOnce(&str, u64, &str) -> Result<Vec<u8>, Diagnosis>,
) -> Result<Value, Diagnosis> {
    let bytes = entry(
        "config.json",
        MAX_KERAS_CONFIG,
        &format!("the {} MiB a model config", MAX_KERAS_CONFIG >> 20),
    )?;
    serde_json::from_slice(&bytes).map_err(|e| {
        unusable(
            path,
            format!("config.json is not JSON ({e})"),
            "save the model again",
        )
    })
}

/// The `model_config` attribute of a full-model Keras `.h5` file (`model.save('model.h5')`, the
/// format of Keras 2), read without reading the weights: its object header is bounded by
/// [`MAX_KERAS_CONFIG`].
fn keras_h5_config(path: &Path) -> Result<Value, Diagnosis> {
    let bad = |actual: String| {
        unusable(
            path,
            actual,
            "save the whole model with model.save('model.keras') (or model.save('model.h5'))",
        )
    };
    let options = hdf5_reader::OpenOptions {
        max_object_header_bytes: MAX_KERAS_CONFIG as usize + (1 << 20),
        ..Default::default()
    };
    // A missing or unreadable file is named as such, not as a damaged HDF5 file.
    std::fs::File::open(path).map_err(|e| {
        unusable(
            path,
            format!("cannot open the file ({e})"),
            "check the path and permissions",
        )
    })?;
    let file = hdf5_reader::Hdf5File::open_with_options(path, options)
        .map_err(|e| bad(format!("not a readable HDF5 file ({e})")))?;
    let attribute = file
        .root_group()
        .and_then(|g| g.attribute("model_config"))
        .map_err(|_| {
            bad("holds no model_config: a weights-only file (model.save_weights), not a whole model".into())
        })?;
    let text = attribute
        .read_string()
        .map_err(|e| bad(format!("its model_config is not a string ({e})")))?;
    serde_json::from_str(&text).map_err(|e| bad(format!("its model_config is not JSON ({e})")))
}

/// A model given as JSON text: a soundcheck JSON spec or a Keras `model.to_json()` config. A
/// parse error names its line and column.
pub fn spec_from_json_str(text: &str) -> Result<ModelSpec, Diagnosis> {
    let v: Value = serde_json::from_str(text).map_err(|e| {
        Diagnosis::new(Kind::InvalidSpec, format!("not valid JSON: {e}")).fix(format!(
            "correct the JSON near line {}, column {}",
            e.line(),
            e.column()
        ))
    })?;
    keras::spec_from_json(&v)
}

/// A model file read from disk but not yet parsed. The two steps are apart for a front end that
/// treats an unreadable file and a spec that does not check differently (the Python module raises
/// for the first and reports the second); [`load_model`] does both.
#[derive(Clone, Debug)]
pub enum ModelFile {
    /// A soundcheck TOML spec.
    Toml(String),
    /// A soundcheck JSON spec or a Keras `model.to_json()` config.
    Json(String),
    /// The `config.json` of a `.keras` archive, or the `model_config` of a Keras `.h5` file.
    Keras(Value),
}

impl ModelFile {
    /// Reads `path` by its extension: `.toml`, `.json`, `.keras` (its `config.json`, at most
    /// [`MAX_KERAS_CONFIG`] bytes) or `.h5` (its `model_config`). A file that cannot be read, is empty, is not text or is not a
    /// readable archive is a diagnosis naming it.
    pub fn read(path: &Path) -> Result<ModelFile, Diagnosis> {
        let ext = path
            .extension()
            .and_then(|e| e.to_str())
            .unwrap_or("")
            .to_lowercase();
        match ext.as_str() {
            "keras" => Ok(ModelFile::Keras(keras_archive_config(
                path,
                |name, limit, what| keras_archive_entry(path, name, limit, what),
            )?)),
            "h5" | "hdf5" => Ok(ModelFile::Keras(keras_h5_config(path)?)),
            "toml" => Ok(ModelFile::Toml(read_text(path)?)),
            "json" => Ok(ModelFile::Json(read_text(path)?)),
            _ => Err(unusable(
                path,
                format!("unknown model file type '.{ext}'"),
                "use a .toml or .json spec, a Keras model.to_json() file (.json), a .keras file or a Keras .h5 model",
            )),
        }
    }

    /// The spec the file holds; a diagnosis names the layer or key, not the file.
    pub fn parse(&self) -> Result<ModelSpec, Diagnosis> {
        match self {
            ModelFile::Toml(text) => ModelSpec::from_toml_str(text),
            ModelFile::Json(text) => spec_from_json_str(text),
            ModelFile::Keras(config) => keras::from_keras(config),
        }
    }
}

/// Loads any model file soundcheck reads, by extension and content: `.toml` and `.json`
/// soundcheck specs, Keras `model.to_json()` files (`.json`), `.keras` archives and Keras `.h5` models
/// ([`ModelFile::read`], then [`ModelFile::parse`]). Every diagnosis names the file.
pub fn load_model(path: &Path) -> Result<ModelSpec, Diagnosis> {
    ModelFile::read(path)?.parse().map_err(|d| named(path, d))
}

/// The spec of a `.keras` archive held in memory, as [`load_model`] reads one from a file;
/// `origin` names it in every diagnosis.
pub fn load_keras_bytes(bytes: &[u8], origin: &Path) -> Result<ModelSpec, Diagnosis> {
    let config = keras_archive_config(origin, |name, limit, what| {
        keras_archive_bytes_entry(bytes, origin, name, limit, what)
    })?;
    keras::from_keras(&config).map_err(|d| named(origin, d))
}

/// The diagnosis with the model's file named first (once).
fn named(path: &Path, mut d: Diagnosis) -> Diagnosis {
    if !d.title.contains(&path.display().to_string()) {
        d.title = format!("{}: {}", path.display(), d.title);
    }
    d
}
