//! Whatever an event holds (hostile names, control characters, odd facts, any kind, any size),
//! every message is within Slack's limits, pings and links nobody, and reads in a terminal.

use chrono::Duration;
use proptest::option;
use proptest::prelude::*;
use proptest::sample::select;

use cachewatch_core::alerting::slack::{self, Acknowledgement, AlertContext, SlackMessage, limits};
use cachewatch_core::cluster::facts::{ClusterFacts, Engine, NodeRole};
use cachewatch_core::intake::parse::{EventDraft, ParseContext};
use cachewatch_core::lifecycle;
use cachewatch_core::model::event::{FailoverNodes, MaintenanceEvent, Origin, Window};
use cachewatch_core::model::ids::{ClusterId, NodeId, ReplicationGroupId, SourceId};
use cachewatch_core::model::kind::EventKind;
use cachewatch_core::model::timefmt::Zone;
use cachewatch_core::runbook::{Owners, Runbooks};

use crate::cases::{DRAWN_KINDS, NOW, at};

/// Cases per property: together they stay within a few seconds in a debug build.
const CASES: u32 = 256;

/// Pieces of text that ping, link, format, break lines or grow when escaped.
fn fragment() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => "[a-z][a-z0-9-]{0,20}",
        2 => select(vec![
            "<!channel>", "<!here>", "<!everyone>", "<@U0123ABC>", "<#C0123|general>",
            "<http://evil.example|click>", "<https://evil.example>", "<!subteam^S1|team>",
            "<!date^1^{time}|x>", "&amp;", "&lt;", "&", "<", ">", "|", "^", "```", "`",
            "*", "_", "~", ":", "\\", "{{ x }}", "$(reboot)",
        ]).prop_map(str::to_owned),
        1 => "[\u{0}-\u{1f}\u{7f}\u{85}\u{2028}]{1,3}",
        1 => "[éßアー😀\u{200b}\u{feff}\u{202e}]{1,4}",
        1 => "[&<>]{20,80}",
    ]
}

/// Text from enrichment: short, or far longer than any block holds.
fn big_text() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => text(6),
        1 => "[&<>]{2000,4000}",
    ]
}

fn text(max_pieces: usize) -> impl Strategy<Value = String> {
    proptest::collection::vec(fragment(), 0..max_pieces).prop_map(|parts| parts.concat())
}

/// An identifier as `parse` would keep it, or `fallback` when the text is not one. Now and then
/// one as long as an identifier may be, made of what grows most when escaped.
fn id_text(fallback: &'static str) -> impl Strategy<Value = String> {
    prop_oneof![
        6 => id_from_text(fallback),
        1 => "[&<>]{250,255}",
    ]
}

fn id_from_text(fallback: &'static str) -> impl Strategy<Value = String> {
    (text(12), 0usize..3).prop_map(move |(t, grow)| {
        let t: String = if grow == 2 {
            t.repeat(20).chars().take(255).collect()
        } else {
            t
        };
        match ClusterId::parse(&t) {
            Ok(id) => id.to_string(),
            Err(_) => fallback.to_owned(),
        }
    })
}

fn kind() -> impl Strategy<Value = &'static str> {
    let mut kinds = DRAWN_KINDS.to_vec();
    kinds.push(EventKind::UNRECOGNIZED);
    select(kinds)
}

#[derive(Debug, Clone)]
struct Input {
    kind: &'static str,
    cluster: String,
    node: String,
    group: Option<String>,
    message: Option<String>,
    region: Option<String>,
    offset_hours: i64,
    window_hours: i64,
    drill: bool,
    facts: ClusterFacts,
    owners: (String, String),
    ack: Option<String>,
    url: Option<String>,
    actions: bool,
    zone: Zone,
}

fn facts() -> impl Strategy<Value = ClusterFacts> {
    (
        option::of(select(vec![
            Engine::Redis,
            Engine::Valkey,
            Engine::Memcached,
        ])),
        option::of(select(vec![NodeRole::Primary, NodeRole::Replica])),
        option::of(any::<bool>()),
        option::of(any::<bool>()),
        option::of(0u32..3),
        option::of(big_text()),
        option::of(proptest::collection::vec(big_text(), 0..3)),
        option::of(big_text()),
        option::of(text(4)),
    )
        .prop_map(
            |(engine, role, failover, mode, replicas, version, pending, unavailable, shard)| {
                ClusterFacts {
                    engine,
                    node_role: role,
                    automatic_failover: failover,
                    cluster_mode_enabled: mode,
                    replicas_per_shard: replicas,
                    engine_version: version,
                    pending_reboot_parameters: pending,
                    unavailable,
                    node_group_id: shard,
                    production: failover,
                    ..ClusterFacts::default()
                }
            },
        )
}

