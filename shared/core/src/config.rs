//! The team's configuration: `cachewatch.toml`. Which events alert, which channel each cluster's
//! alerts go to, what is muted, and how a burst of alerts is grouped.
//!
//! ```toml
//! [alerts]
//! categories = ["node_replacement", "failover"]   # the default
//! kinds = ["snapshot_failed"]                      # alert on these too
//! quiet_kinds = []                                 # never alert on these
//!
//! [slack]
//! channel = "#cache-alerts"          # default channel ($SLACK_CHANNEL wins over it)
//! group_threshold = 5                # this many new maintenances at once: one grouped message
//!
//! [owners]
//! app = "Checkout team"
//! infra = "Platform team"
//!
//! [reminders]
//! before = ["72h", "24h", "2h"]      # the default; [] sends none
//! mention = "<!subteam^S0123ABCD>"   # a Slack user group, or a user: "<@U0123ABCD>"
//!
//! [canary]
//! every = "7d"                       # the default: the poller tests the alert path weekly; "off" sends none
//! within = "15m"                     # the default (or "90s", "1h"): a canary not in the history by then is lost
//!
//! [accounts]                        # names alerts give accounts; routes and mutes may use them
//! "111122223333" = "payments-prod"
//!
//! [[spokes]]                         # a hub's poller also reads these accounts and Regions
//! account = "111122223333"
//! regions = ["eu-west-1", "us-east-1"]
//!
//! [spokes_from_organization]         # and every ACTIVE account of the organisation
//! regions = ["eu-west-1"]
//!
//! [[routes]]
//! clusters = "payments-*"            # a cluster, replication group or group-of-cluster pattern
//! accounts = ["payments-prod"]       # and, optionally, only these accounts (ids or names)
//! regions = ["eu-*"]                 # and only these Regions (patterns)
//! channel = "#payments-oncall"
//! mention = "<@U0PAYMENTS>"          # who reminders of these clusters mention
//!
//! [[mutes]]
//! clusters = "staging-*"
//! until = "2026-12-31"
//! reason = "staging is rebuilt in December"
//!
//! [webhook]                          # every alert also POSTed, signed, to this URL
//! url = "https://hooks.example.com/cachewatch"
//! secret = "CACHEWATCH_WEBHOOK_SECRET"   # the variable (or Secrets Manager key) holding the key
//!
//! [q_developer]                      # every alert also published for Amazon Q Developer
//! topic_arn = "arn:aws:sns:eu-west-1:111122223333:cache-alerts"
//! ```

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

pub mod place;
pub mod spokes;
pub mod tags;
use place::Place;

use crate::alerting::policy::AlertPolicy;
use crate::model::event::MaintenanceEvent;
use crate::runbook::Owners;

/// The default number of new maintenances in one channel at once that are posted as one message.
pub const DEFAULT_GROUP_THRESHOLD: usize = 5;

/// Everything `cachewatch.toml` says, with its defaults.
#[derive(Debug, Clone, PartialEq, Default, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Which events alert.
    pub alerts: AlertPolicy,
    /// Slack settings that are not secrets.
    pub slack: SlackOptions,
    /// How the two teams are named in runbooks and alerts.
    pub owners: OwnerNames,
    /// Reminders of maintenances nobody has acknowledged.
    pub reminders: ReminderOptions,
    /// The poller's canary: how often the alert path is tested, and how long a canary may take.
    pub canary: CanaryOptions,
    /// The names of AWS accounts, by account id: alerts name the account so, and routes and
    /// mutes may list accounts by these names.
    pub accounts: BTreeMap<String, String>,
    /// The accounts and Regions a hub's poller reads besides its own ([`spokes::Spoke`]).
    pub spokes: Vec<spokes::Spoke>,
    /// The organisation whose accounts a hub's poller discovers and reads
    /// ([`spokes::Organization`]).
    pub spokes_from_organization: Option<spokes::Organization>,
    /// Channels by cluster pattern; the first match wins.
    pub routes: Vec<Route>,
    /// Clusters not to alert about, until a date.
    pub mutes: Vec<Mute>,
    /// A signed webhook every alert is also sent to.
    pub webhook: Option<WebhookOptions>,
    /// An SNS topic every alert is also published to, as an Amazon Q Developer custom
    /// notification.
    pub q_developer: Option<QDeveloperOptions>,
}

