//! The event history in one SQLite file: WAL, versioned migrations, FTS5 over message texts.
//!
//! Events are stored as columns (not as a JSON document) so that a million of them fit in a few
//! hundred megabytes and ingest at over a hundred thousand a second; see `schema.rs` for why the
//! rowid is the event's time. Writes of one call are one `IMMEDIATE` transaction, so concurrent
//! ingests serialize instead of failing, and a bulk import is stored whole or not at all.

mod facts;
mod outbox;
mod responses;
mod rows;
mod schema;
mod search;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Duration as StdDuration;

use cachewatch_core::history::query::EventQuery;
use cachewatch_core::history::store::{
    Candidates, EventStore, EventWrite, StoreError, Unreadable, UnreadableLog, WriteOutcome,
};
use cachewatch_core::intake::correlate::{self, SAME_OCCURRENCE};
use cachewatch_core::lifecycle::Maintenance;
use cachewatch_core::model::event::{EventId, IdPrefix, MaintenanceEvent};

use crate::unreadable::skip;
use chrono::{DateTime, Duration, Utc};
use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};

use rows::{
    COLUMNS, FROM_EVENTS, RawEvent, attributes_json, millis, preferred_seq, seq_floor, subjects,
};
pub use schema::SchemaError;

/// Why a database could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    /// Its directory could not be created.
    #[error("cannot create the directory of {path}")]
    CreateDir {
        /// The database path.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// SQLite could not open or set it up.
    #[error("cannot open the database {path}")]
    Open {
        /// The database path.
        path: PathBuf,
        /// Why.
        #[source]
        source: SchemaError,
    },
}

/// The SQLite event store.
#[derive(Debug)]
pub struct SqliteStore {
    conn: Mutex<Connection>,
    /// Inside a large import: the full-text index and [`schema::DEFERRABLE_INDEXES`] are built
    /// at its end, not row by row.
    deferring: AtomicBool,
    /// Between [`EventStore::begin_import`] and [`EventStore::end_import`]: writes are part of
    /// the import's one transaction.
    importing: AtomicBool,
    /// A write inside the current import failed: the import can only be rolled back.
    import_failed: AtomicBool,
    /// The current import began with no event stored.
    import_into_empty: AtomicBool,
    path: PathBuf,
    unreadable: UnreadableLog,
}

/// The page cache, in KiB: 64 MiB.
const CACHE_KIB: i64 = 65_536;

/// FTS5's own default `hashsize`: how much of the words written FTS5 gathers in memory.
const FTS_HASH_BYTES: i64 = 1024 * 1024;

/// `hashsize` while the full-text index of a large import is built at its end: rebuilding the
/// index of a million events takes a third less CPU time than with 1 MiB, for 13 MB more memory
/// (while the page cache is held to [`INDEXING_CACHE_KIB`], 48 MiB less than while writing).
const FTS_REBUILD_HASH_BYTES: i64 = 8 * 1024 * 1024;

/// The page cache while the indexes of a large import are built. Each sort of `CREATE INDEX` holds
/// as much as the page cache in memory beside it before it spills to a temporary file, so a smaller
/// cache then keeps the import's peak memory to that of its writes.
const INDEXING_CACHE_KIB: i64 = 16_384;

impl SqliteStore {
    /// Opens (creating if needed) the database at `path` and brings its schema up to date.
    pub fn open(path: &Path) -> Result<Self, OpenError> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|source| OpenError::CreateDir {
                path: path.to_owned(),
                source,
            })?;
        }
        let open = || -> Result<Connection, SchemaError> {
            let mut conn = Connection::open(path)?;
            conn.busy_timeout(StdDuration::from_secs(10))?;
            conn.pragma_update(None, "journal_mode", "WAL")?;
            conn.pragma_update(None, "synchronous", "NORMAL")?;
            conn.pragma_update(None, "cache_size", -CACHE_KIB)?;
            // Sorts larger than the page cache (CREATE INDEX at the end of a large import) spill
            // to a temporary file instead of growing the process with the input.
            conn.pragma_update(None, "temp_store", "FILE")?;
            conn.set_prepared_statement_cache_capacity(64);
            // One plan per statement, whatever its parameters: without this, SQLite (built with
            // STAT4) prepares a statement again each time a parameter it could plan on changes,
            // which made every id lookup of a bulk import parse its SQL anew.
            conn.set_db_config(
                rusqlite::config::DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG,
                true,
            )?;
            schema::migrate(&mut conn)?;
            Ok(conn)
        };
        let conn = open().map_err(|source| OpenError::Open {
            path: path.to_owned(),
            source,
        })?;
        Ok(Self {
            conn: Mutex::new(conn),
            deferring: AtomicBool::new(false),
            importing: AtomicBool::new(false),
            import_failed: AtomicBool::new(false),
            import_into_empty: AtomicBool::new(false),
            path: path.to_owned(),
            unreadable: UnreadableLog::default(),
        })
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Whether the only thing stored that `events` could be is an event of their own id stored
    /// earlier by the import under way into an empty history, so that their candidates are
    /// empty: each one's insert then finds that event ([`WriteOutcome::AlreadyStored`]), which
    /// spares looking every id up twice. So it is when nothing stored correlates (`correlating`:
    /// aliases, notices, or events that know their account are stored) and none of `events`
    /// could: a notice, or an event that knows its account.
    fn found_by_insert(&self, events: &[MaintenanceEvent], correlating: bool) -> bool {
        self.importing.load(Ordering::SeqCst)
            && self.import_into_empty.load(Ordering::SeqCst)
            && !correlating
            && events
                .iter()
                .all(|e| !correlate::is_notice(e) && e.account_id.is_none())
    }

    fn lock(&self) -> MutexGuard<'_, Connection> {
        // A panic while holding the lock cannot leave SQLite inconsistent: transactions roll back.
        self.conn.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Maps a SQLite error: busy and locked databases are passing conditions, the rest are not.
