//! Spleeter's CSV manifest of a two-stem dataset: a header `mix_path,vocals_path,
//! accompaniment_path,duration` and one row per track, paths relative to the manifest's folder.
//! `duration` (seconds, Spleeter's) may be absent; an optional `split` column (`train`/`test`)
//! says which tracks are held out; an empty `mix_path` means the track has no mixture file and
//! its mixture is the sum of its stems.

use std::path::{Path, PathBuf};

use super::tracks::{TrackFiles, TrackSource};
use crate::error::{Result, TaskError};

/// The columns a manifest needs, and those it may have.
const REQUIRED: [&str; 3] = ["mix_path", "vocals_path", "accompaniment_path"];
const OPTIONAL: [&str; 2] = ["duration", "split"];

/// The fields of one CSV line: commas separate, double quotes enclose a field holding commas
/// (`""` is a quote inside one), as pandas' `to_csv` writes paths.
fn fields(line: &str) -> std::result::Result<Vec<String>, &'static str> {
    let mut out = vec![String::new()];
    let mut quoted = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        let field = out.last_mut().expect("one field at least");
        match (c, quoted) {
            ('"', true) if chars.peek() == Some(&'"') => {
                field.push('"');
                chars.next();
            }
            ('"', _) => quoted = !quoted,
            (',', false) => out.push(String::new()),
            (c, _) => field.push(c),
        }
    }
    if quoted {
        return Err("a quote that is never closed");
    }
    Ok(out.into_iter().map(|f| f.trim().to_string()).collect())
}

