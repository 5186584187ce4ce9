//! Checking an array (its full shape, batch axis first, as numpy prints it) against the model
//! input, and saying what Keras would have done with it.

use crate::diagnosis::{Diagnosis, Kind};
use crate::layers::Layer;
use crate::model::Model;
use crate::shape::{fmt_array_shape, fmt_dim, python_tuple, Shape};
use crate::spec::Api;

/// What a fed array produces when it fits: each output's full shape, batch axis first.
pub type PredictShapes = Vec<Vec<Option<usize>>>;

fn example_shape(dims: &[usize]) -> Shape {
    Shape::known(dims)
}

/// Output shapes of the model for an array fed to `input` whose example shape the layers accept
/// (the other inputs as declared).
fn predict(
    model: &Model,
    input: usize,
    batch: usize,
    example: &[usize],
) -> Result<PredictShapes, Diagnosis> {
    let mut inputs: Vec<Shape> = model.inputs.iter().map(|i| i.shape.clone()).collect();
    inputs[input] = example_shape(example);
    let report = model.infer_with(&inputs);
    if let Some(e) = report.error {
        return Err(e);
    }
    let n_in = model.inputs.len();
    Ok(model
        .outputs
        .iter()
        .map(|&o| {
            let shape = if o < n_in {
                inputs[o].clone()
            } else {
                report.layers[o - n_in].output_shape.clone()
            };
            std::iter::once(Some(batch))
                .chain(shape.dims().iter().copied())
                .collect()
        })
        .collect())
}

/// What Keras 3 does with this array: it re-adds a missing trailing size-1 axis, checks rank
/// (and, for functional models, every fixed dimension), and otherwise runs the layers.
fn keras_outcome(model: &Model, input: usize, feed: &[usize]) -> String {
    let declared = &model.inputs[input].shape;
    let mut fed = feed.to_vec();
    let mut prefix = String::new();
    if fed.len() == declared.rank() && declared.dims().last() == Some(&Some(1)) {
        fed.push(1);
        prefix = format!(
            "Keras 3 silently adds a trailing size-1 axis, giving {}; ",
            fmt_array_shape(&fed)
        );
    }
    let expected = declared.to_string();
    if fed.len() != declared.rank() + 1 {
        return format!(
            "{prefix}Keras raises at predict/fit: \"expected shape {expected}, but input has incompatible shape {}\"",
            fmt_array_shape(&fed)
        );
    }
    if model.api == Api::Functional && !declared.accepts(&fed[1..]) {
        return format!(
            "{prefix}Keras (functional model) raises: \"expected shape {expected}, but input has incompatible shape {}\"",
            fmt_array_shape(&fed)
        );
    }
    let skip = if model.api == Api::Sequential && !declared.accepts(&fed[1..]) {
        "a Sequential model does not check fixed dimensions, so "
    } else {
        ""
    };
    // Keras runs the data through weights already built for the declared shape: a layer whose
    // weights would be sized differently for this data fails there.
    let built = model.infer();
    let mut inputs: Vec<Shape> = model.inputs.iter().map(|i| i.shape.clone()).collect();
    inputs[input] = example_shape(&fed[1..]);
    let fed_report = model.infer_with(&inputs);
    let changed = built
        .layers
        .iter()
        .zip(&fed_report.layers)
        .find(|(b, f)| b.params() != f.params());
    if let Some((b, _)) = changed {
        return format!(
            "{prefix}{skip}Keras fails in layer '{}', whose weights were built for the declared input",
            b.name
        );
    }
    match predict(model, input, fed[0], &fed[1..]) {
        Ok(outs) => {
            let outs: Vec<String> = outs
                .iter()
                .map(|o| python_tuple(o.iter().map(|d| fmt_dim(*d))))
                .collect();
            format!(
                "{prefix}{skip}Keras runs it and returns {} without an error",
                outs.join(", ")
            )
        }
        Err(e) => format!(
            "{prefix}{skip}Keras gets as far as layer '{}', which fails",
            e.layer.unwrap_or_default()
        ),
    }
}

