//! A checklist step done and how a maintenance went, recorded the same way from every door:
//! checked (who, the step against the runbook, the note's length, the ways it can be handled),
//! recorded against the id the maintenance's links and buttons use, and its threads drawn again.

use cachewatch_core::alerting::delivery::ChatSink;
use cachewatch_core::cluster::source::FactsSource;
use cachewatch_core::history::response::{HANDLED, Outcome, StepDone};
use cachewatch_core::runbook::Step;
use chrono::{DateTime, Duration, Utc};

use super::{Redrawn, Refused, RespondError, Who, redraw_threads};
use crate::lookup::{FactsFrom, Subject};
use crate::{Ports, Rules, Store, config_at};

/// The longest note kept (as the Slack form allows).
pub const MAX_NOTE: usize = 3000;

/// A checklist step someone did.
#[derive(Debug, Clone)]
pub struct StepRequest<'a> {
    /// The event or maintenance.
    pub subject: &'a Subject,
    /// The step's number in its runbook, from 1.
    pub step: u32,
    /// Who did it.
    pub by: Who,
}

/// What recording a step did.
#[derive(Debug, Clone)]
pub struct StepRecorded {
    /// The step as recorded.
    pub recorded: StepDone,
    /// The runbook's step.
    pub step: Step,
    /// The maintenance's threads drawn again.
    pub threads: Redrawn,
}

/// How a maintenance went, as someone tells it.
#[derive(Debug, Clone)]
pub struct OutcomeRequest<'a> {
    /// The event or maintenance.
    pub subject: &'a Subject,
    /// How it was handled: one of [`HANDLED`].
    pub handled: String,
    /// Whether the site was put into maintenance.
    pub site_maintenance: bool,
    /// How long users were affected, if measured.
    pub downtime: Option<Duration>,
    /// Anything worth remembering (kept trimmed; an empty one is none).
    pub note: Option<String>,
    /// Who tells it.
    pub by: Who,
}

/// What recording an outcome did.
#[derive(Debug, Clone)]
pub struct OutcomeRecorded {
    /// The outcome as recorded.
    pub recorded: Outcome,
    /// The maintenance's threads drawn again.
    pub threads: Redrawn,
}

/// Records that `request.by` did a step of the subject's runbook (rendered as its page shows
/// it, with the team's owners), then draws its threads again. A number the runbook does not
/// have is refused, and nothing is recorded.
pub async fn record_step<S: Store, C: ChatSink, F: FactsSource>(
    ports: Ports<'_, S, C, F>,
    rules: Rules<'_>,
    request: StepRequest<'_>,
) -> Result<StepRecorded, RespondError> {
    let StepRequest { subject, step, by } = request;
    let now = rules.now;
    let owners = config_at(ports.store, rules.config, now).await.owners();
    let runbook = subject
        .runbook(
            ports.store,
            ports.runbooks,
            FactsFrom::source(ports.facts),
            &owners,
            now,
        )
        .await?;
    let count = runbook.steps().count();
    let Some(done) = runbook.steps().find(|s| s.number == step as usize).cloned() else {
        return Err(Refused::NoSuchStep { step, count }.into());
    };
    let recorded = StepDone {
        event_id: subject.link_id().clone(),
        step,
        by: by.by().to_owned(),
        at: now,
    };
    ports.store.record_step(&recorded).await?;
    let threads = redraw_threads(ports, rules, subject, Some(&by)).await?;
    Ok(StepRecorded {
        recorded,
        step: done,
        threads,
    })
}

/// Records how the subject's maintenance went (a later outcome replaces an earlier one), then
/// draws its threads again. A way of handling it that the form does not offer, a negative
/// downtime or a note over [`MAX_NOTE`] characters is refused, and nothing is recorded.
pub async fn record_outcome<S: Store, C: ChatSink, F: FactsSource>(
    ports: Ports<'_, S, C, F>,
    rules: Rules<'_>,
    request: OutcomeRequest<'_>,
) -> Result<OutcomeRecorded, RespondError> {
    let recorded = outcome_of(&request, rules.now)?;
    ports.store.record_outcome(&recorded).await?;
    let threads = redraw_threads(ports, rules, request.subject, Some(&request.by)).await?;
    Ok(OutcomeRecorded { recorded, threads })
}

/// The outcome to record at `now`, or why it is refused.
fn outcome_of(request: &OutcomeRequest<'_>, now: DateTime<Utc>) -> Result<Outcome, Refused> {
    if !HANDLED.iter().any(|(value, _)| *value == request.handled) {
        return Err(Refused::Handled(request.handled.clone()));
    }
    if request.downtime.is_some_and(|d| d < Duration::zero()) {
        return Err(Refused::NegativeDowntime);
    }
    let note = request
        .note
        .as_deref()
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .map(str::to_owned);
    if note.as_ref().is_some_and(|n| n.chars().count() > MAX_NOTE) {
        return Err(Refused::NoteTooLong);
    }
    Ok(Outcome {
        event_id: request.subject.link_id().clone(),
        handled: request.handled.clone(),
        site_maintenance: request.site_maintenance,
        downtime: request.downtime,
        note,
        by: request.by.by().to_owned(),
        at: now,
    })
}