fn store_error(operation: &'static str) -> impl Fn(rusqlite::Error) -> StoreError {
    move |e| {
        let passing = matches!(
            e.sqlite_error_code(),
            Some(rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked)
        );
        if passing {
            StoreError::Unavailable {
                operation,
                source: Box::new(e),
            }
        } else {
            StoreError::Failed {
                operation,
                source: Box::new(e),
            }
        }
    }
}

/// Runs a query of [`COLUMNS`] and reads its events; a row that does not read as an event is
/// skipped and noted in `unreadable`.
fn query_events(
    conn: &Connection,
    unreadable: &UnreadableLog,
    sql: &str,
    params: impl rusqlite::Params,
    operation: &'static str,
) -> Result<Vec<MaintenanceEvent>, StoreError> {
    let err = store_error(operation);
    let mut stmt = conn.prepare_cached(sql).map_err(&err)?;
    let rows = stmt.query_map(params, RawEvent::read).map_err(&err)?;
    let mut events = Vec::new();
    for row in rows {
        let row = match row {
            Ok(row) => row,
            // A column of the wrong type: the row is damaged, not the database.
            Err(e @ rusqlite::Error::FromSqlConversionFailure(..))
            | Err(e @ rusqlite::Error::InvalidColumnType(..))
            | Err(e @ rusqlite::Error::IntegralValueOutOfRange(..)) => {
                crate::unreadable::note(unreadable, "event", "(a row)".into(), e.to_string());
                continue;
            }
            Err(e) => return Err(err(e)),
        };
        let id = row.stored_id().to_owned();
        if let Some(event) = crate::unreadable::skip(unreadable, row.into_event(), || id)? {
            events.push(event);
        }
    }
    Ok(events)
}

/// The stored event under `id`, following an alias when `id` was merged into another event.
fn stored_event(
    conn: &Connection,
    unreadable: &UnreadableLog,
    id: &EventId,
    aliases: bool,
) -> Result<Option<MaintenanceEvent>, StoreError> {
    let sql = format!("SELECT {COLUMNS} FROM {FROM_EVENTS} WHERE e.id = ?1");
    if let Some(e) = query_events(conn, unreadable, &sql, [id.as_str()], "read event")?.pop() {
        return Ok(Some(e));
    }
    if !aliases {
        return Ok(None);
    }
    let sql = format!(
        "SELECT {COLUMNS} FROM {FROM_EVENTS} WHERE e.id = (SELECT id FROM event_aliases WHERE alias = ?1)"
    );
    Ok(query_events(conn, unreadable, &sql, [id.as_str()], "read event")?.pop())
}

/// Whether a statement returns any row: `SELECT EXISTS (...)`.
fn exists(conn: &Connection, sql: &str) -> Result<bool, StoreError> {
    conn.prepare_cached(sql)
        .and_then(|mut s| s.query_row([], |r| r.get(0)))
        .map_err(store_error("check the store"))
}

