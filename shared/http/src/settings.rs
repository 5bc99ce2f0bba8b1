//! What the door needs to know from its host, read once at start-up from environment-like
//! variables (the host passes its lookup; this crate never reads the environment itself).
//!
//! | variable | what | default |
//! |---|---|---|
//! | `SLACK_SIGNING_SECRET` | the Slack app's signing secret: Slack's requests must be signed with it | none: Slack's routes answer 401 |
//! | `CACHEWATCH_LINK_SECRET` | signs the links to the pages and the API (at least 32 characters) | none |
//! | `CACHEWATCH_LINK_TTL` | how long a signed link holds (`30d`, `12h`) | `30d` |
//! | `CACHEWATCH_PUBLIC_PAGES` | `true`: the pages and the API need no signed link (`cachewatch serve` on loopback) | `false` |
//! | `CACHEWATCH_TOPIC_ARNS` | the SNS topics `/sns` accepts, separated by commas or spaces | none: `/sns` refuses every message |
//! | `CACHEWATCH_BASE_URL` | where the door is reached, for the links it writes | none: links are paths |
//! | `CACHEWATCH_TZ` | the zone of times written as text | UTC |
//! | `CACHEWATCH_BODY_LIMIT` | the largest request body, in bytes | 524288 |
//!
//! Pages are not public unless said so: without `CACHEWATCH_PUBLIC_PAGES=true`, a link secret is
//! required and its absence stops the start-up.

use cachewatch_core::links::{self, LinkSettingsError, LinkSigner};
use cachewatch_core::model::timefmt::{BadZone, Zone};
use secrecy::SecretString;

/// `SLACK_SIGNING_SECRET`.
pub const SIGNING_SECRET_VAR: &str = "SLACK_SIGNING_SECRET";
/// `CACHEWATCH_LINK_SECRET`.
pub const LINK_SECRET_VAR: &str = links::SECRET_VAR;
/// `CACHEWATCH_LINK_TTL`.
pub const LINK_TTL_VAR: &str = links::TTL_VAR;
/// `CACHEWATCH_PUBLIC_PAGES`.
pub const PUBLIC_PAGES_VAR: &str = "CACHEWATCH_PUBLIC_PAGES";
/// `CACHEWATCH_TOPIC_ARNS`.
pub const TOPIC_ARNS_VAR: &str = "CACHEWATCH_TOPIC_ARNS";
/// `CACHEWATCH_BASE_URL`.
pub const BASE_URL_VAR: &str = "CACHEWATCH_BASE_URL";
/// `CACHEWATCH_TZ`.
pub const ZONE_VAR: &str = "CACHEWATCH_TZ";
/// `CACHEWATCH_BODY_LIMIT`.
pub const BODY_LIMIT_VAR: &str = "CACHEWATCH_BODY_LIMIT";

/// The largest request body unless `CACHEWATCH_BODY_LIMIT` says otherwise: an SNS message is at
/// most 256 KiB, escaped once more in its envelope; Slack's interaction payloads are far smaller.
pub const DEFAULT_BODY_LIMIT: usize = 512 * 1024;
/// The smallest body limit accepted.
pub const MIN_BODY_LIMIT: usize = 16 * 1024;
/// The largest body limit accepted.
pub const MAX_BODY_LIMIT: usize = 8 * 1024 * 1024;

/// How the door checks and writes what crosses it.
#[derive(Debug, Clone)]
pub struct HttpSettings {
    /// The Slack app's signing secret; without it every request to a Slack route is refused.
    pub signing_secret: Option<SecretString>,
    /// Signs links to the pages and the API (and checks them).
    pub links: Option<LinkSigner>,
    /// Whether the pages and the API need a signed link. Only a door nobody else can reach
    /// (`cachewatch serve` on loopback) should say `false`.
    pub links_required: bool,
    /// The SNS topics whose messages `/sns` accepts.
    pub topic_arns: Vec<String>,
    /// Where the door is reached (`https://cachewatch.example.com`), without a trailing `/`.
    pub base_url: Option<String>,
    /// The zone of times written as text.
    pub zone: Zone,
    /// The largest request body, in bytes.
    pub body_limit: usize,
    /// The `Host` values the door answers (`127.0.0.1:8080`, `cachewatch.example.com`), in
    /// lower case; empty: any (behind a Function URL, whose host AWS routes by). A request for
    /// another host is refused, so that a name rebound to this machine's address cannot reach
    /// the door from a browser.
    pub allowed_hosts: Vec<String>,
}

impl Default for HttpSettings {
    /// Nothing configured: Slack and SNS refused, pages behind signed links nobody can sign.
    fn default() -> Self {
        Self {
            signing_secret: None,
            links: None,
            links_required: true,
            topic_arns: Vec::new(),
            base_url: None,
            zone: Zone::Utc,
            body_limit: DEFAULT_BODY_LIMIT,
            allowed_hosts: Vec::new(),
        }
    }
}

