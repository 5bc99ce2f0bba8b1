//! Domain values as items and back. Each item keeps its value's JSON (the contract's form) in
//! `json`; events also carry the attributes the indexes and the search filters need.

use std::collections::{BTreeSet, HashMap};

use aws_sdk_dynamodb::types::AttributeValue;
use cachewatch_core::alerting::delivery::{Delivery, Thread};
use cachewatch_core::lifecycle::{Maintenance, MaintenanceState};
use cachewatch_core::model::event::{EventId, MaintenanceEvent};
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::error::{corrupt, encode_error};
use super::keys;
use super::schema::{Index, TABLE_SCHEMA};
use cachewatch_core::history::store::StoreError;

/// An item, as the SDK holds it.
pub(crate) type Item = HashMap<String, AttributeValue>;

/// The value's JSON.
pub(crate) const JSON: &str = "json";
/// An event's source id.
pub(crate) const SOURCE_ID: &str = "source_id";
/// An event's cluster id, when it has one.
pub(crate) const CLUSTER_ID: &str = "cluster_id";
/// An event's node id, when it has one.
pub(crate) const NODE_ID: &str = "node_id";
/// An event's kind.
pub(crate) const KIND: &str = "kind";
/// An event's category.
pub(crate) const CATEGORY: &str = "category";
/// The AWS account an event comes from, when known.
pub(crate) const ACCOUNT_ID: &str = "account_id";
/// The AWS Region an event comes from, when known.
pub(crate) const REGION: &str = "region";
/// Whether an event is a drill's.
pub(crate) const DRILL: &str = "drill";
/// Whether people must act on an event.
pub(crate) const ACTIONABLE: &str = "actionable";
/// The lowercase words of an event's message and identifiers, as a string set: text search
/// tests `contains(words, :word)`, which is whole-word equality on a set.
pub(crate) const WORDS: &str = "words";
/// The maintenance an event belongs to (written by `save_maintenances`, never by event writes).
pub(crate) const MAINTENANCE_ID: &str = "maintenance_id";
/// The lifecycle group of that maintenance: with its id, the maintenance item's key.
pub(crate) const MAINTENANCE_GROUP: &str = "maintenance_group";
/// The event an alias stands for.
pub(crate) const TARGET: &str = "target";
/// A lease's holder.
pub(crate) const HOLDER: &str = "holder";
/// When a lease runs out, in milliseconds since the epoch.
pub(crate) const UNTIL: &str = "until";

/// A string attribute.
pub(crate) fn s(value: impl Into<String>) -> AttributeValue {
    AttributeValue::S(value.into())
}

/// The key of an item.
pub(crate) fn key(pk: impl Into<String>, sk: impl Into<String>) -> Item {
    HashMap::from([
        (TABLE_SCHEMA.partition_key.to_owned(), s(pk)),
        (TABLE_SCHEMA.sort_key.to_owned(), s(sk)),
    ])
}

/// A string attribute of an item.
pub(crate) fn string<'a>(item: &'a Item, name: &str) -> Option<&'a str> {
    item.get(name)
        .and_then(|v| v.as_s().ok())
        .map(String::as_str)
}

/// An item's partition key, to name it when it cannot be read.
pub(crate) fn item_name(item: &Item) -> String {
    key_of(item).map_or_else(
        || "(an item without a key)".to_owned(),
        |(pk, sk)| format!("{pk} {sk}"),
    )
}

/// An item's partition and sort key values.
pub(crate) fn key_of(item: &Item) -> Option<(&str, &str)> {
    Some((
        string(item, TABLE_SCHEMA.partition_key)?,
        string(item, TABLE_SCHEMA.sort_key)?,
    ))
}

fn to_json<T: Serialize>(value: &T, operation: &'static str) -> Result<String, StoreError> {
    serde_json::to_string(value).map_err(|e| encode_error(operation, e))
}

