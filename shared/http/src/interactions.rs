//! `POST /slack/interactions`: the buttons of an alert, and the modal one of them opens.
//!
//! Slack posts a form with one field, `payload`, holding JSON
//! (<https://docs.slack.dev/reference/interaction-payloads/block_actions-payload>,
//! <https://docs.slack.dev/reference/interaction-payloads/view-interactions-payload>):
//!
//! - `block_actions`, a button pressed (its `value` is the maintenance or event id):
//!   - **Acknowledge**: records who and when, and puts the alert back in place with
//!     `chat.update`, now saying who took it on (and without the button);
//!   - **Post checklist**: posts the runbook's checklist in the alert's thread (also the picker
//!     of a burst's announcement, whose option picked names the maintenance);
//!   - **Record outcome**: opens a modal (`views.open`, with the interaction's `trigger_id`)
//!     asking how it was handled, whether the site was put into maintenance, the downtime and a
//!     note;
//!   - **Open runbook** (a link button): nothing to do, Slack only wants its 200.
//! - `view_submission`, the outcome modal submitted: the outcome is recorded; a downtime that
//!   does not read is sent back as an error on its field (`response_action: errors`).
//!
//! Slack wants an answer within 3 seconds; every answer here is a 200 (empty, or the modal's
//! errors), whatever happened to the work, which is logged.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::Json;
use axum::extract::{Form, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use cachewatch_core::alerting::delivery::{ChatSink, DeliveryError, DeliveryStore, SlackViews};
use cachewatch_core::alerting::slack::blockkit::{
    self, Block, Element, Modal, OptionObject, PlainTextInput, RadioButtons, StaticSelect, Text,
};
use cachewatch_core::alerting::slack::{
    self, ACTION_ACKNOWLEDGE, ACTION_CHECKLIST, ACTION_OUTCOME, MessageMetadata, mrkdwn,
};
use cachewatch_core::history::query::parse_duration;
use cachewatch_core::history::store::{EventStore, StoreError};
use cachewatch_core::model::event::EventId;
use cachewatch_core::runbook::RunbookError;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::door::{App, Parts};
use cachewatch_app::lookup::{self, Found, RunbookFailure, Subject};
use cachewatch_app::respond::{self, OutcomeRequest, Refused, RespondError, Who};

/// The `callback_id` of the outcome modal.
pub const OUTCOME_CALLBACK: &str = "cachewatch_outcome";
/// The modal's fields: block and action ids alike.
pub const FIELD_HANDLED: &str = "handled";
/// Whether the site was put into maintenance (`yes` / `no`).
pub const FIELD_SITE_MAINTENANCE: &str = "site_maintenance";
/// How long users were affected.
pub const FIELD_DOWNTIME: &str = "downtime";
/// Anything worth remembering.
pub const FIELD_NOTE: &str = "note";
/// The longest note kept.
pub use cachewatch_app::respond::MAX_NOTE;

/// How a maintenance can have been handled: the value stored, and what the modal says.
pub use cachewatch_core::history::response::HANDLED;

/// Why a button could not be carried out (logged: Slack has had its 200).
#[derive(Debug, thiserror::Error)]
enum ButtonError {
    /// The button's value names nothing stored.
    #[error("no event or maintenance has the id {0:?}")]
    Unknown(String),
    /// The payload lacks what the button needs.
    #[error("the interaction does not say {0}")]
    Incomplete(&'static str),
    /// Recorded, but there is no chat to show it in.
    #[error("Slack is not configured: the button's work cannot be shown")]
    NoChat,
    /// The store failed.
    #[error("the store failed")]
    Store(#[from] StoreError),
    /// The runbook does not render.
    #[error("the runbook cannot be rendered")]
    Runbook(#[from] RunbookError),
    /// Slack did not do what was asked.
    #[error("Slack did not carry it out")]
    Slack(#[from] DeliveryError),
}

impl From<RunbookFailure> for ButtonError {
    fn from(failure: RunbookFailure) -> Self {
        match failure {
            RunbookFailure::Store(e) => Self::Store(e),
            RunbookFailure::Render(e) => Self::Runbook(e),
        }
    }
}

/// The form Slack posts.
#[derive(Debug, Deserialize)]
pub(crate) struct Envelope {
    payload: String,
}

#[derive(Debug, Default, Deserialize)]
struct Payload {
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    user: User,
    #[serde(default)]
    trigger_id: Option<String>,
    #[serde(default)]
    container: Option<Container>,
    #[serde(default)]
    channel: Option<Channel>,
    #[serde(default)]
    message: Option<Message>,
    #[serde(default)]
    actions: Vec<Action>,
    #[serde(default)]
    view: Option<View>,
}

#[derive(Debug, Default, Deserialize)]
struct User {
    #[serde(default)]
    id: String,
    #[serde(default)]
    username: Option<String>,
    #[serde(default)]
    name: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
struct Container {
    #[serde(default)]
    message_ts: Option<String>,
    #[serde(default)]
    channel_id: Option<String>,
    #[serde(default)]
    thread_ts: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
struct Channel {
    #[serde(default)]
    id: String,
}

#[derive(Debug, Default, Deserialize)]
struct Message {
    #[serde(default)]
    ts: Option<String>,
    #[serde(default)]
    thread_ts: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
struct Action {
    #[serde(default)]
    action_id: String,
    #[serde(default)]
    value: Option<String>,
    /// What a select sends instead of a value: the option picked.
    #[serde(default)]
    selected_option: Option<SelectedOption>,
}

#[derive(Debug, Default, Deserialize)]
struct View {
    #[serde(default)]
    callback_id: Option<String>,
    #[serde(default)]
    private_metadata: Option<String>,
    #[serde(default)]
    state: Option<ViewState>,
}

#[derive(Debug, Default, Deserialize)]
struct ViewState {
    #[serde(default)]
    values: BTreeMap<String, BTreeMap<String, Input>>,
}

#[derive(Debug, Default, Deserialize)]
struct Input {
    #[serde(default)]
    value: Option<String>,
    #[serde(default)]
    selected_option: Option<SelectedOption>,
}

#[derive(Debug, Default, Deserialize)]
struct SelectedOption {
    value: String,
}

/// What the outcome modal carries back (`private_metadata`): whose outcome it is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct OutcomeContext {
    id: String,
}

/// Where the button pressed is: its channel, its message, and the thread that message is in.
struct Place {
    channel: String,
    message_ts: String,
    thread_ts: String,
}

impl Payload {
    fn place(&self) -> Option<Place> {
        let container = self.container.as_ref();
        let channel = container
            .and_then(|c| c.channel_id.clone())
            .or_else(|| self.channel.as_ref().map(|c| c.id.clone()))
            .filter(|c| !c.is_empty())?;
        let message_ts = container
            .and_then(|c| c.message_ts.clone())
            .or_else(|| self.message.as_ref().and_then(|m| m.ts.clone()))?;
        let thread_ts = self
            .message
            .as_ref()
            .and_then(|m| m.thread_ts.clone())
            .or_else(|| container.and_then(|c| c.thread_ts.clone()))
            .unwrap_or_else(|| message_ts.clone());
        Some(Place {
            channel,
            message_ts,
            thread_ts,
        })
    }
}

fn ok() -> Response {
    StatusCode::OK.into_response()
}

/// `POST /slack/interactions` (Slack's signature already checked).
pub(crate) async fn receive<P: Parts>(
    State(app): State<Arc<App<P>>>,
    Form(envelope): Form<Envelope>,
) -> Response {
    let payload: Payload = match serde_json::from_str(&envelope.payload) {
        Ok(payload) => payload,
        Err(e) => {
            tracing::warn!(error = %e, "an interaction payload does not read");
            return (StatusCode::BAD_REQUEST, "the payload is not an interaction").into_response();
        }
    };
    let now = Utc::now();
    match payload.kind.as_str() {
        "block_actions" => {
            for action in &payload.actions {
                pressed(&app, &payload, action, now).await;
            }
            ok()
        }
        "view_submission" => submitted(&app, &payload, now).await,
        other => {
            tracing::info!(kind = other, "an interaction cachewatch does not handle");
            ok()
        }
    }
}

/// A button pressed.
async fn pressed<P: Parts>(app: &App<P>, payload: &Payload, action: &Action, now: DateTime<Utc>) {
    let id = action
        .value
        .as_deref()
        .or(action.selected_option.as_ref().map(|o| o.value.as_str()))
        .unwrap_or_default();
    let press = Press { app, payload, now };
    let handled = match action.action_id.as_str() {
        name @ (ACTION_ACKNOWLEDGE | ACTION_CHECKLIST | ACTION_OUTCOME) => {
            press.carry_out(name, id).await
        }
        // The link button opens the page in the browser; Slack only wants the 200.
        _ => Ok(()),
    };
    if let Err(e) = handled {
        tracing::error!(action = %action.action_id, id, error = %e, source = ?std::error::Error::source(&e), "a button could not be carried out");
    }
}

/// The subject a button's value names, or why there is none.
async fn subject_of<S: EventStore>(store: &S, id: &str) -> Result<Subject, ButtonError> {
    match lookup::find(store, id).await? {
        Found::One(subject) => Ok(*subject),
        _ => Err(ButtonError::Unknown(id.to_owned())),
    }
}

/// A button of an alert pressed: by whom and on which message (the payload), and when.
struct Press<'a, P: Parts> {
    app: &'a App<P>,
    payload: &'a Payload,
    now: DateTime<Utc>,
}

impl<P: Parts> Press<'_, P> {
    /// Carries out the button `name` for what `id` names.
    async fn carry_out(&self, name: &str, id: &str) -> Result<(), ButtonError> {
        let subject = subject_of(&self.app.store, id).await?;
        match name {
            ACTION_ACKNOWLEDGE => self.acknowledge(&subject).await,
            ACTION_CHECKLIST => self.post_checklist(&subject).await,
            _ => self.ask_outcome(&subject).await,
        }
    }

    async fn acknowledge(&self, subject: &Subject) -> Result<(), ButtonError> {
        let Press { app, payload, now } = *self;
        let user = &payload.user;
        if user.id.is_empty() {
            return Err(ButtonError::Incomplete("who pressed it"));
        }
        let who = Who::slack_user(&user.id, user.name.as_deref().or(user.username.as_deref()))
            .map_err(|_| ButtonError::Incomplete("who pressed it, as a Slack user id"))?;
        let acked = cachewatch_app::acknowledge(&app.store, subject, who.by(), now).await?;
        let Some(place) = payload.place() else {
            return Err(ButtonError::Incomplete("which message the button is on"));
        };
        let Some(chat) = &app.chat else {
            return Err(ButtonError::NoChat);
        };
        // Every thread parent of the maintenance, in every channel, as `cachewatch ack` draws them.
        let redrawn =
            respond::redraw_threads(app.ports(), app.rules(now), subject, Some(&who)).await?;
        for failed in &redrawn.failed {
            tracing::warn!(%failed, "a thread parent was not drawn again");
        }
        let pressed = (place.channel.clone(), place.message_ts.clone());
        if redrawn.messages.contains(&pressed) {
            return Ok(());
        }
        // The message pressed is not a thread parent the history knows: it is drawn again alone,
        // for the alert's own event (its delivery carries the message's ts), else the maintenance's
        // first.
        let first = acked.first();
        let shown = slack::Acknowledgement {
            by: if first.by == who.by() {
                who.shown().to_owned()
            } else {
                first.by.clone()
            },
            at: first.at,
        };
        let anchor_id: EventId = app
            .store
            .deliveries(&subject.event_ids())
            .await?
            .into_iter()
            .find(|d| d.ts.as_deref() == Some(place.message_ts.as_str()))
            .map_or_else(|| subject.link_id().clone(), |d| d.event_id);
        let anchor = match app.store.event(&anchor_id).await? {
            Some(event) => event,
            None => subject.event.clone(),
        };
        let message =
            cachewatch_app::redrawn_parent(app.ports(), app.rules(now), &anchor, shown).await?;
        chat.update(&place.channel, &place.message_ts, &message)
            .await
            .map_err(ButtonError::from)
    }

    async fn post_checklist(&self, subject: &Subject) -> Result<(), ButtonError> {
        let Press { app, payload, now } = *self;
        let place = payload
            .place()
            .ok_or(ButtonError::Incomplete("which message the button is on"))?;
        let chat = app.chat.as_ref().ok_or(ButtonError::NoChat)?;
        let runbook = app.runbook_of(subject, now).await?;
        for (i, mut message) in slack::checklist(&runbook).into_iter().enumerate() {
            message.thread_ts = Some(place.thread_ts.clone());
            message.metadata = Some(MessageMetadata::for_delivery(&format!(
                "checklist:{}:{}:{i}",
                subject.link_id(),
                now.timestamp()
            )));
            chat.post(&place.channel, &message).await?;
        }
        Ok(())
    }

    async fn ask_outcome(&self, subject: &Subject) -> Result<(), ButtonError> {
        let trigger = self
            .payload
            .trigger_id
            .as_deref()
            .filter(|t| !t.is_empty())
            .ok_or(ButtonError::Incomplete("its trigger_id"))?;
        let chat = self.app.chat.as_ref().ok_or(ButtonError::NoChat)?;
        let context = OutcomeContext {
            id: subject.link_id().to_string(),
        };
        chat.open_view(trigger, &outcome_view(&subject.label(), &context))
            .await
            .map_err(ButtonError::from)
    }
}

/// The outcome modal for the maintenance of `label`.
fn outcome_view(label: &str, context: &OutcomeContext) -> blockkit::View {
    let options = |pairs: &[(&str, &str)]| -> Vec<OptionObject> {
        pairs
            .iter()
            .map(|(value, text)| OptionObject::new(*text, *value))
            .collect()
    };
    let yes_no = options(&[("no", "No"), ("yes", "Yes")]);
    let question = format!(
        "How did the maintenance of {} go? This goes into the team's log.",
        mrkdwn::code(label)
    );
    let handled = Element::StaticSelect(StaticSelect {
        action_id: FIELD_HANDLED.to_owned(),
        placeholder: None,
        options: options(&HANDLED),
    });
    let site = Element::RadioButtons(RadioButtons {
        action_id: FIELD_SITE_MAINTENANCE.to_owned(),
        initial_option: yes_no.first().cloned(),
        options: yes_no,
    });
    let text_input = |action_id: &str, placeholder: Option<&str>, max_length| {
        Element::PlainTextInput(PlainTextInput {
            action_id: action_id.to_owned(),
            placeholder: placeholder.map(Text::plain),
            multiline: action_id == FIELD_NOTE,
            max_length: Some(max_length),
        })
    };
    let downtime = text_input(FIELD_DOWNTIME, Some(DOWNTIME_HINT), 32);
    blockkit::View::Modal(Modal {
        callback_id: Some(OUTCOME_CALLBACK.to_owned()),
        private_metadata: Some(serde_json::to_string(context).unwrap_or_default()),
        title: Text::plain("Record outcome"),
        submit: Some(Text::plain("Record")),
        close: Some(Text::plain("Cancel")),
        blocks: vec![
            Block::section(Text::mrkdwn(mrkdwn::truncate(
                &question,
                slack::limits::SECTION_TEXT,
            ))),
            input(FIELD_HANDLED, "How was it handled?", handled, false),
            input(
                FIELD_SITE_MAINTENANCE,
                "Was the site put into maintenance?",
                site,
                false,
            ),
            input(
                FIELD_DOWNTIME,
                "How long were users affected?",
                downtime,
                true,
            ),
            input(
                FIELD_NOTE,
                "Note",
                text_input(FIELD_NOTE, None, MAX_NOTE),
                true,
            ),
        ],
    })
}

/// What the downtime field shows while it is empty.
const DOWNTIME_HINT: &str = "2m, 90s, 1h30m; empty if not measured";

fn input(block_id: &str, label: &str, element: Element, optional: bool) -> Block {
    Block::Input(blockkit::Input {
        block_id: block_id.to_owned(),
        label: Text::plain(label),
        element,
        optional,
    })
}

/// The modal's errors, as Slack shows them under each field.
fn field_errors(errors: &[(&str, String)]) -> Response {
    let map: serde_json::Map<String, Value> = errors
        .iter()
        .map(|(field, message)| ((*field).to_owned(), Value::from(message.clone())))
        .collect();
    Json(json!({"response_action": "errors", "errors": map})).into_response()
}

/// What the outcome modal says.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Answers {
    handled: String,
    site_maintenance: bool,
    downtime: Option<chrono::Duration>,
    note: Option<String>,
}

/// What the outcome modal says, read; or the errors to show under its fields.
fn read_outcome(
    values: &BTreeMap<String, BTreeMap<String, Input>>,
) -> Result<Answers, Vec<(&'static str, String)>> {
    let field = |name: &str| values.get(name).and_then(|b| b.get(name));
    let choice = |name: &str| {
        field(name)
            .and_then(|i| i.selected_option.as_ref())
            .map(|o| o.value.clone())
    };
    let text = |name: &str| {
        field(name)
            .and_then(|i| i.value.clone())
            .map(|v| v.trim().to_owned())
            .filter(|v| !v.is_empty())
    };
    let mut errors = Vec::new();
    let handled = choice(FIELD_HANDLED);
    if handled.is_none() {
        errors.push((FIELD_HANDLED, "Choose how it was handled.".to_owned()));
    }
    let site = match choice(FIELD_SITE_MAINTENANCE).as_deref() {
        Some("yes") => Some(true),
        Some("no") => Some(false),
        _ => {
            errors.push((FIELD_SITE_MAINTENANCE, "Say yes or no.".to_owned()));
            None
        }
    };
    let downtime = match text(FIELD_DOWNTIME) {
        None => None,
        Some(raw) => match parse_duration(&raw) {
            Some(d) => Some(d),
            None => {
                errors.push((FIELD_DOWNTIME, "Write it like 2m, 90s or 1h30m.".to_owned()));
                None
            }
        },
    };
    let note = text(FIELD_NOTE);
    match (handled, site) {
        (Some(handled), Some(site_maintenance)) if errors.is_empty() => Ok(Answers {
            handled,
            site_maintenance,
            downtime,
            note,
        }),
        _ => Err(errors),
    }
}

/// The outcome modal submitted.
async fn submitted<P: Parts>(app: &App<P>, payload: &Payload, now: DateTime<Utc>) -> Response {
    let Some(view) = payload.view.as_ref() else {
        return ok();
    };
    if view.callback_id.as_deref() != Some(OUTCOME_CALLBACK) {
        tracing::info!(callback = ?view.callback_id, "a view cachewatch did not open");
        return ok();
    }
    let subject = match subject_of_form(&app.store, view).await {
        Ok(subject) => subject,
        Err(why) => return field_errors(&[(FIELD_HANDLED, why.to_owned())]),
    };
    let empty = BTreeMap::new();
    let values = view.state.as_ref().map_or(&empty, |s| &s.values);
    let answers = match read_outcome(values) {
        Ok(answers) => answers,
        Err(errors) => return field_errors(&errors),
    };
    let user = &payload.user;
    let by = match Who::slack_user(&user.id, user.name.as_deref().or(user.username.as_deref())) {
        Ok(by) => by,
        Err(why) => return field_errors(&[refused_field(&why)]),
    };
    let request = OutcomeRequest {
        subject: &subject,
        handled: answers.handled,
        site_maintenance: answers.site_maintenance,
        downtime: answers.downtime,
        note: answers.note,
        by,
    };
    match respond::record_outcome(app.ports(), app.rules(now), request).await {
        Ok(done) => {
            for failed in &done.threads.failed {
                tracing::warn!("{failed}");
            }
            ok()
        }
        Err(RespondError::Refused(why)) => field_errors(&[refused_field(&why)]),
        Err(e) => {
            tracing::error!(error = %e, "an outcome could not be recorded");
            field_errors(&[(
                FIELD_HANDLED,
                "The history is unavailable: try again in a moment.".into(),
            )])
        }
    }
}

/// The maintenance the outcome form is about, or why it has none.
async fn subject_of_form<S: EventStore>(store: &S, view: &View) -> Result<Subject, &'static str> {
    let id = view
        .private_metadata
        .as_deref()
        .and_then(|m| serde_json::from_str::<OutcomeContext>(m).ok())
        .and_then(|c| EventId::parse(&c.id))
        .ok_or("This form has lost its maintenance: open it again from the alert.")?;
    match lookup::subject(store, &id).await {
        Ok(Some(subject)) => Ok(subject),
        Ok(None) => Err("This maintenance is not in the history any more."),
        Err(e) => {
            tracing::error!(error = %e, "the store failed");
            Err("The history is unavailable: try again in a moment.")
        }
    }
}

/// The field of the outcome form a refusal belongs under, and what it says there.
fn refused_field(why: &Refused) -> (&'static str, String) {
    let field = match why {
        Refused::NegativeDowntime => FIELD_DOWNTIME,
        Refused::NoteTooLong => FIELD_NOTE,
        _ => FIELD_HANDLED,
    };
    (field, format!("{}.", capitalised(&why.to_string())))
}

/// `text` with its first letter in capitals, as a form's sentences are.
fn capitalised(text: &str) -> String {
    let mut chars = text.chars();
    chars
        .next()
        .map(|first| first.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}
