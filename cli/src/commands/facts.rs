//! The facts of a cluster for `runbook`, `show` and `upcoming`: read from ElastiCache when AWS
//! credentials are at hand (unless `--offline`) and kept in the history with the time they were
//! read; otherwise the last facts kept, with their age (the rule is the application's,
//! [`cachewatch_app::known_facts`]; this module prints it and chooses the client).

use std::future::Future;
use std::io::Write;
use std::pin::Pin;
use std::task::Poll;

use cachewatch_adapters::aws::credentials_configured;
use cachewatch_adapters::elasticache::ElastiCache;
use cachewatch_adapters::placed_facts::PlacedFacts;
use cachewatch_core::cluster::kept::{FactsStore, facts_line, impact_line};
use cachewatch_core::cluster::source::NoFacts;
use cachewatch_core::{Maintenance, MaintenanceEvent};
use chrono::{DateTime, Utc};

pub use cachewatch_app::{Known, NOT_LOOKED_UP, known_facts};

use super::{Context, Failure};

/// How many clusters are looked up at once.
pub const LOOKUPS_AT_ONCE: usize = 4;

/// Whether ElastiCache is asked, and with which client; or why not.
pub enum Asker<'a> {
    /// The command's own lookups.
    Borrowed(&'a PlacedFacts),
    /// Lookups with the standard AWS configuration.
    Owned(Box<PlacedFacts>),
    /// Nothing is asked, for this reason.
    Not(&'static str),
}

impl<'a> Asker<'a> {
    /// The same rule for every command: `--offline` asks nothing; otherwise the command's
    /// client, or one from the standard AWS configuration when credentials are at hand.
    pub async fn choose<S>(ctx: &'a Context<S>, offline: bool) -> Asker<'a> {
        match (&ctx.facts, offline) {
            (_, true) => Asker::Not("not looked up now: --offline"),
            (Some(facts), false) => Asker::Borrowed(facts),
            (None, false) if credentials_configured() => {
                let sdk = cachewatch_adapters::aws::load().await;
                let elasticache = ElastiCache::from_sdk_config(&sdk);
                Asker::Owned(Box::new(PlacedFacts::for_caller(
                    elasticache,
                    &ctx.config,
                    &sdk,
                )))
            }
            (None, false) => Asker::Not("not looked up now: no AWS credentials at hand"),
        }
    }

    /// The lookups, when ElastiCache is asked.
    pub fn client(&self) -> Option<&PlacedFacts> {
        match self {
            Asker::Borrowed(e) => Some(e),
            Asker::Owned(e) => Some(e),
            Asker::Not(_) => None,
        }
    }

    /// Why nothing is asked (or, when something is, what to say if the answer is kept).
    pub fn why_not(&self) -> &'static str {
        match self {
            Asker::Not(why) => why,
            _ => NOT_LOOKED_UP,
        }
    }

    /// What is known of the cluster of `event`.
    pub async fn known<S: FactsStore>(
        &self,
        store: &S,
        event: &MaintenanceEvent,
        maintenance: Option<&Maintenance>,
        now: DateTime<Utc>,
    ) -> Known {
        match self.client() {
            Some(client) => {
                known_facts(store, client, event, maintenance, now, NOT_LOOKED_UP).await
            }
            None => known_facts(store, &NoFacts, event, maintenance, now, self.why_not()).await,
        }
    }
}

/// The lines `show` and `upcoming` print for what is known: the facts that decide the
/// impact, where they come from, and the impact as AWS documents it.
pub fn write_known(known: &Known, now: DateTime<Utc>, out: &mut dyn Write) -> Result<(), Failure> {
    let mut field = |name: &str, value: String| writeln!(out, "  {name:<14}{}", printable(&value));
    let Some(read) = known.read_text(now) else {
        let why = known.why_not_now.as_deref().unwrap_or(NOT_LOOKED_UP);
        field(
            "facts",
            format!(
                "not looked up: {}",
                why.trim_start_matches("not looked up now: ")
            ),
        )?;
        return Ok(());
    };
    field("facts", facts_line(&known.facts))?;
    field("", read)?;
    let (impact, source) = impact_line(&known.facts);
    field("impact", format!("{impact} ({source})"))?;
    Ok(())
}

/// Text from outside with control characters made visible.
fn printable(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_control() { '?' } else { c })
        .collect()
}

/// Runs `futures` at most [`LOOKUPS_AT_ONCE`] at a time; the outputs in order.
pub async fn bounded<F: Future>(futures: Vec<F>) -> Vec<F::Output> {
    let mut outputs = Vec::with_capacity(futures.len());
    let mut futures = futures.into_iter().peekable();
    while futures.peek().is_some() {
        let batch: Vec<F> = futures.by_ref().take(LOOKUPS_AT_ONCE).collect();
        outputs.extend(join_all(batch).await);
    }
    outputs
}

async fn join_all<F: Future>(futures: Vec<F>) -> Vec<F::Output> {
    let mut pending: Vec<Pin<Box<F>>> = futures.into_iter().map(Box::pin).collect();
    let mut done: Vec<Option<F::Output>> = pending.iter().map(|_| None).collect();
    std::future::poll_fn(|cx| {
        let mut waiting = false;
        for (future, output) in pending.iter_mut().zip(done.iter_mut()) {
            if output.is_none() {
                match future.as_mut().poll(cx) {
                    Poll::Ready(value) => *output = Some(value),
                    Poll::Pending => waiting = true,
                }
            }
        }
        if waiting {
            Poll::Pending
        } else {
            Poll::Ready(())
        }
    })
    .await;
    done.into_iter().flatten().collect()
}
