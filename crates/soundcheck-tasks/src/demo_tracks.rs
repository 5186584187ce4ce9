//! Built-in separation demo: 15 songs of 20 s (12 to train on, 3 held out) rendered by
//! [`crate::songs`] from the FluidR3 General-MIDI SoundFont (MIT licence, see
//! `data/quickstart/NOTICE`) — sampled instruments, a sampled or synthesised singing voice,
//! reverb and produced levels — bundled in the binary as mono Ogg Vorbis stems at 22050 Hz
//! (`tools/fixtures/quickstart_songs.sh` makes them), and written out in the MUSDB18-HQ layout.

use std::path::Path;

use include_dir::{include_dir, Dir};
use soundcheck_audio::{decode, write_wav, AudioError};

/// The bundled songs: `train|test/songNN/{vocals,drums,bass,other}.ogg`.
static SONGS: Dir = include_dir!("$CARGO_MANIFEST_DIR/data/quickstart");

/// The stems of every bundled song, in MUSDB18's order.
const STEMS: [&str; 4] = ["vocals", "drums", "bass", "other"];

/// Writes the bundled songs under `dir` as MUSDB18-HQ: `DIR/{train,test}/<song>/` with
/// `mixture.wav` (the stems' exact sum) and the four stems, mono float WAV at 22050 Hz.
///
/// # Errors
/// A file that cannot be written or decoded.
pub fn write_separation_demo(dir: &Path) -> Result<(), AudioError> {
    let write_err = |path: &Path, e: std::io::Error| AudioError::Write {
        path: path.to_path_buf(),
        source: e,
    };
    for subset in ["train", "test"] {
        let Some(songs) = SONGS.get_dir(subset) else {
            continue;
        };
        for song in songs.dirs() {
            let folder = dir.join(song.path());
            std::fs::create_dir_all(&folder).map_err(|e| write_err(&folder, e))?;
            let mut mixture: Vec<f32> = Vec::new();
            let mut rate = 0;
            for stem in STEMS {
                let ogg = folder.join(format!("{stem}.ogg"));
                let bytes = SONGS
                    .get_file(song.path().join(format!("{stem}.ogg")))
                    .map(|f| f.contents())
                    .unwrap_or_default();
                // The decoder reads files: the stem goes through one and is removed.
                std::fs::write(&ogg, bytes).map_err(|e| write_err(&ogg, e))?;
                let decoded = decode(&ogg);
                std::fs::remove_file(&ogg).map_err(|e| write_err(&ogg, e))?;
                let decoded = decoded?;
                let y = decoded.channels.into_iter().next().unwrap_or_default();
                rate = decoded.sample_rate;
                if mixture.len() < y.len() {
                    mixture.resize(y.len(), 0.0);
                }
                mixture.iter_mut().zip(&y).for_each(|(m, v)| *m += v);
                write_wav(&folder.join(format!("{stem}.wav")), &[y], rate)?;
            }
            write_wav(&folder.join("mixture.wav"), &[mixture], rate)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bundled_songs_unpack_as_musdb_with_the_mixture_the_sum_of_the_stems() {
        let dir = std::env::temp_dir().join(format!("sc-demo-songs-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        write_separation_demo(&dir).unwrap();
        let (_, tracks) = crate::separation::discover(&dir, None).unwrap();
        assert_eq!(tracks.len(), 15);
        assert_eq!(tracks.iter().filter(|t| t.subset == "test").count(), 3);
        let t = crate::separation::load_track(&tracks[0], "vocals").unwrap();
        assert_eq!(t.sample_rate, 22050);
        assert!(t.mixture_error_db < -100.0, "{}", t.mixture_error_db);
        let n = t.mixture[0].len();
        assert!((n as f64 / 22050.0 - 20.0).abs() < 0.05, "{n} samples");
        let rms = |x: &[f32]| (x.iter().map(|v| v * v).sum::<f32>() / x.len() as f32).sqrt();
        assert!(rms(&t.target[0]) > 0.01 && rms(&t.accompaniment[0]) > 0.01);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
