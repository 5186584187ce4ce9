//! Decoding audio files to f32 with symphonia: WAV (PCM 8/16/24/32, float), FLAC, OGG/Vorbis, MP3.

use std::fs::File;
use std::path::{Path, PathBuf};

use symphonia::core::audio::{AudioBuffer, AudioBufferRef, Signal};
use symphonia::core::codecs::{Decoder, DecoderOptions, CODEC_TYPE_NULL};
use symphonia::core::errors::Error as SymError;
use symphonia::core::formats::{FormatOptions, FormatReader};
use symphonia::core::io::MediaSourceStream;
use symphonia::core::meta::MetadataOptions;
use symphonia::core::probe::Hint;

use crate::error::{AudioError, Result};

/// The file extensions read as audio when a folder is listed (compared without case).
pub const AUDIO_EXTENSIONS: [&str; 4] = ["wav", "flac", "ogg", "mp3"];

/// Whether `path`'s extension is one of [`AUDIO_EXTENSIONS`]: the one test of every folder
/// listing, so that a folder of clips means the same files to every command.
pub fn is_audio_path(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| AUDIO_EXTENSIONS.contains(&e.to_ascii_lowercase().as_str()))
}

/// Decoded audio: channels kept apart.
#[derive(Clone, Debug, PartialEq)]
pub struct Decoded {
    /// One vector per channel, all of the same length.
    pub channels: Vec<Vec<f32>>,
    /// Samples per second per channel.
    pub sample_rate: u32,
}

impl Decoded {
    /// Samples per channel.
    pub fn frames(&self) -> usize {
        self.channels.first().map_or(0, Vec::len)
    }
}

fn corrupt(path: &Path, actual: impl Into<String>) -> AudioError {
    AudioError::Corrupt {
        path: path.to_path_buf(),
        actual: actual.into(),
    }
}

/// The container a file's first bytes announce, for the formats soundcheck decodes.
fn container_by_magic(path: &Path) -> Option<&'static str> {
    use std::io::Read;
    let mut head = [0u8; 12];
    let mut f = File::open(path).ok()?;
    let n = f.read(&mut head).ok()?;
    let head = &head[..n];
    if head.starts_with(b"OggS") {
        Some("Ogg")
    } else if head.starts_with(b"fLaC") {
        Some("FLAC")
    } else if head.starts_with(b"RIFF") && head.get(8..12) == Some(b"WAVE") {
        Some("WAV")
    } else if head.starts_with(b"ID3") {
        Some("MP3")
    } else {
        None
    }
}

fn classify(path: &Path, e: SymError) -> AudioError {
    match e {
        SymError::Unsupported(what) => AudioError::Unsupported {
            path: path.to_path_buf(),
            actual: what.to_string(),
        },
        SymError::IoError(io) if io.kind() == std::io::ErrorKind::UnexpectedEof => {
            corrupt(path, "the file ends before its audio data does")
        }
        SymError::IoError(io) => AudioError::Io {
            path: path.to_path_buf(),
            source: io,
        },
        other => corrupt(path, other.to_string()),
    }
}

/// Decodes a whole file.
///
/// # Errors
/// Missing or unreadable file, empty file, unsupported container/codec, damaged or truncated
/// data (a file whose header announces more frames than it holds is an error, not a short read).
pub fn decode(path: &Path) -> Result<Decoded> {
    decode_impl(path, false)
}

/// Decodes a whole file mixed down to one channel (channels summed in order, then divided by
/// their number, as numpy's mean), without keeping the channels apart in memory.
pub fn decode_mono(path: &Path) -> Result<Decoded> {
    decode_impl(path, true)
}

/// Appends one packet's planar channels to `out`: each channel as it is, or summed into one.
fn append(out: &mut [Vec<f32>], chans: &[&[f32]], mono: bool) {
    if !mono {
        for (o, c) in out.iter_mut().zip(chans) {
            o.extend_from_slice(c);
        }
        return;
    }
    let start = out[0].len();
    out[0].extend_from_slice(chans[0]);
    for c in &chans[1..] {
        for (o, v) in out[0][start..].iter_mut().zip(*c) {
            *o += v;
        }
    }
}

/// Opens an audio file, refusing an empty one by name.
pub(crate) fn open_file(path: &Path) -> Result<File> {
    let file = File::open(path).map_err(|e| AudioError::Io {
        path: path.to_path_buf(),
        source: e,
    })?;
    if file.metadata().is_ok_and(|m| m.is_dir()) {
        return Err(AudioError::Io {
            path: path.to_path_buf(),
            source: std::io::Error::new(
                std::io::ErrorKind::IsADirectory,
                "a folder, not an audio file: name the files in it",
            ),
        });
    }
    if file.metadata().map(|m| m.len()).unwrap_or(0) == 0 {
        return Err(AudioError::Empty {
            path: path.to_path_buf(),
        });
    }
    Ok(file)
}

