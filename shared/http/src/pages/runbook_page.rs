//! The runbook page: a runbook to read, print and tick off. A header says what the maintenance
//! is (cluster, node, window, deadline, state, who took it on, how it ended, and a banner for a
//! drill); then come the runbook's sections, each step with its owner, its commands in a `pre`,
//! and a checkbox.
//!
//! Steps already recorded are ticked. When the page may record steps (`step_url` is set), ticking
//! a box posts it; the contract is in [`super`]'s documentation. Printed, the page keeps the
//! checkboxes and drops everything that only works on a screen.

use std::fmt::Write as _;

use cachewatch_core::runbook::{DRILL_NOTICE, ParagraphStyle, Section, Step};
use cachewatch_core::timefmt::{human_duration, relative};

use super::RunbookPage;
use super::document::{self, esc, inline_markdown, window_text};
use super::timeline::{kind_words, state_words};

/// The runbook page's HTML.
pub fn render(page: &RunbookPage) -> String {
    let mut main = String::new();
    let drill = page.runbook.drill
        || page.event.drill
        || page.maintenance.as_ref().is_some_and(|m| m.drill);
    if drill {
        let _ = writeln!(
            main,
            "<p class=\"drill\" role=\"note\">{}</p>",
            esc(DRILL_NOTICE)
        );
    }
    let _ = writeln!(main, "<h1>{}</h1>", inline_markdown(&page.runbook.title));
    facts(&mut main, page);
    match &page.step_url {
        Some(_) => main.push_str(
            "<p id=\"status\" class=\"screen-only\" role=\"status\" aria-live=\"polite\"></p>\n",
        ),
        None => main.push_str(
            "<p id=\"status\" class=\"screen-only muted\" role=\"status\">Ticks on this page are not recorded.</p>\n",
        ),
    }
    for section in &page.runbook.sections {
        write_section(&mut main, section, page);
    }
    let main_attrs = match &page.step_url {
        Some(url) => format!(" data-step-url=\"{}\"", esc(url)),
        None => String::new(),
    };
    document::page(
        &format!("{} · cachewatch", page.runbook.plain_title()),
        "runbook",
        "Runbook",
        &main_attrs,
        &main,
        true,
    )
}

/// The header: what the maintenance is, and what people did about it.
fn facts(out: &mut String, page: &RunbookPage) {
    let zone = page.zone;
    let event = &page.event;
    let m = page.maintenance.as_ref();
    let mut rows: Vec<(&str, String)> = Vec::new();

    let cluster = m
        .and_then(|m| m.cluster_id.as_ref().map(ToString::to_string))
        .unwrap_or_else(|| event.cluster_label().to_owned());
    let group = m
        .and_then(|m| m.replication_group_id.as_ref())
        .or(event.replication_group_id.as_ref())
        .map(ToString::to_string)
        .filter(|g| *g != cluster)
        .map(|g| {
            format!(
                " <span class=\"muted\">in replication group</span> {}",
                esc(&g)
            )
        })
        .unwrap_or_default();
    rows.push(("Cluster", format!("{}{group}", esc(&cluster))));
    let node = m
        .and_then(|m| m.node_id.as_ref())
        .or(event.node_id.as_ref());
    if let Some(node) = node {
        rows.push(("Node", esc(node.as_str())));
    }
    let place = match (event.region.as_deref(), event.account_id.as_deref()) {
        (Some(region), Some(account)) => Some(format!("{}, account {}", esc(region), esc(account))),
        (Some(region), None) => Some(esc(region)),
        (None, Some(account)) => Some(format!("account {}", esc(account))),
        (None, None) => None,
    };
    if let Some(place) = place {
        rows.push(("Region", place));
    }

    let window = m.and_then(|m| m.window).or(event.window);
    match window {
        Some(w) => {
            let mut text = esc(&window_text(zone, w.start, w.end));
            let previous: Vec<_> = match m {
                Some(m) => m.previous_windows.clone(),
                None => event.previous_window.into_iter().collect(),
            };
            for p in previous {
                let _ = write!(
                    text,
                    "<br><span class=\"muted\">moved from {}</span>",
                    esc(&window_text(zone, p.start, p.end))
                );
            }
            rows.push(("Window", text));
            rows.push((
                "Deadline",
                format!(
                    "<strong>{}</strong> <span class=\"muted\">({})</span>",
                    esc(&zone.format(w.start)),
                    esc(&relative(page.now, w.start))
                ),
            ));
        }
        None => rows.push((
            "Window",
            "<span class=\"muted\">none announced</span>".into(),
        )),
    }

    match m {
        Some(m) => {
            let state = m.status(page.now);
            rows.push((
                "State",
                format!(
                    "<span class=\"state s-{}\">{}</span> {}",
                    state.as_str(),
                    state_words(state),
                    kind_words(m.kind)
                ),
            ));
            for f in &m.failovers {
                let who = match (&f.from, &f.to) {
                    (Some(from), Some(to)) => format!(": {} to {}", esc(from), esc(to)),
                    (None, Some(to)) => format!(": {} promoted", esc(to)),
                    (Some(from), None) => format!(": from {}", esc(from)),
                    (None, None) => String::new(),
                };
                rows.push(("Failover", format!("{}{who}", esc(&zone.format(f.at)))));
            }
            if let Some(previous) = &m.repeat_of {
                rows.push((
                    "Repeat",
                    format!(
                        "this node's previous maintenance (<span class=\"mono\">{}</span>) ended shortly before",
                        esc(previous.short())
                    ),
                ));
            }
        }
        None => rows.push((
            "State",
            "<span class=\"muted\">not part of a maintenance</span>".into(),
        )),
    }
    rows.push((
        "Event",
        format!(
            "{}, {} <span class=\"mono muted\">{}</span>",
            esc(&event.kind.describe()),
            esc(&zone.format(event.occurred_at)),
            esc(event.id.short())
        ),
    ));

    match &page.acknowledged {
        Some(ack) => rows.push((
            "Acknowledged",
            format!(
                "by <strong>{}</strong>, {} <span class=\"muted\">({})</span>",
                esc(&ack.by),
                esc(&zone.format(ack.at)),
                esc(&relative(page.now, ack.at))
            ),
        )),
        None => rows.push((
            "Acknowledged",
            "<span class=\"muted\">not yet</span>".into(),
        )),
    }
    if let Some(outcome) = &page.outcome {
        let mut text = format!(
            "{}; site maintenance: {}",
            esc(&outcome.handled.replace('-', " ")),
            if outcome.site_maintenance {
                "yes"
            } else {
                "no"
            }
        );
        if let Some(downtime) = outcome.downtime {
            let _ = write!(text, "; downtime {}", esc(&human_duration(downtime)));
        }
        if let Some(note) = outcome.note.as_deref().filter(|n| !n.trim().is_empty()) {
            let _ = write!(text, "<br>{}", esc(note));
        }
        let _ = write!(
            text,
            "<br><span class=\"muted\">recorded by {}, {}</span>",
            esc(&outcome.by),
            esc(&zone.format(outcome.at))
        );
        rows.push(("Outcome", text));
    }

    out.push_str("<dl class=\"facts\">\n");
    for (term, value) in rows {
        let _ = writeln!(out, "<dt>{term}</dt><dd>{value}</dd>");
    }
    out.push_str("</dl>\n");
}

