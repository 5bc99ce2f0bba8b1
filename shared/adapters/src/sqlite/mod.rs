//! The event history in one SQLite file: WAL, versioned migrations, FTS5 over message texts.
//!
//! Each row keeps the normalized event as JSON (the contract, so new fields need no migration)
//! beside the columns the queries use. Writes of one call are one `IMMEDIATE` transaction, so
//! concurrent ingests serialize instead of failing, and a bulk import is stored whole or not at all.

mod schema;

use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Duration as StdDuration;

use cachewatch_core::correlate::{self, SAME_OCCURRENCE};
use cachewatch_core::event::{EventId, IdPrefix, MaintenanceEvent};
use cachewatch_core::lifecycle::Maintenance;
use cachewatch_core::query::EventQuery;
use cachewatch_core::store::{Candidates, EventStore, EventWrite, StoreError, WriteOutcome};
use chrono::{DateTime, Duration, Utc};
use rusqlite::{Connection, OptionalExtension, Transaction, TransactionBehavior, params};

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
    path: PathBuf,
}

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
            conn.pragma_update(None, "foreign_keys", "ON")?;
            conn.pragma_update(None, "cache_size", -65_536)?; // 64 MiB
            conn.pragma_update(None, "temp_store", "MEMORY")?;
            conn.set_prepared_statement_cache_capacity(64);
            schema::migrate(&mut conn)?;
            Ok(conn)
        };
        let conn = open().map_err(|source| OpenError::Open {
            path: path.to_owned(),
            source,
        })?;
        Ok(Self {
            conn: Mutex::new(conn),
            path: path.to_owned(),
        })
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
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

fn millis(at: DateTime<Utc>) -> i64 {
    at.timestamp_millis()
}

/// The words a text search matches besides the message: the identifiers and the kind.
fn subjects(e: &MaintenanceEvent) -> String {
    let mut words = vec![e.source_id.as_str(), e.kind.as_str()];
    words.extend(e.cluster_id.as_ref().map(|c| c.as_str()));
    words.extend(e.replication_group_id.as_ref().map(|c| c.as_str()));
    words.extend(e.node_id.as_ref().map(|c| c.as_str()));
    words.join(" ")
}

fn read_event(body: &str, maintenance_id: Option<String>) -> Result<MaintenanceEvent, StoreError> {
    let mut e: MaintenanceEvent =
        serde_json::from_str(body).map_err(|err| StoreError::Corrupt {
            what: "event",
            detail: err.to_string(),
        })?;
    e.maintenance_id = maintenance_id.as_deref().and_then(EventId::parse);
    Ok(e)
}

fn read_maintenance(body: &str) -> Result<Maintenance, StoreError> {
    serde_json::from_str(body).map_err(|err| StoreError::Corrupt {
        what: "maintenance",
        detail: err.to_string(),
    })
}

fn event_json(e: &MaintenanceEvent) -> Result<String, StoreError> {
    serde_json::to_string(e).map_err(|err| StoreError::Failed {
        operation: "encode event",
        source: Box::new(err),
    })
}

/// The stored event under `id`, following an alias when `id` was merged into another event.
fn stored_event(conn: &Connection, id: &EventId) -> Result<Option<MaintenanceEvent>, StoreError> {
    let err = store_error("read event");
    let row = conn
        .prepare_cached(
            "SELECT body, maintenance_id FROM events WHERE id = ?1
             UNION ALL
             SELECT e.body, e.maintenance_id FROM event_aliases a JOIN events e ON e.id = a.id WHERE a.alias = ?1
             LIMIT 1",
        )
        .map_err(&err)?
        .query_row([id.as_str()], |r| Ok((r.get::<_, String>(0)?, r.get::<_, Option<String>>(1)?)))
        .optional()
        .map_err(&err)?;
    row.map(|(body, m)| read_event(&body, m)).transpose()
}

/// Stored events near `e` of the other shape, for [`correlate::same_occurrence`].
fn near_events(
    conn: &Connection,
    e: &MaintenanceEvent,
) -> Result<Vec<MaintenanceEvent>, StoreError> {
    let sql = if correlate::is_text(e) {
        // Uses the small partial index of notices.
        "SELECT body, maintenance_id FROM events
         WHERE source_id = ?1 AND occurred_at BETWEEN ?2 AND ?3 AND kind = ?4
           AND event_name IS NOT NULL AND message IS NULL"
    } else if correlate::is_notice(e) {
        "SELECT body, maintenance_id FROM events
         WHERE source_id = ?1 AND occurred_at BETWEEN ?2 AND ?3 AND kind = ?4
           AND event_name IS NULL AND message IS NOT NULL"
    } else {
        return Ok(Vec::new());
    };
    let err = store_error("read near events");
    let mut stmt = conn.prepare_cached(sql).map_err(&err)?;
    let rows = stmt
        .query_map(
            params![
                e.source_id.as_str(),
                millis(e.occurred_at - SAME_OCCURRENCE),
                millis(e.occurred_at + SAME_OCCURRENCE),
                e.kind.as_str()
            ],
            |r| Ok((r.get::<_, String>(0)?, r.get::<_, Option<String>>(1)?)),
        )
        .map_err(&err)?;
    let mut found = Vec::new();
    for row in rows {
        let (body, m) = row.map_err(&err)?;
        found.push(read_event(&body, m)?);
    }
    Ok(found)
}