/// Stored events near `e` of the other shape, for [`correlate::same_occurrence`].
fn near_events(
    conn: &Connection,
    unreadable: &UnreadableLog,
    e: &MaintenanceEvent,
) -> Result<Vec<MaintenanceEvent>, StoreError> {
    let (from, to) = (
        seq_floor(e.occurred_at - SAME_OCCURRENCE),
        seq_floor(e.occurred_at + SAME_OCCURRENCE),
    );
    let sql = if correlate::is_text(e) {
        // Notices are few, and indexed on their own.
        format!(
            "SELECT {COLUMNS} FROM events e INDEXED BY events_notices
                 LEFT JOIN maintenance_events m ON m.event_id = e.id
             WHERE e.source_id = ?1 AND e.event_name IS NOT NULL AND e.message IS NULL
               AND e.seq BETWEEN ?2 AND ?3 AND e.kind = ?4"
        )
    } else if correlate::is_notice(e) {
        // Ten minutes of history is a short rowid range.
        format!(
            "SELECT {COLUMNS} FROM {FROM_EVENTS}
             WHERE e.seq BETWEEN ?2 AND ?3 AND e.source_id = ?1 AND e.kind = ?4
               AND e.event_name IS NULL AND e.message IS NOT NULL"
        )
    } else {
        return Ok(Vec::new());
    };
    query_events(
        conn,
        unreadable,
        &sql,
        params![e.source_id.as_str(), from, to, e.kind.as_str()],
        "read near events",
    )
}

/// The same report as `e` stored with or without its account, for [`correlate::same_report`]:
/// under the id `e` would have without its account, or, for `e` without one, under an id that
/// knows an account (`any_bare`: some such event is stored).
fn same_reports(
    conn: &Connection,
    unreadable: &UnreadableLog,
    e: &MaintenanceEvent,
    any_alias: bool,
    any_bare: bool,
) -> Result<Vec<MaintenanceEvent>, StoreError> {
    let found = match e.id_without_place() {
        Some(bare) => stored_event(conn, unreadable, &bare, any_alias)?
            .into_iter()
            .collect(),
        None if e.account_id.is_none() && any_bare => {
            let sql = format!(
                "SELECT {COLUMNS} FROM events e INDEXED BY events_by_bare_id
                     LEFT JOIN maintenance_events m ON m.event_id = e.id
                 WHERE e.bare_id = ?1"
            );
            query_events(conn, unreadable, &sql, [e.id.as_str()], "read event")?
        }
        None => Vec::new(),
    };
    Ok(found
        .into_iter()
        .filter(|stored| correlate::same_report(stored, e))
        .collect())
}

/// Whether `id` is the id of a report merged into another event.
fn is_alias(conn: &Connection, id: &EventId) -> Result<bool, StoreError> {
    conn.prepare_cached("SELECT EXISTS (SELECT 1 FROM event_aliases WHERE alias = ?1)")
        .and_then(|mut s| s.query_row([id.as_str()], |r| r.get(0)))
        .map_err(store_error("insert event"))
}

/// The insert of one event ([`insert_event`]), unless its id is stored.
const INSERT_EVENT: &str = "INSERT INTO events (seq, id, event_name, kind, category, actionable, source_type, source_id, cluster_id,
         node_id, replication_group_id, cluster_group, group_key, occurred_at, window_start, window_end,
         previous_window_start, previous_window_end, message, region, account_id, failover_from,
         failover_to, origin, received_at, attributes, drill, subjects, bare_id)
     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20,
         ?21, ?22, ?23, ?24, ?25, ?26, ?27, ?28, ?29)
     ON CONFLICT DO NOTHING";

/// Inserts `e` with `insert` ([`INSERT_EVENT`], prepared once for many events: looking a
/// statement up in the cache hashes its whole text) unless its id is stored; `fts`: also into the
/// full-text index.
fn insert_event(
    tx: &Connection,
    insert: &mut rusqlite::Statement<'_>,
    e: &MaintenanceEvent,
    fts: bool,
) -> Result<bool, StoreError> {
    let err = store_error("insert event");
    let subjects = subjects(e);
    let failover = e.failover.as_ref();
    let bare_id = e.id_without_place();
    let mut seq = preferred_seq(e);
    loop {
        let changed = insert
            .execute(params![
                seq,
                e.id.as_str(),
                e.event_name,
                e.kind.as_str(),
                e.category.as_str(),
                e.actionable,
                e.source_type,
                e.source_id.as_str(),
                e.cluster_id.as_ref().map(|c| c.as_str()),
                e.node_id.as_ref().map(|n| n.as_str()),
                e.replication_group_id.as_ref().map(|g| g.as_str()),
                e.cluster_group(),
                e.group_key(),
                millis(e.occurred_at),
                e.window.map(|w| millis(w.start)),
                e.window.map(|w| millis(w.end)),
                e.previous_window.map(|w| millis(w.start)),
                e.previous_window.map(|w| millis(w.end)),
                e.message,
                e.region,
                e.account_id,
                failover.and_then(|f| f.from.as_deref()),
                failover.and_then(|f| f.to.as_deref()),
                e.origin.as_str(),
                millis(e.received_at),
                attributes_json(e),
                e.drill,
                subjects,
                bare_id.as_ref().map(EventId::as_str),
            ])
            .map_err(&err)?;
        if changed == 1 {
            break;
        }
        // Either this id is stored, or another event of the same millisecond holds the slot.
        if is_stored(tx, &e.id)? {
            return Ok(false);
        }
        seq = next_slot(e, seq)?;
    }
    if fts {
        tx.prepare_cached("INSERT INTO events_fts (rowid, message, subjects) VALUES (?1, ?2, ?3)")
            .map_err(&err)?
            .execute(params![seq, e.message, subjects])
            .map_err(&err)?;
    }
    Ok(true)
}

