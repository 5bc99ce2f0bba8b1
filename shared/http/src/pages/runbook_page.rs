//! The runbook page: a runbook to read, print and tick off. A header says what the maintenance
//! is (cluster, node, window, deadline, state, who took it on, how it ended, and a banner for a
//! drill); then come the runbook's sections, each step with its owner, its commands in a `pre`,
//! and a checkbox.
//!
//! Steps already recorded are ticked. When the page may record steps (`step_url` is set), ticking
//! a box posts it; the contract is in [`super`]'s documentation. Printed, the page keeps the
//! checkboxes and drops everything that only works on a screen.

use std::collections::BTreeMap;

use cachewatch_core::history::response::{Outcome, StepDone};
use cachewatch_core::lifecycle::{FailoverRecord, Maintenance};
use cachewatch_core::model::event::MaintenanceEvent;
use cachewatch_core::model::timefmt::{Zone, human_duration, relative};
use cachewatch_core::runbook::html::{DoneStep, heading_html, sections_html};
use serde::Serialize;

use super::RunbookPage;
use super::document::{self, window_text};
use super::render::{render as fill, safe, view};
use super::timeline::{kind_words, state_words};

/// The header of the page: what the maintenance is, and what people did about it. Plain text
/// throughout; the template lays it out.
#[derive(Serialize)]
struct Facts {
    cluster: String,
    group: Option<String>,
    node: Option<String>,
    region: Option<String>,
    window: Option<WindowFacts>,
    state: Option<StateFacts>,
    event: EventFacts,
    acknowledged: Option<Acknowledged>,
    outcome: Option<OutcomeFacts>,
}

#[derive(Serialize)]
struct WindowFacts {
    text: String,
    moved_from: Vec<String>,
    deadline: String,
    deadline_in: String,
}

#[derive(Serialize)]
struct StateFacts {
    name: &'static str,
    words: &'static str,
    kind: &'static str,
    failovers: Vec<String>,
    repeat_of: Option<String>,
}

#[derive(Serialize)]
struct EventFacts {
    kind: String,
    at: String,
    id: String,
}

#[derive(Serialize)]
struct Acknowledged {
    by: String,
    at: String,
    ago: String,
}

#[derive(Serialize)]
struct OutcomeFacts {
    handled: String,
    site_maintenance: &'static str,
    downtime: Option<String>,
    note: Option<String>,
    by: String,
    at: String,
}

/// The runbook page's HTML.
pub fn render(page: &RunbookPage) -> String {
    let drill = page.runbook.drill
        || page.event.drill
        || page.maintenance.as_ref().is_some_and(|m| m.drill);
    fill(
        "runbook.html",
        minijinja::context! {
            title => format!("{} · cachewatch", page.runbook.plain_title()),
            style => safe(document::STYLE.to_owned()),
            script => safe(document::RUNBOOK_SCRIPT.to_owned()),
            body_class => "runbook",
            area => "Runbook",
            step_url => page.step_url.clone(),
            heading => safe(heading_html(&page.runbook, drill)),
            facts => view(&facts(page)),
            sections => safe(sections_html(&page.runbook, &done_steps(page))),
        },
    )
}

/// The steps recorded as done, by number: the first record of each, as the page shows it.
fn done_steps(page: &RunbookPage) -> BTreeMap<usize, DoneStep> {
    let mut first: BTreeMap<usize, &StepDone> = BTreeMap::new();
    for d in &page.steps_done {
        let Ok(n) = usize::try_from(d.step) else {
            continue;
        };
        if first.get(&n).is_none_or(|earlier| d.at < earlier.at) {
            first.insert(n, d);
        }
    }
    first
        .into_iter()
        .map(|(n, d)| {
            let at = page.zone.format(d.at);
            (
                n,
                DoneStep {
                    by: d.by.clone(),
                    at,
                },
            )
        })
        .collect()
}

fn facts(page: &RunbookPage) -> Facts {
    let event = &page.event;
    let m = page.maintenance.as_ref();
    let cluster = m
        .and_then(|m| m.cluster_id.as_ref().map(ToString::to_string))
        .unwrap_or_else(|| event.cluster_label().to_owned());
    let group = m
        .and_then(|m| m.replication_group_id.as_ref())
        .or(event.replication_group_id.as_ref())
        .map(ToString::to_string)
        .filter(|g| *g != cluster);
    let node = m
        .and_then(|m| m.node_id.as_ref())
        .or(event.node_id.as_ref())
        .map(|n| n.as_str().to_owned());
    Facts {
        cluster,
        group,
        node,
        region: place(event),
        window: window(page),
        state: m.map(|m| state(m, page)),
        event: EventFacts {
            kind: event.kind.describe(),
            at: page.zone.format(event.occurred_at),
            id: event.id.short().to_owned(),
        },
        acknowledged: page.acknowledged.as_ref().map(|ack| Acknowledged {
            by: ack.by.clone(),
            at: page.zone.format(ack.at),
            ago: relative(page.now, ack.at),
        }),
        outcome: page.outcome.as_ref().map(|o| outcome(o, page.zone)),
    }
}

/// Where the event happened: its region and account, as far as known.
fn place(event: &MaintenanceEvent) -> Option<String> {
    match (event.region.as_deref(), event.account_id.as_deref()) {
        (Some(region), Some(account)) => Some(format!("{region}, account {account}")),
        (Some(region), None) => Some(region.to_owned()),
        (None, Some(account)) => Some(format!("account {account}")),
        (None, None) => None,
    }
}

/// The window, the windows it was moved from, and the deadline it sets.
fn window(page: &RunbookPage) -> Option<WindowFacts> {
    let zone = page.zone;
    let m = page.maintenance.as_ref();
    let w = m.and_then(|m| m.window).or(page.event.window)?;
    let previous: Vec<_> = match m {
        Some(m) => m.previous_windows.clone(),
        None => page.event.previous_window.into_iter().collect(),
    };
    Some(WindowFacts {
        text: window_text(zone, w.start, w.end),
        moved_from: previous
            .iter()
            .map(|p| window_text(zone, p.start, p.end))
            .collect(),
        deadline: zone.format(w.start),
        deadline_in: relative(page.now, w.start),
    })
}

/// The maintenance's state as of now, its failovers, and the maintenance it repeats.
fn state(m: &Maintenance, page: &RunbookPage) -> StateFacts {
    let state = m.status(page.now);
    StateFacts {
        name: state.as_str(),
        words: state_words(state),
        kind: kind_words(m.kind),
        failovers: m.failovers.iter().map(|f| failover(f, page.zone)).collect(),
        repeat_of: m.repeat_of.as_ref().map(|p| p.short().to_owned()),
    }
}

/// `2026-11-15 19:04 UTC: a to b`, as far as the roles are known.
fn failover(f: &FailoverRecord, zone: Zone) -> String {
    let at = zone.format(f.at);
    match (&f.from, &f.to) {
        (Some(from), Some(to)) => format!("{at}: {from} to {to}"),
        (None, Some(to)) => format!("{at}: {to} promoted"),
        (Some(from), None) => format!("{at}: from {from}"),
        (None, None) => at,
    }
}

fn outcome(outcome: &Outcome, zone: Zone) -> OutcomeFacts {
    OutcomeFacts {
        handled: outcome.handled.replace('-', " "),
        site_maintenance: if outcome.site_maintenance {
            "yes"
        } else {
            "no"
        },
        downtime: outcome.downtime.map(human_duration),
        note: outcome.note.clone().filter(|n| !n.trim().is_empty()),
        by: outcome.by.clone(),
        at: zone.format(outcome.at),
    }
}
