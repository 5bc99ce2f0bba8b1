//! Whether an event alerts, where, and if not, why not.
//!
//! Only what needs people pages them: actionable events (node replacements and failovers by
//! default) whose maintenance is still ahead or which just happened. History imported in bulk does
//! not page. A replacement notice repeating a window already announced does not page again (AWS
//! says repeats are normal); neither does the second report of one failover (ElastiCache reports
//! it for the cluster and for the replication group). A mute holds a cluster's alerts back until its
//! date.
//!
//! Routes and mutes may name the cluster's tags ([`crate::config::tags`]). Events carry none:
//! when, and only when, the configuration lists tags, [`tags_for`] asks the facts source for
//! them before the decision (the same cached lookup the alert is drawn with, which falls back on
//! the facts last kept), and [`verdict_tagged`] decides with them.

use std::collections::BTreeSet;

use chrono::{DateTime, Duration, Utc};

use crate::cluster::source::FactsSource;
use crate::config::tags::Tags;
use crate::config::{Config, Mute};
use crate::lifecycle::Maintenance;
use crate::model::event::{EventId, MaintenanceEvent};
use crate::model::kind::EventKind;

/// Events older than this, whose maintenance is over, are history: they do not page.
pub const FRESH_FOR: Duration = Duration::hours(48);
/// Two failover reports of one maintenance this close together are one failover.
pub const SAME_FAILOVER_WITHIN: Duration = Duration::minutes(10);

/// Why an actionable event does not alert.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Quiet {
    /// It happened long ago and its maintenance is over.
    Stale,
    /// A notice for a window already announced for this maintenance.
    RepeatNotice,
    /// Another report of a failover already announced.
    SameFailover,
    /// No channel is configured for it.
    NoChannel,
}

impl Quiet {
    /// The reason in words, as stored and shown.
    pub fn describe(&self) -> &'static str {
        match self {
            Quiet::Stale => {
                "history: it happened more than 48 hours ago and its maintenance is over"
            }
            Quiet::RepeatNotice => "a repeat of a notice already announced for the same window",
            Quiet::SameFailover => "another report of a failover already announced",
            Quiet::NoChannel => "no Slack channel is configured for it",
        }
    }
}

/// What to do with an event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Not something people must act on: nothing is recorded.
    NotActionable,
    /// Alert in `channel`.
    Announce {
        /// The channel.
        channel: String,
    },
    /// Muted: recorded, not sent.
    Muted {
        /// The pattern of the mute.
        pattern: String,
        /// Its end.
        until: DateTime<Utc>,
    },
    /// Actionable, but not worth a message: recorded with the reason.
    Quiet(Quiet),
}

/// What the decision needs to know about an event's surroundings.
#[derive(Debug, Clone, Copy)]
pub struct Surroundings<'a> {
    /// The event's maintenance, if it has one.
    pub maintenance: Option<&'a Maintenance>,
    /// The maintenance's events.
    pub events: &'a [MaintenanceEvent],
    /// Which of those events have already been announced (or are about to be).
    pub announced: &'a BTreeSet<EventId>,
}

/// Decides what to do with an event at `now`, its cluster's tags not known (no route or mute
/// that lists tags holds it). `channel` is the channel given by the environment
/// (`SLACK_CHANNEL`), which routes in the configuration override.
pub fn verdict(
    event: &MaintenanceEvent,
    around: Surroundings<'_>,
    config: &Config,
    channel: Option<&str>,
    now: DateTime<Utc>,
) -> Verdict {
    verdict_tagged(event, around, config, channel, None, now)
}

/// The tags the decision about `event` reads: none unless a route or mute lists tags (then
/// nothing is looked up or read), else its cluster's as `facts` knows them (`None`: not known).
pub async fn tags_for<F: FactsSource>(
    config: &Config,
    facts: &F,
    event: &MaintenanceEvent,
    maintenance: Option<&Maintenance>,
) -> Option<Tags> {
    if !config.uses_tags() {
        return None;
    }
    facts.tags_for(event, maintenance).await
}

