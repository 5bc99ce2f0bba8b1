//! What an [`AlertContext`] says, worked out once for every message about it: where the
//! maintenance stands, which node of which cluster, the windows, and the words for what happens,
//! the repeat warning and the risks.
//!
//! Every text from an event or from enrichment goes through [`mrkdwn`] here; the sentences
//! around it are cachewatch's own.

use chrono::{DateTime, Duration, Utc};

use super::AlertContext;
use super::mrkdwn::{self, DateStyle};
use crate::cluster::facts::{self, Engine, NodeRole, Severity};
use crate::cluster::impact;
use crate::lifecycle::{MaintenanceKind, MaintenanceState};
use crate::model::event::Window;
use crate::model::kind::{Category, EventKind};
use crate::model::timefmt;
use crate::runbook::escape::shell_word;

/// How many characters of an event's original text a message quotes.
const QUOTED_MESSAGE: usize = 600;
/// The most a quoted message takes once escaped.
const QUOTED_MESSAGE_MAX: usize = 1500;

/// A failover: from, to, when.
#[derive(Debug, Clone)]
pub(crate) struct Failover {
    pub from: Option<String>,
    pub to: Option<String>,
    pub at: DateTime<Utc>,
}

/// The facts of one alert context, as the messages tell them.
pub(crate) struct Situation<'a> {
    pub ctx: &'a AlertContext<'a>,
    /// Where the maintenance stands at `now`; `None` for an event outside any lifecycle.
    pub state: Option<MaintenanceState>,
    /// A failover outside any replacement.
    pub failover_episode: bool,
    /// A replacement that started without notice.
    pub unplanned: bool,
    pub cluster: Option<String>,
    pub node: Option<String>,
    pub group: Option<String>,
    pub window: Option<Window>,
    /// The window it was moved from last, when it was moved.
    pub moved_from: Option<Window>,
    pub region: Option<String>,
    pub account: Option<String>,
    /// The account's name from `[accounts]`, when it has one.
    pub account_name: Option<String>,
    pub failovers: Vec<Failover>,
    pub drill: bool,
}

impl<'a> Situation<'a> {
    pub fn of(ctx: &'a AlertContext<'a>) -> Self {
        let e = ctx.event;
        let m = ctx.maintenance;
        let state = match m {
            Some(m) => Some(m.status(ctx.now)),
            None => state_of_event(ctx),
        };
        let failover_episode = m.map_or(e.category == Category::Failover, |m| {
            m.kind == MaintenanceKind::Failover
        });
        let cluster = m
            .and_then(|m| m.cluster_id.as_ref().map(ToString::to_string))
            .or_else(|| e.cluster_id.as_ref().map(ToString::to_string))
            .or_else(|| (e.source_type == "cache-cluster").then(|| e.source_id.to_string()));
        let node = m
            .and_then(|m| m.node_id.as_ref().map(ToString::to_string))
            .or_else(|| e.node_id.as_ref().map(ToString::to_string));
        let group = e
            .replication_group_id
            .as_ref()
            .map(ToString::to_string)
            .or_else(|| m.and_then(|m| m.replication_group_id.as_ref().map(ToString::to_string)))
            .or_else(|| ctx.facts.replication_group_id.clone())
            .or_else(|| (e.source_type == "replication-group").then(|| e.source_id.to_string()));
        let window = m.and_then(|m| m.window).or(e.window);
        let moved_from = match m {
            Some(m) => m.previous_windows.last().copied(),
            None => e.previous_window,
        };
        let failovers = match m {
            Some(m) => m
                .failovers
                .iter()
                .map(|f| Failover {
                    from: f.from.clone(),
                    to: f.to.clone(),
                    at: f.at,
                })
                .collect(),
            None if e.category == Category::Failover => vec![Failover {
                from: e.failover.as_ref().and_then(|f| f.from.clone()),
                to: e.failover.as_ref().and_then(|f| f.to.clone()),
                at: e.occurred_at,
            }],
            None => Vec::new(),
        };
        let account = e
            .account_id
            .clone()
            .or_else(|| m.and_then(|m| m.account_id.clone()));
        let account_name = account
            .as_deref()
            .and_then(|a| ctx.accounts.get(a))
            .cloned();
        Self {
            ctx,
            state,
            failover_episode,
            unplanned: m.is_some_and(|m| m.kind == MaintenanceKind::Unplanned),
            cluster,
            node,
            group,
            window,
            moved_from,
            region: e
                .region
                .clone()
                .or_else(|| m.and_then(|m| m.region.clone())),
            account,
            account_name,
            failovers,
            drill: ctx.drill(),
        }
    }

