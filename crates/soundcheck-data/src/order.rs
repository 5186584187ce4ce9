//! Seeded example orders: shuffles and train/validation splits that are the same on every machine
//! and every run for the same seed.

use soundcheck_io::SplitMix64;

use crate::error::{DataError, Result};

/// `items` shuffled by Fisher–Yates with the generator seeded by `seed`.
pub fn shuffled<T>(mut items: Vec<T>, seed: u64) -> Vec<T> {
    let mut rng = SplitMix64::new(seed);
    for i in (1..items.len()).rev() {
        let j = rng.below(i + 1);
        items.swap(i, j);
    }
    items
}

/// The order of epoch `epoch`: a fresh shuffle per epoch, reproducible from `(seed, epoch)`.
pub fn epoch_order(indices: &[usize], seed: u64, epoch: u64) -> Vec<usize> {
    let mut mix = SplitMix64::new(seed ^ epoch.wrapping_mul(0xA24B_AED4_963E_E407));
    shuffled(indices.to_vec(), mix.next_u64())
}

/// Splits `0..n` into (train, validation) with `round(n · fraction)` validation examples chosen
/// by `seed`; both sides sorted.
pub fn split(n: usize, fraction: f64, seed: u64) -> Result<(Vec<usize>, Vec<usize>)> {
    if fraction.is_nan() || !(0.0..1.0).contains(&fraction) {
        return Err(DataError::InvalidParameter {
            name: "validation_split",
            actual: fraction.to_string(),
            expected: "a fraction in [0, 1), e.g. 0.1".into(),
        });
    }
    let n_val = (n as f64 * fraction).round() as usize;
    if fraction > 0.0 && (n_val == 0 || n_val == n) {
        return Err(DataError::Empty {
            what: format!("a {fraction} validation split of {n} examples leaves one side empty"),
            hint: "use more examples or another fraction".into(),
        });
    }
    // Three index lists of `n` (the order, then train and validation) live at once.
    soundcheck_io::budget::memory(
        "the example order (3 × examples)",
        &[3, n],
        std::mem::size_of::<usize>(),
    )?;
    let order = shuffled((0..n).collect(), seed);
    let mut val = order[..n_val].to_vec();
    let mut train = order[n_val..].to_vec();
    val.sort_unstable();
    train.sort_unstable();
    Ok((train, val))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shuffles_are_permutations_fixed_by_the_seed() {
        let a = shuffled((0..100).collect::<Vec<_>>(), 7);
        let mut sorted = a.clone();
        sorted.sort_unstable();
        assert_eq!(sorted, (0..100).collect::<Vec<_>>());
        assert_eq!(a, shuffled((0..100).collect(), 7));
        assert_ne!(a, shuffled((0..100).collect(), 8));
        assert_ne!(epoch_order(&a, 1, 0), epoch_order(&a, 1, 1));
    }

    #[test]
    fn splits_are_disjoint_and_sized() {
        let (train, val) = split(103, 0.2, 3).unwrap();
        assert_eq!((train.len(), val.len()), (82, 21));
        assert!(train.iter().all(|i| !val.contains(i)));
        assert!(split(10, 1.0, 0).is_err());
        assert!(split(3, 0.1, 0)
            .unwrap_err()
            .to_string()
            .contains("validation split of 3 examples"));
    }
}
