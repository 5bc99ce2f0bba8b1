//! [`FactsStore`] in SQLite: every reading of a cluster's facts, with the time it was read.

use cachewatch_core::cluster::kept::{FactsRecord, FactsStore};
use cachewatch_core::history::store::StoreError;
use rusqlite::{OptionalExtension, params};

use super::rows::millis;
use super::{SqliteStore, store_error};

impl FactsStore for SqliteStore {
    async fn record_facts(&self, record: &FactsRecord) -> Result<(), StoreError> {
        let body = serde_json::to_string(record).map_err(|e| StoreError::Failed {
            operation: "encode facts",
            source: Box::new(e),
        })?;
        self.lock()
            .prepare_cached(
                "INSERT OR REPLACE INTO cluster_facts (cluster_id, read_at, body) VALUES (?1, ?2, ?3)",
            )
            .and_then(|mut s| {
                s.execute(params![record.cluster_id, millis(record.read_at), body])
            })
            .map_err(store_error("record facts"))?;
        Ok(())
    }

    async fn latest_facts(&self, cluster_id: &str) -> Result<Option<FactsRecord>, StoreError> {
        let body: Option<String> = self
            .lock()
            .prepare_cached(
                "SELECT body FROM cluster_facts WHERE cluster_id = ?1 ORDER BY read_at DESC LIMIT 1",
            )
            .and_then(|mut s| s.query_row([cluster_id], |r| r.get(0)).optional())
            .map_err(store_error("read facts"))?;
        body.map(|body| {
            serde_json::from_str(&body).map_err(|e| StoreError::Corrupt {
                what: "cluster facts",
                detail: e.to_string(),
            })
        })
        .transpose()
    }
}
