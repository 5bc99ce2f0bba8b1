//! `cachewatch failover`: a rehearsed failover on ElastiCache. It says what it would do and what
//! stands in the way (production tags, the daily TestFailover limit counted from the history, no
//! `--yes`), calls TestFailover, follows the events of the group and the shard's clusters until
//! the failover and the recovery are over, and stores them through the one ingest as a drill.
//! With `--probe-url`, the availability probe runs beside it and the longest interruption it
//! measured is recorded as the drill's outcome.

use std::cell::Cell;
use std::io::Write;
use std::time::Duration as StdDuration;

use anyhow::anyhow;
use cachewatch_adapters::elasticache::{
    DescribedEvents, ElastiCache, EventRecord, FailoverLookupError,
};
use cachewatch_adapters::redis::{ProbeSettings, RedisTarget, probe};
use cachewatch_app::lookup;
use cachewatch_app::respond::Who;
use cachewatch_app::{Door, Input};
use cachewatch_app::{Rules, failover};
use cachewatch_core::history::query::parse_duration;
use cachewatch_core::model::event::EventId;
use cachewatch_core::model::ids::ReplicationGroupId;
use cachewatch_core::model::timefmt::human_duration;
use cachewatch_core::operations::failover::{
    FailoverPlan, FailoverRequest, FailoverStage, FailoverWatch, NodeGroupId, mark_as_drill,
};
use cachewatch_core::operations::probe::{ProbeSummary, Transition, format_ms};
use cachewatch_core::{IngestOutcome, ParseContext};
use chrono::{Duration, Utc};

use super::notify::Sending;
use super::respond::{Reach, not_recorded, tell_redrawn};
use super::{Context, Failure, elasticache};
use crate::args::FailoverArgs;

/// How often DescribeEvents is asked while following a failover.
const POLL_EVERY: StdDuration = StdDuration::from_secs(10);
/// How far before the call events are read: ElastiCache's clock and ours may differ a little.
const CLOCK_SLACK: Duration = Duration::seconds(5);

pub async fn run<S: cachewatch_app::Store>(
    ctx: &Context<S>,
    args: &FailoverArgs,
    out: &mut dyn Write,
) -> Result<(), Failure> {
    let request = Request::read(args)?;
    let owned: ElastiCache;
    let ec = match &ctx.elasticache {
        Some(ec) => ec,
        None => {
            owned = elasticache().await;
            &owned
        }
    };
    let target = ec
        .failover_target(&request.group)
        .await
        .map_err(|e| match e {
            FailoverLookupError::NoSuchGroup(_) => Failure::Input(anyhow!(e)),
            FailoverLookupError::ElastiCache(_) => Failure::Other(anyhow!(e).context(format!(
                "cannot describe replication group {}",
                request.group
            ))),
        })?;
    let plan = failover::plan(
        &ctx.store,
        &target,
        &FailoverRequest {
            node_group: request.node_group.clone(),
            confirmed: args.yes,
            allow_production: args.allow_production,
        },
        ctx.now,
    )
    .await?;
    describe_plan(&plan, request.probe.as_ref(), request.timeout, out)?;
    for warning in &plan.warnings {
        eprintln!("cachewatch: warning: {warning}");
    }
    if !plan.may_start() {
        let reasons: Vec<String> = plan.refusals.iter().map(ToString::to_string).collect();
        return Err(Failure::Input(anyhow!(
            "the failover was not started: {}",
            reasons.join("; ")
        )));
    }

    let since = Utc::now() - CLOCK_SLACK;
    let mut watch = FailoverWatch::new(&target, &request.node_group, since);
    let sending = Sending::from_env(ctx).await?;
    let rehearsal = Rehearsal {
        ctx,
        ec,
        sending: &sending,
        group: &request.group,
        node_group: &request.node_group,
        timeout: request.timeout,
    };
    let (followed, measured) = match request.probe {
        None => (rehearsal.run(&mut watch, out).await?, None),
        Some(target) => {
            let (followed, measured) = rehearsal.run_with_probe(target, &mut watch, out).await?;
            (followed, Some(measured))
        }
    };
    rehearsal
        .finish(followed, measured.as_ref(), &watch, since, out)
        .await
}

