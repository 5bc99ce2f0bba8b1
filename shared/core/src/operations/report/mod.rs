//! The yearly maintenance log: one row per maintenance of a year (when, engine, cluster, kind, how
//! it was handled, whether the site went into maintenance, how long users were affected, a note),
//! totals per engine, and a chart of maintenances per month; as Markdown, CSV or SVG.
//!
//! Rows come from the maintenances the lifecycle assembled and the outcomes people recorded
//! against any of their events. A maintenance belongs to the year, in the team's zone, of the
//! moment it happened ([`maintenance_date`]): when the work started, else the window it was
//! announced for, else its first event. A canceled maintenance appears only when someone recorded
//! an outcome for it; drills only when asked for.
//!
//! The store keeps no engine: the caller passes what it knows ([`EngineDirectory`], from
//! ElastiCache when it can ask), and the rest reads `unknown`.
//!
//! Every value from events or people is escaped for the output it lands in: Markdown
//! ([`crate::runbook::escape::markdown_text`]), CSV (quoted, and guarded against spreadsheet
//! formulas) and SVG (XML entities).

use std::collections::BTreeMap;
use std::fmt::Write as _;

use chrono::{DateTime, Datelike, Duration, NaiveDate, TimeZone, Utc};

use crate::cluster::facts::Engine;
use crate::fleet::Fleet;
use crate::history::export::spreadsheet_cell;
use crate::history::response::Outcome;
use crate::lifecycle::{Maintenance, MaintenanceKind, MaintenanceState};
use crate::model::event::EventId;
use crate::model::timefmt::{Zone, human_duration};
use crate::runbook::escape;
use serde::Serialize;

/// Events this long before a year can still belong to one of its maintenances (a notice sent in
/// December for a window in January): the history is searched from this far back.
pub const NOTICE_LEAD: Duration = Duration::days(90);

/// Month names, for tables and the chart.
const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// How the log is printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ReportFormat {
    /// Markdown tables, to paste into a wiki or an issue.
    #[default]
    Markdown,
    /// CSV with a header row, one line per maintenance.
    Csv,
    /// A self-contained SVG bar chart of maintenances per month.
    Svg,
}

impl ReportFormat {
    /// Reads a format name (`markdown`, `md`, `csv`, `svg`), in any case.
    pub fn parse(raw: &str) -> Option<Self> {
        match raw.trim().to_ascii_lowercase().as_str() {
            "markdown" | "md" => Some(Self::Markdown),
            "csv" => Some(Self::Csv),
            "svg" => Some(Self::Svg),
            _ => None,
        }
    }
}

/// Which engine each cluster or replication group runs, as far as is known.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EngineDirectory(BTreeMap<String, Engine>);

impl EngineDirectory {
    /// An empty directory: every engine is unknown.
    pub fn new() -> Self {
        Self::default()
    }

    /// What an account's clusters and replication groups say of their engines.
    pub fn from_fleet(fleet: &Fleet) -> Self {
        let mut directory = Self::new();
        for cluster in &fleet.clusters {
            if let Some(engine) = cluster.engine {
                directory.insert(cluster.cluster_id.as_str(), engine);
                if let Some(group) = &cluster.replication_group_id {
                    directory.0.entry(group.to_string()).or_insert(engine);
                }
            }
        }
        for group in &fleet.replication_groups {
            if let Some(engine) = group.engine {
                directory.insert(group.replication_group_id.as_str(), engine);
                for member in &group.member_clusters {
                    directory.0.entry(member.to_string()).or_insert(engine);
                }
            }
        }
        directory
    }

    /// Records that `id` (a cluster or a replication group) runs `engine`.
    pub fn insert(&mut self, id: &str, engine: Engine) {
        self.0.insert(id.to_owned(), engine);
    }

    /// How many clusters and groups it knows.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether it knows none.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The engine of a maintenance: its cluster's, else its replication group's, else that of the
    /// group its events were assembled in.
    pub fn engine_of(&self, m: &Maintenance) -> Option<Engine> {
        let group_key = plain_group_key(&m.group_key);
        m.cluster_id
            .as_ref()
            .and_then(|c| self.0.get(c.as_str()))
            .or_else(|| {
                m.replication_group_id
                    .as_ref()
                    .and_then(|g| self.0.get(g.as_str()))
            })
            .or_else(|| self.0.get(group_key))
            .copied()
    }
}

