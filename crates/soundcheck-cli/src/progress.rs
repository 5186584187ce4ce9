//! Progress bars on standard error for long work (hidden when stderr is not a terminal), and
//! the tasks' progress reports drawn as bars and lines.

use std::sync::Mutex;

use indicatif::{ProgressBar, ProgressStyle};

pub struct Progress(ProgressBar);

impl Progress {
    /// A bar over `total` items, shown only for more than one item.
    pub fn new(what: &str, total: usize) -> Progress {
        let bar = if total > 1 {
            ProgressBar::new(total as u64)
        } else {
            ProgressBar::hidden()
        };
        bar.set_style(
            ProgressStyle::with_template(
                "{prefix} [{bar:30}] {pos}/{len} {per_sec} {msg} ETA {eta}",
            )
            .expect("a valid template")
            .progress_chars("=> "),
        );
        bar.set_prefix(what.to_string());
        Progress(bar)
    }

    /// Text beside the bar (a running loss, a throughput).
    pub fn message(&self, text: String) {
        self.0.set_message(text);
    }

    pub fn tick(&self) {
        self.0.inc(1);
    }

    pub fn finish(&self) {
        self.0.finish_and_clear();
    }
}

/// A task's stages as one bar at a time, its notes as lines on standard error.
#[derive(Default)]
pub struct Bars(Mutex<Option<Progress>>);

impl Bars {
    fn with(&self, f: impl FnOnce(&mut Option<Progress>)) {
        // A panic while drawing cannot leave the bar half-updated in a way that matters.
        let mut bar = self.0.lock().unwrap_or_else(|p| p.into_inner());
        f(&mut bar);
    }
}

impl soundcheck_tasks::Progress for Bars {
    fn start(&self, what: &str, total: usize) {
        self.with(|bar| {
            if let Some(old) = bar.replace(Progress::new(what, total)) {
                old.finish();
            }
        });
    }

    fn step(&self) {
        self.with(|bar| bar.iter().for_each(Progress::tick));
    }

    fn status(&self, text: &str) {
        self.with(|bar| bar.iter().for_each(|b| b.message(text.to_string())));
    }

    fn finish(&self) {
        self.with(|bar| bar.take().iter().for_each(Progress::finish));
    }

    fn note(&self, line: &str) {
        self.with(|bar| match bar {
            Some(b) => b.0.suspend(|| errln!("{line}")),
            None => errln!("{line}"),
        });
    }
}
