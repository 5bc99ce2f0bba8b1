//! `cachewatch demo`: the product at work on a bundled timeline, in a temporary database.
//!
//! The timeline is dated from now, so that the maintenance it leaves ahead shows in `upcoming`:
//! - a Redis primary (`shop-redis-001`) scheduled for replacement, rescheduled, then replaced with a
//!   failover to its replica, reported both by SNS and by DescribeEvents;
//! - a Memcached node (`sessions-mc` node 0002) replaced, then announced for replacement again two
//!   days later: a repeat;
//! - an unrelated snapshot.
//!
//! It arrives in three shapes an operator meets: SNS notifications, `aws elasticache
//! describe-events` output, and rows copied from the console.

use std::io::Write;

use cachewatch_adapters::SqliteStore;
use cachewatch_core::store::EventStore;
use cachewatch_core::timefmt::Zone;
use chrono::{DateTime, Duration, DurationRound, FixedOffset, Utc};
use serde_json::json;

use super::{Context, Failure, events, ingest, show, upcoming};
use crate::args::EventsArgs;

const TOPIC: &str = "arn:aws:sns:eu-west-1:111122223333:cachewatch-events";

/// A window time as ElastiCache writes it in texts: no year.
fn text_time(at: DateTime<Utc>) -> String {
    at.format("%b %d %H:%M UTC").to_string()
}

fn iso(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
}

/// The three inputs of the timeline, named as files an operator would have.
pub fn timeline(now: DateTime<Utc>) -> Vec<(&'static str, String)> {
    let t = now.duration_trunc(Duration::hours(1)).unwrap_or(now);
    let (w1, w2) = (t - Duration::days(5), t - Duration::days(2));
    let hour = Duration::hours(1);
    let failed_over = w2 + Duration::minutes(4);

    let sns = |at: DateTime<Utc>, id: &str, body: serde_json::Value| {
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
    };
    let notifications = [
        sns(
            t - Duration::days(12),
            "5b0c2a6e-0001-4c1d-9d7a-demo00000001",
            json!({"ElastiCache:NodeReplacementScheduled": "shop-redis-001", "Cache Cluster ID": "shop-redis-001", "Replication Group ID": "shop-redis"}),
        ),
        sns(
            failed_over,
            "5b0c2a6e-0002-4c1d-9d7a-demo00000002",
            json!({"ElastiCache:FailoverComplete": "shop-redis", "Cache Cluster ID": "shop-redis-002", "Replication Group ID": "shop-redis"}),
        ),
    ]
    .join("\n");

    let record = |at: DateTime<Utc>, source: &str, kind: &str, message: String| json!({"SourceIdentifier": source, "SourceType": kind, "Message": message, "Date": iso(at)});
    let describe = json!({"Events": [
        record(t - Duration::days(1), "shop-redis-002", "cache-cluster",
            "Snapshot succeeded for snapshot with ID 'shop-redis-nightly' of cache cluster with ID 'shop-redis-002'".into()),
        record(w2 + Duration::minutes(15), "shop-redis-001", "cache-cluster", "Finished recovery for cache nodes 0001".into()),
        record(failed_over + Duration::seconds(1), "shop-redis", "replication-group",
            "Failover to replica node shop-redis-002 completed".into()),
        record(t - Duration::days(9), "shop-redis-001", "cache-cluster", format!(
            "The replacement in maintenance window for node with Cache Cluster ID: shop-redis-001, Node ID: 0001 has re-scheduled from Previous Start Time: {}, Previous End Time: {} to New Start Time: {}, New End Time: {}",
            text_time(w1), text_time(w1 + hour), text_time(w2), text_time(w2 + hour))),
        record(t - Duration::days(12) + Duration::seconds(2), "shop-redis-001", "cache-cluster", format!(
            "The node with Cache Cluster ID: shop-redis-001, Node ID: 0001 is scheduled for replacement during the maintenance window from Start Time: {}, End Time: {}",
            text_time(w1), text_time(w1 + hour))),
    ]})
    .to_string();

    // The console shows dates in the browser's zone; this one is in Tokyo.
    let tokyo = FixedOffset::east_opt(9 * 3600)
        .unwrap_or(FixedOffset::east_opt(0).expect("zero is an offset"));
    let console_date = |at: DateTime<Utc>| {
        at.with_timezone(&tokyo)
            .format("%B %-d, %Y, %H:%M:%S (UTC+09:00)")
            .to_string()
    };
    let (w3, w4) = (t - Duration::days(3), t + Duration::days(4));
    let scheduled = |w: DateTime<Utc>| {
        format!(
            "The node with Cache Cluster ID: sessions-mc, Node ID: 0002 is scheduled for replacement during the maintenance window from Start Time: {}, End Time: {}",
            text_time(w),
            text_time(w + hour)
        )
    };
    let console = [
        "Source | Type | Date | Message".to_owned(),
        format!(
            "sessions-mc | cache-cluster | {} | {}",
            console_date(t - Duration::days(2)),
            scheduled(w4)
        ),
        format!(
            "sessions-mc | cache-cluster | {} | Finished recovery for cache nodes 0002",
            console_date(w3 + Duration::minutes(12))
        ),
        format!(
            "sessions-mc | cache-cluster | {} | {}",
            console_date(t - Duration::days(20)),
            scheduled(w3)
        ),
    ]
    .join("\n");

    vec![
        ("sns-notifications.json", notifications),
        ("describe-events.json", describe),
        ("console-rows.txt", console),
    ]
}

