//! The normalized event: one shape for everything ElastiCache tells us, whatever it arrived in.
//!
//! Its JSON form is the product's contract (the CLI's `--json`, the HTTP API, the stores): the
//! fields of the contract keep their names and meaning; fields after `account_id` are additions
//! that later readers may rely on too.

use std::collections::BTreeMap;
use std::fmt;

use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use sha2::{Digest, Sha256};

use crate::model::ids::{ClusterId, NodeId, ReplicationGroupId, SourceId};
use crate::model::kind::{Category, EventKind};

/// A stable event id: the same for every delivery of the same event (same account and Region when
/// the account is known, same source, kind, node and second), whatever shape or channel it arrived
/// by. Twenty lowercase hex digits.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct EventId(String);

/// The number of hex digits in an [`EventId`].
pub const EVENT_ID_LEN: usize = 20;

impl EventId {
    /// The id of the event about `source` of `kind` (on `node`, if the event names one) at `at`.
    ///
    /// Time is taken to the second: the console prints seconds, DescribeEvents milliseconds, and
    /// both must give the same id.
    pub fn derive(
        source: &SourceId,
        kind: &EventKind,
        node: Option<&NodeId>,
        at: DateTime<Utc>,
    ) -> Self {
        let mut hasher = Sha256::new();
        hasher.update(b"cachewatch-event-v1\0");
        hasher.update(source.as_str().as_bytes());
        hasher.update(b"\0");
        hasher.update(kind.as_str().as_bytes());
        hasher.update(b"\0");
        hasher.update(node.map_or("", NodeId::as_str).as_bytes());
        hasher.update(b"\0");
        hasher.update(at.timestamp().to_string().as_bytes());
        Self::from_digest(&hasher.finalize())
    }

    /// The id of the event about `source` of `kind` (on `node`) at `at`, in `account` and
    /// `region` when the account is known: two clusters of one name in two accounts, or in two
    /// Regions of one account, are told apart. Without an account the id is [`EventId::derive`]'s,
    /// the id such events have always had, so that ids people have seen keep naming their events.
    pub fn derive_in(
        account: Option<&str>,
        region: Option<&str>,
        source: &SourceId,
        kind: &EventKind,
        node: Option<&NodeId>,
        at: DateTime<Utc>,
    ) -> Self {
        let Some(account) = account else {
            return Self::derive(source, kind, node, at);
        };
        let mut hasher = Sha256::new();
        hasher.update(b"cachewatch-event-v2\0");
        for part in [
            account,
            region.unwrap_or(""),
            source.as_str(),
            kind.as_str(),
            node.map_or("", NodeId::as_str),
        ] {
            hasher.update(part.as_bytes());
            hasher.update(b"\0");
        }
        hasher.update(at.timestamp().to_string().as_bytes());
        Self::from_digest(&hasher.finalize())
    }

    fn from_digest(digest: &[u8]) -> Self {
        let mut hex = String::with_capacity(EVENT_ID_LEN);
        for byte in &digest[..EVENT_ID_LEN / 2] {
            hex.push_str(&format!("{byte:02x}"));
        }
        Self(hex)
    }

    /// The id of an event that names its own identity (an AWS Health communication about one
    /// entity): every delivery of the same identity gets the same id.
    pub fn from_identity(identity: &str) -> Self {
        let mut hasher = Sha256::new();
        hasher.update(b"cachewatch-event-identity-v1\0");
        hasher.update(identity.as_bytes());
        Self::from_digest(&hasher.finalize())
    }

    /// Reads an id or an id prefix typed by a person: lowercase hex, 4 to 20 digits.
    pub fn parse_prefix(raw: &str) -> Option<IdPrefix> {
        let raw = raw.trim().to_ascii_lowercase();
        (raw.len() >= 4 && raw.len() <= EVENT_ID_LEN && raw.bytes().all(|b| b.is_ascii_hexdigit()))
            .then_some(IdPrefix(raw))
    }