/// Checks the element type of the array fed to the first input (see [`check_input_dtype`]).
pub fn check_feed_dtype(model: &Model, integer: bool) -> Result<(), Diagnosis> {
    check_input_dtype(model, 0, integer)
}

/// Checks the element type of the array fed to `input`: an input carrying token ids (the spec's
/// integer `input_dtype` for the first input, or an Embedding reading it) refuses float data.
/// Keras accepts it and truncates every value to an id, which is never right for features.
pub fn check_input_dtype(model: &Model, input: usize, integer: bool) -> Result<(), Diagnosis> {
    let declared_int = input == 0
        && model
            .input_dtype
            .as_deref()
            .is_some_and(|d| d.starts_with("int") || d.starts_with("uint"));
    let embedding = model
        .nodes
        .iter()
        .find(|n| n.inputs.contains(&input) && matches!(n.def.layer, Layer::Embedding(_)));
    if integer || !(declared_int || embedding.is_some()) {
        return Ok(());
    }
    let mut d = Diagnosis::new(
        Kind::FeedMismatch,
        "the inputs are floats but the model takes integer ids",
    )
    .received("float inputs")
    .expected(format!(
        "{} inputs (an Embedding's token ids)",
        model.input_dtype.as_deref().unwrap_or("integer")
    ))
    .cause("an Embedding looks up rows by integer id; Keras accepts floats and truncates each to an id, silently")
    .fix("save the inputs as integers (x.astype(np.int64)) if they are ids; if they are features, drop the Embedding");
    if let Some(e) = embedding {
        d = d.at(&e.def.name, &e.def.type_name);
    }
    Err(d)
}

/// Checks an array of shape `feed` (batch axis first) against the model's first input.
///
/// Returns the output shapes when it fits; otherwise a diagnosis of kind `flattened_input`,
/// `missing_channel_axis` or `feed_mismatch`, with a note on what Keras would have done.
pub fn check_feed(model: &Model, feed: &[usize]) -> Result<PredictShapes, Diagnosis> {
    check_input_feed(model, 0, feed)
}

/// Checks an array of shape `feed` (batch axis first) against the model's input number `input`
/// (the others as declared), as [`check_feed`] does for the first; with several inputs the
/// diagnosis names the input.
pub fn check_input_feed(
    model: &Model,
    input: usize,
    feed: &[usize],
) -> Result<PredictShapes, Diagnosis> {
    check_one_feed(model, input, feed).map_err(|mut d| {
        if model.inputs.len() > 1 {
            d.title = format!("input '{}': {}", model.inputs[input].name, d.title);
        }
        d
    })
}

fn check_one_feed(model: &Model, input: usize, feed: &[usize]) -> Result<PredictShapes, Diagnosis> {
    let declared = &model.inputs[input].shape;
    if let Some(&d) = feed.iter().find(|&&d| d > crate::shape::MAX_DIM) {
        return Err(
            Diagnosis::new(Kind::FeedMismatch, format!("the array has an axis of {d}"))
                .received(fmt_array_shape(feed))
                .expected(format!("axes of at most {} (int32)", crate::shape::MAX_DIM))
                .fix("check the array's shape"),
        );
    }
    if feed.is_empty() || feed.contains(&0) {
        return Err(Diagnosis::new(
            Kind::FeedMismatch,
            format!(
                "the array has shape {}: it holds no examples",
                fmt_array_shape(feed)
            ),
        )
        .received(fmt_array_shape(feed))
        .expected(declared.to_string())
        .fix("feed a non-empty array"));
    }
    let r = declared.rank();
    if feed.len() == r + 1 && declared.accepts(&feed[1..]) {
        return predict(model, input, feed[0], &feed[1..]);
    }
    let m = Misfit {
        model,
        input,
        feed,
        declared,
        want: declared.example(),
    };
    Err(if feed.len() == r {
        m.unbatched()
    } else if feed.len() == 2 && r >= 2 {
        m.flattened(feed[1])
    } else if feed.len() == r + 1 {
        m.other_example(&feed[1..])
    } else if feed.len() > r + 1 {
        m.too_many_axes()
    } else {
        m.too_few_axes(&feed[1..])
    })
}

