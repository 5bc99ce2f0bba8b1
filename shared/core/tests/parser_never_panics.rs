//! The parser never panics, whatever it is handed, and every event it accepts keeps the
//! invariants the rest of the product relies on.
//!
//! Besides arbitrary text, the generators build inputs that *look like* each shape the parser
//! reads (Lambda SNS events, SNS HTTP notifications, ElastiCache bodies, DescribeEvents output,
//! console rows, maintenance e-mail lines, JSON Lines), filled with hostile values: empty, padded,
//! over-long and control-character identifiers, impossible dates, wrong JSON types, and message
//! texts stitched from fragments of the documented templates.

use cachewatch_core::intake::parse::MAX_MESSAGE_LEN;
use cachewatch_core::model::event::EVENT_ID_LEN;
use cachewatch_core::{MaintenanceEvent, ParseContext, Window, parse_document};
use chrono::{DateTime, Utc};
use proptest::collection::{btree_map, vec};
use proptest::option;
use proptest::prelude::*;
use proptest::sample::select;
use serde_json::{Map, Value, json};

/// Cases per property: the eight properties together stay well under ten seconds in a debug build.
const CASES: u32 = 512;

fn context() -> ParseContext {
    ParseContext::received_at(
        DateTime::parse_from_rfc3339("2026-06-11T03:10:30Z")
            .expect("a valid time")
            .with_timezone(&Utc),
    )
}

// --- What must hold of any input -----------------------------------------------------------------

fn check_identifier(field: &str, value: &str) -> Result<(), TestCaseError> {
    prop_assert!(!value.is_empty(), "{field} is empty");
    prop_assert_eq!(value, value.trim(), "{} is not trimmed", field);
    prop_assert!(
        !value.chars().any(char::is_control),
        "{field} holds a control character: {value:?}"
    );
    Ok(())
}

fn check_window(field: &str, window: Option<&Window>) -> Result<(), TestCaseError> {
    if let Some(w) = window {
        prop_assert!(w.start <= w.end, "{field} ends before it starts: {w:?}");
    }
    Ok(())
}

fn check_event(event: &MaintenanceEvent) -> Result<(), TestCaseError> {
    let id = event.id.as_str();
    prop_assert_eq!(id.len(), EVENT_ID_LEN, "id {}", id);
    prop_assert!(
        id.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')),
        "id {id} is not lowercase hex"
    );
    prop_assert_eq!(event.category, event.kind.category());
    prop_assert_eq!(event.actionable, event.category.has_lifecycle());
    prop_assert!(!event.kind.as_str().is_empty(), "empty kind");
    check_window("window", event.window.as_ref())?;
    check_window("previous_window", event.previous_window.as_ref())?;
    check_identifier("source_id", event.source_id.as_str())?;
    if let Some(cluster) = &event.cluster_id {
        check_identifier("cluster_id", cluster.as_str())?;
    }
    if let Some(node) = &event.node_id {
        check_identifier("node_id", node.as_str())?;
    }
    if let Some(group) = &event.replication_group_id {
        check_identifier("replication_group_id", group.as_str())?;
    }
    if let Some(message) = &event.message {
        prop_assert!(
            message.len() <= MAX_MESSAGE_LEN,
            "a message of {} bytes was kept",
            message.len()
        );
    }
    Ok(())
}

/// Parses `input` twice: no panic, the same answer both times, and every event well formed.
fn check_input(input: &str) -> Result<(), TestCaseError> {
    let first = parse_document(input, &context());
    let second = parse_document(input, &context());
    prop_assert_eq!(&first, &second, "parsing is not deterministic");
    match first {
        Ok(events) => {
            for event in &events {
                check_event(event)?;
            }
        }
        Err(error) => prop_assert!(!error.to_string().is_empty(), "an error without words"),
    }
    Ok(())
}

// --- Building blocks ---------------------------------------------------------------------------------

