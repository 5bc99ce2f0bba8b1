//! Identifiers of the things events are about, made once by `parse` and trusted afterwards.
//!
//! ElastiCache names clusters and replication groups with ASCII letters, digits and hyphens
//! ([CreateCacheCluster](https://docs.aws.amazon.com/AmazonElastiCache/latest/APIReference/API_CreateCacheCluster.html),
//! [CreateReplicationGroup](https://docs.aws.amazon.com/AmazonElastiCache/latest/APIReference/API_CreateReplicationGroup.html)),
//! but an event is kept whatever it names: a hostile or odd identifier is stored as written and
//! escaped where it is shown. What an identifier may not be is empty, padded, longer than
//! [`MAX_ID_LEN`], or carry control characters or invisible and bidirectional characters
//! ([`crate::model::invisible`]), which make look-alike names: such a value is a malformed record, not a
//! name.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// The longest identifier accepted (ElastiCache's own limit is 50 to 255 characters by type).
pub const MAX_ID_LEN: usize = 255;

/// Why a text is not an identifier.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdError {
    /// The text is empty or only white space.
    #[error("{what} is empty")]
    Empty {
        /// Which identifier was being read.
        what: &'static str,
    },
    /// The text is longer than [`MAX_ID_LEN`].
    #[error("{what} is {len} characters long (at most {MAX_ID_LEN})")]
    TooLong {
        /// Which identifier was being read.
        what: &'static str,
        /// Its length in characters.
        len: usize,
    },
    /// The text contains a control character (newline, NUL, ...).
    #[error("{what} contains a control character")]
    ControlCharacter {
        /// Which identifier was being read.
        what: &'static str,
    },
    /// The text contains an invisible or bidirectional character, which makes look-alike names.
    #[error(
        "{what} contains the invisible or bidirectional character U+{codepoint:04X}; ElastiCache names are ASCII letters, digits and hyphens (https://docs.aws.amazon.com/AmazonElastiCache/latest/APIReference/API_CreateCacheCluster.html)"
    )]
    Invisible {
        /// Which identifier was being read.
        what: &'static str,
        /// The character.
        codepoint: u32,
    },
}

fn check(what: &'static str, raw: &str) -> Result<String, IdError> {
    let trimmed = raw.trim();
    if trimmed.is_empty() {
        return Err(IdError::Empty { what });
    }
    let len = trimmed.chars().count();
    if len > MAX_ID_LEN {
        return Err(IdError::TooLong { what, len });
    }
    if trimmed.chars().any(char::is_control) {
        return Err(IdError::ControlCharacter { what });
    }
    if let Some(c) = trimmed
        .chars()
        .find(|c| crate::model::invisible::is_invisible(*c))
    {
        return Err(IdError::Invisible {
            what,
            codepoint: u32::from(c),
        });
    }
    Ok(trimmed.to_owned())
}

macro_rules! identifier {
    ($(#[$doc:meta])* $name:ident, $what:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(String);

        impl $name {
            /// Reads an identifier, trimming surrounding white space.
            pub fn parse(raw: &str) -> Result<Self, IdError> {
                check($what, raw).map(Self)
            }

            /// The identifier as written.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(&self.0)
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let raw = String::deserialize(deserializer)?;
                Self::parse(&raw).map_err(serde::de::Error::custom)
            }
        }
    };
}

identifier!(
    /// A cache cluster id. In a Redis or Valkey replication group every node is a cache cluster of
    /// its own (`orders-0001-002`); a Memcached cluster holds several nodes.
    ClusterId,
    "cache cluster id"
);
identifier!(
    /// A cache node id as written by ElastiCache (`"0001"`, or `"2"` in some texts): never re-padded.
    NodeId,
    "node id"
);
identifier!(
    /// A replication group id (a Redis or Valkey cluster with its replicas and shards).
    ReplicationGroupId,
    "replication group id"
);
identifier!(
    /// The identifier an event is about: a cluster, a replication group, a parameter group, a user...
    SourceId,
    "source id"
);

impl ClusterId {
    /// The replication group this member cluster's name says it belongs to, if the name follows
    /// ElastiCache's member naming (`{group}-{NNN}` or `{group}-{NNNN}-{NNN}`).
    ///
    /// ElastiCache names the members of a replication group that way itself, so this links a
    /// node's events to its group's events when the event does not name the group. It is a
    /// guess, used only to decide which events to look at together, never shown as a fact.
    pub fn group_guess(&self) -> Option<&str> {
        let id = self.0.as_str();
        let strip = |s: &str, digits: usize| -> Option<usize> {
            let (head, tail) = s.rsplit_once('-')?;
            (tail.len() == digits && tail.bytes().all(|b| b.is_ascii_digit()) && !head.is_empty())
                .then_some(head.len())
        };
        let cut = strip(id, 3)?;
        let head = &id[..cut];
        Some(match strip(head, 4) {
            Some(cut2) => &head[..cut2],
            None => head,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers_are_trimmed_and_kept_as_written() {
        assert_eq!(NodeId::parse(" 0002 ").unwrap().as_str(), "0002");
        assert_eq!(NodeId::parse("2").unwrap().as_str(), "2");
        assert_eq!(
            ClusterId::parse("<!channel>").unwrap().as_str(),
            "<!channel>"
        );
    }

    #[test]
    fn empty_long_and_control_identifiers_are_refused() {
        assert!(matches!(ClusterId::parse("  "), Err(IdError::Empty { .. })));
        assert!(matches!(
            ClusterId::parse(&"x".repeat(256)),
            Err(IdError::TooLong { len: 256, .. })
        ));
        assert!(matches!(
            ClusterId::parse("a\nb"),
            Err(IdError::ControlCharacter { .. })
        ));
    }

    #[test]
    fn invisible_and_bidirectional_characters_are_refused_by_every_identifier() {
        for raw in [
            "orders\u{200B}-001",
            "\u{202E}100-sredro",
            "orders-001\u{2066}",
            "ord\u{00AD}ers",
            "\u{FEFF}orders",
        ] {
            let err = ClusterId::parse(raw).unwrap_err();
            assert!(matches!(err, IdError::Invisible { .. }), "{raw:?}: {err}");
            assert!(err.to_string().contains("U+"), "{err}");
            assert!(ReplicationGroupId::parse(raw).is_err(), "{raw:?}");
            assert!(NodeId::parse(raw).is_err(), "{raw:?}");
            assert!(SourceId::parse(raw).is_err(), "{raw:?}");
        }
        assert!(ClusterId::parse("orders-0001-001").is_ok());
    }

    #[test]
    fn member_cluster_names_point_at_their_group() {
        let cases = [
            ("orders-0001-002", Some("orders")),
            ("sessions-001", Some("sessions")),
            ("my-app-cache-0003-001", Some("my-app-cache")),
            ("memcache-prod", None),
            ("cache-01", None),
            ("-001", None),
        ];
        for (id, group) in cases {
            assert_eq!(ClusterId::parse(id).unwrap().group_guess(), group, "{id}");
        }
    }
}