/// One maintenance in the log.
#[derive(Debug, Clone, PartialEq)]
pub struct ReportRow {
    /// The maintenance.
    pub maintenance_id: EventId,
    /// When it happened (see [`maintenance_date`]), in UTC.
    pub at: DateTime<Utc>,
    /// Its date in the report's zone.
    pub date: NaiveDate,
    /// The engine, when known.
    pub engine: Option<Engine>,
    /// The cluster (or replication group) it was about.
    pub cluster: String,
    /// The node, when known.
    pub node: Option<String>,
    /// What it was: `planned replacement`, `unplanned replacement`, `failover`, with a failover
    /// during a replacement and a state that is not final noted.
    pub kind: String,
    /// How it was handled (from the outcome).
    pub handled: Option<String>,
    /// Whether the site was put into maintenance (`None`: no outcome recorded).
    pub site_maintenance: Option<bool>,
    /// How long users were affected, when measured.
    pub downtime: Option<Duration>,
    /// The outcome's note.
    pub note: Option<String>,
    /// A drill's maintenance.
    pub drill: bool,
}

/// The totals of one engine (or of the engines not known).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EngineTotal {
    /// The engine; `None` for the maintenances whose engine is not known.
    pub engine: Option<Engine>,
    /// How many maintenances.
    pub maintenances: usize,
    /// How many needed a site maintenance.
    pub site_maintenances: usize,
    /// How many have a measured downtime.
    pub measured: usize,
    /// The measured downtimes added up.
    pub downtime: Duration,
}

/// The log of one year.
#[derive(Debug, Clone, PartialEq)]
pub struct YearReport {
    /// The year.
    pub year: i32,
    /// The zone months and dates are reckoned in.
    pub zone: Zone,
    /// Whether drills were included.
    pub drills: bool,
    /// The rows, in the order the maintenances happened.
    pub rows: Vec<ReportRow>,
}

impl YearReport {
    /// How many maintenances each month had, January first.
    pub fn per_month(&self) -> [usize; 12] {
        let mut months = [0; 12];
        for row in &self.rows {
            months[row.date.month0() as usize] += 1;
        }
        months
    }

    /// How many maintenances of each engine each month had (unknown engines under `None`).
    pub fn per_month_by_engine(&self) -> BTreeMap<Option<Engine>, [usize; 12]> {
        let mut by_engine: BTreeMap<Option<Engine>, [usize; 12]> = BTreeMap::new();
        for row in &self.rows {
            by_engine.entry(row.engine).or_insert([0; 12])[row.date.month0() as usize] += 1;
        }
        by_engine
    }

    /// The totals per engine, known engines first, unknown last.
    pub fn totals(&self) -> Vec<EngineTotal> {
        let mut totals: BTreeMap<(bool, Option<Engine>), EngineTotal> = BTreeMap::new();
        for row in &self.rows {
            let total = totals
                .entry((row.engine.is_none(), row.engine))
                .or_insert(EngineTotal {
                    engine: row.engine,
                    maintenances: 0,
                    site_maintenances: 0,
                    measured: 0,
                    downtime: Duration::zero(),
                });
            total.add(row);
        }
        totals.into_values().collect()
    }

    /// The totals of every row.
    pub fn grand_total(&self) -> EngineTotal {
        let mut total = EngineTotal {
            engine: None,
            maintenances: 0,
            site_maintenances: 0,
            measured: 0,
            downtime: Duration::zero(),
        };
        for row in &self.rows {
            total.add(row);
        }
        total
    }

    /// The log in `format`.
    pub fn render(&self, format: ReportFormat) -> String {
        match format {
            ReportFormat::Markdown => render_markdown(self),
            ReportFormat::Csv => render_csv(self),
            ReportFormat::Svg => render_svg(self),
        }
    }
}

impl EngineTotal {
    fn add(&mut self, row: &ReportRow) {
        self.maintenances += 1;
        if row.site_maintenance == Some(true) {
            self.site_maintenances += 1;
        }
        if let Some(d) = row.downtime {
            self.measured += 1;
            self.downtime += d;
        }
    }
}