/// A fed array that does not fit the model's input, and the diagnosis of how.
struct Misfit<'a> {
    model: &'a Model,
    /// Which model input the array is fed to.
    input: usize,
    feed: &'a [usize],
    declared: &'a Shape,
    /// The declared example shape, as Python writes it.
    want: String,
}

impl Misfit<'_> {
    /// The diagnosis every case starts from: what was received, expected, and Keras's outcome.
    fn base(&self, kind: Kind, title: impl Into<String>) -> Diagnosis {
        Diagnosis::new(kind, title.into())
            .received(fmt_array_shape(self.feed))
            .expected(format!(
                "{} (batch, then one example of {})",
                self.declared,
                self.declared.example()
            ))
            .note(keras_outcome(self.model, self.input, self.feed))
    }

    /// `ex` with the feed's batch size in front, as a shape.
    fn with_batch(&self, ex: &[usize]) -> String {
        let mut v = vec![self.feed[0]];
        v.extend(ex);
        fmt_array_shape(&v)
    }

    /// The declared example with unknown axes as 1, batch in front.
    fn declared_with_batch(&self) -> String {
        let dims: Vec<usize> = self
            .declared
            .dims()
            .iter()
            .map(|d| d.unwrap_or(1))
            .collect();
        self.with_batch(&dims)
    }

    /// As many axes as one example: one example without its batch axis, or one whose size-1
    /// channel axis is missing.
    fn unbatched(&self) -> Diagnosis {
        let (feed, want) = (self.feed, &self.want);
        if self.declared.accepts(feed) {
            return self
                .base(Kind::FeedMismatch, "the array has no batch axis")
                .cause(format!(
                    "{} is one example of {want}; models take a batch of examples",
                    fmt_array_shape(feed)
                ))
                .fix(format!(
                    "add the batch axis: x[np.newaxis] gives {}",
                    fmt_array_shape(&[&[1], feed].concat())
                ));
        }
        let fixed = [feed, &[1]].concat();
        if self.declared.dims().last() == Some(&Some(1)) && self.declared.accepts(&fixed[1..]) {
            return self.base(Kind::MissingChannelAxis, "the array lacks the size-1 channel axis")
                .cause(format!(
                    "each example is {} but the model declares {want}, whose last axis is a channel of size 1",
                    fmt_array_shape(&feed[1..])
                ))
                .fix(format!(
                    "add the channel axis: x[..., np.newaxis] (or x.reshape({})) gives {}",
                    python_tuple(fixed.iter().map(|d| d.to_string())),
                    fmt_array_shape(&fixed)
                ));
        }
        if feed.len() == 2 && self.declared.rank() >= 2 {
            return self.flattened(feed[1]);
        }
        self.too_few_axes(&feed[1..])
    }

    /// `(batch, n)` for a model of rank 2 or more: flattened examples, or rows that lost an axis.
    fn flattened(&self, n: usize) -> Diagnosis {
        let declared = self.declared;
        let want = &self.want;
        let title =
            format!("each example arrives flattened to {n} values, but the model wants {want}");
        let product = declared
            .dims()
            .iter()
            .map(|d| fmt_dim(*d))
            .collect::<Vec<_>>()
            .join("·");
        match declared.elements() {
            Some(total) if total == n => self.base(Kind::FlattenedInput, title)
                .cause(format!(
                    "{n} = {product} values per example: the same numbers, flattened"
                ))
                .fix(format!(
                    "restore the axes: x.reshape({}) gives {} (if the data was flattened in C order)",
                    python_tuple(std::iter::once("-1".to_string()).chain(declared.dims().iter().map(|d| fmt_dim(*d)))),
                    self.declared_with_batch()
                )),
            total => {
                let first = fmt_dim(declared.dims()[0]);
                let second = fmt_dim(declared.dims()[1]);
                let cause = format!(
                    "{n} ≠ {product}{}: these rows are not flattened examples. An axis was lost before the data reached the model — with a spectrogram model, the {first} frequency bins (e.g. one value per frame kept, {n} frames)",
                    total.map(|t| format!(" = {t}")).unwrap_or_default()
                );
                let patch = if declared.rank() == 3 && declared.dims()[2] == Some(1) {
                    format!(
                        "compute the spectrogram with its {first} bins, cut it into {first}×{second} patches along time and add a channel axis: an array of shape (n_patches, {first}, {second}, 1)"
                    )
                } else {
                    format!("rebuild each example with all of its axes: an array of shape (n, {})", want.trim_start_matches('(').trim_end_matches(')'))
                };
                self.base(Kind::FlattenedInput, title).cause(cause).fix(patch)
            }
        }
    }

    /// Batch plus an example of the right rank but other sizes: transposed axes, or sizes that
    /// differ.
    fn other_example(&self, ex: &[usize]) -> Diagnosis {
        let want = &self.want;
        if let Some(perm) = transposition(ex, self.declared) {
            let axes: Vec<String> = std::iter::once("0".to_string())
                .chain(perm.iter().map(|p| (p + 1).to_string()))
                .collect();
            let fixed: Vec<usize> = perm.iter().map(|&p| ex[p]).collect();
            return self.base(Kind::FeedMismatch, "the example axes are transposed")
                .cause(format!(
                    "each example is {} but the model wants {want}: the same sizes in another order (librosa returns (n_mfcc, frames); sequence layers want (frames, n_mfcc))",
                    fmt_array_shape(ex)
                ))
                .fix(format!(
                    "transpose: np.transpose(x, {}) gives {}",
                    python_tuple(axes),
                    self.with_batch(&fixed)
                ));
        }
        let diffs: Vec<String> = ex
            .iter()
            .zip(self.declared.dims())
            .enumerate()
            .filter(|(_, (a, d))| d.is_some_and(|d| d != **a))
            .map(|(i, (a, d))| format!("axis {}: {a} instead of {}", i + 1, fmt_dim(*d)))
            .collect();
        self.base(Kind::FeedMismatch, "the example shape differs from the model input")
            .cause(format!("each example is {} but the model wants {want} ({})", fmt_array_shape(ex), diffs.join(", ")))
            .fix(format!(
                "cut or pad the data to {want} per example, or declare input_shape={} (None for a variable axis) if the model should take it",
                fmt_array_shape(ex)
            ))
    }

    /// More axes than batch + example: an extra size-1 axis, or too many.
    fn too_many_axes(&self) -> Diagnosis {
        let (feed, want) = (self.feed, &self.want);
        for p in (0..feed.len()).filter(|&p| feed[p] == 1) {
            let mut s = feed.to_vec();
            s.remove(p);
            if self.declared.accepts(&s[1..]) {
                return self
                    .base(
                        Kind::FeedMismatch,
                        format!("the array has an extra size-1 axis {p}"),
                    )
                    .cause(format!(
                        "after the batch axis each example should be {want}"
                    ))
                    .fix(format!(
                        "np.squeeze(x, axis={p}) gives {}",
                        fmt_array_shape(&s)
                    ));
            }
        }
        self.base(Kind::FeedMismatch, "the array has too many axes")
            .cause(format!(
                "{} axes besides the batch, the model takes {}",
                feed.len() - 1,
                self.declared.rank()
            ))
            .fix(format!("reshape each example to {want}"))
    }

    /// Fewer axes than batch + example: names the one that is missing when the rest line up.
    fn too_few_axes(&self, ex: &[usize]) -> Diagnosis {
        let (declared, want) = (self.declared, &self.want);
        let missing = (0..declared.rank()).find(|&skip| {
            let rest: Vec<_> = declared
                .dims()
                .iter()
                .enumerate()
                .filter(|(i, _)| *i != skip)
                .map(|(_, d)| *d)
                .collect();
            Shape(rest).accepts(ex)
        });
        let cause = match missing {
            Some(i) => format!(
                "each example is {} but the model wants {want}: axis {} (size {}) is missing",
                fmt_array_shape(ex),
                i + 1,
                fmt_dim(declared.dims()[i])
            ),
            None => format!(
                "each example is {} but the model wants {want}",
                fmt_array_shape(ex)
            ),
        };
        self.base(Kind::FeedMismatch, "the array has too few axes")
            .cause(cause)
            .fix(format!(
                "build each example as {want}; the batch goes first: {}",
                self.declared_with_batch()
            ))
    }
}

