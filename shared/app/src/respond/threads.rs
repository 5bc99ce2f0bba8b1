//! A maintenance's Slack threads drawn again after a response, the same way whichever door
//! recorded it: every thread parent of the maintenance, in every channel it was posted to,
//! showing who took it on first.

use cachewatch_core::alerting::delivery::ChatSink;
use cachewatch_core::alerting::slack;
use cachewatch_core::cluster::source::FactsSource;
use cachewatch_core::history::response::first_acknowledgement;
use cachewatch_core::history::store::StoreError;

use super::Who;
use crate::lookup::Subject;
use crate::{Ports, Rules, Store, redrawn_parent};

/// What became of the maintenance's thread parents.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Redrawn {
    /// How many were put back in place, drawn anew.
    pub updated: usize,
    /// Those put back, by channel id and message ts.
    pub messages: Vec<(String, String)>,
    /// Those Slack did not update, each as a sentence (the response is recorded either way).
    pub failed: Vec<String>,
}

/// Draws every thread parent of `subject`'s maintenance again, showing who acknowledged it
/// first (`who` by their name when that is them). Nothing is drawn without a chat that updates
/// messages (a webhook cannot), or before anyone acknowledged it: the parent shows nothing else
/// that a response changes.
pub async fn redraw_threads<S: Store, C: ChatSink, F: FactsSource>(
    ports: Ports<'_, S, C, F>,
    rules: Rules<'_>,
    subject: &Subject,
    who: Option<&Who>,
) -> Result<Redrawn, StoreError> {
    let mut redrawn = Redrawn::default();
    let Some(chat) = ports.chat.filter(|c| c.threads()) else {
        return Ok(redrawn);
    };
    let ids = subject.event_ids();
    let acks = ports.store.acknowledgements(&ids).await?;
    let Some(first) = first_acknowledgement(&acks) else {
        return Ok(redrawn);
    };
    let shown = slack::Acknowledgement {
        by: match who {
            Some(who) if who.by() == first.by => who.shown().to_owned(),
            _ => first.by.clone(),
        },
        at: first.at,
    };
    let mut channels: Vec<String> = ports
        .store
        .deliveries(&ids)
        .await?
        .into_iter()
        .filter(|d| d.ts.is_some())
        .map(|d| d.channel)
        .collect();
    channels.sort();
    channels.dedup();
    for channel in channels {
        for thread in ports.store.threads(&channel, &ids).await? {
            let Some(anchor) = ports.store.event(&thread.anchor).await? else {
                continue;
            };
            let message = redrawn_parent(ports, rules, &anchor, shown.clone()).await?;
            match chat
                .update(&thread.channel_id, &thread.message_ts, &message)
                .await
            {
                Ok(()) => {
                    redrawn.updated += 1;
                    redrawn
                        .messages
                        .push((thread.channel_id.clone(), thread.message_ts.clone()));
                }
                Err(e) => redrawn.failed.push(format!(
                    "the Slack message in {channel} was not updated: {e}"
                )),
            }
        }
    }
    Ok(redrawn)
}
