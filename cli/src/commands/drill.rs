//! `cachewatch drill`: rehearse a maintenance or a failure through the real pipeline, and measure
//! how it went.
//!
//! `drill start` injects the scenario's events (marked as a drill) through the same ingest,
//! lifecycle, alerts and runbooks as `cachewatch ingest`; `failure-menu` prints a plan instead.
//! `drill report` measures each run from what people recorded, through Slack or the CLI.

use std::collections::BTreeSet;
use std::io::Write;

use anyhow::anyhow;
use cachewatch_core::history::query::{EventQuery, MAX_LIMIT};
use cachewatch_core::history::store::EventStore;
use cachewatch_core::model::ids::{ClusterId, NodeId, ReplicationGroupId};
use cachewatch_core::model::timefmt::human_duration;
use cachewatch_core::operations::drill::menu::{Topology, failure_menu, render_markdown};
use cachewatch_core::operations::drill::report::{DrillReport, Recorded, report, run_of, runs};
use cachewatch_core::operations::drill::{DRILL_ID, DrillTarget, Scenario, events_for};
use cachewatch_core::{Maintenance, MaintenanceEvent};
use chrono::Duration;
use serde::Serialize;
use serde_json::json;

use super::ingest::{Ingested, ingested, summary};
use super::notify::Sending;
use super::{Context, Failure, resolve_id, write_json};
use crate::args::{DrillArgs, DrillCommand, DrillListArgs, DrillReportArgs, DrillStartArgs};
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
            &ctx.elasticache,
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
        .report(
            ctx,
            &ctx.elasticache,
            outcome,
            stored.alerts,
            args.json,
            out,
        )
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

/// Every drill event in the history, newest first: the history is read page by page, since
/// drills are a small part of it and searches have a size limit.
async fn drill_events<S: EventStore>(store: &S) -> Result<Vec<MaintenanceEvent>, Failure> {
    let mut seen: BTreeSet<cachewatch_core::EventId> = BTreeSet::new();
    let mut drills = Vec::new();
    let mut until = None;
    loop {
        let page = store
            .search(&EventQuery {
                until,
                limit: MAX_LIMIT,
                include_drills: true,
                ..EventQuery::default()
            })
            .await?;
        let full = page.len() == MAX_LIMIT;
        let Some(oldest) = page.last().map(|e| e.occurred_at) else {
            break;
        };
        let mut fresh = 0;
        for e in page {
            if seen.insert(e.id.clone()) {
                fresh += 1;
                if e.drill {
                    drills.push(e);
                }
            }
        }
        if !full || fresh == 0 {
            break;
        }
        // Events of the oldest second may continue on the next page: read it again.
        until = Some(oldest + Duration::seconds(1));
    }
    Ok(drills)
}

/// The events of the drill run `raw` names: a drill id, or any id of one of its events.
async fn run_events<S: EventStore>(
    store: &S,
    raw: &str,
) -> Result<(String, Vec<MaintenanceEvent>), Failure> {
    let trimmed = raw.trim();
    let resolved = resolve_id(store, trimmed).await;
    if let Ok(id) = &resolved
        && let Some(event) = store.event(id).await?
    {
        let Some(run) = run_of(&event) else {
            return Err(input(format!(
                "{trimmed} is not a drill's: it is a real event of {}",
                event.cluster_label()
            )));
        };
        // A run's events share its lifecycle group.
        if let Some(key) = event.group_key() {
            let mut groups = store.group_events(&[key]).await?;
            let events: Vec<MaintenanceEvent> = groups
                .pop_first()
                .map(|(_, events)| events)
                .unwrap_or_default()
                .into_iter()
                .filter(|e| run_of(e).as_deref() == Some(run.as_str()))
                .collect();
            if !events.is_empty() {
                return Ok((run, events));
            }
        }
        return Ok((run, vec![event]));
    }
    // Another door's drill id (not an event id): look for it among the drills.
    let events: Vec<MaintenanceEvent> = drill_events(store)
        .await?
        .into_iter()
        .filter(|e| e.attributes.get(DRILL_ID).map(String::as_str) == Some(trimmed))
        .collect();
    match (events.is_empty(), resolved) {
        (false, _) => Ok((trimmed.to_owned(), events)),
        // Not a drill id either: why it is no event id says more (ambiguous, not hex...).
        (true, Err(not_an_event)) => Err(not_an_event),
        (true, Ok(_)) => Err(input(format!("no drill has the id {trimmed:?}"))),
    }
}

/// Measures one run from what its events' stores recorded.
async fn measure<S: cachewatch_app::Store>(
    store: &S,
    drill_id: &str,
    mut events: Vec<MaintenanceEvent>,
) -> Result<Option<DrillReport>, Failure> {
    // Responses may be recorded against any event of the run's maintenances.
    let mut ids: BTreeSet<cachewatch_core::EventId> = events.iter().map(|e| e.id.clone()).collect();
    let maintenance_ids: BTreeSet<_> = events
        .iter()
        .filter_map(|e| e.maintenance_id.clone())
        .collect();
    for m in maintenance_ids {
        if let Some(m) = store.maintenance(&m).await? {
            for id in m.event_ids {
                if ids.insert(id.clone())
                    && let Some(e) = store.event(&id).await?
                {
                    events.push(e);
                }
            }
        }
    }
    let ids: Vec<_> = ids.into_iter().collect();
    // The drill's Slack alerts; the outputs' deliveries of the same events are not counted again.
    let alerts: Vec<_> = store
        .deliveries(&ids)
        .await?
        .into_iter()
        .filter(|d| !cachewatch_core::alerting::outbound::is_output_channel(&d.channel))
        .collect();
    let acknowledgements = store.acknowledgements(&ids).await?;
    let steps = store.steps(&ids).await?;
    let outcomes = store.outcomes(&ids).await?;
    Ok(report(
        drill_id,
        Recorded {
            events: &events,
            alerts: &alerts,
            acknowledgements: &acknowledgements,
            steps: &steps,
            outcomes: &outcomes,
        },
    ))
}

async fn report_drills<S: cachewatch_app::Store>(
    ctx: &Context<S>,
    args: &DrillReportArgs,
    out: &mut dyn Write,
) -> Result<(), Failure> {
    if let Some(raw) = &args.id {
        let (run, events) = run_events(&ctx.store, raw).await?;
        let measured = measure(&ctx.store, &run, events)
            .await?
            .ok_or_else(|| input(format!("drill {run} has no events")))?;
        return if args.json {
            write_json(out, &measured)
        } else {
            render(ctx, &measured, out)
        };
    }
    let mut reports = Vec::new();
    for (run, events) in runs(&drill_events(&ctx.store).await?) {
        reports.extend(measure(&ctx.store, &run, events).await?);
    }
    reports.sort_by(|a, b| (b.raised_at, &b.drill_id).cmp(&(a.raised_at, &a.drill_id)));
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
