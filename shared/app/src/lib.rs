//! The application layer: one entry per use case, called by every door.
//!
//! A door (the SNS function, `POST /sns`, a CLI command, the poller) turns its wire format into
//! one request, calls one entry here with its [`Ports`], and turns the answer back into its wire
//! format. The rules live behind the entries, once: which input is read and how, the mutes set in
//! Slack, storing and the lifecycle, the facts a drill takes for granted, the alerts.
//!
//! This crate knows no wire format: no AWS SDK, HTTP, SQL or Lambda types. Adapters implement
//! the ports (traits of `cachewatch-core`); this crate composes the core's decisions.
#![warn(missing_docs)]

pub mod admit;
pub mod canary;
pub mod catch_up;
pub mod daily;
pub mod drill;
pub mod facts;
pub mod failover;
pub mod import;
pub mod ingest;
pub mod lookup;
pub mod mute;
pub mod report;
pub mod respond;
pub mod search;
pub mod send;

pub use facts::{AlertFacts, KeptFacts, Known, NOT_LOOKED_UP, known_facts};
pub use import::{ImportError, ImportRequest, Imported, LineRuns, import_lines};
pub use respond::{Acknowledged, acknowledge, redrawn_parent};
pub use send::{Sent, remind, send_pending};

pub use ingest::{
    Alerting, Alerts, Door, IngestError, IngestRequest, Ingested, Input, alert, ingest, preview,
};

use cachewatch_core::alerting::notify::NotifySettings;
use cachewatch_core::cluster::kept::FactsStore;
use cachewatch_core::config::Config;
use cachewatch_core::history::History;
use cachewatch_core::history::response::ResponseStore;
use cachewatch_core::runbook::Runbooks;
use chrono::{DateTime, Utc};

/// The history a use case reads and writes: the core's [`History`] (events, deliveries,
/// people's responses) and the facts read from ElastiCache.
pub trait Store: History + FactsStore {}

impl<T: History + FactsStore> Store for T {}

/// What the use cases reach the outside through: one bundle, built by a door once.
#[derive(Debug)]
pub struct Ports<'a, S, C, F> {
    /// The history.
    pub store: &'a S,
    /// The chat, when one is configured: without one, nothing is sent.
    pub chat: Option<&'a C>,
    /// Where facts about clusters come from.
    pub facts: &'a F,
    /// The runbooks (for checklists in threads).
    pub runbooks: &'a Runbooks,
}

impl<'a, S, C, F> Ports<'a, S, C, F> {
    /// The history, the chat when there is one, the facts and the runbooks.
    pub fn new(store: &'a S, chat: Option<&'a C>, facts: &'a F, runbooks: &'a Runbooks) -> Self {
        Self {
            store,
            chat,
            facts,
            runbooks,
        }
    }
}

impl<S, C, F> Clone for Ports<'_, S, C, F> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<S, C, F> Copy for Ports<'_, S, C, F> {}

/// What a use case that sends or draws alerts goes by: the team's configuration (the mutes set
/// in Slack are read at `now` and added to it), how alerts are sent, and the moment it runs at.
#[derive(Debug, Clone, Copy)]
pub struct Rules<'a> {
    /// The team's configuration, as the door read it.
    pub config: &'a Config,
    /// How alerts are sent and drawn.
    pub settings: &'a NotifySettings,
    /// When the use case runs.
    pub now: DateTime<Utc>,
}

/// The chat and the team's configuration at `now` (see [`config_at`]), for a use case that sends;
/// `None` when no chat is configured, and then nothing is read.
pub(crate) async fn chat_and_config<'a, S: ResponseStore, C, F>(
    ports: Ports<'a, S, C, F>,
    config: &Config,
    now: DateTime<Utc>,
) -> Option<(&'a C, Config)> {
    let chat = ports.chat?;
    Some((chat, config_at(ports.store, config, now).await))
}

/// The team's configuration at `now`: `config` with the mutes people set in Slack, each once
/// (a configuration that has them already is returned as it is). When those cannot be read,
/// `config` alone: a mute missed is one alert too many, which is better than none.
pub async fn config_at<S: ResponseStore>(store: &S, config: &Config, now: DateTime<Utc>) -> Config {
    let mut muted = match store.mutes(now).await {
        Ok(mutes) => config.clone().with_stored_mutes(&mutes),
        Err(e) => {
            tracing::warn!(error = %e, "cannot read the mutes set in Slack");
            return config.clone();
        }
    };
    let mut seen = Vec::with_capacity(muted.mutes.len());
    muted.mutes.retain(|m| {
        let first = !seen.contains(m);
        if first {
            seen.push(m.clone());
        }
        first
    });
    muted
}
