//! The two daily messages about the whole account rather than one maintenance:
//!
//! - [`digest`]: what is coming, the maintenance windows of the next days (soonest first) and the
//!   service updates still to apply (overdue first), from an [`UpcomingDigest`];
//! - [`coverage`]: which replication groups and clusters do not send their events to
//!   cachewatch, and what `cachewatch audit --fix` would change, from a [`CoverageAudit`].
//!
//! Identifiers, topic ARNs and update names come from ElastiCache and are shown as code spans;
//! long lists are cut to fit Slack, with a count of what was left out.

use chrono::{DateTime, Utc};

use super::SlackMessage;
use super::blockkit::Block;
use super::blocks;
use super::limits;
use super::mrkdwn::{self, DateStyle};
use crate::alerting::alert_path::PathAudit;
use crate::fleet::{Coverage, CoverageAudit, Resource, ServiceUpdate, TopicState, UpcomingDigest};
use crate::lifecycle::{Maintenance, MaintenanceState};
use crate::model::timefmt::{self, Zone};

/// Most characters of list lines in one message; the others are counted, not named.
const LIST_TEXT: usize = 5600;
/// Most characters of one list line.
const LIST_LINE: usize = 500;

/// The upcoming digest as a message; `zone` is the zone of fallback texts (Slack shows each
/// reader their own).
pub fn digest(digest: &UpcomingDigest, zone: Zone) -> SlackMessage {
    let days = (digest.until - digest.now).num_days().max(1);
    let horizon = format!("the next {days} day{}", if days == 1 { "" } else { "s" });
    let n = digest.maintenances.len();
    let u = digest.updates.len();
    let overdue = digest.overdue();

    // The last canary, a line of its own: the digest says the path it came by still works.
    let checked = digest
        .alert_path_checked
        .map(|c| blocks::context(&[format!("✅ {}.", c.line(digest.now, zone))]));

    if digest.is_empty() {
        let text = format!(
            "Nothing coming up: no maintenance window in {horizon}, no service update to apply"
        );
        let mut out = vec![
            blocks::header("🗓️ Nothing coming up"),
            blocks::section(&format!(
                "No maintenance window opens in {horizon}, and every service update is applied."
            )),
        ];
        out.extend(checked);
        return blocks::message(&text, out);
    }

    let windows = plural(n, "maintenance window", "maintenance windows");
    let updates = plural(u, "service update to apply", "service updates to apply");
    let overdue_note = if overdue > 0 {
        format!(" ({overdue} overdue)")
    } else {
        String::new()
    };
    let (updates, updates_field) = match &digest.updates_unavailable {
        Some(_) => (
            "service updates unknown".to_owned(),
            "*Service updates to apply*\nunknown: could not be read".to_owned(),
        ),
        None => (
            updates,
            format!("*Service updates to apply*\n{u}{overdue_note}"),
        ),
    };
    let mut out = vec![
        blocks::header(&format!("🗓️ Coming up in {horizon}")),
        blocks::fields(&[format!("*Maintenance windows*\n{n}"), updates_field]),
    ];
    out.extend(warnings(digest));
    out.extend(lists(digest, &horizon, zone));
    out.push(blocks::context(&[
        "Times are shown in your own time zone. A replacement happens in the cluster's maintenance window: moving the window moves the work.".to_owned(),
    ]));
    out.extend(checked);
    blocks::message(
        &format!("Coming up in {horizon}: {windows}, {updates}{overdue_note}"),
        out,
    )
}

/// What the digest could not read: spokes, service updates.
fn warnings(digest: &UpcomingDigest) -> Vec<Block> {
    let mut out = Vec::new();
    if !digest.unread_spokes.is_empty() {
        let lines: Vec<String> = digest
            .unread_spokes
            .iter()
            .map(|s| format!("• {}", mrkdwn::truncate(&mrkdwn::escape_line(s), LIST_LINE)))
            .collect();
        out.push(blocks::section(&mrkdwn::truncate(
            &format!(
                "⚠️ *Spokes not read*: their maintenances may be missing until they are.\n{}",
                lines.join("\n")
            ),
            blocks::LIST_SECTION,
        )));
    }
    if let Some(why) = &digest.updates_unavailable {
        out.push(blocks::section(&format!(
            "⚠️ *Service updates could not be read*: {}. Check them in the console (ElastiCache › Service updates) until this is fixed.",
            mrkdwn::truncate(&mrkdwn::escape_line(why), LIST_LINE)
        )));
    }
    out
}

