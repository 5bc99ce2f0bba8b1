//! `cachewatch demo`: the product at work on a bundled timeline, in a temporary database.
//!
//! The timeline is replayed as it would have happened, dated from now: each delivery is ingested at
//! its own moment, and what cachewatch would post to Slack is printed (the real outbox, threads and
//! decisions; only the chat is a printer). It holds
//! - a Redis primary (`shop-redis-001`) scheduled for replacement, rescheduled, then replaced with a
//!   failover to its replica, each reported both by SNS and by the poller's `describe-events`;
//! - a Memcached node (`sessions-mc` node 0002) replaced, then announced for replacement again the
//!   next day: a repeat;
//! - an unrelated snapshot, stored but not alerted on.
//!
//! Then it shows `events`, `show`, `upcoming` and the runbook checklist of what is ahead. What
//! enrichment would look up on AWS (engine, role, failover settings, backups) is given by a fixed
//! description of the two clusters.

use std::io::Write;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use cachewatch_adapters::SqliteStore;
use cachewatch_core::alerting::delivery::{ChatSink, DeliveryError, PostedMessage};
use cachewatch_core::alerting::notify::{Alerter, NotifySettings, notify, record_alerts};
use cachewatch_core::alerting::slack::{self, SlackMessage};
use cachewatch_core::cluster::facts::{ClusterFacts, Engine, NodeRole};
use cachewatch_core::cluster::source::FactsSource;
use cachewatch_core::history::store::EventStore;
use cachewatch_core::lifecycle::Maintenance;
use cachewatch_core::model::timefmt::Zone;
use cachewatch_core::runbook::Runbooks;
use cachewatch_core::{EventKind, EventQuery, MaintenanceEvent};
use chrono::{DateTime, Duration, DurationRound, FixedOffset, Utc};
use serde_json::json;

use super::{Context, Failure, events, ingest, runbook, show, upcoming};
use crate::args::{EventsArgs, RunbookArgs};

const TOPIC: &str = "arn:aws:sns:eu-west-1:111122223333:cachewatch-events";
const CHANNEL: &str = "#cache-alerts";

/// One delivery of the timeline: when, by which road, and the document.
pub struct Delivery {
    /// When it arrives.
    pub at: DateTime<Utc>,
    /// How it arrives, in words.
    pub road: &'static str,
    /// The file name an operator would have for it.
    pub name: &'static str,
    /// The document.
    pub text: String,
}

/// A window time as ElastiCache writes it in texts: no year.
fn text_time(at: DateTime<Utc>) -> String {
    at.format("%b %d %H:%M UTC").to_string()
}

fn iso(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
}

fn sns(at: DateTime<Utc>, id: &str, body: serde_json::Value) -> String {
    json!({
        "Type": "Notification",
        "MessageId": id,
        "TopicArn": TOPIC,
        "Subject": null,
        "Message": body.to_string(),
        "Timestamp": iso(at),
        "SignatureVersion": "1",
        "Signature": "",
        "SigningCertURL": "https://sns.eu-west-1.amazonaws.com/SimpleNotificationService.pem",
        "UnsubscribeURL": "https://sns.eu-west-1.amazonaws.com/?Action=Unsubscribe"
    })
    .to_string()
}

fn record(at: DateTime<Utc>, source: &str, kind: &str, message: String) -> String {
    json!({"Events": [{"SourceIdentifier": source, "SourceType": kind, "Message": message, "Date": iso(at)}]})
        .to_string()
}

/// A console row, dated in Tokyo as a browser there shows it.
fn console(at: DateTime<Utc>, message: &str) -> String {
    let tokyo = FixedOffset::east_opt(9 * 3600)
        .unwrap_or(FixedOffset::east_opt(0).expect("zero is an offset"));
    let date = at
        .with_timezone(&tokyo)
        .format("%B %-d, %Y, %H:%M:%S (UTC+09:00)");
    format!("Source | Type | Date | Message\nsessions-mc | cache-cluster | {date} | {message}")
}

