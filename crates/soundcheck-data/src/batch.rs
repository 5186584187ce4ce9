//! Batches: examples gathered in parallel, a ragged last batch, and a bounded prefetch queue so
//! the next batches load while the current one trains.

use std::sync::mpsc::{sync_channel, Receiver};
use std::sync::Arc;

use rayon::prelude::*;

use crate::dataset::{example_len, Dataset, Field};
use crate::error::{DataError, Result};
use crate::order::epoch_order;

/// One field of a batch: that array of every example, stacked along a new first axis.
#[derive(Clone, Debug, PartialEq)]
pub struct Stacked {
    /// `(batch, *field_shape)`.
    pub shape: Vec<usize>,
    /// The values in C order.
    pub data: Vec<f32>,
}

/// A batch: each input and target field stacked, in the dataset's field order.
#[derive(Clone, Debug, PartialEq)]
pub struct Batch {
    /// One per input field ([`Dataset::inputs`]).
    pub inputs: Vec<Stacked>,
    /// One per target field ([`Dataset::targets`]).
    pub targets: Vec<Stacked>,
    /// The dataset indices of the examples, in batch order.
    pub indices: Vec<usize>,
}

/// Batching options, with Keras's defaults (`batch_size` 32, shuffled, last batch kept).
#[derive(Clone, Debug, PartialEq)]
pub struct LoaderConfig {
    /// Examples per batch.
    pub batch_size: usize,
    /// Shuffle the order every epoch.
    pub shuffle: bool,
    /// Seed of the shuffles (mixed with the epoch).
    pub seed: u64,
    /// Drop a last batch smaller than `batch_size`.
    pub drop_last: bool,
    /// Batches loaded ahead of the consumer.
    pub prefetch: usize,
}

impl Default for LoaderConfig {
    fn default() -> Self {
        LoaderConfig {
            batch_size: 32,
            shuffle: true,
            seed: 0,
            drop_last: false,
            prefetch: 2,
        }
    }
}

/// The index groups of one epoch: shuffled by `(seed, epoch)` when asked, the last group ragged
/// unless dropped.
pub fn plan(indices: &[usize], cfg: &LoaderConfig, epoch: u64) -> Result<Vec<Vec<usize>>> {
    if cfg.batch_size == 0 {
        return Err(DataError::InvalidParameter {
            name: "batch_size",
            actual: "0".into(),
            expected: "a positive number of examples (Keras's default is 32)".into(),
        });
    }
    let order = if cfg.shuffle {
        epoch_order(indices, cfg.seed, epoch)
    } else {
        indices.to_vec()
    };
    Ok(order
        .chunks(cfg.batch_size)
        .filter(|c| !cfg.drop_last || c.len() == cfg.batch_size)
        .map(<[usize]>::to_vec)
        .collect())
}

/// Gathers the examples `idx` into one batch, loading them in parallel.
pub fn gather(ds: &dyn Dataset, idx: &[usize]) -> Result<Batch> {
    gather_with(ds, idx, &|i, x, y| ds.load(i, x, y))
}

/// Gathers the examples `idx` as training epoch `epoch` sees them ([`Dataset::load_in_epoch`]).
fn gather_in_epoch(ds: &dyn Dataset, idx: &[usize], epoch: u64) -> Result<Batch> {
    gather_with(ds, idx, &|i, x, y| ds.load_in_epoch(epoch, i, x, y))
}

type Load<'a> = dyn Fn(usize, &mut [f32], &mut [f32]) -> Result<()> + Sync + 'a;

fn gather_with(ds: &dyn Dataset, idx: &[usize], load: &Load) -> Result<Batch> {
    let (px, py) = (example_len(ds.inputs()), example_len(ds.targets()));
    let mut inputs = soundcheck_io::budget::vec(
        "a batch's inputs (`batch_size` × values per example)",
        &[idx.len(), px],
        0f32,
    )?;
    let mut targets = soundcheck_io::budget::vec(
        "a batch's targets (`batch_size` × values per example)",
        &[idx.len(), py],
        0f32,
    )?;
    inputs
        .par_chunks_mut(px.max(1))
        .zip(targets.par_chunks_mut(py.max(1)))
        .zip(idx.par_iter())
        .try_for_each(|((x, y), &i)| load(i, x, y))?;
    Ok(Batch {
        inputs: unstack(ds.inputs(), idx.len(), inputs),
        targets: unstack(ds.targets(), idx.len(), targets),
        indices: idx.to_vec(),
    })
}

/// Splits `n` examples' rows (each its fields one after another) into one array per field. One
/// field, the usual case, is already laid out that way and is not copied.
fn unstack(fields: &[Field], n: usize, rows: Vec<f32>) -> Vec<Stacked> {
    let with_batch = |f: &Field| std::iter::once(n).chain(f.shape.iter().copied()).collect();
    if let [only] = fields {
        return vec![Stacked {
            shape: with_batch(only),
            data: rows,
        }];
    }
    let per = example_len(fields);
    let mut offset = 0;
    fields
        .iter()
        .map(|f| {
            let len = f.len();
            let data = (0..n)
                .flat_map(|e| &rows[e * per + offset..e * per + offset + len])
                .copied()
                .collect();
            offset += len;
            Stacked {
                shape: with_batch(f),
                data,
            }
        })
        .collect()
}

