//! `cachewatch events`: search the history; with `--all`, export every matching event a page at
//! a time, in constant memory.

use std::io::Write;

use anyhow::anyhow;
use cachewatch_core::history::export::{EXPORT_PAGE, EventPages};
use cachewatch_core::history::filters::{self, Reading};
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
    let query = query_of(args, ctx)?;
    if args.all {
        return export(ctx, query, args.listing(), out).await;
    }
    let events = ctx.store.search(&query).await?;
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

/// The query the arguments ask for, read by the same rules as the API's and the pages' filters.
fn query_of<S>(args: &EventsArgs, ctx: &Context<S>) -> Result<EventQuery, Failure> {
    let account = args
        .account
        .as_deref()
        .map(|raw| ctx.config.account_id_of(raw).unwrap_or(raw).to_owned());
    let named = [
        ("account", &account),
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
    let reading = Reading {
        default_limit: args.limit,
        max_limit: MAX_LIMIT,
        strict: true,
    };
    let (mut query, _) = filters::read(&pairs, ctx.now, reading).map_err(|e| {
        let hint = if e.parameter == "limit" {
            "; to export more, use --all with --csv or --jsonl"
        } else {
            ""
        };
        Failure::Input(anyhow!("--{}: {}{hint}", e.parameter, e.message))
    })?;
    query.include_drills = args.drills;
    Ok(query)
}
