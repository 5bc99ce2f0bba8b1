//! `cachewatch ingest`: an input read whole, then stored through the one ingest entry (a large
//! input in chunks, with a progress bar on a terminal) and alerted; JSON Lines (a history of
//! millions of events) read and stored a run of lines at a time, in one transaction.

use std::io::Write;

use anyhow::anyhow;
use cachewatch_adapters::chat::Chat;
use cachewatch_app::{Alerting, Door, ImportError, IngestError, IngestRequest, Input, Ports};
use cachewatch_core::IngestOutcome;
use cachewatch_core::alerting::notify::NotifySettings;
use cachewatch_core::runbook::Runbooks;
use serde::Serialize;

use super::lines::{self, Opened, Runs};
use super::{Context, Failure, read_input, write_json};
use crate::args::IngestArgs;
use crate::commands::notify::Sending;
use crate::{output, progress};

/// Inputs of more events than this show a progress bar while they are stored.
const SHOWN_FROM: usize = 500;

/// A normalized event with whether this input added it.
#[derive(Serialize)]
pub struct Ingested<'a> {
    #[serde(flatten)]
    event: &'a cachewatch_core::MaintenanceEvent,
    new: bool,
}

pub async fn run<S: cachewatch_app::Store>(
    ctx: &Context<S>,
    args: &IngestArgs,
    out: &mut dyn Write,
) -> Result<(), Failure> {
    let sending = Sending::from_env(ctx).await?;
    let bar = progress::bar(false);
    let text = if args.json {
        // Every event is printed: the input is read whole.
        read_input(&args.input)?
    } else {
        match lines::open(&args.input, bar.clone())? {
            Opened::Whole(text) => text,
            Opened::Lines(mut runs) => return import(ctx, &sending, args, &mut runs, out).await,
        }
    };
    let mut storing = |done: usize, of: usize| {
        if of > SHOWN_FROM && done < of {
            let message = format!("{done} of {}", progress::count(of, "event"));
            progress::show(&bar, "storing", done as u64, of as u64, message);
        }
    };
    let done = sending
        .ingest(
            ctx,
            &ctx.facts,
            Door::Text,
            Input::Document(&text),
            Some(&mut storing),
        )
        .await;
    bar.finish_and_clear();
    let done = done.map_err(|e| refused(e, &args.input))?;
    let outcome = &done.outcome;
    if args.json {
        write_json(out, &ingested(outcome))?;
    } else if !output::quiet() {
        writeln!(out, "{}", summary(outcome))?;
    }
    let skipped = done.skipped_lines;
    if skipped > 0 && !output::quiet() {
        // On standard error: standard output may be JSON.
        eprintln!(
            "{skipped} line{} skipped: not events",
            if skipped == 1 { "" } else { "s" }
        );
    }
    sending
        .report(ctx, &ctx.facts, outcome, done.alerts, args.json, out)
        .await
}

/// A JSON Lines input imported a run of lines at a time, whole or not at all.
async fn import<S: cachewatch_app::Store>(
    ctx: &Context<S>,
    sending: &Sending,
    args: &IngestArgs,
    runs: &mut Runs,
    out: &mut dyn Write,
) -> Result<(), Failure> {
    let imported = sending
        .import(ctx, &ctx.facts, Door::Text, runs)
        .await
        .map_err(|e| match e {
            ImportError::Read(e) => Failure::Input(anyhow!(e).context(unreadable(&args.input))),
            ImportError::Parse(e) => refused(IngestError::Parse(e), &args.input),
            ImportError::Store(e) => refused(IngestError::Store(e), &args.input),
        })?;
    if !output::quiet() {
        writeln!(out, "{}", counted(imported.events, imported.new))?;
    }
    sending
        .report(
            ctx,
            &ctx.facts,
            &imported.outcome,
            imported.alerts,
            false,
            out,
        )
        .await
}

fn unreadable(name: &str) -> String {
    if name == "-" {
        "cannot read standard input".to_owned()
    } else {
        format!("cannot read {name}")
    }
}

/// An ingest refused: an input that does not read is the person's to fix (nothing was stored).
pub fn refused(e: IngestError, name: &str) -> Failure {
    match e {
        IngestError::Parse(e) => {
            let name = if name == "-" { "standard input" } else { name };
            Failure::Input(anyhow!("{name}: {e}; nothing was stored"))
        }
        IngestError::Store(e) => e.into(),
    }
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

/// Reads `text` whole (nothing is stored if any of it is wrong) and stores it, sending no alert;
/// with the number of pasted lines that were not events.
pub async fn ingest_text<S: cachewatch_app::Store>(
    ctx: &Context<S>,
    settings: &NotifySettings,
    text: &str,
    name: &str,
) -> Result<(IngestOutcome, usize), Failure> {
    let runbooks = Runbooks::embedded();
    let ports: Ports<'_, S, Chat, _> = Ports {
        store: &ctx.store,
        chat: None,
        facts: &ctx.facts,
        runbooks: &runbooks,
    };
    let request = IngestRequest {
        door: Door::Text,
        input: Input::Document(text),
        config: &ctx.config,
        settings,
        alerting: Alerting::Later,
        progress: None,
        now: ctx.now,
    };
    let ingested = cachewatch_app::ingest(ports, request)
        .await
        .map_err(|e| refused(e, name))?;
    Ok((ingested.outcome, ingested.skipped_lines))
}

/// `N events, M new`.
pub fn summary(outcome: &IngestOutcome) -> String {
    counted(outcome.events.len(), outcome.new_count())
}

/// `N events, M new`.
fn counted(n: usize, new: usize) -> String {
    format!("{n} event{}, {new} new", if n == 1 { "" } else { "s" })
}
