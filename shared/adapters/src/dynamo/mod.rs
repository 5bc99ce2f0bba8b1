//! The event history in one DynamoDB table: [`DynamoStore`] implements [`EventStore`] and
//! [`DeliveryStore`] for the Lambda functions, and for the CLI when a team's history lives in
//! AWS. The table's name comes from `CACHEWATCH_TABLE` (read by the binaries, not here).
//!
//! ## The table
//!
//! Key: `PK` (S, hash), `SK` (S, range). Billing PAY_PER_REQUEST. Five GSIs, all
//! `ProjectionType: ALL`, each keyed `GSInPK` (S, hash) / `GSInSK` (S, range); [`TABLE_SCHEMA`]
//! is this as data.
//!
//! | index name | used for | PK value | SK value |
//! |---|---|---|---|
//! | `by_time` (GSI1) | events by time | `T#{yyyy-mm-dd}` (UTC day of `occurred_at`) | `{occurred_at}#{event id}` |
//! | `by_group` (GSI2) | events of a cluster group | `G#{cluster_group}` | `{occurred_at}#{event id}` |
//! | `by_kind` (GSI3) | events of a kind | `K#{kind}` | `{occurred_at}#{event id}` |
//! | `by_lifecycle` (GSI4) | lifecycle events of a group (sparse) | `L#{group_key}` | `{occurred_at}#{event id}` |
//! | `by_key` (GSI5) | id prefixes, open maintenances, deliveries by state | events: `P#{first 2 hex digits of id}` / SK `{id}`; open maintenances: `OPEN` / SK `{window_end or 9999}#{id}`; deliveries: `D#{state}` / SK `{next_attempt_at}#{event id}` (an output's: `…#{event id}#{output}`) |
//!
//! Times in keys are RFC 3339 UTC with milliseconds and a `Z`, fixed width
//! (`2026-06-11T03:10:02.000Z`), so string order is time order.
//!
//! | item | PK | SK | attributes |
//! |---|---|---|---|
//! | event | `E#{id}` | `E` | `json` (the event's JSON), index keys, `source_id`, `cluster_id`, `node_id`, `kind`, `category`, `drill`, `actionable`, `words` (string set), `maintenance_id` and `maintenance_group` once placed |
//! | alias of a merged report | `E#{alias}` | `A` | `target` (the event's id) |
//! | maintenance | `M#{group_key}` | `M#{maintenance id}` | `json`; `OPEN` index keys while scheduled, rescheduled or in progress |
//! | delivery | `D#{event id}` | `D` (Slack's), `D#{output}` (`D#webhook`, `D#q-developer`) | `json`, `D#{state}` index keys |
//! | thread | `H#{channel}` | `H#{anchor event id}` | `json` |
//! | a channel's pending mark | `H#{channel}` | `PENDING` | none: an alert was written pending in the channel since a claim there last cleared it |
//! | lease | `L#{name}` | `L` | `holder`, `until` (epoch milliseconds) |
//! | facts of a cluster | `F#{cluster id}` | `LATEST` (before: `{read_at}`, one item per reading) | `json`, `read_at` (epoch milliseconds): the latest reading |
//! | mute set in Slack | `MUTES` | `{at}#{who}#{pattern}` | `json` |
//! | the mutes in force | `MUTES` | `NOW` | `json` (every mute not over when the last was set), `version` |
//! | the organisation's accounts | `O#organization` | `O` | `json` (the poller's last listing) |
//!
//! The stack turns on point-in-time recovery and deletion protection; [`DynamoStore::create_table`]
//! (for tests and local emulators) does not.
//!
//! ## How each question is answered
//!
//! - **An event by id** (and `candidates`' `same`): one consistent `BatchGetItem` of the `E` and
//!   `A` items of every id asked, then one of the events the aliases name. An event found this
//!   way is a repeat (a re-delivered notification): nothing more is read for it. When an event
//!   asked may alert, the same request reads what its alert will: the mutes in force and the
//!   latest facts kept of its cluster, used by the alert of that notification if it reads them
//!   within seconds (once each; anything later reads them again).
//! - **Storing an event**: one `TransactWriteItems` putting the `E` item on the condition
//!   `attribute_not_exists(PK)`, with a `ConditionCheck` that the id has no `A` item, so of two
//!   concurrent ingests of one event exactly one stores it (the other gets
//!   [`WriteOutcome::AlreadyStored`]), and an id that is already the alias of a merged report is
//!   not stored again. A merge rewrites the event and writes the alias in one transaction
//!   (`TransactWriteItems`), keeping the event's maintenance. Writes of distinct events are sent
//!   together, up to 16 at a time.
//! - **Reports of the same occurrence** (`candidates`' `near`, for the events not stored yet):
//!   `by_kind`, ten minutes around the event, filtered on its source.
//! - **A lifecycle group's events**: `by_lifecycle`.
//! - **Maintenances**: the items of a group are replaced by `save_maintenances`, which also points
//!   each member event at its maintenance (only the events whose maintenance changed are
//!   rewritten). When they fit in one `TransactWriteItems` (up to 100 writes), all of a group's
//!   writes are one transaction; otherwise member events first, then maintenance items, then the
//!   ones that are gone, so that a call that fails half-way is made good by the next. A maintenance by id is found through
//!   its first event's pointer; open maintenances are the `OPEN` partition from twelve hours
//!   before now on (work may be reported that long after a window), narrowed by
//!   [`Maintenance::is_upcoming`].
//! - **Search**: a cluster searches `by_group`, else a kind `by_kind`, else the `by_time` day
//!   partitions, newest day first, from the `until` bound (or today by the clock, with an hour's
//!   margin for clocks that disagree), in rounds of doubling width (one day, two, four, ... up
//!   to 16 read together). Pages are read newest first with the other filters as a
//!   `FilterExpression` (text words as `contains` on the `words` set: whole words), and reading
//!   stops as soon as `limit` events are found. A search without `since` that has text, or that
//!   walks day partitions, looks at the [`SEARCH_HORIZON`] (90 days) before `until` (or now):
//!   older events are found by giving `since`. A search by cluster or kind without text reads
//!   back as far as its partition goes.
//! - **Deliveries**: by key; due ones from the `D#pending` and `D#sending` partitions up to now,
//!   read again by key (the index may lag a send) and sorted oldest first; by state from the
//!   `D#{state}` partition, read again by key and sorted newest first (meant for the small
//!   states: `failed`, `pending`, `muted`; `sent` grows with the history).
//! - **Leases**: a `PutItem` conditioned on the lease being free, expired, or the same holder's;
//!   released by a `DeleteItem` conditioned on the holder. A claim takes the lease and marks a
//!   delivery `sending` in one `TransactWriteItems`, the delivery's put conditioned on its
//!   document being the one recorded, with a `ConditionCheck` that the channel has no pending
//!   mark: then nothing else is pending there and the sender reads nothing more
//!   ([`DeliveryStore::nothing_else_pending`]); when it has one, the claim is made again with the
//!   mark deleted, and the sender reads what is pending (the whole `D#pending` partition: the
//!   channels of deliveries not due yet are marked again). Every write of a delivery left
//!   `pending` (recorded, or saved again after a failed send) puts its channel's mark after it
//!   (in the same transaction when saved together). An ingest that alerts at once holds back its
//!   group's maintenance transaction ([`EventStore::hold_maintenances`]): the claim carries
//!   those writes too, and any other call of the store, a refused claim or the end of the
//!   ingest makes them first. Writes saved together (a delivery sent with its thread; a
//!   thread with the lease's release) are one `TransactWriteItems`; when the release's condition
//!   fails, the others are written without it.
//!
//! ## Consistency
//!
//! Reads by key are strongly consistent. Index reads are not (DynamoDB's indexes are updated a
//! moment after the table), so the ingest pipeline, which reads a group's events right after
//! writing them, would miss its own writes: a store remembers the events it wrote in the last few
//! minutes, adds those it inserted (as it wrote them) when the index does not show them yet, and
//! reads those it merged by key on top of the index. Searches see writes a moment late.
//!
//! Errors: throttling, 5xx answers, timeouts and failed connections are
//! [`StoreError::Unavailable`]; validation errors, access denied and a missing table are
//! [`StoreError::Failed`]; the SDK's error is the source of both.

