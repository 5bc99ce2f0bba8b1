//! The history page: the filter form (the person's values shown back), the problem with them if
//! any, the timeline of maintenances per cluster, and the events found as a table, each with a
//! link to its runbook.
//!
//! The form submits with `GET` to the page's own address. Filters the form does not show (such as
//! `limit`, or the parameters of a signed link) are carried in hidden fields, so that they survive
//! a change of filters.

use std::collections::BTreeSet;
use std::fmt::Write as _;

use cachewatch_core::model::event::MaintenanceEvent;
use cachewatch_core::model::kind::{Category, EventKind};
use serde::Serialize;

use super::HistoryPage;
use super::document::{self, query_string, safe_href, shorten, window_text};
use super::render::{render as fill, safe, view};
use super::timeline::{self, Timeline};

/// The text filters the form shows, in order: (query parameter, label, example).
const TEXT_FILTERS: [(&str, &str, &str); 7] = [
    ("cluster", "Cluster or group", "orders or orders-0001-002"),
    ("node", "Node", "0001"),
    ("since", "Since", "2026-06-01 or 7d"),
    ("until", "Until", "2026-07-01"),
    ("text", "Words in the message", "scheduled replacement"),
    ("account", "AWS account", "111122223333"),
    ("region", "Region", "eu-west-1"),
];

/// Every parameter the form shows.
const SHOWN: [&str; 9] = [
    "cluster", "node", "kind", "category", "since", "until", "text", "account", "region",
];

/// The kinds offered in the form, besides those found in the results.
const KNOWN_KINDS: [&str; 15] = [
    EventKind::NODE_REPLACEMENT_SCHEDULED,
    EventKind::NODE_REPLACEMENT_RESCHEDULED,
    EventKind::NODE_REPLACEMENT_CANCELED,
    EventKind::CACHE_NODE_REPLACE_STARTED,
    EventKind::CACHE_NODE_REPLACE_COMPLETE,
    EventKind::FAILOVER_COMPLETE,
    EventKind::TEST_FAILOVER_API_CALLED,
    EventKind::CACHE_NODES_REBOOTED,
    EventKind::SERVICE_UPDATE_AVAILABLE_FOR_NODE,
    EventKind::SNAPSHOT_COMPLETE,
    EventKind::SNAPSHOT_FAILED,
    EventKind::CACHE_CLUSTER_PROVISIONING_COMPLETE,
    EventKind::ADD_CACHE_NODE_COMPLETE,
    EventKind::CACHE_CLUSTER_SCALING_COMPLETE,
    EventKind::UNRECOGNIZED,
];

/// The categories offered in the form.
const CATEGORIES: [Category; 3] = [
    Category::NodeReplacement,
    Category::Failover,
    Category::Other,
];

/// The longest message shown whole in the table (the rest is in its tooltip).
const MESSAGE_CHARS: usize = 180;

/// The filter form: the person's values, the choices offered, and what is carried along.
#[derive(Serialize)]
struct Form {
    text_filters: Vec<TextFilter>,
    kinds: Vec<Choice>,
    categories: Vec<Choice>,
    hidden: Vec<Hidden>,
    /// The query of the "Clear" link: only what the form does not show.
    kept: String,
}

#[derive(Serialize)]
struct TextFilter {
    name: &'static str,
    label: &'static str,
    example: &'static str,
    value: String,
}

#[derive(Serialize)]
struct Choice {
    value: String,
    text: String,
    selected: bool,
}

#[derive(Serialize)]
struct Hidden {
    name: String,
    value: String,
}

/// One row of the events table, as text.
#[derive(Serialize)]
struct EventRow {
    category: &'static str,
    id: String,
    datetime: String,
    at: String,
    ago: String,
    kind: String,
    drill: bool,
    cluster: String,
    group: Option<String>,
    node: String,
    window: String,
    moved_from: Option<String>,
    message: String,
    /// The whole message, when the cell shows it shortened.
    message_title: Option<String>,
    link: Option<String>,
}

/// The history page's HTML.
pub fn render(page: &HistoryPage) -> String {
    let chart = timeline::chart(&Timeline {
        maintenances: &page.maintenances,
        links: &page.runbook_links,
        zone: page.zone,
        now: page.now,
    });
    let events: Vec<EventRow> = page.events.iter().map(|e| event_row(page, e)).collect();
    fill(
        "history.html",
        minijinja::context! {
            title => "Event history · cachewatch",
            style => safe(document::STYLE.to_owned()),
            body_class => "history",
            area => "Event history",
            form => view(&form(page)),
            error => page.error.clone(),
            chart => view(&chart),
            summary => summary(page),
            zone => page.zone.to_string(),
            events => view(&events),
        },
    )
}

