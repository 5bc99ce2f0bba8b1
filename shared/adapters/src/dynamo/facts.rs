//! [`FactsStore`] on the table: the latest reading of a cluster's facts, with the time it was
//! read.
//!
//! | item | `PK` | `SK` |
//! |---|---|---|
//! | facts | `F#{cluster id}` | `LATEST` (a reading replaces it unless it was read earlier) |
//!
//! Tables written before kept every reading under its time (`{read_at}`); `LATEST` sorts after
//! every time, so the partition's last item is the latest reading in either layout. A
//! notification's alert reads `LATEST` with its event's keyed read
//! ([`DynamoStore::keep_prefetched_facts`]), for when the lookup finds nothing.

use std::collections::HashMap;
use std::time::{Duration as StdDuration, Instant};

use aws_sdk_dynamodb::types::AttributeValue;
use cachewatch_core::cluster::kept::{FactsRecord, FactsStore};
use cachewatch_core::history::store::StoreError;

use super::DynamoStore;
use super::error::{is_condition_failed, sdk_error};
use super::items::{Item, JSON, key, s, string};
use super::schema::TABLE_SCHEMA;

/// The sort key of a cluster's latest reading.
const LATEST: &str = "LATEST";
/// When the latest reading was read, in milliseconds: a reading read earlier does not replace it.
const READ_AT: &str = "read_at";
/// How long the facts read with a notification's events stand for the facts kept: the handling
/// of that notification, not the next one.
const PREFETCH_FRESH: StdDuration = StdDuration::from_secs(5);

fn facts_pk(cluster_id: &str) -> String {
    format!("F#{cluster_id}")
}

/// The key of the latest reading kept for `cluster_id`.
pub(super) fn latest_key(cluster_id: &str) -> (String, String) {
    (facts_pk(cluster_id), LATEST.to_owned())
}

/// The latest readings read with a notification's events (the item, or `None` when there is
/// none), by cluster id, and when.
#[derive(Debug)]
pub(super) struct PrefetchedFacts {
    at: Instant,
    items: HashMap<String, Option<Item>>,
}

fn record_of(item: &Item) -> Result<FactsRecord, StoreError> {
    serde_json::from_str(string(item, JSON).unwrap_or_default()).map_err(|e| StoreError::Corrupt {
        what: "cluster facts",
        detail: e.to_string(),
    })
}

impl DynamoStore {
    /// Keeps what a keyed read of a notification's events found of the facts kept, by cluster
    /// id, for [`FactsStore::latest_facts`] to use while it is fresh (nothing: none were read).
    pub(super) fn keep_prefetched_facts(&self, items: HashMap<String, Option<Item>>) {
        let mut kept = self
            .prefetched_facts
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        *kept = (!items.is_empty()).then(|| PrefetchedFacts {
            at: Instant::now(),
            items,
        });
    }

    /// The latest reading of `cluster_id` read with a notification's events, once, if read a
    /// moment ago.
    fn take_prefetched_facts(&self, cluster_id: &str) -> Option<Option<Item>> {
        let mut kept = self
            .prefetched_facts
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let fresh = kept.as_mut().filter(|p| p.at.elapsed() <= PREFETCH_FRESH)?;
        fresh.items.remove(cluster_id)
    }
}

impl FactsStore for DynamoStore {
    async fn record_facts(&self, record: &FactsRecord) -> Result<(), StoreError> {
        let _stale = self.take_prefetched_facts(&record.cluster_id);
        let json = serde_json::to_string(record).map_err(|e| StoreError::Failed {
            operation: "encode facts",
            source: Box::new(e),
        })?;
        let (pk, sk) = latest_key(&record.cluster_id);
        let mut item = key(pk, sk);
        item.insert(JSON.to_owned(), s(json));
        let read_at = AttributeValue::N(record.read_at.timestamp_millis().to_string());
        item.insert(READ_AT.to_owned(), read_at.clone());
        let put = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression("attribute_not_exists(#pk) OR #read_at <= :read_at")
            .expression_attribute_names("#pk", TABLE_SCHEMA.partition_key)
            .expression_attribute_names("#read_at", READ_AT)
            .expression_attribute_values(":read_at", read_at)
            .send()
            .await;
        match put {
            Ok(_) => Ok(()),
            // A later reading is kept already.
            Err(err) if is_condition_failed(&err) => Ok(()),
            Err(err) => Err(sdk_error("record facts", err)),
        }
    }

    async fn latest_facts(&self, cluster_id: &str) -> Result<Option<FactsRecord>, StoreError> {
        if let Some(item) = self.take_prefetched_facts(cluster_id) {
            return item.as_ref().map(record_of).transpose();
        }
        let answer = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression("#pk = :pk")
            .expression_attribute_names("#pk", TABLE_SCHEMA.partition_key)
            .expression_attribute_values(":pk", s(facts_pk(cluster_id)))
            .scan_index_forward(false)
            .limit(1)
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| sdk_error("read facts", e))?;
        answer.items().first().map(record_of).transpose()
    }
}
