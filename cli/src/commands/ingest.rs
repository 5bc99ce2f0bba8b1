//! `cachewatch ingest`: parse an input whole, then store it (a large input in chunks, with a
//! progress bar on a terminal).

use std::io::Write;

use anyhow::anyhow;
use cachewatch_core::delivery::DeliveryStore;
use cachewatch_core::parse::{ParseContext, read_document};
use cachewatch_core::response::ResponseStore;
use cachewatch_core::store::EventStore;
use cachewatch_core::{IngestOutcome, MaintenanceEvent, ingest};
use serde::Serialize;

use super::{Context, Failure, notify, read_input, write_json};
use crate::args::IngestArgs;
use crate::{output, progress};

/// How many events of a large input one store call takes: progress is shown between them.
const CHUNK: usize = 500;

/// A normalized event with whether this input added it.
#[derive(Serialize)]
pub struct Ingested<'a> {
    #[serde(flatten)]
    event: &'a cachewatch_core::MaintenanceEvent,
    new: bool,
}

pub async fn run<S: EventStore + DeliveryStore + ResponseStore>(
    ctx: &Context<S>,
    args: &IngestArgs,
    out: &mut dyn Write,
) -> Result<(), Failure> {
    let text = read_input(&args.input)?;
    let (events, skipped) = parse_text(ctx, &text, &args.input)?;
    let outcome = if events.len() > CHUNK {
        store_in_chunks(ctx, events).await?
    } else {
        ingest(&ctx.store, events, &ctx.config.alerts).await?
    };
    if args.json {
        write_json(out, &ingested(&outcome))?;
    } else if !output::quiet() {
        writeln!(out, "{}", summary(&outcome))?;
    }
    if skipped > 0 && !output::quiet() {
        // On standard error: standard output may be JSON.
        eprintln!(
            "{skipped} line{} skipped: not events",
            if skipped == 1 { "" } else { "s" }
        );
    }
    notify::alert_or_preview(ctx, &ctx.elasticache, &outcome, args.json, out).await
}

/// The events of an ingest, each with whether it was new, for JSON.
pub fn ingested(outcome: &IngestOutcome) -> Vec<Ingested<'_>> {
    outcome
        .events
        .iter()
        .map(|e| Ingested {
            event: &e.event,
            new: e.new,
        })
        .collect()
}

/// Parses `text` whole (nothing is stored if any of it is wrong), then ingests it; with the
/// number of pasted lines that were not events.
pub async fn ingest_text<S: EventStore>(
    ctx: &Context<S>,
    text: &str,
    name: &str,
) -> Result<(IngestOutcome, usize), Failure> {
    let (events, skipped) = parse_text(ctx, text, name)?;
    Ok((
        ingest(&ctx.store, events, &ctx.config.alerts).await?,
        skipped,
    ))
}

/// Parses `text` whole: every event and how many pasted lines were not events, or an error
/// naming the input.
fn parse_text<S>(
    ctx: &Context<S>,
    text: &str,
    name: &str,
) -> Result<(Vec<MaintenanceEvent>, usize), Failure> {
    let document = read_document(text, &ParseContext::received_at(ctx.now)).map_err(|e| {
        let name = if name == "-" { "standard input" } else { name };
        Failure::Input(anyhow!("{name}: {e}; nothing was stored"))
    })?;
    Ok((document.events, document.skipped_lines))
}

/// Stores a large input [`CHUNK`] events at a time, in input order, with a progress bar on a
/// terminal. What one chunk stores, the next one's candidates see, so an occurrence is still
/// stored once.
async fn store_in_chunks<S: EventStore>(
    ctx: &Context<S>,
    events: Vec<MaintenanceEvent>,
) -> Result<IngestOutcome, Failure> {
    let of = events.len();
    let bar = progress::bar(false);
    let mut outcome = IngestOutcome::default();
    let mut done = 0;
    let mut rest = events.into_iter().peekable();
    while rest.peek().is_some() {
        progress::show(
            &bar,
            "storing",
            done as u64,
            of as u64,
            format!("{done} of {}", progress::count(of, "event")),
        );
        let chunk: Vec<_> = rest.by_ref().take(CHUNK).collect();
        done += chunk.len();
        let stored = ingest(&ctx.store, chunk, &ctx.config.alerts).await?;
        outcome.events.extend(stored.events);
        outcome.maintenances.extend(stored.maintenances);
    }
    bar.finish_and_clear();
    Ok(outcome)
}

/// `N events, M new`.
pub fn summary(outcome: &IngestOutcome) -> String {
    let n = outcome.events.len();
    format!(
        "{n} event{}, {} new",
        if n == 1 { "" } else { "s" },
        outcome.new_count()
    )
}
