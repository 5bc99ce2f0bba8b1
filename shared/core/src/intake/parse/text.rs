//! What the documented ElastiCache message texts say, read into facts.
//!
//! Each template is matched case-insensitively and tolerant of spacing and a final period. Texts
//! that match no template are kept as kind `unrecognized`. Two mappings are inferred rather than
//! documented: `Recovering cache nodes %s` is the text of `CacheNodeReplaceStarted`, and
//! `Cache node %s shutdown` belongs with `CacheNodesRebooted` (Memcached announces the shutdown
//! before the restart).

use std::sync::LazyLock;

use chrono::{DateTime, Utc};
use regex::{Captures, Regex};

use super::time::{parse_text_time, parse_window_end};
use crate::model::event::{FailoverNodes, Window};
use crate::model::kind::EventKind;

/// What a message text says.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct TextFacts {
    /// The kind the text corresponds to (`unrecognized` when none).
    pub kind: Option<EventKind>,
    /// `Cache Cluster ID: %s`, or the cluster of a snapshot.
    pub cluster_id: Option<String>,
    /// The replication group of a snapshot.
    pub replication_group_id: Option<String>,
    /// The nodes the text names (`Node ID: %s`, `cache nodes 0001,0002`).
    pub node_ids: Vec<String>,
    /// The maintenance window.
    pub window: Option<Window>,
    /// A reschedule's previous window.
    pub previous_window: Option<Window>,
    /// Failover source and target.
    pub failover: Option<FailoverNodes>,
    /// Other named values (snapshot id, node group, availability zone...).
    pub attributes: Vec<(&'static str, String)>,
    /// The text named a window that could not be read as a time.
    pub unreadable_window: bool,
}

struct Template {
    kind: &'static str,
    pattern: Regex,
}

fn template(kind: &'static str, pattern: &str) -> Template {
    let anchored = format!(r"(?is)^\s*{pattern}\s*\.?\s*$");
    Template {
        kind,
        pattern: Regex::new(&anchored).expect("templates are valid regular expressions"),
    }
}

static TEMPLATES: LazyLock<Vec<Template>> = LazyLock::new(|| {
    vec![
        template(
            EventKind::NODE_REPLACEMENT_SCHEDULED,
            r"The node with Cache Cluster ID:\s*(?P<cluster>.+?),\s*Node ID:\s*(?P<node>.+?)\s+is scheduled for replacement during the maintenance window from Start Time:\s*(?P<start>.+?),\s*End Time:\s*(?P<end>.+?)",
        ),
        template(
            EventKind::NODE_REPLACEMENT_RESCHEDULED,
            r"The replacement in maintenance window for node with Cache Cluster ID:\s*(?P<cluster>.+?),\s*Node ID:\s*(?P<node>.+?)\s+has (?:been )?re-?scheduled from Previous Start Time:\s*(?P<pstart>.+?),\s*Previous End Time:\s*(?P<pend>.+?)\s+to New Start Time:\s*(?P<start>.+?),\s*New End Time:\s*(?P<end>.+?)",
        ),
        template(
            EventKind::NODE_REPLACEMENT_CANCELED,
            r"The replacement for Cache Cluster ID:\s*(?P<cluster>.+?),\s*Node ID:\s*(?P<node>.+?)\s+scheduled during the maintenance window from Start Time:\s*(?P<start>.+?),\s*End Time:\s*(?P<end>.+?)\s+has been cancell?ed",
        ),
        template(
            EventKind::CACHE_NODE_REPLACE_STARTED,
            r"Recovering cache nodes?\s+(?P<nodes>[^\s].*?)",
        ),
        template(
            EventKind::CACHE_NODE_REPLACE_COMPLETE,
            r"Finished recovery for cache nodes?\s+(?P<nodes>[^\s].*?)",
        ),
        template(
            EventKind::FAILOVER_COMPLETE,
            r"Failover from (?:master|primary) node\s+(?P<from>\S+?)\s+to replica node\s+(?P<to>\S+?)\s+completed",
        ),
        template(
            EventKind::FAILOVER_COMPLETE,
            r"Failover to replica node\s+(?P<to>\S+?)\s+completed",
        ),
        template(
            EventKind::CACHE_NODES_REBOOTED,
            r"Cache nodes?\s+(?P<nodes>[^\s].*?)\s+(?:restarted|rebooted|shutdown|shut down)",
        ),
        template(
            EventKind::SERVICE_UPDATE_AVAILABLE_FOR_NODE,
            r"Service update is available for cache nodes?\s+(?P<nodes>[^\s].*?)",
        ),
        template(
            EventKind::SNAPSHOT_COMPLETE,
            r"Snapshot succeeded for snapshot with ID\s+'(?P<snapshot>[^']*)'\s+of cache cluster with ID\s+'(?P<cluster>[^']*)'",
        ),
        template(
            EventKind::SNAPSHOT_FAILED,
            r"Snapshot failed for snapshot with ID\s+'(?P<snapshot>[^']*)'\s+of cache cluster with ID\s+'(?P<cluster>[^']*)'.*?",
        ),
        template(
            EventKind::SNAPSHOT_COMPLETE,
            r"Snapshot succeeded for snapshot with ID\s+'(?P<snapshot>[^']*)'\s+of replication group with ID\s+'(?P<group>[^']*)'",
        ),
        template(
            EventKind::SNAPSHOT_FAILED,
            r"Snapshot failed for snapshot with ID\s+'(?P<snapshot>[^']*)'\s+of replication group with ID\s+'(?P<group>[^']*)'.*?",
        ),
        template(
            EventKind::CACHE_CLUSTER_PROVISIONING_COMPLETE,
            r"Cache cluster created",
        ),
        template(
            EventKind::TEST_FAILOVER_API_CALLED,
            r"Test Failover API called for node group\s+(?P<node_group>\S+?)",
        ),
        // AWS's event table lists this text under `AddCacheNodeComplete`
        // (https://docs.aws.amazon.com/AmazonElastiCache/latest/dg/ElastiCacheSNS.html).
        template(
            EventKind::ADD_CACHE_NODE_COMPLETE,
            r"Finished modifying number of nodes from\s+(?P<from_count>\d+)\s+to\s+(?P<to_count>\d+)",
        ),
        template(
            EventKind::ADD_CACHE_NODE_COMPLETE,
            r"Added cache node\s+(?P<node>\S+?)\s+in availability zone\s+(?P<az>\S+?)",
        ),
    ]
});

