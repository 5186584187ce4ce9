//! Source-separation datasets on disk, checked as they load: the DSD100 layout
//! (`Mixtures/{Dev,Test}/<track>/mixture.wav`, `Sources/{Dev,Test}/<track>/{bass,drums,other,
//! vocals}.wav`) and MUSDB18-HQ's (`{train,test}/<track>/{mixture,vocals,drums,bass,other}.wav`).

use std::path::{Path, PathBuf};

use soundcheck_audio::decode;

use crate::error::{Result, TaskError};

/// The stems both layouts ship, besides the mixture.
pub const STEMS: [&str; 4] = ["bass", "drums", "other", "vocals"];

/// A mixture further than this from the sum of its stems (residual energy relative to the
/// mixture's) gets a warning: the stems may be from another master, or clipped.
pub const MIXTURE_WARNING_DB: f64 = -30.0;

/// How a separation dataset lays out its files.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Layout {
    /// DSD100: `Mixtures/{Dev,Test}/<track>/mixture.wav` and `Sources/{Dev,Test}/<track>/<stem>.wav`.
    Dsd100,
    /// MUSDB18-HQ: `{train,test}/<track>/{mixture,<stem>}.wav`.
    Musdb18Hq,
}

/// One track's files, all checked to exist.
#[derive(Clone, Debug, PartialEq)]
pub struct TrackFiles {
    /// The track's folder name.
    pub name: String,
    /// `Dev`/`Test` (DSD100) or `train`/`test` (MUSDB18-HQ).
    pub subset: String,
    /// The mixture file.
    pub mixture: PathBuf,
    /// `(stem, file)` for each of [`STEMS`].
    pub stems: Vec<(String, PathBuf)>,
    /// `accompaniment.wav` when the dataset ships one.
    pub accompaniment: Option<PathBuf>,
}

/// A loaded track: the mixture, the target stem and its accompaniment, all of one rate, channel
/// count and length (`[channel][sample]`).
#[derive(Clone, Debug)]
pub struct Track {
    /// The track's folder name.
    pub name: String,
    /// Samples per second per channel.
    pub sample_rate: u32,
    /// The mixture.
    pub mixture: Vec<Vec<f32>>,
    /// The target stem (`vocals`, ...).
    pub target: Vec<Vec<f32>>,
    /// `accompaniment.wav`, or the sum of the other stems.
    pub accompaniment: Vec<Vec<f32>>,
    /// Energy of mixture − Σ stems relative to the mixture's, in dB (−inf when exact).
    pub mixture_error_db: f64,
}

impl Track {
    /// The middle `seconds` of the track (all of it when shorter): enough to measure a
    /// separator on without holding whole songs in memory.
    pub fn excerpt(mut self, seconds: f64) -> Track {
        let len = self.mixture.first().map_or(0, Vec::len);
        let keep = ((seconds * f64::from(self.sample_rate)) as usize).min(len);
        let from = (len - keep) / 2;
        for signal in [&mut self.mixture, &mut self.target, &mut self.accompaniment] {
            for ch in signal.iter_mut() {
                ch.drain(..from);
                ch.truncate(keep);
            }
        }
        self
    }

    /// The warning to show when the mixture is not the sum of the stems.
    pub fn mixture_warning(&self) -> Option<String> {
        (self.mixture_error_db > MIXTURE_WARNING_DB).then(|| {
            format!(
                "{}: the mixture differs from the sum of its stems by {:.1} dB (expected below {MIXTURE_WARNING_DB} dB); check that the stems belong to this mixture",
                self.name, self.mixture_error_db
            )
        })
    }
}

fn dirs(p: &Path) -> Result<Vec<PathBuf>> {
    let rd = std::fs::read_dir(p).map_err(|e| TaskError::io(p, "read the folder", e))?;
    let mut v: Vec<PathBuf> = rd
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_dir())
        .collect();
    v.sort();
    Ok(v)
}

fn existing(path: PathBuf, track: &str) -> Result<PathBuf> {
    if path.is_file() {
        return Ok(path);
    }
    Err(TaskError::Folder {
        actual: format!("track {track} lacks this file"),
        path,
        hint: "every track needs its mixture and the bass, drums, other and vocals stems; remove incomplete tracks".into(),
    })
}

fn track(name: String, subset: &str, mixture_dir: &Path, stems_dir: &Path) -> Result<TrackFiles> {
    let stems = STEMS
        .iter()
        .map(|s| {
            Ok((
                s.to_string(),
                existing(stems_dir.join(format!("{s}.wav")), &name)?,
            ))
        })
        .collect::<Result<_>>()?;
    let acc = stems_dir.join("accompaniment.wav");
    Ok(TrackFiles {
        mixture: existing(mixture_dir.join("mixture.wav"), &name)?,
        subset: subset.to_string(),
        stems,
        accompaniment: acc.is_file().then_some(acc),
        name,
    })
}