/// What `cachewatch failover` is asked to do, its arguments read.
struct Request {
    group: ReplicationGroupId,
    node_group: NodeGroupId,
    timeout: StdDuration,
    probe: Option<RedisTarget>,
}

impl Request {
    fn read(args: &FailoverArgs) -> Result<Self, Failure> {
        let input = |e: String| Failure::Input(anyhow!(e));
        let group = ReplicationGroupId::parse(&args.replication_group)
            .map_err(|e| input(format!("--replication-group: {e}")))?;
        let node_group = NodeGroupId::parse(&args.node_group)
            .map_err(|e| input(format!("--node-group: {e}")))?;
        let timeout = parse_duration(&args.timeout)
            .filter(|d| *d > Duration::zero())
            .and_then(|d| d.to_std().ok())
            .ok_or_else(|| {
                input(format!(
                    "--timeout {:?} is not a duration: use 15m, 1h or 90s",
                    args.timeout
                ))
            })?;
        let probe = args
            .probe_url
            .as_deref()
            .map(|url| RedisTarget::parse(url, false))
            .transpose()
            .map_err(|e| input(format!("--probe-url: {e}")))?;
        Ok(Request {
            group,
            node_group,
            timeout,
            probe,
        })
    }
}

/// What the rehearsal would do, and what stands in the way.
fn describe_plan(
    plan: &FailoverPlan,
    probe: Option<&RedisTarget>,
    timeout: StdDuration,
    out: &mut dyn Write,
) -> Result<(), Failure> {
    writeln!(
        out,
        "TestFailover on node group {} of replication group {}:",
        plan.node_group, plan.replication_group_id
    )?;
    match (&plan.primary, plan.replicas.as_slice()) {
        (Some(primary), [one]) => writeln!(out, "  {primary} (primary) fails over to {one}")?,
        (Some(primary), many) if !many.is_empty() => writeln!(
            out,
            "  {primary} (primary) fails over to one of {}",
            many.join(", ")
        )?,
        (None, many) if !many.is_empty() => writeln!(
            out,
            "  the shard's primary fails over to one of its replicas ({})",
            many.join(", ")
        )?,
        _ => {}
    }
    writeln!(
        out,
        "  tagged as production: {}",
        plan.production_tag.as_deref().unwrap_or("no")
    )?;
    writeln!(
        out,
        "  failovers in the last 24 hours (from the history): {}",
        plan.recent_failovers
    )?;
    if let Some(probe) = probe {
        writeln!(out, "  probe: {} beside it", probe.display_url())?;
    }
    writeln!(
        out,
        "  then follow DescribeEvents for up to {} and record the events as a drill",
        human_duration(Duration::from_std(timeout).unwrap_or(Duration::MAX))
    )?;
    Ok(())
}

/// What following the failover stored.
#[derive(Default)]
struct Followed {
    /// The drill's id: the id of its first event, once one was seen.
    drill_id: Option<EventId>,
    /// Everything ingested.
    ingested: IngestOutcome,
}

/// A failover that did not finish in time, and what was stored before.
struct Unfinished {
    stage: FailoverStage,
    done: Followed,
}

/// One rehearsal under way.
struct Rehearsal<'a, S> {
    ctx: &'a Context<S>,
    ec: &'a ElastiCache,
    sending: &'a Sending,
    group: &'a ReplicationGroupId,
    node_group: &'a NodeGroupId,
    timeout: StdDuration,
}

