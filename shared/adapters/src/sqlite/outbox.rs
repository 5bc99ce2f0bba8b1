//! The outbox in SQLite: deliveries, threads, and the leases of senders.

use cachewatch_core::alerting::delivery::{
    Claim, ClaimRequest, Delivery, DeliveryState, DeliveryStore, LeaseRequest, OutboxWrite, Thread,
    unchanged,
};
use cachewatch_core::history::store::{StoreError, UnreadableLog};
use cachewatch_core::model::event::EventId;
use chrono::{DateTime, Utc};
use rusqlite::{Connection, OptionalExtension as _, Row, TransactionBehavior, params};

use super::rows::millis;
use super::{SqliteStore, store_error};
use crate::unreadable::skip;

const DELIVERY_COLUMNS: &str = "event_id, channel, group_key, state, reason, attempts, next_attempt_at, created_at, updated_at, ts, thread_ts";

fn time(ms: i64) -> Result<DateTime<Utc>, StoreError> {
    DateTime::from_timestamp_millis(ms).ok_or_else(|| StoreError::Corrupt {
        what: "delivery",
        detail: format!("time {ms} is out of range"),
    })
}

type RawDelivery = (
    String,
    String,
    Option<String>,
    String,
    Option<String>,
    u32,
    i64,
    i64,
    i64,
    Option<String>,
    Option<String>,
);

fn raw_delivery(r: &Row<'_>) -> rusqlite::Result<RawDelivery> {
    Ok((
        r.get(0)?,
        r.get(1)?,
        r.get(2)?,
        r.get(3)?,
        r.get(4)?,
        r.get(5)?,
        r.get(6)?,
        r.get(7)?,
        r.get(8)?,
        r.get(9)?,
        r.get(10)?,
    ))
}

fn delivery(raw: RawDelivery) -> Result<Delivery, StoreError> {
    let corrupt = |detail: String| StoreError::Corrupt {
        what: "delivery",
        detail,
    };
    let (
        event_id,
        channel,
        group_key,
        state,
        reason,
        attempts,
        next,
        created,
        updated,
        ts,
        thread_ts,
    ) = raw;
    Ok(Delivery {
        event_id: EventId::parse(&event_id)
            .ok_or_else(|| corrupt(format!("event id {event_id:?}")))?,
        channel,
        group_key,
        state: DeliveryState::parse(&state).ok_or_else(|| corrupt(format!("state {state:?}")))?,
        reason,
        attempts,
        next_attempt_at: time(next)?,
        created_at: time(created)?,
        updated_at: time(updated)?,
        ts,
        thread_ts,
    })
}

/// Runs a query of [`DELIVERY_COLUMNS`]; a row that does not read as a delivery is skipped and
/// noted in `unreadable`, so that one damaged delivery does not stop the sending of the others.
fn query_deliveries(
    conn: &Connection,
    unreadable: &UnreadableLog,
    sql: &str,
    params: impl rusqlite::Params,
) -> Result<Vec<Delivery>, StoreError> {
    let err = store_error("read deliveries");
    let mut stmt = conn.prepare_cached(sql).map_err(&err)?;
    let rows = stmt.query_map(params, raw_delivery).map_err(&err)?;
    let mut found = Vec::new();
    for row in rows {
        let raw = row.map_err(&err)?;
        let key = raw.0.clone();
        if let Some(d) = skip(unreadable, delivery(raw), || key)? {
            found.push(d);
        }
    }
    Ok(found)
}

impl SqliteStore {
    /// The deliveries whose next attempt is due at `now` and whose state matches `states` (an
    /// SQL condition), oldest first, at most `limit`.
    fn due_in(
        &self,
        states: &str,
        now: DateTime<Utc>,
        limit: usize,
    ) -> Result<Vec<Delivery>, StoreError> {
        self.read_deliveries(
            &format!(
                "SELECT {DELIVERY_COLUMNS} FROM deliveries
                 WHERE {states} AND next_attempt_at <= ?1
                 ORDER BY created_at, event_id LIMIT ?2"
            ),
            params![millis(now), limit as i64],
        )
    }

    /// The deliveries `sql` selects with `params` (see [`query_deliveries`]), under the
    /// connection's lock for this one query.
    fn read_deliveries(
        &self,
        sql: &str,
        params: impl rusqlite::Params,
    ) -> Result<Vec<Delivery>, StoreError> {
        query_deliveries(&self.lock(), &self.unreadable, sql, params)
    }
}

