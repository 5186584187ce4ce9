//! Reading model files (soundcheck TOML/JSON, Keras JSON, `.keras` archives) and `.npy` headers,
//! and writing outputs atomically.

use std::io::Read;
use std::path::Path;

use serde_json::Value;
use soundcheck_shape::{keras, Diagnosis, Kind, ModelSpec};

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
const MAX_KERAS_CONFIG: u64 = 64 << 20;

/// The `config.json` inside a `.keras` archive.
fn keras_archive_config(path: &Path) -> Result<Value, Diagnosis> {
    let file = std::fs::File::open(path).map_err(|e| {
        unusable(
            path,
            format!("cannot open the file ({e})"),
            "check the path",
        )
    })?;
    let mut zip = zip::ZipArchive::new(file).map_err(|e| {
        unusable(
            path,
            format!("not a readable .keras archive ({e})"),
            "save the model again with model.save('model.keras')",
        )
    })?;
    let mut entry = zip.by_name("config.json").map_err(|_| {
        unusable(
            path,
            "the archive has no config.json".into(),
            "save the model with Keras 3: model.save('model.keras')",
        )
    })?;
    if entry.size() > MAX_KERAS_CONFIG {
        return Err(unusable(
            path,
            format!(
                "config.json inflates to {} bytes, more than the {} MiB a model config can take",
                entry.size(),
                MAX_KERAS_CONFIG >> 20
            ),
            "save the model again with model.save('model.keras'); this archive is damaged or not a Keras model",
        ));
    }
    let mut text = String::new();
    // The declared size can lie: never read past the bound either way.
    (&mut entry)
        .take(MAX_KERAS_CONFIG + 1)
        .read_to_string(&mut text)
        .map_err(|e| {
            unusable(
                path,
                format!("config.json cannot be read ({e})"),
                "save the model again",
            )
        })?;
    if text.len() as u64 > MAX_KERAS_CONFIG {
        return Err(unusable(
            path,
            format!("config.json is larger than the {} MiB a model config can take", MAX_KERAS_CONFIG >> 20),
            "save the model again with model.save('model.keras'); this archive is damaged or not a Keras model",
        ));
    }
    serde_json::from_str(&text).map_err(|e| {
        unusable(
            path,
            format!("config.json is not JSON ({e})"),
            "save the model again",
        )
    })
}

/// Loads any model file soundcheck reads, by extension and content.
pub fn load_spec(path: &Path) -> Result<ModelSpec, Diagnosis> {
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or("")
        .to_lowercase();
    let located = |mut d: Diagnosis| {
        if !d.title.contains(&path.display().to_string()) {
            d.title = format!("{}: {}", path.display(), d.title);
        }
        d
    };
    match ext.as_str() {
        "keras" => keras::from_keras(&keras_archive_config(path)?).map_err(located),
        "toml" => ModelSpec::from_toml_str(&read_text(path)?).map_err(located),
        "json" => {
            let text = read_text(path)?;
            let v: Value = serde_json::from_str(&text).map_err(|e| {
                located(
                    Diagnosis::new(Kind::InvalidSpec, format!("not valid JSON: {e}")).fix(format!(
                        "correct the JSON near line {}, column {}",
                        e.line(),
                        e.column()
                    )),
                )
            })?;
            keras::spec_from_json(&v).map_err(located)
        }
        _ => Err(unusable(
            path,
            format!("unknown model file type '.{ext}'"),
            "use a .toml or .json spec, a Keras model.to_json() file (.json) or a .keras file",
        )),
    }
}

/// The header of a `.npy` file (shape and element type), as a diagnosis when unreadable.
pub fn read_npy_header(path: &Path) -> Result<soundcheck_npy::Header, Diagnosis> {
    soundcheck_npy::read_header(path).map_err(|e| {
        Diagnosis::new(
            Kind::InvalidSpec,
            format!("{}: {}", e.path.display(), e.actual),
        )
        .expected("a .npy file written by numpy.save")
        .fix("save the array with np.save('x.npy', x), or give its shape with --feed")
    })
}

/// Parses `32,2584`, `(32, 2584)` or `[32, 2584]` into a shape.
pub fn parse_shape(text: &str, flag: &str) -> Result<Vec<usize>, Diagnosis> {
    let t = text
        .trim()
        .trim_start_matches(['(', '['])
        .trim_end_matches([')', ']']);
    t.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| s.parse::<usize>())
        .collect::<Result<Vec<_>, _>>()
        .ok()
        .filter(|v| !v.is_empty())
        .ok_or_else(|| {
            Diagnosis::new(Kind::InvalidSpec, format!("{flag} '{text}' is not a shape"))
                .expected("comma-separated sizes, batch first, e.g. 32,513,25,1")
                .fix(format!(
                    "write the array's full shape as numpy prints it: {flag} 32,2584"
                ))
        })
}

/// Writes `text` to `path` atomically.
pub fn write_atomic(path: &Path, text: &str) -> Result<(), Diagnosis> {
    soundcheck_io::write_atomic(path, text.as_bytes()).map_err(|e| {
        Diagnosis::new(
            Kind::InvalidSpec,
            format!("{}: cannot write ({e})", path.display()),
        )
        .fix("check that the folder exists and is writable")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shapes_parse_in_numpy_forms() {
        assert_eq!(parse_shape("32,2584", "--feed").unwrap(), vec![32, 2584]);
        assert_eq!(
            parse_shape("(32, 513, 25, 1)", "--feed").unwrap(),
            vec![32, 513, 25, 1]
        );
        let e = parse_shape("32xx", "--feed").unwrap_err();
        assert!(e.title.contains("--feed"));
    }
}