impl<S: cachewatch_app::Store> Rehearsal<'_, S> {
    /// After the failover (or the time is up): what was seen is stored and the probe's
    /// measurement recorded, then the result is said and alerted.
    async fn finish(
        &self,
        followed: Result<Followed, Unfinished>,
        measured: Option<&ProbeSummary>,
        watch: &FailoverWatch,
        since: chrono::DateTime<Utc>,
        out: &mut dyn Write,
    ) -> Result<(), Failure> {
        let ctx = self.ctx;
        // What was seen is stored even when the failover did not finish in time.
        let (unfinished, done) = match followed {
            Ok(done) => (None, done),
            Err(Unfinished { stage, done }) => (Some(stage), done),
        };
        // The outcome goes to the drill's maintenance (the call itself is in none), so that the
        // yearly log finds it as well as the drill report.
        let recorded_against = done
            .ingested
            .events
            .iter()
            .find_map(|e| e.event.maintenance_id.clone())
            .or_else(|| done.drill_id.clone());
        match (measured, &recorded_against) {
            (Some(summary), Some(event_id)) => {
                record_measurement(ctx, event_id, summary, out).await?;
            }
            (Some(_), None) => eprintln!(
                "cachewatch: the probe's measurement is not recorded: ElastiCache reported no event of the failover"
            ),
            (None, _) => {}
        }
        if let Some(stage) = unfinished {
            self.sending
                .alert(ctx, self.ec, &done.ingested, out)
                .await?;
            return Err(Failure::Other(anyhow!(
                "the failover did not finish within {}: {} (check the group in the console; what was seen is recorded)",
                human_duration(Duration::from_std(self.timeout).unwrap_or(Duration::MAX)),
                stage.describe()
            )));
        }
        let (from, to) = watch.promoted().unwrap_or((None, None));
        writeln!(
            out,
            "\nFailover complete: {} -> {}, {} after the call.",
            from.unwrap_or("the primary"),
            to.unwrap_or("a replica"),
            human_duration(Utc::now() - since - CLOCK_SLACK)
        )?;
        if let Some(id) = &done.drill_id {
            writeln!(
                out,
                "Recorded as drill {id} (scenario test-failover): `cachewatch events --drills --cluster {}`, `cachewatch drill report {id}`.",
                self.group
            )?;
        }
        self.sending.alert(ctx, self.ec, &done.ingested, out).await
    }

    /// Calls TestFailover and follows its events until it is over or the time is up.
    async fn run(
        &self,
        watch: &mut FailoverWatch,
        out: &mut dyn Write,
    ) -> Result<Result<Followed, Unfinished>, Failure> {
        self.ec
            .test_failover(self.group, self.node_group.as_str())
            .await
            .map_err(|e| Failure::Other(anyhow!(e).context("TestFailover was refused")))?;
        writeln!(
            out,
            "\nTestFailover called at {}. Following the events of {} and {}:",
            self.ctx.zone.format(Utc::now()),
            self.group,
            watch.clusters().collect::<Vec<_>>().join(", ")
        )?;
        let deadline = tokio::time::Instant::now() + self.timeout;
        let mut done = Followed::default();
        loop {
            match self
                .ec
                .failover_records(self.group, watch.clusters(), watch.since())
                .await
            {
                Ok(records) => self.take_in(&records, watch, &mut done, out).await?,
                Err(e) if e.is_retryable() => {
                    eprintln!("cachewatch: DescribeEvents failed, trying again: {e}");
                }
                Err(e) => {
                    return Err(Failure::Other(
                        anyhow!(e).context("cannot follow the failover's events"),
                    ));
                }
            }
            if watch.is_complete() {
                return Ok(Ok(done));
            }
            let now = tokio::time::Instant::now();
            if now >= deadline {
                return Ok(Err(Unfinished {
                    stage: watch.stage(),
                    done,
                }));
            }
            tokio::time::sleep(POLL_EVERY.min(deadline - now)).await;
        }
    }

    /// [`Rehearsal::run`] with the probe beside it: the probe starts first (if it cannot, the
    /// failover is not started), and stops once the failover is over.
    async fn run_with_probe(
        &self,
        target: RedisTarget,
        watch: &mut FailoverWatch,
        out: &mut dyn Write,
    ) -> Result<(Result<Followed, Unfinished>, ProbeSummary), Failure> {
        let settings = ProbeSettings::new(target);
        let up = Cell::new(false);
        let stop = Cell::new(false);
        let probing = probe(
            &settings,
            async {
                while !stop.get() {
                    tokio::time::sleep(StdDuration::from_millis(20)).await;
                }
            },
            |_, transition| {
                up.set(true);
                match transition {
                    Some(Transition::Down { since, kind }) => eprintln!(
                        "probe: unavailable since {} ({kind})",
                        self.ctx.zone.format_with(*since, "%H:%M:%S%.3f")
                    ),
                    Some(Transition::Up(gap)) => {
                        eprintln!("probe: available again after {}", format_ms(gap.ms));
                    }
                    Some(Transition::Role(change)) => eprintln!("probe: role {change}"),
                    None => {}
                }
            },
        );
        tokio::pin!(probing);
        // The probe reports after its first tick; a failure to connect ends it at once.
        let started = tokio::select! {
            early = &mut probing => Some(early),
            () = async {
                while !up.get() {
                    tokio::time::sleep(StdDuration::from_millis(20)).await;
                }
            } => None,
        };
        if let Some(early) = started {
            let e = match early {
                Err(e) => anyhow!(e),
                Ok(_) => anyhow!("the probe stopped before its first tick"),
            };
            return Err(Failure::Other(e.context(
                "the failover was not started: the probe could not start",
            )));
        }
        let following = async {
            let followed = self.run(watch, out).await;
            stop.set(true);
            followed
        };
        let (followed, measured) = tokio::join!(following, probing);
        let summary = measured.map_err(|e| Failure::Other(anyhow!(e)))?;
        Ok((followed?, summary))
    }

    /// Prints, marks as a drill and stores the records not seen before.
    async fn take_in(
        &self,
        records: &[EventRecord],
        watch: &mut FailoverWatch,
        done: &mut Followed,
        out: &mut dyn Write,
    ) -> Result<(), Failure> {
        let ctx = ParseContext {
            received_at: Utc::now(),
            drill: true,
        };
        let read = DescribedEvents::read(records, &ctx);
        for rejected in &read.rejected {
            eprintln!(
                "cachewatch: not an event cachewatch reads ({} {}): {:?}: {}",
                rejected.record.source_type,
                rejected.record.source_identifier,
                rejected.record.message,
                rejected.error
            );
        }
        let mut fresh: Vec<_> = read
            .events
            .into_iter()
            .filter(|e| watch.observe(e))
            .collect();
        if fresh.is_empty() {
            return Ok(());
        }
        let drill_id = done.drill_id.get_or_insert_with(|| fresh[0].id.clone());
        mark_as_drill(&mut fresh, drill_id);
        let mut printed = std::collections::BTreeSet::new();
        for e in &fresh {
            // One line per record (a text naming two nodes reads as two events).
            let line = format!(
                "  {}  {} {}  {}",
                self.ctx.zone.format_with(e.occurred_at, "%H:%M:%S"),
                e.source_type,
                e.source_id,
                e.message.as_deref().unwrap_or(e.kind.as_str())
            );
            if printed.insert(line.clone()) {
                writeln!(out, "{line}")?;
            }
        }
        out.flush()?;
        let stored = self
            .sending
            .store(self.ctx, self.ec, Door::Failover, Input::Events(fresh))
            .await
            .map_err(|e| super::ingest::refused(e, "the failover's events"))?;
        done.ingested.events.extend(stored.events);
        done.ingested.maintenances.extend(stored.maintenances);
        Ok(())
    }
}

