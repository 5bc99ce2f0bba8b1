//! The pages people read in a browser: a maintenance's runbook, and the history of events with a
//! timeline of maintenances per cluster. Pure functions from what to show to HTML; every value from
//! a request or an event is escaped.

use std::collections::BTreeMap;

use cachewatch_core::event::{EventId, MaintenanceEvent};
use cachewatch_core::lifecycle::Maintenance;
use cachewatch_core::query::EventQuery;
use cachewatch_core::response::{Acknowledgement, Outcome, StepDone};
use cachewatch_core::runbook::Runbook;
use cachewatch_core::timefmt::Zone;
use chrono::{DateTime, Utc};

/// What the history page shows.
#[derive(Debug, Clone)]
pub struct HistoryPage {
    /// The filters as the person gave them (shown back in the form).
    pub filters: BTreeMap<String, String>,
    /// The query they make.
    pub query: EventQuery,
    /// The events found, newest first.
    pub events: Vec<MaintenanceEvent>,
    /// The maintenances of the clusters found, for the timeline.
    pub maintenances: Vec<Maintenance>,
    /// The link to each event's runbook page (signed when links are signed).
    pub runbook_links: BTreeMap<EventId, String>,
    /// A problem with the filters, shown above the results.
    pub error: Option<String>,
    /// The zone times are shown in.
    pub zone: Zone,
    /// Now.
    pub now: DateTime<Utc>,
}

/// What a runbook page shows.
#[derive(Debug, Clone)]
pub struct RunbookPage {
    /// The rendered runbook.
    pub runbook: Runbook,
    /// The event it was rendered for.
    pub event: MaintenanceEvent,
    /// Its maintenance.
    pub maintenance: Option<Maintenance>,
    /// Who acknowledged it first, if anyone.
    pub acknowledged: Option<Acknowledgement>,
    /// The checklist steps already done.
    pub steps_done: Vec<StepDone>,
    /// The outcome recorded, if any.
    pub outcome: Option<Outcome>,
    /// Where a ticked checkbox is reported (`POST`, with the step number), when the page may record
    /// steps; signed like the page's own link.
    pub step_url: Option<String>,
    /// The zone times are shown in.
    pub zone: Zone,
    /// Now.
    pub now: DateTime<Utc>,
}

/// The history page.
pub fn history(page: &HistoryPage) -> String {
    let _ = page;
    String::from("<!doctype html><title>cachewatch</title>")
}

/// A runbook page.
pub fn runbook(page: &RunbookPage) -> String {
    let _ = page;
    String::from("<!doctype html><title>cachewatch</title>")
}
