//! The history page's timeline: one row per cluster, each maintenance a bar over its window (a
//! diamond when no window is known), coloured by its state as of now, with the windows it was
//! moved from dashed, its failovers marked, repeats outlined, a time axis in the reader's zone and
//! a tooltip (`<title>`) on everything. Drawn as inline SVG, styled by the page's stylesheet.
//!
//! Sizes are bounded whatever the history holds: at most [`MAX_ROWS`] clusters (those active most
//! recently) and [`MAX_MAINTENANCES`] maintenances (the most recent) are drawn, and the page says
//! what was left out.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use cachewatch_core::lifecycle::{Maintenance, MaintenanceKind, MaintenanceState};
use cachewatch_core::model::event::EventId;
use cachewatch_core::model::timefmt::Zone;
use chrono::{DateTime, Datelike, Duration, Months, NaiveDateTime, TimeZone, Timelike, Utc};

use serde::Serialize;

use super::document::{safe_href, shorten, window_text};

/// The most clusters drawn.
pub const MAX_ROWS: usize = 40;
/// The most maintenances drawn.
pub const MAX_MAINTENANCES: usize = 1_500;

/// The drawing's width in SVG units (it scales to the page's width).
const WIDTH: f64 = 1000.0;
/// The width of the cluster names on the left.
const LABEL_WIDTH: f64 = 190.0;
/// Room on the right of the plot.
const RIGHT: f64 = 18.0;
/// Room above the first row (for the "now" label).
const TOP: f64 = 18.0;
/// The height of a row.
const ROW: f64 = 30.0;
/// The height of a bar.
const BAR: f64 = 16.0;
/// The height of the axis under the rows.
const AXIS: f64 = 26.0;
/// The narrowest bar drawn, so that short windows stay visible.
const MIN_BAR: f64 = 6.0;
/// The room the date label of an upcoming maintenance takes.
const DATE_LABEL: f64 = 84.0;
/// The longest cluster name drawn in full.
const LABEL_CHARS: usize = 26;
/// The most axis ticks.
const MAX_TICKS: i64 = 8;

/// What the timeline shows.
pub struct Timeline<'a> {
    /// The maintenances to draw.
    pub maintenances: &'a [Maintenance],
    /// Runbook links by event id.
    pub links: &'a BTreeMap<EventId, String>,
    /// The zone of the axis and the tooltips.
    pub zone: Zone,
    /// Now: states are as of now, and a line marks it.
    pub now: DateTime<Utc>,
}

/// Where a maintenance sits in time.
#[derive(Debug, Clone, Copy)]
enum Extent {
    /// Over a window (or from its start to its completion).
    Span(DateTime<Utc>, DateTime<Utc>),
    /// At one moment: no window is known.
    Mark(DateTime<Utc>),
}

impl Extent {
    fn of(m: &Maintenance) -> Self {
        match (m.window, m.started_at, m.completed_at) {
            (Some(w), _, _) => Extent::Span(w.start, w.end.max(w.start)),
            (None, Some(start), Some(end)) if end > start => Extent::Span(start, end),
            (None, started, _) => Extent::Mark(started.unwrap_or(m.first_event_at)),
        }
    }

    fn start(self) -> DateTime<Utc> {
        match self {
            Extent::Span(start, _) | Extent::Mark(start) => start,
        }
    }

    fn end(self) -> DateTime<Utc> {
        match self {
            Extent::Span(_, end) | Extent::Mark(end) => end,
        }
    }
}

/// The row a maintenance is drawn in: its cluster, else its replication group, else its group.
pub fn row_label(m: &Maintenance) -> String {
    m.cluster_id
        .as_ref()
        .map(ToString::to_string)
        .or_else(|| m.replication_group_id.as_ref().map(ToString::to_string))
        .unwrap_or_else(|| m.group_key.clone())
}

/// The latest moment a maintenance covers, for choosing what to draw.
fn last_moment(m: &Maintenance) -> DateTime<Utc> {
    Extent::of(m).end().max(m.last_event_at)
}

