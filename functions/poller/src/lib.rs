//! The poller, run on a schedule (every 15 minutes):
//!
//! 1. **backfill**: DescribeEvents over the look-back window (longer than the schedule, so runs
//!    overlap), through the one idempotent ingest entry (`cachewatch_app::ingest`): an event
//!    whose SNS delivery was lost, or of a cluster that has no topic yet, is recorded and alerted
//!    all the same. A hub reads every account and Region of `[[spokes]]` too, through each
//!    spoke's reader role, a few at a time, and with `[spokes_from_organization]` every ACTIVE
//!    account of the organisation (listed by AWS Organizations each run, and kept in the store
//!    for the ingest function) in its Regions, the same way; a spoke that cannot be read, or an
//!    organisation that cannot be listed, is logged, answered and named in the day's digest, and
//!    the others are read all the same;
//! 2. **send what is pending**: alerts Slack could not take earlier, whatever their backoff (the
//!    schedule is backoff enough: a passing failure stops the channel for the run);
//! 3. **reminders**: a reply in the thread of each maintenance nobody has acknowledged, at each
//!    step before its deadline (`[reminders]` of `cachewatch.toml`), each step once whatever the
//!    runs and concurrent pollers (`cachewatch_core::reminder`);
//! 4. **once a day**, from the team's morning on (`CACHEWATCH_DIGEST_HOUR` in `CACHEWATCH_TZ`):
//!    the upcoming digest (maintenance windows of the next 7 days, service updates not applied)
//!    and, when a link of the alert path is broken (a cluster not publishing to the stack's topic,
//!    the topic's policy or encryption, the ingest subscription, dead letters), its audit. Each is
//!    posted once a day, under a lease; one that could not be posted is tried again next run;
//! 5. **the canary** (`[canary]` of `cachewatch.toml`, weekly by default): the last canary the
//!    poller published (kept as a lease, so the schedule outlives the function) is looked for in
//!    the history; one missing `within` after its publish is lost, and said once, whatever the
//!    runs and concurrent pollers: loudly in Slack and on the stack's alarm topic. Then, when no
//!    canary reached the history in the last `every`, one is published to the stack's topic.
//!
//! A failed backfill fails the invocation (Lambda retries it, then the dead-letter queue's alarm
//! says so), but only after the pending alerts were sent and the daily report was posted: one
//! broken part does not silence the others.
#![warn(missing_docs)]

use cachewatch_adapters::chat::Chat;
use cachewatch_adapters::deployment::Deployment;
use cachewatch_adapters::elasticache::EventQuery;
use cachewatch_app::canary::{Audience, LastCanary, NextCanary, ScheduledCanary};
use cachewatch_app::catch_up::catch_up;
use cachewatch_app::daily::{DigestInputs, Today};
use cachewatch_app::{Ports, Rules};
use cachewatch_core::MaintenanceEvent;
use cachewatch_core::alerting::notify::NotifyReport;
use cachewatch_core::alerting::reminder::ReminderReport;
use cachewatch_core::alerting::slack;
use cachewatch_core::config::spokes::{
    OrganizationAccounts, OrganizationStore as _, SpokeRegion, discovered,
};
use cachewatch_core::fleet::daily_report_day;
use cachewatch_core::history::store::StoreError;
use chrono::{DateTime, Utc};
use lambda_runtime::Diagnostic;
use serde_json::{Value, json};

