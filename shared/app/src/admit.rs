//! Which notifications a hub reads: a topic of its own account or of a listed spoke's is read at
//! once ([`admission`]); with `[spokes_from_organization]`, one of another account is read when
//! that account is among the organisation's accounts the poller last kept in the store. Those are
//! read once per process, and again only when a topic of an account not among them arrives (one
//! that joined since).

use std::collections::BTreeSet;
use std::sync::{Mutex, PoisonError};

use cachewatch_core::config::Config;
use cachewatch_core::config::spokes::{Admission, OrganizationStore, admission};
use cachewatch_core::history::store::StoreError;

/// What a process knows to admit topics: the hub's own account, and the organisation's accounts
/// as last read from the store. Built once (per cold start) and kept.
#[derive(Debug, Default)]
pub struct TopicGate {
    own_account: Option<String>,
    members: Mutex<Option<BTreeSet<String>>>,
}

impl TopicGate {
    /// The gate of a hub whose own account is `own_account` (`None` when it cannot tell).
    pub fn new(own_account: Option<String>) -> Self {
        Self {
            own_account,
            members: Mutex::default(),
        }
    }

    /// Whether a notification published to `topic` is read under `config`. Topics of the hub, of
    /// the listed spokes, and every topic without `[spokes_from_organization]`, cost no read.
    pub async fn admits<S: OrganizationStore>(
        &self,
        store: &S,
        config: &Config,
        topic: &str,
    ) -> Result<bool, StoreError> {
        let org = config.spokes_from_organization.as_ref();
        let account = match admission(&config.spokes, org, self.own_account.as_deref(), topic) {
            Admission::Admitted => return Ok(true),
            Admission::Refused => return Ok(false),
            Admission::IfMember(account) => account,
        };
        if self.knows(&account) {
            return Ok(true);
        }
        let kept = store.organization().await?;
        self.replace(kept.map(|k| k.accounts).unwrap_or_default());
        Ok(self.knows(&account))
    }

    fn knows(&self, account: &str) -> bool {
        self.members
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .as_ref()
            .is_some_and(|known| known.contains(account))
    }

    fn replace(&self, accounts: Vec<String>) {
        *self.members.lock().unwrap_or_else(PoisonError::into_inner) =
            Some(accounts.into_iter().collect());
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use cachewatch_core::config::spokes::OrganizationAccounts;
    use cachewatch_core::history::store::MemoryStore;
    use chrono::Utc;

    use super::*;

    /// The store's organisation, counting its reads.
    #[derive(Default)]
    struct Counted {
        store: MemoryStore,
        reads: AtomicUsize,
        fails: bool,
    }

    impl Counted {
        async fn keep(&self, accounts: &[&str]) {
            let listing = OrganizationAccounts {
                accounts: accounts.iter().map(|a| (*a).to_owned()).collect(),
                read_at: Utc::now(),
            };
            self.store.record_organization(&listing).await.unwrap();
        }

        fn reads(&self) -> usize {
            self.reads.load(Ordering::SeqCst)
        }
    }

    impl OrganizationStore for Counted {
        async fn record_organization(
            &self,
            accounts: &OrganizationAccounts,
        ) -> Result<(), StoreError> {
            self.store.record_organization(accounts).await
        }

        async fn organization(&self) -> Result<Option<OrganizationAccounts>, StoreError> {
            self.reads.fetch_add(1, Ordering::SeqCst);
            if self.fails {
                return Err(StoreError::Unavailable {
                    operation: "read organization",
                    source: "throttled".into(),
                });
            }
            self.store.organization().await
        }
    }

    const HUB: &str = "999999999999";

    fn config(text: &str) -> Config {
        Config::from_toml(text).unwrap()
    }

    fn organisation() -> Config {
        config(
            r#"
            [[spokes]]
            account = "111122223333"
            regions = ["eu-west-1"]
            [spokes_from_organization]
            regions = ["us-east-1"]
            exclude = ["444455556666"]
            "#,
        )
    }

    fn topic(region: &str, account: &str) -> String {
        format!("arn:aws:sns:{region}:{account}:cachewatch-spoke-events")
    }

    #[tokio::test]
    async fn without_spokes_every_topic_is_read_and_nothing_is_looked_up() {
        let store = Counted::default();
        let gate = TopicGate::new(Some(HUB.to_owned()));
        let admits = gate
            .admits(&store, &config(""), &topic("eu-west-1", "444455556666"))
            .await;
        assert!(admits.unwrap());
        assert_eq!(store.reads(), 0);
    }

    #[tokio::test]
    async fn the_hubs_and_the_listed_spokes_topics_are_read_without_a_lookup() {
        let store = Counted::default();
        let (gate, config) = (TopicGate::new(Some(HUB.to_owned())), organisation());
        for arn in [topic("us-east-1", HUB), topic("eu-west-1", "111122223333")] {
            assert!(gate.admits(&store, &config, &arn).await.unwrap(), "{arn}");
        }
        // Out of the organisation's Regions, or excluded: refused, still without a lookup.
        for arn in [
            topic("eu-west-1", "777788889999"),
            topic("us-east-1", "444455556666"),
            "not an arn".to_owned(),
        ] {
            assert!(!gate.admits(&store, &config, &arn).await.unwrap(), "{arn}");
        }
        assert_eq!(store.reads(), 0);
    }

    #[tokio::test]
    async fn the_organisations_accounts_are_read_once_and_again_for_an_unknown_one() {
        let store = Counted::default();
        store.keep(&["777788889999", "222233334444"]).await;
        let (gate, config) = (TopicGate::new(Some(HUB.to_owned())), organisation());
        let admits = |account: &'static str| {
            let (gate, store, config) = (&gate, &store, &config);
            async move {
                gate.admits(store, config, &topic("us-east-1", account))
                    .await
                    .unwrap()
            }
        };

        assert!(admits("777788889999").await);
        assert!(admits("222233334444").await);
        assert!(admits("777788889999").await);
        assert_eq!(store.reads(), 1, "the listing is read once");

        // A stranger's topic is refused, each time after a read (it may have joined since).
        assert!(!admits("555566667777").await);
        assert_eq!(store.reads(), 2);
        store
            .keep(&["777788889999", "222233334444", "555566667777"])
            .await;
        assert!(admits("555566667777").await, "an account that joined since");
        assert_eq!(store.reads(), 3);
        assert!(admits("222233334444").await);
        assert_eq!(store.reads(), 3);
    }

    #[tokio::test]
    async fn without_a_kept_listing_no_organisation_account_is_admitted() {
        let store = Counted::default();
        let gate = TopicGate::new(None);
        let arn = topic("us-east-1", "777788889999");
        assert!(!gate.admits(&store, &organisation(), &arn).await.unwrap());
        assert_eq!(store.reads(), 1);
    }

    #[tokio::test]
    async fn a_failed_read_is_the_stores_error_and_admits_nothing() {
        let store = Counted {
            fails: true,
            ..Counted::default()
        };
        let gate = TopicGate::new(Some(HUB.to_owned()));
        let err = gate
            .admits(&store, &organisation(), &topic("us-east-1", "777788889999"))
            .await
            .unwrap_err();
        assert!(err.is_retryable(), "{err:?}");
    }
}
