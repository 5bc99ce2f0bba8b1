//! AWS Health events about ElastiCache, as EventBridge delivers them.
//!
//! The shape is AWS Health's EventBridge schema
//! (<https://docs.aws.amazon.com/health/latest/ug/aws-health-events-eventbridge-schema.html>):
//! an envelope (`source` `aws.health`, `detail-type`, `account`, `time`, `region`) around a
//! `detail` holding `eventArn`, `service`, `eventTypeCode`, `eventTypeCategory`,
//! `eventScopeCode`, `communicationId`, `startTime`, `endTime`, `lastUpdatedTime`, `statusCode`,
//! `eventDescription[].latestDescription` and `affectedEntities[].entityValue`.
//!
//! One event is read per affected entity. Its id comes from the account, the `eventArn`, the
//! `communicationId` and the entity: AWS Health delivers to EventBridge at least once
//! (<https://docs.aws.amazon.com/health/latest/ug/cloudwatch-events-health.html>), and the schema
//! says the communication id, with the account id, tells duplicate messages apart. So a
//! re-delivered communication is stored once, and a new communication of the same event is a new
//! record, which the lifecycle joins to the same maintenance by its `eventArn`.
//!
//! The kind is the snake_case of `eventTypeCode` (`AWS_ELASTICACHE_BEFORE_UPDATE_DUE_NOTIFICATION`
//! becomes `aws_elasticache_before_update_due_notification`); codes cachewatch has never seen are
//! kept the same way.

use chrono::{DateTime, Utc};
use serde_json::Value;

use super::shapes::{Object, identifier, message_text, required_string, string_field};
use super::{EventDraft, Problem, excerpt, shapes::dated};
use crate::model::event::{Origin, Window};
use crate::model::ids::{ClusterId, ReplicationGroupId, SourceId};
use crate::model::kind::EventKind;

/// The `source` of every AWS Health event.
const HEALTH_SOURCE: &str = "aws.health";
/// The `service` of AWS Health events about ElastiCache.
const ELASTICACHE_SERVICE: &str = "ELASTICACHE";

/// Attribute names under which the Health fields are kept on each event.
pub mod attribute {
    /// `detail.eventArn`: the maintenance a communication belongs to.
    pub const EVENT_ARN: &str = "health_event_arn";
    /// `detail.communicationId`.
    pub const COMMUNICATION_ID: &str = "health_communication_id";
    /// `detail.eventTypeCode`, as written.
    pub const EVENT_TYPE_CODE: &str = "health_event_type_code";
    /// `detail.eventTypeCategory`: `issue`, `accountNotification`, `scheduledChange`, ...
    pub const EVENT_TYPE_CATEGORY: &str = "health_event_type_category";
    /// `detail.eventScopeCode`: `ACCOUNT_SPECIFIC` or `PUBLIC`.
    pub const EVENT_SCOPE: &str = "health_event_scope";
    /// `detail.statusCode`: `upcoming`, `open` or `closed`.
    pub const STATUS: &str = "health_status";
    /// `affectedEntities[].entityValue`, as written.
    pub const ENTITY: &str = "health_entity";
}

/// Whether `obj` is an AWS Health event (of any service): such an object is read here, and one
/// about another service is refused with a clear reason. EventBridge events from other sources
/// are no shape cachewatch reads.
pub(super) fn is_eventbridge(obj: &Object) -> bool {
    obj.get("source").and_then(Value::as_str) == Some(HEALTH_SOURCE)
}

/// The envelope fields every event of one Health event shares.
struct Communication<'a> {
    arn: &'a str,
    communication: String,
    account: Option<&'a str>,
    region: Option<&'a str>,
    kind: EventKind,
    occurred_at: Option<DateTime<Utc>>,
    window: Option<Window>,
    message: Option<String>,
    attributes: Vec<(&'static str, String)>,
}

/// Reads one AWS Health event into one event per affected entity.
pub(super) fn health_event(obj: &Object) -> Result<Vec<EventDraft>, Problem> {
    let detail = match obj.get("detail") {
        Some(Value::Object(detail)) => detail,
        Some(_) => {
            return Err(Problem::WrongType {
                field: "detail".into(),
                expected: "an object",
            });
        }
        None => return Err(Problem::MissingField { field: "detail" }),
    };
    let service = required_string(detail, "service")?;
    if service != ELASTICACHE_SERVICE {
        return Err(Problem::NotElastiCacheHealth {
            found: format!("an AWS Health event for service {:?}", excerpt(service)),
        });
    }
    let communication = communication(obj, detail)?;
    let entities = entities(detail)?;
    let drafts = if entities.is_empty() {
        vec![account_draft(&communication)?]
    } else {
        entities
            .iter()
            .map(|entity| entity_draft(&communication, entity))
            .collect::<Result<_, _>>()?
    };
    dated(drafts)
}

