//! [`ResponseStore`] on the table: what people did about maintenances.
//!
//! | item | `PK` | `SK` |
//! |---|---|---|
//! | acknowledgement | `R#{event id}` | `ACK#{time}#{who}` |
//! | checklist step | `R#{event id}` | `STEP#{step, 5 digits}` (the first time counts) |
//! | outcome | `R#{event id}` | `OUTCOME` (a later one replaces it); also on `by_key` as `OUTCOMES` / `{time}#{event id}` for the yearly log |
//! | mute | `MUTES` | `{time}#{who}#{pattern}` |
//! | the mutes in force | `MUTES` | `NOW` (every mute not over when the last one was set, and a version) |
//!
//! The mutes in force are one item so that a notification's alert reads them with its event's
//! keyed read, not with a query of the partition ([`DynamoStore::keep_prefetched_mutes`]). Each
//! mute recorded rewrites it from the partition, on the condition that nobody rewrote it since.
//! A table whose mutes were set before that item existed has them read from the partition once,
//! and the item written from them.

use cachewatch_core::history::response::{
    Acknowledgement, MuteRecord, Outcome, ResponseStore, StepDone,
};
use cachewatch_core::history::store::StoreError;
use cachewatch_core::model::event::EventId;
use std::time::{Duration as StdDuration, Instant};

use aws_sdk_dynamodb::types::{AttributeValue, Put, TransactWriteItem};
use chrono::{DateTime, Utc};
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::DynamoStore;
use super::error::{
    is_condition_failed, is_transaction_condition_failed, sdk_error, transaction_error,
};
use super::items::{Item, JSON, key, s, string};
use super::keys::time_key;
use super::paging::Pages;
use super::schema::{Index, TABLE_SCHEMA};

const MUTES: &str = "MUTES";
/// The sort key of the mutes in force (after every `{time}#…` of a mute).
const MUTES_NOW: &str = "NOW";
/// The version of the mutes in force: each rewrite adds one.
const VERSION: &str = "version";
/// How many times a mute is recorded again when another was recorded at the same moment.
const MUTE_ATTEMPTS: usize = 5;
/// How long the mutes read with a notification's events stand for the mutes now: the handling of
/// that notification, not the next one.
const PREFETCH_FRESH: StdDuration = StdDuration::from_secs(5);

/// The key of the mutes in force.
pub(super) fn mutes_now_key() -> (String, String) {
    (MUTES.to_owned(), MUTES_NOW.to_owned())
}

/// The mutes in force read with a notification's events (the item, or `None` when there is
/// none), and when.
#[derive(Debug)]
pub(super) struct PrefetchedMutes {
    at: Instant,
    item: Option<Item>,
}
const OUTCOMES: &str = "OUTCOMES";

fn responses_pk(event: &EventId) -> String {
    format!("R#{event}")
}

fn with_json<T: Serialize>(mut item: Item, value: &T) -> Result<Item, StoreError> {
    let json = serde_json::to_string(value).map_err(|e| StoreError::Failed {
        operation: "encode response",
        source: Box::new(e),
    })?;
    item.insert(JSON.to_owned(), s(json));
    Ok(item)
}

fn from_json<T: DeserializeOwned>(item: &Item) -> Result<T, StoreError> {
    let json = string(item, JSON).unwrap_or_default();
    serde_json::from_str(json).map_err(|e| StoreError::Corrupt {
        what: "response",
        detail: e.to_string(),
    })
}

impl DynamoStore {
    /// The items of `event` whose sort key starts with `prefix`.
    async fn responses_of(&self, event: &EventId, prefix: &str) -> Result<Vec<Item>, StoreError> {
        let request = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression("#pk = :pk AND begins_with(#sk, :prefix)")
            .expression_attribute_names("#pk", TABLE_SCHEMA.partition_key)
            .expression_attribute_names("#sk", TABLE_SCHEMA.sort_key)
            .expression_attribute_values(":pk", s(responses_pk(event)))
            .expression_attribute_values(":prefix", s(prefix))
            .consistent_read(true);
        Pages::new(request, "read responses").all().await
    }
}

impl ResponseStore for DynamoStore {
    async fn record_acknowledgement(&self, ack: &Acknowledgement) -> Result<(), StoreError> {
        let item = key(
            responses_pk(&ack.event_id),
            format!("ACK#{}#{}", time_key(ack.at), ack.by),
        );
        self.put(with_json(item, ack)?, "record acknowledgement")
            .await
    }

