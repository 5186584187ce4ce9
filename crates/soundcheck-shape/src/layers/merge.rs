//! Merge layers: element-wise (Add, Multiply, ...) with Keras's broadcasting, and Concatenate.

use super::layout;
use super::{Ctx, Output};
use crate::args::Args;
use crate::diagnosis::{Diagnosis, Kind};
use crate::shape::{fmt_dim, python_tuple, Dim, Shape};

/// How a merge layer combines its inputs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MergeOp {
    /// Element-wise sum.
    Add,
    /// First minus second (two inputs).
    Subtract,
    /// Element-wise product.
    Multiply,
    /// Element-wise mean.
    Average,
    /// Element-wise maximum.
    Maximum,
    /// Element-wise minimum.
    Minimum,
    /// Joined along `axis`.
    Concatenate,
}

impl MergeOp {
    /// The merge of a Keras class name, if it is one.
    pub fn of(type_name: &str) -> Option<MergeOp> {
        Some(match type_name {
            "Add" => MergeOp::Add,
            "Subtract" => MergeOp::Subtract,
            "Multiply" => MergeOp::Multiply,
            "Average" => MergeOp::Average,
            "Maximum" => MergeOp::Maximum,
            "Minimum" => MergeOp::Minimum,
            "Concatenate" => MergeOp::Concatenate,
            _ => return None,
        })
    }
}

/// A merge layer's arguments.
#[derive(Clone, Debug, PartialEq)]
pub struct Merge {
    /// How it combines its inputs.
    pub op: MergeOp,
    /// Concatenate's axis, Keras numbering (batch = 0, -1 = last).
    pub axis: i64,
}

impl Merge {
    /// Parses the arguments of merge class `type_name`.
    pub fn parse(type_name: &str, a: &mut Args) -> Result<Merge, Diagnosis> {
        let op = MergeOp::of(type_name).expect("dispatched on a merge class");
        let axis = if op == MergeOp::Concatenate {
            a.int("axis", -1)?
        } else {
            -1
        };
        a.finish(&[])?;
        Ok(Merge { op, axis })
    }

    /// # Shapes
    /// - element-wise: inputs broadcast from the right (`(L, C)` with `(C,)` is valid; size-1
    ///   axes stretch); output is the broadcast shape
    /// - Concatenate: inputs equal except on `axis`, which is summed
    pub fn infer(&self, ctx: &Ctx, inputs: &[Shape]) -> Result<Output, Diagnosis> {
        let min = if self.op == MergeOp::Subtract { 2 } else { 1 };
        if inputs.len() < min || (self.op == MergeOp::Subtract && inputs.len() != 2) {
            return Err(ctx
                .diag(
                    Kind::InvalidSpec,
                    format!("{} got {} input(s)", ctx.type_name, inputs.len()),
                )
                .expected(if self.op == MergeOp::Subtract { "exactly 2 inputs" } else { "a list of inputs" })
                .fix("list the layers to merge in 'inputs', e.g. inputs = [\"conv2d_2\", \"activation\"]"));
        }
        if self.op == MergeOp::Concatenate {
            return self.concatenate(ctx, inputs);
        }
        let mut out = inputs[0].clone();
        for (j, x) in inputs.iter().enumerate().skip(1) {
            out = match broadcast(&out, x) {
                Some(s) => s,
                None => return Err(elementwise_mismatch(ctx, inputs, j)),
            };
        }
        Ok(Output::new(out, 0))
    }

    fn concatenate(&self, ctx: &Ctx, inputs: &[Shape]) -> Result<Output, Diagnosis> {
        let r = inputs[0].rank();
        let ndim = (r + 1) as i64;
        let a = if self.axis < 0 {
            ndim + self.axis
        } else {
            self.axis
        };
        if a == 0 {
            // Keras builds this, but the output's batch no longer matches the input's.
            return Err(ctx
                .diag(
                    Kind::InvalidSpec,
                    format!("Concatenate axis {} is the batch axis", self.axis),
                )
                .received(list_inputs(ctx, inputs))
                .expected(format!("an axis between 1 and {} (or -1)", ndim - 1))
                .cause("Keras builds it, but the output then holds more examples than the input: predictions no longer line up with examples and fit's labels cannot match")
                .fix("concatenate along a non-batch axis, usually the channels: axis=-1"));
        }
        if a < 0 || a >= ndim {
            return Err(ctx
                .diag(
                    Kind::InvalidSpec,
                    format!(
                        "Concatenate axis {} does not exist for inputs of ndim={ndim}",
                        self.axis
                    ),
                )
                .received(list_inputs(ctx, inputs))
                .expected(format!("an axis between 1 and {} (or -1)", ndim - 1))
                .fix("concatenate along a non-batch axis, usually the channels: axis=-1"));
        }
        let axis = a as usize - 1;
        if let Some(j) = inputs.iter().position(|s| s.rank() != r) {
            return Err(ctx
                .diag(Kind::MergeMismatch, "Concatenate inputs have different ranks")
                .received(list_inputs(ctx, inputs))
                .expected("inputs of the same rank, equal except on the concatenation axis")
                .cause(format!(
                    "'{}' has {} axes but '{}' has {}",
                    ctx.input_names[0], r, ctx.input_names[j], inputs[j].rank()
                ))
                .fix("Reshape one input so both have the same number of axes (e.g. add a size-1 axis)"));
        }
        let mut dims: Vec<Dim> = inputs[0].dims().to_vec();
        for (j, x) in inputs.iter().enumerate().skip(1) {
            for (i, (d, &q)) in dims.iter_mut().zip(x.dims()).enumerate() {
                if i == axis {
                    *d = d.zip(q).map(|(p, q)| p + q);
                } else {
                    match (*d, q) {
                        (Some(p), Some(q)) if p != q => {
                            return Err(concat_mismatch(ctx, inputs, j, i, axis));
                        }
                        (None, q) => *d = q,
                        _ => {}
                    }
                }
            }
        }
        Ok(Output::new(Shape(dims), 0))
    }
}

