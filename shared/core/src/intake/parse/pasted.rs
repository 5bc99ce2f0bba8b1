//! Text people paste: console and CLI tables, AWS maintenance e-mails, whole or in part.
//!
//! Lines are read in order, because a header row says what the columns of the rows under it are:
//!
//! | line | read as |
//! |---|---|
//! | `source \| type \| date \| message`, or tab-separated | a console event row; a header row names the columns of the rows below it, in any order |
//! | `aws elasticache describe-events --output table` | its header row (`Date \| Message \| SourceIdentifier \| SourceType`) gives the columns; with one event the CLI prints `key \| value` rows instead, read as one record |
//! | `aws elasticache describe-events --output text` | `EVENTS`, then the values in the CLI's key order (`Date`, `Message`, `SourceIdentifier`, `SourceType`), tab-separated |
//! | `Region: …, Cluster Name: …, Node Name: …, Replacement Time: …` | an e-mail line: a scheduled replacement of the node |
//! | `ClusterName / NodeName / Replacement Time:` | the heading of an older e-mail: each following `cluster / node / time` line is a scheduled replacement |
//! | `{…}` | a JSON document of any shape, as in JSON Lines |
//!
//! What is clearly not an event (prose around an e-mail, table titles and borders, separators,
//! `#` comments) is skipped and counted. A line that looks like an event (cells, an e-mail line)
//! but cannot be read is an error that names it: pasted text is stored whole or not at all, as
//! every other input.

use std::collections::BTreeMap;
use std::sync::LazyLock;

use regex::Regex;
use serde_json::Value;

use super::shapes::{dated, draft_of_source, identifier, message_text, top_level};
use super::time::{parse_console_date, parse_text_time};
use super::{EventDraft, Location, ParseContext, ParseError, Problem, excerpt};
use crate::model::event::{MaintenanceEvent, Origin, Window};
use crate::model::ids::{ClusterId, ReplicationGroupId, SourceId};
use crate::model::kind::EventKind;

/// The events of a pasted text, and how many of its lines were not events.
#[derive(Debug, Clone, Default, PartialEq)]
pub(super) struct Pasted {
    /// The events, in the order of their lines.
    pub(super) events: Vec<MaintenanceEvent>,
    /// Lines skipped as clearly not events (prose, headers, separators, comments).
    pub(super) skipped: usize,
}

static EMAIL_LINE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?i)^\s*Region:\s*(?P<region>[^,]+?),\s*Cluster Name:\s*(?P<cluster>[^,]+?),\s*Node Name:\s*(?P<node>[^,]+?),\s*Replacement Time:\s*(?P<time>.+?)\s*$",
    )
    .expect("a valid regular expression")
});

/// A line that starts like an e-mail line: if it does not read as one, it is an error.
static EMAIL_START: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)^\s*Region:.*\bCluster\s*Name\s*:").expect("a valid regular expression")
});

/// The Region an older e-mail names in its prose (`… maintenance in the EU-CENTRAL-1 Region …`).
static PROSE_REGION: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)\bin the ([a-z]{2}(?:-[a-z]+)+-\d+) region\b")
        .expect("a valid regular expression")
});

/// What a column of a table holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Column {
    Source,
    SourceType,
    Date,
    Message,
    Region,
    Cluster,
    Node,
    ReplacementTime,
}

/// The column a header cell names, in any of the spellings of the console, the AWS CLI and the
/// e-mails.
fn column_named(cell: &str) -> Option<Column> {
    let name: String = cell
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .collect::<String>()
        .to_ascii_lowercase();
    Some(match name.as_str() {
        "source" | "sourceidentifier" | "sourceid" | "sourcename" => Column::Source,
        "type" | "sourcetype" | "eventtype" => Column::SourceType,
        "date" | "time" | "datetime" | "eventtime" => Column::Date,
        "message" | "description" | "eventmessage" => Column::Message,
        "region" => Column::Region,
        "clustername" | "cluster" => Column::Cluster,
        "nodename" | "node" => Column::Node,
        "replacementtime" => Column::ReplacementTime,
        _ => return None,
    })
}