/// The default name of the variable (or Secrets Manager key) holding the webhook's signing key.
pub const DEFAULT_WEBHOOK_SECRET: &str = "CACHEWATCH_WEBHOOK_SECRET";

/// The outbound webhook.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct WebhookOptions {
    /// Where alerts are POSTed: `https://`, or `http://` to this machine only.
    pub url: String,
    /// The name of the variable, or of the key in the deployment's Secrets Manager secret, that
    /// holds the signing key: never the key itself.
    #[serde(default = "default_webhook_secret")]
    pub secret: String,
}

fn default_webhook_secret() -> String {
    DEFAULT_WEBHOOK_SECRET.to_owned()
}

/// The topic Amazon Q Developer in chat applications reads.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct QDeveloperOptions {
    /// The SNS topic's ARN.
    pub topic_arn: String,
}

/// Slack options.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct SlackOptions {
    /// The channel of alerts no route claims.
    pub channel: Option<String>,
    /// New maintenances in one channel at once from which one grouped message is posted.
    pub group_threshold: usize,
}

impl Default for SlackOptions {
    fn default() -> Self {
        Self {
            channel: None,
            group_threshold: DEFAULT_GROUP_THRESHOLD,
        }
    }
}

/// The owners' labels, as written in the file.
#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct OwnerNames {
    /// The application team.
    pub app: Option<String>,
    /// The infrastructure team.
    pub infra: Option<String>,
}

/// Alerts of matching clusters go to `channel`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Route {
    /// A pattern (`*` any run of characters, `?` one character); every cluster when left out.
    #[serde(default = "every_cluster")]
    pub clusters: String,
    /// Only events of these accounts (ids, or names from `[accounts]`); any when empty.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub accounts: Vec<String>,
    /// Only events of these Regions (patterns); any when empty.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub regions: Vec<String>,
    /// Only clusters carrying every one of these tags (values are patterns); any when empty
    /// ([`tags`]).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub tags: tags::Tags,
    /// The channel.
    pub channel: String,
    /// Who reminders of these clusters mention (see [`ReminderOptions::mention`]).
    #[serde(default)]
    pub mention: Option<String>,
}

/// When reminders are posted in a maintenance's thread while nobody has acknowledged it, and
/// whom they mention.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct ReminderOptions {
    /// How long before the deadline (the window's start) each reminder is due: `72h`, `90m`,
    /// `3d`. An empty list sends none.
    pub before: Vec<String>,
    /// Who is mentioned where no route names someone: a Slack user group (`<!subteam^S0123>`)
    /// or user (`<@U0123>`), as Slack writes mentions.
    pub mention: Option<String>,
}

impl Default for ReminderOptions {
    fn default() -> Self {
        Self {
            before: ["72h", "24h", "2h"].map(str::to_owned).to_vec(),
            mention: None,
        }
    }
}

/// How often the poller publishes a canary, and how long it may take to reach the history.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct CanaryOptions {
    /// `7d`, `24h`, or `off` for none: a canary is published when the last one is older.
    pub every: String,
    /// `15m`: a canary not in the history this long after its publish is lost.
    pub within: String,
}

impl Default for CanaryOptions {
    fn default() -> Self {
        Self {
            every: "7d".to_owned(),
            within: "15m".to_owned(),
        }
    }
}

/// The shortest interval between scheduled canaries.
const MIN_CANARY_EVERY: chrono::Duration = chrono::Duration::hours(1);
/// The longest interval between scheduled canaries.
const MAX_CANARY_EVERY: chrono::Duration = chrono::Duration::days(90);
/// The longest a canary may be waited for.
const MAX_CANARY_WITHIN: chrono::Duration = chrono::Duration::hours(6);

/// Reads a positive duration: `90s`, `15m`, `72h`, `7d`, or a combination like `1h30m`.
fn parse_span(raw: &str) -> Option<chrono::Duration> {
    crate::history::query::parse_duration(raw).filter(|d| *d > chrono::Duration::zero())
}