impl DeliveryStore for SqliteStore {
    async fn record_deliveries(&self, deliveries: &[Delivery]) -> Result<Vec<bool>, StoreError> {
        let mut conn = self.lock();
        let err = store_error("record deliveries");
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(&err)?;
        let mut recorded = Vec::with_capacity(deliveries.len());
        {
            let mut insert = tx
                .prepare_cached(&format!(
                    "INSERT INTO deliveries ({DELIVERY_COLUMNS}, lane) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)
                     ON CONFLICT (event_id, lane) DO NOTHING"
                ))
                .map_err(&err)?;
            for d in deliveries {
                let changed = insert.execute(delivery_row(d)).map_err(&err)?;
                recorded.push(changed == 1);
            }
        }
        tx.commit().map_err(&err)?;
        Ok(recorded)
    }

    async fn deliveries(&self, events: &[EventId]) -> Result<Vec<Delivery>, StoreError> {
        let conn = self.lock();
        let sql =
            format!("SELECT {DELIVERY_COLUMNS} FROM deliveries WHERE event_id = ?1 ORDER BY lane");
        let mut found = Vec::new();
        for id in events {
            found.extend(query_deliveries(
                &conn,
                &self.unreadable,
                &sql,
                [id.as_str()],
            )?);
        }
        Ok(found)
    }

    async fn due_deliveries(
        &self,
        now: DateTime<Utc>,
        limit: usize,
    ) -> Result<Vec<Delivery>, StoreError> {
        self.due_in("state IN ('pending', 'sending')", now, limit)
    }

    async fn pending_deliveries(
        &self,
        now: DateTime<Utc>,
        limit: usize,
    ) -> Result<Vec<Delivery>, StoreError> {
        self.due_in("state = 'pending'", now, limit)
    }

    async fn deliveries_in(
        &self,
        state: DeliveryState,
        limit: usize,
    ) -> Result<Vec<Delivery>, StoreError> {
        self.read_deliveries(
            &format!(
                "SELECT {DELIVERY_COLUMNS} FROM deliveries WHERE state = ?1 ORDER BY updated_at DESC, event_id DESC LIMIT ?2"
            ),
            params![state.as_str(), limit as i64],
        )
    }

    async fn save_delivery(&self, d: &Delivery) -> Result<(), StoreError> {
        write_delivery(&self.lock(), d)
    }

    async fn threads(&self, channel: &str, anchors: &[EventId]) -> Result<Vec<Thread>, StoreError> {
        let conn = self.lock();
        let err = store_error("read threads");
        let mut stmt = conn
            .prepare_cached(
                "SELECT channel, anchor, group_key, thread_ts, message_ts, rendered, checklist_posted, channel_id
                 FROM threads WHERE channel = ?1 AND anchor = ?2",
            )
            .map_err(&err)?;
        let mut found = Vec::new();
        for anchor in anchors {
            let rows = stmt
                .query_map(params![channel, anchor.as_str()], |r| {
                    Ok((
                        r.get::<_, String>(0)?,
                        r.get::<_, String>(1)?,
                        r.get::<_, String>(2)?,
                        r.get::<_, String>(3)?,
                        r.get::<_, String>(4)?,
                        r.get::<_, Option<String>>(5)?,
                        r.get::<_, bool>(6)?,
                        r.get::<_, String>(7)?,
                    ))
                })
                .map_err(&err)?;
            for row in rows {
                let (
                    channel,
                    anchor,
                    group_key,
                    thread_ts,
                    message_ts,
                    rendered,
                    checklist_posted,
                    channel_id,
                ) = row.map_err(&err)?;
                found.push(Thread {
                    channel,
                    channel_id,
                    anchor: EventId::parse(&anchor).ok_or_else(|| StoreError::Corrupt {
                        what: "thread",
                        detail: format!("anchor {anchor:?}"),
                    })?,
                    group_key,
                    thread_ts,
                    message_ts,
                    rendered,
                    checklist_posted,
                });
            }
        }
        Ok(found)
    }

    async fn save_thread(&self, t: &Thread) -> Result<(), StoreError> {
        write_thread(&self.lock(), t)
    }

    async fn acquire_lease(&self, lease: LeaseRequest<'_>) -> Result<bool, StoreError> {
        take_lease(&self.lock(), &lease).map_err(store_error("acquire lease"))
    }

