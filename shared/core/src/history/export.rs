//! Exports of the history: every matching event, a page at a time ([`EventPages`]), so that a
//! history of any length is written in constant memory; and text made safe for spreadsheet cells
//! ([`spreadsheet_cell`]), which every CSV of the project writes through.

use std::borrow::Cow;
use std::collections::HashSet;

use chrono::{DateTime, Duration, DurationRound, Utc};

use crate::history::query::EventQuery;
use crate::history::store::{EventStore, StoreError};
use crate::model::event::{EventId, MaintenanceEvent};

/// How many events a page of an export holds, unless told otherwise.
pub const EXPORT_PAGE: usize = 1000;

/// Every event matching a query, newest first, read a page at a time with the store's own search.
///
/// Each page is a search for events before the oldest one of the previous page (its millisecond
/// included, as stores keep milliseconds): events of that millisecond already given are skipped,
/// so none is given twice or lost, however many share a time. A page made only of events already
/// given (more of them in one millisecond than a page holds) is read again twice as large.
pub struct EventPages<'a, S> {
    store: &'a S,
    query: EventQuery,
    page: usize,
    /// The millisecond of the oldest event given so far, and the ids given in it.
    boundary: Option<(DateTime<Utc>, HashSet<EventId>)>,
    done: bool,
}

impl<'a, S: EventStore> EventPages<'a, S> {
    /// Pages of `page` events (at least one) of what `query` matches; its `limit` is ignored.
    pub fn new(store: &'a S, query: EventQuery, page: usize) -> Self {
        Self {
            store,
            query,
            page: page.max(1),
            boundary: None,
            done: false,
        }
    }

    /// The next events, newest first; `None` once every matching event was given.
    pub async fn next_page(&mut self) -> Result<Option<Vec<MaintenanceEvent>>, StoreError> {
        while !self.done {
            let mut query = self.query.clone();
            query.limit = self.page;
            if let Some((millisecond, _)) = &self.boundary {
                let before = *millisecond + Duration::milliseconds(1);
                query.until = Some(query.until.map_or(before, |until| until.min(before)));
            }
            let found = self.store.search(&query).await?;
            self.done = found.len() < self.page;
            let fresh: Vec<MaintenanceEvent> = found
                .into_iter()
                .filter(|e| {
                    !self
                        .boundary
                        .as_ref()
                        .is_some_and(|(_, given)| given.contains(&e.id))
                })
                .collect();
            let Some(oldest) = fresh.last() else {
                // Only events already given: the millisecond holds more than a page.
                self.page = self.page.saturating_mul(2);
                continue;
            };
            let millisecond = millisecond_of(oldest.occurred_at);
            let mut given = match self.boundary.take() {
                Some((previous, given)) if previous == millisecond => given,
                _ => HashSet::new(),
            };
            given.extend(
                fresh
                    .iter()
                    .filter(|e| millisecond_of(e.occurred_at) == millisecond)
                    .map(|e| e.id.clone()),
            );
            self.boundary = Some((millisecond, given));
            return Ok(Some(fresh));
        }
        Ok(None)
    }
}

fn millisecond_of(at: DateTime<Utc>) -> DateTime<Utc> {
    at.duration_trunc(Duration::milliseconds(1)).unwrap_or(at)
}

/// Text for a spreadsheet cell: control characters (from event text, say) become spaces, line
/// feeds excepted, and a cell a spreadsheet would read as a formula (starting with `=`, `+`, `-`,
/// `@`, a tab or a carriage return) is prefixed with `'`.
pub fn spreadsheet_cell(raw: &str) -> Cow<'_, str> {
    let formula = raw.starts_with(['=', '+', '-', '@', '\t', '\r']);
    let mut cell = Cow::Borrowed(raw);
    if raw.chars().any(|c| c.is_control() && c != '\n') {
        cell = Cow::Owned(
            raw.chars()
                .map(|c| if c.is_control() && c != '\n' { ' ' } else { c })
                .collect(),
        );
    }
    if formula {
        cell = Cow::Owned(format!("'{cell}"));
    }
    cell
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::alerting::policy::AlertPolicy;
    use crate::history::store::MemoryStore;
    use crate::intake::pipeline::ingest;
    use crate::test_support::block_on;
    use crate::{ParseContext, parse_document};

    /// `count` failovers of distinct clusters, `per_millisecond` of them in each millisecond.
    fn store_with(count: usize, per_millisecond: usize) -> MemoryStore {
        let start = DateTime::parse_from_rfc3339("2026-03-01T00:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        let lines: Vec<String> = (0..count)
            .map(|i| {
                let at = start + Duration::milliseconds((i / per_millisecond) as i64);
                serde_json::json!({
                    "SourceIdentifier": format!("orders-{i:04}-001"),
                    "SourceType": "cache-cluster",
                    "Message": "Failover to replica node orders-0001-002 completed",
                    "Date": at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
                })
                .to_string()
            })
            .collect();
        let events = parse_document(&lines.join("\n"), &ParseContext::received_at(start)).unwrap();
        let store = MemoryStore::default();
        block_on(ingest(&store, events, &AlertPolicy::default())).unwrap();
        store
    }

    fn export(store: &MemoryStore, page: usize) -> Vec<MaintenanceEvent> {
        let mut pages = EventPages::new(store, EventQuery::default(), page);
        let mut all = Vec::new();
        while let Some(events) = block_on(pages.next_page()).unwrap() {
            assert!(events.len() <= page.max(64), "a page stays bounded");
            all.extend(events);
        }
        all
    }

    fn expected(store: &MemoryStore) -> Vec<MaintenanceEvent> {
        let everything = EventQuery {
            limit: usize::MAX,
            ..EventQuery::default()
        };
        block_on(store.search(&everything)).unwrap()
    }

    #[test]
    fn pages_give_every_event_once_in_search_order() {
        let store = store_with(250, 1);
        let all = export(&store, 7);
        assert_eq!(all.len(), 250);
        assert_eq!(all, expected(&store));
    }

    #[test]
    fn events_sharing_a_millisecond_across_pages_are_neither_lost_nor_repeated() {
        // 40 events in each millisecond, pages of 16: every page boundary falls inside one.
        let store = store_with(200, 40);
        let all = export(&store, 16);
        let ids: HashSet<&EventId> = all.iter().map(|e| &e.id).collect();
        assert_eq!((all.len(), ids.len()), (200, 200));
        let mut want: Vec<EventId> = expected(&store).into_iter().map(|e| e.id).collect();
        let mut got: Vec<EventId> = all.into_iter().map(|e| e.id).collect();
        want.sort();
        got.sort();
        assert_eq!(got, want);
    }

    #[test]
    fn an_empty_history_has_no_page() {
        assert!(export(&MemoryStore::default(), 10).is_empty());
    }

    #[test]
    fn spreadsheet_cells_never_start_a_formula_nor_carry_control_characters() {
        assert_eq!(
            spreadsheet_cell("=HYPERLINK(\"http://x\")"),
            "'=HYPERLINK(\"http://x\")"
        );
        assert_eq!(spreadsheet_cell("+1"), "'+1");
        assert_eq!(spreadsheet_cell("-1"), "'-1");
        assert_eq!(spreadsheet_cell("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(spreadsheet_cell("\t=1"), "' =1");
        assert_eq!(spreadsheet_cell("a\u{1b}[31mb\rc\nd"), "a [31mb c\nd");
        assert!(matches!(spreadsheet_cell("plain"), Cow::Borrowed("plain")));
    }
}