/// A lease holder for one run of this process: two runs, of one warm function or of two
/// sandboxes that share a name, never hold a lease as one.
fn run_holder(base: &str) -> String {
    format!(
        "{base}/{}-{}",
        std::process::id(),
        Utc::now().timestamp_nanos_opt().unwrap_or_default()
    )
}

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
    let (mut events, mut backfill, mut failed) = read_back(d, now).await;
    let spokes = read_spokes(d, now).await;
    events.extend(spokes.events);
    let unread = spokes.unread;
    let ports = Ports::new(&d.store, d.chat.as_ref(), &d.facts, &d.runbooks);
    let rules = Rules {
        config: &d.config,
        settings: &d.notify,
        now,
    };
    let caught = catch_up(ports, events, rules).await?;
    match caught.stored {
        Ok(new) => backfill["new"] = json!(new),
        Err(e) => {
            backfill = json!({ "error": e.to_string() });
            failed = Some(match e {
                cachewatch_app::IngestError::Store(e) => PollError::Store(e),
                e => PollError::Failed(e.to_string()),
            });
        }
    }
    let (alerts, reminders, daily) = match (&d.chat, caught.alerts) {
        (Some(chat), Some(report)) => (
            alerts(&report),
            reminded(&caught.reminders.unwrap_or_default()),
            daily(d, chat, now, &unread).await?,
        ),
        _ => {
            tracing::info!("Slack is not configured: events are stored, nothing is posted");
            (json!(null), json!(null), json!(null))
        }
    };
    let canary = canary(d, now).await;
    match failed {
        Some(e) => Err(e),
        None => Ok(json!({
            "backfill": backfill,
            "spokes": spokes.reports,
            "organization": spokes.organization,
            "alerts": alerts,
            "reminders": reminders,
            "daily": daily,
            "canary": canary,
        })),
    }
}

/// What DescribeEvents keeps for the look-back window: its events, the report's start, and the
/// failure to report once the rest is done.
async fn read_back(
    d: &Deployment,
    now: DateTime<Utc>,
) -> (Vec<MaintenanceEvent>, Value, Option<PollError>) {
    let query = EventQuery::between(now - d.lookback, now);
    match d.elasticache.backfill(&query, now, &mut |_| {}).await {
        Ok(mut b) => {
            // Read with the hub's own credentials: its own account and Region, as its topic's
            // notices say, so that each text meets its notice.
            if let Some((account, region)) = d.own_place() {
                for e in &mut b.events {
                    e.stamp_place(&account, &region);
                }
            }
            for rejected in &b.rejected {
                tracing::warn!(
                    source = %rejected.record.source_identifier,
                    message = %rejected.record.message,
                    error = %rejected.error,
                    "a DescribeEvents record is not an event cachewatch reads"
                );
            }
            let report = json!({ "records": b.records, "new": 0, "rejected": b.rejected.len() });
            (b.events, report, None)
        }
        Err(e) => {
            tracing::error!(error = %e, source = ?std::error::Error::source(&e), "the backfill failed");
            let report = json!({ "error": e.to_string() });
            let failed = if e.is_retryable() {
                PollError::Retryable(e.to_string())
            } else {
                PollError::Failed(e.to_string())
            };
            (Vec::new(), report, Some(failed))
        }
    }
}

/// What the spokes gave one run: the listed and the discovered.
struct SpokesRead {
    /// Their events, stamped with the account and Region they were read from.
    events: Vec<MaintenanceEvent>,
    /// The report of each account and Region.
    reports: Value,
    /// What listing the organisation's accounts gave (`null` without
    /// `[spokes_from_organization]`).
    organization: Value,
    /// A line for each spoke not read (and for an organisation that could not be listed).
    unread: Vec<String>,
}

