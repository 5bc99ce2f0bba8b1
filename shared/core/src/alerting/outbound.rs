//! Alerts beyond Slack: every alert Slack gets also goes to the outputs `cachewatch.toml` names, a
//! signed webhook ([`webhook_body`]) and an SNS topic read by Amazon Q Developer in chat
//! applications ([`q_developer_message`]).
//!
//! An output's alert is a [`Delivery`] in the same outbox as Slack's, recorded just before the
//! Slack delivery it goes with, under the output's own channel ([`Output::channel`]): it is sent once,
//! retried with the same backoff while the output is down, and remembered once sent. The
//! messages are data here; adapters sign, post and publish them.

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::{Value, json};

use crate::alerting::delivery::{ChatSink, Delivery, DeliveryState, DeliveryStore, LeaseRequest};
use crate::alerting::notify::{DUE_PER_RUN, LEASE_FOR, NotifyReport, backoff};
use crate::alerting::slack::mrkdwn;
use crate::history::store::{EventStore, StoreError};
use crate::lifecycle::{Maintenance, MaintenanceState};
use crate::model::event::{EventId, MaintenanceEvent, Window, rfc3339};

/// The first character of an output's channel: never part of a Slack channel's id or name.
pub const OUTPUT_MARK: char = '>';

/// The version of the webhook's body; a change that breaks receivers gets a new one.
pub const WEBHOOK_SCHEMA: &str = "cachewatch.alert.v1";

/// Somewhere alerts go besides Slack.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Output {
    /// An HTTPS endpoint, each alert POSTed as signed JSON.
    Webhook,
    /// An SNS topic Amazon Q Developer in chat applications reads.
    QDeveloper,
}

impl Output {
    /// Every output.
    pub const ALL: [Output; 2] = [Output::Webhook, Output::QDeveloper];

    /// The output's name.
    pub fn name(self) -> &'static str {
        match self {
            Output::Webhook => "webhook",
            Output::QDeveloper => "q-developer",
        }
    }

    /// The channel its deliveries are recorded under.
    pub fn channel(self) -> &'static str {
        match self {
            Output::Webhook => ">webhook",
            Output::QDeveloper => ">q-developer",
        }
    }

    /// The output a delivery's channel names, if it names one.
    pub fn of_channel(channel: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|o| o.channel() == channel)
    }
}

/// Whether a delivery's channel is an output's rather than Slack's.
pub fn is_output_channel(channel: &str) -> bool {
    channel.starts_with(OUTPUT_MARK)
}

/// What PagerDuty's Events API v2 calls `event_action`: a maintenance under way or ahead keeps
/// its incident open, its end resolves it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// Open, or add to, the incident of the dedup key.
    Trigger,
    /// Close it: the maintenance is over or canceled.
    Resolve,
}

/// One alert, as every output carries it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OutboundEvent {
    /// [`WEBHOOK_SCHEMA`].
    pub schema: &'static str,
    /// The maintenance's id (the event's own for an event outside any maintenance): every alert
    /// of one maintenance shares it.
    pub dedup_key: String,
    /// [`Action::Trigger`] or [`Action::Resolve`].
    pub action: Action,
    /// The event announced; one delivery per event and output.
    pub event_id: String,
    /// The maintenance, when the event belongs to one.
    pub maintenance_id: Option<String>,
    /// The event's kind (`node_replacement_scheduled`).
    pub kind: String,
    /// ElastiCache's event name, when known.
    pub event_name: Option<String>,
    /// The kind's category (`node_replacement`).
    pub category: String,
    /// One line for people.
    pub title: String,
    /// The maintenance's state as of this alert.
    pub state: Option<&'static str>,
    /// The cluster a person would name.
    pub cluster: String,
    /// The cache cluster, when known.
    pub cache_cluster_id: Option<String>,
    /// The node, when known.
    pub node_id: Option<String>,
    /// The replication group, when known.
    pub replication_group_id: Option<String>,
    /// The Region, when known.
    pub region: Option<String>,
    /// The account, when known.
    pub account_id: Option<String>,
    /// When the event happened (RFC 3339, UTC).
    pub occurred_at: String,
    /// The maintenance window.
    pub window: Option<Window>,
    /// The window it moved from.
    pub previous_window: Option<Window>,
    /// ElastiCache's text.
    pub message: Option<String>,
    /// A drill's made-up event.
    pub drill: bool,
}

