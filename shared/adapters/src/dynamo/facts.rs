//! [`FactsStore`] on the table: every reading of a cluster's facts, with the time it was read.
//!
//! | item | `PK` | `SK` |
//! |---|---|---|
//! | facts | `F#{cluster id}` | `{read_at}` (the latest is the last in key order) |

use cachewatch_core::cluster::kept::{FactsRecord, FactsStore};
use cachewatch_core::history::store::StoreError;

use super::DynamoStore;
use super::error::sdk_error;
use super::items::{JSON, key, s, string};
use super::keys::time_key;
use super::schema::TABLE_SCHEMA;

fn facts_pk(cluster_id: &str) -> String {
    format!("F#{cluster_id}")
}

impl FactsStore for DynamoStore {
    async fn record_facts(&self, record: &FactsRecord) -> Result<(), StoreError> {
        let json = serde_json::to_string(record).map_err(|e| StoreError::Failed {
            operation: "encode facts",
            source: Box::new(e),
        })?;
        let mut item = key(facts_pk(&record.cluster_id), time_key(record.read_at));
        item.insert(JSON.to_owned(), s(json));
        self.put(item, "record facts").await
    }

    async fn latest_facts(&self, cluster_id: &str) -> Result<Option<FactsRecord>, StoreError> {
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
        answer
            .items()
            .first()
            .map(|item| {
                serde_json::from_str(string(item, JSON).unwrap_or_default()).map_err(|e| {
                    StoreError::Corrupt {
                        what: "cluster facts",
                        detail: e.to_string(),
                    }
                })
            })
            .transpose()
    }
}
