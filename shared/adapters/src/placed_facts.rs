//! Facts read where the event happened. ElastiCache names a cluster within its account and
//! Region, so the facts (and the tags routes and mutes read) of an event are asked of the
//! ElastiCache of the event's account and Region:
//!
//! | the event's account and Region | read |
//! |---|---|
//! | the stack's own (or the event names neither; or the stack has no spokes) | with the stack's own credentials, as ever |
//! | a spoke's: listed in `[[spokes]]`, or an account of `[spokes_from_organization]` in one of its Regions (the ingest function admits its notices only when it is one of the organisation's) | through the spoke's reader role (`infra/spoke.yaml`), in its Region: the role is assumed at the first event, and the client (with its cache of facts) kept while the process lives |
//! | any other | nowhere: the facts are not known, and `unavailable` says why |
//!
//! The `cachewatch` command ([`PlacedFacts::for_caller`]) takes the caller's account and Region
//! (STS GetCallerIdentity, once) for the stack's own, and reads nowhere an event of any other
//! account or Region even without spokes.
//!
//! A role that cannot be assumed leaves the facts not known, with what STS said; it is tried
//! again after [`FAILED_LOOKUP_TTL`], so that a burst of events waits once.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Instant;

use aws_config::SdkConfig;
use aws_sdk_elasticache::config::ProvideCredentials;
use aws_sdk_elasticache::error::DisplayErrorContext;
use cachewatch_core::cluster::facts::ClusterFacts;
use cachewatch_core::cluster::source::FactsSource;
use cachewatch_core::config::Config;
use cachewatch_core::config::spokes::{Organization, Spoke, SpokeRegion};
use cachewatch_core::{Maintenance, MaintenanceEvent};

use crate::elasticache::{ElastiCache, FAILED_LOOKUP_TTL};
use crate::spokes::{config_in, role_of};

/// Where the facts of an event are read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// With the stack's own credentials, in its own Region.
    Own,
    /// Through a spoke's role, in the spoke's Region.
    Spoke(SpokeRegion),
    /// Nowhere; why.
    Nowhere(String),
}

/// Where the facts of an event of `account` in `region` are read, for a stack whose own account
/// and Region are `own` (when known), with `spokes` and `org` (see the module's documentation).
pub fn source_of(
    account: Option<&str>,
    region: Option<&str>,
    own: Option<(&str, &str)>,
    spokes: &[Spoke],
    org: Option<&Organization>,
) -> Source {
    if spokes.is_empty() && org.is_none() {
        return Source::Own;
    }
    let (own_account, own_region) = (own.map(|o| o.0), own.map(|o| o.1));
    let (Some(account), Some(region)) = (account, region) else {
        return match (account, region) {
            (Some(a), None) if own_account != Some(a) => Source::Nowhere(format!(
                "the event names account {a} but no Region, and is not of this stack's account"
            )),
            (None, Some(r)) if own_region.is_some_and(|o| o != r) => Source::Nowhere(format!(
                "the event names Region {r} but no account, and this stack reads ElastiCache in {} only",
                own_region.unwrap_or_default()
            )),
            _ => Source::Own,
        };
    };
    if own == Some((account, region)) {
        return Source::Own;
    }
    let listed = spokes
        .iter()
        .find(|s| s.account == account && s.regions.iter().any(|r| r == region));
    if let Some(spoke) = listed {
        return Source::Spoke(SpokeRegion {
            account: account.to_owned(),
            region: region.to_owned(),
            role: spoke.role_arn(),
        });
    }
    match org {
        Some(org)
            if !org.exclude.iter().any(|a| a == account)
                && org.regions.iter().any(|r| r == region) =>
        {
            Source::Spoke(SpokeRegion {
                account: account.to_owned(),
                region: region.to_owned(),
                role: org.role_arn(account),
            })
        }
        _ => Source::Nowhere(format!(
            "account {account} in {region} is neither this stack's own nor a spoke's \
             ([[spokes]], [spokes_from_organization]), so its clusters are not looked up"
        )),
    }
}

/// The account and Region the own credentials read in.
#[derive(Debug)]
enum Own {
    /// A stack's: known from its topic (or not at all).
    Stack(Option<(String, String)>),
    /// The caller's (the `cachewatch` command's): asked of STS at the first lookup.
    Caller(tokio::sync::OnceCell<Option<(String, String)>>),
}

/// A spoke's ElastiCache, or why its role could not be assumed (and until when that stands).
#[derive(Debug, Clone)]
enum Reader {
    Ready(Arc<ElastiCache>),
    Refused { why: String, until: Instant },
}

/// The [`FactsSource`] of a stack: the facts of each event read where it happened (see the
/// module's documentation).
#[derive(Debug)]
pub struct PlacedFacts {
    own_elasticache: ElastiCache,
    own: Own,
    spokes: Vec<Spoke>,
    organization: Option<Organization>,
    base: SdkConfig,
    external_id: Option<String>,
    session: String,
    readers: Mutex<HashMap<(String, String), Reader>>,
}

