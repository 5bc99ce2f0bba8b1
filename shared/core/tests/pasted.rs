//! Text people really paste: the AWS CLI's tables and text output, console rows in other column
//! orders and older date formats, whole maintenance e-mails with their prose. Each fixture is
//! written from AWS's documentation of the layout, with made-up names and dates.

use cachewatch_core::intake::parse::{Document, ParseContext, read_document};
use cachewatch_core::{MaintenanceEvent, Origin, Window, parse_document};
use chrono::{DateTime, Utc};

const TABLE: &str = include_str!("../../../tests/fixtures/describe_events_table.txt");
const TABLE_OF_ONE: &str = include_str!("../../../tests/fixtures/describe_events_table_one.txt");
const TEXT: &str = include_str!("../../../tests/fixtures/describe_events_text.txt");
const REORDERED: &str = include_str!("../../../tests/fixtures/console_rows_reordered.md");
const GMT_ROWS: &str = include_str!("../../../tests/fixtures/console_rows_gmt.tsv");
const EMAIL_2018: &str = include_str!("../../../tests/fixtures/maintenance_email_2018.txt");
const EMAIL_WHOLE: &str = include_str!("../../../tests/fixtures/maintenance_email_whole.txt");

fn at(rfc3339: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(rfc3339)
        .unwrap()
        .with_timezone(&Utc)
}

fn read(input: &str) -> Document {
    read_document(
        input,
        &ParseContext::received_at(at("2026-08-05T00:00:00Z")),
    )
    .unwrap_or_else(|e| panic!("the input should parse: {e}"))
}

fn error(input: &str) -> String {
    match parse_document(
        input,
        &ParseContext::received_at(at("2026-08-05T00:00:00Z")),
    ) {
        Ok(events) => panic!("expected an error, got {} events", events.len()),
        Err(e) => e.to_string(),
    }
}

/// (source, kind, second of occurrence, id) of each event, for comparisons across layouts: the
/// console prints seconds, the CLI milliseconds, and both are the same event.
fn summary(events: &[MaintenanceEvent]) -> Vec<(String, String, i64, String)> {
    events
        .iter()
        .map(|e| {
            (
                e.source_id.to_string(),
                e.kind.to_string(),
                e.occurred_at.timestamp(),
                e.id.to_string(),
            )
        })
        .collect()
}

#[test]
fn the_cli_table_is_read_by_its_header_whatever_its_borders() {
    let doc = read(TABLE);
    let events = &doc.events;
    assert_eq!(events.len(), 3);
    assert!(events.iter().all(|e| e.origin == Origin::DescribeEvents));
    let snapshot = &events[0];
    assert_eq!(snapshot.kind.as_str(), "snapshot_complete");
    assert_eq!(snapshot.source_type, "replication-group");
    assert_eq!(
        snapshot.replication_group_id.as_ref().map(|g| g.as_str()),
        Some("quince")
    );
    assert_eq!(
        snapshot.attributes.get("snapshot_id").map(String::as_str),
        Some("nightly-0803")
    );
    assert_eq!(snapshot.occurred_at, at("2026-08-03T05:00:09.404Z"));
    assert_eq!(events[1].kind.as_str(), "add_cache_node_complete");
    assert_eq!(
        events[2].window,
        Some(Window {
            start: at("2026-08-12T02:00:00Z"),
            end: at("2026-08-12T03:00:00Z")
        })
    );
    // The first rule, the two titles, four borders and the header.
    assert_eq!(doc.skipped_lines, 8);
}

#[test]
fn the_cli_text_output_and_table_give_the_same_events() {
    let text = read(TEXT);
    assert_eq!(text.skipped_lines, 0);
    assert_eq!(summary(&text.events), summary(&read(TABLE).events));
}

#[test]
fn the_cli_table_of_one_event_is_read_as_one_record() {
    let doc = read(TABLE_OF_ONE);
    assert_eq!(doc.events.len(), 1);
    let failover = &doc.events[0];
    assert_eq!(failover.kind.as_str(), "failover_complete");
    assert_eq!(failover.source_id.as_str(), "quince");
    assert_eq!(failover.source_type, "replication-group");
    assert_eq!(failover.occurred_at, at("2026-08-04T11:32:07.250Z"));
}

#[test]
fn console_rows_in_another_column_order_follow_their_header() {
    let doc = read(REORDERED);
    assert_eq!(doc.events.len(), 3);
    assert!(doc.events.iter().all(|e| e.origin == Origin::Console));
    // The console's times are local (UTC+09:00), the CLI's UTC: the same three events.
    assert_eq!(summary(&doc.events), summary(&read(TABLE).events));
    assert_eq!(doc.skipped_lines, 2, "the header and its rule");
}

#[test]
fn console_rows_dated_like_browsers_print_dates_carry_their_offset() {
    let doc = read(GMT_ROWS);
    let times: Vec<DateTime<Utc>> = doc.events.iter().map(|e| e.occurred_at).collect();
    assert_eq!(
        times,
        [
            at("2017-08-28T14:12:40Z"),
            at("2017-08-30T03:40:49Z"),
            at("2017-08-30T03:41:03Z")
        ]
    );
    assert_eq!(doc.events[0].kind.as_str(), "add_cache_node_complete");
}

#[test]
fn an_older_email_lists_its_nodes_under_one_heading_in_its_region() {
    let doc = read(EMAIL_2018);
    assert_eq!(doc.events.len(), 2);
    let first = &doc.events[0];
    assert_eq!(first.origin, Origin::Email);
    assert_eq!(first.kind.as_str(), "node_replacement_scheduled");
    assert_eq!(first.source_id.as_str(), "medlar-002");
    assert_eq!(
        first.replication_group_id.as_ref().map(|g| g.as_str()),
        Some("medlar")
    );
    assert_eq!(first.region.as_deref(), Some("eu-central-1"));
    let start = at("2026-07-14T01:00:00Z");
    assert_eq!(first.window, Some(Window { start, end: start }));
    assert_eq!(
        first.attributes.get("window_end").map(String::as_str),
        Some("not given")
    );
    assert_eq!(
        doc.events[1].cluster_id.as_ref().map(|c| c.as_str()),
        Some("sloe-cache-0001-001")
    );
    assert_eq!(doc.skipped_lines, 6, "prose, the heading, the footnote");
}

#[test]
fn a_whole_email_gives_its_lines_and_counts_the_rest() {
    let doc = read(EMAIL_WHOLE);
    assert_eq!(doc.events.len(), 3);
    assert!(
        doc.events
            .iter()
            .all(|e| e.region.as_deref() == Some("ap-southeast-2"))
    );
    assert_eq!(doc.skipped_lines, 7);
}

#[test]
fn a_table_row_that_does_not_read_names_its_line() {
    let input = TABLE.replace("2026-08-03T04:10:22.118000+00:00", "yesterday at four  ");
    let message = error(&input);
    assert!(
        message.starts_with("line 9: console row: the date"),
        "{message}"
    );
}

#[test]
fn an_older_email_row_with_a_bad_time_names_its_line() {
    let input = EMAIL_2018.replace("Jul 15 2026 01:30 UTC", "mid-July");
    let message = error(&input);
    assert!(
        message.starts_with("line 9: `Replacement Time` is not a date"),
        "{message}"
    );
}