mod error;
mod events;
mod facts;
mod items;
mod keys;
mod organization;
mod outbox;
pub(crate) mod paging;
mod responses;
mod schema;
mod search;

use std::collections::VecDeque;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration as StdDuration, Instant};

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::client::Waiters;
use aws_sdk_dynamodb::config::http::HttpResponse;
use aws_sdk_dynamodb::error::SdkError;
use aws_sdk_dynamodb::operation::query::builders::QueryFluentBuilder;
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::TransactWriteItem;
use cachewatch_core::history::store::{StoreError, UnreadableLog};
use cachewatch_core::model::event::{EventId, MaintenanceEvent};

pub use schema::{IndexSchema, KEY_ATTRIBUTE_TYPE, TABLE_SCHEMA, TableSchema};
pub use search::SEARCH_HORIZON;

#[cfg(doc)]
use cachewatch_core::{
    alerting::delivery::DeliveryStore,
    history::store::{EventStore, WriteOutcome},
    lifecycle::Maintenance,
};

/// How long a store reads the events it wrote by key on top of the lifecycle index.
const READ_YOUR_WRITES: StdDuration = StdDuration::from_secs(300);
/// The most recent writes a store remembers (a bulk import remembers its last ones).
const RECENT_WRITES: usize = 10_000;
/// The most requests a store sends at once for one call (day partitions of a search, writes of
/// distinct events, look-ups of reports of the same occurrence).
const CONCURRENT_REQUESTS: usize = 16;
/// How long `create_table` waits for the table to become active.
const TABLE_ACTIVE_WITHIN: StdDuration = StdDuration::from_secs(300);

