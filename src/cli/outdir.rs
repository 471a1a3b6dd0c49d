//! The output directory of `iamx build -o DIR`: whose it is, how it is compared, how it is replaced.
//!
//! - **Ownership.** iamx writes a marker file, [`MARKER`], into every output directory, and
//!   replaces only a directory that is empty, holds that marker, or has the exact shape of an
//!   output written before markers existed. Anything else is refused, untouched.
//! - **Comparison** (the up-to-date test and `--check`) never follows a symbolic link and never
//!   opens anything but a regular file, and reads no more of a file than the bytes it expects.
//! - **Replacement.** The new tree is written into a sibling staging directory, then exchanged
//!   with the old one in one atomic step (`renameat2(RENAME_EXCHANGE)` on Linux), so `DIR` always
//!   exists and always holds a complete build. Builds of one `DIR` serialise on a lock file
//!   beside it; staging and old trees left by killed builds are removed by the next build.

use std::collections::BTreeMap;
use std::fs::{self, File};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

use super::io_reason;
use crate::emit::Artifact;

/// The marker iamx writes into every output directory; its first line says whose it is.
pub const MARKER: &str = ".iamx-output";

/// The first line of [`MARKER`], followed by the format number.
const MARKER_LINE: &str = "iamx output directory, format ";

/// The format of the output directory: its layout and the manifest's fields.
const FORMAT: u32 = 1;

/// The most a marker file may hold, and the most of a legacy `manifest.json` iamx reads to
/// recognise it.
const MARKER_MAX: u64 = 4096;
const LEGACY_MANIFEST_MAX: u64 = 256 << 20;

/// The contents of the marker file.
pub fn marker() -> Artifact {
    Artifact {
        path: MARKER.to_string(),
        contents: format!(
            "{MARKER_LINE}{FORMAT}\n\
             Written by `iamx build`, which replaces this directory whole: do not keep other files here.\n"
        ),
    }
}

/// What a path under the output directory is, when it is not a regular file.
fn special_kind(file_type: &fs::FileType) -> Option<&'static str> {
    if file_type.is_file() {
        return None;
    }
    if file_type.is_dir() {
        return Some("a directory");
    }
    if file_type.is_symlink() {
        return Some("a symbolic link");
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if file_type.is_fifo() {
            return Some("a named pipe");
        }
        if file_type.is_socket() {
            return Some("a socket");
        }
        if file_type.is_block_device() || file_type.is_char_device() {
            return Some("a device");
        }
    }
    Some("not a regular file")
}

/// Opens a regular file without following a symbolic link and without blocking on a FIFO, and
/// checks what it opened: `Ok(None)` when it is not a regular file. Nothing else is opened (the
/// opening of some devices does something), unless it replaces the file in between.
fn open_regular(path: &Path) -> io::Result<Option<(File, u64)>> {
    if !fs::symlink_metadata(path)?.file_type().is_file() {
        return Ok(None);
    }
    let mut options = fs::OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK);
    }
    let file = match options.open(path) {
        Ok(file) => file,
        // `O_NOFOLLOW` on a symbolic link.
        #[cfg(unix)]
        Err(e) if e.raw_os_error() == Some(libc::ELOOP) => return Ok(None),
        Err(e) => return Err(e),
    };
    let meta = file.metadata()?;
    if !meta.file_type().is_file() {
        return Ok(None);
    }
    Ok(Some((file, meta.len())))
}

/// Reads at most `max` bytes of a regular file; `Ok(None)` when it is not one, or is longer.
fn read_bounded(path: &Path, max: u64) -> io::Result<Option<Vec<u8>>> {
    let Some((file, len)) = open_regular(path)? else {
        return Ok(None);
    };
    if len > max {
        return Ok(None);
    }
    let mut bytes = Vec::with_capacity(len as usize);
    file.take(max + 1).read_to_end(&mut bytes)?;
    Ok((bytes.len() as u64 <= max).then_some(bytes))
}

