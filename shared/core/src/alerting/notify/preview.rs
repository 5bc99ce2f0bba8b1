//! Messages rendered without recording or sending anything: what an ingest would post (the
//! alerts a person sees when Slack is not configured), and a thread parent as it stands now, to
//! be put in place of the one posted.

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};

use super::known::around_of;
use super::{Alerter, Known, NotifySettings, Run};
use crate::alerting::delivery::{ChatSink, DeliveryError, PostedMessage};
use crate::alerting::slack::{self, AlertContext, MessageMetadata, SlackMessage};
use crate::alerting::{Surroundings, Verdict, tags_for, verdict_tagged};
use crate::cluster::source::FactsSource;
use crate::config::Config;
use crate::history::History;
use crate::history::store::StoreError;
use crate::model::event::{EventId, MaintenanceEvent};
use crate::runbook::Runbooks;

/// A message that would be posted, and where.
#[derive(Debug, Clone, PartialEq)]
pub struct Preview {
    /// The channel it would go to.
    pub channel: String,
    /// Whether it would be a reply in its maintenance's thread.
    pub reply: bool,
    /// The message.
    pub message: SlackMessage,
}

/// What [`super::record_alerts`] and [`super::notify`] would post for `events`, without
/// recording or sending anything: the alerts a person sees when Slack is not configured.
pub async fn preview<S: History, F: FactsSource>(
    store: &S,
    facts: &F,
    events: &[MaintenanceEvent],
    config: &Config,
    settings: &NotifySettings,
    now: DateTime<Utc>,
) -> Result<Vec<Preview>, StoreError> {
    let (runbooks, known) = (Runbooks::embedded(), Known::default());
    let run = Run::new(
        unsent(store, facts, &runbooks, config, settings, now),
        &known,
    );
    let mut candidates: Vec<&MaintenanceEvent> = events.iter().filter(|e| e.actionable).collect();
    candidates.sort_by(|a, b| (a.occurred_at, &a.id).cmp(&(b.occurred_at, &b.id)));
    let mut announced: BTreeSet<EventId> = BTreeSet::new();
    let mut with_thread: BTreeSet<EventId> = BTreeSet::new();
    let mut previews = Vec::new();
    for event in candidates {
        let around = around_of(store, event).await?;
        let surroundings = Surroundings {
            maintenance: around.maintenance.as_ref(),
            events: &around.events,
            announced: &announced,
        };
        let tags = tags_for(config, facts, event, around.maintenance.as_ref()).await;
        let Verdict::Announce { channel } = verdict_tagged(
            event,
            surroundings,
            config,
            settings.channel.as_deref(),
            tags.as_ref(),
            now,
        ) else {
            continue;
        };
        announced.insert(event.id.clone());
        let key = around
            .maintenance
            .as_ref()
            .map_or_else(|| event.id.clone(), |m| m.id.clone());
        let reply = !with_thread.insert(key);
        let how: fn(&AlertContext<'_>) -> SlackMessage =
            if reply { slack::update } else { slack::alert };
        previews.push(Preview {
            channel,
            reply,
            message: run.render(event, &around, how).await?,
        });
    }
    Ok(previews)
}

/// The thread parent of the maintenance `anchor` belongs to (`anchor`'s alert is the parent), as
/// it stands now and showing who acknowledged it: what replaces the parent when someone presses
/// Acknowledge. The message carries `anchor`'s delivery key, as the parent does.
pub async fn parent_message<S: History, F: FactsSource>(
    store: &S,
    facts: &F,
    config: &Config,
    settings: &NotifySettings,
    anchor: &MaintenanceEvent,
    acknowledged: Option<slack::Acknowledgement>,
    now: DateTime<Utc>,
) -> Result<SlackMessage, StoreError> {
    let (runbooks, known) = (Runbooks::embedded(), Known::default());
    let run = Run::new(
        unsent(store, facts, &runbooks, config, settings, now),
        &known,
    );
    let around = around_of(store, anchor).await?;
    let mut message = run
        .render_acknowledged(anchor, &around, slack::alert, acknowledged)
        .await?;
    message.metadata = Some(MessageMetadata::for_delivery(anchor.id.as_str()));
    Ok(message)
}

/// What renders alerts without sending them.
fn unsent<'a, S, F>(
    store: &'a S,
    facts: &'a F,
    runbooks: &'a Runbooks,
    config: &'a Config,
    settings: &'a NotifySettings,
    now: DateTime<Utc>,
) -> Alerter<'a, S, NoSink, F> {
    Alerter {
        store,
        sink: &NoSink,
        facts,
        runbooks,
        config,
        settings,
        now,
    }
}

/// The sink of a preview or of a message rendered to be put in place elsewhere: never called.
struct NoSink;

impl ChatSink for NoSink {
    fn threads(&self) -> bool {
        true
    }

    async fn post(
        &self,
        _channel: &str,
        _message: &SlackMessage,
    ) -> Result<PostedMessage, DeliveryError> {
        Err(DeliveryError::Permanent {
            code: "preview".into(),
            detail: "a preview sends nothing".into(),
        })
    }
}
