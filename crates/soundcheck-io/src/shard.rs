//! Which part of a job array this process runs: Slurm's and Kubernetes' task indices, or
//! `--shard INDEX/COUNT`, and the inputs that part takes.
//!
//! Every task reads the whole list, sorts it and takes every `count`-th item from position
//! `index`: the same list gives every task the same order whatever it was written in, tasks
//! differ by at most one input, and no input is taken twice or left out
//! (`tools/bench/shard_balance.py` measures this against hashing the paths: BENCHMARKS.md).

use std::fmt;

/// A shard setting or a scheduler variable that cannot be used.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ShardError {
    /// The argument or variable.
    pub name: &'static str,
    /// Its value.
    pub actual: String,
    /// What it can be.
    pub expected: String,
}

impl fmt::Display for ShardError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}={} is invalid: expected {}",
            self.name, self.actual, self.expected
        )
    }
}

impl std::error::Error for ShardError {}

/// One part of a job split `count` ways, `index` from 0.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shard {
    /// This process's part, `0..count`.
    pub index: usize,
    /// How many parts the job has.
    pub count: usize,
}

fn invalid(name: &'static str, actual: impl ToString, expected: &str) -> ShardError {
    ShardError {
        name,
        actual: actual.to_string(),
        expected: expected.into(),
    }
}

impl Shard {
    /// The whole job in one part.
    pub const ALL: Shard = Shard { index: 0, count: 1 };

    /// `INDEX/COUNT`, e.g. `0/4` … `3/4`.
    ///
    /// # Errors
    /// Text of another form, a count of 0, an index not below the count.
    pub fn parse(text: &str) -> Result<Shard, ShardError> {
        let expected = "INDEX/COUNT with 0 ≤ INDEX < COUNT, e.g. 0/4";
        let (i, n) = text
            .split_once('/')
            .ok_or_else(|| invalid("shard", text, expected))?;
        match (i.trim().parse::<usize>(), n.trim().parse::<usize>()) {
            (Ok(index), Ok(count)) if index < count => Ok(Shard { index, count }),
            _ => Err(invalid("shard", text, expected)),
        }
    }

    /// The shard a job array's environment gives this process: Slurm's
    /// `SLURM_ARRAY_TASK_ID` (less `SLURM_ARRAY_TASK_MIN`, so `--array=1-8` works) of
    /// `SLURM_ARRAY_TASK_COUNT`, or Kubernetes' `JOB_COMPLETION_INDEX` of `count` (an Indexed
    /// Job's `completions`, given once in the job's command). `None` outside a job array.
    ///
    /// # Errors
    /// Variables that are not numbers, an index past the count, or a Kubernetes index without
    /// a count.
    pub fn from_env(
        env: impl Fn(&str) -> Option<String>,
        count: Option<usize>,
    ) -> Result<Option<Shard>, ShardError> {
        let number = |name: &'static str| -> Result<Option<usize>, ShardError> {
            env(name)
                .map(|v| {
                    v.trim()
                        .parse::<usize>()
                        .map_err(|_| invalid(name, v, "a whole number, as the scheduler sets it"))
                })
                .transpose()
        };
        let checked = |index: usize, count: usize, name: &'static str| {
            if index < count {
                Ok(Some(Shard { index, count }))
            } else {
                Err(invalid(
                    name,
                    index,
                    &format!("an index below the array's {count} tasks"),
                ))
            }
        };
        if let Some(id) = number("SLURM_ARRAY_TASK_ID")? {
            let min = number("SLURM_ARRAY_TASK_MIN")?.unwrap_or(0);
            let total = match count {
                Some(n) => n,
                None => number("SLURM_ARRAY_TASK_COUNT")?.ok_or_else(|| {
                    invalid(
                        "shards",
                        "unset",
                        "the array's task count (SLURM_ARRAY_TASK_COUNT is not set): give it",
                    )
                })?,
            };
            return checked(id.saturating_sub(min), total, "SLURM_ARRAY_TASK_ID");
        }
        if let Some(index) = number("JOB_COMPLETION_INDEX")? {
            let total = count.ok_or_else(|| {
                invalid(
                    "shards",
                    "unset",
                    "the Indexed Job's completions count, given once in its command",
                )
            })?;
            return checked(index, total, "JOB_COMPLETION_INDEX");
        }
        Ok(None)
    }

    /// This shard's items of `all`: sorted, then every `count`-th from position `index`. The
    /// whole job (one shard) keeps the order it was given.
    pub fn take<T: Ord + Clone>(&self, all: &[T]) -> Vec<T> {
        if self.count == 1 {
            return all.to_vec();
        }
        let mut sorted = all.to_vec();
        sorted.sort();
        sorted
            .into_iter()
            .skip(self.index)
            .step_by(self.count)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::path::PathBuf;

    #[test]
    fn shards_parse_and_come_from_the_schedulers_variables() {
        assert_eq!(Shard::parse("2/4").unwrap(), Shard { index: 2, count: 4 });
        for bad in ["4/4", "1/0", "x/2", "3", "-1/2"] {
            assert!(Shard::parse(bad).is_err(), "{bad}");
        }
        let env = |vars: &'static [(&'static str, &'static str)]| {
            move |k: &str| {
                vars.iter()
                    .find(|(n, _)| *n == k)
                    .map(|(_, v)| v.to_string())
            }
        };
        let slurm = env(&[
            ("SLURM_ARRAY_TASK_ID", "3"),
            ("SLURM_ARRAY_TASK_MIN", "1"),
            ("SLURM_ARRAY_TASK_COUNT", "8"),
        ]);
        assert_eq!(
            Shard::from_env(slurm, None).unwrap(),
            Some(Shard { index: 2, count: 8 })
        );
        let k8s = env(&[("JOB_COMPLETION_INDEX", "5")]);
        assert_eq!(
            Shard::from_env(k8s, Some(6)).unwrap(),
            Some(Shard { index: 5, count: 6 })
        );
        assert!(Shard::from_env(env(&[("JOB_COMPLETION_INDEX", "5")]), None).is_err());
        assert!(Shard::from_env(env(&[("JOB_COMPLETION_INDEX", "6")]), Some(6)).is_err());
        assert_eq!(Shard::from_env(env(&[]), Some(3)).unwrap(), None);
    }

    proptest! {
        #[test]
        fn the_shards_of_a_list_take_every_path_exactly_once_and_differ_by_at_most_one(
            names in prop::collection::hash_set("[a-c]{1,3}/[a-z]{1,4}", 0..60),
            count in 1usize..9,
        ) {
            let all: Vec<PathBuf> = names.iter().map(PathBuf::from).collect();
            let parts: Vec<Vec<PathBuf>> =
                (0..count).map(|index| Shard { index, count }.take(&all)).collect();
            let mut joined: Vec<PathBuf> = parts.concat();
            joined.sort();
            let mut sorted = all.clone();
            sorted.sort();
            prop_assert_eq!(joined, sorted);
            let sizes: Vec<usize> = parts.iter().map(Vec::len).collect();
            prop_assert!(sizes.iter().max().unwrap() - sizes.iter().min().unwrap() <= 1);
            // The list's order does not matter.
            let mut reversed = all.clone();
            reversed.reverse();
            if count > 1 {
                prop_assert_eq!(Shard { index: 0, count }.take(&reversed), parts[0].clone());
            }
        }
    }
}
