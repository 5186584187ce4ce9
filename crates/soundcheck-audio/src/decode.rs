//! Decoding audio files to f32 with symphonia: WAV (PCM 8/16/24/32, float), FLAC, OGG/Vorbis, MP3.

use std::fs::File;
use std::path::Path;

use symphonia::core::audio::SampleBuffer;
use symphonia::core::codecs::{DecoderOptions, CODEC_TYPE_NULL};
use symphonia::core::errors::Error as SymError;
use symphonia::core::formats::FormatOptions;
use symphonia::core::io::MediaSourceStream;
use symphonia::core::meta::MetadataOptions;
use symphonia::core::probe::Hint;

use crate::error::{AudioError, Result};

/// Decoded audio: channels kept apart.
#[derive(Clone, Debug, PartialEq)]
pub struct Decoded {
    /// One vector per channel, all of the same length.
    pub channels: Vec<Vec<f32>>,
    pub sample_rate: u32,
}

impl Decoded {
    pub fn frames(&self) -> usize {
        self.channels.first().map_or(0, Vec::len)
    }
}

fn corrupt(path: &Path, detail: impl Into<String>) -> AudioError {
    AudioError::Corrupt {
        path: path.to_path_buf(),
        detail: detail.into(),
    }
}

fn classify(path: &Path, e: SymError) -> AudioError {
    match e {
        SymError::Unsupported(what) => AudioError::Unsupported {
            path: path.to_path_buf(),
            detail: what.to_string(),
        },
        SymError::IoError(io) if io.kind() == std::io::ErrorKind::UnexpectedEof => {
            corrupt(path, "the file ends before its audio data does")
        }
        SymError::IoError(io) => AudioError::Io {
            path: path.to_path_buf(),
            detail: io.to_string(),
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
    let file = File::open(path).map_err(|e| AudioError::Io {
        path: path.to_path_buf(),
        detail: e.to_string(),
    })?;
    let size = file.metadata().map(|m| m.len()).unwrap_or(0);
    if size == 0 {
        return Err(AudioError::Empty {
            path: path.to_path_buf(),
        });
    }
    let mss = MediaSourceStream::new(Box::new(file), Default::default());
    let mut hint = Hint::new();
    if let Some(ext) = path.extension().and_then(|e| e.to_str()) {
        hint.with_extension(ext);
    }
    let probed = symphonia::default::get_probe()
        .format(
            &hint,
            mss,
            // Gapless: trim encoder delay and padding (MP3 LAME/Xing headers), as libsndfile does.
            &FormatOptions {
                enable_gapless: true,
                ..Default::default()
            },
            &MetadataOptions::default(),
        )
        .map_err(|e| match e {
            SymError::Unsupported(_) | SymError::IoError(_) => AudioError::Unsupported {
                path: path.to_path_buf(),
                detail: "not a recognised audio container".into(),
            },
            other => classify(path, other),
        })?;
    let mut format = probed.format;
    let track = format
        .tracks()
        .iter()
        .find(|t| t.codec_params.codec != CODEC_TYPE_NULL)
        .ok_or_else(|| AudioError::Unsupported {
            path: path.to_path_buf(),
            detail: "no audio track".into(),
        })?;
    let track_id = track.id;
    let announced = track.codec_params.n_frames;
    let sample_rate = track
        .codec_params
        .sample_rate
        .ok_or_else(|| corrupt(path, "no sample rate in the header"))?;
    let mut decoder = symphonia::default::get_codecs()
        .make(&track.codec_params, &DecoderOptions::default())
        .map_err(|e| classify(path, e))?;
    let mut interleaved: Vec<f32> = Vec::new();
    let mut n_channels = track.codec_params.channels.map(|c| c.count()).unwrap_or(0);
    let mut buf: Option<SampleBuffer<f32>> = None;
    loop {
        let packet = match format.next_packet() {
            Ok(p) => p,
            Err(SymError::IoError(e)) if e.kind() == std::io::ErrorKind::UnexpectedEof => break,
            Err(SymError::ResetRequired) => break,
            Err(e) => return Err(classify(path, e)),
        };
        if packet.track_id() != track_id {
            continue;
        }
        let decoded = decoder.decode(&packet).map_err(|e| classify(path, e))?;
        let spec = *decoded.spec();
        n_channels = spec.channels.count();
        let needed = decoded.capacity() as u64;
        if buf.as_ref().is_none_or(|b| b.capacity() < needed as usize) {
            buf = Some(SampleBuffer::new(needed, spec));
        }
        let b = buf.as_mut().expect("allocated above");
        b.copy_interleaved_ref(decoded);
        interleaved.extend_from_slice(b.samples());
    }
    if n_channels == 0 || interleaved.is_empty() {
        return Err(AudioError::Empty {
            path: path.to_path_buf(),
        });
    }
    let mut frames = interleaved.len() / n_channels;
    if let Some(n) = announced {
        if (frames as u64) < n {
            return Err(corrupt(
                path,
                format!("truncated: the header announces {n} frames, the file holds {frames}"),
            ));
        }
        // Vorbis decodes whole blocks past the stream's last granule position: drop that tail,
        // as libsndfile does.
        frames = n as usize;
    }
    let mut channels = vec![Vec::with_capacity(frames); n_channels];
    for frame in interleaved.chunks_exact(n_channels).take(frames) {
        for (c, &s) in frame.iter().enumerate() {
            channels[c].push(s);
        }
    }
    Ok(Decoded {
        channels,
        sample_rate,
    })
}
