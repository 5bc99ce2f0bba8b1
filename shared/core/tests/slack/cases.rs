//! The Slack cases: one maintenance (or event) per message the product posts, at fixed times,
//! with the facts enrichment would have found. The golden files under `tests/golden/slack/` are
//! these cases rendered.

use chrono::{DateTime, Duration, Utc};

use crate::scenes;

use cachewatch_core::alerting::slack::{self, Acknowledgement, AlertContext, SlackMessage};
use cachewatch_core::cluster::facts::{ClusterFacts, Engine, NodeRole};
use cachewatch_core::lifecycle::{self, Maintenance};
use cachewatch_core::model::event::{MaintenanceEvent, Window};
use cachewatch_core::model::ids::ReplicationGroupId;
use cachewatch_core::model::kind::EventKind;
use cachewatch_core::model::timefmt::Zone;
use cachewatch_core::runbook::{Owners, Runbook, RunbookInput, Runbooks};

pub use crate::scenes::{NOW, Node, at, memcached_facts, redis_primary_facts, scheduled, window};
use crate::scenes::{failover, scheduled_text};

/// The kinds of event a message is drawn for: each step of a replacement, a failover and a
/// failed snapshot.
pub const DRAWN_KINDS: [&str; 7] = [
    EventKind::NODE_REPLACEMENT_SCHEDULED,
    EventKind::NODE_REPLACEMENT_RESCHEDULED,
    EventKind::NODE_REPLACEMENT_CANCELED,
    EventKind::CACHE_NODE_REPLACE_STARTED,
    EventKind::CACHE_NODE_REPLACE_COMPLETE,
    EventKind::FAILOVER_COMPLETE,
    EventKind::SNAPSHOT_FAILED,
];

/// The runbook page of every case that has one.
pub const RUNBOOK_URL: &str = "https://cachewatch.example.com/runbooks/";

/// Which messages a case renders, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Render {
    /// The thread parent.
    Alert,
    /// A reply for the case's event.
    Update,
    /// A reply for another event of the maintenance (by index in `events`).
    UpdateFor(usize),
}

impl Render {
    pub fn label(self) -> String {
        match self {
            Render::Alert => "alert".into(),
            Render::Update => "update".into(),
            Render::UpdateFor(i) => format!("update for event {i}"),
        }
    }
}

/// A Slack case: a maintenance (or an event), the moment, and what to render.
pub struct Case {
    pub name: &'static str,
    /// The event messages are about: the maintenance's latest unless said otherwise.
    pub event: MaintenanceEvent,
    /// The maintenance's events, in the order they happened.
    pub events: Vec<MaintenanceEvent>,
    pub maintenance: Option<Maintenance>,
    pub previous: Option<Maintenance>,
    pub facts: ClusterFacts,
    pub now: DateTime<Utc>,
    pub zone: Zone,
    pub runbook_url: Option<String>,
    pub actions: bool,
    pub acknowledged: Option<Acknowledgement>,
    pub owners: Owners,
    pub renders: Vec<Render>,
}

impl Case {
    /// The context for the case's event.
    pub fn context(&self) -> AlertContext<'_> {
        self.context_for(&self.event)
    }

    /// The context for `event`, one of the case's.
    pub fn context_for<'a>(&'a self, event: &'a MaintenanceEvent) -> AlertContext<'a> {
        let mut ctx = AlertContext::new(event, &self.facts, &self.owners, self.now);
        if let Some(m) = &self.maintenance {
            ctx = ctx.with_maintenance(m, &self.events);
        }
        ctx.previous = self.previous.as_ref();
        ctx.runbook_url = self.runbook_url.clone();
        ctx.zone = self.zone;
        ctx.actions = self.actions;
        ctx.acknowledged = self.acknowledged.clone();
        ctx
    }

    /// The case's messages, each with its label.
    pub fn messages(&self) -> Vec<(String, SlackMessage)> {
        self.renders
            .iter()
            .map(|r| {
                let message = match r {
                    Render::Alert => slack::alert(&self.context()),
                    Render::Update => slack::update(&self.context()),
                    Render::UpdateFor(i) => slack::update(&self.context_for(&self.events[*i])),
                };
                (r.label(), message)
            })
            .collect()
    }

    /// The runbook of the case, rendered from the embedded templates.
    pub fn runbook(&self) -> Runbook {
        let input = RunbookInput::new(&self.event, &self.facts, &self.owners, self.now);
        let input = match &self.maintenance {
            Some(m) => input.with_maintenance(m, &self.events),
            None => input,
        };
        Runbooks::embedded().render(&input).unwrap()
    }
}

