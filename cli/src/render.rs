//! How the CLI prints: tables, CSV and details, times in the chosen zone.

use std::io::Write;

use cachewatch_core::alerting::alert_path::PathAudit;
use cachewatch_core::fleet::{CoverageAudit, ServiceUpdate, TopicState};
use cachewatch_core::history::export::spreadsheet_cell;
use cachewatch_core::lifecycle::MaintenanceKind;
use cachewatch_core::model::event::rfc3339;
use cachewatch_core::model::timefmt::{Zone, relative};
use cachewatch_core::{Maintenance, MaintenanceEvent};
use chrono::{DateTime, Utc};

use crate::commands::Failure;

/// The widest a table cell grows before it is shortened.
const MAX_CELL: usize = 40;

fn cell(text: &str) -> String {
    // Tables are one line per row: control characters from event text are shown as spaces, and
    // invisible or bidirectional ones written out.
    let flat: String = cachewatch_core::model::invisible::shown(text)
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    if flat.chars().count() > MAX_CELL {
        let mut short: String = flat.chars().take(MAX_CELL - 1).collect();
        short.push('…');
        short
    } else {
        flat
    }
}

/// Prints rows under a header, columns padded to their widest cell.
fn table(header: &[&str], rows: &[Vec<String>], out: &mut dyn Write) -> Result<(), Failure> {
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (w, c) in widths.iter_mut().zip(row) {
            *w = (*w).max(c.chars().count());
        }
    }
    let line = |cells: Vec<&str>| -> String {
        let mut s = String::new();
        for (i, (c, w)) in cells.iter().zip(&widths).enumerate() {
            if i + 1 == cells.len() {
                s.push_str(c);
            } else {
                s.push_str(c);
                s.push_str(&" ".repeat(w - c.chars().count() + 2));
            }
        }
        s.trim_end().to_owned()
    };
    writeln!(out, "{}", line(header.to_vec()))?;
    for row in rows {
        writeln!(out, "{}", line(row.iter().map(String::as_str).collect()))?;
    }
    Ok(())
}

fn local(zone: Zone, at: DateTime<Utc>) -> String {
    zone.format_with(at, "%Y-%m-%d %H:%M")
        .rsplit_once(' ')
        .map_or_else(String::new, |(time, _zone)| time.to_owned())
}

fn window_text(e: &MaintenanceEvent, zone: Zone) -> String {
    e.window
        .map_or_else(|| "-".to_owned(), |w| zone.format_window(w.start, w.end))
}

/// The events as a table.
pub fn events_table(
    events: &[MaintenanceEvent],
    zone: Zone,
    out: &mut dyn Write,
) -> Result<(), Failure> {
    if events.is_empty() {
        writeln!(out, "No events match.")?;
        return Ok(());
    }
    let when = format!("OCCURRED ({zone})");
    let rows: Vec<Vec<String>> = events
        .iter()
        .map(|e| {
            vec![
                e.id.short().to_owned(),
                local(zone, e.occurred_at),
                cell(e.kind.as_str()),
                cell(e.cluster_label()),
                cell(e.node_id.as_ref().map_or("-", |n| n.as_str())),
                window_text(e, zone),
            ]
        })
        .collect();
    table(
        &["ID", &when, "KIND", "CLUSTER", "NODE", "WINDOW"],
        &rows,
        out,
    )
}

/// The events as CSV: the contract's fields, windows split into start and end.
pub fn events_csv(events: &[MaintenanceEvent], out: &mut dyn Write) -> Result<(), Failure> {
    let mut csv = EventsCsv::start(out)?;
    csv.write(events)?;
    csv.finish()
}

/// CSV of events written as they come, a header row first: an export of any length. Every cell
/// goes through [`spreadsheet_cell`]: text from events never runs as a formula.
pub struct EventsCsv<'a> {
    writer: csv::Writer<&'a mut dyn Write>,
}

fn csv_failure(e: csv::Error) -> Failure {
    match e.into_kind() {
        csv::ErrorKind::Io(io) => Failure::from(io),
        other => Failure::Other(anyhow::anyhow!("cannot write CSV: {other:?}")),
    }
}