/// The event history in a DynamoDB table (see the module documentation for its design).
#[derive(Debug)]
pub struct DynamoStore {
    client: Client,
    table: String,
    page_limit: Option<i32>,
    recent: RecentWrites,
    unreadable: UnreadableLog,
    prefetched_mutes: std::sync::Mutex<Option<responses::PrefetchedMutes>>,
    prefetched_facts: std::sync::Mutex<Option<facts::PrefetchedFacts>>,
    claimed_alone: std::sync::Mutex<std::collections::HashMap<String, (bool, Instant)>>,
    held: std::sync::Mutex<events::Held>,
}

impl DynamoStore {
    /// A store on the table `table`, which must exist with [`TABLE_SCHEMA`].
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self {
            client,
            table: table.into(),
            page_limit: None,
            recent: RecentWrites::default(),
            unreadable: UnreadableLog::default(),
            prefetched_mutes: std::sync::Mutex::default(),
            prefetched_facts: std::sync::Mutex::default(),
            claimed_alone: std::sync::Mutex::default(),
            held: std::sync::Mutex::default(),
        }
    }

    /// Reads at most `items` items per `Query` request (otherwise DynamoDB's own page of 1 MB,
    /// and for searches the limit). Smaller pages bound what one request reads; tests use them to
    /// make every query span several pages.
    pub fn with_page_limit(mut self, items: usize) -> Self {
        self.page_limit = Some(i32::try_from(items.max(1)).unwrap_or(i32::MAX));
        self
    }

    /// The table's name.
    pub fn table(&self) -> &str {
        &self.table
    }

    /// The `Limit` of a query that needs at most `wanted` items, within the page limit.
    fn page_size(&self, wanted: usize) -> i32 {
        let wanted = i32::try_from(wanted.max(1)).unwrap_or(i32::MAX);
        self.page_limit.map_or(wanted, |limit| limit.min(wanted))
    }

    /// A `Query` of the table, pages limited as configured.
    fn query(&self) -> QueryFluentBuilder {
        self.client
            .query()
            .table_name(&self.table)
            .set_limit(self.page_limit)
    }

    /// Writes `actions` in one transaction: all of them, or none.
    async fn transact(
        &self,
        actions: Vec<TransactWriteItem>,
    ) -> Result<(), SdkError<TransactWriteItemsError, HttpResponse>> {
        self.client
            .transact_write_items()
            .set_transact_items(Some(actions))
            .send()
            .await?;
        Ok(())
    }

    /// Puts `item`, replacing any item with its key.
    async fn put(&self, item: items::Item, operation: &'static str) -> Result<(), StoreError> {
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .send()
            .await
            .map_err(|e| error::sdk_error(operation, e))?;
        Ok(())
    }

    /// Creates the table with [`TABLE_SCHEMA`] and waits until it is active. For tests and local
    /// emulators: deployments create it from the stack's template.
    pub async fn create_table(&self) -> Result<(), StoreError> {
        const OPERATION: &str = "create table";
        let parts = schema::create_table_parts(&TABLE_SCHEMA).map_err(|e| StoreError::Failed {
            operation: OPERATION,
            source: Box::new(e),
        })?;
        self.client
            .create_table()
            .table_name(&self.table)
            .set_attribute_definitions(Some(parts.attributes))
            .set_key_schema(Some(parts.key_schema))
            .set_global_secondary_indexes(Some(parts.indexes))
            .billing_mode(parts.billing_mode)
            .send()
            .await
            .map_err(|e| error::sdk_error(OPERATION, e))?;
        self.client
            .wait_until_table_exists()
            .table_name(&self.table)
            .wait(TABLE_ACTIVE_WITHIN)
            .await
            .map_err(|e| StoreError::Failed {
                operation: OPERATION,
                source: Box::new(e),
            })?;
        Ok(())
    }
}

