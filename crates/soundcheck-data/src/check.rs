//! Before the first step: the dataset's example shape, target shape and dtypes against the model
//! and loss, with the shape engine's diagnoses.

use soundcheck_shape::feed::{check_feed, check_feed_dtype};
use soundcheck_shape::labels::check_labels;
use soundcheck_shape::{Diagnosis, Model};

use crate::dataset::Dataset;

/// Checks a batch of `batch_size` examples of `ds` against `model` and `loss` (the spec's loss
/// when `None`): the input as a fed array, the targets as labels, integer ids for an integer
/// model input.
pub fn check_dataset(
    model: &Model,
    ds: &dyn Dataset,
    batch_size: usize,
    loss: Option<&str>,
) -> Result<(), Diagnosis> {
    let n = batch_size.min(ds.len()).max(1);
    let feed: Vec<usize> = std::iter::once(n)
        .chain(ds.input_shape().iter().copied())
        .collect();
    check_feed(model, &feed)?;
    check_feed_dtype(model, ds.integer_inputs())?;
    let labels: Vec<usize> = std::iter::once(n)
        .chain(ds.target_shape().iter().copied())
        .collect();
    check_labels(model, &labels, Some(ds.integer_targets()), loss)
}
