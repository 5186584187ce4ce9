//! The one rule for sizes a user controls: memory whose amount comes from a flag, a header, a run
//! record or a Python argument is asked of [`memory`] (or [`vec`]) before it is allocated, and
//! space on disk of [`disk`] before a command starts writing. A refusal names what wanted the
//! space and how much, so `--n-mels 1000000` or a `.npy` header claiming 2⁶³ rows is an error
//! with the value in it instead of an abort, a hang or a machine swapping to a halt.
//!
//! The limit is what the machine can give now (Linux's `MemAvailable`) unless
//! `SOUNDCHECK_MEMORY_LIMIT` says otherwise (bytes, or with a K/M/G/T suffix): an allocation past
//! it would abort the process or push the machine into swap, which is worse than a message.

use std::fmt;
use std::path::Path;

/// The variable a user sets to change the memory limit.
pub const MEMORY_LIMIT_VAR: &str = "SOUNDCHECK_MEMORY_LIMIT";

/// Used where the system does not say how much memory is free (not Linux).
const FALLBACK_LIMIT: u64 = 16 << 30;

/// A request for more memory or disk than there is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TooLarge {
    /// What wanted the space, in the caller's words ("the mel filterbank (`n_mels` × bins)").
    pub what: String,
    /// The dimensions asked for.
    pub dims: Vec<u64>,
    /// Bytes asked for; `None` when the count overflows 128 bits.
    pub bytes: Option<u128>,
    /// Bytes there are.
    pub limit: u64,
    /// Where the limit came from.
    pub source: &'static str,
}

impl fmt::Display for TooLarge {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let dims = self
            .dims
            .iter()
            .map(u64::to_string)
            .collect::<Vec<_>>()
            .join(" × ");
        let need = match self.bytes {
            Some(b) => human(b),
            None => "more bytes than can be counted".into(),
        };
        write!(
            f,
            "{} of {dims} would take {need}, more than the {} {}",
            self.what,
            human(self.limit as u128),
            self.source
        )
    }
}

impl std::error::Error for TooLarge {}

/// Bytes in the units people read (binary, one decimal).
pub fn human(bytes: u128) -> String {
    const UNITS: [&str; 6] = ["bytes", "KiB", "MiB", "GiB", "TiB", "PiB"];
    let mut v = bytes as f64;
    let mut unit = 0;
    while v >= 1024.0 && unit + 1 < UNITS.len() {
        v /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} bytes")
    } else {
        format!("{v:.1} {}", UNITS[unit])
    }
}

/// The memory one request may take, and where that number came from.
pub fn memory_limit() -> (u64, &'static str) {
    if let Some(v) = std::env::var(MEMORY_LIMIT_VAR)
        .ok()
        .and_then(|v| parse_size(&v))
    {
        return (v, "limit set by SOUNDCHECK_MEMORY_LIMIT");
    }
    match available_memory() {
        Some(v) => (
            v,
            "memory this machine has available (set SOUNDCHECK_MEMORY_LIMIT to change the limit)",
        ),
        None => (
            FALLBACK_LIMIT,
            "default limit (set SOUNDCHECK_MEMORY_LIMIT to change it)",
        ),
    }
}

/// `1234`, `512M`, `8G`, `1.5T` (binary units) as bytes.
fn parse_size(text: &str) -> Option<u64> {
    let t = text.trim();
    let (num, shift) = match t.chars().last()?.to_ascii_uppercase() {
        'K' => (&t[..t.len() - 1], 10),
        'M' => (&t[..t.len() - 1], 20),
        'G' => (&t[..t.len() - 1], 30),
        'T' => (&t[..t.len() - 1], 40),
        _ => (t, 0),
    };
    let v = num.trim().parse::<f64>().ok()?;
    let bytes = v * (1u64 << shift) as f64;
    (bytes.is_finite() && bytes >= 1.0 && bytes < u64::MAX as f64).then_some(bytes as u64)
}

