//! `POST /slack/commands`: `/cachewatch …`, answered at once in Slack's format
//! (<https://api.slack.com/interactivity/slash-commands>): a JSON body with `response_type`
//! (`ephemeral`: only the person who typed it sees it; `in_channel`: everyone does), a
//! notification `text` and Block Kit `blocks`.
//!
//! | command | answer |
//! |---|---|
//! | `search <filters or words>` | the events found, newest first (ephemeral); filters as `cluster:payments since:30d kind:failover_complete limit:20`, other words match messages and identifiers |
//! | `runbook <id>` | the runbook's checklist, and a link to its page (ephemeral) |
//! | `upcoming` | maintenances ahead, soonest deadline first (ephemeral) |
//! | `mute <cluster-pattern>` | which clusters of the history the pattern reaches (ephemeral), before muting them |
//! | `mute <cluster-pattern> <duration>` | no alerts for those clusters for that long; said in the channel with what it reaches, so the team knows. A pattern that reaches every cluster seen, or wildcards with fewer than three other characters, is refused |
//! | `help` | the commands (ephemeral) |
//!
//! Every value from an event or the request is escaped for mrkdwn; links are signed.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Form, State};
use axum::response::{IntoResponse, Response};
use cachewatch_core::alerting::slack::blockkit::{Block, Button, Section, Text};
use cachewatch_core::alerting::slack::mrkdwn::{self, DateStyle};
use cachewatch_core::alerting::slack::{self, ACTION_RUNBOOK, SlackMessage, limits};
use cachewatch_core::config::PatternReach;
use cachewatch_core::history::query::parse_duration;
use cachewatch_core::history::store::EventStore;
use cachewatch_core::lifecycle::Maintenance;
use cachewatch_core::model::event::MaintenanceEvent;
use cachewatch_core::model::timefmt;
use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::door::{App, Parts};
use cachewatch_app::lookup::{self, Found, RunbookFailure};
use cachewatch_app::mute::{self, Asked, MuteRefused, MuteRequest, Muted};
use cachewatch_app::search::{self, SearchError, SearchRequest};
use cachewatch_core::history::filters::Reading;

/// Events a search shows unless `limit:` says otherwise.
pub const SEARCH_LIMIT: usize = 10;
/// The most events a search shows in Slack.
pub const SEARCH_MAX: usize = 20;
/// The most maintenances `upcoming` shows.
pub const UPCOMING_MAX: usize = 15;
pub use cachewatch_app::mute::{MAX_MUTE, MAX_PATTERN};
/// The most cluster names a mute's answer lists.
const REACH_SHOWN: usize = 10;
/// The filters a search takes as `name:value` (the other words are its text).
const SEARCH_FILTERS: [&str; 7] = [
    "cluster", "node", "kind", "category", "since", "until", "limit",
];

/// A slash command as Slack posts it (form-encoded); fields not used are ignored.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct SlashCommand {
    /// `/cachewatch`.
    #[serde(default)]
    pub command: String,
    /// What follows the command.
    #[serde(default)]
    pub text: String,
    /// Who typed it.
    #[serde(default)]
    pub user_id: String,
    /// Their name (deprecated by Slack, still sent).
    #[serde(default)]
    pub user_name: String,
    /// Where.
    #[serde(default)]
    pub channel_id: String,
}

/// An answer to a command.
#[derive(Debug, Clone, PartialEq)]
pub struct Reply {
    /// Whether the whole channel sees it.
    pub in_channel: bool,
    /// The message.
    pub message: SlackMessage,
}

impl Reply {
    fn ephemeral(text: &str, blocks: Vec<Block>) -> Self {
        Self {
            in_channel: false,
            message: SlackMessage {
                text: mrkdwn::truncate(text, limits::MESSAGE_TEXT),
                blocks,
                thread_ts: None,
                metadata: None,
            },
        }
    }

    fn note(text: &str) -> Self {
        Self::ephemeral(text, vec![section(text)])
    }

    /// Slack's response body.
    pub fn to_json(&self) -> Value {
        json!({
            "response_type": if self.in_channel { "in_channel" } else { "ephemeral" },
            "text": self.message.text,
            "blocks": self.message.blocks,
        })
    }
}

fn mrkdwn_text(text: &str) -> Text {
    Text::mrkdwn(mrkdwn::truncate(text, limits::SECTION_TEXT))
}

