//! Realistic benchmark songs: composed at random ([`score`]), played by a General-MIDI
//! SoundFont's sampled instruments and either a sampled or a synthesised singing voice
//! ([`render`], [`voice`]), with room reverb ([`reverb`]), stereo panning and levels as in
//! produced music, written in the MUSDB18-HQ layout that `train separation` and `evaluate`
//! read. Unlike the quickstart's demo songs, the accompaniment sustains chords in the voice's
//! own band and melodic instruments answer it, so a model that separates these is tested on
//! what music asks of it.

pub mod render;
pub mod reverb;
pub mod score;
pub mod voice;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rayon::prelude::*;
use rustysynth::SoundFont;
use serde::Serialize;
use soundcheck_audio::write_wav;
use soundcheck_io::SplitMix64;

use crate::error::{Result, TaskError};
use crate::progress::Progress;
use score::{compose, Sound};

/// Where Debian's `fluid-soundfont-gm` installs FluidR3_GM (MIT licence).
pub const DEFAULT_SOUNDFONT: &str = "/usr/share/sounds/sf2/FluidR3_GM.sf2";

/// How many songs, how long, at what rate.
#[derive(Clone, Debug, PartialEq)]
pub struct SongSet {
    /// Songs in `train/`.
    pub train: usize,
    /// Songs in `test/`.
    pub test: usize,
    /// Seconds per song.
    pub seconds: f64,
    /// Sample rate of the files.
    pub sample_rate: u32,
    /// Seed of the first song (each song has its own, so any one can be rebuilt alone).
    pub seed: u64,
}

impl Default for SongSet {
    /// 24 training and 6 test songs of 30 s at 44.1 kHz, like a small DSD100.
    fn default() -> Self {
        SongSet {
            train: 24,
            test: 6,
            seconds: 30.0,
            sample_rate: 44100,
            seed: 2026,
        }
    }
}

/// One written song's facts (`songs.json`).
#[derive(Clone, Debug, Serialize)]
pub struct SongFacts {
    /// `train/song03` etc.
    pub name: String,
    /// Tempo.
    pub bpm: f64,
    /// "formant singer" or the SoundFont voice's GM program.
    pub voice: String,
    /// GM programs of the parts that are not vocals or drums.
    pub programs: Vec<u8>,
    /// Vocals over accompaniment, dB RMS.
    pub vocals_db: f64,
}

fn load_font(path: &Path) -> Result<Arc<SoundFont>> {
    let hint = "install Debian's fluid-soundfont-gm (FluidR3_GM.sf2) or pass `soundfont` FILE.sf2";
    let mut f = std::fs::File::open(path).map_err(|e| TaskError::Io {
        path: path.to_path_buf(),
        action: "open the SoundFont",
        source: e,
        hint,
    })?;
    SoundFont::new(&mut f)
        .map(Arc::new)
        .map_err(|e| TaskError::Folder {
            path: path.to_path_buf(),
            actual: format!("not a SoundFont 2 file ({e})"),
            hint: hint.into(),
        })
}

