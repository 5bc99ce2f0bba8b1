//! ElastiCache: what the account's clusters are, their events, their service updates.
//!
//! [`ElastiCache`] wraps an `aws_sdk_elasticache::Client` and offers what cachewatch asks of the
//! service:
//!
//! | method | operations | for |
//! |---|---|---|
//! | [`FactsSource::facts_for`] | DescribeCacheClusters, DescribeReplicationGroups, DescribeSnapshots, ListTagsForResource | enriching an alert; cached, time-bounded, never an error |
//! | [`ElastiCache::describe_events`], [`ElastiCache::maintenance_events`] | DescribeEvents, every page | a notice's window |
//! | [`ElastiCache::backfill`] | DescribeEvents, every page, then the ingest | the poller, `cachewatch backfill` |
//! | [`ElastiCache::pending_service_updates`] | DescribeUpdateActions, every page | the upcoming digest |
//! | [`ElastiCache::coverage`] | DescribeCacheClusters, DescribeReplicationGroups, every page | the coverage audit |
//! | [`ElastiCache::set_notification_topic`] | ModifyReplicationGroup, ModifyCacheCluster | `audit --fix` |
//! | [`ElastiCache::test_failover`] | TestFailover | a failover rehearsal |
//! | [`ElastiCache::failover_target`], [`ElastiCache::failover_records`] | DescribeReplicationGroups, ListTagsForResource, DescribeEvents | a rehearsal's guard rails and following it |
//!
//! Paged operations follow `Marker` until ElastiCache stops answering one, and stop with
//! [`ElastiCacheError::MarkerLoop`] if it repeats one. Errors say whether trying again may
//! help ([`ElastiCacheError::is_retryable`]).

mod backfill;
mod error;
mod events;
mod facts;
mod failover;
mod fleet;

use std::collections::{HashMap, HashSet};
use std::sync::Mutex;
use std::time::Duration;

use aws_config::SdkConfig;
use aws_sdk_elasticache::Client;
use aws_sdk_elasticache::config::timeout::TimeoutConfig;
use aws_sdk_elasticache::primitives::DateTime as AwsDateTime;
use cachewatch_core::cluster::source::FactsSource;
use chrono::{DateTime, Utc};

pub use backfill::{Backfill, BackfillProgress};
pub use error::{ElastiCacheError, ErrorKind};
pub use events::{
    DescribedEvents, EVENT_RETENTION, EventQuery, EventRecord, EventsProgress, RejectedRecord,
    events_document,
};
pub use failover::FailoverLookupError;

/// How many records a page holds unless told otherwise: the most DescribeEvents allows.
pub const DEFAULT_PAGE_SIZE: i32 = 100;
/// How long a facts lookup may take in all before the alert goes out without the rest.
pub const DEFAULT_LOOKUP_TIMEOUT: Duration = Duration::from_secs(3);
/// How long looked-up facts are reused.
pub const DEFAULT_FACTS_TTL: Duration = Duration::from_secs(5 * 60);
/// How long a failed lookup is remembered, so that a burst of events about one cluster during an
/// outage waits once, not once per event.
pub const FAILED_LOOKUP_TTL: Duration = Duration::from_secs(30);
/// The per-attempt and whole-operation timeouts [`ElastiCache::from_sdk_config`] sets when the
/// configuration has none.
pub const DEFAULT_ATTEMPT_TIMEOUT: Duration = Duration::from_secs(10);
/// See [`DEFAULT_ATTEMPT_TIMEOUT`].
pub const DEFAULT_OPERATION_TIMEOUT: Duration = Duration::from_secs(30);

/// The most cached lookups kept.
const CACHE_ENTRIES: usize = 1024;

/// ElastiCache, as cachewatch uses it (see the module's documentation).
#[derive(Debug)]
pub struct ElastiCache {
    client: Client,
    page_size: i32,
    lookup_timeout: Duration,
    facts_ttl: Duration,
    cache: Mutex<HashMap<facts::FactsKey, facts::Cached>>,
}

impl ElastiCache {
    /// The adapter over `client`, with the default page size, lookup time bound and cache.
    pub fn new(client: Client) -> Self {
        Self {
            client,
            page_size: DEFAULT_PAGE_SIZE,
            lookup_timeout: DEFAULT_LOOKUP_TIMEOUT,
            facts_ttl: DEFAULT_FACTS_TTL,
            cache: Mutex::new(HashMap::new()),
        }
    }

