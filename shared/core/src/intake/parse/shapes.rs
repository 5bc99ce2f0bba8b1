//! The readers of each input shape; see the table in the parent module.

use chrono::{DateTime, Utc};
use serde_json::{Map, Value};

use super::time::parse_timestamp;
use super::{EventDraft, Location, MAX_MESSAGE_LEN, ParseContext, ParseError, Problem, excerpt};
use crate::model::event::{MaintenanceEvent, Origin};
use crate::model::ids::{ClusterId, NodeId, ReplicationGroupId, SourceId};
use crate::model::kind::{EVENT_NAME_PREFIX, EventKind};

pub(super) type Object = Map<String, Value>;

/// Provenance carried from an SNS envelope into the events of its message.
#[derive(Default)]
struct Envelope {
    origin: Option<Origin>,
    occurred_at: Option<DateTime<Utc>>,
    region: Option<String>,
    account_id: Option<String>,
    attributes: Vec<(&'static str, String)>,
}

impl Envelope {
    fn apply(&self, draft: &mut EventDraft) {
        draft.region.clone_from(&self.region);
        draft.account_id.clone_from(&self.account_id);
        for (key, value) in &self.attributes {
            draft.attributes.insert((*key).to_owned(), value.clone());
        }
    }
}

pub(super) fn top_level(
    value: Value,
    location: Location,
    ctx: &ParseContext,
) -> Result<Vec<MaintenanceEvent>, ParseError> {
    let drafts = match value {
        Value::Array(items) => {
            let mut drafts = Vec::new();
            for (i, item) in items.into_iter().enumerate() {
                drafts.extend(document(
                    item,
                    Location {
                        record: Some(i + 1),
                        ..location
                    },
                    ctx,
                )?);
            }
            drafts
        }
        other => document(other, location, ctx)?,
    };
    Ok(drafts.into_iter().map(|d| d.finish(ctx)).collect())
}

/// `drafts`, unless one of them has a date that cannot be kept.
pub(super) fn dated(drafts: Vec<EventDraft>) -> Result<Vec<EventDraft>, Problem> {
    for draft in &drafts {
        draft.check_dates()?;
    }
    Ok(drafts)
}

fn document(
    value: Value,
    location: Location,
    ctx: &ParseContext,
) -> Result<Vec<EventDraft>, ParseError> {
    let fail = |problem| ParseError { location, problem };
    let Value::Object(obj) = value else {
        return Err(fail(Problem::UnknownShape {
            found: format!("a JSON {}", type_name(&value)),
        }));
    };
    if let Some(records) = obj.get("Records") {
        return lambda_records(records, location, ctx);
    }
    if obj.contains_key("Type") && (obj.contains_key("Message") || obj.contains_key("TopicArn")) {
        return sns_notification(&obj, Origin::SnsHttp, ctx).map_err(fail);
    }
    if let Some(events) = obj.get("Events") {
        return describe_events(events, location);
    }
    if obj.contains_key("SourceIdentifier") {
        return describe_record(&obj, &Envelope::default()).map_err(fail);
    }
    if super::health::is_eventbridge(&obj) {
        return super::health::health_event(&obj).map_err(fail);
    }
    if obj.keys().any(|k| k.starts_with(EVENT_NAME_PREFIX)) {
        return elasticache_body(&obj, &Envelope::default(), ctx).map_err(fail);
    }
    Err(fail(Problem::UnknownShape {
        found: keys_of(&obj),
    }))
}

/// The problem at the `i`th record of a list (counted from 1 when shown).
fn at_record(location: Location, i: usize) -> impl Fn(Problem) -> ParseError {
    move |problem| ParseError {
        location: Location {
            record: Some(i + 1),
            ..location
        },
        problem,
    }
}

/// The SNS records of a Lambda event (`Records[].Sns`).
fn lambda_records(
    records: &Value,
    location: Location,
    ctx: &ParseContext,
) -> Result<Vec<EventDraft>, ParseError> {
    let records = records.as_array().ok_or(ParseError {
        location,
        problem: Problem::WrongType {
            field: "Records".into(),
            expected: "an array",
        },
    })?;
    let mut drafts = Vec::new();
    for (i, record) in records.iter().enumerate() {
        let at = at_record(location, i);
        let sns = record
            .get("Sns")
            .or_else(|| record.get("sns"))
            .and_then(Value::as_object)
            .ok_or_else(|| {
                at(Problem::WrongType {
                    field: "Sns".into(),
                    expected: "an SNS notification object",
                })
            })?;
        drafts.extend(sns_notification(sns, Origin::Sns, ctx).map_err(at)?);
    }
    Ok(drafts)
}

/// The records of a `describe-events` answer (`Events[]`).
fn describe_events(events: &Value, location: Location) -> Result<Vec<EventDraft>, ParseError> {
    let events = events.as_array().ok_or(ParseError {
        location,
        problem: Problem::WrongType {
            field: "Events".into(),
            expected: "an array",
        },
    })?;
    let mut drafts = Vec::new();
    for (i, record) in events.iter().enumerate() {
        let at = at_record(location, i);
        let record = record.as_object().ok_or_else(|| {
            at(Problem::WrongType {
                field: "Events[]".into(),
                expected: "an object",
            })
        })?;
        drafts.extend(describe_record(record, &Envelope::default()).map_err(at)?);
    }
    Ok(drafts)
}

fn type_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

fn keys_of(obj: &Object) -> String {
    if obj.is_empty() {
        return "an empty object".into();
    }
    let keys: Vec<String> = obj.keys().take(6).map(|k| excerpt(k)).collect();
    let more = if obj.len() > 6 { ", …" } else { "" };
    format!("keys: {}{more}", keys.join(", "))
}

pub(super) fn string_field<'a>(
    obj: &'a Object,
    field: &'static str,
) -> Result<Option<&'a str>, Problem> {
    match obj.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(Problem::WrongType {
            field: field.into(),
            expected: "a string",
        }),
    }
}