    async fn lease(&self, name: &str) -> Result<Option<(String, DateTime<Utc>)>, StoreError> {
        let conn = self.lock();
        let row = conn
            .prepare_cached("SELECT holder, until FROM leases WHERE name = ?1")
            .and_then(|mut s| {
                s.query_row(params![name], |r| {
                    Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?))
                })
                .optional()
            })
            .map_err(store_error("read lease"))?;
        Ok(row.and_then(|(holder, until)| {
            DateTime::from_timestamp_millis(until).map(|until| (holder, until))
        }))
    }

    async fn release_lease(&self, name: &str, holder: &str) -> Result<(), StoreError> {
        release(&self.lock(), name, holder)
    }

    async fn claim(&self, claim: ClaimRequest<'_>) -> Result<Claim, StoreError> {
        let (lease, was, becomes) = (claim.lease, claim.was, claim.becomes);
        let mut conn = self.lock();
        let err = store_error("claim delivery");
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(&err)?;
        // Taken inside the transaction: dropping it without a commit (busy or changed) rolls
        // the lease back too.
        if !take_lease(&tx, &lease).map_err(&err)? {
            return Ok(Claim::Busy);
        }
        let stored = query_deliveries(
            &tx,
            &self.unreadable,
            &format!("SELECT {DELIVERY_COLUMNS} FROM deliveries WHERE event_id = ?1 AND lane = ?2"),
            params![becomes.event_id.as_str(), becomes.lane()],
        )?;
        if !unchanged(stored.first(), was) {
            return Ok(Claim::Changed);
        }
        write_delivery(&tx, becomes)?;
        tx.commit().map_err(&err)?;
        Ok(Claim::Taken)
    }

    async fn save_together(&self, writes: &[OutboxWrite<'_>]) -> Result<(), StoreError> {
        let mut conn = self.lock();
        let err = store_error("save outbox");
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(&err)?;
        for w in writes {
            match *w {
                OutboxWrite::Delivery(d) => write_delivery(&tx, d)?,
                OutboxWrite::Thread(t) => write_thread(&tx, t)?,
                OutboxWrite::Release { name, holder } => release(&tx, name, holder)?,
            }
        }
        tx.commit().map_err(&err)?;
        Ok(())
    }
}

fn write_delivery(conn: &Connection, d: &Delivery) -> Result<(), StoreError> {
    conn.prepare_cached(&format!(
        "INSERT OR REPLACE INTO deliveries ({DELIVERY_COLUMNS}, lane) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)"
    ))
    .and_then(|mut s| s.execute(delivery_row(d)))
    .map_err(store_error("save delivery"))?;
    Ok(())
}

fn write_thread(conn: &Connection, t: &Thread) -> Result<(), StoreError> {
    conn.prepare_cached(
        "INSERT OR REPLACE INTO threads
             (channel, anchor, group_key, thread_ts, message_ts, rendered, checklist_posted, channel_id)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    )
    .and_then(|mut s| {
        s.execute(params![
            t.channel,
            t.anchor.as_str(),
            t.group_key,
            t.thread_ts,
            t.message_ts,
            t.rendered,
            t.checklist_posted,
            t.channel_id
        ])
    })
    .map_err(store_error("save thread"))?;
    Ok(())
}

/// Takes `lease` if it is free (or already its holder's) at `lease.now`: whether it did.
fn take_lease(conn: &Connection, lease: &LeaseRequest<'_>) -> rusqlite::Result<bool> {
    let changed = conn
        .prepare_cached(
            "INSERT INTO leases (name, holder, until) VALUES (?1, ?2, ?3)
             ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, until = excluded.until
             WHERE leases.until <= ?4 OR leases.holder = excluded.holder",
        )?
        .execute(params![
            lease.name,
            lease.holder,
            millis(lease.until),
            millis(lease.now)
        ])?;
    Ok(changed == 1)
}

fn release(conn: &Connection, name: &str, holder: &str) -> Result<(), StoreError> {
    conn.prepare_cached("DELETE FROM leases WHERE name = ?1 AND holder = ?2")
        .and_then(|mut s| s.execute(params![name, holder]))
        .map_err(store_error("release lease"))?;
    Ok(())
}

/// A delivery's columns in the order of `DELIVERY_COLUMNS`, then its lane.
fn delivery_row(d: &Delivery) -> impl rusqlite::Params + '_ {
    (
        d.event_id.as_str(),
        &d.channel,
        &d.group_key,
        d.state.as_str(),
        &d.reason,
        d.attempts,
        millis(d.next_attempt_at),
        millis(d.created_at),
        millis(d.updated_at),
        &d.ts,
        &d.thread_ts,
        d.lane(),
    )
}
