//! The AWS configuration every AWS adapter starts from: the standard chain (environment, profiles,
//! SSO, the Lambda role), so that `AWS_REGION`, `AWS_PROFILE` and `AWS_ENDPOINT_URL` work the same
//! for the functions, the CLI on a laptop, and the tests against a local emulator.

use aws_config::{BehaviorVersion, SdkConfig};

/// Loads the AWS configuration from the environment, once per process.
pub async fn load() -> SdkConfig {
    aws_config::defaults(BehaviorVersion::latest()).load().await
}