/// The events a store wrote lately, with their lifecycle groups: an event it inserted as it wrote
/// it, a merged one by id only (read again by key).
#[derive(Debug, Default)]
struct RecentWrites {
    entries: Mutex<VecDeque<Recent>>,
}

#[derive(Debug)]
struct Recent {
    at: Instant,
    group: String,
    id: EventId,
    inserted: Option<MaintenanceEvent>,
}

impl RecentWrites {
    fn lock(&self) -> std::sync::MutexGuard<'_, VecDeque<Recent>> {
        // The list is only ever pushed to and trimmed: a panic cannot leave it inconsistent.
        self.entries.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Remembers that the event `id` of lifecycle group `group` was written now; `inserted` is
    /// the event as stored, when this write created it.
    fn note(&self, group: String, id: EventId, inserted: Option<MaintenanceEvent>) {
        let mut entries = self.lock();
        if entries.len() >= RECENT_WRITES {
            entries.pop_front();
        }
        entries.push_back(Recent {
            at: Instant::now(),
            group,
            id,
            inserted,
        });
    }

    /// The events written lately into any of `groups`: each id with the event as inserted, or
    /// `None` when it was rewritten since (its stored copy is to be read).
    fn of(&self, groups: &[String]) -> Vec<(EventId, Option<MaintenanceEvent>)> {
        let mut entries = self.lock();
        while entries
            .front()
            .is_some_and(|r| r.at.elapsed() > READ_YOUR_WRITES)
        {
            entries.pop_front();
        }
        let mut found: Vec<(EventId, Option<MaintenanceEvent>)> = Vec::new();
        for r in entries.iter().filter(|r| groups.contains(&r.group)) {
            found.retain(|(id, _)| *id != r.id);
            found.push((r.id.clone(), r.inserted.clone()));
        }
        found
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_store_remembers_its_writes_by_lifecycle_group() {
        let recent = RecentWrites::default();
        let id = |hex: &str| EventId::parse(hex).unwrap();
        recent.note("orders".into(), id("aaaaaaaaaaaaaaaaaaa1"), None);
        recent.note("payments".into(), id("bbbbbbbbbbbbbbbbbbb2"), None);
        recent.note("orders".into(), id("ccccccccccccccccccc3"), None);
        assert_eq!(
            recent.of(&["orders".to_owned()]),
            [
                (id("aaaaaaaaaaaaaaaaaaa1"), None),
                (id("ccccccccccccccccccc3"), None)
            ]
        );
        assert!(recent.of(&["sessions".to_owned()]).is_empty());
    }
}