    /// Reads a whole id (from a store or a link).
    pub fn parse(raw: &str) -> Option<Self> {
        Self::parse_prefix(raw)
            .filter(|p| p.0.len() == EVENT_ID_LEN)
            .map(|p| Self(p.0))
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The first eight digits, for tables.
    pub fn short(&self) -> &str {
        &self.0[..8]
    }
}

/// The start of an event id, as a person types it (`3f9a2c71`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdPrefix(String);

impl IdPrefix {
    /// The prefix as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The whole id, when the prefix is one.
    pub fn as_full(&self) -> Option<EventId> {
        (self.0.len() == EVENT_ID_LEN).then(|| EventId(self.0.clone()))
    }
}

impl fmt::Display for EventId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl Serialize for EventId {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for EventId {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(deserializer)?;
        Self::parse(&raw).ok_or_else(|| serde::de::Error::custom("not an event id"))
    }
}

/// A maintenance window, in UTC.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Window {
    /// When the work may start: the deadline for anything to be done before it.
    #[serde(with = "rfc3339")]
    pub start: DateTime<Utc>,
    /// When the window closes.
    #[serde(with = "rfc3339")]
    pub end: DateTime<Utc>,
}

impl Window {
    /// Whether `at` falls inside the window, with `slack` either side.
    pub fn contains(&self, at: DateTime<Utc>, slack: chrono::Duration) -> bool {
        at >= self.start - slack && at <= self.end + slack
    }
}

/// The nodes named by a failover text.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct FailoverNodes {
    /// The primary that was replaced (only TestFailover texts name it).
    pub from: Option<String>,
    /// The replica that became primary.
    pub to: Option<String>,
}

/// How an event reached us.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Origin {
    /// A record of a Lambda SNS event.
    Sns,
    /// An SNS HTTP(S) notification.
    SnsHttp,
    /// A bare ElastiCache message body.
    ElasticacheBody,
    /// A DescribeEvents record (AWS CLI output, the API, the legacy SNS sample).
    DescribeEvents,
    /// A row copied from the ElastiCache console's event table.
    Console,
    /// A line of an AWS maintenance e-mail.
    Email,
    /// A synthetic event injected by a drill.
    Drill,
    /// An AWS Health event, as EventBridge delivers it.
    AwsHealth,
}

impl Origin {
    /// The origin's name as in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Origin::Sns => "sns",
            Origin::SnsHttp => "sns_http",
            Origin::ElasticacheBody => "elasticache_body",
            Origin::DescribeEvents => "describe_events",
            Origin::Console => "console",
            Origin::Email => "email",
            Origin::Drill => "drill",
            Origin::AwsHealth => "aws_health",
        }
    }

    /// Reads an origin name.
    pub fn parse(raw: &str) -> Option<Self> {
        [
            Origin::Sns,
            Origin::SnsHttp,
            Origin::ElasticacheBody,
            Origin::DescribeEvents,
            Origin::Console,
            Origin::Email,
            Origin::Drill,
            Origin::AwsHealth,
        ]
        .into_iter()
        .find(|o| o.as_str() == raw)
    }
}

/// One ElastiCache event, normalized.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MaintenanceEvent {
    /// Stable across re-deliveries; see [`EventId::derive`].
    pub id: EventId,
    /// `ElastiCache:NodeReplacementScheduled`, or `None` when only a text is known.
    pub event_name: Option<String>,
    /// The event's kind.
    pub kind: EventKind,
    /// The kind's category.
    pub category: Category,
    /// Whether people must act on it (by the alert policy in force when it was stored).
    pub actionable: bool,
    /// `cache-cluster`, `replication-group`, ...
    pub source_type: String,
    /// The identifier the event is about.
    pub source_id: SourceId,
    /// The cache cluster, when known.
    pub cluster_id: Option<ClusterId>,
    /// The node, exactly as written, when known.
    pub node_id: Option<NodeId>,
    /// The replication group, when known.
    pub replication_group_id: Option<ReplicationGroupId>,
    /// When it happened, in UTC.
    #[serde(with = "rfc3339")]
    pub occurred_at: DateTime<Utc>,
    /// The maintenance window the event announces.
    pub window: Option<Window>,
    /// For a reschedule, the window it moved from.
    pub previous_window: Option<Window>,
    /// The original text.
    pub message: Option<String>,
    /// From the SNS topic ARN.
    pub region: Option<String>,
    /// From the SNS topic ARN.
    pub account_id: Option<String>,
    /// Failover nodes named by the text.
    #[serde(default)]
    pub failover: Option<FailoverNodes>,
    /// How the event reached us.
    pub origin: Origin,
    /// When cachewatch first stored it.
    #[serde(with = "rfc3339")]
    pub received_at: DateTime<Utc>,
    /// Metadata the message carried beyond the fields above (`Service Update Name`, SNS ids...).
    #[serde(default)]
    pub attributes: BTreeMap<String, String>,
    /// A synthetic event injected by a drill, kept out of normal searches.
    #[serde(default)]
    pub drill: bool,
    /// The maintenance this event belongs to, once the lifecycle has placed it.
    #[serde(default)]
    pub maintenance_id: Option<EventId>,
}

