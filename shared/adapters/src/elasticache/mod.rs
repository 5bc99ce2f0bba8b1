//! ElastiCache: what the account's clusters are, their events, their service updates.
