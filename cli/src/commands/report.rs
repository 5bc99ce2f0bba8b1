//! `cachewatch report`: the yearly maintenance log, as Markdown, CSV or an SVG chart.

use std::collections::BTreeSet;
use std::io::Write;

use anyhow::anyhow;
use cachewatch_adapters::elasticache::ElastiCache;
use cachewatch_core::history::query::{EventQuery, MAX_LIMIT};
use cachewatch_core::history::response::ResponseStore;
use cachewatch_core::history::store::EventStore;
use cachewatch_core::lifecycle::Maintenance;
use cachewatch_core::model::event::EventId;
use cachewatch_core::model::kind::Category;
use cachewatch_core::operations::report::{
    EngineDirectory, NOTICE_LEAD, ReportFormat, build_report, year_of, year_start,
};
use chrono::{DateTime, Duration, Utc};

use super::{Context, Failure, elasticache};
use crate::args::{ReportArgs, ReportFormatArg};

pub async fn run<S: EventStore + ResponseStore>(
    ctx: &Context<S>,
    args: &ReportArgs,
    out: &mut dyn Write,
) -> Result<(), Failure> {
    let year = args.year.unwrap_or_else(|| year_of(ctx.now, ctx.zone));
    let bounds = (1970..=9999)
        .contains(&year)
        .then(|| year_start(year, ctx.zone).zip(year_start(year + 1, ctx.zone)))
        .flatten();
    let Some((start, end)) = bounds else {
        return Err(Failure::Input(anyhow!(
            "--year {year} is not a year cachewatch can report on (1970 to 9999)"
        )));
    };
    let maintenances = maintenances_between(ctx, start - NOTICE_LEAD, end, args.drills).await?;
    // Outcomes are recorded after the work, sometimes much later: every one up to now counts.
    let outcomes = ctx
        .store
        .outcomes_between(start - NOTICE_LEAD, end.max(ctx.now) + Duration::days(1))
        .await?;
    let engines = engines(ctx, args).await;
    let report = build_report(
        year,
        ctx.zone,
        &maintenances,
        &outcomes,
        &engines,
        args.drills,
        ctx.now,
    );
    let format = match args.format {
        ReportFormatArg::Markdown => ReportFormat::Markdown,
        ReportFormatArg::Csv => ReportFormat::Csv,
        ReportFormatArg::Svg => ReportFormat::Svg,
    };
    out.write_all(report.render(format).as_bytes())?;
    Ok(())
}

/// Every maintenance with an event between `since` and `until`: the lifecycle events of the
/// period, then the maintenance each belongs to.
async fn maintenances_between<S: EventStore>(
    ctx: &Context<S>,
    since: DateTime<Utc>,
    until: DateTime<Utc>,
    include_drills: bool,
) -> Result<Vec<Maintenance>, Failure> {
    let mut ids: BTreeSet<EventId> = BTreeSet::new();
    for category in [Category::NodeReplacement, Category::Failover] {
        let query = EventQuery {
            category: Some(category),
            since: Some(since),
            until: Some(until),
            limit: MAX_LIMIT,
            include_drills,
            ..EventQuery::default()
        };
        let events = ctx.store.search(&query).await?;
        if events.len() >= MAX_LIMIT {
            eprintln!(
                "cachewatch: more than {MAX_LIMIT} {category} events in the period: the oldest are left out of the log"
            );
        }
        ids.extend(events.into_iter().filter_map(|e| e.maintenance_id));
    }
    let mut maintenances = Vec::with_capacity(ids.len());
    for id in &ids {
        if let Some(m) = ctx.store.maintenance(id).await?
            && !maintenances
                .iter()
                .any(|known: &Maintenance| known.id == m.id)
        {
            maintenances.push(m);
        }
    }
    Ok(maintenances)
}

/// The engines ElastiCache reports, when asked (`--elasticache`, or a deployed stack's history);
/// otherwise, or when it cannot answer, none (every engine reads `unknown`).
async fn engines<S>(ctx: &Context<S>, args: &ReportArgs) -> EngineDirectory {
    let owned: ElastiCache;
    let ec = match (&ctx.elasticache, args.elasticache) {
        (Some(ec), _) => ec,
        (None, true) => {
            owned = elasticache().await;
            &owned
        }
        (None, false) => return EngineDirectory::new(),
    };
    match ec.coverage().await {
        Ok(fleet) => EngineDirectory::from_fleet(&fleet),
        Err(e) => {
            eprintln!(
                "cachewatch: engines are shown as unknown: cannot list the clusters: {:#}",
                anyhow!(e)
            );
            EngineDirectory::new()
        }
    }
}
