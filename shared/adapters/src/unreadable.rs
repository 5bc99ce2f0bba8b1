//! Stored records that cannot be read back: each is skipped, logged, and kept in the store's
//! [`UnreadableLog`] for the door to report, so that one damaged record stops no read.

use cachewatch_core::history::store::{StoreError, Unreadable, UnreadableLog};

/// Turns a read's [`StoreError::Corrupt`] into `None`, noting the record under `key`; any other
/// error stays an error.
pub(crate) fn skip<T>(
    log: &UnreadableLog,
    read: Result<T, StoreError>,
    key: impl FnOnce() -> String,
) -> Result<Option<T>, StoreError> {
    match read {
        Ok(value) => Ok(Some(value)),
        Err(StoreError::Corrupt { what, detail }) => {
            note(log, what, key(), detail);
            Ok(None)
        }
        Err(other) => Err(other),
    }
}

/// Notes and logs a record that was skipped.
pub(crate) fn note(log: &UnreadableLog, what: &'static str, key: String, detail: String) {
    let unreadable = Unreadable { what, key, detail };
    tracing::warn!("{unreadable}");
    log.record(unreadable);
}