/// A case for the last of `events`, within its maintenance, rendering the alert.
pub fn in_maintenance(
    name: &'static str,
    events: Vec<MaintenanceEvent>,
    facts: ClusterFacts,
) -> Case {
    let event = events.last().unwrap().clone();
    let all = lifecycle::assemble(&events);
    let maintenance = all
        .iter()
        .find(|m| m.event_ids.contains(&event.id))
        .cloned()
        .expect("the event belongs to a maintenance");
    let previous = maintenance
        .repeat_of
        .as_ref()
        .and_then(|id| all.iter().find(|m| &m.id == id).cloned());
    let own: Vec<MaintenanceEvent> = maintenance
        .event_ids
        .iter()
        .filter_map(|id| events.iter().find(|e| &e.id == id).cloned())
        .collect();
    Case {
        name,
        event,
        events: own,
        maintenance: Some(maintenance),
        previous,
        facts,
        now: at(NOW),
        zone: Zone::Utc,
        runbook_url: None,
        actions: false,
        acknowledged: None,
        owners: Owners::default(),
        renders: vec![Render::Alert],
    }
}

/// An event alone, outside any maintenance.
fn alone(name: &'static str, event: MaintenanceEvent, facts: ClusterFacts) -> Case {
    Case {
        name,
        events: vec![event.clone()],
        event,
        maintenance: None,
        previous: None,
        facts,
        now: at(NOW),
        zone: Zone::Utc,
        runbook_url: None,
        actions: false,
        acknowledged: None,
        owners: Owners::default(),
        renders: vec![Render::Alert],
    }
}

fn url_of(case: &Case) -> String {
    let id = case
        .maintenance
        .as_ref()
        .map_or_else(|| case.event.id.to_string(), |m| m.id.to_string());
    format!("{RUNBOOK_URL}{id}")
}

fn redis_primary() -> Case {
    in_maintenance(
        "redis-primary",
        vec![scheduled("orders-0001-001", "0001", None)],
        redis_primary_facts(),
    )
}

fn redis_primary_linked() -> Case {
    let mut case = redis_primary();
    case.name = "redis-primary-linked";
    case.runbook_url = Some(url_of(&case));
    case
}

fn redis_primary_actions() -> Case {
    let mut case = redis_primary();
    case.name = "redis-primary-actions";
    case.runbook_url = Some(url_of(&case));
    case.actions = true;
    case
}

fn redis_primary_acknowledged() -> Case {
    let mut case = redis_primary();
    case.name = "redis-primary-acknowledged";
    case.actions = true;
    case.acknowledged = Some(Acknowledgement {
        by: "mika.tanaka".into(),
        at: at("2026-06-22T09:12:00Z"),
    });
    case.now = at("2026-06-22T09:12:00Z");
    case
}

fn redis_replica() -> Case {
    in_maintenance(
        "redis-replica",
        vec![scheduled("orders-0001-002", "0001", None)],
        scenes::orders_replica(redis_primary_facts()),
    )
}

fn redis_role_unknown() -> Case {
    let event = scenes::billing_scheduled();
    alone("redis-role-unknown", event, ClusterFacts::default())
}

fn facts_unavailable() -> Case {
    in_maintenance(
        "facts-unavailable",
        vec![scheduled("billing-0001-001", "0001", Some("billing"))],
        ClusterFacts {
            unavailable: Some("DescribeCacheClusters was denied (AccessDenied)".into()),
            ..ClusterFacts::default()
        },
    )
}

fn valkey_primary() -> Case {
    let mut case = in_maintenance(
        "valkey-primary",
        vec![scenes::feeds_scheduled(Some("ap-northeast-1"))],
        ClusterFacts {
            engine: Some(Engine::Valkey),
            engine_version: Some("8.0.1".into()),
            replication_group_id: Some("feeds".into()),
            replicas_per_shard: Some(1),
            latest_snapshot_at: Some(at("2026-06-19T03:10:00Z")),
            production: None,
            ..redis_primary_facts()
        },
    );
    // The team reads plain text in Tokyo time: fallbacks are written in it.
    case.zone = "Asia/Tokyo".parse().unwrap();
    case
}

