//! Searches on the table: which index and partitions a query reads, the key range and the
//! filter it reads them with, and reading newest first until the limit.
//!
//! The filter is sent as a `FilterExpression` so that only matching events cross the network,
//! and each event that comes back is tested again with the reference semantics
//! ([`matches_query`]), with whole words for text: what DynamoDB returns is a superset, never
//! the answer by itself.

use std::collections::HashMap;

use aws_sdk_dynamodb::operation::query::builders::QueryFluentBuilder;
use aws_sdk_dynamodb::types::AttributeValue;
use cachewatch_core::history::query::EventQuery;
use cachewatch_core::history::store::{StoreError, matches_query};
use cachewatch_core::model::event::MaintenanceEvent;
use chrono::{DateTime, Duration, NaiveDate, Utc};

use super::items::{self, s};
use super::keys;
use super::paging::{Pages, all_of};
use super::schema::Index;
use super::{CONCURRENT_REQUESTS, DynamoStore};

/// How far back a search without `since` looks when it filters text or walks the day
/// partitions: 90 days before its `until` (or now).
pub const SEARCH_HORIZON: Duration = Duration::days(90);
/// How far ahead of this machine's clock an event may be stamped and still be found by a search
/// without `until`.
const CLOCK_MARGIN: Duration = Duration::hours(1);
/// The most items a filtered page reads.
const FILTERED_PAGE: usize = 1000;

/// The partitions a search reads, newest first.
#[derive(Debug, Clone, PartialEq)]
enum Partitions {
    /// One partition of `by_group` or `by_kind`.
    One(String),
    /// The `by_time` partitions of these UTC days, from `newest` back to `oldest`.
    Days {
        newest: NaiveDate,
        oldest: NaiveDate,
    },
}

/// How a query is read.
#[derive(Debug, Clone, PartialEq)]
struct Plan {
    index: Index,
    partitions: Partitions,
    /// The lowest sort key that may match.
    from: Option<String>,
    /// The highest sort key that may match.
    to: Option<String>,
    /// The `FilterExpression`, its names and its values.
    filter: Vec<String>,
    names: HashMap<String, String>,
    values: HashMap<String, AttributeValue>,
}

impl Plan {
    /// How `q` is read at `now`; `None` when no event can match (an empty time range).
    fn new(q: &EventQuery, words: &[String], now: DateTime<Utc>) -> Option<Self> {
        let group = q.cluster.as_deref().map(EventQuery::cluster_search_group);
        let (index, partition) = match (&group, &q.kind) {
            (Some(group), _) => (Index::Group, Some(keys::group_partition(group))),
            (None, Some(kind)) => (Index::Kind, Some(keys::kind_partition(kind.as_str()))),
            (None, None) => (Index::Time, None),
        };
        let anchor = q.until.unwrap_or(now);
        let since = q.since.or_else(|| {
            (!words.is_empty() || partition.is_none()).then(|| anchor - SEARCH_HORIZON)
        });
        if let (Some(since), Some(until)) = (since, q.until)
            && since >= until
        {
            return None;
        }
        let partitions = match partition {
            Some(partition) => Partitions::One(partition),
            None => Partitions::Days {
                newest: q
                    .until
                    .map_or(now + CLOCK_MARGIN, |u| u - Duration::milliseconds(1))
                    .date_naive(),
                oldest: since.unwrap_or(anchor).date_naive(),
            },
        };
        let mut plan = Self {
            index,
            partitions,
            from: since.map(keys::time_key),
            // Keys keep milliseconds: an event in `until`'s millisecond is read, then left out by
            // the exact test.
            to: q
                .until
                .map(|u| keys::time_key(u + Duration::milliseconds(1))),
            filter: Vec::new(),
            names: HashMap::new(),
            values: HashMap::new(),
        };
        if !q.include_drills {
            plan.require(items::DRILL, AttributeValue::Bool(false));
        }
        if q.actionable_only {
            plan.require(items::ACTIONABLE, AttributeValue::Bool(true));
        }
        if let Some(node) = &q.node {
            plan.require(items::NODE_ID, s(node));
        }
        if let (Some(kind), false) = (&q.kind, index == Index::Kind) {
            plan.require(items::KIND, s(kind.as_str()));
        }
        if let Some(category) = q.category {
            plan.require(items::CATEGORY, s(category.as_str()));
        }
        if let Some(account) = &q.account {
            plan.require(items::ACCOUNT_ID, s(account));
        }
        if let Some(region) = &q.region {
            plan.require(items::REGION, s(region));
        }
        if let (Some(cluster), Some(group)) = (&q.cluster, &group)
            && cluster != group
        {
            // In the group's partition, a member cluster's own events are the ones naming it.
            plan.require(items::CLUSTER_ID, s(cluster));
        }
        for word in words {
            let name = plan.name(items::WORDS);
            let value = plan.value(s(word));
            plan.filter.push(format!("contains({name}, {value})"));
        }
        Some(plan)
    }