    /// The adapter over a client built from `config` (see [`crate::aws::load`]), with
    /// [`DEFAULT_ATTEMPT_TIMEOUT`] and [`DEFAULT_OPERATION_TIMEOUT`] where `config` sets none.
    pub fn from_sdk_config(config: &SdkConfig) -> Self {
        let ours = TimeoutConfig::builder()
            .operation_attempt_timeout(DEFAULT_ATTEMPT_TIMEOUT)
            .operation_timeout(DEFAULT_OPERATION_TIMEOUT);
        let timeouts = match config.timeout_config() {
            Some(set) => set.to_builder().take_unset_from(ours).build(),
            None => ours.build(),
        };
        let conf = aws_sdk_elasticache::config::Builder::from(config)
            .timeout_config(timeouts)
            .build();
        Self::new(Client::from_conf(conf))
    }

    /// The same adapter asking for `records` per page (ElastiCache allows 20 to 100).
    pub fn with_page_size(self, records: i32) -> Self {
        Self {
            page_size: records.clamp(20, 100),
            ..self
        }
    }

    /// The same adapter giving a facts lookup at most `timeout` in all.
    pub fn with_lookup_timeout(self, timeout: Duration) -> Self {
        Self {
            lookup_timeout: timeout,
            ..self
        }
    }

    /// The same adapter reusing looked-up facts for `ttl` (zero: never).
    pub fn with_facts_ttl(self, ttl: Duration) -> Self {
        Self {
            facts_ttl: ttl,
            ..self
        }
    }

    /// An adapter over a client built from `config` (another account's or Region's, say) with
    /// this one's page size, lookup time bound and reuse window, and a cache of its own.
    pub fn alike(&self, config: &SdkConfig) -> Self {
        Self {
            page_size: self.page_size,
            lookup_timeout: self.lookup_timeout,
            facts_ttl: self.facts_ttl,
            ..Self::from_sdk_config(config)
        }
    }

    /// How long a facts lookup may take in all.
    pub fn lookup_timeout(&self) -> Duration {
        self.lookup_timeout
    }

    /// The SDK client.
    pub fn client(&self) -> &Client {
        &self.client
    }
}

impl FactsSource for ElastiCache {
    async fn facts_for(
        &self,
        event: &cachewatch_core::MaintenanceEvent,
        maintenance: Option<&cachewatch_core::Maintenance>,
    ) -> cachewatch_core::cluster::facts::ClusterFacts {
        self.facts_about(event, maintenance).await
    }

    fn looks_up(&self) -> bool {
        true
    }
}

/// Follows the `Marker`s of one paged operation.
pub(crate) struct Pager {
    operation: &'static str,
    marker: Option<String>,
    seen: HashSet<String>,
}

impl Pager {
    pub(crate) fn new(operation: &'static str) -> Self {
        Self {
            operation,
            marker: None,
            seen: HashSet::new(),
        }
    }

    /// The marker to send with the next request.
    pub(crate) fn marker(&self) -> Option<String> {
        self.marker.clone()
    }

    /// Takes the marker a page answered; whether there is another page.
    pub(crate) fn next(&mut self, answered: Option<&str>) -> Result<bool, ElastiCacheError> {
        match answered.filter(|m| !m.is_empty()) {
            None => Ok(false),
            Some(m) if !self.seen.insert(m.to_owned()) => Err(ElastiCacheError::MarkerLoop {
                operation: self.operation,
                marker: m.to_owned(),
            }),
            Some(m) => {
                self.marker = Some(m.to_owned());
                Ok(true)
            }
        }
    }
}

/// An SDK time as a chrono time, when it is one.
pub(crate) fn from_aws_time(at: &AwsDateTime) -> Option<DateTime<Utc>> {
    DateTime::from_timestamp(at.secs(), at.subsec_nanos())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paging_ends_without_a_marker_and_stops_on_a_repeated_one() {
        let mut pager = Pager::new("DescribeEvents");
        assert_eq!(pager.marker(), None);
        assert!(pager.next(Some("a")).unwrap());
        assert_eq!(pager.marker().as_deref(), Some("a"));
        assert!(pager.next(Some("b")).unwrap());
        let looped = pager.next(Some("a")).unwrap_err();
        assert!(
            matches!(looped, ElastiCacheError::MarkerLoop { .. }),
            "{looped}"
        );
        assert!(!Pager::new("x").next(Some("")).unwrap());
        assert!(!Pager::new("x").next(None).unwrap());
    }
}