/// How one file on disk compares with what a build would write.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Difference {
    Missing,
    Differs,
    /// Where a file is expected, something else: a symbolic link, a FIFO, a directory…
    NotAFile(&'static str),
    Extra,
    ExtraSpecial(&'static str),
}

impl Difference {
    /// One line of `--check`'s report.
    pub fn line(&self, path: &str) -> String {
        match self {
            Difference::Missing => format!("missing: {path}"),
            Difference::Differs => format!("differs: {path}"),
            Difference::NotAFile(kind) => format!("differs: {path} ({kind}, not a file)"),
            Difference::Extra => format!("extra:   {path}"),
            Difference::ExtraSpecial(kind) => format!("extra:   {path} ({kind})"),
        }
    }
}

/// Compares `dir` with the artifacts, without following symbolic links or opening anything but
/// regular files, and reading at most the expected length of each expected file (plus one byte).
/// With `first_only`, stops at the first difference. A missing `dir` misses every file.
pub fn compare(
    dir: &Path,
    artifacts: &[Artifact],
    first_only: bool,
) -> Result<Vec<(String, Difference)>, String> {
    let mut expected: BTreeMap<&str, &[u8]> = artifacts
        .iter()
        .map(|a| (a.path.as_str(), a.contents.as_bytes()))
        .collect();
    let mut found = Vec::new();
    let cannot =
        |path: &Path, e: &io::Error| format!("cannot read `{}`: {}", path.display(), io_reason(e));
    match fs::symlink_metadata(dir) {
        Ok(meta) if meta.is_dir() => {}
        Ok(meta) => {
            let kind = special_kind(&meta.file_type()).unwrap_or("a file");
            return Err(format!("`{}` is {kind}, not a directory", dir.display()));
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            return Ok(expected
                .into_keys()
                .map(|p| (p.to_string(), Difference::Missing))
                .collect());
        }
        Err(e) => return Err(cannot(dir, &e)),
    }
    // Depth first, without recursion: a deep tree cannot exhaust the stack, and directories are
    // entered only when they are directories themselves, not links to one, so there is no loop.
    let mut stack = vec![(dir.to_path_buf(), String::new())];
    while let Some((path, rel)) = stack.pop() {
        let mut entries: Vec<(String, PathBuf, fs::FileType)> = Vec::new();
        for entry in fs::read_dir(&path).map_err(|e| cannot(&path, &e))? {
            let entry = entry.map_err(|e| cannot(&path, &e))?;
            let file_type = entry.file_type().map_err(|e| cannot(&entry.path(), &e))?;
            let name = entry.file_name().to_string_lossy().into_owned();
            let rel = if rel.is_empty() {
                name
            } else {
                format!("{rel}/{name}")
            };
            entries.push((rel, entry.path(), file_type));
        }
        entries.sort_by(|a, b| a.0.cmp(&b.0));
        for (rel, path, file_type) in entries.into_iter().rev() {
            if file_type.is_dir() {
                stack.push((path, rel));
                continue;
            }
            let difference = match (expected.remove(rel.as_str()), special_kind(&file_type)) {
                (None, None) => Some(Difference::Extra),
                (None, Some(kind)) => Some(Difference::ExtraSpecial(kind)),
                (Some(_), Some(kind)) => Some(Difference::NotAFile(kind)),
                (Some(want), None) => match read_bounded(&path, want.len() as u64) {
                    Ok(Some(bytes)) if bytes == want => None,
                    Ok(Some(_)) => Some(Difference::Differs),
                    // Longer than expected, or replaced by something else since it was listed.
                    Ok(None) => Some(Difference::Differs),
                    Err(e) => return Err(cannot(&path, &e)),
                },
            };
            if let Some(difference) = difference {
                found.push((rel, difference));
                if first_only {
                    return Ok(found);
                }
            }
        }
    }
    found.extend(
        expected
            .into_keys()
            .map(|p| (p.to_string(), Difference::Missing)),
    );
    found.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(found)
}

/// Whether `dir` is iamx's to replace: missing, empty, marked, or an unmarked output of an
/// iamx from before markers. `Err` says why not, and what to do, on a `help:` line.
pub fn owned(dir: &Path) -> Result<(), String> {
    let meta = match fs::symlink_metadata(dir) {
        Ok(meta) => meta,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
        Err(e) => {
            return Err(format!(
                "cannot read `{}`: {}",
                dir.display(),
                io_reason(&e)
            ))
        }
    };
    if meta.file_type().is_symlink() {
        return Err(format!(
            "`{}` is a symbolic link, not a directory\n  help: give the directory it points to; iamx replaces its output directory whole, and would replace the link",
            dir.display()
        ));
    }
    if !meta.is_dir() {
        return Err(format!(
            "`{}` exists and is not a directory\n  help: give `-o` a new or empty directory",
            dir.display()
        ));
    }
    let cannot = |e: &io::Error| format!("cannot read `{}`: {}", dir.display(), io_reason(e));
    let mut names = Vec::new();
    for entry in fs::read_dir(dir).map_err(|e| cannot(&e))? {
        names.push(entry.map_err(|e| cannot(&e))?.file_name());
    }
    if names.is_empty() {
        return Ok(());
    }
    // A marker that is missing, unreadable, too long or not a file is no marker.
    if let Ok(Some(bytes)) = read_bounded(&dir.join(MARKER), MARKER_MAX) {
        let text = String::from_utf8_lossy(&bytes);
        let first = text.lines().next().unwrap_or_default();
        if first
            .strip_prefix(MARKER_LINE)
            .is_some_and(|n| n.parse::<u32>().is_ok())
        {
            return Ok(());
        }
    }
    if legacy_output(dir, &names) {
        return Ok(());
    }
    Err(format!(
        "refusing to replace `{}`: iamx did not write it (it has no `{MARKER}` marker)\n  help: give `-o` a new or empty directory; iamx replaces its output directory whole",
        dir.display()
    ))
}

/// An output of an iamx from before markers: nothing but `manifest.json` and the layout's
/// directories, and a manifest with exactly the fields iamx wrote.
fn legacy_output(dir: &Path, names: &[std::ffi::OsString]) -> bool {
    const LAYOUT: &[&str] = &[
        "manifest.json",
        "policies",
        "boundaries",
        "roles",
        "users",
        "groups",
    ];
    if !names
        .iter()
        .all(|n| n.to_str().is_some_and(|n| LAYOUT.contains(&n)))
    {
        return false;
    }
    let Ok(Some(bytes)) = read_bounded(&dir.join("manifest.json"), LEGACY_MANIFEST_MAX) else {
        return false;
    };
    let Ok(serde_json::Value::Object(manifest)) = serde_json::from_slice(&bytes) else {
        return false;
    };
    manifest
        .keys()
        .eq(["account", "partition", "principals", "policies"])
        && manifest["principals"].is_array()
        && manifest["policies"].is_array()
}

/// A lock on one output directory, held until dropped: a file `.NAME.iamx-lock` beside it,
/// locked with `flock`, which the system releases when the process dies.
pub struct Lock {
    _file: File,
}

impl Lock {
    /// Waits for the exclusive lock (a build), creating the lock file when needed; calls
    /// `waiting` first when another process holds it.
    pub fn exclusive(dir: &Path, waiting: impl FnOnce()) -> Result<Lock, String> {
        let path = sibling(dir, "lock");
        let file = fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(|e| format!("cannot create `{}`: {}", path.display(), io_reason(&e)))?;
        let cannot = |e: io::Error| format!("cannot lock `{}`: {}", path.display(), io_reason(&e));
        if !try_flock(&file).map_err(cannot)? {
            waiting();
            flock(&file, true).map_err(cannot)?;
        }
        Ok(Lock { _file: file })
    }

    /// Waits for a shared lock (`--check`), when a build ever made a lock file; creates nothing.
    pub fn shared(dir: &Path) -> Result<Option<Lock>, String> {
        let path = sibling(dir, "lock");
        let file = match File::open(&path) {
            Ok(file) => file,
            Err(_) => return Ok(None),
        };
        flock(&file, false)
            .map_err(|e| format!("cannot lock `{}`: {}", path.display(), io_reason(&e)))?;
        Ok(Some(Lock { _file: file }))
    }
}

#[cfg(unix)]
fn flock(file: &File, exclusive: bool) -> io::Result<()> {
    use std::os::unix::io::AsRawFd;
    let operation = if exclusive {
        libc::LOCK_EX
    } else {
        libc::LOCK_SH
    };
    loop {
        // SAFETY: `flock` on a descriptor this function borrows; no memory is shared.
        if unsafe { libc::flock(file.as_raw_fd(), operation) } == 0 {
            return Ok(());
        }
        let e = io::Error::last_os_error();
        if e.kind() != io::ErrorKind::Interrupted {
            return Err(e);
        }
    }
}

/// Takes the exclusive lock if nobody holds it: `Ok(false)` when somebody does.
#[cfg(unix)]
fn try_flock(file: &File) -> io::Result<bool> {
    use std::os::unix::io::AsRawFd;
    loop {
        // SAFETY: as in `flock`.
        if unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) } == 0 {
            return Ok(true);
        }
        let e = io::Error::last_os_error();
        match e.kind() {
            io::ErrorKind::Interrupted => continue,
            io::ErrorKind::WouldBlock => return Ok(false),
            _ => return Err(e),
        }
    }
}

