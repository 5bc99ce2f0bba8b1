//! Where facts about a cluster come from: the [`FactsSource`] trait. On AWS it asks ElastiCache
//! (engine, role, failover settings, backups); without AWS nothing is known, and alerts and
//! runbooks say how to find out.

use std::future::Future;

use crate::cluster::facts::ClusterFacts;
use crate::config::tags::Tags;
use crate::lifecycle::Maintenance;
use crate::model::event::MaintenanceEvent;

/// Looks up what is known about the cluster and node of an event. A failed lookup is not an
/// error: it returns facts whose `unavailable` says why, and the alert goes out all the same.
pub trait FactsSource: Send + Sync {
    /// The facts for `event` (and its maintenance).
    fn facts_for(
        &self,
        event: &MaintenanceEvent,
        maintenance: Option<&Maintenance>,
    ) -> impl Future<Output = ClusterFacts> + Send;

    /// The tags of the cluster of `event` (`None`: not known), for routes and mutes by tag: by
    /// default those of its facts. Asked only when a route or mute lists tags.
    fn tags_for(
        &self,
        event: &MaintenanceEvent,
        maintenance: Option<&Maintenance>,
    ) -> impl Future<Output = Option<Tags>> + Send {
        async move { self.facts_for(event, maintenance).await.tags }
    }

    /// Whether this source asks ElastiCache (the runbook then says when it was read), rather
    /// than knowing nothing or assuming a drill's scenario.
    fn looks_up(&self) -> bool {
        false
    }
}

/// No source: nothing is known.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoFacts;

impl FactsSource for NoFacts {
    async fn facts_for(
        &self,
        _event: &MaintenanceEvent,
        _maintenance: Option<&Maintenance>,
    ) -> ClusterFacts {
        ClusterFacts::default()
    }
}

/// A source that may not be configured: without one, nothing is known (as [`NoFacts`]).
impl<F: FactsSource> FactsSource for Option<F> {
    async fn facts_for(
        &self,
        event: &MaintenanceEvent,
        maintenance: Option<&Maintenance>,
    ) -> ClusterFacts {
        match self {
            Some(source) => source.facts_for(event, maintenance).await,
            None => ClusterFacts::default(),
        }
    }

    async fn tags_for(
        &self,
        event: &MaintenanceEvent,
        maintenance: Option<&Maintenance>,
    ) -> Option<Tags> {
        match self {
            Some(source) => source.tags_for(event, maintenance).await,
            None => None,
        }
    }
}
