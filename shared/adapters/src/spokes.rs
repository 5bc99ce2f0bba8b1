//! A hub's reads of its spokes: each account and Region of `[[spokes]]`, through the spoke's
//! read-only role (`infra/spoke.yaml`), a few at a time. One spoke that cannot be read is reported
//! with why; the others are read all the same.

use std::sync::Arc;

use aws_config::SdkConfig;
use aws_config::sts::AssumeRoleProvider;
use aws_sdk_elasticache::config::{ProvideCredentials, Region, SharedCredentialsProvider};
use cachewatch_core::config::spokes::SpokeRegion;
use chrono::{DateTime, Utc};
use tokio::sync::Semaphore;

use crate::dynamo::paging::all_of;
use crate::elasticache::{Backfill, EventQuery};
use crate::placed_facts::PlacedFacts;

/// What one account and Region gave.
#[derive(Debug)]
pub struct SpokeRead {
    /// The account and Region read.
    pub spoke: SpokeRegion,
    /// Its events (each stamped with the account and Region), or why they could not be read.
    pub read: Result<Backfill, String>,
}

/// The credentials of `spoke`'s role, assumed from `base`'s as session `session` (the name its
/// calls show under in the spoke's CloudTrail), presenting `external_id`. Nothing is asked until
/// credentials are.
pub async fn role_of(
    base: &SdkConfig,
    spoke: &SpokeRegion,
    external_id: Option<&str>,
    session: &str,
) -> AssumeRoleProvider {
    let mut role = AssumeRoleProvider::builder(spoke.role.clone())
        .session_name(session)
        .region(Region::new(spoke.region.clone()))
        .configure(base);
    if let Some(id) = external_id {
        role = role.external_id(id);
    }
    role.build().await
}

/// `base` in `region`, with `credentials`.
pub fn config_in(
    base: &SdkConfig,
    region: &str,
    credentials: impl ProvideCredentials + 'static,
) -> SdkConfig {
    base.to_builder()
        .region(Region::new(region.to_owned()))
        .credentials_provider(SharedCredentialsProvider::new(credentials))
        .build()
}

/// Reads `query` in every spoke, at most `at_once` at a time, at `now`, each through the spoke's
/// ElastiCache that `readers` keeps (its role assumed once while the process lives, its
/// credentials renewed as they expire); the reads in the order of `spokes`.
pub async fn read_spokes(
    readers: &PlacedFacts,
    spokes: &[SpokeRegion],
    query: &EventQuery,
    now: DateTime<Utc>,
    at_once: usize,
) -> Vec<SpokeRead> {
    let permits = Arc::new(Semaphore::new(at_once.max(1)));
    let reads = spokes
        .iter()
        .map(|spoke| {
            let permits = Arc::clone(&permits);
            async move {
                let _permit = permits.acquire().await;
                SpokeRead {
                    spoke: spoke.clone(),
                    read: read_one(readers, spoke, query, now).await,
                }
            }
        })
        .collect();
    all_of(reads).await
}

/// One spoke's events, stamped with where they were read.
async fn read_one(
    readers: &PlacedFacts,
    spoke: &SpokeRegion,
    query: &EventQuery,
    now: DateTime<Utc>,
) -> Result<Backfill, String> {
    let elasticache = readers.spoke_elasticache(spoke).await?;
    let mut backfill = elasticache
        .backfill(query, now, &mut |_| {})
        .await
        .map_err(|e| {
            let source =
                std::error::Error::source(&e).map_or_else(String::new, |s| format!(": {s}"));
            format!("{e}{source}")
        })?;
    for e in &mut backfill.events {
        e.stamp_place(&spoke.account, &spoke.region);
    }
    Ok(backfill)
}

/// The most accounts ListAccounts gives in one page.
pub const ACCOUNTS_PER_PAGE: i32 = 20;

/// The ACTIVE accounts of the organisation, sorted: every page of AWS Organizations'
/// ListAccounts, `page_size` accounts a page, asked with `base`'s credentials (the hub runs in
/// the management account or a delegated administrator's, the only ones that may call it). An
/// account's `State` says whether it is active; an answer without one is read by its older
/// `Status`.
pub async fn organization_accounts(
    base: &SdkConfig,
    page_size: i32,
) -> Result<Vec<String>, String> {
    use aws_sdk_organizations::types::{AccountState, AccountStatus};
    let client = aws_sdk_organizations::Client::new(base);
    let mut pages = client
        .list_accounts()
        .max_results(page_size.clamp(1, ACCOUNTS_PER_PAGE))
        .into_paginator()
        .send();
    let mut active = Vec::new();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| {
            let e = aws_sdk_organizations::error::DisplayErrorContext(e);
            format!("AWS Organizations' ListAccounts failed: {e}")
        })?;
        for account in page.accounts() {
            let is_active = match account.state() {
                Some(state) => *state == AccountState::Active,
                None => account.status() == Some(&AccountStatus::Active),
            };
            if let (true, Some(id)) = (is_active, account.id()) {
                active.push(id.to_owned());
            }
        }
    }
    active.sort();
    active.dedup();
    Ok(active)
}
