//! Alerting: which events need people ([`policy`]), whether one alerts now and where
//! ([`decision`]), the outbox and its sender ([`notify`]), the chat the messages go through
//! ([`delivery`]), the Slack messages themselves, as data ([`slack`]), and the outputs beyond
//! Slack: a signed webhook and Amazon Q Developer ([`outbound`]).

pub mod decision;
pub mod delivery;
pub mod notify;
pub mod outbound;
pub mod policy;
pub mod slack;
pub use decision::{FRESH_FOR, Quiet, SAME_FAILOVER_WITHIN, Surroundings, Verdict, verdict};
