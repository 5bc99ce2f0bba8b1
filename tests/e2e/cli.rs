//! The `cachewatch` binary end to end on a temporary database.
