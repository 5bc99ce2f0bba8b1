//! [`DeliveryStore`] on the table: the outbox of alerts, the threads they went to, and the
//! leases of senders.

use std::collections::HashMap;

use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::AttributeValue;
use aws_sdk_dynamodb::types::{Delete, Put, TransactWriteItem};
use cachewatch_core::alerting::delivery::{
    Claim, ClaimRequest, Delivery, DeliveryState, DeliveryStore, LeaseRequest, OutboxWrite, Thread,
    due_at, latest_in,
};
use cachewatch_core::alerting::outbound::Output;
use cachewatch_core::history::store::StoreError;
use cachewatch_core::model::event::EventId;
use chrono::{DateTime, Utc};

use super::DynamoStore;
use super::error::{
    is_condition_failed, is_transaction_condition_failed, sdk_error, transaction_error,
};
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

/// The most actions one `TransactWriteItems` takes.
const TRANSACTION_ITEMS: usize = 100;

/// The condition on which a lease is taken: free, run out, or already the holder's.
const LEASE_FREE: &str = "attribute_not_exists(#pk) OR #until <= :now OR #holder = :holder";

fn lease_item(lease: &LeaseRequest<'_>) -> Item {
    let mut item = items::key(keys::lease_pk(lease.name), keys::LEASE_SK);
    item.insert(items::HOLDER.to_owned(), s(lease.holder));
    item.insert(
        items::UNTIL.to_owned(),
        AttributeValue::N(lease.until.timestamp_millis().to_string()),
    );
    item
}

fn lease_names() -> HashMap<String, String> {
    HashMap::from([
        ("#pk".to_owned(), TABLE_SCHEMA.partition_key.to_owned()),
        ("#until".to_owned(), items::UNTIL.to_owned()),
        ("#holder".to_owned(), items::HOLDER.to_owned()),
    ])
}

fn lease_values(lease: &LeaseRequest<'_>) -> HashMap<String, AttributeValue> {
    HashMap::from([
        (
            ":now".to_owned(),
            AttributeValue::N(lease.now.timestamp_millis().to_string()),
        ),
        (":holder".to_owned(), s(lease.holder)),
    ])
}

/// The key of the item a write of [`DeliveryStore::save_together`] touches.
fn outbox_key(w: &OutboxWrite<'_>) -> (String, String) {
    match *w {
        OutboxWrite::Delivery(d) => (keys::delivery_pk(&d.event_id), keys::delivery_sk(d.lane())),
        OutboxWrite::Thread(t) => (keys::thread_pk(&t.channel), keys::thread_sk(&t.anchor)),
        OutboxWrite::Release { name, .. } => (keys::lease_pk(name), keys::LEASE_SK.to_owned()),
    }
}

/// For each item of a canceled transaction, whether its condition failed; `None` when the
/// transaction failed otherwise, or for another reason besides.
fn failed_conditions(
    err: &aws_sdk_dynamodb::error::SdkError<
        TransactWriteItemsError,
        aws_sdk_dynamodb::config::http::HttpResponse,
    >,
) -> Option<Vec<bool>> {
    if !is_transaction_condition_failed(err) {
        return None;
    }
    let Some(TransactWriteItemsError::TransactionCanceledException(canceled)) =
        err.as_service_error()
    else {
        return None;
    };
    Some(
        canceled
            .cancellation_reasons()
            .iter()
            .map(|r| r.code() == Some("ConditionalCheckFailed"))
            .collect(),
    )
}