/// What every spoke keeps for the look-back window: the listed spokes' and the organisation's
/// accounts', each read as a listed one, the same few at a time.
async fn read_spokes(d: &Deployment, now: DateTime<Utc>) -> SpokesRead {
    let mut spokes = cachewatch_core::config::spokes::regions(&d.config.spokes);
    let (found, organization, mut unread) = discover(d, now).await;
    spokes.extend(found);
    let query = EventQuery::between(now - d.lookback, now);
    let reads = cachewatch_adapters::spokes::read_spokes(
        &d.facts,
        &spokes,
        &query,
        now,
        cachewatch_core::config::spokes::SPOKES_AT_ONCE,
    )
    .await;
    let (mut events, mut reports) = (Vec::new(), Vec::new());
    for r in reads {
        let (account, region) = (&r.spoke.account, &r.spoke.region);
        match r.read {
            Ok(b) => {
                reports.push(json!({ "account": account, "region": region, "records": b.records, "rejected": b.rejected.len() }));
                events.extend(b.events);
            }
            Err(why) => {
                tracing::error!(%account, %region, error = %why, "a spoke could not be read; the others were");
                reports.push(json!({ "account": account, "region": region, "error": why }));
                unread.push(format!("account {account} in {region}: {why}"));
            }
        }
    }
    SpokesRead {
        events,
        reports: json!(reports),
        organization,
        unread,
    }
}

/// The organisation's accounts and Regions to read (`[spokes_from_organization]`): its ACTIVE
/// accounts as ListAccounts gives them now, kept in the store for the ingest function. When they
/// cannot be listed, that is reported and the accounts of the last listing kept are read.
async fn discover(d: &Deployment, now: DateTime<Utc>) -> (Vec<SpokeRegion>, Value, Vec<String>) {
    let Some(org) = &d.config.spokes_from_organization else {
        return (Vec::new(), Value::Null, Vec::new());
    };
    let per_page = cachewatch_adapters::spokes::ACCOUNTS_PER_PAGE;
    let (accounts, report, unread) = match cachewatch_adapters::spokes::organization_accounts(
        &d.aws, per_page,
    )
    .await
    {
        Ok(accounts) => {
            let listing = OrganizationAccounts {
                accounts,
                read_at: now,
            };
            if let Err(e) = d.store.record_organization(&listing).await {
                tracing::error!(error = %e, "the organisation's accounts are not kept: the ingest function may refuse their topics");
            }
            let report = json!({ "accounts": listing.accounts.len() });
            (listing.accounts, report, Vec::new())
        }
        Err(why) => {
            tracing::error!(error = %why, "the organisation's accounts could not be listed; the listed spokes are read all the same");
            let kept = d.store.organization().await.ok().flatten();
            let report = json!({
                "error": why,
                "kept_from": kept.as_ref().map(|k| k.read_at.to_rfc3339()),
            });
            let line = format!("the organisation's accounts (ListAccounts): {why}");
            (
                kept.map(|k| k.accounts).unwrap_or_default(),
                report,
                vec![line],
            )
        }
    };
    let own = d.own_place();
    let own = own.as_ref().map(|(a, r)| (a.as_str(), r.as_str()));
    let found = discovered(org, &accounts, &d.config.spokes, own);
    (found, report, unread)
}

/// What a run of the sender did, for the answer.
fn alerts(report: &NotifyReport) -> Value {
    for (id, reason) in &report.failed {
        tracing::error!(event = %id, %reason, "Slack refused an alert");
    }
    json!({
        "reconciled": report.reconciled,
        "sent": report.sent.len(),
        "waiting": report.waiting,
        "failed": report.failed.len(),
    })
}

/// The canary step: the last one checked, the next one published when due. A failure here is
/// logged and answered; it does not fail the poll (the backfill's retries would not mend it).
async fn canary(d: &Deployment, now: DateTime<Utc>) -> Value {
    let Some(every) = d.config.canary_every() else {
        return json!("off");
    };
    let Some(topic) = d.topic_arn.as_deref() else {
        return json!("no topic");
    };
    let holder = run_holder(&d.notify.holder);
    let step = ScheduledCanary {
        store: &d.store,
        topic,
        publisher: &d.alert_path,
        audience: Audience {
            slack: d.chat.as_ref().zip(d.notify.channel.as_deref()),
            alarm: d.alarm_topic_arn.as_deref().map(|arn| (&d.alert_path, arn)),
            zone: d.notify.zone,
            mention: d.config.reminders.mention.as_deref(),
        },
        every,
        within: d.config.canary_within(),
        holder: &holder,
        now,
    };
    let last = match step.check_last().await {
        Ok(last) => last_canary(last),
        Err(e) => {
            tracing::error!(error = %e, "cannot check the last canary");
            json!(format!("not checked: {e}"))
        }
    };
    let next = match step.publish_when_due().await {
        Ok(NextCanary::ArrivedRecently) => json!("not due: one arrived recently"),
        Ok(NextCanary::PublishedRecently) => json!("not due: the last one is recent"),
        Ok(NextCanary::Published(id)) => json!({ "published": id }),
        Err(e) => {
            tracing::error!(error = %e, "cannot publish the canary");
            json!(format!("not published: {e}"))
        }
    };
    json!({ "last": last, "next": next })
}