    // --- Times ---------------------------------------------------------------------------------

    /// A date and time every reader sees in their own zone.
    pub fn at(&self, at: DateTime<Utc>) -> String {
        mrkdwn::date(at, self.ctx.zone, DateStyle::DateTime)
    }

    /// A window every reader sees in their own zone.
    pub fn window_md(&self, w: Window) -> String {
        if w.start == w.end {
            return format!("from {} (end not given)", self.at(w.start));
        }
        let end = if w.end - w.start < Duration::hours(20) {
            DateStyle::Time
        } else {
            DateStyle::DateTime
        };
        format!(
            "{} – {}",
            self.at(w.start),
            mrkdwn::date(w.end, self.ctx.zone, end)
        )
    }

    /// A window in the plain-text zone.
    pub fn window_plain(&self, w: Window) -> String {
        self.ctx.zone.format_window(w.start, w.end)
    }

    /// `at` in the plain-text zone.
    pub fn at_plain(&self, at: DateTime<Utc>) -> String {
        self.ctx.zone.format(at)
    }

    /// How far `at` is from now: `in 3 days 10 hours`, `2 hours ago`.
    pub fn relative(&self, at: DateTime<Utc>) -> String {
        timefmt::relative(self.ctx.now, at)
    }

    /// The window the maintenance had just before the event of the context: the last one an
    /// earlier event of `events` announced.
    pub fn window_before_event(&self) -> Option<Window> {
        let e = self.ctx.event;
        self.ctx
            .events
            .iter()
            .filter(|x| x.id != e.id && x.occurred_at <= e.occurred_at)
            .filter(|x| x.category == Category::NodeReplacement)
            .filter_map(|x| x.window)
            .next_back()
    }

    /// Whether people may still act before the work.
    pub fn upcoming(&self) -> bool {
        matches!(
            self.state,
            Some(MaintenanceState::Scheduled | MaintenanceState::Rescheduled)
        )
    }

    // --- Names ---------------------------------------------------------------------------------

    /// What the alert is about, as text: `orders-0001-001 node 0001`, or the group.
    pub fn subject(&self) -> String {
        if self.failover_episode && self.cluster.is_none() {
            return self
                .group
                .clone()
                .unwrap_or_else(|| self.ctx.event.cluster_label().to_owned());
        }
        match (&self.cluster, &self.node) {
            (Some(c), Some(n)) => format!("{c} node {n}"),
            (Some(c), None) => c.clone(),
            (None, _) => self
                .group
                .clone()
                .unwrap_or_else(|| self.ctx.event.cluster_label().to_owned()),
        }
    }

    /// [`subject`](Self::subject) as mrkdwn, identifiers in code.
    pub fn subject_md(&self) -> String {
        if self.failover_episode && self.cluster.is_none() {
            return mrkdwn::code(&self.subject());
        }
        match (&self.cluster, &self.node) {
            (Some(c), Some(n)) => format!("{} node {}", mrkdwn::code(c), mrkdwn::code(n)),
            _ => mrkdwn::code(&self.subject()),
        }
    }