/// Keras's element-wise output shape: align from the right, 1 stretches, None matches anything.
pub fn broadcast(a: &Shape, b: &Shape) -> Option<Shape> {
    let (long, short) = if a.rank() >= b.rank() { (a, b) } else { (b, a) };
    let lead = long.rank() - short.rank();
    let mut dims: Vec<Dim> = long.dims()[..lead].to_vec();
    for (&i, &j) in long.dims()[lead..].iter().zip(short.dims()) {
        dims.push(match (i, j) {
            (None, _) | (_, None) => None,
            (Some(1), j) => j,
            (i, Some(1)) => i,
            (Some(i), Some(j)) if i == j => Some(i),
            _ => return None,
        });
    }
    Some(Shape(dims))
}

fn list_inputs(ctx: &Ctx, inputs: &[Shape]) -> String {
    inputs
        .iter()
        .zip(ctx.input_names)
        .map(|(s, n)| format!("{s} from '{n}'"))
        .collect::<Vec<_>>()
        .join(" and ")
}

fn differences(a: &Shape, b: &Shape) -> Vec<String> {
    (0..a.rank().min(b.rank()))
        .filter(|&i| a.dims()[i] != b.dims()[i])
        .map(|i| {
            format!(
                "axis {}: {} vs {}",
                i + 1,
                fmt_dim(a.dims()[i]),
                fmt_dim(b.dims()[i])
            )
        })
        .collect()
}

/// The stride that makes a kernel-1 conv turn length `from` into `to` ((from-1)//s + 1 == to).
fn stride_between(from: usize, to: usize) -> Option<usize> {
    (1..=from).find(|s| (from - 1) / s + 1 == to)
}

/// A 1×1 projection of `shortcut` to `main`'s shape, in Keras syntax.
fn projection(ctx: &Ctx, shortcut: &Shape, main: &Shape) -> Option<String> {
    if shortcut.rank() != main.rank() {
        return None;
    }
    let r = shortcut.rank();
    if r == 1 {
        return main.dims()[0].map(|u| format!("Dense({u})"));
    }
    let k = r - 1;
    if k > 2 {
        return None;
    }
    let df = ctx.data_format;
    let ch = layout::channel_axis(df, k);
    let filters = main.dims()[ch]?;
    let mut strides = Vec::new();
    let mut up = Vec::new();
    for ax in layout::spatial_axes(df, k) {
        let (ls, lm) = (shortcut.dims()[ax]?, main.dims()[ax]?);
        if lm <= ls {
            strides.push(stride_between(ls, lm)?);
            up.push(1);
        } else if lm % ls == 0 {
            strides.push(1);
            up.push(lm / ls);
        } else {
            return None;
        }
    }
    let arg = |v: &[usize]| {
        if v.iter().all(|&s| s == v[0]) {
            v[0].to_string()
        } else {
            python_tuple(v.iter().map(|s| s.to_string()))
        }
    };
    let df_arg = match df {
        crate::spec::DataFormat::ChannelsFirst => ", data_format='channels_first'",
        crate::spec::DataFormat::ChannelsLast => "",
    };
    if up.iter().any(|&u| u > 1) {
        if strides.iter().any(|&s| s > 1) {
            return None;
        }
        return Some(format!(
            "Conv{k}DTranspose({filters}, 1, strides={}{df_arg})",
            arg(&up)
        ));
    }
    Some(if strides.iter().all(|&s| s == 1) {
        format!("Conv{k}D({filters}, 1{df_arg})")
    } else {
        format!("Conv{k}D({filters}, 1, strides={}{df_arg})", arg(&strides))
    })
}

