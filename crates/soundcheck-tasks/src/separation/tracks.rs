//! Source-separation datasets on disk, checked as they load:
//!
//! - DSD100 (`Mixtures/{Dev,Test}/<track>/mixture.wav`, `Sources/{Dev,Test}/<track>/{bass,
//!   drums,other,vocals}.wav`) and MUSDB18-HQ (`{train,test}/<track>/{mixture,vocals,drums,
//!   bass,other}.wav`);
//! - two stems: track folders of `vocals.wav` and `accompaniment.wav` (and `mixture.wav` when
//!   there is one), in `train/` and `test/` or directly in the dataset folder;
//! - stereo files with the voice on one channel and the accompaniment on the other (MIR-1K's
//!   `Wavfile/`, iKala's), the voice's channel given by `voice_channel`;
//! - a CSV manifest of mixture, vocals and accompaniment files (Spleeter's, `manifest.rs`).

use std::path::{Path, PathBuf};

use soundcheck_audio::decode;

use super::manifest::read_manifest;
use crate::error::{Result, TaskError};

/// The stems DSD100 and MUSDB18-HQ ship, besides the mixture.
pub const STEMS: [&str; 4] = ["bass", "drums", "other", "vocals"];

/// The stems of a two-stem track (folder or manifest row).
pub const TWO_STEMS: [&str; 2] = ["vocals", "accompaniment"];

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
    /// Track folders of `vocals.wav` and `accompaniment.wav` (+ `mixture.wav`), in `train/` and
    /// `test/` or directly in the dataset folder.
    TwoStems,
    /// Stereo files of voice and accompaniment, one per channel (MIR-1K, iKala), directly in the
    /// dataset folder or in `train/` and `test/`.
    StereoChannels(VoiceChannel),
    /// A CSV manifest: `mix_path,vocals_path,accompaniment_path[,duration][,split]`.
    Manifest,
}

/// The channel of a stereo file that holds the voice; the other holds the accompaniment.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum VoiceChannel {
    /// Channel 0.
    Left,
    /// Channel 1 (MIR-1K's `Wavfile/` and iKala put the voice on the right).
    Right,
}

impl VoiceChannel {
    /// `left` or `right`, as the `voice_channel` argument spells it.
    pub fn parse(s: &str) -> Result<VoiceChannel> {
        match s {
            "left" => Ok(VoiceChannel::Left),
            "right" => Ok(VoiceChannel::Right),
            other => Err(TaskError::Option {
                name: "voice_channel",
                actual: format!("{other:?}"),
                expected: "left or right (MIR-1K's Wavfile/ and iKala: right)".into(),
            }),
        }
    }

    /// The voice's channel index in a stereo file.
    pub fn index(self) -> usize {
        match self {
            VoiceChannel::Left => 0,
            VoiceChannel::Right => 1,
        }
    }

    /// `left` or `right`.
    pub fn name(self) -> &'static str {
        match self {
            VoiceChannel::Left => "left",
            VoiceChannel::Right => "right",
        }
    }
}

/// Where a track's signals are.
#[derive(Clone, Debug, PartialEq)]
pub enum TrackSource {
    /// One file per stem.
    Stems {
        /// The mixture file; `None` when the dataset has none, and the mixture is the sum of
        /// the stems.
        mixture: Option<PathBuf>,
        /// `(stem, file)`: [`STEMS`] (DSD100, MUSDB18-HQ) or [`TWO_STEMS`].
        stems: Vec<(String, PathBuf)>,
        /// `accompaniment.wav` beside four stems, when the dataset ships one.
        accompaniment: Option<PathBuf>,
    },
    /// One stereo file: the voice on `voice`'s channel, the accompaniment on the other.
    Channels {
        /// The file.
        file: PathBuf,
        /// The voice's channel.
        voice: VoiceChannel,
    },
}

/// One track's files, all checked to exist.
#[derive(Clone, Debug, PartialEq)]
pub struct TrackFiles {
    /// The track's folder name, file name (stereo files) or manifest path.
    pub name: String,
    /// `Dev`/`Test` (DSD100), `train`/`test` (the others), or empty when the dataset does not
    /// say.
    pub subset: String,
    /// Its files.
    pub source: TrackSource,
}

impl TrackFiles {
    /// Every file the track is read from (its cache entries are keyed on them).
    pub fn files(&self) -> Vec<&Path> {
        match &self.source {
            TrackSource::Stems {
                mixture,
                stems,
                accompaniment,
            } => mixture
                .iter()
                .chain(stems.iter().map(|(_, p)| p))
                .chain(accompaniment)
                .map(PathBuf::as_path)
                .collect(),
            TrackSource::Channels { file, .. } => vec![file.as_path()],
        }
    }

