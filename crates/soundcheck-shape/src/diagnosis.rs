//! Typed diagnoses: what went wrong, where, with which shapes, why, and how to fix it.

use std::fmt;

use crate::text::escape_controls;

/// The stable kind of a diagnosis, as printed in `--json` output (`error.kind`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Kind {
    /// A layer got a tensor with the wrong number of axes.
    RankMismatch,
    /// A layer (or a fed array) lacks a size-1 channel axis.
    MissingChannelAxis,
    /// Data arrived as flat vectors where the model wants a multi-axis example.
    FlattenedInput,
    /// A small "channels" axis sits where the layer's data_format does not read channels.
    ChannelsOrder,
    /// A kernel, pool or crop is longer than what is left of an axis (the output would be ≤ 0).
    NegativeDimension,
    /// Add/Multiply/Concatenate of incompatible shapes.
    MergeMismatch,
    /// Reshape between different element counts.
    ReshapeSize,
    /// A channel count the layer cannot use (e.g. not divisible by `groups`).
    ChannelMismatch,
    /// A dimension a layer needs to know (to size its weights) is unknown.
    UnknownDimension,
    /// A fed array does not fit the model input.
    FeedMismatch,
    /// Labels do not fit the model output and loss.
    LabelMismatch,
    /// The spec itself cannot be used: unknown layer, bad argument, dangling input name.
    InvalidSpec,
}

impl Kind {
    /// Every kind.
    pub const ALL: [Kind; 12] = [
        Kind::RankMismatch,
        Kind::MissingChannelAxis,
        Kind::FlattenedInput,
        Kind::ChannelsOrder,
        Kind::NegativeDimension,
        Kind::MergeMismatch,
        Kind::ReshapeSize,
        Kind::ChannelMismatch,
        Kind::UnknownDimension,
        Kind::FeedMismatch,
        Kind::LabelMismatch,
        Kind::InvalidSpec,
    ];