impl OutboundEvent {
    /// The alert of `event`, in `maintenance` (as the store has it now) when it belongs to one.
    pub fn of(event: &MaintenanceEvent, maintenance: Option<&Maintenance>) -> Self {
        let last_of_maintenance = maintenance.is_none_or(|m| m.event_ids.last() == Some(&event.id));
        let action = match maintenance.map(|m| m.state) {
            Some(MaintenanceState::Completed | MaintenanceState::Canceled)
                if last_of_maintenance =>
            {
                Action::Resolve
            }
            _ => Action::Trigger,
        };
        let kind = event.kind.describe();
        let mut words = kind.chars();
        let kind_words: String = words
            .next()
            .map(|c| c.to_uppercase().chain(words).collect())
            .unwrap_or_default();
        let subject = match &event.node_id {
            Some(node) => format!("{} node {}", event.cluster_label(), node.as_str()),
            None => event.cluster_label().to_owned(),
        };
        let drill = if event.drill { "[drill] " } else { "" };
        Self {
            schema: WEBHOOK_SCHEMA,
            dedup_key: maintenance.map_or_else(
                || event.id.as_str().to_owned(),
                |m| m.id.as_str().to_owned(),
            ),
            action,
            event_id: event.id.as_str().to_owned(),
            maintenance_id: maintenance.map(|m| m.id.as_str().to_owned()),
            kind: event.kind.as_str().to_owned(),
            event_name: event.event_name.clone(),
            category: event.category.as_str().to_owned(),
            title: format!("{drill}{kind_words}: {subject}"),
            state: maintenance.map(|m| m.state.as_str()),
            cluster: event.cluster_label().to_owned(),
            cache_cluster_id: event.cluster_id.as_ref().map(|c| c.as_str().to_owned()),
            node_id: event.node_id.as_ref().map(|n| n.as_str().to_owned()),
            replication_group_id: event
                .replication_group_id
                .as_ref()
                .map(|g| g.as_str().to_owned()),
            region: event.region.clone(),
            account_id: event.account_id.clone(),
            occurred_at: rfc3339::format(&event.occurred_at),
            window: event.window,
            previous_window: event.previous_window,
            message: event.message.clone(),
            drill: event.drill,
        }
    }
}

/// The webhook's body: the alert as JSON (serde escapes whatever the event says).
pub fn webhook_body(event: &OutboundEvent) -> Value {
    serde_json::to_value(event).unwrap_or(Value::Null)
}

/// The alert as an Amazon Q Developer in chat applications custom notification
/// (<https://docs.aws.amazon.com/chatbot/latest/adminguide/custom-notifs.html>): version `1.0`,
/// source `custom`, and `metadata.threadId` the maintenance's id, so that a maintenance's alerts
/// thread together. The texts are rendered as the chat's markdown, so whatever comes from the
/// event is escaped as for Slack: a cluster named `<!channel>` pings nobody.
pub fn q_developer_message(event: &OutboundEvent) -> Value {
    let mut next_steps = Vec::new();
    if event.action == Action::Trigger && event.window.is_some() {
        next_steps.push(format!(
            "Check that clients of {} reconnect before the window",
            mrkdwn::escape_line(&event.cluster)
        ));
    }
    next_steps.push(format!(
        "Run the runbook: cachewatch runbook {}",
        event.event_id
    ));
    let mut keywords: Vec<String> = vec![event.category.clone(), event.kind.clone()];
    keywords.extend(event.region.clone());
    let mut resources: BTreeSet<String> = BTreeSet::new();
    resources.extend(event.cache_cluster_id.clone());
    resources.extend(event.replication_group_id.clone());
    let mut context = serde_json::Map::new();
    context.insert("eventId".into(), json!(event.event_id));
    context.insert("action".into(), json!(event.action));
    if let Some(state) = event.state {
        context.insert("state".into(), json!(state));
    }
    context.insert("occurredAt".into(), json!(event.occurred_at));
    json!({
        "version": "1.0",
        "source": "custom",
        "id": event.event_id,
        "content": {
            "textType": "client-markdown",
            "title": mrkdwn::escape_line(&event.title),
            "description": q_description(event),
            "nextSteps": next_steps,
            "keywords": keywords,
        },
        "metadata": {
            "threadId": event.dedup_key,
            "summary": mrkdwn::escape_line(&event.title),
            "eventType": event.kind,
            "relatedResources": resources.into_iter().collect::<Vec<_>>(),
            "additionalContext": context,
        },
    })
}