/// Records what the probe measured as the outcome of the drill's maintenance (or event),
/// as `cachewatch outcome` would, and draws its threads again.
async fn record_measurement<S: cachewatch_app::Store>(
    ctx: &Context<S>,
    event_id: &EventId,
    summary: &ProbeSummary,
    out: &mut dyn Write,
) -> Result<(), Failure> {
    let by = std::env::var("USER")
        .ok()
        .filter(|u| !u.trim().is_empty())
        .unwrap_or_else(|| "cachewatch failover".to_owned());
    let by = Who::named(&by).map_err(|e| Failure::Input(anyhow!("$USER: {e}")))?;
    let subject = lookup::subject(&ctx.store, event_id)
        .await?
        .ok_or_else(|| Failure::Other(anyhow!("event {event_id} disappeared while reading it")))?;
    let reach = Reach::of(ctx).await?;
    let rules = Rules {
        now: Utc::now(),
        ..reach.rules(ctx)
    };
    let recorded = failover::record_measurement(reach.ports(ctx), rules, &subject, summary, by)
        .await
        .map_err(not_recorded)?;
    writeln!(
        out,
        "Measured by the probe: longest unavailability {} (recorded as the drill's outcome).",
        format_ms(summary.longest_gap_ms)
    )?;
    tell_redrawn(&recorded.threads, out)
}
