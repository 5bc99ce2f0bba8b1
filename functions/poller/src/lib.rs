//! The poller, run on a schedule (every 15 minutes):
//!
//! 1. **backfill**: DescribeEvents over the look-back window (longer than the schedule, so runs
//!    overlap), through the one idempotent ingest: an event whose SNS delivery was lost, or of a
//!    cluster that has no topic yet, is recorded and alerted all the same;
//! 2. **send what is pending**: alerts Slack could not take earlier, whatever their backoff (the
//!    schedule is backoff enough: a passing failure stops the channel for the run);
//! 3. **once a day**, from the team's morning on (`CACHEWATCH_DIGEST_HOUR` in `CACHEWATCH_TZ`):
//!    the upcoming digest (maintenance windows of the next 7 days, service updates not applied)
//!    and, when some cluster does not publish to the stack's topic, the coverage audit. Each is
//!    posted once a day, under a lease; one that could not be posted is tried again next run.
//!
//! A failed backfill fails the invocation (Lambda retries it, then the dead-letter queue's alarm
//! says so), but only after the pending alerts were sent and the daily report was posted: one
//! broken part does not silence the others.
#![warn(missing_docs)]

use cachewatch_adapters::chat::Chat;
use cachewatch_adapters::deployment::Deployment;
use cachewatch_adapters::elasticache::{BackfillError, EventQuery};
use cachewatch_core::IngestOutcome;
use cachewatch_core::config::Config;
use cachewatch_core::delivery::{ChatSink as _, DeliveryStore as _};
use cachewatch_core::fleet::{DIGEST_HORIZON, audit_coverage, daily_report_day, upcoming_digest};
use cachewatch_core::notify::{NotifyError, NotifyReport, NotifySettings, after_ingest};
use cachewatch_core::slack::{self, SlackMessage};
use cachewatch_core::store::{EventStore as _, StoreError};
use chrono::{DateTime, Duration, NaiveDate, Utc};
use lambda_runtime::Diagnostic;
use serde_json::{Value, json};

/// How long a daily lease is held: past the end of the team's day, whatever its zone.
const DAILY_LEASE: Duration = Duration::hours(36);

