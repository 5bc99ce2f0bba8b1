//! The parser against real payloads: one fixture per input shape under `tests/fixtures/`, every
//! documented ElastiCache message template, windows across New Year and on Feb 29, and the errors
//! malformed inputs give.
//!
//! Two golden files under `tests/fixtures/expected/` pin the whole JSON form of the normalized
//! event. When the contract changes on purpose, the failing test prints the new JSON to paste.

use std::collections::BTreeSet;

use cachewatch_core::model::event::EVENT_ID_LEN;
use cachewatch_core::{
    Category, MaintenanceEvent, Origin, ParseContext, Window, model::event::FailoverNodes,
    parse_document, read_document,
};
use chrono::{DateTime, Utc};

const LAMBDA_SNS_EVENT: &str = include_str!("../../../tests/fixtures/lambda_sns_event.json");
const SNS_HTTP_NOTIFICATION: &str =
    include_str!("../../../tests/fixtures/sns_http_notification.json");
const SNS_SUBSCRIPTION_CONFIRMATION: &str =
    include_str!("../../../tests/fixtures/sns_subscription_confirmation.json");
const SNS_LEGACY_SAMPLE: &str = include_str!("../../../tests/fixtures/sns_legacy_sample.json");
const BODY_ONE_KEY: &str = include_str!("../../../tests/fixtures/elasticache_body_one_key.json");
const BODY_METADATA: &str = include_str!("../../../tests/fixtures/elasticache_body_metadata.json");
const BODY_SEVERAL_KEYS: &str =
    include_str!("../../../tests/fixtures/elasticache_body_several_keys.json");
const BODY_UNKNOWN_NAME: &str =
    include_str!("../../../tests/fixtures/elasticache_body_unknown_name.json");
const DESCRIBE_EVENTS_CLI_V2: &str =
    include_str!("../../../tests/fixtures/describe_events_cli_v2.json");
const DESCRIBE_EVENTS_CLI_V1: &str =
    include_str!("../../../tests/fixtures/describe_events_cli_v1.json");
const DESCRIBE_EVENTS_RECORD: &str =
    include_str!("../../../tests/fixtures/describe_events_record.json");
const YEAR_ROLLOVER: &str =
    include_str!("../../../tests/fixtures/describe_events_year_rollover.json");
const LEAP_DAY: &str = include_str!("../../../tests/fixtures/describe_events_leap_day.json");
const CONSOLE_ROWS: &str = include_str!("../../../tests/fixtures/console_rows.txt");
const CONSOLE_ROWS_TSV: &str = include_str!("../../../tests/fixtures/console_rows.tsv");
const CONSOLE_ROWS_MD: &str = include_str!("../../../tests/fixtures/console_rows.md");
const MAINTENANCE_EMAIL: &str = include_str!("../../../tests/fixtures/maintenance_email.txt");
const JSON_LINES: &str = include_str!("../../../tests/fixtures/events.jsonl");

const MALFORMED_BROKEN: &str = include_str!("../../../tests/fixtures/malformed_broken.json");
const MALFORMED_UNKNOWN_SHAPE: &str =
    include_str!("../../../tests/fixtures/malformed_unknown_shape.json");
const MALFORMED_BAD_DATE: &str = include_str!("../../../tests/fixtures/malformed_bad_date.json");
const MALFORMED_CONTROL_CHARACTER: &str =
    include_str!("../../../tests/fixtures/malformed_control_character.json");
const MALFORMED_CONSOLE_DATE: &str =
    include_str!("../../../tests/fixtures/malformed_console_bad_date.txt");
const MALFORMED_LINE_3: &str = include_str!("../../../tests/fixtures/malformed_line3.jsonl");

const EXPECTED_LAMBDA_SNS_EVENT: &str =
    include_str!("../../../tests/fixtures/expected/lambda_sns_event.json");
const EXPECTED_YEAR_ROLLOVER: &str =
    include_str!("../../../tests/fixtures/expected/describe_events_year_rollover.json");

/// When every fixture is received: the date of inputs that carry none.
const RECEIVED_AT: &str = "2026-06-11T03:10:30Z";

const SCHEDULED_LEDGER: &str = "The node with Cache Cluster ID: ledger-0002-001, Node ID: 0001 is scheduled for replacement during the maintenance window from Start Time: Jun 24 21:00 UTC, End Time: Jun 24 22:00 UTC";
const RESCHEDULED_LEDGER: &str = "The replacement in maintenance window for node with Cache Cluster ID: ledger-0002-001, Node ID: 0001 has re-scheduled from Previous Start Time: Jun 24 21:00 UTC, Previous End Time: Jun 24 22:00 UTC to New Start Time: Jul 01 21:00 UTC, New End Time: Jul 01 22:00 UTC";
const FAILOVER_FROM_MASTER: &str =
    "Failover from master node ledger-0001-001 to replica node ledger-0001-002 completed";

fn at(rfc3339: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(rfc3339)
        .expect("test times are RFC 3339")
        .with_timezone(&Utc)
}

fn context() -> ParseContext {
    ParseContext::received_at(at(RECEIVED_AT))
}

fn parse(input: &str) -> Vec<MaintenanceEvent> {
    parse_document(input, &context()).unwrap_or_else(|e| panic!("the input should parse: {e}"))
}

/// The `Display` of the error an input gives.
fn parse_error(input: &str) -> String {
    refusal("the input", input)
}

/// Why `input` (the case `case`) is refused; fails, naming the case, if it is read instead.
fn refusal(case: &str, input: &str) -> String {
    match parse_document(input, &context()) {
        Ok(events) => panic!("{case}: expected an error, got {} events", events.len()),
        Err(e) => e.to_string(),
    }
}

fn window(start: &str, end: &str) -> Option<Window> {
    Some(Window {
        start: at(start),
        end: at(end),
    })
}

fn text<T: AsRef<str>>(value: &Option<T>) -> Option<&str> {
    value.as_ref().map(AsRef::as_ref)
}