    fn name(&mut self, attribute: &str) -> String {
        let placeholder = format!("#{attribute}");
        self.names.insert(placeholder.clone(), attribute.to_owned());
        placeholder
    }

    fn value(&mut self, value: AttributeValue) -> String {
        let placeholder = format!(":f{}", self.values.len());
        self.values.insert(placeholder.clone(), value);
        placeholder
    }

    /// Adds `attribute = value` to the filter.
    fn require(&mut self, attribute: &str, value: AttributeValue) {
        let name = self.name(attribute);
        let value = self.value(value);
        self.filter.push(format!("{name} = {value}"));
    }

    /// The partitions to read, newest first.
    fn partition_keys(&self) -> Vec<String> {
        match &self.partitions {
            Partitions::One(partition) => vec![partition.clone()],
            Partitions::Days { newest, oldest } => newest
                .iter_days()
                .rev()
                .take_while(|day| day >= oldest)
                .map(keys::day_partition)
                .collect(),
        }
    }
}

/// Whether `e` matches `q` with the reference semantics, words matching whole words.
fn matches(e: &MaintenanceEvent, q: &EventQuery, words: &[String]) -> bool {
    matches_query(e, q, &[]) && {
        let event_words = items::words_of(e);
        words.iter().all(|w| event_words.contains(w))
    }
}

impl DynamoStore {
    /// The query of one partition of a plan, newest first, reading `page` items at a time.
    fn search_request(&self, plan: &Plan, partition: String, page: usize) -> QueryFluentBuilder {
        let mut condition = "#pk = :pk".to_owned();
        let mut request = self
            .query()
            .index_name(plan.index.name())
            .scan_index_forward(false)
            .limit(self.page_size(page))
            .expression_attribute_names("#pk", plan.index.partition_key())
            .expression_attribute_values(":pk", s(partition));
        match (&plan.from, &plan.to) {
            (Some(from), Some(to)) => {
                condition.push_str(" AND #sk BETWEEN :from AND :to");
                request = request
                    .expression_attribute_values(":from", s(from))
                    .expression_attribute_values(":to", s(to));
            }
            (Some(from), None) => {
                condition.push_str(" AND #sk >= :from");
                request = request.expression_attribute_values(":from", s(from));
            }
            (None, Some(to)) => {
                condition.push_str(" AND #sk <= :to");
                request = request.expression_attribute_values(":to", s(to));
            }
            (None, None) => {}
        }
        if plan.from.is_some() || plan.to.is_some() {
            request = request.expression_attribute_names("#sk", plan.index.sort_key());
        }
        if !plan.filter.is_empty() {
            request = request.filter_expression(plan.filter.join(" AND "));
            for (placeholder, name) in &plan.names {
                request = request.expression_attribute_names(placeholder, name);
            }
            for (placeholder, value) in &plan.values {
                request = request.expression_attribute_values(placeholder, value.clone());
            }
        }
        request.key_condition_expression(condition)
    }

    /// The events of one partition that match, newest first, at most `wanted`.
    async fn read_partition(
        &self,
        plan: &Plan,
        q: &EventQuery,
        words: &[String],
        partition: String,
        wanted: usize,
    ) -> Result<Vec<MaintenanceEvent>, StoreError> {
        let page = if plan.filter.is_empty() {
            wanted.min(FILTERED_PAGE)
        } else {
            FILTERED_PAGE
        };
        let mut pages = Pages::new(self.search_request(plan, partition, page), "search events");
        let mut found = Vec::new();
        while let Some(items) = pages.next().await? {
            for item in items {
                let Some(stored) =
                    crate::unreadable::skip(&self.unreadable, items::stored_event(&item), || {
                        items::item_name(&item)
                    })?
                else {
                    continue;
                };
                let e = stored.event;
                if matches(&e, q, words) {
                    found.push(e);
                    if found.len() == wanted {
                        return Ok(found);
                    }
                }
            }
        }
        Ok(found)
    }

