//! Facts kept in the history with the time they were read, and the team's own measured
//! rehearsals: what a runbook falls back on when ElastiCache cannot be asked, and what it shows
//! beside AWS's documented impact.

use std::future::Future;

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use crate::cluster::facts::{ClusterFacts, Engine, NodeRole};
use crate::cluster::impact::{self, sources};
use crate::history::response::{HANDLED, Outcome};
use crate::history::store::StoreError;
use crate::model::event::{EventId, MaintenanceEvent, rfc3339};
use crate::model::timefmt::relative;

/// The facts of one cluster as ElastiCache described them at one time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FactsRecord {
    /// The cluster or replication group the notice named, as [`facts_key`] keeps it.
    pub cluster_id: String,
    /// When ElastiCache was asked.
    #[serde(with = "rfc3339")]
    pub read_at: DateTime<Utc>,
    /// What it said.
    pub facts: ClusterFacts,
}

/// Where the facts read from ElastiCache are kept.
pub trait FactsStore: Send + Sync {
    /// Keeps one reading (another reading at the same time for the same cluster replaces it).
    fn record_facts(
        &self,
        record: &FactsRecord,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// The latest reading kept for `cluster_id`, if any.
    fn latest_facts(
        &self,
        cluster_id: &str,
    ) -> impl Future<Output = Result<Option<FactsRecord>, StoreError>> + Send;
}

/// The id facts are kept under for an event: the cluster or group its notice names, in its
/// account and Region when the event says which (`orders-0001-001@123456789012/eu-west-1`), so
/// that two accounts' clusters of one name never lend each other their facts. An event without
/// an account keeps the bare name, under which facts were always kept.
pub fn facts_key(event: &MaintenanceEvent) -> String {
    match &event.account_id {
        Some(account) => format!(
            "{}@{account}/{}",
            event.source_id,
            event.region.as_deref().unwrap_or("-")
        ),
        None => event.source_id.to_string(),
    }
}

/// Whether a lookup learnt enough to be kept: ElastiCache described the cluster.
pub fn worth_keeping(facts: &ClusterFacts) -> bool {
    facts.engine.is_some()
}

/// How a runbook names facts kept from an earlier lookup: `Tue 01 Dec 2026 10:04 UTC, 5 days
/// ago (kept from the last lookup; not looked up now: --offline)`.
pub fn kept_facts_text(read_at: DateTime<Utc>, now: DateTime<Utc>, why_not_now: &str) -> String {
    format!(
        "{}, {} (kept from the last lookup; {})",
        read_at.format("%a %d %b %Y %H:%M UTC"),
        relative(now, read_at),
        why_not_now.trim_end_matches('.'),
    )
}

/// The facts that matter for a replacement, on one line: `Redis OSS 7.1.0; cluster mode
/// disabled; Multi-AZ on; automatic failover on; 2 replicas per shard; node role primary`.
pub fn facts_line(facts: &ClusterFacts) -> String {
    let on_off = |v: Option<bool>| match v {
        Some(true) => "on",
        Some(false) => "off",
        None => "not known",
    };
    let engine = match (facts.engine, &facts.engine_version) {
        (Some(e), Some(v)) => format!("{} {v}", e.display_name()),
        (Some(e), None) => format!("{} (version not known)", e.display_name()),
        (None, _) => "engine not known".to_owned(),
    };
    if facts.engine == Some(Engine::Memcached) {
        return engine;
    }
    let mode = match facts.cluster_mode_enabled {
        Some(true) => "enabled",
        Some(false) => "disabled",
        None => "not known",
    };
    let replicas = match facts.replicas_per_shard {
        Some(1) => "1 replica per shard".to_owned(),
        Some(n) => format!("{n} replicas per shard"),
        None => "replicas not known".to_owned(),
    };
    let role = facts.node_role.map_or("not known", NodeRole::as_str);
    format!(
        "{engine}; cluster mode {mode}; Multi-AZ {}; automatic failover {}; {replicas}; node role {role}",
        on_off(facts.multi_az),
        on_off(facts.automatic_failover),
    )
}

/// What a planned replacement of the node does, as AWS documents it, and the page it is from.
pub fn impact_line(facts: &ClusterFacts) -> (&'static str, &'static str) {
    match (facts.engine, facts.node_role) {
        (Some(Engine::Memcached), _) => (
            "Memcached keeps nothing on disk: the replaced node comes back empty.",
            sources::NODE_REPLACEMENT_MEMCACHED,
        ),
        (_, Some(NodeRole::Replica)) => (
            "A replica: it is replaced and comes back as a replica while the primary keeps taking writes; reads sent to its own endpoint fail until it is back.",
            sources::NODE_REPLACEMENT,
        ),
        _ => {
            let primary = impact::primary_impact(facts);
            (primary.summary(), primary.source())
        }
    }
}

/// The team's latest measured rehearsal of a cluster or group.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Rehearsal {
    /// The drill event it was recorded against.
    pub event_id: EventId,
    /// When it was recorded.
    #[serde(with = "rfc3339")]
    pub at: DateTime<Utc>,
    /// How it was handled (`test-failover`, `manual-failover`...).
    pub handled: String,
    /// The longest unavailability measured.
    #[serde(serialize_with = "seconds")]
    pub downtime: Duration,
}

fn seconds<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_i64(d.num_seconds())
}

