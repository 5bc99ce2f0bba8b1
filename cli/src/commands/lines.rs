//! An input opened for `cachewatch ingest`: JSON Lines are read a run of lines at a time (a history
//! of millions of events never sits in memory whole); every other shape is read whole.

use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::Path;

use anyhow::Context as _;
use cachewatch_app::LineRuns;
use cachewatch_core::intake::parse::starts_json_lines;
use indicatif::ProgressBar;

use super::Failure;
use crate::progress;

/// How much text one run holds: about 10,000 `describe-events` records. Two runs are in memory
/// at once, each as text and as events (several times its text): 8 MB runs took the peak of a
/// million-event import to 350 MB.
const RUN_BYTES: usize = 2 * 1024 * 1024;

/// An opened input.
pub enum Opened {
    /// Not JSON Lines, or a single line: the whole text.
    Whole(String),
    /// JSON Lines, read in runs.
    Lines(Runs),
}

/// The runs of a JSON Lines input, with a progress bar over the bytes of a file.
pub struct Runs {
    reader: Box<dyn BufRead + Send>,
    /// Lines read while looking at the start of the input, not handed out yet.
    pending: String,
    pending_lines: usize,
    next_line: usize,
    read: u64,
    size: Option<u64>,
    bar: ProgressBar,
}

/// Opens `input` (`-` for standard input) and looks at its start: JSON Lines when its first
/// non-blank line is a whole JSON value and another non-blank line follows.
pub fn open(input: &str, bar: ProgressBar) -> Result<Opened, Failure> {
    let cannot = || {
        if input == "-" {
            "cannot read standard input".to_owned()
        } else {
            format!("cannot read {input}")
        }
    };
    let (mut reader, size): (Box<dyn BufRead + Send>, Option<u64>) = if input == "-" {
        (Box::new(BufReader::new(std::io::stdin())), None)
    } else {
        let file = File::open(Path::new(input))
            .with_context(cannot)
            .map_err(Failure::Input)?;
        let size = file.metadata().ok().map(|m| m.len());
        (Box::new(BufReader::with_capacity(1 << 20, file)), size)
    };
    let mut head = String::new();
    let mut lines = 0;
    let mut first_seen = false;
    loop {
        let start = head.len();
        let n = reader
            .read_line(&mut head)
            .with_context(cannot)
            .map_err(Failure::Input)?;
        if n == 0 {
            break;
        }
        if lines == 0 && head.starts_with('\u{feff}') {
            head.drain(..'\u{feff}'.len_utf8());
        }
        lines += 1;
        let line = &head[start..];
        if line.trim().is_empty() {
            continue;
        }
        if first_seen {
            let read = head.len() as u64;
            return Ok(Opened::Lines(Runs {
                reader,
                pending: head,
                pending_lines: lines,
                next_line: 1,
                read,
                size,
                bar,
            }));
        }
        if !starts_json_lines(line) {
            break;
        }
        first_seen = true;
    }
    reader
        .read_to_string(&mut head)
        .with_context(cannot)
        .map_err(Failure::Input)?;
    Ok(Opened::Whole(head))
}

impl LineRuns for Runs {
    fn next_run(&mut self) -> std::io::Result<Option<(usize, String)>> {
        let mut text = std::mem::take(&mut self.pending);
        let mut lines = std::mem::take(&mut self.pending_lines);
        while text.len() < RUN_BYTES {
            let n = self.reader.read_line(&mut text)?;
            if n == 0 {
                break;
            }
            self.read += n as u64;
            lines += 1;
        }
        if lines == 0 {
            self.bar.finish_and_clear();
            return Ok(None);
        }
        if let Some(size) = self.size {
            let message = format!("{} of {} read", bytes(self.read), bytes(size));
            progress::show(&self.bar, "storing", self.read, size, message);
        }
        let first = self.next_line;
        self.next_line += lines;
        Ok(Some((first, text)))
    }
}

/// A size as people read it: `820 KB`, `205 MB`.
fn bytes(n: u64) -> String {
    if n < 1_000_000 {
        format!("{} KB", n.div_ceil(1_000))
    } else {
        format!("{} MB", n / 1_000_000)
    }
}
