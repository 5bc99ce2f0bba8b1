//! The backfill's reading: what DescribeEvents still keeps for a time range, as events, so that
//! an event whose SNS delivery was lost (or of a cluster with no topic yet) reaches the history
//! all the same, through the one ingest entry (`cachewatch_app::ingest`). Used by the poller (an
//! overlapping look-back every run) and by `cachewatch backfill` (up to the 14 days ElastiCache
//! keeps).

use cachewatch_core::{MaintenanceEvent, ParseContext};
use chrono::{DateTime, Utc};

use super::{
    DescribedEvents, ElastiCache, ElastiCacheError, EventQuery, EventsProgress, RejectedRecord,
};

/// How far a backfill has got.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BackfillProgress {
    /// Reading DescribeEvents, after each page.
    Reading(EventsProgress),
    /// Storing what was read.
    Storing {
        /// Events stored so far.
        done: usize,
        /// Events read.
        of: usize,
    },
}

/// What DescribeEvents keeps for a time range.
#[derive(Debug, Clone, Default)]
pub struct Backfill {
    /// DescribeEvents records read.
    pub records: usize,
    /// Records that did not read as events (kept out, with why).
    pub rejected: Vec<RejectedRecord>,
    /// The events of the rest, oldest first.
    pub events: Vec<MaintenanceEvent>,
}

impl ElastiCache {
    /// Reads every event of `query`, received at `now`, oldest first (so that a maintenance's
    /// story is stored in order); `progress` hears after each page.
    pub async fn backfill(
        &self,
        query: &EventQuery,
        now: DateTime<Utc>,
        progress: &mut (dyn FnMut(EventsProgress) + Send),
    ) -> Result<Backfill, ElastiCacheError> {
        let described = self.describe_events(query, Some(progress)).await?;
        let records = described.len();
        let read = DescribedEvents::read(&described, &ParseContext::received_at(now));
        let mut events = read.events;
        events.sort_by_key(|e| e.occurred_at);
        Ok(Backfill {
            records,
            rejected: read.rejected,
            events,
        })
    }
}
