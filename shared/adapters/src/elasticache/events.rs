//! `DescribeEvents`: every event ElastiCache still keeps for a time range, through every page,
//! as DescribeEvents records and as normalized events read by the same parser as every other
//! input ([`cachewatch_core::parse_document`]).

use aws_sdk_elasticache::primitives::DateTime as AwsDateTime;
use aws_sdk_elasticache::types::SourceType;
use cachewatch_core::{MaintenanceEvent, ParseContext, ParseError, parse_document};
use chrono::{DateTime, Duration, SecondsFormat, Utc};
use serde_json::{Value, json};

use super::{ElastiCache, ElastiCacheError, Pager, from_aws_time};

/// How long ElastiCache keeps events: a query reaching further back is cut to this.
pub const EVENT_RETENTION: Duration = Duration::days(14);

/// Which events to ask for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventQuery {
    /// The earliest event time.
    pub start: DateTime<Utc>,
    /// The latest event time.
    pub end: DateTime<Utc>,
    /// Only the events of this source type (`cache-cluster`, `replication-group`, ...).
    pub source_type: Option<String>,
    /// Only the events of this source (with `source_type`).
    pub source_identifier: Option<String>,
}

impl EventQuery {
    /// Every event between `start` and `end`.
    pub fn between(start: DateTime<Utc>, end: DateTime<Utc>) -> Self {
        Self {
            start,
            end,
            source_type: None,
            source_identifier: None,
        }
    }

    /// The same query, for the events of one source (`cache-cluster`, `orders-0001-001`).
    pub fn about(self, source_type: &str, source_identifier: &str) -> Self {
        Self {
            source_type: Some(source_type.to_owned()),
            source_identifier: Some(source_identifier.to_owned()),
            ..self
        }
    }
}

/// One DescribeEvents record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventRecord {
    /// `SourceIdentifier`.
    pub source_identifier: String,
    /// `SourceType` (`cache-cluster`).
    pub source_type: String,
    /// `Message`: the full text, with the maintenance window when there is one.
    pub message: String,
    /// `Date`.
    pub date: DateTime<Utc>,
}

impl EventRecord {
    /// The record as DescribeEvents JSON (`{"SourceIdentifier","SourceType","Message","Date"}`),
    /// the shape [`parse_document`] reads.
    pub fn to_json(&self) -> Value {
        json!({
            "SourceIdentifier": self.source_identifier,
            "SourceType": self.source_type,
            "Message": self.message,
            "Date": self.date.to_rfc3339_opts(SecondsFormat::Millis, true),
        })
    }
}

/// `records` as one DescribeEvents document (`{"Events": [...]}`), as the AWS CLI prints it.
pub fn events_document(records: &[EventRecord]) -> String {
    json!({ "Events": records.iter().map(EventRecord::to_json).collect::<Vec<_>>() }).to_string()
}

/// How far a DescribeEvents walk has got, after each page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EventsProgress {
    /// Pages read so far.
    pub pages: usize,
    /// Records read so far.
    pub records: usize,
    /// The oldest record's date so far.
    pub oldest: Option<DateTime<Utc>>,
    /// The newest record's date so far.
    pub newest: Option<DateTime<Utc>>,
}

/// A record that did not read as an event.
#[derive(Debug, Clone, PartialEq)]
pub struct RejectedRecord {
    /// The record.
    pub record: EventRecord,
    /// Why.
    pub error: ParseError,
}

/// DescribeEvents records read into normalized events; each record is read on its own, so one
/// odd record does not cost the others.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DescribedEvents {
    /// The events, in the order of their records.
    pub events: Vec<MaintenanceEvent>,
    /// The records that did not read.
    pub rejected: Vec<RejectedRecord>,
}

impl DescribedEvents {
    /// Reads `records` with `ctx`.
    pub fn read(records: &[EventRecord], ctx: &ParseContext) -> Self {
        let mut out = DescribedEvents::default();
        for record in records {
            match parse_document(&record.to_json().to_string(), ctx) {
                Ok(events) => out.events.extend(events),
                Err(error) => out.rejected.push(RejectedRecord {
                    record: record.clone(),
                    error,
                }),
            }
        }
        out
    }
}

