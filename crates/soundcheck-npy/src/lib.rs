//! The `.npy` and `.npz` formats (numpy's `np.save`, `np.savez`): read arrays and headers, and
//! write arrays numpy loads, atomically.

#![warn(missing_docs)]

use std::io::{Read, Seek};
use std::path::{Path, PathBuf};

mod npz;

pub use npz::{read_npz, write_npz};
/// A `.npy` problem, naming the file: what was found, what to do, and the io error behind it
/// when there is one (its kind kept).
#[derive(Debug, thiserror::Error)]
#[error("{}: {actual} ({hint})", path.display())]
pub struct NpyError {
    /// The file.
    pub path: PathBuf,
    /// What was found.
    pub actual: String,
    /// What to do about it.
    pub hint: &'static str,
    /// The io error behind it, when there is one.
    #[source]
    pub source: Option<std::io::Error>,
}

/// The shape and element type of a `.npy` file, from its header.
#[derive(Debug, PartialEq)]
pub struct Header {
    /// The array's shape, batch axis first.
    pub shape: Vec<usize>,
    /// numpy's type string, e.g. `<f4`, `<c8`, `<i8`.
    pub descr: String,
}

impl Header {
    /// Whether the array holds integers or booleans.
    pub fn is_integer(&self) -> bool {
        let kind = self.descr.trim_start_matches(['<', '>', '|', '=']);
        kind.starts_with('i') || kind.starts_with('u')
    }
}

/// Reads only the header of a `.npy` file.
pub fn read_header(path: &Path) -> Result<Header, NpyError> {
    read_header_from(path, &mut open(path)?).map(|(h, _)| h)
}

fn open(path: &Path) -> Result<std::fs::File, NpyError> {
    std::fs::File::open(path).map_err(|e| NpyError {
        path: path.to_path_buf(),
        actual: format!("cannot open ({e})"),
        hint: "check the path",
        source: Some(e),
    })
}

/// A whole array read as f32: floats, integers and booleans as their values, complex numbers as
/// interleaved (re, im).
#[derive(Debug, PartialEq)]
pub struct Array {
    /// The array's shape.
    pub shape: Vec<usize>,
    /// The file held complex numbers (stored as interleaved re, im).
    pub complex: bool,
    /// The file held integers (or booleans): class labels, token ids.
    pub integer: bool,
    /// The values in C order.
    pub data: Vec<f32>,
}

/// Reads a C-ordered float or complex `.npy` array.
pub fn read(path: &Path) -> Result<Array, NpyError> {
    decode(path, &mut open(path)?)
}

/// The array in `f` (a `.npy` file's bytes from its start); `path` names it in errors (a file,
/// or an `.npz` member as `x.npz:audio`).
pub(crate) fn decode(path: &Path, f: &mut impl Read) -> Result<Array, NpyError> {
    let bad = |actual: String| NpyError {
        path: path.to_path_buf(),
        actual,
        source: None,
        hint:
            "expected a C-ordered float32/float64/complex64/complex128 array saved with numpy.save",
    };
    let (header, fortran) = read_header_from(path, f)?;
    if fortran {
        return Err(bad("the array is Fortran-ordered".into()));
    }
    type Decode = fn(&[u8]) -> f32;
    let (width, complex, integer, decode): (usize, bool, bool, Decode) = match header.descr.as_str()
    {
        "<f4" => (4, false, false, |b| {
            f32::from_le_bytes(b.try_into().expect("4 bytes"))
        }),
        "<f8" => (8, false, false, |b| {
            f64::from_le_bytes(b.try_into().expect("8 bytes")) as f32
        }),
        "<c8" => (4, true, false, |b| {
            f32::from_le_bytes(b.try_into().expect("4 bytes"))
        }),
        "<c16" => (8, true, false, |b| {
            f64::from_le_bytes(b.try_into().expect("8 bytes")) as f32
        }),
        "|b1" | "|u1" => (1, false, true, |b| b[0] as f32),
        "|i1" => (1, false, true, |b| b[0] as i8 as f32),
        "<i2" => (2, false, true, |b| {
            i16::from_le_bytes(b.try_into().expect("2 bytes")) as f32
        }),
        "<u2" => (2, false, true, |b| {
            u16::from_le_bytes(b.try_into().expect("2 bytes")) as f32
        }),
        "<i4" => (4, false, true, |b| {
            i32::from_le_bytes(b.try_into().expect("4 bytes")) as f32
        }),
        "<u4" => (4, false, true, |b| {
            u32::from_le_bytes(b.try_into().expect("4 bytes")) as f32
        }),
        "<i8" => (8, false, true, |b| {
            i64::from_le_bytes(b.try_into().expect("8 bytes")) as f32
        }),
        "<u8" => (8, false, true, |b| {
            u64::from_le_bytes(b.try_into().expect("8 bytes")) as f32
        }),
        other => return Err(bad(format!("unsupported element type '{other}'"))),
    };
    let count = header
        .shape
        .iter()
        .try_fold(if complex { 2usize } else { 1 }, |n, &d| n.checked_mul(d))
        .and_then(|n| n.checked_mul(width))
        .ok_or_else(|| bad(format!("the shape {:?} is too large", header.shape)))?
        / width;
    // Never more than the header's size is read: a compressed `.npz` member that inflates past
    // it is damaged, and is refused below without holding the rest in memory.
    let mut bytes = Vec::new();
    f.take(count as u64 * width as u64 + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| bad(format!("cannot read the data ({e})")))?;
    if bytes.len() != count * width {
        return Err(bad(format!(
            "{} data bytes for shape {:?}, expected {}: the file is truncated or damaged",
            bytes.len(),
            header.shape,
            count * width
        )));
    }
    let data = bytes.chunks_exact(width).map(decode).collect();
    Ok(Array {
        shape: header.shape,
        complex,
        integer,
        data,
    })
}