impl<'a> EventsCsv<'a> {
    /// Writes the header row.
    pub fn start(out: &'a mut dyn Write) -> Result<Self, Failure> {
        let mut writer = csv::Writer::from_writer(out);
        writer
            .write_record([
                "id",
                "event_name",
                "kind",
                "category",
                "actionable",
                "source_type",
                "source_id",
                "cluster_id",
                "node_id",
                "replication_group_id",
                "occurred_at",
                "window_start",
                "window_end",
                "previous_window_start",
                "previous_window_end",
                "message",
                "region",
                "account_id",
                "maintenance_id",
            ])
            .map_err(csv_failure)?;
        Ok(Self { writer })
    }

    /// Writes a row per event.
    pub fn write(&mut self, events: &[MaintenanceEvent]) -> Result<(), Failure> {
        let opt = |s: Option<&str>| s.unwrap_or_default().to_owned();
        let time = |t: Option<DateTime<Utc>>| t.map(|t| rfc3339::format(&t)).unwrap_or_default();
        for e in events {
            let fields = [
                e.id.to_string(),
                opt(e.event_name.as_deref()),
                e.kind.to_string(),
                e.category.to_string(),
                e.actionable.to_string(),
                e.source_type.clone(),
                e.source_id.to_string(),
                opt(e.cluster_id.as_ref().map(|c| c.as_str())),
                opt(e.node_id.as_ref().map(|c| c.as_str())),
                opt(e.replication_group_id.as_ref().map(|c| c.as_str())),
                rfc3339::format(&e.occurred_at),
                time(e.window.map(|w| w.start)),
                time(e.window.map(|w| w.end)),
                time(e.previous_window.map(|w| w.start)),
                time(e.previous_window.map(|w| w.end)),
                opt(e.message.as_deref()),
                opt(e.region.as_deref()),
                opt(e.account_id.as_deref()),
                opt(e.maintenance_id.as_ref().map(|m| m.as_str())),
            ];
            self.writer
                .write_record(fields.iter().map(|f| spreadsheet_cell(f).into_owned()))
                .map_err(csv_failure)?;
        }
        Ok(())
    }

    /// Writes out what is buffered.
    pub fn finish(mut self) -> Result<(), Failure> {
        self.writer.flush()?;
        Ok(())
    }
}

/// One event, field by field.
pub fn event_details(
    e: &MaintenanceEvent,
    zone: Zone,
    now: DateTime<Utc>,
    out: &mut dyn Write,
) -> Result<(), Failure> {
    writeln!(
        out,
        "Event {}{}",
        e.id,
        if e.drill { "  [DRILL]" } else { "" }
    )?;
    let mut field = |name: &str, value: String| writeln!(out, "  {name:<14}{value}");
    field(
        "kind",
        format!(
            "{}{}",
            e.kind,
            if e.actionable { "  (needs people)" } else { "" }
        ),
    )?;
    field(
        "event name",
        e.event_name.clone().unwrap_or_else(|| "(text only)".into()),
    )?;
    field("source", format!("{} {}", e.source_type, e.source_id))?;
    if let Some(c) = &e.cluster_id {
        field("cluster", c.to_string())?;
    }
    if let Some(n) = &e.node_id {
        field("node", n.to_string())?;
    }
    if let Some(g) = &e.replication_group_id {
        field("repl. group", g.to_string())?;
    }
    field(
        "occurred",
        format!(
            "{} ({})",
            zone.format(e.occurred_at),
            relative(now, e.occurred_at)
        ),
    )?;
    if let Some(w) = e.window {
        field(
            "window",
            format!(
                "{} (starts {})",
                zone.format_window(w.start, w.end),
                relative(now, w.start)
            ),
        )?;
    }
    if let Some(w) = e.previous_window {
        field("moved from", zone.format_window(w.start, w.end))?;
    }
    for (name, value) in where_and_what(e) {
        field(name, value)?;
    }
    Ok(())
}

/// An event's failover, account, message and origin, as fields.
fn where_and_what(e: &MaintenanceEvent) -> Vec<(&'static str, String)> {
    let mut fields = Vec::new();
    if let Some(f) = &e.failover {
        fields.push((
            "failover",
            format!(
                "{} -> {}",
                f.from.as_deref().unwrap_or("?"),
                f.to.as_deref().unwrap_or("?")
            ),
        ));
    }
    if let (Some(region), Some(account)) = (&e.region, &e.account_id) {
        fields.push(("account", format!("{account} in {region}")));
    }
    if let Some(m) = &e.message {
        let shown = cachewatch_core::model::invisible::shown(m)
            .chars()
            .map(|c| if c.is_control() { ' ' } else { c })
            .collect();
        fields.push(("message", shown));
    }
    fields.push(("via", e.origin.as_str().to_owned()));
    fields
}

