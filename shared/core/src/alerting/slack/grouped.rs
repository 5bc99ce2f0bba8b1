//! One message for many new maintenances that hit one channel at once (a region-wide
//! maintenance): how many, which engines and clusters, the earliest deadline, and a line per
//! maintenance; the maintenances are announced in its thread, the same ones together (see
//! [`super::announcements`]).

use std::collections::{BTreeMap, BTreeSet};

use super::blockkit::Block;
use super::blocks;
use super::limits;
use super::mrkdwn;
use super::situation::Situation;
use super::{AlertContext, SlackMessage};

/// Most characters of listed maintenances in all; the others are counted, not named.
const LIST_TEXT: usize = 5000;
/// Most characters of one listed maintenance.
const LIST_LINE: usize = 400;

/// The summary of `ctxs`, to post as a thread parent; the alerts of each go in its thread.
pub fn grouped(ctxs: &[AlertContext<'_>]) -> SlackMessage {
    let situations: Vec<Situation<'_>> = ctxs.iter().map(Situation::of).collect();
    let n = situations.len();
    let drills = situations.iter().filter(|s| s.drill).count();
    let all_drills = n > 0 && drills == n;
    let all_scheduled = situations.iter().all(|s| s.upcoming());
    let regions: BTreeSet<&str> = situations
        .iter()
        .filter_map(|s| s.region.as_deref())
        .collect();
    // A named account (`[accounts]`) is said when every maintenance is of it.
    let accounts: BTreeSet<Option<&str>> = situations
        .iter()
        .map(|s| s.account_name.as_deref())
        .collect();
    let region = match (regions.len(), regions.first()) {
        (1, Some(r)) => format!(" in {r}"),
        _ => String::new(),
    };
    let region = match (accounts.len(), accounts.first()) {
        (1, Some(Some(a))) => format!("{region} of {a}"),
        _ => region,
    };
    let what = match (n, all_scheduled) {
        (1, true) => "node replacement scheduled".to_owned(),
        (_, true) => "node replacements scheduled".to_owned(),
        (1, false) => "new maintenance".to_owned(),
        (_, false) => "new maintenances".to_owned(),
    };
    let headline = format!("{n} {what}{region}");
    let header = if all_drills {
        format!("🧪 DRILL · {headline}")
    } else {
        format!("🗓️ {headline}")
    };

    let mut out = vec![blocks::header(&header)];
    if drills > 0 {
        let which = if all_drills {
            "*All of them are drills*".to_owned()
        } else {
            format!("*{drills} of them are drills*, marked 🧪 below")
        };
        out.push(blocks::section(&format!(
            "🧪 DRILL: {which}: nothing is happening to those clusters."
        )));
    }
    out.push(blocks::fields(&summary_fields(&situations)));
    out.extend(list_sections(&situations));
    out.push(blocks::context(&[
        "In this thread: the maintenances that are the same (engine, role, runbook, window) named together, with their one checklist."
            .to_owned(),
    ]));

    let earliest = situations
        .iter()
        .filter_map(|s| s.window.filter(|_| s.upcoming()).map(|w| (w.start, s)))
        .min_by_key(|(at, _)| *at)
        .map(|(at, s)| {
            format!(
                ", earliest deadline {} ({})",
                s.at_plain(at),
                s.relative(at)
            )
        })
        .unwrap_or_default();
    let drill = if all_drills { "DRILL: " } else { "" };
    blocks::message(&format!("{drill}{headline}{earliest}"), out)
}

/// How many per engine, clusters and groups, the earliest and latest deadlines.
fn summary_fields(situations: &[Situation<'_>]) -> Vec<String> {
    let mut engines: BTreeMap<&str, usize> = BTreeMap::new();
    for s in situations {
        let name = s.engine().map_or("engine not known", |e| e.display_name());
        *engines.entry(name).or_default() += 1;
    }
    let engines: Vec<String> = engines
        .iter()
        .map(|(name, count)| format!("{name} ×{count}"))
        .collect();
    let clusters: BTreeSet<String> = situations
        .iter()
        .map(|s| s.cluster.clone().unwrap_or_else(|| s.subject()))
        .collect();
    let groups: BTreeSet<&str> = situations
        .iter()
        .filter_map(|s| s.group.as_deref())
        .collect();
    let mut out = vec![
        format!(
            "*Engines*\n{}",
            if engines.is_empty() {
                "—".to_owned()
            } else {
                engines.join(" · ")
            }
        ),
        format!(
            "*Clusters*\n{} cache cluster{} in {} replication group{}",
            clusters.len(),
            if clusters.len() == 1 { "" } else { "s" },
            groups.len(),
            if groups.len() == 1 { "" } else { "s" },
        ),
    ];
    let deadlines: Vec<(chrono::DateTime<chrono::Utc>, &Situation<'_>)> = situations
        .iter()
        .filter(|s| s.upcoming())
        .filter_map(|s| s.window.map(|w| (w.start, s)))
        .collect();
    if let Some((at, s)) = deadlines.iter().min_by_key(|(at, _)| *at) {
        out.push(format!(
            "*Earliest deadline*\n{}, {}\n{}",
            s.at(*at),
            s.relative(*at),
            s.subject_md()
        ));
    }
    if let Some((at, s)) = deadlines.iter().max_by_key(|(at, _)| *at)
        && deadlines.len() > 1
    {
        out.push(format!(
            "*Latest deadline*\n{}, {}",
            s.at(*at),
            s.relative(*at)
        ));
    }
    out
}

/// A line per maintenance, soonest deadline first, over as many sections as they need; past
/// [`LIST_TEXT`] characters the rest are counted, not named.
fn list_sections(situations: &[Situation<'_>]) -> Vec<Block> {
    let mut order: Vec<&Situation<'_>> = situations.iter().collect();
    order.sort_by_key(|s| (s.window.map(|w| w.start), s.subject()));
    let lines: Vec<String> = order.iter().map(|s| list_line(s)).collect();
    let mut sections = blocks::list_sections("", &lines, LIST_TEXT, ", in the thread.");
    // Keep room for the header, the drill line, the fields and the context.
    sections.truncate(limits::BLOCKS - 4);
    sections
}

/// `• 🗓️ orders-0001-001 node 0001 (orders) · Redis OSS primary · deadline …`.
fn list_line(s: &Situation<'_>) -> String {
    let (emoji, words) = s.headline();
    let when = match s.window {
        Some(w) if s.upcoming() => format!("deadline {}", s.at(w.start)),
        _ => words.to_lowercase(),
    };
    mrkdwn::truncate(
        &format!(
            "• {}{emoji} {}{} · {} · {when}",
            s.drill_mark(),
            s.subject_md(),
            s.group_suffix(),
            mrkdwn::escape_line(&s.engine_role()),
        ),
        LIST_LINE,
    )
}
