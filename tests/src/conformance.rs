//! The same cases against every store.