impl MaintenanceEvent {
    /// The replication group or standalone cluster the event is about, for searches: the named
    /// replication group, else the group its cluster's name points at, else the cluster, else the
    /// source. A search for `orders` matches this, so it finds the events of `orders-0001-002`.
    pub fn cluster_group(&self) -> &str {
        match (&self.replication_group_id, &self.cluster_id) {
            (Some(group), _) => group.as_str(),
            (None, Some(cluster)) => cluster.group_guess().unwrap_or(cluster.as_str()),
            (None, None) => self.source_id.as_str(),
        }
    }

    /// The key of the events whose lifecycles are worked out together, for events that take part
    /// in a maintenance lifecycle. Drill events have keys of their own, one per drill run when
    /// they name it ([`crate::operations::drill::DRILL_ID`]): a second drill on a cluster is not a reschedule
    /// of the first.
    ///
    /// A node's events do not all name its replication group, so the key comes from the cluster's
    /// name first: every event of `orders-0001-002` then lands in group `orders` alike.
    pub fn group_key(&self) -> Option<String> {
        if !self.category.has_lifecycle() {
            return None;
        }
        let key = match (&self.cluster_id, &self.replication_group_id) {
            (Some(cluster), _) => cluster.group_guess().unwrap_or(cluster.as_str()),
            (None, Some(group)) => group.as_str(),
            (None, None) => self.source_id.as_str(),
        };
        Some(if self.drill {
            match self.attributes.get(crate::operations::drill::DRILL_ID) {
                Some(run) => format!("drill:{run}:{key}"),
                None => format!("drill:{key}"),
            }
        } else {
            key.to_owned()
        })
    }

    /// The id this event would have without its account: the id of the same report from a source
    /// that did not know the account (a history kept before ids knew accounts, a DescribeEvents
    /// file ingested by hand). `None` when the account is not known (the id is that already), or
    /// when the id is not derived from the event's date (an AWS Health communication names its
    /// own identity).
    pub fn id_without_place(&self) -> Option<EventId> {
        let account = self.account_id.as_deref()?;
        let node = self.node_id.as_ref();
        let placed = EventId::derive_in(
            Some(account),
            self.region.as_deref(),
            &self.source_id,
            &self.kind,
            node,
            self.occurred_at,
        );
        (placed == self.id)
            .then(|| EventId::derive(&self.source_id, &self.kind, node, self.occurred_at))
    }

    /// Says where a report was read (the account and Region a DescribeEvents call was made in)
    /// when the report itself does not: the event is then identified within that account and
    /// Region, as its SNS notice is. A report that names its account keeps it; a Region it names
    /// is kept too.
    pub fn stamp_place(&mut self, account: &str, region: &str) {
        if self.account_id.is_some() {
            return;
        }
        let node = self.node_id.as_ref();
        let bare = EventId::derive(&self.source_id, &self.kind, node, self.occurred_at);
        self.account_id = Some(account.to_owned());
        let region = self.region.get_or_insert_with(|| region.to_owned());
        if self.id == bare {
            self.id = EventId::derive_in(
                Some(account),
                Some(region),
                &self.source_id,
                &self.kind,
                node,
                self.occurred_at,
            );
        }
    }

    /// Whether two reports may come from one place: their accounts, and their Regions, are the
    /// same wherever both know them. A report that knows neither agrees with every place.
    pub fn places_agree(&self, other: &Self) -> bool {
        fn agree(a: Option<&str>, b: Option<&str>) -> bool {
            a.zip(b).is_none_or(|(a, b)| a == b)
        }
        agree(self.account_id.as_deref(), other.account_id.as_deref())
            && agree(self.region.as_deref(), other.region.as_deref())
    }

    /// The cluster a person would name for this event: the cluster, else the replication group,
    /// else the source.
    pub fn cluster_label(&self) -> &str {
        self.cluster_id
            .as_ref()
            .map(ClusterId::as_str)
            .or(self
                .replication_group_id
                .as_ref()
                .map(ReplicationGroupId::as_str))
            .unwrap_or(self.source_id.as_str())
    }
}

