//! The AWS configuration every AWS adapter starts from: the standard chain (environment, profiles,
//! SSO, the Lambda role), so that `AWS_REGION`, `AWS_PROFILE` and `AWS_ENDPOINT_URL` work the same
//! for the functions, the CLI on a laptop, and the tests against a local emulator.

use aws_config::{BehaviorVersion, SdkConfig};

/// Loads the AWS configuration from the environment, once per process.
pub async fn load() -> SdkConfig {
    aws_config::defaults(BehaviorVersion::latest()).load().await
}

/// The end of an AWS error's text: `: {code}: {message}`, with what the answer gave of either.
pub(crate) fn describe(code: &Option<String>, message: &Option<String>) -> String {
    match (code, message) {
        (Some(c), Some(m)) => format!(": {c}: {m}"),
        (Some(c), None) => format!(": {c}"),
        (None, Some(m)) => format!(": {m}"),
        (None, None) => String::new(),
    }
}

/// Whether AWS credentials are configured on this machine, without asking any service: the
/// standard variables (keys, a profile, web identity, container credentials) or a shared
/// credentials or config file. Commands that can work without AWS use it to decide whether to
/// look anything up.
pub fn credentials_configured() -> bool {
    let set = |name: &str| std::env::var_os(name).is_some_and(|v| !v.is_empty());
    if [
        "AWS_ACCESS_KEY_ID",
        "AWS_PROFILE",
        "AWS_WEB_IDENTITY_TOKEN_FILE",
        "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
        "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    ]
    .iter()
    .any(|name| set(name))
    {
        return true;
    }
    let file = |variable: &str, default: &str| {
        std::env::var_os(variable)
            .map(std::path::PathBuf::from)
            .or_else(|| dirs_home().map(|home| home.join(".aws").join(default)))
            .is_some_and(|path| path.is_file())
    };
    file("AWS_SHARED_CREDENTIALS_FILE", "credentials") || file("AWS_CONFIG_FILE", "config")
}

fn dirs_home() -> Option<std::path::PathBuf> {
    std::env::var_os("HOME").map(std::path::PathBuf::from)
}
