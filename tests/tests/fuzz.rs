//! Fuzzing every input shape through the whole way an event travels: parse → store (SQLite, a
//! real file) → read back → render (the Slack alert and its plain text, the runbook as HTML,
//! Markdown and a GitHub checklist, the JSON contract).
//!
//! Inputs are generated in every shape the parser reads (DescribeEvents records and documents,
//! SNS HTTP notifications, Lambda SNS events, ElastiCache bodies, console rows, the AWS CLI's
//! table and text output, maintenance e-mails of both layouts, JSON Lines), dated anywhere from
//! 1970 to 9999 and sometimes outside, with message texts stitched from the documented templates
//! (year-less windows included) and identifiers that are plain, hostile or invisible.
//!
//! What must hold: whatever parses is stored, reads back identical, and renders without a panic;
//! nothing stored is unreadable. The case count is small so that the suite stays fast;
//! `PROPTEST_CASES=20000 cargo test -p cachewatch-tests --test fuzz` runs it longer.

use cachewatch_adapters::SqliteStore;
use cachewatch_core::alerting::slack::{AlertContext, alert, to_text};
use cachewatch_core::cluster::facts::ClusterFacts;
use cachewatch_core::history::store::{EventStore, EventWrite};
use cachewatch_core::runbook::{Owners, RunbookFormat, RunbookInput, Runbooks};
use cachewatch_core::{MaintenanceEvent, ParseContext, parse_document};
use chrono::{DateTime, Duration, TimeZone, Utc};
use proptest::prelude::*;
use proptest::sample::select;
use serde_json::json;

/// Cases per run: `PROPTEST_CASES` when set, else enough to cover every shape in a few seconds.
fn cases() -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(96)
}

fn received_at() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 6, 11, 3, 10, 30).unwrap()
}

/// Identifiers: mostly ElastiCache-like, sometimes hostile for the places they are shown.
fn identifier() -> impl Strategy<Value = String> {
    prop_oneof![
        6 => "[a-z][a-z0-9]{0,10}(-[0-9]{3,4}){0,2}",
        1 => select(vec!["<!channel>", "a&b", "x*y_z`", "'; rm -rf /", "<script>x</script>"])
            .prop_map(str::to_owned),
        1 => "[a-z]{1,5}[\u{200b}\u{202e}\u{2066}é][a-z]{1,5}",
    ]
}

/// Seconds since the epoch across the years kept, with a few just outside.
fn date() -> impl Strategy<Value = DateTime<Utc>> {
    prop_oneof![
        8 => 1_300_000_000i64..1_900_000_000i64,
        2 => 0i64..253_402_300_799i64,
        1 => select(vec![-1i64, 253_402_300_800, 253_402_214_400]),
    ]
    .prop_map(|s| DateTime::from_timestamp(s, 0).unwrap())
}

/// A message text: a documented template with year-less window times near `at`, or free text.
fn message(at: DateTime<Utc>) -> impl Strategy<Value = String> {
    let text_time = move |days: i64| {
        (at + Duration::days(days))
            .format("%b %d %H:%M UTC")
            .to_string()
    };
    (0usize..7, -10i64..200, identifier(), "\\PC{0,60}").prop_map(move |(which, days, cluster, free)| {
        let (start, end) = (text_time(days), text_time(days) );
        match which {
            0 => format!("The node with Cache Cluster ID: {cluster}, Node ID: 0001 is scheduled for replacement during the maintenance window from Start Time: {start}, End Time: {end}"),
            1 => format!("The replacement in maintenance window for node with Cache Cluster ID: {cluster}, Node ID: 0002 has re-scheduled from Previous Start Time: {start}, Previous End Time: {end} to New Start Time: {}, New End Time: {}", text_time(days + 3), text_time(days + 3)),
            2 => format!("Failover from primary node {cluster}-001 to replica node {cluster}-002 completed"),
            3 => format!("Snapshot succeeded for snapshot with ID 'nightly' of replication group with ID '{cluster}'"),
            4 => "Finished modifying number of nodes from 1 to 3".to_owned(),
            5 => "Recovering cache nodes 0001,0002".to_owned(),
            _ => free,
        }
    })
}

/// One record's fields.
#[derive(Debug, Clone)]
struct Record {
    source: String,
    source_type: &'static str,
    at: DateTime<Utc>,
    message: String,
}

fn record() -> impl Strategy<Value = Record> {
    (
        identifier(),
        select(vec!["cache-cluster", "replication-group"]),
        date(),
    )
        .prop_flat_map(|(source, source_type, at)| {
            message(at).prop_map(move |message| Record {
                source: source.clone(),
                source_type,
                at,
                message,
            })
        })
}

fn describe(r: &Record) -> serde_json::Value {
    json!({"SourceIdentifier": r.source, "SourceType": r.source_type,
           "Date": r.at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true), "Message": r.message})
}