#[cfg(not(unix))]
fn flock(_file: &File, _exclusive: bool) -> io::Result<()> {
    Ok(())
}

#[cfg(not(unix))]
fn try_flock(_file: &File) -> io::Result<bool> {
    Ok(true)
}

/// A name beside `dir`: `.NAME.iamx-KIND` (`lock`), or `.NAME.iamx-KIND-PID`.
fn sibling(dir: &Path, kind: &str) -> PathBuf {
    let (parent, name) = split(dir);
    parent.join(format!(".{name}.iamx-{kind}"))
}

/// The parent directory (`.` for a bare name) and the name of `dir`.
fn split(dir: &Path) -> (PathBuf, String) {
    let name = dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let parent = match dir.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    (parent, name)
}

/// What [`replace`] did besides replacing: problems that did not stop it.
#[derive(Debug, Default)]
pub struct Replaced {
    pub warnings: Vec<String>,
}

/// Writes the artifacts as the new contents of `dir`, which must be a usable output directory
/// (see [`owned`]), locked by the caller, with stale trees removed ([`remove_stale`]). Readers of `dir` see the old tree or the new one,
/// whole, at every moment (on Linux; see [`exchange`] for elsewhere).
pub fn replace(dir: &Path, artifacts: &[Artifact]) -> Result<Replaced, String> {
    replace_with(dir, artifacts, &|p| fs::remove_dir_all(p))
}

