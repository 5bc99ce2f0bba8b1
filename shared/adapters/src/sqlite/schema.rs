//! The SQLite schema and its versioned migrations.
//!
//! Each migration runs once, in a transaction, and bumps `PRAGMA user_version`. A database written
//! by a newer cachewatch is refused rather than guessed at.

use rusqlite::Connection;

/// The indexes of the events table that only searches and lifecycle reads use, as migrations 1
/// and 6 create them: a large import drops them and builds each once at its end, inside its
/// transaction. The unique index on the id, `events_notices` and `events_by_bare_id` stay,
/// looked up by every write.
pub const DEFERRABLE_INDEXES: &[(&str, &str)] = &[
    (
        "events_by_group",
        "CREATE INDEX events_by_group ON events (cluster_group)",
    ),
    (
        "events_by_kind",
        "CREATE INDEX events_by_kind ON events (kind)",
    ),
    (
        "events_by_lifecycle",
        "CREATE INDEX events_by_lifecycle ON events (group_key) WHERE group_key IS NOT NULL",
    ),
    (
        "events_by_place",
        "CREATE INDEX events_by_place ON events (account_id, region) WHERE account_id IS NOT NULL",
    ),
];

/// Migrations in order; migration `n` (1-based) brings a database to `user_version = n`.
const MIGRATIONS: &[&str] = &[
    // 1: events, their full-text index, aliases of merged reports, maintenances.
    //
    // `seq` (the rowid) is the event's time in milliseconds times 4096 plus a disambiguator, so
    // rowid order is time order: time ranges are rowid ranges, every index on one column comes
    // out time-ordered, and the full-text index yields the newest matches first.
    r#"
    CREATE TABLE events (
        seq INTEGER PRIMARY KEY,
        id TEXT NOT NULL UNIQUE,
        event_name TEXT,
        kind TEXT NOT NULL,
        category TEXT NOT NULL,
        actionable INTEGER NOT NULL,
        source_type TEXT NOT NULL,
        source_id TEXT NOT NULL,
        cluster_id TEXT,
        node_id TEXT,
        replication_group_id TEXT,
        cluster_group TEXT NOT NULL,
        group_key TEXT,
        occurred_at INTEGER NOT NULL,
        window_start INTEGER,
        window_end INTEGER,
        previous_window_start INTEGER,
        previous_window_end INTEGER,
        message TEXT,
        region TEXT,
        account_id TEXT,
        failover_from TEXT,
        failover_to TEXT,
        origin TEXT NOT NULL,
        received_at INTEGER NOT NULL,
        attributes TEXT,
        drill INTEGER NOT NULL,
        subjects TEXT NOT NULL
    );
    CREATE INDEX events_by_group ON events (cluster_group);
    CREATE INDEX events_by_kind ON events (kind);
    CREATE INDEX events_by_lifecycle ON events (group_key) WHERE group_key IS NOT NULL;
    -- Named notices without a text (SNS), for matching the text of the same occurrence.
    CREATE INDEX events_notices ON events (source_id) WHERE event_name IS NOT NULL AND message IS NULL;

    -- Words of the message and of the identifiers, for `--text`. Searches are ANDs of prefix terms,
    -- so neither positions (detail) nor column sizes are kept. Maintained by the store, not by
    -- triggers: a trigger per row costs several times the insert itself.
    CREATE VIRTUAL TABLE events_fts USING fts5(
        message, subjects, content = 'events', content_rowid = 'seq', detail = none, columnsize = 0
    );

    -- The id of a report that was merged into a stored event, and that event's id.
    CREATE TABLE event_aliases (
        alias TEXT PRIMARY KEY,
        id TEXT NOT NULL
    ) WITHOUT ROWID;

    CREATE TABLE maintenances (
        id TEXT PRIMARY KEY,
        group_key TEXT NOT NULL,
        state TEXT NOT NULL,
        window_start INTEGER,
        window_end INTEGER,
        drill INTEGER NOT NULL,
        body TEXT NOT NULL
    ) WITHOUT ROWID;
    CREATE INDEX maintenances_by_group ON maintenances (group_key);
    -- Which maintenance each lifecycle event belongs to: a narrow table, rewritten per group, so
    -- that placing an event never rewrites its (wide) row.
    CREATE TABLE maintenance_events (
        event_id TEXT PRIMARY KEY,
        maintenance_id TEXT NOT NULL
    ) WITHOUT ROWID;
    CREATE INDEX maintenances_open ON maintenances (state, window_end)
        WHERE state IN ('scheduled', 'rescheduled', 'in_progress');
    "#,
    // 2: the outbox of alerts, the threads they went to, and the leases of senders.
    r#"
    CREATE TABLE deliveries (
        event_id TEXT PRIMARY KEY,
        channel TEXT NOT NULL,
        group_key TEXT,
        state TEXT NOT NULL,
        reason TEXT,
        attempts INTEGER NOT NULL,
        next_attempt_at INTEGER NOT NULL,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL,
        ts TEXT,
        thread_ts TEXT
    ) WITHOUT ROWID;
    CREATE INDEX deliveries_due ON deliveries (next_attempt_at) WHERE state IN ('pending', 'sending');
    CREATE INDEX deliveries_by_state ON deliveries (state, updated_at);

    CREATE TABLE threads (
        channel TEXT NOT NULL,
        anchor TEXT NOT NULL,
        channel_id TEXT NOT NULL,
        group_key TEXT NOT NULL,
        thread_ts TEXT NOT NULL,
        message_ts TEXT NOT NULL,
        rendered TEXT,
        checklist_posted INTEGER NOT NULL,
        PRIMARY KEY (channel, anchor)
    ) WITHOUT ROWID;

    CREATE TABLE leases (
        name TEXT PRIMARY KEY,
        holder TEXT NOT NULL,
        until INTEGER NOT NULL
    ) WITHOUT ROWID;
    "#,
    // 3: what people did: acknowledgements, checklist steps, outcomes, mutes.
    r#"
    CREATE TABLE acknowledgements (
        event_id TEXT NOT NULL,
        by_whom TEXT NOT NULL,
        at INTEGER NOT NULL,
        PRIMARY KEY (event_id, by_whom, at)
    ) WITHOUT ROWID;
    CREATE TABLE steps (
        event_id TEXT NOT NULL,
        step INTEGER NOT NULL,
        by_whom TEXT NOT NULL,
        at INTEGER NOT NULL,
        PRIMARY KEY (event_id, step)
    ) WITHOUT ROWID;
    CREATE TABLE outcomes (
        event_id TEXT PRIMARY KEY,
        at INTEGER NOT NULL,
        body TEXT NOT NULL
    ) WITHOUT ROWID;
    CREATE INDEX outcomes_by_time ON outcomes (at);
    CREATE TABLE mutes (
        clusters TEXT NOT NULL,
        until INTEGER NOT NULL,
        by_whom TEXT NOT NULL,
        at INTEGER NOT NULL
    );
    "#,
    // 4: what ElastiCache said of each cluster, with the time it was read.
    r#"
    CREATE TABLE cluster_facts (
        cluster_id TEXT NOT NULL,
        read_at INTEGER NOT NULL,
        body TEXT NOT NULL,
        PRIMARY KEY (cluster_id, read_at)
    ) WITHOUT ROWID;
    "#,
    // 5: one delivery per event and lane: Slack's (lane '') and each output's beside it (a
    // webhook, Amazon Q Developer), in the same outbox.
    r#"
    CREATE TABLE deliveries_by_lane (
        event_id TEXT NOT NULL,
        lane TEXT NOT NULL,
        channel TEXT NOT NULL,
        group_key TEXT,
        state TEXT NOT NULL,
        reason TEXT,
        attempts INTEGER NOT NULL,
        next_attempt_at INTEGER NOT NULL,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL,
        ts TEXT,
        thread_ts TEXT,
        PRIMARY KEY (event_id, lane)
    ) WITHOUT ROWID;
    INSERT INTO deliveries_by_lane
        SELECT event_id, '', channel, group_key, state, reason, attempts, next_attempt_at,
               created_at, updated_at, ts, thread_ts
        FROM deliveries;
    DROP TABLE deliveries;
    ALTER TABLE deliveries_by_lane RENAME TO deliveries;
    CREATE INDEX deliveries_due ON deliveries (next_attempt_at) WHERE state IN ('pending', 'sending');
    CREATE INDEX deliveries_by_state ON deliveries (state, updated_at);
    "#,
    // 6: searches by the account and Region an event comes from (a hub reads many of each):
    // the rows of one account, and of one Region in it, come out time-ordered as `seq` is.
    r#"
    CREATE INDEX events_by_place ON events (account_id, region) WHERE account_id IS NOT NULL;
    "#,
    // 7: an event whose id knows its account keeps the id it would have without it (`bare_id`),
    // so that the same report from a source that does not know the account (a DescribeEvents
    // file ingested by hand) is found to be stored. Rows stored before are not changed: their id
    // is that id already.
    r#"
    ALTER TABLE events ADD COLUMN bare_id TEXT;
    CREATE INDEX events_by_bare_id ON events (bare_id) WHERE bare_id IS NOT NULL;
    "#,
];