    /// Events matching `q`, newest first, at most `q.limit`, as of `now`.
    ///
    /// Partitions are read newest first in rounds of doubling width (one day, then the next two
    /// together, then four, ...), so that a search of a busy day stops after one request and a
    /// search of sparse history waits for a handful of rounds, not one request per day.
    pub(super) async fn search_events(
        &self,
        q: &EventQuery,
        now: DateTime<Utc>,
    ) -> Result<Vec<MaintenanceEvent>, StoreError> {
        let words = q.words();
        let plan = match Plan::new(q, &words, now) {
            Some(plan) if q.limit > 0 => plan,
            _ => return Ok(Vec::new()),
        };
        let partitions = plan.partition_keys();
        let mut found = Vec::new();
        let (mut next, mut width) = (0, 1);
        while next < partitions.len() {
            let round = &partitions[next..partitions.len().min(next + width)];
            let wanted = q.limit - found.len();
            let reads = round
                .iter()
                .map(|p| self.read_partition(&plan, q, &words, p.clone(), wanted))
                .collect();
            for events in all_of(reads).await {
                for e in events? {
                    found.push(e);
                    if found.len() == q.limit {
                        return Ok(found);
                    }
                }
            }
            next += round.len();
            width = (width * 2).min(CONCURRENT_REQUESTS);
        }
        Ok(found)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use cachewatch_core::EventKind;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    fn day(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn a_cluster_search_reads_its_group_and_keeps_only_that_cluster() {
        let q = EventQuery {
            cluster: Some("orders-0001-002".into()),
            kind: Some(EventKind::new(EventKind::FAILOVER_COMPLETE)),
            ..EventQuery::default()
        };
        let plan = Plan::new(&q, &[], at("2026-06-11T00:00:00Z")).unwrap();
        assert_eq!(plan.index, Index::Group);
        assert_eq!(plan.partitions, Partitions::One("G#orders".into()));
        assert_eq!(plan.from, None, "without text, the whole partition");
        let values: Vec<_> = plan.values.values().collect();
        assert!(values.contains(&&s("orders-0001-002")));
        assert!(values.contains(&&s("failover_complete")));
    }

    #[test]
    fn a_time_only_search_walks_the_days_back_from_until_or_today() {
        let now = at("2026-06-11T12:00:00Z");
        let q = EventQuery {
            since: Some(at("2026-06-08T10:00:00Z")),
            ..EventQuery::default()
        };
        let plan = Plan::new(&q, &[], now).unwrap();
        assert_eq!(
            plan.partition_keys(),
            [
                "T#2026-06-11",
                "T#2026-06-10",
                "T#2026-06-09",
                "T#2026-06-08"
            ]
        );
        let q = EventQuery {
            until: Some(at("2026-06-03T00:00:00Z")),
            ..EventQuery::default()
        };
        let plan = Plan::new(&q, &[], now).unwrap();
        assert_eq!(
            plan.partitions,
            Partitions::Days {
                newest: day("2026-06-02"),
                oldest: day("2026-03-05"),
            },
            "an until at midnight leaves its own day out; 90 days back without since"
        );
    }

    #[test]
    fn account_and_region_are_filtered_on_their_attributes() {
        let now = at("2026-06-11T12:00:00Z");
        let q = EventQuery {
            account: Some("111122223333".into()),
            region: Some("eu-west-1".into()),
            ..EventQuery::default()
        };
        let plan = Plan::new(&q, &[], now).unwrap();
        assert_eq!(plan.index, Index::Time);
        assert!(
            plan.filter.contains(&"#account_id = :f1".to_owned()),
            "{:?}",
            plan.filter
        );
        assert!(
            plan.filter.contains(&"#region = :f2".to_owned()),
            "{:?}",
            plan.filter
        );
        assert_eq!(plan.values[":f1"], s("111122223333"));
        assert_eq!(plan.names["#region"], items::REGION);
    }

    #[test]
    fn text_without_since_looks_back_ninety_days() {
        let now = at("2026-06-11T12:00:00Z");
        let q = EventQuery {
            kind: Some(EventKind::new(EventKind::SNAPSHOT_FAILED)),
            text: Some("nightly".into()),
            ..EventQuery::default()
        };
        let plan = Plan::new(&q, &q.words(), now).unwrap();
        assert_eq!(plan.index, Index::Kind);
        assert_eq!(plan.from.as_deref(), Some("2026-03-13T12:00:00.000Z"));
    }

    #[test]
    fn an_empty_time_range_reads_nothing() {
        let q = EventQuery {
            since: Some(at("2026-06-11T00:00:00Z")),
            until: Some(at("2026-06-10T00:00:00Z")),
            ..EventQuery::default()
        };
        assert_eq!(Plan::new(&q, &[], at("2026-06-11T12:00:00Z")), None);
    }
}
