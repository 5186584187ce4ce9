//! `separation.json`, a separation run's record: the stem it separates and the STFT and patch
//! settings it was trained with, written when the run starts and read by `separate`. The field
//! names and value formats are those every run has written, so older runs load.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::config::SeparationConfig;

/// The name of a separated stem (`vocals`), which becomes the file name `<name>.wav` beside
/// `accompaniment.wav`. Records can be edited, so the name is an identifier, checked when it is
/// read: a path (`../../x`, `/tmp/x`), an empty name (a hidden `.wav`) or the name of the other
/// stem or of the mixture would write outside the output folder or over another file.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct StemName(String);

impl StemName {
    /// The names that are other files of a separated folder or of a dataset's track.
    const TAKEN: [&'static str; 2] = ["accompaniment", "mixture"];
    /// What a stem name is, for messages.
    pub const EXPECTED: &'static str =
        "letters, digits, `_` or `-` (such as \"vocals\"), other than accompaniment and mixture";

    /// `name` as a stem name.
    ///
    /// # Errors
    /// A name that is empty, holds anything but ASCII letters, digits, `_` and `-`, or is
    /// `accompaniment` or `mixture`; the message quotes it (escaped) and says what is expected.
    pub fn parse(name: &str) -> Result<StemName, String> {
        let identifier = !name.is_empty()
            && name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
        if !identifier || Self::TAKEN.contains(&name) {
            return Err(format!(
                "{name:?} is not a stem name; expected {}",
                Self::EXPECTED
            ));
        }
        Ok(StemName(name.into()))
    }

    /// The name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for StemName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

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
    pub(super) fn new(config: &SeparationConfig, target: &StemName) -> SeparationRecord {
        SeparationRecord {
            target: target.to_string(),
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
    /// A rate, size or hop of 0, which no STFT or patch can have, or a target that is not a
    /// [`StemName`]; the message names the field.
    pub(super) fn settings(self) -> Result<(SeparationConfig, StemName), String> {
        let target = StemName::parse(&self.target).map_err(|e| format!("target {e}"))?;
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
            scaling: super::config::Scaling::PatchPeak,
        };
        Ok((config, target))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_record_is_written_as_it_always_was_and_read_back() {
        let config = SeparationConfig::default();
        let vocals = StemName::parse("vocals").unwrap();
        let text = serde_json::to_string(&SeparationRecord::new(&config, &vocals)).unwrap();
        assert_eq!(
            text,
            r#"{"target":"vocals","sample_rate":22050,"n_fft":1024,"hop_length":256,"patch":25,"patch_hop":12}"#
        );
        let read: SeparationRecord = serde_json::from_str(&text).unwrap();
        assert_eq!(read.settings().unwrap(), (config, vocals));
    }

    #[test]
    fn a_damaged_record_names_its_field() {
        let e = serde_json::from_str::<SeparationRecord>(
            r#"{"target":"vocals","sample_rate":22050,"n_fft":1024,"patch":25,"patch_hop":12}"#,
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("missing field `hop_length`"), "{e}");
        let vocals = StemName::parse("vocals").unwrap();
        let mut zero = SeparationRecord::new(&SeparationConfig::default(), &vocals);
        zero.patch_hop = 0;
        assert_eq!(
            zero.settings().unwrap_err(),
            "patch_hop is 0; expected at least 1"
        );
    }

    #[test]
    fn an_edited_target_that_is_not_a_stem_name_is_refused() {
        for bad in [
            "../../x",
            "/tmp/x",
            "accompaniment",
            "mixture",
            "",
            "a.b",
            "vo cals",
            "\u{1b}[31m",
        ] {
            let mut record = SeparationRecord::new(
                &SeparationConfig::default(),
                &StemName::parse("vocals").unwrap(),
            );
            record.target = bad.into();
            let e = record.settings().unwrap_err();
            assert!(
                e.starts_with("target ") && e.contains("not a stem name"),
                "{bad:?}: {e}"
            );
            assert!(!e.contains('\u{1b}'), "the name is quoted escaped: {e}");
        }
        for good in ["vocals", "bass", "other_2", "lead-vox"] {
            assert_eq!(StemName::parse(good).unwrap().as_str(), good);
        }
    }
}
