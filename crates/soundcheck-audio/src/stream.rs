//! Long audio in pieces: a source that serves any span of frames (a plain WAV is read from disk
//! span by span, so an hour-long file is never held whole; other formats are decoded once), and a
//! WAV writer that appends pieces and appears under its name only when finished.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use crate::decode::decode;
use crate::error::{check_finite, AudioError, Result};
use crate::wav::{self, Layout};

enum Backing {
    Wav { file: File, layout: Layout },
    Decoded(Vec<Vec<f32>>),
}

/// Audio served span by span, channels kept apart.
pub struct AudioSource {
    path: PathBuf,
    backing: Backing,
    frames: usize,
    channels: usize,
    sample_rate: u32,
}

impl AudioSource {
    /// Opens `path`: plain WAVs stream, other formats are decoded whole.
    ///
    /// # Errors
    /// As [`decode`]: missing, empty, truncated, corrupt or unsupported files are named.
    pub fn open(path: &Path) -> Result<AudioSource> {
        if let Some(w) = wav::open(path)? {
            return Ok(AudioSource {
                path: path.to_path_buf(),
                frames: w.frames,
                channels: w.layout.channels(),
                sample_rate: w.layout.sample_rate(),
                backing: Backing::Wav {
                    file: w.file,
                    layout: w.layout,
                },
            });
        }
        let d = decode(path)?;
        for c in &d.channels {
            check_finite(&path.display().to_string(), c)?;
        }
        Ok(AudioSource {
            path: path.to_path_buf(),
            frames: d.frames(),
            channels: d.channels.len(),
            sample_rate: d.sample_rate,
            backing: Backing::Decoded(d.channels),
        })
    }

    pub fn frames(&self) -> usize {
        self.frames
    }

    pub fn channels(&self) -> usize {
        self.channels
    }

    pub fn sample_rate(&self) -> u32 {
        self.sample_rate
    }

    /// Frames `start..end` (clamped to the file; empty when `start ≥ end`) as `[channel][frame]`.
    ///
    /// # Errors
    /// A read failure, or NaN/inf in the span (named with the file).
    pub fn read(&mut self, start: usize, end: usize) -> Result<Vec<Vec<f32>>> {
        let end = end.min(self.frames);
        let start = start.min(end);
        let n = end - start;
        let out = match &mut self.backing {
            Backing::Decoded(ch) => ch.iter().map(|c| c[start..end].to_vec()).collect(),
            Backing::Wav { file, layout } => {
                let fb = layout.frame_bytes();
                let fail = |e: std::io::Error| AudioError::Corrupt {
                    path: self.path.clone(),
                    detail: e.to_string(),
                };
                file.seek(SeekFrom::Start(layout.data_offset() + (start * fb) as u64))
                    .map_err(fail)?;
                let mut bytes = vec![0u8; n * fb];
                file.read_exact(&mut bytes).map_err(fail)?;
                let mut channels = vec![vec![0f32; n]; self.channels];
                let mut outs: Vec<&mut [f32]> = channels.iter_mut().map(|c| &mut c[..]).collect();
                layout.convert(&bytes, &mut outs);
                channels
            }
        };
        for c in &out {
            check_finite(&self.path.display().to_string(), c)?;
        }
        Ok(out)
    }
}

/// A 32-bit float WAV written piece by piece to `<path>.tmp` and renamed into place by
/// [`WavStream::finish`]; dropped unfinished, it removes the temporary file, so a failed run
/// never leaves a partial file under the real name.
pub struct WavStream {
    path: PathBuf,
    tmp: PathBuf,
    writer: Option<hound::WavWriter<std::io::BufWriter<File>>>,
}

impl WavStream {
    /// # Errors
    /// The temporary file cannot be created.
    pub fn create(path: &Path, channels: usize, sample_rate: u32) -> Result<WavStream> {
        let mut tmp = path.as_os_str().to_owned();
        tmp.push(".tmp");
        let tmp = PathBuf::from(tmp);
        let spec = hound::WavSpec {
            channels: channels as u16,
            sample_rate,
            bits_per_sample: 32,
            sample_format: hound::SampleFormat::Float,
        };
        let writer = hound::WavWriter::create(&tmp, spec).map_err(|e| AudioError::Write {
            path: path.to_path_buf(),
            detail: e.to_string(),
        })?;
        Ok(WavStream {
            path: path.to_path_buf(),
            tmp,
            writer: Some(writer),
        })
    }

    fn fail(&self, e: impl ToString) -> AudioError {
        AudioError::Write {
            path: self.path.clone(),
            detail: e.to_string(),
        }
    }

    /// Appends `[channel][frame]`, interleaved.
    pub fn write(&mut self, channels: &[Vec<f32>]) -> Result<()> {
        let w = self.writer.as_mut().expect("not finished");
        let mut err = None;
        'frames: for i in 0..channels.first().map_or(0, Vec::len) {
            for c in channels {
                if let Err(e) = w.write_sample(c[i]) {
                    err = Some(e);
                    break 'frames;
                }
            }
        }
        match err {
            Some(e) => Err(self.fail(e)),
            None => Ok(()),
        }
    }

    /// Completes the header and moves the file under its name.
    pub fn finish(mut self) -> Result<()> {
        let w = self.writer.take().expect("not finished");
        w.finalize().map_err(|e| self.fail(e))?;
        std::fs::rename(&self.tmp, &self.path).map_err(|e| self.fail(e))
    }
}

impl Drop for WavStream {
    fn drop(&mut self) {
        if self.writer.is_some() {
            let _ = std::fs::remove_file(&self.tmp);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spans_of_a_streamed_wav_equal_the_decoded_file_and_streams_write_back() {
        let d = std::env::temp_dir().join(format!("sc-stream-{}", std::process::id()));
        std::fs::create_dir_all(&d).unwrap();
        let path = d.join("a.wav");
        let ch: Vec<Vec<f32>> = (0..2)
            .map(|c| {
                (0..1000)
                    .map(|i| ((i * (c + 3)) % 17) as f32 / 20.0 - 0.4)
                    .collect()
            })
            .collect();
        crate::write_wav(&path, &ch, 8000).unwrap();
        let mut src = AudioSource::open(&path).unwrap();
        assert_eq!(
            (src.frames(), src.channels(), src.sample_rate()),
            (1000, 2, 8000)
        );
        let span = src.read(990, 1200).unwrap();
        assert_eq!(span[1], ch[1][990..].to_vec());
        let out = d.join("b.wav");
        let mut w = WavStream::create(&out, 2, 8000).unwrap();
        w.write(&src.read(0, 400).unwrap()).unwrap();
        w.write(&src.read(400, 1000).unwrap()).unwrap();
        assert!(!out.exists(), "nothing under the name before finish");
        w.finish().unwrap();
        assert_eq!(crate::decode(&out).unwrap().channels, ch);
        // Dropped unfinished: no file, no temporary.
        let w = WavStream::create(&d.join("c.wav"), 1, 8000).unwrap();
        drop(w);
        assert!(!d.join("c.wav").exists() && !d.join("c.wav.tmp").exists());
        std::fs::remove_dir_all(d).unwrap();
    }
}