/// Writes `records` in one of the shapes the parser reads.
fn shaped(shape: usize, records: &[Record]) -> String {
    let one_line = |s: &str| s.replace(['\n', '\r', '\t', '|'], " ");
    match shape {
        0 => json!({"Events": records.iter().map(describe).collect::<Vec<_>>()}).to_string(),
        1 => records.iter().map(|r| describe(r).to_string()).collect::<Vec<_>>().join("\n"),
        2 => {
            let r = &records[0];
            json!({"Type": "Notification", "MessageId": "m-1",
                   "TopicArn": "arn:aws:sns:eu-west-1:111122223333:cachewatch",
                   "Timestamp": r.at.to_rfc3339(), "Message": describe(r).to_string()})
            .to_string()
        }
        3 => json!({"Records": records.iter().map(|r| json!({"EventSource": "aws:sns", "Sns": {
                "Type": "Notification", "MessageId": "m-2",
                "TopicArn": "arn:aws:sns:us-east-1:111122223333:cachewatch",
                "Timestamp": r.at.to_rfc3339(),
                "Message": json!({"ElastiCache:NodeReplacementScheduled": r.source, "Date": r.at.to_rfc3339()}).to_string()
            }})).collect::<Vec<_>>()})
        .to_string(),
        4 => records
            .iter()
            .map(|r| {
                format!(
                    "| {} | {} | {} | {} |",
                    r.source,
                    r.source_type,
                    r.at.format("%B %-d, %Y, %H:%M:%S (UTC)"),
                    one_line(&r.message)
                )
            })
            .collect::<Vec<_>>()
            .join("\n"),
        5 => records
            .iter()
            .map(|r| {
                format!(
                    "EVENTS\t{}\t{}\t{}\t{}",
                    r.at.format("%Y-%m-%dT%H:%M:%S%.6f+00:00"),
                    one_line(&r.message),
                    r.source,
                    r.source_type
                )
            })
            .collect::<Vec<_>>()
            .join("\n"),
        6 => {
            let mut out = String::from("-----\n|  DescribeEvents  |\n||  Date  |  Message  |  SourceIdentifier  |  SourceType  ||\n|+----+----+----+----+|\n");
            for r in records {
                out.push_str(&format!(
                    "||  {}  |  {}  |  {}  |  {}  ||\n",
                    r.at.format("%Y-%m-%dT%H:%M:%S%.6f+00:00"),
                    one_line(&r.message),
                    r.source,
                    r.source_type
                ));
            }
            out
        }
        7 => records
            .iter()
            .map(|r| {
                format!(
                    "Region: eu-west-1, Cluster Name: {}, Node Name: {}-001, Replacement Time: {}",
                    r.source,
                    r.source,
                    r.at.format("%H:%M UTC, %b %-d, %Y")
                )
            })
            .collect::<Vec<_>>()
            .join("\n"),
        _ => {
            let mut out = String::from("Hello,\nYour instances in the US-WEST-2 Region are below.\n\nClusterName / NodeName / Replacement Time:\n");
            for r in records {
                out.push_str(&format!(
                    "{} / {}-002 / {}\n",
                    r.source,
                    r.source,
                    r.at.format("%b %d %Y %H:%M UTC")
                ));
            }
            out.push_str("\nThank you.\n");
            out
        }
    }
}

fn input() -> impl Strategy<Value = String> {
    (0usize..9, proptest::collection::vec(record(), 1..4))
        .prop_map(|(shape, records)| shaped(shape, &records))
}

/// Stores `events` in a fresh SQLite file, reads each back, and renders it.
fn travel(events: Vec<MaintenanceEvent>) -> Result<(), TestCaseError> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(&dir.path().join("fuzz.db")).unwrap();
    let mut distinct: Vec<MaintenanceEvent> = Vec::new();
    for e in events {
        if !distinct.iter().any(|d| d.id == e.id) {
            distinct.push(e);
        }
    }
    let writes: Vec<EventWrite> = distinct.iter().cloned().map(EventWrite::Insert).collect();
    runtime.block_on(store.write(&writes)).unwrap();
    let (facts, owners) = (ClusterFacts::default(), Owners::default());
    thread_local! {
        static RUNBOOKS: Runbooks = Runbooks::embedded();
    }
    for e in &distinct {
        let back = runtime.block_on(store.event(&e.id)).unwrap();
        prop_assert_eq!(back.as_ref(), Some(e), "read back as stored");
        let json = serde_json::to_string(e).unwrap();
        let again: MaintenanceEvent = serde_json::from_str(&json).unwrap();
        prop_assert_eq!(&again, e, "the JSON contract round-trips");

        let message = alert(&AlertContext::new(e, &facts, &owners, received_at()));
        prop_assert!(!to_text(&message).is_empty());
        let runbook = RUNBOOKS
            .with(|r| r.render(&RunbookInput::new(e, &facts, &owners, received_at())))
            .unwrap();
        for format in [
            RunbookFormat::Html,
            RunbookFormat::Markdown,
            RunbookFormat::Github,
        ] {
            prop_assert!(!runbook.render(format).is_empty());
        }
    }
    let found = runtime
        .block_on(store.search(&cachewatch_core::EventQuery {
            limit: 100,
            ..cachewatch_core::EventQuery::default()
        }))
        .unwrap();
    prop_assert_eq!(found.len(), distinct.len(), "every event is found");
    prop_assert!(
        store.take_unreadable().is_empty(),
        "nothing stored is unreadable"
    );
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(), ..ProptestConfig::default() })]

    #[test]
    fn whatever_parses_is_stored_read_back_and_rendered(input in input()) {
        if let Ok(events) = parse_document(&input, &ParseContext::received_at(received_at())) {
            travel(events)?;
        }
    }
}
