//! [`EventStore`] on the table: events, aliases and maintenances.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use aws_sdk_dynamodb::types::{
    ConditionCheck, Delete, DeleteRequest, Put, PutRequest, TransactWriteItem, Update, WriteRequest,
};
use cachewatch_core::cluster::kept::facts_key;
use cachewatch_core::history::query::EventQuery;
use cachewatch_core::history::store::{
    Candidates, EventStore, EventWrite, StoreError, Unreadable, WriteOutcome,
};
use cachewatch_core::intake::correlate::{self, SAME_OCCURRENCE};
use cachewatch_core::lifecycle::Maintenance;
use cachewatch_core::model::event::{EventId, IdPrefix, MaintenanceEvent};
use chrono::{DateTime, Duration, Utc};

use super::error::{
    corrupt, is_condition_failed, is_transaction_condition_failed, sdk_error, transaction_error,
};
use super::items::{self, Item, StoredEvent, s, string};
use super::keys;
use super::paging::{Pages, all_of, batch_get, batch_write};
use super::schema::{Index, TABLE_SCHEMA};
use super::{CONCURRENT_REQUESTS, DynamoStore};
use crate::unreadable::skip;

/// The most actions one `TransactWriteItems` takes.
const TRANSACTION_ITEMS: usize = 100;

/// In-progress work may be reported until this long after its window (see the lifecycle).
const LATE_WORK: Duration = Duration::hours(12);

impl DynamoStore {
    /// The events stored under `ids`, or merged into the event an id is an alias of (the alias
    /// wins, as in the reference store).
    pub(super) async fn stored_events(
        &self,
        ids: &[EventId],
    ) -> Result<HashMap<EventId, StoredEvent>, StoreError> {
        Ok(self.stored_events_with(ids, &[]).await?.0)
    }

    /// [`Self::stored_events`], with the items at the keys `also` read in the same request: those
    /// found, by key.
    async fn stored_events_with(
        &self,
        ids: &[EventId],
        also: &[(String, String)],
    ) -> Result<
        (
            HashMap<EventId, StoredEvent>,
            HashMap<(String, String), Item>,
        ),
        StoreError,
    > {
        const OPERATION: &str = "read events";
        if ids.is_empty() {
            return Ok((HashMap::new(), HashMap::new()));
        }
        let wanted = ids.iter().flat_map(|id| {
            let pk = keys::event_pk(id);
            [
                (pk.clone(), keys::EVENT_SK.to_owned()),
                (pk, keys::ALIAS_SK.to_owned()),
            ]
        });
        let mut found = batch_get(
            &self.client,
            &self.table,
            wanted.chain(also.iter().cloned()),
            OPERATION,
        )
        .await?;
        let extra: HashMap<(String, String), Item> =
            also.iter().filter_map(|k| found.remove_entry(k)).collect();
        let mut target_of: HashMap<EventId, EventId> = HashMap::new();
        for id in ids {
            if let Some(alias) = found.get(&(keys::event_pk(id), keys::ALIAS_SK.to_owned())) {
                let raw = string(alias, items::TARGET).unwrap_or_default();
                let target =
                    EventId::parse(raw).ok_or_else(|| corrupt("alias", format!("{raw:?}")))?;
                target_of.insert(id.clone(), target);
            }
        }
        let missing: Vec<(String, String)> = target_of
            .values()
            .map(|t| (keys::event_pk(t), keys::EVENT_SK.to_owned()))
            .filter(|k| !found.contains_key(k))
            .collect();
        if !missing.is_empty() {
            found.extend(batch_get(&self.client, &self.table, missing, OPERATION).await?);
        }
        let mut events = HashMap::with_capacity(ids.len());
        for id in ids {
            let stored_id = target_of.get(id).unwrap_or(id);
            if let Some(item) = found.get(&(keys::event_pk(stored_id), keys::EVENT_SK.to_owned()))
                && let Some(stored) = skip(&self.unreadable, items::stored_event(item), || {
                    items::item_name(item)
                })?
            {
                events.insert(id.clone(), stored);
            }
        }
        Ok((events, extra))
    }

