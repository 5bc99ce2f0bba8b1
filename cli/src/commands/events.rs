//! `cachewatch events`: search the history.

use std::io::Write;

use anyhow::anyhow;
use cachewatch_core::kind::{Category, EventKind};
use cachewatch_core::query::{EventQuery, MAX_LIMIT, parse_when};
use cachewatch_core::store::EventStore;

use super::{Context, Failure, write_json};
use crate::args::{EventsArgs, Listing};
use crate::render;

pub async fn run<S: EventStore>(
    ctx: &Context<S>,
    args: &EventsArgs,
    out: &mut dyn Write,
) -> Result<(), Failure> {
    let query = query_of(args, ctx)?;
    let events = ctx.store.search(&query).await?;
    match args.listing() {
        Listing::Json => write_json(out, &events),
        Listing::Csv => render::events_csv(&events, out),
        Listing::Table => render::events_table(&events, ctx.zone, out),
    }
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
        return Err(input(format!("--limit must be between 1 and {MAX_LIMIT}")));
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
