//! `cachewatch drill`: rehearse a maintenance or a failure through the real pipeline, and measure
//! how it went.
//!
//! `drill start` injects the scenario's events (marked as a drill) through the same ingest,
//! lifecycle, alerts and runbooks as `cachewatch ingest`; `failure-menu` prints a plan instead.
//! `drill report` measures each run from what people recorded, through Slack or the CLI
//! (`cachewatch_app::drill`).

use std::io::Write;

use anyhow::anyhow;
use cachewatch_core::Maintenance;
use cachewatch_core::model::ids::{ClusterId, NodeId, ReplicationGroupId};
use cachewatch_core::model::timefmt::human_duration;
use cachewatch_core::operations::drill::menu::{Topology, failure_menu, render_markdown};
use cachewatch_core::operations::drill::report::DrillReport;
use cachewatch_core::operations::drill::{DrillTarget, Scenario, events_for};
use chrono::Duration;
use serde::Serialize;
use serde_json::json;

use super::ingest::{Ingested, ingested, summary};
use super::notify::Sending;
use super::{Context, Failure, unresolved, write_json};
use crate::args::{DrillArgs, DrillCommand, DrillListArgs, DrillReportArgs, DrillStartArgs};
use cachewatch_app::drill::{self, DrillError};
use cachewatch_app::{Door, Input};

pub async fn run<S: cachewatch_app::Store>(
    ctx: &Context<S>,
    args: &DrillArgs,
    out: &mut dyn Write,
) -> Result<(), Failure> {
    match &args.command {
        DrillCommand::List(args) => list(args, out),
        DrillCommand::Start(args) => start(ctx, args, out).await,
        DrillCommand::Report(args) => report_drills(ctx, args, out).await,
    }
}

fn list(args: &DrillListArgs, out: &mut dyn Write) -> Result<(), Failure> {
    if args.json {
        let scenarios: Vec<_> = Scenario::ALL
            .iter()
            .map(|s| json!({"name": s.name(), "description": s.description()}))
            .collect();
        return write_json(out, &scenarios);
    }
    for s in Scenario::ALL {
        writeln!(out, "{}\n    {}\n", s.name(), s.description())?;
    }
    writeln!(
        out,
        "Run one: cachewatch drill start --scenario NAME --cluster ID [--node ID]"
    )?;
    Ok(())
}

fn input(e: impl std::fmt::Display) -> Failure {
    Failure::Input(anyhow!("{e}"))
}

/// What `drill start --json` prints.
#[derive(Serialize)]
struct Started<'a> {
    drill_id: &'a str,
    scenario: &'static str,
    events: Vec<Ingested<'a>>,
    maintenances: Vec<&'a Maintenance>,
}

async fn start<S: cachewatch_app::Store>(
    ctx: &Context<S>,
    args: &DrillStartArgs,
    out: &mut dyn Write,
) -> Result<(), Failure> {
    let scenario = Scenario::parse(&args.scenario).map_err(input)?;
    if scenario == Scenario::FailureMenu {
        return menu(ctx, args, out).await;
    }
    let target = target_of(args)?;
    let drill = events_for(scenario, &target, ctx.now).map_err(input)?;
    let sending = Sending::from_env(ctx).await?;
    let stored = sending
        .ingest(
            ctx,
            &ctx.facts,
            Door::Drill,
            Input::Events(drill.events),
            None,
        )
        .await
        .map_err(|e| super::ingest::refused(e, "the drill"))?;
    let outcome = &stored.outcome;
    let id = drill.id.to_string();
    let maintenances: Vec<&Maintenance> = outcome
        .maintenances
        .values()
        .flatten()
        .filter(|m| {
            m.drill
                && outcome
                    .events
                    .iter()
                    .any(|e| m.event_ids.contains(&e.event.id))
        })
        .collect();
    if args.json {
        write_json(
            out,
            &Started {
                drill_id: &id,
                scenario: scenario.name(),
                events: ingested(outcome),
                maintenances,
            },
        )?;
    } else {
        print_started(out, scenario, &target, outcome, &maintenances, &id)?;
    }
    sending
        .report(ctx, &ctx.facts, outcome, stored.alerts, args.json, out)
        .await
}

/// The cluster, node and group a drill plays on, as given.
fn target_of(args: &DrillStartArgs) -> Result<DrillTarget, Failure> {
    Ok(DrillTarget {
        cluster: ClusterId::parse(&args.cluster).map_err(input)?,
        node: args
            .node
            .as_deref()
            .map(NodeId::parse)
            .transpose()
            .map_err(input)?,
        replication_group: args
            .replication_group
            .as_deref()
            .map(ReplicationGroupId::parse)
            .transpose()
            .map_err(input)?,
    })
}

/// What a drill started, and the commands that follow it.
fn print_started(
    out: &mut dyn Write,
    scenario: Scenario,
    target: &DrillTarget,
    outcome: &cachewatch_core::IngestOutcome,
    maintenances: &[&Maintenance],
    id: &str,
) -> Result<(), Failure> {
    writeln!(
        out,
        "🧪 DRILL {} on {}: {}, marked as a drill.",
        scenario.name(),
        target.cluster,
        summary(outcome)
    )?;
    for m in maintenances {
        if let Some(previous) = &m.repeat_of {
            writeln!(
                out,
                "Maintenance {} is a repeat: the node's previous replacement {} ended shortly before.",
                m.id.short(),
                previous.short()
            )?;
        }
    }
    writeln!(out, "\nDrill id: {id}")?;
    writeln!(out, "  its runbook:     cachewatch runbook {id}")?;
    writeln!(out, "  take it on:      cachewatch ack {id}")?;
    writeln!(out, "  a step done:     cachewatch step {id} 1")?;
    writeln!(
        out,
        "  how it went:     cachewatch outcome {id} --handled manual-failover --site-maintenance no --downtime 2m"
    )?;
    writeln!(out, "  the times:       cachewatch drill report {id}")?;
    writeln!(out)?;
    Ok(())
}

