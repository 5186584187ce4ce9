//! Shapes of one example (batch axis excluded), with unknown dimensions.

use std::fmt;

/// One dimension: `None` is unknown (variable length, or not computable).
pub type Dim = Option<usize>;

/// The largest size any axis or size argument may have: Keras/TensorFlow dimensions are int32.
/// Bounding sizes here keeps every shape and parameter computation free of overflow.
pub const MAX_DIM: usize = i32::MAX as usize;

/// The ranks (batch axis included) the neural engine runs: from `(batch, features)` to a batch of
/// volumes with channels. The shape engine refuses others, so `check` never passes a model the
/// engine cannot run.
pub const RANKS: std::ops::RangeInclusive<usize> = 2..=5;

/// The shape of one example, batch axis excluded, as Keras's `input_shape`.
///
/// Displayed the way Keras prints shapes, with the batch axis as `None`: `(None, 513, 25, 1)`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Shape(pub Vec<Dim>);

impl Shape {
    /// A shape with every axis known.
    pub fn known(dims: &[usize]) -> Shape {
        Shape(dims.iter().map(|&d| Some(d)).collect())
    }

    /// Number of axes, batch excluded.
    pub fn rank(&self) -> usize {
        self.0.len()
    }

    /// Number of axes as Keras counts them (`ndim`), batch included.
    pub fn ndim(&self) -> usize {
        self.0.len() + 1
    }

    /// The axes, batch excluded.
    pub fn dims(&self) -> &[Dim] {
        &self.0
    }

    /// Product of all dimensions, `None` if any is unknown.
    pub fn elements(&self) -> Option<usize> {
        self.0
            .iter()
            .try_fold(1usize, |acc, d| d.map(|d| acc.saturating_mul(d)))
    }

    /// True when a concrete example shape fits this one (same rank; unknown dims take any size).
    pub fn accepts(&self, example: &[usize]) -> bool {
        example.len() == self.rank()
            && example
                .iter()
                .zip(&self.0)
                .all(|(&a, d)| d.is_none_or(|d| d == a))
    }

    /// The last axis (`None` when unknown or the shape is empty).
    pub fn last(&self) -> Dim {
        self.0.last().copied().flatten()
    }

    /// The shape as a Python tuple without the batch axis: `(20, 1)`, `(20,)`, `()`.
    pub fn example(&self) -> String {
        python_tuple(self.0.iter().map(|d| fmt_dim(*d)))
    }

    /// JSON value with `null` for the batch axis and unknown dimensions.
    pub fn to_json_with_batch(&self) -> serde_json::Value {
        let mut v = vec![serde_json::Value::Null];
        v.extend(self.0.iter().map(|d| match d {
            Some(d) => serde_json::Value::from(*d),
            None => serde_json::Value::Null,
        }));
        serde_json::Value::Array(v)
    }
}

impl fmt::Display for Shape {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let parts = std::iter::once("None".to_string()).chain(self.0.iter().map(|d| fmt_dim(*d)));
        f.write_str(&python_tuple(parts))
    }
}

/// An axis as Keras prints it: the size, or `None`.
pub fn fmt_dim(d: Dim) -> String {
    match d {
        Some(d) => d.to_string(),
        None => "None".to_string(),
    }
}

/// Python's tuple notation: a one-element tuple keeps its trailing comma.
pub fn python_tuple(parts: impl IntoIterator<Item = String>) -> String {
    let parts: Vec<String> = parts.into_iter().collect();
    if parts.len() == 1 {
        format!("({},)", parts[0])
    } else {
        format!("({})", parts.join(", "))
    }
}

/// A fully known array shape, batch axis included, as numpy prints it: `(32, 2584)`.
pub fn fmt_array_shape(dims: &[usize]) -> String {
    python_tuple(dims.iter().map(|d| d.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prints_like_keras() {
        assert_eq!(
            Shape::known(&[513, 25, 1]).to_string(),
            "(None, 513, 25, 1)"
        );
        assert_eq!(Shape(vec![None, Some(13)]).to_string(), "(None, None, 13)");
        assert_eq!(Shape::known(&[20]).example(), "(20,)");
        assert_eq!(Shape(vec![]).to_string(), "(None,)");
        assert_eq!(fmt_array_shape(&[32, 2584]), "(32, 2584)");
    }

    #[test]
    fn elements_unknown_when_any_dim_unknown() {
        assert_eq!(Shape::known(&[513, 25, 1]).elements(), Some(12825));
        assert_eq!(Shape(vec![None, Some(3)]).elements(), None);
    }
}
