//! `cachewatch ingest`: parse an input whole, then store it.

use std::io::Write;

use anyhow::anyhow;
use cachewatch_core::delivery::DeliveryStore;
use cachewatch_core::parse::{ParseContext, parse_document};
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
    let outcome = ingest_text(ctx, &text, &args.input).await?;
    if args.json {
        write_json(out, &ingested(&outcome))?;
    } else {
        writeln!(out, "{}", summary(&outcome))?;
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

/// Parses `text` whole (nothing is stored if any of it is wrong), then ingests it.
pub async fn ingest_text<S: EventStore>(
    ctx: &Context<S>,
    text: &str,
    name: &str,
) -> Result<IngestOutcome, Failure> {
    let events = parse_document(text, &ParseContext::received_at(ctx.now)).map_err(|e| {
        let name = if name == "-" { "standard input" } else { name };
        Failure::Input(anyhow!("{name}: {e}; nothing was stored"))
    })?;
    Ok(ingest(&ctx.store, events, &ctx.config.alerts).await?)
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