/// The header and whether the data is Fortran-ordered; leaves `f` at the start of the data.
fn read_header_from(path: &Path, f: &mut impl Read) -> Result<(Header, bool), NpyError> {
    let bad = |actual: String| NpyError {
        path: path.to_path_buf(),
        actual,
        source: None,
        hint: "expected a .npy file written by numpy.save",
    };
    let mut pre = [0u8; 10];
    f.read_exact(&mut pre)
        .map_err(|_| bad("too short to be a .npy file".into()))?;
    if &pre[..6] != b"\x93NUMPY" {
        return Err(bad("not a .npy file (no \\x93NUMPY magic)".into()));
    }
    let len = match pre[6] {
        1 => u16::from_le_bytes([pre[8], pre[9]]) as usize,
        2 | 3 => {
            let mut more = [0u8; 2];
            f.read_exact(&mut more)
                .map_err(|_| bad("truncated header".into()))?;
            u32::from_le_bytes([pre[8], pre[9], more[0], more[1]]) as usize
        }
        v => return Err(bad(format!("unsupported .npy version {v}"))),
    };
    if len > 1 << 20 {
        return Err(bad("header length is implausible".into()));
    }
    let mut header = vec![0u8; len];
    f.read_exact(&mut header)
        .map_err(|_| bad("truncated header".into()))?;
    let header = String::from_utf8_lossy(&header);
    let field = |key: &str| -> Option<String> {
        let at = header.find(&format!("'{key}'"))? + key.len() + 2;
        let rest = header[at..].trim_start().strip_prefix(':')?.trim_start();
        Some(rest.to_string())
    };
    let descr = field("descr")
        .and_then(|r| {
            r.strip_prefix('\'')
                .and_then(|r| r.split('\'').next())
                .map(str::to_string)
        })
        .ok_or_else(|| bad("header has no 'descr'".into()))?;
    let shape_text = field("shape")
        .and_then(|r| {
            r.strip_prefix('(')
                .and_then(|r| r.split(')').next())
                .map(str::to_string)
        })
        .ok_or_else(|| bad("header has no 'shape'".into()))?;
    let shape = shape_text
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| s.trim_end_matches('L').parse::<usize>())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|_| bad("header shape is not a tuple of integers".into()))?;
    // Every later size (bytes to read, a row of the trailing axes, buffers) is a product of
    // some of the axes: one that overflows, even at the widest element type, is damage, refused
    // before anything is sized. A zero axis does not excuse the others (0 × 2⁶³ × 2⁶³ would make
    // rows of 2¹²⁶ values).
    if shape
        .iter()
        .try_fold(16u64, |n, &d| n.checked_mul(d.max(1) as u64))
        .is_none()
    {
        return Err(bad(format!(
            "header shape {shape:?} has more elements than any file can hold"
        )));
    }
    let fortran = field("fortran_order").is_some_and(|r| r.starts_with("True"));
    Ok((Header { shape, descr }, fortran))
}

