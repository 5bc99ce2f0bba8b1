//! The edges of cachewatch: every conversation with something outside the process (a SQLite file,
//! DynamoDB, ElastiCache, Slack, Redis) happens here, behind the traits the domain defines.
#![warn(missing_docs)]

pub mod alert_path;
pub mod aws;
pub mod chat;
pub mod deployment;
pub mod dynamo;
pub mod elasticache;
pub mod files;
pub mod logging;
pub mod outbound;
pub mod placed_facts;
pub mod redis;
pub mod secrets;
pub mod slack;
pub mod spokes;
pub mod sqlite;
mod unreadable;

pub use slack::{RetryPolicy, SlackClient, SlackSettings, SlackWebhook};
pub use sqlite::SqliteStore;