fn input() -> impl Strategy<Value = Input> {
    (
        (
            kind(),
            id_text("cluster"),
            id_text("0001"),
            option::of(id_text("group")),
            option::of((text(20), 0usize..8).prop_map(|(t, n)| {
                // Now and then a message near the 64 KiB a parser keeps.
                if n == 0 {
                    t.repeat(64 * 1024 / t.len().max(1))
                } else {
                    t
                }
            })),
            option::of(text(4)),
        ),
        (-200i64..400, 0i64..30, any::<bool>(), facts()),
        (
            (big_text(), big_text()),
            option::of(big_text()),
            option::of(prop_oneof![
                "https://[a-z]{1,10}\\.example/[a-z0-9/]{0,20}",
                text(6),
            ]),
            any::<bool>(),
            select(vec![
                Zone::Utc,
                "Asia/Tokyo".parse().unwrap(),
                "America/St_Johns".parse().unwrap(),
            ]),
        ),
    )
        .prop_map(
            |(
                (kind, cluster, node, group, message, region),
                (offset_hours, window_hours, drill, facts),
                (owners, ack, url, actions, zone),
            )| Input {
                kind,
                cluster,
                node,
                group,
                message,
                region,
                offset_hours,
                window_hours,
                drill,
                facts,
                owners,
                ack,
                url,
                actions,
                zone,
            },
        )
}

fn event_of(input: &Input, kind: &str, hours_later: i64) -> MaintenanceEvent {
    let start = at(NOW) + Duration::hours(input.offset_hours);
    let occurred = at(NOW) - Duration::hours(100) + Duration::hours(hours_later);
    let mut d = EventDraft::new(
        EventKind::new(kind),
        "cache-cluster".into(),
        SourceId::parse(&input.cluster).unwrap(),
        if input.drill {
            Origin::Drill
        } else {
            Origin::Sns
        },
    );
    d.cluster_id = ClusterId::parse(&input.cluster).ok();
    d.node_id = NodeId::parse(&input.node).ok();
    d.replication_group_id = input
        .group
        .as_deref()
        .and_then(|g| ReplicationGroupId::parse(g).ok());
    d.occurred_at = Some(occurred);
    d.window = Some(Window {
        start,
        end: start + Duration::hours(input.window_hours),
    });
    d.previous_window = Some(Window {
        start: start - Duration::days(3),
        end: start - Duration::days(3) + Duration::hours(1),
    });
    d.message = input.message.clone();
    d.region = input.region.clone();
    d.failover = Some(FailoverNodes {
        from: Some(input.cluster.clone()),
        to: input.group.clone(),
    });
    d.attributes
        .insert("window_unreadable".into(), input.drill.to_string());
    d.finish(&ParseContext {
        received_at: occurred,
        drill: input.drill,
    })
}

/// Every message of one input: alone, and inside a maintenance with a scheduled notice first.
fn messages(input: &Input) -> Vec<SlackMessage> {
    let owners = Owners {
        app: input.owners.0.clone(),
        infra: input.owners.1.clone(),
    };
    let event = event_of(input, input.kind, 10);
    let first = event_of(input, EventKind::NODE_REPLACEMENT_SCHEDULED, 0);
    let events = vec![first, event.clone()];
    let all = lifecycle::assemble(&events);
    let maintenance = all.iter().find(|m| m.event_ids.contains(&event.id));
    let acknowledged = input
        .ack
        .clone()
        .map(|by| Acknowledgement { by, at: at(NOW) });
    let mut out = Vec::new();
    let mut contexts = Vec::new();
    for m in [None, maintenance] {
        let mut ctx = AlertContext::new(&event, &input.facts, &owners, at(NOW));
        if let Some(m) = m {
            ctx = ctx.with_maintenance(m, &events);
            ctx.previous = all.first();
        }
        ctx.zone = input.zone;
        ctx.actions = input.actions;
        ctx.runbook_url = input.url.clone();
        ctx.acknowledged = acknowledged.clone();
        out.push(slack::alert(&ctx));
        out.push(slack::update(&ctx));
        contexts.push(ctx);
    }
    out.push(slack::grouped(&contexts));
    out
}

fn check(message: &SlackMessage) -> Result<(), TestCaseError> {
    let problems = limits::check(message);
    prop_assert!(problems.is_empty(), "{:#?}\n{:#?}", problems, message);
    for (at, text) in limits::mrkdwn_texts(message) {
        // cachewatch's own links to AWS's documentation are the only links a message may hold.
        let mut text = text.to_owned();
        while let Some(start) = text.find("<https://docs.aws.amazon.com/") {
            let end = start + text[start..].find('>').expect("a closed link");
            text.replace_range(start..=end, "");
        }
        for bad in [
            "<!channel",
            "<!here",
            "<!everyone",
            "<@",
            "<http",
            "<#",
            "<!subteam",
        ] {
            prop_assert!(!text.contains(bad), "{} holds {}: {}", at, bad, text);
        }
    }
    let plain = slack::to_text(message);
    prop_assert!(!plain.trim().is_empty());
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: CASES, ..ProptestConfig::default() })]

    #[test]
    fn every_message_of_any_event_is_valid_and_inert(input in input()) {
        for message in messages(&input) {
            check(&message)?;
        }
    }

}

