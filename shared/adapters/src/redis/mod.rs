//! Redis (and Valkey, and ElastiCache for either): a small RESP2 client, plain or TLS, and the
//! availability probe built on it.
//!
//! The probe is what `cachewatch probe` runs and what a rehearsed failover runs beside itself:
//!
//! ```no_run
//! # async fn example() -> Result<(), Box<dyn std::error::Error>> {
//! use std::time::Duration;
//! use cachewatch_adapters::redis::{ProbeSettings, RedisTarget, probe};
//!
//! let target = RedisTarget::parse("rediss://:token@primary.example.cache.amazonaws.com:6379", false)?;
//! let mut settings = ProbeSettings::new(target);
//! settings.duration = Some(Duration::from_secs(300));
//! let summary = probe(&settings, std::future::pending(), |_status, _transition| {}).await?;
//! println!("longest unavailability: {} ms", summary.longest_gap_ms);
//! # Ok(()) }
//! ```
//!
//! The client is deliberately small: one command at a time on one connection, with `AUTH`,
//! `SELECT`, timeouts and reconnection, and nothing the probe does not use.

mod connection;
mod probe;
pub mod resp;
mod target;

pub use connection::{Connection, Connector, RedisError};
pub use probe::{ProbeError, ProbeSettings, probe};
pub use target::{BadRedisUrl, DEFAULT_PORT, RedisTarget};