fn communication<'a>(
    envelope: &'a Object,
    detail: &'a Object,
) -> Result<Communication<'a>, Problem> {
    let arn = required_string(detail, "eventArn")?;
    if !arn.starts_with("arn:") {
        return Err(Problem::WrongType {
            field: "eventArn".into(),
            expected: "an AWS Health event ARN (`arn:aws:health:…`)",
        });
    }
    let code = required_string(detail, "eventTypeCode")?;
    let kind = health_kind(code)?;
    let updated = health_date(detail, "lastUpdatedTime")?;
    let start = health_date(detail, "startTime")?;
    let end = health_date(detail, "endTime")?;
    let communication = match string_field(detail, "communicationId")? {
        Some(id) => id.to_owned(),
        None => match updated {
            Some(at) => format!("updated {}", at.timestamp()),
            None => {
                return Err(Problem::MissingField {
                    field: "communicationId",
                });
            }
        },
    };
    let mut attributes = vec![
        (attribute::EVENT_ARN, arn.to_owned()),
        (attribute::EVENT_TYPE_CODE, code.to_owned()),
    ];
    if let Some(id) = string_field(detail, "communicationId")? {
        attributes.push((attribute::COMMUNICATION_ID, id.to_owned()));
    }
    for (field, name) in [
        ("eventTypeCategory", attribute::EVENT_TYPE_CATEGORY),
        ("eventScopeCode", attribute::EVENT_SCOPE),
        ("statusCode", attribute::STATUS),
    ] {
        if let Some(value) = string_field(detail, field)? {
            attributes.push((name, value.to_owned()));
        }
    }
    Ok(Communication {
        arn,
        communication,
        account: string_field(detail, "affectedAccount")?.or(string_field(envelope, "account")?),
        region: string_field(detail, "eventRegion")?.or(string_field(envelope, "region")?),
        kind,
        occurred_at: updated.or(health_date(envelope, "time")?).or(start),
        window: start.map(|start| Window {
            start,
            end: end.filter(|end| *end >= start).unwrap_or(start),
        }),
        message: description(detail)?,
        attributes,
    })
}

/// The kind of an `eventTypeCode`: its snake_case, under the AWS Health prefix.
fn health_kind(code: &str) -> Result<EventKind, Problem> {
    let kind = EventKind::from_event_name(code).ok_or_else(|| Problem::WrongType {
        field: "eventTypeCode".into(),
        expected: "an event type code (`AWS_ELASTICACHE_…`)",
    })?;
    Ok(if kind.as_str().starts_with(EventKind::HEALTH_PREFIX) {
        kind
    } else {
        EventKind::new(format!("{}{}", EventKind::HEALTH_PREFIX, kind.as_str()))
    })
}

/// A time as AWS Health writes it: RFC 3339, or the RFC 2822 form (`Wed, 01 Jul 2026 00:00:00
/// GMT`).
fn health_date(obj: &Object, field: &'static str) -> Result<Option<DateTime<Utc>>, Problem> {
    let Some(raw) = string_field(obj, field)? else {
        return Ok(None);
    };
    super::time::parse_timestamp(raw)
        .or_else(|| {
            DateTime::parse_from_rfc2822(raw.trim())
                .ok()
                .map(|t| t.with_timezone(&Utc))
        })
        .map(Some)
        .ok_or_else(|| Problem::BadDate {
            field,
            value: excerpt(raw),
        })
}

/// The English `latestDescription`, else the first one.
fn description(detail: &Object) -> Result<Option<String>, Problem> {
    let Some(descriptions) = detail.get("eventDescription") else {
        return Ok(None);
    };
    let descriptions = descriptions.as_array().ok_or_else(|| Problem::WrongType {
        field: "eventDescription".into(),
        expected: "an array",
    })?;
    fn text_of(d: &Value) -> Option<&str> {
        d.get("latestDescription").and_then(Value::as_str)
    }
    let english = descriptions.iter().find(|d| {
        d.get("language")
            .and_then(Value::as_str)
            .is_some_and(|l| l.starts_with("en"))
    });
    match english.or(descriptions.first()).map(text_of) {
        None => Ok(None),
        Some(Some(text)) => message_text(text, "latestDescription").map(Some),
        Some(None) => Err(Problem::WrongType {
            field: "eventDescription[].latestDescription".into(),
            expected: "a string",
        }),
    }
}

/// The `entityValue` of each affected entity, as written.
fn entities(detail: &Object) -> Result<Vec<String>, Problem> {
    let Some(list) = detail.get("affectedEntities") else {
        return Ok(Vec::new());
    };
    let list = list.as_array().ok_or_else(|| Problem::WrongType {
        field: "affectedEntities".into(),
        expected: "an array",
    })?;
    list.iter()
        .map(|entity| {
            let value = entity.as_object().and_then(|e| e.get("entityValue"));
            match value {
                Some(Value::String(v)) if !v.trim().is_empty() => Ok(v.trim().to_owned()),
                _ => Err(Problem::WrongType {
                    field: "affectedEntities[].entityValue".into(),
                    expected: "a string (the affected cluster or replication group)",
                }),
            }
        })
        .collect()
}