/// The latest outcome with a measured downtime recorded against one of `drills` (the drill
/// events of the cluster or group): nothing when the team has measured nothing.
pub fn last_rehearsal(drills: &[MaintenanceEvent], outcomes: &[Outcome]) -> Option<Rehearsal> {
    outcomes
        .iter()
        .filter(|o| drills.iter().any(|e| e.drill && e.id == o.event_id))
        .filter_map(|o| {
            o.downtime.map(|downtime| Rehearsal {
                event_id: o.event_id.clone(),
                at: o.at,
                handled: o.handled.clone(),
                downtime,
            })
        })
        .max_by(|a, b| (a.at, &a.event_id).cmp(&(b.at, &b.event_id)))
}

impl Rehearsal {
    /// One sentence for the runbook's impact section: `Your team's last measured rehearsal of
    /// this cluster, Mon 02 Nov 2026 (Rehearsed with ElastiCache's TestFailover): unavailable
    /// for 4 seconds at the longest.`
    pub fn sentence(&self) -> String {
        let how = HANDLED
            .iter()
            .find(|(value, _)| *value == self.handled)
            .map_or("how it was handled was not recorded", |(_, label)| *label);
        format!(
            "Your team's last measured rehearsal of this cluster, {} ({how}): unavailable for {} at the longest, as measured then; AWS's documented impact is above.",
            self.at.format("%a %d %b %Y"),
            crate::model::timefmt::human_duration(self.downtime),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cluster::facts::NodeRole;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn kept_facts_say_when_they_were_read_and_why_they_were_not_read_again() {
        let text = kept_facts_text(
            at("2026-12-01T10:04:00Z"),
            at("2026-12-06T11:00:00Z"),
            "not looked up now: --offline.",
        );
        assert_eq!(
            text,
            "Tue 01 Dec 2026 10:04 UTC, 5 days ago (kept from the last lookup; not looked up now: --offline)"
        );
    }

    #[test]
    fn the_facts_line_names_what_decides_the_impact_and_what_is_not_known() {
        let facts = ClusterFacts {
            engine: Some(Engine::Redis),
            engine_version: Some("7.1.0".into()),
            cluster_mode_enabled: Some(false),
            multi_az: Some(true),
            automatic_failover: Some(true),
            replicas_per_shard: Some(1),
            node_role: Some(NodeRole::Primary),
            ..ClusterFacts::default()
        };
        assert_eq!(
            facts_line(&facts),
            "Redis OSS 7.1.0; cluster mode disabled; Multi-AZ on; automatic failover on; 1 replica per shard; node role primary"
        );
        let partial = ClusterFacts {
            engine: Some(Engine::Valkey),
            ..ClusterFacts::default()
        };
        assert_eq!(
            facts_line(&partial),
            "Valkey (version not known); cluster mode not known; Multi-AZ not known; automatic failover not known; replicas not known; node role not known"
        );
        assert_eq!(
            impact_line(&facts),
            (
                impact::PrimaryImpact::WritesContinue.summary(),
                sources::MULTI_AZ
            )
        );
    }

    #[test]
    fn only_facts_from_a_described_cluster_are_kept() {
        assert!(!worth_keeping(&ClusterFacts {
            unavailable: Some("AccessDenied".into()),
            ..ClusterFacts::default()
        }));
        assert!(worth_keeping(&ClusterFacts {
            engine: Some(Engine::Memcached),
            ..ClusterFacts::default()
        }));
    }

    fn event(date: &str, drill: bool) -> MaintenanceEvent {
        let input = format!(
            r#"{{"SourceIdentifier":"orders-0001-001","SourceType":"cache-cluster","Date":"{date}","Message":"Cache node 0001 restarted"}}"#
        );
        let mut e = crate::intake::parse::parse_document(
            &input,
            &crate::intake::parse::ParseContext::received_at(at("2026-12-01T00:00:00Z")),
        )
        .unwrap()
        .remove(0);
        e.drill = drill;
        e
    }

    fn outcome(e: &MaintenanceEvent, at_: &str, seconds: Option<i64>) -> Outcome {
        Outcome {
            event_id: e.id.clone(),
            handled: "test-failover".into(),
            site_maintenance: false,
            downtime: seconds.map(Duration::seconds),
            note: None,
            by: "alice".into(),
            at: at(at_),
        }
    }

    #[test]
    fn the_last_measured_rehearsal_is_the_latest_drill_outcome_with_a_downtime() {
        let old = event("2026-10-01T00:00:00Z", true);
        let newer = event("2026-11-02T00:00:00Z", true);
        let unmeasured = event("2026-11-20T00:00:00Z", true);
        let real = event("2026-11-25T00:00:00Z", false);
        let events = [old.clone(), newer.clone(), unmeasured.clone(), real.clone()];
        let outcomes = [
            outcome(&old, "2026-10-01T01:00:00Z", Some(9)),
            outcome(&newer, "2026-11-02T01:00:00Z", Some(4)),
            outcome(&unmeasured, "2026-11-20T01:00:00Z", None),
            outcome(&real, "2026-11-25T01:00:00Z", Some(120)),
        ];
        let last = last_rehearsal(&events, &outcomes).expect("a measured rehearsal");
        assert_eq!(last.event_id, newer.id);
        assert_eq!(last.downtime, Duration::seconds(4));
        assert_eq!(
            last.sentence(),
            "Your team's last measured rehearsal of this cluster, Mon 02 Nov 2026 (Rehearsed with ElastiCache's TestFailover): unavailable for 4 seconds at the longest, as measured then; AWS's documented impact is above."
        );
        assert_eq!(
            last_rehearsal(&events[2..], &outcomes),
            None,
            "nothing measured"
        );
    }
}