/// [`replace`], with the function that removes a tree given, so tests can make it fail.
fn replace_with(
    dir: &Path,
    artifacts: &[Artifact],
    remove: &dyn Fn(&Path) -> io::Result<()>,
) -> Result<Replaced, String> {
    check_name(dir)?;
    let mut replaced = Replaced::default();
    let staging = sibling(dir, &format!("new-{}", std::process::id()));
    if let Err(e) = write_tree(&staging, artifacts) {
        let mut message = format!("cannot write `{}`: {}", staging.display(), io_reason(&e));
        if let Err(e) = remove(&staging) {
            if e.kind() != io::ErrorKind::NotFound {
                message.push_str(&format!(
                    "; and cannot remove it: {} (the next build will try again)",
                    io_reason(&e)
                ));
            }
        }
        return Err(message);
    }
    let cannot = |e: &io::Error| format!("cannot replace `{}`: {}", dir.display(), io_reason(e));
    let old = match exchange(&staging, dir) {
        Ok(Some(old)) => old,
        Ok(None) => return Ok(replaced),
        Err(e) => {
            let _ = remove(&staging);
            return Err(cannot(&e));
        }
    };
    if let Err(e) = remove(&old) {
        replaced.warnings.push(format!(
            "the new outputs are in `{}`, but the old ones could not be removed from `{}`: {} (the next build will try again)",
            dir.display(),
            old.display(),
            io_reason(&e)
        ));
    }
    Ok(replaced)
}

/// Whether `dir` names a directory iamx can put siblings beside: not `.`, `..` or `/`.
pub fn check_name(dir: &Path) -> Result<(), String> {
    match dir.file_name() {
        Some(_) => Ok(()),
        None => Err(format!(
            "`{}` cannot be an output directory: name a directory of its own, like `out`",
            dir.display()
        )),
    }
}