/// The one event about `source` with this message text.
fn the_event<'a>(
    events: &'a [MaintenanceEvent],
    source: &str,
    message: &str,
) -> &'a MaintenanceEvent {
    let found: Vec<&MaintenanceEvent> = events
        .iter()
        .filter(|e| e.source_id.as_str() == source && e.message.as_deref() == Some(message))
        .collect();
    assert_eq!(found.len(), 1, "events about {source} saying {message:?}");
    found[0]
}

/// The one event of this kind.
fn the_kind<'a>(events: &'a [MaintenanceEvent], kind: &str) -> &'a MaintenanceEvent {
    let found: Vec<&MaintenanceEvent> = events.iter().filter(|e| e.kind.is(kind)).collect();
    assert_eq!(found.len(), 1, "events of kind {kind}");
    found[0]
}

fn compact(json: &str) -> String {
    let value: serde_json::Value = serde_json::from_str(json).expect("fixture is JSON");
    serde_json::to_string(&value).expect("a value serializes")
}

fn assert_matches_golden(events: &[MaintenanceEvent], golden: &str, name: &str) {
    let actual = serde_json::to_value(events).expect("events serialize");
    let expected: serde_json::Value = serde_json::from_str(golden).expect("golden file is JSON");
    assert!(
        actual == expected,
        "the events differ from tests/fixtures/expected/{name}; if the change is intended, \
         replace the file with:\n{}",
        serde_json::to_string_pretty(events).expect("events serialize")
    );
}

// --- Lambda SNS events and SNS HTTP notifications -------------------------------------------

#[test]
fn a_lambda_sns_event_gives_one_event_per_record() {
    // Arrange
    let input = LAMBDA_SNS_EVENT;

    // Act
    let events = parse(input);

    // Assert
    let kinds: Vec<&str> = events.iter().map(|e| e.kind.as_str()).collect();
    assert_eq!(
        kinds,
        [
            "node_replacement_scheduled",
            "failover_complete",
            "cache_node_replace_complete",
            "snapshot_complete"
        ]
    );
    assert!(events.iter().all(|e| e.origin == Origin::Sns));
}

#[test]
fn a_lambda_record_takes_its_date_region_and_account_from_the_envelope() {
    // Arrange
    let input = LAMBDA_SNS_EVENT;

    // Act
    let events = parse(input);

    // Assert
    let scheduled = &events[0];
    assert_eq!(
        scheduled.event_name.as_deref(),
        Some("ElastiCache:NodeReplacementScheduled")
    );
    assert_eq!(scheduled.category, Category::NodeReplacement);
    assert!(scheduled.actionable);
    assert_eq!(scheduled.source_type, "cache-cluster");
    assert_eq!(scheduled.source_id.as_str(), "ledger-0002-001");
    assert_eq!(text(&scheduled.cluster_id), Some("ledger-0002-001"));
    assert_eq!(text(&scheduled.node_id), None);
    assert_eq!(text(&scheduled.replication_group_id), None);
    assert_eq!(scheduled.occurred_at, at("2026-06-10T15:22:04.912Z"));
    assert_eq!(scheduled.window, None, "an SNS body carries no window");
    assert_eq!(scheduled.message, None);
    assert_eq!(scheduled.region.as_deref(), Some("eu-central-1"));
    assert_eq!(scheduled.account_id.as_deref(), Some("482917365510"));
}

#[test]
fn a_failover_body_names_its_replication_group_and_cluster() {
    // Arrange
    let input = LAMBDA_SNS_EVENT;

    // Act
    let events = parse(input);

    // Assert
    let failover = the_kind(&events, "failover_complete");
    assert_eq!(failover.category, Category::Failover);
    assert!(failover.actionable);
    assert_eq!(failover.source_type, "replication-group");
    assert_eq!(failover.source_id.as_str(), "ledger");
    assert_eq!(text(&failover.replication_group_id), Some("ledger"));
    assert_eq!(text(&failover.cluster_id), Some("ledger-0002-002"));
    assert_eq!(failover.occurred_at, at("2026-07-01T21:14:37.205Z"));
    assert_eq!(
        failover.failover, None,
        "the body names no node; the DescribeEvents text does"
    );
}

#[test]
fn a_snapshot_notice_is_kept_but_needs_no_one() {
    // Arrange
    let input = LAMBDA_SNS_EVENT;

    // Act
    let events = parse(input);

    // Assert
    let snapshot = the_kind(&events, "snapshot_complete");
    assert_eq!(snapshot.category, Category::Other);
    assert!(!snapshot.actionable);
    assert_eq!(text(&snapshot.cluster_id), Some("ledger-0001-002"));
}

#[test]
fn sns_ids_and_subject_are_kept_as_attributes() {
    // Arrange
    let input = LAMBDA_SNS_EVENT;

    // Act
    let events = parse(input);

    // Assert
    let scheduled = &events[0];
    let attribute = |event: &MaintenanceEvent, key: &str| event.attributes.get(key).cloned();
    assert_eq!(
        attribute(scheduled, "sns_message_id").as_deref(),
        Some("f01b15ae-6b56-4b36-8b4c-a41383abaa01")
    );
    assert_eq!(
        attribute(scheduled, "sns_topic_arn").as_deref(),
        Some("arn:aws:sns:eu-central-1:482917365510:elasticache-ops")
    );
    assert_eq!(
        attribute(scheduled, "sns_subject").as_deref(),
        Some("ElastiCache notification")
    );
    let complete = the_kind(&events, "cache_node_replace_complete");
    assert_eq!(
        attribute(complete, "sns_subject"),
        None,
        "its Subject is null"
    );
}

#[test]
fn an_sns_http_notification_reads_its_url_spellings_and_topic() {
    // Arrange
    let input = SNS_HTTP_NOTIFICATION;

    // Act
    let events = parse(input);

    // Assert
    assert_eq!(events.len(), 1);
    let started = &events[0];
    assert_eq!(started.origin, Origin::SnsHttp);
    assert_eq!(
        started.event_name.as_deref(),
        Some("ElastiCache:CacheNodeReplaceStarted")
    );
    assert_eq!(started.kind.as_str(), "cache_node_replace_started");
    assert_eq!(started.category, Category::NodeReplacement);
    assert_eq!(text(&started.cluster_id), Some("pricing-mc"));
    assert_eq!(started.occurred_at, at("2026-08-03T02:41:19.007Z"));
    assert_eq!(started.region.as_deref(), Some("ap-southeast-2"));
    assert_eq!(started.account_id.as_deref(), Some("731905246618"));
}