/// Whether an event of id `id` is stored.
fn is_stored(tx: &Connection, id: &EventId) -> Result<bool, StoreError> {
    tx.prepare_cached("SELECT EXISTS (SELECT 1 FROM events WHERE id = ?1)")
        .and_then(|mut s| s.query_row([id.as_str()], |r| r.get(0)))
        .map_err(store_error("insert event"))
}

/// The slot after `seq` in the millisecond of `e` (round to its first), or why there is none:
/// every slot of that millisecond holds another event.
fn next_slot(e: &MaintenanceEvent, seq: i64) -> Result<i64, StoreError> {
    let floor = seq_floor(e.occurred_at);
    let next = floor + (seq + 1 - floor) % rows::SEQ_SLOTS;
    if next == preferred_seq(e) {
        return Err(StoreError::Failed {
            operation: "insert event",
            source: format!(
                "more than {} events in the millisecond of {}",
                rows::SEQ_SLOTS,
                e.id
            )
            .into(),
        });
    }
    Ok(next)
}

/// Rewrites the stored event `merged.id` as `merged`, and records `alias` as merged into it;
/// `fts`: also in the full-text index.
fn merge_event(
    tx: &Connection,
    merged: &MaintenanceEvent,
    alias: &EventId,
    fts: bool,
) -> Result<(), StoreError> {
    let err = store_error("merge event");
    // The full-text index forgets the old words before the row changes, and learns the new ones.
    if fts {
        tx.prepare_cached(
            "INSERT INTO events_fts (events_fts, rowid, message, subjects)
             SELECT 'delete', seq, message, subjects FROM events WHERE id = ?1",
        )
        .map_err(&err)?
        .execute([merged.id.as_str()])
        .map_err(&err)?;
    }
    let failover = merged.failover.as_ref();
    tx.prepare_cached(
        "UPDATE events SET event_name = ?2, actionable = ?3, cluster_id = ?4, node_id = ?5,
             replication_group_id = ?6, cluster_group = ?7, group_key = ?8, window_start = ?9, window_end = ?10,
             previous_window_start = ?11, previous_window_end = ?12, message = ?13, region = ?14,
             account_id = ?15, failover_from = ?16, failover_to = ?17, attributes = ?18, subjects = ?19
         WHERE id = ?1",
    )
    .map_err(&err)?
    .execute(params![
        merged.id.as_str(),
        merged.event_name,
        merged.actionable,
        merged.cluster_id.as_ref().map(|c| c.as_str()),
        merged.node_id.as_ref().map(|n| n.as_str()),
        merged.replication_group_id.as_ref().map(|g| g.as_str()),
        merged.cluster_group(),
        merged.group_key(),
        merged.window.map(|w| millis(w.start)),
        merged.window.map(|w| millis(w.end)),
        merged.previous_window.map(|w| millis(w.start)),
        merged.previous_window.map(|w| millis(w.end)),
        merged.message,
        merged.region,
        merged.account_id,
        failover.and_then(|f| f.from.as_deref()),
        failover.and_then(|f| f.to.as_deref()),
        attributes_json(merged),
        subjects(merged),
    ])
    .map_err(&err)?;
    if fts {
        tx.prepare_cached(
            "INSERT INTO events_fts (rowid, message, subjects) SELECT seq, message, subjects FROM events WHERE id = ?1",
        )
        .map_err(&err)?
        .execute([merged.id.as_str()])
        .map_err(&err)?;
    }
    tx.prepare_cached("INSERT OR REPLACE INTO event_aliases (alias, id) VALUES (?1, ?2)")
        .map_err(&err)?
        .execute(params![alias.as_str(), merged.id.as_str()])
        .map_err(&err)?;
    Ok(())
}