    /// Stored events that may be the other report of the same occurrence as `e`.
    async fn near(&self, e: &MaintenanceEvent) -> Result<Vec<MaintenanceEvent>, StoreError> {
        let request = self
            .query()
            .index_name(Index::Kind.name())
            .key_condition_expression("#pk = :pk AND #sk BETWEEN :from AND :to")
            .filter_expression("#source = :source")
            .expression_attribute_names("#pk", Index::Kind.partition_key())
            .expression_attribute_names("#sk", Index::Kind.sort_key())
            .expression_attribute_names("#source", items::SOURCE_ID)
            .expression_attribute_values(":pk", s(keys::kind_partition(e.kind.as_str())))
            .expression_attribute_values(
                ":from",
                s(keys::time_key(e.occurred_at - SAME_OCCURRENCE)),
            )
            .expression_attribute_values(
                ":to",
                s(format!(
                    "{}{}",
                    keys::time_key(e.occurred_at + SAME_OCCURRENCE),
                    keys::AFTER_IDS
                )),
            )
            .expression_attribute_values(":source", s(e.source_id.as_str()));
        let mut near = Vec::new();
        for item in Pages::new(request, "read near events").all().await? {
            let Some(stored) = skip(&self.unreadable, items::stored_event(&item), || {
                items::item_name(&item)
            })?
            else {
                continue;
            };
            let stored = stored.event;
            if correlate::same_occurrence(&stored, e)
                || (stored.id != e.id && correlate::same_report(&stored, e))
            {
                near.push(stored);
            }
        }
        Ok(near)
    }

    /// Stores a new event unless its id is stored, or is the alias of a stored event: one
    /// transaction puts the event on the condition that neither item exists, so that the check
    /// and the write cannot be split by another writer's merge.
    async fn insert(&self, e: &MaintenanceEvent) -> Result<WriteOutcome, StoreError> {
        const OPERATION: &str = "insert event";
        let build_error = |err| StoreError::Failed {
            operation: OPERATION,
            source: Box::new(err),
        };
        let not_an_alias = ConditionCheck::builder()
            .table_name(&self.table)
            .set_key(Some(items::key(keys::event_pk(&e.id), keys::ALIAS_SK)))
            .condition_expression("attribute_not_exists(#pk)")
            .expression_attribute_names("#pk", TABLE_SCHEMA.partition_key)
            .build()
            .map_err(build_error)?;
        let put = Put::builder()
            .table_name(&self.table)
            .set_item(Some(items::event_item(e)?))
            .condition_expression("attribute_not_exists(#pk)")
            .expression_attribute_names("#pk", TABLE_SCHEMA.partition_key)
            .build()
            .map_err(build_error)?;
        let written = self
            .transact(vec![
                TransactWriteItem::builder()
                    .condition_check(not_an_alias)
                    .build(),
                TransactWriteItem::builder().put(put).build(),
            ])
            .await;
        match written {
            Ok(()) => Ok(WriteOutcome::Inserted),
            Err(err) if is_transaction_condition_failed(&err) => Ok(WriteOutcome::AlreadyStored),
            Err(err) => Err(transaction_error(OPERATION, err)),
        }
    }

    /// Rewrites a stored event as its merge with another report, and records that report's id as
    /// its alias, in one transaction. The event's maintenance is kept.
    async fn merge(&self, merged: &MaintenanceEvent, alias: &EventId) -> Result<(), StoreError> {
        const OPERATION: &str = "merge event";
        let mut sets = Vec::new();
        let mut removes = Vec::new();
        let mut update = Update::builder()
            .table_name(&self.table)
            .set_key(Some(items::key(keys::event_pk(&merged.id), keys::EVENT_SK)));
        let key_attributes = [TABLE_SCHEMA.partition_key, TABLE_SCHEMA.sort_key];
        let attributes = items::event_attributes(merged)?
            .into_iter()
            .filter(|(name, _)| !key_attributes.contains(name));
        for (i, (name, value)) in attributes.enumerate() {
            let placeholder = format!("#a{i}");
            update = update.expression_attribute_names(&placeholder, name);
            match value {
                Some(value) => {
                    let v = format!(":a{i}");
                    sets.push(format!("{placeholder} = {v}"));
                    update = update.expression_attribute_values(v, value);
                }
                None => removes.push(placeholder),
            }
        }
        let mut expression = format!("SET {}", sets.join(", "));
        if !removes.is_empty() {
            expression.push_str(&format!(" REMOVE {}", removes.join(", ")));
        }
        let build_error = |e| StoreError::Failed {
            operation: OPERATION,
            source: Box::new(e),
        };
        let update = update
            .update_expression(expression)
            .build()
            .map_err(build_error)?;
        let put = Put::builder()
            .table_name(&self.table)
            .set_item(Some(items::alias_item(alias, &merged.id)))
            .build()
            .map_err(build_error)?;
        self.transact(vec![
            TransactWriteItem::builder().update(update).build(),
            TransactWriteItem::builder().put(put).build(),
        ])
        .await
        .map_err(|e| transaction_error(OPERATION, e))
    }

