//! Layers that rearrange the axes of an example: Flatten, Reshape, Permute, RepeatVector.

use super::{Ctx, Output};
use crate::args::Args;
use crate::diagnosis::{Diagnosis, Kind};
use crate::shape::{fmt_dim, python_tuple, Dim, Shape};

/// `(batch, d1, ..., dn)` → `(batch, d1·...·dn)`; unknown if any axis is.
pub fn flatten(x: &Shape) -> Shape {
    Shape(vec![if x.rank() == 0 { Some(1) } else { x.elements() }])
}

/// `Reshape`'s arguments.
#[derive(Clone, Debug, PartialEq)]
pub struct Reshape {
    /// Keras's `target_shape`; at most one -1.
    pub target: Vec<i64>,
}

fn fmt_target(t: &[i64]) -> String {
    python_tuple(t.iter().map(|d| d.to_string()))
}

impl Reshape {
    /// Parses `Reshape`'s arguments.
    pub fn parse(a: &mut Args) -> Result<Reshape, Diagnosis> {
        let target = a.required_int_list(
            "target_shape",
            "a list of positive integers, at most one -1",
        )?;
        a.finish(&[])?;
        let bad = target.iter().any(|&d| d == 0 || d < -1)
            || target.iter().filter(|&&d| d == -1).count() > 1;
        if bad {
            return Err(a.error(
                "target_shape",
                "positive integers with at most one -1",
                &serde_json::json!(target),
            ));
        }
        Ok(Reshape { target })
    }

    /// # Shapes
    /// - input: any `(batch, ...)` with N elements per example
    /// - output: `(batch, *target_shape)`, the -1 filled from N; unchecked when N is unknown
    pub fn infer(&self, ctx: &Ctx, x: &Shape) -> Result<Output, Diagnosis> {
        let known: usize = self
            .target
            .iter()
            .filter(|&&d| d > 0)
            .fold(1usize, |acc, &d| acc.saturating_mul(d as usize));
        let free = self.target.iter().position(|&d| d == -1);
        let mut dims: Vec<Dim> = self
            .target
            .iter()
            .map(|&d| (d > 0).then_some(d as usize))
            .collect();
        // Keras cannot check element counts when an input dimension is unknown.
        let Some(n) = x.elements() else {
            return Ok(Output::new(Shape(dims), 0));
        };
        let ok = match free {
            Some(i) if known > 0 && n % known == 0 && n / known > 0 => {
                dims[i] = Some(n / known);
                true
            }
            Some(_) => false,
            None => n == known,
        };
        if ok {
            return Ok(Output::new(Shape(dims), 0));
        }
        let product = |d: &[Dim]| d.iter().map(|v| fmt_dim(*v)).collect::<Vec<_>>().join("·");
        let cause = match free {
            Some(_) => format!(
                "the input has {} = {n} elements per example, which the fixed target axes {} = {known} do not divide",
                product(x.dims()),
                self.target.iter().filter(|&&d| d > 0).map(|d| d.to_string()).collect::<Vec<_>>().join("·"),
            ),
            None => format!(
                "the input has {} = {n} elements per example but the target {} has {} = {known}",
                product(x.dims()),
                fmt_target(&self.target),
                self.target.iter().map(|d| d.to_string()).collect::<Vec<_>>().join("·"),
            ),
        };
        Err(ctx
            .diag(
                Kind::ReshapeSize,
                "Reshape cannot change the number of elements",
            )
            .received(format!("{} ({n} elements)", x))
            .expected(format!(
                "(None, {}) ({known} elements)",
                self.target
                    .iter()
                    .map(|d| d.to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            ))
            .cause(cause)
            .fix(reshape_fix(&self.target, n)))
    }
}

/// A target with the same element count, keeping as many of the user's axes as possible.
fn reshape_fix(target: &[i64], n: usize) -> String {
    for free in (0..target.len()).rev() {
        let rest: usize = target
            .iter()
            .enumerate()
            .filter(|&(i, &d)| i != free && d > 0)
            .map(|(_, &d)| d as usize)
            .product();
        if rest > 0 && n.is_multiple_of(rest) {
            let mut t = target.to_vec();
            t[free] = -1;
            let mut filled = t.clone();
            filled[free] = (n / rest) as i64;
            return format!(
                "Reshape({}) gives {} from {n} elements; otherwise make the target axes multiply to {n}",
                fmt_target(&t),
                fmt_target(&filled)
            );
        }
    }
    format!("make the target axes multiply to {n}, e.g. Reshape(({n},))")
}

/// `Permute`'s arguments.
#[derive(Clone, Debug, PartialEq)]
pub struct Permute {
    /// 1-based, batch axis excluded, as Keras's `dims`.
    pub dims: Vec<usize>,
}

impl Permute {
    /// Parses `Permute`'s arguments.
    pub fn parse(a: &mut Args) -> Result<Permute, Diagnosis> {
        let dims = a.required_int_list("dims", "a permutation of 1..rank, e.g. (2, 1)")?;
        a.finish(&[])?;
        let mut sorted = dims.clone();
        sorted.sort_unstable();
        if sorted != (1..=dims.len() as i64).collect::<Vec<_>>() {
            return Err(a.error(
                "dims",
                &format!(
                    "a permutation of 1..{} (indices start at 1, the batch axis is not included)",
                    dims.len()
                ),
                &serde_json::json!(dims),
            ));
        }
        Ok(Permute {
            dims: dims.into_iter().map(|d| d as usize).collect(),
        })
    }

    /// # Shapes
    /// - input: `(batch, d1, ..., dn)` with n = len(dims)
    /// - output: `(batch, d[dims[0]], ..., d[dims[n-1]])`
    pub fn infer(&self, ctx: &Ctx, x: &Shape) -> Result<Output, Diagnosis> {
        if x.rank() != self.dims.len() {
            return Err(ctx
                .diag(
                    Kind::RankMismatch,
                    super::rank_title(ctx.type_name, self.dims.len() + 1, x, true),
                )
                .received(x.to_string())
                .expected(format!(
                    "{} axes besides the batch, one per entry of dims {:?}",
                    self.dims.len(),
                    self.dims
                ))
                .cause("Permute's dims must name every non-batch axis exactly once")
                .fix(format!(
                    "give dims a permutation of 1..{} for this input",
                    x.rank()
                )));
        }
        Ok(Output::new(
            Shape(self.dims.iter().map(|&d| x.dims()[d - 1]).collect()),
            0,
        ))
    }
}

/// `(batch, F)` → `(batch, n, F)`.
pub fn repeat_vector(ctx: &Ctx, x: &Shape, n: usize) -> Result<Output, Diagnosis> {
    if x.rank() != 1 {
        let flat = flatten(x);
        return Err(ctx
            .diag(Kind::RankMismatch, super::rank_title(ctx.type_name, 2, x, true))
            .received(x.to_string())
            .expected("(batch, features)")
            .cause("RepeatVector repeats one feature vector per example")
            .fix(format!(
                "reduce each example to a vector first: Flatten() gives {flat}, or a global pooling / an LSTM without return_sequences",
            )));
    }
    Ok(Output::new(Shape(vec![Some(n), x.dims()[0]]), 0))
}