fn section(text: &str) -> Block {
    Block::section(mrkdwn_text(text))
}

fn section_with_link(text: &str, label: &str, url: &str) -> Block {
    Block::Section(Section {
        text: Some(mrkdwn_text(text)),
        accessory: Some(link_button(label, url).into()),
        ..Section::default()
    })
}

fn link_button(label: &str, url: &str) -> Button {
    Button::new(Text::plain(label), ACTION_RUNBOOK).url(url)
}

fn context(text: &str) -> Block {
    Block::context(vec![mrkdwn_text(text)])
}

/// `POST /slack/commands` (Slack's signature already checked).
pub(crate) async fn receive<P: Parts>(
    State(app): State<Arc<App<P>>>,
    Form(command): Form<SlashCommand>,
) -> Response {
    let reply = answer(&app, &command, Utc::now()).await;
    Json(reply.to_json()).into_response()
}

async fn answer<P: Parts>(app: &App<P>, command: &SlashCommand, now: DateTime<Utc>) -> Reply {
    let text = command.text.trim();
    let (verb, rest) = text
        .split_once(char::is_whitespace)
        .map_or((text, ""), |(v, r)| (v, r.trim()));
    let outcome = match verb.to_ascii_lowercase().as_str() {
        "" | "help" => Ok(help(None)),
        "search" => search(app, rest, now).await,
        "runbook" => runbook(app, rest, now).await,
        "upcoming" => upcoming(app, now).await,
        "mute" => mute(app, command, rest, now).await,
        _ => Ok(help(Some(verb))),
    };
    outcome.unwrap_or_else(|e| {
        tracing::error!(error = %e, source = ?std::error::Error::source(&e), "a command failed on the store");
        Reply::note("⚠️ The history is unavailable right now: try again in a moment.")
    })
}

fn help(unknown: Option<&str>) -> Reply {
    let mut lines = Vec::new();
    if let Some(verb) = unknown {
        lines.push(format!(
            "⚠️ {} is not a cachewatch command.",
            mrkdwn::code(verb)
        ));
    }
    lines.push("*cachewatch* keeps the history of ElastiCache maintenance and failures.".into());
    lines.push("• `/cachewatch search cluster:payments since:30d replacement`: search the history. Filters: `cluster:` `node:` `kind:` `category:` `since:` `until:` `limit:`; other words must appear in the message.".into());
    lines.push("• `/cachewatch upcoming`: maintenances ahead, soonest deadline first.".into());
    lines.push("• `/cachewatch runbook 3f9a2c71`: the runbook of an event or maintenance.".into());
    lines.push("• `/cachewatch mute staging-*`: which clusters it reaches; `/cachewatch mute staging-* 3d`: no alerts for them for a while (at most 90 days).".into());
    lines.push("• `/cachewatch help`: this.".into());
    let text = lines.join("\n");
    Reply::ephemeral("cachewatch commands", vec![section(&text)])
}

type StoreResult<T> = Result<T, cachewatch_core::history::store::StoreError>;

/// The filters and words of a search, as name-value pairs.
pub fn search_pairs(text: &str) -> Vec<(String, String)> {
    let mut pairs = Vec::new();
    let mut words = Vec::new();
    for token in text.split_whitespace() {
        match token.split_once(':') {
            Some((name, value))
                if SEARCH_FILTERS.contains(&name.to_ascii_lowercase().as_str())
                    && !value.is_empty() =>
            {
                pairs.push((name.to_ascii_lowercase(), value.to_owned()));
            }
            _ => words.push(token),
        }
    }
    if !words.is_empty() {
        pairs.push(("text".to_owned(), words.join(" ")));
    }
    pairs
}