/// Values as they should never come: empty, padded, over-long, control characters, markup,
/// characters of several bytes.
fn hostile() -> BoxedStrategy<String> {
    prop_oneof![
        2 => "[a-z][a-z0-9-]{0,24}",
        1 => "[0-9]{1,5}",
        1 => Just(String::new()),
        1 => "[ \t\r\n]{1,3}",
        1 => " {0,2}[a-z0-9-]{1,12} {0,2}",
        1 => ".{0,16}",
        1 => "\\PC{250,260}",
        1 => "[<>!@&|:,'\"\\\\{}\\[\\]]{1,8}",
        1 => "[a-z]{1,6}[\u{0}-\u{1f}\u{7f}\u{85}][a-z]{1,6}",
        1 => "[a-z0-9]{1,4}[éßアー😀\u{200b}\u{feff}]{1,3}[a-z0-9]{0,4}",
    ]
    .boxed()
}

/// An identifier: usually one ElastiCache would write, sometimes a hostile one.
fn identifier() -> BoxedStrategy<String> {
    prop_oneof![
        8 => "[a-z][a-z0-9-]{0,24}",
        1 => "[0-9]{1,4}",
        2 => hostile(),
    ]
    .boxed()
}

/// A JSON value of any type, a few levels deep.
fn any_json() -> BoxedStrategy<Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_map(|f| json!(f)),
        hostile().prop_map(Value::String),
    ];
    leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            vec(inner.clone(), 0..4).prop_map(Value::Array),
            btree_map(hostile(), inner, 0..4).prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
    .boxed()
}

fn month() -> BoxedStrategy<String> {
    prop_oneof![
        8 => select(vec![
            "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Sept", "Oct", "Nov",
            "Dec", "February", "June", "December", "feb", "JAN",
        ])
        .prop_map(str::to_owned),
        1 => "[A-Za-zé]{0,9}",
    ]
    .boxed()
}

/// A zone as the texts and the console write it, or a near miss (signs, stray characters of
/// several bytes, out-of-range hours).
fn zone() -> BoxedStrategy<String> {
    prop_oneof![
        16 => select(vec![
            "UTC", "GMT", "Z", "+09:00", "UTC+09:00", "UTC-5", "(UTC+05:30)", "(UTC)", "UTC+0930",
            "(UTC-05:00)", "+14:00", "-12:00", "",
        ])
        .prop_map(str::to_owned),
        1 => select(vec!["UTC+15", "UTC+09:60", "UTC+-5", "UTC++1", "+"]).prop_map(str::to_owned),
        2 => "\\(?(UTC|GMT)?[+-][0-9:éア]{1,4}\\)?",
        1 => "\\PC{0,6}",
    ]
    .boxed()
}

/// A window time as the templates write it (`Jun 25 19:00 UTC`, no year), or a near miss.
fn window_time() -> BoxedStrategy<String> {
    prop_oneof![
        8 => (month(), 1u32..=31, 0u32..=23, 0u32..=59, zone(), option::weighted(0.1, 1990i32..=2100))
            .prop_map(|(m, d, h, min, z, y)| match y {
                Some(y) => format!("{m} {d:02} {h:02}:{min:02} {z} {y}"),
                None => format!("{m} {d:02} {h:02}:{min:02} {z}"),
            }),
        2 => (month(), 0u32..=40, 0u32..=30, 0u32..=70, zone(), option::weighted(0.2, any::<i32>()))
            .prop_map(|(m, d, h, min, z, y)| match y {
                Some(y) => format!("{m} {d} {h}:{min} {z} {y}"),
                None => format!("{m} {d} {h}:{min} {z}"),
            }),
        1 => (any::<u16>(), 0u32..=13, 0u32..=32, 0u32..=25)
            .prop_map(|(y, mo, d, h)| format!("{y:04}-{mo:02}-{d:02} {h:02}:00:00 UTC")),
        1 => hostile(),
    ]
    .boxed()
}

/// Year, month, day, hour, minute, second, millisecond.
type DateFields = (i32, u32, u32, u32, u32, u32, u32);

/// `2026-06-10T15:22:03.336` followed by `rest` (`Z` as the AWS CLI v1 prints it, `000+00:00` as
/// v2 does).
fn iso_date((y, mo, d, h, mi, s, ms): DateFields, rest: &str) -> String {
    format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}.{ms:03}{rest}")
}