    async fn acknowledgements(
        &self,
        events: &[EventId],
    ) -> Result<Vec<Acknowledgement>, StoreError> {
        let mut found = Vec::new();
        for id in events {
            for item in self.responses_of(id, "ACK#").await? {
                found.push(from_json::<Acknowledgement>(&item)?);
            }
        }
        found.sort_by(|a, b| (a.at, &a.by).cmp(&(b.at, &b.by)));
        Ok(found)
    }

    async fn record_step(&self, step: &StepDone) -> Result<(), StoreError> {
        let item = key(
            responses_pk(&step.event_id),
            format!("STEP#{:05}", step.step),
        );
        // Only the first time a step is done counts: a conditional put on its own key.
        let item = with_json(item, step)?;
        let put = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression("attribute_not_exists(#sk)")
            .expression_attribute_names("#sk", TABLE_SCHEMA.sort_key);
        match put.send().await {
            Ok(_) => Ok(()),
            Err(e) if is_condition_failed(&e) => Ok(()),
            Err(e) => Err(sdk_error("record step", e)),
        }
    }

    async fn steps(&self, events: &[EventId]) -> Result<Vec<StepDone>, StoreError> {
        let mut found = Vec::new();
        for id in events {
            for item in self.responses_of(id, "STEP#").await? {
                found.push(from_json::<StepDone>(&item)?);
            }
        }
        found.sort_by_key(|s| (s.at, s.step));
        Ok(found)
    }

    async fn record_outcome(&self, outcome: &Outcome) -> Result<(), StoreError> {
        let mut item = with_json(key(responses_pk(&outcome.event_id), "OUTCOME"), outcome)?;
        item.insert(Index::Key.partition_key().to_owned(), s(OUTCOMES));
        item.insert(
            Index::Key.sort_key().to_owned(),
            s(format!("{}#{}", time_key(outcome.at), outcome.event_id)),
        );
        self.put(item, "record outcome").await
    }

    async fn outcomes(&self, events: &[EventId]) -> Result<Vec<Outcome>, StoreError> {
        let mut found = Vec::new();
        for id in events {
            for item in self.responses_of(id, "OUTCOME").await? {
                found.push(from_json::<Outcome>(&item)?);
            }
        }
        Ok(found)
    }

    async fn outcomes_between(
        &self,
        start: DateTime<Utc>,
        end: DateTime<Utc>,
    ) -> Result<Vec<Outcome>, StoreError> {
        let request = self
            .query()
            .index_name(Index::Key.name())
            .key_condition_expression("#pk = :pk AND #sk BETWEEN :from AND :to")
            .expression_attribute_names("#pk", Index::Key.partition_key())
            .expression_attribute_names("#sk", Index::Key.sort_key())
            .expression_attribute_values(":pk", s(OUTCOMES))
            .expression_attribute_values(":from", s(time_key(start)))
            .expression_attribute_values(":to", s(time_key(end)));
        let mut found = Vec::new();
        for item in Pages::new(request, "read outcomes").all().await? {
            let outcome: Outcome = from_json(&item)?;
            if outcome.at >= start && outcome.at < end {
                found.push(outcome);
            }
        }
        found.sort_by(|a, b| (a.at, &a.event_id).cmp(&(b.at, &b.event_id)));
        Ok(found)
    }

    async fn record_mute(&self, mute: &MuteRecord) -> Result<(), StoreError> {
        self.keep_prefetched_mutes(None);
        let item = key(
            MUTES,
            format!("{}#{}#{}", time_key(mute.at), mute.by, mute.clusters),
        );
        let item = with_json(item, mute)?;
        for _ in 0..MUTE_ATTEMPTS {
            let (mut in_force, version) = self.mutes_recorded().await?;
            in_force.retain(|m| m.until > mute.at && m != mute);
            in_force.push(mute.clone());
            if self
                .write_mutes_now(&in_force, version, Some(item.clone()))
                .await?
            {
                return Ok(());
            }
        }
        Err(StoreError::Unavailable {
            operation: "record mute",
            source: "other mutes were recorded at each attempt".into(),
        })
    }