/// Why a poll failed, as Lambda reports it.
#[derive(Debug, thiserror::Error)]
pub enum PollError {
    /// DescribeEvents or the table failed for a passing reason: the next attempt can succeed.
    #[error("the backfill failed, and may succeed next time: {0}")]
    Retryable(String),
    /// A lasting failure (permissions, a missing table).
    #[error("the backfill failed: {0}")]
    Failed(String),
    /// The table failed while sending alerts.
    #[error("the store failed: {0}")]
    Store(#[from] StoreError),
}

impl From<PollError> for Diagnostic {
    fn from(e: PollError) -> Self {
        let error_type = match &e {
            PollError::Retryable(_) => "Cachewatch.Retryable",
            PollError::Failed(_) => "Cachewatch.BackfillFailed",
            PollError::Store(_) => "Cachewatch.StoreFailed",
        };
        Diagnostic {
            error_type: error_type.to_owned(),
            error_message: e.to_string(),
        }
    }
}

/// One poll at `now`; the answer reports what it did.
pub async fn poll(d: &Deployment, now: DateTime<Utc>) -> Result<Value, PollError> {
    let config = d.config_at(now).await;
    let query = EventQuery::between(now - d.lookback, now);
    let mut quiet = |_| {};
    let backfill = d
        .elasticache
        .backfill(&d.store, &query, &config.alerts, now, &mut quiet)
        .await;
    let (outcome, backfill_report) = match &backfill {
        Ok(b) => {
            for rejected in &b.rejected {
                tracing::warn!(
                    source = %rejected.record.source_identifier,
                    message = %rejected.record.message,
                    error = %rejected.error,
                    "a DescribeEvents record is not an event cachewatch reads"
                );
            }
            let report = json!({
                "records": b.records,
                "new": b.outcome.new_count(),
                "rejected": b.rejected.len(),
            });
            (b.outcome.clone(), report)
        }
        Err(e) => {
            tracing::error!(error = %e, source = ?std::error::Error::source(e), "the backfill failed");
            (IngestOutcome::default(), json!({ "error": e.to_string() }))
        }
    };

    let (alerts, daily) = match &d.chat {
        Some(chat) => {
            let alerts = send(d, chat, &config, &outcome, now).await?;
            let daily = daily(d, chat, now).await?;
            (alerts, daily)
        }
        None => {
            tracing::info!("Slack is not configured: events are stored, nothing is posted");
            (json!(null), json!(null))
        }
    };
    if let Err(e) = backfill {
        return Err(match e {
            BackfillError::Store(e) => PollError::Store(e),
            e if e.is_retryable() => PollError::Retryable(e.to_string()),
            e => PollError::Failed(e.to_string()),
        });
    }
    Ok(json!({ "backfill": backfill_report, "alerts": alerts, "daily": daily }))
}

/// Records the alerts of the new events and sends everything pending.
async fn send(
    d: &Deployment,
    chat: &Chat,
    config: &Config,
    outcome: &IngestOutcome,
    now: DateTime<Utc>,
) -> Result<Value, PollError> {
    let settings = NotifySettings {
        ignore_backoff: true,
        ..d.notify.clone()
    };
    let report: NotifyReport = after_ingest(
        &d.store,
        chat,
        &d.elasticache,
        &d.runbooks,
        config,
        &settings,
        outcome,
        now,
    )
    .await
    .map_err(|NotifyError::Store(e)| PollError::Store(e))?;
    for (id, reason) in &report.failed {
        tracing::error!(event = %id, %reason, "Slack refused an alert");
    }
    Ok(json!({
        "reconciled": report.reconciled,
        "sent": report.sent.len(),
        "waiting": report.waiting,
        "failed": report.failed.len(),
    }))
}

/// Posts the day's digest and, when there are gaps, the coverage audit: each once a day.
async fn daily(d: &Deployment, chat: &Chat, now: DateTime<Utc>) -> Result<Value, PollError> {
    let Some(day) = daily_report_day(now, d.notify.zone, d.digest_hour) else {
        return Ok(json!("not due yet"));
    };
    let Some(channel) = d.notify.channel.as_deref() else {
        tracing::warn!("no SLACK_CHANNEL: the daily digest has nowhere to go");
        return Ok(json!("no channel"));
    };
    let today = Today {
        d,
        chat,
        channel,
        day,
        // A holder per run: the same warm function's next run must not take the day's lease again.
        holder: format!("{}/{}", d.notify.holder, now.timestamp_millis()),
        now,
    };
    let digest = today
        .once("digest", async {
            let open = d
                .store
                .open_maintenances(now, false)
                .await
                .map_err(|e| format!("cannot read the open maintenances: {e}"))?;
            let (updates, unavailable) = match d.elasticache.pending_service_updates().await {
                Ok(updates) => (updates, None),
                Err(e) => {
                    tracing::error!(error = %e, "cannot read the service updates");
                    (Vec::new(), Some(e.to_string()))
                }
            };
            let mut digest = upcoming_digest(&open, &updates, now, DIGEST_HORIZON);
            digest.updates_unavailable = unavailable;
            Ok(Some(slack::digest(&digest, d.notify.zone)))
        })
        .await?;
    let coverage = match &d.topic_arn {
        None => json!("no topic"),
        Some(topic) => {
            today
                .once("coverage", async {
                    let fleet = d.elasticache.coverage().await.map_err(|e| {
                        format!("cannot read the clusters for the coverage audit: {e}")
                    })?;
                    let audit = audit_coverage(&fleet, topic);
                    Ok((!audit.gaps().is_empty()).then(|| slack::coverage(&audit)))
                })
                .await?
        }
    };
    Ok(json!({ "day": day.to_string(), "digest": digest, "coverage": coverage }))
}

/// The day's report being posted by one run.
struct Today<'a> {
    d: &'a Deployment,
    chat: &'a Chat,
    channel: &'a str,
    day: NaiveDate,
    holder: String,
    now: DateTime<Utc>,
}

impl Today<'_> {
    /// Posts what `make` makes (nothing: nothing to say), once today for `what`: under a lease
    /// that is kept when done and given back when the message could not be made or posted, so
    /// that the next run tries again.
    async fn once(
        &self,
        what: &str,
        make: impl Future<Output = Result<Option<SlackMessage>, String>>,
    ) -> Result<Value, PollError> {
        let (store, holder) = (&self.d.store, self.holder.as_str());
        let lease = format!("daily:{what}:{}", self.day);
        if !store
            .acquire_lease(&lease, holder, self.now, self.now + DAILY_LEASE)
            .await?
        {
            return Ok(json!("done already"));
        }
        let message = match make.await {
            Ok(Some(message)) => message,
            Ok(None) => return Ok(json!("nothing to say")),
            Err(why) => {
                tracing::error!(what, %why, "the daily message cannot be made; next run tries again");
                store.release_lease(&lease, holder).await?;
                return Ok(json!(format!("not made: {why}")));
            }
        };
        match self.chat.post(self.channel, &message).await {
            Ok(_) => Ok(json!("posted")),
            Err(e) => {
                tracing::warn!(error = %e, what, "the daily message could not be posted; next run tries again");
                store.release_lease(&lease, holder).await?;
                Ok(json!(format!("not posted: {e}")))
            }
        }
    }
}
