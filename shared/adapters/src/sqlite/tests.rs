//! What is particular to the SQLite file; the behaviour every store shares is checked by the
//! conformance suite in `tests/`.

use cachewatch_core::intake::parse::{ParseContext, parse_document};
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

/// Stores `e` as a cachewatch at schema version 6 did: no `bare_id`, the id of before.
fn insert_as_version_6(conn: &Connection, e: &MaintenanceEvent) {
    conn.execute(
        "INSERT INTO events (seq, id, kind, category, actionable, source_type, source_id, cluster_id,
             node_id, cluster_group, group_key, occurred_at, window_start, window_end, message, region,
             account_id, origin, received_at, drill, subjects)
         VALUES (?1, ?2, ?3, ?4, 1, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, 0, ?19)",
        params![
            rows::preferred_seq(e),
            e.id.as_str(),
            e.kind.as_str(),
            e.category.as_str(),
            e.source_type,
            e.source_id.as_str(),
            e.cluster_id.as_ref().map(|c| c.as_str()),
            e.node_id.as_ref().map(|n| n.as_str()),
            e.cluster_group(),
            e.group_key(),
            millis(e.occurred_at),
            e.window.map(|w| millis(w.start)),
            e.window.map(|w| millis(w.end)),
            e.message,
            e.region,
            e.account_id,
            e.origin.as_str(),
            millis(e.received_at),
            subjects(e),
        ],
    )
    .unwrap();
    conn.execute(
        "INSERT INTO events_fts (rowid, message, subjects) VALUES (?1, ?2, ?3)",
        params![rows::preferred_seq(e), e.message, subjects(e)],
    )
    .unwrap();
}

#[test]
fn a_history_of_before_ids_knew_accounts_is_kept_whole_and_its_events_are_not_stored_again() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("v6.db");
    let (hub, mut spoke) = (events().remove(0), events().remove(1));
    // A spoke's event, stamped with its account under the id of before.
    spoke.account_id = Some("444455556666".into());
    spoke.region = Some("us-east-1".into());
    {
        let mut conn = Connection::open(&path).unwrap();
        schema::migrate_to(&mut conn, 6).unwrap();
        insert_as_version_6(&conn, &hub);
        insert_as_version_6(&conn, &spoke);
    }
    let store = SqliteStore::open(&path).unwrap();
    let version: i64 = store
        .lock()
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .unwrap();
    assert_eq!(version, 7);
    let kept = block_on(store.search(&EventQuery::default())).unwrap();
    assert_eq!(kept.len(), 2);
    assert_eq!(
        (&kept[0].id, &kept[1].id),
        (&spoke.id, &hub.id),
        "nothing is re-keyed"
    );

    // The poller reads both again, each stamped with where it was read.
    let mut read = events();
    read[0].stamp_place("123456789012", "eu-west-1");
    read[1].stamp_place("444455556666", "us-east-1");
    assert!(read.iter().all(|e| e.id_without_place().is_some()));
    let outcome = block_on(ingest(&store, read, &AlertPolicy::default())).unwrap();
    assert_eq!(outcome.new_count(), 0);
    let ids: Vec<&EventId> = outcome.events.iter().map(|e| &e.event.id).collect();
    assert_eq!(ids, [&hub.id, &spoke.id]);
    let hub_now = block_on(store.event(&hub.id)).unwrap().unwrap();
    assert_eq!(hub_now.account_id.as_deref(), Some("123456789012"));
    assert_eq!(
        block_on(store.search(&EventQuery::default()))
            .unwrap()
            .len(),
        2
    );
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