/// How the cells of a line are separated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Separator {
    Tab,
    Pipe,
    Slash,
}

impl Separator {
    fn joiner(self) -> &'static str {
        match self {
            Separator::Tab => "\t",
            Separator::Pipe => " | ",
            Separator::Slash => " / ",
        }
    }
}

/// The trimmed cells of `line`, without the empty cells of a table's outer borders.
fn split_cells(line: &str, separator: Separator) -> Vec<&str> {
    let mut cells: Vec<&str> = match separator {
        Separator::Tab => line.split('\t').collect(),
        Separator::Pipe => line.split('|').collect(),
        Separator::Slash => line.split('/').collect(),
    };
    cells.iter_mut().for_each(|c| *c = c.trim());
    if separator == Separator::Pipe {
        while cells.first() == Some(&"") {
            cells.remove(0);
        }
        while cells.last() == Some(&"") {
            cells.pop();
        }
    }
    cells
}

/// The columns of the rows under a header.
#[derive(Debug, Clone, PartialEq)]
struct Header {
    columns: Vec<Column>,
    separator: Separator,
    origin: Origin,
}

impl Header {
    fn is_email(&self) -> bool {
        self.columns.contains(&Column::ReplacementTime)
    }
}

/// A header row: every cell names a column, and they make an event table or an e-mail table.
fn header_of(cells: &[&str], separator: Separator) -> Option<Header> {
    let columns: Vec<Column> = cells
        .iter()
        .map(|c| column_named(c))
        .collect::<Option<_>>()?;
    let has = |c| columns.contains(&c);
    let events = has(Column::Source) && has(Column::Date) && has(Column::Message);
    let email = has(Column::Node) && has(Column::ReplacementTime);
    if !(events || email) {
        return None;
    }
    // The CLI names its columns after the API's fields; the console in words.
    let origin = if email {
        Origin::Email
    } else if cells
        .iter()
        .any(|c| c.eq_ignore_ascii_case("SourceIdentifier"))
    {
        Origin::DescribeEvents
    } else {
        Origin::Console
    };
    Some(Header {
        columns,
        separator,
        origin,
    })
}

/// A line of borders or separators only (`-----`, `+---+---+`, `|---|:---|`, `=====`).
fn is_rule(line: &str) -> bool {
    line.chars()
        .all(|c| matches!(c, '-' | '+' | '|' | '=' | ':' | '_' | ' ' | '\t'))
        && line.chars().any(|c| matches!(c, '-' | '=' | '+' | '_'))
}

/// The values of one event, by column.
type Record = BTreeMap<Column, String>;

/// A record of the CLI's one-event table (`Date | …` on one row, `Message | …` on the next...),
/// being gathered.
#[derive(Debug, Default)]
struct Vertical {
    first_line: Option<Location>,
    values: BTreeMap<Column, String>,
}

/// What the lines read so far say about the lines to come.
#[derive(Debug, Default)]
struct Reading {
    header: Option<Header>,
    region: Option<String>,
    vertical: Vertical,
}

/// Reads a pasted text line by line.
pub(super) fn pasted_text(input: &str, ctx: &ParseContext) -> Result<Pasted, ParseError> {
    let mut out = Pasted::default();
    let mut reading = Reading::default();
    for (index, line) in input.lines().enumerate() {
        let location = Location {
            line: Some(index + 1),
            record: None,
        };
        let trimmed = line.trim().trim_start_matches('\u{feff}');
        if trimmed.is_empty() {
            continue;
        }
        match read_line(trimmed, &mut reading, location, ctx)? {
            Line::VerticalCell(column, value) => {
                if reading.vertical.values.contains_key(&column) {
                    flush_vertical(&mut reading, &mut out, ctx)?;
                }
                let vertical = &mut reading.vertical;
                vertical.first_line.get_or_insert(location);
                vertical.values.insert(column, value);
                continue;
            }
            Line::Events(drafts) => {
                flush_vertical(&mut reading, &mut out, ctx)?;
                out.events.extend(drafts.into_iter().map(|d| d.finish(ctx)));
            }
            Line::Document(events) => {
                flush_vertical(&mut reading, &mut out, ctx)?;
                out.events.extend(events);
            }
            Line::NotAnEvent => {
                flush_vertical(&mut reading, &mut out, ctx)?;
                out.skipped += 1;
            }
        }
    }
    flush_vertical(&mut reading, &mut out, ctx)?;
    if out.events.is_empty() {
        return Err(ParseError {
            location: Location::default(),
            problem: Problem::NoEvents {
                skipped: out.skipped,
            },
        });
    }
    Ok(out)
}

