//! Routes and mutes by the cluster's tags:
//!
//! ```toml
//! [[routes]]
//! tags = { team = "payments" }       # every tag listed must be on the cluster (values are patterns)
//! channel = "#payments-oncall"
//!
//! [[mutes]]
//! tags = { env = "staging" }
//! until = "2026-12-31"
//! ```
//!
//! Events carry no tags: they are the cluster's, as ElastiCache keeps them, read with its facts
//! (`ListTagsForResource` on the cluster and its replication group; see
//! [`crate::cluster::facts::ClusterFacts::tags`]) only when a route or mute lists tags, and the
//! tags last kept when a lookup fails (see [`crate::alerting::decision`]). A cluster whose tags
//! are not known matches no route or mute that lists tags: its alert goes to the next route that
//! matches, else the default channel, and it is not muted by tag. Guessing either way would be
//! worse: a route by tag that claimed unknown clusters would send strangers' alerts to a team, and
//! a mute by tag that held them would silence clusters nobody muted.

use std::collections::BTreeMap;

use super::{ConfigError, glob};

/// A cluster's tags: key and value.
pub type Tags = BTreeMap<String, String>;

/// Whether the tags a route or mute lists (`want`) are all on a cluster whose tags are `known`:
/// the key present and its value matching the listed pattern. Listing none matches every
/// cluster; listing some never matches a cluster whose tags are not known.
pub fn hold(want: &Tags, known: Option<&Tags>) -> bool {
    if want.is_empty() {
        return true;
    }
    let Some(known) = known else {
        return false;
    };
    want.iter()
        .all(|(key, pattern)| known.get(key).is_some_and(|value| glob(pattern, value)))
}

/// Says which listed tag does not read: an empty key, or an empty value pattern.
pub fn check(tags: &Tags, what: &str) -> Result<(), ConfigError> {
    if let Some((key, _)) = tags
        .iter()
        .find(|(k, v)| k.trim().is_empty() || v.is_empty())
    {
        return Err(ConfigError::Invalid(format!(
            "a {what} lists tag {key:?} with an empty key or value"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::Config;
    use super::*;
    use crate::intake::parse::{ParseContext, parse_document};
    use crate::model::event::MaintenanceEvent;
    use crate::test_support::tags;
    use chrono::{DateTime, Utc};

    fn notice(cluster: &str) -> MaintenanceEvent {
        let now = DateTime::parse_from_rfc3339("2026-12-01T00:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        let body = format!(r#"{{"ElastiCache:NodeReplacementScheduled":"{cluster}"}}"#);
        parse_document(&body, &ParseContext::received_at(now))
            .unwrap()
            .remove(0)
    }

    const CONFIG: &str = r##"
        [slack]
        channel = "#cache"
        [[routes]]
        tags = { team = "payments", env = "prod*" }
        channel = "#payments"
        [[routes]]
        clusters = "orders-*"
        channel = "#orders"
        [[mutes]]
        tags = { env = "staging" }
        until = "2099-01-01"
    "##;

    #[test]
    fn a_route_by_tags_claims_clusters_with_every_tag_listed_and_no_other() {
        let config: Config = toml::from_str(CONFIG).unwrap();
        assert!(config.uses_tags());
        let e = notice("orders-0001-001");
        let channel = |known: Option<&Tags>| config.channel_for_tagged(&e, known, None);
        let payments = tags(&[("team", "payments"), ("env", "production"), ("x", "y")]);
        assert_eq!(channel(Some(&payments)), Some("#payments"));
        let half = tags(&[("team", "payments"), ("env", "dev")]);
        assert_eq!(channel(Some(&half)), Some("#orders"), "one tag differs");
        assert_eq!(
            channel(None),
            Some("#orders"),
            "tags not known: the next route that matches"
        );
        let other = notice("billing-0001-001");
        assert_eq!(
            config.channel_for_tagged(&other, None, None),
            Some("#cache"),
            "tags not known and no other route: the default channel"
        );
        assert_eq!(
            config.channel_for(&other, None),
            Some("#cache"),
            "without tags, as before"
        );
        assert!(
            !Config::from_toml("[[routes]]\nchannel = \"#a\"")
                .unwrap()
                .uses_tags()
        );
    }

    #[test]
    fn a_mute_by_tags_mutes_only_clusters_known_to_carry_them() {
        let config: Config = toml::from_str(CONFIG).unwrap();
        let e = notice("web-0001-001");
        let now = DateTime::parse_from_rfc3339("2026-12-01T00:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        let staging = tags(&[("env", "staging")]);
        assert!(config.mute_for_tagged(&e, Some(&staging), now).is_some());
        assert!(
            config
                .mute_for_tagged(&e, Some(&tags(&[("env", "prod")])), now)
                .is_none()
        );
        assert!(
            config.mute_for_tagged(&e, None, now).is_none(),
            "tags not known: not muted"
        );
        assert!(config.mute_for(&e, now).is_none());
    }

    #[test]
    fn tags_that_do_not_read_are_named() {
        for text in [
            "[[routes]]\nchannel = \"#a\"\ntags = { \"\" = \"x\" }",
            "[[mutes]]\nuntil = \"2099-01-01\"\ntags = { env = \"\" }",
        ] {
            let err = Config::from_toml(text).unwrap_err().to_string();
            assert!(err.contains("empty key or value"), "{text}: {err}");
        }
    }

    #[test]
    fn a_configuration_that_lists_tags_reads() {
        let config = Config::from_toml(CONFIG).unwrap();
        assert!(config.uses_tags());
        assert_eq!(config.routes[0].tags.get("team").unwrap(), "payments");
        assert_eq!(config.mutes[0].tags.get("env").unwrap(), "staging");
    }
}