/// The timeline, in the order it happens, dated from `now`.
pub fn timeline(now: DateTime<Utc>) -> Vec<Delivery> {
    let t = now.duration_trunc(Duration::hours(1)).unwrap_or(now);
    let hour = Duration::hours(1);
    let (w1, w2, w3, w4) = (
        t - Duration::days(5),
        t - Duration::days(2),
        t - Duration::days(3),
        t + Duration::days(4),
    );
    let failed_over = w2 + Duration::minutes(4);
    let mc_scheduled = |w: DateTime<Utc>| {
        format!(
            "The node with Cache Cluster ID: sessions-mc, Node ID: 0002 is scheduled for replacement during the maintenance window from Start Time: {}, End Time: {}",
            text_time(w),
            text_time(w + hour)
        )
    };
    let redis_scheduled = format!(
        "The node with Cache Cluster ID: shop-redis-001, Node ID: 0001 is scheduled for replacement during the maintenance window from Start Time: {}, End Time: {}",
        text_time(w1),
        text_time(w1 + hour)
    );
    let rescheduled = format!(
        "The replacement in maintenance window for node with Cache Cluster ID: shop-redis-001, Node ID: 0001 has re-scheduled from Previous Start Time: {}, Previous End Time: {} to New Start Time: {}, New End Time: {}",
        text_time(w1),
        text_time(w1 + hour),
        text_time(w2),
        text_time(w2 + hour)
    );
    let at = |d: DateTime<Utc>, road, name, text| Delivery {
        at: d,
        road,
        name,
        text,
    };
    vec![
        at(t - Duration::days(20), "a row copied from the console's event table", "console-rows.txt", console(t - Duration::days(20), &mc_scheduled(w3))),
        at(
            t - Duration::days(12),
            "an SNS notification, then the poller's describe-events record of the same event",
            "sns-and-poller.jsonl",
            [
                sns(t - Duration::days(12), "5b0c2a6e-0001-4c1d-9d7a-0000000demo1", json!({"ElastiCache:NodeReplacementScheduled": "shop-redis-001", "Cache Cluster ID": "shop-redis-001", "Replication Group ID": "shop-redis"})),
                record(t - Duration::days(12) + Duration::seconds(2), "shop-redis-001", "cache-cluster", redis_scheduled),
            ]
            .join("\n"),
        ),
        at(t - Duration::days(9), "the poller's describe-events", "describe-events.json", record(t - Duration::days(9), "shop-redis-001", "cache-cluster", rescheduled)),
        at(w3 + Duration::minutes(12), "a row copied from the console's event table", "console-rows.txt", console(w3 + Duration::minutes(12), "Finished recovery for cache nodes 0002")),
        at(
            failed_over,
            "an SNS notification, then the poller's describe-events record of the same event",
            "sns-and-poller.jsonl",
            [
                sns(failed_over, "5b0c2a6e-0002-4c1d-9d7a-0000000demo2", json!({"ElastiCache:FailoverComplete": "shop-redis", "Cache Cluster ID": "shop-redis-002", "Replication Group ID": "shop-redis"})),
                record(failed_over + Duration::seconds(1), "shop-redis", "replication-group", "Failover to replica node shop-redis-002 completed".into()),
            ]
            .join("\n"),
        ),
        at(w2 + Duration::minutes(15), "the poller's describe-events", "describe-events.json", record(w2 + Duration::minutes(15), "shop-redis-001", "cache-cluster", "Finished recovery for cache nodes 0001".into())),
        at(t - Duration::days(2) + Duration::hours(3), "a row copied from the console's event table", "console-rows.txt", console(t - Duration::days(2) + Duration::hours(3), &mc_scheduled(w4))),
        at(
            t - Duration::days(1),
            "the poller's describe-events",
            "describe-events.json",
            record(t - Duration::days(1), "shop-redis-002", "cache-cluster", "Snapshot succeeded for snapshot with ID 'shop-redis-nightly' of cache cluster with ID 'shop-redis-002'".into()),
        ),
    ]
}

/// A chat that prints instead of posting, so that the demo runs the real alert path.
#[derive(Default)]
struct Printer {
    lines: Mutex<Vec<String>>,
    next_ts: AtomicU64,
}

impl Printer {
    fn say(&self, head: String, body: &str) {
        let mut lines = self
            .lines
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        lines.push(format!("  ── Slack {head} ──"));
        lines.extend(body.trim_end().lines().map(|l| format!("  │ {l}")));
    }

    fn take(&self) -> Vec<String> {
        std::mem::take(
            &mut *self
                .lines
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner),
        )
    }
}

impl ChatSink for Printer {
    fn threads(&self) -> bool {
        true
    }