/// What a line turned out to be.
enum Line {
    Events(Vec<EventDraft>),
    Document(Vec<MaintenanceEvent>),
    VerticalCell(Column, String),
    NotAnEvent,
}

/// `key | value`, the row of the CLI's table of one event, when the key is a column.
fn vertical_cells(line: &str) -> Option<(Column, String)> {
    if !line.contains('|') {
        return None;
    }
    let cells = split_cells(line, Separator::Pipe);
    match cells.as_slice() {
        [key, value] => {
            let column = column_named(key)?;
            matches!(
                column,
                Column::Source | Column::SourceType | Column::Date | Column::Message
            )
            .then(|| (column, (*value).to_owned()))
        }
        _ => None,
    }
}

fn read_line(
    line: &str,
    reading: &mut Reading,
    location: Location,
    ctx: &ParseContext,
) -> Result<Line, ParseError> {
    let at = |problem| ParseError { location, problem };
    if line.starts_with('#') || is_rule(line) {
        return Ok(Line::NotAnEvent);
    }
    if line.starts_with('{') {
        let value = serde_json::from_str::<Value>(line).map_err(|e| at(super::not_json(&e)))?;
        return top_level(value, location, ctx).map(Line::Document);
    }
    if let Some(caps) = EMAIL_LINE.captures(line) {
        let cell = |name: &str| caps.name(name).map_or("", |m| m.as_str().trim());
        let drafts = email_event(
            cell("region"),
            cell("cluster"),
            cell("node"),
            cell("time"),
            line,
            ctx,
        )
        .map_err(at)?;
        return Ok(Line::Events(drafts));
    }
    if EMAIL_START.is_match(line) {
        return Err(at(Problem::BadEmailLine {
            reason: "it reads `Region: …, Cluster Name: …, Node Name: …, Replacement Time: …`"
                .into(),
        }));
    }
    if let Some((column, value)) = vertical_cells(line) {
        return Ok(Line::VerticalCell(column, value));
    }
    // The rows under an older e-mail's heading, `cluster / node / time`.
    if let Some(header) = reading.header.clone().filter(Header::is_email) {
        if let Some(row) = email_row(line, &header, reading, ctx) {
            return row.map_err(at);
        }
        reading.header = None;
    }
    for separator in [Separator::Tab, Separator::Pipe, Separator::Slash] {
        let cells = split_cells(line, separator);
        if let Some(header) = header_of(&cells, separator) {
            reading.header = Some(header);
            return Ok(Line::NotAnEvent);
        }
    }
    if let Some(region) = PROSE_REGION.captures(line).and_then(|c| c.get(1)) {
        reading.region = Some(region.as_str().to_ascii_lowercase());
    }
    if let Some(rest) = line.strip_prefix("EVENTS\t") {
        return text_output_row(rest).map_err(at);
    }
    table_row(line, reading).map_err(at)
}

/// A row under an older e-mail's heading (`cluster / node / time`), when it has the heading's
/// cells.
fn email_row(
    line: &str,
    header: &Header,
    reading: &Reading,
    ctx: &ParseContext,
) -> Option<Result<Line, Problem>> {
    let cells = split_cells(line, header.separator);
    if cells.len() != header.columns.len() {
        return None;
    }
    let value = |c: Column| {
        header
            .columns
            .iter()
            .position(|h| *h == c)
            .map_or("", |i| cells[i])
    };
    let region = match value(Column::Region) {
        "" => reading.region.clone().unwrap_or_default(),
        r => r.to_owned(),
    };
    Some(
        email_event(
            &region,
            value(Column::Cluster),
            value(Column::Node),
            value(Column::ReplacementTime),
            line,
            ctx,
        )
        .map(Line::Events),
    )
}

