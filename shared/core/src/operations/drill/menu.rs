//! The failure menu: the tests a platform team offers its users before a release, as a plan for
//! one topology: which nodes to stop, and what the application should see.
//!
//! The menu comes from a team running ten thousand Redis nodes: one replica down (normal
//! maintenance), one primary down (failover), all replicas of a shard down, a majority of
//! primaries down (the cluster is down), all primaries down, one whole shard down, every node down.
//! What breaks in those tests is seldom the cache: it is a client health check that restarts the
//! application when any one node is down, or a client that mixes up replies after a reconnect.

use std::fmt::Write as _;

use serde::Serialize;

/// What one shard (node group) is made of.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Shard {
    /// The node group id (`0001`).
    pub id: String,
    /// The node that takes the writes.
    pub primary: String,
    /// Its replicas.
    pub replicas: Vec<String>,
}

/// The shards of a replication group.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Topology {
    /// The replication group.
    pub group: String,
    /// Its shards, in node group order.
    pub shards: Vec<Shard>,
    /// Whether the node names were worked out from ElastiCache's naming rather than read from
    /// ElastiCache: after failovers, the primary may be another member.
    pub names_assumed: bool,
}

impl Topology {
    /// A topology of `shards` shards of one primary and `replicas` replicas each, named as
    /// ElastiCache names members: `{group}-{shard:04}-{node:03}` when there are several shards,
    /// `{group}-{node:03}` for one; node `001` taken as the primary.
    pub fn named(group: &str, shards: u32, replicas: u32) -> Self {
        let shards = (1..=shards.max(1))
            .map(|s| {
                let name = |n: u32| {
                    if shards > 1 {
                        format!("{group}-{s:04}-{n:03}")
                    } else {
                        format!("{group}-{n:03}")
                    }
                };
                Shard {
                    id: format!("{s:04}"),
                    primary: name(1),
                    replicas: (2..=replicas + 1).map(name).collect(),
                }
            })
            .collect();
        Topology {
            group: group.to_owned(),
            shards,
            names_assumed: true,
        }
    }

    /// How many nodes in all.
    pub fn node_count(&self) -> usize {
        self.shards.iter().map(|s| 1 + s.replicas.len()).sum()
    }

    /// The fewest replicas any shard has.
    fn min_replicas(&self) -> usize {
        self.shards
            .iter()
            .map(|s| s.replicas.len())
            .min()
            .unwrap_or(0)
    }
}

/// How much of the cluster a test leaves serving.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Impact {
    /// The application should notice nothing (beyond a few retried reads).
    None,
    /// Part of the keys is unavailable for a while.
    Partial,
    /// The whole cluster is unavailable.
    Total,
}

/// One test of the menu.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FailureTest {
    /// A short name (`one-replica`).
    pub name: &'static str,
    /// What is tested, as the menu says it.
    pub title: &'static str,
    /// The nodes to stop (empty: the test does not apply to this topology).
    pub stop: Vec<String>,
    /// What the application should see.
    pub expect: String,
    /// How much of the cluster it takes away.
    pub impact: Impact,
}

/// The menu of failure tests for `topology`, in the order they are usually run: least harmful
/// first.
pub fn failure_menu(topology: &Topology) -> Vec<FailureTest> {
    let shards = &topology.shards;
    let menu = Menu {
        topology,
        shards,
        first: &shards[0],
        n: shards.len(),
        replicated: topology.min_replicas() > 0,
        majority: shards.len() / 2 + 1,
        primaries: shards.iter().map(|s| s.primary.clone()).collect(),
        failover: format!(
            "AWS gives no duration for a failed primary (for planned replacements it documents \
             writes continuing with cluster mode enabled or with Multi-AZ on 5.0.6 or later, and an \
             interruption of up to a few seconds on 4.0.10 or older: {}), so measure it with \
             `cachewatch probe`; clients must then follow the new primary",
            crate::cluster::impact::sources::MULTI_AZ
        ),
    };
    vec![
        menu.one_replica(),
        menu.one_primary(),
        menu.all_replicas_of_a_shard(),
        menu.majority_of_primaries(),
        menu.all_primaries(),
        menu.one_shard(),
        menu.every_node(),
    ]
}

/// What the failure tests are worked out from: the topology, its first shard, and what a
/// failover of a primary costs as AWS documents it.
struct Menu<'a> {
    topology: &'a Topology,
    shards: &'a [Shard],
    first: &'a Shard,
    n: usize,
    replicated: bool,
    majority: usize,
    primaries: Vec<String>,
    failover: String,
}