#[test]
fn an_sns_notification_has_one_id_whether_lambda_or_http_delivered_it() {
    // Arrange
    let notification: serde_json::Value =
        serde_json::from_str(SNS_HTTP_NOTIFICATION).expect("fixture is JSON");
    let lambda_event = serde_json::json!({
        "Records": [{"EventSource": "aws:sns", "EventVersion": "1.0", "Sns": notification}]
    })
    .to_string();

    // Act
    let by_http = parse(SNS_HTTP_NOTIFICATION);
    let by_lambda = parse(&lambda_event);

    // Assert
    assert_eq!(by_http[0].id, by_lambda[0].id);
    assert_eq!(by_lambda[0].origin, Origin::Sns);
}

#[test]
fn a_legacy_sns_sample_is_a_describe_events_record_in_an_envelope() {
    // Arrange
    let input = SNS_LEGACY_SAMPLE;

    // Act
    let events = parse(input);

    // Assert
    assert_eq!(events.len(), 1);
    let created = &events[0];
    assert_eq!(created.event_name, None);
    assert_eq!(created.kind.as_str(), "cache_cluster_provisioning_complete");
    assert_eq!(created.category, Category::Other);
    assert_eq!(created.message.as_deref(), Some("Cache cluster created"));
    assert_eq!(
        created.occurred_at,
        at("2026-05-12T09:15:27.004Z"),
        "the record's own Date, not the SNS Timestamp"
    );
    assert_eq!(created.region.as_deref(), Some("ap-southeast-2"));
    assert_eq!(created.account_id.as_deref(), Some("731905246618"));
    assert_eq!(created.origin, Origin::SnsHttp);
}

// --- Raw ElastiCache message bodies ------------------------------------------------------------

#[test]
fn a_body_without_a_date_is_dated_at_reception() {
    // Arrange
    let input = BODY_ONE_KEY;

    // Act
    let events = parse(input);

    // Assert
    assert_eq!(events.len(), 1);
    let started = &events[0];
    assert_eq!(started.origin, Origin::ElasticacheBody);
    assert_eq!(started.kind.as_str(), "cache_node_replace_started");
    assert_eq!(started.source_type, "cache-cluster");
    assert_eq!(started.source_id.as_str(), "pricing-mc");
    assert_eq!(text(&started.cluster_id), Some("pricing-mc"));
    assert_eq!(started.occurred_at, at(RECEIVED_AT));
    assert_eq!(started.region, None);
    assert_eq!(started.account_id, None);
}

#[test]
fn metadata_keys_fill_the_fields_they_name_in_any_key_order() {
    // Arrange
    let input = BODY_METADATA;

    // Act
    let events = parse(input);

    // Assert
    assert_eq!(events.len(), 1);
    let update = &events[0];
    assert_eq!(
        update.event_name.as_deref(),
        Some("ElastiCache:ServiceUpdateAvailable")
    );
    assert_eq!(update.kind.as_str(), "service_update_available");
    assert_eq!(update.category, Category::Other);
    assert!(!update.actionable);
    assert_eq!(update.source_type, "replication-group");
    assert_eq!(update.source_id.as_str(), "catalog");
    assert_eq!(text(&update.replication_group_id), Some("catalog"));
    assert_eq!(text(&update.cluster_id), Some("catalog-0001-002"));
    assert_eq!(
        update
            .attributes
            .get("Service Update Name")
            .map(String::as_str),
        Some("elasticache-20260914-valkey-patch")
    );
}

#[test]
fn a_body_with_several_event_names_gives_one_event_for_each() {
    // Arrange
    let input = BODY_SEVERAL_KEYS;

    // Act
    let events = parse(input);

    // Assert
    let names: BTreeSet<&str> = events
        .iter()
        .filter_map(|e| e.event_name.as_deref())
        .collect();
    assert_eq!(
        names,
        BTreeSet::from([
            "ElastiCache:CacheClusterParametersChanged",
            "ElastiCache:CacheNodeReplaceComplete",
            "ElastiCache:CacheNodesRebooted",
        ])
    );
    assert_eq!(events.len(), 3);
    assert!(events.iter().all(|e| e.source_id.as_str() == "pricing-mc"));
    let ids: BTreeSet<&str> = events.iter().map(|e| e.id.as_str()).collect();
    assert_eq!(ids.len(), 3, "each event of the body has an id of its own");
    assert_eq!(
        the_kind(&events, "cache_node_replace_complete").category,
        Category::NodeReplacement
    );
}

#[test]
fn an_unknown_event_name_is_kept_as_other() {
    // Arrange
    let input = BODY_UNKNOWN_NAME;

    // Act
    let events = parse(input);

    // Assert
    assert_eq!(events.len(), 1);
    let unknown = &events[0];
    assert_eq!(
        unknown.event_name.as_deref(),
        Some("ElastiCache:DataTieringEvictionStarted")
    );
    assert_eq!(unknown.kind.as_str(), "data_tiering_eviction_started");
    assert_eq!(unknown.category, Category::Other);
    assert!(!unknown.actionable);
    assert_eq!(unknown.source_type, "cache-cluster");
    assert_eq!(text(&unknown.cluster_id), Some("catalog-0002-001"));
}

// --- DescribeEvents output and the documented message templates -------------------------------

#[test]
fn describe_events_output_gives_every_record_with_its_date() {
    // Arrange
    let input = DESCRIBE_EVENTS_CLI_V2;

    // Act
    let events = parse(input);

    // Assert
    assert_eq!(events.len(), 11);
    assert!(events.iter().all(|e| e.origin == Origin::DescribeEvents));
    assert!(events.iter().all(|e| e.event_name.is_none()));
    assert!(
        events
            .iter()
            .all(|e| e.region.is_none() && e.account_id.is_none())
    );
    assert_eq!(events[0].occurred_at, at("2026-07-01T21:14:36.880Z"));
    assert_eq!(events[10].occurred_at, at("2026-06-10T15:22:03.336Z"));
}

