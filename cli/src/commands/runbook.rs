//! `cachewatch runbook`: the runbook of an event or maintenance, in the format asked for.

use std::io::Write;

use anyhow::anyhow;
use cachewatch_adapters::files::read_runbooks;
use cachewatch_core::drill::DrillFacts;
use cachewatch_core::enrich::{FactsSource, NoFacts};
use cachewatch_core::event::EventId;
use cachewatch_core::runbook::{Runbook, RunbookFormat, RunbookInput};
use cachewatch_core::store::EventStore;

use super::{Context, Failure, resolve_id};
use crate::args::RunbookArgs;

pub async fn run<S: EventStore>(
    ctx: &Context<S>,
    args: &RunbookArgs,
    out: &mut dyn Write,
) -> Result<(), Failure> {
    render(ctx, args, &NoFacts, out).await
}

/// The runbook, with what `facts` knows of the cluster.
pub async fn render<S: EventStore, F: FactsSource>(
    ctx: &Context<S>,
    args: &RunbookArgs,
    facts: &F,
    out: &mut dyn Write,
) -> Result<(), Failure> {
    let format = RunbookFormat::parse(&args.format).ok_or_else(|| {
        Failure::Input(anyhow!(
            "{:?} is not a runbook format: markdown, github, slack, text or html",
            args.format
        ))
    })?;
    let id = resolve_id(&ctx.store, &args.id).await?;
    let runbook = runbook_of(ctx, &id, facts).await?;
    write!(out, "{}", runbook.render(format))?;
    Ok(())
}

/// The runbook of the event or maintenance `id`, with what `facts` knows of the cluster: a
/// maintenance's runbook follows its latest event; an event asked for by id is that event.
pub async fn runbook_of<S: EventStore, F: FactsSource>(
    ctx: &Context<S>,
    id: &EventId,
    facts: &F,
) -> Result<Runbook, Failure> {
    let runbooks =
        read_runbooks(ctx.runbook_dir.as_deref()).map_err(|e| Failure::Input(e.into()))?;
    let maintenance = ctx.store.maintenance(id).await?;
    let mut events = Vec::new();
    for member in maintenance.iter().flat_map(|m| m.event_ids.iter()) {
        events.extend(ctx.store.event(member).await?);
    }
    let event = match (&maintenance, ctx.store.event(id).await?) {
        (Some(m), _) if m.id == *id => events.last().cloned(),
        (_, found) => found,
    }
    .ok_or_else(|| Failure::Other(anyhow!("event {id} disappeared while reading it")))?;
    // A drill's runbook assumes what its scenario does, as its alert did.
    let facts = DrillFacts { source: facts }
        .facts_for(&event, maintenance.as_ref())
        .await;
    let owners = ctx.config.owners();
    let mut input = RunbookInput::new(&event, &facts, &owners, ctx.now);
    if let Some(m) = &maintenance {
        input = input.with_maintenance(m, &events);
    }
    runbooks
        .render(&input)
        .map_err(|e| Failure::Input(e.into()))
}