fn file_name(p: &Path) -> String {
    p.file_name()
        .unwrap_or_default()
        .to_string_lossy()
        .into_owned()
}

/// Finds every track under `root`, DSD100 or MUSDB18-HQ, sorted by subset and name.
///
/// # Errors
/// A folder in neither layout, or a track without its mixture or one of [`STEMS`] (the
/// missing path is named).
pub fn discover(root: &Path) -> Result<(Layout, Vec<TrackFiles>)> {
    let mut tracks = Vec::new();
    let layout = if root.join("Mixtures").is_dir() && root.join("Sources").is_dir() {
        for subset in ["Dev", "Test"] {
            let mixtures = root.join("Mixtures").join(subset);
            if !mixtures.is_dir() {
                continue;
            }
            for dir in dirs(&mixtures)? {
                let name = file_name(&dir);
                let sources = root.join("Sources").join(subset).join(&name);
                tracks.push(track(name, subset, &dir, &sources)?);
            }
        }
        Layout::Dsd100
    } else if root.join("train").is_dir() || root.join("test").is_dir() {
        for subset in ["train", "test"] {
            if root.join(subset).is_dir() {
                for dir in dirs(&root.join(subset))? {
                    tracks.push(track(file_name(&dir), subset, &dir, &dir)?);
                }
            }
        }
        Layout::Musdb18Hq
    } else {
        return Err(TaskError::Folder {
            path: root.to_path_buf(),
            actual: "holds neither DSD100's folders (Mixtures/ and Sources/) nor MUSDB18-HQ's (train/, test/)".into(),
            hint: "point at the dataset's top folder".into(),
        });
    };
    if tracks.is_empty() {
        return Err(TaskError::Folder {
            path: root.to_path_buf(),
            actual: "holds no track folders".into(),
            hint: "each track is a folder of WAV files".into(),
        });
    }
    Ok((layout, tracks))
}

/// Decodes a track with `target` (one of [`STEMS`]) as the source to separate.
///
/// # Errors
/// An unknown target, an unreadable file, or a stem whose rate, channels or length differ from
/// the mixture's (the file and both values are named).
pub fn load_track(t: &TrackFiles, target: &str) -> Result<Track> {
    if !STEMS.contains(&target) {
        return Err(TaskError::Option {
            name: "target",
            actual: target.to_string(),
            expected: format!("one of {}", STEMS.join(", ")),
        });
    }
    let mixture = decode(&t.mixture)?;
    let (sr, chans, n) = (
        mixture.sample_rate,
        mixture.channels.len(),
        mixture.frames(),
    );
    let read = |path: &Path| -> Result<Vec<Vec<f32>>> {
        let d = decode(path)?;
        let got = (d.sample_rate, d.channels.len(), d.frames());
        if got != (sr, chans, n) {
            return Err(TaskError::Folder {
                path: path.to_path_buf(),
                actual: format!(
                    "{} Hz, {} channel(s), {} samples, where its mixture {} has {sr} Hz, {chans} channel(s), {n} samples",
                    got.0,
                    got.1,
                    got.2,
                    t.mixture.display()
                ),
                hint: "the stems of a track must match its mixture; re-export or drop the track"
                    .into(),
            });
        }
        Ok(d.channels)
    };
    let stems: Vec<(String, Vec<Vec<f32>>)> = t
        .stems
        .iter()
        .map(|(s, p)| Ok((s.clone(), read(p)?)))
        .collect::<Result<_>>()?;
    let sum_of = |keep: &dyn Fn(&str) -> bool| -> Vec<Vec<f32>> {
        (0..chans)
            .map(|c| {
                (0..n)
                    .map(|i| {
                        stems
                            .iter()
                            .filter(|(s, _)| keep(s))
                            .map(|(_, x)| x[c][i])
                            .sum()
                    })
                    .collect()
            })
            .collect()
    };
    let all = sum_of(&|_| true);
    let (mut residual, mut energy) = (0.0f64, 0.0f64);
    for (m, s) in mixture.channels.iter().zip(&all) {
        for (&a, &b) in m.iter().zip(s) {
            residual += f64::from(a - b).powi(2);
            energy += f64::from(a).powi(2);
        }
    }
    let accompaniment = match &t.accompaniment {
        Some(p) => read(p)?,
        None => sum_of(&|s| s != target),
    };
    let target = stems
        .into_iter()
        .find(|(s, _)| s == target)
        .map(|(_, x)| x)
        .unwrap_or_default();
    Ok(Track {
        name: t.name.clone(),
        sample_rate: sr,
        mixture: mixture.channels,
        target,
        accompaniment,
        mixture_error_db: 10.0 * (residual / energy.max(f64::MIN_POSITIVE)).log10(),
    })
}