fn maintenance_title(m: &Maintenance) -> &'static str {
    match m.kind {
        MaintenanceKind::Planned => "planned node replacement",
        MaintenanceKind::Unplanned => "unplanned node replacement",
        MaintenanceKind::Failover => "unplanned failover",
        MaintenanceKind::Health => "AWS Health notice",
    }
}

/// A maintenance's window, its deadline while it is ahead, and the windows it moved from.
fn windows(
    m: &Maintenance,
    zone: Zone,
    now: DateTime<Utc>,
    out: &mut dyn Write,
) -> Result<(), Failure> {
    if let Some(w) = m.window {
        writeln!(
            out,
            "  {:<14}{}",
            "window",
            zone.format_window(w.start, w.end)
        )?;
        if m.is_upcoming(now) {
            writeln!(
                out,
                "  {:<14}{} ({})",
                "deadline",
                zone.format(w.start),
                relative(now, w.start)
            )?;
        }
    }
    for w in &m.previous_windows {
        writeln!(
            out,
            "  {:<14}{}",
            "moved from",
            zone.format_window(w.start, w.end)
        )?;
    }
    Ok(())
}

/// A maintenance and its timeline.
pub fn maintenance_details(
    m: &Maintenance,
    events: &[MaintenanceEvent],
    zone: Zone,
    now: DateTime<Utc>,
    out: &mut dyn Write,
) -> Result<(), Failure> {
    let status = m.status(now);
    writeln!(
        out,
        "Maintenance {} — {}, {}",
        m.id,
        maintenance_title(m),
        status.as_str().replace('_', " ")
    )?;
    writeln!(out, "  {:<14}{}", "subject", m.subject_label())?;
    if let Some(g) = &m.replication_group_id {
        writeln!(out, "  {:<14}{}", "repl. group", g)?;
    }
    windows(m, zone, now, out)?;
    if let Some(previous) = &m.repeat_of {
        writeln!(
            out,
            "  {:<14}this node's previous maintenance {} ended less than 30 days before",
            "REPEAT",
            previous.short()
        )?;
    }
    if m.notices > 1 {
        writeln!(
            out,
            "  {:<14}{} notices for this window (repeats are normal and do not re-alert)",
            "notices", m.notices
        )?;
    }
    for f in &m.failovers {
        writeln!(
            out,
            "  {:<14}{} at {}",
            "failover",
            match (&f.from, &f.to) {
                (Some(from), Some(to)) => format!("{from} -> {to}"),
                (None, Some(to)) => format!("to {to}"),
                _ => "reported".into(),
            },
            zone.format(f.at)
        )?;
    }
    timeline(events, zone, out)
}

/// A maintenance's events, one line each: when, which, what, and the window or failover it says.
fn timeline(events: &[MaintenanceEvent], zone: Zone, out: &mut dyn Write) -> Result<(), Failure> {
    writeln!(out, "  timeline:")?;
    for e in events {
        let detail = match (e.previous_window, e.window) {
            (Some(p), Some(w)) => format!(
                "{} -> {}",
                zone.format_window(p.start, p.end),
                zone.format_window(w.start, w.end)
            ),
            (None, Some(w)) => zone.format_window(w.start, w.end),
            _ => e
                .failover
                .as_ref()
                .and_then(|f| f.to.clone())
                .map(|to| format!("to {to}"))
                .unwrap_or_default(),
        };
        writeln!(
            out,
            "    {}  {}  {:<30} {}",
            local(zone, e.occurred_at),
            e.id.short(),
            e.kind,
            detail
        )?;
    }
    Ok(())
}

/// Upcoming maintenances as a table.
pub fn upcoming_table(
    ms: &[Maintenance],
    zone: Zone,
    now: DateTime<Utc>,
    out: &mut dyn Write,
) -> Result<(), Failure> {
    if ms.is_empty() {
        writeln!(out, "No maintenance ahead.")?;
        return Ok(());
    }
    let rows: Vec<Vec<String>> = ms
        .iter()
        .map(|m| {
            let mut notes = Vec::new();
            if m.repeat_of.is_some() {
                notes.push("repeat notice for this node".to_owned());
            }
            if !m.previous_windows.is_empty() {
                notes.push(format!(
                    "moved {} time{}",
                    m.previous_windows.len(),
                    if m.previous_windows.len() == 1 {
                        ""
                    } else {
                        "s"
                    }
                ));
            }
            if m.drill {
                notes.push("DRILL".to_owned());
            }
            vec![
                m.id.short().to_owned(),
                m.deadline().map_or_else(|| "-".into(), |d| local(zone, d)),
                m.deadline()
                    .map_or_else(|| "-".into(), |d| relative(now, d)),
                cell(&m.subject_label()),
                m.status(now).as_str().replace('_', " "),
                m.window
                    .map_or_else(|| "-".into(), |w| zone.format_window(w.start, w.end)),
                notes.join("; "),
            ]
        })
        .collect();
    let deadline = format!("DEADLINE ({zone})");
    table(
        &["ID", &deadline, "IN", "NODE", "STATE", "WINDOW", "NOTE"],
        &rows,
        out,
    )
}

