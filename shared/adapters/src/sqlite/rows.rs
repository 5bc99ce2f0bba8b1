//! Events as rows: the columns of one event, and the event of one row.

use std::collections::BTreeMap;

use cachewatch_core::history::store::StoreError;
use cachewatch_core::model::event::{EventId, FailoverNodes, MaintenanceEvent, Origin, Window};
use cachewatch_core::model::ids::{ClusterId, NodeId, ReplicationGroupId, SourceId};
use cachewatch_core::model::kind::{Category, EventKind};
use chrono::{DateTime, Utc};
use rusqlite::Row;

/// The columns an event is read from, in order, from `events e` joined to `maintenance_events m`
/// (see [`FROM_EVENTS`]).
pub const COLUMNS: &str = "e.id, e.event_name, e.kind, e.category, e.actionable, e.source_type, e.source_id, \
     e.cluster_id, e.node_id, e.replication_group_id, e.occurred_at, e.window_start, e.window_end, \
     e.previous_window_start, e.previous_window_end, e.message, e.region, e.account_id, e.failover_from, \
     e.failover_to, e.origin, e.received_at, e.attributes, e.drill, m.maintenance_id";

/// The tables [`COLUMNS`] are read from.
pub const FROM_EVENTS: &str = "events e LEFT JOIN maintenance_events m ON m.event_id = e.id";

/// Distinct events stamped in the same millisecond get distinct `seq`s below this.
pub const SEQ_SLOTS: i64 = 4096;

pub fn millis(at: DateTime<Utc>) -> i64 {
    at.timestamp_millis()
}

/// The first `seq` of a millisecond: time ranges are `seq` ranges.
pub fn seq_floor(at: DateTime<Utc>) -> i64 {
    millis(at).saturating_mul(SEQ_SLOTS)
}

/// Where an event would like to sit: its millisecond, and a slot from its id so that events of the
/// same millisecond rarely compete.
pub fn preferred_seq(e: &MaintenanceEvent) -> i64 {
    let slot = i64::from_str_radix(&e.id.as_str()[..3], 16).unwrap_or(0) % SEQ_SLOTS;
    seq_floor(e.occurred_at) + slot
}

/// The words a text search matches besides the message: the identifiers and the kind.
pub fn subjects(e: &MaintenanceEvent) -> String {
    let mut words = vec![e.source_id.as_str(), e.kind.as_str()];
    words.extend(e.cluster_id.as_ref().map(ClusterId::as_str));
    words.extend(
        e.replication_group_id
            .as_ref()
            .map(ReplicationGroupId::as_str),
    );
    words.extend(e.node_id.as_ref().map(NodeId::as_str));
    words.join(" ")
}

pub fn attributes_json(e: &MaintenanceEvent) -> Option<String> {
    (!e.attributes.is_empty()).then(|| serde_json::to_string(&e.attributes).unwrap_or_default())
}

fn corrupt(detail: impl Into<String>) -> StoreError {
    StoreError::Corrupt {
        what: "event",
        detail: detail.into(),
    }
}

fn time(ms: i64) -> Result<DateTime<Utc>, StoreError> {
    DateTime::from_timestamp_millis(ms).ok_or_else(|| corrupt(format!("time {ms} is out of range")))
}

fn window(start: Option<i64>, end: Option<i64>) -> Result<Option<Window>, StoreError> {
    match (start, end) {
        (Some(s), Some(e)) => Ok(Some(Window {
            start: time(s)?,
            end: time(e)?,
        })),
        _ => Ok(None),
    }
}

