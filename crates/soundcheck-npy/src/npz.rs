//! The `.npz` format (numpy's `np.savez` and `np.savez_compressed`): a zip archive of `.npy`
//! files, one per named array.

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::{decode, to_bytes, Array, NpyError};

/// More members than any dataset has inputs: a damaged or hostile archive is refused before its
/// directory is walked.
const MAX_MEMBERS: usize = 1024;

/// Reads every array of an `.npz` file, by name (the keyword given to `np.savez`), in archive
/// order.
///
/// Memory: a member is read up to its header's size and no further; deflate inflates at most
/// about 1000×, so a hostile archive costs at most that multiple of its own size.
///
/// # Errors
/// The file is not a zip archive, a member is not a `.npy` file or is damaged (named as
/// `x.npz:name`), two members share a name, or the archive holds no arrays.
pub fn read_npz(path: &Path) -> Result<Vec<(String, Array)>, NpyError> {
    let bad = |actual: String, source: Option<std::io::Error>| NpyError {
        path: path.to_path_buf(),
        actual,
        hint: "expected an archive written by numpy.savez or numpy.savez_compressed",
        source,
    };
    let file = std::fs::File::open(path).map_err(|e| NpyError {
        path: path.to_path_buf(),
        actual: format!("cannot open ({e})"),
        hint: "check the path",
        source: Some(e),
    })?;
    let mut zip = zip::ZipArchive::new(file)
        .map_err(|e| bad(format!("not a readable .npz archive ({e})"), None))?;
    if zip.len() > MAX_MEMBERS {
        return Err(bad(
            format!("{} members (at most {MAX_MEMBERS})", zip.len()),
            None,
        ));
    }
    let mut arrays: Vec<(String, Array)> = Vec::with_capacity(zip.len());
    for i in 0..zip.len() {
        let mut entry = zip
            .by_index(i)
            .map_err(|e| bad(format!("member {i} is unreadable ({e})"), None))?;
        if entry.is_dir() {
            continue;
        }
        let Some(name) = entry.name().strip_suffix(".npy").map(str::to_string) else {
            return Err(bad(
                format!("member '{}' is not a .npy file", entry.name()),
                None,
            ));
        };
        if arrays.iter().any(|(n, _)| *n == name) {
            return Err(bad(format!("two members are named '{name}'"), None));
        }
        let member = PathBuf::from(format!("{}:{name}", path.display()));
        let array = decode(&member, &mut entry)?;
        arrays.push((name, array));
    }
    if arrays.is_empty() {
        return Err(bad("the archive holds no arrays".into(), None));
    }
    Ok(arrays)
}

/// Writes named float32 arrays as an uncompressed `.npz` (what `np.savez` writes), atomically:
/// `np.load(path)[name]` gives each array back.
pub fn write_npz(path: &Path, arrays: &[(&str, &[usize], &[f32])]) -> Result<(), NpyError> {
    let failed = |e: std::io::Error| NpyError {
        path: path.to_path_buf(),
        actual: format!("cannot write ({e})"),
        hint: "check that the folder exists and is writable",
        source: Some(e),
    };
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let stored =
        zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    for (name, shape, data) in arrays {
        zip.start_file(format!("{name}.npy"), stored)
            .map_err(|e| failed(e.into()))?;
        zip.write_all(&to_bytes(shape, data)).map_err(failed)?;
    }
    let bytes = zip.finish().map_err(|e| failed(e.into()))?.into_inner();
    soundcheck_io::write_atomic(path, &bytes).map_err(failed)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn archive(dir: &Path, members: &[(&str, Vec<u8>)], compressed: bool) -> PathBuf {
        let p = dir.join(format!("a{}.npz", members.len()));
        let mut z = zip::ZipWriter::new(std::fs::File::create(&p).unwrap());
        let method = if compressed {
            zip::CompressionMethod::Deflated
        } else {
            zip::CompressionMethod::Stored
        };
        let opts = zip::write::SimpleFileOptions::default().compression_method(method);
        for (name, bytes) in members {
            z.start_file(*name, opts).unwrap();
            z.write_all(bytes).unwrap();
        }
        z.finish().unwrap();
        p
    }

    #[test]
    fn arrays_are_read_by_name_and_damage_is_named() {
        let dir = std::env::temp_dir().join(format!("sc-npz-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let a = crate::to_bytes(&[2, 2], &[1f32, 2., 3., 4.]);
        let b = crate::to_bytes(&[3], &[7i64, 8, 9]);
        for compressed in [false, true] {
            let p = archive(
                &dir,
                &[("audio.npy", a.clone()), ("meta.npy", b.clone())],
                compressed,
            );
            let got = read_npz(&p).unwrap();
            assert_eq!(got[0].0, "audio");
            assert_eq!(got[0].1.shape, vec![2, 2]);
            assert_eq!(got[1].0, "meta");
            assert!(got[1].1.integer && got[1].1.data == vec![7., 8., 9.]);
        }
        let p = archive(&dir, &[("audio.npy", a[..a.len() - 4].to_vec())], true);
        let e = read_npz(&p).unwrap_err();
        assert!(e.path.to_string_lossy().ends_with(":audio"), "{e}");
        assert!(e.actual.contains("truncated"), "{e}");
        let p = archive(&dir, &[("notes.txt", b"hi".to_vec())], false);
        assert!(read_npz(&p).unwrap_err().actual.contains("not a .npy"));
        let p = dir.join("plain.npz");
        std::fs::write(&p, &a).unwrap();
        assert!(read_npz(&p).unwrap_err().actual.contains("not a readable"));
        write_npz(
            &p,
            &[("genre", &[1, 2], &[0.25, 0.75]), ("tempo", &[1], &[120.0])],
        )
        .unwrap();
        let back = read_npz(&p).unwrap();
        assert_eq!(
            (back[0].0.as_str(), back[0].1.data.as_slice()),
            ("genre", &[0.25, 0.75][..])
        );
        assert_eq!(
            (back[1].0.as_str(), back[1].1.shape.as_slice()),
            ("tempo", &[1][..])
        );
    }
}