#[test]
fn cli_v1_and_v2_dates_are_the_same_instant() {
    // Arrange
    let v2 = DESCRIBE_EVENTS_RECORD;
    let v1 = DESCRIBE_EVENTS_RECORD.replace(
        "2026-06-10T15:22:03.336000+00:00",
        "2026-06-10T15:22:03.336Z",
    );
    assert_ne!(v1, v2);

    // Act
    let from_v2 = parse(v2);
    let from_v1 = parse(&v1);

    // Assert
    assert_eq!(from_v1, from_v2);
}

#[test]
fn scheduled_notice_gives_the_node_and_the_window() {
    // Arrange
    let input = DESCRIBE_EVENTS_CLI_V2;

    // Act
    let events = parse(input);

    // Assert
    let scheduled = the_event(&events, "ledger-0002-001", SCHEDULED_LEDGER);
    assert_eq!(scheduled.kind.as_str(), "node_replacement_scheduled");
    assert_eq!(scheduled.category, Category::NodeReplacement);
    assert!(scheduled.actionable);
    assert_eq!(scheduled.source_type, "cache-cluster");
    assert_eq!(text(&scheduled.cluster_id), Some("ledger-0002-001"));
    assert_eq!(text(&scheduled.node_id), Some("0001"));
    assert_eq!(text(&scheduled.replication_group_id), None);
    assert_eq!(scheduled.occurred_at, at("2026-06-10T15:22:03.336Z"));
    assert_eq!(
        scheduled.window,
        window("2026-06-24T21:00:00Z", "2026-06-24T22:00:00Z")
    );
    assert_eq!(scheduled.previous_window, None);
}

#[test]
fn rescheduled_notice_moves_the_window() {
    // Arrange
    let input = DESCRIBE_EVENTS_CLI_V2;

    // Act
    let events = parse(input);

    // Assert
    let rescheduled = the_event(&events, "ledger-0002-001", RESCHEDULED_LEDGER);
    assert_eq!(rescheduled.kind.as_str(), "node_replacement_rescheduled");
    assert_eq!(rescheduled.category, Category::NodeReplacement);
    assert_eq!(text(&rescheduled.node_id), Some("0001"));
    assert_eq!(
        rescheduled.previous_window,
        window("2026-06-24T21:00:00Z", "2026-06-24T22:00:00Z")
    );
    assert_eq!(
        rescheduled.window,
        window("2026-07-01T21:00:00Z", "2026-07-01T22:00:00Z")
    );
}

#[test]
fn canceled_notice_names_the_window_it_cancels() {
    // Arrange
    let input = DESCRIBE_EVENTS_CLI_V1;

    // Act
    let events = parse(input);

    // Assert
    let canceled = the_kind(&events, "node_replacement_canceled");
    assert_eq!(canceled.category, Category::NodeReplacement);
    assert_eq!(text(&canceled.cluster_id), Some("pricing-mc"));
    assert_eq!(text(&canceled.node_id), Some("0002"));
    assert_eq!(canceled.occurred_at, at("2026-07-29T11:02:48.551Z"));
    assert_eq!(
        canceled.window,
        window("2026-08-04T14:00:00Z", "2026-08-04T15:00:00Z")
    );
}

#[test]
fn recovery_texts_start_and_complete_a_replacement() {
    // Arrange
    let input = DESCRIBE_EVENTS_CLI_V1;

    // Act
    let events = parse(input);

    // Assert
    let started = the_event(&events, "pricing-mc", "Recovering cache nodes 0001");
    assert_eq!(started.kind.as_str(), "cache_node_replace_started");
    assert_eq!(started.category, Category::NodeReplacement);
    assert_eq!(text(&started.node_id), Some("0001"));
    let complete = the_event(
        &events,
        "pricing-mc",
        "Finished recovery for cache nodes 0001",
    );
    assert_eq!(complete.kind.as_str(), "cache_node_replace_complete");
    assert_eq!(complete.category, Category::NodeReplacement);
    assert_eq!(text(&complete.node_id), Some("0001"));
    assert_eq!(complete.occurred_at, at("2026-08-03T02:47:55.093Z"));
}

#[test]
fn a_failover_text_names_the_promoted_replica() {
    // Arrange
    let input = DESCRIBE_EVENTS_CLI_V2;

    // Act
    let events = parse(input);

    // Assert
    let failover = the_event(
        &events,
        "ledger",
        "Failover to replica node ledger-0002-002 completed",
    );
    assert_eq!(failover.kind.as_str(), "failover_complete");
    assert_eq!(failover.category, Category::Failover);
    assert!(failover.actionable);
    assert_eq!(failover.source_type, "replication-group");
    assert_eq!(text(&failover.replication_group_id), Some("ledger"));
    assert_eq!(text(&failover.cluster_id), None);
    assert_eq!(
        failover.failover,
        Some(FailoverNodes {
            from: None,
            to: Some("ledger-0002-002".into())
        })
    );
}

#[test]
fn a_test_failover_is_reported_by_the_group_and_the_cluster_with_both_nodes() {
    // Arrange
    let input = DESCRIBE_EVENTS_CLI_V2;
    let both_nodes = Some(FailoverNodes {
        from: Some("ledger-0001-001".into()),
        to: Some("ledger-0001-002".into()),
    });

    // Act
    let events = parse(input);

    // Assert
    let called = the_event(
        &events,
        "ledger",
        "Test Failover API called for node group 0001",
    );
    assert_eq!(called.kind.as_str(), "test_failover_api_called");
    assert_eq!(called.category, Category::Other);
    assert_eq!(text(&called.node_id), None, "a node group is not a node");
    assert_eq!(
        called.attributes.get("node_group").map(String::as_str),
        Some("0001")
    );
    let by_cluster = the_event(&events, "ledger-0001-001", FAILOVER_FROM_MASTER);
    assert_eq!(by_cluster.source_type, "cache-cluster");
    assert_eq!(text(&by_cluster.cluster_id), Some("ledger-0001-001"));
    assert_eq!(by_cluster.failover, both_nodes);
    let by_group = the_event(&events, "ledger", FAILOVER_FROM_MASTER);
    assert_eq!(by_group.source_type, "replication-group");
    assert_eq!(text(&by_group.replication_group_id), Some("ledger"));
    assert_eq!(by_group.failover, both_nodes);
    assert_ne!(by_cluster.id, by_group.id);
}

