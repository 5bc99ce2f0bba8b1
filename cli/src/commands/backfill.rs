//! `cachewatch backfill`: what DescribeEvents still keeps, through the one ingest, with a
//! progress bar on standard error.

use std::io::{IsTerminal, Write};

use anyhow::anyhow;
use cachewatch_adapters::elasticache::{BackfillProgress, EVENT_RETENTION, EventQuery};
use cachewatch_core::delivery::DeliveryStore;
use cachewatch_core::query::parse_when;
use cachewatch_core::response::ResponseStore;
use cachewatch_core::store::EventStore;
use chrono::{DateTime, Duration, Utc};

use super::{Context, Failure, elasticache, ingest, notify, write_json};
use crate::args::BackfillArgs;

/// The width of the bar, in characters.
const BAR: usize = 30;

pub async fn run<S: EventStore + DeliveryStore + ResponseStore>(
    ctx: &Context<S>,
    args: &BackfillArgs,
    out: &mut dyn Write,
) -> Result<(), Failure> {
    let start = match (&args.since, args.hours) {
        (Some(since), _) => parse_when(since, ctx.now).map_err(|e| Failure::Input(e.into()))?,
        (None, Some(hours)) => ctx.now - Duration::hours(i64::from(hours)),
        (None, None) => ctx.now - EVENT_RETENTION,
    };
    if start >= ctx.now {
        return Err(Failure::Input(anyhow!(
            "--since is not in the past: nothing to read"
        )));
    }
    let kept_from = ctx.now - EVENT_RETENTION;
    if start < kept_from {
        eprintln!(
            "cachewatch: ElastiCache keeps events for 14 days: reading from {} on",
            ctx.zone.format(kept_from)
        );
    }
    let start = start.max(kept_from);
    let query = EventQuery::between(start, ctx.now);
    let mut bar = Progress::new(
        args.progress || std::io::stderr().is_terminal(),
        start,
        ctx.now,
    );
    let elasticache = elasticache().await;
    let done = elasticache
        .backfill(&ctx.store, &query, &ctx.config.alerts, ctx.now, &mut |p| {
            bar.show(p)
        })
        .await;
    bar.finish();
    let backfill = done.map_err(|e| Failure::Other(anyhow!(e).context("the backfill stopped")))?;

    if args.json {
        write_json(out, &ingest::ingested(&backfill.outcome))?;
    } else {
        let new = backfill.outcome.new_count();
        let known = backfill.outcome.events.len() - new;
        writeln!(
            out,
            "Read {} record{} from DescribeEvents, {} to {}: {new} new, {known} already in the history, {} not readable",
            backfill.records,
            if backfill.records == 1 { "" } else { "s" },
            ctx.zone.format(start),
            ctx.zone.format(ctx.now),
            backfill.rejected.len(),
        )?;
    }
    for rejected in &backfill.rejected {
        eprintln!(
            "cachewatch: not an event cachewatch reads ({} {}, {}): {:?}: {}",
            rejected.record.source_type,
            rejected.record.source_identifier,
            ctx.zone.format(rejected.record.date),
            rejected.record.message,
            rejected.error
        );
    }
    notify::alert_or_preview(ctx, &elasticache, &backfill.outcome, args.json, out).await
}

/// The progress bar: while reading, how much of the time range is read (DescribeEvents answers
/// newest first); while storing, how many events are stored.
struct Progress {
    on: bool,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    shown: bool,
}

impl Progress {
    fn new(on: bool, start: DateTime<Utc>, end: DateTime<Utc>) -> Self {
        Self {
            on,
            start,
            end,
            shown: false,
        }
    }

    fn show(&mut self, p: BackfillProgress) {
        if !self.on {
            return;
        }
        let line = line(p, self.start, self.end);
        eprint!("\r{line}\x1b[K");
        let _ = std::io::stderr().flush();
        self.shown = true;
    }

    fn finish(&mut self) {
        if self.shown {
            eprintln!();
        }
    }
}

/// One line of progress.
fn line(p: BackfillProgress, start: DateTime<Utc>, end: DateTime<Utc>) -> String {
    match p {
        BackfillProgress::Reading(read) => {
            let span = (end - start).num_seconds().max(1) as f64;
            let covered = read
                .oldest
                .map_or(0.0, |oldest| (end - oldest).num_seconds() as f64 / span);
            format!(
                "reading  {} {:>3}%  {} page{}, {} record{}",
                bar(covered),
                percent(covered),
                read.pages,
                if read.pages == 1 { "" } else { "s" },
                read.records,
                if read.records == 1 { "" } else { "s" }
            )
        }
        BackfillProgress::Storing { done, of } => {
            let share = if of == 0 {
                1.0
            } else {
                done as f64 / of as f64
            };
            format!(
                "storing  {} {:>3}%  {done} of {of} event{}",
                bar(share),
                percent(share),
                if of == 1 { "" } else { "s" }
            )
        }
    }
}

fn percent(share: f64) -> u32 {
    (share.clamp(0.0, 1.0) * 100.0).round() as u32
}

fn bar(share: f64) -> String {
    let filled = ((share.clamp(0.0, 1.0) * BAR as f64).round() as usize).min(BAR);
    format!("[{}{}]", "#".repeat(filled), "-".repeat(BAR - filled))
}

#[cfg(test)]
mod tests {
    use super::*;
    use cachewatch_adapters::elasticache::EventsProgress;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn reading_shows_how_much_of_the_range_is_read_newest_first() {
        let (start, end) = (at("2026-11-12T00:00:00Z"), at("2026-11-22T00:00:00Z"));
        let read = |oldest: Option<&str>| {
            BackfillProgress::Reading(EventsProgress {
                pages: 2,
                records: 200,
                oldest: oldest.map(at),
                newest: Some(end),
            })
        };
        let quarter = line(read(Some("2026-11-19T12:00:00Z")), start, end);
        assert!(quarter.contains(" 25%"), "{quarter}");
        assert!(
            quarter.contains("[########----------------------]"),
            "{quarter}"
        );
        assert!(quarter.ends_with("2 pages, 200 records"), "{quarter}");
        assert!(line(read(None), start, end).contains("  0%"));
        // A record older than the range (ElastiCache's clock) does not overflow the bar.
        let over = line(read(Some("2026-11-01T00:00:00Z")), start, end);
        assert!(
            over.contains("100%") && over.contains(&format!("[{}]", "#".repeat(BAR))),
            "{over}"
        );
    }

    #[test]
    fn storing_counts_events_and_nothing_to_store_is_done() {
        let (start, end) = (at("2026-11-12T00:00:00Z"), at("2026-11-22T00:00:00Z"));
        let half = line(
            BackfillProgress::Storing {
                done: 500,
                of: 1000,
            },
            start,
            end,
        );
        assert!(
            half.contains(" 50%") && half.ends_with("500 of 1000 events"),
            "{half}"
        );
        let nothing = line(BackfillProgress::Storing { done: 0, of: 0 }, start, end);
        assert!(nothing.contains("100%"), "{nothing}");
    }
}