/// The maintenance windows (not acknowledged first, when known) and the service updates, as
/// list sections.
fn lists(digest: &UpcomingDigest, horizon: &str, zone: Zone) -> Vec<Block> {
    let mut out = Vec::new();
    if !digest.maintenances.is_empty() {
        let lines: Vec<String> = digest
            .maintenances
            .iter()
            .map(|m| {
                let line = maintenance_line(m, digest.now, zone);
                match digest.is_acknowledged(m) {
                    Some(false) => line.replacen("• ", "• 🔔 *not acknowledged* · ", 1),
                    _ => line,
                }
            })
            .collect();
        let order = if digest.acknowledged.is_some() {
            "not acknowledged first, then soonest first"
        } else {
            "soonest first"
        };
        out.extend(list_sections(
            &format!("*Maintenance windows in {horizon}*, {order}"),
            &lines,
            LIST_TEXT / 2,
        ));
    }
    if !digest.updates.is_empty() {
        let lines: Vec<String> = digest
            .updates
            .iter()
            .map(|update| update_line(update, digest.now, zone))
            .collect();
        out.extend(list_sections(
            "*Service updates not applied yet*, overdue first",
            &lines,
            LIST_TEXT / 2,
        ));
    }
    out
}

/// The coverage audit as a message.
pub fn coverage(audit: &CoverageAudit) -> SlackMessage {
    let total = audit.resources.len();
    let gaps = audit.gaps();
    let topic = mrkdwn::code(&audit.topic_arn);
    if gaps.is_empty() {
        let what = plural(
            total,
            "replication group or cluster",
            "replication groups and clusters",
        );
        return blocks::message(
            &format!("Every cluster sends its events to cachewatch ({what})"),
            vec![
                blocks::header("✅ Every cluster sends its events to cachewatch"),
                blocks::section(&format!(
                    "All {what} publish to {topic}, and the topic is active."
                )),
            ],
        );
    }

    let count = |f: fn(&TopicState) -> bool| gaps.iter().filter(|c| f(&c.state)).count();
    let missing = count(|s| *s == TopicState::Missing);
    let other = count(|s| matches!(s, TopicState::Other { .. }));
    let inactive = count(|s| *s == TopicState::Inactive);
    let headline = format!(
        "{} of {total} not sending their events to cachewatch",
        gaps.len()
    );
    let mut out = vec![
        blocks::header(&format!("📡 {headline}")),
        blocks::fields(&[
            format!("*Sending to cachewatch*\n{} of {total}", total - gaps.len()),
            format!("*No topic*\n{missing}"),
            format!("*Another topic*\n{other}"),
            format!("*Our topic, inactive*\n{inactive}"),
        ]),
    ];
    let lines: Vec<String> = gaps.iter().map(|c| gap_line(c)).collect();
    out.extend(list_sections(
        "*Not sending to cachewatch*",
        &lines,
        LIST_TEXT,
    ));
    let mut note = format!(
        "Without our topic, their maintenance notices reach nobody, and ElastiCache keeps them for 14 days only. `cachewatch audit --fix` sets {topic} on each, after showing what it changes."
    );
    if other > 0 {
        note.push_str(
            " A cluster has one topic: setting ours stops the other topic's notifications.",
        );
    }
    out.push(blocks::context(&[note]));
    blocks::message(
        &format!(
            "{headline}: {missing} without a topic, {other} with another topic, {inactive} inactive"
        ),
        out,
    )
}

