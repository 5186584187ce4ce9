//! `librosa.load`: decode, take an excerpt, mix down, resample.

use std::path::Path;

use rayon::prelude::*;

use crate::decode::{decode, decode_mono};
use crate::error::{check_finite, hound_io, invalid, AudioError, Result};
use crate::resample::{resample, resample_from};
use crate::stream::AudioSource;

/// `librosa.load` options, with its defaults.
#[derive(Clone, Debug, PartialEq)]
pub struct LoadOptions {
    /// Target rate; `None` keeps the file's rate. Default 22050.
    pub sr: Option<u32>,
    /// Average the channels into one (librosa's `to_mono`). Default true.
    pub mono: bool,
    /// Start reading this many seconds in.
    pub offset: f64,
    /// Read at most this many seconds.
    pub duration: Option<f64>,
}

impl Default for LoadOptions {
    fn default() -> Self {
        LoadOptions {
            sr: Some(22050),
            mono: true,
            offset: 0.0,
            duration: None,
        }
    }
}

/// Loaded audio.
#[derive(Clone, Debug, PartialEq)]
pub struct Audio {
    /// One vector per channel (one when `mono`).
    pub channels: Vec<Vec<f32>>,
    /// Samples per second: the file's, or the one asked for.
    pub sample_rate: u32,
}

impl Audio {
    /// The first (or only) channel.
    pub fn mono(&self) -> &[f32] {
        &self.channels[0]
    }
}

/// Averages channels sample by sample (summed in channel order, then divided, as numpy's mean).
pub fn to_mono(channels: &[Vec<f32>]) -> Vec<f32> {
    let Some((first, rest)) = channels.split_first() else {
        return Vec::new();
    };
    let mut out = first.clone();
    for c in rest {
        for (o, v) in out.iter_mut().zip(c) {
            *o += v;
        }
    }
    let n = channels.len() as f32;
    out.iter_mut().for_each(|o| *o /= n);
    out
}

/// Loads a file as `librosa.load(path, sr=..., mono=..., offset=..., duration=...)`.
///
/// # Shapes
/// - output channels: `(n_channels, n)` with `n = ceil(frames · sr / native_sr)`
///   where `frames = int(duration · native_sr)` from `int(offset · native_sr)`
pub fn load(path: &Path, opts: &LoadOptions) -> Result<Audio> {
    if !(opts.offset >= 0.0 && opts.offset.is_finite()) {
        return Err(invalid(
            "offset",
            opts.offset,
            "a non-negative number of seconds",
            "",
        ));
    }
    if let Some(d) = opts.duration {
        if !(d >= 0.0 && d.is_finite()) {
            return Err(invalid(
                "duration",
                d,
                "a non-negative number of seconds",
                "",
            ));
        }
    }
    // A plain WAV going to one channel at another rate streams through the resampler: the
    // native-rate signal is never held whole (it would be allocated, page-faulted and read back:
    // 10 MB per minute of 44.1 kHz).
    if opts.mono {
        if let Some(w) = crate::wav::open(path)? {
            let native = w.layout.sample_rate();
            let target = opts.sr.unwrap_or(native);
            if target != native {
                let (start, end) = excerpt(path, opts, native, w.frames)?;
                let layout = w.layout;
                // The first task reads through the file already open; others open their own.
                let open_file = std::sync::Mutex::new(Some(w.file));
                let y = resample_from(end - start, native, target, || {
                    let file = open_file.lock().unwrap_or_else(|p| p.into_inner()).take();
                    crate::wav::MonoBlocks::new(path, layout, start, end - start, file)
                })
                .map_err(|e| naming_file(path, e))?;
                return Ok(Audio {
                    channels: vec![y],
                    sample_rate: target,
                });
            }
        }
    }
    // A plain WAV is read over the excerpt only: `duration=1` of a two-hour file reads one
    // second, not the whole file. Compressed formats decode from the start.
    let (mut channels, native) = if crate::wav::open(path)?.is_some() {
        let mut src = AudioSource::open(path)?;
        let native = src.sample_rate();
        let (start, end) = excerpt(path, opts, native, src.frames())?;
        let channels = src.read(start, end)?;
        let channels = if opts.mono {
            vec![to_mono(&channels)]
        } else {
            channels
        };
        (channels, native)
    } else {
        let decoded = if opts.mono {
            decode_mono(path)?
        } else {
            decode(path)?
        };
        let native = decoded.sample_rate;
        let (start, end) = excerpt(path, opts, native, decoded.frames())?;
        let mut channels = decoded.channels;
        for c in &mut channels {
            c.truncate(end);
            c.drain(..start);
        }
        (channels, native)
    };
    // NaN or inf in any channel survives the mixdown, so checking what is kept suffices.
    for c in &channels {
        check_finite(&path.display().to_string(), c)?;
    }
    let sample_rate = opts.sr.unwrap_or(native);
    if sample_rate != native {
        channels = channels
            .par_iter()
            .map(|c| resample(c, native, sample_rate))
            .collect::<Result<Vec<_>>>()
            .map_err(|e| naming_file(path, e))?;
    }
    Ok(Audio {
        channels,
        sample_rate,
    })
}

/// A rate pair the resampler refuses depends on the file's own rate: says which file, for
/// batches (other errors already name it).
fn naming_file(path: &Path, e: AudioError) -> AudioError {
    match e {
        AudioError::InvalidParameter {
            name,
            actual,
            expected,
            hint,
        } => AudioError::InvalidParameter {
            name,
            actual,
            expected,
            hint: format!("{}: {hint}", path.display()),
        },
        other => other,
    }
}