/// Runs `f` as one transaction of its own, or, inside an import, as part of the import's
/// transaction. There it takes no savepoint: SQLite would copy every page it changes into a
/// statement journal to be able to undo it alone, yet a failed write fails the whole import,
/// which is then rolled back. So that no write can be half kept, a failure marks the import
/// failed, and [`EventStore::end_import`] then rolls it back whatever its caller asks.
fn atomically<T>(
    store: &SqliteStore,
    conn: &mut Connection,
    operation: &'static str,
    f: impl FnOnce(&Connection) -> Result<T, StoreError>,
) -> Result<T, StoreError> {
    let err = store_error(operation);
    if !store.importing.load(Ordering::SeqCst) {
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(&err)?;
        let done = f(&tx)?;
        tx.commit().map_err(&err)?;
        return Ok(done);
    }
    let done = if conn.is_autocommit() {
        // SQLite rolled the import's transaction back itself (a full disk, an I/O error).
        Err(StoreError::Failed {
            operation,
            source: "the import's transaction was rolled back".into(),
        })
    } else {
        f(conn)
    };
    if done.is_err() {
        store.import_failed.store(true, Ordering::SeqCst);
    }
    done
}

/// Replaces each group's maintenances and points their events at them.
fn save_groups(
    tx: &Connection,
    groups: &BTreeMap<String, Vec<Maintenance>>,
) -> Result<(), StoreError> {
    let err = store_error("save maintenances");
    let mut clear = tx
        .prepare_cached("DELETE FROM maintenances WHERE group_key = ?1")
        .map_err(&err)?;
    let mut save = tx
        .prepare_cached(
            "INSERT OR REPLACE INTO maintenances (id, group_key, state, window_start, window_end, drill, body)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        )
        .map_err(&err)?;
    let mut points = Vec::new();
    for (group_key, maintenances) in groups {
        clear.execute([group_key]).map_err(&err)?;
        for m in maintenances {
            insert_maintenance(&mut save, group_key, m)?;
            points.extend(m.event_ids.iter().map(|id| (id.as_str(), m.id.as_str())));
        }
    }
    // In id order, the memberships of many groups go to neighbouring pages of their table
    // instead of one random page each (a stable sort: the last of two for one event still wins).
    points.sort_by_key(|&(event, _)| event);
    let mut point = tx
        .prepare_cached(
            "INSERT INTO maintenance_events (event_id, maintenance_id) VALUES (?1, ?2)
             ON CONFLICT (event_id) DO UPDATE SET maintenance_id = excluded.maintenance_id
             WHERE maintenance_id IS NOT excluded.maintenance_id",
        )
        .map_err(&err)?;
    for (event, maintenance) in points {
        point.execute([event, maintenance]).map_err(&err)?;
    }
    Ok(())
}

/// The maintenances and memberships [`rework_each_group`] worked out, kept aside in the order it
/// worked them out until they are written together, in key order, at its end. Temporary: never
/// part of the file.
const STAGE: &str = "CREATE TEMP TABLE IF NOT EXISTS reworked_maintenances (
        id TEXT NOT NULL, group_key TEXT NOT NULL, state TEXT NOT NULL, window_start INTEGER,
        window_end INTEGER, drill INTEGER NOT NULL, body TEXT NOT NULL);
    CREATE TEMP TABLE IF NOT EXISTS reworked_memberships (
        event_id TEXT NOT NULL, maintenance_id TEXT NOT NULL);
    DELETE FROM temp.reworked_maintenances;
    DELETE FROM temp.reworked_memberships;";

/// Writes what [`STAGE`] kept aside, each table in key order (in the order it was kept, for one
/// key twice: the last kept wins, as it would written as it came), and forgets it. In key order,
/// the rows go to neighbouring pages, mostly at the end of their tables, instead of one random
/// page each: for a million-event import's 200,000 maintenances, a third less time.
const UNSTAGE: &str = "INSERT OR REPLACE INTO maintenances (id, group_key, state, window_start, window_end, drill, body)
        SELECT id, group_key, state, window_start, window_end, drill, body
        FROM temp.reworked_maintenances ORDER BY id, rowid;
    INSERT INTO maintenance_events (event_id, maintenance_id)
        SELECT event_id, maintenance_id FROM temp.reworked_memberships WHERE true
        ORDER BY event_id, rowid
        ON CONFLICT (event_id) DO UPDATE SET maintenance_id = excluded.maintenance_id
        WHERE maintenance_id IS NOT excluded.maintenance_id;
    DROP TABLE temp.reworked_maintenances;
    DROP TABLE temp.reworked_memberships;";