    /// What opens a list line about a drill: `🧪 ` (nothing otherwise).
    pub fn drill_mark(&self) -> &'static str {
        if self.drill { "🧪 " } else { "" }
    }

    /// What follows the subject in a list line: its replication group, ` (`orders`)` (nothing
    /// when it has none).
    pub fn group_suffix(&self) -> String {
        self.group
            .as_deref()
            .map(|g| format!(" ({})", mrkdwn::code(g)))
            .unwrap_or_default()
    }

    pub fn engine(&self) -> Option<Engine> {
        self.ctx.facts.engine
    }

    pub fn role(&self) -> Option<NodeRole> {
        self.ctx.facts.node_role
    }

    /// `Redis OSS primary`, `Memcached`, `Valkey, role not known`, `engine not known`.
    pub fn engine_role(&self) -> String {
        match (self.engine(), self.role()) {
            (Some(Engine::Memcached), _) => "Memcached".to_owned(),
            (Some(e), Some(r)) => format!("{} {r}", e.display_name()),
            (Some(e), None) => format!("{}, role not known", e.display_name()),
            (None, Some(r)) => format!("{r}, engine not known"),
            (None, None) => "engine and role not known".to_owned(),
        }
    }

    /// The account as people know it: `payments-prod (111122223333)`, or the id alone.
    pub fn account_label(&self) -> Option<String> {
        let id = self.account.as_deref()?;
        Some(match self.account_name.as_deref() {
            Some(name) => format!("{name} ({id})"),
            None => id.to_owned(),
        })
    }

    /// The `--region` flag for commands, when the region is known.
    fn region_flag(&self) -> String {
        self.region
            .as_deref()
            .map_or_else(String::new, |r| format!(" --region {}", shell_word(r)))
    }

    // --- Headline ------------------------------------------------------------------------------

    /// The emoji and the plain words of the headline.
    pub fn headline(&self) -> (&'static str, String) {
        if self.failover_episode {
            return ("🔀", "Failover happened".to_owned());
        }
        if self.ctx.event.category == Category::Health {
            return ("🩺", health_headline(&self.ctx.event.kind, self.state));
        }
        let Some(state) = self.state else {
            let kind = self.ctx.event.kind.describe();
            let mut words = kind.chars();
            let capitalized = words
                .next()
                .map(|c| c.to_uppercase().chain(words).collect())
                .unwrap_or(kind);
            return ("ℹ️", capitalized);
        };
        let (emoji, words) = match state {
            MaintenanceState::Scheduled => ("🗓️", "Node replacement scheduled"),
            MaintenanceState::Rescheduled => ("📆", "Node replacement rescheduled"),
            MaintenanceState::Canceled => ("🚫", "Node replacement canceled"),
            MaintenanceState::InProgress if self.unplanned => {
                ("🚨", "Replacing a node now, without notice")
            }
            MaintenanceState::InProgress => ("🔧", "Replacing the node now"),
            MaintenanceState::Completed if !self.failovers.is_empty() => {
                ("✅", "Node replaced, with a failover")
            }
            MaintenanceState::Completed => ("✅", "Node replaced"),
            MaintenanceState::WindowPassed => ("⌛", "Replacement window passed"),
        };
        (emoji, words.to_owned())
    }

    /// The timing of the current state, as a label and an mrkdwn value.
    ///
    /// An AWS Health notice has a deadline (its start time) while upcoming, like a scheduled
    /// replacement.
    pub fn timing(&self) -> Option<(&'static str, String)> {
        let m = self.ctx.maintenance;
        let with_relative = |at: DateTime<Utc>| format!("{}\n{}", self.at(at), self.relative(at));
        if self.failover_episode {
            let at = self
                .failovers
                .last()
                .map_or(self.ctx.event.occurred_at, |f| f.at);
            return Some(("Failover at", with_relative(at)));
        }
        match self.state? {
            MaintenanceState::Scheduled | MaintenanceState::Rescheduled => {
                self.window.map(|w| ("Deadline", with_relative(w.start)))
            }
            MaintenanceState::InProgress => {
                let started = m
                    .and_then(|m| m.started_at)
                    .unwrap_or(self.ctx.event.occurred_at);
                Some(("Started", with_relative(started)))
            }
            MaintenanceState::Completed => {
                let done = m
                    .and_then(|m| m.completed_at)
                    .unwrap_or(self.ctx.event.occurred_at);
                let took = m
                    .and_then(|m| m.started_at)
                    .filter(|s| *s <= done)
                    .map(|s| format!(", took {}", timefmt::human_duration(done - s)))
                    .unwrap_or_default();
                Some((
                    "Replaced",
                    format!("{}\n{}{took}", self.at(done), self.relative(done)),
                ))
            }
            MaintenanceState::Canceled => {
                let at = m
                    .and_then(|m| m.canceled_at)
                    .unwrap_or(self.ctx.event.occurred_at);
                Some(("Canceled", with_relative(at)))
            }
            MaintenanceState::WindowPassed => {
                self.window.map(|w| ("Window ended", with_relative(w.end)))
            }
        }
    }

    /// The timing of the current state in plain words, for notification texts.
    pub fn timing_plain(&self) -> Option<String> {
        let m = self.ctx.maintenance;
        let when = |at: DateTime<Utc>| format!("{}, {}", self.at_plain(at), self.relative(at));
        if self.failover_episode {
            let at = self
                .failovers
                .last()
                .map_or(self.ctx.event.occurred_at, |f| f.at);
            return Some(format!("at {}", when(at)));
        }
        match self.state? {
            MaintenanceState::Scheduled | MaintenanceState::Rescheduled => {
                self.window.map(|w| format!("deadline {}", when(w.start)))
            }
            MaintenanceState::InProgress => Some(format!(
                "started {}",
                when(
                    m.and_then(|m| m.started_at)
                        .unwrap_or(self.ctx.event.occurred_at)
                )
            )),
            MaintenanceState::Completed => Some(format!(
                "replaced {}",
                when(
                    m.and_then(|m| m.completed_at)
                        .unwrap_or(self.ctx.event.occurred_at)
                )
            )),
            MaintenanceState::Canceled => self
                .window
                .map(|w| format!("was due {}", self.window_plain(w))),
            MaintenanceState::WindowPassed => {
                self.window.map(|w| format!("window ended {}", when(w.end)))
            }
        }
    }

    // --- What happens --------------------------------------------------------------------------

    /// What happens (or happened) to the node and to its users, in mrkdwn.
    pub fn what_happens(&self) -> String {
        if self.failover_episode {
            return self.failover_story();
        }
        if self.ctx.event.category == Category::Health {
            return self.health_notice();
        }
        let Some(state) = self.state else {
            return self.other_event();
        };
        match state {
            MaintenanceState::Scheduled | MaintenanceState::Rescheduled => {
                self.replacement_effect("At the deadline")
            }
            MaintenanceState::InProgress => {
                self.replacement_effect("During the replacement, under way now")
            }
            MaintenanceState::Canceled => {
                let window = self
                    .window
                    .map(|w| format!(" planned for {}", self.window_md(w)))
                    .unwrap_or_default();
                format!(
                    "*What happens:* nothing. The replacement{window} is canceled: work planned around it can be called off. A new notice would open a new maintenance."
                )
            }
            MaintenanceState::Completed => self.completed_story(),
            MaintenanceState::WindowPassed => self.window_passed_story(),
        }
    }

    /// The commands that find out the engine and the node's role.
    fn role_commands(&self) -> String {
        let region = self.region_flag();
        let mut commands = Vec::new();
        if self.engine().is_none() || self.group.is_none() {
            let cluster = self.cluster.clone().unwrap_or_else(|| self.subject());
            commands.push(format!(
                "aws elasticache describe-cache-clusters --cache-cluster-id {} --query 'CacheClusters[0].[Engine,ReplicationGroupId]' --output text{region}",
                shell_word(&cluster)
            ));
        }
        let group = self
            .group
            .as_deref()
            .map_or_else(|| "REPLICATION_GROUP_ID".to_owned(), shell_word);
        commands.push(format!(
            "aws elasticache describe-replication-groups --replication-group-id {group} --query 'ReplicationGroups[0].NodeGroups[].NodeGroupMembers[].[CacheClusterId,CurrentRole]' --output text{region}"
        ));
        mrkdwn::code_block(&commands.join("\n"))
    }

    fn replacement_effect(&self, when: &str) -> String {
        let f = self.ctx.facts;
        let head = "*What happens:*";
        match (self.engine(), self.role()) {
            (Some(Engine::Memcached), _) => format!(
                "{head} {when}, the node is replaced and comes back *empty*: Memcached keeps nothing. Its share of the keys misses until the cache fills again, and those reads fall through to the database. Its DNS name stays; its IP address may change."
            ),
            (_, Some(NodeRole::Replica)) => {
                let reader = if f.replicas_per_shard == Some(1) {
                    "It is the only replica: reads through the reader endpoint fail or fall back to the primary, depending on the client."
                } else {
                    "The reader endpoint sends reads to the other replicas."
                };
                format!(
                    "{head} {when}, this *replica* is away for a few minutes and comes back as a replica. Writers see nothing: the primary keeps taking writes. Reads sent to this node's own endpoint fail until it is back. {reader}"
                )
            }
            (_, Some(NodeRole::Primary)) => {
                let impact = impact::primary_impact(f);
                let find_out = if impact == impact::PrimaryImpact::Unknown {
                    format!(" Find out which applies:\n{}", self.role_commands())
                } else {
                    String::new()
                };
                format!(
                    "{head} {when}, this *primary* is replaced. {} (<{}|AWS>){find_out}",
                    impact.summary(),
                    impact.source()
                )
            }
            (engine, None) => {
                let memcached = if engine.is_none() {
                    " If the engine is Memcached, the node comes back empty instead."
                } else {
                    ""
                };
                format!(
                    "{head} {when}, this node is replaced, and its *role is not known*. If it is the primary: {} (<{}|AWS>) If it is a replica, writers see nothing.{memcached} Find out (the second command lists every member and its role; with cluster mode enabled, run `ROLE` on the node with redis-cli):\n{}",
                    impact::primary_impact(f).summary(),
                    impact::primary_impact(f).source(),
                    self.role_commands()
                )
            }
        }
    }

    fn failover_line(&self, f: &Failover) -> String {
        let pair = match (&f.from, &f.to) {
            (Some(a), Some(b)) => format!("{} → {}", mrkdwn::code(a), mrkdwn::code(b)),
            (None, Some(b)) => format!("to {}", mrkdwn::code(b)),
            (Some(a), None) => format!("from {}", mrkdwn::code(a)),
            (None, None) => "a replica was promoted".to_owned(),
        };
        format!("{pair} ({})", self.at(f.at))
    }

    fn failover_story(&self) -> String {
        let lines: Vec<String> = self
            .failovers
            .iter()
            .map(|f| self.failover_line(f))
            .collect();
        let newest = self
            .failovers
            .last()
            .and_then(|f| f.to.as_deref())
            .map(|to| format!(" {} is the primary now.", mrkdwn::code(to)))
            .unwrap_or_default();
        format!(
            "*What happened:* a replica was promoted to primary, outside any announced replacement: {}.{newest} The primary endpoint follows the new primary; node endpoints do not. Check the application's errors around that time, the key counts, and that configuration management still describes the roles that run now (applying an old description would demote the new primary).",
            lines.join("; ")
        )
    }

    fn completed_story(&self) -> String {
        let mut out = String::from("*What happened:* the node was replaced.");
        if !self.failovers.is_empty() {
            let lines: Vec<String> = self
                .failovers
                .iter()
                .map(|f| self.failover_line(f))
                .collect();
            out.push_str(&format!(" Failover: {}.", lines.join("; ")));
        }
        match (self.engine(), self.role()) {
            (Some(Engine::Memcached), _) => out.push_str(
                " It came back empty: watch the miss rate and the database load until the cache has filled again.",
            ),
            (_, Some(NodeRole::Replica)) if self.failovers.is_empty() => {
                out.push_str(" It is back as a replica.")
            }
            _ => out.push_str(
                " What is configured and what runs may differ now: check that configuration management still describes the roles that run.",
            ),
        }
        out.push_str(
            " Then do the after-checks of the runbook (key counts, application errors, backups).",
        );
        out
    }

    fn window_passed_story(&self) -> String {
        let Some(w) = self.window else {
            return "*What happened:* the window has passed and no completion was reported."
                .to_owned();
        };
        let cluster = self.cluster.clone().unwrap_or_else(|| self.subject());
        let command = format!(
            "aws elasticache describe-events --source-type cache-cluster --source-identifier {} --start-time {} --end-time {}{}",
            shell_word(&cluster),
            (w.start - Duration::hours(1)).format("%Y-%m-%dT%H:%M:%SZ"),
            self.ctx.now.max(w.end).format("%Y-%m-%dT%H:%M:%SZ"),
            self.region_flag()
        );
        format!(
            "*What happened:* the window ended {} and no completion was reported: the node was presumably replaced. Confirm in the event log:\n{}",
            self.at(w.end),
            mrkdwn::code_block(&command)
        )
    }

    fn other_event(&self) -> String {
        let e = self.ctx.event;
        let mut out = format!(
            "*What happened:* ElastiCache reported _{}_ ({}).",
            mrkdwn::escape_line(&e.kind.describe()),
            self.at(e.occurred_at)
        );
        if let Some(message) = self.quoted_message() {
            out.push('\n');
            out.push_str(&message);
        }
        out
    }

    /// What an AWS Health notice says, as AWS Health wrote it: cachewatch adds nothing about what
    /// the work does to the nodes, which the notice and the runbook's AWS pages say.
    fn health_notice(&self) -> String {
        let e = self.ctx.event;
        let mut out = format!(
            "*What AWS Health says* ({}, {}):",
            mrkdwn::escape_line(e.event_name.as_deref().unwrap_or(e.kind.as_str())),
            self.at(e.occurred_at)
        );
        if let Some(message) = self.quoted_message() {
            out.push('\n');
            out.push_str(&message);
        }
        out
    }

    /// The event's original text as a code block, clipped.
    pub fn quoted_message(&self) -> Option<String> {
        let message = self.ctx.event.message.as_deref()?;
        (!message.trim().is_empty()).then(|| {
            mrkdwn::truncate(
                &mrkdwn::code_block(&mrkdwn::clip_raw(message, QUOTED_MESSAGE)),
                QUOTED_MESSAGE_MAX,
            )
        })
    }

    // --- Repeat and risks ----------------------------------------------------------------------

    /// The repeat warning, when the maintenance repeats an earlier one of the same node.
    pub fn repeat_warning(&self) -> Option<String> {
        let m = self.ctx.maintenance?;
        let previous_id = m.repeat_of.as_ref()?;
        let previous = self.ctx.previous.filter(|p| &p.id == previous_id);
        let ended = match previous {
            Some(p) => match p.status(self.ctx.now) {
                MaintenanceState::Completed => {
                    format!(
                        "was replaced {}",
                        self.at(p.completed_at.unwrap_or(p.last_event_at))
                    )
                }
                MaintenanceState::Canceled => format!(
                    "had a replacement canceled {}",
                    self.at(p.canceled_at.unwrap_or(p.last_event_at))
                ),
                MaintenanceState::WindowPassed => match p.window {
                    Some(w) => format!(
                        "had a replacement window end {} with no completion reported",
                        self.at(w.end)
                    ),
                    None => "had a replacement window pass".to_owned(),
                },
                _ => format!("had a maintenance {}", self.at(p.first_event_at)),
            },
            None => "had a maintenance that ended within the last 30 days".to_owned(),
        };
        let again = if self.engine() == Some(Engine::Memcached) {
            " (and a Memcached node comes back empty again)"
        } else {
            ""
        };
        Some(format!(
            "🔁 *Repeat notice:* this node {ended} (maintenance {}), and it is scheduled for replacement again. AWS says notices can keep coming after you replaced a node yourself: if your team did, confirm it in the event log and this one can be ignored. If not, ElastiCache will replace the node again{again}: plan it like the first time.",
            mrkdwn::code(previous_id.short())
        ))
    }

    /// The risks from the facts, one line each, most severe first.
    pub fn risks(&self) -> Option<String> {
        let found = facts::risks(
            self.ctx.facts,
            self.ctx.event,
            self.ctx.maintenance,
            self.ctx.now,
        );
        let lifecycle = self.ctx.event.category.has_lifecycle();
        if found.is_empty() {
            return if !(self.upcoming() || self.state == Some(MaintenanceState::InProgress)) {
                None
            } else if self.ctx.facts.is_empty() {
                Some("*Risks:* not known yet: nothing has been looked up about the cluster. The runbook starts by finding out.".to_owned())
            } else if lifecycle {
                Some("*Risks:* none found in what is known about the cluster.".to_owned())
            } else {
                None
            };
        }
        let lines: Vec<String> = found
            .iter()
            .map(|r| {
                let mark = match r.severity {
                    Severity::High => "🔴",
                    Severity::Notice => "🟡",
                };
                format!("{mark} {}", mrkdwn::escape_line(&r.text))
            })
            .collect();
        Some(format!("*Risks:*\n{}", lines.join("\n")))
    }
}