fn command(out: &mut dyn Write, line: &str) -> Result<(), Failure> {
    writeln!(out, "\n$ {line}")?;
    Ok(())
}

pub async fn run(zone: Zone, now: DateTime<Utc>, out: &mut dyn Write) -> Result<(), Failure> {
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("demo.db");
    let store = SqliteStore::open(&path).map_err(|e| Failure::Other(e.into()))?;
    let ctx = Context {
        store,
        config: Default::default(),
        runbook_dir: None,
        zone,
        now,
    };
    writeln!(
        out,
        "cachewatch demo: a bundled timeline, dated from now, in a temporary database ({}).\n\
         Every command below is one you can run yourself with --db PATH.",
        path.display()
    )?;

    let inputs = timeline(now);
    for (name, text) in &inputs {
        command(out, &format!("cachewatch ingest {name}"))?;
        let outcome = ingest::ingest_text(&ctx, text, name).await?;
        writeln!(out, "{}", ingest::summary(&outcome))?;
    }
    command(
        out,
        "cachewatch ingest describe-events.json    # delivered again: nothing is stored twice",
    )?;
    let outcome = ingest::ingest_text(&ctx, &inputs[1].1, inputs[1].0).await?;
    writeln!(out, "{}", ingest::summary(&outcome))?;

    command(out, "cachewatch events")?;
    events::run(&ctx, &all_events(), out).await?;

    let redis = ctx
        .store
        .search(&query("shop-redis-001", "node_replacement_scheduled"))
        .await?;
    if let Some(e) = redis.first() {
        command(out, &format!("cachewatch show {}", e.id.short()))?;
        show::run(&ctx, e.id.as_str(), false, out).await?;
    }
    let repeat = upcoming::upcoming(&ctx, false).await?;
    if let Some(m) = repeat.first() {
        command(out, &format!("cachewatch show {}", m.id.short()))?;
        show::run(&ctx, m.id.as_str(), false, out).await?;
    }
    command(out, "cachewatch upcoming")?;
    upcoming::run(&ctx, false, false, out).await?;
    Ok(())
}

fn all_events() -> EventsArgs {
    EventsArgs {
        cluster: None,
        node: None,
        kind: None,
        category: None,
        since: None,
        until: None,
        text: None,
        limit: 50,
        drills: false,
        json: false,
        csv: false,
    }
}

fn query(cluster: &str, kind: &str) -> cachewatch_core::EventQuery {
    cachewatch_core::EventQuery {
        cluster: Some(cluster.to_owned()),
        kind: Some(cachewatch_core::EventKind::new(kind)),
        ..cachewatch_core::EventQuery::default()
    }
}