/// The longest a reminder may come before its deadline.
const MAX_REMINDER_LEAD: chrono::Duration = chrono::Duration::days(30);

/// Reads `72h`, `90m` or `3d`: a whole number and a unit.
pub fn parse_lead(raw: &str) -> Option<chrono::Duration> {
    parse_span(raw).filter(|d| *d <= MAX_REMINDER_LEAD)
}

/// Matching clusters do not alert until `until` (midnight UTC of a date, or a time).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Mute {
    /// A pattern (`*` any run of characters, `?` one character); every cluster when left out.
    #[serde(default = "every_cluster")]
    pub clusters: String,
    /// Only events of these accounts (ids, or names from `[accounts]`); any when empty.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub accounts: Vec<String>,
    /// Only events of these Regions (patterns); any when empty.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub regions: Vec<String>,
    /// Only clusters carrying every one of these tags (values are patterns); any when empty
    /// ([`tags`]).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub tags: tags::Tags,
    /// The end of the mute: `2026-12-31` or an RFC 3339 time.
    pub until: String,
    /// Why, for the people who will wonder.
    #[serde(default)]
    pub reason: Option<String>,
}

fn every_cluster() -> String {
    "*".to_owned()
}

impl Route {
    /// The accounts and Regions it is limited to.
    pub fn place(&self) -> Place<'_> {
        Place {
            accounts: &self.accounts,
            regions: &self.regions,
        }
    }
}

impl Mute {
    /// The accounts and Regions it is limited to.
    pub fn place(&self) -> Place<'_> {
        Place {
            accounts: &self.accounts,
            regions: &self.regions,
        }
    }
}

/// Why a configuration does not read.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// Not TOML, or not the fields above.
    #[error("{0}")]
    Toml(#[from] toml::de::Error),
    /// A value that does not mean anything.
    #[error("{0}")]
    Invalid(String),
}

