//! `cachewatch backfill`: what DescribeEvents still keeps, through the one ingest entry, with a
//! progress bar on standard error.

use std::io::Write;

use anyhow::anyhow;
use cachewatch_adapters::elasticache::{BackfillProgress, EVENT_RETENTION, EventQuery};
use cachewatch_core::history::query::parse_when;
use chrono::{DateTime, Duration, Utc};

use cachewatch_app::{Door, Input};

use super::notify::Sending;
use super::{Context, Failure, elasticache, ingest, write_json};
use crate::args::BackfillArgs;
use crate::{output, progress};

pub async fn run<S: cachewatch_app::Store>(
    ctx: &Context<S>,
    args: &BackfillArgs,
    out: &mut dyn Write,
) -> Result<(), Failure> {
    let start = start_of(ctx, args)?;
    let query = EventQuery::between(start, ctx.now);
    let sending = Sending::from_env(ctx).await?;
    let bar = progress::bar(args.progress);
    let show = |p| {
        let (name, done, of, message) = phase(p, start, ctx.now);
        progress::show(&bar, name, done, of, message);
    };
    let elasticache = elasticache().await;
    let read = elasticache
        .backfill(&query, ctx.now, &mut |p| show(BackfillProgress::Reading(p)))
        .await;
    let backfill = match read {
        Ok(backfill) => backfill,
        Err(e) => {
            bar.finish();
            return Err(Failure::Other(anyhow!(e).context("the backfill stopped")));
        }
    };
    let (records, rejected) = (backfill.records, backfill.rejected);
    let ingested = sending
        .ingest(
            ctx,
            &elasticache,
            Door::Backfill,
            Input::Events(backfill.events),
            Some(&mut |done, of| show(BackfillProgress::Storing { done, of })),
        )
        .await;
    bar.finish();
    let ingested = ingested
        .map_err(|e| Failure::Other(anyhow::Error::from(e).context("the backfill stopped")))?;
    let outcome = &ingested.outcome;

    if args.json {
        write_json(out, &ingest::ingested(outcome))?;
    } else {
        let new = outcome.new_count();
        let known = outcome.events.len() - new;
        writeln!(
            out,
            "Read {records} record{} from DescribeEvents, {} to {}: {new} new, {known} already in the history, {} not readable",
            if records == 1 { "" } else { "s" },
            ctx.zone.format(start),
            ctx.zone.format(ctx.now),
            rejected.len(),
        )?;
    }
    for rejected in &rejected {
        eprintln!(
            "cachewatch: not an event cachewatch reads ({} {}, {}): {:?}: {}",
            rejected.record.source_type,
            rejected.record.source_identifier,
            ctx.zone.format(rejected.record.date),
            rejected.record.message,
            rejected.error
        );
    }
    sending
        .report(ctx, &elasticache, outcome, ingested.alerts, args.json, out)
        .await
}

/// Where the backfill starts: `--since`, `--hours` or ElastiCache's whole retention, and never
/// before what ElastiCache still keeps (said when asked for).
fn start_of<S>(ctx: &Context<S>, args: &BackfillArgs) -> Result<DateTime<Utc>, Failure> {
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
        output::note(format_args!(
            "ElastiCache keeps events for 14 days: reading from {} on",
            ctx.zone.format(kept_from)
        ));
    }
    Ok(start.max(kept_from))
}

/// Where the work is: while reading, how much of the time range is read (DescribeEvents answers
/// newest first), in seconds; while storing, how many events are stored. The phase, done, of, and
/// what is counted.
fn phase(
    p: BackfillProgress,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
) -> (&'static str, u64, u64, String) {
    match p {
        BackfillProgress::Reading(read) => {
            let span = (end - start).num_seconds().max(1);
            let covered = read
                .oldest
                .map_or(0, |oldest| (end - oldest).num_seconds().clamp(0, span));
            (
                "reading",
                covered as u64,
                span as u64,
                format!(
                    "{}, {}",
                    progress::count(read.pages, "page"),
                    progress::count(read.records, "record")
                ),
            )
        }
        BackfillProgress::Storing { done, of } => (
            "storing",
            done as u64,
            of as u64,
            format!("{done} of {}", progress::count(of, "event")),
        ),
    }
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
        let (name, done, of, message) = phase(read(Some("2026-11-19T12:00:00Z")), start, end);
        assert_eq!((name, done * 4), ("reading", of));
        assert_eq!(message, "2 pages, 200 records");
        assert_eq!(phase(read(None), start, end).1, 0);
        // A record older than the range (ElastiCache's clock) does not overflow the bar.
        let (_, done, of, _) = phase(read(Some("2026-11-01T00:00:00Z")), start, end);
        assert_eq!(done, of);
    }

    #[test]
    fn storing_counts_events() {
        let (start, end) = (at("2026-11-12T00:00:00Z"), at("2026-11-22T00:00:00Z"));
        let half = phase(
            BackfillProgress::Storing {
                done: 500,
                of: 1000,
            },
            start,
            end,
        );
        assert_eq!(
            half,
            ("storing", 500, 1000, "500 of 1000 events".to_owned())
        );
    }
}