impl Menu<'_> {
    fn one_replica(&self) -> FailureTest {
        let topology = self.topology;
        let first = self.first;
        FailureTest {
            name: "one-replica",
            title: "One replica down (what a normal maintenance does)",
            stop: first.replicas.first().cloned().into_iter().collect(),
            expect: if first.replicas.is_empty() {
                "Not applicable: the shards have no replicas. Add replicas (two per shard keeps a \
                 primary and a replica in every shard while one node is under maintenance)."
                    .into()
            } else {
                format!(
                    "Nothing, beyond reads served by that replica being retried elsewhere. Writes and \
                     the other shards continue. If the application reports itself unhealthy or \
                     restarts, its health check depends on every node of {}: fix that before a real \
                     maintenance does it.",
                    topology.group
                )
            },
            impact: Impact::None,
        }
    }

    fn one_primary(&self) -> FailureTest {
        let first = self.first;
        let failover = &self.failover;
        FailureTest {
            name: "one-primary",
            title: "One primary down (a failover)",
            stop: vec![first.primary.clone()],
            expect: if first.replicas.is_empty() {
                format!(
                    "Shard {} is unavailable until its node is back, and comes back empty unless \
                     its data is persisted: there is no replica to promote.",
                    first.id
                )
            } else {
                format!(
                    "Writes to shard {} fail until a replica is promoted: {failover}. Reads and \
                     writes of the other shards continue. After the test, count the keys: they \
                     must match.",
                    first.id
                )
            },
            impact: Impact::Partial,
        }
    }

    fn all_replicas_of_a_shard(&self) -> FailureTest {
        let first = self.first;
        FailureTest {
            name: "all-replicas-of-a-shard",
            title: "All replicas of a shard down",
            stop: first.replicas.clone(),
            expect: if first.replicas.is_empty() {
                "Not applicable: the shards have no replicas.".into()
            } else {
                format!(
                    "Shard {} keeps serving from its primary alone, with no failover candidate: \
                     nothing visible, but if the primary fails now the shard is down. Reads sent \
                     to replicas move to the primary, which takes their load.",
                    first.id
                )
            },
            impact: Impact::None,
        }
    }

    fn majority_of_primaries(&self) -> FailureTest {
        let n = self.n;
        let majority = self.majority;
        let primaries = &self.primaries;
        FailureTest {
            name: "majority-of-primaries",
            title: "A majority of primaries down",
            stop: primaries.iter().take(majority).cloned().collect(),
            expect: if n == 1 {
                "With one shard, the same as one primary down.".into()
            } else {
                format!(
                    "The cluster loses quorum: {majority} of {n} primaries are down, so no replica \
                     can be voted in; the whole cluster is unavailable (CLUSTERDOWN) until primaries \
                     come back. The application must fail clearly and recover by itself."
                )
            },
            impact: if n == 1 {
                Impact::Partial
            } else {
                Impact::Total
            },
        }
    }

    fn all_primaries(&self) -> FailureTest {
        let n = self.n;
        let replicated = self.replicated;
        let primaries = &self.primaries;
        let failover = &self.failover;
        FailureTest {
            name: "all-primaries",
            title: "All primaries down",
            stop: primaries.clone(),
            expect: if replicated && n == 1 {
                format!("No writes until a replica is promoted: {failover}.")
            } else {
                "The whole cluster is unavailable for writes, and with a majority of primaries gone \
                 no replica is promoted: everything is down until the primaries come back. Check \
                 that the application's errors say so and that it reconnects by itself."
                    .into()
            },
            impact: Impact::Total,
        }
    }

    fn one_shard(&self) -> FailureTest {
        let first = self.first;
        let n = self.n;
        let mut whole_shard = vec![first.primary.clone()];
        whole_shard.extend(first.replicas.iter().cloned());
        FailureTest {
            name: "one-shard",
            title: "One whole shard down",
            stop: whole_shard,
            expect: if n == 1 {
                "With one shard, every node: the cluster is unavailable and comes back with only \
                 what was persisted or restored from a backup."
                    .into()
            } else {
                format!(
                    "The keys of shard {}'s slots are unavailable (and by default the whole cluster \
                     refuses requests, as cluster-require-full-coverage is on); its data comes back \
                     only from a backup.",
                    first.id
                )
            },
            impact: if n == 1 {
                Impact::Total
            } else {
                Impact::Partial
            },
        }
    }

    fn every_node(&self) -> FailureTest {
        let shards = self.shards;
        FailureTest {
            name: "every-node",
            title: "Every node down",
            stop: shards
                .iter()
                .flat_map(|s| std::iter::once(s.primary.clone()).chain(s.replicas.iter().cloned()))
                .collect(),
            expect: "The cache is gone: the application must keep working, or fail clearly, \
                     without it, and start again on an empty cache (cold start load on the \
                     database, sessions lost unless restored)."
                .into(),
            impact: Impact::Total,
        }
    }
}