/// An API or CLI date: RFC 3339 as the CLI v1 and v2 print it, with plausible or impossible
/// fields, epochs, or junk.
fn date_text() -> BoxedStrategy<String> {
    let plausible = (
        1990i32..=2100,
        1u32..=12,
        1u32..=28,
        0u32..=23,
        0u32..=59,
        0u32..=59,
        0u32..1000,
    );
    let extreme = (
        0i32..=10_000,
        0u32..=13,
        0u32..=32,
        0u32..=25,
        0u32..=61,
        0u32..=61,
        0u32..1000,
    );
    let v1 = |fields: DateFields| iso_date(fields, "Z");
    let v2 = |(fields, zone): (DateFields, String)| iso_date(fields, &format!("000{zone}"));
    let offset = || select(vec!["+00:00", "+09:00", "-05:00", "Z"]).prop_map(str::to_owned);
    prop_oneof![
        8 => plausible.clone().prop_map(v1),
        8 => (plausible, offset()).prop_map(v2),
        1 => extreme.clone().prop_map(v1),
        1 => (extreme, zone()).prop_map(v2),
        1 => any::<i64>().prop_map(|n| n.to_string()),
        1 => any::<f64>().prop_map(|f| f.to_string()),
        1 => hostile(),
    ]
    .boxed()
}

/// A `Date` or `Timestamp` field's JSON value: mostly a string, sometimes a number or worse.
fn date_json() -> BoxedStrategy<Value> {
    prop_oneof![
        12 => date_text().prop_map(Value::String),
        1 => (0i64..4_102_444_800).prop_map(Value::from),
        1 => any::<i64>().prop_map(Value::from),
        1 => any::<f64>().prop_map(|f| json!(f)),
        1 => any_json(),
    ]
    .boxed()
}

fn node_list() -> BoxedStrategy<String> {
    (
        vec(prop_oneof![4 => "[0-9]{1,4}", 1 => hostile()], 0..4),
        select(vec![",", ", ", " and ", " ", ",,"]),
    )
        .prop_map(|(nodes, separator)| nodes.join(separator))
        .boxed()
}

/// Pieces of the documented templates, for texts that almost match one.
const TEMPLATE_FRAGMENTS: &[&str] = &[
    "The node with Cache Cluster ID: ",
    ", Node ID: ",
    " is scheduled for replacement during the maintenance window from Start Time: ",
    ", End Time: ",
    "The replacement in maintenance window for node with Cache Cluster ID: ",
    " has re-scheduled from Previous Start Time: ",
    ", Previous End Time: ",
    " to New Start Time: ",
    ", New End Time: ",
    "The replacement for Cache Cluster ID: ",
    " scheduled during the maintenance window from Start Time: ",
    " has been canceled",
    "Recovering cache nodes ",
    "Finished recovery for cache nodes ",
    "Failover from master node ",
    "Failover to replica node ",
    " to replica node ",
    " completed",
    "Cache node ",
    " restarted",
    " shutdown",
    "Service update is available for cache node ",
    "Snapshot succeeded for snapshot with ID '",
    "Snapshot failed for snapshot with ID '",
    "' of cache cluster with ID '",
    "'",
    "Cache cluster created",
    "Test Failover API called for node group ",
    "Finished modifying number of nodes from ",
    "Added cache node ",
    " in availability zone ",
    "Feb 29 02:00 UTC",
    "Dec 31 23:30 UTC",
    "Jan 01 00:30 UTC",
    "0001",
    "2",
    ".",
    ", ",
    " ",
];

