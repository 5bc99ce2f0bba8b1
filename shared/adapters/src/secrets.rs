//! Secrets from AWS Secrets Manager: one secret whose value is a JSON object of named secrets
//! (`SLACK_BOT_TOKEN`, `SLACK_WEBHOOK_URL`, `SLACK_SIGNING_SECRET`, `CACHEWATCH_LINK_SECRET`), read
//! once when a function starts. Values are held as [`SecretString`] and never logged.

use std::collections::BTreeMap;

use secrecy::{ExposeSecret, SecretString};

/// The named secrets of one Secrets Manager secret.
#[derive(Default)]
pub struct Secrets {
    values: BTreeMap<String, SecretString>,
}

impl std::fmt::Debug for Secrets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Which secrets there are is useful to see; their values never are.
        f.debug_struct("Secrets")
            .field("names", &self.values.keys().collect::<Vec<_>>())
            .finish()
    }
}

/// Why the secret could not be read.
#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    /// Secrets Manager refused or could not be reached.
    #[error("cannot read the secret {arn}")]
    Read {
        /// The secret.
        arn: String,
        /// Why.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// The secret's value is not a JSON object of strings.
    #[error(
        "the secret {arn} is not a JSON object of strings (like {{\"SLACK_BOT_TOKEN\": \"xoxb-…\"}})"
    )]
    NotAnObject {
        /// The secret.
        arn: String,
    },
}

impl Secrets {
    /// Reads the secret `arn`.
    pub async fn read(
        client: &aws_sdk_secretsmanager::Client,
        arn: &str,
    ) -> Result<Self, SecretError> {
        let answer = client
            .get_secret_value()
            .secret_id(arn)
            .send()
            .await
            .map_err(|e| SecretError::Read {
                arn: arn.to_owned(),
                source: Box::new(e),
            })?;
        let text = answer.secret_string().unwrap_or_default();
        Self::from_json(text).ok_or_else(|| SecretError::NotAnObject {
            arn: arn.to_owned(),
        })
    }

    /// Reads a JSON object of strings; `None` when it is not one.
    pub fn from_json(text: &str) -> Option<Self> {
        let map: BTreeMap<String, String> = serde_json::from_str(text).ok()?;
        Some(Self {
            values: map
                .into_iter()
                .filter(|(_, v)| !v.trim().is_empty())
                .map(|(k, v)| (k, SecretString::from(v)))
                .collect(),
        })
    }

    /// A named secret.
    pub fn get(&self, name: &str) -> Option<&SecretString> {
        self.values.get(name)
    }

    /// A lookup for settings that reads these secrets first, then `fallback` (the environment).
    pub fn lookup<'a>(
        &'a self,
        fallback: impl Fn(&str) -> Option<String> + 'a,
    ) -> impl Fn(&str) -> Option<String> + 'a {
        move |name| {
            self.values
                .get(name)
                .map(|v| v.expose_secret().to_owned())
                .or_else(|| fallback(name))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_secret_is_a_json_object_of_strings_and_never_shows_its_values() {
        let secrets = Secrets::from_json(
            r#"{"SLACK_BOT_TOKEN": "xoxb-very-secret", "SLACK_WEBHOOK_URL": ""}"#,
        )
        .unwrap();
        assert!(secrets.get("SLACK_BOT_TOKEN").is_some());
        assert!(
            secrets.get("SLACK_WEBHOOK_URL").is_none(),
            "an empty value is no value"
        );
        let shown = format!("{secrets:?}");
        assert!(
            shown.contains("SLACK_BOT_TOKEN") && !shown.contains("xoxb-very-secret"),
            "{shown}"
        );
        assert!(Secrets::from_json("[1, 2]").is_none());
        assert!(Secrets::from_json(r#"{"a": 1}"#).is_none());
    }

    #[test]
    fn secrets_come_before_the_environment() {
        let secrets = Secrets::from_json(r#"{"SLACK_BOT_TOKEN": "from-secret"}"#).unwrap();
        let lookup = secrets.lookup(|name| (name != "NOPE").then(|| format!("env-{name}")));
        assert_eq!(lookup("SLACK_BOT_TOKEN").as_deref(), Some("from-secret"));
        assert_eq!(
            lookup("SLACK_CHANNEL").as_deref(),
            Some("env-SLACK_CHANNEL")
        );
        assert_eq!(lookup("NOPE"), None);
    }
}
