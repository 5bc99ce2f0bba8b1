//! `cachewatch runbook`: the runbook of an event or maintenance, in the format asked for.

use std::io::Write;

use anyhow::anyhow;
use cachewatch_adapters::aws::credentials_configured;
use cachewatch_adapters::elasticache::ElastiCache;
use cachewatch_adapters::files::read_runbooks;
use cachewatch_core::drill::DrillFacts;
use cachewatch_core::enrich::{FactsSource, NoFacts};
use cachewatch_core::event::EventId;
use cachewatch_core::facts::ClusterFacts;
use cachewatch_core::runbook::{Runbook, RunbookFormat, RunbookInput};
use cachewatch_core::store::EventStore;

use super::{Context, Failure, resolve_id};
use crate::args::RunbookArgs;

/// Renders the runbook with what ElastiCache says of the cluster when AWS credentials are at
/// hand (the same lookup as the functions'), and without looking anything up with `--offline`.
pub async fn run<S: EventStore>(
    ctx: &Context<S>,
    args: &RunbookArgs,
    out: &mut dyn Write,
) -> Result<(), Failure> {
    if args.offline {
        return render(ctx, args, &NoFacts, out).await;
    }
    match &ctx.elasticache {
        Some(elasticache) => render(ctx, args, &Looked(elasticache), out).await,
        None if credentials_configured() => {
            render(ctx, args, &Looked(&super::elasticache().await), out).await
        }
        None => render(ctx, args, &NoFacts, out).await,
    }
}

/// A lookup in ElastiCache, which the runbook names with the time it was made.
struct Looked<'a>(&'a ElastiCache);

impl FactsSource for Looked<'_> {
    async fn facts_for(
        &self,
        event: &cachewatch_core::MaintenanceEvent,
        maintenance: Option<&cachewatch_core::Maintenance>,
    ) -> ClusterFacts {
        self.0.facts_for(event, maintenance).await
    }

    fn looks_up(&self) -> bool {
        true
    }
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
    let source = facts;
    let facts = DrillFacts { source: facts }
        .facts_for(&event, maintenance.as_ref())
        .await;
    let owners = ctx.config.owners();
    let mut input = RunbookInput::new(&event, &facts, &owners, ctx.now);
    if source.looks_up() && !event.drill {
        input = input.with_facts_read_at(ctx.now);
    }
    if let Some(m) = &maintenance {
        input = input.with_maintenance(m, &events);
    }
    runbooks
        .render(&input)
        .map_err(|e| Failure::Input(e.into()))
}
