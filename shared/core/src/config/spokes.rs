//! The spokes a hub reads: the accounts, and the Regions in each, whose DescribeEvents the poller
//! reads by assuming the spoke's reader role (`infra/spoke.yaml`).
//!
//! ```toml
//! [[spokes]]
//! account = "111122223333"
//! regions = ["eu-west-1", "us-east-1"]
//! role = "arn:aws:iam::111122223333:role/cachewatch-spoke-reader"   # the default
//! ```

use serde::{Deserialize, Serialize};

use super::ConfigError;
use crate::history::filters::{is_account, is_region};

/// The reader role's name in every spoke unless a spoke names another role.
pub const DEFAULT_READER_ROLE: &str = "cachewatch-spoke-reader";

/// How many spokes (account and Region) the poller reads at once.
pub const SPOKES_AT_ONCE: usize = 4;

/// One account and the Regions of it the hub reads.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Spoke {
    /// The account id.
    pub account: String,
    /// Its Regions (`eu-west-1`).
    pub regions: Vec<String>,
    /// The ARN of the role to assume; [`DEFAULT_READER_ROLE`] in the account when left out.
    #[serde(default)]
    pub role: Option<String>,
}

/// One account and Region to read, with the role to read it by.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpokeRegion {
    /// The account id.
    pub account: String,
    /// The Region.
    pub region: String,
    /// The role's ARN.
    pub role: String,
}

impl Spoke {
    /// The role to assume.
    pub fn role_arn(&self) -> String {
        self.role
            .clone()
            .unwrap_or_else(|| format!("arn:aws:iam::{}:role/{DEFAULT_READER_ROLE}", self.account))
    }

    fn check(&self) -> Result<(), ConfigError> {
        let bad = |why: String| Err(ConfigError::Invalid(format!("spokes: {why}")));
        if !is_account(&self.account) {
            return bad(format!(
                "{:?} is not an account id (12 digits)",
                self.account
            ));
        }
        if self.regions.is_empty() {
            return bad(format!("account {} lists no regions", self.account));
        }
        if let Some(region) = self.regions.iter().find(|r| !is_region(r)) {
            return bad(format!(
                "account {}: {region:?} is not a Region code (like eu-west-1)",
                self.account
            ));
        }
        let role = self.role_arn();
        let parts: Vec<&str> = role.splitn(6, ':').collect();
        let role_ok = parts.len() == 6
            && parts[0] == "arn"
            && parts[1].starts_with("aws")
            && parts[2] == "iam"
            && parts[4] == self.account
            && parts[5]
                .strip_prefix("role/")
                .is_some_and(|n| !n.is_empty());
        if !role_ok {
            return bad(format!(
                "account {}: role {role:?} is not the ARN of a role of that account",
                self.account
            ));
        }
        Ok(())
    }
}

/// Checks every spoke, and that no account and Region is listed twice.
pub fn check(spokes: &[Spoke]) -> Result<(), ConfigError> {
    let mut seen = std::collections::BTreeSet::new();
    for spoke in spokes {
        spoke.check()?;
        for region in &spoke.regions {
            if !seen.insert((spoke.account.as_str(), region.as_str())) {
                return Err(ConfigError::Invalid(format!(
                    "spokes: account {} in {region} is listed twice",
                    spoke.account
                )));
            }
        }
    }
    Ok(())
}

/// Every account and Region of `spokes`, in the order listed.
pub fn regions(spokes: &[Spoke]) -> Vec<SpokeRegion> {
    spokes
        .iter()
        .flat_map(|s| {
            s.regions.iter().map(|region| SpokeRegion {
                account: s.account.clone(),
                region: region.clone(),
                role: s.role_arn(),
            })
        })
        .collect()
}

/// Whether a notification published to `topic_arn` may be read: with no spokes listed, any; else
/// a topic of the hub's own account (`own_account`), or of a listed spoke's account in one of its
/// Regions. A hub's ingest function may be invoked by any topic of the spokes' name (a resource
/// policy cannot tell a service's source organization), so the list is what keeps strangers out.
pub fn admits_topic(spokes: &[Spoke], own_account: Option<&str>, topic_arn: &str) -> bool {
    if spokes.is_empty() {
        return true;
    }
    let parts: Vec<&str> = topic_arn.split(':').collect();
    let (Some(region), Some(account)) = (parts.get(3), parts.get(4)) else {
        return false;
    };
    own_account == Some(*account)
        || spokes
            .iter()
            .any(|s| s.account == *account && s.regions.iter().any(|r| r == region))
}

#[cfg(test)]
mod tests {
    use super::super::Config;
    use super::*;

    #[test]
    fn spokes_read_with_their_default_role_and_each_region_once() {
        let config = Config::from_toml(
            r#"
            [[spokes]]
            account = "111122223333"
            regions = ["eu-west-1", "us-east-1"]
            [[spokes]]
            account = "444455556666"
            regions = ["ap-southeast-2"]
            role = "arn:aws:iam::444455556666:role/team/reader"
            "#,
        )
        .unwrap();
        let all = regions(&config.spokes);
        assert_eq!(all.len(), 3);
        assert_eq!(
            all[0].role,
            "arn:aws:iam::111122223333:role/cachewatch-spoke-reader"
        );
        assert_eq!(all[1].region, "us-east-1");
        assert_eq!(all[2].role, "arn:aws:iam::444455556666:role/team/reader");
    }

    #[test]
    fn only_the_hub_and_its_spokes_topics_are_admitted() {
        let spokes = [Spoke {
            account: "111122223333".into(),
            regions: vec!["eu-west-1".into()],
            role: None,
        }];
        let own = Some("999999999999");
        let admits = |arn: &str| admits_topic(&spokes, own, arn);
        assert!(admits(
            "arn:aws:sns:eu-west-1:111122223333:cachewatch-spoke-events"
        ));
        assert!(admits("arn:aws:sns:us-east-1:999999999999:cachewatch"));
        assert!(!admits(
            "arn:aws:sns:us-east-1:111122223333:cachewatch-spoke-events"
        ));
        assert!(!admits(
            "arn:aws:sns:eu-west-1:444455556666:cachewatch-spoke-events"
        ));
        assert!(!admits("not an arn"));
        assert!(admits_topic(
            &[],
            own,
            "arn:aws:sns:eu-west-1:444455556666:x"
        ));
    }

    #[test]
    fn spokes_that_do_not_read_are_named() {
        for (text, says) in [
            (
                "[[spokes]]\naccount = \"1\"\nregions = [\"eu-west-1\"]",
                "not an account id",
            ),
            (
                "[[spokes]]\naccount = \"111122223333\"\nregions = []",
                "no regions",
            ),
            (
                "[[spokes]]\naccount = \"111122223333\"\nregions = [\"Ireland\"]",
                "not a Region code",
            ),
            (
                "[[spokes]]\naccount = \"111122223333\"\nregions = [\"eu-west-1\"]\nrole = \"arn:aws:iam::999999999999:role/x\"",
                "not the ARN of a role of that account",
            ),
            (
                "[[spokes]]\naccount = \"111122223333\"\nregions = [\"eu-west-1\", \"eu-west-1\"]",
                "listed twice",
            ),
        ] {
            let err = Config::from_toml(text).unwrap_err().to_string();
            assert!(err.contains(says), "{text}: {err}");
        }
    }
}