impl PlacedFacts {
    /// Facts read by `own_elasticache` for the stack's own account and Region (`own`, when
    /// known), and through the roles of `config`'s spokes, assumed from `base`'s credentials as
    /// session `session`, presenting `external_id`.
    pub fn new(
        own_elasticache: ElastiCache,
        own: Option<(String, String)>,
        config: &Config,
        base: &SdkConfig,
        external_id: Option<String>,
        session: &str,
    ) -> Self {
        Self {
            own_elasticache,
            own: Own::Stack(own),
            spokes: config.spokes.clone(),
            organization: config.spokes_from_organization.clone(),
            base: base.clone(),
            external_id,
            session: session.to_owned(),
            readers: Mutex::new(HashMap::new()),
        }
    }

    /// The facts the `cachewatch` command reads: with the caller's credentials for the events of
    /// the caller's account and Region (asked of STS at the first lookup) or that name neither,
    /// through the spokes' roles for theirs (when the caller may assume them), and nowhere for
    /// any other, even without spokes: a cluster of the same name where the caller reads never
    /// lends another account's cluster its facts.
    pub fn for_caller(own_elasticache: ElastiCache, config: &Config, base: &SdkConfig) -> Self {
        let external_id = std::env::var("CACHEWATCH_SPOKE_EXTERNAL_ID")
            .ok()
            .filter(|id| !id.trim().is_empty());
        Self {
            own: Own::Caller(tokio::sync::OnceCell::new()),
            ..Self::new(
                own_elasticache,
                None,
                config,
                base,
                external_id,
                "cachewatch-cli",
            )
        }
    }

    /// The account and Region the own credentials read in, when known.
    async fn own(&self) -> Option<(&str, &str)> {
        let own = match &self.own {
            Own::Stack(own) => own,
            Own::Caller(cell) => {
                let bound = self.own_elasticache.lookup_timeout();
                cell.get_or_init(|| crate::aws::caller_place(&self.base, bound))
                    .await
            }
        };
        own.as_ref().map(|(a, r)| (a.as_str(), r.as_str()))
    }

    /// Where the facts of `event` are read.
    pub async fn source(&self, event: &MaintenanceEvent) -> Source {
        let (account, region) = (event.account_id.as_deref(), event.region.as_deref());
        let own = self.own().await;
        if let (Own::Caller(_), Some((own_account, own_region))) = (&self.own, own) {
            let elsewhere = account.is_some_and(|a| a != own_account)
                || region.is_some_and(|r| r != own_region);
            if elsewhere && self.spokes.is_empty() && self.organization.is_none() {
                return Source::Nowhere(format!(
                    "account {} in {} is not where these credentials read (account \
                     {own_account} in {own_region}), so its clusters are not looked up",
                    account.unwrap_or("not named"),
                    region.unwrap_or("a Region not named"),
                ));
            }
        }
        source_of(
            account,
            region,
            own,
            &self.spokes,
            self.organization.as_ref(),
        )
    }

    fn readers(&self) -> std::sync::MutexGuard<'_, HashMap<(String, String), Reader>> {
        self.readers.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The ElastiCache of `spoke`, made once while the process lives (its role assumed at the
    /// first call, its credentials renewed as they expire), shared by the facts of its events and
    /// the poller's reads of its events; or why its role cannot be assumed.
    pub async fn spoke_elasticache(&self, spoke: &SpokeRegion) -> Result<Arc<ElastiCache>, String> {
        self.reader(spoke).await
    }

    /// The ElastiCache of `spoke`, made once; or why its role cannot be assumed.
    async fn reader(&self, spoke: &SpokeRegion) -> Result<Arc<ElastiCache>, String> {
        let key = (spoke.account.clone(), spoke.region.clone());
        match self.readers().get(&key) {
            Some(Reader::Ready(elasticache)) => return Ok(Arc::clone(elasticache)),
            Some(Reader::Refused { why, until }) if *until > Instant::now() => {
                return Err(why.clone());
            }
            _ => {}
        }
        let reader = self.assume(spoke).await;
        self.readers().insert(key, reader.clone());
        match reader {
            Reader::Ready(elasticache) => Ok(elasticache),
            Reader::Refused { why, .. } => Err(why),
        }
    }

    /// Assumes `spoke`'s role once, within the lookup's time bound, so that a role that cannot
    /// be assumed is said as such.
    async fn assume(&self, spoke: &SpokeRegion) -> Reader {
        let role = role_of(
            &self.base,
            spoke,
            self.external_id.as_deref(),
            &self.session,
        )
        .await;
        let bound = self.own_elasticache.lookup_timeout();
        let why = match tokio::time::timeout(bound, role.provide_credentials()).await {
            Ok(Ok(_)) => {
                let config = config_in(&self.base, &spoke.region, role);
                return Reader::Ready(Arc::new(self.own_elasticache.alike(&config)));
            }
            Ok(Err(e)) => format!(
                "role {} of account {} could not be assumed: {}",
                spoke.role,
                spoke.account,
                DisplayErrorContext(&e)
            ),
            Err(_) => format!(
                "role {} of account {} was not assumed within {} ms",
                spoke.role,
                spoke.account,
                bound.as_millis()
            ),
        };
        tracing::warn!(account = %spoke.account, region = %spoke.region, error = %why, "a spoke's facts cannot be read");
        Reader::Refused {
            why,
            until: Instant::now() + FAILED_LOOKUP_TTL,
        }
    }
}

impl FactsSource for PlacedFacts {
    async fn facts_for(
        &self,
        event: &MaintenanceEvent,
        maintenance: Option<&Maintenance>,
    ) -> ClusterFacts {
        let spoke = match self.source(event).await {
            Source::Own => return self.own_elasticache.facts_for(event, maintenance).await,
            Source::Nowhere(why) => {
                return ClusterFacts {
                    unavailable: Some(why),
                    ..ClusterFacts::default()
                };
            }
            Source::Spoke(spoke) => spoke,
        };
        let place = format!("account {} in {}", spoke.account, spoke.region);
        match self.reader(&spoke).await {
            Ok(elasticache) => {
                let mut facts = elasticache.facts_for(event, maintenance).await;
                facts.unavailable = facts.unavailable.map(|why| format!("{place}: {why}"));
                facts
            }
            Err(why) => ClusterFacts {
                unavailable: Some(format!("{place}: {why}")),
                ..ClusterFacts::default()
            },
        }
    }

