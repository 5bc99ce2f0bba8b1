//! What the command prints besides its answer, as command-line tools are expected to: a reader
//! that goes away (`| head`) ends the output but not the work, `--quiet` keeps notes and progress
//! off standard error, and an error is said once.

use std::io::{self, Write};
use std::sync::atomic::{AtomicBool, Ordering};

/// Whether `--quiet` was given.
static QUIET: AtomicBool = AtomicBool::new(false);

/// The exit code of a command whose reader closed the pipe: what a shell reports for a tool
/// stopped by SIGPIPE (128 + 13).
pub const CLOSED_PIPE_EXIT: u8 = 141;

/// Says whether notes and progress are kept off standard error.
pub fn set_quiet(quiet: bool) {
    QUIET.store(quiet, Ordering::Relaxed);
}

/// Whether `--quiet` was given: no notes, summaries or progress, only errors and what was asked
/// for.
pub fn quiet() -> bool {
    QUIET.load(Ordering::Relaxed)
}

/// A note for the person at the terminal (`cachewatch: ...` on standard error), unless quiet.
pub fn note(text: impl std::fmt::Display) {
    if !quiet() {
        eprintln!("cachewatch: {text}");
    }
}

/// Standard output that, once its reader is gone, drops what is written instead of failing: the
/// command finishes its work (stores, sends), then ends quietly with [`CLOSED_PIPE_EXIT`].
pub struct PipeOutput<W> {
    inner: W,
    closed: bool,
}

impl<W: Write> PipeOutput<W> {
    /// Wraps a writer.
    pub fn new(inner: W) -> Self {
        Self {
            inner,
            closed: false,
        }
    }

    /// Whether the reader went away.
    pub fn closed(&self) -> bool {
        self.closed
    }

    fn absorb(&mut self, result: io::Result<usize>, len: usize) -> io::Result<usize> {
        match result {
            Err(e) if e.kind() == io::ErrorKind::BrokenPipe => {
                self.closed = true;
                Ok(len)
            }
            other => other,
        }
    }
}

impl<W: Write> Write for PipeOutput<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if self.closed {
            return Ok(buf.len());
        }
        let result = self.inner.write(buf);
        self.absorb(result, buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        if self.closed {
            return Ok(());
        }
        let result = self.inner.flush().map(|()| 0);
        self.absorb(result, 0).map(|_| ())
    }
}

/// An error and its causes on one line, each said once: a cause whose text its context already
/// holds (`VAR: reason` over `reason`) is left out.
pub fn error_line(error: &anyhow::Error) -> String {
    let mut line = String::new();
    for cause in error.chain() {
        let text = cause.to_string();
        if text.is_empty() || line.contains(&text) {
            continue;
        }
        if !line.is_empty() {
            line.push_str(": ");
        }
        line.push_str(&text);
    }
    line
}

/// What to do about an error whose cause people meet on their first day, if it is one: no AWS
/// credentials.
pub fn remedy(error: &anyhow::Error) -> Option<&'static str> {
    let no_credentials = error.chain().any(|cause| {
        let text = cause.to_string();
        text.contains("loading credentials") || text.contains("no credentials found")
    });
    no_credentials.then_some(
        "this needs AWS credentials: set AWS_PROFILE (after `aws configure` or `aws sso login`) or \
         AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, and AWS_REGION",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    struct ClosedPipe;

    impl Write for ClosedPipe {
        fn write(&mut self, _: &[u8]) -> io::Result<usize> {
            Err(io::ErrorKind::BrokenPipe.into())
        }
        fn flush(&mut self) -> io::Result<()> {
            Err(io::ErrorKind::BrokenPipe.into())
        }
    }

    #[test]
    fn a_closed_pipe_swallows_output_and_is_remembered() {
        let mut out = PipeOutput::new(ClosedPipe);
        writeln!(out, "first").unwrap();
        writeln!(out, "second").unwrap();
        out.flush().unwrap();
        assert!(out.closed());
    }

    #[test]
    fn other_write_errors_still_fail() {
        struct Full;
        impl Write for Full {
            fn write(&mut self, _: &[u8]) -> io::Result<usize> {
                Err(io::Error::other("disk full"))
            }
            fn flush(&mut self) -> io::Result<()> {
                Ok(())
            }
        }
        let mut out = PipeOutput::new(Full);
        assert!(writeln!(out, "x").is_err());
        assert!(!out.closed());
    }

    #[test]
    fn missing_aws_credentials_say_what_to_set() {
        let error = anyhow::Error::new(io::Error::other(
            "an error occurred while loading credentials: failed to load IMDS session token",
        ))
        .context("ElastiCache DescribeEvents failed");
        assert!(remedy(&error).is_some_and(|r| r.contains("AWS_PROFILE")));
        assert_eq!(
            remedy(&anyhow::anyhow!("--limit must be between 1 and 10000")),
            None
        );
    }

    #[test]
    fn a_cause_repeated_by_its_context_is_said_once() {
        let error = anyhow::Error::new(io::Error::other("too short"))
            .context("CACHEWATCH_LINK_SECRET: too short")
            .context("cannot set up the door");
        assert_eq!(
            error_line(&error),
            "cannot set up the door: CACHEWATCH_LINK_SECRET: too short"
        );
        let plain = anyhow::Error::new(io::Error::other("no such file")).context("cannot read x");
        assert_eq!(error_line(&plain), "cannot read x: no such file");
    }
}
