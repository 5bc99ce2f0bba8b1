//! The history page: the filter form (the person's values shown back), the problem with them if
//! any, the timeline of maintenances per cluster, and the events found as a table, each with a
//! link to its runbook.
//!
//! The form submits with `GET` to the page's own address. Filters the form does not show (such as
//! `limit`, or the parameters of a signed link) are carried in hidden fields, so that they survive
//! a change of filters.

use std::collections::BTreeSet;
use std::fmt::Write as _;

use cachewatch_core::event::MaintenanceEvent;
use cachewatch_core::kind::{Category, EventKind};

use super::HistoryPage;
use super::document::{self, esc, query_string, safe_href, shorten, window_text};
use super::timeline::{self, Timeline};

/// The text filters the form shows, in order: (query parameter, label, example).
const TEXT_FILTERS: [(&str, &str, &str); 5] = [
    ("cluster", "Cluster or group", "orders or orders-0001-002"),
    ("node", "Node", "0001"),
    ("since", "Since", "2026-06-01 or 7d"),
    ("until", "Until", "2026-07-01"),
    ("text", "Words in the message", "scheduled replacement"),
];

/// Every parameter the form shows.
const SHOWN: [&str; 7] = [
    "cluster", "node", "kind", "category", "since", "until", "text",
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

/// The history page's HTML.
pub fn render(page: &HistoryPage) -> String {
    let mut main = String::new();
    main.push_str("<h1>Event history</h1>\n");
    filter_form(&mut main, page);
    if let Some(error) = &page.error {
        let _ = writeln!(main, "<p class=\"error\" role=\"alert\">{}</p>", esc(error));
    }
    main.push_str("<section aria-labelledby=\"timeline-heading\">\n<h2 id=\"timeline-heading\">Maintenances per cluster</h2>\n");
    main.push_str(&timeline::render(&Timeline {
        maintenances: &page.maintenances,
        links: &page.runbook_links,
        zone: page.zone,
        now: page.now,
    }));
    main.push_str("</section>\n");
    main.push_str(
        "<section aria-labelledby=\"events-heading\">\n<h2 id=\"events-heading\">Events</h2>\n",
    );
    summary(&mut main, page);
    if !page.events.is_empty() {
        events_table(&mut main, page);
    }
    main.push_str("</section>\n");
    document::page(
        "Event history · cachewatch",
        "history",
        "Event history",
        "",
        &main,
        false,
    )
}

/// The value the person gave for `name`, if any.
fn given<'a>(page: &'a HistoryPage, name: &str) -> &'a str {
    page.filters.get(name).map_or("", String::as_str)
}

fn filter_form(out: &mut String, page: &HistoryPage) {
    out.push_str("<form class=\"filters\" method=\"get\" role=\"search\">\n");
    for (name, label, example) in TEXT_FILTERS {
        let _ = writeln!(
            out,
            "<label>{label}<input type=\"text\" name=\"{name}\" value=\"{}\" placeholder=\"{example}\"></label>",
            esc(given(page, name))
        );
        if name == "node" {
            kind_select(out, page);
            category_select(out, page);
        }
    }
    for (name, value) in &page.filters {
        if SHOWN.contains(&name.as_str()) || name.is_empty() || value.is_empty() {
            continue;
        }
        let _ = writeln!(
            out,
            "<input type=\"hidden\" name=\"{}\" value=\"{}\">",
            esc(name),
            esc(value)
        );
    }
    let kept = query_string(
        page.filters
            .iter()
            .filter(|(name, value)| {
                !SHOWN.contains(&name.as_str()) && !name.is_empty() && !value.is_empty()
            })
            .map(|(name, value)| (name.as_str(), value.as_str())),
    );
    let _ = writeln!(
        out,
        "<div class=\"actions\"><button type=\"submit\">Filter</button><a href=\"?{}\">Clear</a></div>\n</form>",
        esc(&kept)
    );
}

fn kind_select(out: &mut String, page: &HistoryPage) {
    let current = given(page, "kind").trim();
    let mut kinds: BTreeSet<&str> = KNOWN_KINDS.into_iter().collect();
    kinds.extend(page.events.iter().map(|e| e.kind.as_str()));
    out.push_str("<label>Kind<select name=\"kind\">\n<option value=\"\">any kind</option>\n");
    let mut matched = current.is_empty();
    for kind in kinds {
        let selected = if kind == current {
            matched = true;
            " selected"
        } else {
            ""
        };
        let _ = writeln!(
            out,
            "<option value=\"{}\"{selected}>{}</option>",
            esc(kind),
            esc(&kind.replace('_', " "))
        );
    }
    if !matched {
        // A kind the page does not know (a new ElastiCache event name): shown back as given.
        let _ = writeln!(
            out,
            "<option value=\"{}\" selected>{}</option>",
            esc(current),
            esc(current)
        );
    }
    out.push_str("</select></label>\n");
}

