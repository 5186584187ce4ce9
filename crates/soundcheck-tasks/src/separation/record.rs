//! `separation.json`, a separation run's record: the stem it separates and the STFT and patch
//! settings it was trained with, written when the run starts and read by `separate`. The field
//! names and value formats are those every run has written, so older runs load.

use serde::{Deserialize, Serialize};

use super::config::SeparationConfig;

/// The record of `separation.json`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub(super) struct SeparationRecord {
    target: String,
    sample_rate: u32,
    n_fft: usize,
    hop_length: usize,
    patch: usize,
    patch_hop: usize,
}

impl SeparationRecord {
    /// The record of a run separating `target` with `config`.
    pub(super) fn new(config: &SeparationConfig, target: &str) -> SeparationRecord {
        SeparationRecord {
            target: target.into(),
            sample_rate: config.sample_rate,
            n_fft: config.n_fft,
            hop_length: config.hop_length,
            patch: config.patch,
            patch_hop: config.patch_hop,
        }
    }

    /// The settings the run was trained with (Wiener filtering off: it is chosen when
    /// separating) and its target.
    ///
    /// # Errors
    /// A rate, size or hop of 0, which no STFT or patch can have; the message names the field.
    pub(super) fn settings(self) -> Result<(SeparationConfig, String), String> {
        let sizes = [
            ("sample_rate", self.sample_rate as usize),
            ("n_fft", self.n_fft),
            ("hop_length", self.hop_length),
            ("patch", self.patch),
            ("patch_hop", self.patch_hop),
        ];
        if let Some((field, _)) = sizes.iter().find(|(_, v)| *v == 0) {
            return Err(format!("{field} is 0; expected at least 1"));
        }
        let config = SeparationConfig {
            sample_rate: self.sample_rate,
            n_fft: self.n_fft,
            hop_length: self.hop_length,
            patch: self.patch,
            patch_hop: self.patch_hop,
            wiener: 0,
        };
        Ok((config, self.target))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_record_is_written_as_it_always_was_and_read_back() {
        let config = SeparationConfig::default();
        let text = serde_json::to_string(&SeparationRecord::new(&config, "vocals")).unwrap();
        assert_eq!(
            text,
            r#"{"target":"vocals","sample_rate":22050,"n_fft":1024,"hop_length":256,"patch":25,"patch_hop":12}"#
        );
        let read: SeparationRecord = serde_json::from_str(&text).unwrap();
        assert_eq!(read.settings().unwrap(), (config, "vocals".to_string()));
    }

    #[test]
    fn a_damaged_record_names_its_field() {
        let e = serde_json::from_str::<SeparationRecord>(
            r#"{"target":"vocals","sample_rate":22050,"n_fft":1024,"patch":25,"patch_hop":12}"#,
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("missing field `hop_length`"), "{e}");
        let mut zero = SeparationRecord::new(&SeparationConfig::default(), "vocals");
        zero.patch_hop = 0;
        assert_eq!(
            zero.settings().unwrap_err(),
            "patch_hop is 0; expected at least 1"
        );
    }
}
