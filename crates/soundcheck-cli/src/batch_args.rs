//! The flags of batch commands run as job arrays: the input list and the shard, and, for
//! commands that write one output per input, skipping inputs an earlier run completed.

use std::path::{Path, PathBuf};

use clap::Args;
use soundcheck_data::{read_list, DataError, Shard};

#[derive(Args, Clone, Debug, Default)]
pub struct BatchArgs {
    /// Read the inputs from FILE, one path a line (`find data -name '*.wav' > list.txt`);
    /// outputs mirror each path under the output folder
    #[arg(long, value_name = "FILE")]
    pub files_from: Option<PathBuf>,
    #[command(flatten)]
    pub shard: ShardArgs,
}

/// Which part of a job array's inputs this process takes.
#[derive(Args, Clone, Debug, Default)]
pub struct ShardArgs {
    /// Take part INDEX of COUNT (0-based, e.g. 3/8) of the sorted inputs; default: from
    /// SLURM_ARRAY_TASK_ID/SLURM_ARRAY_TASK_COUNT or JOB_COMPLETION_INDEX with --shards
    #[arg(long, value_name = "INDEX/COUNT")]
    pub shard: Option<String>,
    /// The number of shards, for a Kubernetes Indexed Job (its `completions`)
    #[arg(long, value_name = "COUNT")]
    pub shards: Option<usize>,
}

/// The flag of batch commands that write one output per input.
#[derive(Args, Clone, Debug, Default)]
pub struct SkipArgs {
    /// Leave inputs whose output exists (complete: outputs are written atomically), so a
    /// rerun of a failed shard finishes it
    #[arg(long)]
    pub skip_existing: bool,
}

impl SkipArgs {
    /// Whether `output` is left because an earlier run completed it.
    pub fn done(&self, output: &Path) -> bool {
        self.skip_existing && output.is_file()
    }
}

/// A batch's inputs: every input of the job, and this process's part of them.
pub struct Inputs {
    /// The shard this process runs.
    pub shard: Shard,
    /// Its inputs, sorted.
    pub mine: Vec<PathBuf>,
    /// Whether the inputs came from `--files-from` (their outputs mirror their paths).
    pub listed: bool,
}

impl ShardArgs {
    /// The shard: `--shard`, else the scheduler's variables, else the whole job.
    pub fn shard(&self) -> Result<Shard, DataError> {
        if self.shards == Some(0) {
            return Err(DataError::InvalidParameter {
                name: "shards",
                actual: "0".into(),
                expected: "a positive number of shards".into(),
            });
        }
        if let Some(text) = &self.shard {
            let shard = Shard::parse(text)?;
            if self.shards.is_some_and(|n| n != shard.count) {
                return Err(DataError::InvalidParameter {
                    name: "shards",
                    actual: format!("{:?} with --shard {text}", self.shards.unwrap_or(0)),
                    expected: "the count of --shard, or no --shards".into(),
                });
            }
            return Ok(shard);
        }
        Ok(Shard::from_env(|k| std::env::var(k).ok(), self.shards)?.unwrap_or(Shard::ALL))
    }
}

impl BatchArgs {
    /// The job's inputs (`positional`, or the list of `--files-from`) and this shard's part.
    pub fn inputs(&self, positional: &[PathBuf]) -> Result<Inputs, DataError> {
        let shard = self.shard.shard()?;
        let all = match &self.files_from {
            Some(list) => read_list(list)?,
            None => positional.to_vec(),
        };
        Ok(Inputs {
            shard,
            mine: shard.take(&all),
            listed: self.files_from.is_some(),
        })
    }
}

/// A shard as `--json` reports it.
#[derive(serde::Serialize)]
pub struct ShardRecord {
    pub index: usize,
    pub count: usize,
}

impl From<Shard> for ShardRecord {
    fn from(s: Shard) -> ShardRecord {
        ShardRecord {
            index: s.index,
            count: s.count,
        }
    }
}