/// `drill start --scenario failure-menu`: the plan for the topology given, or ElastiCache's.
async fn menu<S>(
    ctx: &Context<S>,
    args: &DrillStartArgs,
    out: &mut dyn Write,
) -> Result<(), Failure> {
    let group = args.replication_group.clone().unwrap_or_else(|| {
        ClusterId::parse(&args.cluster)
            .ok()
            .and_then(|c| c.group_guess().map(str::to_owned))
            .unwrap_or_else(|| args.cluster.trim().to_owned())
    });
    let (shards, replicas) = match (args.shards, args.replicas) {
        (Some(shards), Some(replicas)) => (shards, replicas),
        (shards, replicas) => {
            let known = known_shape(ctx, &group).await;
            match (shards.or(known.0), replicas.or(known.1)) {
                (Some(s), Some(r)) => (s, r),
                _ => {
                    return Err(input(format!(
                        "the failure menu needs the topology of {group}: give --shards N --replicas N{}",
                        if ctx.elasticache.is_some() {
                            " (ElastiCache did not say)"
                        } else {
                            ""
                        }
                    )));
                }
            }
        }
    };
    let topology = Topology::named(&group, shards, replicas);
    let tests = failure_menu(&topology);
    if args.json {
        write_json(out, &json!({"topology": topology, "tests": tests}))
    } else {
        write!(out, "{}", render_markdown(&topology, &tests))?;
        Ok(())
    }
}

/// Shards and replicas per shard of `group`, as far as ElastiCache says (a cluster with cluster
/// mode disabled has one shard).
async fn known_shape<S>(ctx: &Context<S>, group: &str) -> (Option<u32>, Option<u32>) {
    let (Some(elasticache), Ok(group)) = (&ctx.elasticache, ReplicationGroupId::parse(group))
    else {
        return (None, None);
    };
    let facts = elasticache.group_facts(&group).await;
    let shards = (facts.cluster_mode_enabled == Some(false)).then_some(1);
    (shards, facts.replicas_per_shard)
}

async fn report_drills<S: cachewatch_app::Store>(
    ctx: &Context<S>,
    args: &DrillReportArgs,
    out: &mut dyn Write,
) -> Result<(), Failure> {
    if let Some(raw) = &args.id {
        let measured = drill::drill_report(&ctx.store, raw)
            .await
            .map_err(|e| match e {
                DrillError::NotAnId(raw, why) => unresolved(&raw, why),
                DrillError::Store(e) => e.into(),
                e => input(e),
            })?;
        return if args.json {
            write_json(out, &measured)
        } else {
            render(ctx, &measured, out)
        };
    }
    let reports = drill::drill_reports(&ctx.store).await?;
    if args.json {
        return write_json(out, &reports);
    }
    if reports.is_empty() {
        writeln!(
            out,
            "No drills yet: see `cachewatch drill list`, then `cachewatch drill start`."
        )?;
    }
    for (i, r) in reports.iter().enumerate() {
        if i > 0 {
            writeln!(out)?;
        }
        render(ctx, r, out)?;
    }
    Ok(())
}

/// One report as text: the drill, then each measured time.
fn render<S>(ctx: &Context<S>, r: &DrillReport, out: &mut dyn Write) -> Result<(), Failure> {
    let after = |d: Option<Duration>| match d {
        Some(d) => format!("after {}", human_duration(d)),
        None => "not yet".to_owned(),
    };
    writeln!(
        out,
        "🧪 DRILL {} · {} on {} · raised {}",
        r.drill_id,
        r.scenario.as_deref().unwrap_or("scenario not recorded"),
        r.cluster,
        ctx.zone.format(r.raised_at)
    )?;
    let by = |who: Option<&String>| who.map(|w| format!(" by {w}")).unwrap_or_default();
    writeln!(
        out,
        "  acknowledged:  {}{}",
        after(r.time_to_acknowledge),
        by(r.acknowledged.as_ref().map(|a| &a.by))
    )?;
    writeln!(
        out,
        "  first step:    {}{}",
        after(r.time_to_first_step),
        r.first_step
            .as_ref()
            .map(|s| format!(" (step {}) by {}", s.step, s.by))
            .unwrap_or_default()
    )?;
    writeln!(
        out,
        "  done:          {}{}",
        after(r.time_to_done),
        r.done
            .as_ref()
            .map(|d| format!(
                " ({}, {}) by {}",
                d.handled,
                if d.site_maintenance {
                    "site maintenance"
                } else {
                    "no site maintenance"
                },
                d.by
            ))
            .unwrap_or_default()
    )?;
    if let Some(d) = r.downtime {
        writeln!(out, "  downtime:      {}", human_duration(d))?;
    }
    if let Some(note) = r.done.as_ref().and_then(|d| d.note.as_deref()) {
        writeln!(out, "  note:          {note}")?;
    }
    Ok(())
}
