//! Where an event comes from: the AWS account (named by the `[accounts]` table of
//! `cachewatch.toml`) and the Region. Routes and mutes may be limited to accounts and Regions:
//!
//! ```toml
//! [accounts]
//! "111122223333" = "payments-prod"
//!
//! [[routes]]
//! accounts = ["payments-prod"]       # an account id or a name from [accounts]
//! regions = ["eu-*"]                 # Region patterns
//! channel = "#payments-oncall"       # `clusters` may be left out: every cluster
//! ```

use std::collections::BTreeMap;

use super::{ConfigError, glob};
use crate::history::filters::is_account;
use crate::model::event::MaintenanceEvent;

/// The accounts and Regions a route or a mute is limited to; empty lists limit nothing.
#[derive(Debug, Clone, Copy)]
pub struct Place<'a> {
    /// Account ids or names from `[accounts]`.
    pub accounts: &'a [String],
    /// Region patterns (`eu-west-1`, `eu-*`).
    pub regions: &'a [String],
}

impl Place<'_> {
    /// Whether `e` comes from one of the accounts and one of the Regions: an event whose account
    /// (or Region) is not known is outside any list of them.
    pub fn holds(&self, e: &MaintenanceEvent, names: &BTreeMap<String, String>) -> bool {
        let account_ok = self.accounts.is_empty()
            || e.account_id.as_deref().is_some_and(|id| {
                self.accounts
                    .iter()
                    .any(|a| account_id_of(names, a).is_some_and(|want| want == id))
            });
        let region_ok = self.regions.is_empty()
            || e.region
                .as_deref()
                .is_some_and(|r| self.regions.iter().any(|p| glob(p, r)));
        account_ok && region_ok
    }

    /// Says which entry does not read: an account that is neither an id nor a name, an empty
    /// Region pattern.
    pub fn check(&self, names: &BTreeMap<String, String>, what: &str) -> Result<(), ConfigError> {
        if let Some(bad) = self
            .accounts
            .iter()
            .find(|a| account_id_of(names, a).is_none())
        {
            return Err(ConfigError::Invalid(format!(
                "a {what} names account {bad:?}, which is neither an account id (12 digits) nor a name from [accounts]"
            )));
        }
        if self.regions.iter().any(|r| r.trim().is_empty()) {
            return Err(ConfigError::Invalid(format!(
                "a {what} has an empty Region pattern"
            )));
        }
        Ok(())
    }
}

/// The account id `raw` stands for: itself when it is one, else the account `[accounts]` names so.
pub fn account_id_of<'a>(names: &'a BTreeMap<String, String>, raw: &'a str) -> Option<&'a str> {
    let raw = raw.trim();
    if is_account(raw) {
        return Some(raw);
    }
    names
        .iter()
        .find(|(_, name)| name.as_str() == raw)
        .map(|(id, _)| id.as_str())
}