impl DynamoStore {
    /// [`DeliveryStore::save_together`] for at most [`TRANSACTION_ITEMS`] writes of distinct
    /// items. A release whose holder no longer has the lease cancels the transaction; the other
    /// writes are then made without it.
    async fn save_chunk(&self, writes: &[OutboxWrite<'_>]) -> Result<(), StoreError> {
        const OPERATION: &str = "save outbox";
        let build_error = |e| StoreError::Failed {
            operation: OPERATION,
            source: Box::new(e),
        };
        // One write alone needs no transaction (which costs twice the write units).
        match writes {
            [] => return Ok(()),
            [OutboxWrite::Delivery(d)] => return self.save_delivery(d).await,
            [OutboxWrite::Thread(t)] => return self.save_thread(t).await,
            [OutboxWrite::Release { name, holder }] => {
                return self.release_lease(name, holder).await;
            }
            _ => {}
        }
        let mut actions = Vec::with_capacity(writes.len());
        for w in writes {
            let action = match *w {
                OutboxWrite::Delivery(d) => TransactWriteItem::builder().put(
                    Put::builder()
                        .table_name(&self.table)
                        .set_item(Some(items::delivery_item(d)?))
                        .build()
                        .map_err(build_error)?,
                ),
                OutboxWrite::Thread(t) => TransactWriteItem::builder().put(
                    Put::builder()
                        .table_name(&self.table)
                        .set_item(Some(items::thread_item(t)?))
                        .build()
                        .map_err(build_error)?,
                ),
                OutboxWrite::Release { name, holder } => TransactWriteItem::builder().delete(
                    Delete::builder()
                        .table_name(&self.table)
                        .set_key(Some(items::key(keys::lease_pk(name), keys::LEASE_SK)))
                        .condition_expression("#holder = :holder")
                        .expression_attribute_names("#holder", items::HOLDER)
                        .expression_attribute_values(":holder", s(holder))
                        .build()
                        .map_err(build_error)?,
                ),
            };
            actions.push(action.build());
        }
        match self.transact(actions).await {
            Ok(()) => Ok(()),
            // Only a release has a condition: it is dropped, and the rest written.
            Err(err) if failed_conditions(&err).is_some() => {
                let rest: Vec<OutboxWrite<'_>> = writes
                    .iter()
                    .filter(|w| !matches!(w, OutboxWrite::Release { .. }))
                    .copied()
                    .collect();
                Box::pin(self.save_chunk(&rest)).await
            }
            Err(err) => Err(transaction_error(OPERATION, err)),
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
        Ok(due_at(self.deliveries_at(&ids).await?, now, limit))
    }

    async fn pending_deliveries(
        &self,
        now: DateTime<Utc>,
        limit: usize,
    ) -> Result<Vec<Delivery>, StoreError> {
        // The `pending` partition alone: one query, where what is due takes two.
        let ids = self
            .indexed_deliveries(DeliveryState::Pending, Some(now))
            .await?;
        let mut due = self.deliveries_at(&ids).await?;
        due.retain(|d| d.state == DeliveryState::Pending && d.next_attempt_at <= now);
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
        Ok(latest_in(self.deliveries_at(&ids).await?, state, limit))
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

    async fn acquire_lease(&self, lease: LeaseRequest<'_>) -> Result<bool, StoreError> {
        let put = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(lease_item(&lease)))
            .condition_expression(LEASE_FREE)
            .set_expression_attribute_names(Some(lease_names()))
            .set_expression_attribute_values(Some(lease_values(&lease)))
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

    async fn claim(&self, claim: ClaimRequest<'_>) -> Result<Claim, StoreError> {
        let (lease, was, becomes) = (claim.lease, claim.was, claim.becomes);
        const OPERATION: &str = "claim delivery";
        let build_error = |e| StoreError::Failed {
            operation: OPERATION,
            source: Box::new(e),
        };
        let take = Put::builder()
            .table_name(&self.table)
            .set_item(Some(lease_item(&lease)))
            .condition_expression(LEASE_FREE)
            .set_expression_attribute_names(Some(lease_names()))
            .set_expression_attribute_values(Some(lease_values(&lease)))
            .build()
            .map_err(build_error)?;
        let delivery = Put::builder()
            .table_name(&self.table)
            .set_item(Some(items::delivery_item(becomes)?));
        let delivery = match was {
            // The delivery is compared whole: its document is what `was` encodes to.
            Some(was) => {
                let was_json = items::delivery_item(was)?
                    .remove(items::JSON)
                    .unwrap_or_else(|| s(""));
                delivery
                    .condition_expression("#json = :was")
                    .expression_attribute_names("#json", items::JSON)
                    .expression_attribute_values(":was", was_json)
            }
            None => delivery
                .condition_expression("attribute_not_exists(#pk)")
                .expression_attribute_names("#pk", TABLE_SCHEMA.partition_key),
        }
        .build()
        .map_err(build_error)?;
        let written = self
            .transact(vec![
                TransactWriteItem::builder().put(take).build(),
                TransactWriteItem::builder().put(delivery).build(),
            ])
            .await;
        match written {
            Ok(()) => Ok(Claim::Taken),
            // The reasons come in the order of the request's items:
            // https://docs.aws.amazon.com/goto/WebAPI/dynamodb-2012-08-10/CancellationReason
            Err(err) => match failed_conditions(&err) {
                Some(failed) if failed.first() == Some(&true) => Ok(Claim::Busy),
                Some(failed) if failed.get(1) == Some(&true) => Ok(Claim::Changed),
                _ => Err(transaction_error(OPERATION, err)),
            },
        }
    }

    async fn save_together(&self, writes: &[OutboxWrite<'_>]) -> Result<(), StoreError> {
        // One action per item: a transaction may not touch an item twice, so the last write of
        // an item stands for the earlier ones. At most 100 actions, 4 MB in all, per transaction
        // (https://docs.aws.amazon.com/goto/WebAPI/dynamodb-2012-08-10/TransactWriteItems);
        // a delivery, a thread and a lease are a few KB.
        let mut last: Vec<(String, String, OutboxWrite<'_>)> = Vec::with_capacity(writes.len());
        for w in writes {
            let (pk, sk) = outbox_key(w);
            last.retain(|(p, k, _)| (p, k) != (&pk, &sk));
            last.push((pk, sk, *w));
        }
        for chunk in last.chunks(TRANSACTION_ITEMS) {
            let writes: Vec<OutboxWrite<'_>> = chunk.iter().map(|(_, _, w)| *w).collect();
            self.save_chunk(&writes).await?;
        }
        Ok(())
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
