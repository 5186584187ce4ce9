//! Classification datasets: a folder per class (`DATA/<label>/*.wav|flac|ogg|mp3`) or a CSV
//! manifest (`path,label[,split]`, or any columns under a header naming `path` and `label`), and
//! a deterministic stratified train/validation/test split (the group-aware split is `groups`).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use soundcheck_io::SplitMix64;

use crate::error::{DataError, Result};
use crate::order::shuffled;

/// Which part of a dataset a clip belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Split {
    /// Trained on.
    Train,
    /// Watched while training.
    Validation,
    /// Held out for the final score.
    Test,
}

impl Split {
    /// The name a CSV manifest uses (`train`, `validation`, `test`).
    pub fn name(self) -> &'static str {
        match self {
            Split::Train => "train",
            Split::Validation => "validation",
            Split::Test => "test",
        }
    }
}

/// One labelled audio file.
#[derive(Clone, Debug, PartialEq)]
pub struct Clip {
    /// The audio file.
    pub path: PathBuf,
    /// Index into [`ClassSet::classes`].
    pub label: usize,
    /// Where the manifest put the clip; `None` leaves it to the stratified split.
    pub split: Option<Split>,
    /// The manifest's other columns' values, in [`ClassSet::columns`] order.
    pub extra: Vec<String>,
}

/// Labelled clips and their class names.
#[derive(Clone, Debug, PartialEq)]
pub struct ClassSet {
    /// Class names, sorted: the label of class `i` is `classes[i]`.
    pub classes: Vec<String>,
    /// Every clip, in a stable order.
    pub clips: Vec<Clip>,
    /// The names of a manifest's columns other than `path`, `label` and `split` (a speaker, a
    /// session), from its header; empty for class folders and manifests without a header.
    pub columns: Vec<String>,
}

fn io(path: &Path, action: &'static str, source: std::io::Error) -> DataError {
    DataError::Io {
        path: path.to_path_buf(),
        action,
        source,
    }
}

fn sorted_dir(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| io(dir, "read the folder", e))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    v.sort();
    Ok(v)
}

impl ClassSet {
    /// Reads `source`: a CSV manifest file, or a directory of class folders.
    ///
    /// # Errors
    /// A missing path, a folder without class folders or audio, a manifest row without a label
    /// or with an unknown split (naming the line).
    pub fn open(source: &Path) -> Result<ClassSet> {
        if source.is_file() {
            return ClassSet::from_manifest(source);
        }
        let mut by_class: BTreeMap<String, Vec<PathBuf>> = BTreeMap::new();
        for dir in sorted_dir(source)?.into_iter().filter(|p| p.is_dir()) {
            let files: Vec<PathBuf> = sorted_dir(&dir)?
                .into_iter()
                .filter(|p| p.is_file() && soundcheck_audio::is_audio_path(p))
                .collect();
            let name = dir.file_name().expect("a directory name").to_string_lossy();
            if !files.is_empty() {
                by_class.insert(name.to_string(), files);
            }
        }
        if by_class.is_empty() {
            return Err(DataError::Empty {
                what: format!("{}: no class folders with audio", source.display()),
                hint: "lay the data out as DATA/<label>/*.wav (or .flac, .ogg, .mp3), or pass a CSV manifest with path,label[,split]".into(),
            });
        }
        let classes: Vec<String> = by_class.keys().cloned().collect();
        let clips = by_class
            .into_values()
            .enumerate()
            .flat_map(|(label, files)| {
                files.into_iter().map(move |path| Clip {
                    path,
                    label,
                    split: None,
                    extra: Vec::new(),
                })
            })
            .collect();
        Ok(ClassSet {
            classes,
            clips,
            columns: Vec::new(),
        })
    }