/// The audit of the whole alert path as a message: the broken links past the clusters first
/// (each with the AWS page its rule comes from), then the clusters' coverage.
pub fn alert_path(audit: &PathAudit) -> SlackMessage {
    let covered = coverage(&audit.coverage);
    if audit.problems.is_empty() {
        return covered;
    }
    let count = audit.problems.len();
    let headline = format!(
        "The alert path is broken: {}",
        plural(
            count,
            "problem past the clusters",
            "problems past the clusters"
        )
    );
    let lines: Vec<String> = audit
        .problems
        .iter()
        .map(|p| {
            let text = mrkdwn::escape_line(&p.describe());
            match p.source() {
                Some(url) => format!("• {text} (<{url}|AWS>)"),
                None => format!("• {text}"),
            }
        })
        .collect();
    let mut out = vec![blocks::header(&format!("🚨 {headline}"))];
    out.extend(list_sections("*Broken links*", &lines, LIST_TEXT));
    out.push(blocks::context(&[
        "`cachewatch audit --fix` repairs the topic policy and the subscription, after showing what it changes.".to_owned(),
    ]));
    out.push(Block::Divider);
    out.extend(covered.blocks);
    blocks::message(&format!("{headline}. {}", covered.text), out)
}

/// `• `orders-0001-001` node `0001` (`orders`) · <date> – <time> (in 2 days) · rescheduled`.
fn maintenance_line(m: &Maintenance, now: DateTime<Utc>, zone: Zone) -> String {
    let subject = match (&m.cluster_id, &m.node_id) {
        (Some(c), Some(n)) => format!(
            "{} node {}",
            mrkdwn::code(c.as_str()),
            mrkdwn::code(n.as_str())
        ),
        (Some(c), None) => mrkdwn::code(c.as_str()),
        (None, _) => mrkdwn::code(&m.subject_label()),
    };
    let group = m
        .replication_group_id
        .as_ref()
        .map(|g| format!(" ({})", mrkdwn::code(g.as_str())))
        .unwrap_or_default();
    let when = match m.window {
        Some(w) if w.start <= now => format!(
            "window open now, until {}",
            mrkdwn::date(w.end, zone, DateStyle::DateTime)
        ),
        Some(w) => format!(
            "{} – {} ({})",
            mrkdwn::date(w.start, zone, DateStyle::DateTime),
            mrkdwn::date(w.end, zone, DateStyle::Time),
            mrkdwn::escape_line(&timefmt::relative(now, w.start)),
        ),
        None => "no window known".to_owned(),
    };
    let state = match m.status(now) {
        MaintenanceState::Rescheduled => " · rescheduled",
        MaintenanceState::InProgress => " · under way",
        _ => "",
    };
    let repeat = if m.repeat_of.is_some() {
        " · ⚠️ repeat of a recent replacement"
    } else {
        ""
    };
    mrkdwn::truncate(
        &format!("• {subject}{group} · {when}{state}{repeat}"),
        LIST_LINE,
    )
}

/// `• ⚠️ overdue · `elasticache-20260608-002` on replication group `orders` · critical security-update · apply by <date> (3 days ago) · not-applied`.
fn update_line(u: &ServiceUpdate, now: DateTime<Utc>, zone: Zone) -> String {
    let overdue = if u.is_overdue(now) {
        "⚠️ *overdue* · "
    } else {
        ""
    };
    let kind = [
        u.severity.as_ref().map(|s| s.as_str().to_owned()),
        u.update_type.clone(),
    ]
    .into_iter()
    .flatten()
    .collect::<Vec<_>>()
    .join(" ");
    let kind = if kind.is_empty() {
        String::new()
    } else {
        format!(" · {}", mrkdwn::escape_line(&kind))
    };
    let by = match u.apply_by {
        Some(by) => format!(
            " · apply by {} ({})",
            mrkdwn::date(by, zone, DateStyle::DateTime),
            mrkdwn::escape_line(&timefmt::relative(now, by)),
        ),
        None => " · no apply-by date".to_owned(),
    };
    mrkdwn::truncate(
        &format!(
            "• {overdue}{} on {}{kind}{by} · {}",
            mrkdwn::code(&u.name),
            resource_md(&u.resource),
            mrkdwn::escape_line(u.status.as_str()),
        ),
        LIST_LINE,
    )
}

