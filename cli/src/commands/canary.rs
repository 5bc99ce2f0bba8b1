//! `cachewatch canary`: publishes a synthetic ElastiCache-shaped notification to the stack's
//! topic and waits, bounded, for it to appear in the history: proof that the alert path carries
//! a message end to end. It is stored as a canary, never alerted, and kept out of normal searches.

use std::io::Write;
use std::time::Duration;

use anyhow::anyhow;
use cachewatch_adapters::alert_path::AlertPath;
use cachewatch_core::alerting::canary::{CANARY_SOURCE, arrived, canary_body};
use cachewatch_core::history::query::EventQuery;
use cachewatch_core::history::store::EventStore;
use chrono::Utc;

use super::{Context, Failure};
use crate::args::CanaryArgs;

/// How often the history is read while waiting.
const POLL: Duration = Duration::from_millis(250);

pub async fn run<S: EventStore>(
    ctx: &Context<S>,
    args: &CanaryArgs,
    out: &mut dyn Write,
) -> Result<(), Failure> {
    let topic = args
        .topic
        .as_deref()
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .ok_or_else(|| {
            Failure::Input(anyhow!(
                "which topic? --topic ARN or CACHEWATCH_TOPIC_ARN (the stack's TopicArn output)"
            ))
        })?;
    let path = AlertPath::from_sdk_config(&cachewatch_adapters::aws::load().await);
    let published_at = Utc::now();
    let id = format!(
        "canary-{}",
        published_at.timestamp_nanos_opt().unwrap_or_default()
    );
    path.publish_canary(topic, &id, &canary_body(&id, published_at))
        .await
        .map_err(|e| Failure::Other(anyhow!(e).context("cannot publish the canary")))?;
    let query = EventQuery {
        cluster: Some(CANARY_SOURCE.to_owned()),
        since: Some(published_at - chrono::Duration::minutes(5)),
        include_drills: true,
        ..EventQuery::default()
    };
    let deadline = tokio::time::Instant::now() + Duration::from_secs(args.wait);
    loop {
        let events = ctx.store.search(&query).await?;
        if let Some(event) = arrived(&events, &id) {
            let took = (event.received_at - published_at).num_milliseconds().max(0);
            writeln!(
                out,
                "Canary {id} arrived: {:.1} s end to end, from the topic to the history.",
                took as f64 / 1000.0
            )?;
            return Ok(());
        }
        if tokio::time::Instant::now() >= deadline {
            return Err(Failure::Other(anyhow!(
                "canary {id} did not arrive within {} s: the alert path is broken somewhere between the topic and the history; `cachewatch audit` checks each link",
                args.wait
            )));
        }
        tokio::time::sleep(POLL).await;
    }
}