/// Checks the `[accounts]` table: keys are account ids, names are not empty and name one
/// account each.
pub fn check_names(names: &BTreeMap<String, String>) -> Result<(), ConfigError> {
    let mut seen = std::collections::BTreeSet::new();
    for (id, name) in names {
        if !is_account(id) {
            return Err(ConfigError::Invalid(format!(
                "accounts: {id:?} is not an account id (12 digits)"
            )));
        }
        let name = name.trim();
        if name.is_empty() || name.chars().count() > 64 || name.chars().any(char::is_control) {
            return Err(ConfigError::Invalid(format!(
                "accounts: the name of {id} must be 1 to 64 characters, without control characters"
            )));
        }
        if !seen.insert(name) {
            return Err(ConfigError::Invalid(format!(
                "accounts: {name:?} names more than one account"
            )));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::Config;
    use crate::intake::parse::{ParseContext, parse_document};
    use crate::model::event::MaintenanceEvent;
    use crate::test_support::at;

    /// A notice of `cluster` as the topic of `account` in `region` delivers it.
    fn notice(cluster: &str, account: &str, region: &str) -> MaintenanceEvent {
        let input = format!(
            r#"{{"Records":[{{"EventSource":"aws:sns","Sns":{{"TopicArn":"arn:aws:sns:{region}:{account}:cachewatch-events","Timestamp":"2026-06-10T00:00:00Z","Message":"{{\"ElastiCache:NodeReplacementScheduled\":\"{cluster}\"}}"}}}}]}}"#
        );
        parse_document(
            &input,
            &ParseContext::received_at(at("2026-06-11T00:00:00Z")),
        )
        .unwrap()
        .remove(0)
    }

    const FILE: &str = r##"
        [slack]
        channel = "#cache"
        [accounts]
        "111122223333" = "payments-prod"
        "444455556666" = "sandbox"
        [[routes]]
        accounts = ["payments-prod"]
        regions = ["eu-*"]
        channel = "#payments-eu"
        [[routes]]
        clusters = "orders-*"
        accounts = ["111122223333"]
        channel = "#orders"
        [[mutes]]
        accounts = ["sandbox"]
        until = "2026-12-31"
        [[mutes]]
        clusters = "batch-*"
        regions = ["us-west-2"]
        until = "2026-12-31"
    "##;

    #[test]
    fn notices_know_their_account_and_region_from_the_topic() {
        let e = notice("orders-0001-001", "111122223333", "eu-west-1");
        assert_eq!(e.account_id.as_deref(), Some("111122223333"));
        assert_eq!(e.region.as_deref(), Some("eu-west-1"));
    }

    #[test]
    fn routes_match_by_account_name_or_id_and_by_region() {
        let config = Config::from_toml(FILE).unwrap();
        let cases = [
            (
                "orders-0001-001",
                "111122223333",
                "eu-west-1",
                "#payments-eu",
            ),
            ("orders-0001-001", "111122223333", "us-east-1", "#orders"),
            ("orders-0001-001", "777788889999", "eu-west-1", "#cache"),
            ("billing-0001-001", "111122223333", "ap-south-1", "#cache"),
        ];
        for (cluster, account, region, channel) in cases {
            let e = notice(cluster, account, region);
            assert_eq!(
                config.channel_for(&e, None),
                Some(channel),
                "{cluster} of {account} in {region}"
            );
        }
        let mut unknown = notice("orders-0001-001", "111122223333", "eu-west-1");
        unknown.account_id = None;
        assert_eq!(config.channel_for(&unknown, None), Some("#cache"));
        assert_eq!(config.account_name("111122223333"), Some("payments-prod"));
        assert_eq!(config.account_id_of("sandbox"), Some("444455556666"));
        assert_eq!(config.account_id_of("nobody"), None);
    }

    #[test]
    fn mutes_match_by_account_and_region() {
        let config = Config::from_toml(FILE).unwrap();
        let now = at("2026-06-12T00:00:00Z");
        let muted = |c: &str, a: &str, r: &str| config.mute_for(&notice(c, a, r), now).is_some();
        assert!(muted("anything-001", "444455556666", "eu-west-1"));
        assert!(!muted("anything-001", "111122223333", "eu-west-1"));
        assert!(muted("batch-0001-001", "111122223333", "us-west-2"));
        assert!(!muted("batch-0001-001", "111122223333", "us-east-1"));
        assert!(!muted("orders-0001-001", "111122223333", "us-west-2"));
    }

    #[test]
    fn alerts_name_the_account_by_its_name_and_id() {
        use crate::alerting::slack::{self, AlertContext};
        let config = Config::from_toml(FILE).unwrap();
        let facts = crate::cluster::facts::ClusterFacts::default();
        let owners = config.owners();
        let named = notice("orders-0001-001", "111122223333", "eu-west-1");
        let unnamed = notice("orders-0001-001", "777788889999", "eu-west-1");
        let text = |e: &MaintenanceEvent| {
            let ctx = AlertContext {
                accounts: &config.accounts,
                ..AlertContext::new(e, &facts, &owners, at("2026-06-11T00:00:00Z"))
            };
            serde_json::to_string(&slack::alert(&ctx)).unwrap()
        };
        assert!(text(&named).contains("account payments-prod (111122223333)"));
        let plain = text(&unnamed);
        assert!(plain.contains("account 777788889999"), "{plain}");
        assert!(!plain.contains("payments-prod"));
    }

    #[test]
    fn accounts_that_do_not_read_are_named() {
        for (text, says) in [
            ("[accounts]\n\"1234\" = \"short\"", "not an account id"),
            ("[accounts]\n\"111122223333\" = \"\"", "1 to 64 characters"),
            (
                "[accounts]\n\"111122223333\" = \"a\"\n\"444455556666\" = \"a\"",
                "more than one account",
            ),
            (
                "[[routes]]\naccounts = [\"payments\"]\nchannel = \"#x\"",
                "neither an account id",
            ),
            (
                "[[mutes]]\nregions = [\"\"]\nuntil = \"2026-12-31\"",
                "empty Region pattern",
            ),
        ] {
            let err = Config::from_toml(text).unwrap_err().to_string();
            assert!(err.contains(says), "{text}: {err}");
        }
    }
}