    /// The track's own mixture file, when the dataset has one.
    pub fn mixture_file(&self) -> Option<&Path> {
        match &self.source {
            TrackSource::Stems { mixture, .. } => mixture.as_deref(),
            TrackSource::Channels { .. } => None,
        }
    }

    /// The dataset has no mixture for this track: loading computes it as the sum of the stems.
    pub fn mixture_computed(&self) -> bool {
        self.mixture_file().is_none()
    }

    /// The stems this track can be trained to separate.
    pub fn targets(&self) -> Vec<&str> {
        match &self.source {
            TrackSource::Stems { stems, .. } => stems
                .iter()
                .map(|(s, _)| s.as_str())
                .filter(|s| *s != "accompaniment")
                .collect(),
            TrackSource::Channels { .. } => vec!["vocals"],
        }
    }
}

/// A loaded track: the mixture, the target stem and its accompaniment, all of one rate, channel
/// count and length (`[channel][sample]`).
#[derive(Clone, Debug)]
pub struct Track {
    /// The track's name ([`TrackFiles::name`]).
    pub name: String,
    /// Samples per second per channel.
    pub sample_rate: u32,
    /// The mixture: the dataset's, or the sum of the stems (see `mixture_computed`).
    pub mixture: Vec<Vec<f32>>,
    /// The target stem (`vocals`, ...).
    pub target: Vec<Vec<f32>>,
    /// `accompaniment.wav`, or the sum of the other stems.
    pub accompaniment: Vec<Vec<f32>>,
    /// The dataset has no mixture for this track: `mixture` is the sum of its stems (MIR-1K's
    /// and iKala's channels, a two-stem folder or manifest row without one).
    pub mixture_computed: bool,
    /// Energy of mixture − Σ stems relative to the mixture's, in dB (−inf when exact, and so
    /// for a computed mixture).
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

fn entries(p: &Path) -> Result<Vec<PathBuf>> {
    let rd = std::fs::read_dir(p).map_err(|e| TaskError::io(p, "read the folder", e))?;
    let mut v: Vec<PathBuf> = rd.filter_map(|e| e.ok().map(|e| e.path())).collect();
    v.sort();
    Ok(v)
}

fn dirs(p: &Path) -> Result<Vec<PathBuf>> {
    Ok(entries(p)?.into_iter().filter(|p| p.is_dir()).collect())
}

fn wav_files(p: &Path) -> Result<Vec<PathBuf>> {
    Ok(entries(p)?
        .into_iter()
        .filter(|p| p.is_file() && p.extension().is_some_and(|e| e.eq_ignore_ascii_case("wav")))
        .collect())
}

fn existing(path: PathBuf, track: &str, hint: &str) -> Result<PathBuf> {
    if path.is_file() {
        return Ok(path);
    }
    Err(TaskError::Folder {
        actual: format!("track {track} lacks this file"),
        path,
        hint: hint.into(),
    })
}

const FOUR_STEMS_HINT: &str =
    "every track needs its mixture and the bass, drums, other and vocals stems; remove incomplete tracks";

/// A four-stem track (DSD100, MUSDB18-HQ): mixture, [`STEMS`], maybe `accompaniment.wav`.
fn four_stems(
    name: String,
    subset: &str,
    mixture_dir: &Path,
    stems_dir: &Path,
) -> Result<TrackFiles> {
    let stems = STEMS
        .iter()
        .map(|s| {
            let path = stems_dir.join(format!("{s}.wav"));
            Ok((s.to_string(), existing(path, &name, FOUR_STEMS_HINT)?))
        })
        .collect::<Result<_>>()?;
    let acc = stems_dir.join("accompaniment.wav");
    Ok(TrackFiles {
        source: TrackSource::Stems {
            mixture: Some(existing(
                mixture_dir.join("mixture.wav"),
                &name,
                FOUR_STEMS_HINT,
            )?),
            stems,
            accompaniment: acc.is_file().then_some(acc),
        },
        subset: subset.to_string(),
        name,
    })
}

/// A track folder: four stems when it has `drums.wav`, `bass.wav` or `other.wav`, otherwise
/// [`TWO_STEMS`] with an optional mixture.
fn track_folder(dir: &Path, subset: &str) -> Result<TrackFiles> {
    let name = file_name(dir);
    if STEMS
        .iter()
        .any(|s| *s != "vocals" && dir.join(format!("{s}.wav")).is_file())
    {
        return four_stems(name, subset, dir, dir);
    }
    let hint = "a track folder holds vocals.wav and accompaniment.wav (and mixture.wav when there is one), or MUSDB18-HQ's mixture and four stems";
    let stems = TWO_STEMS
        .iter()
        .map(|s| {
            let path = dir.join(format!("{s}.wav"));
            Ok((s.to_string(), existing(path, &name, hint)?))
        })
        .collect::<Result<_>>()?;
    let mixture = dir.join("mixture.wav");
    Ok(TrackFiles {
        source: TrackSource::Stems {
            mixture: mixture.is_file().then_some(mixture),
            stems,
            accompaniment: None,
        },
        subset: subset.to_string(),
        name,
    })
}

fn file_name(p: &Path) -> String {
    p.file_name()
        .unwrap_or_default()
        .to_string_lossy()
        .into_owned()
}

/// `train/` and `test/` when the folder has either, else the folder itself as one unnamed
/// subset.
fn subsets(root: &Path) -> Vec<(PathBuf, &'static str)> {
    let named: Vec<_> = ["train", "test"]
        .into_iter()
        .map(|s| (root.join(s), s))
        .filter(|(p, _)| p.is_dir())
        .collect();
    if named.is_empty() {
        vec![(root.to_path_buf(), "")]
    } else {
        named
    }
}

/// Finds every track under `root`, sorted by subset and name: a DSD100, MUSDB18-HQ or
/// two-stem folder, a CSV manifest, or — with `voice_channel` — a folder of stereo files of
/// voice and accompaniment.
///
/// # Errors
/// A folder in none of the layouts, a track without one of its files (the missing path is
/// named), a manifest row that cannot be used, or `voice_channel` given for a dataset of
/// separate stems.
pub fn discover(
    root: &Path,
    voice_channel: Option<VoiceChannel>,
) -> Result<(Layout, Vec<TrackFiles>)> {
    let not_channels = |layout: &str| -> Result<()> {
        match voice_channel {
            Some(v) => Err(TaskError::Option {
                name: "voice_channel",
                actual: v.name().into(),
                expected: format!("no voice channel for {} ({layout}: the voice has its own files); it is only for stereo files of voice and accompaniment such as MIR-1K's", root.display()),
            }),
            None => Ok(()),
        }
    };
    if root.is_file() {
        not_channels("a manifest")?;
        return Ok((Layout::Manifest, read_manifest(root)?));
    }
    let mut tracks = Vec::new();
    let layout = if let Some(voice) = voice_channel {
        for (dir, subset) in subsets(root) {
            for file in wav_files(&dir)? {
                tracks.push(TrackFiles {
                    name: file_name(&file),
                    subset: subset.to_string(),
                    source: TrackSource::Channels { file, voice },
                });
            }
        }
        if tracks.is_empty() {
            for (dir, _) in subsets(root) {
                if !dirs(&dir)?.is_empty() {
                    not_channels("track folders")?;
                }
            }
            return Err(TaskError::Folder {
                path: root.to_path_buf(),
                actual: "holds no .wav files (directly or in train/ and test/)".into(),
                hint:
                    "with `voice_channel`, point at the folder of stereo files (MIR-1K's Wavfile/)"
                        .into(),
            });
        }
        Layout::StereoChannels(voice)
    } else if root.join("Mixtures").is_dir() && root.join("Sources").is_dir() {
        for subset in ["Dev", "Test"] {
            let mixtures = root.join("Mixtures").join(subset);
            if !mixtures.is_dir() {
                continue;
            }
            for dir in dirs(&mixtures)? {
                let name = file_name(&dir);
                let sources = root.join("Sources").join(subset).join(&name);
                tracks.push(four_stems(name, subset, &dir, &sources)?);
            }
        }
        Layout::Dsd100
    } else {
        let mut loose_files = false;
        for (dir, subset) in subsets(root) {
            for track in dirs(&dir)? {
                tracks.push(track_folder(&track, subset)?);
            }
            loose_files |= !wav_files(&dir)?.is_empty();
        }
        if tracks.is_empty() && loose_files {
            return Err(TaskError::Folder {
                path: root.to_path_buf(),
                actual: "holds audio files, not track folders".into(),
                hint: "for stereo files with the voice on one channel (MIR-1K's Wavfile/, iKala) give `voice_channel` left or right; otherwise put each track's stems in a folder of its own".into(),
            });
        }
        let four = |t: &TrackFiles| matches!(&t.source, TrackSource::Stems { stems, .. } if stems.len() == STEMS.len());
        if tracks.iter().all(four) {
            Layout::Musdb18Hq
        } else {
            Layout::TwoStems
        }
    };
    if tracks.is_empty() {
        return Err(TaskError::Folder {
            path: root.to_path_buf(),
            actual: "holds no tracks: neither DSD100's folders (Mixtures/ and Sources/) nor track folders (MUSDB18-HQ's train/ and test/, or folders of vocals.wav and accompaniment.wav)".into(),
            hint: "point at the dataset's top folder, a CSV manifest, or, with `voice_channel`, a folder of stereo files".into(),
        });
    }
    Ok((layout, tracks))
}

/// `(rate, channels, samples)` of a decoded signal.
type Geometry = (u32, usize, usize);

/// The error for `path` whose geometry differs from that of `reference` (`what`: "its
/// mixture", "its vocals").
fn mismatch(path: &Path, got: Geometry, what: &str, reference: &Path, want: Geometry) -> TaskError {
    TaskError::Folder {
        path: path.to_path_buf(),
        actual: format!(
            "{} Hz, {} channel(s), {} samples, where {what} {} has {} Hz, {} channel(s), {} samples",
            got.0,
            got.1,
            got.2,
            reference.display(),
            want.0,
            want.1,
            want.2
        ),
        hint: "the stems of a track must match each other and its mixture; re-export or drop the track"
            .into(),
    }
}

/// Decodes a track with `target` (one of [`TrackFiles::targets`]) as the source to separate.
///
/// # Errors
/// An unknown target, an unreadable file, a stem whose rate, channels or length differ from
/// the mixture's (or, without a mixture, from the first stem's; the file and both values are
/// named), or a file of voice and accompaniment that is not stereo.
pub fn load_track(t: &TrackFiles, target: &str) -> Result<Track> {
    let targets = t.targets();
    if !targets.contains(&target) {
        return Err(TaskError::Option {
            name: "target",
            actual: target.to_string(),
            expected: format!("one of {}", targets.join(", ")),
        });
    }
    match &t.source {
        TrackSource::Stems {
            mixture,
            stems,
            accompaniment,
        } => load_stems(
            t,
            target,
            mixture.as_deref(),
            stems,
            accompaniment.as_deref(),
        ),
        TrackSource::Channels { file, voice } => {
            let d = decode(file)?;
            if d.channels.len() != 2 {
                return Err(TaskError::Folder {
                    path: file.clone(),
                    actual: format!(
                        "{} channel(s), where a file of voice and accompaniment has 2 (the voice on the {} as `voice_channel` says)",
                        d.channels.len(),
                        voice.name()
                    ),
                    hint: "drop the file, or give the dataset as separate stems".into(),
                });
            }
            let mut channels = d.channels;
            let acc = channels.swap_remove(1 - voice.index());
            let voice = channels.swap_remove(0);
            let mixture = voice.iter().zip(&acc).map(|(v, a)| v + a).collect();
            Ok(Track {
                name: t.name.clone(),
                sample_rate: d.sample_rate,
                mixture: vec![mixture],
                target: vec![voice],
                accompaniment: vec![acc],
                mixture_computed: t.mixture_computed(),
                mixture_error_db: f64::NEG_INFINITY,
            })
        }
    }
}

fn load_stems(
    t: &TrackFiles,
    target: &str,
    mixture_file: Option<&Path>,
    stem_files: &[(String, PathBuf)],
    accompaniment: Option<&Path>,
) -> Result<Track> {
    // Every file is checked against the mixture's geometry, or the first stem's without one.
    let (reference, what) = match mixture_file {
        Some(m) => (m, "its mixture".to_string()),
        None => (
            stem_files[0].1.as_path(),
            format!("its {}", stem_files[0].0),
        ),
    };
    let first = decode(reference)?;
    let want: Geometry = (first.sample_rate, first.channels.len(), first.frames());
    let (sr, chans, n) = want;
    let read = |path: &Path| -> Result<Vec<Vec<f32>>> {
        let d = decode(path)?;
        let got = (d.sample_rate, d.channels.len(), d.frames());
        if got != want {
            return Err(mismatch(path, got, &what, reference, want));
        }
        Ok(d.channels)
    };
    let stems: Vec<(String, Vec<Vec<f32>>)> = stem_files
        .iter()
        .map(|(s, p)| {
            let x = if mixture_file.is_none() && p == reference {
                first.channels.clone()
            } else {
                read(p)?
            };
            Ok((s.clone(), x))
        })
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
    let mixture = match mixture_file {
        Some(_) => first.channels,
        None => all.clone(),
    };
    let (mut residual, mut energy) = (0.0f64, 0.0f64);
    for (m, s) in mixture.iter().zip(&all) {
        for (&a, &b) in m.iter().zip(s) {
            residual += f64::from(a - b).powi(2);
            energy += f64::from(a).powi(2);
        }
    }
    let accompaniment = match accompaniment {
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
        mixture,
        target,
        accompaniment,
        mixture_computed: t.mixture_computed(),
        mixture_error_db: 10.0 * (residual / energy.max(f64::MIN_POSITIVE)).log10(),
    })
}