/// A variable whose value does not work; each names it.
#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    /// The link secret or lifetime cannot sign.
    #[error(transparent)]
    Links(#[from] LinkSettingsError),
    /// Pages are not public and nothing signs their links.
    #[error(
        "{LINK_SECRET_VAR} is not set: the pages and the API are reached through signed links; set it (e.g. `openssl rand -hex 32`), or set {PUBLIC_PAGES_VAR}=true where nobody else can reach the door"
    )]
    NoLinkSecret,
    /// A yes/no that is neither.
    #[error("{PUBLIC_PAGES_VAR} must be true or false, not {0:?}")]
    NotABool(String),
    /// An allowlist entry that is not a topic ARN.
    #[error("{TOPIC_ARNS_VAR}: {0:?} is not an SNS topic ARN (arn:aws:sns:REGION:ACCOUNT:NAME)")]
    TopicArn(String),
    /// A base URL that is not one.
    #[error("{BASE_URL_VAR} must be an http(s) URL without a query, not {0:?}")]
    BaseUrl(String),
    /// A zone that is not one.
    #[error("{ZONE_VAR}: {0}")]
    Zone(#[source] BadZone),
    /// A body limit out of range.
    #[error(
        "{BODY_LIMIT_VAR} must be a number of bytes from {MIN_BODY_LIMIT} to {MAX_BODY_LIMIT}, not {0:?}"
    )]
    BodyLimit(String),
}

impl HttpSettings {
    /// The settings `lookup` describes (the process environment, or a secret's values over it).
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, SettingsError> {
        let value = |name: &str| {
            lookup(name)
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty())
        };
        let links = LinkSigner::from_lookup(&lookup)?;
        let public = match value(PUBLIC_PAGES_VAR) {
            None => false,
            Some(raw) => match raw.to_ascii_lowercase().as_str() {
                "true" | "yes" | "1" => true,
                "false" | "no" | "0" => false,
                _ => return Err(SettingsError::NotABool(raw)),
            },
        };
        if !public && links.is_none() {
            return Err(SettingsError::NoLinkSecret);
        }
        let topic_arns = value(TOPIC_ARNS_VAR)
            .map(|raw| parse_topic_arns(&raw))
            .transpose()?
            .unwrap_or_default();
        let base_url = value(BASE_URL_VAR)
            .map(|raw| parse_base_url(&raw))
            .transpose()?;
        let zone = value(ZONE_VAR)
            .unwrap_or_default()
            .parse()
            .map_err(SettingsError::Zone)?;
        let body_limit = match value(BODY_LIMIT_VAR) {
            Some(raw) => raw
                .parse::<usize>()
                .ok()
                .filter(|n| (MIN_BODY_LIMIT..=MAX_BODY_LIMIT).contains(n))
                .ok_or(SettingsError::BodyLimit(raw))?,
            None => DEFAULT_BODY_LIMIT,
        };
        Ok(Self {
            signing_secret: value(SIGNING_SECRET_VAR).map(SecretString::from),
            links,
            links_required: !public,
            topic_arns,
            base_url,
            zone,
            body_limit,
            allowed_hosts: Vec::new(),
        })
    }

    /// Whether the door answers a request whose `Host` is `host`.
    pub fn accepts_host(&self, host: Option<&str>) -> bool {
        if self.allowed_hosts.is_empty() {
            return true;
        }
        host.is_some_and(|h| {
            let h = h.trim().to_ascii_lowercase();
            self.allowed_hosts.contains(&h)
        })
    }

    /// The origins a browser's page of this door has: the base URL's, and each allowed host's.
    pub fn own_origins(&self) -> Vec<String> {
        let mut origins: Vec<String> = self
            .base_url
            .as_deref()
            .and_then(|b| reqwest::Url::parse(b).ok())
            .map(|url| url.origin().ascii_serialization())
            .into_iter()
            .collect();
        for host in &self.allowed_hosts {
            origins.push(format!("http://{host}"));
            origins.push(format!("https://{host}"));
        }
        origins
    }
}

/// The `Host` values a URL is reached under: its host, with its port, and without it when the
/// port is the scheme's own.
pub fn hosts_of(url: &str) -> Vec<String> {
    let Ok(url) = reqwest::Url::parse(url) else {
        return Vec::new();
    };
    let Some(host) = url.host_str() else {
        return Vec::new();
    };
    let host = host.to_ascii_lowercase();
    match (url.port(), url.port_or_known_default()) {
        (Some(port), _) => vec![format!("{host}:{port}")],
        (None, Some(port)) => vec![host.clone(), format!("{host}:{port}")],
        (None, None) => vec![host],
    }
}

