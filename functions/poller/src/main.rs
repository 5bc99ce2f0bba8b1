//! `cachewatch-poller`: the deployment from the environment, then each scheduled event through
//! [`cachewatch_poller::poll`].

use cachewatch_adapters::deployment::Deployment;
use lambda_runtime::{Error, LambdaEvent, service_fn};
use serde_json::Value;

#[tokio::main]
async fn main() -> Result<(), Error> {
    cachewatch_adapters::logging::init();
    let deployment = Deployment::from_env("cachewatch-poller").await?;
    let deployment = &deployment;
    lambda_runtime::run(service_fn(move |_: LambdaEvent<Value>| async move {
        cachewatch_poller::poll(deployment, chrono::Utc::now()).await
    }))
    .await
}