/// Midnight on January 1st of `year` in `zone`, in UTC (`None` for a year chrono cannot hold).
pub fn year_start(year: i32, zone: Zone) -> Option<DateTime<Utc>> {
    match zone {
        Zone::Utc => Utc.with_ymd_and_hms(year, 1, 1, 0, 0, 0).single(),
        Zone::Named(tz) => tz
            .with_ymd_and_hms(year, 1, 1, 0, 0, 0)
            .earliest()
            .map(|t| t.with_timezone(&Utc)),
    }
}

/// The year `at` falls in, in `zone`.
pub fn year_of(at: DateTime<Utc>, zone: Zone) -> i32 {
    zone.local(at).year()
}

/// When a maintenance happened, for placing it in a month: a failover when it happened; a
/// replacement when its work started, else the start of the window it was announced for, else
/// when it was reported complete, else its first event.
pub fn maintenance_date(m: &Maintenance) -> DateTime<Utc> {
    match m.kind {
        MaintenanceKind::Failover => m.first_event_at,
        MaintenanceKind::Planned | MaintenanceKind::Unplanned | MaintenanceKind::Health => m
            .started_at
            .or(m.window.map(|w| w.start))
            .or(m.completed_at)
            .unwrap_or(m.first_event_at),
    }
}

/// The outcome that stands for a maintenance: the latest recorded against any of its events.
pub fn outcome_of<'a>(m: &Maintenance, outcomes: &'a [Outcome]) -> Option<&'a Outcome> {
    outcomes
        .iter()
        .filter(|o| o.event_id == m.id || m.event_ids.contains(&o.event_id))
        .max_by_key(|o| (o.at, o.event_id.clone()))
}

/// What the maintenance was, in words.
fn kind_label(m: &Maintenance, now: DateTime<Utc>) -> String {
    let mut label = match m.kind {
        MaintenanceKind::Planned => "planned replacement",
        MaintenanceKind::Unplanned => "unplanned replacement",
        MaintenanceKind::Failover => "failover",
        MaintenanceKind::Health => "AWS Health notice",
    }
    .to_owned();
    if m.kind != MaintenanceKind::Failover && !m.failovers.is_empty() {
        label.push_str(" with failover");
    }
    match m.status(now) {
        MaintenanceState::Scheduled | MaintenanceState::Rescheduled => {
            label.push_str(" (scheduled)")
        }
        MaintenanceState::InProgress => label.push_str(" (in progress)"),
        MaintenanceState::Canceled => label.push_str(" (canceled)"),
        MaintenanceState::Completed | MaintenanceState::WindowPassed => {}
    }
    if m.drill {
        label.insert_str(0, "drill: ");
    }
    label
}

/// The cluster a person would name: the cluster, else the replication group, else the group the
/// events were assembled in.
fn cluster_label(m: &Maintenance) -> String {
    m.cluster_id
        .as_ref()
        .map(ToString::to_string)
        .or_else(|| m.replication_group_id.as_ref().map(ToString::to_string))
        .unwrap_or_else(|| plain_group_key(&m.group_key).to_owned())
}

/// A lifecycle group key without its drill prefix (`drill:RUN:orders` is `orders`).
fn plain_group_key(key: &str) -> &str {
    match key.strip_prefix("drill:") {
        Some(rest) => rest.rsplit(':').next().unwrap_or(rest),
        None => key,
    }
}