/// A message text: a documented template with random fills, a soup of template fragments, or junk.
fn message() -> BoxedStrategy<String> {
    let id = || identifier();
    let node = || prop_oneof![3 => "[0-9]{1,4}", 1 => hostile()];
    prop_oneof![
        2 => (id(), node(), window_time(), window_time()).prop_map(|(c, n, s, e)| format!(
            "The node with Cache Cluster ID: {c}, Node ID: {n} is scheduled for replacement during the maintenance window from Start Time: {s}, End Time: {e}"
        )),
        2 => (id(), node(), window_time(), window_time(), window_time(), window_time()).prop_map(
            |(c, n, ps, pe, s, e)| format!(
                "The replacement in maintenance window for node with Cache Cluster ID: {c}, Node ID: {n} has re-scheduled from Previous Start Time: {ps}, Previous End Time: {pe} to New Start Time: {s}, New End Time: {e}"
            )
        ),
        1 => (id(), node(), window_time(), window_time()).prop_map(|(c, n, s, e)| format!(
            "The replacement for Cache Cluster ID: {c}, Node ID: {n} scheduled during the maintenance window from Start Time: {s}, End Time: {e} has been canceled"
        )),
        1 => node_list().prop_map(|n| format!("Recovering cache nodes {n}")),
        1 => node_list().prop_map(|n| format!("Finished recovery for cache nodes {n}")),
        1 => id().prop_map(|n| format!("Failover to replica node {n} completed")),
        1 => (id(), id()).prop_map(|(a, b)| format!(
            "Failover from master node {a} to replica node {b} completed"
        )),
        1 => (node_list(), select(vec!["restarted", "shutdown", "rebooted"]))
            .prop_map(|(n, verb)| format!("Cache node {n} {verb}")),
        1 => node_list().prop_map(|n| format!("Service update is available for cache node {n}.")),
        1 => (select(vec!["succeeded", "failed"]), id(), id()).prop_map(|(outcome, s, c)| format!(
            "Snapshot {outcome} for snapshot with ID '{s}' of cache cluster with ID '{c}'"
        )),
        1 => Just("Cache cluster created".to_owned()),
        1 => id().prop_map(|g| format!("Test Failover API called for node group {g}")),
        1 => (any::<u64>(), any::<u64>()).prop_map(|(a, b)| format!(
            "Finished modifying number of nodes from {a} to {b}"
        )),
        1 => (node(), id()).prop_map(|(n, az)| format!(
            "Added cache node {n} in availability zone {az}"
        )),
        2 => vec(prop_oneof![3 => select(TEMPLATE_FRAGMENTS).prop_map(str::to_owned), 1 => hostile()], 0..10)
            .prop_map(|parts| parts.concat()),
        1 => hostile(),
    ]
    .boxed()
}

/// Usually `strategy`'s value, sometimes a value of any JSON type, sometimes nothing (the field
/// is left out).
fn maybe<S>(strategy: S) -> BoxedStrategy<Option<Value>>
where
    S: Strategy<Value = Value> + 'static,
{
    prop_oneof![
        16 => strategy.prop_map(Some),
        1 => any_json().prop_map(Some),
        1 => Just(None),
    ]
    .boxed()
}

/// An object with the fields that are present.
fn object(fields: Vec<(&str, Option<Value>)>) -> Map<String, Value> {
    fields
        .into_iter()
        .filter_map(|(name, value)| Some((name.to_owned(), value?)))
        .collect()
}

fn source_type() -> BoxedStrategy<String> {
    prop_oneof![
        6 => select(vec![
            "cache-cluster", "replication-group", "cache-parameter-group", "cache-security-group",
            "cache-subnet-group", "serverless-cache", "serverless-cache-snapshot", "user",
            "user-group", "Cache cluster", "Replication Group",
        ])
        .prop_map(str::to_owned),
        1 => hostile(),
    ]
    .boxed()
}

// --- The shapes --------------------------------------------------------------------------------------

/// A DescribeEvents record, the legacy SNS sample among them.
fn describe_record() -> BoxedStrategy<Value> {
    (
        maybe(identifier().prop_map(Value::String)),
        maybe(source_type().prop_map(Value::String)),
        maybe(message().prop_map(Value::String)),
        maybe(date_json()),
    )
        .prop_map(|(source, kind, text, date)| {
            Value::Object(object(vec![
                ("SourceIdentifier", source),
                ("SourceType", kind),
                ("Message", text),
                ("Date", date),
            ]))
        })
        .boxed()
}