pub(super) fn required_string<'a>(
    obj: &'a Object,
    field: &'static str,
) -> Result<&'a str, Problem> {
    string_field(obj, field)?.ok_or(Problem::MissingField { field })
}

fn date_field(obj: &Object, field: &'static str) -> Result<Option<DateTime<Utc>>, Problem> {
    let bad = |value: &str| Problem::BadDate {
        field,
        value: excerpt(value),
    };
    match obj.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => parse_timestamp(s).map(Some).ok_or_else(|| bad(s)),
        Some(Value::Number(n)) => {
            let text = n.to_string();
            super::time::parse_epoch(&text)
                .map(Some)
                .ok_or_else(|| bad(&text))
        }
        Some(other) => Err(bad(&other.to_string())),
    }
}

pub(super) fn message_text(raw: &str, field: &'static str) -> Result<String, Problem> {
    if raw.len() > MAX_MESSAGE_LEN {
        return Err(Problem::TooLong {
            field,
            len: raw.len(),
            max: MAX_MESSAGE_LEN,
        });
    }
    Ok(raw.to_owned())
}

pub(super) fn identifier<T>(
    parse: impl Fn(&str) -> Result<T, crate::model::ids::IdError>,
    raw: &str,
    field: &str,
) -> Result<T, Problem> {
    parse(raw).map_err(|source| Problem::BadIdentifier {
        field: field.to_owned(),
        source,
    })
}

/// `arn:aws:sns:us-east-1:123456789012:cachewatch` -> (`us-east-1`, `123456789012`).
fn region_and_account(arn: &str) -> Option<(String, String)> {
    let mut parts = arn.splitn(6, ':');
    let (arn_word, _partition, service) = (parts.next()?, parts.next()?, parts.next()?);
    if arn_word != "arn" || service != "sns" {
        return None;
    }
    let (region, account) = (parts.next()?, parts.next()?);
    (!region.is_empty() && account.len() == 12 && account.bytes().all(|b| b.is_ascii_digit()))
        .then(|| (region.to_owned(), account.to_owned()))
}