/// The log of `year` in `zone`: a row per maintenance of `maintenances` that happened in it (see
/// the module's documentation for which), with the outcome recorded against any of its events
/// among `outcomes` and its engine from `engines`. `now` tells a maintenance still ahead from
/// one that is over.
pub fn build_report(
    year: i32,
    zone: Zone,
    maintenances: &[Maintenance],
    outcomes: &[Outcome],
    engines: &EngineDirectory,
    include_drills: bool,
    now: DateTime<Utc>,
) -> YearReport {
    let mut rows: Vec<ReportRow> = maintenances
        .iter()
        .filter(|m| include_drills || !m.drill)
        .filter_map(|m| {
            let at = maintenance_date(m);
            let local = zone.local(at);
            if local.year() != year {
                return None;
            }
            let outcome = outcome_of(m, outcomes);
            if m.state == MaintenanceState::Canceled && outcome.is_none() {
                return None;
            }
            Some(ReportRow {
                maintenance_id: m.id.clone(),
                at,
                date: local.date(),
                engine: engines.engine_of(m),
                cluster: cluster_label(m),
                node: m.node_id.as_ref().map(ToString::to_string),
                kind: kind_label(m, now),
                handled: outcome.map(|o| o.handled.clone()),
                site_maintenance: outcome.map(|o| o.site_maintenance),
                downtime: outcome.and_then(|o| o.downtime),
                note: outcome.and_then(|o| o.note.clone()),
                drill: m.drill,
            })
        })
        .collect();
    rows.sort_by(|a, b| (a.at, &a.maintenance_id).cmp(&(b.at, &b.maintenance_id)));
    rows.dedup_by(|a, b| a.maintenance_id == b.maintenance_id);
    YearReport {
        year,
        zone,
        drills: include_drills,
        rows,
    }
}

fn engine_name(engine: Option<Engine>) -> &'static str {
    engine.map_or("unknown", Engine::as_str)
}

fn yes_no(value: Option<bool>) -> &'static str {
    match value {
        Some(true) => "yes",
        Some(false) => "no",
        None => "",
    }
}

fn downtime_text(d: Option<Duration>) -> String {
    d.map(human_duration).unwrap_or_default()
}

/// The log as Markdown: a table of maintenances, the totals per engine, the counts per month.
pub fn render_markdown(report: &YearReport) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "# Maintenance log {}\n", report.year);
    let drills = if report.drills {
        ", drills included"
    } else {
        ""
    };
    let _ = writeln!(
        out,
        "{} maintenance{} in {} (dates in {}{drills}).\n",
        report.rows.len(),
        if report.rows.len() == 1 { "" } else { "s" },
        report.year,
        report.zone,
    );
    if report.rows.is_empty() {
        out.push_str("Nothing was recorded for this year.\n");
        return out;
    }
    markdown_rows(&mut out, report);
    markdown_totals(&mut out, report);
    out.push_str("\n## Maintenances per month\n\n");
    let _ = writeln!(out, "| {} |", MONTHS.join(" | "));
    let _ = writeln!(out, "|{}", "---:|".repeat(12));
    let counts: Vec<String> = report.per_month().iter().map(|n| n.to_string()).collect();
    let _ = writeln!(out, "| {} |", counts.join(" | "));
    out
}

/// The table of maintenances, one row each.
fn markdown_rows(out: &mut String, report: &YearReport) {
    let cell = |raw: &str| {
        if raw.is_empty() {
            "—".to_owned()
        } else {
            escape::markdown_text(raw)
        }
    };
    out.push_str(
        "| Date | Engine | Cluster | Kind | Handled | Site maintenance | Downtime | Note |\n",
    );
    out.push_str("|---|---|---|---|---|---|---|---|\n");
    for row in &report.rows {
        let cluster = match &row.node {
            Some(node) => format!("{} node {node}", row.cluster),
            None => row.cluster.clone(),
        };
        let _ = writeln!(
            out,
            "| {} {} | {} | {} | {} | {} | {} | {} | {} |",
            MONTHS[row.date.month0() as usize],
            row.date.day(),
            engine_name(row.engine),
            cell(&cluster),
            cell(&row.kind),
            cell(row.handled.as_deref().unwrap_or_default()),
            cell(yes_no(row.site_maintenance)),
            cell(&downtime_text(row.downtime)),
            cell(row.note.as_deref().unwrap_or_default()),
        );
    }
}

/// The totals by engine, and for all.
fn markdown_totals(out: &mut String, report: &YearReport) {
    out.push_str("\n## Totals by engine\n\n");
    out.push_str("| Engine | Maintenances | Site maintenances | Measured downtime |\n");
    out.push_str("|---|---:|---:|---|\n");
    let measured = |t: &EngineTotal| {
        if t.measured == 0 {
            "—".to_owned()
        } else {
            format!("{} ({} measured)", human_duration(t.downtime), t.measured)
        }
    };
    for total in report.totals() {
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} |",
            engine_name(total.engine),
            total.maintenances,
            total.site_maintenances,
            measured(&total)
        );
    }
    let all = report.grand_total();
    let _ = writeln!(
        out,
        "| **All** | **{}** | **{}** | {} |",
        all.maintenances,
        all.site_maintenances,
        measured(&all)
    );
}

