//! What text from an event can and cannot do to a message: it is shown as written, and never
//! mentions, pings or links anyone, whatever its size.

use cachewatch_core::alerting::slack::{self, SlackMessage, limits};
use serde_json::Value;

use crate::cases;

/// The sequences that would ping or link if they reached Slack unescaped.
const FORBIDDEN: &[&str] = &[
    "<!channel",
    "<!here",
    "<!everyone",
    "<!subteam",
    "<@",
    "<http",
    "<#",
];

/// `text` without cachewatch's own links to AWS's documentation (`<https://docs.aws.amazon.com/…|…>`),
/// the only links a message may hold.
fn without_aws_links(text: &str) -> String {
    let mut rest = text.to_owned();
    while let Some(start) = rest.find("<https://docs.aws.amazon.com/") {
        let end = start + rest[start..].find('>').expect("a closed link");
        rest.replace_range(start..=end, "");
    }
    rest
}

fn assert_inert(message: &SlackMessage) {
    for (at, text) in limits::mrkdwn_texts(message) {
        let text = without_aws_links(text);
        let text = text.as_str();
        for bad in FORBIDDEN {
            assert!(!text.contains(bad), "{at} holds {bad}: {text}");
        }
        assert!(limits::markup_problems(text).is_empty(), "{at}: {text}");
    }
}

/// Every `url` anywhere in `message`.
fn urls(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            for (key, inner) in map {
                match (key.as_str(), inner) {
                    ("url", Value::String(u)) => out.push(u.clone()),
                    _ => urls(inner, out),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|i| urls(i, out)),
        _ => {}
    }
}

#[test]
fn a_cluster_named_like_a_mention_pings_nobody() {
    // Arrange
    let case = cases::hostile_names();

    // Act
    let messages = case.messages();

    // Assert
    for (label, message) in &messages {
        assert_inert(message);
        assert!(
            limits::check(message).is_empty(),
            "{label}: {:#?}",
            limits::check(message)
        );
    }
    let alert = &messages[0].1;
    let text: Vec<&str> = limits::mrkdwn_texts(alert)
        .into_iter()
        .map(|(_, t)| t)
        .collect();
    let text = text.join("\n");
    assert!(text.contains("&lt;!channel&gt;"), "{text}");
    assert!(text.contains("&lt;@U0123&gt;"), "{text}");
    assert!(text.contains("&lt;http://evil.example|click&gt;"), "{text}");
    assert!(
        text.contains("Acknowledged by *&lt;!channel&gt; &lt;@U0123&gt;*"),
        "{text}"
    );
    assert!(
        text.contains("the App &lt;!here&gt; and the Infra &amp; &lt;@U1&gt;"),
        "{text}"
    );
    assert!(alert.text.contains("&lt;!channel&gt;"), "{}", alert.text);
}

#[test]
fn the_only_link_is_the_runbook_button() {
    // Arrange
    let case = cases::hostile_names();

    // Act
    let message = slack::alert(&case.context());

    // Assert
    let mut found = Vec::new();
    for block in &message.blocks {
        urls(&serde_json::to_value(block).unwrap(), &mut found);
    }
    assert_eq!(found, vec![case.runbook_url.clone().unwrap()]);
}

#[test]
fn a_runbook_url_slack_would_refuse_falls_back_to_the_thread() {
    for url in [
        "javascript:alert(1)",
        "https://x.example/a b",
        &format!("https://x.example/{}", "a".repeat(3000)),
    ] {
        // Arrange
        let mut case = cases::named("redis-primary");
        case.runbook_url = Some(url.to_owned());

        // Act
        let message = slack::alert(&case.context());

        // Assert
        assert!(
            message.blocks.iter().all(|b| match b {
                slack::Block::Section(s) => s.accessory.is_none(),
                _ => true,
            }),
            "{url}"
        );
        assert!(limits::check(&message).is_empty(), "{url}");
    }
}

#[test]
fn the_terminal_shows_hostile_names_as_written() {
    let text = slack::to_text(&slack::alert(&cases::hostile_names().context()));
    // Fields keep the name as written (entities undone); the header, plain text in Slack, shows
    // its angle brackets as look-alikes, so that no payload ever carries `<!…>`.
    assert!(text.contains("Cache cluster: <!channel>"), "{text}");
    assert!(
        text.contains("<@U0123> & <http://evil.example|click>"),
        "{text}"
    );
    assert!(text.contains("scheduled: ‹!channel›"), "{text}");
    assert!(!text.contains("&lt;"), "{text}");
}