impl Config {
    /// Reads `cachewatch.toml`'s text.
    pub fn from_toml(text: &str) -> Result<Self, ConfigError> {
        let config: Config = toml::from_str(text)?;
        for mute in &config.mutes {
            if mute.until_time().is_none() {
                return Err(ConfigError::Invalid(format!(
                    "mute of {:?}: until {:?} is not a date (2026-12-31) or an RFC 3339 time",
                    mute.clusters, mute.until
                )));
            }
        }
        for (pattern, what) in config
            .routes
            .iter()
            .map(|r| (&r.clusters, "route"))
            .chain(config.mutes.iter().map(|m| (&m.clusters, "mute")))
        {
            if pattern.trim().is_empty() {
                return Err(ConfigError::Invalid(format!(
                    "a {what} has an empty clusters pattern"
                )));
            }
        }
        place::check_names(&config.accounts)?;
        spokes::check(&config.spokes)?;
        spokes::check_organization(config.spokes_from_organization.as_ref())?;
        for (where_, what) in config
            .routes
            .iter()
            .map(|r| (r.place(), "route"))
            .chain(config.mutes.iter().map(|m| (m.place(), "mute")))
        {
            where_.check(&config.accounts, what)?;
        }
        for (listed, what) in config
            .routes
            .iter()
            .map(|r| (&r.tags, "route"))
            .chain(config.mutes.iter().map(|m| (&m.tags, "mute")))
        {
            tags::check(listed, what)?;
        }
        config.check_reminders()?;
        config.check_canary()?;
        if config.slack.group_threshold < 2 {
            return Err(ConfigError::Invalid(
                "slack.group_threshold must be at least 2".into(),
            ));
        }
        if let Some(webhook) = &config.webhook {
            if !webhook_url_allowed(&webhook.url) {
                return Err(ConfigError::Invalid(format!(
                    "webhook.url {:?} must be an https:// URL (http:// only to 127.0.0.1 or localhost)",
                    webhook.url
                )));
            }
            let name = webhook.secret.trim();
            if name.is_empty() || !name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
                return Err(ConfigError::Invalid(format!(
                    "webhook.secret {:?} must name the variable holding the key (like {DEFAULT_WEBHOOK_SECRET}), not be the key",
                    webhook.secret
                )));
            }
        }
        if let Some(q) = &config.q_developer {
            let parts: Vec<&str> = q.topic_arn.split(':').collect();
            if parts.len() != 6 || parts[0] != "arn" || parts[2] != "sns" || parts[5].is_empty() {
                return Err(ConfigError::Invalid(format!(
                    "q_developer.topic_arn {:?} is not an SNS topic ARN (arn:aws:sns:REGION:ACCOUNT:NAME)",
                    q.topic_arn
                )));
            }
        }
        Ok(config)
    }

    /// The outputs beyond Slack this configuration sends alerts to.
    pub fn outputs(&self) -> Vec<crate::alerting::outbound::Output> {
        use crate::alerting::outbound::Output;
        let mut outputs = Vec::new();
        if self.webhook.is_some() {
            outputs.push(Output::Webhook);
        }
        if self.q_developer.is_some() {
            outputs.push(Output::QDeveloper);
        }
        outputs
    }

    fn check_reminders(&self) -> Result<(), ConfigError> {
        if let Some(bad) = self
            .reminders
            .before
            .iter()
            .find(|b| parse_lead(b).is_none())
        {
            return Err(ConfigError::Invalid(format!(
                "reminders.before: {bad:?} is not a time before the deadline such as \"72h\", \"90m\" or \"3d\" (at most 30 days)"
            )));
        }
        let mentions = self
            .routes
            .iter()
            .filter_map(|r| r.mention.as_deref())
            .chain(self.reminders.mention.as_deref());
        for mention in mentions {
            if !crate::alerting::slack::mrkdwn::is_mention(mention) {
                return Err(ConfigError::Invalid(format!(
                    "mention {mention:?} is not a Slack user group (\"<!subteam^S0123>\") or user (\"<@U0123>\")"
                )));
            }
        }
        Ok(())
    }

    fn check_canary(&self) -> Result<(), ConfigError> {
        let every = self.canary.every.trim();
        let within = parse_span(&self.canary.within)
            .filter(|d| *d <= MAX_CANARY_WITHIN)
            .ok_or_else(|| {
                ConfigError::Invalid(format!(
                    "canary.within: {:?} is not a time such as \"15m\", \"1h\" or \"90s\" (at most 6 hours)",
                    self.canary.within
                ))
            })?;
        if every == "off" {
            return Ok(());
        }
        let every = parse_span(every)
            .filter(|d| (MIN_CANARY_EVERY..=MAX_CANARY_EVERY).contains(d))
            .ok_or_else(|| {
                ConfigError::Invalid(format!(
                    "canary.every: {:?} is not \"off\" or an interval such as \"7d\" or \"24h\" (from 1 hour to 90 days)",
                    self.canary.every
                ))
            })?;
        if within >= every {
            return Err(ConfigError::Invalid(format!(
                "canary.within ({:?}) must be shorter than canary.every ({:?})",
                self.canary.within, self.canary.every
            )));
        }
        Ok(())
    }

    /// How often the poller publishes a canary; `None` when `[canary] every = "off"`.
    pub fn canary_every(&self) -> Option<chrono::Duration> {
        parse_span(&self.canary.every)
    }

    /// How long a canary may take to reach the history.
    pub fn canary_within(&self) -> chrono::Duration {
        parse_span(&self.canary.within).unwrap_or(chrono::Duration::minutes(15))
    }

    /// How long before the deadline each reminder is due, longest first, each once.
    pub fn reminder_leads(&self) -> Vec<chrono::Duration> {
        let mut leads: Vec<chrono::Duration> = self
            .reminders
            .before
            .iter()
            .filter_map(|b| parse_lead(b))
            .collect();
        leads.sort_by(|a, b| b.cmp(a));
        leads.dedup();
        leads
    }

    /// Whom reminders about an event's maintenance mention: the mention of the route that
    /// sends its alerts (the first matching), else `[reminders] mention`.
    pub fn mention_for(&self, e: &MaintenanceEvent) -> Option<&str> {
        self.routes
            .iter()
            .find(|r| self.route_matches(r, e, None))
            .and_then(|r| r.mention.as_deref())
            .or(self.reminders.mention.as_deref())
    }

    /// The owners' labels, with the defaults where the file names none.
    pub fn owners(&self) -> Owners {
        let default = Owners::default();
        Owners {
            app: self.owners.app.clone().unwrap_or(default.app),
            infra: self.owners.infra.clone().unwrap_or(default.infra),
        }
    }

    /// The channel an event's alerts go to: the first route matching it, else `default`; its
    /// cluster's tags not known.
    pub fn channel_for<'a>(
        &'a self,
        e: &MaintenanceEvent,
        default: Option<&'a str>,
    ) -> Option<&'a str> {
        self.channel_for_tagged(e, None, default)
    }

    /// The channel alerts of an event of a cluster whose tags are `tags` go to (`None`: not
    /// known, so no route that lists tags claims it): the first route matching, else `default`.
    pub fn channel_for_tagged<'a>(
        &'a self,
        e: &MaintenanceEvent,
        tags: Option<&tags::Tags>,
        default: Option<&'a str>,
    ) -> Option<&'a str> {
        self.routes
            .iter()
            .find(|r| self.route_matches(r, e, tags))
            .map(|r| r.channel.as_str())
            .or(default)
            .or(self.slack.channel.as_deref())
    }

    /// This configuration with the mutes people set from Slack (kept in the store) beside those
    /// of the file.
    pub fn with_stored_mutes(mut self, stored: &[crate::history::response::MuteRecord]) -> Self {
        self.mutes.extend(stored.iter().map(|m| Mute {
            clusters: m.clusters.clone(),
            accounts: Vec::new(),
            regions: Vec::new(),
            tags: tags::Tags::new(),
            until: m.until.to_rfc3339(),
            reason: Some(format!("muted by {} in Slack", m.by)),
        }));
        self
    }

    /// The mute in force for an event at `now`, if any, its cluster's tags not known.
    pub fn mute_for(&self, e: &MaintenanceEvent, now: DateTime<Utc>) -> Option<&Mute> {
        self.mute_for_tagged(e, None, now)
    }

    /// The mute in force at `now` for an event of a cluster whose tags are `tags` (`None`: not
    /// known, so no mute that lists tags holds it).
    pub fn mute_for_tagged(
        &self,
        e: &MaintenanceEvent,
        tags: Option<&tags::Tags>,
        now: DateTime<Utc>,
    ) -> Option<&Mute> {
        self.mutes.iter().find(|m| {
            m.until_time().is_some_and(|until| now < until)
                && matches_event(&m.clusters, e)
                && m.place().holds(e, &self.accounts)
                && tags::hold(&m.tags, tags)
        })
    }

    /// Whether a route claims an event: its cluster pattern, accounts, Regions and tags.
    fn route_matches(
        &self,
        route: &Route,
        e: &MaintenanceEvent,
        tags: Option<&tags::Tags>,
    ) -> bool {
        matches_event(&route.clusters, e)
            && route.place().holds(e, &self.accounts)
            && tags::hold(&route.tags, tags)
    }

    /// Whether a route or a mute lists tags: only then are clusters' tags worth reading.
    pub fn uses_tags(&self) -> bool {
        self.routes.iter().any(|r| !r.tags.is_empty())
            || self.mutes.iter().any(|m| !m.tags.is_empty())
    }

    /// The name `[accounts]` gives an account, if any.
    pub fn account_name(&self, account_id: &str) -> Option<&str> {
        self.accounts.get(account_id).map(String::as_str)
    }

    /// The account id a value names: an id, or a name from `[accounts]`.
    pub fn account_id_of<'a>(&'a self, raw: &'a str) -> Option<&'a str> {
        place::account_id_of(&self.accounts, raw)
    }
}