/// `• replication group `ledger` (Redis OSS, 2 clusters): no topic → `ModifyReplicationGroup``.
fn gap_line(c: &Coverage) -> String {
    let engine = c.engine.map(|e| e.display_name());
    let members = match (&c.resource, c.clusters.len()) {
        (Resource::ReplicationGroup(_), n) => Some(plural(n, "cluster", "clusters")),
        (Resource::Cluster(_), _) => None,
    };
    let about: Vec<String> = engine
        .map(str::to_owned)
        .into_iter()
        .chain(members)
        .collect();
    let about = if about.is_empty() {
        String::new()
    } else {
        format!(" ({})", about.join(", "))
    };
    let state = match &c.state {
        TopicState::Missing => "no notification topic".to_owned(),
        TopicState::Other { topic_arn } => {
            format!("sends to {} instead", mrkdwn::code(topic_arn))
        }
        TopicState::Inactive => "our topic, but inactive".to_owned(),
        TopicState::Ours => "sends to cachewatch".to_owned(),
    };
    let fix = match c.resource {
        Resource::ReplicationGroup(_) => "ModifyReplicationGroup",
        Resource::Cluster(_) => "ModifyCacheCluster",
    };
    mrkdwn::truncate(
        &format!(
            "• {}{about}: {state} · fix: {}",
            resource_md(&c.resource),
            mrkdwn::code(fix)
        ),
        LIST_LINE,
    )
}

/// `replication group `orders``.
fn resource_md(r: &Resource) -> String {
    format!("{} {}", r.kind_label(), mrkdwn::code(r.id()))
}

fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// `title` and the `lines` under it, over as many sections as they need; past `budget`
/// characters the rest are counted, not named.
fn list_sections(title: &str, lines: &[String], budget: usize) -> Vec<Block> {
    let mut sections = blocks::list_sections(title, lines, budget, ".");
    // Keep room for the header, the fields, the other list and the context.
    sections.truncate((limits::BLOCKS - 4) / 2);
    sections
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::alerting::slack::limits::check;
    use crate::cluster::facts::Engine;
    use crate::fleet::{
        ClusterTopic, DIGEST_HORIZON, Fleet, UpdateSeverity, UpdateStatus, audit_coverage,
        upcoming_digest,
    };
    use crate::lifecycle::MaintenanceKind;
    use crate::model::event::{EventId, Window};
    use crate::model::ids::{ClusterId, NodeId, ReplicationGroupId, SourceId};
    use crate::model::kind::EventKind;
    use crate::test_support::at;

    const OURS: &str = "arn:aws:sns:eu-west-1:123456789012:cachewatch";
    const NOW: &str = "2026-06-22T09:00:00Z";

    fn maintenance(cluster: &str, start: DateTime<Utc>, state: MaintenanceState) -> Maintenance {
        let id = EventId::derive(
            &SourceId::parse(cluster).unwrap(),
            &EventKind::new(EventKind::NODE_REPLACEMENT_SCHEDULED),
            None,
            start,
        );
        Maintenance {
            id: id.clone(),
            group_key: cluster.to_owned(),
            kind: MaintenanceKind::Planned,
            state,
            cluster_id: Some(ClusterId::parse(cluster).unwrap()),
            node_id: Some(NodeId::parse("0001").unwrap()),
            replication_group_id: ReplicationGroupId::parse("orders").ok(),
            window: Some(Window {
                start,
                end: start + chrono::Duration::hours(1),
            }),
            previous_windows: vec![],
            first_event_at: at("2026-06-15T10:00:00Z"),
            last_event_at: at("2026-06-15T10:00:00Z"),
            started_at: None,
            completed_at: None,
            canceled_at: None,
            failovers: vec![],
            notices: 1,
            repeat_of: None,
            event_ids: vec![id],
            region: None,
            account_id: None,
            drill: false,
        }
    }

    fn update(name: &str, resource: Resource, apply_by: Option<&str>) -> ServiceUpdate {
        ServiceUpdate {
            name: name.to_owned(),
            resource,
            severity: Some(UpdateSeverity::Critical),
            status: UpdateStatus::NotApplied,
            release_date: None,
            apply_by: apply_by.map(at),
            update_type: Some("security-update".to_owned()),
            engine: Some(Engine::Redis),
        }
    }

    fn group(id: &str) -> Resource {
        Resource::ReplicationGroup(ReplicationGroupId::parse(id).unwrap())
    }

    fn all_text(m: &SlackMessage) -> String {
        limits::mrkdwn_texts(m)
            .into_iter()
            .map(|(_, t)| t.to_owned())
            .collect::<Vec<_>>()
            .join("\n")
    }

    #[test]
    fn spokes_not_read_are_listed_with_why() {
        let now = DateTime::parse_from_rfc3339("2026-06-10T09:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        let mut d = upcoming_digest(&[], &[], now, chrono::Duration::days(7));
        assert!(d.is_empty());
        d.unread_spokes = vec!["account 111122223333 in eu-west-1: AccessDenied <b>".to_owned()];
        assert!(!d.is_empty());
        let text = serde_json::to_string(&digest(&d, Zone::Utc)).unwrap();
        assert!(text.contains("Spokes not read"), "{text}");
        assert!(
            text.contains("account 111122223333 in eu-west-1: AccessDenied &lt;b&gt;"),
            "{text}"
        );
    }

    #[test]
    fn the_digest_lists_the_maintenances_nobody_acknowledged_first_and_marks_them() {
        // Arrange: the soonest one is acknowledged, the two later ones are not.
        let now = at(NOW);
        let soon = maintenance(
            "orders-0001-001",
            at("2026-06-23T21:00:00Z"),
            MaintenanceState::Scheduled,
        );
        let later = maintenance(
            "orders-0001-002",
            at("2026-06-25T21:00:00Z"),
            MaintenanceState::Scheduled,
        );
        let latest = maintenance(
            "orders-0001-003",
            at("2026-06-26T21:00:00Z"),
            MaintenanceState::Scheduled,
        );
        let all = [latest.clone(), soon.clone(), later.clone()];

        // Act
        let d = upcoming_digest(&all, &[], now, DIGEST_HORIZON)
            .with_acknowledged([soon.id.clone()].into());
        let message = digest(&d, Zone::Utc);

        // Assert
        let order: Vec<&EventId> = d.maintenances.iter().map(|m| &m.id).collect();
        assert_eq!(order, vec![&later.id, &latest.id, &soon.id]);
        let text = serde_json::to_string(&message.blocks).unwrap();
        assert_eq!(text.matches("not acknowledged*").count(), 2, "{text}");
        assert!(text.contains("not acknowledged first"), "{text}");
        let first = text.find("orders-0001-002").unwrap();
        assert!(first < text.find("orders-0001-001").unwrap(), "{text}");
        assert!(check(&message).is_empty(), "{:?}", check(&message));
    }

    #[test]
    fn the_digest_lists_windows_soonest_first_and_overdue_updates_first() {
        // Arrange
        let now = at(NOW);
        let maintenances = vec![
            maintenance(
                "orders-0001-002",
                at("2026-06-25T21:00:00Z"),
                MaintenanceState::Rescheduled,
            ),
            maintenance(
                "orders-0001-001",
                at("2026-06-23T21:00:00Z"),
                MaintenanceState::Scheduled,
            ),
        ];
        let updates = vec![
            update(
                "elasticache-20260701-001",
                group("orders"),
                Some("2026-07-01T00:00:00Z"),
            ),
            update(
                "elasticache-20260501-001",
                group("ledger"),
                Some("2026-06-01T00:00:00Z"),
            ),
        ];
        let d = upcoming_digest(&maintenances, &updates, now, DIGEST_HORIZON);

        // Act
        let message = digest(&d, Zone::Utc);

        // Assert
        assert_eq!(check(&message), vec![]);
        assert_eq!(
            message.text,
            "Coming up in the next 7 days: 2 maintenance windows, 2 service updates to apply (1 overdue)"
        );
        let text = all_text(&message);
        let first = text.find("`orders-0001-001`").unwrap();
        let second = text.find("`orders-0001-002`").unwrap();
        assert!(first < second, "{text}");
        assert!(text.contains("(in 1 day 12 hours)"), "{text}");
        assert!(text.contains("· rescheduled"), "{text}");
        let overdue = text
            .find("⚠️ *overdue* · `elasticache-20260501-001` on replication group `ledger`")
            .unwrap();
        let later = text.find("`elasticache-20260701-001`").unwrap();
        assert!(overdue < later, "{text}");
        assert!(text.contains("critical security-update"), "{text}");
        assert!(text.contains("<!date^1782248400^"), "{text}");
    }

    #[test]
    fn an_empty_digest_says_nothing_is_coming() {
        let d = upcoming_digest(&[], &[], at(NOW), DIGEST_HORIZON);
        let message = digest(&d, Zone::Utc);
        assert_eq!(check(&message), vec![]);
        assert!(
            message.text.starts_with("Nothing coming up"),
            "{}",
            message.text
        );
    }

    #[test]
    fn the_digest_says_when_the_alert_path_was_last_checked() {
        let mut d = upcoming_digest(&[], &[], at(NOW), DIGEST_HORIZON);
        let quiet = serde_json::to_string(&digest(&d, Zone::Utc).blocks).unwrap();
        assert!(!quiet.contains("Alert path checked"), "{quiet}");
        d.alert_path_checked = Some(crate::alerting::canary::LastCheck {
            at: at("2026-06-16T09:00:00Z"),
            took_ms: 3_800,
        });
        let message = digest(&d, Zone::Utc);
        assert_eq!(check(&message), vec![]);
        let text = serde_json::to_string(&message.blocks).unwrap();
        assert!(
            text.contains("Alert path checked Tuesday 09:00 UTC, 3.8 s end to end"),
            "{text}"
        );
    }

    #[test]
    fn updates_that_could_not_be_read_are_not_reported_as_applied() {
        let mut d = upcoming_digest(&[], &[], at(NOW), DIGEST_HORIZON);
        d.updates_unavailable =
            Some("AccessDenied: not authorized to perform DescribeUpdateActions <x>".into());
        let message = digest(&d, Zone::Utc);
        assert_eq!(check(&message), vec![]);
        let text = serde_json::to_string(&message.blocks).unwrap();
        assert!(
            !message.text.contains("Nothing coming up"),
            "{}",
            message.text
        );
        assert!(
            message.text.contains("service updates unknown"),
            "{}",
            message.text
        );
        assert!(text.contains("Service updates could not be read"), "{text}");
        assert!(text.contains("&lt;x&gt;"), "{text}");
        assert!(!text.contains("every service update is applied"), "{text}");
    }

    #[test]
    fn hostile_names_are_escaped_and_long_lists_are_cut_within_limits() {
        // Arrange
        let now = at(NOW);
        let maintenances: Vec<Maintenance> = (0..300)
            .map(|i| {
                maintenance(
                    &format!("<!channel>-{i:03}&<@U1>"),
                    now + chrono::Duration::minutes(10 * i + 60),
                    MaintenanceState::Scheduled,
                )
            })
            .collect();
        let updates: Vec<ServiceUpdate> = (0..300)
            .map(|i| update(&format!("<http://x|y>-{i}"), group("<!here>"), None))
            .collect();
        let d = upcoming_digest(&maintenances, &updates, now, DIGEST_HORIZON);

        // Act
        let message = digest(&d, Zone::Utc);

        // Assert
        assert_eq!(check(&message), vec![]);
        let text = all_text(&message);
        assert!(!text.contains("<!channel>"), "{text}");
        assert!(!text.contains("<!here>"), "{text}");
        assert!(!text.contains("<http"), "{text}");
        assert!(text.contains("more."), "{text}");
    }

    fn topic(id: &str, group: Option<&str>, arn: Option<&str>, status: &str) -> ClusterTopic {
        ClusterTopic {
            cluster_id: ClusterId::parse(id).unwrap(),
            replication_group_id: group.map(|g| ReplicationGroupId::parse(g).unwrap()),
            engine: Some(if group.is_some() {
                Engine::Valkey
            } else {
                Engine::Memcached
            }),
            topic_arn: arn.map(str::to_owned),
            topic_status: Some(status.to_owned()),
        }
    }

    #[test]
    fn the_coverage_message_names_each_gap_and_its_fix() {
        // Arrange
        let fleet = Fleet {
            clusters: vec![
                topic("orders-001", Some("orders"), Some(OURS), "active"),
                topic("ledger-001", Some("ledger"), None, "active"),
                topic("ledger-002", Some("ledger"), None, "active"),
                topic(
                    "sessions",
                    None,
                    Some("arn:aws:sns:eu-west-1:123456789012:other"),
                    "active",
                ),
                topic("carts", None, Some(OURS), "inactive"),
            ],
            replication_groups: vec![],
        };
        let audit = audit_coverage(&fleet, OURS);

        // Act
        let message = coverage(&audit);

        // Assert
        assert_eq!(check(&message), vec![]);
        assert_eq!(
            message.text,
            "3 of 4 not sending their events to cachewatch: 1 without a topic, 1 with another topic, 1 inactive"
        );
        let text = all_text(&message);
        assert!(text.contains("• replication group `ledger` (Valkey, 2 clusters): no notification topic · fix: `ModifyReplicationGroup`"), "{text}");
        assert!(text.contains("• cluster `sessions` (Memcached): sends to `arn:aws:sns:eu-west-1:123456789012:other` instead · fix: `ModifyCacheCluster`"), "{text}");
        assert!(
            text.contains("• cluster `carts` (Memcached): our topic, but inactive"),
            "{text}"
        );
        assert!(!text.contains("`orders`"), "{text}");
        assert!(
            text.contains("stops the other topic's notifications"),
            "{text}"
        );
    }

    #[test]
    fn a_broken_link_past_the_clusters_leads_the_audit_with_its_aws_source_and_escaped() {
        let fleet = Fleet {
            clusters: vec![topic("orders-001", Some("orders"), Some(OURS), "active")],
            replication_groups: vec![],
        };
        let audit = crate::alerting::alert_path::audit_path(
            audit_coverage(&fleet, OURS),
            &crate::alerting::alert_path::PathFacts {
                kms_master_key_id: Some("<!channel> key".into()),
                ..Default::default()
            },
        );
        let message = alert_path(&audit);
        assert_eq!(check(&message), vec![]);
        assert!(
            message
                .text
                .starts_with("The alert path is broken: 3 problems"),
            "{}",
            message.text
        );
        let blocks = serde_json::to_string(&message.blocks).unwrap();
        assert!(blocks.contains(&format!(
            "<{}|AWS>",
            crate::alerting::alert_path::ELASTICACHE_SNS_DOC
        )));
        assert!(!blocks.contains("<!channel>"), "{blocks}");
        assert!(blocks.contains("Every cluster sends"), "coverage follows");
    }

    #[test]
    fn full_coverage_is_one_short_message() {
        let fleet = Fleet {
            clusters: vec![topic("orders-001", Some("orders"), Some(OURS), "active")],
            replication_groups: vec![],
        };
        let message = coverage(&audit_coverage(&fleet, OURS));
        assert_eq!(check(&message), vec![]);
        assert_eq!(message.blocks.len(), 2);
        assert!(
            message.text.starts_with("Every cluster sends"),
            "{}",
            message.text
        );
    }

    #[test]
    fn a_large_fleet_with_hostile_names_stays_within_limits() {
        let clusters = (0..500)
            .map(|i| {
                topic(
                    &format!("<!channel>&{i}"),
                    None,
                    Some(&format!("arn:<@U{i}>")),
                    "active",
                )
            })
            .collect();
        let audit = audit_coverage(
            &Fleet {
                clusters,
                replication_groups: vec![],
            },
            OURS,
        );
        let message = coverage(&audit);
        assert_eq!(check(&message), vec![]);
        let text = all_text(&message);
        assert!(!text.contains("<!channel>"), "{text}");
        assert!(!text.contains("<@U"), "{text}");
        assert!(text.contains("more."), "{text}");
    }
}