    /// Applies one write.
    async fn write_one(&self, w: &EventWrite) -> Result<WriteOutcome, StoreError> {
        let (outcome, written) = match w {
            EventWrite::Insert(e) => (self.insert(e).await?, e),
            EventWrite::Merge { merged, alias } => {
                self.merge(merged, alias).await?;
                (WriteOutcome::Merged, merged)
            }
        };
        if outcome != WriteOutcome::AlreadyStored
            && let Some(group) = written.group_key()
        {
            let inserted = (outcome == WriteOutcome::Inserted).then(|| written.clone());
            self.recent.note(group, written.id.clone(), inserted);
        }
        Ok(outcome)
    }

    /// Points `event` at its maintenance, if the event is stored.
    async fn place(
        &self,
        event: &EventId,
        maintenance: &EventId,
        group_key: &str,
    ) -> Result<(), StoreError> {
        let placed =
            self.placement(event, maintenance, group_key)
                .map_err(|e| StoreError::Failed {
                    operation: "place event in its maintenance",
                    source: Box::new(e),
                })?;
        let update = self
            .client
            .update_item()
            .table_name(placed.table_name)
            .set_key(Some(placed.key))
            .update_expression(placed.update_expression)
            .set_condition_expression(placed.condition_expression)
            .set_expression_attribute_names(placed.expression_attribute_names)
            .set_expression_attribute_values(placed.expression_attribute_values)
            .send()
            .await;
        match update {
            Ok(_) => Ok(()),
            Err(err) if is_condition_failed(&err) => Ok(()),
            Err(err) => Err(sdk_error("place event in its maintenance", err)),
        }
    }

    /// The update that points `event` at its maintenance, if the event is stored: made alone by
    /// [`Self::place`], or in a group's transaction.
    fn placement(
        &self,
        event: &EventId,
        maintenance: &EventId,
        group_key: &str,
    ) -> Result<Update, aws_sdk_dynamodb::error::BuildError> {
        Update::builder()
            .table_name(&self.table)
            .set_key(Some(items::key(keys::event_pk(event), keys::EVENT_SK)))
            .update_expression("SET #m = :m, #g = :g")
            .condition_expression("attribute_exists(#pk)")
            .expression_attribute_names("#m", items::MAINTENANCE_ID)
            .expression_attribute_names("#g", items::MAINTENANCE_GROUP)
            .expression_attribute_names("#pk", TABLE_SCHEMA.partition_key)
            .expression_attribute_values(":m", s(maintenance.as_str()))
            .expression_attribute_values(":g", s(group_key))
            .build()
    }

    /// Replaces one group's maintenances (see the module documentation for the order of writes).
    /// With `may_hold` and the store holding ([`EventStore::hold_maintenances`]), a group's
    /// writes that are one transaction are held back for the next claim.
    async fn save_group(
        &self,
        group_key: &str,
        maintenances: &[Maintenance],
        may_hold: bool,
    ) -> Result<(), StoreError> {
        let stored = self.stored_group(group_key).await?;
        let moved: Vec<(&EventId, &EventId)> = maintenances
            .iter()
            .flat_map(|m| m.event_ids.iter().map(move |id| (id, &m.id)))
            .filter(|(id, m)| {
                stored
                    .maintenances_of
                    .get(*id)
                    .is_none_or(|ms| ms != std::slice::from_ref(*m))
            })
            .collect();
        let requests = group_writes(group_key, maintenances, &stored.json)?;
        if let Some(actions) = self.group_transaction(group_key, &moved, &requests)? {
            if may_hold && self.held().on {
                self.held().groups.push(HeldGroup {
                    group_key: group_key.to_owned(),
                    maintenances: maintenances.to_vec(),
                    actions,
                });
                return Ok(());
            }
            match self.transact(actions).await {
                Ok(()) => return Ok(()),
                Err(err) if is_transaction_condition_failed(&err) => {}
                Err(err) => return Err(transaction_error(SAVE_GROUP, err)),
            }
        }
        for chunk in moved.chunks(CONCURRENT_REQUESTS) {
            let updates = chunk
                .iter()
                .map(|(id, m)| self.place(id, m, group_key))
                .collect();
            for placed in all_of(updates).await {
                placed?;
            }
        }
        batch_write(&self.client, &self.table, requests, SAVE_GROUP).await
    }

