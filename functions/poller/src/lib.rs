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

use std::collections::BTreeSet;

use cachewatch_adapters::chat::Chat;
use cachewatch_adapters::deployment::Deployment;
use cachewatch_adapters::elasticache::EventQuery;
use cachewatch_app::canary::Audience;
use cachewatch_app::{Alerting, Alerts, Door, IngestRequest, Input, Ports};
use cachewatch_core::alerting::canary::{
    Canary, CanaryOutcome, LastCheck, Scheduled, canaries_since, due, last_check,
};
use cachewatch_core::alerting::delivery::{ChatSink as _, DeliveryStore as _, LeaseRequest};
use cachewatch_core::alerting::notify::{NotifyError, NotifyReport, NotifySettings};
use cachewatch_core::alerting::reminder::ReminderReport;
use cachewatch_core::alerting::slack::{self, SlackMessage};
use cachewatch_core::config::spokes::{
    OrganizationAccounts, OrganizationStore as _, SpokeRegion, discovered,
};
use cachewatch_core::fleet::{DIGEST_HORIZON, daily_report_day, upcoming_digest};
use cachewatch_core::history::response::ResponseStore as _;
use cachewatch_core::history::store::{EventStore as _, StoreError};
use cachewatch_core::{IngestOutcome, MaintenanceEvent};
use chrono::{DateTime, Duration, NaiveDate, Utc};
use lambda_runtime::Diagnostic;
use serde_json::{Value, json};

/// How long a daily lease is held: past the end of the team's day, whatever its zone.
const DAILY_LEASE: Duration = Duration::hours(36);
/// A lease holder for one run of this process: two runs, of one warm function or of two
/// sandboxes that share a name, never hold a lease as one.
fn run_holder(base: &str) -> String {
    format!(
        "{base}/{}-{}",
        std::process::id(),
        Utc::now().timestamp_nanos_opt().unwrap_or_default()
    )
}