impl ElastiCache {
    /// Every event of `query`, through every page (`Marker`), newest first as ElastiCache
    /// answers. A start older than [`EVENT_RETENTION`] is moved up to it: there is nothing
    /// older. `progress`, when given, hears after each page.
    pub async fn describe_events(
        &self,
        query: &EventQuery,
        mut progress: Option<&mut (dyn FnMut(EventsProgress) + Send)>,
    ) -> Result<Vec<EventRecord>, ElastiCacheError> {
        let start = query.start.max(Utc::now() - EVENT_RETENTION);
        if start >= query.end {
            return Ok(Vec::new());
        }
        let mut records: Vec<EventRecord> = Vec::new();
        let mut seen = EventsProgress {
            pages: 0,
            records: 0,
            oldest: None,
            newest: None,
        };
        let mut pager = Pager::new("DescribeEvents");
        loop {
            let page = self
                .client
                .describe_events()
                .start_time(aws_time(start))
                .end_time(aws_time(query.end))
                .set_source_type(query.source_type.as_deref().map(SourceType::from))
                .set_source_identifier(query.source_identifier.clone())
                .max_records(self.page_size)
                .set_marker(pager.marker())
                .send()
                .await
                .map_err(|e| ElastiCacheError::call("DescribeEvents", e))?;
            for e in page.events() {
                let Some(date) = e.date().and_then(from_aws_time) else {
                    continue;
                };
                seen.oldest = Some(seen.oldest.map_or(date, |o| o.min(date)));
                seen.newest = Some(seen.newest.map_or(date, |n| n.max(date)));
                records.push(EventRecord {
                    source_identifier: e.source_identifier().unwrap_or_default().to_owned(),
                    source_type: e
                        .source_type()
                        .map(|t| t.as_str().to_owned())
                        .unwrap_or_default(),
                    message: e.message().unwrap_or_default().to_owned(),
                    date,
                });
            }
            seen.pages += 1;
            seen.records = records.len();
            if let Some(report) = progress.as_deref_mut() {
                report(seen);
            }
            if !pager.next(page.marker())? {
                return Ok(records);
            }
        }
    }

    /// Every event of `query`, read into normalized events with `ctx` (see
    /// [`ElastiCache::describe_events`]).
    pub async fn maintenance_events(
        &self,
        query: &EventQuery,
        ctx: &ParseContext,
        progress: Option<&mut (dyn FnMut(EventsProgress) + Send)>,
    ) -> Result<DescribedEvents, ElastiCacheError> {
        let records = self.describe_events(query, progress).await?;
        Ok(DescribedEvents::read(&records, ctx))
    }
}

fn aws_time(at: DateTime<Utc>) -> AwsDateTime {
    AwsDateTime::from_millis(at.timestamp_millis())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    fn record(source: &str, message: &str) -> EventRecord {
        EventRecord {
            source_identifier: source.to_owned(),
            source_type: "cache-cluster".to_owned(),
            message: message.to_owned(),
            date: at("2026-06-10T15:22:03.336Z"),
        }
    }

    #[test]
    fn a_record_reads_as_describe_events_json() {
        let json = record("orders-0001-001", "Cache cluster created").to_json();
        assert_eq!(
            json,
            json!({
                "SourceIdentifier": "orders-0001-001",
                "SourceType": "cache-cluster",
                "Message": "Cache cluster created",
                "Date": "2026-06-10T15:22:03.336Z",
            })
        );
        let doc = events_document(&[record("a", "x"), record("b", "y")]);
        let back: Value = serde_json::from_str(&doc).unwrap();
        assert_eq!(back["Events"].as_array().unwrap().len(), 2);
    }

    #[test]
    fn one_odd_record_is_rejected_and_the_others_are_read() {
        // Arrange
        let records = vec![
            record(
                "orders-0001-001",
                "The node with Cache Cluster ID: orders-0001-001, Node ID: 0001 is scheduled for replacement during the maintenance window from Start Time: Jun 24 21:00 UTC, End Time: Jun 24 22:00 UTC",
            ),
            record("", "Cache cluster created"),
            record("orders-0001-002", "Finished recovery for cache nodes 0001"),
        ];

        // Act
        let read = DescribedEvents::read(
            &records,
            &ParseContext::received_at(at("2026-06-11T00:00:00Z")),
        );

        // Assert
        assert_eq!(read.events.len(), 2);
        assert_eq!(read.rejected.len(), 1);
        assert_eq!(read.rejected[0].record.source_identifier, "");
        let window = read.events[0].window.unwrap();
        assert_eq!(window.start, at("2026-06-24T21:00:00Z"));
        assert_eq!(window.end, at("2026-06-24T22:00:00Z"));
    }
}
