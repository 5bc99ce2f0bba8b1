//! [`ResponseStore`] on the table: what people did about maintenances.
//!
//! | item | `PK` | `SK` |
//! |---|---|---|
//! | acknowledgement | `R#{event id}` | `ACK#{time}#{who}` |
//! | checklist step | `R#{event id}` | `STEP#{step, 5 digits}` (the first time counts) |
//! | outcome | `R#{event id}` | `OUTCOME` (a later one replaces it); also on `by_key` as `OUTCOMES` / `{time}#{event id}` for the yearly log |
//! | mute | `MUTES` | `{time}#{who}#{pattern}` |

use cachewatch_core::history::response::{
    Acknowledgement, MuteRecord, Outcome, ResponseStore, StepDone,
};
use cachewatch_core::history::store::StoreError;
use cachewatch_core::model::event::EventId;
use chrono::{DateTime, Utc};
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::DynamoStore;
use super::error::{is_condition_failed, sdk_error};
use super::items::{Item, JSON, key, s, string};
use super::keys::time_key;
use super::paging::Pages;
use super::schema::{Index, TABLE_SCHEMA};

const MUTES: &str = "MUTES";
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
        let item = key(
            MUTES,
            format!("{}#{}#{}", time_key(mute.at), mute.by, mute.clusters),
        );
        self.put(with_json(item, mute)?, "record mute").await
    }

    async fn mutes(&self, now: DateTime<Utc>) -> Result<Vec<MuteRecord>, StoreError> {
        let request = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression("#pk = :pk")
            .expression_attribute_names("#pk", TABLE_SCHEMA.partition_key)
            .expression_attribute_values(":pk", s(MUTES))
            .consistent_read(true);
        let mut found = Vec::new();
        for item in Pages::new(request, "read mutes").all().await? {
            let mute: MuteRecord = from_json(&item)?;
            if mute.until > now {
                found.push(mute);
            }
        }
        Ok(found)
    }
}