async fn search<P: Parts>(app: &App<P>, text: &str, now: DateTime<Utc>) -> StoreResult<Reply> {
    let pairs = search_pairs(text);
    let request = SearchRequest {
        filters: &pairs,
        reading: Reading {
            default_limit: SEARCH_LIMIT,
            max_limit: SEARCH_MAX,
            strict: true,
        },
        include_drills: false,
        now,
    };
    let (query, given, events) = match search::search(&app.store, &app.config, &request).await {
        Ok(found) => (found.query, found.given, found.events),
        Err(SearchError::Store(e)) => return Err(e),
        Err(SearchError::Filter(bad)) => {
            return Ok(Reply::note(&format!(
                "⚠️ {}",
                mrkdwn::escape_line(&bad.to_string())
            )));
        }
    };
    if events.is_empty() {
        return Ok(Reply::note("No event matches that search."));
    }
    let zone = app.settings.zone;
    let found = events.len();
    let items: Vec<Block> = events
        .iter()
        .map(|e| {
            let line = event_line(e, zone);
            let id = e.maintenance_id.as_ref().unwrap_or(&e.id);
            match app.slack_link(&format!("/runbooks/{id}"), now) {
                Some(url) => section_with_link(&line, "Runbook", &url),
                None => section(&line),
            }
        })
        .collect();
    let footer = history_url(app, &given, now).map(|url| Block::Actions {
        elements: vec![link_button("Open in the history page", &url).into()],
    });
    let more = found == query.limit;
    Ok(fit(
        &format!("{found} events found"),
        |shown| {
            section(&format!(
                "*{found} event{} found*, newest first{}",
                if found == 1 { "" } else { "s" },
                if shown < found || more {
                    format!(" (the first {shown}: narrow the search, or open the history page)")
                } else {
                    String::new()
                }
            ))
        },
        items,
        footer,
    ))
}

/// A list as one answer: `header` (told how many items are shown), the items, `footer`; items are
/// left out from the end until the answer is within Slack's limits.
fn fit(
    text: &str,
    header: impl Fn(usize) -> Block,
    mut items: Vec<Block>,
    footer: Option<Block>,
) -> Reply {
    loop {
        let mut blocks = vec![header(items.len())];
        blocks.extend(items.iter().cloned());
        blocks.extend(footer.clone());
        let reply = Reply::ephemeral(text, blocks);
        if items.len() <= 1 || limits::check(&reply.message).is_empty() {
            return reply;
        }
        items.pop();
    }
}

/// One event on one line: when, what, where, its id, and the start of its text.
fn event_line(e: &MaintenanceEvent, zone: cachewatch_core::model::timefmt::Zone) -> String {
    let mut line = format!(
        "{} · *{}* · {}",
        mrkdwn::date(e.occurred_at, zone, DateStyle::DateTime),
        mrkdwn::escape_line(&e.kind.describe()),
        mrkdwn::code(e.cluster_label()),
    );
    if let Some(node) = &e.node_id {
        line.push_str(&format!(" node {}", mrkdwn::code(node.as_str())));
    }
    line.push_str(&format!(" · {}", mrkdwn::code(e.id.short())));
    if let Some(message) = &e.message {
        line.push_str(&format!(
            "\n{}",
            mrkdwn::truncate(&mrkdwn::escape_line(message), 300)
        ));
    }
    line
}

/// The history page with these filters, signed.
fn history_url<P: Parts>(
    app: &App<P>,
    given: &std::collections::BTreeMap<String, String>,
    now: DateTime<Utc>,
) -> Option<String> {
    let mut url = reqwest::Url::parse(&app.slack_link("/events", now)?).ok()?;
    {
        let mut query = url.query_pairs_mut();
        for (name, value) in given {
            query.append_pair(name, value);
        }
    }
    Some(url.to_string())
}

