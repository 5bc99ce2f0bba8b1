//! What each message says: what happens to which node, when (in each reader's zone), the repeat
//! warning, the runbook, the buttons, the replies, the grouped summary and the checklist.

use cachewatch_core::alerting::slack::{self, SlackMessage, limits};
use serde_json::Value;

use crate::cases::{self, Render};

/// Every mrkdwn text of `message`, the notification text included, as one string.
fn all_mrkdwn(message: &SlackMessage) -> String {
    limits::mrkdwn_texts(message)
        .into_iter()
        .map(|(_, t)| t)
        .collect::<Vec<_>>()
        .join("\n")
}

/// The blocks of `message` as Slack receives them.
fn wire(message: &SlackMessage) -> Vec<Value> {
    message
        .blocks
        .iter()
        .map(|b| serde_json::to_value(b).unwrap())
        .collect()
}

fn blocks_of(message: &SlackMessage, kind: &str) -> Vec<Value> {
    wire(message)
        .into_iter()
        .filter(|b| b["type"] == kind)
        .collect()
}

fn header(message: &SlackMessage) -> String {
    blocks_of(message, "header")[0]["text"]["text"]
        .as_str()
        .unwrap()
        .to_owned()
}

fn alert_of(name: &str) -> SlackMessage {
    slack::alert(&cases::named(name).context())
}

fn update_of(name: &str) -> SlackMessage {
    slack::update(&cases::named(name).context())
}

#[test]
fn the_window_and_deadline_show_in_each_readers_zone_with_a_fallback() {
    // Act
    let utc = all_mrkdwn(&alert_of("redis-primary"));
    let tokyo = all_mrkdwn(&alert_of("valkey-primary"));

    // Assert: 2026-06-25 19:00 UTC is 1782414000.
    assert!(
        utc.contains(
            "<!date^1782414000^{date_short_pretty} {time}|2026-06-25 19:00 UTC> – <!date^1782417600^{time}|20:00 UTC>"
        ),
        "{utc}"
    );
    assert!(utc.contains("*Deadline*\n<!date^1782414000^{date_short_pretty} {time}|2026-06-25 19:00 UTC>\nin 3 days 10 hours"), "{utc}");
    assert!(
        tokyo.contains("<!date^1782414000^{date_short_pretty} {time}|2026-06-26 04:00 JST>"),
        "{tokyo}"
    );
}

#[test]
fn a_primary_says_what_aws_documents_for_its_configuration() {
    let text = all_mrkdwn(&alert_of("redis-primary"));
    assert!(
        text.contains(
            "AWS documents that this planned replacement completes while the cluster serves writes"
        ),
        "{text}"
    );
    assert!(
        text.contains(
            "<https://docs.aws.amazon.com/AmazonElastiCache/latest/dg/AutoFailover.html|AWS>"
        ),
        "{text}"
    );
    assert!(!text.contains("2 minutes"), "{text}");
    assert!(text.contains("*Node*\n`0001` · primary"), "{text}");
    assert!(
        text.contains("*Cache cluster*\n`orders-0001-001`"),
        "{text}"
    );
    assert!(text.contains("*Replication group*\n`orders`"), "{text}");
}

#[test]
fn a_replica_says_writers_see_nothing() {
    let text = all_mrkdwn(&alert_of("redis-replica"));
    assert!(text.contains("this *replica*"), "{text}");
    assert!(text.contains("Writers see nothing"), "{text}");
    assert!(text.contains("Only one replica in the shard"), "{text}");
}

#[test]
fn an_unknown_role_says_so_and_gives_the_commands_that_find_it() {
    let text = all_mrkdwn(&alert_of("redis-role-unknown"));
    assert!(text.contains("*role is not known*"), "{text}");
    assert!(text.contains("aws elasticache describe-cache-clusters --cache-cluster-id billing-0001-001 --query 'CacheClusters[0].[Engine,ReplicationGroupId]' --output text --region eu-west-1"), "{text}");
    assert!(text.contains("aws elasticache describe-replication-groups --replication-group-id REPLICATION_GROUP_ID --query 'ReplicationGroups[0].NodeGroups[].NodeGroupMembers[].[CacheClusterId,CurrentRole]' --output text --region eu-west-1"), "{text}");
    assert!(text.contains("*Risks:* not known yet"), "{text}");
}

#[test]
fn a_failed_lookup_is_a_risk_and_the_role_is_looked_up_in_the_known_group() {
    let text = all_mrkdwn(&alert_of("facts-unavailable"));
    assert!(
        text.contains("incomplete: DescribeCacheClusters was denied (AccessDenied)"),
        "{text}"
    );
    assert!(
        text.contains("--replication-group-id billing --query"),
        "{text}"
    );
}