#[test]
fn shutdown_and_restart_texts_are_reboots_of_the_node() {
    // Arrange
    let input = DESCRIBE_EVENTS_CLI_V1;

    // Act
    let events = parse(input);

    // Assert
    let shutdown = the_event(&events, "pricing-mc", "Cache node 0003 shutdown");
    let restarted = the_event(&events, "pricing-mc", "Cache node 0003 restarted");
    for reboot in [shutdown, restarted] {
        assert_eq!(reboot.kind.as_str(), "cache_nodes_rebooted");
        assert_eq!(reboot.category, Category::Other);
        assert_eq!(text(&reboot.node_id), Some("0003"));
    }
    assert_ne!(shutdown.id, restarted.id, "they happened 38 seconds apart");
}

#[test]
fn a_service_update_text_names_the_node() {
    // Arrange
    let input = DESCRIBE_EVENTS_CLI_V2;

    // Act
    let events = parse(input);

    // Assert
    let update = the_event(
        &events,
        "ledger-0001-002",
        "Service update is available for cache node 0001.",
    );
    assert_eq!(update.kind.as_str(), "service_update_available_for_node");
    assert_eq!(update.category, Category::Other);
    assert_eq!(text(&update.cluster_id), Some("ledger-0001-002"));
    assert_eq!(text(&update.node_id), Some("0001"));
}

#[test]
fn snapshot_texts_name_the_snapshot_and_the_cluster() {
    // Arrange
    let input = DESCRIBE_EVENTS_CLI_V2;

    // Act
    let events = parse(input);

    // Assert
    let succeeded = the_kind(&events, "snapshot_complete");
    assert_eq!(
        succeeded.attributes.get("snapshot_id").map(String::as_str),
        Some("automatic.ledger-0001-002-2026-06-23-01-00")
    );
    assert_eq!(text(&succeeded.cluster_id), Some("ledger-0001-002"));
    let failed = the_kind(&events, "snapshot_failed");
    assert_eq!(
        failed.attributes.get("snapshot_id").map(String::as_str),
        Some("automatic.ledger-0001-002-2026-06-24-01-00")
    );
    assert_eq!(failed.category, Category::Other);
    assert!(!failed.actionable);
}

#[test]
fn creation_scaling_and_added_node_texts_have_their_kinds() {
    // Arrange
    let input = DESCRIBE_EVENTS_CLI_V1;

    // Act
    let events = parse(input);

    // Assert
    let created = the_event(&events, "pricing-mc", "Cache cluster created");
    assert_eq!(created.kind.as_str(), "cache_cluster_provisioning_complete");
    let scaled = the_event(
        &events,
        "pricing-mc",
        "Finished modifying number of nodes from 2 to 3",
    );
    // AWS's event table lists this text under AddCacheNodeComplete.
    assert_eq!(scaled.kind.as_str(), "add_cache_node_complete");
    assert_eq!(
        scaled.attributes.get("from_count").map(String::as_str),
        Some("2")
    );
    assert_eq!(
        scaled.attributes.get("to_count").map(String::as_str),
        Some("3")
    );
    let added = the_event(
        &events,
        "pricing-mc",
        "Added cache node 0003 in availability zone ap-southeast-2b",
    );
    assert_eq!(added.kind.as_str(), "add_cache_node_complete");
    assert_eq!(text(&added.node_id), Some("0003"));
    assert_eq!(
        added
            .attributes
            .get("availability_zone")
            .map(String::as_str),
        Some("ap-southeast-2b")
    );
}

#[test]
fn a_text_that_matches_no_template_is_kept_with_its_message() {
    // Arrange
    let input = DESCRIBE_EVENTS_CLI_V1;

    // Act
    let events = parse(input);

    // Assert
    let unrecognized = the_kind(&events, "unrecognized");
    assert_eq!(
        unrecognized.message.as_deref(),
        Some("Increasing number of requested nodes")
    );
    assert_eq!(unrecognized.category, Category::Other);
    assert_eq!(text(&unrecognized.cluster_id), Some("pricing-mc"));
}

#[test]
fn every_documented_template_in_the_fixtures_has_its_kind() {
    // Arrange
    let templates = [
        (
            "The node with Cache Cluster ID:",
            "node_replacement_scheduled",
        ),
        (
            "The replacement in maintenance window for node",
            "node_replacement_rescheduled",
        ),
        (
            "The replacement for Cache Cluster ID:",
            "node_replacement_canceled",
        ),
        ("Recovering cache nodes", "cache_node_replace_started"),
        (
            "Finished recovery for cache nodes",
            "cache_node_replace_complete",
        ),
        ("Failover to replica node", "failover_complete"),
        ("Failover from master node", "failover_complete"),
        ("Cache node 0003 restarted", "cache_nodes_rebooted"),
        ("Cache node 0003 shutdown", "cache_nodes_rebooted"),
        (
            "Service update is available for cache node",
            "service_update_available_for_node",
        ),
        ("Snapshot succeeded for snapshot", "snapshot_complete"),
        ("Snapshot failed for snapshot", "snapshot_failed"),
        (
            "Cache cluster created",
            "cache_cluster_provisioning_complete",
        ),
        ("Test Failover API called", "test_failover_api_called"),
        (
            "Finished modifying number of nodes",
            "add_cache_node_complete",
        ),
        ("Added cache node", "add_cache_node_complete"),
    ];

    // Act
    let mut events = parse(DESCRIBE_EVENTS_CLI_V2);
    events.extend(parse(DESCRIBE_EVENTS_CLI_V1));

    // Assert
    for (start, kind) in templates {
        let with_text: Vec<&MaintenanceEvent> = events
            .iter()
            .filter(|e| e.message.as_deref().is_some_and(|m| m.starts_with(start)))
            .collect();
        assert!(!with_text.is_empty(), "no fixture has the text {start:?}");
        for event in with_text {
            assert_eq!(event.kind.as_str(), kind, "{:?}", event.message);
            assert_eq!(event.category, event.kind.category());
        }
    }
}

