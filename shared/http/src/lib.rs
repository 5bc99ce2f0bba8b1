//! The HTTP door of cachewatch: one axum router, hosted by the API function (a Lambda Function
//! URL) and by `cachewatch serve` on one machine.
//!
//! | route | module |
//! |---|---|
//! | `POST /slack/commands` | [`commands`]: `/cachewatch search`, `runbook`, `upcoming`, `mute`, `help` |
//! | `POST /slack/interactions` | [`interactions`]: Acknowledge, Post checklist, Record outcome (a modal) |
//! | `GET /runbooks/{id}`, `POST /runbooks/{id}/steps` | [`browser`]: the runbook page, and its ticked steps |
//! | `GET /events` | [`browser`]: the history page |
//! | `GET /api/events` | [`api`]: the same search as JSON |
//! | `POST /sns` | [`sns`]: an SNS HTTP(S) subscription: confirmations and notifications |
//! | `GET /healthz` | liveness |
//!
//! The door faces the internet, so nothing passes unchecked: Slack's requests carry Slack's
//! signature ([`slack_auth`]), SNS messages AWS's ([`sns`]), and the pages and the API a signed,
//! expiring link ([`access`], over [`cachewatch_core::links`]). Bodies are size-limited, and every
//! value from a request or an event is escaped where it is shown (HTML by the page views, Slack
//! mrkdwn by [`cachewatch_core::alerting::slack::mrkdwn`]).
//!
//! The hosts build a [`Door`] (the store, the chat, facts, the SNS fetcher, the team's
//! configuration, [`HttpSettings`] from their environment) and serve [`router`] (on a socket,
//! with [`listener::serve`]).
#![warn(missing_docs)]

pub mod access;
pub mod api;
pub mod browser;
pub mod commands;
mod door;
pub mod interactions;
pub mod listener;
pub mod pages;
pub mod settings;
pub mod slack_auth;
pub mod sns;

pub use door::{BODY_TIMEOUT, Door, router};
pub use settings::{HttpSettings, SettingsError};
