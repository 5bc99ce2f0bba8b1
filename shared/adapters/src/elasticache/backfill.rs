//! The backfill: what DescribeEvents still keeps for a time range, through the one idempotent
//! ingest, so that an event whose SNS delivery was lost (or of a cluster with no topic yet) is
//! in the history all the same. Used by the poller (an overlapping look-back every run) and by
//! `cachewatch backfill` (up to the 14 days ElastiCache keeps).

use cachewatch_core::store::{EventStore, StoreError};
use cachewatch_core::{AlertPolicy, IngestOutcome, ParseContext, ingest};
use chrono::{DateTime, Utc};

use super::{
    DescribedEvents, ElastiCache, ElastiCacheError, EventQuery, EventsProgress, RejectedRecord,
};

/// How many events one ingest stores: progress is reported between them.
const CHUNK: usize = 500;

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

/// What a backfill did.
#[derive(Debug, Clone, Default)]
pub struct Backfill {
    /// DescribeEvents records read.
    pub records: usize,
    /// Records that did not read as events (kept out, with why).
    pub rejected: Vec<RejectedRecord>,
    /// The ingest of the rest: which events were new to the history.
    pub outcome: IngestOutcome,
}

/// Why a backfill stopped.
#[derive(Debug, thiserror::Error)]
pub enum BackfillError {
    /// ElastiCache could not be read.
    #[error(transparent)]
    ElastiCache(#[from] ElastiCacheError),
    /// The history could not be written. What was stored before stays stored.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl BackfillError {
    /// Whether trying again may help.
    pub fn is_retryable(&self) -> bool {
        match self {
            BackfillError::ElastiCache(e) => e.is_retryable(),
            BackfillError::Store(e) => e.is_retryable(),
        }
    }
}

impl ElastiCache {
    /// Reads every event of `query` and stores each occurrence once in `store`, deciding with
    /// `policy` which are actionable; `progress` hears after each page and each stored chunk.
    pub async fn backfill<S: EventStore>(
        &self,
        store: &S,
        query: &EventQuery,
        policy: &AlertPolicy,
        now: DateTime<Utc>,
        progress: &mut (dyn FnMut(BackfillProgress) + Send),
    ) -> Result<Backfill, BackfillError> {
        let mut reading = |p: EventsProgress| progress(BackfillProgress::Reading(p));
        let described = self.describe_events(query, Some(&mut reading)).await?;
        let records = described.len();
        let read = DescribedEvents::read(&described, &ParseContext::received_at(now));
        // Oldest first, so that a maintenance's story is told in order, chunk after chunk.
        let mut events = read.events;
        events.sort_by_key(|e| e.occurred_at);
        let of = events.len();
        let mut outcome = IngestOutcome::default();
        let mut done = 0;
        progress(BackfillProgress::Storing { done, of });
        let mut rest = events.into_iter().peekable();
        while rest.peek().is_some() {
            let chunk: Vec<_> = rest.by_ref().take(CHUNK).collect();
            done += chunk.len();
            let stored = ingest(store, chunk, policy).await?;
            outcome.events.extend(stored.events);
            outcome.maintenances.extend(stored.maintenances);
            progress(BackfillProgress::Storing { done, of });
        }
        Ok(Backfill {
            records,
            rejected: read.rejected,
            outcome,
        })
    }
}
