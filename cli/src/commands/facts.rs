//! The facts of a cluster for `runbook`, `show` and `upcoming`: read from ElastiCache when AWS
//! credentials are at hand (unless `--offline`) and kept in the history with the time they were
//! read; otherwise the last facts kept, with their age.

use std::future::Future;
use std::io::Write;
use std::pin::Pin;
use std::task::Poll;

use cachewatch_adapters::aws::credentials_configured;
use cachewatch_adapters::elasticache::ElastiCache;
use cachewatch_core::enrich::{FactsSource, NoFacts};
use cachewatch_core::facts::ClusterFacts;
use cachewatch_core::facts_history::{
    FactsRecord, FactsStore, facts_key, facts_line, impact_line, worth_keeping,
};
use cachewatch_core::timefmt::relative;
use cachewatch_core::{Maintenance, MaintenanceEvent};
use chrono::{DateTime, Utc};
use serde::Serialize;

use super::{Context, Failure};

/// How many clusters are looked up at once.
pub const LOOKUPS_AT_ONCE: usize = 4;

/// Why the runbook's facts were not read now, when the source cannot say better.
pub const NOT_LOOKED_UP: &str = "not looked up now";

/// A lookup in ElastiCache, which the runbook names with the time it was made.
pub struct Looked<'a>(pub &'a ElastiCache);

impl FactsSource for Looked<'_> {
    async fn facts_for(
        &self,
        event: &MaintenanceEvent,
        maintenance: Option<&Maintenance>,
    ) -> ClusterFacts {
        self.0.facts_for(event, maintenance).await
    }

    fn looks_up(&self) -> bool {
        true
    }
}

/// Whether ElastiCache is asked, and with which client; or why not.
pub enum Asker<'a> {
    /// The command's own client.
    Borrowed(&'a ElastiCache),
    /// A client from the standard AWS configuration.
    Owned(ElastiCache),
    /// Nothing is asked, for this reason.
    Not(&'static str),
}

impl<'a> Asker<'a> {
    /// The same rule for every command: `--offline` asks nothing; otherwise the command's
    /// client, or one from the standard AWS configuration when credentials are at hand.
    pub async fn choose<S>(ctx: &'a Context<S>, offline: bool) -> Asker<'a> {
        match (&ctx.elasticache, offline) {
            (_, true) => Asker::Not("not looked up now: --offline"),
            (Some(elasticache), false) => Asker::Borrowed(elasticache),
            (None, false) if credentials_configured() => Asker::Owned(super::elasticache().await),
            (None, false) => Asker::Not("not looked up now: no AWS credentials at hand"),
        }
    }

    /// The client, when ElastiCache is asked.
    pub fn client(&self) -> Option<&ElastiCache> {
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
                known_facts(
                    store,
                    &Looked(client),
                    event,
                    maintenance,
                    now,
                    NOT_LOOKED_UP,
                )
                .await
            }
            None => known_facts(store, &NoFacts, event, maintenance, now, self.why_not()).await,
        }
    }
}

/// What is known of a cluster, and where it comes from.
#[derive(Debug, Clone, Serialize)]
pub struct Known {
    /// The cluster or group looked up.
    pub cluster: String,
    /// The facts.
    pub facts: ClusterFacts,
    /// When they were read from ElastiCache.
    pub read_at: Option<DateTime<Utc>>,
    /// Whether they were read now (rather than kept from an earlier lookup).
    pub fresh: bool,
    /// Why they were not read now.
    pub why_not_now: Option<String>,
}

impl Known {
    /// How a runbook names where the facts come from.
    pub fn read_text(&self, now: DateTime<Utc>) -> Option<String> {
        let at = self.read_at?;
        Some(match (&self.why_not_now, self.fresh) {
            (Some(why), false) => format!(
                "read {} from ElastiCache, {} (kept from the last lookup; {why})",
                at.format("%a %d %b %Y %H:%M UTC"),
                relative(now, at)
            ),
            _ => format!(
                "read {} from ElastiCache (now)",
                at.format("%a %d %b %Y %H:%M UTC")
            ),
        })
    }
}

/// The facts `source` gives for `event`; those read from ElastiCache are kept in `store`, and
/// when none could be read the last ones kept stand in, with why they were not read now.
pub async fn known_facts<S: FactsStore, F: FactsSource>(
    store: &S,
    source: &F,
    event: &MaintenanceEvent,
    maintenance: Option<&Maintenance>,
    now: DateTime<Utc>,
    why_not: &str,
) -> Known {
    let cluster = facts_key(event).to_owned();
    let looked = source.facts_for(event, maintenance).await;
    let mut known = Known {
        cluster: cluster.clone(),
        facts: looked,
        read_at: None,
        fresh: false,
        why_not_now: None,
    };
    if worth_keeping(&known.facts) {
        if source.looks_up() && !event.drill {
            let record = FactsRecord {
                cluster_id: cluster,
                read_at: now,
                facts: known.facts.clone(),
            };
            if let Err(e) = store.record_facts(&record).await {
                eprintln!("cachewatch: warning: the facts read are not kept in the history: {e}");
            }
            known.read_at = Some(now);
            known.fresh = true;
        }
        return known;
    }
    known.why_not_now = Some(match (source.looks_up(), &known.facts.unavailable) {
        (true, Some(why)) => format!("looking it up again failed: {why}"),
        (true, None) => "looking it up again found nothing".to_owned(),
        (false, _) => why_not.to_owned(),
    });
    if event.drill {
        return known;
    }
    match store.latest_facts(&known.cluster).await {
        Ok(Some(kept)) => {
            known.facts = kept.facts;
            known.read_at = Some(kept.read_at);
        }
        Ok(None) => {}
        Err(e) => eprintln!("cachewatch: warning: the facts kept cannot be read: {e}"),
    }
    known
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