/// Service updates not applied yet, as a table.
pub fn service_updates_table(
    updates: &[ServiceUpdate],
    zone: Zone,
    now: DateTime<Utc>,
    out: &mut dyn Write,
) -> Result<(), Failure> {
    if updates.is_empty() {
        writeln!(out, "Every service update is applied.")?;
        return Ok(());
    }
    writeln!(out, "Service updates not applied yet:")?;
    let rows: Vec<Vec<String>> = updates
        .iter()
        .map(|u| {
            vec![
                cell(&u.name),
                cell(&u.resource.to_string()),
                u.severity
                    .as_ref()
                    .map_or_else(|| "-".into(), |s| s.as_str().to_owned()),
                u.status.as_str().to_owned(),
                u.apply_by.map_or_else(|| "-".into(), |d| local(zone, d)),
                match u.apply_by {
                    Some(by) if u.is_overdue(now) => format!("OVERDUE ({})", relative(now, by)),
                    Some(by) => relative(now, by),
                    None => "-".into(),
                },
            ]
        })
        .collect();
    let apply_by = format!("APPLY BY ({zone})");
    table(
        &[
            "SERVICE UPDATE",
            "ON",
            "SEVERITY",
            "STATUS",
            &apply_by,
            "DUE",
        ],
        &rows,
        out,
    )
}

/// The coverage audit as a table: gaps first.
pub fn coverage_table(audit: &CoverageAudit, out: &mut dyn Write) -> Result<(), Failure> {
    writeln!(out, "Topic: {}", audit.topic_arn)?;
    if audit.resources.is_empty() {
        writeln!(
            out,
            "No replication group or cluster in this account and Region."
        )?;
        return Ok(());
    }
    let rows: Vec<Vec<String>> = audit
        .resources
        .iter()
        .map(|c| {
            vec![
                cell(&c.resource.to_string()),
                c.engine.map_or_else(|| "-".into(), |e| e.to_string()),
                topic_state(&c.state),
            ]
        })
        .collect();
    table(&["RESOURCE", "ENGINE", "EVENTS GO TO"], &rows, out)?;
    writeln!(
        out,
        "\n{} of {} send their events to cachewatch.",
        audit.covered(),
        audit.resources.len()
    )?;
    Ok(())
}

/// One line of text from what AWS answered (an ARN, a key id): control characters as spaces,
/// invisible or bidirectional ones written out, nothing cut.
fn line(text: &str) -> String {
    cachewatch_core::model::invisible::shown(text)
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

/// The whole alert path: the clusters' coverage, then each link past them.
pub fn path_audit(audit: &PathAudit, out: &mut dyn Write) -> Result<(), Failure> {
    coverage_table(&audit.coverage, out)?;
    if audit.problems.is_empty() {
        writeln!(out, "Past the clusters: no broken link.")?;
    } else {
        writeln!(out, "\nPast the clusters, broken:")?;
        for problem in &audit.problems {
            writeln!(out, "  - {}", line(&problem.describe()))?;
            if let Some(url) = problem.source() {
                writeln!(out, "    (AWS: {url})")?;
            }
        }
    }
    for link in &audit.unchecked {
        writeln!(out, "Not checked: {link}.")?;
    }
    Ok(())
}

/// Where a resource's events go, in words.
pub fn topic_state(state: &TopicState) -> String {
    match state {
        TopicState::Ours => "cachewatch".to_owned(),
        TopicState::Missing => "nowhere: no topic (only DescribeEvents, for 14 days)".to_owned(),
        TopicState::Other { topic_arn } => format!("another topic: {topic_arn}"),
        TopicState::Inactive => "cachewatch's topic, but inactive: nothing is published".to_owned(),
    }
}
