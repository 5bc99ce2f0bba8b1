//! `cachewatch show`: one event and its maintenance, with what is known of the cluster.

use std::io::Write;

use cachewatch_core::cluster::kept::FactsStore;
use cachewatch_core::history::store::EventStore;
use serde::Serialize;

use super::facts::{Asker, Known, write_known};
use super::{Context, Failure, resolve_id, write_json};
use crate::args::ShowArgs;
use crate::render;

#[derive(Serialize)]
struct Shown<'a> {
    event: &'a cachewatch_core::MaintenanceEvent,
    maintenance: Option<&'a cachewatch_core::Maintenance>,
    events: &'a [cachewatch_core::MaintenanceEvent],
    #[serde(skip_serializing_if = "Option::is_none")]
    facts: Option<&'a Known>,
}

pub async fn run<S: EventStore + FactsStore>(
    ctx: &Context<S>,
    args: &ShowArgs,
    out: &mut dyn Write,
) -> Result<(), Failure> {
    let asker = Asker::choose(ctx, args.offline).await;
    details(ctx, &args.id, args.json, Some(&asker), out).await
}

/// The event `raw` names and its maintenance; with what `asker` learns of the cluster, if given.
pub async fn details<S: EventStore + FactsStore>(
    ctx: &Context<S>,
    raw: &str,
    json: bool,
    asker: Option<&Asker<'_>>,
    out: &mut dyn Write,
) -> Result<(), Failure> {
    let id = resolve_id(&ctx.store, raw).await?;
    let Some(event) = ctx.store.event(&id).await? else {
        return Err(Failure::Other(anyhow::anyhow!(
            "event {id} disappeared while reading it"
        )));
    };
    let maintenance = ctx.store.maintenance(&id).await?;
    let mut events = Vec::new();
    if let Some(m) = &maintenance {
        for member in &m.event_ids {
            if let Some(e) = ctx.store.event(member).await? {
                events.push(e);
            }
        }
    }
    let known = match asker {
        Some(asker) => Some(
            asker
                .known(&ctx.store, &event, maintenance.as_ref(), ctx.now)
                .await,
        ),
        None => None,
    };
    if json {
        write_json(
            out,
            &Shown {
                event: &event,
                maintenance: maintenance.as_ref(),
                events: &events,
                facts: known.as_ref(),
            },
        )
    } else {
        render::event_details(&event, ctx.zone, ctx.now, out)?;
        if let Some(known) = &known {
            write_known(known, ctx.now, out)?;
        }
        if let Some(m) = &maintenance {
            writeln!(out)?;
            render::maintenance_details(m, &events, ctx.zone, ctx.now, out)?;
        }
        Ok(())
    }
}