    fn from_manifest(csv: &Path) -> Result<ClassSet> {
        let text = std::fs::read_to_string(csv).map_err(|e| io(csv, "read the manifest", e))?;
        let base = csv.parent().unwrap_or(Path::new("."));
        let bad = |line: usize, detail: String| DataError::Mismatch {
            what: format!("{} line {line}", csv.display()),
            expected: "path,label[,split] with split one of train, validation, test".into(),
            actual: detail,
            hint: "fix the row; paths are relative to the manifest's folder".into(),
        };
        let split_of = |line: usize, v: &str| match v {
            "" => Ok(None),
            "train" => Ok(Some(Split::Train)),
            "validation" | "val" | "valid" => Ok(Some(Split::Validation)),
            "test" => Ok(Some(Split::Test)),
            other => Err(bad(line, format!("split '{other}'"))),
        };
        let mut lines = text
            .lines()
            .enumerate()
            .filter(|(_, l)| !l.trim().is_empty());
        let fields =
            |line: &str| -> Vec<String> { line.split(',').map(|f| f.trim().to_string()).collect() };
        // A header (its first column named `path`) places the columns by name and keeps the
        // others for grouping; without one the columns are path, label, split.
        let first = lines.clone().next().map(|(_, l)| fields(l));
        let header = first.filter(|f| f[0].eq_ignore_ascii_case("path"));
        let (path_at, label_at, split_at, extra_at) = match &header {
            Some(names) => {
                lines.next();
                let at = |name: &str| names.iter().position(|n| n.eq_ignore_ascii_case(name));
                let label = at("label").ok_or_else(|| {
                    bad(
                        1,
                        format!("a header without a `label` column ('{}')", names.join(",")),
                    )
                })?;
                let split = at("split");
                let extra: Vec<usize> = (1..names.len())
                    .filter(|&i| i != label && Some(i) != split)
                    .collect();
                (0, label, split, extra)
            }
            None => (0, 1, Some(2), Vec::new()),
        };
        let columns = extra_at
            .iter()
            .map(|&i| header.as_ref().expect("a header")[i].clone())
            .collect();
        let mut rows = Vec::new();
        for (i, line) in lines {
            let f = fields(line);
            let get = |at: usize| f.get(at).map_or("", String::as_str);
            let (path, label) = (get(path_at), get(label_at));
            if path.is_empty() || label.is_empty() {
                return Err(bad(i + 1, format!("'{line}'")));
            }
            let split = split_of(i + 1, split_at.map_or("", get))?;
            let extra = extra_at.iter().map(|&at| get(at).to_string()).collect();
            rows.push((base.join(path), label.to_string(), split, extra));
        }
        let mut classes: Vec<String> = rows.iter().map(|r| r.1.clone()).collect();
        classes.sort();
        classes.dedup();
        if classes.is_empty() {
            return Err(DataError::Empty {
                what: format!("{}: the manifest lists no clips", csv.display()),
                hint: "one row per clip: path,label[,split]".into(),
            });
        }
        let clips = rows
            .into_iter()
            .map(|(path, label, split, extra)| Clip {
                path,
                label: classes.binary_search(&label).expect("a listed class"),
                split,
                extra,
            })
            .collect();
        Ok(ClassSet {
            classes,
            clips,
            columns,
        })
    }

    /// Assigns every clip a split: the manifest's where given, otherwise per class, shuffled by
    /// `seed`, `round(n·validation)` to validation and `round(n·test)` to test (at least one
    /// each when the fraction is positive), the rest to training.
    ///
    /// # Errors
    /// A class with too few clips to appear in every split, naming the class and its count.
    pub fn split(&self, validation: f64, test: f64, seed: u64) -> Result<Vec<Split>> {
        check_fractions(validation, test)?;
        let mut out: Vec<Option<Split>> = self.clips.iter().map(|c| c.split).collect();
        let needed = 1 + (validation > 0.0) as usize + (test > 0.0) as usize;
        for (label, name) in self.classes.iter().enumerate() {
            let free: Vec<usize> = (0..self.clips.len())
                .filter(|&i| self.clips[i].label == label && out[i].is_none())
                .collect();
            let total = self.clips.iter().filter(|c| c.label == label).count();
            if total < needed {
                return Err(DataError::Empty {
                    what: format!("class '{name}': {total} clip(s), too few for a train/validation/test split"),
                    hint: format!("give every class at least {needed} clips (10 or more to learn from), or remove the class"),
                });
            }
            let mut rng =
                SplitMix64::new(seed ^ (label as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15));
            let order = shuffled(free, rng.next_u64());
            let take = |f: f64| {
                if f > 0.0 {
                    ((order.len() as f64 * f).round() as usize).max(1)
                } else {
                    0
                }
            };
            let (nv, nt) = (take(validation), take(test));
            for (k, &i) in order.iter().enumerate() {
                out[i] = Some(if k < nv {
                    Split::Validation
                } else if k < nv + nt {
                    Split::Test
                } else {
                    Split::Train
                });
            }
        }
        let splits: Vec<Split> = out.into_iter().map(|s| s.unwrap_or(Split::Train)).collect();
        self.check_every_class_trains(
            &splits,
            "give the class training clips in the manifest's split column",
        )?;
        Ok(splits)
    }