/// Removes the staging and old trees that killed builds left beside the output directory
/// (`.NAME.iamx-new-PID`, `.NAME.iamx-old-PID`): under the lock, no running build has any.
/// Says which could not be removed.
pub fn remove_stale(dir: &Path) -> Vec<String> {
    remove_stale_with(dir, &|p| fs::remove_dir_all(p))
}

fn remove_stale_with(dir: &Path, remove: &dyn Fn(&Path) -> io::Result<()>) -> Vec<String> {
    let (parent, name) = split(dir);
    let mut warnings = Vec::new();
    let Ok(entries) = fs::read_dir(parent) else {
        return warnings;
    };
    let prefixes = [format!(".{name}.iamx-new-"), format!(".{name}.iamx-old-")];
    for entry in entries.flatten() {
        let file_name = entry.file_name();
        let Some(file_name) = file_name.to_str() else {
            continue;
        };
        let stale = prefixes.iter().any(|p| {
            file_name
                .strip_prefix(p.as_str())
                .is_some_and(|pid| !pid.is_empty() && pid.bytes().all(|b| b.is_ascii_digit()))
        });
        if !stale {
            continue;
        }
        let path = entry.path();
        let removed = match entry.file_type() {
            Ok(t) if t.is_dir() => remove(&path),
            _ => fs::remove_file(&path),
        };
        if let Err(e) = removed {
            warnings.push(format!(
                "cannot remove `{}`, left by an interrupted build: {}",
                path.display(),
                io_reason(&e)
            ));
        }
    }
    warnings
}

/// Writes the artifacts under a new directory `root`, which must not exist.
fn write_tree(root: &Path, artifacts: &[Artifact]) -> io::Result<()> {
    fs::create_dir(root)?;
    for artifact in artifacts {
        let relative = safe_relative(&artifact.path).ok_or_else(|| {
            io::Error::other(format!(
                "iamx made an unsafe output path `{}`: this is a bug",
                artifact.path
            ))
        })?;
        let path = root.join(relative);
        if let Some(p) = path.parent() {
            fs::create_dir_all(p)?;
        }
        let mut file = fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&path)?;
        file.write_all(artifact.contents.as_bytes())?;
    }
    Ok(())
}

/// An artifact's `/`-separated path as a relative path, when every part of it is a plain name:
/// not empty, not `.` or `..`, without a separator. Names are checked before they become paths
/// (E0213); this makes sure nothing is ever written outside the output directory.
fn safe_relative(path: &str) -> Option<PathBuf> {
    let mut out = PathBuf::new();
    for part in path.split('/') {
        let plain = !part.is_empty()
            && part != "."
            && part != ".."
            && !part.contains(['\\', ':', '\0'])
            && Path::new(part).file_name() == Some(std::ffi::OsStr::new(part));
        if !plain {
            return None;
        }
        out.push(part);
    }
    (!out.as_os_str().is_empty()).then_some(out)
}

/// Puts `staging` in the place of `dir` in one atomic step; returns where the old tree went,
/// if there was one.
///
/// On Linux, `renameat2(RENAME_EXCHANGE)` swaps the two names at once: `dir` never stops
/// existing and never holds a partial tree, and the old tree ends up at `staging`. Where the
/// system or the file system lacks it, [`two_renames`].
fn exchange(staging: &Path, dir: &Path) -> io::Result<Option<PathBuf>> {
    match fs::symlink_metadata(dir) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            fs::rename(staging, dir)?;
            return Ok(None);
        }
        Err(e) => return Err(e),
        Ok(_) => {}
    }
    #[cfg(target_os = "linux")]
    match rename_exchange(staging, dir) {
        Ok(()) => return Ok(Some(staging.to_path_buf())),
        Err(e)
            if matches!(
                e.raw_os_error(),
                Some(libc::EINVAL) | Some(libc::ENOSYS) | Some(libc::EOPNOTSUPP)
            ) => {}
        Err(e) => return Err(e),
    }
    two_renames(staging, dir).map(Some)
}