fn sns_notification(
    obj: &Object,
    origin: Origin,
    ctx: &ParseContext,
) -> Result<Vec<EventDraft>, Problem> {
    let kind = string_field(obj, "Type")?.unwrap_or("Notification");
    if kind != "Notification" {
        let hint = if kind == "SubscriptionConfirmation" {
            " (confirm the subscription at its SubscribeURL, or let `cachewatch serve` do it)"
        } else {
            ""
        };
        return Err(Problem::NotAnEvent {
            kind: excerpt(kind),
            hint,
        });
    }
    let mut envelope = Envelope {
        origin: Some(origin),
        occurred_at: date_field(obj, "Timestamp")?,
        ..Envelope::default()
    };
    if let Some(arn) = string_field(obj, "TopicArn")? {
        if let Some((region, account)) = region_and_account(arn) {
            envelope.region = Some(region);
            envelope.account_id = Some(account);
        }
        envelope.attributes.push(("sns_topic_arn", arn.to_owned()));
    }
    if let Some(id) = string_field(obj, "MessageId")? {
        envelope.attributes.push(("sns_message_id", id.to_owned()));
    }
    if let Some(subject) = string_field(obj, "Subject")? {
        envelope
            .attributes
            .push(("sns_subject", subject.to_owned()));
    }
    let message = required_string(obj, "Message")?;
    let body = match serde_json::from_str::<Value>(message) {
        Ok(Value::Object(body)) => body,
        Ok(_) | Err(_) => {
            return Err(Problem::NotElastiCache {
                excerpt: excerpt(message),
            });
        }
    };
    if super::health::is_eventbridge(&body) {
        super::health::health_event(&body)
    } else if body.contains_key("SourceIdentifier") {
        describe_record(&body, &envelope)
    } else if body.keys().any(|k| k.starts_with(EVENT_NAME_PREFIX)) {
        elasticache_body(&body, &envelope, ctx)
    } else {
        Err(Problem::UnknownShape {
            found: format!("SNS Message with {}", keys_of(&body)),
        })
    }
}

fn describe_record(obj: &Object, envelope: &Envelope) -> Result<Vec<EventDraft>, Problem> {
    let source_id = identifier(
        SourceId::parse,
        required_string(obj, "SourceIdentifier")?,
        "SourceIdentifier",
    )?;
    let source_type = string_field(obj, "SourceType")?
        .unwrap_or("cache-cluster")
        .trim()
        .to_owned();
    let message = message_text(string_field(obj, "Message")?.unwrap_or_default(), "Message")?;
    let occurred_at = date_field(obj, "Date")?
        .or(envelope.occurred_at)
        .ok_or(Problem::MissingField { field: "Date" })?;
    let origin = envelope.origin.unwrap_or(Origin::DescribeEvents);
    let mut draft = draft_of_source(source_type, source_id, origin, occurred_at)?;
    envelope.apply(&mut draft);
    dated(draft.with_text(message, occurred_at)?)
}

/// The event `source_id` (of `source_type`) reported at `occurred_at`, its kind left to be read
/// from its text, the source naming itself as [`fill_from_source`] reads it.
pub(super) fn draft_of_source(
    source_type: String,
    source_id: SourceId,
    origin: Origin,
    occurred_at: DateTime<Utc>,
) -> Result<EventDraft, Problem> {
    let mut draft = EventDraft::new(
        EventKind::new(EventKind::UNRECOGNIZED),
        source_type,
        source_id,
        origin,
    );
    draft.occurred_at = Some(occurred_at);
    fill_from_source(&mut draft)?;
    Ok(draft)
}

/// A cluster or replication group source names itself.
pub(super) fn fill_from_source(draft: &mut EventDraft) -> Result<(), Problem> {
    match draft.source_type.as_str() {
        "cache-cluster" => {
            draft.cluster_id = Some(identifier(
                ClusterId::parse,
                draft.source_id.as_str(),
                "SourceIdentifier",
            )?);
        }
        "replication-group" => {
            draft.replication_group_id = Some(identifier(
                ReplicationGroupId::parse,
                draft.source_id.as_str(),
                "SourceIdentifier",
            )?);
        }
        _ => {}
    }
    Ok(())
}

