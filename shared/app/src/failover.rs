//! A rehearsed failover (`cachewatch failover`): whether it may start, counted against
//! ElastiCache's daily TestFailover limit from the history, and what the probe measured beside
//! it, recorded as the drill's outcome the way every door records one (checked, and the
//! maintenance's threads drawn again). Calling TestFailover and following its events is the
//! door's: it needs ElastiCache itself.

use cachewatch_core::alerting::delivery::ChatSink;
use cachewatch_core::cluster::source::FactsSource;
use cachewatch_core::history::query::{EventQuery, MAX_LIMIT};
use cachewatch_core::history::store::{EventStore, StoreError};
use cachewatch_core::model::kind::EventKind;
use cachewatch_core::operations::failover::{
    FailoverPlan, FailoverRequest, FailoverTarget, LIMIT_PERIOD, measured_outcome, plan_failover,
    probe_note, recent_failovers,
};
use cachewatch_core::operations::probe::ProbeSummary;
use chrono::{DateTime, Duration, Utc};

use crate::lookup::Subject;
use crate::respond::{
    MAX_NOTE, OutcomeRecorded, OutcomeRequest, RespondError, Who, record_outcome,
};
use crate::{Ports, Rules, Store};

/// What a rehearsal of `target` would do and what stands in the way, with the failovers of
/// the last 24 hours in the history (drills included: rehearsals count against ElastiCache's
/// limit whoever ran them).
pub async fn plan<S: EventStore>(
    store: &S,
    target: &FailoverTarget,
    request: &FailoverRequest,
    now: DateTime<Utc>,
) -> Result<FailoverPlan, StoreError> {
    let mut events = Vec::new();
    for kind in [
        EventKind::FAILOVER_COMPLETE,
        EventKind::TEST_FAILOVER_API_CALLED,
    ] {
        let query = EventQuery {
            kind: Some(EventKind::new(kind)),
            since: Some(now - LIMIT_PERIOD),
            limit: MAX_LIMIT,
            include_drills: true,
            ..EventQuery::default()
        };
        events.extend(store.search(&query).await?);
    }
    Ok(plan_failover(
        target,
        request,
        recent_failovers(&events, now),
    ))
}

/// Records what the probe measured beside a rehearsal as the outcome of `subject` (the drill's
/// maintenance): handled by TestFailover, the longest gap as the downtime, the probe's summary
/// as the note (cut to the longest note kept).
pub async fn record_measurement<S: Store, C: ChatSink, F: FactsSource>(
    ports: Ports<'_, S, C, F>,
    rules: Rules<'_>,
    subject: &Subject,
    summary: &ProbeSummary,
    by: Who,
) -> Result<OutcomeRecorded, RespondError> {
    let gap = Duration::milliseconds(i64::try_from(summary.longest_gap_ms).unwrap_or(i64::MAX));
    let measured = measured_outcome(
        subject.link_id().clone(),
        gap,
        cut(probe_note(summary)),
        by.by().to_owned(),
        rules.now,
    );
    let request = OutcomeRequest {
        subject,
        handled: measured.handled,
        site_maintenance: measured.site_maintenance,
        downtime: measured.downtime,
        note: measured.note,
        by,
    };
    record_outcome(ports, rules, request).await
}

/// `note`, cut to [`MAX_NOTE`] characters (the last one an ellipsis) when it is longer.
fn cut(note: String) -> String {
    if note.chars().count() <= MAX_NOTE {
        return note;
    }
    let mut cut: String = note.chars().take(MAX_NOTE - 1).collect();
    cut.push('…');
    cut
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_note_longer_than_the_form_allows_is_cut_to_its_length() {
        let long = "x".repeat(MAX_NOTE + 10);
        let shortened = cut(long);
        assert_eq!(shortened.chars().count(), MAX_NOTE);
        assert!(shortened.ends_with('…'));
        assert_eq!(cut("short".to_owned()), "short");
    }
}
