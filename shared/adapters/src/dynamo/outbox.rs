//! [`DeliveryStore`] on the table: the outbox of alerts, the threads they went to, and the
//! leases of senders.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;
use cachewatch_core::alerting::delivery::{Delivery, DeliveryState, DeliveryStore, Thread};
use cachewatch_core::alerting::outbound::Output;
use cachewatch_core::history::store::StoreError;
use cachewatch_core::model::event::EventId;
use chrono::{DateTime, Utc};

use super::DynamoStore;
use super::error::{is_condition_failed, sdk_error};
use super::items::{self, Item, s};
use super::keys;
use super::paging::{Pages, batch_get};
use super::schema::{Index, TABLE_SCHEMA};
use crate::unreadable::skip;

impl DynamoStore {
    /// The events of the deliveries the index has in `state` with a next attempt at or before
    /// `due_by` (all of them when `None`). The index lags the table by a moment: callers read the
    /// deliveries themselves by key.
    async fn indexed_deliveries(
        &self,
        state: DeliveryState,
        due_by: Option<DateTime<Utc>>,
    ) -> Result<Vec<(EventId, &'static str)>, StoreError> {
        let mut request = self
            .query()
            .index_name(Index::Key.name())
            .expression_attribute_names("#pk", Index::Key.partition_key())
            .expression_attribute_values(":pk", s(keys::delivery_state_partition(state)));
        request = match due_by {
            Some(now) => request
                .key_condition_expression("#pk = :pk AND #sk <= :due")
                .expression_attribute_names("#sk", Index::Key.sort_key())
                .expression_attribute_values(
                    ":due",
                    s(format!("{}{}", keys::time_key(now), keys::AFTER_IDS)),
                ),
            None => request.key_condition_expression("#pk = :pk"),
        };
        Pages::new(request, "read deliveries")
            .all()
            .await?
            .iter()
            .filter_map(|item| {
                skip(&self.unreadable, items::delivery(item), || {
                    items::item_name(item)
                })
                .transpose()
            })
            .map(|d| d.map(|d| (d.event_id.clone(), d.lane())))
            .collect()
    }

