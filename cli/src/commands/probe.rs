//! `cachewatch probe`: measure a Redis endpoint's availability while something happens to it (a
//! failover, a node replacement, a drill), and say how long it was unavailable.
//!
//! The live status goes to standard error: on a terminal, one line rewritten in place plus a line
//! for each transition; otherwise only the transitions, one per line. The summary goes to standard
//! output, as text or as one JSON object.

use std::io::{IsTerminal, Write};
use std::time::Duration;

use anyhow::anyhow;
use cachewatch_adapters::redis::{ProbeSettings, RedisTarget, probe};
use cachewatch_core::model::timefmt::Zone;
use cachewatch_core::operations::probe::{
    ProbeStatus, Transition, parse_span, render_summary, status_line, transition_line,
};

use super::Failure;
use crate::args::ProbeArgs;

/// The shortest tick timeout by default: a TLS reconnection across availability zones fits in it.
const MIN_DEFAULT_TIMEOUT: Duration = Duration::from_millis(250);

/// Runs the probe until `--duration` has passed or Ctrl-C, then prints the summary.
pub async fn run(args: &ProbeArgs, zone: Zone, out: &mut dyn Write) -> Result<(), Failure> {
    let settings = settings(args)?;
    let terminal = std::io::stderr().is_terminal();
    let mut status = StatusPrinter::new(terminal, zone);
    status.line(&format!(
        "probing {} every {} ms{}",
        settings.target.display_url(),
        settings.interval.as_millis(),
        match settings.duration {
            Some(d) => format!(" for {} s", d.as_secs_f64()),
            None => ", Ctrl-C to stop".to_owned(),
        }
    ));
    let stop = async {
        // Without a signal handler the probe still ends at --duration.
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    let summary = probe(&settings, stop, |now, transition| {
        status.update(now, transition)
    })
    .await
    .map_err(|e| Failure::Other(e.into()))?;
    status.finish();

    if args.json {
        serde_json::to_writer(&mut *out, &summary).map_err(|e| Failure::Other(e.into()))?;
        writeln!(out)?;
    } else {
        write!(out, "{}", render_summary(&summary, &zone))?;
    }
    Ok(())
}

/// The probe's settings from the arguments; every mistake in them is an input error.
fn settings(args: &ProbeArgs) -> Result<ProbeSettings, Failure> {
    let target = RedisTarget::parse(&args.url, args.tls)
        .map_err(|e| Failure::Input(e.into()))?
        .with_default_password(args.password.as_deref());
    let span = |flag: &str, raw: &str| {
        parse_span(raw).filter(|d| !d.is_zero()).ok_or_else(|| {
            Failure::Input(anyhow!(
                "{flag} {raw:?} is not a duration: write 100ms, 2s, 5m or 1h"
            ))
        })
    };
    let mut settings = ProbeSettings::new(target);
    settings.interval = span("--interval", &args.interval)?;
    settings.duration = args
        .duration
        .as_deref()
        .map(|raw| span("--duration", raw))
        .transpose()?;
    settings.timeout = match args.timeout.as_deref() {
        Some(raw) => span("--timeout", raw)?,
        None => settings.interval.max(MIN_DEFAULT_TIMEOUT),
    };
    Ok(settings)
}

/// Prints the live status on standard error.
struct StatusPrinter {
    terminal: bool,
    zone: Zone,
    /// Whether a rewritable status line is on screen.
    pending: bool,
    /// When the status line was last drawn, to draw it at most ten times a second.
    drawn: Option<std::time::Instant>,
}

impl StatusPrinter {
    fn new(terminal: bool, zone: Zone) -> Self {
        StatusPrinter {
            terminal,
            zone,
            pending: false,
            drawn: None,
        }
    }

    /// A line of its own, above the status line.
    fn line(&mut self, text: &str) {
        let mut err = std::io::stderr().lock();
        if self.pending {
            let _ = write!(err, "\r\x1b[2K");
            self.pending = false;
        }
        let _ = writeln!(err, "{text}");
    }

    fn update(&mut self, status: &ProbeStatus, transition: Option<&Transition>) {
        if let Some(transition) = transition {
            self.line(&transition_line(transition, status, &self.zone));
            self.drawn = None;
        }
        if !self.terminal {
            return;
        }
        let due = self
            .drawn
            .is_none_or(|at| at.elapsed() >= Duration::from_millis(100));
        if due {
            let mut err = std::io::stderr().lock();
            let _ = write!(err, "\r\x1b[2K{}", status_line(status, &self.zone));
            let _ = err.flush();
            self.pending = true;
            self.drawn = Some(std::time::Instant::now());
        }
    }

    /// Ends the status line so the summary starts on a line of its own.
    fn finish(&mut self) {
        if self.pending {
            let _ = writeln!(std::io::stderr());
            self.pending = false;
        }
    }
}
