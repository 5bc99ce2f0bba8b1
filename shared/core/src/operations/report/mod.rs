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
        MaintenanceKind::Planned | MaintenanceKind::Unplanned => m
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
    let cell = |raw: &str| {
        if raw.is_empty() {
            "—".to_owned()
        } else {
            escape::markdown_text(raw)
        }
    };
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
    out.push_str("\n## Maintenances per month\n\n");
    let _ = writeln!(out, "| {} |", MONTHS.join(" | "));
    let _ = writeln!(out, "|{}", "---:|".repeat(12));
    let counts: Vec<String> = report.per_month().iter().map(|n| n.to_string()).collect();
    let _ = writeln!(out, "| {} |", counts.join(" | "));
    out
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
/// a legend of the engines, and a title per bar segment for readers that hover.
pub fn render_svg(report: &YearReport) -> String {
    const WIDTH: i64 = 760;
    const HEIGHT: i64 = 340;
    const LEFT: i64 = 48;
    const RIGHT: i64 = 16;
    const TOP: i64 = 56;
    const BOTTOM: i64 = 48;
    /// The most cluster names a bar segment's hover text lists.
    const HOVER_NAMES: usize = 5;
    let plot_w = WIDTH - LEFT - RIGHT;
    let plot_h = HEIGHT - TOP - BOTTOM;
    let slot = plot_w / 12;
    let bar_w = slot * 3 / 5;
    let months = report.per_month();
    let top = months.iter().copied().max().unwrap_or(0).max(1);
    // Gridlines at whole numbers, at most five of them.
    let step = top.div_ceil(5).max(1);
    let scale_max = (top.div_ceil(step) * step) as i64;
    let step = step as i64;
    let y_of = |n: i64| TOP + plot_h - n * plot_h / scale_max;
    let x = escape::html;

    let title = format!("Maintenances per month, {}", report.year);
    let mut svg = String::new();
    let _ = writeln!(
        svg,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-label="{}" font-family="system-ui, -apple-system, 'Segoe UI', sans-serif" font-size="12">"#,
        x(&title)
    );
    let _ = writeln!(svg, "  <title>{}</title>", x(&title));
    let _ = writeln!(
        svg,
        r##"  <rect x="0" y="0" width="{WIDTH}" height="{HEIGHT}" fill="#ffffff"/>"##
    );
    let total = report.rows.len();
    let _ = writeln!(
        svg,
        r##"  <text x="{LEFT}" y="24" font-size="16" font-weight="600" fill="#222222">{} ({total} in all)</text>"##,
        x(&title)
    );
    for i in 0..=(scale_max / step) {
        let n = i * step;
        let y = y_of(n);
        let _ = writeln!(
            svg,
            r##"  <line x1="{LEFT}" y1="{y}" x2="{}" y2="{y}" stroke="#e5e5e5"/>"##,
            WIDTH - RIGHT
        );
        let _ = writeln!(
            svg,
            r##"  <text x="{}" y="{}" text-anchor="end" fill="#666666">{n}</text>"##,
            LEFT - 6,
            y + 4
        );
    }
    let by_engine = report.per_month_by_engine();
    for (month, name) in MONTHS.iter().enumerate() {
        let bar_x = LEFT + slot * month as i64 + (slot - bar_w) / 2;
        let mut stacked = 0i64;
        for (engine, counts) in &by_engine {
            let n = counts[month] as i64;
            if n == 0 {
                continue;
            }
            let (y_top, y_bottom) = (y_of(stacked + n), y_of(stacked));
            let clusters: Vec<&str> = report
                .rows
                .iter()
                .filter(|r| r.engine == *engine && r.date.month0() as usize == month)
                .map(|r| r.cluster.as_str())
                .collect();
            let mut hover = format!("{name} {}: {n} {}", report.year, engine_name(*engine));
            hover.push_str(" (");
            hover.push_str(&clusters[..clusters.len().min(HOVER_NAMES)].join(", "));
            if clusters.len() > HOVER_NAMES {
                hover.push_str(", …");
            }
            hover.push(')');
            let _ = writeln!(
                svg,
                r#"  <rect x="{bar_x}" y="{y_top}" width="{bar_w}" height="{}" fill="{}"><title>{}</title></rect>"#,
                y_bottom - y_top,
                engine_colour(*engine),
                x(&hover)
            );
            stacked += n;
        }
        if months[month] > 0 {
            let _ = writeln!(
                svg,
                r##"  <text x="{}" y="{}" text-anchor="middle" fill="#222222">{}</text>"##,
                bar_x + bar_w / 2,
                y_of(stacked) - 4,
                months[month]
            );
        }
        let _ = writeln!(
            svg,
            r##"  <text x="{}" y="{}" text-anchor="middle" fill="#444444">{}</text>"##,
            bar_x + bar_w / 2,
            TOP + plot_h + 18,
            x(name)
        );
    }
    let _ = writeln!(
        svg,
        r##"  <line x1="{LEFT}" y1="{}" x2="{}" y2="{}" stroke="#999999"/>"##,
        TOP + plot_h,
        WIDTH - RIGHT,
        TOP + plot_h
    );
    if total == 0 {
        let _ = writeln!(
            svg,
            r##"  <text x="{}" y="{}" text-anchor="middle" fill="#666666">{}</text>"##,
            LEFT + plot_w / 2,
            TOP + plot_h / 2,
            x("No maintenances recorded")
        );
    }
    // The legend, right-aligned on the title's line.
    let mut legend_x = WIDTH - RIGHT;
    for engine in by_engine.keys().rev() {
        let label = engine_name(*engine);
        let width = 20 + 7 * label.chars().count() as i64;
        legend_x -= width + 12;
        let _ = writeln!(
            svg,
            r#"  <rect x="{legend_x}" y="14" width="12" height="12" fill="{}"/>"#,
            engine_colour(*engine)
        );
        let _ = writeln!(
            svg,
            r##"  <text x="{}" y="24" fill="#444444">{}</text>"##,
            legend_x + 16,
            x(label)
        );
    }
    svg.push_str("</svg>\n");
    svg
}

#[cfg(test)]
mod tests;