/// What an entity value names: an ElastiCache ARN says its resource type
/// (`arn:aws:elasticache:REGION:ACCOUNT:cluster:NAME`, `…:replicationgroup:NAME`); a bare name is
/// taken for a cache cluster.
fn entity_source(value: &str) -> (String, &str) {
    let parts: Vec<&str> = value.splitn(7, ':').collect();
    if let [arn, _, service, _, _, resource, name] = parts[..]
        && arn == "arn"
        && service == "elasticache"
    {
        let source_type = match resource {
            "cluster" => "cache-cluster",
            "replicationgroup" => "replication-group",
            "serverlesscache" => "serverless-cache",
            other => other,
        };
        return (source_type.to_owned(), name);
    }
    ("cache-cluster".to_owned(), value)
}

fn entity_draft(c: &Communication<'_>, entity: &str) -> Result<EventDraft, Problem> {
    let (source_type, name) = entity_source(entity);
    let source_id = identifier(SourceId::parse, name, "affectedEntities[].entityValue")?;
    let mut draft = base_draft(c, source_type, source_id, entity);
    match draft.source_type.as_str() {
        "cache-cluster" => {
            draft.cluster_id = Some(identifier(ClusterId::parse, name, "entityValue")?);
        }
        "replication-group" => {
            draft.replication_group_id =
                Some(identifier(ReplicationGroupId::parse, name, "entityValue")?);
        }
        _ => {}
    }
    Ok(draft)
}

/// A Health event that names no entity (a public event) is about the account it was sent to.
fn account_draft(c: &Communication<'_>) -> Result<EventDraft, Problem> {
    let account = c.account.ok_or(Problem::MissingField {
        field: "affectedEntities",
    })?;
    let source_id = identifier(SourceId::parse, account, "account")?;
    Ok(base_draft(c, "account".to_owned(), source_id, account))
}

fn base_draft(
    c: &Communication<'_>,
    source_type: String,
    source_id: SourceId,
    entity: &str,
) -> EventDraft {
    let mut draft = EventDraft::new(c.kind.clone(), source_type, source_id, Origin::AwsHealth);
    draft.event_name = Some(
        c.attributes
            .iter()
            .find(|(k, _)| *k == attribute::EVENT_TYPE_CODE)
            .map_or_else(|| c.kind.to_string(), |(_, v)| v.clone()),
    );
    draft.occurred_at = c.occurred_at;
    draft.window = c.window;
    draft.message.clone_from(&c.message);
    draft.region = c.region.map(str::to_owned);
    draft.account_id = c.account.map(str::to_owned);
    for (key, value) in &c.attributes {
        draft.attributes.insert((*key).to_owned(), value.clone());
    }
    draft
        .attributes
        .insert(attribute::ENTITY.to_owned(), entity.to_owned());
    draft.identity = Some(format!(
        "{HEALTH_SOURCE}\0{}\0{}\0{}\0{entity}",
        c.account.unwrap_or_default(),
        c.arn,
        c.communication
    ));
    draft
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entity_values_name_clusters_groups_or_bare_clusters() {
        assert_eq!(
            entity_source("arn:aws:elasticache:eu-west-1:123456789012:replicationgroup:orders"),
            ("replication-group".to_owned(), "orders")
        );
        assert_eq!(
            entity_source("arn:aws:elasticache:eu-west-1:123456789012:cluster:orders-0001-001"),
            ("cache-cluster".to_owned(), "orders-0001-001")
        );
        assert_eq!(
            entity_source("sessions-001"),
            ("cache-cluster".to_owned(), "sessions-001")
        );
    }

    #[test]
    fn unknown_codes_and_codes_without_the_prefix_stay_health_kinds() {
        assert_eq!(
            health_kind("AWS_ELASTICACHE_SOMETHING_NEW")
                .unwrap()
                .as_str(),
            "aws_elasticache_something_new"
        );
        assert_eq!(
            health_kind("OPERATIONAL_ISSUE").unwrap().as_str(),
            "aws_elasticache_operational_issue"
        );
    }

    #[test]
    fn health_times_read_in_both_forms_aws_writes() {
        let obj: Object = serde_json::from_str(
            r#"{"a":"Wed, 01 Jul 2026 00:00:00 GMT","b":"2026-07-01T00:00:00Z","c":"soon"}"#,
        )
        .unwrap();
        assert_eq!(
            health_date(&obj, "a").unwrap(),
            health_date(&obj, "b").unwrap()
        );
        assert!(health_date(&obj, "c").is_err());
    }
}