/// The order of `ex`'s axes that matches `declared`, when `ex` is not already in it.
fn transposition(ex: &[usize], declared: &Shape) -> Option<Vec<usize>> {
    let r = ex.len();
    let mut best = None;
    permutations(r, &mut |perm| {
        if best.is_none() && perm.iter().enumerate().any(|(i, &p)| i != p) {
            let re: Vec<usize> = perm.iter().map(|&p| ex[p]).collect();
            // Every known declared axis must be matched by a moved or kept axis of equal size.
            let all_known_match = declared.accepts(&re);
            let some_known_moved = perm.iter().enumerate().any(|(i, &p)| {
                i != p && declared.dims()[i].is_some_and(|d| d == ex[p] && d != ex[i])
            });
            if all_known_match && some_known_moved {
                best = Some(perm.to_vec());
            }
        }
    });
    best
}

fn permutations(n: usize, f: &mut dyn FnMut(&[usize])) {
    fn rec(v: &mut Vec<usize>, k: usize, f: &mut dyn FnMut(&[usize])) {
        if k == v.len() {
            f(v);
            return;
        }
        for i in k..v.len() {
            v.swap(k, i);
            rec(v, k + 1, f);
            v.swap(k, i);
        }
    }
    if n <= 6 {
        rec(&mut (0..n).collect(), 0, f);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ModelSpec;

    fn model(toml: &str) -> Model {
        Model::from_spec(&ModelSpec::from_toml_str(toml).unwrap()).unwrap()
    }

    const VARIABLE: &str = r#"
input_shape = ["None", 1]
[[layers]]
type = "Conv1D"
filters = 4
kernel_size = 3
[[layers]]
type = "MaxPooling1D"
pool_size = 4
"#;

    #[test]
    fn float_data_into_an_embedding_is_flagged_although_keras_truncates_it() {
        // No input_dtype: Keras's Input is float32 and the Embedding casts each value to an id.
        let m = model(
            "input_shape = [20]\n[[layers]]\ntype = \"Embedding\"\ninput_dim = 100\noutput_dim = 8\n",
        );
        let d = check_feed_dtype(&m, false).unwrap_err();
        assert_eq!(d.kind, Kind::FeedMismatch);
        assert_eq!(d.layer.as_deref(), Some("embedding"));
        assert!(check_feed_dtype(&m, true).is_ok());
        // Floats are what a model without token ids takes.
        assert!(check_feed_dtype(&model(VARIABLE), false).is_ok());
    }

    #[test]
    fn a_variable_length_input_fed_too_short_is_a_negative_dimension() {
        let m = model(VARIABLE);
        // Keras 3.15/TF 2.21: length 6 gives (2, 1, 4); length 5 fails in max_pooling1d.
        assert_eq!(
            check_feed(&m, &[2, 6, 1]).unwrap(),
            vec![vec![Some(2), Some(1), Some(4)]]
        );
        let d = check_feed(&m, &[2, 5, 1]).unwrap_err();
        assert_eq!(d.kind, Kind::NegativeDimension);
        assert_eq!(d.layer.as_deref(), Some("max_pooling1d"));
    }

    #[test]
    fn missing_batch_axis_and_extra_axis() {
        let m = model(VARIABLE);
        let d = check_feed(&m, &[7, 1]).unwrap_err();
        assert_eq!(d.kind, Kind::FeedMismatch);
        assert!(d.fix.contains("x[np.newaxis] gives (1, 7, 1)"), "{}", d.fix);
        let d = check_feed(&m, &[1, 32, 7, 1]).unwrap_err();
        assert!(
            d.fix.contains("np.squeeze(x, axis=0) gives (32, 7, 1)"),
            "{}",
            d.fix
        );
    }
}
