//! `cachewatch show`: one event and its maintenance.

use std::io::Write;

use cachewatch_core::store::EventStore;
use serde::Serialize;

use super::{Context, Failure, resolve_id, write_json};
use crate::render;

#[derive(Serialize)]
struct Shown<'a> {
    event: &'a cachewatch_core::MaintenanceEvent,
    maintenance: Option<&'a cachewatch_core::Maintenance>,
    events: &'a [cachewatch_core::MaintenanceEvent],
}

pub async fn run<S: EventStore>(
    ctx: &Context<S>,
    raw: &str,
    json: bool,
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
    if json {
        write_json(
            out,
            &Shown {
                event: &event,
                maintenance: maintenance.as_ref(),
                events: &events,
            },
        )
    } else {
        render::event_details(&event, ctx.zone, ctx.now, out)?;
        if let Some(m) = &maintenance {
            writeln!(out)?;
            render::maintenance_details(m, &events, ctx.zone, ctx.now, out)?;
        }
        Ok(())
    }
}
