//! The cachewatch domain: what ElastiCache tells us about maintenance and failures, read into one
//! event model; the lifecycle of each maintenance; and the decisions made on them.
//!
//! This crate is pure. It does no I/O and knows no wire format of AWS, HTTP, SQL or Slack: it
//! describes what should be stored, sent and shown, and the traits through which the adapters do
//! it. Time comes in as an argument, never from the clock.
#![warn(missing_docs)]

pub mod alert_path;
pub mod alerting;
pub mod canary;
pub mod config;
pub mod correlate;
pub mod delivery;
pub mod drill;
pub mod enrich;
pub mod event;
pub mod export;
pub mod facts;
pub mod facts_history;
pub mod failover;
pub mod fleet;
pub mod ids;
pub mod impact;
pub mod invisible;
pub mod kind;
pub mod lifecycle;
pub mod links;
pub mod notify;
pub mod parse;
pub mod pipeline;
pub mod policy;
pub mod probe;
pub mod query;
pub mod report;
pub mod response;
pub mod runbook;
pub mod slack;
pub mod store;
pub mod timefmt;

pub use event::{EventId, MaintenanceEvent, Origin, Window};
pub use kind::{Category, EventKind};
pub use lifecycle::{Maintenance, MaintenanceState};
pub use parse::{Document, ParseContext, ParseError, parse_document, read_document};
pub use pipeline::{IngestOutcome, IngestedEvent, ingest};
pub use policy::AlertPolicy;
pub use query::EventQuery;
pub use store::{EventStore, StoreError};