/// The tracks a manifest lists, in its order.
///
/// # Errors
/// An unreadable file, a header without `mix_path`, `vocals_path` and `accompaniment_path` or
/// with a column of another name, a row of the wrong width, a duration that is not a number of
/// seconds, a split other than train or test, a file that does not exist (each naming the
/// line), or no rows.
pub fn read_manifest(csv: &Path) -> Result<Vec<TrackFiles>> {
    // A manifest of a million tracks is a few hundred MB of text: anything larger is not one.
    const MAX_BYTES: u64 = 256 << 20;
    let size = std::fs::metadata(csv)
        .map_err(|e| TaskError::io(csv, "read the manifest", e))?
        .len();
    if size > MAX_BYTES {
        return Err(TaskError::Folder {
            path: csv.to_path_buf(),
            actual: format!("a manifest of {size} bytes"),
            hint: format!(
                "a manifest is a CSV of at most {MAX_BYTES} bytes; is this the right file?"
            ),
        });
    }
    let text =
        std::fs::read_to_string(csv).map_err(|e| TaskError::io(csv, "read the manifest", e))?;
    let base = csv.parent().unwrap_or(Path::new("."));
    let bad = |line: usize, actual: String, hint: &str| TaskError::Folder {
        path: csv.to_path_buf(),
        actual: format!("line {line}: {actual}"),
        hint: hint.into(),
    };
    let mut lines = text
        .lines()
        .enumerate()
        .map(|(i, l)| (i + 1, l))
        .filter(|(_, l)| !l.trim().is_empty());
    let header_hint = "the first line names the columns: mix_path,vocals_path,accompaniment_path[,duration][,split] (Spleeter's manifest)";
    let Some((_, header)) = lines.next() else {
        return Err(bad(1, "the manifest is empty".into(), header_hint));
    };
    let names = fields(header).map_err(|e| bad(1, e.into(), header_hint))?;
    if let Some(n) = names
        .iter()
        .find(|n| !REQUIRED.contains(&n.as_str()) && !OPTIONAL.contains(&n.as_str()))
    {
        return Err(bad(1, format!("unknown column '{n}'"), header_hint));
    }
    let at = |name: &str| names.iter().position(|n| n == name);
    let required = REQUIRED
        .iter()
        .map(|&r| at(r).ok_or_else(|| bad(1, format!("no '{r}' column"), header_hint)))
        .collect::<Result<Vec<usize>>>()?;
    let (duration_at, split_at) = (at("duration"), at("split"));
    let mut tracks = Vec::new();
    for (line, text) in lines {
        let row = fields(text).map_err(|e| bad(line, e.into(), "quote a field whole"))?;
        if row.len() != names.len() {
            return Err(bad(
                line,
                format!(
                    "{} field(s), where the header names {}",
                    row.len(),
                    names.len()
                ),
                "give every row one field per column (an empty mix_path is allowed)",
            ));
        }
        if let Some(d) = duration_at
            .map(|i| row[i].as_str())
            .filter(|d| !d.is_empty())
        {
            if !d.parse::<f64>().is_ok_and(|v| v.is_finite() && v >= 0.0) {
                return Err(bad(
                    line,
                    format!("duration '{d}' is not a number of seconds"),
                    "write the track's length in seconds, or leave the field empty",
                ));
            }
        }
        let subset = match split_at.map_or("", |i| row[i].as_str()) {
            s @ ("" | "train" | "test") => s.to_string(),
            other => {
                return Err(bad(
                    line,
                    format!("split '{other}'"),
                    "a split is train or test (test tracks are held out), or empty",
                ))
            }
        };
        let file = |column: usize, what: &str| -> Result<Option<PathBuf>> {
            let cell = &row[required[column]];
            if cell.is_empty() {
                return Ok(None);
            }
            let path = base.join(cell);
            if !path.is_file() {
                return Err(bad(
                    line,
                    format!("{what} {} does not exist", path.display()),
                    "paths are relative to the manifest's folder; fix the path or drop the row",
                ));
            }
            Ok(Some(path))
        };
        let stem = |column: usize, what: &str| -> Result<PathBuf> {
            file(column, what)?.ok_or_else(|| {
                bad(
                    line,
                    format!("no {what} file"),
                    "every row needs its vocals and accompaniment; mix_path may be empty",
                )
            })
        };
        let mixture = file(0, "mixture")?;
        let vocals = stem(1, "vocals")?;
        let accompaniment = stem(2, "accompaniment")?;
        // One file in two columns would train or score nonsense without a word.
        let named: Vec<(&str, &Path)> = [("mix_path", mixture.as_deref())]
            .into_iter()
            .filter_map(|(c, p)| p.map(|p| (c, p)))
            .chain([
                ("vocals_path", vocals.as_path()),
                ("accompaniment_path", accompaniment.as_path()),
            ])
            .collect();
        for (i, (a, pa)) in named.iter().enumerate() {
            if let Some((b, _)) = named[i + 1..]
                .iter()
                .find(|(_, pb)| soundcheck_io::same_file(pa, pb))
            {
                return Err(bad(
                    line,
                    format!("{a} and {b} are the same file, {}", pa.display()),
                    "each column names its own recording: the mixture, the vocals and the accompaniment",
                ));
            }
        }
        tracks.push(TrackFiles {
            name: row[required[if mixture.is_some() { 0 } else { 1 }]].clone(),
            subset,
            source: TrackSource::Stems {
                mixture,
                stems: vec![
                    ("vocals".into(), vocals),
                    ("accompaniment".into(), accompaniment),
                ],
                accompaniment: None,
            },
        });
    }
    if tracks.is_empty() {
        return Err(bad(
            2,
            "the manifest lists no tracks".into(),
            "one row per track after the header",
        ));
    }
    Ok(tracks)
}

#[cfg(test)]
mod tests {
    use super::fields;

    #[test]
    fn quoted_fields_keep_their_commas_and_quotes() {
        assert_eq!(
            fields(r#"a.wav, "b, c.wav" ,"say ""hi"".wav",3.5"#).unwrap(),
            ["a.wav", "b, c.wav", r#"say "hi".wav"#, "3.5"]
        );
        assert_eq!(fields("a,,b").unwrap(), ["a", "", "b"]);
        assert!(fields(r#"a,"b"#).is_err());
    }
}