/// Why a database cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum SchemaError {
    /// The database was written by a newer cachewatch.
    #[error(
        "the database is at schema version {found}, newer than this cachewatch knows ({known}); upgrade cachewatch"
    )]
    TooNew {
        /// The database's version.
        found: i64,
        /// The newest version this build knows.
        known: i64,
    },
    /// SQLite refused.
    #[error(transparent)]
    Sqlite(#[from] rusqlite::Error),
}

/// Brings the database to the newest schema.
pub fn migrate(conn: &mut Connection) -> Result<(), SchemaError> {
    migrate_to(conn, MIGRATIONS.len())
}

/// Brings the database to schema version `version` (as the cachewatch that knew no later one
/// left it), or refuses one newer than this build knows.
pub(super) fn migrate_to(conn: &mut Connection, version: usize) -> Result<(), SchemaError> {
    let known = MIGRATIONS.len() as i64;
    let found: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    if found > known {
        return Err(SchemaError::TooNew { found, known });
    }
    for (index, sql) in MIGRATIONS[..version.min(MIGRATIONS.len())]
        .iter()
        .enumerate()
        .skip(found as usize)
    {
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        // Another process may have migrated while this one waited for the lock.
        let now: i64 = tx.query_row("PRAGMA user_version", [], |r| r.get(0))?;
        if now > index as i64 {
            continue;
        }
        tx.execute_batch(sql)?;
        tx.pragma_update(None, "user_version", index as i64 + 1)?;
        tx.commit()?;
    }
    Ok(())
}
