//! `cachewatch report`: the yearly maintenance log, as Markdown, CSV or an SVG chart. The log is
//! `cachewatch_app::report::yearly`'s; this reads the arguments and the engines, and prints.

use std::io::Write;

use anyhow::anyhow;
use cachewatch_adapters::elasticache::ElastiCache;
use cachewatch_app::report::{self, ReportError, ReportRequest};
use cachewatch_core::history::query::MAX_LIMIT;
use cachewatch_core::history::response::ResponseStore;
use cachewatch_core::history::store::EventStore;
use cachewatch_core::operations::report::{EngineDirectory, ReportFormat, year_of};

use super::{Context, Failure, elasticache};
use crate::args::{ReportArgs, ReportFormatArg};

pub async fn run<S: EventStore + ResponseStore>(
    ctx: &Context<S>,
    args: &ReportArgs,
    out: &mut dyn Write,
) -> Result<(), Failure> {
    let engines = engines(ctx, args).await;
    let request = ReportRequest {
        year: args.year.unwrap_or_else(|| year_of(ctx.now, ctx.zone)),
        zone: ctx.zone,
        include_drills: args.drills,
        engines: &engines,
        now: ctx.now,
    };
    let done = match report::yearly(&ctx.store, &request).await {
        Ok(done) => done,
        Err(ReportError::Year(year)) => {
            return Err(Failure::Input(anyhow!(
                "--year {year} is not a year cachewatch can report on (1970 to 9999)"
            )));
        }
        Err(ReportError::Store(e)) => return Err(e.into()),
    };
    for category in &done.left_out {
        eprintln!(
            "cachewatch: more than {MAX_LIMIT} {category} events in the period: the oldest are left out of the log"
        );
    }
    let format = match args.format {
        ReportFormatArg::Markdown => ReportFormat::Markdown,
        ReportFormatArg::Csv => ReportFormat::Csv,
        ReportFormatArg::Svg => ReportFormat::Svg,
    };
    out.write_all(done.report.render(format).as_bytes())?;
    Ok(())
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
