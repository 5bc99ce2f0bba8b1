//! Alerting: which events need people ([`policy`]), whether one alerts now and where
//! ([`decision`]), the outbox and its sender ([`notify`]), the chat the messages go through
//! ([`delivery`]), the reminders of maintenances nobody has acknowledged ([`reminder`]), and the
//! Slack messages themselves, as data ([`slack`]); the path an alert travels, link by link
//! ([`alert_path`]), and the synthetic notification that proves it carries one end to end
//! ([`canary`]). Alerts also go beyond Slack, to a signed webhook and Amazon Q Developer
//! ([`outbound`]).

pub mod alert_path;
pub mod canary;
pub mod decision;
pub mod delivery;
pub mod notify;
pub mod outbound;
pub mod policy;
pub mod reminder;
pub mod slack;
pub use decision::{
    FRESH_FOR, Quiet, SAME_FAILOVER_WITHIN, Surroundings, Verdict, tags_for, verdict,
    verdict_tagged,
};