/// RFC 3339 in UTC with a `Z`, with fractions only when there are any.
pub mod rfc3339 {
    use super::*;

    /// Formats a time as the contract writes it.
    pub fn format(at: &DateTime<Utc>) -> String {
        at.to_rfc3339_opts(SecondsFormat::AutoSi, true)
    }

    /// Serializes a time as RFC 3339 UTC.
    pub fn serialize<S: Serializer>(at: &DateTime<Utc>, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&format(at))
    }

    /// Deserializes an RFC 3339 time, converting any offset to UTC.
    pub fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<DateTime<Utc>, D::Error> {
        let raw = String::deserialize(deserializer)?;
        DateTime::parse_from_rfc3339(&raw)
            .map(|t| t.with_timezone(&Utc))
            .map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn ids_ignore_sub_second_precision_but_not_the_node() {
        let source = SourceId::parse("orders-0001-001").unwrap();
        let kind = EventKind::new(EventKind::CACHE_NODES_REBOOTED);
        let n1 = NodeId::parse("0001").unwrap();
        let n2 = NodeId::parse("0002").unwrap();
        let a = EventId::derive(&source, &kind, Some(&n1), at("2026-03-01T10:00:00.336Z"));
        let b = EventId::derive(&source, &kind, Some(&n1), at("2026-03-01T10:00:00Z"));
        let c = EventId::derive(&source, &kind, Some(&n2), at("2026-03-01T10:00:00Z"));
        let d = EventId::derive(&source, &kind, Some(&n1), at("2026-03-01T10:00:01Z"));
        assert_eq!(a, b);
        assert_ne!(a, c);
        assert_ne!(a, d);
        assert_eq!(a.as_str().len(), EVENT_ID_LEN);
    }

    fn report(account: Option<&str>, region: Option<&str>, at_: &str) -> MaintenanceEvent {
        let source = SourceId::parse("sessions-redis").unwrap();
        let kind = EventKind::new(EventKind::NODE_REPLACEMENT_SCHEDULED);
        let when = at(at_);
        MaintenanceEvent {
            id: EventId::derive_in(account, region, &source, &kind, None, when),
            event_name: None,
            category: kind.category(),
            kind,
            actionable: true,
            source_type: "cache-cluster".into(),
            source_id: source,
            cluster_id: None,
            node_id: None,
            replication_group_id: None,
            occurred_at: when,
            window: None,
            previous_window: None,
            message: Some("text".into()),
            region: region.map(str::to_owned),
            account_id: account.map(str::to_owned),
            failover: None,
            origin: Origin::DescribeEvents,
            received_at: when,
            attributes: BTreeMap::new(),
            drill: false,
            maintenance_id: None,
        }
    }

    #[test]
    fn an_event_without_an_account_keeps_the_id_it_always_had() {
        let source = SourceId::parse("orders-0001-001").unwrap();
        let kind = EventKind::new(EventKind::CACHE_NODES_REBOOTED);
        let n1 = NodeId::parse("0001").unwrap();
        let t = at("2026-03-01T10:00:00Z");
        let bare = EventId::derive(&source, &kind, Some(&n1), t);
        // The id of this event as every earlier version derived it (SHA-256 of
        // `cachewatch-event-v1`, source, kind, node and Unix second, each ended by a zero byte).
        assert_eq!(bare.as_str(), "6666ec6df1d83ed44f1e");
        assert_eq!(
            EventId::derive_in(None, None, &source, &kind, Some(&n1), t),
            bare
        );
        assert_eq!(
            EventId::derive_in(None, Some("eu-west-1"), &source, &kind, Some(&n1), t),
            bare,
            "a Region alone (an e-mail names one) changes nothing"
        );
    }

    #[test]
    fn one_name_in_two_accounts_or_two_regions_is_two_events() {
        let t = "2026-03-01T10:00:00.250Z";
        let prod = report(Some("111122223333"), Some("eu-west-1"), t);
        let staging = report(Some("444455556666"), Some("eu-west-1"), t);
        let prod_us = report(Some("111122223333"), Some("us-east-1"), t);
        let unknown = report(None, None, t);
        let ids = [&prod.id, &staging.id, &prod_us.id, &unknown.id];
        for (i, a) in ids.iter().enumerate() {
            for b in &ids[i + 1..] {
                assert_ne!(a, b);
            }
        }
        // Each knows the id it would have without its account: the unknown report's.
        for placed in [&prod, &staging, &prod_us] {
            assert_eq!(placed.id_without_place().as_ref(), Some(&unknown.id));
        }
        assert_eq!(unknown.id_without_place(), None);
        assert_eq!(
            report(
                Some("111122223333"),
                Some("eu-west-1"),
                "2026-03-01T10:00:00Z"
            )
            .id,
            prod.id,
            "to the second, as before"
        );
    }

    #[test]
    fn a_report_stamped_with_where_it_was_read_gets_the_id_of_that_place() {
        let t = "2026-03-01T10:00:00Z";
        let mut read = report(None, None, t);
        read.stamp_place("111122223333", "eu-west-1");
        assert_eq!(read, report(Some("111122223333"), Some("eu-west-1"), t));
        // A report that knows its account keeps it.
        let mut spoke = report(Some("444455556666"), Some("us-east-1"), t);
        let before = spoke.clone();
        spoke.stamp_place("111122223333", "eu-west-1");
        assert_eq!(spoke, before);
    }

    #[test]
    fn places_agree_where_both_know_them() {
        let t = "2026-03-01T10:00:00Z";
        let prod = report(Some("111122223333"), Some("eu-west-1"), t);
        let staging = report(Some("444455556666"), Some("eu-west-1"), t);
        let prod_us = report(Some("111122223333"), Some("us-east-1"), t);
        let unknown = report(None, None, t);
        let email = report(None, Some("us-east-1"), t);
        assert!(prod.places_agree(&prod) && prod.places_agree(&unknown));
        assert!(unknown.places_agree(&staging));
        assert!(!prod.places_agree(&staging) && !prod.places_agree(&prod_us));
        assert!(email.places_agree(&prod_us) && !email.places_agree(&prod));
    }

    proptest::proptest! {
        #[test]
        fn ids_tell_places_apart_and_forget_nothing_else(
            account in proptest::option::of("[0-9]{12}"),
            other in "[0-9]{12}",
            region in "[a-z]{2}-[a-z]{4,9}-[1-3]",
            secs in 0i64..4_000_000_000,
            millis in 0u32..1000,
        ) {
            let source = SourceId::parse("sessions-redis").unwrap();
            let kind = EventKind::new(EventKind::NODE_REPLACEMENT_SCHEDULED);
            let t = DateTime::from_timestamp(secs, millis * 1_000_000).unwrap();
            let whole = DateTime::from_timestamp(secs, 0).unwrap();
            let id = |a: Option<&str>, r: &str, at| EventId::derive_in(a, Some(r), &source, &kind, None, at);
            let mine = id(account.as_deref(), &region, t);
            proptest::prop_assert_eq!(&mine, &id(account.as_deref(), &region, whole));
            proptest::prop_assert_eq!(mine.as_str().len(), EVENT_ID_LEN);
            match &account {
                None => proptest::prop_assert_eq!(&mine, &EventId::derive(&source, &kind, None, t)),
                Some(account) => {
                    proptest::prop_assert_ne!(&mine, &EventId::derive(&source, &kind, None, t));
                    proptest::prop_assert_ne!(&mine, &id(Some(&format!("{region}x")), &region, t));
                    if *account != other {
                        proptest::prop_assert_ne!(&mine, &id(Some(&other), &region, t));
                    }
                    proptest::prop_assert_ne!(&mine, &id(Some(account), &format!("{region}x"), t));
                }
            }
        }
    }

    #[test]
    fn prefixes_are_hex_of_four_to_twenty_digits() {
        assert!(EventId::parse_prefix("3F9A").is_some());
        assert!(EventId::parse_prefix("3f9").is_none());
        assert!(EventId::parse_prefix("3f9z").is_none());
        assert!(EventId::parse("0123456789abcdef0123").is_some());
        assert!(EventId::parse("0123456789abcdef012").is_none());
    }

    #[test]
    fn times_serialize_as_utc_with_z() {
        let t = Utc.with_ymd_and_hms(2026, 1, 2, 3, 4, 5).unwrap();
        assert_eq!(rfc3339::format(&t), "2026-01-02T03:04:05Z");
        let ms = at("2026-01-02T12:04:05.250+09:00");
        assert_eq!(rfc3339::format(&ms), "2026-01-02T03:04:05.250Z");
    }
}