fn decode_impl(path: &Path, mono: bool) -> Result<Decoded> {
    let file = open_file(path)?;
    if let Some(d) = crate::wav::read(path, mono)? {
        return Ok(d);
    }
    decode_symphonia(file, path, mono)
}

/// A file decoded by symphonia one packet at a time, so that a caller can keep only what it
/// needs of a long file.
pub(crate) struct Packets {
    path: PathBuf,
    format: Box<dyn FormatReader>,
    decoder: Box<dyn Decoder>,
    track_id: u32,
    /// The frame count the header announces (FLAC, Vorbis, MP3 with a Xing/LAME header).
    pub announced: Option<u64>,
    pub sample_rate: u32,
    /// The source's channel count, known after the first packet.
    pub channels: usize,
    buf: Option<AudioBuffer<f32>>,
}

/// Runs a call into symphonia, turning a panic inside it into a named error: a damaged file can
/// trip its arithmetic (the fuzz tests found symphonia-bundle-mp3 0.5.5 subtracting an MP3's
/// LAME delay and padding from a smaller Xing frame count).
fn guarded<T>(path: &Path, f: impl FnOnce() -> Result<T>) -> Result<T> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(f))
        .unwrap_or_else(|_| Err(corrupt(path, "the decoder failed on damaged data")))
}

impl Packets {
    pub fn open(file: File, path: &Path) -> Result<Packets> {
        guarded(path, || Packets::open_unguarded(file, path))
    }