/// Whether alerts may be POSTed to `url`: over TLS, or in the clear to this machine only.
fn webhook_url_allowed(url: &str) -> bool {
    let url = url.trim();
    if let Some(rest) = url.strip_prefix("https://") {
        return !rest.is_empty() && !rest.starts_with('/');
    }
    let Some(rest) = url.strip_prefix("http://") else {
        return false;
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let host = match authority.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or_default(),
        None => authority.split(':').next().unwrap_or_default(),
    };
    matches!(host, "127.0.0.1" | "localhost" | "::1") && !authority.contains('@')
}

impl Mute {
    /// When the mute ends.
    pub fn until_time(&self) -> Option<DateTime<Utc>> {
        let raw = self.until.trim();
        if let Ok(date) = NaiveDate::parse_from_str(raw, "%Y-%m-%d") {
            return date.and_hms_opt(0, 0, 0).map(|t| t.and_utc());
        }
        DateTime::parse_from_rfc3339(raw)
            .ok()
            .map(|t| t.with_timezone(&Utc))
    }
}

/// Whether a cluster pattern matches an event: its cluster, its replication group, or the group
/// its cluster belongs to.
pub fn matches_event(pattern: &str, e: &MaintenanceEvent) -> bool {
    let names = [
        e.cluster_id.as_ref().map(|c| c.as_str()),
        e.replication_group_id.as_ref().map(|g| g.as_str()),
        Some(e.cluster_group()),
        Some(e.source_id.as_str()),
    ];
    names.into_iter().flatten().any(|name| glob(pattern, name))
}