    async fn post(
        &self,
        channel: &str,
        message: &SlackMessage,
    ) -> Result<PostedMessage, DeliveryError> {
        let ts = format!(
            "{}.000100",
            1_700_000_000 + self.next_ts.fetch_add(1, Ordering::Relaxed)
        );
        let checklist = message
            .metadata
            .as_ref()
            .and_then(|m| m.delivery_key())
            .is_some_and(|k| k.starts_with("checklist:"));
        if checklist {
            let steps = slack::to_text(message)
                .lines()
                .filter(|l| l.contains('☐'))
                .count();
            self.say(
                format!("{channel}, in the thread"),
                &format!(
                    "(the runbook checklist, {steps} step{}: see `cachewatch runbook` below)",
                    if steps == 1 { "" } else { "s" }
                ),
            );
        } else if message.thread_ts.is_some() {
            self.say(
                format!("{channel}, reply in the thread"),
                &slack::to_text(message),
            );
        } else {
            self.say(format!("{channel}, new message"), &slack::to_text(message));
        }
        Ok(PostedMessage {
            channel: channel.to_owned(),
            ts,
        })
    }

    async fn update(
        &self,
        channel: &str,
        _ts: &str,
        message: &SlackMessage,
    ) -> Result<(), DeliveryError> {
        let text = slack::to_text(message);
        let first = text.lines().next().unwrap_or_default();
        self.say(
            format!("{channel}, the thread's first message is updated"),
            first,
        );
        Ok(())
    }
}

/// What ElastiCache would say about the demo's clusters, as enrichment looks it up on AWS.
struct DemoFacts {
    now: DateTime<Utc>,
}

impl FactsSource for DemoFacts {
    async fn facts_for(
        &self,
        event: &MaintenanceEvent,
        _maintenance: Option<&Maintenance>,
    ) -> ClusterFacts {
        if event.cluster_group() == "sessions-mc" {
            return ClusterFacts {
                engine: Some(Engine::Memcached),
                engine_version: Some("1.6.22".into()),
                configuration_endpoint: Some(
                    "sessions-mc.x7q2ab.cfg.euw1.cache.amazonaws.com".into(),
                ),
                port: Some(11211),
                preferred_maintenance_window: Some("thu:05:00-thu:06:00".into()),
                production: Some(true),
                ..ClusterFacts::default()
            };
        }
        ClusterFacts {
            engine: Some(Engine::Redis),
            engine_version: Some("7.1.0".into()),
            replication_group_id: Some("shop-redis".into()),
            cluster_mode_enabled: Some(false),
            node_role: Some(
                if event
                    .cluster_id
                    .as_ref()
                    .is_some_and(|c| c.as_str() == "shop-redis-002")
                {
                    NodeRole::Replica
                } else {
                    NodeRole::Primary
                },
            ),
            multi_az: Some(true),
            automatic_failover: Some(true),
            replicas_per_shard: Some(1),
            node_group_id: Some("0001".into()),
            replica_cluster_ids: Some(vec!["shop-redis-002".into()]),
            primary_endpoint: Some("master.shop-redis.x7q2ab.euw1.cache.amazonaws.com".into()),
            reader_endpoint: Some("replica.shop-redis.x7q2ab.euw1.cache.amazonaws.com".into()),
            port: Some(6379),
            tls_in_transit: Some(true),
            preferred_maintenance_window: Some("tue:05:00-tue:06:00".into()),
            snapshot_retention_days: Some(7),
            latest_snapshot_at: Some(self.now - Duration::hours(20)),
            production: Some(true),
            ..ClusterFacts::default()
        }
    }
}

fn command(out: &mut dyn Write, line: &str) -> Result<(), Failure> {
    writeln!(out, "\n$ {line}")?;
    Ok(())
}

pub async fn run(zone: Zone, now: DateTime<Utc>, out: &mut dyn Write) -> Result<(), Failure> {
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("demo.db");
    let store = SqliteStore::open(&path).map_err(|e| Failure::Other(e.into()))?;
    let mut ctx = Context {
        store,
        config: Default::default(),
        runbook_dir: None,
        zone,
        now,
        elasticache: None,
        facts: None,
    };
    writeln!(
        out,
        "cachewatch demo: a timeline replayed as it happened, dated from now, into a temporary database\n\
         ({}). What cachewatch would post to Slack ({CHANNEL}) is printed after each delivery.",
        path.display()
    )?;

    let settings = NotifySettings {
        channel: Some(CHANNEL.to_owned()),
        base_url: None,
        zone,
        actions: false,
        holder: "cachewatch-demo".to_owned(),
        ignore_backoff: false,
        links: None,
    };
    let (printer, runbooks) = (Printer::default(), Runbooks::embedded());
    let deliveries = timeline(now);
    for delivery in &deliveries {
        ctx.now = delivery.at;
        replay(&ctx, &settings, (&printer, &runbooks), delivery, out).await?;
    }
    ctx.now = now;
    tour(&ctx, &settings, &deliveries[2], out).await
}

