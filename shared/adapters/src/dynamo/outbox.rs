//! [`DeliveryStore`] on the table: the outbox of alerts, the threads they went to, and the
//! leases of senders.

use std::collections::{BTreeSet, HashMap};
use std::time::{Duration as StdDuration, Instant};

use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::AttributeValue;
use aws_sdk_dynamodb::types::{ConditionCheck, Delete, Put, TransactWriteItem};
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
        let indexed = self.indexed(state, due_by).await?;
        Ok(indexed
            .iter()
            .map(|d| (d.event_id.clone(), d.lane()))
            .collect())
    }

    /// The deliveries the index has in `state` with a next attempt at or before `due_by` (all
    /// of them when `None`), as the index shows them.
    async fn indexed(
        &self,
        state: DeliveryState,
        due_by: Option<DateTime<Utc>>,
    ) -> Result<Vec<Delivery>, StoreError> {
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

    /// Marks `channels`: an alert was written pending in each, after it was written (a claim
    /// that clears a mark then reads what is pending, and sees it).
    async fn mark_pending(&self, channels: BTreeSet<&str>) -> Result<(), StoreError> {
        for channel in channels {
            self.put(pending_mark(channel), "mark pending").await?;
        }
        Ok(())
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

/// How long after a claim that found no pending mark [`DeliveryStore::nothing_else_pending`]
/// says so: the caller asks at once.
const CLAIM_FINDING_FOR: StdDuration = StdDuration::from_secs(5);

/// The key of `channel`'s pending mark: an alert was written pending there since a claim there
/// last cleared it. One item per channel, whatever was left pending.
fn pending_mark(channel: &str) -> Item {
    items::key(keys::thread_pk(channel), keys::PENDING_MARK_SK)
}

/// The channels in which `deliveries` leave an alert pending, each once.
fn pending_channels<'a>(deliveries: impl IntoIterator<Item = &'a Delivery>) -> BTreeSet<&'a str> {
    deliveries
        .into_iter()
        .filter(|d| d.state == DeliveryState::Pending)
        .map(|d| d.channel.as_str())
        .collect()
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
    /// [`DeliveryStore::save_together`] for at most [`TRANSACTION_ITEMS`] actions: writes of
    /// distinct items, and the pending mark of each channel a delivery is left pending in. A release whose holder no longer has the lease cancels the transaction; the other
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
        let deliveries = writes.iter().filter_map(|w| match *w {
            OutboxWrite::Delivery(d) => Some(d),
            _ => None,
        });
        for channel in pending_channels(deliveries) {
            let mark = Put::builder()
                .table_name(&self.table)
                .set_item(Some(pending_mark(channel)))
                .build()
                .map_err(build_error)?;
            actions.push(TransactWriteItem::builder().put(mark).build());
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

/// The operation a claim names in its errors.
const CLAIM: &str = "claim delivery";

/// Why a claim's transaction was canceled, from the reasons that come in the order of the
/// request's items (https://docs.aws.amazon.com/goto/WebAPI/dynamodb-2012-08-10/CancellationReason).
enum Refused {
    /// The lease is another holder's.
    Busy,
    /// The delivery is not stored as it was.
    Changed,
    /// The channel's pending mark is there: claimed again, clearing it.
    Marked,
    /// A write made with the claim was refused.
    With,
}

fn refused(
    err: aws_sdk_dynamodb::error::SdkError<
        TransactWriteItemsError,
        aws_sdk_dynamodb::config::http::HttpResponse,
    >,
) -> Result<Refused, StoreError> {
    match failed_conditions(&err) {
        Some(failed) if failed.first() == Some(&true) => Ok(Refused::Busy),
        Some(failed) if failed.get(1) == Some(&true) => Ok(Refused::Changed),
        Some(failed) if failed.get(2) == Some(&true) => Ok(Refused::Marked),
        Some(failed) if failed.iter().skip(3).any(|f| *f) => Ok(Refused::With),
        _ => Err(transaction_error(CLAIM, err)),
    }
}

impl DynamoStore {
    /// What the latest claims in each channel found, and when: whether nothing else was
    /// pending there.
    fn claim_findings(&self) -> std::sync::MutexGuard<'_, HashMap<String, (bool, Instant)>> {
        // Plain data, each entry replaced whole: a panic cannot leave it inconsistent.
        self.claimed_alone
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Notes what a claim in `channel` found. A mark found stands over a claim of the same
    /// channel that found none meanwhile (two sends of one process at once): the one that
    /// cleared it must read what is pending, whichever asks first.
    fn note_claim(&self, channel: &str, alone: bool) {
        let mut findings = self.claim_findings();
        findings.retain(|_, (_, at)| at.elapsed() < CLAIM_FINDING_FOR);
        match findings.get_mut(channel) {
            Some(_) if alone => {}
            Some(found) => *found = (false, Instant::now()),
            None => {
                findings.insert(channel.to_owned(), (alone, Instant::now()));
            }
        }
    }

    /// A claim's two writes: the lease taken on its usual condition, and the delivery put on
    /// the condition that it is stored as `claim.was` (compared whole: its document is what
    /// `was` encodes to), or not at all.
    fn claim_actions(
        &self,
        claim: &ClaimRequest<'_>,
    ) -> Result<[TransactWriteItem; 2], StoreError> {
        let (lease, was, becomes) = (claim.lease, claim.was, claim.becomes);
        let build_error = |e| StoreError::Failed {
            operation: CLAIM,
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
        Ok([
            TransactWriteItem::builder().put(take).build(),
            TransactWriteItem::builder().put(delivery).build(),
        ])
    }
}

impl DynamoStore {
    /// A claim, with the writes `with` in the same transaction: `None`, having written
    /// nothing, when one of theirs was refused.
    async fn claim_with(
        &self,
        claim: &ClaimRequest<'_>,
        with: Vec<TransactWriteItem>,
    ) -> Result<Option<Claim>, StoreError> {
        let channel = claim.becomes.channel.as_str();
        let [take, delivery] = self.claim_actions(claim)?;
        let build_error = |e| StoreError::Failed {
            operation: CLAIM,
            source: Box::new(e),
        };
        // The channel's pending mark is checked absent in the same transaction: then nothing
        // else is pending there, and the caller need not read it.
        let unmarked = ConditionCheck::builder()
            .table_name(&self.table)
            .set_key(Some(pending_mark(channel)))
            .condition_expression("attribute_not_exists(#pk)")
            .expression_attribute_names("#pk", TABLE_SCHEMA.partition_key)
            .build()
            .map_err(build_error)?;
        let mut first = vec![
            take.clone(),
            delivery.clone(),
            TransactWriteItem::builder()
                .condition_check(unmarked)
                .build(),
        ];
        first.extend(with.iter().cloned());
        match self.transact(first).await {
            Ok(()) => {
                self.note_claim(channel, true);
                return Ok(Some(Claim::Taken));
            }
            Err(err) => match refused(err)? {
                Refused::Busy => return Ok(Some(Claim::Busy)),
                Refused::Changed => return Ok(Some(Claim::Changed)),
                Refused::With => return Ok(None),
                Refused::Marked => {}
            },
        }
        // Marked: the claim clears the mark, and its caller reads what is pending after it (an
        // alert left pending after that marks the channel again).
        self.note_claim(channel, false);
        let clear = Delete::builder()
            .table_name(&self.table)
            .set_key(Some(pending_mark(channel)))
            .build()
            .map_err(build_error)?;
        let mut second = vec![
            take,
            delivery,
            TransactWriteItem::builder().delete(clear).build(),
        ];
        second.extend(with);
        match self.transact(second).await {
            Ok(()) => Ok(Some(Claim::Taken)),
            Err(err) => match refused(err)? {
                Refused::Busy => Ok(Some(Claim::Busy)),
                Refused::Changed | Refused::Marked => Ok(Some(Claim::Changed)),
                Refused::With => Ok(None),
            },
        }
    }
}

impl DeliveryStore for DynamoStore {
    async fn record_deliveries(&self, deliveries: &[Delivery]) -> Result<Vec<bool>, StoreError> {
        if deliveries.is_empty() {
            return Ok(Vec::new());
        }
        self.settle().await?;
        let mut recorded = Vec::with_capacity(deliveries.len());
        for d in deliveries {
            recorded.push(
                self.put_new(items::delivery_item(d)?, "record delivery")
                    .await?,
            );
        }
        let new = deliveries.iter().zip(&recorded).filter(|(_, r)| **r);
        self.mark_pending(pending_channels(new.map(|(d, _)| d)))
            .await?;
        Ok(recorded)
    }

    async fn deliveries(&self, events: &[EventId]) -> Result<Vec<Delivery>, StoreError> {
        if events.is_empty() {
            return Ok(Vec::new());
        }
        self.settle().await?;
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
        self.settle().await?;
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
        self.settle().await?;
        // The `pending` partition alone: one query, where what is due takes two. It is read
        // after a claim cleared the channel's pending mark: an alert waiting for a later try
        // marks its channel again, for the claim after it falls due.
        let indexed = self.indexed(DeliveryState::Pending, None).await?;
        let (due, waiting): (Vec<Delivery>, Vec<Delivery>) =
            indexed.into_iter().partition(|d| d.next_attempt_at <= now);
        self.mark_pending(pending_channels(&waiting)).await?;
        let ids: Vec<(EventId, &'static str)> =
            due.iter().map(|d| (d.event_id.clone(), d.lane())).collect();
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
        self.settle().await?;
        let ids = self.indexed_deliveries(state, None).await?;
        Ok(latest_in(self.deliveries_at(&ids).await?, state, limit))
    }

    async fn save_delivery(&self, delivery: &Delivery) -> Result<(), StoreError> {
        self.settle().await?;
        self.put(items::delivery_item(delivery)?, "save delivery")
            .await?;
        self.mark_pending(pending_channels([delivery])).await
    }

    async fn threads(&self, channel: &str, anchors: &[EventId]) -> Result<Vec<Thread>, StoreError> {
        self.settle().await?;
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
        self.settle().await?;
        self.put(items::thread_item(thread)?, "save thread").await
    }

    async fn acquire_lease(&self, lease: LeaseRequest<'_>) -> Result<bool, StoreError> {
        self.settle().await?;
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
        self.settle().await?;
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
        // The maintenance writes held back for this claim go with it, when they fit.
        let mut held = self.take_held();
        let actions: usize = held.iter().map(|g| g.actions.len()).sum();
        if actions + 3 > TRANSACTION_ITEMS {
            self.write_held(std::mem::take(&mut held)).await?;
        }
        let with = held.iter().flat_map(|g| g.actions.iter().cloned());
        match self.claim_with(&claim, with.collect()).await? {
            Some(Claim::Taken) => Ok(Claim::Taken),
            // Nothing was written: the held writes are made alone.
            Some(refused) => {
                self.write_held(held).await?;
                Ok(refused)
            }
            // A held write was refused: they are made as a save alone makes them.
            None => {
                self.write_held(held).await?;
                let claimed = self.claim_with(&claim, Vec::new()).await?;
                Ok(claimed.unwrap_or(Claim::Changed))
            }
        }
    }

    fn nothing_else_pending(&self, channel: &str) -> bool {
        self.claim_findings()
            .remove(channel)
            .is_some_and(|(alone, at)| alone && at.elapsed() < CLAIM_FINDING_FOR)
    }

    async fn save_together(&self, writes: &[OutboxWrite<'_>]) -> Result<(), StoreError> {
        self.settle().await?;
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
        // A delivery left pending adds its channel's mark to the chunk: half as many writes.
        let pending = last.iter().any(
            |(_, _, w)| matches!(w, OutboxWrite::Delivery(d) if d.state == DeliveryState::Pending),
        );
        let per_chunk = if pending {
            TRANSACTION_ITEMS / 2
        } else {
            TRANSACTION_ITEMS
        };
        for chunk in last.chunks(per_chunk) {
            let writes: Vec<OutboxWrite<'_>> = chunk.iter().map(|(_, _, w)| *w).collect();
            self.save_chunk(&writes).await?;
        }
        Ok(())
    }

    async fn release_lease(&self, name: &str, holder: &str) -> Result<(), StoreError> {
        self.settle().await?;
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
