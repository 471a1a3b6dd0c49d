//! Standard output and standard error, written without losing a write error.
//!
//! `print!` panics when a write fails (exit 101), and `let _ = write!(…)` forgets the failure
//! (exit 0, output lost). Here the first failure is kept, later writes to that stream are
//! skipped, and [`finish`] turns it into the outcome:
//!
//! - a closed pipe (`iamx actions '*' | head -1`) ends the process quietly, by `SIGPIPE`, as
//!   Unix tools end;
//! - any other failure (`> /dev/full`) is reported on stderr, if it can be, and exits 2.
//!
//! The commands write through [`out!`](crate::cli) and [`err!`](crate::cli), never `print!`:
//! `clippy::print_stdout` and `clippy::print_stderr` are denied in `cli/`.

use std::io::{self, Write};
use std::process::ExitCode;
use std::sync::Mutex;

use super::Exit;

/// Which standard stream.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stream {
    Stdout,
    Stderr,
}

impl Stream {
    fn name(self) -> &'static str {
        match self {
            Stream::Stdout => "standard output",
            Stream::Stderr => "standard error",
        }
    }
}

/// The first write error, and the stream it happened on.
static FAILURE: Mutex<Option<(Stream, io::Error)>> = Mutex::new(None);

/// Whether a write to `stream` has failed.
fn failed(stream: Stream) -> bool {
    FAILURE
        .lock()
        .map(|f| f.as_ref().is_some_and(|(failed, _)| *failed == stream))
        .unwrap_or(true)
}

/// Keeps the first write error; later ones are consequences of it.
pub fn record(stream: Stream, error: io::Error) {
    if let Ok(mut failure) = FAILURE.lock() {
        if failure.is_none() {
            *failure = Some((stream, error));
        }
    }
}

/// Writes to a stream, unless a write to it has failed already.
pub fn write(stream: Stream, bytes: &[u8]) {
    if failed(stream) {
        return;
    }
    let result = match stream {
        Stream::Stdout => io::stdout().lock().write_all(bytes),
        Stream::Stderr => io::stderr().lock().write_all(bytes),
    };
    if let Err(e) = result {
        record(stream, e);
    }
}

/// Flushes stdout, and turns the command's exit and any write error into the process's end.
pub fn finish(exit: Exit) -> ExitCode {
    if !failed(Stream::Stdout) {
        if let Err(e) = io::stdout().lock().flush() {
            record(Stream::Stdout, e);
        }
    }
    let failure = FAILURE.lock().ok().and_then(|mut f| f.take());
    match failure {
        None => exit.into(),
        Some((_, e)) if e.kind() == io::ErrorKind::BrokenPipe => end_by_sigpipe(),
        Some((stream, e)) => {
            if stream == Stream::Stdout {
                // Written directly: the message is the one thing left to say.
                let _ = writeln!(
                    io::stderr().lock(),
                    "error: cannot write to {}: {}",
                    stream.name(),
                    super::io_reason(&e)
                );
            }
            Exit::Usage.into()
        }
    }
}

/// Ends the process as a Unix tool ends when its reader has gone: by `SIGPIPE`, with no
/// message. Rust ignores the signal so that writes return an error; restore it, then raise it.
fn end_by_sigpipe() -> ExitCode {
    #[cfg(unix)]
    {
        // SAFETY: restoring the default disposition of a signal and raising it in this process,
        // which then ends; no handler of ours runs.
        unsafe {
            libc::signal(libc::SIGPIPE, libc::SIG_DFL);
            libc::raise(libc::SIGPIPE);
        }
    }
    // Where there is no such signal (or it did not end us): what a shell reports for it.
    ExitCode::from(141)
}