fn insert_event(tx: &Transaction<'_>, e: &MaintenanceEvent) -> Result<bool, StoreError> {
    let err = store_error("insert event");
    let changed = tx
        .prepare_cached(
            "INSERT INTO events (id, event_name, kind, category, actionable, source_id, cluster_id, node_id,
                 cluster_group, group_key, occurred_at, message, subjects, drill, maintenance_id, body)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, NULL, ?15)
             ON CONFLICT (id) DO NOTHING",
        )
        .map_err(&err)?
        .execute(params![
            e.id.as_str(),
            e.event_name,
            e.kind.as_str(),
            e.category.as_str(),
            e.actionable,
            e.source_id.as_str(),
            e.cluster_id.as_ref().map(|c| c.as_str()),
            e.node_id.as_ref().map(|n| n.as_str()),
            e.cluster_group(),
            e.group_key(),
            millis(e.occurred_at),
            e.message,
            subjects(e),
            e.drill,
            event_json(e)?,
        ])
        .map_err(&err)?;
    Ok(changed == 1)
}

fn merge_event(
    tx: &Transaction<'_>,
    merged: &MaintenanceEvent,
    alias: &EventId,
) -> Result<(), StoreError> {
    let err = store_error("merge event");
    tx.prepare_cached(
        "UPDATE events SET event_name = ?2, actionable = ?3, cluster_id = ?4, node_id = ?5, cluster_group = ?6,
             group_key = ?7, message = ?8, subjects = ?9, body = ?10
         WHERE id = ?1",
    )
    .map_err(&err)?
    .execute(params![
        merged.id.as_str(),
        merged.event_name,
        merged.actionable,
        merged.cluster_id.as_ref().map(|c| c.as_str()),
        merged.node_id.as_ref().map(|n| n.as_str()),
        merged.cluster_group(),
        merged.group_key(),
        merged.message,
        subjects(merged),
        event_json(merged)?,
    ])
    .map_err(&err)?;
    tx.prepare_cached("INSERT OR REPLACE INTO event_aliases (alias, id) VALUES (?1, ?2)")
        .map_err(&err)?
        .execute(params![alias.as_str(), merged.id.as_str()])
        .map_err(&err)?;
    Ok(())
}

/// The `WHERE` clause and parameters of a search.
fn search_sql(q: &EventQuery) -> (String, Vec<rusqlite::types::Value>) {
    use rusqlite::types::Value;
    let mut clauses: Vec<&str> = Vec::new();
    let mut values: Vec<Value> = Vec::new();
    let mut param = |clause: &'static str, value: Value, clauses: &mut Vec<&str>| {
        values.push(value);
        clauses.push(clause);
    };
    if let Some(cluster) = &q.cluster {
        // Both sides of the OR have an index; SQLite unions them.
        param(
            "(cluster_id = ?{n} OR cluster_group = ?{n})",
            Value::Text(cluster.clone()),
            &mut clauses,
        );
    }
    if let Some(node) = &q.node {
        param("node_id = ?{n}", Value::Text(node.clone()), &mut clauses);
    }
    if let Some(kind) = &q.kind {
        param("kind = ?{n}", Value::Text(kind.to_string()), &mut clauses);
    }
    if let Some(category) = q.category {
        param(
            "category = ?{n}",
            Value::Text(category.as_str().to_owned()),
            &mut clauses,
        );
    }
    if let Some(since) = q.since {
        param(
            "occurred_at >= ?{n}",
            Value::Integer(millis(since)),
            &mut clauses,
        );
    }
    if let Some(until) = q.until {
        param(
            "occurred_at < ?{n}",
            Value::Integer(millis(until)),
            &mut clauses,
        );
    }
    if !q.include_drills {
        clauses.push("drill = 0");
    }
    let words = q.words();
    if !words.is_empty() {
        // Each word is letters and digits only (see EventQuery::words): quoting makes it a plain
        // prefix term, never search syntax.
        let fts = words
            .iter()
            .map(|w| format!("\"{w}\"*"))
            .collect::<Vec<_>>()
            .join(" AND ");
        param(
            "seq IN (SELECT rowid FROM events_fts WHERE events_fts MATCH ?{n})",
            Value::Text(fts),
            &mut clauses,
        );
    }
    let mut sql = String::from("SELECT body, maintenance_id FROM events");
    let mut n = 0;
    for (i, clause) in clauses.iter().enumerate() {
        sql.push_str(if i == 0 { " WHERE " } else { " AND " });
        if clause.contains("?{n}") {
            n += 1;
            sql.push_str(&clause.replace("{n}", &n.to_string()));
        } else {
            sql.push_str(clause);
        }
    }
    n += 1;
    sql.push_str(&format!(" ORDER BY occurred_at DESC, id DESC LIMIT ?{n}"));
    values.push(Value::Integer(q.limit as i64));
    (sql, values)
}