/// A line of `--output text` after its `EVENTS` cell: the record's values in the CLI's
/// (alphabetical) key order.
fn text_output_row(rest: &str) -> Result<Line, Problem> {
    let cells = split_cells(rest, Separator::Tab);
    if cells.len() < 4 {
        return Err(Problem::BadRow {
            reason:
                "an `EVENTS` line of `--output text` has a date, a message, a source and a type"
                    .into(),
        });
    }
    let n = cells.len();
    let record: Record = [
        (Column::Date, cells[0].to_owned()),
        (Column::Message, cells[1..n - 2].join("\t")),
        (Column::Source, cells[n - 2].to_owned()),
        (Column::SourceType, cells[n - 1].to_owned()),
    ]
    .into_iter()
    .collect();
    event_row(&record, Origin::DescribeEvents).map(Line::Events)
}

/// A table's row, read by the heading above it or, without one, by what its cells hold.
fn table_row(line: &str, reading: &Reading) -> Result<Line, Problem> {
    let separator = if line.contains('\t') {
        Separator::Tab
    } else if line.contains('|') {
        Separator::Pipe
    } else {
        // No cells: prose.
        return Ok(Line::NotAnEvent);
    };
    let cells = split_cells(line, separator);
    if cells.len() < 3 {
        // A table's title (`DescribeEvents`, `Events`) or a cell of prose.
        return Ok(Line::NotAnEvent);
    }
    let header = reading
        .header
        .clone()
        .filter(|h| !h.is_email() && h.separator == separator);
    let (record, origin) = match header {
        Some(header) => (by_header(&cells, &header)?, header.origin),
        None => (by_content(&cells, separator)?, Origin::Console),
    };
    event_row(&record, origin).map(Line::Events)
}

/// The values of a row under `header`. A message may itself hold the separator: the cells
/// beyond the header's count belong to the message.
fn by_header(cells: &[&str], header: &Header) -> Result<Record, Problem> {
    let n = header.columns.len();
    if cells.len() < n {
        return Err(Problem::BadRow {
            reason: format!("{} cells where the header names {n}", cells.len()),
        });
    }
    let extra = cells.len() - n;
    let mut record = Record::new();
    let mut i = 0;
    for column in &header.columns {
        let take = if *column == Column::Message {
            extra + 1
        } else {
            1
        };
        record.insert(*column, cells[i..i + take].join(header.separator.joiner()));
        i += take;
    }
    Ok(record)
}

/// The source types DescribeEvents names, and the console's words for them.
fn is_source_type(cell: &str) -> bool {
    let t = cell.trim().to_ascii_lowercase().replace([' ', '_'], "-");
    matches!(
        t.as_str(),
        "cache-cluster"
            | "cache-parameter-group"
            | "cache-security-group"
            | "cache-subnet-group"
            | "replication-group"
            | "serverless-cache"
            | "serverless-cache-snapshot"
            | "user"
            | "user-group"
    )
}

