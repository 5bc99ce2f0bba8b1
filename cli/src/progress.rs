//! Progress bars for long work (`backfill`, large `ingest`s), on standard error: shown on a
//! terminal, or everywhere when asked (`--progress`); never with `--quiet`, in pipes or in CI. No
//! colours, so `NO_COLOR` has nothing to turn off.

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::output;

/// The width of a bar, in characters.
pub const BAR_WIDTH: usize = 30;

/// A bar on standard error: `reading  [#####---…]  17%  2 pages, 200 records`. Hidden unless
/// standard error is a terminal or `forced`, and always with `--quiet`.
pub fn bar(forced: bool) -> ProgressBar {
    let target = if output::quiet() {
        ProgressDrawTarget::hidden()
    } else if forced {
        // Drawn even where standard error is not a terminal (a log file, a test).
        ProgressDrawTarget::term_like(Box::new(console::Term::stderr()))
    } else {
        ProgressDrawTarget::stderr()
    };
    let style = ProgressStyle::with_template(&format!(
        "{{prefix:8}} [{{bar:{BAR_WIDTH}}}] {{percent:>3}}%  {{msg}}"
    ))
    .expect("the progress template is valid")
    .progress_chars("#-");
    ProgressBar::with_draw_target(None, target).with_style(style)
}

/// Shows a phase of the work: `done` of `of` units, and what they are.
pub fn show(bar: &ProgressBar, phase: &'static str, done: u64, of: u64, message: String) {
    bar.set_prefix(phase);
    bar.set_length(of);
    bar.set_position(done.min(of));
    bar.set_message(message);
}

/// `n thing` or `n things`.
pub fn count(n: usize, thing: &str) -> String {
    format!("{n} {thing}{}", if n == 1 { "" } else { "s" })
}