/// The value the person gave for `name`, if any.
fn given<'a>(page: &'a HistoryPage, name: &str) -> &'a str {
    page.filters.get(name).map_or("", String::as_str)
}

fn form(page: &HistoryPage) -> Form {
    let carried: Vec<(&str, &str)> = page
        .filters
        .iter()
        .filter(|(name, value)| {
            !SHOWN.contains(&name.as_str()) && !name.is_empty() && !value.is_empty()
        })
        .map(|(name, value)| (name.as_str(), value.as_str()))
        .collect();
    Form {
        text_filters: TEXT_FILTERS
            .into_iter()
            .map(|(name, label, example)| TextFilter {
                name,
                label,
                example,
                value: given(page, name).to_owned(),
            })
            .collect(),
        kinds: kinds(page),
        categories: categories(page),
        hidden: carried
            .iter()
            .map(|(name, value)| Hidden {
                name: (*name).to_owned(),
                value: (*value).to_owned(),
            })
            .collect(),
        kept: query_string(carried),
    }
}

/// `offered` as choices, `current` selected; a current value not offered (a new ElastiCache
/// event name) is added, selected, as given.
fn choices(offered: Vec<(String, String)>, current: &str) -> Vec<Choice> {
    let mut out: Vec<Choice> = offered
        .into_iter()
        .map(|(value, text)| Choice {
            selected: value == current,
            value,
            text,
        })
        .collect();
    if !current.is_empty() && !out.iter().any(|c| c.selected) {
        out.push(Choice {
            value: current.to_owned(),
            text: current.to_owned(),
            selected: true,
        });
    }
    out
}

fn kinds(page: &HistoryPage) -> Vec<Choice> {
    let mut kinds: BTreeSet<&str> = KNOWN_KINDS.into_iter().collect();
    kinds.extend(page.events.iter().map(|e| e.kind.as_str()));
    let offered = kinds
        .into_iter()
        .map(|kind| (kind.to_owned(), kind.replace('_', " ")))
        .collect();
    choices(offered, given(page, "kind").trim())
}

fn categories(page: &HistoryPage) -> Vec<Choice> {
    let offered = CATEGORIES
        .into_iter()
        .map(|c| (c.as_str().to_owned(), c.as_str().replace('_', " ")))
        .collect();
    choices(offered, given(page, "category").trim())
}

/// How many events, over what time.
fn summary(page: &HistoryPage) -> String {
    let n = page.events.len();
    let mut text = match n {
        0 => "No events match these filters".to_owned(),
        1 => "1 event".to_owned(),
        n => format!("{n} events, newest first"),
    };
    if let Some(since) = page.query.since {
        let _ = write!(text, ", since {}", page.zone.format(since));
    }
    if let Some(until) = page.query.until {
        let _ = write!(text, ", until {}", page.zone.format(until));
    }
    text.push('.');
    if n > 0 && n >= page.query.limit {
        let _ = write!(
            text,
            " Only the newest {} are shown: narrow the filters to see older ones.",
            page.query.limit
        );
    }
    text
}

fn event_row(page: &HistoryPage, e: &MaintenanceEvent) -> EventRow {
    let zone = page.zone;
    let message = e.message.clone().unwrap_or_default();
    let long = message.chars().count() > MESSAGE_CHARS;
    EventRow {
        category: e.category.as_str(),
        id: e.id.as_str().to_owned(),
        datetime: cachewatch_core::model::event::rfc3339::format(&e.occurred_at),
        at: zone.format(e.occurred_at),
        ago: cachewatch_core::model::timefmt::relative(page.now, e.occurred_at),
        kind: e.kind.describe(),
        drill: e.drill,
        cluster: e.cluster_label().to_owned(),
        group: e
            .replication_group_id
            .as_ref()
            .map(ToString::to_string)
            .filter(|g| g != e.cluster_label()),
        node: e.node_id.as_ref().map_or("", |n| n.as_str()).to_owned(),
        window: e
            .window
            .map(|w| window_text(zone, w.start, w.end))
            .unwrap_or_default(),
        moved_from: e.previous_window.map(|w| window_text(zone, w.start, w.end)),
        message: if long {
            shorten(&message, MESSAGE_CHARS)
        } else {
            message.clone()
        },
        message_title: long.then_some(message),
        link: page
            .runbook_links
            .get(&e.id)
            .and_then(|url| safe_href(url))
            .map(ToOwned::to_owned),
    }
}
