//! A long recording labelled window by window: each window read from the file on its own,
//! loaded as `librosa.load(path, sr=…, offset=…, duration=…)` would load it, and labelled as
//! `classify` labels a clip — so memory holds a batch of windows, never the recording.

use rayon::prelude::*;
use soundcheck_audio::{resample, to_mono, AudioSource};
use soundcheck_data::Sequence;

use crate::error::{Result, TaskError};
use crate::progress::Progress;

use super::classify::{Classifier, Labelled, Span};

/// Windows labelled at once: their features and the network's batch.
const BATCH: usize = 64;

/// Windows of a recording: how long, and how far apart their starts are, in seconds.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Windows {
    /// Seconds per window.
    pub length: f64,
    /// Seconds between window starts.
    pub hop: f64,
}

impl Windows {
    /// Windows of `length` seconds every `hop` seconds (every `length` seconds without one).
    ///
    /// # Errors
    /// A length or hop that is not a positive number of seconds.
    pub fn new(length: f64, hop: Option<f64>) -> Result<Windows> {
        let hop_value = hop.unwrap_or(length);
        for (name, v) in [("window", length), ("window_hop", hop_value)] {
            if !(v.is_finite() && v > 0.0) {
                return Err(TaskError::Option {
                    name,
                    actual: v.to_string(),
                    expected: "a positive number of seconds (e.g. the length of the clips the \
                               model was trained on)"
                        .into(),
                });
            }
        }
        Ok(Windows {
            length,
            hop: hop_value,
        })
    }

    /// The windows of a recording of `frames` samples at `rate` Hz, in samples: starting at
    /// `round(k · hop · rate)` (librosa's rounding of `offset`), `round(length · rate)` long
    /// (at least one sample), cut at the end; none starts after a window that reached the end.
    fn spans(&self, frames: usize, rate: u32) -> Vec<(usize, usize)> {
        let samples = |s: f64| (s * f64::from(rate)).round() as usize;
        let len = samples(self.length).max(1);
        let mut out = Vec::new();
        for k in 0usize.. {
            let start = samples(k as f64 * self.hop);
            if start >= frames || out.last().is_some_and(|&(_, end)| end == frames) {
                break;
            }
            if out.last().is_some_and(|&(s, _)| s == start) {
                continue;
            }
            out.push((start, (start + len).min(frames)));
        }
        out
    }
}

impl Classifier {
    /// Labels every window of each of `files` with the `top_k` most probable classes.
    ///
    /// # Errors
    /// A file that cannot be read (named), a window longer than the memory there is, or more
    /// windows than their labels fit in.
    pub fn classify_windows(
        &self,
        files: &[std::path::PathBuf],
        windows: Windows,
        top_k: usize,
        progress: &dyn Progress,
    ) -> Result<Vec<Labelled>> {
        // Headers first: the progress counts windows, and sizes are checked before any work. Only
        // the spans are kept, so a long list of files never holds its files open at once.
        let mut file_spans = Vec::with_capacity(files.len());
        let too_many = |e: soundcheck_io::budget::TooLarge| TaskError::Option {
            name: "window_hop",
            actual: format!("{} s", windows.hop),
            expected: format!("fewer windows ({e})"),
        };
        let mut total = 0;
        for f in files {
            let src = AudioSource::open(f).map_err(|e| TaskError::file(f, e))?;
            let rate = src.sample_rate();
            // At most one window per sample, and one per hop: bounded before they are listed.
            let most =
                (src.frames() as f64 / (windows.hop * f64::from(rate)).max(1.0)) as usize + 1;
            soundcheck_io::budget::memory("the file's windows (`window_hop`)", &[most], 16)
                .map_err(too_many)?;
            let spans = windows.spans(src.frames(), rate);
            let longest = spans.iter().map(|(s, e)| e - s).max().unwrap_or(0);
            soundcheck_io::budget::memory(
                "one window of audio at the file's rate (`window` × channels)",
                &[longest, src.channels()],
                4 * BATCH,
            )
            .map_err(|e| TaskError::Option {
                name: "window",
                actual: format!("{} s", windows.length),
                expected: format!("windows that fit in memory ({e})"),
            })?;
            total += spans.len();
            file_spans.push(spans);
        }
        soundcheck_io::budget::memory(
            "the labels of every window (`window_hop`)",
            &[total, top_k.max(1) + 2],
            64,
        )
        .map_err(too_many)?;
        progress.start("windows", total);
        let mut out = Vec::with_capacity(total);
        for (file, spans) in files.iter().zip(file_spans) {
            let mut src = AudioSource::open(file).map_err(|e| TaskError::file(file, e))?;
            let rate = src.sample_rate();
            let target = self.pre.features.sample_rate;
            for batch in spans.chunks(BATCH) {
                let audio = batch
                    .iter()
                    .map(|&(s, e)| {
                        let mono = to_mono(&src.read(s, e)?);
                        if rate == target {
                            Ok(mono)
                        } else {
                            resample(&mono, rate, target)
                        }
                    })
                    .collect::<soundcheck_audio::Result<Vec<_>>>()
                    .map_err(|e| TaskError::file(file, e))?;
                let features = &self.pre.features;
                let seqs: Vec<Sequence> = audio
                    .par_iter()
                    .map(|y| {
                        let s = features.of_samples(file, y);
                        progress.step();
                        s
                    })
                    .collect::<Result<_>>()?;
                let seconds = |i: usize| i as f64 / f64::from(rate);
                for (p, &(s, e)) in self.probabilities(seqs)?.iter().zip(batch) {
                    let span = Span {
                        start: seconds(s),
                        end: seconds(e),
                    };
                    out.push(self.labelled(file, p, top_k, Some(span)));
                }
            }
        }
        progress.finish();
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_start_on_librosas_rounded_offsets_and_stop_at_the_end() {
        let w = Windows::new(1.0, Some(0.5)).unwrap();
        // 2.3 s at 10 Hz: 23 samples; starts 0, 5, 10, 15 (its window reaches the end).
        assert_eq!(w.spans(23, 10), vec![(0, 10), (5, 15), (10, 20), (15, 23)]);
        // Without a hop, windows follow each other; the last is cut at the end.
        let w = Windows::new(1.0, None).unwrap();
        assert_eq!(w.spans(23, 10), vec![(0, 10), (10, 20), (20, 23)]);
        // A hop shorter than a sample at this rate never repeats a window.
        let w = Windows::new(0.2, Some(0.04)).unwrap();
        assert_eq!(w.spans(4, 10), vec![(0, 2), (1, 3), (2, 4)]);
        for (length, hop) in [(0.0, None), (f64::NAN, None), (1.0, Some(-1.0))] {
            assert!(Windows::new(length, hop).is_err(), "{length} {hop:?}");
        }
    }
}