/// The lease that keeps the poller's last canary: its holder is the canary's id, held until the
/// next one is due.
const CANARY_LEASE: &str = "canary:scheduled";

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
    // The backfill's alerts and every pending one, whatever its backoff.
    let settings = NotifySettings {
        ignore_backoff: true,
        ..d.notify.clone()
    };
    let ports = Ports::new(&d.store, d.chat.as_ref(), &d.facts, &d.runbooks);
    let request = IngestRequest {
        door: Door::Backfill,
        input: Input::Events(events),
        config: &d.config,
        settings: &settings,
        alerting: Alerting::Now,
        progress: None,
        now,
    };
    let sent = match cachewatch_app::ingest(ports, request).await {
        Ok(ingested) => {
            backfill["new"] = json!(ingested.outcome.new_count());
            match ingested.alerts {
                Alerts::Sent(report) => Some(report),
                Alerts::NotSent => None,
                Alerts::Failed(e) => return Err(PollError::Store(e)),
            }
        }
        Err(e) => {
            tracing::error!(error = %e, source = ?std::error::Error::source(&e), "the backfill failed");
            backfill = json!({ "error": e.to_string() });
            failed = Some(match e {
                cachewatch_app::IngestError::Store(e) => PollError::Store(e),
                e => PollError::Failed(e.to_string()),
            });
            // What is pending is sent all the same.
            let none = IngestOutcome::default();
            cachewatch_app::alert(ports, &none, &d.config, &settings, now)
                .await
                .map_err(|NotifyError::Store(e)| PollError::Store(e))?
        }
    };
    let (alerts, reminders, daily) = match (&d.chat, sent) {
        (Some(chat), Some(report)) => {
            let rules = cachewatch_app::Rules {
                config: &d.config,
                settings: &settings,
                now,
            };
            let sent = cachewatch_app::remind(ports, rules)
                .await
                .map_err(|NotifyError::Store(e)| PollError::Store(e))?
                .unwrap_or_default();
            (
                alerts(&report),
                reminded(&sent),
                daily(d, chat, now, &unread).await?,
            )
        }
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
        &d.aws,
        &spokes,
        d.spoke_external_id.as_deref(),
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

/// The last canary of the past 30 days that reached the history, for the digest's line; none
/// when the history cannot be read (the digest goes out without the line).
async fn last_canary(d: &Deployment, now: DateTime<Utc>) -> Option<LastCheck> {
    match d
        .store
        .search(&canaries_since(now - Duration::days(30)))
        .await
    {
        Ok(events) => last_check(&events),
        Err(e) => {
            tracing::error!(error = %e, "cannot read the last canary");
            None
        }
    }
}

/// The canaries in the history since `since`.
async fn canaries(
    d: &Deployment,
    since: DateTime<Utc>,
) -> Result<Vec<MaintenanceEvent>, StoreError> {
    d.store.search(&canaries_since(since)).await
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
    let last = match checked(d, topic, now).await {
        Ok(last) => last,
        Err(e) => {
            tracing::error!(error = %e, "cannot check the last canary");
            json!(format!("not checked: {e}"))
        }
    };
    let next = match publish_when_due(d, topic, now, every).await {
        Ok(next) => next,
        Err(e) => {
            tracing::error!(error = %e, "cannot publish the canary");
            json!(format!("not published: {e}"))
        }
    };
    json!({ "last": last, "next": next })
}

/// What became of the last canary the poller published; a lost one is said once.
async fn checked(d: &Deployment, topic: &str, now: DateTime<Utc>) -> Result<Value, String> {
    let store_error = |e: StoreError| e.to_string();
    let Some((holder, _)) = d.store.lease(CANARY_LEASE).await.map_err(store_error)? else {
        return Ok(json!("none yet"));
    };
    let Some(canary) = Canary::from_id(&holder) else {
        return Ok(json!("none yet"));
    };
    let events = canaries(d, canary.published_at - Duration::minutes(5))
        .await
        .map_err(store_error)?;
    let outcome = match Scheduled::of(&canary, topic, &events, now, d.config.canary_within()) {
        Scheduled::Arrived => return Ok(json!({ "id": canary.id, "state": "arrived" })),
        Scheduled::Awaited => return Ok(json!({ "id": canary.id, "state": "awaited" })),
        Scheduled::Lost(outcome) => outcome,
    };
    // Once per lost canary: the lease outlives the canary's record.
    let lease = format!("canary:lost:{}", canary.id);
    let holder = run_holder(&d.notify.holder);
    let until = now + d.config.canary_every().unwrap_or_default() + Duration::days(30);
    if !d
        .store
        .acquire_lease(LeaseRequest::new(&lease, &holder, now, until))
        .await
        .map_err(store_error)?
    {
        return Ok(json!({ "id": canary.id, "state": "lost", "told": "already" }));
    }
    tracing::error!(canary = %canary.id, "{}", outcome.sentence());
    let told = tell_lost(d, &outcome).await;
    if told.iter().all(|(_, done)| !done) {
        // Nobody was told: the next run tries again.
        d.store
            .release_lease(&lease, &holder)
            .await
            .map_err(store_error)?;
    }
    let told: serde_json::Map<String, Value> = told
        .into_iter()
        .map(|(to, done)| (to.to_owned(), json!(done)))
        .collect();
    Ok(json!({ "id": canary.id, "state": "lost", "told": told }))
}

/// Says loudly that `outcome`'s canary was lost: in Slack and on the alarm topic, each that is
/// configured; answers, for each, whether it took the message.
async fn tell_lost(d: &Deployment, outcome: &CanaryOutcome) -> Vec<(&'static str, bool)> {
    let audience = Audience {
        slack: d.chat.as_ref().zip(d.notify.channel.as_deref()),
        alarm: d.alarm_topic_arn.as_deref().map(|arn| (&d.alert_path, arn)),
        zone: d.notify.zone,
        mention: d.config.reminders.mention.as_deref(),
    };
    let told = cachewatch_app::canary::tell(outcome, audience).await;
    let mut said = Vec::new();
    if let Some(posted) = &told.slack {
        if let Err(e) = posted {
            tracing::error!(error = %e, "Slack refused the lost canary's alarm");
        }
        said.push(("slack", posted.is_ok()));
    }
    if let Some(published) = &told.alarm {
        if let Err(e) = published {
            tracing::error!(error = %e, "cannot publish the lost canary's alarm");
        }
        said.push(("alarm_topic", published.is_ok()));
    }
    said
}

/// Publishes a canary when none reached the history in the last `every` and the poller's last
/// is older than that; one poller does, whatever the number of them.
async fn publish_when_due(
    d: &Deployment,
    topic: &str,
    now: DateTime<Utc>,
    every: Duration,
) -> Result<Value, String> {
    let events = canaries(d, now - every).await.map_err(|e| e.to_string())?;
    if !due(last_check(&events).as_ref(), now, every) {
        return Ok(json!("not due: one arrived recently"));
    }
    let canary = Canary::at(now);
    if !d
        .store
        .acquire_lease(LeaseRequest::new(
            CANARY_LEASE,
            &canary.id,
            now,
            canary.published_at + every,
        ))
        .await
        .map_err(|e| e.to_string())?
    {
        return Ok(json!("not due: the last one is recent"));
    }
    match d.alert_path.publish_canary(topic, &canary).await {
        Ok(_) => {
            tracing::info!(canary = %canary.id, %topic, "canary published");
            Ok(json!({ "published": canary.id }))
        }
        Err(e) => {
            // Not published: the next run tries again.
            let _ = d.store.release_lease(CANARY_LEASE, &canary.id).await;
            Err(e.to_string())
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
    let today = Today {
        d,
        chat,
        channel,
        day,
        // A holder per run: the same warm function's next run must not take the day's lease again.
        holder: run_holder(&d.notify.holder),
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
            let mut acknowledged = BTreeSet::new();
            for m in &digest.maintenances {
                let acks = d
                    .store
                    .acknowledgements(&m.event_ids)
                    .await
                    .map_err(|e| format!("cannot read the acknowledgements: {e}"))?;
                if !acks.is_empty() {
                    acknowledged.insert(m.id.clone());
                }
            }
            digest = digest.with_acknowledged(acknowledged);
            digest.updates_unavailable = unavailable;
            digest.unread_spokes = unread_spokes.to_vec();
            digest.alert_path_checked = last_canary(d, now).await;
            Ok(Some(slack::digest(&digest, d.notify.zone)))
        })
        .await?;
    let coverage = match d.path_settings() {
        None => json!("no topic"),
        Some(settings) => {
            today
                .once("coverage", async {
                    let audit = d
                        .alert_path
                        .audit(&d.elasticache, &settings)
                        .await
                        .map_err(|e| format!("cannot audit the alert path: {e}"))?;
                    Ok((!audit.is_clean()).then(|| slack::alert_path(&audit)))
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
            .acquire_lease(LeaseRequest::new(
                &lease,
                holder,
                self.now,
                self.now + DAILY_LEASE,
            ))
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
