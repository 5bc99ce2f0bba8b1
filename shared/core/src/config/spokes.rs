//! The spokes a hub reads: the accounts, and the Regions in each, whose DescribeEvents the poller
//! reads by assuming the spoke's reader role (`infra/spoke.yaml`).
//!
//! ```toml
//! [[spokes]]
//! account = "111122223333"
//! regions = ["eu-west-1", "us-east-1"]
//! role = "arn:aws:iam::111122223333:role/cachewatch-spoke-reader"   # the default
//!
//! [spokes_from_organization]          # and every ACTIVE account of the hub's organisation
//! regions = ["eu-west-1", "us-east-1"]
//! role = "cachewatch-spoke-reader"     # the role's name (or path/name) in each account: the default
//! exclude = ["444455556666"]           # accounts never read, nor admitted
//! ```

use std::collections::BTreeSet;
use std::future::Future;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::ConfigError;
use crate::history::filters::{is_account, is_region};
use crate::history::store::StoreError;
use crate::model::event::rfc3339;

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

/// The accounts of the hub's organisation, read in the Regions given: the poller lists the
/// organisation's ACTIVE accounts (AWS Organizations' ListAccounts) each run and reads each
/// account and Region as it reads a listed spoke.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Organization {
    /// The Regions read in every account.
    pub regions: Vec<String>,
    /// The reader role's name (or `path/name`) in every account; [`DEFAULT_READER_ROLE`] when
    /// left out.
    #[serde(default)]
    pub role: Option<String>,
    /// Accounts never read and whose topics are not admitted.
    #[serde(default)]
    pub exclude: Vec<String>,
}

impl Organization {
    /// The role to assume in `account`.
    pub fn role_arn(&self, account: &str) -> String {
        let name = self.role.as_deref().unwrap_or(DEFAULT_READER_ROLE);
        format!("arn:aws:iam::{account}:role/{name}")
    }

    fn check(&self) -> Result<(), ConfigError> {
        let bad = |why: String| {
            Err(ConfigError::Invalid(format!(
                "spokes_from_organization: {why}"
            )))
        };
        if self.regions.is_empty() {
            return bad("lists no regions".to_owned());
        }
        if let Some(region) = self.regions.iter().find(|r| !is_region(r)) {
            return bad(format!("{region:?} is not a Region code (like eu-west-1)"));
        }
        let mut seen = BTreeSet::new();
        if let Some(region) = self.regions.iter().find(|r| !seen.insert(r.as_str())) {
            return bad(format!("{region} is listed twice"));
        }
        if let Some(account) = self.exclude.iter().find(|a| !is_account(a)) {
            return bad(format!(
                "exclude: {account:?} is not an account id (12 digits)"
            ));
        }
        if let Some(role) = &self.role {
            let name_ok = |part: &str| {
                !part.is_empty()
                    && part
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || "+=,.@_-".contains(c))
            };
            if !role.split('/').all(name_ok) || role.len() > 512 {
                return bad(format!(
                    "role {role:?} is not a role name (or path/name), like cachewatch-spoke-reader"
                ));
            }
        }
        Ok(())
    }

    /// Whether `account` is one whose Regions are read and whose topics may be admitted.
    fn takes(&self, account: &str) -> bool {
        !self.exclude.iter().any(|a| a == account)
    }
}

/// Checks the organisation's options, when given.
pub fn check_organization(org: Option<&Organization>) -> Result<(), ConfigError> {
    org.map_or(Ok(()), Organization::check)
}

/// The accounts and Regions of the organisation to read: each of `accounts` (its ACTIVE
/// accounts) in each of `org`'s Regions, but the excluded accounts, the account and Region the
/// hub reads with its own credentials (`own`), and those `listed` in `[[spokes]]` (read as
/// listed, with their role).
pub fn discovered(
    org: &Organization,
    accounts: &[String],
    listed: &[Spoke],
    own: Option<(&str, &str)>,
) -> Vec<SpokeRegion> {
    let is_listed = |account: &str, region: &str| {
        listed
            .iter()
            .any(|s| s.account == account && s.regions.iter().any(|r| r == region))
            || own == Some((account, region))
    };
    let unique: BTreeSet<&String> = accounts.iter().filter(|a| org.takes(a)).collect();
    unique
        .into_iter()
        .flat_map(|account| {
            org.regions
                .iter()
                .filter(|region| !is_listed(account, region))
                .map(|region| SpokeRegion {
                    account: account.clone(),
                    region: region.clone(),
                    role: org.role_arn(account),
                })
        })
        .collect()
}

/// The organisation's ACTIVE accounts as the poller last listed them, kept in the store so that
/// the ingest function admits their topics without asking AWS Organizations itself.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
pub struct OrganizationAccounts {
    /// The account ids, sorted.
    pub accounts: Vec<String>,
    /// When they were listed.
    #[serde(with = "rfc3339")]
    pub read_at: DateTime<Utc>,
}

/// Where the organisation's accounts are kept between the poller's runs.
pub trait OrganizationStore: Send + Sync {
    /// Keeps the latest listing (it replaces the one before).
    fn record_organization(
        &self,
        accounts: &OrganizationAccounts,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// The latest listing kept, if any.
    fn organization(
        &self,
    ) -> impl Future<Output = Result<Option<OrganizationAccounts>, StoreError>> + Send;
}

/// Whether a notification's topic is read: at once, or once its account is known to be one of
/// the organisation's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Admission {
    /// Read it.
    Admitted,
    /// Refuse it.
    Refused,
    /// Read it if this account is one of the organisation's (as the poller last listed them).
    IfMember(String),
}