#[test]
fn an_oversized_message_from_an_event_still_gives_valid_messages() {
    // Arrange: 64 KiB of text that would ping, link and balloon when escaped.
    let mut case = cases::hostile_names();
    let huge = "<!here> & <@U1> ```\n".repeat(64 * 1024 / 20);
    case.event.message = Some(huge.clone());
    case.event.kind = cachewatch_core::EventKind::new("cache_cluster_parameters_changed");
    case.event.category = cachewatch_core::Category::Other;
    case.maintenance = None;
    for e in &mut case.events {
        e.message = Some(huge.clone());
    }

    // Act
    let alert = slack::alert(&case.context());
    let update = slack::update(&case.context());

    // Assert
    for message in [&alert, &update] {
        assert!(
            limits::check(message).is_empty(),
            "{:#?}",
            limits::check(message)
        );
        assert_inert(message);
        let json = serde_json::to_string(&message.blocks).unwrap();
        assert!(json.len() < 20_000, "{} bytes", json.len());
    }
    assert!(slack::to_text(&alert).contains("<!here> & <@U1>"));
}

#[test]
fn the_largest_inputs_of_every_kind_still_give_valid_messages() {
    use cachewatch_core::alerting::slack::{Acknowledgement, AlertContext};
    use cachewatch_core::cluster::facts::{ClusterFacts, Engine, NodeRole};
    use cachewatch_core::model::ids::{ClusterId, NodeId, ReplicationGroupId};
    use cachewatch_core::runbook::Owners;

    // Arrange: identifiers as long as they may be and texts far longer than any block, all
    // made of the characters that grow most when escaped.
    let grow = |n: usize| "&<>".repeat(n / 3);
    let owners = Owners {
        app: grow(6000),
        infra: grow(6000),
    };
    let facts_of = |engine, role| ClusterFacts {
        engine,
        node_role: role,
        engine_version: Some(grow(6000)),
        replication_group_id: Some(grow(255)),
        node_group_id: Some(grow(255)),
        pending_reboot_parameters: Some(vec![grow(3000); 20]),
        unavailable: Some(grow(6000)),
        replicas_per_shard: Some(1),
        ..ClusterFacts::default()
    };
    let facts = [
        facts_of(Some(Engine::Redis), Some(NodeRole::Primary)),
        facts_of(Some(Engine::Valkey), Some(NodeRole::Replica)),
        facts_of(Some(Engine::Memcached), None),
        facts_of(None, None),
    ];
    for kind in cases::DRAWN_KINDS {
        for facts in &facts {
            let mut case = cases::hostile_names();
            let mut e = case.event.clone();
            e.kind = cachewatch_core::EventKind::new(kind);
            e.category = e.kind.category();
            e.cluster_id = Some(ClusterId::parse(&grow(255)).unwrap());
            e.node_id = Some(NodeId::parse(&grow(255)).unwrap());
            e.replication_group_id = Some(ReplicationGroupId::parse(&grow(255)).unwrap());
            e.message = Some(grow(64 * 1024));
            e.region = Some(grow(3000));
            e.account_id = Some(grow(3000));
            case.events = vec![e.clone()];
            case.event = e;
            case.maintenance = cachewatch_core::lifecycle::assemble(&case.events).pop();

            // Act
            let mut ctx = AlertContext::new(&case.event, facts, &owners, case.now);
            if let Some(m) = &case.maintenance {
                ctx = ctx.with_maintenance(m, &case.events);
            }
            ctx.actions = true;
            ctx.runbook_url = case.runbook_url.clone();
            ctx.acknowledged = Some(Acknowledgement {
                by: grow(6000),
                at: case.now,
            });
            let messages = [
                slack::alert(&ctx),
                slack::update(&ctx),
                slack::grouped(&[ctx.clone()]),
            ];

            // Assert
            for message in &messages {
                let problems = limits::check(message);
                assert!(problems.is_empty(), "{kind}: {problems:#?}");
                assert_inert(message);
            }
        }
    }
}
