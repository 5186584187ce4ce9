//! Checking labels (their full array shape, batch first) against the model output and loss.

use crate::diagnosis::{Diagnosis, Kind};
use crate::model::Model;
use crate::shape::{fmt_array_shape, fmt_dim, Shape};

/// Keras loss names soundcheck knows, with their aliases.
pub const LOSSES: &[&str] = &[
    "categorical_crossentropy",
    "sparse_categorical_crossentropy",
    "binary_crossentropy",
    "mean_squared_error",
    "mse",
    "mean_absolute_error",
    "mae",
    "huber",
    "log_cosh",
    "kl_divergence",
    "hinge",
    "squared_hinge",
    "categorical_hinge",
    "cosine_similarity",
];

/// The shape of the model's output number `output`, inferred with its declared inputs.
fn output_shape(model: &Model, output: usize) -> Result<Shape, Diagnosis> {
    let report = model.check();
    if let Some(e) = report.error {
        return Err(e);
    }
    let o = model.outputs[output];
    Ok(if o < model.inputs.len() {
        model.inputs[o].shape.clone()
    } else {
        report.layers[o - model.inputs.len()].output_shape.clone()
    })
}

/// Checks labels of shape `labels` (batch first) against the model's output and `loss` (the
/// spec's own loss when `None`). `integer` says the labels are integers, when known (.npy dtype).
pub fn check_labels(
    model: &Model,
    labels: &[usize],
    integer: Option<bool>,
    loss: Option<&str>,
) -> Result<(), Diagnosis> {
    check_output_labels(model, 0, labels, integer, loss)
}

/// Checks labels for the model's output number `output`, as [`check_labels`] does for the first;
/// with several outputs the diagnosis names the output.
pub fn check_output_labels(
    model: &Model,
    output: usize,
    labels: &[usize],
    integer: Option<bool>,
    loss: Option<&str>,
) -> Result<(), Diagnosis> {
    check_one_output(model, output, labels, integer, loss).map_err(|mut d| {
        if model.outputs.len() > 1 {
            d.title = format!(
                "output '{}': {}",
                model.node_name(model.outputs[output]),
                d.title
            );
        }
        d
    })
}

fn check_one_output(
    model: &Model,
    output: usize,
    labels: &[usize],
    integer: Option<bool>,
    loss: Option<&str>,
) -> Result<(), Diagnosis> {
    let loss = loss.or(model.loss.as_deref());
    if let Some(l) = loss {
        if !LOSSES.contains(&l) {
            return Err(
                Diagnosis::new(Kind::InvalidSpec, format!("unknown loss '{l}'"))
                    .expected(format!("one of: {}", LOSSES.join(", ")))
                    .fix("name a Keras loss"),
            );
        }
    }
    let out = output_shape(model, output)?;
    if labels.is_empty() {
        return Err(
            Diagnosis::new(Kind::LabelMismatch, "the labels have no batch axis")
                .received("()")
                .expected(format!("(n, {}) for the output {out}", out.example()))
                .fix("give one label row per example"),
        );
    }
    let l = Labels {
        labels,
        per: &labels[1..],
        classes: out.last(),
        out,
        integer,
        loss,
    };
    let decided = match loss {
        Some("sparse_categorical_crossentropy") => l.sparse(),
        Some("categorical_crossentropy") | Some("categorical_hinge") | Some("kl_divergence") => {
            l.categorical()
        }
        _ => l.other_loss(),
    };
    decided.unwrap_or_else(|| Err(l.mismatch()))
}

/// Labels of shape `labels` (batch first) against the model's output and loss.
struct Labels<'a> {
    labels: &'a [usize],
    /// One example's label shape.
    per: &'a [usize],
    out: Shape,
    /// The output's last axis: the class count of a classifier.
    classes: Option<usize>,
    integer: Option<bool>,
    loss: Option<&'a str>,
}