/// The batches of one training epoch, loaded on a background thread up to `prefetch` batches ahead.
/// Dropping the iterator stops the loading.
pub fn batches(
    ds: Arc<dyn Dataset>,
    indices: &[usize],
    cfg: &LoaderConfig,
    epoch: u64,
) -> Result<Receiver<Result<Batch>>> {
    let groups = plan(indices, cfg, epoch)?;
    let (tx, rx) = sync_channel(cfg.prefetch.max(1));
    std::thread::spawn(move || {
        for g in groups {
            let b = gather_in_epoch(ds.as_ref(), &g, epoch);
            let failed = b.is_err();
            if tx.send(b).is_err() || failed {
                break;
            }
        }
    });
    Ok(rx)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dataset::{ArrayDataset, NamedArray};

    fn ds(n: usize) -> Arc<dyn Dataset> {
        let x: Vec<f32> = (0..n * 6).map(|v| v as f32).collect();
        let y: Vec<f32> = (0..n).map(|v| (v % 3) as f32).collect();
        Arc::new(ArrayDataset::new(x, &[n, 2, 3], y, &[n]).unwrap())
    }

    #[test]
    fn last_batch_is_ragged_unless_dropped() {
        let idx: Vec<usize> = (0..10).collect();
        let keep = LoaderConfig {
            batch_size: 4,
            ..Default::default()
        };
        let sizes: Vec<usize> = plan(&idx, &keep, 0).unwrap().iter().map(Vec::len).collect();
        assert_eq!(sizes, vec![4, 4, 2]);
        let drop = LoaderConfig {
            drop_last: true,
            ..keep
        };
        assert_eq!(plan(&idx, &drop, 0).unwrap().len(), 2);
        assert!(plan(
            &idx,
            &LoaderConfig {
                batch_size: 0,
                ..Default::default()
            },
            0
        )
        .is_err());
    }

    #[test]
    fn batches_hold_the_right_examples_in_order() {
        let d = ds(10);
        let b = gather(d.as_ref(), &[7, 2]).unwrap();
        assert_eq!(b.inputs[0].shape, vec![2, 2, 3]);
        assert_eq!(&b.inputs[0].data[..6], &[42., 43., 44., 45., 46., 47.]);
        assert_eq!(&b.inputs[0].data[6..], &[12., 13., 14., 15., 16., 17.]);
        assert_eq!(b.targets[0].data, vec![1.0, 2.0]);
    }

    #[test]
    fn several_fields_are_stacked_one_array_each() {
        let field = |name: &str, shape: Vec<usize>, n: usize, base: f32| NamedArray {
            name: Some(name.into()),
            data: (0..n * shape[1..].iter().product::<usize>())
                .map(|v| base + v as f32)
                .collect(),
            shape,
            integer: false,
        };
        let ds = ArrayDataset::from_arrays(
            vec![
                field("a", vec![3, 2], 3, 0.0),
                field("b", vec![3, 1, 3], 3, 100.0),
            ],
            vec![
                field("p", vec![3], 3, 10.0),
                field("q", vec![3, 2], 3, 20.0),
            ],
        )
        .unwrap();
        let b = gather(&ds, &[2, 0]).unwrap();
        assert_eq!(b.inputs[0].shape, vec![2, 2]);
        assert_eq!(b.inputs[0].data, vec![4., 5., 0., 1.]);
        assert_eq!(b.inputs[1].shape, vec![2, 1, 3]);
        assert_eq!(b.inputs[1].data, vec![106., 107., 108., 100., 101., 102.]);
        assert_eq!(b.targets[0].data, vec![12., 10.]);
        assert_eq!(b.targets[1].data, vec![24., 25., 20., 21.]);
    }

    #[test]
    fn prefetched_epochs_equal_direct_gathering_and_cover_every_example() {
        let d = ds(23);
        let idx: Vec<usize> = (0..23).collect();
        let cfg = LoaderConfig {
            batch_size: 5,
            seed: 9,
            ..Default::default()
        };
        for epoch in 0..2 {
            let got: Vec<Batch> = batches(d.clone(), &idx, &cfg, epoch)
                .unwrap()
                .into_iter()
                .map(|b| b.unwrap())
                .collect();
            let want: Vec<Batch> = plan(&idx, &cfg, epoch)
                .unwrap()
                .iter()
                .map(|g| gather(d.as_ref(), g).unwrap())
                .collect();
            assert_eq!(got, want);
            let mut seen: Vec<usize> = got.iter().flat_map(|b| b.indices.clone()).collect();
            seen.sort_unstable();
            assert_eq!(seen, idx);
        }
    }
}
