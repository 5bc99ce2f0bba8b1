//! The pages people read in a browser: a maintenance's runbook, and the history of events with a
//! timeline of maintenances per cluster. Pure functions from what to show to HTML: the Rust side
//! works out what to show (texts, times, the chart's positions) as plain view-models, and the
//! templates under `templates/` lay them out, with every printed value escaped for HTML. The
//! runbook itself is written by core's one HTML renderer ([`cachewatch_core::runbook::html`]).
//!
//! # What the routes that serve them agree to
//!
//! - **Headers.** Both pages are whole documents that load nothing: send them as
//!   `text/html; charset=utf-8` with the policy of [`content_security_policy`] as
//!   `Content-Security-Policy` (it allows the pages' one stylesheet and one script by their hashes,
//!   the inline icon, and requests and form submissions to the page's own origin only). The pages
//!   also ask browsers not to send their address on (`<meta name="referrer">`), since signed links
//!   are credentials.
//! - **The history page** (`GET /events`) submits its filter form with `GET` to its own address,
//!   with the query parameters `cluster`, `node`, `kind`, `category`, `since`, `until` and `text`
//!   (empty when not used). Every other entry of [`HistoryPage::filters`] (`limit`, a signed link's
//!   parameters) is sent back as it came, in a hidden field.
//! - **Recording a step.** When [`RunbookPage::step_url`] is set, ticking step `N` sends
//!   `POST {step_url}` with the form body `step=N` (`Content-Type:
//!   application/x-www-form-urlencoded`), `N` being [`Step::number`] as in
//!   [`StepDone::step`]. Any `2xx` answer means recorded (the body is not read); anything else
//!   unticks the box and tells the reader. A recorded step cannot be unticked from the page. The
//!   address must be on the page's own origin (the policy allows no other).
//!
//! [`Step::number`]: cachewatch_core::runbook::Step::number

mod document;
mod history_page;
mod render;
mod runbook_page;
mod timeline;

#[cfg(test)]
mod tests;

use std::collections::BTreeMap;

use cachewatch_core::history::query::EventQuery;
use cachewatch_core::history::response::{Acknowledgement, Outcome, StepDone};
use cachewatch_core::lifecycle::Maintenance;
use cachewatch_core::model::event::{EventId, MaintenanceEvent};
use cachewatch_core::model::timefmt::Zone;
use cachewatch_core::runbook::Runbook;
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

pub use document::content_security_policy;
pub use timeline::{MAX_MAINTENANCES, MAX_ROWS};

/// The history page: the filters, the problem with them if any, the timeline of maintenances per
/// cluster, and the events found.
pub fn history(page: &HistoryPage) -> String {
    history_page::render(page)
}

/// A runbook page: the maintenance in a header, then the runbook with a checkbox per step.
pub fn runbook(page: &RunbookPage) -> String {
    runbook_page::render(page)
}
