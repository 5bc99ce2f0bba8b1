//! The ingest function: each record of an SNS event from ElastiCache, and each AWS Health event
//! about ElastiCache that the stack's EventBridge rule delivers, goes through the one ingest
//! pipeline (parse, store, lifecycle), then its alerts are recorded and sent.
//!
//! The payload stays JSON (`serde_json::Value`) rather than a typed `aws_lambda_events` envelope:
//! an SNS event is split into its records here, and every other payload (an EventBridge event, a
//! direct invocation with any shape cachewatch reads) is one document for the one parser.
//!
//! Records are handled one by one: a record that cannot be read (a poison record) does not keep
//! the others from being stored. The invocation then fails, with an error type that says whether a
//! retry can help: Lambda retries the whole event (the good records are stored once: ingest is
//! idempotent) and, when retries are spent, sends it to the stack's dead-letter queue.
#![warn(missing_docs)]

use cachewatch_app::admit::TopicGate;
use cachewatch_app::{
    Alerting, Alerts, Door, IngestError as Refused, IngestRequest, Input, Ports, Store,
};
use cachewatch_core::alerting::delivery::ChatSink;
use cachewatch_core::alerting::notify::NotifySettings;
use cachewatch_core::cluster::source::FactsSource;
use cachewatch_core::config::Config;
use cachewatch_core::config::spokes::OrganizationStore;
use cachewatch_core::history::store::StoreError;
use cachewatch_core::runbook::Runbooks;
use chrono::{DateTime, Utc};
use lambda_runtime::Diagnostic;
use serde_json::{Value, json};

/// What a handler needs, built once per cold start.
pub struct Deps<S, C, F> {
    /// The history.
    pub store: S,
    /// The chat, when Slack is configured.
    pub chat: Option<C>,
    /// Where facts about clusters come from.
    pub facts: F,
    /// The runbooks (for checklists in threads).
    pub runbooks: Runbooks,
    /// The team's configuration.
    pub config: Config,
    /// How alerts are sent.
    pub notify: NotifySettings,
    /// Which topics are read (with `[[spokes]]` or `[spokes_from_organization]`, the hub's own
    /// and its spokes' only), kept for the process's life.
    pub gate: TopicGate,
}

/// Why an invocation failed, as Lambda reports it.
#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    /// A passing condition (the table throttled, a timeout): retrying the event can succeed.
    #[error("{failed} of {records} records could not be stored yet: {first}")]
    Retryable {
        /// Records that failed this way.
        failed: usize,
        /// Records in the event.
        records: usize,
        /// The first failure.
        first: String,
    },
    /// Records that are not ElastiCache events (or are malformed): retrying will not help; the
    /// event ends in the dead-letter queue, where a person can look at it.
    #[error("{failed} of {records} records are not readable: {first}")]
    Poison {
        /// Records that failed this way.
        failed: usize,
        /// Records in the event.
        records: usize,
        /// The first failure.
        first: String,
    },
    /// A lasting failure of the store (permissions, a missing table): retrying will not help.
    #[error("the store failed: {0}")]
    Store(String),
}

impl From<IngestError> for Diagnostic {
    fn from(e: IngestError) -> Self {
        let error_type = match &e {
            IngestError::Retryable { .. } => "Cachewatch.Retryable",
            IngestError::Poison { .. } => "Cachewatch.PoisonRecord",
            IngestError::Store(_) => "Cachewatch.StoreFailed",
        };
        Diagnostic {
            error_type: error_type.to_owned(),
            error_message: e.to_string(),
        }
    }
}

/// The outcome of one record.
enum Record {
    Stored {
        events: usize,
        new: usize,
        sent: usize,
        waiting: usize,
    },
    Poison(String),
    Retry(String),
    Failed(String),
}