/// The notification's description: where the maintenance is and when, then ElastiCache's words.
fn q_description(event: &OutboundEvent) -> String {
    let window = |w: &Window| {
        format!(
            "{} – {}",
            rfc3339::format(&w.start),
            rfc3339::format(&w.end)
        )
    };
    let mut lines = vec![format!(
        "*Cluster:* {}",
        mrkdwn::escape_line(&event.cluster)
    )];
    if let Some(node) = &event.node_id {
        lines.push(format!("*Node:* {}", mrkdwn::escape_line(node)));
    }
    if let Some(group) = &event.replication_group_id {
        lines.push(format!(
            "*Replication group:* {}",
            mrkdwn::escape_line(group)
        ));
    }
    if let Some(w) = &event.window {
        lines.push(format!("*Window:* {}", window(w)));
    }
    if let Some(w) = &event.previous_window {
        lines.push(format!("*Moved from:* {}", window(w)));
    }
    let place: Vec<&str> = [event.region.as_deref(), event.account_id.as_deref()]
        .into_iter()
        .flatten()
        .collect();
    if !place.is_empty() {
        lines.push(format!(
            "*Where:* {}",
            mrkdwn::escape_line(&place.join(" · "))
        ));
    }
    if let Some(text) = &event.message {
        lines.push(String::new());
        lines.push(mrkdwn::escape(text));
    }
    lines.join("\n")
}

/// The output deliveries that go with the Slack deliveries `chat` just recorded as pending.
pub fn with_outputs(chat: &Delivery, outputs: &[Output]) -> Vec<Delivery> {
    if chat.state != DeliveryState::Pending || is_output_channel(&chat.channel) {
        return Vec::new();
    }
    to_outputs(
        &chat.event_id,
        chat.group_key.as_deref(),
        outputs,
        chat.created_at,
    )
}

/// The pending deliveries of one event's alert to each of `outputs`: what announces it with
/// Slack's, or alone when no Slack channel is configured for it.
pub fn to_outputs(
    event: &EventId,
    group_key: Option<&str>,
    outputs: &[Output],
    now: DateTime<Utc>,
) -> Vec<Delivery> {
    outputs
        .iter()
        .map(|o| {
            Delivery::new(
                event.clone(),
                o.channel().to_owned(),
                group_key.map(str::to_owned),
                DeliveryState::Pending,
                now,
            )
        })
        .collect()
}

/// Sends what is due to each output the sink delivers to, one sender per output (under its
/// lease), oldest first. A passing failure leaves the delivery pending with a later attempt and
/// stops that output for this run; a refusal marks it failed with the reason.
pub async fn send_outputs<S, C>(
    store: &S,
    sink: &C,
    holder: &str,
    due_by: DateTime<Utc>,
    now: DateTime<Utc>,
    report: &mut NotifyReport,
) -> Result<(), StoreError>
where
    S: EventStore + DeliveryStore,
    C: ChatSink,
{
    for output in sink.outputs() {
        let lease = format!("out:{}", output.name());
        if !store
            .acquire_lease(LeaseRequest::new(&lease, holder, now, now + LEASE_FOR))
            .await?
        {
            report.busy.push(output.channel().to_owned());
            continue;
        }
        let run = OutputRun {
            store,
            sink,
            due_by,
            now,
        };
        let outcome = run.send(output, report).await;
        store.release_lease(&lease, holder).await?;
        outcome?;
    }
    Ok(())
}

/// One output's turn in a run of [`send_outputs`]: what is due by `due_by`, sent at `now`.
struct OutputRun<'a, S, C> {
    store: &'a S,
    sink: &'a C,
    due_by: DateTime<Utc>,
    now: DateTime<Utc>,
}