/// Random access to the rows (leading axis) of a C-ordered little-endian float32 `.npy` file:
/// a dataset larger than memory is read a few rows at a time, from any thread.
#[derive(Debug)]
pub struct RowReader {
    path: PathBuf,
    file: std::fs::File,
    shape: Vec<usize>,
    /// Where the data starts, after the header.
    offset: u64,
}

impl RowReader {
    /// Opens `path`, checking that it holds C-ordered `<f4` data of exactly its shape's size.
    pub fn open(path: &Path) -> Result<RowReader, NpyError> {
        let bad = |actual: String| NpyError {
            path: path.to_path_buf(),
            actual,
            source: None,
            hint: "expected a C-ordered float32 array saved with numpy.save",
        };
        let mut file = open(path)?;
        let (header, fortran) = read_header_from(path, &mut file)?;
        if fortran || header.descr != "<f4" || header.shape.is_empty() {
            return Err(bad(format!(
                "a {}{} array of shape {:?}, not C-ordered <f4 with at least one axis",
                if fortran { "Fortran-ordered " } else { "" },
                header.descr,
                header.shape
            )));
        }
        let offset = file
            .stream_position()
            .map_err(|e| bad(format!("cannot read ({e})")))?;
        let size = file
            .metadata()
            .map_err(|e| bad(format!("cannot read ({e})")))?
            .len();
        let want = header.shape.iter().product::<usize>() as u64 * 4;
        if size != offset + want {
            return Err(bad(format!(
                "{} data bytes for shape {:?}, expected {want}: the file is truncated or damaged",
                size.saturating_sub(offset),
                header.shape
            )));
        }
        Ok(RowReader {
            path: path.to_path_buf(),
            file,
            shape: header.shape,
            offset,
        })
    }

    /// The array's shape.
    pub fn shape(&self) -> &[usize] {
        &self.shape
    }

    /// Fills `out` with rows `start..`, as many as it holds (a whole number of rows, all inside
    /// the array).
    pub fn read_rows(&self, start: usize, out: &mut [f32]) -> Result<(), NpyError> {
        let row: usize = self.shape[1..].iter().product();
        let rows = out.len().checked_div(row).unwrap_or(0);
        if out.len() != rows * row || start + rows > self.shape[0] {
            return Err(NpyError {
                path: self.path.clone(),
                source: None,
                actual: format!(
                    "rows {start}..{} of {} asked for (buffer of {} values, rows of {row})",
                    start + rows,
                    self.shape[0],
                    out.len()
                ),
                hint: "read whole rows inside the array",
            });
        }
        let mut bytes = vec![0u8; out.len() * 4];
        read_exact_at(
            &self.file,
            &mut bytes,
            self.offset + (start * row * 4) as u64,
        )
        .map_err(|e| NpyError {
            path: self.path.clone(),
            actual: format!("cannot read rows {start}..{} ({e})", start + rows),
            hint: "the file changed or was removed while in use",
            source: Some(e),
        })?;
        for (v, b) in out.iter_mut().zip(bytes.chunks_exact(4)) {
            *v = f32::from_le_bytes(b.try_into().expect("4 bytes"));
        }
        Ok(())
    }
}

/// A positioned read that leaves the file's cursor alone, so threads can share one handle.
#[cfg(unix)]
fn read_exact_at(f: &std::fs::File, buf: &mut [u8], at: u64) -> std::io::Result<()> {
    std::os::unix::fs::FileExt::read_exact_at(f, buf, at)
}

#[cfg(windows)]
fn read_exact_at(f: &std::fs::File, mut buf: &mut [u8], mut at: u64) -> std::io::Result<()> {
    while !buf.is_empty() {
        match std::os::windows::fs::FileExt::seek_read(f, buf, at)? {
            0 => return Err(std::io::ErrorKind::UnexpectedEof.into()),
            n => {
                buf = &mut buf[n..];
                at += n as u64;
            }
        }
    }
    Ok(())
}

/// Element types soundcheck writes.
pub trait Element: Copy {
    /// numpy's type string.
    const DESCR: &'static str;
    /// Appends the value's little-endian bytes.
    fn write_le(&self, out: &mut Vec<u8>);
}

impl Element for f32 {
    const DESCR: &'static str = "<f4";
    fn write_le(&self, out: &mut Vec<u8>) {
        out.extend(self.to_le_bytes());
    }
}

impl Element for i64 {
    const DESCR: &'static str = "<i8";
    fn write_le(&self, out: &mut Vec<u8>) {
        out.extend(self.to_le_bytes());
    }
}

