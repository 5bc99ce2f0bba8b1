//! `cachewatch ingest`: parse an input whole, then store it.

use std::io::Write;

use anyhow::anyhow;
use cachewatch_core::delivery::DeliveryStore;
use cachewatch_core::parse::{ParseContext, read_document};
use cachewatch_core::response::ResponseStore;
use cachewatch_core::store::EventStore;
use cachewatch_core::{IngestOutcome, ingest};
use serde::Serialize;

use super::{Context, Failure, notify, read_input, write_json};
use crate::args::IngestArgs;

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
    let (outcome, skipped) = ingest_text(ctx, &text, &args.input).await?;
    if args.json {
        write_json(out, &ingested(&outcome))?;
    } else {
        writeln!(out, "{}", summary(&outcome))?;
    }
    if skipped > 0 {
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
    let document = read_document(text, &ParseContext::received_at(ctx.now)).map_err(|e| {
        let name = if name == "-" { "standard input" } else { name };
        Failure::Input(anyhow!("{name}: {e}; nothing was stored"))
    })?;
    let outcome = ingest(&ctx.store, document.events, &ctx.config.alerts).await?;
    Ok((outcome, document.skipped_lines))
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
