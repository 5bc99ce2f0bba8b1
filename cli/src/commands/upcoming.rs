//! `cachewatch upcoming`: what is still ahead, soonest deadline first.

use std::io::Write;

use cachewatch_core::Maintenance;
use cachewatch_core::store::EventStore;

use super::{Context, Failure, write_json};
use crate::render;

pub async fn run<S: EventStore>(
    ctx: &Context<S>,
    json: bool,
    drills: bool,
    out: &mut dyn Write,
) -> Result<(), Failure> {
    let upcoming = upcoming(ctx, drills).await?;
    if json {
        write_json(out, &upcoming)
    } else {
        render::upcoming_table(&upcoming, ctx.zone, ctx.now, out)
    }
}

/// Maintenances whose window has not ended, soonest deadline first (those without a window last).
pub async fn upcoming<S: EventStore>(
    ctx: &Context<S>,
    drills: bool,
) -> Result<Vec<Maintenance>, Failure> {
    let mut found = ctx.store.open_maintenances(ctx.now, drills).await?;
    found.sort_by_key(|m| (m.deadline().is_none(), m.deadline(), m.id.clone()));
    Ok(found)
}