/// complex64: (re, im) as two little-endian f32.
impl Element for [f32; 2] {
    const DESCR: &'static str = "<c8";
    fn write_le(&self, out: &mut Vec<u8>) {
        out.extend(self[0].to_le_bytes());
        out.extend(self[1].to_le_bytes());
    }
}

/// The bytes of a version-1.0 `.npy` file holding `data` (C order) with `shape`.
pub fn to_bytes<T: Element>(shape: &[usize], data: &[T]) -> Vec<u8> {
    assert_eq!(
        shape.iter().product::<usize>(),
        data.len(),
        "shape and data length agree"
    );
    let dims: Vec<String> = shape.iter().map(|d| d.to_string()).collect();
    let tuple = match dims.len() {
        1 => format!("({},)", dims[0]),
        _ => format!("({})", dims.join(", ")),
    };
    let mut header = format!(
        "{{'descr': '{}', 'fortran_order': False, 'shape': {tuple}, }}",
        T::DESCR
    );
    // numpy pads the header with spaces so the data starts on a 64-byte boundary.
    while (10 + header.len() + 1) % 64 != 0 {
        header.push(' ');
    }
    header.push('\n');
    let mut out = Vec::with_capacity(10 + header.len() + data.len() * 8);
    out.extend(b"\x93NUMPY\x01\x00");
    out.extend((header.len() as u16).to_le_bytes());
    out.extend(header.as_bytes());
    for x in data {
        x.write_le(&mut out);
    }
    out
}

/// Writes an array as `.npy`, atomically.
pub fn write<T: Element>(path: &Path, shape: &[usize], data: &[T]) -> Result<(), NpyError> {
    soundcheck_io::write_atomic(path, &to_bytes(shape, data)).map_err(|e| NpyError {
        path: path.to_path_buf(),
        actual: format!("cannot write ({e})"),
        hint: "check that the folder exists and is writable",
        source: Some(e),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn written_headers_read_back() {
        let dir = std::env::temp_dir().join(format!("sc-npy-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let p = dir.join("x.npy");
        write(&p, &[2, 3], &[1f32, 2., 3., 4., 5., 6.]).unwrap();
        let bytes = std::fs::read(&p).unwrap();
        assert_eq!(
            bytes.len() % 64,
            24,
            "header padded to 64 bytes, then 24 data bytes"
        );
        assert_eq!(
            read_header(&p).unwrap(),
            Header {
                shape: vec![2, 3],
                descr: "<f4".into()
            }
        );
        write(&p, &[4], &[1i64, 2, 3, 4]).unwrap();
        assert!(read_header(&p).unwrap().is_integer());
        write(&p, &[2], &[[1f32, -1.0], [0.5, 2.0]]).unwrap();
        let a = read(&p).unwrap();
        assert!(a.complex && a.shape == vec![2] && a.data == vec![1.0, -1.0, 0.5, 2.0]);
        write(&p, &[3], &[7i64, -2, 9]).unwrap();
        let a = read(&p).unwrap();
        assert!(a.integer && a.data == vec![7.0, -2.0, 9.0]);
        let mut bytes = std::fs::read(&p).unwrap();
        bytes.truncate(bytes.len() - 4);
        std::fs::write(&p, bytes).unwrap();
        assert!(read(&p).unwrap_err().actual.contains("truncated"));
        std::fs::write(&p, b"\x93NUMPY").unwrap();
        assert!(read_header(&p).unwrap_err().actual.contains("too short"));
    }

    #[test]
    fn rows_are_read_in_place_and_bad_files_named() {
        let dir = std::env::temp_dir().join(format!("sc-npy-rows-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let p = dir.join("r.npy");
        let data: Vec<f32> = (0..12).map(|v| v as f32).collect();
        write(&p, &[4, 3], &data).unwrap();
        let r = RowReader::open(&p).unwrap();
        assert_eq!(r.shape(), &[4, 3]);
        let mut out = [0f32; 6];
        r.read_rows(2, &mut out).unwrap();
        assert_eq!(out, [6., 7., 8., 9., 10., 11.]);
        let e = r.read_rows(3, &mut out).unwrap_err();
        assert!(e.actual.contains("rows 3..5 of 4"), "{e}");
        let bytes = std::fs::read(&p).unwrap();
        std::fs::write(&p, &bytes[..bytes.len() - 4]).unwrap();
        let e = RowReader::open(&p).unwrap_err();
        assert!(e.actual.contains("truncated"), "{e}");
        write(&p, &[2], &[1i64, 2]).unwrap();
        assert!(RowReader::open(&p).unwrap_err().actual.contains("<i8"));
    }
}