fn write_section(out: &mut String, section: &Section, page: &RunbookPage) {
    out.push_str("<section>\n");
    if !section.heading.is_empty() {
        let _ = writeln!(out, "<h2>{}</h2>", inline_markdown(&section.heading));
    }
    let mut in_list = false;
    for p in &section.paragraphs {
        let bullet = p.style == ParagraphStyle::Bullet;
        if bullet != in_list {
            out.push_str(if bullet { "<ul>\n" } else { "</ul>\n" });
            in_list = bullet;
        }
        match p.style {
            ParagraphStyle::Text => {
                let _ = writeln!(out, "<p>{}</p>", inline_markdown(&p.text));
            }
            ParagraphStyle::Bullet => {
                let _ = writeln!(out, "<li>{}</li>", inline_markdown(&p.text));
            }
            ParagraphStyle::Quote => {
                let _ = writeln!(
                    out,
                    "<blockquote><p>{}</p></blockquote>",
                    inline_markdown(&p.text)
                );
            }
            ParagraphStyle::Verbatim => {
                let _ = writeln!(out, "<pre>{}</pre>", esc(&p.text));
            }
        }
    }
    if in_list {
        out.push_str("</ul>\n");
    }
    if !section.steps.is_empty() {
        out.push_str("<ol class=\"steps\">\n");
        for step in &section.steps {
            write_step(out, step, page);
        }
        out.push_str("</ol>\n");
    }
    out.push_str("</section>\n");
}

fn write_step(out: &mut String, step: &Step, page: &RunbookPage) {
    let n = step.number;
    let done = page
        .steps_done
        .iter()
        .filter(|d| usize::try_from(d.step).is_ok_and(|s| s == n))
        .min_by_key(|d| d.at);
    let (class, checked) = match done {
        Some(_) => (" class=\"done\"", " checked data-done"),
        None => ("", ""),
    };
    let _ = write!(
        out,
        "<li id=\"step-{n}\"{class}>\n<div class=\"step-head\"><input type=\"checkbox\" id=\"step-{n}-box\" data-step=\"{n}\"{checked}><label for=\"step-{n}-box\"><span class=\"num\">{n}.</span> <span class=\"owner o-{}\">{}</span> {}</label></div>\n",
        step.owner.as_str(),
        esc(&step.owner_label),
        inline_markdown(&step.text),
    );
    if let Some(done) = done {
        let _ = writeln!(
            out,
            "<p class=\"done-by\">Done by {}, {}</p>",
            esc(&done.by),
            esc(&page.zone.format(done.at))
        );
    }
    if !step.commands.is_empty() {
        let _ = writeln!(
            out,
            "<div class=\"cmd\"><pre><code>{}</code></pre></div>",
            esc(&step.commands.join("\n"))
        );
    }
    out.push_str("</li>\n");
}