fn event_name() -> BoxedStrategy<String> {
    prop_oneof![
        6 => select(vec![
            "NodeReplacementScheduled", "NodeReplacementRescheduled", "NodeReplacementCanceled",
            "CacheNodeReplaceStarted", "CacheNodeReplaceComplete", "FailoverComplete",
            "CacheNodesRebooted", "ServiceUpdateAvailableForNode", "ServiceUpdateAvailable",
            "SnapshotComplete", "SnapshotFailed", "CacheClusterProvisioningComplete",
            "AddCacheNodeComplete", "ReplicationGroupScalingFailed", "",
        ])
        .prop_map(str::to_owned),
        2 => "[A-Za-z0-9]{1,30}",
        1 => hostile(),
    ]
    .prop_map(|name| format!("ElastiCache:{name}"))
    .boxed()
}

/// A raw ElastiCache message body: one or more event names, metadata keys, anything else.
fn elasticache_body() -> BoxedStrategy<Value> {
    let metadata_key = prop_oneof![
        4 => select(vec![
            "Cache Cluster ID", "Replication Group ID", "Service Update Name", "Cache Node ID",
            "Node ID", "Date", "Message",
        ])
        .prop_map(str::to_owned),
        2 => event_name(),
        1 => hostile(),
    ];
    let metadata_value = prop_oneof![
        5 => identifier().prop_map(Value::String),
        1 => message().prop_map(Value::String),
        1 => date_json(),
        1 => any_json(),
    ];
    (
        event_name(),
        prop_oneof![12 => identifier().prop_map(Value::String), 1 => any_json()],
        vec((metadata_key, metadata_value), 0..5),
    )
        .prop_map(|(name, source, metadata)| {
            let mut body = Map::new();
            body.insert(name, source);
            for (key, value) in metadata {
                body.insert(key, value);
            }
            Value::Object(body)
        })
        .boxed()
}

/// What an SNS notification carries as its `Message`: a body or record as a JSON string, or not.
fn sns_message() -> BoxedStrategy<Value> {
    prop_oneof![
        4 => elasticache_body().prop_map(|b| Value::String(b.to_string())),
        2 => describe_record().prop_map(|r| Value::String(r.to_string())),
        1 => message().prop_map(Value::String),
        1 => any_json(),
    ]
    .boxed()
}

fn topic_arn() -> BoxedStrategy<String> {
    prop_oneof![
        4 => (
            select(vec!["us-east-1", "eu-central-1", "ap-southeast-2", ""]),
            prop_oneof![6 => "[0-9]{12}", 1 => "[0-9]{0,14}", 1 => hostile()],
            identifier(),
        )
            .prop_map(|(region, account, topic)| format!("arn:aws:sns:{region}:{account}:{topic}")),
        1 => hostile(),
    ]
    .boxed()
}

/// The notification object: a Lambda record's `Sns` or an SNS HTTP body.
fn sns_notification(lambda: bool) -> BoxedStrategy<Value> {
    (
        maybe(
            prop_oneof![
                16 => Just("Notification".to_owned()),
                1 => Just("SubscriptionConfirmation".to_owned()),
                1 => Just("UnsubscribeConfirmation".to_owned()),
                1 => hostile(),
            ]
            .prop_map(Value::String),
        ),
        maybe(identifier().prop_map(Value::String)),
        maybe(topic_arn().prop_map(Value::String)),
        maybe(hostile().prop_map(Value::String)),
        maybe(sns_message()),
        maybe(date_json()),
    )
        .prop_map(move |(kind, id, arn, subject, text, timestamp)| {
            let mut sns = object(vec![
                ("Type", kind),
                ("MessageId", id),
                ("TopicArn", arn),
                ("Subject", subject),
                ("Message", text),
                ("Timestamp", timestamp),
            ]);
            sns.insert("SignatureVersion".into(), json!("1"));
            sns.insert("Signature".into(), json!("c2lnbmF0dXJl"));
            let (cert, unsubscribe) = if lambda {
                ("SigningCertUrl", "UnsubscribeUrl")
            } else {
                ("SigningCertURL", "UnsubscribeURL")
            };
            sns.insert(cert.into(), json!("https://sns.example.invalid/cert.pem"));
            sns.insert(
                unsubscribe.into(),
                json!("https://sns.example.invalid/?Action=Unsubscribe"),
            );
            if lambda {
                sns.insert("MessageAttributes".into(), json!({}));
            }
            Value::Object(sns)
        })
        .boxed()
}

