//! `cachewatch upcoming`: what is still ahead, soonest deadline first; with
//! `--service-updates`, the service updates not applied yet too.

use std::io::Write;

use anyhow::anyhow;
use cachewatch_core::cluster::kept::{FactsStore, facts_key};
use cachewatch_core::fleet::{ServiceUpdate, upcoming_digest};
use cachewatch_core::history::filters::is_region;
use cachewatch_core::history::store::EventStore;
use cachewatch_core::{Maintenance, MaintenanceEvent};
use serde_json::json;

use super::facts::{Asker, bounded, write_known};
use super::{Context, Failure, elasticache, write_json};
use crate::args::UpcomingArgs;
use crate::render;

pub async fn run<S: EventStore + FactsStore>(
    ctx: &Context<S>,
    args: &UpcomingArgs,
    out: &mut dyn Write,
) -> Result<(), Failure> {
    let place = Place::of(ctx, args)?;
    let mut maintenances = upcoming(ctx, args.drills).await?;
    maintenances.retain(|m| place.holds(m));
    if !(args.service_updates || ctx.elasticache.is_some()) {
        if args.json {
            return write_json(out, &maintenances);
        }
        render::upcoming_table(&maintenances, ctx.zone, ctx.now, out)?;
        return print_facts(ctx, &maintenances, args.offline, out).await;
    }
    let updates = service_updates(ctx).await?;
    if args.json {
        return write_json(
            out,
            &json!({ "maintenances": maintenances, "service_updates": updates }),
        );
    }
    render::upcoming_table(&maintenances, ctx.zone, ctx.now, out)?;
    print_facts(ctx, &maintenances, args.offline, out).await?;
    writeln!(out)?;
    render::service_updates_table(&updates, ctx.zone, ctx.now, out)
}

/// The account and Region `--account` and `--region` ask for.
struct Place {
    account: Option<String>,
    region: Option<String>,
}

impl Place {
    /// Read by the rules of the history's filters; an account may be given by its name.
    fn of<S>(ctx: &Context<S>, args: &UpcomingArgs) -> Result<Self, Failure> {
        let account = args
            .account
            .as_deref()
            .map(|raw| {
                ctx.config
                    .account_id_of(raw)
                    .map(str::to_owned)
                    .ok_or_else(|| {
                        Failure::Input(anyhow!(
                            "--account: {raw:?} is not an AWS account id (12 digits) or a name from [accounts]"
                        ))
                    })
            })
            .transpose()?;
        let region = args
            .region
            .as_deref()
            .map(|raw| {
                is_region(raw).then(|| raw.to_owned()).ok_or_else(|| {
                    Failure::Input(anyhow!(
                        "--region: {raw:?} is not an AWS Region code (like eu-west-1)"
                    ))
                })
            })
            .transpose()?;
        Ok(Self { account, region })
    }

    fn holds(&self, m: &Maintenance) -> bool {
        self.account
            .as_deref()
            .is_none_or(|a| m.account_id.as_deref() == Some(a))
            && self
                .region
                .as_deref()
                .is_none_or(|r| m.region.as_deref() == Some(r))
    }
}

/// What is known of each cluster ahead, each looked up once (a few at a time): the facts that
/// decide the impact and the impact as AWS documents it, or why nothing is known.
async fn print_facts<S: EventStore + FactsStore>(
    ctx: &Context<S>,
    maintenances: &[Maintenance],
    offline: bool,
    out: &mut dyn Write,
) -> Result<(), Failure> {
    let mut latest: Vec<(Maintenance, MaintenanceEvent)> = Vec::new();
    for m in maintenances {
        let Some(last) = m.event_ids.last() else {
            continue;
        };
        if let Some(event) = ctx.store.event(last).await?
            && !latest
                .iter()
                .any(|(_, e)| facts_key(e) == facts_key(&event))
        {
            latest.push((m.clone(), event));
        }
    }
    if latest.is_empty() {
        return Ok(());
    }
    let asker = Asker::choose(ctx, offline).await;
    let lookups = latest
        .iter()
        .map(|(m, e)| asker.known(&ctx.store, e, Some(m), ctx.now))
        .collect();
    writeln!(out)?;
    writeln!(out, "What is known of each cluster:")?;
    for known in bounded(lookups).await {
        writeln!(out, "{}", known.cluster)?;
        write_known(&known, ctx.now, out)?;
    }
    Ok(())
}

/// Prints the maintenances ahead as a table.
pub async fn print<S: EventStore>(
    ctx: &Context<S>,
    drills: bool,
    out: &mut dyn Write,
) -> Result<(), Failure> {
    let upcoming = upcoming(ctx, drills).await?;
    render::upcoming_table(&upcoming, ctx.zone, ctx.now, out)
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

/// The service updates not applied yet, overdue first, then by apply-by date.
async fn service_updates<S>(ctx: &Context<S>) -> Result<Vec<ServiceUpdate>, Failure> {
    let updates = elasticache()
        .await
        .pending_service_updates()
        .await
        .map_err(|e| Failure::Other(anyhow!(e).context("cannot list the service updates")))?;
    // The digest's order: overdue first, then by apply-by date, those without one last.
    Ok(upcoming_digest(&[], &updates, ctx.now, chrono::Duration::zero()).updates)
}
