//! What the account runs: service updates waiting to be applied, and which clusters send their
//! events to cachewatch.