impl EventStore for SqliteStore {
    async fn candidates(&self, events: &[MaintenanceEvent]) -> Result<Vec<Candidates>, StoreError> {
        let conn = self.lock();
        events
            .iter()
            .map(|e| {
                Ok(Candidates {
                    same: stored_event(&conn, &e.id)?,
                    near: near_events(&conn, e)?,
                })
            })
            .collect()
    }

    async fn write(&self, writes: &[EventWrite]) -> Result<Vec<WriteOutcome>, StoreError> {
        let mut conn = self.lock();
        let err = store_error("write events");
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(&err)?;
        let mut outcomes = Vec::with_capacity(writes.len());
        for w in writes {
            outcomes.push(match w {
                EventWrite::Insert(e) => {
                    if insert_event(&tx, e)? {
                        WriteOutcome::Inserted
                    } else {
                        WriteOutcome::AlreadyStored
                    }
                }
                EventWrite::Merge { merged, alias } => {
                    merge_event(&tx, merged, alias)?;
                    WriteOutcome::Merged
                }
            });
        }
        tx.commit().map_err(&err)?;
        Ok(outcomes)
    }

    async fn group_events(&self, group_key: &str) -> Result<Vec<MaintenanceEvent>, StoreError> {
        let conn = self.lock();
        let err = store_error("read group events");
        let mut stmt = conn
            .prepare_cached("SELECT body, maintenance_id FROM events WHERE group_key = ?1")
            .map_err(&err)?;
        let rows = stmt
            .query_map([group_key], |r| {
                Ok((r.get::<_, String>(0)?, r.get::<_, Option<String>>(1)?))
            })
            .map_err(&err)?;
        let mut events = Vec::new();
        for row in rows {
            let (body, m) = row.map_err(&err)?;
            events.push(read_event(&body, m)?);
        }
        Ok(events)
    }

    async fn save_maintenances(
        &self,
        group_key: &str,
        maintenances: &[Maintenance],
    ) -> Result<(), StoreError> {
        let mut conn = self.lock();
        let err = store_error("save maintenances");
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(&err)?;
        tx.execute("DELETE FROM maintenances WHERE group_key = ?1", [group_key])
            .map_err(&err)?;
        for m in maintenances {
            let body = serde_json::to_string(m).map_err(|e| StoreError::Failed {
                operation: "encode maintenance",
                source: Box::new(e),
            })?;
            tx.prepare_cached(
                "INSERT OR REPLACE INTO maintenances (id, group_key, state, window_start, window_end, drill, body)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            )
            .map_err(&err)?
            .execute(params![
                m.id.as_str(),
                group_key,
                m.state.as_str(),
                m.window.map(|w| millis(w.start)),
                m.window.map(|w| millis(w.end)),
                m.drill,
                body,
            ])
            .map_err(&err)?;
            let mut point = tx
                .prepare_cached("UPDATE events SET maintenance_id = ?1 WHERE id = ?2")
                .map_err(&err)?;
            for id in &m.event_ids {
                point
                    .execute(params![m.id.as_str(), id.as_str()])
                    .map_err(&err)?;
            }
        }
        tx.commit().map_err(&err)
    }

    async fn event(&self, id: &EventId) -> Result<Option<MaintenanceEvent>, StoreError> {
        stored_event(&self.lock(), id)
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
        let Some(event) = stored_event(&conn, id)? else {
            return Ok(None);
        };
        let Some(maintenance_id) = event.maintenance_id else {
            return Ok(None);
        };
        let err = store_error("read maintenance");
        let body: Option<String> = conn
            .prepare_cached("SELECT body FROM maintenances WHERE id = ?1")
            .map_err(&err)?
            .query_row([maintenance_id.as_str()], |r| r.get(0))
            .optional()
            .map_err(&err)?;
        body.as_deref().map(read_maintenance).transpose()
    }

    async fn search(&self, query: &EventQuery) -> Result<Vec<MaintenanceEvent>, StoreError> {
        let conn = self.lock();
        let err = store_error("search events");
        let (sql, values) = search_sql(query);
        let mut stmt = conn.prepare_cached(&sql).map_err(&err)?;
        let rows = stmt
            .query_map(rusqlite::params_from_iter(values), |r| {
                Ok((r.get::<_, String>(0)?, r.get::<_, Option<String>>(1)?))
            })
            .map_err(&err)?;
        let mut events = Vec::new();
        for row in rows {
            let (body, m) = row.map_err(&err)?;
            events.push(read_event(&body, m)?);
        }
        Ok(events)
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
                "SELECT body FROM maintenances
                 WHERE state IN ('scheduled', 'rescheduled', 'in_progress')
                   AND (window_end IS NULL OR window_end >= ?1) AND (?2 OR drill = 0)",
            )
            .map_err(&err)?;
        let rows = stmt
            .query_map(params![horizon, include_drills], |r| r.get::<_, String>(0))
            .map_err(&err)?;
        let mut found = Vec::new();
        for row in rows {
            let m = read_maintenance(&row.map_err(&err)?)?;
            if m.is_upcoming(now) {
                found.push(m);
            }
        }
        Ok(found)
    }
}

#[cfg(test)]
mod tests;