fn memcached() -> Case {
    in_maintenance(
        "memcached",
        vec![scheduled("sessions-mc", "0002", None)],
        memcached_facts(),
    )
}

fn memcached_repeat() -> Case {
    let mut case = in_maintenance(
        "memcached-repeat",
        scenes::memcached_repeat(),
        memcached_facts(),
    );
    case.renders = vec![Render::Alert, Render::Update];
    case
}

fn rescheduled() -> Case {
    let mut case = in_maintenance("rescheduled", scenes::rescheduled(), redis_primary_facts());
    case.renders = vec![Render::Update, Render::Alert];
    case
}

fn canceled() -> Case {
    let mut case = in_maintenance("canceled", scenes::canceled(), redis_primary_facts());
    case.renders = vec![Render::Update, Render::Alert];
    case
}

fn replacement_started() -> Case {
    let started = scenes::replace_started("orders-0001-001", "0001", None, "2026-06-25T19:03:00Z");
    let mut case = in_maintenance(
        "replacement-started",
        vec![scheduled("orders-0001-001", "0001", None), started],
        redis_primary_facts(),
    );
    case.now = at("2026-06-25T19:10:00Z");
    case.renders = vec![Render::Update, Render::Alert];
    case
}

fn completed_with_failover() -> Case {
    let started = scenes::replace_started("orders-0001-001", "0001", None, "2026-06-25T19:03:00Z");
    let failed_over = failover(
        "orders-0001-001",
        "orders-0001-002",
        "orders",
        "2026-06-25T19:05:00Z",
    );
    let done = scenes::replace_completed("orders-0001-001", "0001", None, "2026-06-25T19:21:00Z");
    let mut case = in_maintenance(
        "completed-with-failover",
        vec![
            scheduled("orders-0001-001", "0001", None),
            started,
            failed_over,
            done,
        ],
        redis_primary_facts(),
    );
    case.now = at("2026-06-25T19:30:00Z");
    let failover_index = case
        .events
        .iter()
        .position(|e| e.kind.is(EventKind::FAILOVER_COMPLETE))
        .expect("the failover joined the replacement");
    case.renders = vec![
        Render::UpdateFor(failover_index),
        Render::Update,
        Render::Alert,
    ];
    case
}

fn failover_unplanned() -> Case {
    let mut case = in_maintenance(
        "failover-unplanned",
        vec![failover(
            "orders-0001-001",
            "orders-0001-002",
            "orders",
            "2026-06-22T05:02:00Z",
        )],
        ClusterFacts {
            node_role: None,
            ..redis_primary_facts()
        },
    );
    case.renders = vec![Render::Alert, Render::Update];
    case
}

fn window_passed() -> Case {
    let mut case = in_maintenance(
        "window-passed",
        vec![scheduled("orders-0001-001", "0001", None)],
        redis_primary_facts(),
    );
    case.now = at("2026-06-26T09:00:00Z");
    case
}

fn drill() -> Case {
    let mut case = in_maintenance("drill", vec![scenes::drill()], redis_primary_facts());
    case.actions = true;
    case.renders = vec![Render::Alert, Render::Update];
    case
}

/// A cluster named to ping a whole channel.
pub const HOSTILE_CLUSTER: &str = "<!channel> `x` *y* <@U0123> & <http://evil.example|click>";

/// Names, texts and facts chosen to ping, link or break: every one must arrive inert.
pub fn hostile_names() -> Case {
    let mut event = Node {
        window: Some(window()),
        message: Some("<!here> <@U0123> <http://evil.example|click> & ```".into()),
        ..Node::new(
            EventKind::NODE_REPLACEMENT_SCHEDULED,
            HOSTILE_CLUSTER,
            "<!everyone>",
            "2026-06-18T03:12:00Z",
        )
    }
    .finish();
    event.replication_group_id = Some(ReplicationGroupId::parse("grp <!subteam^S1>").unwrap());
    event
        .attributes
        .insert("window_unreadable".into(), "true".into());
    let mut case = in_maintenance(
        "hostile-names",
        vec![event],
        ClusterFacts {
            replication_group_id: Some("grp <!subteam^S1>".into()),
            engine_version: Some("7.1 <!channel>".into()),
            pending_reboot_parameters: Some(vec!["<b>x</b> & <!here>".into()]),
            unavailable: Some("<@U999> denied & <https://evil.example>".into()),
            ..redis_primary_facts()
        },
    );
    case.actions = true;
    case.runbook_url = Some(url_of(&case));
    case.acknowledged = Some(Acknowledgement {
        by: "<!channel> <@U0123>".into(),
        at: at("2026-06-22T08:59:00Z"),
    });
    case.owners = Owners {
        app: "App <!here>".into(),
        infra: "Infra & <@U1>".into(),
    };
    case.renders = vec![Render::Alert, Render::Update];
    case
}