    /// A group's writes (events pointed at their maintenance, maintenance items put or deleted)
    /// as one transaction's actions, when they fit in one: at most 100 actions, each on its own
    /// item (https://docs.aws.amazon.com/goto/WebAPI/dynamodb-2012-08-10/TransactWriteItems);
    /// a maintenance item is a few KB, far from the 4 MB a transaction may write. `None` when
    /// they do not fit or one write alone needs no transaction. The transaction is refused when
    /// an event to point is not stored: the writes are then made one by one, which skip it.
    fn group_transaction(
        &self,
        group_key: &str,
        moved: &[(&EventId, &EventId)],
        requests: &[WriteRequest],
    ) -> Result<Option<Vec<TransactWriteItem>>, StoreError> {
        let count = moved.len() + requests.len();
        let distinct: BTreeSet<&EventId> = moved.iter().map(|(id, _)| *id).collect();
        if !(2..=TRANSACTION_ITEMS).contains(&count) || distinct.len() != moved.len() {
            return Ok(None);
        }
        let failed = |e: aws_sdk_dynamodb::error::BuildError| StoreError::Failed {
            operation: SAVE_GROUP,
            source: Box::new(e),
        };
        let mut actions = Vec::with_capacity(count);
        for (event, maintenance) in moved {
            let update = self
                .placement(event, maintenance, group_key)
                .map_err(failed)?;
            actions.push(TransactWriteItem::builder().update(update).build());
        }
        for request in requests {
            let action = match (&request.put_request, &request.delete_request) {
                (Some(put), _) => TransactWriteItem::builder().put(
                    Put::builder()
                        .table_name(&self.table)
                        .set_item(Some(put.item.clone()))
                        .build()
                        .map_err(failed)?,
                ),
                (None, Some(delete)) => TransactWriteItem::builder().delete(
                    Delete::builder()
                        .table_name(&self.table)
                        .set_key(Some(delete.key.clone()))
                        .build()
                        .map_err(failed)?,
                ),
                (None, None) => return Ok(None),
            };
            actions.push(action.build());
        }
        Ok(Some(actions))
    }

    /// The maintenances stored for `group_key`, as [`StoredGroup`].
    async fn stored_group(&self, group_key: &str) -> Result<StoredGroup, StoreError> {
        let request = self
            .query()
            .consistent_read(true)
            .key_condition_expression("#pk = :pk")
            .expression_attribute_names("#pk", TABLE_SCHEMA.partition_key)
            .expression_attribute_values(":pk", s(keys::maintenance_pk(group_key)));
        let mut stored = StoredGroup::default();
        for item in &Pages::new(request, SAVE_GROUP).all().await? {
            let Some(m) = skip(&self.unreadable, items::maintenance(item), || {
                items::item_name(item)
            })?
            else {
                continue;
            };
            for id in &m.event_ids {
                stored
                    .maintenances_of
                    .entry(id.clone())
                    .or_default()
                    .push(m.id.clone());
            }
            stored.json.insert(
                m.id.clone(),
                string(item, items::JSON).unwrap_or_default().to_owned(),
            );
        }
        Ok(stored)
    }

    /// The maintenance stored under `group_key` and `id`.
    async fn maintenance_item(
        &self,
        group_key: &str,
        id: &EventId,
    ) -> Result<Option<Maintenance>, StoreError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(items::key(
                keys::maintenance_pk(group_key),
                keys::maintenance_sk(id),
            )))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| sdk_error("read maintenance", e))?;
        match out.item.as_ref() {
            Some(item) => skip(&self.unreadable, items::maintenance(item), || {
                items::item_name(item)
            }),
            None => Ok(None),
        }
    }
}

/// The maintenance writes a store holds back for its next claim
/// ([`EventStore::hold_maintenances`]).
#[derive(Debug, Default)]
pub(super) struct Held {
    /// Whether saves are held.
    on: bool,
    /// The groups saved meanwhile.
    groups: Vec<HeldGroup>,
}

