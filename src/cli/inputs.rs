//! Finding and reading input files, within bounds: directories are walked once each (a symlink
//! loop is seen and skipped), only regular files are read from them, and no read takes more
//! than [`MAX_SOURCE_BYTES`](crate::MAX_SOURCE_BYTES) + 1 bytes.

use std::collections::HashSet;
use std::fs::{File, Metadata};
use std::io::Read as _;
use std::path::{Path, PathBuf};

use super::io_reason;
use crate::MAX_SOURCE_BYTES;

/// The `.iamx` files a command line names, and the entries passed over on the way.
#[derive(Debug, Default)]
pub struct Inputs {
    /// Files named on the command line and those found under named directories, each
    /// directory's in sorted order; with how each may be read.
    pub files: Vec<(PathBuf, FileKind)>,
    /// Why an entry that looked like an input was not read: one line each, for stderr.
    pub skipped: Vec<String>,
}

/// Every `.iamx` file named or under a named directory, in a stable order.
///
/// A directory reached twice (through a symlink to `.` or to a directory already walked) is
/// walked once; a `*.iamx` entry that is not a regular file (a FIFO, a socket, a device) is
/// skipped, and said so; an entry that cannot be examined, or a directory that cannot be
/// listed, is an error: a project silently missing files would compile to less than it says.
pub fn collect(inputs: &[PathBuf]) -> Result<Inputs, String> {
    let mut found = Inputs::default();
    let mut seen = HashSet::new();
    for input in inputs {
        if input.as_os_str() == "-" {
            if found.files.iter().any(|(_, kind)| *kind == FileKind::Stdin) {
                return Err("`-` (standard input) is given twice".to_string());
            }
            found.files.push((input.clone(), FileKind::Stdin));
            continue;
        }
        let meta = std::fs::metadata(input)
            .map_err(|e| format!("cannot read `{}`: {}", input.display(), io_reason(&e)))?;
        if meta.is_dir() {
            if !seen.insert(DirId::of(input, &meta)) {
                found.skipped.push(format!(
                    "skipping `{}`: this directory is already read",
                    input.display()
                ));
                continue;
            }
            let before = found.files.len();
            walk(input, &mut seen, &mut found)?;
            if found.files.len() == before {
                return Err(format!("no .iamx files in `{}`", input.display()));
            }
        } else {
            // A file named on the command line is read even if it is not a regular file, so
            // that `iamx check <(generate)` works; the read is bounded all the same.
            found.files.push((input.clone(), FileKind::Named));
        }
    }
    Ok(found)
}

fn walk(dir: &Path, seen: &mut HashSet<DirId>, found: &mut Inputs) -> Result<(), String> {
    let entries = std::fs::read_dir(dir).map_err(|e| {
        format!(
            "cannot read directory `{}`: {}",
            dir.display(),
            io_reason(&e)
        )
    })?;
    let mut paths = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| {
            format!(
                "cannot read directory `{}`: {}",
                dir.display(),
                io_reason(&e)
            )
        })?;
        paths.push(entry.path());
    }
    paths.sort();
    for path in paths {
        let hidden = path
            .file_name()
            .and_then(|n| n.to_str())
            .is_some_and(|n| n.starts_with('.'));
        if hidden {
            continue;
        }
        // Follows symlinks: a link to a directory is walked, a link to a file is read.
        let meta = std::fs::metadata(&path)
            .map_err(|e| format!("cannot read `{}`: {}", path.display(), io_reason(&e)))?;
        if meta.is_dir() {
            if seen.insert(DirId::of(&path, &meta)) {
                walk(&path, seen, found)?;
            } else {
                found.skipped.push(format!(
                    "skipping `{}`: it leads to a directory already read",
                    path.display()
                ));
            }
        } else if path.extension().is_some_and(|e| e == "iamx") {
            if meta.is_file() {
                found.files.push((path, FileKind::Regular));
            } else {
                found.skipped.push(format!(
                    "skipping `{}`: {}, not a regular file",
                    path.display(),
                    file_type(&meta)
                ));
            }
        }
    }
    Ok(())
}

/// What identifies a directory however it is reached.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
enum DirId {
    #[cfg(unix)]
    Inode(u64, u64),
    #[allow(dead_code)]
    Path(PathBuf),
}

impl DirId {
    #[cfg(unix)]
    fn of(_path: &Path, meta: &Metadata) -> DirId {
        use std::os::unix::fs::MetadataExt;
        DirId::Inode(meta.dev(), meta.ino())
    }

    #[cfg(not(unix))]
    fn of(path: &Path, _meta: &Metadata) -> DirId {
        DirId::Path(std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf()))
    }
}

/// "a FIFO", "a socket", … for messages.
fn file_type(meta: &Metadata) -> &'static str {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        let t = meta.file_type();
        if t.is_fifo() {
            return "a FIFO";
        }
        if t.is_socket() {
            return "a socket";
        }
        if t.is_char_device() {
            return "a character device";
        }
        if t.is_block_device() {
            return "a block device";
        }
    }
    if meta.is_dir() {
        "a directory"
    } else {
        "a special file"
    }
}