fn elementwise_mismatch(ctx: &Ctx, inputs: &[Shape], j: usize) -> Diagnosis {
    // The branch that starts earlier in the model is the shortcut; project it onto the other.
    let (s, m) = if ctx.input_positions[0] <= ctx.input_positions[j] {
        (0, j)
    } else {
        (j, 0)
    };
    let (shortcut, main) = (&inputs[s], &inputs[m]);
    let (sn, mn) = (&ctx.input_names[s], &ctx.input_names[m]);
    let diffs = differences(shortcut, main);
    let cause = if shortcut.rank() == main.rank() {
        format!(
            "the main branch '{mn}' changed the shape the shortcut '{sn}' still has ({}); {} needs equal shapes or axes of size 1 to broadcast",
            diffs.join(", "),
            ctx.type_name
        )
    } else {
        format!(
            "'{sn}' and '{mn}' have {} and {} axes, and their trailing axes do not broadcast",
            shortcut.rank(),
            main.rank()
        )
    };
    let fix = match projection(ctx, shortcut, main) {
        Some(p) => format!(
            "project the shortcut: apply {p} to '{sn}' and add that instead (it gives {main}); or make '{mn}' keep the shortcut's shape"
        ),
        None => format!(
            "make both branches the same shape: {shortcut} from '{sn}' vs {main} from '{mn}' (a Reshape, pooling or a projection layer on one of them)"
        ),
    };
    ctx.diag(
        Kind::MergeMismatch,
        format!("{} of incompatible shapes", ctx.type_name),
    )
    .received(list_inputs(ctx, inputs))
    .expected("equal shapes (size-1 or missing leading axes broadcast)")
    .cause(cause)
    .fix(fix)
}

fn concat_mismatch(ctx: &Ctx, inputs: &[Shape], j: usize, i: usize, axis: usize) -> Diagnosis {
    let (a, b) = (&inputs[0], &inputs[j]);
    let (an, bn) = (&ctx.input_names[0], &ctx.input_names[j]);
    let (la, lb) = (a.dims()[i].unwrap_or(0), b.dims()[i].unwrap_or(0));
    let mut fixes = Vec::new();
    let others_equal = (0..a.rank()).all(|x| x == i || x == axis || a.dims()[x] == b.dims()[x]);
    if others_equal {
        let (big, small, bn_, sn_) = if la >= lb {
            (la, lb, an, bn)
        } else {
            (lb, la, bn, an)
        };
        if small > 0 && big % small == 0 {
            let f = big / small;
            let k = if a.rank() == 3 { 2 } else { 1 };
            fixes.push(format!(
                "downsample '{bn_}' by {f} on axis {} (MaxPooling{k}D or strides={f}) or upsample '{sn_}' with UpSampling{k}D({f})",
                i + 1
            ));
        }
        let along_i = (0..a.rank()).all(|x| x == i || a.dims()[x] == b.dims()[x]);
        if along_i {
            fixes.push(format!(
                "or, to stack along axis {} instead, Concatenate(axis={})",
                i + 1,
                i + 1
            ));
        }
    }
    if fixes.is_empty() {
        fixes.push(format!(
            "make every axis but the concatenation axis ({}) equal",
            axis + 1
        ));
    }
    ctx.diag(
        Kind::MergeMismatch,
        "Concatenate inputs differ off the concatenation axis",
    )
    .received(list_inputs(ctx, inputs))
    .expected(format!(
        "equal sizes on every axis except axis {}",
        axis + 1
    ))
    .cause(format!(
        "Concatenate joins along axis {} only; '{an}' and '{bn}' differ on {}",
        axis + 1,
        differences(a, b)
            .into_iter()
            .filter(|d| !d.starts_with(&format!("axis {}:", axis + 1)))
            .collect::<Vec<_>>()
            .join(", ")
    ))
    .fix(fixes.join("; "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keras_broadcasting() {
        let s = |d: &[usize]| Shape::known(d);
        assert_eq!(broadcast(&s(&[10, 4]), &s(&[4])), Some(s(&[10, 4])));
        assert_eq!(broadcast(&s(&[10, 1]), &s(&[10, 4])), Some(s(&[10, 4])));
        assert_eq!(broadcast(&s(&[400, 512]), &s(&[800, 8])), None);
        assert_eq!(
            broadcast(&Shape(vec![None, Some(4)]), &s(&[7, 4])),
            Some(Shape(vec![None, Some(4)]))
        );
    }

    #[test]
    fn strides_for_kernel_one() {
        assert_eq!(stride_between(800, 400), Some(2));
        assert_eq!(stride_between(801, 401), Some(2));
        assert_eq!(stride_between(25, 13), Some(2));
        assert_eq!(stride_between(10, 10), Some(1));
    }
}