/// The fallback of [`exchange`]: moves the old tree aside (`.NAME.iamx-old-PID`), then the new
/// one in; on failure, puts the old one back. Between the two, `dir` does not exist, and a
/// killed build can leave it missing until the next build. Returns where the old tree is.
fn two_renames(staging: &Path, dir: &Path) -> io::Result<PathBuf> {
    let aside = staging.with_file_name(
        staging
            .file_name()
            .map(|n| n.to_string_lossy().replace(".iamx-new-", ".iamx-old-"))
            .unwrap_or_default(),
    );
    fs::rename(dir, &aside)?;
    if let Err(e) = fs::rename(staging, dir) {
        let _ = fs::rename(&aside, dir);
        return Err(e);
    }
    Ok(aside)
}

#[cfg(target_os = "linux")]
fn rename_exchange(a: &Path, b: &Path) -> io::Result<()> {
    use std::ffi::CString;
    use std::os::unix::ffi::OsStrExt;
    let a = CString::new(a.as_os_str().as_bytes()).map_err(io::Error::other)?;
    let b = CString::new(b.as_os_str().as_bytes()).map_err(io::Error::other)?;
    // SAFETY: two NUL-terminated paths that outlive the call; the kernel reads nothing else.
    // The raw system call, rather than glibc's wrapper, works with any C library.
    let result = unsafe {
        libc::syscall(
            libc::SYS_renameat2 as libc::c_long,
            libc::AT_FDCWD,
            a.as_ptr(),
            libc::AT_FDCWD,
            b.as_ptr(),
            libc::RENAME_EXCHANGE,
        )
    };
    if result == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A fresh directory for one test; `out` inside it is the output directory.
    fn scratch(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("iamx-outdir-{}-{name}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        dir
    }

    fn artifacts(version: &str) -> Vec<Artifact> {
        let mut out: Vec<Artifact> = [
            ("policies/P.json", format!("{{\"v\": \"{version}\"}}\n")),
            (
                &*format!("roles/R{version}/trust.json"),
                format!("{version}\n"),
            ),
            ("manifest.json", format!("{{\"version\": \"{version}\"}}\n")),
        ]
        .into_iter()
        .map(|(path, contents)| Artifact {
            path: path.to_string(),
            contents,
        })
        .collect();
        out.push(marker());
        out
    }

    fn listing(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    #[test]
    fn replacing_leaves_exactly_the_new_tree_and_nothing_beside_it() {
        let root = scratch("replace");
        let out = root.join("out");
        replace(&out, &artifacts("1")).unwrap();
        assert_eq!(compare(&out, &artifacts("1"), false).unwrap(), []);
        let replaced = replace(&out, &artifacts("2")).unwrap();
        assert!(replaced.warnings.is_empty(), "{:?}", replaced.warnings);
        // Nothing of the first tree is left (`roles/R1`), and no staging or old tree beside it.
        assert_eq!(compare(&out, &artifacts("2"), false).unwrap(), []);
        assert_eq!(listing(&root), ["out"]);
        fs::remove_dir_all(&root).unwrap();
    }

    #[test]
    fn readers_always_find_a_complete_tree() {
        let root = scratch("readers");
        let out = root.join("out");
        replace(&out, &artifacts("a")).unwrap();
        let done = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let reader = {
            let (out, done) = (out.clone(), done.clone());
            std::thread::spawn(move || {
                let mut reads = 0;
                while !done.load(std::sync::atomic::Ordering::Relaxed) {
                    let manifest = fs::read_to_string(out.join("manifest.json"))
                        .expect("manifest.json is always there");
                    assert!(
                        manifest == "{\"version\": \"a\"}\n"
                            || manifest == "{\"version\": \"b\"}\n",
                        "a partial manifest: {manifest:?}"
                    );
                    fs::read_to_string(out.join(MARKER)).expect("the marker is always there");
                    reads += 1;
                }
                reads
            })
        };
        for i in 0..200 {
            replace(&out, &artifacts(if i % 2 == 0 { "b" } else { "a" })).unwrap();
        }
        done.store(true, std::sync::atomic::Ordering::Relaxed);
        let reads = reader.join().expect("the reader found every file it read");
        assert!(reads > 0);
        assert_eq!(listing(&root), ["out"]);
        fs::remove_dir_all(&root).unwrap();
    }

    #[test]
    fn trees_of_killed_builds_are_removed_and_nothing_else() {
        let root = scratch("stale");
        let out = root.join("out");
        replace(&out, &artifacts("1")).unwrap();
        // A build killed while writing, one killed between the swap and the removal, and names
        // that only look alike.
        for dir in [
            ".out.iamx-new-4242/policies",
            ".out.iamx-old-17/roles",
            ".out.iamx-new-x",
            ".other.iamx-new-1",
            ".out.iamx-newer-1",
        ] {
            fs::create_dir_all(root.join(dir)).unwrap();
        }
        fs::write(root.join(".out.iamx-new-4242/policies/half.json"), "{\"Ver").unwrap();
        assert_eq!(remove_stale(&out), Vec::<String>::new());
        assert_eq!(
            listing(&root),
            [
                ".other.iamx-new-1",
                ".out.iamx-new-x",
                ".out.iamx-newer-1",
                "out"
            ]
        );
        fs::remove_dir_all(&root).unwrap();
    }

    #[test]
    fn a_failure_to_remove_the_old_tree_is_reported() {
        let root = scratch("remove-fails");
        let out = root.join("out");
        replace(&out, &artifacts("1")).unwrap();
        let refuse = |_: &Path| -> io::Result<()> { Err(io::Error::other("device busy")) };
        let replaced = replace_with(&out, &artifacts("2"), &refuse).unwrap();
        assert_eq!(compare(&out, &artifacts("2"), false).unwrap(), []);
        assert_eq!(replaced.warnings.len(), 1, "{:?}", replaced.warnings);
        let warning = replaced.warnings[0]
            .replace(&*root.to_string_lossy(), "ROOT")
            .replace(&std::process::id().to_string(), "PID");
        insta::assert_snapshot!(warning, @"the new outputs are in `ROOT/out`, but the old ones could not be removed from `ROOT/.out.iamx-new-PID`: device busy (the next build will try again)");
        // The next build removes it, and says so when it cannot.
        assert_eq!(remove_stale_with(&out, &refuse).len(), 1);
        assert_eq!(remove_stale(&out), Vec::<String>::new());
        assert_eq!(listing(&root), ["out"]);
        fs::remove_dir_all(&root).unwrap();
    }

    #[test]
    fn a_failed_write_leaves_the_old_tree_and_no_staging() {
        let root = scratch("write-fails");
        let out = root.join("out");
        replace(&out, &artifacts("1")).unwrap();
        let mut bad = artifacts("2");
        bad.push(Artifact {
            path: "../escape.json".into(),
            contents: String::new(),
        });
        let error = replace(&out, &bad).unwrap_err();
        assert!(error.contains("unsafe output path"), "{error}");
        assert_eq!(compare(&out, &artifacts("1"), false).unwrap(), []);
        assert_eq!(listing(&root), ["out"]);
        fs::remove_dir_all(&root).unwrap();
    }

    #[test]
    fn the_fallback_swap_puts_the_new_tree_in_place_and_says_where_the_old_one_is() {
        let root = scratch("two-renames");
        let out = root.join("out");
        replace(&out, &artifacts("1")).unwrap();
        let staging = sibling(&out, "new-1");
        write_tree(&staging, &artifacts("2")).unwrap();
        let old = two_renames(&staging, &out).unwrap();
        assert_eq!(old, root.join(".out.iamx-old-1"));
        assert_eq!(compare(&out, &artifacts("2"), false).unwrap(), []);
        assert_eq!(compare(&old, &artifacts("1"), false).unwrap(), []);
        // What a build killed right after it leaves, the next build removes.
        assert_eq!(remove_stale(&out), Vec::<String>::new());
        assert_eq!(listing(&root), ["out"]);
        fs::remove_dir_all(&root).unwrap();
    }

    #[test]
    fn only_plain_relative_paths_are_written() {
        assert_eq!(
            safe_relative("roles/R/trust.json"),
            Some(PathBuf::from("roles/R/trust.json"))
        );
        for bad in [
            "",
            "/etc/passwd",
            "a//b",
            "./a",
            "a/../b",
            "..",
            "a\\b",
            "c:x",
            "a/",
        ] {
            assert_eq!(safe_relative(bad), None, "{bad}");
        }
    }

    #[test]
    fn only_iamx_outputs_are_owned() {
        let root = scratch("owned");
        let missing = root.join("missing");
        assert!(owned(&missing).is_ok());
        let empty = root.join("empty");
        fs::create_dir(&empty).unwrap();
        assert!(owned(&empty).is_ok());
        // A web app with a manifest of its own.
        let web = root.join("web");
        fs::create_dir(&web).unwrap();
        fs::write(
            web.join("manifest.json"),
            "{\"name\": \"app\", \"icons\": []}\n",
        )
        .unwrap();
        fs::write(web.join("index.html"), "<html></html>\n").unwrap();
        let error = owned(&web).unwrap_err();
        assert!(error.contains("refusing to replace"), "{error}");
        // The same manifest alone, in the layout's place: still not iamx's.
        fs::remove_file(web.join("index.html")).unwrap();
        assert!(owned(&web).is_err());
        // An output of an iamx from before markers.
        let legacy = root.join("legacy");
        fs::create_dir_all(legacy.join("policies")).unwrap();
        fs::write(
            legacy.join("manifest.json"),
            "{\"account\": null, \"partition\": \"aws\", \"principals\": [], \"policies\": []}\n",
        )
        .unwrap();
        assert!(owned(&legacy).is_ok());
        fs::write(legacy.join("notes.txt"), "mine").unwrap();
        assert!(owned(&legacy).is_err());
        // A marked output.
        let marked = root.join("marked");
        replace(&marked, &artifacts("1")).unwrap();
        assert!(owned(&marked).is_ok());
        // A file, and a symbolic link to an output, are not output directories.
        let file = root.join("file");
        fs::write(&file, "x").unwrap();
        assert!(owned(&file).unwrap_err().contains("not a directory"));
        #[cfg(unix)]
        {
            let link = root.join("link");
            std::os::unix::fs::symlink(&marked, &link).unwrap();
            assert!(owned(&link).unwrap_err().contains("symbolic link"));
        }
        fs::remove_dir_all(&root).unwrap();
    }

    #[cfg(unix)]
    #[test]
    fn special_files_are_never_opened_or_followed() {
        let root = scratch("special");
        let out = root.join("out");
        replace(&out, &artifacts("1")).unwrap();
        // Where files are expected: a link to an endless device, and a FIFO nobody writes to.
        fs::remove_file(out.join("manifest.json")).unwrap();
        std::os::unix::fs::symlink("/dev/zero", out.join("manifest.json")).unwrap();
        fs::remove_file(out.join("policies/P.json")).unwrap();
        let status = std::process::Command::new("mkfifo")
            .arg(out.join("policies/P.json"))
            .status()
            .unwrap();
        assert!(status.success());
        // A link to a directory, which would make a loop if followed.
        std::os::unix::fs::symlink(&out, out.join("policies/loop")).unwrap();
        let found = compare(&out, &artifacts("1"), false).unwrap();
        assert_eq!(
            found,
            [
                (
                    "manifest.json".to_string(),
                    Difference::NotAFile("a symbolic link")
                ),
                (
                    "policies/P.json".to_string(),
                    Difference::NotAFile("a named pipe")
                ),
                (
                    "policies/loop".to_string(),
                    Difference::ExtraSpecial("a symbolic link")
                ),
            ]
        );
        // A marker that is a link to an endless device is not read, and does not make it ours.
        fs::remove_file(out.join(MARKER)).unwrap();
        std::os::unix::fs::symlink("/dev/zero", out.join(MARKER)).unwrap();
        assert!(owned(&out).is_err());
        // Nor is a marker that is a FIFO waited on.
        fs::remove_file(out.join(MARKER)).unwrap();
        let status = std::process::Command::new("mkfifo")
            .arg(out.join(MARKER))
            .status()
            .unwrap();
        assert!(status.success());
        assert!(owned(&out).is_err());
        // A file longer than expected is read no further than one byte past it.
        assert_eq!(read_bounded(Path::new("/dev/zero"), 10).unwrap(), None);
        fs::remove_dir_all(&root).unwrap();
    }
}