/// The log as CSV: a header row, then one line per maintenance (downtime in seconds). Every field
/// is made safe for a spreadsheet ([`spreadsheet_cell`]) before the `csv` writer quotes it.
pub fn render_csv(report: &YearReport) -> String {
    let mut writer = csv::Writer::from_writer(Vec::new());
    let header = [
        "month",
        "date",
        "engine",
        "cluster",
        "node",
        "kind",
        "handled",
        "site_maintenance",
        "downtime_seconds",
        "note",
        "drill",
        "maintenance_id",
    ];
    let rows = report.rows.iter().map(|row| {
        [
            row.date.format("%Y-%m").to_string(),
            row.date.format("%Y-%m-%d").to_string(),
            engine_name(row.engine).to_owned(),
            row.cluster.clone(),
            row.node.clone().unwrap_or_default(),
            row.kind.clone(),
            row.handled.clone().unwrap_or_default(),
            yes_no(row.site_maintenance).to_owned(),
            row.downtime
                .map(|d| d.num_seconds().to_string())
                .unwrap_or_default(),
            row.note.clone().unwrap_or_default(),
            row.drill.to_string(),
            row.maintenance_id.to_string(),
        ]
    });
    // Writing to memory cannot fail, and every record has the header's length.
    let written = writer.write_record(header).and_then(|()| {
        rows.into_iter().try_for_each(|fields| {
            writer.write_record(fields.iter().map(|f| spreadsheet_cell(f).into_owned()))
        })
    });
    debug_assert!(written.is_ok(), "{written:?}");
    let bytes = writer.into_inner().unwrap_or_default();
    String::from_utf8(bytes).unwrap_or_default()
}

/// The colour of an engine's bars.
fn engine_colour(engine: Option<Engine>) -> &'static str {
    match engine {
        Some(Engine::Redis) => "#c0392b",
        Some(Engine::Valkey) => "#2e86c1",
        Some(Engine::Memcached) => "#27ae60",
        None => "#95a5a6",
    }
}

/// The log as a self-contained SVG: a bar per month, stacked by engine, with the count above it,
/// a legend of the engines, and a title per bar segment for readers that hover. The geometry is
/// worked out here; `templates/chart.svg` draws it, escaping every text.
pub fn render_svg(report: &YearReport) -> String {
    static ENV: std::sync::OnceLock<minijinja::Environment<'static>> = std::sync::OnceLock::new();
    let env = ENV.get_or_init(|| {
        escape::html_templates(&[("chart.svg", include_str!("templates/chart.svg"))])
            .expect("the chart's template is valid")
    });
    env.get_template("chart.svg")
        .and_then(|t| {
            t.render(minijinja::Value::from(minijinja::value::Serde(Chart::of(
                report,
            ))))
        })
        .unwrap_or_else(|e| panic!("the chart's template renders: {e:#}"))
}

/// The chart's geometry, in pixels.
#[derive(Serialize)]
struct Chart {
    width: i64,
    height: i64,
    left: i64,
    right: i64,
    axis: i64,
    title: String,
    total: usize,
    grid: Vec<Gridline>,
    bar_width: i64,
    bars: Vec<Bar>,
    empty_x: i64,
    empty_y: i64,
    legend: Vec<LegendItem>,
}

#[derive(Serialize)]
struct Gridline {
    y: i64,
    n: i64,
}

#[derive(Serialize)]
struct Bar {
    month: &'static str,
    x: i64,
    center: i64,
    segments: Vec<Segment>,
    /// The month's count, shown above the bar when not zero.
    count: usize,
    count_y: i64,
}

#[derive(Serialize)]
struct Segment {
    y: i64,
    height: i64,
    colour: &'static str,
    hover: String,
}

#[derive(Serialize)]
struct LegendItem {
    x: i64,
    colour: &'static str,
    label: &'static str,
}

impl Chart {
    const WIDTH: i64 = 760;
    const HEIGHT: i64 = 340;
    const LEFT: i64 = 48;
    const RIGHT: i64 = 16;
    const TOP: i64 = 56;
    const BOTTOM: i64 = 48;
    /// The most cluster names a bar segment's hover text lists.
    const HOVER_NAMES: usize = 5;

