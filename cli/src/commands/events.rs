//! `cachewatch events`: search the history; with `--all`, export every matching event a page at
//! a time, in constant memory.

use std::io::Write;

use anyhow::anyhow;
use cachewatch_app::search::{self, SearchError, SearchRequest};
use cachewatch_core::history::export::{EXPORT_PAGE, EventPages};
use cachewatch_core::history::filters::{BadFilter, Reading};
use cachewatch_core::history::query::{EventQuery, MAX_LIMIT};
use cachewatch_core::history::store::EventStore;

use super::{Context, Failure, write_json};
use crate::args::{EventsArgs, Listing};
use crate::render;

pub async fn run<S: EventStore>(
    ctx: &Context<S>,
    args: &EventsArgs,
    out: &mut dyn Write,
) -> Result<(), Failure> {
    let filters = filters_of(args);
    let request = SearchRequest {
        filters: &filters,
        reading: Reading {
            default_limit: args.limit,
            max_limit: MAX_LIMIT,
            strict: true,
        },
        include_drills: args.drills,
        now: ctx.now,
    };
    if args.all {
        let (query, _) = search::query_of(&ctx.config, &request).map_err(refused)?;
        return export(ctx, query, args.listing(), out).await;
    }
    let events = match search::search(&ctx.store, &ctx.config, &request).await {
        Ok(found) => found.events,
        Err(SearchError::Filter(bad)) => return Err(refused(bad)),
        Err(SearchError::Store(e)) => return Err(e.into()),
    };
    match args.listing() {
        Listing::Json => write_json(out, &events),
        Listing::JsonLines => write_json_lines(&events, out),
        Listing::Csv => render::events_csv(&events, out),
        Listing::Table => render::events_table(&events, ctx.zone, out),
    }
}

/// Every event `query` matches, written a page at a time as it is read.
async fn export<S: EventStore>(
    ctx: &Context<S>,
    query: EventQuery,
    listing: Listing,
    out: &mut dyn Write,
) -> Result<(), Failure> {
    if !matches!(listing, Listing::Csv | Listing::JsonLines) {
        return Err(Failure::Input(anyhow!(
            "--all is for exports: add --csv or --jsonl (a --json array or a table of the whole \
             history would be held in memory)"
        )));
    }
    let mut pages = EventPages::new(&ctx.store, query, EXPORT_PAGE);
    if listing == Listing::Csv {
        let mut csv = render::EventsCsv::start(out)?;
        while let Some(events) = pages.next_page().await? {
            csv.write(&events)?;
        }
        return csv.finish();
    }
    while let Some(events) = pages.next_page().await? {
        write_json_lines(&events, out)?;
    }
    out.flush()?;
    Ok(())
}

/// One event a line, as JSON.
fn write_json_lines(
    events: &[cachewatch_core::MaintenanceEvent],
    out: &mut dyn Write,
) -> Result<(), Failure> {
    for e in events {
        serde_json::to_writer(&mut *out, e).map_err(|e| Failure::from(std::io::Error::from(e)))?;
        writeln!(out)?;
    }
    Ok(())
}

/// The filters the arguments give, by the names the API and the pages use.
fn filters_of(args: &EventsArgs) -> Vec<(String, String)> {
    let named = [
        ("account", &args.account),
        ("region", &args.region),
        ("cluster", &args.cluster),
        ("node", &args.node),
        ("kind", &args.kind),
        ("category", &args.category),
        ("since", &args.since),
        ("until", &args.until),
        ("text", &args.text),
    ];
    let mut pairs: Vec<(String, String)> = named
        .into_iter()
        .filter_map(|(name, value)| Some((name.to_owned(), value.clone()?)))
        .collect();
    pairs.push(("limit".to_owned(), args.limit.to_string()));
    pairs
}

/// A filter that does not read, named as its argument.
fn refused(e: BadFilter) -> Failure {
    let hint = if e.parameter == "limit" {
        "; to export more, use --all with --csv or --jsonl"
    } else {
        ""
    };
    Failure::Input(anyhow!("--{}: {}{hint}", e.parameter, e.message))
}
