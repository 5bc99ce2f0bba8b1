//! [`OrganizationStore`] on the table: the organisation's ACTIVE accounts as the poller last
//! listed them, one item that each listing replaces.
//!
//! | item | `PK` | `SK` |
//! |---|---|---|
//! | the organisation's accounts | `O#organization` | `O` |

use cachewatch_core::config::spokes::{OrganizationAccounts, OrganizationStore};
use cachewatch_core::history::store::StoreError;

use super::DynamoStore;
use super::error::sdk_error;
use super::items::{JSON, key, s, string};

const PK: &str = "O#organization";
const SK: &str = "O";

impl OrganizationStore for DynamoStore {
    async fn record_organization(&self, accounts: &OrganizationAccounts) -> Result<(), StoreError> {
        let json = serde_json::to_string(accounts).map_err(|e| StoreError::Failed {
            operation: "encode the organisation's accounts",
            source: Box::new(e),
        })?;
        let mut item = key(PK, SK);
        item.insert(JSON.to_owned(), s(json));
        self.put(item, "record the organisation's accounts").await
    }

    async fn organization(&self) -> Result<Option<OrganizationAccounts>, StoreError> {
        let answer = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(key(PK, SK)))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| sdk_error("read the organisation's accounts", e))?;
        answer
            .item()
            .map(|item| {
                serde_json::from_str(string(item, JSON).unwrap_or_default()).map_err(|e| {
                    StoreError::Corrupt {
                        what: "the organisation's accounts",
                        detail: e.to_string(),
                    }
                })
            })
            .transpose()
    }
}