/// [`verdict`], for an event of a cluster whose tags are `tags` (`None`: not known, so no route
/// or mute that lists tags holds it: the next route claims it, and it is not muted by tag).
pub fn verdict_tagged(
    event: &MaintenanceEvent,
    around: Surroundings<'_>,
    config: &Config,
    channel: Option<&str>,
    tags: Option<&Tags>,
    now: DateTime<Utc>,
) -> Verdict {
    if !event.actionable {
        return Verdict::NotActionable;
    }
    let ahead = around.maintenance.is_some_and(|m| m.is_upcoming(now));
    if event.occurred_at < now - FRESH_FOR && !ahead {
        return Verdict::Quiet(Quiet::Stale);
    }
    let announced = |e: &&MaintenanceEvent| e.id != event.id && around.announced.contains(&e.id);
    if event.kind.is(EventKind::NODE_REPLACEMENT_SCHEDULED)
        && event.window.is_some()
        && around
            .events
            .iter()
            .filter(announced)
            .any(|e| e.window == event.window && e.kind.category() == event.kind.category())
    {
        return Verdict::Quiet(Quiet::RepeatNotice);
    }
    if event.kind.is(EventKind::FAILOVER_COMPLETE)
        && around.events.iter().filter(announced).any(|e| {
            e.kind.is(EventKind::FAILOVER_COMPLETE)
                && (e.occurred_at - event.occurred_at).abs() <= SAME_FAILOVER_WITHIN
        })
    {
        return Verdict::Quiet(Quiet::SameFailover);
    }
    if let Some(mute) = config.mute_for_tagged(event, tags, now) {
        return Verdict::Muted {
            pattern: mute_pattern(mute),
            until: mute.until_time().unwrap_or(now),
        };
    }
    match config.channel_for_tagged(event, tags, channel) {
        Some(channel) => Verdict::Announce {
            channel: channel.to_owned(),
        },
        None => Verdict::Quiet(Quiet::NoChannel),
    }
}