/// One delivery of the timeline: ingested, its alerts recorded, and what would be posted printed.
async fn replay(
    ctx: &Context<SqliteStore>,
    settings: &NotifySettings,
    (printer, runbooks): (&Printer, &Runbooks),
    delivery: &Delivery,
    out: &mut dyn Write,
) -> Result<(), Failure> {
    let zone = settings.zone;
    writeln!(out, "\n[{}] {}", zone.format(delivery.at), delivery.road)?;
    command(out, &format!("cachewatch ingest {}", delivery.name))?;
    let (outcome, _) = ingest::ingest_text(ctx, settings, &delivery.text, delivery.name).await?;
    writeln!(out, "{}", ingest::summary(&outcome))?;
    let new = outcome.new_events();
    record_alerts(
        &ctx.store,
        &new,
        &ctx.config,
        settings.channel.as_deref(),
        ctx.now,
    )
    .await?;
    let refresh: Vec<String> = outcome.maintenances.keys().cloned().collect();
    let facts = DemoFacts { now: ctx.now };
    let alerter = Alerter {
        store: &ctx.store,
        sink: printer,
        facts: &facts,
        runbooks,
        config: &ctx.config,
        settings,
        now: ctx.now,
    };
    notify(alerter, &refresh)
        .await
        .map_err(|e| Failure::Other(e.into()))?;
    let said = printer.take();
    if said.is_empty() {
        writeln!(out, "  (nothing to post: {})", quiet_reason(&new))?;
    }
    for line in said {
        writeln!(out, "{line}")?;
    }
    Ok(())
}

/// Now: a delivery again (stored once), then the commands an operator would run.
async fn tour(
    ctx: &Context<SqliteStore>,
    settings: &NotifySettings,
    again: &Delivery,
    out: &mut dyn Write,
) -> Result<(), Failure> {
    let now = ctx.now;
    writeln!(out, "\n[{}] now", settings.zone.format(now))?;
    command(
        out,
        "cachewatch ingest describe-events.json    # the rescheduling, delivered again",
    )?;
    let (outcome, _) = ingest::ingest_text(ctx, settings, &again.text, again.name).await?;
    writeln!(out, "{}", ingest::summary(&outcome))?;

    command(out, "cachewatch events")?;
    events::run(ctx, &all_events(), out).await?;
    let redis = ctx
        .store
        .search(&query(
            "shop-redis-001",
            EventKind::NODE_REPLACEMENT_SCHEDULED,
        ))
        .await?;
    if let Some(e) = redis.first() {
        command(out, &format!("cachewatch show {}", e.id.short()))?;
        show::details(ctx, e.id.as_str(), false, None, out).await?;
    }
    command(out, "cachewatch upcoming")?;
    upcoming::print(ctx, false, out).await?;
    if let Some(m) = upcoming::upcoming(ctx, false).await?.first() {
        command(
            out,
            &format!(
                "cachewatch runbook {} --format github    # a checklist to paste into an issue",
                m.id.short()
            ),
        )?;
        let args = RunbookArgs {
            id: m.id.to_string(),
            format: "github".into(),
            offline: true,
        };
        runbook::render(ctx, &args, &DemoFacts { now }, out).await?;
    }
    Ok(())
}

fn quiet_reason(new: &[MaintenanceEvent]) -> &'static str {
    if new.is_empty() {
        "nothing new"
    } else if new.iter().all(|e| !e.actionable) {
        "stored for the history; nobody needs to act on it"
    } else {
        "already announced"
    }
}

fn all_events() -> EventsArgs {
    EventsArgs {
        limit: 50,
        ..EventsArgs::default()
    }
}

fn query(cluster: &str, kind: &str) -> EventQuery {
    EventQuery {
        cluster: Some(cluster.to_owned()),
        kind: Some(EventKind::new(kind)),
        ..EventQuery::default()
    }
}
