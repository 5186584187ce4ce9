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

/// The output shape of the model's (first) output, inferred with its declared input.
fn output_shape(model: &Model) -> Result<Shape, Diagnosis> {
    let report = model.check();
    if let Some(e) = report.error {
        return Err(e);
    }
    let o = model.outputs[0];
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
    let out = output_shape(model)?;
    if labels.is_empty() {
        return Err(
            Diagnosis::new(Kind::LabelMismatch, "the labels have no batch axis")
                .received("()")
                .expected(format!("(n, {}) for the output {out}", out.example()))
                .fix("give one label row per example"),
        );
    }
    let per = &labels[1..];
    let classes = out.last();
    let n_cls = fmt_dim(classes);
    let base = |title: String| {
        Diagnosis::new(Kind::LabelMismatch, title)
            .received(fmt_array_shape(labels))
            .expected(format!(
                "labels for the output {out}{}",
                loss.map(|l| format!(" with {l}")).unwrap_or_default()
            ))
    };
    let integer_like = per.is_empty() || per == [1];
    let pooled_vs_frames = per.len() > out.rank();
    let frames_vs_pooled = per.len() < out.rank() && !integer_like;
    match loss {
        Some("sparse_categorical_crossentropy") => {
            let head = Shape(out.dims()[..out.rank().saturating_sub(1)].to_vec());
            let index_per_example = head.accepts(per)
                || (per.last() == Some(&1) && head.accepts(&per[..per.len() - 1]));
            if index_per_example {
                if classes == Some(1) {
                    return Err(base("sparse_categorical_crossentropy needs one output per class".into())
                        .cause("the model ends in a single unit; a class index needs a probability for every class")
                        .fix("for two classes use Dense(1, activation='sigmoid') with binary_crossentropy; for K classes Dense(K, activation='softmax')"));
                }
                return Ok(());
            }
            if out.accepts(per) {
                return Err(base(format!("one-hot labels with sparse_categorical_crossentropy ({n_cls} columns)"))
                    .cause("sparse_categorical_crossentropy takes one integer class index per example, these labels are one-hot rows")
                    .fix("use loss='categorical_crossentropy', or np.argmax(y, axis=-1) to get class indices"));
            }
        }
        Some("categorical_crossentropy") | Some("categorical_hinge") | Some("kl_divergence") => {
            if out.accepts(per) {
                return Ok(());
            }
            if integer_like && out.rank() == 1 {
                return Err(base(format!("integer labels with {} ", loss.unwrap_or_default()).trim_end().to_string())
                    .cause(format!(
                        "{} compares one-hot rows of {n_cls} classes; these labels are one integer per example{}",
                        loss.unwrap_or_default(),
                        if integer == Some(true) { " (integer dtype)" } else { "" }
                    ))
                    .fix(format!(
                        "one-hot them: keras.utils.to_categorical(y, {n_cls}) gives ({}, {n_cls}); or use loss='sparse_categorical_crossentropy'",
                        labels[0]
                    )));
            }
            if per.len() == 1 && out.rank() == 1 {
                let k = per[0];
                return Err(base(format!(
                    "{k} classes in the labels but the output has {n_cls} units"
                ))
                .cause(format!(
                    "the last Dense layer must have one unit per class: {k}"
                ))
                .fix(format!(
                    "end the model with Dense({k}, activation='softmax')"
                )));
            }
        }
        _ => {
            if out.accepts(per) || (per.is_empty() && classes == Some(1) && out.rank() == 1) {
                return Ok(());
            }
            if loss == Some("binary_crossentropy")
                && per.len() == 1
                && out.rank() == 1
                && classes == Some(1)
                && per[0] > 1
            {
                let k = per[0];
                return Err(base(format!("{k} classes in the labels vs Dense(1)"))
                    .cause(format!("binary_crossentropy with one output unit scores one yes/no decision; the labels have {k} columns"))
                    .fix(format!("for {k} exclusive classes: Dense({k}, activation='softmax') with categorical_crossentropy (or integer labels with sparse_categorical_crossentropy); for {k} independent tags: Dense({k}, activation='sigmoid')")));
            }
            if loss.is_none() && integer_like && out.rank() == 1 && classes.is_some_and(|c| c > 1) {
                return Ok(());
            }
        }
    }
    if pooled_vs_frames {
        return Err(base("the labels are per frame but the output is pooled".into())
            .cause(format!("each label is {} (one per timestep) but the model outputs {} per example", fmt_array_shape(per), out.example()))
            .fix("keep the time axis in the model (return_sequences=True, no global pooling, TimeDistributed(Dense)), or reduce the labels to one per example"));
    }
    if frames_vs_pooled {
        return Err(base("the output is per frame but the labels are per example".into())
            .cause(format!("the model outputs {} per example (a time axis remains) but each label is {}", out.example(), fmt_array_shape(per)))
            .fix("pool over time before the classifier (GlobalAveragePooling1D, or an LSTM with return_sequences=False), or repeat the label per frame"));
    }
    Err(base("the labels do not match the output".into())
        .cause(format!(
            "each label is {} but the model outputs {}",
            fmt_array_shape(per),
            out.example()
        ))
        .fix(format!(
            "make the labels {} per example, or change the last layer to output {}",
            out.example(),
            fmt_array_shape(per)
        )))
}