    /// The kind's stable name (`rank_mismatch`), as `--json` and `error[...]` print it.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::RankMismatch => "rank_mismatch",
            Kind::MissingChannelAxis => "missing_channel_axis",
            Kind::FlattenedInput => "flattened_input",
            Kind::ChannelsOrder => "channels_order",
            Kind::NegativeDimension => "negative_dimension",
            Kind::MergeMismatch => "merge_mismatch",
            Kind::ReshapeSize => "reshape_size",
            Kind::ChannelMismatch => "channel_mismatch",
            Kind::UnknownDimension => "unknown_dimension",
            Kind::FeedMismatch => "feed_mismatch",
            Kind::LabelMismatch => "label_mismatch",
            Kind::InvalidSpec => "invalid_spec",
        }
    }

    /// True when the input itself is unusable (exit status 2), not a shape problem (exit status 1).
    pub fn is_unusable_input(self) -> bool {
        self == Kind::InvalidSpec
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A diagnosis: built with [`Diagnosis::new`] and the builder methods.
#[derive(Clone, Debug, PartialEq)]
pub struct Diagnosis {
    /// What kind of misfit.
    pub kind: Kind,
    /// The layer's name (`conv2d_1`), when a layer is at fault.
    pub layer: Option<String>,
    /// The layer's Keras class (`Conv2D`).
    pub layer_type: Option<String>,
    /// One line saying what went wrong.
    pub title: String,
    /// The shape(s) received, as Keras prints them.
    pub received: Option<String>,
    /// The shape(s) the layer or model expects.
    pub expected: Option<String>,
    /// Why, in the user's terms.
    pub cause: String,
    /// What to change; computed from the shapes, not generic.
    pub fix: String,
    /// Further facts: how the shape shrank layer by layer, what Keras would do.
    pub notes: Vec<String>,
}

impl Diagnosis {
    /// A diagnosis of `kind` titled `title`; the builder methods add the rest.
    pub fn new(kind: Kind, title: impl Into<String>) -> Diagnosis {
        Diagnosis {
            kind,
            layer: None,
            layer_type: None,
            title: title.into(),
            received: None,
            expected: None,
            cause: String::new(),
            fix: String::new(),
            notes: Vec::new(),
        }
    }

    /// The layer (name and class) it concerns.
    pub fn at(mut self, layer: &str, layer_type: &str) -> Diagnosis {
        self.layer = Some(layer.to_string());
        self.layer_type = Some(layer_type.to_string());
        self
    }

    /// What was received (a shape).
    pub fn received(mut self, s: impl Into<String>) -> Diagnosis {
        self.received = Some(s.into());
        self
    }

    /// What was expected.
    pub fn expected(mut self, s: impl Into<String>) -> Diagnosis {
        self.expected = Some(s.into());
        self
    }

    /// Why it does not fit.
    pub fn cause(mut self, s: impl Into<String>) -> Diagnosis {
        self.cause = s.into();
        self
    }

    /// What to do about it.
    pub fn fix(mut self, s: impl Into<String>) -> Diagnosis {
        self.fix = s.into();
        self
    }

    /// What Keras itself would do or say.
    pub fn note(mut self, s: impl Into<String>) -> Diagnosis {
        self.notes.push(s.into());
        self
    }

    /// The whole story in one paragraph: title, shapes and cause (the fix is kept apart).
    pub fn message(&self) -> String {
        let mut m = String::new();
        if let Some(layer) = &self.layer {
            m.push_str(&format!("layer '{layer}'"));
            if let Some(t) = &self.layer_type {
                m.push_str(&format!(" ({t})"));
            }
            m.push_str(": ");
        }
        m.push_str(&self.title);
        if let Some(r) = &self.received {
            m.push_str(&format!("; received {r}"));
        }
        if let Some(e) = &self.expected {
            m.push_str(&format!("; expected {e}"));
        }
        m.push('.');
        if !self.cause.is_empty() {
            m.push(' ');
            m.push_str(&self.cause);
        }
        m
    }

    /// A rustc-style report for terminals.
    pub fn render(&self) -> String {
        let mut out = format!("error[{}]: {}\n", self.kind, self.title);
        if let Some(layer) = &self.layer {
            let t = self.layer_type.as_deref().unwrap_or("?");
            out.push_str(&format!("  --> layer '{layer}' ({t})\n"));
        }
        out.push_str("   |\n");
        if let Some(r) = &self.received {
            out.push_str(&format!("   = received: {r}\n"));
        }
        if let Some(e) = &self.expected {
            out.push_str(&format!("   = expected: {e}\n"));
        }
        if !self.cause.is_empty() {
            out.push_str(&format!("   = cause: {}\n", self.cause));
        }
        for n in &self.notes {
            out.push_str(&format!("   = note: {n}\n"));
        }
        if !self.fix.is_empty() {
            out.push_str(&format!("   = fix: {}\n", self.fix));
        }
        // Layer names and types come from the spec (and received shapes from file names).
        escape_controls(&out).into_owned()
    }

    /// The diagnosis as JSON (`--json`).
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({
            "kind": self.kind.as_str(),
            "layer": self.layer,
            "layer_type": self.layer_type,
            "message": self.message(),
            "fix": self.fix,
            "received": self.received,
            "expected": self.expected,
            "cause": self.cause,
            "notes": self.notes,
        })
    }
}

impl fmt::Display for Diagnosis {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.kind, self.message())?;
        if !self.fix.is_empty() {
            write!(f, " Fix: {}", self.fix)?;
        }
        Ok(())
    }
}

impl std::error::Error for Diagnosis {}

/// Closest candidate by edit distance, for "did you mean" hints on names typed by people.
pub fn closest<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let lw = word.to_lowercase();
    candidates
        .into_iter()
        .map(|c| (edit_distance(&lw, &c.to_lowercase()), c))
        .filter(|(d, c)| *d <= (c.len() / 3).max(2))
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            let sub = prev[j] + usize::from(ca != *cb);
            cur[j + 1] = sub.min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggests_close_names_only() {
        assert_eq!(
            closest("Conv2d", ["Conv1D", "Conv2D", "Dense"]),
            Some("Conv2D")
        );
        assert_eq!(
            closest("kernel_sise", ["kernel_size", "strides"]),
            Some("kernel_size")
        );
        assert_eq!(closest("Transformer", ["Dense", "LSTM"]), None);
    }

    #[test]
    fn message_carries_layer_shapes_and_cause() {
        let d = Diagnosis::new(Kind::RankMismatch, "wrong rank")
            .at("lstm", "LSTM")
            .received("(None, 100)")
            .expected("(batch, timesteps, features)")
            .cause("the time axis is missing")
            .fix("Reshape((100, 1))");
        assert_eq!(
            d.message(),
            "layer 'lstm' (LSTM): wrong rank; received (None, 100); expected (batch, timesteps, features). the time axis is missing"
        );
        assert!(d.render().contains("= fix: Reshape((100, 1))"));
        assert_eq!(d.to_json()["kind"], "rank_mismatch");
    }
}
