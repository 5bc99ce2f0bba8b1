//! The yearly maintenance log: every maintenance of a year (those announced up to
//! [`NOTICE_LEAD`] before it included), the outcomes people recorded for them, and the engines
//! the door read, built into one [`YearReport`] the door prints as it is asked.

use std::collections::BTreeSet;

use cachewatch_core::history::query::{EventQuery, MAX_LIMIT};
use cachewatch_core::history::response::ResponseStore;
use cachewatch_core::history::store::{EventStore, StoreError};
use cachewatch_core::lifecycle::Maintenance;
use cachewatch_core::model::event::EventId;
use cachewatch_core::model::kind::Category;
use cachewatch_core::model::timefmt::Zone;
use cachewatch_core::operations::report::{
    EngineDirectory, NOTICE_LEAD, YearReport, build_report, year_start,
};
use chrono::{DateTime, Duration, Utc};

/// One yearly log.
#[derive(Debug, Clone)]
pub struct ReportRequest<'a> {
    /// The year, in `zone`.
    pub year: i32,
    /// The zone the year and its months are read in.
    pub zone: Zone,
    /// Whether drills' maintenances are in it.
    pub include_drills: bool,
    /// The engines of the clusters, as ElastiCache reported them (empty: every one unknown).
    pub engines: &'a EngineDirectory,
    /// When it is made.
    pub now: DateTime<Utc>,
}

/// The yearly log, and what it had to leave out.
#[derive(Debug)]
pub struct Reported {
    /// The log.
    pub report: YearReport,
    /// The categories with more than [`MAX_LIMIT`] events in the period: their oldest are left
    /// out.
    pub left_out: Vec<Category>,
}

/// Why no log was made.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    /// A year outside 1970 to 9999, or one the zone cannot start.
    #[error("{0} is not a year cachewatch can report on (1970 to 9999)")]
    Year(i32),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The maintenance log of `request.year`.
pub async fn yearly<S: EventStore + ResponseStore>(
    store: &S,
    request: &ReportRequest<'_>,
) -> Result<Reported, ReportError> {
    let year = request.year;
    let bounds = (1970..=9999)
        .contains(&year)
        .then(|| year_start(year, request.zone).zip(year_start(year + 1, request.zone)))
        .flatten();
    let (start, end) = bounds.ok_or(ReportError::Year(year))?;
    let (maintenances, left_out) =
        maintenances_between(store, start - NOTICE_LEAD, end, request.include_drills).await?;
    // Outcomes are recorded after the work, sometimes much later: every one up to now counts.
    let outcomes = store
        .outcomes_between(
            start - NOTICE_LEAD,
            end.max(request.now) + Duration::days(1),
        )
        .await?;
    let report = build_report(
        year,
        request.zone,
        &maintenances,
        &outcomes,
        request.engines,
        request.include_drills,
        request.now,
    );
    Ok(Reported { report, left_out })
}

/// Every maintenance with an event between `since` and `until` (the lifecycle events of the
/// period, then the maintenance each belongs to), and the categories whose events were too many
/// to read them all.
async fn maintenances_between<S: EventStore>(
    store: &S,
    since: DateTime<Utc>,
    until: DateTime<Utc>,
    include_drills: bool,
) -> Result<(Vec<Maintenance>, Vec<Category>), StoreError> {
    let mut ids: BTreeSet<EventId> = BTreeSet::new();
    let mut left_out = Vec::new();
    for category in [Category::NodeReplacement, Category::Failover] {
        let query = EventQuery {
            category: Some(category),
            since: Some(since),
            until: Some(until),
            limit: MAX_LIMIT,
            include_drills,
            ..EventQuery::default()
        };
        let events = store.search(&query).await?;
        if events.len() >= MAX_LIMIT {
            left_out.push(category);
        }
        ids.extend(events.into_iter().filter_map(|e| e.maintenance_id));
    }
    let mut maintenances: Vec<Maintenance> = Vec::with_capacity(ids.len());
    for id in &ids {
        if let Some(m) = store.maintenance(id).await?
            && !maintenances.iter().any(|known| known.id == m.id)
        {
            maintenances.push(m);
        }
    }
    Ok((maintenances, left_out))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ingest::tests::{SNS_EVENT, World, at};
    use crate::{Door, Input};
    use cachewatch_core::operations::report::ReportFormat;

    #[tokio::test]
    async fn a_years_log_holds_its_maintenances_and_a_year_out_of_range_is_refused() {
        let world = World::new();
        world
            .ingest(Door::Sns, Input::Document(SNS_EVENT), false)
            .await
            .unwrap();
        let engines = EngineDirectory::new();
        let ask = |year| ReportRequest {
            year,
            zone: Zone::Utc,
            include_drills: false,
            engines: &engines,
            now: at("2026-12-31T12:00:00Z"),
        };

        let this_year = yearly(&world.store, &ask(2026)).await.unwrap();
        let earlier = yearly(&world.store, &ask(2020)).await.unwrap();
        let refused = yearly(&world.store, &ask(10_000)).await.unwrap_err();

        let csv = |r: &Reported| r.report.render(ReportFormat::Csv);
        assert!(csv(&this_year).contains("ledger"), "{}", csv(&this_year));
        assert!(!csv(&earlier).contains("ledger"), "{}", csv(&earlier));
        assert!(this_year.left_out.is_empty());
        assert!(matches!(refused, ReportError::Year(10_000)), "{refused:?}");
    }
}