/// Frames `start..end` that `offset` and `duration` select from `frames` at `native` Hz.
fn excerpt(path: &Path, opts: &LoadOptions, native: u32, frames: usize) -> Result<(usize, usize)> {
    let start = ((opts.offset * native as f64) as usize).min(frames);
    let end = match opts.duration {
        Some(d) => (start + (d * native as f64) as usize).min(frames),
        None => frames,
    };
    if opts.duration == Some(0.0) || (start < frames && start >= end) {
        return Err(invalid(
            "duration",
            opts.duration.unwrap_or(0.0),
            format!(
                "a duration of at least one sample ({:.6} s at {native} Hz)",
                1.0 / native as f64
            ),
            "leave it unset to load the rest of the file",
        ));
    }
    if start >= end {
        return Err(AudioError::TooShort {
            what: format!("{} from offset {} s", path.display(), opts.offset),
            actual: 0,
            expected: 1,
            hint: format!(
                "the file is {:.3} s long; use a smaller offset",
                frames as f64 / native as f64
            ),
        });
    }
    Ok((start, end))
}

/// Writes 32-bit float WAV, atomically (a temporary file renamed into place).
pub fn write_wav(path: &Path, channels: &[Vec<f32>], sample_rate: u32) -> Result<()> {
    let fail = |source: std::io::Error| AudioError::Write {
        path: path.to_path_buf(),
        source,
    };
    let mut out = soundcheck_io::AtomicFile::create(path).map_err(fail)?;
    let spec = hound::WavSpec {
        channels: channels.len() as u16,
        sample_rate,
        bits_per_sample: 32,
        sample_format: hound::SampleFormat::Float,
    };
    let mut write = || -> std::result::Result<(), hound::Error> {
        let mut w = hound::WavWriter::new(std::io::BufWriter::new(out.file()), spec)?;
        for i in 0..channels.first().map_or(0, Vec::len) {
            for c in channels {
                w.write_sample(c[i])?;
            }
        }
        w.finalize()
    };
    write().map_err(|e| fail(hound_io(e)))?;
    out.commit(path).map_err(fail)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tmp(name: &str) -> std::path::PathBuf {
        let d = std::env::temp_dir().join(format!("sc-load-{}", std::process::id()));
        std::fs::create_dir_all(&d).unwrap();
        d.join(name)
    }

    #[test]
    fn streamed_wav_load_equals_decode_then_resample() {
        // Long enough for several parallel tasks and chunk refills.
        let n = 400_000;
        let ch = |k: f32| {
            (0..n)
                .map(|i| ((i as f32) * 0.0123 * k).sin() * 0.5)
                .collect::<Vec<f32>>()
        };
        for (rate, name) in [(44100u32, "a.wav"), (48000, "b.wav"), (16000, "c.wav")] {
            let path = tmp(name);
            write_wav(&path, &[ch(1.0), ch(1.7)], rate).unwrap();
            for (offset, duration) in [(0.0, None), (0.37, Some(2.1)), (1.0, Some(0.01))] {
                let opts = LoadOptions {
                    sr: Some(22050),
                    mono: true,
                    offset,
                    duration,
                };
                let streamed = load(&path, &opts).unwrap();
                let whole = decode_mono(&path).unwrap();
                let (s, e) = excerpt(&path, &opts, rate, whole.frames()).unwrap();
                let expected = resample(&whole.channels[0][s..e], rate, 22050).unwrap();
                assert_eq!(streamed.channels, vec![expected], "{name} offset {offset}");
            }
        }
    }

    #[test]
    fn a_header_rate_far_from_the_target_is_an_error_naming_the_file() {
        // 100 MHz → 22050 Hz is 4535× (a damaged header); 5 Hz → 22050 Hz is 4410× the other way.
        for (name, rate, culprit) in [
            ("fast.wav", 100_000_019, "orig_sr=100000019"),
            ("slow.wav", 5, "sr=22050"),
        ] {
            for channels in [1, 2] {
                let path = tmp(&format!("{channels}{name}"));
                write_wav(&path, &vec![vec![0.1f32; 1000]; channels], rate).unwrap();
                for mono in [true, false] {
                    let opts = LoadOptions {
                        mono,
                        ..Default::default()
                    };
                    let e = load(&path, &opts).unwrap_err().to_string();
                    assert!(e.starts_with(&format!("{culprit} is invalid")), "{e}");
                    assert!(
                        e.contains(&format!("{}: {rate} → 22050 Hz", path.display())),
                        "{e}"
                    );
                }
            }
        }
        // An awkward but real header rate converts.
        let path = tmp("prime.wav");
        write_wav(&path, &[vec![0.1f32; 1000]], 10_000_019).unwrap();
        assert_eq!(
            load(&path, &LoadOptions::default()).unwrap().channels[0].len(),
            3
        );
    }

    #[test]
    fn a_nan_deep_in_a_float_wav_is_named_with_its_index() {
        let path = tmp("nan.wav");
        let mut y = vec![0.1f32; 300_000];
        y[234_567] = f32::NAN;
        write_wav(&path, &[y], 44100).unwrap();
        let e = load(&path, &LoadOptions::default())
            .unwrap_err()
            .to_string();
        assert!(e.contains("sample 234567 is NaN"), "{e}");
        let e = load(
            &path,
            &LoadOptions {
                sr: None,
                ..Default::default()
            },
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("sample 234567 is NaN"), "{e}");
    }
}