fn window_from(
    caps: &Captures<'_>,
    start: &str,
    end: &str,
    reference: DateTime<Utc>,
) -> Option<Window> {
    let start = parse_text_time(caps.name(start)?.as_str(), reference)?;
    let end = parse_window_end(caps.name(end)?.as_str(), start)?;
    Some(Window { start, end })
}

/// Splits `0001,0002`, `0001, 0002` or `0001 and 0002` into node ids.
fn node_list(raw: &str) -> Vec<String> {
    raw.split([',', ' '])
        .map(str::trim)
        .filter(|s| !s.is_empty() && !s.eq_ignore_ascii_case("and"))
        .map(str::to_owned)
        .collect()
}

/// Reads a message text; `reference` is the event's date, used to give window times their year.
pub fn read(message: &str, reference: DateTime<Utc>) -> TextFacts {
    let mut facts = TextFacts::default();
    let Some((template, caps)) = TEMPLATES
        .iter()
        .find_map(|t| t.pattern.captures(message).map(|c| (t, c)))
    else {
        facts.kind = Some(EventKind::new(EventKind::UNRECOGNIZED));
        return facts;
    };
    facts.kind = Some(EventKind::new(template.kind));
    let text = |name: &str| caps.name(name).map(|m| m.as_str().trim().to_owned());

    facts.cluster_id = text("cluster");
    facts.replication_group_id = text("group");
    if let Some(node) = text("node") {
        facts.node_ids.push(node);
    }
    if let Some(nodes) = text("nodes") {
        facts.node_ids.extend(node_list(&nodes));
    }
    if caps.name("start").is_some() {
        facts.window = window_from(&caps, "start", "end", reference);
        facts.unreadable_window |= facts.window.is_none();
    }
    if caps.name("pstart").is_some() {
        facts.previous_window = window_from(&caps, "pstart", "pend", reference);
        facts.unreadable_window |= facts.previous_window.is_none();
    }
    if caps.name("to").is_some() {
        facts.failover = Some(FailoverNodes {
            from: text("from"),
            to: text("to"),
        });
    }
    for name in ["snapshot", "node_group", "az", "from_count", "to_count"] {
        if let Some(value) = text(name) {
            let key = match name {
                "snapshot" => "snapshot_id",
                "az" => "availability_zone",
                other => other,
            };
            facts.attributes.push((key, value));
        }
    }
    facts
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    fn window(start: &str, end: &str) -> Option<Window> {
        Some(Window {
            start: at(start),
            end: at(end),
        })
    }

    #[test]
    fn scheduled_replacement_names_node_and_window() {
        let facts = read(
            "The node with Cache Cluster ID: billing-redis-0001-002, Node ID: 0001 is scheduled for replacement during the maintenance window from Start Time: Jun 25 19:00 UTC, End Time: Jun 25 20:00 UTC",
            at("2026-06-11T03:10:00Z"),
        );
        assert_eq!(facts.kind.unwrap().as_str(), "node_replacement_scheduled");
        assert_eq!(facts.cluster_id.as_deref(), Some("billing-redis-0001-002"));
        assert_eq!(facts.node_ids, ["0001"]);
        assert_eq!(
            facts.window,
            window("2026-06-25T19:00:00Z", "2026-06-25T20:00:00Z")
        );
        assert!(!facts.unreadable_window);
    }

    #[test]
    fn reschedule_carries_both_windows_across_new_year() {
        let facts = read(
            "The replacement in maintenance window for node with Cache Cluster ID: mc-sessions, Node ID: 2 has re-scheduled from Previous Start Time: Dec 29 23:00 UTC, Previous End Time: Dec 30 00:00 UTC to New Start Time: Jan 05 23:00 UTC, New End Time: Jan 06 00:00 UTC",
            at("2026-12-22T09:00:00Z"),
        );
        assert_eq!(facts.kind.unwrap().as_str(), "node_replacement_rescheduled");
        assert_eq!(facts.node_ids, ["2"]);
        assert_eq!(
            facts.previous_window,
            window("2026-12-29T23:00:00Z", "2026-12-30T00:00:00Z")
        );
        assert_eq!(
            facts.window,
            window("2027-01-05T23:00:00Z", "2027-01-06T00:00:00Z")
        );
    }

    #[test]
    fn cancellation_names_the_canceled_window() {
        let facts = read(
            "The replacement for Cache Cluster ID: billing-redis-0001-002, Node ID: 0001 scheduled during the maintenance window from Start Time: Jul 2 19:00 UTC, End Time: Jul 2 20:00 UTC has been canceled",
            at("2026-06-28T00:00:00Z"),
        );
        assert_eq!(facts.kind.unwrap().as_str(), "node_replacement_canceled");
        assert_eq!(
            facts.window,
            window("2026-07-02T19:00:00Z", "2026-07-02T20:00:00Z")
        );
    }

    #[test]
    fn failover_texts_name_their_nodes() {
        let facts = read(
            "Failover to replica node orders-0001-002 completed",
            at("2026-01-01T00:00:00Z"),
        );
        assert_eq!(facts.kind.unwrap().as_str(), "failover_complete");
        assert_eq!(
            facts.failover,
            Some(FailoverNodes {
                from: None,
                to: Some("orders-0001-002".into())
            })
        );

        let facts = read(
            "Failover from master node orders-0001-001 to replica node orders-0001-002 completed",
            at("2026-01-01T00:00:00Z"),
        );
        assert_eq!(
            facts.failover,
            Some(FailoverNodes {
                from: Some("orders-0001-001".into()),
                to: Some("orders-0001-002".into())
            })
        );
    }

    #[test]
    fn node_lists_become_several_nodes() {
        let facts = read(
            "Finished recovery for cache nodes 0001,0002",
            at("2026-01-01T00:00:00Z"),
        );
        assert_eq!(facts.kind.unwrap().as_str(), "cache_node_replace_complete");
        assert_eq!(facts.node_ids, ["0001", "0002"]);
        let facts = read("Cache node 0003 shutdown", at("2026-01-01T00:00:00Z"));
        assert_eq!(facts.kind.unwrap().as_str(), "cache_nodes_rebooted");
        assert_eq!(facts.node_ids, ["0003"]);
    }

    #[test]
    fn other_documented_texts_have_their_kinds() {
        let cases = [
            ("Cache node 0001 restarted", "cache_nodes_rebooted"),
            (
                "Service update is available for cache node 0001.",
                "service_update_available_for_node",
            ),
            (
                "Snapshot succeeded for snapshot with ID 'nightly-1' of cache cluster with ID 'orders-0001-001'",
                "snapshot_complete",
            ),
            (
                "Cache cluster created",
                "cache_cluster_provisioning_complete",
            ),
            (
                "Test Failover API called for node group 0001",
                "test_failover_api_called",
            ),
            (
                "Finished modifying number of nodes from 1 to 3",
                "add_cache_node_complete",
            ),
            (
                "Snapshot succeeded for snapshot with ID 'weekly-7' of replication group with ID 'quince'",
                "snapshot_complete",
            ),
            (
                "Added cache node 0002 in availability zone us-west-2a",
                "add_cache_node_complete",
            ),
            ("Recovering cache nodes 0001", "cache_node_replace_started"),
            ("Increasing number of requested nodes", "unrecognized"),
            ("", "unrecognized"),
        ];
        for (text, kind) in cases {
            assert_eq!(
                read(text, at("2026-01-01T00:00:00Z"))
                    .kind
                    .unwrap()
                    .as_str(),
                kind,
                "{text}"
            );
        }
    }

    #[test]
    fn an_unreadable_window_is_reported_not_invented() {
        let facts = read(
            "The node with Cache Cluster ID: c, Node ID: 0001 is scheduled for replacement during the maintenance window from Start Time: soon, End Time: later",
            at("2026-01-01T00:00:00Z"),
        );
        assert_eq!(facts.kind.unwrap().as_str(), "node_replacement_scheduled");
        assert_eq!(facts.window, None);
        assert!(facts.unreadable_window);
    }
}
