//! `cachewatch runbook`: the runbook of an event or maintenance, in the format asked for.

use std::io::Write;

use anyhow::anyhow;
use cachewatch_adapters::files::read_runbooks;
use cachewatch_app::lookup::{self, FactsFrom, RunbookFailure};
use cachewatch_core::cluster::kept::FactsStore;
use cachewatch_core::cluster::source::{FactsSource, NoFacts};
use cachewatch_core::history::response::ResponseStore;
use cachewatch_core::history::store::EventStore;
use cachewatch_core::runbook::RunbookFormat;

use super::facts::{Asker, NOT_LOOKED_UP};
use super::{Context, Failure, resolve_id};
use crate::args::RunbookArgs;

/// Renders the runbook with what ElastiCache says of the cluster when AWS credentials are at
/// hand (the same lookup as the functions'), and without looking anything up with `--offline`:
/// then with the facts kept from the last lookup, if any, and their age.
pub async fn run<S: EventStore + FactsStore + ResponseStore>(
    ctx: &Context<S>,
    args: &RunbookArgs,
    out: &mut dyn Write,
) -> Result<(), Failure> {
    let asker = Asker::choose(ctx, args.offline).await;
    match asker.client() {
        Some(client) => render_with(ctx, args, client, NOT_LOOKED_UP, out).await,
        None => render_with(ctx, args, &NoFacts, asker.why_not(), out).await,
    }
}

/// The runbook, with what `facts` knows of the cluster.
pub async fn render<S: EventStore + FactsStore + ResponseStore, F: FactsSource>(
    ctx: &Context<S>,
    args: &RunbookArgs,
    facts: &F,
    out: &mut dyn Write,
) -> Result<(), Failure> {
    render_with(ctx, args, facts, NOT_LOOKED_UP, out).await
}

/// The runbook, with what `facts` knows of the cluster, or else the facts kept, not read now
/// because `why_not`.
async fn render_with<S: EventStore + FactsStore + ResponseStore, F: FactsSource>(
    ctx: &Context<S>,
    args: &RunbookArgs,
    facts: &F,
    why_not: &str,
    out: &mut dyn Write,
) -> Result<(), Failure> {
    let format = RunbookFormat::parse(&args.format).ok_or_else(|| {
        Failure::Input(anyhow!(
            "{:?} is not a runbook format: markdown, github, slack, text or html",
            args.format
        ))
    })?;
    let id = resolve_id(&ctx.store, &args.id).await?;
    let runbooks =
        read_runbooks(ctx.runbook_dir.as_deref()).map_err(|e| Failure::Input(e.into()))?;
    let subject = lookup::subject(&ctx.store, &id)
        .await?
        .ok_or_else(|| Failure::Other(anyhow!("event {id} disappeared while reading it")))?;
    let runbook = subject
        .runbook(
            &ctx.store,
            &runbooks,
            FactsFrom {
                source: facts,
                why_not,
            },
            &ctx.config.owners(),
            ctx.now,
        )
        .await
        .map_err(|e| match e {
            RunbookFailure::Store(e) => Failure::from(e),
            RunbookFailure::Render(e) => Failure::Input(e.into()),
        })?;
    write!(out, "{}", runbook.render(format))?;
    Ok(())
}