fn category_select(out: &mut String, page: &HistoryPage) {
    let current = given(page, "category").trim();
    out.push_str(
        "<label>Category<select name=\"category\">\n<option value=\"\">any category</option>\n",
    );
    let mut matched = current.is_empty();
    for category in CATEGORIES {
        let name = category.as_str();
        let selected = if name == current {
            matched = true;
            " selected"
        } else {
            ""
        };
        let _ = writeln!(
            out,
            "<option value=\"{name}\"{selected}>{}</option>",
            name.replace('_', " ")
        );
    }
    if !matched {
        let _ = writeln!(
            out,
            "<option value=\"{}\" selected>{}</option>",
            esc(current),
            esc(current)
        );
    }
    out.push_str("</select></label>\n");
}

/// How many events, over what time, in which zone.
fn summary(out: &mut String, page: &HistoryPage) {
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
    let _ = writeln!(
        out,
        "<p class=\"summary\" data-count=\"{n}\">{} Times in {}.</p>",
        esc(&text),
        esc(&page.zone.to_string())
    );
}

fn events_table(out: &mut String, page: &HistoryPage) {
    out.push_str("<table class=\"events\">\n<thead><tr><th>Time</th><th>Kind</th><th>Cluster</th><th>Node</th><th>Window</th><th>Message</th><th>Runbook</th></tr></thead>\n<tbody>\n");
    for e in &page.events {
        event_row(out, page, e);
    }
    out.push_str("</tbody>\n</table>\n");
}

fn event_row(out: &mut String, page: &HistoryPage, e: &MaintenanceEvent) {
    let zone = page.zone;
    let _ = write!(
        out,
        "<tr class=\"c-{}\" data-event-id=\"{}\">",
        e.category.as_str(),
        esc(e.id.as_str())
    );
    let _ = write!(
        out,
        "<td class=\"time\"><time datetime=\"{}\">{}</time><span class=\"sub\">{}</span></td>",
        esc(&cachewatch_core::event::rfc3339::format(&e.occurred_at)),
        esc(&zone.format(e.occurred_at)),
        esc(&cachewatch_core::timefmt::relative(page.now, e.occurred_at)),
    );
    let drill = if e.drill {
        "<span class=\"tag drill-tag\">DRILL</span>"
    } else {
        ""
    };
    let _ = write!(
        out,
        "<td class=\"kind\">{}{drill}</td>",
        esc(&e.kind.describe())
    );
    let group = e
        .replication_group_id
        .as_ref()
        .map(ToString::to_string)
        .filter(|g| g != e.cluster_label())
        .map(|g| format!("<span class=\"sub\">in {}</span>", esc(&g)))
        .unwrap_or_default();
    let _ = write!(
        out,
        "<td class=\"cluster\">{}{group}</td>",
        esc(e.cluster_label())
    );
    let _ = write!(
        out,
        "<td class=\"node\">{}</td>",
        esc(e.node_id.as_ref().map_or("", |n| n.as_str()))
    );
    let window = match e.window {
        Some(w) => esc(&window_text(zone, w.start, w.end)),
        None => String::new(),
    };
    let moved = e
        .previous_window
        .map(|w| {
            format!(
                "<span class=\"sub\">moved from {}</span>",
                esc(&window_text(zone, w.start, w.end))
            )
        })
        .unwrap_or_default();
    let _ = write!(out, "<td class=\"window\">{window}{moved}</td>");
    let message = e.message.as_deref().unwrap_or_default();
    if message.chars().count() > MESSAGE_CHARS {
        let _ = write!(
            out,
            "<td class=\"msg\" title=\"{}\">{}</td>",
            esc(message),
            esc(&shorten(message, MESSAGE_CHARS))
        );
    } else {
        let _ = write!(out, "<td class=\"msg\">{}</td>", esc(message));
    }
    match page.runbook_links.get(&e.id).and_then(|url| safe_href(url)) {
        Some(url) => {
            let _ = write!(
                out,
                "<td class=\"runbook\"><a href=\"{}\">runbook</a></td>",
                esc(url)
            );
        }
        None => out.push_str("<td class=\"runbook\"></td>"),
    }
    out.push_str("</tr>\n");
}