impl<S: EventStore + DeliveryStore, C: ChatSink> OutputRun<'_, S, C> {
    async fn send(&self, output: Output, report: &mut NotifyReport) -> Result<(), StoreError> {
        let OutputRun {
            store,
            sink,
            due_by,
            now,
        } = *self;
        let due: Vec<Delivery> = store
            .due_deliveries(due_by, DUE_PER_RUN)
            .await?
            .into_iter()
            .filter(|d| d.channel == output.channel())
            .collect();
        for mut delivery in due {
            let Some(event) = store.event(&delivery.event_id).await? else {
                delivery.state = DeliveryState::Failed;
                delivery.reason = Some("the event is no longer stored".into());
                delivery.updated_at = now;
                store.save_delivery(&delivery).await?;
                continue;
            };
            let maintenance = match event.category.has_lifecycle() {
                true => store.maintenance(&event.id).await?,
                false => None,
            };
            let message = OutboundEvent::of(&event, maintenance.as_ref());
            // Recorded as under way first: a sender that dies here sends it again, and the receiver
            // drops the second by its delivery id.
            delivery.state = DeliveryState::Sending;
            delivery.attempts += 1;
            delivery.updated_at = now;
            store.save_delivery(&delivery).await?;
            match sink.deliver(output, &message).await {
                Ok(()) => {
                    delivery.state = DeliveryState::Sent;
                    delivery.reason = None;
                    store.save_delivery(&delivery).await?;
                    report.outputs_sent.push((output, event.id.clone()));
                }
                Err(e) if e.is_retryable() => {
                    let asked = match &e {
                        crate::alerting::delivery::DeliveryError::Retryable {
                            retry_after, ..
                        } => *retry_after,
                        _ => None,
                    };
                    delivery.state = DeliveryState::Pending;
                    delivery.reason = Some(e.to_string());
                    delivery.next_attempt_at = now + backoff(delivery.attempts, asked);
                    store.save_delivery(&delivery).await?;
                    report.outputs_waiting += 1;
                    break;
                }
                Err(e) => {
                    delivery.state = DeliveryState::Failed;
                    delivery.reason = Some(e.to_string());
                    store.save_delivery(&delivery).await?;
                    report
                        .failed
                        .push((event.id.clone(), format!("{}: {e}", output.name())));
                }
            }
        }
        Ok(())
    }
}

