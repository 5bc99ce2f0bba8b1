//! Reading and writing more than one answer's worth: every page of a `Query` (until its
//! `LastEvaluatedKey` runs out, or the caller has enough), and batches whose `UnprocessedKeys` or
//! `UnprocessedItems` are sent again with a doubling backoff until none are left.

use std::collections::{BTreeSet, HashMap};
use std::future::{Future, poll_fn};
use std::pin::Pin;
use std::task::Poll;
use std::time::Duration;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::operation::query::builders::QueryFluentBuilder;
use aws_sdk_dynamodb::types::{KeysAndAttributes, WriteRequest};
use cachewatch_core::history::store::StoreError;

use super::error::{Unprocessed, sdk_error};
use super::items::{Item, key};

/// Keys per `BatchGetItem` (DynamoDB's limit).
pub(crate) const GET_BATCH: usize = 100;
/// Requests per `BatchWriteItem` (DynamoDB's limit).
const WRITE_BATCH: usize = 25;
/// How many times a batch is sent while DynamoDB leaves part of it unprocessed.
const BATCH_ATTEMPTS: u32 = 8;
/// The first wait before unprocessed keys or items are sent again.
const FIRST_BACKOFF: Duration = Duration::from_millis(25);

/// The pages of one `Query`, read one at a time.
pub(crate) struct Pages {
    request: QueryFluentBuilder,
    operation: &'static str,
    start: Option<Item>,
    done: bool,
}

impl Pages {
    /// The pages of `request` (which must not set `ExclusiveStartKey` itself).
    pub(crate) fn new(request: QueryFluentBuilder, operation: &'static str) -> Self {
        Self {
            request,
            operation,
            start: None,
            done: false,
        }
    }

    /// The next page's items, or `None` after the last page. A page may be empty and still not
    /// be the last (a filter left none of the items it read).
    pub(crate) async fn next(&mut self) -> Result<Option<Vec<Item>>, StoreError> {
        if self.done {
            return Ok(None);
        }
        let out = self
            .request
            .clone()
            .set_exclusive_start_key(self.start.take())
            .send()
            .await
            .map_err(|e| sdk_error(self.operation, e))?;
        self.start = out.last_evaluated_key.filter(|k| !k.is_empty());
        self.done = self.start.is_none();
        Ok(Some(out.items.unwrap_or_default()))
    }

    /// Every item of every page.
    pub(crate) async fn all(mut self) -> Result<Vec<Item>, StoreError> {
        let mut items = Vec::new();
        while let Some(page) = self.next().await? {
            items.extend(page);
        }
        Ok(items)
    }
}

/// Runs `futures` concurrently; their outputs in the same order.
pub(crate) async fn all_of<F: Future>(futures: Vec<F>) -> Vec<F::Output> {
    let mut running: Vec<Pin<Box<F>>> = futures.into_iter().map(Box::pin).collect();
    let mut outputs: Vec<Option<F::Output>> = running.iter().map(|_| None).collect();
    poll_fn(|cx| {
        for (future, output) in running.iter_mut().zip(outputs.iter_mut()) {
            if output.is_none()
                && let Poll::Ready(done) = future.as_mut().poll(cx)
            {
                *output = Some(done);
            }
        }
        if outputs.iter().all(Option::is_some) {
            Poll::Ready(())
        } else {
            Poll::Pending
        }
    })
    .await;
    outputs.into_iter().flatten().collect()
}

/// The attempts at one batch: each after the first waits twice as long as the one before, and
/// what is left unprocessed after [`BATCH_ATTEMPTS`] attempts is an error.
struct Attempts {
    operation: &'static str,
    made: u32,
}

impl Attempts {
    fn new(operation: &'static str) -> Self {
        Self { operation, made: 0 }
    }

    /// Waits before an attempt that is not the first, and counts it.
    async fn next(&mut self) {
        if self.made > 0 {
            tokio::time::sleep(FIRST_BACKOFF * 2u32.saturating_pow(self.made - 1)).await;
        }
        self.made += 1;
    }

    /// After an attempt that left `count` keys or items unprocessed: whether they may be sent
    /// again.
    fn left(&self, count: usize) -> Result<(), StoreError> {
        if self.made >= BATCH_ATTEMPTS {
            return Err(StoreError::Unavailable {
                operation: self.operation,
                source: Box::new(Unprocessed {
                    count,
                    attempts: self.made,
                }),
            });
        }
        Ok(())
    }
}

/// The items stored under `keys` (partition and sort key values), read consistently, keyed by
/// them. Keys named twice are read once; keys with no item are left out.
pub(crate) async fn batch_get(
    client: &Client,
    table: &str,
    keys: impl IntoIterator<Item = (String, String)>,
    operation: &'static str,
) -> Result<HashMap<(String, String), Item>, StoreError> {
    let keys: Vec<(String, String)> = keys
        .into_iter()
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let mut found = HashMap::with_capacity(keys.len());
    for chunk in keys.chunks(GET_BATCH) {
        let request = KeysAndAttributes::builder()
            .set_keys(Some(
                chunk
                    .iter()
                    .map(|(pk, sk)| key(pk.as_str(), sk.as_str()))
                    .collect(),
            ))
            .consistent_read(true)
            .build()
            .map_err(|e| StoreError::Failed {
                operation,
                source: Box::new(e),
            })?;
        let mut pending = Some(HashMap::from([(table.to_owned(), request)]));
        let mut attempts = Attempts::new(operation);
        while let Some(request_items) = pending.take() {
            attempts.next().await;
            let out = client
                .batch_get_item()
                .set_request_items(Some(request_items))
                .send()
                .await
                .map_err(|e| sdk_error(operation, e))?;
            for item in out.responses.unwrap_or_default().into_values().flatten() {
                if let Some((pk, sk)) = super::items::key_of(&item) {
                    found.insert((pk.to_owned(), sk.to_owned()), item);
                }
            }
            let left = out
                .unprocessed_keys
                .filter(|u| u.values().any(|k| !k.keys().is_empty()));
            if let Some(left) = left {
                attempts.left(left.values().map(|k| k.keys().len()).sum())?;
                pending = Some(left);
            }
        }
    }
    Ok(found)
}

/// Writes `requests` (puts and deletes of distinct items) in batches.
pub(crate) async fn batch_write(
    client: &Client,
    table: &str,
    requests: Vec<WriteRequest>,
    operation: &'static str,
) -> Result<(), StoreError> {
    for chunk in requests.chunks(WRITE_BATCH) {
        let mut pending = Some(HashMap::from([(table.to_owned(), chunk.to_vec())]));
        let mut attempts = Attempts::new(operation);
        while let Some(request_items) = pending.take() {
            attempts.next().await;
            let out = client
                .batch_write_item()
                .set_request_items(Some(request_items))
                .send()
                .await
                .map_err(|e| sdk_error(operation, e))?;
            let left = out
                .unprocessed_items
                .filter(|u| u.values().any(|w| !w.is_empty()));
            if let Some(left) = left {
                attempts.left(left.values().map(Vec::len).sum())?;
                pending = Some(left);
            }
        }
    }
    Ok(())
}