impl Labels<'_> {
    fn base(&self, title: impl Into<String>) -> Diagnosis {
        Diagnosis::new(Kind::LabelMismatch, title.into())
            .received(fmt_array_shape(self.labels))
            .expected(format!(
                "labels for the output {}{}",
                self.out,
                self.loss.map(|l| format!(" with {l}")).unwrap_or_default()
            ))
    }

    /// One integer (or `(…, 1)`) per example or per output position.
    fn integer_like(&self) -> bool {
        self.per.is_empty() || self.per == [1]
    }

    /// sparse_categorical_crossentropy: a class index per example (or position); `None` when
    /// only the general checks can tell.
    fn sparse(&self) -> Option<Result<(), Diagnosis>> {
        let (out, per) = (&self.out, self.per);
        let head = Shape(out.dims()[..out.rank().saturating_sub(1)].to_vec());
        let index_per_example =
            head.accepts(per) || (per.last() == Some(&1) && head.accepts(&per[..per.len() - 1]));
        if index_per_example {
            if self.classes == Some(1) {
                return Some(Err(self.one_unit()));
            }
            return Some(Ok(()));
        }
        let n_cls = fmt_dim(self.classes);
        out.accepts(per).then(|| Err(self.base(format!("one-hot labels with sparse_categorical_crossentropy ({n_cls} columns)"))
            .cause("sparse_categorical_crossentropy takes one integer class index per example, these labels are one-hot rows")
            .fix("use loss='categorical_crossentropy', or np.argmax(y, axis=-1) to get class indices")))
    }

    /// A categorical loss over a single output unit: Keras trains it, but the loss normalises
    /// one unit to a probability of 1, so it is always 0 (or fails on a class index of 1).
    fn one_unit(&self) -> Diagnosis {
        let loss = self.loss.unwrap_or_default();
        self.base(format!("{loss} needs one output per class"))
            .cause(format!("the model ends in a single unit: {loss} normalises it to a probability of 1, so the loss is always 0 and nothing is learnt (Keras trains without a complaint)"))
            .fix("for two classes use binary_crossentropy with Dense(1, activation='sigmoid'); for K classes end with Dense(K, activation='softmax')")
    }

    /// The categorical losses: one-hot rows of the output's size.
    fn categorical(&self) -> Option<Result<(), Diagnosis>> {
        let (out, per, loss) = (&self.out, self.per, self.loss.unwrap_or_default());
        let n_cls = fmt_dim(self.classes);
        if self.classes == Some(1) {
            return Some(Err(self.one_unit()));
        }
        if out.accepts(per) {
            return Some(Ok(()));
        }
        if self.integer_like() && out.rank() == 1 {
            return Some(Err(self.base(format!("integer labels with {loss} ").trim_end().to_string())
                .cause(format!(
                    "{loss} compares one-hot rows of {n_cls} classes; these labels are one integer per example{}",
                    if self.integer == Some(true) { " (integer dtype)" } else { "" }
                ))
                .fix(format!(
                    "one-hot them: keras.utils.to_categorical(y, {n_cls}) gives ({}, {n_cls}); or use loss='sparse_categorical_crossentropy'",
                    self.labels[0]
                ))));
        }
        (per.len() == 1 && out.rank() == 1).then(|| {
            let k = per[0];
            Err(self
                .base(format!(
                    "{k} classes in the labels but the output has {n_cls} units"
                ))
                .cause(format!(
                    "the last Dense layer must have one unit per class: {k}"
                ))
                .fix(format!(
                    "end the model with Dense({k}, activation='softmax')"
                )))
        })
    }

    /// Regression and binary losses (or none given): labels shaped as the output.
    fn other_loss(&self) -> Option<Result<(), Diagnosis>> {
        let (out, per, classes) = (&self.out, self.per, self.classes);
        if out.accepts(per) || self.squeezed_output_accepts() {
            return Some(Ok(()));
        }
        if self.loss == Some("binary_crossentropy")
            && per.len() == 1
            && out.rank() == 1
            && classes == Some(1)
            && per[0] > 1
        {
            let k = per[0];
            return Some(Err(self.base(format!("{k} classes in the labels vs Dense(1)"))
                .cause(format!("binary_crossentropy with one output unit scores one yes/no decision; the labels have {k} columns"))
                .fix(format!("for {k} exclusive classes: Dense({k}, activation='softmax') with categorical_crossentropy (or integer labels with sparse_categorical_crossentropy); for {k} independent tags: Dense({k}, activation='sigmoid')"))));
        }
        let integer_classes = self.loss.is_none()
            && self.integer_like()
            && out.rank() == 1
            && classes.is_some_and(|c| c > 1);
        integer_classes.then_some(Ok(()))
    }

    /// Keras drops an output's trailing size-1 axis when the labels have one axis fewer
    /// (`squeeze_or_expand_to_same_rank`): (n, T) labels fit a (n, T, 1) output.
    fn squeezed_output_accepts(&self) -> bool {
        let dims = self.out.dims();
        dims.last() == Some(&Some(1)) && Shape(dims[..dims.len() - 1].to_vec()).accepts(self.per)
    }

    /// Whether Keras's loss would broadcast these labels against the output and train: after
    /// its squeeze of a trailing 1, numpy's rules, aligned from the right.
    fn keras_broadcasts(&self) -> bool {
        let full = |d: &[Option<usize>]| -> Vec<Option<usize>> {
            std::iter::once(Some(self.labels[0]))
                .chain(d.iter().copied())
                .collect()
        };
        let mut y: Vec<Option<usize>> = self.labels.iter().map(|&d| Some(d)).collect();
        let mut p = full(self.out.dims());
        if y.len() == p.len() + 1 && y.last() == Some(&Some(1)) {
            y.pop();
        } else if p.len() == y.len() + 1 && p.last() == Some(&Some(1)) {
            p.pop();
        }
        y.iter()
            .rev()
            .zip(p.iter().rev())
            .all(|(a, b)| match (a, b) {
                (Some(a), Some(b)) => a == b || *a == 1 || *b == 1,
                _ => true,
            })
    }

    /// Labels that fit no reading: per frame against a pooled output, the reverse, or sizes
    /// that differ. Where Keras would broadcast them and train anyway, the cause says so.
    fn mismatch(&self) -> Diagnosis {
        let mut d = self.mismatch_kind();
        if self.keras_broadcasts() {
            d.cause.push_str(
                ". Keras would not stop you: its loss broadcasts these labels against the output and trains on a target the model cannot mean",
            );
        }
        d
    }

    fn mismatch_kind(&self) -> Diagnosis {
        let (out, per) = (&self.out, self.per);
        if per.len() > out.rank() {
            return self.base("the labels are per frame but the output is pooled")
                .cause(format!("each label is {} (one per timestep) but the model outputs {} per example", fmt_array_shape(per), out.example()))
                .fix("keep the time axis in the model (return_sequences=True, no global pooling, TimeDistributed(Dense)), or reduce the labels to one per example");
        }
        if per.len() < out.rank() && !self.integer_like() {
            return self.base("the output is per frame but the labels are per example")
                .cause(format!("the model outputs {} per example (a time axis remains) but each label is {}", out.example(), fmt_array_shape(per)))
                .fix("pool over time before the classifier (GlobalAveragePooling1D, or an LSTM with return_sequences=False), or repeat the label per frame");
        }
        self.base("the labels do not match the output")
            .cause(format!(
                "each label is {} but the model outputs {}",
                fmt_array_shape(per),
                out.example()
            ))
            .fix(format!(
                "make the labels {} per example, or change the last layer to output {}",
                out.example(),
                fmt_array_shape(per)
            ))
    }
}