/// The events of `deliveries` that have Slack's delivery (the outputs' aside).
pub fn chat_delivered(deliveries: &[Delivery]) -> BTreeSet<EventId> {
    deliveries
        .iter()
        .filter(|d| !is_output_channel(&d.channel))
        .map(|d| d.event_id.clone())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::alerting::delivery::{DeliveryError, PostedMessage};
    use crate::alerting::notify::record_alerts;
    use crate::alerting::policy::AlertPolicy;
    use crate::alerting::slack::SlackMessage;
    use crate::config::Config;
    use crate::history::store::MemoryStore;
    use crate::intake::parse::{ParseContext, parse_document};
    use crate::intake::pipeline::ingest;
    use crate::test_support::{at, block_on};
    use std::sync::Mutex;

    fn scheduled(cluster: &str, date: &str, start: &str, end: &str) -> String {
        json!({
            "SourceIdentifier": cluster,
            "SourceType": "cache-cluster",
            "Date": date,
            "Message": format!("The node with Cache Cluster ID: {cluster}, Node ID: 0001 is scheduled for replacement during the maintenance window from Start Time: {start}, End Time: {end}"),
        })
        .to_string()
    }

    /// The events of `lines`, stored with their lifecycle, as the store has them back.
    fn stored(store: &MemoryStore, lines: &[String]) -> Vec<MaintenanceEvent> {
        let events = parse_document(
            &lines.join("\n"),
            &ParseContext::received_at(at("2026-06-11T00:00:00Z")),
        )
        .unwrap();
        let outcome = block_on(ingest(store, events, &AlertPolicy::default())).unwrap();
        outcome
            .events
            .iter()
            .map(|e| block_on(store.event(&e.event.id)).unwrap().unwrap())
            .collect()
    }

    /// The replacement of `shop-001` announced on 10 June for 17 June, stored in `store`.
    fn shop_scheduled(store: &MemoryStore) -> Vec<MaintenanceEvent> {
        let event = scheduled(
            "shop-001",
            "2026-06-10T10:00:00Z",
            "Jun 17 05:00 UTC",
            "Jun 17 06:00 UTC",
        );
        stored(store, &[event])
    }

    /// A configuration with a webhook output.
    fn with_webhook() -> Config {
        Config::from_toml("[webhook]\nurl = \"https://hooks.example/cachewatch\"\n").unwrap()
    }

    fn outbound_of(store: &MemoryStore, event: &MaintenanceEvent) -> OutboundEvent {
        let m = block_on(store.maintenance(&event.id)).unwrap();
        OutboundEvent::of(event, m.as_ref())
    }

    #[test]
    fn every_alert_of_a_maintenance_shares_its_dedup_key_and_thread() {
        let store = MemoryStore::default();
        let events = stored(
            &store,
            &[
                scheduled(
                    "shop-001",
                    "2026-06-10T10:00:00Z",
                    "Jun 17 05:00 UTC",
                    "Jun 17 06:00 UTC",
                ),
                json!({
                    "SourceIdentifier": "shop-001",
                    "SourceType": "cache-cluster",
                    "Date": "2026-06-10T12:00:00Z",
                    "Message": "The replacement in maintenance window for node with Cache Cluster ID: shop-001, Node ID: 0001 has re-scheduled from Previous Start Time: Jun 17 05:00 UTC, Previous End Time: Jun 17 06:00 UTC to New Start Time: Jun 20 05:00 UTC, New End Time: Jun 20 06:00 UTC",
                })
                .to_string(),
            ],
        );
        let first = outbound_of(&store, &events[0]);
        let second = outbound_of(&store, &events[1]);
        let maintenance = block_on(store.maintenance(&events[0].id)).unwrap().unwrap();
        assert_eq!(first.dedup_key, maintenance.id.as_str());
        assert_eq!(second.dedup_key, first.dedup_key);
        assert_ne!(first.event_id, second.event_id);
        assert_eq!(first.action, Action::Trigger);
        assert_eq!(
            first.title,
            "Node replacement scheduled: shop-001 node 0001"
        );
        for e in [&first, &second] {
            let q = q_developer_message(e);
            assert_eq!(q["metadata"]["threadId"], json!(maintenance.id.as_str()));
            assert_eq!(q["id"], json!(e.event_id));
        }
        let body = webhook_body(&second);
        assert_eq!(body["schema"], json!(WEBHOOK_SCHEMA));
        assert_eq!(body["dedup_key"], json!(maintenance.id.as_str()));
        assert_eq!(body["action"], json!("trigger"));
        assert_eq!(body["window"]["start"], json!("2026-06-20T05:00:00Z"));
        assert_eq!(
            body["previous_window"]["start"],
            json!("2026-06-17T05:00:00Z")
        );
    }

    #[test]
    fn the_q_developer_message_has_the_documented_shape() {
        let store = MemoryStore::default();
        let events = shop_scheduled(&store);
        let q = q_developer_message(&outbound_of(&store, &events[0]));
        assert_eq!(q["version"], json!("1.0"));
        assert_eq!(q["source"], json!("custom"));
        let content = q["content"].as_object().unwrap();
        assert_eq!(content["textType"], json!("client-markdown"));
        assert!(content["title"].as_str().unwrap().contains("shop-001"));
        assert!(
            content["description"]
                .as_str()
                .unwrap()
                .contains("*Window:* 2026-06-17T05:00:00Z")
        );
        assert!(
            content["nextSteps"]
                .as_array()
                .unwrap()
                .iter()
                .all(Value::is_string)
        );
        assert!(
            content["keywords"]
                .as_array()
                .unwrap()
                .contains(&json!("node_replacement"))
        );
        let metadata = q["metadata"].as_object().unwrap();
        for key in [
            "threadId",
            "summary",
            "eventType",
            "relatedResources",
            "additionalContext",
        ] {
            assert!(metadata.contains_key(key), "metadata.{key}");
        }
        assert_eq!(metadata["eventType"], json!("node_replacement_scheduled"));
        assert_eq!(metadata["relatedResources"], json!(["shop-001"]));
        // Only these keys: the service expects the documented format.
        let mut keys: Vec<&str> = q.as_object().unwrap().keys().map(String::as_str).collect();
        keys.sort_unstable();
        assert_eq!(keys, ["content", "id", "metadata", "source", "version"]);
    }

    #[test]
    fn hostile_text_is_escaped_for_the_chat_and_kept_as_data_in_the_webhook() {
        let store = MemoryStore::default();
        let hostile = "<!channel> *x* \"q\" &amp; \\ \u{202e}";
        let line = json!({
            "SourceIdentifier": "<!channel>",
            "SourceType": "cache-cluster",
            "Date": "2026-06-10T10:00:00Z",
            "Message": format!("Failover from master node <!channel> to replica node 0002 completed {hostile}"),
        })
        .to_string();
        let events = stored(&store, &[line]);
        let event = outbound_of(&store, &events[0]);
        let q = q_developer_message(&event);
        let text = serde_json::to_string(&q).unwrap();
        // Valid JSON, read back the same.
        assert_eq!(serde_json::from_str::<Value>(&text).unwrap(), q);
        for field in [
            &q["content"]["title"],
            &q["content"]["description"],
            &q["metadata"]["summary"],
        ] {
            let s = field.as_str().unwrap();
            assert!(!s.contains("<!channel>"), "{s}");
        }
        assert!(
            q["content"]["description"]
                .as_str()
                .unwrap()
                .contains("&lt;!channel&gt;")
        );
        let body = serde_json::to_string(&webhook_body(&event)).unwrap();
        let back: Value = serde_json::from_str(&body).unwrap();
        assert_eq!(back["cluster"], json!(events[0].cluster_label()));
        assert_eq!(back["message"], json!(events[0].message));
    }

    #[test]
    fn the_last_alert_of_a_canceled_maintenance_resolves() {
        let store = MemoryStore::default();
        let events = shop_scheduled(&store);
        let first = events[0].clone();
        let mut cancel = first.clone();
        cancel.kind = crate::model::kind::EventKind::new(
            crate::model::kind::EventKind::NODE_REPLACEMENT_CANCELED,
        );
        cancel.category = cancel.kind.category();
        cancel.occurred_at = at("2026-06-12T10:00:00Z");
        cancel.id = EventId::derive(
            &cancel.source_id,
            &cancel.kind,
            cancel.node_id.as_ref(),
            cancel.occurred_at,
        );
        let all = [first.clone(), cancel.clone()];
        let maintenances = crate::lifecycle::assemble(&all);
        let m = maintenances
            .iter()
            .find(|m| m.event_ids.contains(&cancel.id))
            .unwrap();
        assert_eq!(m.state, MaintenanceState::Canceled);
        assert!(m.event_ids.contains(&first.id));
        assert_eq!(OutboundEvent::of(&first, Some(m)).action, Action::Trigger);
        let resolved = OutboundEvent::of(&cancel, Some(m));
        assert_eq!(resolved.action, Action::Resolve);
        assert_eq!(resolved.dedup_key, m.id.as_str());
        assert_eq!(webhook_body(&resolved)["action"], json!("resolve"));
    }

    /// A sink whose outputs fail `failures` times, then take everything.
    struct Flaky {
        failures: Mutex<u32>,
        delivered: Mutex<Vec<(Output, String)>>,
    }

    impl ChatSink for Flaky {
        fn threads(&self) -> bool {
            false
        }
        async fn post(
            &self,
            channel: &str,
            _: &SlackMessage,
        ) -> Result<PostedMessage, DeliveryError> {
            Ok(PostedMessage {
                channel: channel.to_owned(),
                ts: String::new(),
            })
        }
        fn outputs(&self) -> Vec<Output> {
            vec![Output::Webhook]
        }
        async fn deliver(
            &self,
            output: Output,
            event: &OutboundEvent,
        ) -> Result<(), DeliveryError> {
            let mut left = self.failures.lock().unwrap();
            if *left > 0 {
                *left -= 1;
                return Err(DeliveryError::Retryable {
                    reason: "HTTP 503".into(),
                    retry_after: None,
                });
            }
            self.delivered
                .lock()
                .unwrap()
                .push((output, event.event_id.clone()));
            Ok(())
        }
    }

    #[test]
    fn an_output_that_is_down_gets_the_alert_later_and_once() {
        let store = MemoryStore::default();
        let events = shop_scheduled(&store);
        let config = with_webhook();
        let now = at("2026-06-11T00:00:00Z");
        assert_eq!(
            block_on(record_alerts(&store, &events, &config, Some("#cache"), now)).unwrap(),
            1
        );
        // Again (an SNS re-delivery): nothing more is recorded.
        assert_eq!(
            block_on(record_alerts(&store, &events, &config, Some("#cache"), now)).unwrap(),
            0
        );
        let lanes: Vec<&str> = block_on(store.deliveries(&[events[0].id.clone()]))
            .unwrap()
            .iter()
            .map(Delivery::lane)
            .collect();
        assert_eq!(lanes, ["", "webhook"]);

        let sink = Flaky {
            failures: Mutex::new(1),
            delivered: Mutex::new(Vec::new()),
        };
        let mut report = NotifyReport::default();
        block_on(send_outputs(&store, &sink, "a", now, now, &mut report)).unwrap();
        assert_eq!(report.outputs_waiting, 1);
        assert!(sink.delivered.lock().unwrap().is_empty());
        let webhook = |store: &MemoryStore| {
            block_on(store.deliveries(&[events[0].id.clone()]))
                .unwrap()
                .into_iter()
                .find(|d| d.lane() == "webhook")
                .unwrap()
        };
        let waiting = webhook(&store);
        assert_eq!(waiting.state, DeliveryState::Pending);
        assert!(waiting.next_attempt_at > now, "backs off");

        // Not due yet: nothing is tried.
        let mut report = NotifyReport::default();
        block_on(send_outputs(&store, &sink, "a", now, now, &mut report)).unwrap();
        assert_eq!(report, NotifyReport::default());

        let later = waiting.next_attempt_at;
        for _ in 0..2 {
            let mut report = NotifyReport::default();
            block_on(send_outputs(&store, &sink, "a", later, later, &mut report)).unwrap();
        }
        assert_eq!(
            *sink.delivered.lock().unwrap(),
            [(Output::Webhook, events[0].id.as_str().to_owned())]
        );
        assert_eq!(webhook(&store).state, DeliveryState::Sent);
    }

    #[test]
    fn a_run_that_stopped_after_recording_the_outputs_is_made_good_once() {
        let store = MemoryStore::default();
        let events = shop_scheduled(&store);
        let config = with_webhook();
        let now = at("2026-06-11T00:00:00Z");
        // What a run that stopped between the two writes left: the webhook's delivery alone.
        let slack = Delivery::new(
            events[0].id.clone(),
            "#cache".into(),
            events[0].group_key(),
            DeliveryState::Pending,
            now,
        );
        let webhook = with_outputs(&slack, &config.outputs());
        assert_eq!(block_on(store.record_deliveries(&webhook)).unwrap(), [true]);
        // The next run records Slack's, and the webhook's stays the one there was.
        let later = now + chrono::Duration::minutes(5);
        assert_eq!(
            block_on(record_alerts(
                &store,
                &events,
                &config,
                Some("#cache"),
                later
            ))
            .unwrap(),
            1
        );
        let found = block_on(store.deliveries(std::slice::from_ref(&events[0].id))).unwrap();
        assert_eq!(found.len(), 2);
        assert_eq!(found[1], webhook[0]);
        assert_eq!(found[0].lane(), "");
    }

    #[test]
    fn outputs_are_recorded_only_beside_an_alert() {
        let chat = Delivery::new(
            EventId::parse("0123456789abcdef0123").unwrap(),
            "#cache".into(),
            None,
            DeliveryState::Muted,
            at("2026-06-11T00:00:00Z"),
        );
        assert!(with_outputs(&chat, &Output::ALL).is_empty());
        let pending = Delivery {
            state: DeliveryState::Pending,
            ..chat
        };
        let outputs = with_outputs(&pending, &Output::ALL);
        assert_eq!(
            outputs
                .iter()
                .map(|d| d.channel.as_str())
                .collect::<Vec<_>>(),
            [">webhook", ">q-developer"]
        );
        assert!(outputs.iter().all(|d| is_output_channel(&d.channel)));
        assert_eq!(Output::of_channel(">webhook"), Some(Output::Webhook));
        assert_eq!(Output::of_channel("webhook"), None);
    }
}
