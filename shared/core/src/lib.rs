//! The cachewatch domain: what ElastiCache tells us about maintenance and failures, read into one
//! event model; the lifecycle of each maintenance; and the decisions made on them.
//!
//! This crate is pure. It does no I/O and knows no wire format of AWS, HTTP, SQL or Slack: it
//! describes what should be stored, sent and shown, and the traits through which the adapters do
//! it. Time comes in as an argument, never from the clock.
//!
//! Where to start: [`model`] (what an event is), [`intake`] (how one is read and stored),
//! [`lifecycle`] (what state a maintenance is in), [`alerting`] (who is told, and how),
//! [`runbook`] and [`cluster`] (what to do, for this cluster), [`history`] (what is kept and
//! asked of it), [`fleet`] (what the account runs), [`operations`] (drills, rehearsed
//! failovers, the probe, the yearly log), [`config`] and [`links`].
#![warn(missing_docs)]

pub mod alerting;
pub mod cluster;
pub mod config;
pub mod fleet;
pub mod history;
pub mod intake;
pub mod lifecycle;
pub mod links;
pub mod model;
pub mod operations;
pub mod runbook;
#[cfg(test)]
mod test_support;

pub use alerting::policy::AlertPolicy;
pub use history::query::EventQuery;
pub use history::store::{EventStore, StoreError};
pub use intake::parse::{Document, ParseContext, ParseError, parse_document, read_document};
pub use intake::pipeline::{IngestOutcome, IngestedEvent, ingest};
pub use lifecycle::{Maintenance, MaintenanceState};
pub use model::event::{EventId, MaintenanceEvent, Origin, Window};
pub use model::kind::{Category, EventKind};