#[test]
fn a_single_record_reads_like_a_record_of_the_output() {
    // Arrange
    let record = DESCRIBE_EVENTS_RECORD;

    // Act
    let single = parse(record);
    let listed = parse(DESCRIBE_EVENTS_CLI_V2);

    // Assert
    assert_eq!(single.len(), 1);
    assert_eq!(
        &single[0],
        the_event(&listed, "ledger-0002-001", SCHEDULED_LEDGER)
    );
}

// --- Years inferred for window times -------------------------------------------------------------

#[test]
fn a_january_window_announced_in_december_is_next_year() {
    // Arrange
    let input = YEAR_ROLLOVER;

    // Act
    let events = parse(input);

    // Assert
    let scheduled = events
        .iter()
        .find(|e| e.source_id.as_str() == "checkout-0001-001")
        .expect("the checkout-0001-001 notice");
    assert_eq!(scheduled.occurred_at, at("2026-12-18T06:45:10.129Z"));
    assert_eq!(
        scheduled.window,
        window("2027-01-04T23:00:00Z", "2027-01-05T00:00:00Z")
    );
}

#[test]
fn a_reschedule_across_new_year_puts_each_window_in_its_year() {
    // Arrange
    let input = YEAR_ROLLOVER;

    // Act
    let events = parse(input);

    // Assert
    let rescheduled = the_kind(&events, "node_replacement_rescheduled");
    assert_eq!(text(&rescheduled.cluster_id), Some("checkout-0002-001"));
    assert_eq!(
        rescheduled.previous_window,
        window("2026-12-30T23:00:00Z", "2026-12-31T00:00:00Z")
    );
    assert_eq!(
        rescheduled.window,
        window("2027-01-06T23:00:00Z", "2027-01-07T00:00:00Z")
    );
}

#[test]
fn a_window_over_midnight_on_new_years_eve_ends_next_year() {
    // Arrange
    let input = YEAR_ROLLOVER;

    // Act
    let events = parse(input);

    // Assert
    let scheduled = events
        .iter()
        .find(|e| e.source_id.as_str() == "checkout-0003-001")
        .expect("the checkout-0003-001 notice");
    assert_eq!(
        scheduled.window,
        window("2026-12-31T23:30:00Z", "2027-01-01T00:30:00Z")
    );
}

#[test]
fn a_feb_29_window_lands_in_the_leap_year() {
    // Arrange
    let input = LEAP_DAY;

    // Act
    let events = parse(input);

    // Assert
    let scheduled = the_kind(&events, "node_replacement_scheduled");
    assert_eq!(text(&scheduled.cluster_id), Some("sessions-0001-002"));
    assert_eq!(
        scheduled.window,
        window("2028-02-29T03:00:00Z", "2028-02-29T04:00:00Z")
    );
}

#[test]
fn a_reschedule_onto_feb_29_keeps_the_node_id_as_written() {
    // Arrange
    let input = LEAP_DAY;

    // Act
    let events = parse(input);

    // Assert
    let rescheduled = the_kind(&events, "node_replacement_rescheduled");
    assert_eq!(text(&rescheduled.cluster_id), Some("sessions-mc"));
    assert_eq!(
        text(&rescheduled.node_id),
        Some("2"),
        "not re-padded to 0002"
    );
    assert_eq!(
        rescheduled.previous_window,
        window("2028-02-28T23:00:00Z", "2028-02-29T00:00:00Z")
    );
    assert_eq!(
        rescheduled.window,
        window("2028-02-29T23:00:00Z", "2028-03-01T00:00:00Z")
    );
}

#[test]
fn feb_29_announced_in_a_year_without_one_is_an_unreadable_window() {
    // Arrange: the same notice dated a year before the leap year.
    let input = LEAP_DAY.replace("2028-02-14T07:31:22.610Z", "2027-02-14T07:31:22.610Z");

    // Act
    let events = parse(&input);

    // Assert
    let scheduled = the_kind(&events, "node_replacement_scheduled");
    assert_eq!(scheduled.occurred_at, at("2027-02-14T07:31:22.610Z"));
    assert_eq!(scheduled.window, None, "no Feb 29 is near Feb 14, 2027");
    assert_eq!(
        scheduled
            .attributes
            .get("window_unreadable")
            .map(String::as_str),
        Some("true")
    );
}

// --- Console rows and maintenance e-mails ------------------------------------------------------

#[test]
fn console_rows_skip_the_header_and_convert_their_zone_to_utc() {
    // Arrange
    let input = CONSOLE_ROWS;

    // Act
    let events = parse(input);

    // Assert
    assert_eq!(events.len(), 4);
    assert!(events.iter().all(|e| e.origin == Origin::Console));
    let failover = the_kind(&events, "failover_complete");
    assert_eq!(failover.occurred_at, at("2026-07-01T21:14:36Z"));
    assert_eq!(failover.source_type, "replication-group");
    assert_eq!(text(&failover.replication_group_id), Some("ledger"));
    let scheduled = the_event(&events, "ledger-0002-001", SCHEDULED_LEDGER);
    assert_eq!(scheduled.occurred_at, at("2026-06-10T15:22:03Z"));
    assert_eq!(text(&scheduled.node_id), Some("0001"));
    assert_eq!(
        scheduled.window,
        window("2026-06-24T21:00:00Z", "2026-06-24T22:00:00Z")
    );
}

#[test]
fn console_copies_with_pipes_tabs_and_markdown_read_the_same() {
    // Arrange
    let (pipes, tabs, markdown) = (CONSOLE_ROWS, CONSOLE_ROWS_TSV, CONSOLE_ROWS_MD);

    // Act
    let from_pipes = parse(pipes);
    let from_tabs = parse(tabs);
    let from_markdown = parse(markdown);

    // Assert
    assert_eq!(from_pipes.len(), 4);
    assert_eq!(from_tabs, from_pipes);
    assert_eq!(from_markdown, from_pipes);
}

