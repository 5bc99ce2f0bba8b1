//! What is particular to the SQLite file; the behaviour every store shares is checked by the
//! conformance suite in `tests/`.

use cachewatch_core::parse::{ParseContext, parse_document};
use cachewatch_core::{AlertPolicy, ingest};

use super::*;

fn block_on<F: std::future::Future>(f: F) -> F::Output {
    use std::pin::pin;
    use std::task::{Context, Poll, Waker};
    let mut f = pin!(f);
    let mut cx = Context::from_waker(Waker::noop());
    loop {
        // SQLite calls never wait on anything but the database itself.
        if let Poll::Ready(out) = f.as_mut().poll(&mut cx) {
            return out;
        }
    }
}

const RECORDS: &str = r#"{"Events":[
 {"SourceIdentifier":"orders-0001-001","SourceType":"cache-cluster","Date":"2026-06-11T03:10:02Z","Message":"The node with Cache Cluster ID: orders-0001-001, Node ID: 0001 is scheduled for replacement during the maintenance window from Start Time: Jun 25 19:00 UTC, End Time: Jun 25 20:00 UTC"},
 {"SourceIdentifier":"orders-0001-001","SourceType":"cache-cluster","Date":"2026-06-12T01:00:00Z","Message":"Snapshot succeeded for snapshot with ID 'nightly' of cache cluster with ID 'orders-0001-001'"}
]}"#;

fn events() -> Vec<MaintenanceEvent> {
    let at = DateTime::parse_from_rfc3339("2026-06-12T02:00:00Z")
        .unwrap()
        .with_timezone(&Utc);
    parse_document(RECORDS, &ParseContext::received_at(at)).unwrap()
}

#[test]
fn history_survives_closing_and_reopening_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("nested/dir/history.db");
    {
        let store = SqliteStore::open(&path).unwrap();
        let outcome = block_on(ingest(&store, events(), &AlertPolicy::default())).unwrap();
        assert_eq!(outcome.new_count(), 2);
    }
    let store = SqliteStore::open(&path).unwrap();
    let found = block_on(store.search(&EventQuery::default())).unwrap();
    assert_eq!(found.len(), 2);
    assert_eq!(found[0].kind.as_str(), "snapshot_complete", "newest first");
    let again = block_on(ingest(&store, events(), &AlertPolicy::default())).unwrap();
    assert_eq!(again.new_count(), 0);
}

#[test]
fn a_database_from_a_newer_version_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("future.db");
    {
        let conn = Connection::open(&path).unwrap();
        conn.pragma_update(None, "user_version", 999).unwrap();
    }
    let err = SqliteStore::open(&path).unwrap_err();
    let chain = format!("{err}: {}", std::error::Error::source(&err).unwrap());
    assert!(chain.contains("schema version 999"), "{chain}");
}

#[test]
fn search_text_with_fts_syntax_is_taken_literally() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(&dir.path().join("h.db")).unwrap();
    block_on(ingest(&store, events(), &AlertPolicy::default())).unwrap();
    for text in [
        r#"sched" OR "x"#,
        "NEAR(a b)",
        "*",
        "\"",
        "scheduled) OR (1",
        "-snapshot",
    ] {
        let q = EventQuery {
            text: Some(text.into()),
            ..EventQuery::default()
        };
        assert!(block_on(store.search(&q)).is_ok(), "{text}");
    }
    let q = EventQuery {
        text: Some("scheduled".into()),
        ..EventQuery::default()
    };
    assert_eq!(block_on(store.search(&q)).unwrap().len(), 1);
    let q = EventQuery {
        text: Some("sched".into()),
        ..EventQuery::default()
    };
    assert!(
        block_on(store.search(&q)).unwrap().is_empty(),
        "words match whole words"
    );
}

#[test]
fn a_busy_database_is_a_passing_condition() {
    let busy = rusqlite::Error::SqliteFailure(
        rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_BUSY),
        Some("database is locked".into()),
    );
    assert!(store_error("test")(busy).is_retryable());
    let broken = rusqlite::Error::SqliteFailure(
        rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_CORRUPT),
        None,
    );
    assert!(!store_error("test")(broken).is_retryable());
}