fn generic() -> Case {
    alone(
        "generic",
        scenes::snapshot_failed(),
        ClusterFacts {
            node_role: Some(NodeRole::Replica),
            ..redis_primary_facts()
        },
    )
}

/// Every case that renders alerts and replies.
pub fn all() -> Vec<Case> {
    vec![
        redis_primary(),
        redis_primary_linked(),
        redis_primary_actions(),
        redis_primary_acknowledged(),
        redis_replica(),
        redis_role_unknown(),
        facts_unavailable(),
        valkey_primary(),
        memcached(),
        memcached_repeat(),
        rescheduled(),
        canceled(),
        replacement_started(),
        completed_with_failover(),
        failover_unplanned(),
        window_passed(),
        drill(),
        hostile_names(),
        generic(),
    ]
}

/// The case named `name`.
pub fn named(name: &str) -> Case {
    all()
        .into_iter()
        .find(|c| c.name == name)
        .unwrap_or_else(|| panic!("no case {name}"))
}

/// A node of the region-wide maintenance: cluster, node, group, role, engine.
type Member = (
    &'static str,
    &'static str,
    Option<&'static str>,
    Option<NodeRole>,
    Option<Engine>,
);

/// Twelve maintenances of a region-wide maintenance, announced within minutes: seven Redis OSS
/// nodes, three Memcached nodes, two nodes nothing is known about yet, one of them a day earlier.
pub fn region_wide() -> Vec<Case> {
    let redis = |cluster: &'static str, group: &'static str, role: NodeRole| -> Member {
        (
            cluster,
            "0001",
            Some(group),
            Some(role),
            Some(Engine::Redis),
        )
    };
    let memcached = |cluster: &'static str, node: &'static str| -> Member {
        (cluster, node, None, None, Some(Engine::Memcached))
    };
    let unknown = |cluster: &'static str| -> Member { (cluster, "0001", None, None, None) };
    let nodes: [Member; 12] = [
        redis("orders-0001-001", "orders", NodeRole::Primary),
        redis("orders-0001-002", "orders", NodeRole::Replica),
        redis("orders-0002-001", "orders", NodeRole::Primary),
        redis("carts-001", "carts", NodeRole::Primary),
        redis("carts-002", "carts", NodeRole::Replica),
        redis("queue-001", "queue", NodeRole::Primary),
        redis("queue-003", "queue", NodeRole::Replica),
        memcached("sessions-mc", "0001"),
        memcached("sessions-mc", "0003"),
        memcached("pages-mc", "0002"),
        unknown("legacy-001"),
        unknown("reports-001"),
    ];
    nodes
        .into_iter()
        .enumerate()
        .map(|(i, (cluster, node, group, role, engine))| {
            let offset = i64::try_from(i).unwrap();
            let start = if cluster == "legacy-001" {
                window().start - Duration::days(1)
            } else {
                window().start + Duration::minutes(30 * (offset % 3))
            };
            let event = Node {
                group,
                window: Some(Window {
                    start,
                    end: start + Duration::hours(1),
                }),
                message: Some(scheduled_text(cluster, node)),
                ..Node::new(
                    EventKind::NODE_REPLACEMENT_SCHEDULED,
                    cluster,
                    node,
                    "2026-06-22T08:40:00Z",
                )
            }
            .finish();
            let facts = match engine {
                Some(Engine::Memcached) => memcached_facts(),
                Some(engine) => ClusterFacts {
                    engine: Some(engine),
                    node_role: role,
                    replication_group_id: group.map(Into::into),
                    ..redis_primary_facts()
                },
                None => ClusterFacts::default(),
            };
            let mut case = in_maintenance("region-wide", vec![event], facts);
            case.runbook_url = Some(url_of(&case));
            case
        })
        .collect()
}