/// What becomes of a notification published to `topic_arn`: with no spokes listed and no
/// organisation, read; else read from a topic of the hub's own account (`own_account`) or of a
/// listed spoke's account in one of its Regions; else, with `[spokes_from_organization]`, read
/// when the account (not excluded, in one of its Regions) is one of the organisation's. A hub's
/// ingest function may be invoked by any topic of the spokes' name (a resource policy cannot tell
/// a service's source organization), so these lists are what keep strangers out.
pub fn admission(
    spokes: &[Spoke],
    org: Option<&Organization>,
    own_account: Option<&str>,
    topic_arn: &str,
) -> Admission {
    if spokes.is_empty() && org.is_none() {
        return Admission::Admitted;
    }
    let parts: Vec<&str> = topic_arn.split(':').collect();
    let (Some(region), Some(account)) = (parts.get(3), parts.get(4)) else {
        return Admission::Refused;
    };
    let listed = spokes
        .iter()
        .any(|s| s.account == *account && s.regions.iter().any(|r| r == region));
    if own_account == Some(*account) || listed {
        return Admission::Admitted;
    }
    match org {
        Some(org) if org.takes(account) && org.regions.iter().any(|r| r == region) => {
            Admission::IfMember((*account).to_owned())
        }
        _ => Admission::Refused,
    }
}

/// Whether a notification published to `topic_arn` may be read: with no spokes listed, any; else
/// a topic of the hub's own account (`own_account`), or of a listed spoke's account in one of its
/// Regions. A hub's ingest function may be invoked by any topic of the spokes' name (a resource
/// policy cannot tell a service's source organization), so the list is what keeps strangers out.
pub fn admits_topic(spokes: &[Spoke], own_account: Option<&str>, topic_arn: &str) -> bool {
    admission(spokes, None, own_account, topic_arn) == Admission::Admitted
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

    fn organization(text: &str) -> Organization {
        Config::from_toml(text)
            .unwrap()
            .spokes_from_organization
            .expect("the organisation's options")
    }

    #[test]
    fn the_organisations_accounts_are_read_in_its_regions_but_the_listed_excluded_and_own() {
        let config = Config::from_toml(
            r#"
            [[spokes]]
            account = "111122223333"
            regions = ["eu-west-1"]
            role = "arn:aws:iam::111122223333:role/team/reader"
            [spokes_from_organization]
            regions = ["eu-west-1", "us-east-1"]
            role = "org/cachewatch-reader"
            exclude = ["444455556666"]
            "#,
        )
        .unwrap();
        let org = config.spokes_from_organization.as_ref().unwrap();
        let accounts = [
            "999999999999",
            "111122223333",
            "444455556666",
            "777788889999",
            "777788889999",
        ]
        .map(str::to_owned);
        let read = discovered(
            org,
            &accounts,
            &config.spokes,
            Some(("999999999999", "eu-west-1")),
        );
        let pairs: Vec<(&str, &str)> = read
            .iter()
            .map(|s| (s.account.as_str(), s.region.as_str()))
            .collect();
        assert_eq!(
            pairs,
            [
                ("111122223333", "us-east-1"),
                ("777788889999", "eu-west-1"),
                ("777788889999", "us-east-1"),
                ("999999999999", "us-east-1"),
            ]
        );
        assert_eq!(
            read[1].role,
            "arn:aws:iam::777788889999:role/org/cachewatch-reader"
        );
        let default = organization("[spokes_from_organization]\nregions = [\"eu-west-1\"]");
        assert_eq!(
            default.role_arn("777788889999"),
            "arn:aws:iam::777788889999:role/cachewatch-spoke-reader"
        );
    }

    #[test]
    fn organisation_topics_are_admitted_once_their_account_is_known_to_be_a_member() {
        let org = organization(
            "[spokes_from_organization]\nregions = [\"eu-west-1\"]\nexclude = [\"444455556666\"]",
        );
        let own = Some("999999999999");
        let of = |arn: &str| admission(&[], Some(&org), own, arn);
        assert_eq!(
            of("arn:aws:sns:eu-west-1:777788889999:cachewatch-spoke-events"),
            Admission::IfMember("777788889999".to_owned())
        );
        assert_eq!(
            of("arn:aws:sns:us-east-1:777788889999:cachewatch-spoke-events"),
            Admission::Refused,
            "a Region the organisation is not read in"
        );
        assert_eq!(
            of("arn:aws:sns:eu-west-1:444455556666:cachewatch-spoke-events"),
            Admission::Refused,
            "an excluded account"
        );
        assert_eq!(
            of("arn:aws:sns:us-east-1:999999999999:cachewatch"),
            Admission::Admitted
        );
        assert_eq!(of("not an arn"), Admission::Refused);
        assert_eq!(
            admission(&[], None, own, "arn:aws:sns:eu-west-1:444455556666:x"),
            Admission::Admitted,
            "neither spokes nor an organisation: any topic"
        );
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
            (
                "[spokes_from_organization]\nregions = []",
                "spokes_from_organization: lists no regions",
            ),
            (
                "[spokes_from_organization]\nregions = [\"Ireland\"]",
                "not a Region code",
            ),
            (
                "[spokes_from_organization]\nregions = [\"eu-west-1\"]\nexclude = [\"12\"]",
                "exclude: \"12\" is not an account id",
            ),
            (
                "[spokes_from_organization]\nregions = [\"eu-west-1\"]\nrole = \"arn:aws:iam::1:role/x\"",
                "is not a role name",
            ),
            (
                "[spokes_from_organization]\nregions = [\"eu-west-1\"]\nexternal_id = \"x\"",
                "unknown field",
            ),
        ] {
            let err = Config::from_toml(text).unwrap_err().to_string();
            assert!(err.contains(says), "{text}: {err}");
        }
    }
}