/// What became of the last canary, for the answer.
fn last_canary(last: LastCanary) -> Value {
    match last {
        LastCanary::NoneYet => json!("none yet"),
        LastCanary::Arrived(id) => json!({ "id": id, "state": "arrived" }),
        LastCanary::Awaited(id) => json!({ "id": id, "state": "awaited" }),
        LastCanary::LostToldBefore(id) => json!({ "id": id, "state": "lost", "told": "already" }),
        LastCanary::Lost { id, told } => {
            let told: serde_json::Map<String, Value> = told
                .into_iter()
                .map(|(to, done)| (to.to_owned(), json!(done)))
                .collect();
            json!({ "id": id, "state": "lost", "told": told })
        }
    }
}

/// What a run of the reminders did, for the answer.
fn reminded(report: &ReminderReport) -> Value {
    for (key, reason) in &report.failed {
        tracing::error!(%key, %reason, "Slack refused a reminder");
    }
    for (key, reason) in &report.waiting {
        tracing::warn!(%key, %reason, "a reminder waits for the next run");
    }
    json!({
        "sent": report.sent.len(),
        "recovered": report.recovered,
        "already": report.already,
        "no_thread": report.no_thread,
        "waiting": report.waiting.len(),
        "failed": report.failed.len(),
    })
}

/// Posts the day's digest and, when a link is broken, the audit of the alert path: each once a
/// day.
async fn daily(
    d: &Deployment,
    chat: &Chat,
    now: DateTime<Utc>,
    unread_spokes: &[String],
) -> Result<Value, PollError> {
    let Some(day) = daily_report_day(now, d.notify.zone, d.digest_hour) else {
        return Ok(json!("not due yet"));
    };
    let Some(channel) = d.notify.channel.as_deref() else {
        tracing::warn!("no SLACK_CHANNEL: the daily digest has nowhere to go");
        return Ok(json!("no channel"));
    };
    let holder = run_holder(&d.notify.holder);
    let today = Today {
        store: &d.store,
        chat,
        channel,
        day,
        holder: &holder,
        now,
    };
    let digest = today
        .once("digest", async {
            let updates = d.elasticache.pending_service_updates().await;
            let updates = updates.map_err(|e| {
                tracing::error!(error = %e, "cannot read the service updates");
                e.to_string()
            });
            let inputs = DigestInputs {
                updates,
                unread_spokes,
                zone: d.notify.zone,
                now,
            };
            cachewatch_app::daily::digest(&d.store, inputs).await
        })
        .await?;
    let coverage = match d.path_settings() {
        None => json!("no topic"),
        Some(settings) => {
            let posted = today
                .once("coverage", async {
                    let audit = d
                        .alert_path
                        .audit(&d.elasticache, &settings)
                        .await
                        .map_err(|e| format!("cannot audit the alert path: {e}"))?;
                    Ok((!audit.is_clean()).then(|| slack::alert_path(&audit)))
                })
                .await?;
            json!(posted.to_string())
        }
    };
    Ok(json!({ "day": day.to_string(), "digest": digest.to_string(), "coverage": coverage }))
}