/// The fewest characters other than `*` and `?` a pattern with wildcards must have: `*-*` or `a*`
/// reach nearly every cluster anyone names.
pub const MIN_PATTERN_LITERALS: usize = 3;

/// Whether a pattern is too broad to mute by: wildcards with fewer than
/// [`MIN_PATTERN_LITERALS`] other characters. A name without wildcards is never too broad.
pub fn too_broad(pattern: &str) -> bool {
    let wildcards = pattern.chars().filter(|c| matches!(c, '*' | '?')).count();
    let literals = pattern.chars().count() - wildcards;
    wildcards > 0 && literals < MIN_PATTERN_LITERALS
}

/// What a cluster pattern reaches among the cluster groups of some events (a history's).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PatternReach {
    /// The groups it matches ([`MaintenanceEvent::cluster_group`]), in order.
    pub matched: Vec<String>,
    /// How many groups the events name.
    pub known: usize,
}

impl PatternReach {
    /// Whether it matches every group, of at least two: a mute of everything in disguise.
    pub fn is_everything(&self) -> bool {
        self.known >= 2 && self.matched.len() == self.known
    }
}

/// Which of the groups of `events` `pattern` matches (as a mute would: [`matches_event`]).
pub fn pattern_reach<'a>(
    pattern: &str,
    events: impl IntoIterator<Item = &'a MaintenanceEvent>,
) -> PatternReach {
    let mut groups: std::collections::BTreeMap<&str, bool> = std::collections::BTreeMap::new();
    for e in events {
        let matched = groups.entry(e.cluster_group()).or_insert(false);
        *matched = *matched || matches_event(pattern, e);
    }
    PatternReach {
        matched: groups
            .iter()
            .filter(|(_, matched)| **matched)
            .map(|(group, _)| (*group).to_owned())
            .collect(),
        known: groups.len(),
    }
}