/// The values of a row without a header: the console's order (`source | type | date |
/// message`) when its date is where the console puts it, else each column found by what it
/// holds (a date, a source type, an identifier, and the message).
fn by_content(cells: &[&str], separator: Separator) -> Result<Record, Problem> {
    let joined = |from: usize| cells[from..].join(separator.joiner());
    if cells.len() >= 4 && parse_console_date(cells[2]).is_some() {
        return Ok([
            (Column::Source, cells[0].to_owned()),
            (Column::SourceType, cells[1].to_owned()),
            (Column::Date, cells[2].to_owned()),
            (Column::Message, joined(3)),
        ]
        .into_iter()
        .collect());
    }
    let date = cells.iter().position(|c| parse_console_date(c).is_some());
    let kind = cells.iter().position(|c| is_source_type(c));
    let (Some(date), Some(kind)) = (date, kind) else {
        return Err(Problem::BadRow {
            reason: format!(
                "no {} in {:?}: a row needs a source, a type, a date like `June 11, 2022, 00:22:03 (UTC+09:00)` and a message",
                if date.is_none() {
                    "date"
                } else {
                    "source type"
                },
                excerpt(&cells.join(separator.joiner()))
            ),
        });
    };
    let rest: Vec<usize> = (0..cells.len())
        .filter(|i| *i != date && *i != kind)
        .collect();
    let source = rest
        .iter()
        .copied()
        .find(|i| !cells[*i].contains(char::is_whitespace) && !cells[*i].is_empty())
        .ok_or_else(|| Problem::BadRow {
            reason: "no source identifier among the cells".into(),
        })?;
    let message: Vec<&str> = rest
        .iter()
        .filter(|i| **i != source)
        .map(|i| cells[*i])
        .collect();
    Ok([
        (Column::Source, cells[source].to_owned()),
        (Column::SourceType, cells[kind].to_owned()),
        (Column::Date, cells[date].to_owned()),
        (Column::Message, message.join(separator.joiner())),
    ]
    .into_iter()
    .collect())
}

/// The event of a table row.
fn event_row(record: &Record, origin: Origin) -> Result<Vec<EventDraft>, Problem> {
    let value = |c: Column| record.get(&c).map_or("", |v| v.trim());
    let source_id = identifier(SourceId::parse, value(Column::Source), "source")?;
    let source_type = match value(Column::SourceType) {
        "" => "cache-cluster".to_owned(),
        t => t.to_ascii_lowercase().replace([' ', '_'], "-"),
    };
    let raw_date = value(Column::Date);
    let occurred_at = parse_console_date(raw_date).ok_or_else(|| Problem::BadRow {
        reason: format!(
            "the date {:?} is not a date like `June 11, 2022, 00:22:03 (UTC+09:00)`",
            excerpt(raw_date)
        ),
    })?;
    let message = message_text(value(Column::Message), "message")?;
    let draft = draft_of_source(source_type, source_id, origin, occurred_at)?;
    dated(draft.with_text(message, occurred_at)?)
}

/// Turns the gathered `key | value` rows of the CLI's one-event table into its event.
fn flush_vertical(
    reading: &mut Reading,
    out: &mut Pasted,
    ctx: &ParseContext,
) -> Result<(), ParseError> {
    let vertical = std::mem::take(&mut reading.vertical);
    let Some(location) = vertical.first_line else {
        return Ok(());
    };
    let drafts = event_row(&vertical.values, Origin::DescribeEvents)
        .map_err(|problem| ParseError { location, problem })?;
    out.events.extend(drafts.into_iter().map(|d| d.finish(ctx)));
    Ok(())
}

/// A scheduled replacement from an e-mail. The e-mail gives one time, when the replacement may
/// start: the window's end is not given, and is kept equal to its start, which every view shows
/// as "end not given".
fn email_event(
    region: &str,
    cluster: &str,
    node: &str,
    time: &str,
    line: &str,
    ctx: &ParseContext,
) -> Result<Vec<EventDraft>, Problem> {
    let member = identifier(ClusterId::parse, node, "Node Name")?;
    let group = identifier(ReplicationGroupId::parse, cluster, "Cluster Name")?;
    let at = parse_text_time(time, ctx.received_at).ok_or_else(|| Problem::BadDate {
        field: "Replacement Time",
        value: excerpt(time),
    })?;
    let source_id = identifier(SourceId::parse, member.as_str(), "Node Name")?;
    let mut draft = EventDraft::new(
        EventKind::new(EventKind::NODE_REPLACEMENT_SCHEDULED),
        "cache-cluster".into(),
        source_id,
        Origin::Email,
    );
    draft.cluster_id = Some(member);
    draft.replication_group_id = Some(group);
    draft.region = (!region.trim().is_empty()).then(|| region.trim().to_ascii_lowercase());
    draft.window = Some(Window { start: at, end: at });
    draft
        .attributes
        .insert("window_end".into(), "not given".into());
    draft.message = Some(message_text(line.trim(), "message")?);
    dated(vec![draft])
}