    fn looks_up(&self) -> bool {
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const OWN: Option<(&str, &str)> = Some(("999999999999", "eu-west-1"));

    fn config() -> Config {
        Config::from_toml(
            r#"
            [[spokes]]
            account = "111111111111"
            regions = ["us-east-1"]
            role = "arn:aws:iam::111111111111:role/team/reader"
            [spokes_from_organization]
            regions = ["eu-west-1"]
            exclude = ["444444444444"]
            "#,
        )
        .unwrap()
    }

    fn from(account: Option<&str>, region: Option<&str>) -> Source {
        let config = config();
        source_of(
            account,
            region,
            OWN,
            &config.spokes,
            config.spokes_from_organization.as_ref(),
        )
    }

    fn spoke(account: &str, region: &str, role: &str) -> Source {
        Source::Spoke(SpokeRegion {
            account: account.into(),
            region: region.into(),
            role: role.into(),
        })
    }

    #[test]
    fn the_stacks_own_events_and_those_that_name_no_place_are_read_with_its_own_credentials() {
        assert_eq!(from(Some("999999999999"), Some("eu-west-1")), Source::Own);
        assert_eq!(from(None, None), Source::Own);
        assert_eq!(from(Some("999999999999"), None), Source::Own);
        assert_eq!(from(None, Some("eu-west-1")), Source::Own);
    }

    #[test]
    fn a_spokes_events_are_read_through_its_role_in_its_region() {
        assert_eq!(
            from(Some("111111111111"), Some("us-east-1")),
            spoke(
                "111111111111",
                "us-east-1",
                "arn:aws:iam::111111111111:role/team/reader"
            )
        );
        assert_eq!(
            from(Some("222222222222"), Some("eu-west-1")),
            spoke(
                "222222222222",
                "eu-west-1",
                "arn:aws:iam::222222222222:role/cachewatch-spoke-reader"
            ),
            "an account of the organisation, in one of its Regions"
        );
        assert_eq!(
            from(Some("999999999999"), Some("eu-west-1")),
            Source::Own,
            "the stack's own account and Region is never read through a role"
        );
    }

    #[test]
    fn any_other_place_is_read_nowhere_and_says_why() {
        for (account, region) in [
            (Some("111111111111"), Some("eu-central-1")),
            (Some("444444444444"), Some("eu-west-1")),
            (Some("333333333333"), Some("us-east-1")),
            (Some("999999999999"), Some("us-east-1")),
            (Some("111111111111"), None),
            (None, Some("us-east-1")),
        ] {
            let Source::Nowhere(why) = from(account, region) else {
                panic!("{account:?} {region:?} must not be read");
            };
            let named = account.or(region).unwrap();
            assert!(why.contains(named), "{why}");
        }
    }

    #[test]
    fn a_stack_without_spokes_reads_every_event_with_its_own_credentials() {
        let own = source_of(Some("333333333333"), Some("us-east-1"), OWN, &[], None);
        assert_eq!(own, Source::Own);
        assert_eq!(
            source_of(Some("333333333333"), Some("us-east-1"), None, &[], None),
            Source::Own
        );
    }

    #[test]
    fn without_its_own_place_a_stack_with_spokes_reads_only_the_spokes_and_the_unplaced() {
        let config = config();
        let of = |account, region| {
            source_of(
                account,
                region,
                None,
                &config.spokes,
                config.spokes_from_organization.as_ref(),
            )
        };
        assert_eq!(of(None, None), Source::Own);
        assert!(matches!(
            of(Some("111111111111"), Some("us-east-1")),
            Source::Spoke(_)
        ));
        assert!(matches!(
            of(Some("999999999999"), Some("us-east-1")),
            Source::Nowhere(_)
        ));
    }
}