/// `*` matches any run of characters, `?` any one; everything else matches itself.
pub fn glob(pattern: &str, text: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let t: Vec<char> = text.chars().collect();
    let (mut pi, mut ti) = (0, 0);
    let (mut star, mut mark) = (None, 0);
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some(pi);
            mark = ti;
            pi += 1;
        } else if let Some(s) = star {
            pi = s + 1;
            mark += 1;
            ti = mark;
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|&c| c == '*')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_canary_runs_weekly_unless_told_otherwise_and_a_bad_interval_is_said() {
        let default = Config::from_toml("").unwrap();
        assert_eq!(default.canary_every(), Some(chrono::Duration::days(7)));
        assert_eq!(default.canary_within(), chrono::Duration::minutes(15));
        let off = Config::from_toml("[canary]\nevery = \"off\"").unwrap();
        assert_eq!(off.canary_every(), None);
        let daily = Config::from_toml("[canary]\nevery = \"24h\"\nwithin = \"5m\"").unwrap();
        assert_eq!(daily.canary_every(), Some(chrono::Duration::hours(24)));
        assert_eq!(daily.canary_within(), chrono::Duration::minutes(5));
        let quick = Config::from_toml("[canary]\nwithin = \"90s\"").unwrap();
        assert_eq!(quick.canary_within(), chrono::Duration::seconds(90));
        for bad in [
            "[canary]\nevery = \"weekly\"",
            "[canary]\nevery = \"10m\"",
            "[canary]\nevery = \"365d\"",
            "[canary]\nwithin = \"0m\"",
            "[canary]\nevery = \"2h\"\nwithin = \"3h\"",
            "[canary]\nsoon = true",
        ] {
            assert!(Config::from_toml(bad).is_err(), "{bad}");
        }
    }
    use crate::intake::parse::{ParseContext, parse_document};

    fn event(cluster: &str) -> MaintenanceEvent {
        let at = DateTime::parse_from_rfc3339("2026-06-11T00:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        let input = format!(
            r#"{{"SourceIdentifier":"{cluster}","SourceType":"cache-cluster","Date":"2026-06-10T00:00:00Z","Message":"Cache node 0001 restarted"}}"#
        );
        parse_document(&input, &ParseContext::received_at(at))
            .unwrap()
            .remove(0)
    }

    #[test]
    fn a_pattern_that_reaches_every_cluster_is_told_apart() {
        let history = [
            event("payments-0001-001"),
            event("payments-0001-002"),
            event("orders-0001-001"),
            event("staging-web"),
        ];
        let reach = |p: &str| pattern_reach(p, &history);
        assert_eq!(reach("payments-*").matched, vec!["payments".to_owned()]);
        assert_eq!(reach("payments-*").known, 3);
        assert!(!reach("payments-*").is_everything());
        assert!(reach("*-*").is_everything());
        assert!(reach("*0*").matched.len() < 3);
        assert!(reach("*s*").is_everything());
        assert_eq!(reach("billing-*").matched, Vec::<String>::new());
        assert!(!pattern_reach("*", &history[..1]).is_everything());
        for broad in ["*", "*-*", "a*", "??", "*ab?"] {
            assert!(too_broad(broad), "{broad}");
        }
        for narrow in ["db", "x", "staging-*", "pay*", "orders-000?-001"] {
            assert!(!too_broad(narrow), "{narrow}");
        }
    }

    #[test]
    fn outputs_are_read_with_their_defaults_and_bad_ones_refused() {
        let config = Config::from_toml(
            "[webhook]\nurl = \"https://hooks.example.com/x\"\n[q_developer]\ntopic_arn = \"arn:aws:sns:eu-west-1:111122223333:alerts\"\n",
        )
        .unwrap();
        assert_eq!(
            config.webhook.as_ref().unwrap().secret,
            DEFAULT_WEBHOOK_SECRET
        );
        assert_eq!(
            config.outputs(),
            [
                crate::alerting::outbound::Output::Webhook,
                crate::alerting::outbound::Output::QDeveloper
            ]
        );
        assert!(Config::default().outputs().is_empty());
        for local in [
            "http://127.0.0.1:8080/hook",
            "http://localhost/x",
            "http://[::1]:9/x",
        ] {
            let text = format!("[webhook]\nurl = \"{local}\"\n");
            assert!(Config::from_toml(&text).is_ok(), "{local}");
        }
        for (text, says) in [
            (
                "[webhook]\nurl = \"http://hooks.example.com/x\"\n",
                "webhook.url",
            ),
            (
                "[webhook]\nurl = \"http://127.0.0.1@evil.example/x\"\n",
                "webhook.url",
            ),
            ("[webhook]\nurl = \"ftp://127.0.0.1/x\"\n", "webhook.url"),
            (
                "[webhook]\nurl = \"https://h.example/x\"\nsecret = \"s3cr3t key!\"\n",
                "webhook.secret",
            ),
            ("[webhook]\nsecret = \"KEY\"\n", "url"),
            (
                "[q_developer]\ntopic_arn = \"arn:aws:sqs:eu-west-1:1:q\"\n",
                "q_developer.topic_arn",
            ),
            (
                "[q_developer]\ntopic_arn = \"alerts\"\n",
                "q_developer.topic_arn",
            ),
        ] {
            let err = Config::from_toml(text).unwrap_err().to_string();
            assert!(err.contains(says), "{text}: {err}");
        }
    }

    #[test]
    fn globs_match_like_a_shell() {
        let cases = [
            ("payments-*", "payments-0001-001", true),
            ("payments-*", "payment-0001-001", false),
            ("*-prod", "orders-prod", true),
            ("orders-000?-001", "orders-0002-001", true),
            ("orders", "orders-0001-001", false),
            ("*", "", true),
            ("a*b*c", "aXXbYYc", true),
            ("a*b*c", "aXXbYY", false),
        ];
        for (pattern, text, want) in cases {
            assert_eq!(glob(pattern, text), want, "{pattern} ~ {text}");
        }
    }

    #[test]
    fn the_first_matching_route_wins_and_the_group_name_counts() {
        let config = Config::from_toml(
            r##"
            [slack]
            channel = "#cache"
            [[routes]]
            clusters = "payments"
            channel = "#payments"
            [[routes]]
            clusters = "pay*"
            channel = "#never"
            "##,
        )
        .unwrap();
        assert_eq!(
            config.channel_for(&event("payments-0001-002"), None),
            Some("#payments")
        );
        assert_eq!(
            config.channel_for(&event("orders-001"), None),
            Some("#cache")
        );
        assert_eq!(
            config.channel_for(&event("orders-001"), Some("#env")),
            Some("#env")
        );
    }

    #[test]
    fn mutes_hold_until_their_date() {
        let config = Config::from_toml(
            r#"
            [[mutes]]
            clusters = "staging-*"
            until = "2026-07-01"
            reason = "rebuilding"
            "#,
        )
        .unwrap();
        let before = DateTime::parse_from_rfc3339("2026-06-30T23:59:59Z")
            .unwrap()
            .with_timezone(&Utc);
        let after = DateTime::parse_from_rfc3339("2026-07-01T00:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        assert!(
            config
                .mute_for(&event("staging-redis-001"), before)
                .is_some()
        );
        assert!(
            config
                .mute_for(&event("staging-redis-001"), after)
                .is_none()
        );
        assert!(config.mute_for(&event("prod-redis-001"), before).is_none());
    }

    #[test]
    fn mutes_set_in_slack_hold_beside_those_of_the_file() {
        let at = |t: &str| DateTime::parse_from_rfc3339(t).unwrap().with_timezone(&Utc);
        let stored = crate::history::response::MuteRecord {
            clusters: "load-test-*".into(),
            until: at("2026-06-12T18:30:00Z"),
            by: "U0DEV".into(),
            at: at("2026-06-10T09:00:00Z"),
        };
        let config =
            Config::from_toml("[[mutes]]\nclusters = \"staging-*\"\nuntil = \"2026-07-01\"")
                .unwrap()
                .with_stored_mutes(&[stored]);
        let during = at("2026-06-12T18:29:59Z");
        let mute = config
            .mute_for(&event("load-test-0001-001"), during)
            .unwrap();
        assert_eq!(mute.reason.as_deref(), Some("muted by U0DEV in Slack"));
        assert!(
            config
                .mute_for(&event("staging-redis-001"), during)
                .is_some()
        );
        assert!(
            config
                .mute_for(&event("load-test-0001-001"), at("2026-06-12T18:30:00Z"))
                .is_none()
        );
    }

    #[test]
    fn mistakes_in_the_file_are_named() {
        for (text, says) in [
            ("[alerts]\ncategories = [\"snapshots\"]", "unknown variant"),
            (
                "[[mutes]]\nclusters = \"x\"\nuntil = \"soon\"",
                "not a date",
            ),
            ("[slack]\nchanel = \"#x\"", "unknown field"),
            ("[slack]\ngroup_threshold = 1", "at least 2"),
            (
                "[[routes]]\nclusters = \"\"\nchannel = \"#x\"",
                "empty clusters pattern",
            ),
        ] {
            let err = Config::from_toml(text).unwrap_err().to_string();
            assert!(err.contains(says), "{text}: {err}");
        }
        assert_eq!(Config::from_toml("").unwrap(), Config::default());
    }
}
