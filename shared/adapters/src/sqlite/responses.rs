//! What people did, in SQLite: acknowledgements, checklist steps, outcomes, mutes.

use cachewatch_core::history::response::{
    Acknowledgement, MuteRecord, Outcome, ResponseStore, StepDone,
};
use cachewatch_core::history::store::StoreError;
use cachewatch_core::model::event::EventId;
use chrono::{DateTime, Utc};
use rusqlite::params;

use super::rows::millis;
use super::{SqliteStore, store_error};

fn time(ms: i64) -> Result<DateTime<Utc>, StoreError> {
    DateTime::from_timestamp_millis(ms).ok_or_else(|| StoreError::Corrupt {
        what: "response",
        detail: format!("time {ms} is out of range"),
    })
}

impl ResponseStore for SqliteStore {
    async fn record_acknowledgement(&self, ack: &Acknowledgement) -> Result<(), StoreError> {
        self.lock()
            .prepare_cached("INSERT OR IGNORE INTO acknowledgements (event_id, by_whom, at) VALUES (?1, ?2, ?3)")
            .and_then(|mut s| s.execute(params![ack.event_id.as_str(), ack.by, millis(ack.at)]))
            .map_err(store_error("record acknowledgement"))?;
        Ok(())
    }

    async fn acknowledgements(
        &self,
        events: &[EventId],
    ) -> Result<Vec<Acknowledgement>, StoreError> {
        let conn = self.lock();
        let err = store_error("read acknowledgements");
        let mut stmt = conn
            .prepare_cached("SELECT by_whom, at FROM acknowledgements WHERE event_id = ?1")
            .map_err(&err)?;
        let mut found = Vec::new();
        for id in events {
            let rows = stmt
                .query_map([id.as_str()], |r| {
                    Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?))
                })
                .map_err(&err)?;
            for row in rows {
                let (by, at) = row.map_err(&err)?;
                found.push(Acknowledgement {
                    event_id: id.clone(),
                    by,
                    at: time(at)?,
                });
            }
        }
        found.sort_by(|a, b| (a.at, &a.by).cmp(&(b.at, &b.by)));
        Ok(found)
    }

    async fn record_step(&self, step: &StepDone) -> Result<(), StoreError> {
        self.lock()
            .prepare_cached(
                "INSERT OR IGNORE INTO steps (event_id, step, by_whom, at) VALUES (?1, ?2, ?3, ?4)",
            )
            .and_then(|mut s| {
                s.execute(params![
                    step.event_id.as_str(),
                    step.step,
                    step.by,
                    millis(step.at)
                ])
            })
            .map_err(store_error("record step"))?;
        Ok(())
    }

    async fn steps(&self, events: &[EventId]) -> Result<Vec<StepDone>, StoreError> {
        let conn = self.lock();
        let err = store_error("read steps");
        let mut stmt = conn
            .prepare_cached("SELECT step, by_whom, at FROM steps WHERE event_id = ?1")
            .map_err(&err)?;
        let mut found = Vec::new();
        for id in events {
            let rows = stmt
                .query_map([id.as_str()], |r| {
                    Ok((
                        r.get::<_, u32>(0)?,
                        r.get::<_, String>(1)?,
                        r.get::<_, i64>(2)?,
                    ))
                })
                .map_err(&err)?;
            for row in rows {
                let (step, by, at) = row.map_err(&err)?;
                found.push(StepDone {
                    event_id: id.clone(),
                    step,
                    by,
                    at: time(at)?,
                });
            }
        }
        found.sort_by_key(|s| (s.at, s.step));
        Ok(found)
    }

    async fn record_outcome(&self, outcome: &Outcome) -> Result<(), StoreError> {
        let body = serde_json::to_string(outcome).map_err(|e| StoreError::Failed {
            operation: "encode outcome",
            source: Box::new(e),
        })?;
        self.lock()
            .prepare_cached(
                "INSERT OR REPLACE INTO outcomes (event_id, at, body) VALUES (?1, ?2, ?3)",
            )
            .and_then(|mut s| {
                s.execute(params![outcome.event_id.as_str(), millis(outcome.at), body])
            })
            .map_err(store_error("record outcome"))?;
        Ok(())
    }

    async fn outcomes(&self, events: &[EventId]) -> Result<Vec<Outcome>, StoreError> {
        let conn = self.lock();
        let err = store_error("read outcomes");
        let mut stmt = conn
            .prepare_cached("SELECT body FROM outcomes WHERE event_id = ?1")
            .map_err(&err)?;
        let mut found = Vec::new();
        for id in events {
            let rows = stmt
                .query_map([id.as_str()], |r| r.get::<_, String>(0))
                .map_err(&err)?;
            for row in rows {
                found.push(read_outcome(&row.map_err(&err)?)?);
            }
        }
        Ok(found)
    }

    async fn outcomes_between(
        &self,
        start: DateTime<Utc>,
        end: DateTime<Utc>,
    ) -> Result<Vec<Outcome>, StoreError> {
        let conn = self.lock();
        let err = store_error("read outcomes");
        let mut stmt = conn
            .prepare_cached(
                "SELECT body FROM outcomes WHERE at >= ?1 AND at < ?2 ORDER BY at, event_id",
            )
            .map_err(&err)?;
        let rows = stmt
            .query_map(params![millis(start), millis(end)], |r| {
                r.get::<_, String>(0)
            })
            .map_err(&err)?;
        let mut found = Vec::new();
        for row in rows {
            found.push(read_outcome(&row.map_err(&err)?)?);
        }
        Ok(found)
    }

    async fn record_mute(&self, mute: &MuteRecord) -> Result<(), StoreError> {
        self.lock()
            .prepare_cached(
                "INSERT INTO mutes (clusters, until, by_whom, at) VALUES (?1, ?2, ?3, ?4)",
            )
            .and_then(|mut s| {
                s.execute(params![
                    mute.clusters,
                    millis(mute.until),
                    mute.by,
                    millis(mute.at)
                ])
            })
            .map_err(store_error("record mute"))?;
        Ok(())
    }

    async fn mutes(&self, now: DateTime<Utc>) -> Result<Vec<MuteRecord>, StoreError> {
        let conn = self.lock();
        let err = store_error("read mutes");
        let mut stmt = conn
            .prepare_cached(
                "SELECT clusters, until, by_whom, at FROM mutes WHERE until > ?1 ORDER BY at",
            )
            .map_err(&err)?;
        let rows = stmt
            .query_map([millis(now)], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, i64>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, i64>(3)?,
                ))
            })
            .map_err(&err)?;
        let mut found = Vec::new();
        for row in rows {
            let (clusters, until, by, at) = row.map_err(&err)?;
            found.push(MuteRecord {
                clusters,
                until: time(until)?,
                by,
                at: time(at)?,
            });
        }
        Ok(found)
    }
}

fn read_outcome(body: &str) -> Result<Outcome, StoreError> {
    serde_json::from_str(body).map_err(|e| StoreError::Corrupt {
        what: "outcome",
        detail: e.to_string(),
    })
}