/// Composes, renders and writes `set`'s songs under `dir` (`train/songNN/`, `test/songNN/`,
/// each with `mixture.wav`, the stems `vocals`, `drums`, `bass`, `other` and
/// `accompaniment` (the last three's sum), stereo float WAV; the mixture is the stems' sum), and `songs.json`. `dir` must be new or empty: songs
/// are never written over a user's files. Songs render in parallel and are deterministic;
/// `songs.json` is written last, so a folder without it was interrupted.
///
/// # Errors
/// An unreadable SoundFont, a non-empty `dir`, a file that cannot be written.
pub fn write_songs(
    soundfont: &Path,
    dir: &Path,
    set: &SongSet,
    progress: &dyn Progress,
) -> Result<Vec<SongFacts>> {
    if !(set.seconds > 0.0 && set.seconds <= 600.0) || set.train + set.test == 0 {
        return Err(TaskError::Option {
            name: "seconds",
            actual: format!("{} with {} songs", set.seconds, set.train + set.test),
            expected: "0 < seconds ≤ 600 and at least one song".into(),
        });
    }
    // The synthesiser's range.
    if !(16000..=192000).contains(&set.sample_rate) {
        return Err(TaskError::Option {
            name: "sample_rate",
            actual: set.sample_rate.to_string(),
            expected: "a rate from 16000 to 192000 Hz, e.g. 44100".into(),
        });
    }
    let io = |e: std::io::Error| TaskError::io(dir, "use the folder", e);
    if dir.exists() && std::fs::read_dir(dir).map_err(io)?.next().is_some() {
        return Err(TaskError::Folder {
            path: dir.to_path_buf(),
            actual: "is not empty".into(),
            hint: "songs are written to a new or empty folder: choose another `out`".into(),
        });
    }
    // Six stereo float32 WAVs per song, checked against the free space before the first is
    // written: `--train 1000000000000` is a message, not a disk filled at 100 MB/s.
    let samples = (set.seconds * set.sample_rate as f64).ceil() as usize;
    soundcheck_io::budget::disk(
        "the songs (`train` + `test` songs × 6 stems × 2 channels × samples)",
        dir,
        &[set.train.saturating_add(set.test), 6, 2, samples],
        4,
    )
    .map_err(|e| TaskError::Option {
        name: "train",
        actual: format!("{} train + {} test songs", set.train, set.test),
        expected: format!("songs that fit on the disk: {e}"),
    })?;
    let font = load_font(soundfont)?;
    progress.start("songs", set.train + set.test);
    let facts = (0..set.train + set.test)
        .into_par_iter()
        .map(|k| -> Result<SongFacts> {
            let subset = if k < set.train { "train" } else { "test" };
            let name = format!("{subset}/song{k:02}");
            let mut rng = SplitMix64::new(set.seed.wrapping_add(k as u64));
            let score = compose(set.seconds, &mut rng);
            let song = render::render(&font, &score, set.seconds, set.sample_rate, &mut rng)
                .map_err(|e| TaskError::file(soundfont, e))?;
            let folder = dir.join(&name);
            std::fs::create_dir_all(&folder).map_err(|e| TaskError::io(&folder, "create", e))?;
            let n = song.stems[0][0].len();
            let sum = |stems: &[render::Stereo]| -> Vec<Vec<f32>> {
                (0..2)
                    .map(|c| {
                        (0..n)
                            .map(|i| stems.iter().map(|s| s[c][i]).sum())
                            .collect()
                    })
                    .collect()
            };
            let extra = [
                ("accompaniment", sum(&song.stems[1..])),
                ("mixture", sum(&song.stems)),
            ];
            for (file, y) in ["vocals", "drums", "bass", "other"]
                .iter()
                .zip(&song.stems)
                .map(|(f, s)| (*f, s.to_vec()))
                .chain(extra)
            {
                let path: PathBuf = folder.join(format!("{file}.wav"));
                write_wav(&path, &y, set.sample_rate).map_err(|e| TaskError::file(&path, e))?;
            }
            progress.step();
            let voice = match score.parts[0].sound {
                Sound::Singer(_) => "formant singer".to_string(),
                Sound::Program(p) => format!("SoundFont program {p}"),
                Sound::Kit => "drum kit".to_string(),
            };
            Ok(SongFacts {
                name,
                bpm: score.bpm,
                voice,
                programs: score
                    .parts
                    .iter()
                    .filter(|p| p.stem == score::Stem::Other || p.stem == score::Stem::Bass)
                    .filter_map(|p| match p.sound {
                        Sound::Program(x) => Some(x),
                        _ => None,
                    })
                    .collect(),
                vocals_db: song.vocals_db,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    progress.finish();
    let path = dir.join("songs.json");
    let json = serde_json::json!({"generator": "soundcheck songs", "soundfont": soundfont,
        "seconds": set.seconds, "sample_rate": set.sample_rate, "seed": set.seed, "songs": facts});
    soundcheck_io::write_atomic(
        &path,
        serde_json::to_string_pretty(&json)
            .expect("plain values")
            .as_bytes(),
    )
    .map_err(|e| TaskError::io(&path, "write", e))?;
    Ok(facts)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::progress::Quiet;

    #[test]
    fn bad_settings_a_used_folder_and_a_missing_soundfont_are_refused_before_writing() {
        let dir = std::env::temp_dir().join(format!("sc-songs-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let font = dir.join("none.sf2");
        let refuse = |set: &SongSet, out: &Path| {
            write_songs(&font, out, set, &Quiet)
                .unwrap_err()
                .to_string()
        };
        let e = refuse(
            &SongSet {
                sample_rate: 8000,
                ..SongSet::default()
            },
            &dir,
        );
        assert!(
            e.starts_with("`sample_rate` 8000: expected a rate from 16000"),
            "{e}"
        );
        let e = refuse(
            &SongSet {
                seconds: 0.0,
                ..SongSet::default()
            },
            &dir,
        );
        assert!(e.starts_with("`seconds` 0 with 30 songs"), "{e}");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("mine.txt"), b"keep").unwrap();
        let e = refuse(&SongSet::default(), &dir);
        assert!(e.contains("is not empty"), "{e}");
        let out = dir.join("songs");
        let e = refuse(&SongSet::default(), &out);
        assert!(
            e.contains("none.sf2") && e.contains("fluid-soundfont-gm"),
            "{e}"
        );
        std::fs::write(&font, b"RIFF not a soundfont").unwrap();
        let e = refuse(&SongSet::default(), &out);
        assert!(e.contains("not a SoundFont 2 file"), "{e}");
        assert!(!out.exists(), "nothing written");
        assert_eq!(std::fs::read(dir.join("mine.txt")).unwrap(), b"keep");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
