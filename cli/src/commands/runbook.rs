//! `cachewatch runbook`: the runbook of an event or maintenance, in the format asked for.

use std::io::Write;

use anyhow::anyhow;
use cachewatch_adapters::files::read_runbooks;
use cachewatch_core::cluster::facts::ClusterFacts;
use cachewatch_core::cluster::kept::{FactsStore, Rehearsal, last_rehearsal};
use cachewatch_core::cluster::source::{FactsSource, NoFacts};
use cachewatch_core::history::response::ResponseStore;
use cachewatch_core::history::store::EventStore;
use cachewatch_core::model::event::EventId;
use cachewatch_core::operations::drill::DrillFacts;
use cachewatch_core::runbook::{Runbook, RunbookFormat, RunbookInput};
use cachewatch_core::{EventQuery, MaintenanceEvent};

use super::facts::{Asker, Looked, NOT_LOOKED_UP, known_facts};
use super::{Context, Failure, resolve_id};
use crate::args::RunbookArgs;

/// Renders the runbook with what ElastiCache says of the cluster when AWS credentials are at
/// hand (the same lookup as the functions'), and without looking anything up with `--offline`:
/// then with the facts kept from the last lookup, if any, and their age.
pub async fn run<S: EventStore + FactsStore + ResponseStore>(
    ctx: &Context<S>,
    args: &RunbookArgs,
    out: &mut dyn Write,
) -> Result<(), Failure> {
    let asker = Asker::choose(ctx, args.offline).await;
    match asker.client() {
        Some(client) => render_with(ctx, args, &Looked(client), NOT_LOOKED_UP, out).await,
        None => render_with(ctx, args, &NoFacts, asker.why_not(), out).await,
    }
}

/// The runbook, with what `facts` knows of the cluster.
pub async fn render<S: EventStore + FactsStore + ResponseStore, F: FactsSource>(
    ctx: &Context<S>,
    args: &RunbookArgs,
    facts: &F,
    out: &mut dyn Write,
) -> Result<(), Failure> {
    render_with(ctx, args, facts, NOT_LOOKED_UP, out).await
}

/// The runbook, with what `facts` knows of the cluster, or else the facts kept, not read now
/// because `why_not`.
async fn render_with<S: EventStore + FactsStore + ResponseStore, F: FactsSource>(
    ctx: &Context<S>,
    args: &RunbookArgs,
    facts: &F,
    why_not: &str,
    out: &mut dyn Write,
) -> Result<(), Failure> {
    let format = RunbookFormat::parse(&args.format).ok_or_else(|| {
        Failure::Input(anyhow!(
            "{:?} is not a runbook format: markdown, github, slack, text or html",
            args.format
        ))
    })?;
    let id = resolve_id(&ctx.store, &args.id).await?;
    let runbook = runbook_explained(ctx, &id, facts, why_not).await?;
    write!(out, "{}", runbook.render(format))?;
    Ok(())
}

/// The runbook of the event or maintenance `id`, with what `facts` knows of the cluster (a
/// maintenance's runbook follows its latest event; an event asked for by id is that event),
/// saying `why_not` when the facts come from the history rather than from a lookup now.
async fn runbook_explained<S: EventStore + FactsStore + ResponseStore, F: FactsSource>(
    ctx: &Context<S>,
    id: &EventId,
    facts: &F,
    why_not: &str,
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
    let known = if event.drill {
        None
    } else {
        Some(
            known_facts(
                &ctx.store,
                facts,
                &event,
                maintenance.as_ref(),
                ctx.now,
                why_not,
            )
            .await,
        )
    };
    let facts = match &known {
        Some(known) => known.facts.clone(),
        None => {
            DrillFacts { source: facts }
                .facts_for(&event, maintenance.as_ref())
                .await
        }
    };
    let rehearsal = match event.drill {
        true => None,
        false => rehearsal_of(&ctx.store, &event, &facts).await?,
    };
    let owners = ctx.config.owners();
    let mut input = RunbookInput::new(&event, &facts, &owners, ctx.now);
    match known
        .as_ref()
        .map(|k| (k.read_at, k.fresh, k.why_not_now.as_deref()))
    {
        Some((Some(at), true, _)) => input = input.with_facts_read_at(at),
        Some((Some(at), false, Some(why))) => input = input.with_kept_facts(at, why),
        _ => {}
    }
    if let Some(rehearsal) = &rehearsal {
        input = input.with_rehearsal(rehearsal);
    }
    if let Some(m) = &maintenance {
        input = input.with_maintenance(m, &events);
    }
    runbooks
        .render(&input)
        .map_err(|e| Failure::Input(e.into()))
}

/// The team's latest measured rehearsal of the event's replication group (or cluster).
async fn rehearsal_of<S: EventStore + ResponseStore>(
    store: &S,
    event: &MaintenanceEvent,
    facts: &ClusterFacts,
) -> Result<Option<Rehearsal>, Failure> {
    let subject = facts
        .replication_group_id
        .clone()
        .or_else(|| event.replication_group_id.as_ref().map(ToString::to_string))
        .unwrap_or_else(|| event.source_id.to_string());
    let query = EventQuery {
        cluster: Some(subject),
        include_drills: true,
        limit: REHEARSALS_READ,
        ..EventQuery::default()
    };
    let drills: Vec<MaintenanceEvent> = store
        .search(&query)
        .await?
        .into_iter()
        .filter(|e| e.drill)
        .collect();
    if drills.is_empty() {
        return Ok(None);
    }
    let ids: Vec<EventId> = drills.iter().map(|e| e.id.clone()).collect();
    let outcomes = store.outcomes(&ids).await?;
    Ok(last_rehearsal(&drills, &outcomes))
}

/// How many of a cluster's latest events are read for its rehearsals.
const REHEARSALS_READ: usize = 500;
