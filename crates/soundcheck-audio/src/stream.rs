//! Long audio in pieces: a source that serves any span of frames without holding the file (a
//! plain WAV is read from disk span by span, other formats are decoded packet by packet as the
//! spans move forward), and a WAV writer that appends pieces and appears under its name only
//! when finished.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use crate::decode::{open_file, truncated, Packets};
use crate::error::{check_finite, hound_io, AudioError, Result};
use crate::wav::{self, Layout};

enum Backing {
    Wav {
        file: File,
        layout: Layout,
    },
    /// A compressed file: the frames from `first` on that the spans still need, decoded.
    Packets {
        packets: Packets,
        buffered: Vec<Vec<f32>>,
        first: usize,
    },
}

/// The frame count of a file whose header does not give it: one decoding pass that keeps
/// nothing.
fn count_frames(path: &Path) -> Result<usize> {
    let mut packets = Packets::open(open_file(path)?, path)?;
    let (mut n, mut scratch) = (0, Vec::new());
    while packets.next_into(&mut scratch, true, 0)? {
        n += scratch[0].len();
        scratch[0].clear();
    }
    Ok(n)
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
    /// Opens `path`. A compressed file whose header does not announce its length (an MP3
    /// without a Xing/LAME header) is decoded once here to count its frames.
    ///
    /// # Errors
    /// As [`crate::decode()`]: missing, empty, truncated, corrupt or unsupported files are named.
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
        let mut packets = Packets::open(open_file(path)?, path)?;
        let frames = match packets.announced {
            Some(n) => n as usize,
            None => count_frames(path)?,
        };
        let mut buffered = Vec::new();
        if frames == 0 || !packets.next_into(&mut buffered, false, 0)? {
            return Err(AudioError::Empty {
                path: path.to_path_buf(),
            });
        }
        Ok(AudioSource {
            path: path.to_path_buf(),
            frames,
            channels: buffered.len(),
            sample_rate: packets.sample_rate,
            backing: Backing::Packets {
                packets,
                buffered,
                first: 0,
            },
        })
    }

    /// Samples per channel in the whole file.
    pub fn frames(&self) -> usize {
        self.frames
    }

    /// The number of channels.
    pub fn channels(&self) -> usize {
        self.channels
    }

    /// Samples per second per channel.
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
            Backing::Packets {
                packets,
                buffered,
                first,
            } => {
                // Spans move forward; one that starts before what is kept decodes again from the
                // top rather than keeping everything just in case.
                if start < *first {
                    *packets = Packets::open(open_file(&self.path)?, &self.path)?;
                    buffered.clear();
                    *first = 0;
                }
                loop {
                    let held = buffered.first().map_or(0, Vec::len);
                    let drop = start.saturating_sub(*first).min(held);
                    if drop > 0 {
                        buffered.iter_mut().for_each(|c| {
                            c.drain(..drop);
                        });
                        *first += drop;
                    }
                    let have = *first + held - drop;
                    if have >= end {
                        break;
                    }
                    if !packets.next_into(buffered, false, 0)? {
                        return Err(truncated(&self.path, self.frames as u64, have));
                    }
                }
                buffered
                    .iter()
                    .map(|c| c[start - *first..end - *first].to_vec())
                    .collect()
            }
            Backing::Wav { file, layout } => {
                let fb = layout.frame_bytes();
                let fail = |e: std::io::Error| AudioError::Corrupt {
                    path: self.path.clone(),
                    actual: e.to_string(),
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

/// A 32-bit float WAV written piece by piece to a temporary file and renamed into place by
/// [`WavStream::finish`]; dropped unfinished (or stopped by a signal the CLI handles), the
/// temporary file is removed, so a failed run never leaves a partial file under the real name.
pub struct WavStream {
    path: PathBuf,
    out: Option<soundcheck_io::AtomicFile>,
    writer: Option<hound::WavWriter<std::io::BufWriter<File>>>,
}

impl WavStream {
    /// # Errors
    /// The temporary file cannot be created.
    pub fn create(path: &Path, channels: usize, sample_rate: u32) -> Result<WavStream> {
        let fail = |source| AudioError::Write {
            path: path.to_path_buf(),
            source,
        };
        let mut out = soundcheck_io::AtomicFile::create(path).map_err(fail)?;
        // The writer owns a handle of its own; `out` keeps the temporary file's name.
        let file = out.file().try_clone().map_err(fail)?;
        let spec = hound::WavSpec {
            channels: channels as u16,
            sample_rate,
            bits_per_sample: 32,
            sample_format: hound::SampleFormat::Float,
        };
        let writer = hound::WavWriter::new(std::io::BufWriter::new(file), spec)
            .map_err(|e| fail(hound_io(e)))?;
        Ok(WavStream {
            path: path.to_path_buf(),
            out: Some(out),
            writer: Some(writer),
        })
    }

    fn fail(&self, e: std::io::Error) -> AudioError {
        AudioError::Write {
            path: self.path.clone(),
            source: e,
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
            Some(e) => Err(self.fail(hound_io(e))),
            None => Ok(()),
        }
    }

    /// Completes the header and moves the file under its name.
    pub fn finish(mut self) -> Result<()> {
        let w = self.writer.take().expect("not finished");
        w.finalize().map_err(|e| self.fail(hound_io(e)))?;
        let out = self.out.take().expect("not finished");
        out.commit(&self.path).map_err(|e| self.fail(e))
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
        assert_eq!(
            std::fs::read_dir(&d).unwrap().count(),
            2,
            "no c.wav, no temporary"
        );
        std::fs::remove_dir_all(d).unwrap();
    }
}