#[test]
fn maintenance_email_lines_are_scheduled_replacements_of_their_node() {
    // Arrange
    let input = MAINTENANCE_EMAIL;

    // Act
    let events = parse(input);

    // Assert
    assert_eq!(events.len(), 3);
    let first = &events[0];
    assert_eq!(first.origin, Origin::Email);
    assert_eq!(first.event_name, None);
    assert_eq!(first.kind.as_str(), "node_replacement_scheduled");
    assert_eq!(first.category, Category::NodeReplacement);
    assert!(first.actionable);
    assert_eq!(first.source_type, "cache-cluster");
    assert_eq!(first.source_id.as_str(), "ledger-usw2-0001-001");
    assert_eq!(text(&first.cluster_id), Some("ledger-usw2-0001-001"));
    assert_eq!(text(&first.replication_group_id), Some("ledger-usw2"));
    assert_eq!(first.region.as_deref(), Some("us-west-2"));
    assert_eq!(first.account_id, None);
    assert_eq!(
        first.window,
        window("2026-09-30T09:00:00Z", "2026-09-30T09:00:00Z")
    );
    assert_eq!(first.occurred_at, at(RECEIVED_AT));
    assert_eq!(
        first.message.as_deref(),
        MAINTENANCE_EMAIL.lines().next(),
        "the line as pasted"
    );
    assert_eq!(
        events[2].window,
        window("2026-10-07T09:00:00Z", "2026-10-07T09:00:00Z")
    );
}

#[test]
fn an_email_line_pasted_on_another_day_keeps_its_id() {
    // Arrange
    let later = ParseContext::received_at(at("2026-06-20T08:00:00Z"));

    // Act
    let today = parse(MAINTENANCE_EMAIL);
    let another_day = parse_document(MAINTENANCE_EMAIL, &later).expect("the e-mail parses");

    // Assert
    let ids = |events: &[MaintenanceEvent]| events.iter().map(|e| e.id.clone()).collect::<Vec<_>>();
    assert_eq!(ids(&today), ids(&another_day));
}

// --- JSON Lines ------------------------------------------------------------------------------------

#[test]
fn json_lines_mix_every_json_shape() {
    // Arrange
    let input = JSON_LINES;

    // Act
    let events = parse(input);

    // Assert
    let origins: Vec<Origin> = events.iter().map(|e| e.origin).collect();
    assert_eq!(
        origins,
        [
            Origin::Sns,
            Origin::DescribeEvents,
            Origin::SnsHttp,
            Origin::ElasticacheBody,
            Origin::DescribeEvents,
            Origin::DescribeEvents,
            Origin::ElasticacheBody,
            Origin::ElasticacheBody,
        ]
    );
    assert_eq!(events[0].region.as_deref(), Some("us-east-1"));
    assert_eq!(events[0].account_id.as_deref(), Some("905143287716"));
    assert_eq!(
        events[1].window,
        window("2026-09-22T06:00:00Z", "2026-09-22T07:00:00Z")
    );
    assert_eq!(text(&events[2].cluster_id), Some("search-valkey-0001-002"));
    assert_eq!(
        events[5].failover,
        Some(FailoverNodes {
            from: None,
            to: Some("search-valkey-0001-002".into())
        })
    );
}

// --- Ids ---------------------------------------------------------------------------------------------

#[test]
fn the_same_record_has_one_id_in_every_shape() {
    // Arrange
    let shapes = [
        ("DescribeEvents output", DESCRIBE_EVENTS_CLI_V2.to_owned()),
        ("a single record", DESCRIBE_EVENTS_RECORD.to_owned()),
        ("a JSON line", compact(DESCRIBE_EVENTS_RECORD)),
        ("a console row", CONSOLE_ROWS.to_owned()),
        ("a tab-separated console row", CONSOLE_ROWS_TSV.to_owned()),
    ];

    // Act
    let ids: Vec<(&str, String)> = shapes
        .iter()
        .map(|(shape, input)| {
            let events = parse(input);
            let id = the_event(&events, "ledger-0002-001", SCHEDULED_LEDGER)
                .id
                .to_string();
            (*shape, id)
        })
        .collect();

    // Assert
    for (shape, id) in &ids {
        assert_eq!(id, &ids[0].1, "{shape}");
        assert_eq!(id.len(), EVENT_ID_LEN);
    }
}

#[test]
fn a_console_row_has_the_id_of_its_describe_events_record() {
    // Arrange
    let console = parse(CONSOLE_ROWS);
    let describe = parse(DESCRIBE_EVENTS_CLI_V2);

    // Act
    let matched: Vec<(&MaintenanceEvent, &MaintenanceEvent)> = console
        .iter()
        .map(|row| {
            let message = row.message.as_deref().expect("console rows have a message");
            (row, the_event(&describe, row.source_id.as_str(), message))
        })
        .collect();

    // Assert
    assert_eq!(matched.len(), 4);
    for (row, record) in matched {
        assert_eq!(row.id, record.id, "{:?}", row.message);
        assert_eq!(row.window, record.window);
        assert_eq!(row.previous_window, record.previous_window);
    }
}

#[test]
fn the_legacy_sample_has_the_id_of_its_describe_events_record() {
    // Arrange
    let legacy = parse(SNS_LEGACY_SAMPLE);
    let describe = parse(DESCRIBE_EVENTS_CLI_V1);

    // Act
    let record = the_event(&describe, "pricing-mc", "Cache cluster created");

    // Assert: the sample knows its account (from its topic) and the record does not, so its id
    // is the record's within its account, and the two are one report.
    assert_eq!(legacy[0].id_without_place().as_ref(), Some(&record.id));
    assert!(cachewatch_core::intake::correlate::same_report(
        &legacy[0], record
    ));
}

// --- Malformed inputs ------------------------------------------------------------------------------

/// Malformed inputs refused with exactly this message: what is wrong, and where.
#[test]
fn a_malformed_input_is_refused_saying_what_is_wrong_and_where() {
    let cases = [
        ("an empty input says so", " \n\t\n", "the input is empty"),
        (
            "broken JSON names the line and column",
            MALFORMED_BROKEN,
            "not valid JSON at line 8, column 9: trailing comma",
        ),
        (
            "a bad date names its record and value",
            MALFORMED_BAD_DATE,
            r#"record 2: `Date` is not a date: "2026-06-31T10:03:12.007000+00:00""#,
        ),
        (
            "a control character in an identifier names its record",
            MALFORMED_CONTROL_CHARACTER,
            "record 2: `ElastiCache:NodeReplacementScheduled`: source id contains a control character",
        ),
    ];
    for (case, input, expected) in cases {
        assert_eq!(refusal(case, input), expected, "{case}");
    }
}