/// A state's name for people.
pub fn state_words(state: MaintenanceState) -> &'static str {
    match state {
        MaintenanceState::Scheduled => "scheduled",
        MaintenanceState::Rescheduled => "rescheduled",
        MaintenanceState::Canceled => "canceled",
        MaintenanceState::InProgress => "in progress",
        MaintenanceState::Completed => "completed",
        MaintenanceState::WindowPassed => "window passed",
    }
}

/// What a maintenance is, for people.
pub fn kind_words(kind: MaintenanceKind) -> &'static str {
    match kind {
        MaintenanceKind::Planned => "planned replacement",
        MaintenanceKind::Unplanned => "unplanned replacement",
        MaintenanceKind::Failover => "failover",
        MaintenanceKind::Health => "AWS Health notice",
    }
}

/// The drawing as the template lays it out: every position already worked out, as SVG numbers.
#[derive(Debug, Serialize)]
pub struct Chart {
    width: String,
    height: String,
    row_height: String,
    top: String,
    bottom: String,
    tick_y: String,
    axis_start: String,
    axis_end: String,
    /// What the drawing shows, for assistive technology.
    description: String,
    rows: Vec<Row>,
    ticks: Vec<Tick>,
    now: Option<NowMark>,
    dropped: Option<Dropped>,
}

/// One cluster's row.
#[derive(Debug, Serialize)]
struct Row {
    label: String,
    short_label: String,
    band: &'static str,
    y: String,
    label_x: String,
    label_y: String,
    maintenances: Vec<Mark>,
}

/// One maintenance: its lead, moved-from windows, bar (or diamond), date, failovers and link.
#[derive(Debug, Serialize)]
struct Mark {
    id: String,
    state: &'static str,
    link: Option<String>,
    title: String,
    classes: String,
    lead: Option<Lead>,
    moved_from: Vec<Rect>,
    bar: Option<Rect>,
    when: Option<When>,
    diamond: Option<String>,
    failovers: Vec<Failover>,
}

#[derive(Debug, Serialize)]
struct Lead {
    x: String,
    y: String,
    width: String,
    notice_y: String,
}

#[derive(Debug, Serialize)]
struct Rect {
    x: String,
    y: String,
    width: String,
    height: String,
}

/// The date written beside an upcoming maintenance.
#[derive(Debug, Serialize)]
struct When {
    x: String,
    y: String,
    anchor: &'static str,
    text: String,
}

#[derive(Debug, Serialize)]
struct Failover {
    path: String,
    title: String,
}

#[derive(Debug, Serialize)]
struct Tick {
    x: String,
    label: String,
}

#[derive(Debug, Serialize)]
struct NowMark {
    x: String,
    top: String,
    label_y: String,
    at: String,
}

/// What was left out of the drawing.
#[derive(Debug, Serialize)]
struct Dropped {
    rows: usize,
    rows_plural: &'static str,
    maintenances: usize,
    maintenances_plural: &'static str,
}

/// An SVG number with one decimal.
fn num(x: f64) -> String {
    format!("{x:.1}")
}

/// The rows to draw, by label, and how many clusters and maintenances were left out: the most
/// recent maintenances, then the most recently active clusters.
fn choose<'a>(t: &Timeline<'a>) -> (BTreeMap<String, Vec<&'a Maintenance>>, usize, usize) {
    let mut chosen: Vec<&Maintenance> = t.maintenances.iter().collect();
    chosen.sort_by_key(|m| std::cmp::Reverse(last_moment(m)));
    let dropped_maintenances = chosen.len().saturating_sub(MAX_MAINTENANCES);
    chosen.truncate(MAX_MAINTENANCES);
    let mut rows: BTreeMap<String, Vec<&Maintenance>> = BTreeMap::new();
    for m in chosen {
        rows.entry(row_label(m)).or_default().push(m);
    }
    let dropped_rows = rows.len().saturating_sub(MAX_ROWS);
    if dropped_rows > 0 {
        let mut by_activity: Vec<(DateTime<Utc>, String)> = rows
            .iter()
            .map(|(label, ms)| {
                let latest = ms.iter().map(|m| last_moment(m)).max();
                (latest.unwrap_or(DateTime::<Utc>::MIN_UTC), label.clone())
            })
            .collect();
        by_activity.sort_by(|a, b| b.cmp(a));
        for (_, label) in by_activity.into_iter().skip(MAX_ROWS) {
            rows.remove(&label);
        }
    }
    (rows, dropped_rows, dropped_maintenances)
}