/// Whether only regular files may be read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FileKind {
    /// A file found by walking a directory, or named by an include: regular files only.
    Regular,
    /// A file the user named on the command line: a FIFO or device is read too (bounded).
    Named,
    /// `-` on the command line: standard input (bounded).
    Stdin,
}

/// What a file read from standard input is called in diagnostics.
pub const STDIN_NAME: &str = "<stdin>";

/// What [`read`] found.
#[derive(Debug)]
pub enum Read {
    /// The whole file, at most [`MAX_SOURCE_BYTES`] bytes.
    Bytes(Vec<u8>),
    /// A file larger than that: its size, when known before reading (a regular file's), or
    /// `None` when a stream gave more than `MAX_SOURCE_BYTES` bytes.
    TooLarge(Option<u64>),
}

/// Reads a file, checking its type and size before reading and reading at most
/// `MAX_SOURCE_BYTES + 1` bytes, so that `/dev/zero` or a sparse file of gigabytes costs no
/// more than a file just over the limit. `Err` is a one-line reason.
pub fn read(path: &Path, kind: FileKind) -> Result<Read, String> {
    let why = |e: std::io::Error| format!("cannot read `{}`: {}", path.display(), io_reason(&e));
    if kind == FileKind::Stdin {
        let stdin = std::io::stdin().lock();
        return read_bounded(stdin)
            .map_err(|e| format!("cannot read standard input: {}", io_reason(&e)));
    }
    if kind == FileKind::Regular {
        // Before opening: opening a FIFO would wait for a writer.
        let meta = std::fs::metadata(path).map_err(why)?;
        if !meta.is_file() {
            return Err(format!(
                "cannot read `{}`: it is {}, not a regular file",
                path.display(),
                file_type(&meta)
            ));
        }
    }
    let file = open(path).map_err(why)?;
    let meta = file.metadata().map_err(why)?;
    if meta.is_dir() {
        return Err(format!(
            "cannot read `{}`: it is a directory",
            path.display()
        ));
    }
    if kind == FileKind::Regular && !meta.is_file() {
        return Err(format!(
            "cannot read `{}`: it is {}, not a regular file",
            path.display(),
            file_type(&meta)
        ));
    }
    if meta.is_file() && meta.len() > MAX_SOURCE_BYTES as u64 {
        return Ok(Read::TooLarge(Some(meta.len())));
    }
    read_bounded(file).map_err(why)
}

/// Reads at most `MAX_SOURCE_BYTES + 1` bytes of a stream.
fn read_bounded(file: impl std::io::Read) -> std::io::Result<Read> {
    let mut bytes = Vec::new();
    let mut limited = file.take(MAX_SOURCE_BYTES as u64 + 1);
    let mut buffer = [0u8; 64 * 1024];
    loop {
        match limited.read(&mut buffer) {
            Ok(0) => break,
            Ok(n) => bytes.extend_from_slice(&buffer[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            // A FIFO opened without waiting (see `open`): its writer has not written yet.
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                std::thread::sleep(std::time::Duration::from_millis(5));
            }
            Err(e) => return Err(e),
        }
    }
    if bytes.len() > MAX_SOURCE_BYTES {
        // A stream, or a regular file that grew while it was read.
        Ok(Read::TooLarge(None))
    } else {
        Ok(Read::Bytes(bytes))
    }
}

/// Opens a file for reading. A FIFO is opened without waiting for a writer, where the
/// platform's flag for that is known: with no writer, it reads as empty instead of blocking
/// forever (a FIFO named on the command line, as a shell glob like `iam/*.iamx` can).
fn open(path: &Path) -> std::io::Result<File> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::{FileTypeExt, OpenOptionsExt};
        let fifo = std::fs::metadata(path).is_ok_and(|m| m.file_type().is_fifo());
        if let (true, Some(flag)) = (fifo, O_NONBLOCK) {
            return std::fs::OpenOptions::new()
                .read(true)
                .custom_flags(flag)
                .open(path);
        }
    }
    File::open(path)
}

/// `O_NONBLOCK`, where its value is known (std does not name it).
#[cfg(all(
    target_os = "linux",
    not(any(
        target_arch = "mips",
        target_arch = "mips64",
        target_arch = "sparc",
        target_arch = "sparc64"
    ))
))]
const O_NONBLOCK: Option<i32> = Some(0o4000);
#[cfg(any(
    target_os = "macos",
    target_os = "ios",
    target_os = "freebsd",
    target_os = "openbsd",
    target_os = "netbsd",
    target_os = "dragonfly"
))]
const O_NONBLOCK: Option<i32> = Some(0x4);
#[cfg(all(
    unix,
    not(any(
        all(
            target_os = "linux",
            not(any(
                target_arch = "mips",
                target_arch = "mips64",
                target_arch = "sparc",
                target_arch = "sparc64"
            ))
        ),
        target_os = "macos",
        target_os = "ios",
        target_os = "freebsd",
        target_os = "openbsd",
        target_os = "netbsd",
        target_os = "dragonfly"
    ))
))]
const O_NONBLOCK: Option<i32> = None;