    fn open_unguarded(file: File, path: &Path) -> Result<Packets> {
        // A second handle, to read the file again from its start if the first reading trims.
        let again = file.try_clone().map_err(|source| AudioError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        // Gapless: trim encoder delay and padding (MP3 LAME/Xing headers), as libsndfile does.
        let probed = probe(file, path, true)?;
        // Without a LAME tag, symphonia trims an MPEG file at a length it estimated from the
        // first frames' sizes (see `announced_frames`): read it again untrimmed, every frame
        // decoded, as libsndfile and ffmpeg decode it.
        let probed = match probed.format.default_track() {
            Some(t) if is_mpeg(&t.codec_params) && t.codec_params.delay.is_none() => {
                let mut again = again;
                std::io::Seek::rewind(&mut again).map_err(|source| AudioError::Io {
                    path: path.to_path_buf(),
                    source,
                })?;
                probe(again, path, false)?
            }
            _ => probed,
        };
        let format = probed.format;
        let track = format
            .tracks()
            .iter()
            .find(|t| t.codec_params.codec != CODEC_TYPE_NULL)
            .ok_or_else(|| AudioError::Unsupported {
                path: path.to_path_buf(),
                actual: "no audio track".into(),
            })?;
        let sample_rate = track
            .codec_params
            .sample_rate
            .ok_or_else(|| corrupt(path, "no sample rate in the header"))?;
        let decoder = symphonia::default::get_codecs()
            .make(&track.codec_params, &DecoderOptions::default())
            .map_err(|e| classify(path, e))?;
        Ok(Packets {
            path: path.to_path_buf(),
            track_id: track.id,
            announced: announced_frames(&track.codec_params),
            sample_rate,
            channels: 0,
            format,
            decoder,
            buf: None,
        })
    }

    /// Appends the next packet to `out` (created at the first packet, each channel with room
    /// for `reserve` frames): its channels as they are, or summed into one when `mono`. `false`
    /// at the end of the stream.
    pub fn next_into(
        &mut self,
        out: &mut Vec<Vec<f32>>,
        mono: bool,
        reserve: usize,
    ) -> Result<bool> {
        let path = self.path.clone();
        guarded(&path, || self.next_into_unguarded(out, mono, reserve))
    }

    fn next_into_unguarded(
        &mut self,
        out: &mut Vec<Vec<f32>>,
        mono: bool,
        reserve: usize,
    ) -> Result<bool> {
        let path = self.path.as_path();
        let decoded = loop {
            let packet = match self.format.next_packet() {
                Ok(p) => p,
                Err(SymError::IoError(e)) if e.kind() == std::io::ErrorKind::UnexpectedEof => {
                    return Ok(false)
                }
                Err(SymError::ResetRequired) => return Ok(false),
                Err(e) => return Err(classify(path, e)),
            };
            if packet.track_id() == self.track_id {
                break self
                    .decoder
                    .decode(&packet)
                    .map_err(|e| classify(path, e))?;
            }
        };
        let n_ch = decoded.spec().channels.count();
        if out.is_empty() {
            *out = (0..if mono { 1 } else { n_ch })
                .map(|_| Vec::with_capacity(reserve))
                .collect();
            self.channels = n_ch;
        }
        // Planar conversion straight into each channel: no interleaved copy to undo.
        match decoded {
            AudioBufferRef::F32(b) => {
                let chans: Vec<&[f32]> = (0..n_ch).map(|c| b.chan(c)).collect();
                append(out, &chans, mono);
            }
            other => {
                let needed = other.capacity();
                if self.buf.as_ref().is_none_or(|b| b.capacity() < needed) {
                    self.buf = Some(AudioBuffer::new(needed as u64, *other.spec()));
                }
                let b = self.buf.as_mut().expect("allocated above");
                other.convert(b);
                let chans: Vec<&[f32]> = (0..n_ch).map(|c| b.chan(c)).collect();
                append(out, &chans, mono);
            }
        }
        Ok(true)
    }
}

fn probe(file: File, path: &Path, gapless: bool) -> Result<symphonia::core::probe::ProbeResult> {
    let mss = MediaSourceStream::new(Box::new(file), Default::default());
    let mut hint = Hint::new();
    if let Some(ext) = path.extension().and_then(|e| e.to_str()) {
        hint.with_extension(ext);
    }
    symphonia::default::get_probe()
        .format(
            &hint,
            mss,
            &FormatOptions {
                enable_gapless: gapless,
                ..Default::default()
            },
            &MetadataOptions::default(),
        )
        .map_err(|e| match (e, container_by_magic(path)) {
            // The container's own signature is there: the file is one, cut short or damaged
            // inside its headers, not a format soundcheck does not know.
            (SymError::Unsupported(_) | SymError::IoError(_), Some(name)) => corrupt(
                path,
                format!("{name} headers that end early or are damaged (a truncated file?)"),
            ),
            (SymError::Unsupported(_) | SymError::IoError(_), None) => AudioError::Unsupported {
                path: path.to_path_buf(),
                actual: "not a recognised audio container".into(),
            },
            (other, _) => classify(path, other),
        })
}

fn is_mpeg(params: &symphonia::core::codecs::CodecParameters) -> bool {
    use symphonia::core::codecs::{CODEC_TYPE_MP1, CODEC_TYPE_MP2, CODEC_TYPE_MP3};
    [CODEC_TYPE_MP1, CODEC_TYPE_MP2, CODEC_TYPE_MP3].contains(&params.codec)
}

/// The frame count a file's header states. An MPEG audio file states one only in a Xing/Info
/// frame with its LAME tag (which also sets the encoder delay); without one symphonia estimates
/// the count from the first frames' average size, which cuts a VBR file short by seconds and a
/// CBR file, whose frames alternate in size, by a frame — libsndfile decodes every frame.
fn announced_frames(params: &symphonia::core::codecs::CodecParameters) -> Option<u64> {
    if is_mpeg(params) && params.delay.is_none() {
        return None;
    }
    params.n_frames
}

/// The error for a stream that ends before the frame count its header announces.
pub(crate) fn truncated(path: &Path, announced: u64, frames: usize) -> AudioError {
    corrupt(
        path,
        format!("truncated: the header announces {announced} frames, the file holds {frames}"),
    )
}

/// Decodes any supported file with symphonia.
pub(crate) fn decode_symphonia(file: File, path: &Path, mono: bool) -> Result<Decoded> {
    let file_len = file.metadata().map_or(0, |m| m.len());
    let mut packets = Packets::open(file, path)?;
    // A header's frame count only sizes the first allocation, and a damaged header cannot ask
    // for more than the file could hold: 32 frames a byte is beyond any codec's compression
    // (Vorbis at its lowest rates holds about 11). Found by the fuzz tests: a flipped byte asked
    // for 41 GB.
    let reserve = packets
        .announced
        .unwrap_or(0)
        .min(file_len.saturating_mul(32)) as usize;
    let mut channels: Vec<Vec<f32>> = Vec::new();
    while packets.next_into(&mut channels, mono, reserve)? {}
    if mono && packets.channels > 1 {
        let n = packets.channels as f32;
        channels[0].iter_mut().for_each(|v| *v /= n);
    }
    let frames = channels.first().map_or(0, Vec::len);
    if frames == 0 {
        return Err(AudioError::Empty {
            path: path.to_path_buf(),
        });
    }
    if let Some(n) = packets.announced {
        if (frames as u64) < n {
            return Err(truncated(path, n, frames));
        }
        // Vorbis decodes whole blocks past the stream's last granule position: drop that tail,
        // as libsndfile does.
        for c in &mut channels {
            c.truncate(n as usize);
        }
    }
    Ok(Decoded {
        channels,
        sample_rate: packets.sample_rate,
    })
}