fn from_json<T: DeserializeOwned>(item: &Item, what: &'static str) -> Result<T, StoreError> {
    let json = string(item, JSON).ok_or_else(|| corrupt(what, "the item has no json"))?;
    serde_json::from_str(json).map_err(|e| corrupt(what, e.to_string()))
}

/// The words a text search matches in an event: its message, identifiers and kind, lowercase,
/// split at every character that is not a letter or digit (as [`EventQuery::words`] splits a
/// search).
///
/// [`EventQuery::words`]: cachewatch_core::history::query::EventQuery::words
pub(crate) fn words_of(e: &MaintenanceEvent) -> BTreeSet<String> {
    let parts = [
        e.message.as_deref().unwrap_or_default(),
        e.source_id.as_str(),
        e.cluster_id.as_ref().map_or("", |c| c.as_str()),
        e.replication_group_id.as_ref().map_or("", |g| g.as_str()),
        e.node_id.as_ref().map_or("", |n| n.as_str()),
        e.kind.as_str(),
    ];
    parts
        .iter()
        .flat_map(|part| part.split(|c: char| !c.is_alphanumeric()))
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect()
}

/// An event's attributes, keys and index entries included; `None` for the optional attributes it
/// lacks (a rewrite removes them). Its maintenance is not among them: that is
/// `save_maintenances`' to write.
pub(crate) fn event_attributes(
    e: &MaintenanceEvent,
) -> Result<Vec<(&'static str, Option<AttributeValue>)>, StoreError> {
    let sort = keys::event_time_sort(e.occurred_at, &e.id);
    let group_key = e.group_key();
    let words: Vec<String> = words_of(e).into_iter().collect();
    Ok(vec![
        (TABLE_SCHEMA.partition_key, Some(s(keys::event_pk(&e.id)))),
        (TABLE_SCHEMA.sort_key, Some(s(keys::EVENT_SK))),
        (JSON, Some(s(to_json(e, "encode event")?))),
        (
            Index::Time.partition_key(),
            Some(s(keys::day_partition(e.occurred_at.date_naive()))),
        ),
        (Index::Time.sort_key(), Some(s(sort.clone()))),
        (
            Index::Group.partition_key(),
            Some(s(keys::group_partition(e.cluster_group()))),
        ),
        (Index::Group.sort_key(), Some(s(sort.clone()))),
        (
            Index::Kind.partition_key(),
            Some(s(keys::kind_partition(e.kind.as_str()))),
        ),
        (Index::Kind.sort_key(), Some(s(sort.clone()))),
        (
            Index::Lifecycle.partition_key(),
            group_key
                .as_deref()
                .map(|g| s(keys::lifecycle_partition(g))),
        ),
        (
            Index::Lifecycle.sort_key(),
            group_key.as_ref().map(|_| s(sort)),
        ),
        (
            Index::Key.partition_key(),
            Some(s(keys::prefix_partition(e.id.as_str()))),
        ),
        (Index::Key.sort_key(), Some(s(e.id.as_str()))),
        (SOURCE_ID, Some(s(e.source_id.as_str()))),
        (CLUSTER_ID, e.cluster_id.as_ref().map(|c| s(c.as_str()))),
        (NODE_ID, e.node_id.as_ref().map(|n| s(n.as_str()))),
        (KIND, Some(s(e.kind.as_str()))),
        (CATEGORY, Some(s(e.category.as_str()))),
        (ACCOUNT_ID, e.account_id.as_deref().map(s)),
        (REGION, e.region.as_deref().map(s)),
        (DRILL, Some(AttributeValue::Bool(e.drill))),
        (ACTIONABLE, Some(AttributeValue::Bool(e.actionable))),
        (WORDS, Some(AttributeValue::Ss(words))),
    ])
}

/// A new event's item.
pub(crate) fn event_item(e: &MaintenanceEvent) -> Result<Item, StoreError> {
    Ok(event_attributes(e)?
        .into_iter()
        .filter_map(|(name, value)| Some((name.to_owned(), value?)))
        .collect())
}