/// The menu as Markdown: the topology, then one section per test.
pub fn render_markdown(topology: &Topology, tests: &[FailureTest]) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "# Failure menu for {}\n\n{} shard{} × {} replica{} per shard, {} nodes.\n",
        topology.group,
        topology.shards.len(),
        if topology.shards.len() == 1 { "" } else { "s" },
        topology.min_replicas(),
        if topology.min_replicas() == 1 {
            ""
        } else {
            "s"
        },
        topology.node_count()
    );
    for shard in &topology.shards {
        let _ = writeln!(
            out,
            "- shard {}: primary `{}`{}",
            shard.id,
            shard.primary,
            if shard.replicas.is_empty() {
                String::new()
            } else {
                format!(
                    ", replicas {}",
                    shard
                        .replicas
                        .iter()
                        .map(|r| format!("`{r}`"))
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            }
        );
    }
    if topology.names_assumed {
        out.push_str(
            "\nNode names follow ElastiCache's member naming, with node 001 as each shard's \
             primary. After a failover another member is the primary: check the roles \
             (`aws elasticache describe-replication-groups`) and stop the nodes in the role \
             each test names.\n",
        );
    }
    out.push_str(
        "\nRun them on a staging copy, least harmful first, with the application under its usual \
         load and `cachewatch probe` beside it to measure each interruption.\n",
    );
    for (i, t) in tests.iter().enumerate() {
        let _ = writeln!(out, "\n## {}. {}\n", i + 1, t.title);
        if t.stop.is_empty() {
            let _ = writeln!(out, "{}", t.expect);
            continue;
        }
        let _ = writeln!(
            out,
            "Stop: {}\n\nExpect: {}",
            t.stop
                .iter()
                .map(|n| format!("`{n}`"))
                .collect::<Vec<_>>()
                .join(", "),
            t.expect
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn find<'a>(tests: &'a [FailureTest], name: &str) -> &'a FailureTest {
        tests.iter().find(|t| t.name == name).unwrap()
    }

    #[test]
    fn a_three_by_two_cluster_names_its_nodes_as_elasticache_does() {
        let t = Topology::named("orders", 3, 2);
        assert_eq!(t.node_count(), 9);
        assert_eq!(t.shards[1].id, "0002");
        assert_eq!(t.shards[1].primary, "orders-0002-001");
        assert_eq!(t.shards[1].replicas, ["orders-0002-002", "orders-0002-003"]);
        let single = Topology::named("sessions", 1, 1);
        assert_eq!(single.shards[0].primary, "sessions-001");
        assert_eq!(single.shards[0].replicas, ["sessions-002"]);
    }

    #[test]
    fn the_menu_has_the_seven_tests_with_the_nodes_each_stops() {
        let tests = failure_menu(&Topology::named("orders", 3, 2));
        let names: Vec<&str> = tests.iter().map(|t| t.name).collect();
        assert_eq!(
            names,
            [
                "one-replica",
                "one-primary",
                "all-replicas-of-a-shard",
                "majority-of-primaries",
                "all-primaries",
                "one-shard",
                "every-node"
            ]
        );
        assert_eq!(find(&tests, "one-replica").stop, ["orders-0001-002"]);
        assert_eq!(find(&tests, "one-replica").impact, Impact::None);
        assert_eq!(find(&tests, "one-primary").stop, ["orders-0001-001"]);
        assert!(
            find(&tests, "one-primary")
                .expect
                .contains("Writes to shard 0001 fail")
        );
        assert_eq!(
            find(&tests, "majority-of-primaries").stop,
            ["orders-0001-001", "orders-0002-001"]
        );
        assert!(
            find(&tests, "majority-of-primaries")
                .expect
                .contains("quorum")
        );
        assert_eq!(find(&tests, "majority-of-primaries").impact, Impact::Total);
        assert_eq!(find(&tests, "all-primaries").stop.len(), 3);
        assert_eq!(
            find(&tests, "one-shard").stop,
            ["orders-0001-001", "orders-0001-002", "orders-0001-003"]
        );
        assert_eq!(find(&tests, "every-node").stop.len(), 9);
    }

    #[test]
    fn a_failed_primary_is_described_by_aws_with_its_page_not_by_a_team_s_minutes() {
        for topology in [
            Topology::named("orders", 3, 2),
            Topology::named("one", 1, 1),
        ] {
            let tests = failure_menu(&topology);
            for name in ["one-primary", "all-primaries"] {
                let expect = &find(&tests, name).expect;
                assert!(!expect.contains("2 minutes"), "{name}: {expect}");
                if expect.contains("until a replica is promoted") {
                    assert!(
                        expect.contains(crate::cluster::impact::sources::MULTI_AZ),
                        "{name}: {expect}"
                    );
                    assert!(expect.contains("a few seconds on 4.0.10"), "{expect}");
                }
            }
        }
    }

    #[test]
    fn without_replicas_the_replica_tests_do_not_apply() {
        let tests = failure_menu(&Topology::named("cache", 2, 0));
        assert!(find(&tests, "one-replica").stop.is_empty());
        assert!(
            find(&tests, "one-replica")
                .expect
                .starts_with("Not applicable")
        );
        assert!(
            find(&tests, "one-primary")
                .expect
                .contains("no replica to promote")
        );
    }

    #[test]
    fn the_markdown_plan_names_the_nodes_and_what_to_expect() {
        let topology = Topology::named("orders", 3, 2);
        let md = render_markdown(&topology, &failure_menu(&topology));
        assert!(md.starts_with("# Failure menu for orders"), "{md}");
        assert!(
            md.contains("3 shards × 2 replicas per shard, 9 nodes"),
            "{md}"
        );
        assert!(md.contains("## 4. A majority of primaries down"), "{md}");
        assert!(
            md.contains("Stop: `orders-0001-001`, `orders-0002-001`"),
            "{md}"
        );
        assert!(md.contains("member naming"), "{md}");
    }
}