    fn of(report: &YearReport) -> Self {
        let plot_w = Self::WIDTH - Self::LEFT - Self::RIGHT;
        let plot_h = Self::HEIGHT - Self::TOP - Self::BOTTOM;
        let months = report.per_month();
        let top = months.iter().copied().max().unwrap_or(0).max(1);
        // Gridlines at whole numbers, at most five of them.
        let step = top.div_ceil(5).max(1);
        let scale_max = (top.div_ceil(step) * step) as i64;
        let step = step as i64;
        let y_of = |n: i64| Self::TOP + plot_h - n * plot_h / scale_max;
        let by_engine = report.per_month_by_engine();
        Chart {
            width: Self::WIDTH,
            height: Self::HEIGHT,
            left: Self::LEFT,
            right: Self::WIDTH - Self::RIGHT,
            axis: Self::TOP + plot_h,
            title: format!("Maintenances per month, {}", report.year),
            total: report.rows.len(),
            grid: (0..=(scale_max / step))
                .map(|i| Gridline {
                    y: y_of(i * step),
                    n: i * step,
                })
                .collect(),
            bar_width: plot_w / 12 * 3 / 5,
            bars: Self::bars(report, &by_engine, &months, plot_w, &y_of),
            empty_x: Self::LEFT + plot_w / 2,
            empty_y: Self::TOP + plot_h / 2,
            legend: Self::legend(&by_engine),
        }
    }

    fn bars(
        report: &YearReport,
        by_engine: &BTreeMap<Option<Engine>, [usize; 12]>,
        months: &[usize; 12],
        plot_w: i64,
        y_of: &dyn Fn(i64) -> i64,
    ) -> Vec<Bar> {
        let slot = plot_w / 12;
        let bar_w = slot * 3 / 5;
        MONTHS
            .iter()
            .enumerate()
            .map(|(month, name)| {
                let x = Self::LEFT + slot * month as i64 + (slot - bar_w) / 2;
                let mut stacked = 0i64;
                let mut segments = Vec::new();
                for (engine, counts) in by_engine {
                    let n = counts[month] as i64;
                    if n == 0 {
                        continue;
                    }
                    let (y_top, y_bottom) = (y_of(stacked + n), y_of(stacked));
                    segments.push(Segment {
                        y: y_top,
                        height: y_bottom - y_top,
                        colour: engine_colour(*engine),
                        hover: Self::hover(report, *engine, month, name, n),
                    });
                    stacked += n;
                }
                Bar {
                    month: name,
                    x,
                    center: x + bar_w / 2,
                    segments,
                    count: months[month],
                    count_y: y_of(stacked) - 4,
                }
            })
            .collect()
    }

    /// A segment's hover text: the month, the count and engine, and the first clusters' names.
    fn hover(
        report: &YearReport,
        engine: Option<Engine>,
        month: usize,
        name: &str,
        n: i64,
    ) -> String {
        let clusters: Vec<&str> = report
            .rows
            .iter()
            .filter(|r| r.engine == engine && r.date.month0() as usize == month)
            .map(|r| r.cluster.as_str())
            .collect();
        let mut hover = format!("{name} {}: {n} {}", report.year, engine_name(engine));
        hover.push_str(" (");
        hover.push_str(&clusters[..clusters.len().min(Self::HOVER_NAMES)].join(", "));
        if clusters.len() > Self::HOVER_NAMES {
            hover.push_str(", …");
        }
        hover.push(')');
        hover
    }

    /// The legend, right-aligned on the title's line.
    fn legend(by_engine: &BTreeMap<Option<Engine>, [usize; 12]>) -> Vec<LegendItem> {
        let mut legend_x = Self::WIDTH - Self::RIGHT;
        by_engine
            .keys()
            .rev()
            .map(|engine| {
                let label = engine_name(*engine);
                legend_x -= 20 + 7 * label.chars().count() as i64 + 12;
                LegendItem {
                    x: legend_x,
                    colour: engine_colour(*engine),
                    label,
                }
            })
            .collect()
    }
}

#[cfg(test)]
mod tests;