/// Handles one SNS event (or, invoked directly, one document of any shape cachewatch reads).
pub async fn handle<S, C, F>(
    deps: &Deps<S, C, F>,
    event: Value,
    now: DateTime<Utc>,
) -> Result<Value, IngestError>
where
    S: Store + OrganizationStore,
    C: ChatSink,
    F: FactsSource,
{
    let records: Vec<(Option<String>, String)> =
        match event.get("Records").and_then(Value::as_array) {
            Some(records) => records
                .iter()
                .map(|r| {
                    let topic = r.pointer("/Sns/TopicArn").and_then(Value::as_str);
                    (
                        topic.map(str::to_owned),
                        json!({ "Records": [r] }).to_string(),
                    )
                })
                .collect(),
            None => vec![(None, event.to_string())],
        };
    let documents = records.len();
    let mut outcomes = Vec::with_capacity(documents);
    for (topic, document) in &records {
        if let Some(topic) = topic {
            match deps.gate.admits(&deps.store, &deps.config, topic).await {
                Ok(true) => {}
                Ok(false) => {
                    tracing::error!(%topic, "a notification from a topic of neither this stack nor a spoke");
                    outcomes.push(Record::Poison(format!(
                        "topic {topic} is neither this stack's account nor a listed spoke's ([[spokes]]) nor one of the organisation's accounts ([spokes_from_organization])"
                    )));
                    continue;
                }
                Err(e) => {
                    outcomes.push(store_failure(&e));
                    continue;
                }
            }
        }
        outcomes.push(record(deps, document, now).await);
    }
    summarize(documents, outcomes)
}

async fn record<S, C, F>(deps: &Deps<S, C, F>, document: &str, now: DateTime<Utc>) -> Record
where
    S: Store,
    C: ChatSink,
    F: FactsSource,
{
    let ports = Ports::new(&deps.store, deps.chat.as_ref(), &deps.facts, &deps.runbooks);
    let request = IngestRequest {
        door: Door::Sns,
        input: Input::Document(document),
        config: &deps.config,
        settings: &deps.notify,
        alerting: Alerting::Now,
        progress: None,
        now,
    };
    let ingested = match cachewatch_app::ingest(ports, request).await {
        Ok(ingested) => ingested,
        Err(Refused::Parse(e)) => {
            tracing::error!(error = %e, "a record is not an ElastiCache event");
            return Record::Poison(e.to_string());
        }
        Err(Refused::Store(e)) => return store_failure(&e),
    };
    let (events, new) = (ingested.outcome.events.len(), ingested.outcome.new_count());
    // The events are stored: an alert that cannot be sent now is kept and sent by the poller.
    let (sent, waiting) = match ingested.alerts {
        Alerts::NotSent => (0, 0),
        Alerts::Sent(report) => {
            for (id, reason) in &report.failed {
                tracing::error!(event = %id, %reason, "Slack refused an alert");
            }
            (report.sent.len(), report.waiting)
        }
        Alerts::Failed(e) => return store_failure(&e),
    };
    Record::Stored {
        events,
        new,
        sent,
        waiting,
    }
}

fn store_failure(e: &StoreError) -> Record {
    tracing::error!(error = %e, source = ?std::error::Error::source(e), "the store failed");
    if e.is_retryable() {
        Record::Retry(e.to_string())
    } else {
        Record::Failed(e.to_string())
    }
}

fn summarize(records: usize, outcomes: Vec<Record>) -> Result<Value, IngestError> {
    let (mut events, mut new, mut sent, mut waiting) = (0, 0, 0, 0);
    let (mut poison, mut retry, mut failed) = (Vec::new(), Vec::new(), Vec::new());
    for outcome in outcomes {
        match outcome {
            Record::Stored {
                events: e,
                new: n,
                sent: s,
                waiting: w,
            } => {
                events += e;
                new += n;
                sent += s;
                waiting += w;
            }
            Record::Poison(why) => poison.push(why),
            Record::Retry(why) => retry.push(why),
            Record::Failed(why) => failed.push(why),
        }
    }
    if let Some(first) = failed.first() {
        return Err(IngestError::Store(first.clone()));
    }
    if let Some(first) = retry.first() {
        return Err(IngestError::Retryable {
            failed: retry.len(),
            records,
            first: first.clone(),
        });
    }
    if let Some(first) = poison.first() {
        return Err(IngestError::Poison {
            failed: poison.len(),
            records,
            first: first.clone(),
        });
    }
    Ok(
        json!({ "records": records, "events": events, "new": new, "alerts_sent": sent, "alerts_waiting": waiting }),
    )
}