    async fn mutes(&self, now: DateTime<Utc>) -> Result<Vec<MuteRecord>, StoreError> {
        let item = match self.take_prefetched_mutes() {
            Some(item) => item,
            None => self.mutes_now_item().await?,
        };
        let all: Vec<MuteRecord> = match item {
            Some(item) => from_json(&item)?,
            None => {
                // Set before the mutes in force were one item: kept as one from now on.
                let (mut recorded, version) = self.mutes_recorded().await?;
                recorded.retain(|m| m.until > now);
                self.write_mutes_now(&recorded, version, None).await?;
                recorded
            }
        };
        Ok(all.into_iter().filter(|m| m.until > now).collect())
    }
}

impl DynamoStore {
    /// Keeps what a keyed read of a notification's events found of the mutes in force (`None`:
    /// they were not read), for [`ResponseStore::mutes`] to use while it is fresh.
    pub(super) fn keep_prefetched_mutes(&self, item: Option<Option<Item>>) {
        let mut kept = self
            .prefetched_mutes
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        *kept = item.map(|item| PrefetchedMutes {
            at: Instant::now(),
            item,
        });
    }

    /// The mutes in force read with a notification's events, once, if read a moment ago.
    fn take_prefetched_mutes(&self) -> Option<Option<Item>> {
        self.prefetched_mutes
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .take()
            .filter(|p| p.at.elapsed() <= PREFETCH_FRESH)
            .map(|p| p.item)
    }

    /// The item of the mutes in force, read consistently.
    async fn mutes_now_item(&self) -> Result<Option<Item>, StoreError> {
        let (pk, sk) = mutes_now_key();
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(key(pk, sk)))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| sdk_error("read mutes", e))?;
        Ok(out.item)
    }

    /// Every mute recorded (over or not), and the version of the mutes in force (`None` when
    /// they are not written yet), read consistently from the partition.
    async fn mutes_recorded(&self) -> Result<(Vec<MuteRecord>, Option<u64>), StoreError> {
        let request = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression("#pk = :pk")
            .expression_attribute_names("#pk", TABLE_SCHEMA.partition_key)
            .expression_attribute_values(":pk", s(MUTES))
            .consistent_read(true);
        let (mut recorded, mut version) = (Vec::new(), None);
        for item in Pages::new(request, "read mutes").all().await? {
            if string(&item, TABLE_SCHEMA.sort_key) == Some(MUTES_NOW) {
                version = Some(
                    item.get(VERSION)
                        .and_then(|v| v.as_n().ok())
                        .and_then(|n| n.parse().ok())
                        .unwrap_or(0),
                );
            } else {
                recorded.push(from_json(&item)?);
            }
        }
        Ok((recorded, version))
    }

    /// Writes the mutes in force as `in_force`, with the mute `recorded` if given, on the
    /// condition that they are still at `version`; whether they were written.
    async fn write_mutes_now(
        &self,
        in_force: &[MuteRecord],
        version: Option<u64>,
        recorded: Option<Item>,
    ) -> Result<bool, StoreError> {
        const OPERATION: &str = "record mute";
        let build_error = |e| StoreError::Failed {
            operation: OPERATION,
            source: Box::new(e),
        };
        let (pk, sk) = mutes_now_key();
        let mut item = with_json(key(pk, sk), &in_force)?;
        let next = version.map_or(0, |v| v + 1);
        item.insert(VERSION.to_owned(), AttributeValue::N(next.to_string()));
        let now = Put::builder().table_name(&self.table).set_item(Some(item));
        let now = match version {
            Some(v) => now
                .condition_expression("#v = :v")
                .expression_attribute_names("#v", VERSION)
                .expression_attribute_values(":v", AttributeValue::N(v.to_string())),
            None => now
                .condition_expression("attribute_not_exists(#pk)")
                .expression_attribute_names("#pk", TABLE_SCHEMA.partition_key),
        }
        .build()
        .map_err(build_error)?;
        let mut request = self
            .client
            .transact_write_items()
            .transact_items(TransactWriteItem::builder().put(now).build());
        if let Some(recorded) = recorded {
            let put = Put::builder()
                .table_name(&self.table)
                .set_item(Some(recorded))
                .build()
                .map_err(build_error)?;
            request = request.transact_items(TransactWriteItem::builder().put(put).build());
        }
        match request.send().await {
            Ok(_) => Ok(true),
            Err(err) if is_transaction_condition_failed(&err) => Ok(false),
            Err(err) => Err(transaction_error(OPERATION, err)),
        }
    }
}