fn lambda_event() -> BoxedStrategy<Value> {
    let record = prop_oneof![
        8 => sns_notification(true)
            .prop_map(|sns| json!({"EventSource": "aws:sns", "EventVersion": "1.0", "Sns": sns})),
        1 => any_json(),
    ];
    prop_oneof![
        8 => vec(record, 0..4).prop_map(|records| json!({ "Records": records })),
        1 => any_json().prop_map(|records| json!({ "Records": records })),
    ]
    .boxed()
}

fn describe_events_output() -> BoxedStrategy<Value> {
    prop_oneof![
        8 => vec(prop_oneof![6 => describe_record(), 1 => any_json()], 0..5)
            .prop_map(|events| json!({ "Events": events })),
        1 => any_json().prop_map(|events| json!({ "Events": events })),
    ]
    .boxed()
}

/// One JSON document of any shape the parser reads, or an array of them.
fn json_document() -> BoxedStrategy<Value> {
    let single = prop_oneof![
        3 => lambda_event(),
        3 => sns_notification(false),
        3 => elasticache_body(),
        3 => describe_events_output(),
        2 => describe_record(),
        1 => any_json(),
    ];
    prop_oneof![
        6 => single.clone(),
        1 => vec(single, 0..4).prop_map(Value::Array),
    ]
    .boxed()
}

/// A document written out the ways people hand it over: compact, pretty, or cut short.
fn json_text() -> BoxedStrategy<String> {
    (json_document(), 0u8..8, any::<prop::sample::Index>())
        .prop_map(|(doc, style, cut)| match style {
            0..=3 => doc.to_string(),
            4..=6 => serde_json::to_string_pretty(&doc).expect("a value serializes"),
            _ => {
                let text = doc.to_string();
                let chars = text.chars().count();
                text.chars().take(cut.index(chars + 1)).collect()
            }
        })
        .boxed()
}

/// A console date (`June 11, 2022, 00:22:03 (UTC+09:00)`) with plausible or impossible pieces.
fn console_date() -> BoxedStrategy<String> {
    let console = |(m, d, y, h, mi, s, z): (String, u32, i32, u32, u32, u32, String)| {
        format!("{m} {d}, {y}, {h:02}:{mi:02}:{s:02} ({z})")
    };
    prop_oneof![
        8 => (month(), 1u32..=31, 1990i32..=2100, 0u32..=23, 0u32..=59, 0u32..=59, zone())
            .prop_map(console),
        2 => (month(), 0u32..=40, 0i32..=10_000, 0u32..=30, 0u32..=70, 0u32..=70, zone())
            .prop_map(console),
        1 => date_text(),
        1 => hostile(),
    ]
    .boxed()
}

/// Rows copied from the console: pipes with or without outer pipes, tabs, a header, a rule.
fn console_rows() -> BoxedStrategy<String> {
    let row = (identifier(), source_type(), console_date(), message());
    (
        vec(row, 1..5),
        select(vec![" | ", "|", "\t"]),
        any::<bool>(),
        any::<bool>(),
    )
        .prop_map(|(rows, separator, outer_pipes, header)| {
            let line = |cells: [&str; 4]| {
                let joined = cells.join(separator);
                if outer_pipes && separator != "\t" {
                    format!("| {joined} |")
                } else {
                    joined
                }
            };
            let mut lines = Vec::new();
            if header {
                lines.push(line(["Source", "Type", "Date", "Message"]));
                if outer_pipes {
                    lines.push(line(["---", "---", "---", "---"]));
                }
            }
            for (source, kind, date, text) in &rows {
                lines.push(line([source, kind, date, text]));
            }
            lines.join("\n")
        })
        .boxed()
}