fn at(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

/// The snapshot event of [`events`], moved to `when` (inputs cannot name such times; an older
/// file or another writer may hold them).
fn snapshot_at(when: &str) -> MaintenanceEvent {
    let mut e = events().pop().unwrap();
    e.occurred_at = at(when);
    e.id = cachewatch_core::EventId::derive(&e.source_id, &e.kind, None, e.occurred_at);
    e
}

#[test]
fn events_before_1970_keep_their_own_time_slots() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(&dir.path().join("h.db")).unwrap();
    let times = [
        "1969-06-01T00:00:00Z",
        "1965-01-01T00:00:00Z",
        "1969-12-31T23:59:59Z",
    ];
    let writes: Vec<EventWrite> = times
        .iter()
        .map(|t| EventWrite::Insert(snapshot_at(t)))
        .collect();
    block_on(store.write(&writes)).unwrap();

    let found = block_on(store.search(&EventQuery::default())).unwrap();
    let order: Vec<String> = found
        .iter()
        .map(|e| cachewatch_core::model::event::rfc3339::format(&e.occurred_at))
        .collect();
    assert_eq!(
        order,
        [
            "1969-12-31T23:59:59Z",
            "1969-06-01T00:00:00Z",
            "1965-01-01T00:00:00Z"
        ],
        "newest first"
    );
    let since = EventQuery {
        since: Some(at("1969-01-01T00:00:00Z")),
        ..EventQuery::default()
    };
    assert_eq!(block_on(store.search(&since)).unwrap().len(), 2);
}

#[test]
fn a_row_that_cannot_be_read_is_skipped_and_reported() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(&dir.path().join("h.db")).unwrap();
    block_on(ingest(&store, events(), &AlertPolicy::default())).unwrap();
    let snapshot = events().pop().unwrap();
    {
        let conn = store.lock();
        conn.execute(
            "UPDATE events SET occurred_at = ?1 WHERE id = ?2",
            params![i64::MAX, snapshot.id.as_str()],
        )
        .unwrap();
        // A window in the year 10000, as versions that did not bound dates stored it.
        conn.execute(
            "UPDATE maintenances SET body = replace(body, '\"2026-06-25T19:00:00Z\"', '\"+10000-06-25T19:00:00Z\"')",
            [],
        )
        .unwrap();
    }

    let found = block_on(store.search(&EventQuery::default())).unwrap();
    assert_eq!(found.len(), 1, "the readable event is still found");
    assert_eq!(found[0].kind.as_str(), "node_replacement_scheduled");
    assert_eq!(block_on(store.event(&snapshot.id)).unwrap(), None);
    let open = block_on(store.open_maintenances(at("2026-06-12T02:00:00Z"), false)).unwrap();
    assert!(open.is_empty());

    let unreadable = store.take_unreadable();
    let named: Vec<(&str, &str)> = unreadable
        .iter()
        .map(|u| (u.what, u.key.as_str()))
        .collect();
    assert!(
        named.contains(&("event", snapshot.id.as_str())),
        "{unreadable:?}"
    );
    assert!(
        unreadable.iter().any(|u| u.what == "maintenance"),
        "{unreadable:?}"
    );
    assert!(store.take_unreadable().is_empty(), "reported once");
}