/// The state an event alone says, for an event outside any known maintenance.
fn state_of_event(ctx: &AlertContext<'_>) -> Option<MaintenanceState> {
    let e = ctx.event;
    let passed = e.window.is_some_and(|w| w.end < ctx.now);
    match e.kind.as_str() {
        EventKind::NODE_REPLACEMENT_SCHEDULED | EventKind::NODE_REPLACEMENT_RESCHEDULED
            if passed =>
        {
            Some(MaintenanceState::WindowPassed)
        }
        EventKind::NODE_REPLACEMENT_SCHEDULED => Some(MaintenanceState::Scheduled),
        EventKind::NODE_REPLACEMENT_RESCHEDULED => Some(MaintenanceState::Rescheduled),
        EventKind::NODE_REPLACEMENT_CANCELED => Some(MaintenanceState::Canceled),
        EventKind::CACHE_NODE_REPLACE_COMPLETE | EventKind::FAILOVER_COMPLETE => {
            Some(MaintenanceState::Completed)
        }
        _ if e.category.has_lifecycle() => Some(MaintenanceState::InProgress),
        _ => None,
    }
}

/// The headline of an AWS Health notice: what it announces (service updates and planned lifecycle
/// events by name, any other code as AWS Health's notice), then where it stands.
fn health_headline(kind: &EventKind, state: Option<MaintenanceState>) -> String {
    let what = match kind.as_str() {
        EventKind::HEALTH_BEFORE_UPDATE_DUE => "Service update due".to_owned(),
        EventKind::HEALTH_PLANNED_LIFECYCLE => {
            "Planned lifecycle event (engine support)".to_owned()
        }
        other => format!(
            "AWS Health: {}",
            other
                .strip_prefix(EventKind::HEALTH_PREFIX)
                .unwrap_or(other)
                .replace('_', " ")
        ),
    };
    match state {
        Some(MaintenanceState::InProgress) => format!("{what} (open)"),
        Some(MaintenanceState::Completed) => format!("{what} (closed)"),
        Some(MaintenanceState::WindowPassed) => format!("{what} (deadline passed)"),
        _ => what,
    }
}