/// Malformed inputs refused with a message that starts by saying what and where, and names
/// the detail that tells the reader what to look at.
#[test]
fn a_malformed_input_is_refused_naming_where_and_the_detail() {
    let cases = [
        (
            "an unknown JSON shape names the keys it found",
            MALFORMED_UNKNOWN_SHAPE,
            "not an ElastiCache message, SNS notification, Lambda SNS event or DescribeEvents output",
            "detail-type",
        ),
        (
            "a subscription confirmation is not an event and says what to do",
            SNS_SUBSCRIPTION_CONFIRMATION,
            "an SNS SubscriptionConfirmation carries no event",
            "SubscribeURL",
        ),
        (
            "a console row with an unreadable date names its line",
            MALFORMED_CONSOLE_DATE,
            "line 3: console row: the date",
            "last Sunday, 02:20 (UTC+09:00)",
        ),
        (
            "a broken third JSON line names line 3",
            MALFORMED_LINE_3,
            "line 3: not valid JSON",
            "EOF while parsing a string",
        ),
    ];
    for (case, input, starts, detail) in cases {
        let error = refusal(case, input);
        assert!(error.starts_with(starts), "{case}: {error}");
        assert!(error.contains(detail), "{case}: {error}");
    }
}

#[test]
fn an_oversized_message_names_its_record_and_size() {
    // Arrange
    let huge = "Cache node 0001 restarted ".repeat(2700);
    let input = serde_json::json!({"Events": [
        {"SourceIdentifier": "pricing-mc", "SourceType": "cache-cluster",
         "Message": "Cache node 0001 restarted", "Date": "2026-08-09T17:21:09.862Z"},
        {"SourceIdentifier": "pricing-mc", "SourceType": "cache-cluster",
         "Message": huge, "Date": "2026-08-09T17:22:09.862Z"},
    ]})
    .to_string();

    // Act
    let error = parse_error(&input);

    // Assert
    assert_eq!(
        error,
        "record 2: `Message` is 70200 bytes long (at most 65536)"
    );
}

#[test]
fn an_oversized_console_message_names_its_line() {
    // Arrange
    let huge = "x".repeat(65_537);
    let input = format!(
        "{}pricing-mc | cache-cluster | August 10, 2026, 02:21:09 (UTC+09:00) | {huge}\n",
        CONSOLE_ROWS
    );

    // Act
    let error = parse_error(&input);

    // Assert
    assert_eq!(
        error,
        "line 6: `message` is 65537 bytes long (at most 65536)"
    );
}

#[test]
fn an_oversized_email_line_names_its_line() {
    // Arrange
    let region = "us-west-2 ".repeat(6600);
    let input = format!(
        "{MAINTENANCE_EMAIL}Region: {region}, Cluster Name: ledger-usw2, Node Name: ledger-usw2-0002-001, Replacement Time: 09:00 UTC, Oct 7, 2026\n"
    );

    // Act
    let error = parse_error(&input);

    // Assert
    assert!(error.starts_with("line 4: `message` is "), "{error}");
    assert!(error.ends_with("bytes long (at most 65536)"), "{error}");
}

#[test]
fn a_bad_record_inside_a_json_line_names_the_line_and_the_record() {
    // Arrange
    let input = format!(
        "{}\n{}\n",
        compact(DESCRIBE_EVENTS_RECORD),
        compact(MALFORMED_BAD_DATE)
    );

    // Act
    let error = parse_error(&input);

    // Assert
    assert!(
        error.starts_with("line 2, record 2: `Date` is not a date"),
        "{error}"
    );
}

#[test]
fn prose_pasted_around_email_lines_is_skipped_and_counted() {
    // Arrange
    let input = format!(
        "Dear customer, one or more of your nodes is scheduled for replacement.\n\n{}Thank you.\n",
        MAINTENANCE_EMAIL
    );

    // Act
    let document = read_document(&input, &context()).unwrap();

    // Assert
    assert_eq!(document.events.len(), 3);
    assert_eq!(document.skipped_lines, 2);
}

#[test]
fn a_line_that_looks_like_an_email_line_but_does_not_read_is_an_error() {
    // Arrange
    let input = format!(
        "{}Region: us-west-2, Cluster Name: ledger-usw2, Replacement Time: 09:00 UTC, Sep 30, 2026\n",
        MAINTENANCE_EMAIL
    );

    // Act
    let error = parse_error(&input);

    // Assert
    assert!(
        error.starts_with("line 4: e-mail line: it reads `Region:"),
        "{error}"
    );
}

#[test]
fn a_text_without_any_event_is_an_error() {
    // Act
    let error = parse_error("Hello,\nplease find the schedule below.\n-----\n");

    // Assert
    assert!(
        error.starts_with("no event found (3 lines skipped: not events)"),
        "{error}"
    );
}

// --- The JSON contract ------------------------------------------------------------------------------

#[test]
fn lambda_sns_events_serialize_as_the_golden_json() {
    // Arrange
    let input = LAMBDA_SNS_EVENT;

    // Act
    let events = parse(input);

    // Assert
    assert_matches_golden(&events, EXPECTED_LAMBDA_SNS_EVENT, "lambda_sns_event.json");
    let read_back: Vec<MaintenanceEvent> =
        serde_json::from_str(EXPECTED_LAMBDA_SNS_EVENT).expect("the golden events deserialize");
    assert_eq!(
        read_back, events,
        "the golden JSON reads back into the same events"
    );
}

#[test]
fn windows_across_new_year_serialize_as_the_golden_json() {
    // Arrange
    let input = YEAR_ROLLOVER;

    // Act
    let events = parse(input);

    // Assert
    assert_matches_golden(
        &events,
        EXPECTED_YEAR_ROLLOVER,
        "describe_events_year_rollover.json",
    );
    let read_back: Vec<MaintenanceEvent> =
        serde_json::from_str(EXPECTED_YEAR_ROLLOVER).expect("the golden events deserialize");
    assert_eq!(
        read_back, events,
        "the golden JSON reads back into the same events"
    );
}