/// The schema as the store's own connection sees it (inside an import, too): every table, index
/// and trigger with its SQL.
fn schema_of(store: &SqliteStore) -> Vec<(String, Option<String>)> {
    let conn = store.lock();
    let mut stmt = conn
        .prepare("SELECT name, sql FROM sqlite_master ORDER BY name")
        .unwrap();
    stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

fn text_hits(store: &SqliteStore, text: &str) -> usize {
    let query = EventQuery {
        text: Some(text.to_owned()),
        ..EventQuery::default()
    };
    block_on(store.search(&query)).unwrap().len()
}

/// A history file (in the directory returned with it) holding one event.
fn one_event_stored() -> (tempfile::TempDir, SqliteStore) {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(&dir.path().join("history.db")).unwrap();
    block_on(ingest(
        &store,
        vec![snapshot_at("2026-01-01T00:00:00Z")],
        &AlertPolicy::default(),
    ))
    .unwrap();
    (dir, store)
}

#[test]
fn a_large_import_builds_its_indexes_at_the_end_and_searches_find_its_events() {
    let (dir, store) = one_event_stored();
    let path = dir.path().join("history.db");
    let schema = schema_of(&store);

    assert!(store.begin_import(true).unwrap());
    let written = block_on(ingest(&store, events(), &AlertPolicy::default())).unwrap();
    assert_eq!(written.new_count(), 2);
    assert_ne!(
        schema_of(&store),
        schema,
        "the search indexes wait for the end"
    );
    store.build_indexes().unwrap();
    store.end_import(true).unwrap();

    assert_eq!(
        schema_of(&store),
        schema,
        "every index is back, as the schema has it"
    );
    assert_eq!(text_hits(&store, "replacement"), 1);
    assert_eq!(
        text_hits(&store, "nightly"),
        2,
        "and the event stored before the import"
    );
    // FTS5 compares its index with the events table, and fails on any difference.
    Connection::open(&path)
        .unwrap()
        .execute(
            "INSERT INTO events_fts (events_fts) VALUES ('integrity-check')",
            [],
        )
        .unwrap();
}

#[test]
fn a_large_import_rolled_back_leaves_the_history_and_its_indexes_as_they_were() {
    let (_dir, store) = one_event_stored();
    let schema = schema_of(&store);

    assert!(store.begin_import(true).unwrap());
    block_on(ingest(&store, events(), &AlertPolicy::default())).unwrap();
    store.end_import(false).unwrap();

    assert_eq!(schema_of(&store), schema);
    assert_eq!(
        block_on(store.search(&EventQuery::default()))
            .unwrap()
            .len(),
        1
    );
    assert_eq!(text_hits(&store, "snapshot"), 1);
    let again = block_on(ingest(&store, events(), &AlertPolicy::default())).unwrap();
    assert_eq!(
        again.new_count(),
        2,
        "the store takes writes, indexed as they come"
    );
    assert_eq!(text_hits(&store, "replacement"), 1);
}

/// Inside an import a write takes no savepoint of its own, so a write that fails half way must
/// take the whole import down with it, even if its caller then asks to keep the import.
#[test]
fn a_write_that_fails_inside_an_import_keeps_nothing_of_the_import() {
    let (_dir, store) = one_event_stored();
    let kept = snapshot_at("2026-02-01T00:00:00Z");
    let refused = snapshot_at("2026-03-01T00:00:00Z");
    store
        .lock()
        .execute_batch(&format!(
            "CREATE TEMP TRIGGER refuse BEFORE INSERT ON events WHEN NEW.occurred_at = {}
             BEGIN SELECT RAISE(ABORT, 'refused'); END",
            millis(refused.occurred_at)
        ))
        .unwrap();
    let all = |store: &SqliteStore| block_on(store.search(&EventQuery::default())).unwrap();
    for large in [false, true] {
        assert!(store.begin_import(large).unwrap());
        let writes = [
            EventWrite::Insert(kept.clone()),
            EventWrite::Insert(refused.clone()),
        ];
        assert!(block_on(store.write(&writes)).is_err());
        let later =
            block_on(store.write(&[EventWrite::Insert(snapshot_at("2026-04-01T00:00:00Z"))]));
        assert!(later.is_ok(), "the import's transaction is still open");
        let ended = store.end_import(true);
        assert!(matches!(ended, Err(StoreError::Failed { .. })), "{ended:?}");
        assert_eq!(all(&store).len(), 1, "only the event stored before");
        assert_eq!(text_hits(&store, "nightly"), 1);
    }

    store.lock().execute_batch("DROP TRIGGER refuse").unwrap();
    assert!(store.begin_import(false).unwrap());
    block_on(store.write(&[EventWrite::Insert(kept)])).unwrap();
    store.end_import(true).unwrap();
    assert_eq!(all(&store).len(), 2, "the next import is kept");
}

#[test]
fn searches_by_account_and_region_read_their_index() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("h.db");
    let store = SqliteStore::open(&path).unwrap();
    let mut all = events();
    all[0].account_id = Some("111122223333".into());
    all[0].region = Some("eu-west-1".into());
    all[1].account_id = Some("111122223333".into());
    all[1].region = Some("us-east-1".into());
    block_on(ingest(&store, all, &AlertPolicy::default())).unwrap();
    let q = EventQuery {
        account: Some("111122223333".into()),
        region: Some("eu-west-1".into()),
        ..EventQuery::default()
    };
    let found = block_on(store.search(&q)).unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].kind.as_str(), "node_replacement_scheduled");
    let (sql, values) = super::search::search_sql(&q);
    let conn = Connection::open(&path).unwrap();
    let plan: Vec<String> = conn
        .prepare(&format!("EXPLAIN QUERY PLAN {sql}"))
        .unwrap()
        .query_map(rusqlite::params_from_iter(values), |r| {
            r.get::<_, String>(3)
        })
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert!(
        plan.iter().any(|step| step.contains("events_by_place")),
        "{plan:?}"
    );
}