#[test]
fn a_memcached_node_comes_back_empty() {
    let text = all_mrkdwn(&alert_of("memcached"));
    assert!(text.contains("comes back *empty*"), "{text}");
    assert!(text.contains("*Node*\n`0002` · Memcached node"), "{text}");
}

#[test]
fn a_repeat_says_when_and_how_the_previous_ended_and_what_aws_says() {
    // Act
    let alert = alert_of("memcached-repeat");
    let reply = update_of("memcached-repeat");

    // Assert
    assert!(
        header(&alert).contains("scheduled again"),
        "{}",
        header(&alert)
    );
    for text in [all_mrkdwn(&alert), all_mrkdwn(&reply)] {
        assert!(
            text.contains("🔁 *Repeat notice:* this node was replaced <!date^1781983440^"),
            "{text}"
        );
        assert!(
            text.contains("notices can keep coming after you replaced a node yourself"),
            "{text}"
        );
        assert!(
            text.contains("ElastiCache will replace the node again"),
            "{text}"
        );
        assert!(text.contains("comes back empty again"), "{text}");
    }
}

#[test]
fn the_buttons_carry_the_maintenance_id_and_the_runbook_link() {
    // Arrange
    let case = cases::named("redis-primary-actions");
    let id = case.maintenance.as_ref().unwrap().id.to_string();

    // Act
    let message = slack::alert(&case.context());

    // Assert
    let actions = blocks_of(&message, "actions");
    assert_eq!(actions.len(), 1);
    let buttons: Vec<(&str, &str)> = actions[0]["elements"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| {
            (
                b["action_id"].as_str().unwrap(),
                b["value"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        buttons,
        vec![
            (slack::ACTION_ACKNOWLEDGE, id.as_str()),
            (slack::ACTION_CHECKLIST, id.as_str()),
            (slack::ACTION_OUTCOME, id.as_str()),
        ]
    );
    let blocks = wire(&message);
    let link = blocks
        .iter()
        .find_map(|b| b["accessory"]["url"].as_str())
        .unwrap();
    assert_eq!(link, format!("{}{id}", cases::RUNBOOK_URL));
}

#[test]
fn without_a_runbook_link_the_checklist_follows_in_the_thread() {
    let message = alert_of("redis-primary");
    assert!(wire(&message).iter().all(|b| b.get("accessory").is_none()));
    assert!(blocks_of(&message, "actions").is_empty());
    let text = all_mrkdwn(&message);
    assert!(text.contains("follows in this thread"), "{text}");
}

#[test]
fn an_acknowledged_alert_shows_who_and_when_instead_of_the_button() {
    // Act
    let message = alert_of("redis-primary-acknowledged");

    // Assert
    let text = all_mrkdwn(&message);
    assert!(
        text.contains("Acknowledged by *mika.tanaka* <!date^1782119520^"),
        "{text}"
    );
    let actions = blocks_of(&message, "actions");
    let ids: Vec<&str> = actions[0]["elements"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["action_id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, vec![slack::ACTION_CHECKLIST, slack::ACTION_OUTCOME]);
}

#[test]
fn the_context_names_the_event_and_the_maintenance() {
    let case = cases::named("redis-primary");
    let message = slack::alert(&case.context());
    let context = blocks_of(&message, "context").last().unwrap()["elements"][0]["text"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        context.starts_with(&format!(
            "Event `{}` · maintenance `{}`",
            case.event.id.short(),
            case.maintenance.unwrap().id
        )),
        "{context}"
    );
}

#[test]
fn a_drill_is_unmistakable_in_the_header_the_text_and_every_reply() {
    // Act
    let alert = alert_of("drill");
    let reply = update_of("drill");

    // Assert
    assert!(header(&alert).starts_with("🧪 DRILL"), "{}", header(&alert));
    assert!(alert.text.starts_with("DRILL: "), "{}", alert.text);
    assert!(reply.text.starts_with("DRILL: "), "{}", reply.text);
    assert!(all_mrkdwn(&reply).contains("Nothing is happening to a real cluster"));
    assert!(!header(&alert_of("redis-primary")).contains("DRILL"));
}

#[test]
fn each_state_has_its_own_header() {
    let cases = [
        (
            "redis-primary",
            "🗓️ Node replacement scheduled: orders-0001-001 node 0001",
        ),
        (
            "rescheduled",
            "📆 Node replacement rescheduled: orders-0001-001 node 0001",
        ),
        (
            "canceled",
            "🚫 Node replacement canceled: orders-0001-001 node 0001",
        ),
        (
            "replacement-started",
            "🔧 Replacing the node now: orders-0001-001 node 0001",
        ),
        (
            "completed-with-failover",
            "✅ Node replaced, with a failover: orders-0001-001 node 0001",
        ),
        (
            "window-passed",
            "⌛ Replacement window passed: orders-0001-001 node 0001",
        ),
        ("failover-unplanned", "🔀 Failover happened: orders"),
        ("generic", "ℹ️ Snapshot failed: orders-0001-002"),
    ];
    for (name, expected) in cases {
        assert_eq!(header(&alert_of(name)), expected, "{name}");
    }
}

#[test]
fn replies_say_what_changed_with_the_current_deadline() {
    let cases = [
        ("rescheduled", "📆 *Rescheduled:* from <!date^1782414000^"),
        ("rescheduled", "(7 days later)"),
        (
            "rescheduled",
            "*Deadline:* <!date^1783018800^{date_short_pretty} {time}|2026-07-02 19:00 UTC>, in 10 days 10 hours",
        ),
        (
            "canceled",
            "🚫 *Canceled:* the replacement of `orders-0001-001` node `0001` planned for",
        ),
        ("replacement-started", "🔧 *Replacement started* <!date^"),
        // The primary's impact as AWS documents it for the cluster's configuration, with the page.
        (
            "replacement-started",
            "completes while the cluster serves writes",
        ),
        (
            "replacement-started",
            "(<https://docs.aws.amazon.com/AmazonElastiCache/latest/dg/AutoFailover.html|AWS>)",
        ),
        (
            "completed-with-failover",
            "✅ *Replaced* <!date^1782415260^{date_short_pretty} {time}|2026-06-25 19:21 UTC>, 18 minutes after it started. Failover: `orders-0001-001` → `orders-0001-002`.",
        ),
        (
            "failover-unplanned",
            "🔀 *Failover:* `orders-0001-001` → `orders-0001-002`",
        ),
    ];
    for (name, expected) in cases {
        let text = all_mrkdwn(&update_of(name));
        assert!(text.contains(expected), "{name}: {expected}\n{text}");
    }
    let canceled = all_mrkdwn(&update_of("canceled"));
    assert!(!canceled.contains("*Deadline:*"), "{canceled}");
}

#[test]
fn replies_are_short() {
    for case in cases::all() {
        for render in &case.renders {
            let message = match render {
                Render::Alert => continue,
                Render::Update => slack::update(&case.context()),
                Render::UpdateFor(i) => slack::update(&case.context_for(&case.events[*i])),
            };
            assert!(
                message.blocks.len() <= 2,
                "{}: {:#?}",
                case.name,
                message.blocks
            );
            assert!(blocks_of(&message, "header").is_empty(), "{}", case.name);
        }
    }
}

#[test]
fn notification_texts_are_one_line_summaries() {
    for case in cases::all() {
        for (label, message) in case.messages() {
            assert!(
                !message.text.contains('\n'),
                "{} {label}: {}",
                case.name,
                message.text
            );
            assert!(
                !message.text.contains("<!date"),
                "{} {label}: {}",
                case.name,
                message.text
            );
        }
    }
    assert_eq!(
        alert_of("redis-primary").text,
        "Node replacement scheduled: orders-0001-001 node 0001 (Redis OSS primary) — deadline 2026-06-25 19:00 UTC, in 3 days 10 hours"
    );
}

#[test]
fn twelve_maintenances_make_one_summary_with_the_earliest_deadline() {
    // Arrange
    let region = cases::region_wide();
    let contexts: Vec<_> = region.iter().map(cases::Case::context).collect();

    // Act
    let message = slack::grouped(&contexts);

    // Assert
    assert_eq!(
        header(&message),
        "🗓️ 12 node replacements scheduled in us-east-1"
    );
    let text = all_mrkdwn(&message);
    assert!(
        text.contains("*Engines*\nMemcached ×3 · Redis OSS ×7 · engine not known ×2"),
        "{text}"
    );
    assert!(
        text.contains("*Clusters*\n11 cache clusters in 3 replication groups"),
        "{text}"
    );
    assert!(text.contains("*Earliest deadline*\n<!date^1782327600^{date_short_pretty} {time}|2026-06-24 19:00 UTC>, in 2 days 10 hours\n`legacy-001` node `0001`"), "{text}");
    for case in &region {
        let cluster = case.event.cluster_id.as_ref().unwrap().as_str();
        assert!(
            text.contains(&format!("`{cluster}`")),
            "{cluster} not listed"
        );
    }
    assert!(
        message.text.starts_with(
            "12 node replacements scheduled in us-east-1, earliest deadline 2026-06-24 19:00 UTC"
        ),
        "{}",
        message.text
    );
    assert!(limits::check(&message).is_empty());
}

#[test]
fn a_grouped_message_of_many_lists_what_fits_and_counts_the_rest() {
    // Arrange: the twelve, many times over.
    let region: Vec<_> = (0..20).flat_map(|_| cases::region_wide()).collect();
    let contexts: Vec<_> = region.iter().map(cases::Case::context).collect();

    // Act
    let message = slack::grouped(&contexts);

    // Assert
    assert!(
        limits::check(&message).is_empty(),
        "{:#?}",
        limits::check(&message)
    );
    assert!(header(&message).starts_with("🗓️ 240 node replacements"));
    assert!(all_mrkdwn(&message).contains("more, in the thread."));
}

#[test]
fn the_checklist_holds_every_step_once_in_order() {
    // Arrange
    let case = cases::named("redis-primary");
    let runbook = case.runbook();

    // Act
    let messages = slack::checklist(&runbook);

    // Assert
    let text: String = messages
        .iter()
        .map(all_mrkdwn)
        .collect::<Vec<_>>()
        .join("\n");
    let mut from = 0;
    for step in runbook.steps() {
        let marker = format!("☐ *{}.* _{}:_", step.number, step.owner_label);
        let found = text[from..].find(&marker).map(|i| from + i);
        assert!(
            found.is_some(),
            "step {} missing or out of order",
            step.number
        );
        from = found.unwrap_or(from);
        assert_eq!(text.matches(&marker).count(), 1, "step {}", step.number);
    }
    for m in &messages {
        assert!(limits::check(m).is_empty(), "{:#?}", limits::check(m));
    }
}

#[test]
fn a_long_checklist_is_split_into_parts_within_the_limits() {
    // Arrange: a runbook whose steps are many and long.
    let mut runbook = cases::named("redis-primary").runbook();
    for section in &mut runbook.sections {
        let mut more = Vec::new();
        for _ in 0..6 {
            more.extend(section.steps.iter().cloned().map(|mut s| {
                s.commands.push("x".repeat(4000));
                s
            }));
        }
        section.steps.extend(more);
    }

    // Act
    let messages = slack::checklist(&runbook);

    // Assert
    assert!(messages.len() > 3, "{} parts", messages.len());
    let n = messages.len();
    for (i, m) in messages.iter().enumerate() {
        assert!(
            limits::check(m).is_empty(),
            "part {i}: {:#?}",
            limits::check(m)
        );
        assert!(
            m.text.ends_with(&format!("(part {} of {n})", i + 1)),
            "{}",
            m.text
        );
    }
}

#[test]
fn the_terminal_rendering_shows_fallbacks_plain_names_and_links() {
    // Act
    let text = slack::to_text(&alert_of("redis-primary-actions"));

    // Assert
    assert!(
        text.starts_with("🗓️ Node replacement scheduled: orders-0001-001 node 0001\n====="),
        "{text}"
    );
    assert!(
        text.contains("Window: 2026-06-25 19:00 UTC – 20:00 UTC"),
        "{text}"
    );
    assert!(
        text.contains("Deadline: 2026-06-25 19:00 UTC, in 3 days 10 hours"),
        "{text}"
    );
    assert!(
        text.contains(&format!("[ Open runbook: {}", cases::RUNBOOK_URL)),
        "{text}"
    );
    assert!(
        text.contains("[ Acknowledge ]  [ Post checklist ]  [ Record outcome ]"),
        "{text}"
    );
    assert!(
        !text.contains("<!date") && !text.contains("&lt;") && !text.contains('`'),
        "{text}"
    );
}

#[test]
fn a_second_notice_says_whether_the_window_moved() {
    use cachewatch_core::model::event::Window;
    use cachewatch_core::model::kind::EventKind;

    // Arrange: the same notice again, then one for a window a day later.
    let notice = |at: &'static str, window: Window| {
        cases::Node {
            window: Some(window),
            ..cases::Node::new(
                EventKind::NODE_REPLACEMENT_SCHEDULED,
                "orders-0001-001",
                "0001",
                at,
            )
        }
        .finish()
    };
    let first = cases::window();
    let later = Window {
        start: first.start + chrono::Duration::days(1),
        end: first.end + chrono::Duration::days(1),
    };
    let events = vec![
        notice("2026-06-18T03:12:00Z", first),
        notice("2026-06-19T03:12:00Z", first),
        notice("2026-06-20T03:12:00Z", later),
    ];
    let case = cases::in_maintenance("second-notice", events, cases::redis_primary_facts());
    assert_eq!(case.events.len(), 3, "one maintenance");

    // Act
    let repeated = all_mrkdwn(&slack::update(&case.context_for(&case.events[1])));
    let moved = all_mrkdwn(&slack::update(&case.context_for(&case.events[2])));

    // Assert
    assert!(
        repeated.contains("🗓️ *Notice repeated:* same window, <!date^1782414000^"),
        "{repeated}"
    );
    assert!(
        moved.contains("📆 *Window moved* from <!date^1782414000^{date_short_pretty} {time}|2026-06-25 19:00 UTC> – <!date^1782417600^{time}|20:00 UTC> to <!date^1782500400^"),
        "{moved}"
    );
}