fn available_memory() -> Option<u64> {
    let info = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = info.lines().find(|l| l.starts_with("MemAvailable:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    kib.checked_mul(1024)
}

/// The element count of `dims` when `dims` values of `elem_bytes` each fit the memory limit.
///
/// `what` names the request in the error, with the argument that sized it in backticks.
pub fn memory(what: &str, dims: &[usize], elem_bytes: usize) -> Result<usize, TooLarge> {
    let count = dims
        .iter()
        .try_fold(1u128, |n, &d| n.checked_mul(d as u128));
    let bytes = count.and_then(|n| n.checked_mul(elem_bytes as u128));
    let (limit, source) = memory_limit();
    match (count, bytes) {
        (Some(n), Some(b)) if b <= limit as u128 => Ok(n as usize),
        _ => Err(TooLarge {
            what: what.to_string(),
            dims: dims.iter().map(|&d| d as u64).collect(),
            bytes,
            limit,
            source,
        }),
    }
}

/// A vector of `dims`' element count, every element `fill`, once [`memory`] allows it.
pub fn vec<T: Clone>(what: &str, dims: &[usize], fill: T) -> Result<Vec<T>, TooLarge> {
    let n = memory(what, dims, std::mem::size_of::<T>())?;
    Ok(vec![fill; n])
}

/// `Ok` when the file system holding `folder` (or its nearest existing ancestor) has `bytes` free.
///
/// Where free space cannot be read, the request is let through: the writes themselves fail
/// cleanly (atomic, never partial) if the disk fills.
pub fn disk(what: &str, folder: &Path, dims: &[usize], elem_bytes: usize) -> Result<(), TooLarge> {
    let bytes = dims
        .iter()
        .try_fold(elem_bytes as u128, |n, &d| n.checked_mul(d as u128));
    let Some(free) = free_space(folder) else {
        return Ok(());
    };
    match bytes {
        Some(b) if b <= free as u128 => Ok(()),
        _ => Err(TooLarge {
            what: what.to_string(),
            dims: dims.iter().map(|&d| d as u64).collect(),
            bytes,
            limit: free,
            source: "free on the disk it would be written to",
        }),
    }
}

#[cfg(unix)]
fn free_space(folder: &Path) -> Option<u64> {
    use std::os::unix::ffi::OsStrExt;
    let existing = folder.ancestors().find(|p| {
        let p = if p.as_os_str().is_empty() {
            Path::new(".")
        } else {
            p
        };
        p.is_dir()
    })?;
    let existing = if existing.as_os_str().is_empty() {
        Path::new(".")
    } else {
        existing
    };
    let c = std::ffi::CString::new(existing.as_os_str().as_bytes()).ok()?;
    let mut st = std::mem::MaybeUninit::<libc::statvfs>::uninit();
    // SAFETY: `c` is a valid NUL-terminated path and `st` is written by statvfs before it is read.
    let rc = unsafe { libc::statvfs(c.as_ptr(), st.as_mut_ptr()) };
    if rc != 0 {
        return None;
    }
    // SAFETY: statvfs returned 0, so it filled `st`.
    let st = unsafe { st.assume_init() };
    // 64-bit here; 32-bit fields on other targets.
    #[allow(clippy::unnecessary_cast)]
    (st.f_bavail as u64).checked_mul(st.f_frsize as u64)
}

#[cfg(not(unix))]
fn free_space(_folder: &Path) -> Option<u64> {
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_parse_in_binary_units() {
        assert_eq!(parse_size("1234"), Some(1234));
        assert_eq!(parse_size("8G"), Some(8 << 30));
        assert_eq!(parse_size("512m"), Some(512 << 20));
        assert_eq!(parse_size("1.5K"), Some(1536));
        assert_eq!(parse_size("-1G"), None);
        assert_eq!(parse_size("NaN"), None);
        assert_eq!(parse_size(""), None);
    }

    #[test]
    fn overflowing_and_huge_requests_are_refused_with_their_dimensions() {
        let e = memory("the test (`n`)", &[usize::MAX, usize::MAX, 4], 8).unwrap_err();
        assert_eq!(e.bytes, None);
        assert!(
            e.to_string().contains("more bytes than can be counted"),
            "{e}"
        );
        let e = memory("the mel filterbank (`n_mels` × bins)", &[1 << 40, 1025], 4).unwrap_err();
        assert_eq!(e.bytes, Some((1u128 << 40) * 1025 * 4));
        assert!(
            e.to_string().starts_with(
                "the mel filterbank (`n_mels` × bins) of 1099511627776 × 1025 would take 4.0 PiB"
            ),
            "{e}"
        );
        assert_eq!(memory("small", &[3, 4], 4), Ok(12));
        assert_eq!(vec("small", &[2, 3], 0u8).unwrap().len(), 6);
    }

    #[test]
    fn disk_requests_past_the_free_space_are_refused() {
        let dir = std::env::temp_dir();
        assert!(disk("nothing", &dir, &[0], 1).is_ok());
        let e = disk(
            "songs (`train`)",
            &dir.join("not/yet"),
            &[1 << 40, 1 << 30],
            1,
        )
        .unwrap_err();
        assert!(e.to_string().contains("free on the disk"), "{e}");
    }
}
