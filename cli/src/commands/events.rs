//! `cachewatch events`: search the history; with `--all`, export every matching event a page at
//! a time, in constant memory.

use std::io::Write;

use anyhow::anyhow;
use cachewatch_core::history::export::{EXPORT_PAGE, EventPages};
use cachewatch_core::history::query::{EventQuery, MAX_LIMIT, parse_when};
use cachewatch_core::history::store::EventStore;
use cachewatch_core::model::kind::{Category, EventKind};

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

fn query_of<S>(args: &EventsArgs, ctx: &Context<S>) -> Result<EventQuery, Failure> {
    let input = |e: String| Failure::Input(anyhow!(e));
    let when = |raw: &Option<String>| {
        raw.as_deref()
            .map(|r| parse_when(r, ctx.now))
            .transpose()
            .map_err(|e| input(e.to_string()))
    };
    let category = args
        .category
        .as_deref()
        .map(|c| {
            Category::parse(c).ok_or_else(|| {
                input(format!(
                    "{c:?} is not a category: node_replacement, failover or other"
                ))
            })
        })
        .transpose()?;
    let kind = args
        .kind
        .as_deref()
        .map(|k| {
            EventKind::from_event_name(k)
                .ok_or_else(|| input(format!("{k:?} is not an event kind")))
        })
        .transpose()?;
    if args.limit == 0 || args.limit > MAX_LIMIT {
        return Err(input(format!(
            "--limit must be between 1 and {MAX_LIMIT}; to export more, use --all with --csv or --jsonl"
        )));
    }
    Ok(EventQuery {
        cluster: args.cluster.clone(),
        node: args.node.clone(),
        kind,
        category,
        since: when(&args.since)?,
        until: when(&args.until)?,
        text: args.text.clone(),
        limit: args.limit,
        include_drills: args.drills,
        actionable_only: false,
    })
}