/// An event item as stored: the event, with the maintenance it was placed in.
#[derive(Debug, Clone)]
pub(crate) struct StoredEvent {
    /// The event, its `maintenance_id` from the item's attribute when it has one.
    pub(crate) event: MaintenanceEvent,
    /// The lifecycle group of its maintenance.
    pub(crate) maintenance_group: Option<String>,
}

/// Reads an event item.
pub(crate) fn stored_event(item: &Item) -> Result<StoredEvent, StoreError> {
    let mut event: MaintenanceEvent = from_json(item, "event")?;
    if let Some(raw) = string(item, MAINTENANCE_ID) {
        event.maintenance_id = Some(
            EventId::parse(raw).ok_or_else(|| corrupt("event", format!("maintenance {raw:?}")))?,
        );
    }
    Ok(StoredEvent {
        event,
        maintenance_group: string(item, MAINTENANCE_GROUP).map(str::to_owned),
    })
}

/// The item that sends the id of a merged report to the event it was merged into.
pub(crate) fn alias_item(alias: &EventId, target: &EventId) -> Item {
    let mut item = key(keys::event_pk(alias), keys::ALIAS_SK);
    item.insert(TARGET.to_owned(), s(target.as_str()));
    item
}

/// Whether a maintenance may not be over yet, whatever the time: it is indexed as open.
fn may_be_open(m: &Maintenance) -> bool {
    matches!(
        m.state,
        MaintenanceState::Scheduled | MaintenanceState::Rescheduled | MaintenanceState::InProgress
    )
}

/// A maintenance's item, in the open index while it may not be over.
pub(crate) fn maintenance_item(group_key: &str, m: &Maintenance) -> Result<Item, StoreError> {
    let mut item = key(keys::maintenance_pk(group_key), keys::maintenance_sk(&m.id));
    item.insert(JSON.to_owned(), s(to_json(m, "encode maintenance")?));
    if may_be_open(m) {
        item.insert(Index::Key.partition_key().to_owned(), s(keys::OPEN));
        item.insert(Index::Key.sort_key().to_owned(), s(keys::open_sort(m)));
    }
    Ok(item)
}

/// Reads a maintenance item.
pub(crate) fn maintenance(item: &Item) -> Result<Maintenance, StoreError> {
    from_json(item, "maintenance")
}

/// A delivery's item, in the index of its state by its next attempt.
pub(crate) fn delivery_item(d: &Delivery) -> Result<Item, StoreError> {
    let mut item = key(keys::delivery_pk(&d.event_id), keys::delivery_sk(d.lane()));
    item.insert(JSON.to_owned(), s(to_json(d, "encode delivery")?));
    item.insert(
        Index::Key.partition_key().to_owned(),
        s(keys::delivery_state_partition(d.state)),
    );
    item.insert(
        Index::Key.sort_key().to_owned(),
        s(match d.lane() {
            "" => format!("{}#{}", keys::time_key(d.next_attempt_at), d.event_id),
            lane => format!(
                "{}#{}#{lane}",
                keys::time_key(d.next_attempt_at),
                d.event_id
            ),
        }),
    );
    Ok(item)
}

/// Reads a delivery item.
pub(crate) fn delivery(item: &Item) -> Result<Delivery, StoreError> {
    from_json(item, "delivery")
}

/// A thread's item.
pub(crate) fn thread_item(t: &Thread) -> Result<Item, StoreError> {
    let mut item = key(keys::thread_pk(&t.channel), keys::thread_sk(&t.anchor));
    item.insert(JSON.to_owned(), s(to_json(t, "encode thread")?));
    Ok(item)
}

/// Reads a thread item.
pub(crate) fn thread(item: &Item) -> Result<Thread, StoreError> {
    from_json(item, "thread")
}