/// The values of one row, as read inside rusqlite's closure; [`RawEvent::into_event`] checks them.
pub struct RawEvent {
    id: String,
    event_name: Option<String>,
    kind: String,
    category: String,
    actionable: bool,
    source_type: String,
    source_id: String,
    cluster_id: Option<String>,
    node_id: Option<String>,
    replication_group_id: Option<String>,
    occurred_at: i64,
    window: (Option<i64>, Option<i64>),
    previous_window: (Option<i64>, Option<i64>),
    message: Option<String>,
    region: Option<String>,
    account_id: Option<String>,
    failover: (Option<String>, Option<String>),
    origin: String,
    received_at: i64,
    attributes: Option<String>,
    drill: bool,
    maintenance_id: Option<String>,
}

impl RawEvent {
    /// Reads the [`COLUMNS`] of a row.
    pub fn read(r: &Row<'_>) -> rusqlite::Result<Self> {
        Ok(Self {
            id: r.get(0)?,
            event_name: r.get(1)?,
            kind: r.get(2)?,
            category: r.get(3)?,
            actionable: r.get(4)?,
            source_type: r.get(5)?,
            source_id: r.get(6)?,
            cluster_id: r.get(7)?,
            node_id: r.get(8)?,
            replication_group_id: r.get(9)?,
            occurred_at: r.get(10)?,
            window: (r.get(11)?, r.get(12)?),
            previous_window: (r.get(13)?, r.get(14)?),
            message: r.get(15)?,
            region: r.get(16)?,
            account_id: r.get(17)?,
            failover: (r.get(18)?, r.get(19)?),
            origin: r.get(20)?,
            received_at: r.get(21)?,
            attributes: r.get(22)?,
            drill: r.get(23)?,
            maintenance_id: r.get(24)?,
        })
    }

    /// The event id the row is stored under, as stored.
    pub fn stored_id(&self) -> &str {
        &self.id
    }

    /// The event the row holds.
    pub fn into_event(self) -> Result<MaintenanceEvent, StoreError> {
        let id_err = |field: &'static str| {
            move |e: cachewatch_core::model::ids::IdError| corrupt(format!("{field}: {e}"))
        };
        let kind = EventKind::from_event_name(&self.kind)
            .ok_or_else(|| corrupt(format!("kind {:?}", self.kind)))?;
        let category = Category::parse(&self.category)
            .ok_or_else(|| corrupt(format!("category {:?}", self.category)))?;
        let attributes: BTreeMap<String, String> = match self.attributes.as_deref() {
            None | Some("") => BTreeMap::new(),
            Some(json) => {
                serde_json::from_str(json).map_err(|e| corrupt(format!("attributes: {e}")))?
            }
        };
        let failover = match self.failover {
            (None, None) => None,
            (from, to) => Some(FailoverNodes { from, to }),
        };
        Ok(MaintenanceEvent {
            id: EventId::parse(&self.id).ok_or_else(|| corrupt(format!("id {:?}", self.id)))?,
            event_name: self.event_name,
            kind,
            category,
            actionable: self.actionable,
            source_type: self.source_type,
            source_id: SourceId::parse(&self.source_id).map_err(id_err("source_id"))?,
            cluster_id: self
                .cluster_id
                .as_deref()
                .map(ClusterId::parse)
                .transpose()
                .map_err(id_err("cluster_id"))?,
            node_id: self
                .node_id
                .as_deref()
                .map(NodeId::parse)
                .transpose()
                .map_err(id_err("node_id"))?,
            replication_group_id: self
                .replication_group_id
                .as_deref()
                .map(ReplicationGroupId::parse)
                .transpose()
                .map_err(id_err("replication_group_id"))?,
            occurred_at: time(self.occurred_at)?,
            window: window(self.window.0, self.window.1)?,
            previous_window: window(self.previous_window.0, self.previous_window.1)?,
            message: self.message,
            region: self.region,
            account_id: self.account_id,
            failover,
            origin: Origin::parse(&self.origin)
                .ok_or_else(|| corrupt(format!("origin {:?}", self.origin)))?,
            received_at: time(self.received_at)?,
            attributes,
            drill: self.drill,
            maintenance_id: self.maintenance_id.as_deref().and_then(EventId::parse),
        })
    }
}