/// Reads each group of `groups` back in turn, in key order, works its maintenances out with
/// `work`, clears the group's maintenances saved before and keeps the new ones aside
/// ([`STAGE`]), to write them all in key order at the end: only one group's events are held in
/// memory at once. The events are read without the maintenance each belonged to, which `work`
/// says again.
fn rework_each_group(
    tx: &Connection,
    unreadable: &UnreadableLog,
    groups: &BTreeSet<String>,
    work: &mut dyn FnMut(&str, &[MaintenanceEvent]) -> Vec<Maintenance>,
) -> Result<(), StoreError> {
    let err = store_error("save maintenances");
    let sql = format!(
        "SELECT {} FROM events e WHERE e.group_key = ?1 ORDER BY e.seq",
        COLUMNS.replace("m.maintenance_id", "NULL")
    );
    tx.execute_batch(STAGE).map_err(&err)?;
    let mut clear = tx
        .prepare_cached("DELETE FROM maintenances WHERE group_key = ?1")
        .map_err(&err)?;
    let mut keep = tx
        .prepare_cached(
            "INSERT INTO temp.reworked_maintenances (id, group_key, state, window_start, window_end, drill, body)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        )
        .map_err(&err)?;
    let mut point = tx
        .prepare_cached(
            "INSERT INTO temp.reworked_memberships (event_id, maintenance_id) VALUES (?1, ?2)",
        )
        .map_err(&err)?;
    for group in groups {
        let events = query_events(tx, unreadable, &sql, [group], "read group events")?;
        clear.execute([group]).map_err(&err)?;
        for m in work(group, &events) {
            insert_maintenance(&mut keep, group, &m)?;
            for id in &m.event_ids {
                point.execute([id.as_str(), m.id.as_str()]).map_err(&err)?;
            }
        }
    }
    // The sorts of the writes hold as much as the page cache beside it before they spill to a
    // temporary file: a smaller cache keeps the import's peak memory to that of its writes.
    let cache = |kib: i64| tx.pragma_update(None, "cache_size", -kib).map_err(&err);
    cache(INDEXING_CACHE_KIB)?;
    let written = tx.execute_batch(UNSTAGE).map_err(&err);
    cache(CACHE_KIB)?;
    written
}

/// Writes `m`, a maintenance of `group`, with `insert`: an insert of the columns of
/// `maintenances`, in their order.
fn insert_maintenance(
    insert: &mut rusqlite::Statement<'_>,
    group: &str,
    m: &Maintenance,
) -> Result<(), StoreError> {
    let body = serde_json::to_string(m).map_err(|e| StoreError::Failed {
        operation: "encode maintenance",
        source: Box::new(e),
    })?;
    insert
        .execute(params![
            m.id.as_str(),
            group,
            m.state.as_str(),
            m.window.map(|w| millis(w.start)),
            m.window.map(|w| millis(w.end)),
            m.drill,
            body,
        ])
        .map(drop)
        .map_err(store_error("save maintenances"))
}

fn read_maintenance(body: &str) -> Result<Maintenance, StoreError> {
    serde_json::from_str(body).map_err(|err| StoreError::Corrupt {
        what: "maintenance",
        detail: err.to_string(),
    })
}

impl EventStore for SqliteStore {
    async fn candidates(&self, events: &[MaintenanceEvent]) -> Result<Vec<Candidates>, StoreError> {
        let conn = self.lock();
        // Two questions answered once for the whole batch spare a query per event in bulk imports.
        let any_alias = exists(&conn, "SELECT EXISTS (SELECT 1 FROM event_aliases)")?;
        let any_notice = exists(
            &conn,
            "SELECT EXISTS (SELECT 1 FROM events INDEXED BY events_notices WHERE event_name IS NOT NULL AND message IS NULL)",
        )?;
        let any_bare = exists(
            &conn,
            "SELECT EXISTS (SELECT 1 FROM events INDEXED BY events_by_bare_id WHERE bare_id IS NOT NULL)",
        )?;
        if self.found_by_insert(events, any_alias || any_notice || any_bare) {
            return Ok(vec![Candidates::default(); events.len()]);
        }
        events
            .iter()
            .map(|e| {
                let mut near = if correlate::is_text(e) && !any_notice {
                    Vec::new()
                } else {
                    near_events(&conn, &self.unreadable, e)?
                };
                let same = stored_event(&conn, &self.unreadable, &e.id, any_alias)?;
                if same.is_none() {
                    near.extend(same_reports(
                        &conn,
                        &self.unreadable,
                        e,
                        any_alias,
                        any_bare,
                    )?);
                }
                Ok(Candidates { same, near })
            })
            .collect()
    }

    fn begin_import(&self, large: bool) -> Result<bool, StoreError> {
        let conn = self.lock();
        let err = store_error("begin an import");
        conn.execute_batch("BEGIN IMMEDIATE").map_err(&err)?;
        self.importing.store(true, Ordering::SeqCst);
        self.import_failed.store(false, Ordering::SeqCst);
        let empty = exists(&conn, "SELECT NOT EXISTS (SELECT 1 FROM events)");
        self.import_into_empty
            .store(matches!(empty, Ok(true)), Ordering::SeqCst);
        if large {
            let mut drop = String::new();
            for (name, _) in schema::DEFERRABLE_INDEXES {
                drop.push_str(&format!("DROP INDEX IF EXISTS {name};"));
            }
            if let Err(e) = conn.execute_batch(&drop) {
                let _ = conn.execute_batch("ROLLBACK");
                self.importing.store(false, Ordering::SeqCst);
                return Err(err(e));
            }
            self.deferring.store(true, Ordering::SeqCst);
        }
        Ok(true)
    }

    fn build_indexes(&self) -> Result<(), StoreError> {
        let conn = self.lock();
        if !self.deferring.load(Ordering::SeqCst) {
            return Ok(());
        }
        let err = store_error("build the indexes");
        let cache = |kib: i64| conn.pragma_update(None, "cache_size", -kib).map_err(&err);
        cache(INDEXING_CACHE_KIB)?;
        let built = (|| {
            for (_, create) in schema::DEFERRABLE_INDEXES {
                conn.execute_batch(create).map_err(&err)?;
            }
            // Every row's words, read in rowid order: the same index row-by-row writes give.
            // FTS5 gathers words in memory up to `hashsize` before it writes them out as a
            // segment, and merges segments as they pile up: 8 MiB instead of the default 1 MiB
            // writes fewer segments and merges them less often.
            let hashsize = |bytes: i64| {
                conn.execute(
                    "INSERT INTO events_fts (events_fts, rank) VALUES ('hashsize', ?1)",
                    [bytes],
                )
                .map_err(&err)
            };
            hashsize(FTS_REBUILD_HASH_BYTES)?;
            conn.execute_batch("INSERT INTO events_fts (events_fts) VALUES ('rebuild')")
                .map_err(&err)?;
            hashsize(FTS_HASH_BYTES).map(drop)
        })();
        cache(CACHE_KIB)?;
        built?;
        self.deferring.store(false, Ordering::SeqCst);
        Ok(())
    }

    fn end_import(&self, keep: bool) -> Result<(), StoreError> {
        // After a failed write the import holds part of a write: it is never kept.
        let failed = self.import_failed.swap(false, Ordering::SeqCst);
        let built = if keep && !failed {
            self.build_indexes()
        } else {
            Ok(())
        };
        let conn = self.lock();
        // Rolled back, the dropped indexes come back as they were.
        self.deferring.store(false, Ordering::SeqCst);
        self.importing.store(false, Ordering::SeqCst);
        let err = store_error("end an import");
        let refused = |why: &str| StoreError::Failed {
            operation: "end an import",
            source: format!("nothing was imported: {why}").into(),
        };
        if conn.is_autocommit() {
            // SQLite rolled the transaction back itself.
            return match keep {
                true => Err(refused("its transaction was rolled back")),
                false => Ok(()),
            };
        }
        if keep && !failed && built.is_ok() {
            if let Err(e) = conn.execute_batch("COMMIT") {
                let _ = conn.execute_batch("ROLLBACK");
                return Err(err(e));
            }
            return Ok(());
        }
        conn.execute_batch("ROLLBACK").map_err(err)?;
        match keep && failed {
            true => Err(refused("one of its writes failed")),
            false => built,
        }
    }

    async fn write(&self, writes: &[EventWrite]) -> Result<Vec<WriteOutcome>, StoreError> {
        let mut conn = self.lock();
        let fts = !self.deferring.load(Ordering::SeqCst);
        atomically(self, &mut conn, "write events", |tx| {
            // An id merged into another event is stored already, as that event. Asked once per
            // call, so that bulk imports into a history without merges pay nothing for it.
            let mut any_alias = exists(tx, "SELECT EXISTS (SELECT 1 FROM event_aliases)")?;
            let mut insert = tx
                .prepare_cached(INSERT_EVENT)
                .map_err(store_error("insert event"))?;
            let mut outcomes = Vec::with_capacity(writes.len());
            for w in writes {
                outcomes.push(match w {
                    EventWrite::Insert(e) => {
                        let aliased = any_alias && is_alias(tx, &e.id)?;
                        if !aliased && insert_event(tx, &mut insert, e, fts)? {
                            WriteOutcome::Inserted
                        } else {
                            WriteOutcome::AlreadyStored
                        }
                    }
                    EventWrite::Merge { merged, alias } => {
                        merge_event(tx, merged, alias, fts)?;
                        any_alias = true;
                        WriteOutcome::Merged
                    }
                });
            }
            Ok(outcomes)
        })
    }

    async fn group_events(
        &self,
        group_keys: &[String],
    ) -> Result<BTreeMap<String, Vec<MaintenanceEvent>>, StoreError> {
        let conn = self.lock();
        let sql = format!("SELECT {COLUMNS} FROM {FROM_EVENTS} WHERE e.group_key = ?1");
        group_keys
            .iter()
            .map(|key| {
                Ok((
                    key.clone(),
                    query_events(&conn, &self.unreadable, &sql, [key], "read group events")?,
                ))
            })
            .collect()
    }

    fn rework_in_one_pass(
        &self,
        groups: &BTreeSet<String>,
        work: &mut dyn FnMut(&str, &[MaintenanceEvent]) -> Vec<Maintenance>,
    ) -> Result<bool, StoreError> {
        let mut conn = self.lock();
        atomically(self, &mut conn, "rework maintenances", |tx| {
            rework_each_group(tx, &self.unreadable, groups, work)
        })?;
        Ok(true)
    }

    async fn save_maintenances(
        &self,
        groups: &BTreeMap<String, Vec<Maintenance>>,
    ) -> Result<(), StoreError> {
        let mut conn = self.lock();
        atomically(self, &mut conn, "save maintenances", |tx| {
            save_groups(tx, groups)
        })
    }

    async fn event(&self, id: &EventId) -> Result<Option<MaintenanceEvent>, StoreError> {
        stored_event(&self.lock(), &self.unreadable, id, true)
    }

    async fn resolve(&self, prefix: &IdPrefix, limit: usize) -> Result<Vec<EventId>, StoreError> {
        let conn = self.lock();
        let err = store_error("resolve id");
        // Ids are lowercase hex: every id starting with the prefix sorts before prefix + "g".
        let upper = format!("{}g", prefix.as_str());
        let mut stmt = conn
            .prepare_cached("SELECT id FROM events WHERE id >= ?1 AND id < ?2 ORDER BY id LIMIT ?3")
            .map_err(&err)?;
        let rows = stmt
            .query_map(params![prefix.as_str(), upper, limit as i64], |r| {
                r.get::<_, String>(0)
            })
            .map_err(&err)?;
        let mut ids = Vec::new();
        for row in rows {
            let id = row.map_err(&err)?;
            ids.push(EventId::parse(&id).ok_or(StoreError::Corrupt {
                what: "event id",
                detail: id,
            })?);
        }
        Ok(ids)
    }

    async fn maintenance(&self, id: &EventId) -> Result<Option<Maintenance>, StoreError> {
        let conn = self.lock();
        let Some(maintenance_id) =
            stored_event(&conn, &self.unreadable, id, true)?.and_then(|e| e.maintenance_id)
        else {
            return Ok(None);
        };
        let body: Option<String> = conn
            .prepare_cached("SELECT body FROM maintenances WHERE id = ?1")
            .and_then(|mut s| {
                s.query_row([maintenance_id.as_str()], |r| r.get(0))
                    .optional()
            })
            .map_err(store_error("read maintenance"))?;
        match body {
            Some(body) => skip(&self.unreadable, read_maintenance(&body), || {
                maintenance_id.as_str().to_owned()
            }),
            None => Ok(None),
        }
    }

    async fn search(&self, query: &EventQuery) -> Result<Vec<MaintenanceEvent>, StoreError> {
        let conn = self.lock();
        let (sql, values) = search::search_sql(query);
        query_events(
            &conn,
            &self.unreadable,
            &sql,
            rusqlite::params_from_iter(values),
            "search events",
        )
    }

    async fn open_maintenances(
        &self,
        now: DateTime<Utc>,
        include_drills: bool,
    ) -> Result<Vec<Maintenance>, StoreError> {
        let conn = self.lock();
        let err = store_error("read open maintenances");
        // In-progress work may be reported until 12 hours after its window (see the lifecycle).
        let horizon = millis(now - Duration::hours(12));
        let mut stmt = conn
            .prepare_cached(
                "SELECT id, body FROM maintenances
                 WHERE state IN ('scheduled', 'rescheduled', 'in_progress')
                   AND (window_end IS NULL OR window_end >= ?1) AND (?2 OR drill = 0)",
            )
            .map_err(&err)?;
        let rows = stmt
            .query_map(params![horizon, include_drills], |r| {
                Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))
            })
            .map_err(&err)?;
        let mut found = Vec::new();
        for row in rows {
            let (id, body) = row.map_err(&err)?;
            let Some(m) = skip(&self.unreadable, read_maintenance(&body), || id)? else {
                continue;
            };
            if m.is_upcoming(now) {
                found.push(m);
            }
        }
        Ok(found)
    }

    fn take_unreadable(&self) -> Vec<Unreadable> {
        self.unreadable.take()
    }
}

#[cfg(test)]
mod tests;
