//! `cachewatch-api`: the deployment from the environment, then each Function URL request through
//! [`cachewatch_api::Api`].

use cachewatch_adapters::deployment::Deployment;
use cachewatch_api::Api;
use lambda_http::{Error, Request, service_fn};

#[tokio::main]
async fn main() -> Result<(), Error> {
    cachewatch_adapters::logging::init();
    let deployment = Deployment::from_env("cachewatch-api").await?;
    let api = Api::from_deployment(deployment, |name| std::env::var(name).ok())?;
    let api = &api;
    lambda_http::run(service_fn(move |request: Request| async move {
        api.handle(request).await
    }))
    .await
}