/// How a muted alert names its mute: the cluster pattern, and the tags it lists
/// (`* tagged env=staging`).
fn mute_pattern(mute: &Mute) -> String {
    if mute.tags.is_empty() {
        return mute.clusters.clone();
    }
    let tags: Vec<String> = mute.tags.iter().map(|(k, v)| format!("{k}={v}")).collect();
    format!("{} tagged {}", mute.clusters, tags.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::intake::parse::{ParseContext, parse_document};
    use crate::lifecycle::assemble;
    use crate::test_support::{at, block_on, tags};

    fn events(input: &str) -> Vec<MaintenanceEvent> {
        parse_document(
            input,
            &ParseContext::received_at(at("2026-06-11T00:00:00Z")),
        )
        .unwrap()
    }

    fn scheduled(cluster: &str, date: &str, start: &str) -> String {
        format!(
            r#"{{"SourceIdentifier":"{cluster}","SourceType":"cache-cluster","Date":"{date}","Message":"The node with Cache Cluster ID: {cluster}, Node ID: 0001 is scheduled for replacement during the maintenance window from Start Time: {start}, End Time: {start}"}}"#
        )
    }

    fn decide(
        all: &[MaintenanceEvent],
        which: usize,
        announced: &[usize],
        config: &Config,
        now: &str,
    ) -> Verdict {
        let ms = assemble(all);
        let m = ms.iter().find(|m| m.event_ids.contains(&all[which].id));
        let announced: BTreeSet<EventId> = announced.iter().map(|&i| all[i].id.clone()).collect();
        verdict(
            &all[which],
            Surroundings {
                maintenance: m,
                events: all,
                announced: &announced,
            },
            config,
            Some("#cache"),
            at(now),
        )
    }

    #[test]
    fn a_notice_for_a_window_ahead_alerts_even_when_it_arrives_late() {
        let all = events(&scheduled(
            "a-001",
            "2026-06-01T00:00:00Z",
            "Jun 25 19:00 UTC",
        ));
        let v = decide(&all, 0, &[], &Config::default(), "2026-06-11T00:00:00Z");
        assert_eq!(
            v,
            Verdict::Announce {
                channel: "#cache".into()
            }
        );
    }

    #[test]
    fn history_does_not_page() {
        let all = events(&scheduled(
            "a-001",
            "2026-03-01T00:00:00Z",
            "Mar 10 19:00 UTC",
        ));
        let v = decide(&all, 0, &[], &Config::default(), "2026-06-11T00:00:00Z");
        assert_eq!(v, Verdict::Quiet(Quiet::Stale));
    }

    #[test]
    fn a_repeated_notice_for_an_announced_window_stays_quiet_whichever_came_first() {
        let input = [
            scheduled("a-001", "2026-06-01T00:00:00Z", "Jun 25 19:00 UTC"),
            scheduled("a-001", "2026-06-05T00:00:00Z", "Jun 25 19:00 UTC"),
        ]
        .join("\n");
        let all = events(&input);
        let now = "2026-06-11T00:00:00Z";
        assert_eq!(
            decide(&all, 1, &[0], &Config::default(), now),
            Verdict::Quiet(Quiet::RepeatNotice)
        );
        assert_eq!(
            decide(&all, 0, &[1], &Config::default(), now),
            Verdict::Quiet(Quiet::RepeatNotice)
        );
        assert!(matches!(
            decide(&all, 1, &[], &Config::default(), now),
            Verdict::Announce { .. }
        ));
    }

    #[test]
    fn a_failover_reported_twice_alerts_once() {
        let input = r#"{"Events":[
          {"SourceIdentifier":"s","SourceType":"replication-group","Date":"2026-06-10T04:58:00Z","Message":"Failover to replica node s-002 completed"},
          {"SourceIdentifier":"s-002","SourceType":"cache-cluster","Date":"2026-06-10T04:58:02Z","Message":"Failover to replica node s-002 completed"}]}"#;
        let all = events(input);
        let now = "2026-06-10T05:00:00Z";
        assert!(matches!(
            decide(&all, 0, &[], &Config::default(), now),
            Verdict::Announce { .. }
        ));
        assert_eq!(
            decide(&all, 1, &[0], &Config::default(), now),
            Verdict::Quiet(Quiet::SameFailover)
        );
    }

    #[test]
    fn mutes_and_routes_apply() {
        let config = Config::from_toml(
            r##"
            [[mutes]]
            clusters = "a-*"
            until = "2026-07-01"
            [[routes]]
            clusters = "b"
            channel = "#team-b"
            "##,
        )
        .unwrap();
        let input = [
            scheduled("a-001", "2026-06-10T00:00:00Z", "Jun 25 19:00 UTC"),
            scheduled("b-001", "2026-06-10T00:00:00Z", "Jun 25 19:00 UTC"),
        ]
        .join("\n");
        let all = events(&input);
        let now = "2026-06-11T00:00:00Z";
        assert!(matches!(
            decide(&all, 0, &[], &config, now),
            Verdict::Muted { .. }
        ));
        assert_eq!(
            decide(&all, 1, &[], &config, now),
            Verdict::Announce {
                channel: "#team-b".into()
            }
        );
    }

    /// Facts that give every cluster `tags`, counting the lookups.
    struct Tagged(Option<Tags>, std::sync::atomic::AtomicUsize);

    impl FactsSource for Tagged {
        async fn facts_for(
            &self,
            _: &MaintenanceEvent,
            _: Option<&Maintenance>,
        ) -> crate::cluster::facts::ClusterFacts {
            self.1.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            crate::cluster::facts::ClusterFacts {
                tags: self.0.clone(),
                ..Default::default()
            }
        }
    }

    fn tagged(pairs: &[(&str, &str)]) -> Tagged {
        Tagged(Some(tags(pairs)), Default::default())
    }

    const BY_TAGS: &str = r##"
        [[routes]]
        tags = { team = "payments" }
        channel = "#payments"
        [[routes]]
        clusters = "a-*"
        channel = "#team-a"
        [[mutes]]
        tags = { env = "stag*" }
        until = "2026-07-01"
    "##;

    /// The verdict on `all[0]` for a cluster whose facts are `facts`, the tags asked first.
    fn decide_tagged(all: &[MaintenanceEvent], config: &Config, facts: &Tagged) -> Verdict {
        let ms = assemble(all);
        let announced = BTreeSet::new();
        let tags = block_on(tags_for(config, facts, &all[0], ms.first()));
        verdict_tagged(
            &all[0],
            Surroundings {
                maintenance: ms.first(),
                events: all,
                announced: &announced,
            },
            config,
            Some("#cache"),
            tags.as_ref(),
            at("2026-06-11T00:00:00Z"),
        )
    }

    #[test]
    fn a_route_by_tag_claims_a_tagged_cluster_and_an_unknown_one_goes_to_the_next_route() {
        let config = Config::from_toml(BY_TAGS).unwrap();
        let all = events(&scheduled(
            "a-001",
            "2026-06-10T00:00:00Z",
            "Jun 25 19:00 UTC",
        ));
        let announce = |channel: &str| Verdict::Announce {
            channel: channel.into(),
        };
        let payments = tagged(&[("team", "payments"), ("env", "production")]);
        assert_eq!(
            decide_tagged(&all, &config, &payments),
            announce("#payments")
        );
        let other = tagged(&[("team", "search")]);
        assert_eq!(decide_tagged(&all, &config, &other), announce("#team-a"));
        let unknown = Tagged(None, Default::default());
        assert_eq!(
            decide_tagged(&all, &config, &unknown),
            announce("#team-a"),
            "tags not known: the next route"
        );
        let b = events(&scheduled(
            "b-001",
            "2026-06-10T00:00:00Z",
            "Jun 25 19:00 UTC",
        ));
        assert_eq!(
            decide_tagged(&b, &config, &unknown),
            announce("#cache"),
            "tags not known and no other route: the default channel"
        );
    }

    #[test]
    fn a_mute_by_tag_holds_a_cluster_carrying_it_and_names_the_tags() {
        let config = Config::from_toml(BY_TAGS).unwrap();
        let all = events(&scheduled(
            "a-001",
            "2026-06-10T00:00:00Z",
            "Jun 25 19:00 UTC",
        ));
        let staging = tagged(&[("env", "staging"), ("team", "payments")]);
        assert_eq!(
            decide_tagged(&all, &config, &staging),
            Verdict::Muted {
                pattern: "* tagged env=stag*".into(),
                until: at("2026-07-01T00:00:00Z"),
            }
        );
        let unknown = Tagged(None, Default::default());
        assert!(
            matches!(
                decide_tagged(&all, &config, &unknown),
                Verdict::Announce { .. }
            ),
            "tags not known: not muted"
        );
    }

    #[test]
    fn tags_are_looked_up_only_when_a_route_or_mute_lists_them() {
        let all = events(&scheduled(
            "a-001",
            "2026-06-10T00:00:00Z",
            "Jun 25 19:00 UTC",
        ));
        let facts = tagged(&[("team", "payments")]);
        let without =
            Config::from_toml("[[routes]]\nclusters = \"a-*\"\nchannel = \"#a\"").unwrap();
        let found = block_on(tags_for(&without, &facts, &all[0], None));
        assert_eq!(found, None);
        assert_eq!(facts.1.load(std::sync::atomic::Ordering::SeqCst), 0);
        let with = Config::from_toml(BY_TAGS).unwrap();
        let found = block_on(tags_for(&with, &facts, &all[0], None));
        assert_eq!(found, facts.0);
        assert_eq!(facts.1.load(std::sync::atomic::Ordering::SeqCst), 1);
    }

    #[test]
    fn events_nobody_acts_on_record_nothing() {
        let all = events(
            r#"{"SourceIdentifier":"a-001","SourceType":"cache-cluster","Date":"2026-06-10T00:00:00Z","Message":"Cache node 0001 restarted"}"#,
        );
        assert_eq!(
            decide(&all, 0, &[], &Config::default(), "2026-06-10T01:00:00Z"),
            Verdict::NotActionable
        );
    }
}