    /// The deliveries at these keys (event and lane), those that exist, in the keys' order.
    async fn deliveries_at(
        &self,
        at: &[(EventId, &'static str)],
    ) -> Result<Vec<Delivery>, StoreError> {
        let key =
            |(id, lane): &(EventId, &'static str)| (keys::delivery_pk(id), keys::delivery_sk(lane));
        let found = batch_get(
            &self.client,
            &self.table,
            at.iter().map(key),
            "read deliveries",
        )
        .await?;
        at.iter()
            .filter_map(|k| found.get(&key(k)))
            .filter_map(|item| {
                skip(&self.unreadable, items::delivery(item), || {
                    items::item_name(item)
                })
                .transpose()
            })
            .collect()
    }

    /// Puts `item` unless an item with its key exists; whether it was put.
    async fn put_new(&self, item: Item, operation: &'static str) -> Result<bool, StoreError> {
        let put = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression("attribute_not_exists(#pk)")
            .expression_attribute_names("#pk", TABLE_SCHEMA.partition_key)
            .send()
            .await;
        match put {
            Ok(_) => Ok(true),
            Err(err) if is_condition_failed(&err) => Ok(false),
            Err(err) => Err(sdk_error(operation, err)),
        }
    }
}

impl DeliveryStore for DynamoStore {
    async fn record_deliveries(&self, deliveries: &[Delivery]) -> Result<Vec<bool>, StoreError> {
        let mut recorded = Vec::with_capacity(deliveries.len());
        for d in deliveries {
            recorded.push(
                self.put_new(items::delivery_item(d)?, "record delivery")
                    .await?,
            );
        }
        Ok(recorded)
    }

    async fn deliveries(&self, events: &[EventId]) -> Result<Vec<Delivery>, StoreError> {
        // Every lane an event can have: Slack's, then each output's.
        let lanes = std::iter::once("").chain(Output::ALL.into_iter().map(Output::name));
        let at: Vec<(EventId, &'static str)> = events
            .iter()
            .flat_map(|id| lanes.clone().map(move |lane| (id.clone(), lane)))
            .collect();
        self.deliveries_at(&at).await
    }

    async fn due_deliveries(
        &self,
        now: DateTime<Utc>,
        limit: usize,
    ) -> Result<Vec<Delivery>, StoreError> {
        // The index orders by next attempt, the answer by age: every due delivery is read.
        let mut ids = self
            .indexed_deliveries(DeliveryState::Pending, Some(now))
            .await?;
        ids.extend(
            self.indexed_deliveries(DeliveryState::Sending, Some(now))
                .await?,
        );
        ids.sort();
        ids.dedup();
        let mut due = self.deliveries_at(&ids).await?;
        due.retain(|d| d.state.is_due_kind() && d.next_attempt_at <= now);
        due.sort_by(|a, b| (a.created_at, &a.event_id).cmp(&(b.created_at, &b.event_id)));
        due.truncate(limit);
        Ok(due)
    }

    async fn deliveries_in(
        &self,
        state: DeliveryState,
        limit: usize,
    ) -> Result<Vec<Delivery>, StoreError> {
        let ids = self.indexed_deliveries(state, None).await?;
        let mut found = self.deliveries_at(&ids).await?;
        found.retain(|d| d.state == state);
        found.sort_by(|a, b| (b.updated_at, &b.event_id).cmp(&(a.updated_at, &a.event_id)));
        found.truncate(limit);
        Ok(found)
    }

    async fn save_delivery(&self, delivery: &Delivery) -> Result<(), StoreError> {
        self.put(items::delivery_item(delivery)?, "save delivery")
            .await
    }

    async fn threads(&self, channel: &str, anchors: &[EventId]) -> Result<Vec<Thread>, StoreError> {
        let pk = keys::thread_pk(channel);
        let keys = anchors
            .iter()
            .map(|anchor| (pk.clone(), keys::thread_sk(anchor)));
        let found = batch_get(&self.client, &self.table, keys, "read threads").await?;
        anchors
            .iter()
            .filter_map(|anchor| found.get(&(pk.clone(), keys::thread_sk(anchor))))
            .map(items::thread)
            .collect()
    }

    async fn save_thread(&self, thread: &Thread) -> Result<(), StoreError> {
        self.put(items::thread_item(thread)?, "save thread").await
    }

    async fn acquire_lease(
        &self,
        name: &str,
        holder: &str,
        now: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let mut item = items::key(keys::lease_pk(name), keys::LEASE_SK);
        item.insert(items::HOLDER.to_owned(), s(holder));
        item.insert(
            items::UNTIL.to_owned(),
            AttributeValue::N(until.timestamp_millis().to_string()),
        );
        let put = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression(
                "attribute_not_exists(#pk) OR #until <= :now OR #holder = :holder",
            )
            .set_expression_attribute_names(Some(HashMap::from([
                ("#pk".to_owned(), TABLE_SCHEMA.partition_key.to_owned()),
                ("#until".to_owned(), items::UNTIL.to_owned()),
                ("#holder".to_owned(), items::HOLDER.to_owned()),
            ])))
            .expression_attribute_values(
                ":now",
                AttributeValue::N(now.timestamp_millis().to_string()),
            )
            .expression_attribute_values(":holder", s(holder))
            .send()
            .await;
        match put {
            Ok(_) => Ok(true),
            Err(err) if is_condition_failed(&err) => Ok(false),
            Err(err) => Err(sdk_error("acquire lease", err)),
        }
    }

    async fn lease(&self, name: &str) -> Result<Option<(String, DateTime<Utc>)>, StoreError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(items::key(keys::lease_pk(name), keys::LEASE_SK)))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| sdk_error("read lease", e))?;
        let Some(item) = out.item else {
            return Ok(None);
        };
        let holder = item.get(items::HOLDER).and_then(|v| v.as_s().ok()).cloned();
        let until = item
            .get(items::UNTIL)
            .and_then(|v| v.as_n().ok())
            .and_then(|n| n.parse::<i64>().ok())
            .and_then(DateTime::from_timestamp_millis);
        Ok(holder.zip(until))
    }

    async fn release_lease(&self, name: &str, holder: &str) -> Result<(), StoreError> {
        let delete = self
            .client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(items::key(keys::lease_pk(name), keys::LEASE_SK)))
            .condition_expression("#holder = :holder")
            .expression_attribute_names("#holder", items::HOLDER)
            .expression_attribute_values(":holder", s(holder))
            .send()
            .await;
        match delete {
            Ok(_) => Ok(()),
            Err(err) if is_condition_failed(&err) => Ok(()),
            Err(err) => Err(sdk_error("release lease", err)),
        }
    }
}