/// One group's save, held back.
#[derive(Debug)]
pub(super) struct HeldGroup {
    group_key: String,
    maintenances: Vec<Maintenance>,
    /// Its writes, as one transaction's actions.
    pub(super) actions: Vec<TransactWriteItem>,
}

impl DynamoStore {
    fn held(&self) -> std::sync::MutexGuard<'_, Held> {
        // Plain data, pushed to and taken whole: a panic cannot leave it inconsistent.
        self.held
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The groups' writes held back, taken: held no more.
    pub(super) fn take_held(&self) -> Vec<HeldGroup> {
        std::mem::take(&mut self.held().groups)
    }

    /// Makes `groups`' held writes: each group's transaction, or, when it is refused (an event
    /// to point is not stored), its save again one write at a time.
    pub(super) async fn write_held(&self, groups: Vec<HeldGroup>) -> Result<(), StoreError> {
        for group in groups {
            match self.transact(group.actions).await {
                Ok(()) => {}
                Err(err) if is_transaction_condition_failed(&err) => {
                    self.save_group(&group.group_key, &group.maintenances, false)
                        .await?;
                }
                Err(err) => return Err(transaction_error(SAVE_GROUP, err)),
            }
        }
        Ok(())
    }

    /// Makes what is held back, before a call that is not a claim: nothing reads or writes the
    /// store as if it were not made.
    pub(super) async fn settle(&self) -> Result<(), StoreError> {
        let groups = self.take_held();
        if groups.is_empty() {
            return Ok(());
        }

        self.write_held(groups).await
    }
}

impl EventStore for DynamoStore {
    async fn candidates(&self, events: &[MaintenanceEvent]) -> Result<Vec<Candidates>, StoreError> {
        self.settle().await?;
        let ids: Vec<EventId> = events.iter().map(|e| e.id.clone()).collect();
        // Events that may alert: what their alert reads (the mutes in force, and the facts kept
        // when the lookup finds nothing) comes with them, when it fits in the same request of
        // at most 100 keys (a notification's few events, not a bulk import's):
        // https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_BatchGetItem.html
        let mut facts: BTreeSet<String> = events
            .iter()
            .filter(|e| e.actionable && !e.drill)
            .map(facts_key)
            .collect();
        let may_alert = events.iter().any(|e| e.actionable)
            && 2 * ids.len() + 1 + facts.len() <= super::paging::GET_BATCH;
        if !may_alert {
            facts.clear();
        }
        let also: Vec<(String, String)> = may_alert
            .then(super::responses::mutes_now_key)
            .into_iter()
            .chain(facts.iter().map(|c| super::facts::latest_key(c)))
            .collect();
        let (stored, mut found) = self.stored_events_with(&ids, &also).await?;
        self.keep_prefetched_mutes(
            may_alert.then(|| found.remove(&super::responses::mutes_now_key())),
        );
        self.keep_prefetched_facts(
            facts
                .into_iter()
                .map(|c| {
                    let item = found.remove(&super::facts::latest_key(&c));
                    (c, item)
                })
                .collect(),
        );
        // Only a notice and a text can be two reports of one occurrence, and an event stored
        // already is that event whatever is near it: a re-delivery costs the one read above. The
        // same query finds the same report stored without its account, or under the id it had
        // before ids knew accounts (same second, so near): no read by that id is needed.
        let correlatable: Vec<&MaintenanceEvent> = events
            .iter()
            .filter(|e| correlate::is_notice(e) || correlate::is_text(e))
            .filter(|e| !stored.contains_key(&e.id))
            .collect();
        let mut near_of: HashMap<&EventId, Vec<MaintenanceEvent>> = HashMap::new();
        for chunk in correlatable.chunks(CONCURRENT_REQUESTS) {
            let reads = chunk.iter().map(|e| self.near(e)).collect();
            for (e, near) in chunk.iter().zip(all_of(reads).await) {
                near_of.insert(&e.id, near?);
            }
        }
        Ok(events
            .iter()
            .map(|e| Candidates {
                same: stored.get(&e.id).map(|s| s.event.clone()),
                near: near_of.get(&e.id).cloned().unwrap_or_default(),
            })
            .collect())
    }

