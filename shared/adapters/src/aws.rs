//! The AWS configuration every AWS adapter starts from: the standard chain (environment, profiles,
//! SSO, the Lambda role), so that `AWS_REGION`, `AWS_PROFILE` and `AWS_ENDPOINT_URL` work the same
//! for the functions, the CLI on a laptop, and the tests against a local emulator.

use aws_config::BehaviorVersion;
pub use aws_config::SdkConfig;

/// Loads the AWS configuration from the environment, once per process.
pub async fn load() -> SdkConfig {
    aws_config::defaults(BehaviorVersion::latest()).load().await
}

/// The account of the credentials `sdk` holds (STS GetCallerIdentity, within `bound`) and its
/// Region: where a lookup with these credentials reads. `None` when either is not known.
pub async fn caller_place(sdk: &SdkConfig, bound: std::time::Duration) -> Option<(String, String)> {
    let region = sdk.region()?.as_ref().to_owned();
    let sts = aws_sdk_sts::Client::new(sdk);
    let asked = tokio::time::timeout(bound, sts.get_caller_identity().send()).await;
    match asked {
        Ok(Ok(identity)) => Some((identity.account()?.to_owned(), region)),
        Ok(Err(e)) => {
            let e = aws_sdk_sts::error::DisplayErrorContext(&e);
            tracing::warn!(error = %e, "cannot tell the account of these credentials");
            None
        }
        Err(_) => {
            tracing::warn!("STS did not say the account of these credentials in time");
            None
        }
    }
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
