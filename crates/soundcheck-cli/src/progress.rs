//! Progress bars on standard error for long work (hidden when stderr is not a terminal).

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