    async fn write(&self, writes: &[EventWrite]) -> Result<Vec<WriteOutcome>, StoreError> {
        self.settle().await?;
        // Writes of distinct events run together; a write touching an event an earlier write of
        // the same run touches waits for the next run, so that writes apply in order.
        let mut outcomes = Vec::with_capacity(writes.len());
        let mut start = 0;
        while start < writes.len() {
            let mut touched: BTreeSet<&EventId> = BTreeSet::new();
            let mut end = start;
            while end < writes.len() && end - start < CONCURRENT_REQUESTS {
                let ids = match &writes[end] {
                    EventWrite::Insert(e) => vec![&e.id],
                    EventWrite::Merge { merged, alias } => vec![&merged.id, alias],
                };
                if ids.iter().any(|id| touched.contains(id)) {
                    break;
                }
                touched.extend(ids);
                end += 1;
            }
            let run = writes[start..end]
                .iter()
                .map(|w| self.write_one(w))
                .collect();
            for outcome in all_of(run).await {
                outcomes.push(outcome?);
            }
            start = end;
        }
        Ok(outcomes)
    }

    async fn group_events(
        &self,
        group_keys: &[String],
    ) -> Result<BTreeMap<String, Vec<MaintenanceEvent>>, StoreError> {
        if group_keys.is_empty() {
            return Ok(BTreeMap::new());
        }
        self.settle().await?;
        let mut groups: BTreeMap<String, BTreeMap<EventId, MaintenanceEvent>> = group_keys
            .iter()
            .map(|k| (k.clone(), BTreeMap::new()))
            .collect();
        for (group, events) in &mut groups {
            let request = self
                .query()
                .index_name(Index::Lifecycle.name())
                .key_condition_expression("#pk = :pk")
                .expression_attribute_names("#pk", Index::Lifecycle.partition_key())
                .expression_attribute_values(":pk", s(keys::lifecycle_partition(group)));
            for item in Pages::new(request, "read group events").all().await? {
                let Some(stored) = skip(&self.unreadable, items::stored_event(&item), || {
                    items::item_name(&item)
                })?
                else {
                    continue;
                };
                events.insert(stored.event.id.clone(), stored.event);
            }
        }
        // The index may not show this store's latest writes yet. An event it inserted and the
        // index does not show is taken as written (the index shows it, or a later rewrite, soon
        // enough); a rewritten (merged) one is read again by key, where the index may still show
        // it as it was.
        let mut fresh: Vec<MaintenanceEvent> = Vec::new();
        let mut rewritten: Vec<EventId> = Vec::new();
        for (id, inserted) in self.recent.of(group_keys) {
            match inserted {
                Some(e) if !groups.values().any(|events| events.contains_key(&id)) => {
                    fresh.push(e);
                }
                Some(_) => {}
                None => rewritten.push(id),
            }
        }
        fresh.extend(
            self.stored_events(&rewritten)
                .await?
                .into_values()
                .map(|s| s.event),
        );
        for e in fresh {
            for events in groups.values_mut() {
                events.remove(&e.id);
            }
            if let Some(events) = e.group_key().and_then(|g| groups.get_mut(&g)) {
                events.insert(e.id.clone(), e);
            }
        }
        Ok(groups
            .into_iter()
            .map(|(group, events)| (group, events.into_values().collect()))
            .collect())
    }

    async fn save_maintenances(
        &self,
        groups: &BTreeMap<String, Vec<Maintenance>>,
    ) -> Result<(), StoreError> {
        self.settle().await?;
        for (group_key, maintenances) in groups {
            self.save_group(group_key, maintenances, true).await?;
        }
        Ok(())
    }

    fn hold_maintenances(&self) {
        self.held().on = true;
    }

    async fn flush_held(&self) -> Result<(), StoreError> {
        self.held().on = false;
        self.settle().await
    }

    async fn event(&self, id: &EventId) -> Result<Option<MaintenanceEvent>, StoreError> {
        self.settle().await?;
        Ok(self
            .stored_events(std::slice::from_ref(id))
            .await?
            .remove(id)
            .map(|s| s.event))
    }