/// Lines of an AWS maintenance e-mail.
fn email_lines() -> BoxedStrategy<String> {
    fn email_time((h, mi, m, d, y): (u32, u32, String, u32, Option<i32>)) -> String {
        match y {
            Some(y) => format!("{h:02}:{mi:02} UTC, {m} {d}, {y}"),
            None => format!("{h:02}:{mi:02} UTC, {m} {d}"),
        }
    }
    let line = (
        prop_oneof![6 => Just("us-west-2".to_owned()), 1 => hostile()],
        identifier(),
        identifier(),
        prop_oneof![
            6 => (0u32..=23, 0u32..=59, month(), 1u32..=28, option::weighted(0.8, 1990i32..=2100))
                .prop_map(email_time),
            1 => (0u32..=30, 0u32..=70, month(), 0u32..=40, option::of(0i32..=10_000))
                .prop_map(email_time),
            1 => window_time(),
        ],
    )
        .prop_map(|(region, cluster, node, time)| {
            format!("Region: {region}, Cluster Name: {cluster}, Node Name: {node}, Replacement Time: {time}")
        });
    vec(line, 1..4).prop_map(|lines| lines.join("\n")).boxed()
}

// --- The properties ----------------------------------------------------------------------------------

proptest! {
    #![proptest_config(ProptestConfig { cases: CASES, ..ProptestConfig::default() })]

    #[test]
    fn any_text_is_read_or_refused_without_panicking(input in any::<String>()) {
        check_input(&input)?;
    }

    #[test]
    fn text_starting_like_json_is_read_or_refused_without_panicking(
        input in "[ \u{feff}]{0,2}[\\[{].{0,60}(\n.{0,40}){0,3}"
    ) {
        check_input(&input)?;
    }

    #[test]
    fn documents_shaped_like_every_json_shape_keep_the_invariants(input in json_text()) {
        check_input(&input)?;
    }

    #[test]
    fn json_lines_of_every_shape_keep_the_invariants(
        lines in vec(json_text(), 1..5),
        blank_line in any::<bool>(),
    ) {
        let separator = if blank_line { "\n\n" } else { "\n" };
        // A multi-line pretty document is not one line: keep only documents on one line.
        let lines: Vec<String> = lines.into_iter().map(|l| l.replace('\n', " ")).collect();
        check_input(&lines.join(separator))?;
    }

    #[test]
    fn message_texts_near_the_templates_keep_the_invariants(
        text in message(),
        date in date_text(),
        source in identifier(),
    ) {
        let record = json!({
            "SourceIdentifier": source,
            "SourceType": "cache-cluster",
            "Message": text,
            "Date": date,
        });
        check_input(&record.to_string())?;
    }

    #[test]
    fn console_rows_keep_the_invariants(input in console_rows()) {
        check_input(&input)?;
    }

    #[test]
    fn maintenance_email_lines_keep_the_invariants(input in email_lines()) {
        check_input(&input)?;
    }

    #[test]
    fn well_formed_template_records_are_always_read(
        text in message(),
        seconds in 0i64..4_102_444_800,
        source in "[a-z][a-z0-9-]{0,30}",
    ) {
        // A record with a good id and a good date is never refused, whatever its text says,
        // unless the text names an identifier that is not one, or a time of the maintenance
        // (a previous or new window) outside the years that are kept.
        let date = DateTime::from_timestamp(seconds, 0).expect("in range").to_rfc3339();
        let record = json!({
            "SourceIdentifier": source,
            "SourceType": "cache-cluster",
            "Message": text,
            "Date": date,
        });
        match parse_document(&record.to_string(), &context()) {
            Ok(events) => {
                prop_assert!(!events.is_empty());
                for event in &events {
                    check_event(event)?;
                }
            }
            Err(error) => {
                let shown = error.to_string();
                prop_assert!(
                    shown.contains("Cache Cluster ID")
                        || shown.contains("Node ID")
                        || shown.contains("outside the years 1970 to 9999"),
                    "a well-formed record was refused: {shown}"
                );
            }
        }
    }
}