/// Reads the topic allowlist: ARNs separated by commas or white space.
fn parse_topic_arns(raw: &str) -> Result<Vec<String>, SettingsError> {
    raw.split(|c: char| c == ',' || c.is_whitespace())
        .filter(|arn| !arn.is_empty())
        .map(|arn| {
            let parts: Vec<&str> = arn.split(':').collect();
            let ok = parts.len() == 6
                && parts[0] == "arn"
                && parts[1].starts_with("aws")
                && parts[2] == "sns"
                && parts[3..].iter().all(|p| !p.is_empty());
            if ok {
                Ok(arn.to_owned())
            } else {
                Err(SettingsError::TopicArn(arn.to_owned()))
            }
        })
        .collect()
}

/// Reads the base URL: http(s), no query or fragment; kept without a trailing `/`.
fn parse_base_url(raw: &str) -> Result<String, SettingsError> {
    let bad = || SettingsError::BaseUrl(raw.to_owned());
    let url = reqwest::Url::parse(raw).map_err(|_| bad())?;
    if !matches!(url.scheme(), "http" | "https")
        || url.host_str().is_none()
        || url.query().is_some()
        || url.fragment().is_some()
    {
        return Err(bad());
    }
    Ok(raw.trim_end_matches('/').to_owned())
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use chrono::Duration;

    use super::*;

    const SECRET: &str = "0123456789abcdef0123456789abcdef";

    fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> + use<> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        move |name| map.get(name).cloned()
    }

    #[test]
    fn a_full_environment_reads_into_settings() {
        let settings = HttpSettings::from_lookup(env(&[
            (SIGNING_SECRET_VAR, "slack-secret"),
            (LINK_SECRET_VAR, SECRET),
            (LINK_TTL_VAR, "7d"),
            (
                TOPIC_ARNS_VAR,
                "arn:aws:sns:eu-west-1:111122223333:cache, arn:aws-cn:sns:cn-north-1:111122223333:cache",
            ),
            (BASE_URL_VAR, "https://cw.example.com/"),
            (ZONE_VAR, "Asia/Tokyo"),
            (BODY_LIMIT_VAR, "65536"),
        ]))
        .unwrap();
        assert!(settings.signing_secret.is_some());
        assert_eq!(settings.links.as_ref().unwrap().ttl(), Duration::days(7));
        assert!(settings.links_required);
        assert_eq!(settings.topic_arns.len(), 2);
        assert_eq!(settings.base_url.as_deref(), Some("https://cw.example.com"));
        assert_eq!(settings.zone.to_string(), "Asia/Tokyo");
        assert_eq!(settings.body_limit, 65536);
        assert!(!format!("{settings:?}").contains("slack-secret"));
        assert!(!format!("{settings:?}").contains(SECRET));
    }

    #[test]
    fn pages_need_a_link_secret_unless_they_are_public() {
        let err = HttpSettings::from_lookup(env(&[])).unwrap_err();
        assert!(err.to_string().contains(LINK_SECRET_VAR), "{err}");
        let public = HttpSettings::from_lookup(env(&[(PUBLIC_PAGES_VAR, "true")])).unwrap();
        assert!(!public.links_required);
        assert!(public.links.is_none() && public.topic_arns.is_empty());
        assert!(public.signing_secret.is_none());
    }

    #[test]
    fn wrong_values_are_refused_by_name() {
        let cases = [
            (LINK_SECRET_VAR, "short", LINK_SECRET_VAR),
            (LINK_TTL_VAR, "forever", LINK_TTL_VAR),
            (PUBLIC_PAGES_VAR, "maybe", PUBLIC_PAGES_VAR),
            (TOPIC_ARNS_VAR, "arn:aws:sqs:eu-west-1:1:q", TOPIC_ARNS_VAR),
            (TOPIC_ARNS_VAR, "cache-topic", TOPIC_ARNS_VAR),
            (BASE_URL_VAR, "ftp://cw.example.com", BASE_URL_VAR),
            (BASE_URL_VAR, "https://cw.example.com/?x=1", BASE_URL_VAR),
            (ZONE_VAR, "Mars/Olympus", ZONE_VAR),
            (BODY_LIMIT_VAR, "12", BODY_LIMIT_VAR),
        ];
        for (name, value, says) in cases {
            let err = HttpSettings::from_lookup(env(&[
                (LINK_SECRET_VAR, SECRET),
                (PUBLIC_PAGES_VAR, "false"),
                (name, value),
            ]))
            .unwrap_err();
            assert!(err.to_string().contains(says), "{name}={value}: {err}");
        }
    }
}