    async fn resolve(&self, prefix: &IdPrefix, limit: usize) -> Result<Vec<EventId>, StoreError> {
        if limit == 0 {
            return Ok(Vec::new());
        }
        let request = self
            .query()
            .index_name(Index::Key.name())
            .key_condition_expression("#pk = :pk AND begins_with(#sk, :prefix)")
            .projection_expression("#sk")
            .expression_attribute_names("#pk", Index::Key.partition_key())
            .expression_attribute_names("#sk", Index::Key.sort_key())
            .expression_attribute_values(":pk", s(keys::prefix_partition(prefix.as_str())))
            .expression_attribute_values(":prefix", s(prefix.as_str()))
            .limit(self.page_size(limit));
        let mut pages = Pages::new(request, "resolve id");
        let mut ids = Vec::new();
        while let Some(page) = pages.next().await? {
            for item in page {
                let raw = string(&item, Index::Key.sort_key()).unwrap_or_default();
                ids.push(EventId::parse(raw).ok_or_else(|| corrupt("event id", raw))?);
                if ids.len() == limit {
                    return Ok(ids);
                }
            }
        }
        Ok(ids)
    }

    async fn maintenance(&self, id: &EventId) -> Result<Option<Maintenance>, StoreError> {
        self.settle().await?;
        let Some(stored) = self
            .stored_events(std::slice::from_ref(id))
            .await?
            .remove(id)
        else {
            return Ok(None);
        };
        match (stored.event.maintenance_id, stored.maintenance_group) {
            (Some(maintenance), Some(group)) => self.maintenance_item(&group, &maintenance).await,
            _ => Ok(None),
        }
    }

    async fn search(&self, query: &EventQuery) -> Result<Vec<MaintenanceEvent>, StoreError> {
        self.settle().await?;
        self.search_events(query, Utc::now()).await
    }

    async fn open_maintenances(
        &self,
        now: DateTime<Utc>,
        include_drills: bool,
    ) -> Result<Vec<Maintenance>, StoreError> {
        self.settle().await?;
        let request = self
            .query()
            .index_name(Index::Key.name())
            .key_condition_expression("#pk = :pk AND #sk >= :from")
            .expression_attribute_names("#pk", Index::Key.partition_key())
            .expression_attribute_names("#sk", Index::Key.sort_key())
            .expression_attribute_values(":pk", s(keys::OPEN))
            .expression_attribute_values(":from", s(keys::time_key(now - LATE_WORK)));
        let mut open = Vec::new();
        for item in Pages::new(request, "read open maintenances").all().await? {
            let Some(m) = skip(&self.unreadable, items::maintenance(&item), || {
                items::item_name(&item)
            })?
            else {
                continue;
            };
            if (include_drills || !m.drill) && m.is_upcoming(now) {
                open.push(m);
            }
        }
        Ok(open)
    }

    fn take_unreadable(&self) -> Vec<Unreadable> {
        self.unreadable.take()
    }
}

/// The operation [`save_group`](EventStore::save_group) names in its errors.
const SAVE_GROUP: &str = "save maintenances";

/// What a group's stored maintenances are, before they are replaced.
#[derive(Default)]
struct StoredGroup {
    /// Each maintenance's document, by its id.
    json: HashMap<EventId, String>,
    /// The maintenances each event is placed in.
    maintenances_of: HashMap<EventId, Vec<EventId>>,
}

/// The writes that make `group_key`'s stored maintenances (`stored`, their documents by id) be
/// `maintenances`: a put for each new or changed one, a delete for each one gone.
fn group_writes(
    group_key: &str,
    maintenances: &[Maintenance],
    stored: &HashMap<EventId, String>,
) -> Result<Vec<WriteRequest>, StoreError> {
    let failed = |e: aws_sdk_dynamodb::error::BuildError| StoreError::Failed {
        operation: SAVE_GROUP,
        source: Box::new(e),
    };
    let mut requests = Vec::new();
    for m in maintenances {
        let item = items::maintenance_item(group_key, m)?;
        if stored.get(&m.id).map(String::as_str) == string(&item, items::JSON) {
            continue;
        }
        let put = PutRequest::builder()
            .set_item(Some(item))
            .build()
            .map_err(failed)?;
        requests.push(WriteRequest::builder().put_request(put).build());
    }
    let kept: BTreeSet<&EventId> = maintenances.iter().map(|m| &m.id).collect();
    for gone in stored.keys().filter(|id| !kept.contains(id)) {
        let delete = DeleteRequest::builder()
            .set_key(Some(items::key(
                keys::maintenance_pk(group_key),
                keys::maintenance_sk(gone),
            )))
            .build()
            .map_err(failed)?;
        requests.push(WriteRequest::builder().delete_request(delete).build());
    }
    Ok(requests)
}