/// The keys of an ElastiCache body that are neither event names nor read into the event, kept
/// as its attributes.
fn unmapped_attributes(obj: &Object) -> Vec<(String, String)> {
    obj.iter()
        .filter(|(key, _)| {
            !key.starts_with(EVENT_NAME_PREFIX)
                && !matches!(
                    key.as_str(),
                    "Cache Cluster ID"
                        | "Replication Group ID"
                        | "Cache Node ID"
                        | "Node ID"
                        | "Date"
                )
        })
        .map(|(key, value)| {
            let text = match value {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            (key.clone(), text)
        })
        .collect()
}

fn elasticache_body(
    obj: &Object,
    envelope: &Envelope,
    ctx: &ParseContext,
) -> Result<Vec<EventDraft>, Problem> {
    let cluster = string_field(obj, "Cache Cluster ID")?
        .map(|c| identifier(ClusterId::parse, c, "Cache Cluster ID"))
        .transpose()?;
    let group = string_field(obj, "Replication Group ID")?
        .map(|g| identifier(ReplicationGroupId::parse, g, "Replication Group ID"))
        .transpose()?;
    let node = match string_field(obj, "Cache Node ID")? {
        Some(n) => Some(n),
        None => string_field(obj, "Node ID")?,
    }
    .map(|n| identifier(NodeId::parse, n, "Cache Node ID"))
    .transpose()?;
    let occurred_at = date_field(obj, "Date")?.or(envelope.occurred_at);

    let attributes = unmapped_attributes(obj);
    let mut drafts = Vec::new();
    for (key, value) in obj.iter().filter(|(k, _)| k.starts_with(EVENT_NAME_PREFIX)) {
        let kind = EventKind::from_event_name(key).ok_or_else(|| Problem::WrongType {
            field: excerpt(key),
            expected: "an event name with letters after `ElastiCache:`",
        })?;
        let value = value.as_str().ok_or_else(|| Problem::WrongType {
            field: excerpt(key),
            expected: "a string (the source id)",
        })?;
        let source_id = identifier(SourceId::parse, value, key)?;
        let is_group = group
            .as_ref()
            .is_some_and(|g| g.as_str() == source_id.as_str())
            || cluster
                .as_ref()
                .is_some_and(|c| c.as_str() != source_id.as_str());
        let source_type = if is_group {
            "replication-group"
        } else {
            "cache-cluster"
        };
        let origin = envelope.origin.unwrap_or(Origin::ElasticacheBody);
        let mut draft = EventDraft::new(kind, source_type.to_owned(), source_id, origin);
        draft.event_name = Some(key.clone());
        draft.occurred_at = occurred_at;
        fill_from_source(&mut draft)?;
        if let Some(c) = &cluster {
            draft.cluster_id = Some(c.clone());
        }
        if let Some(g) = &group {
            draft.replication_group_id = Some(g.clone());
        }
        draft.node_id.clone_from(&node);
        envelope.apply(&mut draft);
        for (k, v) in &attributes {
            draft.attributes.insert(k.clone(), v.clone());
        }
        if let Some(message) = string_field(obj, "Message")? {
            let reference = occurred_at.unwrap_or(ctx.received_at);
            drafts.extend(draft.with_text(message_text(message, "Message")?, reference)?);
        } else {
            drafts.push(draft);
        }
    }
    dated(drafts)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn topic_arns_give_region_and_account() {
        assert_eq!(
            region_and_account("arn:aws:sns:ap-northeast-1:123456789012:cachewatch-events"),
            Some(("ap-northeast-1".into(), "123456789012".into()))
        );
        assert_eq!(
            region_and_account("arn:aws:sqs:ap-northeast-1:123456789012:q"),
            None
        );
        assert_eq!(region_and_account("not an arn"), None);
    }
}