/// Why `raw` names no one event.
fn not_found(raw: &str, found: &Found) -> Reply {
    let code = mrkdwn::code(raw);
    Reply::note(&match found {
        Found::One(_) => format!("{code} names an event."),
        Found::NotAnId => format!("⚠️ {code} is not an event id (4 to 20 hex digits)."),
        Found::Nothing => format!("No event has an id starting with {code}."),
        Found::Ambiguous(ids) => format!(
            "{code} is the start of {}: give more digits.",
            ids.iter()
                .map(|id| mrkdwn::code(id.as_str()))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    })
}

async fn runbook<P: Parts>(app: &App<P>, raw: &str, now: DateTime<Utc>) -> StoreResult<Reply> {
    let raw = raw.trim();
    if raw.is_empty() {
        return Ok(Reply::note(
            "Say which event: `/cachewatch runbook 3f9a2c71` (an id from an alert or a search).",
        ));
    }
    let subject = match lookup::find(&app.store, raw).await? {
        Found::One(subject) => subject,
        other => return Ok(not_found(raw, &other)),
    };
    let runbook = match app.runbook_of(&subject, now).await {
        Ok(runbook) => runbook,
        Err(RunbookFailure::Store(e)) => return Err(e),
        Err(RunbookFailure::Render(e)) => {
            return Ok(Reply::note(&format!(
                "⚠️ The runbook cannot be rendered: {}",
                mrkdwn::escape_line(&e.to_string())
            )));
        }
    };
    let link = app.slack_link(&format!("/runbooks/{}", subject.link_id()), now);
    let title = format!(
        "📋 *{}* for {}",
        mrkdwn::escape_line(&runbook.plain_title()),
        mrkdwn::code(&subject.label())
    );
    let mut head = vec![match &link {
        Some(url) => section_with_link(&title, "Open runbook", url),
        None => section(&title),
    }];
    let parts = slack::checklist(&runbook);
    let mut blocks = head.clone();
    if let Some(first) = parts.first() {
        blocks.extend(first.blocks.iter().cloned());
        if parts.len() > 1 {
            blocks.push(context(&format!(
                "…and {} more part{}: open the runbook page, or press *Post checklist* on the alert.",
                parts.len() - 1,
                if parts.len() == 2 { "" } else { "s" }
            )));
        }
    }
    let text = format!("Runbook for {}", subject.label());
    let full = Reply::ephemeral(&text, blocks);
    if limits::check(&full.message).is_empty() {
        return Ok(full);
    }
    // Too long for one answer: the title, the link, and where the rest is.
    head.push(context(&format!(
        "The checklist has {} steps: open the runbook page, or press *Post checklist* on the alert.",
        runbook.steps().count()
    )));
    Ok(Reply::ephemeral(&text, head))
}

async fn upcoming<P: Parts>(app: &App<P>, now: DateTime<Utc>) -> StoreResult<Reply> {
    let mut ahead: Vec<Maintenance> = app
        .store
        .open_maintenances(now, false)
        .await?
        .into_iter()
        .filter(|m| m.is_upcoming(now))
        .collect();
    if ahead.is_empty() {
        return Ok(Reply::note(
            "Nothing is scheduled: no maintenance is ahead.",
        ));
    }
    ahead.sort_by_key(|m| (m.deadline().is_none(), m.deadline(), m.id.clone()));
    let total = ahead.len();
    let zone = app.settings.zone;
    let items: Vec<Block> = ahead
        .iter()
        .take(UPCOMING_MAX)
        .map(|m| {
            let when = match m.deadline() {
                Some(at) => format!(
                    "{}, {}",
                    mrkdwn::date(at, zone, DateStyle::DateTime),
                    mrkdwn::escape_line(&timefmt::relative(now, at))
                ),
                None => "no window given".to_owned(),
            };
            let line = format!(
                "*{when}* · {} · {} · {}",
                mrkdwn::code(&m.subject_label()),
                mrkdwn::escape_line(&m.status(now).as_str().replace('_', " ")),
                mrkdwn::code(m.id.short())
            );
            match app.slack_link(&format!("/runbooks/{}", m.id), now) {
                Some(url) => section_with_link(&line, "Runbook", &url),
                None => section(&line),
            }
        })
        .collect();
    Ok(fit(
        &format!("{total} maintenances ahead"),
        |shown| {
            section(&format!(
                "*{total} maintenance{} ahead*, soonest deadline first{}",
                if total == 1 { "" } else { "s" },
                if shown < total {
                    format!(" (the first {shown})")
                } else {
                    String::new()
                }
            ))
        },
        items,
        None,
    ))
}

/// What a refused mute is answered with.
fn refused_note(pattern: &str, refused: &MuteRefused) -> String {
    let problem = match refused {
        MuteRefused::NoPattern => {
            "Say which clusters and for how long: `/cachewatch mute staging-* 3d`.".to_owned()
        }
        MuteRefused::NotAPattern(_) => format!(
            "{} is not a cluster pattern: letters, digits, `-`, `_`, `.`, and `*` or `?` as wildcards.",
            mrkdwn::code(pattern)
        ),
        MuteRefused::TooBroad(_) => format!(
            "{} reaches nearly every cluster: name them with at least three characters besides `*` and `?`. Muting everything is not done from Slack: set it in cachewatch.toml if it must be.",
            mrkdwn::code(pattern)
        ),
        MuteRefused::NoDuration => {
            "Say for how long, like `3d`, `12h` or `1w` (at most 90 days).".to_owned()
        }
        MuteRefused::OutOfBounds => {
            "A mute lasts from a minute to 90 days; longer ones belong in cachewatch.toml."
                .to_owned()
        }
        MuteRefused::Everything { known } => format!(
            "{} reaches every cluster seen in the last 90 days ({known}): name the ones to mute.",
            mrkdwn::code(pattern)
        ),
    };
    format!("⚠️ {problem}")
}

/// The pattern of `/cachewatch mute` and what is asked: a preview for a pattern alone, else a
/// mute for the duration given (`None` when it does not read); or the note that refuses them.
fn mute_args(rest: &str) -> Result<(&str, Asked), String> {
    let args: Vec<&str> = rest.split_whitespace().collect();
    match args.as_slice() {
        [pattern, duration] => Ok((*pattern, Asked::Mute(parse_duration(duration)))),
        [pattern] => Ok((*pattern, Asked::Preview)),
        [] => Ok(("", Asked::Mute(None))),
        _ => Err(
            "`mute` takes a cluster pattern and a duration: `/cachewatch mute staging-* 3d`."
                .to_owned(),
        ),
    }
}

async fn mute<P: Parts>(
    app: &App<P>,
    command: &SlashCommand,
    rest: &str,
    now: DateTime<Utc>,
) -> StoreResult<Reply> {
    let (pattern, asked) = match mute_args(rest) {
        Ok(args) => args,
        Err(note) => return Ok(Reply::note(&note)),
    };
    let request = MuteRequest {
        pattern,
        asked,
        by: &command.user_id,
        now,
    };
    let (record, reach) = match mute::mute(&app.store, &request).await? {
        Err(refused) => return Ok(Reply::note(&refused_note(pattern, &refused))),
        Ok(Muted::Preview(reach)) => {
            return Ok(Reply::note(&format!(
                "{} Mute them with `/cachewatch mute {pattern} 3d` (at most 90 days).",
                reach_sentence(pattern, &reach)
            )));
        }
        Ok(Muted::Recorded { record, reach }) => (record, reach),
    };
    let who = if command.user_name.is_empty() {
        &record.by
    } else {
        &command.user_name
    };
    let text = format!(
        "🔕 Alerts for {} are muted until {}, by *{}*. {}",
        mrkdwn::code(pattern),
        mrkdwn::date(record.until, app.settings.zone, DateStyle::DateTime),
        mrkdwn::escape_line(who),
        reach_sentence(pattern, &reach)
    );
    Ok(Reply {
        in_channel: true,
        ..Reply::ephemeral(
            &format!("Alerts for {pattern} are muted"),
            vec![section(&text)],
        )
    })
}

/// What a pattern reaches, in a sentence: "`staging-*` reaches 2 of the 14 clusters seen in the
/// last 90 days: `staging-a`, `staging-b`."
fn reach_sentence(pattern: &str, reach: &PatternReach) -> String {
    if reach.matched.is_empty() {
        return format!(
            "{} reaches none of the {} clusters seen in the last 90 days.",
            mrkdwn::code(pattern),
            reach.known
        );
    }
    let mut names: Vec<String> = reach
        .matched
        .iter()
        .take(REACH_SHOWN)
        .map(|name| mrkdwn::code(name))
        .collect();
    if reach.matched.len() > REACH_SHOWN {
        names.push(format!("and {} more", reach.matched.len() - REACH_SHOWN));
    }
    format!(
        "{} reaches {} of the {} clusters seen in the last 90 days: {}.",
        mrkdwn::code(pattern),
        reach.matched.len(),
        reach.known,
        names.join(", ")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_search_reads_named_filters_and_keeps_the_other_words() {
        assert_eq!(
            search_pairs("cluster:payments since:30d scheduled  replacement Node:0001 ID:x kind:"),
            vec![
                ("cluster".to_owned(), "payments".to_owned()),
                ("since".to_owned(), "30d".to_owned()),
                ("node".to_owned(), "0001".to_owned()),
                (
                    "text".to_owned(),
                    "scheduled replacement ID:x kind:".to_owned()
                ),
            ]
        );
        assert!(search_pairs("  ").is_empty());
    }

    #[test]
    fn help_answers_only_the_person_who_asked() {
        let reply = help(Some("<!channel>"));
        assert!(!reply.in_channel);
        assert_eq!(reply.to_json()["response_type"], "ephemeral");
        assert!(
            limits::check(&reply.message).is_empty(),
            "{:?}",
            limits::check(&reply.message)
        );
    }
}