    /// A class with no training clip cannot be learnt, only mispredicted: refused, naming it.
    ///
    /// # Errors
    /// The first class without a training clip, with what `hint` suggests.
    pub(crate) fn check_every_class_trains(&self, splits: &[Split], hint: &str) -> Result<()> {
        for (label, name) in self.classes.iter().enumerate() {
            let trains = |i: &usize| self.clips[*i].label == label && splits[*i] == Split::Train;
            if !(0..self.clips.len()).any(|i| trains(&i)) {
                let total = self.clips.iter().filter(|c| c.label == label).count();
                return Err(DataError::Empty {
                    what: format!("the training split of class '{name}' ({total} clip(s), none of them in training)"),
                    hint: hint.to_string(),
                });
            }
        }
        Ok(())
    }
}

/// The validation and test fractions of a split, each in [0, 1) (NaN refused).
pub(crate) fn check_fractions(validation: f64, test: f64) -> Result<()> {
    for (name, f) in [("validation_split", validation), ("test_split", test)] {
        if f.is_nan() || !(0.0..1.0).contains(&f) {
            return Err(DataError::InvalidParameter {
                name,
                actual: f.to_string(),
                expected: "a fraction in [0, 1), e.g. 0.15".into(),
            });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tmp(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("sc-classes-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        d
    }

    #[test]
    fn folders_become_sorted_classes_and_splits_are_stratified() {
        let d = tmp("folders");
        for (class, n) in [("dog", 10), ("cat", 20)] {
            std::fs::create_dir_all(d.join(class)).unwrap();
            for i in 0..n {
                std::fs::write(d.join(class).join(format!("{i:02}.wav")), b"").unwrap();
            }
        }
        std::fs::write(d.join("cat").join("notes.txt"), b"").unwrap();
        let set = ClassSet::open(&d).unwrap();
        assert_eq!(set.classes, vec!["cat", "dog"]);
        assert_eq!(set.clips.len(), 30);
        let s = set.split(0.2, 0.1, 7).unwrap();
        let count = |label: usize, split: Split| {
            (0..30)
                .filter(|&i| set.clips[i].label == label && s[i] == split)
                .count()
        };
        assert_eq!((count(0, Split::Validation), count(0, Split::Test)), (4, 2));
        assert_eq!((count(1, Split::Validation), count(1, Split::Test)), (2, 1));
        assert_eq!(s, set.split(0.2, 0.1, 7).unwrap(), "same seed, same split");
        std::fs::remove_dir_all(d).unwrap();
    }

    #[test]
    fn manifests_keep_their_splits_and_small_classes_are_named() {
        let d = tmp("manifest");
        std::fs::create_dir_all(&d).unwrap();
        let csv = d.join("m.csv");
        std::fs::write(
            &csv,
            "path,label,split\na.wav,yes,test\nb.wav,yes,\nc.wav,no,train\n",
        )
        .unwrap();
        let set = ClassSet::open(&csv).unwrap();
        assert_eq!(set.classes, vec!["no", "yes"]);
        assert_eq!(set.clips[0].path, d.join("a.wav"));
        assert_eq!(set.clips[0].split, Some(Split::Test));
        let e = set.split(0.1, 0.1, 0).unwrap_err().to_string();
        assert!(e.contains("class 'no': 1 clip(s)"), "{e}");
        std::fs::write(&csv, "a.wav,yes,holdout\n").unwrap();
        let e = ClassSet::open(&csv).unwrap_err().to_string();
        assert!(e.contains("line 1") && e.contains("holdout"), "{e}");
        std::fs::remove_dir_all(d).unwrap();
    }
}