/// The timeline's drawing, or nothing when there is nothing to draw.
pub fn chart(t: &Timeline<'_>) -> Option<Chart> {
    let (rows, dropped_rows, dropped_maintenances) = choose(t);
    if rows.is_empty() {
        return None;
    }
    let (t0, t1) = range(&rows, t.now);
    let plot = Plot { t0, t1 };
    let bottom = TOP + ROW * rows.len() as f64;
    let count: usize = rows.values().map(Vec::len).sum();
    let description = format!(
        "{count} maintenance{} of {} cluster{}, {} to {}",
        plural(count),
        rows.len(),
        plural(rows.len()),
        t.zone.format(t0),
        t.zone.format(t1),
    );
    let now = (t.now >= t0 && t.now <= t1).then(|| NowMark {
        x: num(plot.x(t.now)),
        top: num(TOP - 4.0),
        label_y: num(TOP - 6.0),
        at: t.zone.format(t.now),
    });
    let dropped = (dropped_rows > 0 || dropped_maintenances > 0).then(|| Dropped {
        rows: dropped_rows,
        rows_plural: plural(dropped_rows),
        maintenances: dropped_maintenances,
        maintenances_plural: plural(dropped_maintenances),
    });
    Some(Chart {
        width: WIDTH.to_string(),
        height: (bottom + AXIS).to_string(),
        row_height: ROW.to_string(),
        top: TOP.to_string(),
        bottom: bottom.to_string(),
        tick_y: num(bottom + 16.0),
        axis_start: LABEL_WIDTH.to_string(),
        axis_end: num(WIDTH - RIGHT),
        description,
        rows: rows
            .iter()
            .enumerate()
            .map(|(i, (label, ms))| row(i, label, ms, &plot, t))
            .collect(),
        ticks: ticks(t0, t1, t.zone)
            .into_iter()
            .map(|(at, label)| Tick {
                x: num(plot.x(at)),
                label,
            })
            .collect(),
        now,
        dropped,
    })
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

/// The time range drawn: every maintenance from its first notice (its moved-from windows and
/// failovers too), and now when it is near, with a little room either side.
fn range(
    rows: &BTreeMap<String, Vec<&Maintenance>>,
    now: DateTime<Utc>,
) -> (DateTime<Utc>, DateTime<Utc>) {
    let mut first = DateTime::<Utc>::MAX_UTC;
    let mut last = DateTime::<Utc>::MIN_UTC;
    let mut upcoming = false;
    for m in rows.values().flatten() {
        let extent = Extent::of(m);
        first = first.min(extent.start()).min(m.first_event_at);
        last = last.max(extent.end());
        for w in &m.previous_windows {
            first = first.min(w.start);
            last = last.max(w.end);
        }
        for f in &m.failovers {
            first = first.min(f.at);
            last = last.max(f.at);
        }
        upcoming |= m.is_upcoming(now);
    }
    // Now is drawn when something is ahead, or when it is close to the history's end.
    if upcoming || (now >= last && now - last <= (last - first) / 3) {
        first = first.min(now);
        last = last.max(now);
    }
    let span = (last - first).max(Duration::hours(2));
    let pad = span / 25;
    // Upcoming maintenances carry their date on their right.
    let right = if upcoming { span / 6 } else { pad };
    let middle = first + (last - first) / 2;
    if last - first < Duration::hours(2) {
        return (middle - span / 2 - pad, middle + span / 2 + right);
    }
    (first - pad, last + right)
}

/// The mapping from time to x.
struct Plot {
    t0: DateTime<Utc>,
    t1: DateTime<Utc>,
}

impl Plot {
    fn x(&self, at: DateTime<Utc>) -> f64 {
        let total = (self.t1 - self.t0).num_seconds().max(1) as f64;
        let offset = (at - self.t0).num_seconds() as f64;
        LABEL_WIDTH + (offset / total).clamp(0.0, 1.0) * (WIDTH - LABEL_WIDTH - RIGHT)
    }
}

/// One cluster's row.
fn row(
    index: usize,
    label: &str,
    maintenances: &[&Maintenance],
    plot: &Plot,
    t: &Timeline<'_>,
) -> Row {
    let y = TOP + ROW * index as f64;
    // Oldest first, so that a later bar lies over an earlier one.
    let mut ordered = maintenances.to_vec();
    ordered.sort_by_key(|m| (Extent::of(m).start(), m.id.clone()));
    Row {
        label: label.to_owned(),
        short_label: shorten(label, LABEL_CHARS),
        band: if index % 2 == 1 { "band odd" } else { "band" },
        y: y.to_string(),
        label_x: num(LABEL_WIDTH - 10.0),
        label_y: num(y + ROW / 2.0 + 4.0),
        maintenances: ordered.into_iter().map(|m| mark(m, y, plot, t)).collect(),
    }
}

/// The tooltip of a maintenance.
fn tooltip(m: &Maintenance, t: &Timeline<'_>) -> String {
    let state = m.status(t.now);
    let mut lines = vec![
        m.subject_label(),
        format!("{}, {}", kind_words(m.kind), state_words(state)),
    ];
    match (m.window, Extent::of(m)) {
        (Some(w), _) => lines.push(format!("window {}", window_text(t.zone, w.start, w.end))),
        (None, Extent::Span(start, end)) => {
            lines.push(format!("from {}", window_text(t.zone, start, end)));
        }
        (None, Extent::Mark(at)) => lines.push(format!("no window; at {}", t.zone.format(at))),
    }
    for w in &m.previous_windows {
        lines.push(format!(
            "moved from {}",
            window_text(t.zone, w.start, w.end)
        ));
    }
    for f in &m.failovers {
        lines.push(failover_words(f, t.zone));
    }
    if let Some(previous) = &m.repeat_of {
        lines.push(format!(
            "repeat: the node's previous maintenance is {}",
            previous.short()
        ));
    }
    if m.drill {
        lines.push("drill".to_owned());
    }
    lines.join("\n")
}

/// `Nov 24 19:00` in the zone.
fn start_label(at: DateTime<Utc>, zone: Zone) -> String {
    to_local(zone, at).format("%b %d %H:%M").to_string()
}

fn failover_words(f: &cachewatch_core::lifecycle::FailoverRecord, zone: Zone) -> String {
    let mut text = format!("failover at {}", zone.format(f.at));
    match (&f.from, &f.to) {
        (Some(from), Some(to)) => {
            let _ = write!(text, ": {from} to {to}");
        }
        (None, Some(to)) => {
            let _ = write!(text, ": {to} promoted");
        }
        (Some(from), None) => {
            let _ = write!(text, ": from {from}");
        }
        (None, None) => {}
    }
    text
}

/// One maintenance: its moved-from windows, its bar or mark, its failovers; a link to its
/// runbook around them when there is one.
fn mark(m: &Maintenance, y: f64, plot: &Plot, t: &Timeline<'_>) -> Mark {
    let state = m.status(t.now).as_str();
    let link = std::iter::once(&m.id)
        .chain(m.event_ids.iter())
        .find_map(|id| t.links.get(id))
        .and_then(|url| safe_href(url))
        .map(ToOwned::to_owned);
    let top = y + (ROW - BAR) / 2.0;
    let middle = y + ROW / 2.0;
    let extent = Extent::of(m);
    // From the notice to the window: how much warning there was.
    let lead = (m.first_event_at < extent.start()).then(|| {
        let (x0, x1) = (plot.x(m.first_event_at), plot.x(extent.start()));
        Lead {
            x: num(x0),
            y: num(middle - 1.0),
            width: num((x1 - x0).max(0.0)),
            notice_y: num(middle - 4.0),
        }
    });
    let moved_from = m
        .previous_windows
        .iter()
        .map(|w| {
            let (x0, x1) = (plot.x(w.start), plot.x(w.end));
            Rect {
                x: num(x0),
                y: num(top + 1.0),
                width: num((x1 - x0).max(MIN_BAR)),
                height: num(BAR - 2.0),
            }
        })
        .collect();
    let mut classes = format!("bar s-{state}");
    if m.repeat_of.is_some() {
        classes.push_str(" repeat");
    }
    if m.drill {
        classes.push_str(" drill-bar");
    }
    let (bar, when, diamond) = shape(m, extent, y, plot, t);
    Mark {
        id: m.id.as_str().to_owned(),
        state,
        link,
        title: tooltip(m, t),
        classes,
        lead,
        moved_from,
        bar,
        when,
        diamond,
        failovers: m
            .failovers
            .iter()
            .map(|f| Failover {
                path: format!("M{:.1},{:.1}h10l-5,8z", plot.x(f.at) - 5.0, y + 1.0),
                title: failover_words(f, t.zone),
            })
            .collect(),
    }
}

/// A maintenance's bar over its span (with its date when it is ahead), or its diamond.
fn shape(
    m: &Maintenance,
    extent: Extent,
    y: f64,
    plot: &Plot,
    t: &Timeline<'_>,
) -> (Option<Rect>, Option<When>, Option<String>) {
    let top = y + (ROW - BAR) / 2.0;
    let middle = y + ROW / 2.0;
    match extent {
        Extent::Span(start, end) => {
            let (x0, x1) = (plot.x(start), plot.x(end));
            let width = (x1 - x0).max(MIN_BAR);
            let bar = Rect {
                x: num(x0.min(WIDTH - RIGHT - width)),
                y: num(top),
                width: num(width),
                height: BAR.to_string(),
            };
            // What is ahead says when, without hovering.
            let when = m.is_upcoming(t.now).then(|| {
                let (x, anchor) = if x0 + width + 6.0 + DATE_LABEL <= WIDTH {
                    (x0 + width + 6.0, "start")
                } else {
                    (x0 - 6.0, "end")
                };
                When {
                    x: num(x),
                    y: num(middle + 4.0),
                    anchor,
                    text: start_label(start, t.zone),
                }
            });
            (Some(bar), when, None)
        }
        Extent::Mark(at) => {
            let x = plot.x(at);
            let half = BAR / 2.0 + 1.0;
            let d = format!(
                "M{x:.1},{:.1}l{half},{half}l-{half},{half}l-{half},-{half}z",
                middle - half
            );
            (None, None, Some(d))
        }
    }
}

/// A step between axis ticks.
#[derive(Debug, Clone, Copy)]
enum Step {
    Hours(u32),
    Days(u32),
    Months(u32),
}

impl Step {
    const ALL: [Step; 14] = [
        Step::Hours(1),
        Step::Hours(2),
        Step::Hours(3),
        Step::Hours(6),
        Step::Hours(12),
        Step::Days(1),
        Step::Days(2),
        Step::Days(7),
        Step::Days(14),
        Step::Months(1),
        Step::Months(2),
        Step::Months(3),
        Step::Months(6),
        Step::Months(12),
    ];

    fn approximate(self) -> Duration {
        match self {
            Step::Hours(n) => Duration::hours(i64::from(n)),
            Step::Days(n) => Duration::days(i64::from(n)),
            Step::Months(n) => Duration::days(30 * i64::from(n)),
        }
    }

    /// The tick at or before `local`.
    fn floor(self, local: NaiveDateTime) -> NaiveDateTime {
        let date = local.date();
        let midnight = date.and_hms_opt(0, 0, 0).unwrap_or(local);
        match self {
            Step::Hours(n) => midnight + Duration::hours(i64::from(local.hour() / n * n)),
            Step::Days(7 | 14) => {
                midnight - Duration::days(i64::from(date.weekday().num_days_from_monday()))
            }
            Step::Days(_) => midnight,
            Step::Months(n) => {
                let month0 = date.month0() / n * n;
                date.with_day(1)
                    .and_then(|d| d.with_month0(month0))
                    .and_then(|d| d.and_hms_opt(0, 0, 0))
                    .unwrap_or(midnight)
            }
        }
    }

    fn next(self, local: NaiveDateTime) -> Option<NaiveDateTime> {
        match self {
            Step::Hours(n) => local.checked_add_signed(Duration::hours(i64::from(n))),
            Step::Days(n) => local.checked_add_signed(Duration::days(i64::from(n))),
            Step::Months(n) => local.checked_add_months(Months::new(n)),
        }
    }
}

fn to_local(zone: Zone, at: DateTime<Utc>) -> NaiveDateTime {
    match zone {
        Zone::Utc => at.naive_utc(),
        Zone::Named(tz) => at.with_timezone(&tz).naive_local(),
    }
}

fn from_local(zone: Zone, local: NaiveDateTime) -> Option<DateTime<Utc>> {
    match zone {
        Zone::Utc => Some(local.and_utc()),
        Zone::Named(tz) => tz
            .from_local_datetime(&local)
            .earliest()
            .map(|t| t.with_timezone(&Utc)),
    }
}

/// The axis ticks between `t0` and `t1`, on round local times, with their labels.
fn ticks(t0: DateTime<Utc>, t1: DateTime<Utc>, zone: Zone) -> Vec<(DateTime<Utc>, String)> {
    let span = t1 - t0;
    let step = Step::ALL
        .into_iter()
        .find(|s| span.num_seconds() / s.approximate().num_seconds().max(1) < MAX_TICKS)
        .unwrap_or(Step::Months(12));
    let mut out = Vec::new();
    let mut local = step.floor(to_local(zone, t0));
    let mut previous_date = None;
    for _ in 0..64 {
        if let Some(at) = from_local(zone, local) {
            if at > t1 {
                break;
            }
            if at >= t0 {
                let label = match step {
                    Step::Hours(_) if previous_date == Some(local.date()) => {
                        local.format("%H:%M").to_string()
                    }
                    Step::Hours(_) => local.format("%b %d %H:%M").to_string(),
                    Step::Days(_) => local.format("%b %d").to_string(),
                    Step::Months(_) => local.format("%b %Y").to_string(),
                };
                previous_date = Some(local.date());
                out.push((at, label));
            }
        }
        match step.next(local) {
            Some(next) => local = next,
            None => break,
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn ticks_fall_on_round_local_times() {
        let ticks = ticks(
            at("2026-06-01T03:00:00Z"),
            at("2026-06-08T03:00:00Z"),
            Zone::Utc,
        );
        let labels: Vec<&str> = ticks.iter().map(|(_, l)| l.as_str()).collect();
        assert_eq!(
            labels,
            [
                "Jun 02", "Jun 03", "Jun 04", "Jun 05", "Jun 06", "Jun 07", "Jun 08"
            ]
        );
        let tokyo: Zone = "Asia/Tokyo".parse().unwrap();
        let ticks = super::ticks(
            at("2026-06-01T00:30:00Z"),
            at("2026-06-01T05:00:00Z"),
            tokyo,
        );
        assert_eq!(ticks[0].0, at("2026-06-01T01:00:00Z"));
        assert_eq!(ticks[0].1, "Jun 01 10:00");
        assert_eq!(ticks[1].1, "11:00");
    }

    #[test]
    fn months_are_ticked_on_their_first_day() {
        let ticks = ticks(
            at("2026-01-15T00:00:00Z"),
            at("2026-09-15T00:00:00Z"),
            Zone::Utc,
        );
        assert!(ticks.len() <= MAX_TICKS as usize, "{ticks:?}");
        assert!(ticks.iter().all(|(t, _)| t.day() == 1), "{ticks:?}");
    }
}
