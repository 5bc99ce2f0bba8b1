//! `cachewatch-ingest`: the deployment from the environment, then each SNS event and each AWS
//! Health event from EventBridge through [`cachewatch_ingest::handle`].
// The ingest future (store, lifecycle, alert run) nests deeper than the default limit allows.
#![recursion_limit = "256"]

use cachewatch_adapters::deployment::Deployment;
use cachewatch_app::admit::TopicGate;
use cachewatch_ingest::{Deps, handle};
use lambda_runtime::{Error, LambdaEvent, service_fn};
use serde_json::Value;

#[tokio::main]
async fn main() -> Result<(), Error> {
    cachewatch_adapters::logging::init();
    let deployment = Deployment::from_env("cachewatch-ingest").await?;
    let own_account = deployment.own_place().map(|(account, _)| account);
    let deps = Deps {
        store: deployment.store,
        chat: deployment.chat,
        facts: deployment.facts,
        runbooks: deployment.runbooks,
        config: deployment.config,
        notify: deployment.notify,
        gate: TopicGate::new(own_account),
    };
    let deps = &deps;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| async move {
        handle(deps, event.payload, chrono::Utc::now()).await
    }))
    .await
}