proptest! {
    // A grouped message renders many maintenances: fewer cases.
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn a_grouped_message_of_any_size_is_valid(items in proptest::collection::vec(grouped_item(), 0..50)) {
        let owners = Owners::default();
        let inputs: Vec<Input> = items.into_iter().map(Input::from).collect();
        let events = events_of(&inputs);
        check(&slack::grouped(&contexts_of(&inputs, &events, &owners, false)))?;
    }

    #[test]
    fn the_announcements_of_a_burst_of_any_size_are_valid_and_name_each_once(
        items in proptest::collection::vec(grouped_item(), 1..250),
        actions in any::<bool>(),
    ) {
        let owners = Owners::default();
        let inputs: Vec<Input> = items.into_iter().map(Input::from).collect();
        let events = events_of(&inputs);
        let contexts = contexts_of(&inputs, &events, &owners, actions);
        let announcements = slack::announcements(&contexts, Some("redis-primary.md"), true);
        // Every maintenance is in exactly one announcement, in order, and each fits Slack.
        let mut next = 0;
        for (message, range) in &announcements {
            prop_assert_eq!(range.start, next);
            prop_assert!(range.len() <= slack::ANNOUNCED_PER_MESSAGE);
            next = range.end;
            check(message)?;
            // Each one it announces is named: its id is on its line, not cut off.
            let shown = serde_json::to_string(&message.blocks).unwrap();
            for e in &events[range.clone()] {
                prop_assert!(shown.contains(&e.id.as_str()[..8]), "{} not named", e.id);
            }
        }
        prop_assert_eq!(next, contexts.len());
        check(&slack::grouped(&contexts))?;
    }
}

/// The events of the maintenances a grouped message shows, one per input.
fn events_of(inputs: &[Input]) -> Vec<MaintenanceEvent> {
    inputs.iter().map(|i| event_of(i, i.kind, 10)).collect()
}

/// The contexts of `events` as a grouped message draws them, each in its input's zone, with
/// the buttons or without (`actions`).
fn contexts_of<'a>(
    inputs: &'a [Input],
    events: &'a [MaintenanceEvent],
    owners: &'a Owners,
    actions: bool,
) -> Vec<AlertContext<'a>> {
    inputs
        .iter()
        .zip(events)
        .map(|(i, e)| {
            let mut ctx = AlertContext::new(e, &i.facts, owners, at(NOW));
            ctx.zone = i.zone;
            ctx.actions = actions;
            ctx
        })
        .collect()
}

/// What a grouped message shows of one maintenance: cheaper to make than a whole [`Input`].
type GroupedItem = (
    &'static str,
    String,
    String,
    Option<String>,
    i64,
    bool,
    Option<Engine>,
    Option<NodeRole>,
);

fn grouped_item() -> impl Strategy<Value = GroupedItem> {
    (
        kind(),
        id_text("cluster"),
        id_text("0001"),
        option::of(id_text("group")),
        -200i64..400,
        any::<bool>(),
        option::of(select(vec![
            Engine::Redis,
            Engine::Valkey,
            Engine::Memcached,
        ])),
        option::of(select(vec![NodeRole::Primary, NodeRole::Replica])),
    )
}

impl From<GroupedItem> for Input {
    fn from((kind, cluster, node, group, offset_hours, drill, engine, role): GroupedItem) -> Self {
        Input {
            kind,
            cluster,
            node,
            group,
            message: None,
            region: Some("us-east-1".into()),
            offset_hours,
            window_hours: 1,
            drill,
            facts: ClusterFacts {
                engine,
                node_role: role,
                ..ClusterFacts::default()
            },
            owners: (String::new(), String::new()),
            ack: None,
            url: None,
            actions: false,
            zone: Zone::Utc,
        }
    }
}

proptest! {
    // Rendering a runbook is slower: fewer cases.
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn the_checklist_of_any_runbook_is_valid_and_inert(input in input()) {
        let owners = Owners {
            app: input.owners.0.clone(),
            infra: input.owners.1.clone(),
        };
        let event = event_of(&input, input.kind, 10);
        let runbook_input = cachewatch_core::runbook::RunbookInput::new(&event, &input.facts, &owners, at(NOW));
        let runbook = Runbooks::embedded().render(&runbook_input).unwrap();
        let parts = slack::checklist(&runbook);
        prop_assert!(!parts.is_empty());
        for message in &parts {
            check(message)?;
        }
    }
}
